// linkpay in a user's browser bundle, as the README's "Bundlers" section says to build it: the
// packed tarball (`npm pack`) installed into an empty project, a page importing `linkpay`
// built by webpack 5, Vite 8 (build and dev server), Vite 6 (build and dev server), esbuild and
// rollup 4, each loaded in headless Chromium, where it loads the wasm module and decodes an MPP
// challenge (the synchronous decoder after `init()`, and `LinkClient.mpp.decode`).
//
// webpack and Vite need no configuration (they emit the asset that `new URL(…,
// import.meta.url)` names). The others use exactly the README's one-line recipe, and the
// test checks that the README still says it (RECIPES below):
//   esbuild: `--loader:.wasm=file` and `init(wasmUrl)` with the URL of `linkpay/linkpay_bg.wasm`
//            (esbuild leaves `new URL(…, import.meta.url)` alone: evanw/esbuild#795);
//   rollup:  `nodeResolve({ browser: true })` and `importMetaAssets()` (the browser entry, and
//            the asset `new URL` names; without them rollup bundles the Node entry);
//   Vite 6 dev: `optimizeDeps: { exclude: ["linkpay"] }` (its dependency optimizer moves the
//            entry away from the wasm and serves index.html for it).
// One tarball install for all; the bundlers run one after the other.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createServer } from "node:http";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const readme = readFileSync(join(root, "..", "README.md"), "utf8");
const HDR =
  'Payment id="ch_1", realm="merchant.example", method="stripe", intent="charge", request="eyJhbW91bnQiOiIxMDAwIiwiY3VycmVuY3kiOiJ1c2QiLCJtZXRob2REZXRhaWxzIjp7Im5ldHdvcmtJZCI6Im5ldF8xMjMiLCJwYXltZW50TWV0aG9kVHlwZXMiOlsiY2FyZCJdfX0"';

/** The README's recipe lines, verbatim: the builds below use exactly these. */
const RECIPES = {
  esbuild: ['esbuild src/main.js --bundle --format=esm --outdir=dist --loader:.wasm=file', 'import wasmUrl from "linkpay/linkpay_bg.wasm"; await init(wasmUrl);'],
  rollup: ["plugins: [nodeResolve({ browser: true }), importMetaAssets()]"],
  vite6: ['optimizeDeps: { exclude: ["linkpay"] }'],
};

/** The page's code, what a user writes; `recipe` is a line of a bundler's recipe ("import …; await
 * init(…);") in place of the plain `await init();`. */
const mainJs = (recipe = "await init();") => {
  const [, imports = "", initCall] = /^(import [^;]+;)? ?(.*)$/.exec(recipe);
  return `import { init, decodeStripeChallenge, LinkClient } from "linkpay";
${imports}
const header = ${JSON.stringify(HDR)};
async function main() {
  ${initCall}
  const challenge = decodeStripeChallenge(header);
  const viaClient = await new LinkClient({ clientName: "bundler test" }).mpp.decode(header);
  return { amount: challenge.amount, network_id: challenge.network_id, client_amount: viaClient.amount };
}
main().then(
  (result) => { window.linkpayResult = result; },
  (e) => { window.linkpayResult = { error: String((e && e.stack) || e), code: e && e.code }; },
);
`;
};

let work; // the temp dir: tarball and the user's project (app/)
let app;
let browser;

function run(file, args, cwd) {
  return new Promise((resolve) =>
    execFile(file, args, { cwd, timeout: 120_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => resolve({ code: err ? 1 : 0, stdout, stderr })),
  );
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), "linkpay-bundlers-"));
  app = join(work, "app");
  const packed = await run("npm", ["pack", "--json", "--pack-destination", work], root);
  assert.equal(packed.code, 0, packed.stderr);
  const tarball = join(work, JSON.parse(packed.stdout)[0].filename);
  mkdirSync(join(app, "src"), { recursive: true });
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", version: "1.0.0", private: true, type: "module" }));
  const installed = await run("npm", ["install", tarball, "--offline", "--no-audit", "--no-fund", "--loglevel=error"], app);
  assert.equal(installed.code, 0, installed.stderr);
  writeFileSync(join(app, "src", "main.js"), mainJs());
  writeFileSync(join(app, "src", "main-esbuild.js"), mainJs(RECIPES.esbuild[1]));
  writeFileSync(join(app, "index.html"), '<!doctype html><title>app</title><script type="module" src="/src/main.js"></script>');
  browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});

