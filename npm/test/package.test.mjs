// The package as a registry would serve it: `npm pack`, then what a user gets from
// `npm i ./linkpay-<version>.tgz` in an empty project (offline: the library has no
// dependencies). publint and are-the-types-wrong on the tarball; the install is linkpay alone;
// the library works there (ESM import and `require`) and so does the bin, with none of the
// CLI's dependencies installed (they are bundled into dist/cli/); a `--strict` TypeScript
// consumer compiles under node16 and bundler resolution, with and without @types/node.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { lstatSync, mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { decode as decodeToon } from "@toon-format/toon";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => join(root, "node_modules", ".bin", name);
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const HDR =
  'Payment id="ch_1", realm="merchant.example", method="stripe", intent="charge", request="eyJhbW91bnQiOiIxMDAwIiwiY3VycmVuY3kiOiJ1c2QiLCJtZXRob2REZXRhaWxzIjp7Im5ldHdvcmtJZCI6Im5ldF8xMjMiLCJwYXltZW50TWV0aG9kVHlwZXMiOlsiY2FyZCJdfX0"';

/** Runs `file args` in `cwd`; resolves `{code, stdout, stderr}` (never rejects). */
function run(file, args, { cwd = work, env: extra = {}, timeout = 120_000 } = {}) {
  return new Promise((resolve) =>
    execFile(file, args, { cwd, env: { ...env, ...extra }, timeout, maxBuffer: 64 << 20 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr }),
    ),
  );
}
const ok = (r, what) => assert.equal(r.code, 0, `${what} failed:\n${r.stdout}\n${r.stderr}`);

let work; // temp dir: the tarball, and the consumer project in work/app
let app;
let tarball;
let packed; // `npm pack --json`'s entry
let env;

before(async () => {
  work = mkdtempSync(join(tmpdir(), "linkpay-package-"));
  app = join(work, "app");
  // No config, cache or credential of the machine's: the consumer is a fresh user.
  env = { ...process.env, HOME: work, LINK_AUTH_FILE: join(work, "auth.json"), NODE_PATH: "" };
  for (const k of Object.keys(env)) if (/^npm_(lifecycle|package|config_(prefix|global|local))/.test(k)) delete env[k];
  const r = await run("npm", ["pack", "--json", "--pack-destination", work], { cwd: root });
  ok(r, "npm pack");
  packed = JSON.parse(r.stdout)[0];
  tarball = join(work, packed.filename);
  mkdirSync(app);
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", version: "1.0.0", private: true, type: "module" }, null, 2));
  ok(await run("npm", ["install", tarball, "--offline", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: app }), "npm install of the tarball");
});

after(() => rmSync(work, { recursive: true, force: true }));

