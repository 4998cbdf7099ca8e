// Issue 14: the update notice. `auth status` (CLI and MCP) carries `update` once the registry
// named a newer version; a person at a terminal gets one stderr line (never stdout, never an
// agent); NO_UPDATE_NOTIFIER and CI turn it off; the registry is asked by a detached process,
// so a registry that hangs, is down or answers garbage neither delays nor fails a command;
// `--update` runs the update command. The registry is a stand-in on 127.0.0.1
// (LINKPAY_UPDATE_REGISTRY), never the network; `npm` for `--update` is a stub on PATH.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createServer } from "node:http";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { version } from "../dist/index.js";
import { startSandbox } from "../dist/sandbox/index.js";

const BIN = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "cli", "linkpay.cjs");
const HDR =
  'Payment id="ch_1", realm="merchant.example", method="stripe", intent="charge", request="eyJhbW91bnQiOiIxMDAwIiwiY3VycmVuY3kiOiJ1c2QiLCJtZXRob2REZXRhaWxzIjp7Im5ldHdvcmtJZCI6Im5ldF8xMjMiLCJwYXltZW50TWV0aG9kVHlwZXMiOlsiY2FyZCJdfX0"';
const UPDATE = { current_version: version, latest_version: "99.0.0", update_command: "npm install -g linkpay@latest" };
const NOTICE = `Update available for linkpay: ${version} -> 99.0.0. Run: npm install -g linkpay@latest (or linkpay --update)`;

/** The npm registry's stand-in: `GET /linkpay/latest` answers per `mode` (`ok`: a manifest of
 * 99.0.0, `garbage`, `hang`: never). Counts the requests; `held` are the hanging ones. */
async function startRegistry() {
  const registry = { mode: "ok", requests: [], held: [] };
  const server = createServer((req, res) => {
    registry.requests.push(req.url);
    if (registry.mode === "hang") return void registry.held.push(res);
    if (registry.mode === "garbage") return void res.writeHead(200, { "content-type": "application/json" }).end("<html>oops</html>");
    res.writeHead(req.url === "/linkpay/latest" ? 200 : 404, { "content-type": "application/json" });
    res.end(JSON.stringify(req.url === "/linkpay/latest" ? { name: "linkpay", version: "99.0.0" } : { error: "Not found" }));
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  registry.url = `http://127.0.0.1:${server.address().port}`;
  registry.close = () => new Promise((r) => { for (const res of registry.held) res.destroy(); server.closeAllConnections(); server.close(r); });
  return registry;
}

let sb;
let registry;
let root;
before(async () => {
  sb = await startSandbox({ autoApprove: true });
  registry = await startRegistry();
  root = mkdtempSync(join(tmpdir(), "linkpay-update-"));
});
after(async () => {
  await sb.close();
  await registry.close();
  rmSync(root, { recursive: true, force: true });
});

let n = 0;
/** A fresh HOME and credential file, pointed at the sandbox and the stand-in registry (the
 * sandbox's env turns the notifier off; here it must be on). */
function home(extra = {}) {
  const dir = mkdtempSync(join(root, `h${++n}-`));
  const { NO_UPDATE_NOTIFIER, ...sbEnv } = sb.env;
  assert.equal(NO_UPDATE_NOTIFIER, "1", "the sandbox's env keeps other tests off the registry");
  return { dir, cache: join(dir, "update-check.json"), env: { PATH: process.env.PATH, HOME: dir, LINK_AUTH_FILE: join(dir, "auth.json"), LINKPAY_UPDATE_REGISTRY: registry.url, ...sbEnv, ...extra } };
}

function cli(args, env) {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** Runs the CLI on a pseudo-terminal (util-linux `script`), its stderr to `errFile`. */
function onTerminal(args, env, errFile) {
  const quoted = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(" ");
  return new Promise((resolve) => {
    execFile("script", ["-qefc", `${quoted} 2>'${errFile}'`, "/dev/null"], { env: { ...env, TERM: "xterm" }, timeout: 30_000 }, (err, stdout) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, screen: stdout, stderr: readFileSync(errFile, "utf8") });
    });
  });
}

