// Bundles the `linkpay` CLI (tsc's output under npm/dist/cli/) into CommonJS files under
// npm/dist/cli/: main.cjs, loaded by linkpay.cjs, the package's `bin` (npm/src/cli/bin.cjs: it
// loads the bundle with V8's code cache), and one file per heavy third-party package
// in dist/cli/vendor/, so that installing the library installs none of the CLI's dependencies
// (they are devDependencies, bundled here).
//
// Why one CommonJS file: a CLI process is short-lived, so its cold start is most of its cost. As
// ES modules, the CLI paid Node's ESM loader (resolving, linking and compiling a dozen files one
// by one); as one CommonJS file it is read and compiled once, and the ESM loader is never loaded.
// Measured with `node npm/bench/cli-cold.mjs`: ~10 ms less per run.
//
// Why vendor files: the MCP SDK (with ajv, zod, hono's node server), yaml, qrcode and undici are
// needed by `--mcp`/`serve`, `--format yaml`, the terminal QR code and `LINK_HTTP_PROXY` only. Each is bundled into its
// own file, dist/cli/vendor/<name>.cjs, that the bin `require`s only when a command uses it, so
// the commands that do not (`mpp decode`, the default toon output) neither read nor compile it.
// The toon encoder, the default output format, is in the bin itself.
//
// What stays outside: the wasm module (dist/pkg/nodejs/linkpay_bg.wasm), compiled by the bin
// (dist/cli/wasm-module.cjs).
//
// Licenses: every third-party package bundled into a file here is listed, with its license
// text, in dist/cli/THIRD_PARTY_LICENSES.md (shipped in the tarball; each file's banner points
// to it).
import { build } from "../npm/node_modules/esbuild/lib/main.js";
import { chmod, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const npmDir = fileURLToPath(new URL("../npm/", import.meta.url));
const dist = `${npmDir}dist/`;
const outfile = `${dist}cli/main.cjs`;
const binfile = `${dist}cli/linkpay.cjs`;
const licensesName = "THIRD_PARTY_LICENSES.md";

/** Packages bundled into their own lazily required file: package name → file in dist/cli/vendor/;
 * `esm`: bundled from its ES module build, which esbuild tree-shakes (the MCP SDK: 335 KB
 * instead of 966 KB from its CommonJS build, mostly zod's locales); `lazy` (with `esm`): each
 * module of it is evaluated when first used, not when the file loads, so `--mcp` (stdio)
 * never evaluates the HTTP transport (hono's server, which loads undici and node:http2: ~30 ms
 * of each `--mcp` start; `node npm/bench/mcp-cold.mjs`). */
const vendored = {
  "@modelcontextprotocol/sdk": { file: "mcp-sdk", esm: true, lazy: true },
  yaml: { file: "yaml" },
  qrcode: { file: "qrcode" },
  tokenx: { file: "tokenx", esm: true },
  // `mcp add` on a JSON config with comments (JSONC): edits that keep the comments. Its `main`
  // is a UMD build whose requires esbuild cannot follow: the `module` field's ES build instead.
  "jsonc-parser": { file: "jsonc-parser", esm: true, mainFields: ["module", "main"] },
  // `LINK_HTTP_PROXY` only (npm/src/cli/proxy.ts): undici's ProxyAgent and fetch.
  undici: { file: "undici" },
};
const vendorOf = (specifier) =>
  Object.keys(vendored).find((name) => specifier === name || specifier.startsWith(`${name}/`));

const banner = `/* linkpay CLI. Third-party code bundled here is listed with its license in ${licensesName} (next to main.cjs). */`;
const common = {
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  logLevel: "warning",
  // Any warning (an `import.meta` left over, an unresolved import) fails the build.
  logOverride: {},
  metafile: true,
  // Paths in the metafile (the license list) are relative to npm/.
  absWorkingDir: npmDir,
  legalComments: "inline",
  banner: { js: banner },
};

// The library loads the glue with `createRequire(import.meta.url)("#wasm")` (a plain require of
// a CommonJS file, without the ESM loader's named-export scan). In the bundle that is a plain
// `require` of the glue (dist/pkg/nodejs/linkpay.js), bundled into main.cjs, except for how it
// gets its compiled module: from dist/cli/wasm-module.cjs (npm/src/cli/wasm-module.cjs), which
// the bin fills with the module it compiled on V8's background threads while it read and
// compiled the bundle (npm/src/cli/bin.cjs).
const glueLoad = [
  "const wasmPath = `${__dirname}/linkpay_bg.wasm`;",
  "const wasmBytes = require('fs').readFileSync(wasmPath);",
  "const wasmModule = new WebAssembly.Module(wasmBytes);",
].join("\n");
const wasmGlue = {
  name: "linkpay-wasm-glue",
  setup(b) {
    b.onResolve({ filter: /^#wasm$/ }, () => ({ path: `${dist}pkg/nodejs/linkpay.js` }));
    b.onResolve({ filter: /^\.\/wasm-module\.cjs$/ }, () => ({ path: "./wasm-module.cjs", external: true }));
    b.onLoad({ filter: /[\\/]pkg[\\/]nodejs[\\/]linkpay\.js$/ }, async (args) => {
      const text = await readFile(args.path, "utf8");
      if (!text.includes(glueLoad)) throw new Error(`${args.path}: expected the glue to load its module with\n${glueLoad}\n(wasm-bindgen changed it; update scripts/bundle-cli.mjs)`);
      return { contents: text.replace(glueLoad, 'const wasmModule = require("./wasm-module.cjs");'), loader: "js" };
    });
    b.onLoad({ filter: /[\\/]dist[\\/]index\.js$/ }, async (args) => {
      const text = await readFile(args.path, "utf8");
      const from = 'createRequire(import.meta.url)("#wasm")';
      if (!text.includes(from)) throw new Error(`${args.path}: expected ${from} (the glue's load changed; update scripts/bundle-cli.mjs)`);
      return { contents: text.replace(from, 'require("#wasm")'), loader: "js" };
    });
  },
};

// In the bin, an import of a vendored package (`@modelcontextprotocol/sdk/server/index.js`)
// becomes `require("./vendor/mcp-sdk.cjs")["@modelcontextprotocol/sdk/server/index.js"]`; the
// specifiers seen are recorded, and each vendor file exports exactly those.
const imported = Object.fromEntries(Object.keys(vendored).map((name) => [name, new Set()]));
const vendorImports = {
  name: "linkpay-vendor-imports",
  setup(b) {
    b.onResolve({ filter: /^[^./#]/ }, (args) => {
      const name = vendorOf(args.path);
      if (name === undefined || args.namespace === "vendor") return undefined;
      imported[name].add(args.path);
      return { path: args.path, namespace: "vendor" };
    });
    b.onResolve({ filter: /^\.\/vendor\//, namespace: "vendor" }, (args) => ({ path: args.path, external: true }));
    b.onLoad({ filter: /.*/, namespace: "vendor" }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(`./vendor/${vendored[vendorOf(args.path)].file}.cjs`)})[${JSON.stringify(args.path)}];`,
      loader: "js",
    }));
  },
};

// The MCP tools (the table's commands with `mcp`, what a tool needs of each), from the table of
// the module just built, as JSON in the bin (npm/src/cli/mcp.ts): `--mcp` answers `tools/list`
// without building the whole table in wasm at each start.
const { commandTable } = await import(`${dist}index.js`);
const table = commandTable();
const tools = table.commands
  .filter((c) => c.mcp)
  .map(({ name, tool, description, inputSchema, annotations }) => ({ name, tool, description, inputSchema, annotations }));
// Each command's entry by name, as JSON, and the name of each tool (npm/src/cli/main.ts): a
// start parses only its own command's. The same entries as `commandTable(name)` gives, checked.
const commandEntries = {};
const commandOfTool = {};
for (const c of table.commands) {
  const json = JSON.stringify(c);
  for (const key of [c.name, c.tool]) {
    if (JSON.stringify(commandTable(key).commands[0]) !== json) throw new Error(`commandTable(${JSON.stringify(key)}) is not the table's ${c.name}`);
  }
  commandEntries[c.name] = json;
  commandOfTool[c.tool] = c.name;
}
const main = await build({
  ...common,
  define: { LINKPAY_MCP_TOOLS: JSON.stringify(JSON.stringify(tools)), LINKPAY_COMMANDS: JSON.stringify({ entries: commandEntries, tools: commandOfTool }) },
  entryPoints: [`${dist}cli/main.js`],
  outfile,
  // `import()` becomes `require` (of the module in the bundle, or of a vendor file), so no
  // command loads the ESM loader.
  supported: { "dynamic-import": false },
  plugins: [wasmGlue, vendorImports],
});
const results = [main];

// `lazy`: the vendor file's exports are getters that `require` the package's ES modules, which
// esbuild wraps so that a module runs on its first `require` (with what it imports), not
// before. A `require` would pick the package's CommonJS build: resolve it as an import instead.
const requireEsm = (name) => ({
  name: "linkpay-require-esm",
  setup(b) {
    b.onResolve({ filter: /.*/ }, async (args) => {
      if (args.kind !== "require-call" || vendorOf(args.path) !== name || args.pluginData === "esm") return undefined;
      const r = await b.resolve(args.path, { kind: "import-statement", resolveDir: args.resolveDir, pluginData: "esm" });
      return r.errors.length > 0 ? { errors: r.errors } : { path: r.path };
    });
  },
});

await mkdir(`${dist}cli/vendor`, { recursive: true });
for (const [name, { file, esm, lazy, mainFields }] of Object.entries(vendored)) {
  const specifiers = [...imported[name]].sort();
  if (specifiers.length === 0) throw new Error(`${name} is vendored but the CLI imports nothing of it (update scripts/bundle-cli.mjs)`);
  // Each specifier is an export of the file: its module namespace (`esm`), or its CommonJS
  // exports, resolved from npm/ with the `require` condition as Node resolved them when the
  // package was a dependency and evaluated on first access.
  const getters = specifiers.map((s) => `Object.defineProperty(exports, ${JSON.stringify(s)}, { enumerable: true, get: () => require(${JSON.stringify(s)}) });`).join("\n");
  const contents = lazy
    ? getters
    : esm
    ? specifiers.map((s, i) => `import * as m${i} from ${JSON.stringify(s)};`).join("\n") +
      `\nexport { ${specifiers.map((s, i) => `m${i} as ${JSON.stringify(s)}`).join(", ")} };`
    : getters;
  results.push(
    await build({
      ...common,
      stdin: { contents, resolveDir: npmDir, sourcefile: `vendor-${file}.cjs`, loader: "js" },
      outfile: `${dist}cli/vendor/${file}.cjs`,
      ...(mainFields ? { mainFields } : {}),
      // Smaller to read and compile at each `--mcp` start; names kept (error classes, stack traces).
      minify: true,
      keepNames: true,
      plugins: lazy ? [requireEsm(name)] : [],
    }),
  );
}

// The tsc output the bundles were made from is not shipped: dist/cli holds only the bundles.
for (const name of await readdir(`${dist}cli`)) {
  if (name !== "main.cjs" && name !== "vendor") await rm(`${dist}cli/${name}`);
}
await writeFile(`${dist}cli/wasm-module.cjs`, await readFile(`${npmDir}src/cli/wasm-module.cjs`, "utf8"));
// The bin: the loader, as written (no third-party code in it).
await writeFile(binfile, await readFile(`${npmDir}src/cli/bin.cjs`, "utf8"));
await chmod(binfile, 0o755);
const warnings = results.flatMap((r) => r.warnings);
if (warnings.length > 0) throw new Error(`esbuild warnings: ${warnings.map((w) => w.text).join("; ")}`);

// THIRD_PARTY_LICENSES.md: each bundled package (from the bundles' inputs), its version and its
// license file(s).
const packages = new Map();
for (const r of results) {
  for (const input of Object.keys(r.metafile.inputs)) {
    const at = input.lastIndexOf(`node_modules/`);
    if (at < 0) continue;
    const rest = input.slice(at + "node_modules/".length).split("/");
    const dir = join(npmDir, input.slice(0, at), "node_modules", ...rest.slice(0, rest[0].startsWith("@") ? 2 : 1));
    packages.set(dir, true);
  }
}
const entries = [];
for (const dir of packages.keys()) {
  const pkg = JSON.parse(await readFile(join(dir, "package.json"), "utf8"));
  const files = readdirSync(dir).filter((f) => /^(licen[cs]e|copying|notice)/i.test(f)).sort();
  const texts = await Promise.all(files.map((f) => readFile(join(dir, f), "utf8")));
  if (texts.length === 0) throw new Error(`${pkg.name}: no license file in ${relative(npmDir, dir)} (bundled code must carry its notice)`);
  entries.push({ name: pkg.name, version: pkg.version, license: pkg.license ?? "see below", texts });
}
entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
const notice = [
  "# Third-party software in the linkpay CLI",
  "",
  "The `linkpay` bin (`dist/cli/main.cjs` and `dist/cli/vendor/*.cjs`) bundles the following",
  "packages. Their licenses follow. linkpay itself is MIT-licensed (LICENSE).",
  "",
  ...entries.flatMap((e) => [`## ${e.name} ${e.version} (${e.license})`, "", ...e.texts.map((t) => "```\n" + t.trim() + "\n```\n")]),
].join("\n");
await writeFile(`${dist}cli/${licensesName}`, notice);

const kb = (r) => Object.values(r.metafile.outputs).reduce((n, o) => n + o.bytes, 0) / 1024;
console.log(
  `[build] CLI bundle: dist/cli/main.cjs ${kb(main).toFixed(1)} KB; vendor/ ${Object.values(vendored)
    .map(({ file }, i) => `${file}.cjs ${kb(results[i + 1]).toFixed(1)} KB`)
    .join(", ")}; ${entries.length} third-party packages in ${licensesName}`,
);