describe("the tarball", () => {
  test("ships README, LICENSE, CHANGELOG, the bundled CLI with its third-party licenses", () => {
    const files = new Set(packed.files.map((f) => f.path));
    for (const f of ["README.md", "LICENSE", "CHANGELOG.md", "package.json", "dist/index.js", "dist/index.d.ts", "dist/browser.js", "dist/cli/linkpay.cjs", "dist/cli/THIRD_PARTY_LICENSES.md", "skills/linkpay/SKILL.md"]) {
      assert.ok(files.has(f), `${f} is not in the tarball`);
    }
    assert.match(readFileSync(join(app, "node_modules", "linkpay", "LICENSE"), "utf8"), /^MIT License/);
    // Every package bundled into the bin carries its license notice.
    const notices = readFileSync(join(app, "node_modules", "linkpay", "dist", "cli", "THIRD_PARTY_LICENSES.md"), "utf8");
    for (const name of Object.keys(pkg.devDependencies).filter((n) => ["@modelcontextprotocol/sdk", "@toon-format/toon", "qrcode", "yaml", "undici"].includes(n))) {
      assert.match(notices, new RegExp(`^## ${name.replace(/[/.]/g, "\\$&")} \\d`, "m"), `${name} missing from THIRD_PARTY_LICENSES.md`);
    }
    // The modules `sideEffects` names exist (a renamed file would silently lose its effect).
    for (const f of pkg.sideEffects) assert.ok(files.has(f.replace(/^\.\//, "")), `sideEffects names ${f}, which is not in the tarball`);
  });

  test("publint: no problem", async () => {
    const r = await run(bin("publint"), ["run", tarball, "--strict", "--level", "suggestion"]);
    ok(r, "publint");
    assert.match(r.stdout, /All good!/, r.stdout);
  });

  test("are-the-types-wrong: no problem", async () => {
    // `./linkpay_bg.wasm` is an asset for bundlers, not a module: no types to resolve.
    const r = await run(bin("attw"), [tarball, "--format", "json", "--no-definitely-typed", "--exclude-entrypoints", "./linkpay_bg.wasm"]);
    const problems = Object.values(JSON.parse(r.stdout).problems ?? {}).flat();
    // The one finding by design: the package is ES modules only, and TypeScript's `node16`
    // module mode rejects `require()` of an ES module (CJSResolvesToESM). Node ≥ 20.19 runs
    // `require("linkpay")` (checked below; hence `engines`), as does TypeScript ≥ 5.8 under
    // `module: node20`/`nodenext`.
    const unexpected = problems.filter((p) => !(p.kind === "CJSResolvesToESM" && p.resolutionKind === "node16-cjs"));
    assert.deepEqual(unexpected, [], JSON.stringify(problems, null, 2));
  });
});

describe("installed in an empty project", () => {
  test("installs linkpay alone", () => {
    const names = readdirSync(join(app, "node_modules")).filter((n) => !n.startsWith("."));
    assert.deepEqual(names, ["linkpay"]);
    const lock = JSON.parse(readFileSync(join(app, "package-lock.json"), "utf8"));
    assert.deepEqual(Object.keys(lock.packages).filter((k) => k !== ""), ["node_modules/linkpay"]);
    // The files' bytes; a symlink (node_modules/.bin/linkpay) is not followed, so the bin counts once.
    const size = (p) => {
      const st = lstatSync(p);
      return st.isDirectory() ? readdirSync(p).reduce((n, f) => n + size(join(p, f)), 0) : st.isFile() ? st.size : 0;
    };
    const bytes = size(join(app, "node_modules"));
    // The figure in the README; a budget, so that a dependency or a stray file shows. (3.5 MiB
    // since `linkpay/component` ships the jco-transpiled client component, 0.8 MB; 4 MiB since
    // the CLI bundles undici's proxy agent for `LINK_HTTP_PROXY`, 0.36 MB, and link.fetch and
    // paid MCP calls came, issue 16.)
    assert.ok(bytes < 4 * 1024 * 1024, `node_modules is ${(bytes / 1048576).toFixed(2)} MiB`);
    console.log(`# install: 1 package, ${(bytes / 1048576).toFixed(2)} MiB in node_modules; tarball ${(packed.size / 1024).toFixed(0)} KiB`);
  });

  test("the library works: ESM import, require() and the browser entry's init in Node", async () => {
    const esm = `
      import { LinkClient, MemoryStorage, init, isLinkpayError, decodeStripeChallenge, version } from "linkpay";
      await init();
      const c = decodeStripeChallenge(${JSON.stringify(HDR)});
      if (c.amount !== 1000 || c.network_id !== "net_123") throw new Error(JSON.stringify(c));
      const client = new LinkClient({ storage: new MemoryStorage() });
      const status = await client.auth.status();
      try { decodeStripeChallenge("Bearer x"); throw new Error("no error"); } catch (e) { if (!isLinkpayError(e)) throw e; console.log(e.code); }
      console.log(version, status.authenticated);
    `;
    const r = await run(process.execPath, ["--input-type=module", "-e", esm], { cwd: app });
    ok(r, "import linkpay");
    assert.equal(r.stdout, `MPP_NO_PAYMENT_CHALLENGE\n${pkg.version} false\n`);
    // `require(esm)`: Node ≥ 20.19 / 22.12, the `engines` range.
    const cjs = `const { decodeStripeChallenge, init } = require("linkpay"); init().then(() => console.log(decodeStripeChallenge(${JSON.stringify(HDR)}).amount));`;
    const required = await run(process.execPath, ["-e", cjs], { cwd: app });
    ok(required, "require('linkpay')");
    assert.equal(required.stdout, "1000\n");
  });

  test("the bin runs with no CLI dependency installed: --version, mpp decode (toon, yaml), demo, the QR code", async () => {
    const npx = (args) => run("npx", ["--offline", "linkpay", ...args], { cwd: app });
    const v = await npx(["--version"]);
    ok(v, "npx linkpay --version");
    assert.equal(v.stdout.trim(), pkg.version);
    const decoded = await npx(["mpp", "decode", "--challenge", HDR]);
    ok(decoded, "linkpay mpp decode");
    assert.equal(decodeToon(decoded.stdout).network_id, "net_123");
    const yaml = await npx(["mpp", "decode", "--challenge", HDR, "--format", "yaml"]);
    ok(yaml, "linkpay mpp decode --format yaml");
    assert.equal(parseYaml(yaml.stdout).amount, 1000);
    // The shipped skill is found from the installed bin.
    const skills = await npx(["skills", "list", "--format", "json"]);
    ok(skills, "linkpay skills list");
    assert.equal(JSON.parse(skills.stdout)[0].name, "linkpay");
    const demo = await npx(["demo"]);
    ok(demo, "linkpay demo");
    assert.match(demo.stdout, /receipt: success/);
    // The terminal QR code (drawn only on a TTY, and silently left out if qrcode fails to load).
    const qr = await run(process.execPath, ["-e", `require(${JSON.stringify(join(app, "node_modules", "linkpay", "dist", "cli", "vendor", "qrcode.cjs"))}).qrcode.toString("https://example.com/d", { type: "terminal", small: true }).then((s) => console.log(s.split("\\n").length))`], { cwd: app });
    ok(qr, "the vendored qrcode");
    assert.ok(Number(qr.stdout) > 5, qr.stdout);
  });

  test("linkpay --mcp answers tools/list and a tool call", async () => {
    const { Client } = await import("@modelcontextprotocol/sdk/client/index.js");
    const { StdioClientTransport } = await import("@modelcontextprotocol/sdk/client/stdio.js");
    const mcp = new Client({ name: "package-test", version: "1.0.0" });
    const binPath = join(app, "node_modules", ".bin", "linkpay");
    await mcp.connect(new StdioClientTransport({ command: binPath, args: ["--mcp"], cwd: app, env, stderr: "ignore" }));
    try {
      const tools = await mcp.listTools();
      assert.ok(tools.tools.some((t) => t.name === "mpp_decode"), JSON.stringify(tools.tools.map((t) => t.name)));
      const call = await mcp.callTool({ name: "mpp_decode", arguments: { challenge: HDR } });
      assert.equal(call.isError, undefined, JSON.stringify(call));
    } finally {
      await mcp.close();
    }
  });
});

describe("a --strict TypeScript consumer", () => {
  // Uses the repo's TypeScript and @types/node; the declarations are checked (no skipLibCheck).
  const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
  const node = `import { LinkClient, MemoryStorage, init, isLinkpayError, decodeStripeChallenge, type StripeChallenge, type WasmSource } from "linkpay";

export async function main(header: string, source?: WasmSource): Promise<string> {
  await init(source);
  const client = new LinkClient({ storage: new MemoryStorage() });
  const status = await client.auth.status();
  try {
    const challenge: StripeChallenge = decodeStripeChallenge(header);
    return \`\${challenge.amount} \${challenge.currency} \${String(status.authenticated)}\`;
  } catch (e) {
    if (isLinkpayError(e)) return e.code;
    throw e;
  }
}
`;
  // Isomorphic code: whatever the browser entry's init takes, the Node entry's takes too.
  const browser = `import { init } from "linkpay";
import * as browser from "linkpay/browser";

export async function load(source: browser.WasmSource, module: WebAssembly.Module, bytes: Uint8Array): Promise<void> {
  await browser.init(source);
  await init(source);
  await init(module);
  await init(bytes);
  await init(new URL("https://example.com/linkpay_bg.wasm"));
}
`;
  const cases = [
    { name: "node16", compilerOptions: { module: "node16", moduleResolution: "node16" } },
    { name: "bundler", compilerOptions: { module: "esnext", moduleResolution: "bundler", target: "es2022" } },
  ];
  const tscIn = async (dir, compilerOptions, files) => {
    mkdirSync(dir, { recursive: true });
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: { ...compilerOptions, strict: true, noEmit: true, typeRoots: [join(root, "node_modules", "@types")] }, files: Object.keys(files) }, null, 2));
    return run(process.execPath, [tsc, "-p", join(dir, "tsconfig.json")], { cwd: dir });
  };
  for (const c of cases) {
    for (const types of [[], ["node"]]) {
      test(`moduleResolution ${c.name}, types ${JSON.stringify(types)}`, async () => {
        const r = await tscIn(join(app, `ts-${c.name}-${types.length}`), { ...c.compilerOptions, types }, { "node.ts": node, "browser.ts": browser });
        ok(r, `tsc (${c.name}, types ${JSON.stringify(types)})`);
      });
    }
  }
  test("a Node-only project: lib es2022 (no DOM) with @types/node", async () => {
    // As @tsconfig/node20 sets it up: fetch's types come from @types/node, there is no DOM.
    const r = await tscIn(join(app, "ts-node-only"), { module: "node16", moduleResolution: "node16", lib: ["es2022"], types: ["node"] }, { "node.ts": node });
    ok(r, "tsc (lib es2022, types node)");
  });
});