async function until(what, fn, ms = 15_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
const cached = (file) => (existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : undefined);

describe("update notice", () => {
  test("auth status: nothing on the first run, which asks the registry in the background; `update` from then on", async () => {
    const h = home();
    const before = registry.requests.length;
    const first = await cli(["auth", "status", "--format", "json"], h.env);
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.equal(JSON.parse(first.stdout)[0].update, undefined);
    assert.equal(first.stderr, "");
    const record = await until("the cache to name the latest version", () => cached(h.cache)?.latest && cached(h.cache));
    assert.equal(record.latest, "99.0.0");
    assert.deepEqual(registry.requests.slice(before), ["/linkpay/latest"]);
    assert.equal(statSync(h.cache).mode & 0o777, 0o600);

    const second = await cli(["auth", "status", "--format", "json"], h.env);
    const status = JSON.parse(second.stdout)[0];
    assert.deepEqual(status.update, UPDATE);
    assert.equal(status.authenticated, false);
    assert.equal(second.stderr, "", "an agent gets the field, not the notice");
    // Cached for a day: no second registry request.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(registry.requests.length, before + 1);

    // Logged in (a pending login first: `update` goes before `pending`, as the reference's).
    const login = await cli(["auth", "login", "--format", "json"], h.env);
    assert.equal(login.code, 0, login.stdout);
    const pending = JSON.parse((await cli(["auth", "status", "--format", "json"], { ...h.env })).stdout);
    const keys = Object.keys(pending.at(-1));
    if (pending.at(-1).pending) assert.ok(keys.indexOf("update") < keys.indexOf("pending"), keys.join());
    assert.deepEqual(pending.at(-1).update, UPDATE);

    // Off with NO_UPDATE_NOTIFIER or CI (CI=false is not CI).
    for (const off of [{ NO_UPDATE_NOTIFIER: "1" }, { CI: "true" }]) {
      const r = await cli(["auth", "status", "--format", "json"], { ...h.env, ...off });
      assert.equal(JSON.parse(r.stdout).at(-1).update, undefined, JSON.stringify(off));
    }
    assert.deepEqual(JSON.parse((await cli(["auth", "status", "--format", "json"], { ...h.env, CI: "false" })).stdout).at(-1).update, UPDATE);
    // Other commands an agent runs do not carry it.
    const decode = await cli(["mpp", "decode", "--challenge", HDR, "--format", "json"], h.env);
    assert.equal(JSON.parse(decode.stdout).update, undefined);
    assert.equal(decode.stderr, "");
  });

  test("a person at a terminal gets one line on stderr, never on stdout; the MCP auth_status tool carries `update`", async () => {
    const h = home();
    const refreshed = await cli(["--update-check"], h.env); // the detached refresh, run in the foreground
    assert.deepEqual([refreshed.code, refreshed.stdout, refreshed.stderr], [0, "", ""]);
    assert.equal(cached(h.cache).latest, "99.0.0");

    const run = await onTerminal(["mpp", "decode", "--challenge", HDR], h.env, join(h.dir, "stderr"));
    assert.equal(run.code, 0, run.screen);
    assert.match(run.screen, /network_id: net_123/);
    assert.doesNotMatch(run.screen, /Update available/);
    assert.equal(run.stderr, `${NOTICE}\n`);
    const off = await onTerminal(["mpp", "decode", "--challenge", HDR], { ...h.env, NO_UPDATE_NOTIFIER: "1" }, join(h.dir, "stderr2"));
    assert.equal(off.stderr, "");

    const client = new Client({ name: "update-test", version: "1" });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [BIN, "--mcp"], env: h.env, stderr: "pipe" }));
    try {
      const result = await client.callTool({ name: "auth_status", arguments: {} });
      assert.ok(!result.isError, result.content[0].text);
      assert.deepEqual(JSON.parse(result.content[0].text)[0].update, UPDATE);
      const decoded = await client.callTool({ name: "mpp_decode", arguments: { challenge: HDR } });
      assert.doesNotMatch(decoded.content[0].text, /update|Update available/);
    } finally {
      await client.close();
    }
  });

  test("a registry that hangs, is down or answers garbage neither delays nor fails a command", async () => {
    // Hangs: the command is done while the registry still holds the request open.
    const hang = home();
    registry.mode = "hang";
    const before = registry.requests.length;
    const r = await cli(["auth", "status", "--format", "json"], hang.env);
    assert.equal(r.code, 0);
    assert.equal(JSON.parse(r.stdout)[0].authenticated, false);
    await until("the detached refresh to reach the registry", () => registry.requests.length > before);
    assert.equal(registry.held.length > 0, true, "the registry has not answered, and the command is done");
    assert.equal(cached(hang.cache).latest, undefined, "only the schedule is written");
    assert.ok(cached(hang.cache).next_check_ms <= Date.now() + 3_600_000, "retried within the hour");

    // Garbage.
    registry.mode = "garbage";
    const garbage = home();
    assert.deepEqual(Object.values(await cli(["--update-check"], garbage.env)), [0, "", ""]);
    assert.equal(existsSync(garbage.cache), false, "garbage writes nothing");
    const g = await cli(["auth", "status", "--format", "json"], garbage.env);
    assert.equal(g.code, 0);
    assert.equal(JSON.parse(g.stdout)[0].update, undefined);

    // Down (nothing listens), and a cache file that is garbage itself.
    const down = home({ LINKPAY_UPDATE_REGISTRY: "http://127.0.0.1:1" });
    assert.deepEqual(Object.values(await cli(["--update-check"], down.env)), [0, "", ""]);
    writeFileSync(down.cache, "{not json");
    const d = await cli(["auth", "status", "--format", "json"], down.env);
    assert.equal(d.code, 0, d.stderr);
    assert.equal(JSON.parse(d.stdout)[0].update, undefined);
    registry.mode = "ok";
  });

  test("--update runs the update command (a stub npm here) and prints the versions; its failure is the command's", async () => {
    const h = home();
    await cli(["--update-check"], h.env);
    const bin = join(h.dir, "bin");
    const argsFile = join(h.dir, "npm-args");
    const stub = (exit) => {
      writeFileSync(join(h.dir, "npm"), `#!/bin/sh\necho "$@" > '${argsFile}'\necho "npm says hi"\nexit ${exit}\n`);
      chmodSync(join(h.dir, "npm"), 0o755);
    };
    void bin;
    stub(0);
    const env = { ...h.env, PATH: `${h.dir}:${process.env.PATH}` };
    const ok = await cli(["--update", "--format", "json"], env);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.deepEqual(JSON.parse(ok.stdout), { ...UPDATE, updated: true });
    assert.equal(readFileSync(argsFile, "utf8"), "install -g linkpay@latest\n");
    assert.match(ok.stderr, /npm says hi/, "npm's output on stderr, stdout stays the result");
    stub(3);
    const failed = await cli(["--update", "--format", "json"], env);
    assert.equal(failed.code, 1);
    assert.match(JSON.parse(failed.stdout).message, /npm install -g linkpay@latest failed \(exit 3\)/);
  });
});
