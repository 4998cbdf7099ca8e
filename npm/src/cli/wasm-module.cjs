// The CLI's compiled wasm module (dist/cli/wasm-module.cjs; the glue bundled into main.cjs
// instantiates it). The bin (dist/cli/linkpay.cjs, npm/src/cli/bin.cjs) compiles the module on
// V8's background threads while it reads and compiles the bundle, and puts it in the require
// cache under this file's name, so this file does not run then. Loaded otherwise (main.cjs
// required without the bin, or a compile the bin could not start), it compiles the module here.
"use strict";
const path = require("node:path");
module.exports = new WebAssembly.Module(require("node:fs").readFileSync(path.join(__dirname, "..", "pkg", "nodejs", "linkpay_bg.wasm")));
