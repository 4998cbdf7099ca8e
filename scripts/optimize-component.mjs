#!/usr/bin/env node
// Shrinks a WASI component (called by scripts/build; not a CI job of its own):
//
// - runs `wasm-opt -Oz` (binaryen, an npm devDependency; see below) on its main core module: rustc's
//   wasm32-wasip2 output leaves about a fifth of the module to it, where the npm module (which
//   wasm-bindgen emits) gains only a tenth and compresses worse, so that one is left alone;
// - drops the `component-name` custom section (debug names wasm-component-ld adds, which
//   `strip = "symbols"` does not reach).
//
// Everything else is copied byte for byte: the optimized module keeps its imports and exports,
// so the component's types, instances and canonical functions still refer to it by name. The
// shared vectors run against the result in wasmtime (tests/wasi-runner).
//
// Usage: node scripts/optimize-component.mjs IN.wasm OUT.wasm

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error("usage: optimize-component.mjs IN.wasm OUT.wasm");
  process.exit(2);
}
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const wasmOpt = join(root, "npm/node_modules/binaryen/bin/wasm-opt");
// The features rustc's wasm32-wasip2 target enables (wasm-opt must not assume others).
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

const CUSTOM = 0;
const CORE_MODULE = 1;

function readLeb(bytes, at) {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = bytes[at++];
    if (byte === undefined) throw new Error("truncated LEB128");
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if (byte < 0x80) return [value, at];
  }
}

function leb(value) {
  const out = [];
  do {
    let byte = value % 128;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    out.push(byte);
  } while (value > 0);
  return Buffer.from(out);
}

const bytes = readFileSync(input);
const header = bytes.subarray(0, 8);
// `\0asm`, then the component encoding's version and layer (0x0d 0x00 0x01 0x00).
if (header.readUInt32LE(0) !== 0x6d736100 || header[6] !== 1) {
  throw new Error(`${input} is not a component`);
}
const sections = [];
for (let at = 8; at < bytes.length; ) {
  const id = bytes[at];
  const [size, start] = readLeb(bytes, at + 1);
  sections.push({ id, body: bytes.subarray(start, start + size) });
  at = start + size;
}

const customName = (body) => {
  const [length, start] = readLeb(body, 0);
  return body.subarray(start, start + length).toString("utf8");
};
const main = sections
  .filter((s) => s.id === CORE_MODULE)
  .reduce((a, b) => (b.body.length > a.body.length ? b : a));

const scratch = mkdtempSync(join(tmpdir(), "linkpay-opt-"));
try {
  const before = join(scratch, "core.wasm");
  const after = join(scratch, "core.opt.wasm");
  writeFileSync(before, main.body);
  // -Oz, twice, each after merging the functions that differ only in constants (-Oz alone
  // does not merge them; the first -Oz makes more of them alike): ~1.2 KB.
  const passes = ["--merge-similar-functions", "-Oz", "--merge-similar-functions", "-Oz"];
  execFileSync(wasmOpt, [...passes, ...features, before, "-o", after], { stdio: "inherit" });
  main.body = readFileSync(after);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

const kept = sections.filter((s) => !(s.id === CUSTOM && customName(s.body) === "component-name"));
const parts = [header];
for (const s of kept) parts.push(Buffer.from([s.id]), leb(s.body.length), s.body);
writeFileSync(output, Buffer.concat(parts));
console.log(`[optimize-component] ${bytes.length} -> ${Buffer.concat(parts).length} bytes`);
