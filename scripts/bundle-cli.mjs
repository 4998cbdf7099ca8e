// Bundles the `linkpay` CLI (tsc's output under npm/dist/cli/) into one CommonJS file,
// npm/dist/cli/linkpay.cjs, the package's `bin`.
//
// Why: a CLI process is short-lived, so its cold start is most of its cost. As ES modules, the
// CLI paid Node's ESM loader (resolving, linking and compiling a dozen files one by one); as one
// CommonJS file it is read and compiled once, and the ESM loader is never loaded. Measured with
// `node npm/bench/cli-cold.mjs`: ~10 ms less per run.
//
// What stays outside the bundle, loaded with `require` only by the commands that use it:
// - the wasm-bindgen glue (`#wasm`), which finds `linkpay_bg.wasm` next to itself;
// - the MCP SDK, yaml and qrcode (packages with CommonJS builds, needed by `--mcp`, `serve`,
//   `--format yaml` and the terminal QR code only).
// The toon encoder, the default output format, is bundled.
import { build } from "../npm/node_modules/esbuild/lib/main.js";
import { chmod, readdir, rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";

const dist = fileURLToPath(new URL("../npm/dist/", import.meta.url));
const outfile = `${dist}cli/linkpay.cjs`;

// The library loads the glue with `createRequire(import.meta.url)("#wasm")` (a plain require of
// a CommonJS file, without the ESM loader's named-export scan). In the bundle that is a plain
// `require`, resolved at build time to the glue's path relative to the bundle.
const wasmGlue = {
  name: "linkpay-wasm-glue",
  setup(b) {
    b.onResolve({ filter: /^#wasm$/ }, () => ({ path: "../pkg/nodejs/linkpay.js", external: true }));
    b.onLoad({ filter: /[\\/]dist[\\/]index\.js$/ }, async (args) => {
      const { readFile } = await import("node:fs/promises");
      const text = await readFile(args.path, "utf8");
      const from = 'createRequire(import.meta.url)("#wasm")';
      if (!text.includes(from)) throw new Error(`${args.path}: expected ${from} (the glue's load changed; update scripts/bundle-cli.mjs)`);
      return { contents: text.replace(from, 'require("#wasm")'), loader: "js" };
    });
  },
};

const result = await build({
  entryPoints: [`${dist}cli/main.js`],
  outfile,
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  // `import()` of the external packages becomes `require` (each has a CommonJS build), so no
  // command loads the ESM loader.
  supported: { "dynamic-import": false },
  external: ["@modelcontextprotocol/sdk", "@modelcontextprotocol/sdk/*", "yaml", "qrcode"],
  plugins: [wasmGlue],
  logLevel: "warning",
  // Any warning (an `import.meta` left over, an unresolved import) fails the build.
  logOverride: {},
  metafile: true,
  legalComments: "inline",
});
if (result.warnings.length > 0) throw new Error(`esbuild warnings: ${result.warnings.map((w) => w.text).join("; ")}`);

// The bundle is the CLI: the unbundled modules it was made from are not shipped.
for (const name of await readdir(`${dist}cli`)) {
  if (name !== "linkpay.cjs") await rm(`${dist}cli/${name}`);
}
await chmod(outfile, 0o755);
const bytes = result.metafile.outputs[Object.keys(result.metafile.outputs)[0]].bytes;
console.log(`[build] CLI bundle: dist/cli/linkpay.cjs, ${(bytes / 1024).toFixed(1)} KB`);
