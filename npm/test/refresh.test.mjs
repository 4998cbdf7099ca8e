// One token refresh for many callers (issue 17 #4), against a real sandbox whose refresh tokens
// rotate on every use: with an expired access token, 20 concurrent calls of one LinkClient, 20
// clients sharing one credential file, 6 CLI processes and 20 concurrent calls through
// `linkpay serve` all succeed, and the sandbox sees exactly one refresh each time.
import { describe, test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, rmSync, symlinkSync, lstatSync, readdirSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { LinkClient, FileStorage } from "../dist/index.js";
import { startSandbox } from "../dist/sandbox/index.js";

const BIN = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "cli", "linkpay.cjs");
const TOKEN = "refresh-test-serve-token-0123456789";

let sb;
let dir;
let authFile;
let env;

/** A fresh session in `file` whose access token the client takes as expired. */
function expiredSession(file = authFile) {
  const tokens = sb.issueTokens();
  writeFileSync(file, JSON.stringify({ auth: { ...tokens, expires_at: Date.now() - 1000 } }), { mode: 0o600 });
  sb.clearRequests();
  return tokens;
}

/** The refreshes the sandbox saw: `POST /device/token` with `grant_type=refresh_token`. */
function refreshes() {
  return sb.requests().filter((r) => r.method === "POST" && r.path === "/device/token" && /grant_type=refresh_token/.test(r.body ?? ""));
}

function assertOneRefresh(before) {
  const seen = refreshes();
  assert.equal(seen.length, 1, `refreshes: ${JSON.stringify(seen.map((r) => r.status))}`);
  assert.equal(seen[0].status, 200);
  const stored = JSON.parse(readFileSync(authFile, "utf8")).auth;
  assert.notEqual(stored.refresh_token, before.refresh_token, "rotated token stored");
  assert.ok(stored.expires_at > Date.now(), "fresh access token stored");
  assert.equal(JSON.parse(readFileSync(authFile, "utf8")).refreshLease, undefined, "lease released");
}

function cli(args) {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

before(async () => {
  sb = await startSandbox();
  dir = mkdtempSync(join(tmpdir(), "linkpay-refresh-"));
  authFile = join(dir, "auth.json");
  env = { PATH: process.env.PATH, HOME: dir, LINK_AUTH_FILE: authFile, LINKPAY_SERVE_TOKEN: TOKEN, ...sb.env };
});
after(async () => {
  await sb.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("an expired access token, many callers, one refresh", () => {
  beforeEach(() => rmSync(authFile, { force: true }));

  test("20 concurrent calls of one LinkClient", async () => {
    const before = expiredSession();
    const c = new LinkClient({ apiBaseUrl: sb.apiUrl, authBaseUrl: sb.authUrl, storage: new FileStorage(authFile) });
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => c.paymentMethods.list()));
    assert.deepEqual(results.filter((r) => r.status === "rejected").map((r) => r.reason.message), []);
    assertOneRefresh(before);
  });

  test("20 clients sharing one credential file (as separate processes do)", async () => {
    const before = expiredSession();
    const clients = Array.from({ length: 20 }, () => new LinkClient({ apiBaseUrl: sb.apiUrl, authBaseUrl: sb.authUrl, storage: new FileStorage(authFile) }));
    const results = await Promise.allSettled(clients.map((c) => c.paymentMethods.list()));
    assert.deepEqual(results.filter((r) => r.status === "rejected").map((r) => r.reason.message), []);
    assertOneRefresh(before);
  });

  test("6 CLI processes at once", async () => {
    const before = expiredSession();
    const runs = await Promise.all(Array.from({ length: 6 }, () => cli(["payment-methods", "list", "--format", "json"])));
    for (const r of runs) assert.equal(r.code, 0, r.stdout + r.stderr);
    for (const r of runs) assert.ok(JSON.parse(r.stdout).length > 0);
    assertOneRefresh(before);
  });

  test("20 concurrent tool calls through linkpay serve", async () => {
    const before = expiredSession();
    const child = spawn(process.execPath, [BIN, "serve", "--port", "0"], { env, stdio: ["ignore", "ignore", "pipe"] });
    try {
      const url = await new Promise((resolve, reject) => {
        let text = "";
        child.stderr.on("data", (d) => {
          text += d;
          const m = /listening on (http:\/\/\S+)/.exec(text);
          if (m) resolve(m[1]);
        });
        child.on("exit", () => reject(new Error(`serve exited: ${text}`)));
      });
      const client = new Client({ name: "refresh-test", version: "1.0.0" });
      await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${TOKEN}` } } }));
      try {
        const results = await Promise.all(Array.from({ length: 20 }, () => client.callTool({ name: "payment-methods_list", arguments: {} })));
        const failed = results.filter((r) => r.isError).map((r) => r.content[0].text);
        assert.deepEqual(failed, []);
      } finally {
        await client.close();
      }
      assertOneRefresh(before);
    } finally {
      child.kill("SIGTERM");
    }
  });

  test("a refresh through a symlinked credential file writes the link's target, atomically", async () => {
    const real = join(dir, "real");
    mkdirSync(real, { recursive: true });
    const target = join(real, "auth.json");
    const link = join(dir, "link.json");
    rmSync(link, { force: true });
    const before = expiredSession(target);
    symlinkSync(target, link);
    const c = new LinkClient({ apiBaseUrl: sb.apiUrl, authBaseUrl: sb.authUrl, storage: new FileStorage(link) });
    await c.paymentMethods.list();
    assert.ok(lstatSync(link).isSymbolicLink(), "the link is still a link");
    const stored = JSON.parse(readFileSync(target, "utf8")).auth;
    assert.notEqual(stored.refresh_token, before.refresh_token, "the target holds the rotated tokens");
    assert.equal(lstatSync(target).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(real).filter((n) => n.endsWith(".tmp") || n.endsWith(".lock")), []);
    // And the next call uses them without refreshing again.
    sb.clearRequests();
    await c.paymentMethods.list();
    assert.equal(refreshes().length, 0);
  });
});
