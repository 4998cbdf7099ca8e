#!/usr/bin/env node
// Makes a WASI component of the core module rustc builds for a component world (called by
// scripts/build; not a CI job of its own):
//
// - the core module is a wasm32-unknown-unknown cdylib: its only imports are the ones
//   wit-bindgen generates for the world (no Rust std WASI runtime, so no wasi:cli,
//   insecure-seed or second WASI version), and it carries the world's type information in the
//   `component-type` custom section wit-bindgen embeds;
// - `wasm-opt -Oz` (binaryen, an npm devDependency) shrinks it first: rustc leaves about a fifth
//   of the module to it, where the npm module (which wasm-bindgen emits) gains only a tenth and
//   compresses worse, so that one is left alone. Custom sections (the component type) are kept,
//   names are not;
// - then `componentNew` of @bytecodealliance/jco-transpile (wit-component compiled to wasm:
//   what `wasm-tools component new` runs, without installing wasm-tools) wraps it: the
//   component's imports are exactly the module's.
//
// The shared vectors and the client flows run against the result in wasmtime
// (tests/wasi-runner) and jco (npm/test/jco.test.mjs).
//
// Usage: node scripts/optimize-component.mjs CORE.wasm OUT.wasm

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error("usage: optimize-component.mjs CORE.wasm OUT.wasm");
  process.exit(2);
}
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const wasmOpt = join(root, "npm/node_modules/binaryen/bin/wasm-opt");
const tools = join(root, "npm/node_modules/@bytecodealliance/jco-transpile/dist/wasm-tools.js");
const { componentNew } = await import(pathToFileURL(tools).href);
// The features rustc's wasm32-unknown-unknown target enables (wasm-opt must not assume others).
const features = [
  "bulk-memory",
  "bulk-memory-opt",
  "call-indirect-overlong",
  "extended-const",
  "multivalue",
  "mutable-globals",
  "nontrapping-float-to-int",
  "reference-types",
  "sign-ext",
].map((f) => `--enable-${f}`);

const bytes = readFileSync(input);
// `\0asm`, then the core module encoding's version 1.
if (bytes.readUInt32LE(0) !== 0x6d736100 || bytes.readUInt32LE(4) !== 1) {
  throw new Error(`${input} is not a core wasm module`);
}

const scratch = mkdtempSync(join(tmpdir(), "linkpay-opt-"));
let core;
try {
  const after = join(scratch, "core.opt.wasm");
  // -Oz, twice, each after merging the functions that differ only in constants (-Oz alone
  // does not merge them; the first -Oz makes more of them alike): ~1.2 KB. No debug names,
  // no producers section (rustc's versions), no target features (nothing reads them).
  const passes = ["--merge-similar-functions", "-Oz", "--merge-similar-functions", "-Oz"];
  const strip = ["--strip-debug", "--strip-producers", "--strip-target-features"];
  execFileSync(wasmOpt, [...passes, ...strip, ...features, input, "-o", after], { stdio: "inherit" });
  core = readFileSync(after);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
const component = await componentNew(core);
writeFileSync(output, component);
console.log(`[optimize-component] core ${bytes.length} -> ${core.length} bytes, component ${component.length} bytes`);
