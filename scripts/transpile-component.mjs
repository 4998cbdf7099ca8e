#!/usr/bin/env node
// Transpiles the client component for jco's JavaScript runtime (called by scripts/build):
// @bytecodealliance/jco-transpile (what `jco transpile` runs) turns
// target/component/linkpay-client.wasm into an ES module with an `instantiate(getCoreModule,
// imports)` function (sync instantiation: the host passes the imports, so the
// `linkpay/component` helper, npm/src/component/index.ts, gives each client its own storage),
// next to the component's core modules, in npm/dist/component/jco/. Also writes
// error-codes.json there: each WIT `error-code` case with the spelling npm uses
// (`mpp-no-payment-challenge` -> `MPP_NO_PAYMENT_CHALLENGE`), read from the case's doc comment
// in wit/linkpay.wit, which src/error.rs's tests hold to the Rust table.
//
// Usage: node scripts/transpile-component.mjs COMPONENT.wasm OUT_DIR

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const [input, outDir] = process.argv.slice(2);
if (!input || !outDir) {
  console.error("usage: transpile-component.mjs COMPONENT.wasm OUT_DIR");
  process.exit(2);
}
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const jco = join(root, "npm/node_modules/@bytecodealliance/jco-transpile/dist/index.js");
const { transpile } = await import(pathToFileURL(jco).href);

const { files, imports } = await transpile(input, {
  name: "linkpay-client",
  instantiation: "sync",
  outDir,
  emitTypescriptDeclarations: true,
  minify: true,
});
for (const [path, bytes] of Object.entries(files)) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
}

// `/// \`WIRE\`` then `case,`, in the error-code enum.
const wit = readFileSync(join(root, "wit/linkpay.wit"), "utf8");
const body = wit.slice(wit.indexOf("enum error-code {"));
const codes = {};
let wire;
for (const line of body.slice(0, body.indexOf("}")).split("\n").map((l) => l.trim())) {
  const doc = /^\/\/\/ `([^`]+)`$/.exec(line);
  if (doc) wire = doc[1];
  else if (/^[a-z-]+,$/.test(line) && wire) [codes[line.slice(0, -1)], wire] = [wire, undefined];
}
if (Object.keys(codes).length < 20) throw new Error("error-code enum not found in wit/linkpay.wit");
writeFileSync(join(outDir, "error-codes.json"), JSON.stringify(codes, null, 2) + "\n");
console.log(`[transpile-component] ${relative(root, outDir)}: ${Object.keys(files).length} files; imports ${imports.join(", ")}`);