after(async () => {
  await browser?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

const MIME = { ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm", ".html": "text/html" };

/** Serves `dir` on a loopback port, as a static host would (404 for what is not there). */
async function serveDir(dir, fn) {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname));
    const file = join(dir, path === "/" ? "index.html" : path);
    if (!file.startsWith(dir)) return res.writeHead(403).end();
    let body;
    try {
      body = readFileSync(file);
    } catch {
      return res.writeHead(404).end();
    }
    res.writeHead(200, { "content-type": MIME[extname(file)] ?? "application/octet-stream" }).end(body);
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  try {
    return await fn(`http://127.0.0.1:${server.address().port}/`);
  } finally {
    await new Promise((r) => server.close(r));
  }
}

/** Loads the page at `url` in Chromium; resolves what the page's code set (or its failure). */
async function load(url) {
  const page = await browser.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  // (A failed request is logged as "Failed to load resource"; the response handler names it.)
  page.on("console", (m) => m.type() === "error" && !m.text().startsWith("Failed to load resource") && problems.push(`console: ${m.text()}`));
  page.on("response", (r) => r.status() >= 400 && !r.url().endsWith("/favicon.ico") && problems.push(`HTTP ${r.status()} ${r.url()}`));
  try {
    await page.goto(url);
    await page.waitForFunction(() => window.linkpayResult !== undefined, null, { timeout: 20_000 });
    return { result: await page.evaluate(() => window.linkpayResult), problems };
  } finally {
    await page.close();
  }
}

function assertDecoded({ result, problems }, what) {
  assert.deepEqual(result, { amount: 1000, network_id: "net_123", client_amount: 1000 }, `${what}: ${JSON.stringify(result)}`);
  assert.deepEqual(problems, [], what);
}

/** The emitted files of a build: the wasm module among them, as an asset of its own. */
function assertWasmEmitted(dir) {
  const files = readdirSync(dir, { recursive: true }).map(String);
  assert.ok(files.some((f) => f.endsWith(".wasm")), `no .wasm emitted: ${files.join(" ")}`);
}

const page = (script, type = "module") => `<!doctype html><title>app</title><script ${type === "module" ? 'type="module" ' : ""}src="./${script}"></script>`;

describe("a page importing linkpay, bundled and run in Chromium", () => {
  test("the README gives each recipe the builds below use", () => {
    for (const [bundler, lines] of Object.entries(RECIPES)) {
      for (const line of lines) assert.ok(readme.includes(line), `README lacks the ${bundler} recipe: ${line}`);
    }
  });

  test("webpack 5, no configuration", async () => {
    const { default: webpack } = await import("webpack");
    const out = join(work, "out-webpack");
    const stats = await new Promise((resolve, reject) =>
      webpack({ mode: "production", context: app, entry: "./src/main.js", output: { path: out, filename: "main.js" } }, (err, s) => (err ? reject(err) : resolve(s))),
    );
    assert.ok(!stats.hasErrors(), stats.toString("errors-only"));
    // (Only webpack's size advice, which every app with a 400 KB asset gets.)
    const warnings = stats.toJson({ all: false, warnings: true }).warnings.map((w) => w.message);
    assert.deepEqual(warnings.filter((w) => !/^(asset size limit|entrypoint size limit|webpack performance recommendations)/.test(w)), []);
    assertWasmEmitted(out);
    writeFileSync(join(out, "index.html"), page("main.js", "classic"));
    assertDecoded(await serveDir(out, load), "webpack");
  });

  for (const [name, pkgName, devConfig] of [
    ["Vite 8", "vite", {}],
    ["Vite 6", "vite6", { optimizeDeps: { exclude: ["linkpay"] } }],
  ]) {
    test(`${name} build, no configuration`, async () => {
      const vite = await import(pkgName);
      const out = join(work, `out-${pkgName}`);
      await vite.build({ root: app, configFile: false, logLevel: "error", cacheDir: join(app, "node_modules", `.${pkgName}`), build: { outDir: out, emptyOutDir: true } });
      assertWasmEmitted(out);
      assertDecoded(await serveDir(out, load), `${name} build`);
    });

    test(`${name} dev server${Object.keys(devConfig).length ? " (README recipe)" : ", no configuration"}`, async () => {
      const vite = await import(pkgName);
      const server = await vite.createServer({
        root: app,
        configFile: false,
        logLevel: "error",
        cacheDir: join(app, "node_modules", `.${pkgName}-dev`),
        server: { host: "127.0.0.1", port: 0, strictPort: false, hmr: false, watch: null },
        ...devConfig,
      });
      await server.listen();
      try {
        assertDecoded(await load(`http://127.0.0.1:${server.httpServer.address().port}/`), `${name} dev`);
      } finally {
        await server.close();
      }
    });
  }

  test("esbuild with the README recipe (--loader:.wasm=file, init(wasmUrl))", async () => {
    const { build } = await import("esbuild");
    const out = join(work, "out-esbuild");
    // RECIPES.esbuild[0] as the JS API spells it.
    const r = await build({ entryPoints: [join(app, "src", "main-esbuild.js")], bundle: true, format: "esm", outdir: out, loader: { ".wasm": "file" }, logLevel: "silent", absWorkingDir: app });
    assert.deepEqual(r.warnings, []);
    assertWasmEmitted(out);
    writeFileSync(join(out, "index.html"), page("main-esbuild.js"));
    assertDecoded(await serveDir(out, load), "esbuild");
  });

  test("rollup 4 with the README recipe (nodeResolve({ browser: true }), importMetaAssets())", async () => {
    const { rollup } = await import("rollup");
    const { nodeResolve } = await import("@rollup/plugin-node-resolve");
    const { importMetaAssets } = await import("@web/rollup-plugin-import-meta-assets");
    const out = join(work, "out-rollup");
    const warnings = [];
    const bundle = await rollup({ input: join(app, "src", "main.js"), plugins: [nodeResolve({ browser: true }), importMetaAssets()], onwarn: (w) => warnings.push(w.message) });
    await bundle.write({ dir: out, format: "es" });
    await bundle.close();
    assert.deepEqual(warnings, []);
    assertWasmEmitted(out);
    writeFileSync(join(out, "index.html"), page("main.js"));
    assertDecoded(await serveDir(out, load), "rollup");
  });
});
