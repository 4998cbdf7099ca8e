#!/usr/bin/env node
// The `linkpay` bin (dist/cli/linkpay.cjs): loads the CLI bundle (dist/cli/main.cjs, made by
// scripts/bundle-cli.mjs) with V8's code cache, so that a start after the first does not
// compile the bundle (the wasm glue in it) and the vendor files it loads again (`--mcp`: ~30 ms of
// each start; `node npm/bench/mcp-cold.mjs`, `node npm/bench/cli-cold.mjs`).
//
// Node ≥ 22.1 has this built in (`module.enableCompileCache`, its cache in
// os.tmpdir()/node-compile-cache). On older Node (20) the files are compiled here as
// `vm.Script`s with their `cachedData`, kept per user in $XDG_CACHE_HOME/linkpay/ (else
// ~/.cache/linkpay/; directory 0700, files 0600, written atomically), one file per source,
// keyed by the source's size and mtime and the V8 version (V8 itself checks only the source's
// length, its version and its flags, and rejects what does not match: then the file is compiled
// as without a cache and the entry rewritten). A cache that cannot be read or written (no home,
// a read-only disk) is no cache. NODE_DISABLE_COMPILE_CACHE=1 turns both off, as in Node.
//
// The wasm module (dist/pkg/nodejs/linkpay_bg.wasm) is compiled on V8's background threads
// (`WebAssembly.compile`, started first) while the bundle is read and compiled here, and handed
// to the glue as the exports of dist/cli/wasm-module.cjs (npm/src/cli/wasm-module.cjs). V8
// validates the module on those threads too: no `--wasm-lazy-validation`, whose `node:v8`
// loads Node's stream modules (~2.5 ms of each start on the main thread, more than validating
// in the background costs: `node npm/bench/cli-cold.mjs`).
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const compiling = compileWasm();
const Module = require("node:module");

const main = path.join(__dirname, "main.cjs");
const wasmModuleFile = path.join(__dirname, "wasm-module.cjs");

if (process.env.NODE_DISABLE_COMPILE_CACHE) {
  withWasmModule(cacheForNode, () => require(main));
} else if (typeof Module.enableCompileCache === "function") {
  Module.enableCompileCache();
  withWasmModule(cacheForNode, () => require(main));
} else {
  cachedRequire(main);
}

/** The wasm module, compiling in the background; rejected when it cannot be read. */
function compileWasm() {
  try {
    return WebAssembly.compile(fs.readFileSync(path.join(__dirname, "..", "pkg", "nodejs", "linkpay_bg.wasm")));
  } catch (e) {
    return Promise.reject(e);
  }
}

/** `run()` once the module is compiled, after `provide(module)`. A module that did not compile
 * is not provided: wasm-module.cjs compiles it again and throws the error where the glue loads
 * it. `run` is called outside the promise, so what it throws is an uncaught exception, as at
 * any start. */
function withWasmModule(provide, run) {
  compiling.then(provide, () => undefined).then(() => process.nextTick(run));
}

/** The compiled module as wasm-module.cjs's exports, for Node's `require`. */
function cacheForNode(wasmModule) {
  const entry = new Module(wasmModuleFile, module);
  entry.filename = wasmModuleFile;
  entry.exports = wasmModule;
  entry.loaded = true;
  require.cache[wasmModuleFile] = entry;
}

/** `require(file)` of a CommonJS file of the package, compiled with its code cache; what it
 * requires of the package (relative paths) is loaded the same way, anything else by Node. The
 * entry is compiled while the wasm module compiles, and runs once it is ready. */
function cachedRequire(entry) {
  const vm = require("node:vm");
  const base = process.env.XDG_CACHE_HOME || path.join(require("node:os").homedir(), ".cache");
  const dir = path.join(base, "linkpay", "v8-code-cache");
  const loaded = new Map();
  /** Scripts compiled without a usable cache: their cache is written once, after they ran. */
  const fresh = [];

  /** The file compiled (with its cache), and a function that runs it and returns its exports. */
  function prepare(file) {
    const source = fs.readFileSync(file, "utf8");
    const stat = fs.statSync(file);
    const name = path.relative(path.join(__dirname, ".."), file).replace(/[^A-Za-z0-9.-]/g, "_");
    const key = Buffer.from(`${process.versions.v8} ${process.arch} ${stat.size} ${stat.mtimeMs}\n`);
    const cacheFile = path.join(dir, name);
    let cachedData;
    try {
      const bytes = fs.readFileSync(cacheFile);
      if (bytes.subarray(0, key.length).equals(key)) cachedData = bytes.subarray(key.length);
    } catch {
      // No cache yet.
    }
    const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: file, cachedData });
    if (cachedData === undefined || script.cachedDataRejected) fresh.push({ script, cacheFile, key });
    return () => {
      const module = { exports: {}, filename: file, id: file };
      loaded.set(file, module);
      const nodeRequire = Module.createRequire(file);
      const localRequire = (id) => (id.startsWith("./") || id.startsWith("../") ? load(path.resolve(path.dirname(file), id)) : nodeRequire(id));
      localRequire.resolve = nodeRequire.resolve;
      try {
        script.runInThisContext().call(module.exports, module.exports, localRequire, module, file, path.dirname(file));
      } catch (e) {
        loaded.delete(file);
        throw e;
      }
      return module.exports;
    };
  }

  function load(file) {
    const known = loaded.get(file);
    return known ? known.exports : prepare(file)();
  }

  /** The caches of the scripts compiled here, with the functions that ran since (so a later start
   * compiles those neither): at exit, or a second after start for a process that stays (`--mcp`,
   * whose host may end it with a signal). */
  function save() {
    if (fresh.length === 0) return;
    try {
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      for (const { script, cacheFile, key } of fresh.splice(0)) {
        const tmp = `${cacheFile}.${process.pid}.tmp`;
        fs.writeFileSync(tmp, Buffer.concat([key, script.createCachedData()]), { mode: 0o600 });
        fs.renameSync(tmp, cacheFile);
      }
    } catch {
      // No cache: the next start compiles again.
    }
  }
  process.once("exit", save);
  setTimeout(save, 1000).unref();
  const run = prepare(entry);
  withWasmModule((wasmModule) => loaded.set(wasmModuleFile, { exports: wasmModule }), run);
}
