// Every fenced code block of the README runs here, so the README cannot rot.
//
// How each block runs, by its info string:
//   sh, bash, shell   bash -euo pipefail, from the clone's root, HOME a scratch directory, with
//                     `linkpay` on PATH (the built CLI; the install block's `npm install -g`
//                     goes to a scratch prefix that comes first on PATH) and LINK_API_BASE_URL /
//                     LINK_AUTH_BASE_URL / LINK_AUTH_FILE pointing at a sandbox started here
//                     (auto-approving, so logins and spend requests are approved at once).
//   js, ts            type-checked by tsc --strict (checkJs for js), with and without
//                     @types/node, then run by Node as an ES module in a project where
//                     `linkpay` is this package (blocks run one after another, sharing the
//                     session file: a later block may use the session an earlier one stored).
//   json              parsed; an MCP host config ({"mcpServers": {name: {command, args}}}) is
//                     also started from another directory and must answer tools/list.
// The README shows the sandbox at its default address, http://127.0.0.1:4242 (`linkpay
// sandbox`); every block runs with that origin replaced by the test sandbox's.
//
// Markers: an HTML comment right before a block (blank lines between are fine) changes how it
// runs; a block without a marker must run and pass:
//   <!-- readme-test: skip (why) -->   not run (long-running, the real Link API, or run by
//                                      another test: say which)
//   <!-- readme-test: browser -->      js: type-checked without @types/node and run in
//                                      Chromium as a module of a page, `linkpay` mapped to the
//                                      browser entry, instead of in Node
//   <!-- readme-test: node -->         js: Node only (it imports what needs Node's types, such
//                                      as the MCP SDK's stdio transport): type-checked with
//                                      @types/node only
//   <!-- readme-test: twice -->        js: run twice (the second run must succeed too, e.g.
//                                      finding the stored session); the sandbox's clock moves
//                                      past its 60 s duplicate window between the runs
// Any other info string (rust, python, …) needs a skip marker.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { startSandbox } from "../dist/sandbox/index.js";

const npmDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const clone = join(npmDir, "..");
const BIN = join(npmDir, "dist", "cli", "linkpay.cjs");
const README_ORIGIN = "http://127.0.0.1:4242";

/** The README's fenced blocks, in order: `{lang, code, line, marker}`. */
export function readmeBlocks(text) {
  const lines = text.split("\n");
  const blocks = [];
  let marker;
  for (let i = 0; i < lines.length; i++) {
    const m = /^<!--\s*readme-test:\s*(\w+)(?:\s*\((.*)\))?\s*-->\s*$/.exec(lines[i]);
    if (m) {
      marker = { kind: m[1], reason: m[2] };
      continue;
    }
    const fence = /^(```+)\s*([\w-]*)/.exec(lines[i]);
    if (!fence) {
      if (lines[i].trim() !== "") marker = undefined;
      continue;
    }
    const start = i;
    const body = [];
    for (i++; i < lines.length && !lines[i].startsWith(fence[1]); i++) body.push(lines[i]);
    blocks.push({ lang: fence[2].toLowerCase(), code: body.join("\n") + "\n", line: start + 1, marker });
    marker = undefined;
  }
  return blocks;
}

const blocks = readmeBlocks(readFileSync(join(clone, "README.md"), "utf8"));
const MARKERS = new Set(["skip", "browser", "node", "twice"]);
const SHELL = new Set(["sh", "bash", "shell"]);
const JS = new Set(["js", "javascript", "mjs", "ts", "typescript"]);

let sb;
let work; // scratch: HOME, the npm prefix, the JS project
let env;
let project;
const createdInClone = ["card.json"]; // files a block writes into the clone's root (removed after)

/** Runs `file args`; resolves `{code, stdout, stderr}`. Standard input is /dev/null, not a pipe:
 * bash takes a socket on stdin for an ssh session and reads /etc/bash.bashrc. */
function run(file, args, { cwd = work, timeout = 180_000 } = {}) {
  return new Promise((resolve) => {
    const child = spawn(file, args, { cwd, env, timeout, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", (e) => resolve({ code: 1, stdout, stderr: `${stderr}${e.message}` }));
    child.on("close", (code, signal) => resolve({ code: code ?? 1, stdout, stderr: signal ? `${stderr}killed by ${signal}` : stderr }));
  });
}
const where = (b) => `README.md:${b.line} (${b.lang})`;
const withSandbox = (code) => code.replaceAll(README_ORIGIN, sb.url);

before(async () => {
  sb = await startSandbox({ autoApprove: true });
  work = mkdtempSync(join(tmpdir(), "linkpay-readme-"));
  const shim = join(work, "shim");
  mkdirSync(shim);
  symlinkSync(BIN, join(shim, "linkpay"));
  // The user's machine has an MCP host (Cursor), for `linkpay mcp add` to find.
  mkdirSync(join(work, ".cursor"));
  const prefix = join(work, "prefix");
  mkdirSync(prefix);
  // The machine's way to the registry (CA bundle, proxy) and the user's npm config, kept with a
  // scratch HOME: ./scripts/demo runs ./scripts/setup, which may install.
  const reach = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => /^(npm_config_.*|NODE_EXTRA_CA_CERTS|SSL_CERT_(FILE|DIR)|(HTTPS?|NO)_PROXY|(https?|no)_proxy)$/.test(k)),
  );
  env = {
    ...reach,
    npm_config_userconfig: process.env.npm_config_userconfig ?? join(process.env.HOME, ".npmrc"),
    PATH: `${join(prefix, "bin")}:${shim}:${process.env.PATH}`,
    HOME: work,
    // rustup and cargo (./scripts/demo runs ./scripts/setup) where they are, not in the scratch HOME.
    RUSTUP_HOME: process.env.RUSTUP_HOME ?? join(process.env.HOME, ".rustup"),
    CARGO_HOME: process.env.CARGO_HOME ?? join(process.env.HOME, ".cargo"),
    npm_config_prefix: prefix,
    npm_config_cache: join(process.env.HOME, ".npm"),
    npm_config_audit: "false",
    npm_config_fund: "false",
    npm_config_update_notifier: "false",
    LINK_AUTH_FILE: join(work, "auth.json"),
    ...sb.env,
  };
  project = join(work, "project");
  mkdirSync(join(project, "node_modules"), { recursive: true });
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "readme-blocks", private: true, type: "module" }));
  symlinkSync(npmDir, join(project, "node_modules", "linkpay"));
  // The mppx example's `mppx/client`: the version linkpay's method is written for (0.11).
  symlinkSync(join(npmDir, "node_modules", "mppx-0.11"), join(project, "node_modules", "mppx"));
  // The paid MCP example's client: the MCP SDK, as an agent using it has it installed.
  mkdirSync(join(project, "node_modules", "@modelcontextprotocol"));
  symlinkSync(join(npmDir, "node_modules", "@modelcontextprotocol", "sdk"), join(project, "node_modules", "@modelcontextprotocol", "sdk"));
});

after(async () => {
  await sb?.close();
  for (const f of createdInClone) rmSync(join(clone, f), { force: true });
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("README code blocks", () => {
  test("the README has blocks of every kind, each known or marked", () => {
    for (const b of blocks) {
      if (b.marker) assert.ok(MARKERS.has(b.marker.kind), `${where(b)}: unknown marker readme-test: ${b.marker.kind}`);
      if (b.marker?.kind === "skip") assert.ok(b.marker.reason?.trim(), `${where(b)}: a skip marker says why: <!-- readme-test: skip (why) -->`);
      else assert.ok(SHELL.has(b.lang) || JS.has(b.lang) || b.lang === "json", `${where(b)}: no runner for "${b.lang}": mark it <!-- readme-test: skip (why) -->`);
    }
    const run = blocks.filter((b) => b.marker?.kind !== "skip");
    assert.ok(run.some((b) => SHELL.has(b.lang)) && run.some((b) => JS.has(b.lang)) && run.some((b) => b.lang === "json"), "shell, JS and JSON blocks run");
    assert.ok(run.length >= blocks.length / 2, `${blocks.length - run.length} of ${blocks.length} blocks skipped`);
  });

  // One test per block, in README order (shell blocks install and log in before later ones).
  for (const b of blocks) {
    const name = `${where(b)}${b.marker ? ` [${b.marker.kind}${b.marker.reason ? `: ${b.marker.reason}` : ""}]` : ""}: ${b.code.split("\n")[0].slice(0, 60)}`;
    if (b.marker?.kind === "skip") {
      test(name, { skip: b.marker.reason }, () => {});
    } else if (SHELL.has(b.lang)) {
      test(name, async () => {
        const r = await run("bash", ["-euo", "pipefail", "-c", withSandbox(b.code)], { cwd: clone });
        assert.equal(r.code, 0, `${where(b)} failed:\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
      });
    } else if (JS.has(b.lang)) {
      test(name, async () => {
        const ts = b.lang.startsWith("t");
        const file = join(project, `block-${b.line}.${ts ? "ts" : "mjs"}`);
        writeFileSync(file, withSandbox(b.code));
        for (const types of b.marker?.kind === "browser" ? [[]] : b.marker?.kind === "node" ? [["node"]] : [[], ["node"]]) {
          const r = await typecheck(file, types);
          assert.equal(r.code, 0, `${where(b)} does not type-check under --strict (types ${JSON.stringify(types)}):\n${r.stdout}${r.stderr}`);
        }
        if (b.marker?.kind === "browser") return runInBrowser(b, withSandbox(b.code));
        const runs = b.marker?.kind === "twice" ? 2 : 1;
        for (let i = 0; i < runs; i++) {
          if (i > 0) sb.advanceClock(61_000); // past the sandbox's duplicate window
          const r = await run(process.execPath, ts ? ["--experimental-strip-types", file] : [file], { cwd: project });
          assert.equal(r.code, 0, `${where(b)}, run ${i + 1}, failed:\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
        }
      });
    } else if (b.lang === "json") {
      test(name, async () => {
        const value = JSON.parse(b.code);
        for (const [server, { command, args = [] }] of Object.entries(value.mcpServers ?? value.servers ?? {})) {
          await mcpAnswers(server, command, args);
        }
      });
    }
  }

  test("the card file the CLI block wrote is 0600", () => {
    const card = join(clone, "card.json");
    assert.ok(existsSync(card), "no card.json: the README's CLI block no longer writes it?");
    assert.equal(statSync(card).mode & 0o777, 0o600);
  });
});

/** tsc --strict on one block (checkJs for .mjs), `types` as given, DOM and ES2022 libs. */
function typecheck(file, types) {
  const tsconfig = join(project, `tsconfig-${types.length}.json`);
  writeFileSync(
    tsconfig,
    JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, allowJs: true, checkJs: true, module: "nodenext", moduleResolution: "nodenext", target: "es2022", lib: ["es2022", "dom"], types, typeRoots: [join(npmDir, "node_modules", "@types")], allowImportingTsExtensions: true },
      files: [file],
    }),
  );
  return run(process.execPath, [join(npmDir, "node_modules", "typescript", "bin", "tsc"), "-p", tsconfig], { cwd: project });
}

/** Starts `command args` as an MCP host would (from another directory, PATH as the user's) and
 * asks it tools/list. */
async function mcpAnswers(name, command, args) {
  const elsewhere = mkdtempSync(join(work, "host-cwd-"));
  const mcp = new Client({ name: "readme-test", version: "1.0.0" });
  await mcp.connect(new StdioClientTransport({ command, args, cwd: elsewhere, env, stderr: "pipe" }));
  try {
    const tools = await mcp.listTools();
    // linkpay's own server, or (`mcp proxy`) the paid server behind it: the sandbox's.
    const expected = args.includes("proxy") ? "forecast" : "mpp_decode";
    assert.ok(tools.tools.some((t) => t.name === expected), `${name}: ${JSON.stringify(tools.tools.map((t) => t.name))}`);
  } finally {
    await mcp.close();
  }
}

const MIME = { ".js": "text/javascript", ".wasm": "application/wasm" };

/** Runs a browser block as a page's module (`linkpay` → the browser entry, via an import map),
 * the page on localhost and the sandbox on 127.0.0.1 (cross-origin, as a real page). */
async function runInBrowser(b, code) {
  const dist = join(npmDir, "dist");
  const html = `<!doctype html><title>readme</title><script type="importmap">{"imports":{"linkpay":"/browser.js"}}</script>
<script type="module">window.blockDone = import("/block.js").then(() => "ok", (e) => "error: " + (e && e.stack || e));</script>`;
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname));
    if (path === "/") return res.writeHead(200, { "content-type": "text/html" }).end(html);
    if (path === "/block.js") return res.writeHead(200, { "content-type": "text/javascript" }).end(code);
    const file = join(dist, path);
    if (!file.startsWith(dist + "/") || !existsSync(file)) return res.writeHead(404).end();
    res.writeHead(200, { "content-type": MIME[extname(file)] ?? "application/octet-stream" }).end(readFileSync(file));
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"] });
  try {
    const page = await browser.newPage();
    const logs = [];
    const problems = [];
    page.on("console", (m) => (m.type() === "error" ? !m.text().startsWith("Failed to load resource") && problems.push(m.text()) : logs.push(m.text())));
    page.on("pageerror", (e) => problems.push(e.message));
    await page.goto(`http://localhost:${server.address().port}/`);
    const done = await page.evaluate(() => window.blockDone);
    assert.equal(done, "ok", `${where(b)} failed in Chromium: ${done}`);
    assert.deepEqual(problems, [], where(b));
    assert.ok(logs.length > 0, `${where(b)} logged nothing`);
  } finally {
    await browser.close();
    await new Promise((r) => server.close(r));
  }
}
