// Issue 17, items 3 and 13 (serve and CLI edges), spawned against a started sandbox: an MCP
// message over 10 MiB on stdio is answered with an error and later calls still are; `serve`
// takes `Authorization: bearer …` in any case, accepts IP-literal Hosts when bound to 0.0.0.0,
// answers 413 to a body over 1 MiB; a single-value flag given twice and a context over 5000
// characters are VALIDATION_ERRORs naming the field, with no request.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFile } from "node:child_process";
import { request as httpRequest } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { startSandbox } from "../dist/sandbox/index.js";

const BIN = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "cli", "linkpay.cjs");
const TOKEN = "test-token-0123456789";
const run = promisify(execFile);
const CONTEXT = "Buying one pair of blue running shoes, size 42, from Example Store for the user, who asked for them in chat.";

let sb;
let dir;
before(async () => {
  sb = await startSandbox({ autoApprove: true });
  dir = mkdtempSync(join(tmpdir(), "linkpay-hostile-"));
});
after(async () => {
  await sb.close();
  rmSync(dir, { recursive: true, force: true });
});
const env = () => ({ PATH: process.env.PATH, HOME: dir, LINK_AUTH_FILE: join(dir, "auth.json"), LINKPAY_SERVE_TOKEN: TOKEN, LINK_ACCESS_TOKEN: sb.issueTokens().access_token, ...sb.env });

/** `linkpay --mcp` driven line by line: `send` a message, `next` the next reply. */
function stdioServer() {
  const child = spawn(process.execPath, [BIN, "--mcp"], { env: env(), stdio: ["pipe", "pipe", "ignore"] });
  const replies = [];
  const waiting = [];
  let text = "";
  child.stdout.on("data", (d) => {
    text += d;
    for (let nl = text.indexOf("\n"); nl !== -1; nl = text.indexOf("\n")) {
      const msg = JSON.parse(text.slice(0, nl));
      text = text.slice(nl + 1);
      const w = waiting.shift();
      if (w) w(msg);
      else replies.push(msg);
    }
  });
  const next = (ms = 20000) =>
    replies.length
      ? Promise.resolve(replies.shift())
      : new Promise((resolve, reject) => {
          const t = setTimeout(() => reject(new Error("no reply")), ms);
          waiting.push((m) => {
            clearTimeout(t);
            resolve(m);
          });
        });
  const send = (msg) => new Promise((resolve) => child.stdin.write(typeof msg === "string" ? msg : `${JSON.stringify(msg)}\n`, resolve));
  return { child, send, next };
}

/** `linkpay serve` on a free port; resolves with its URL once listening. */
async function startServe(args = []) {
  const child = spawn(process.execPath, [BIN, "serve", "--port", "0", ...args], { env: env(), stdio: ["ignore", "ignore", "pipe"] });
  const url = await new Promise((resolve, reject) => {
    let text = "";
    child.stderr.on("data", (d) => {
      text += d;
      const m = /listening on (http:\/\/\S+)/.exec(text);
      if (m) resolve(m[1]);
    });
    child.on("exit", () => reject(new Error(`serve exited: ${text}`)));
  });
  return { child, url };
}

const INIT = { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } } };

/** A raw POST (any Host header), resolving with status and body text. */
function post(url, headers, body) {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json, text/event-stream", ...headers } }, (res) => {
      let text = "";
      res.on("data", (d) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode, text }));
    });
    req.on("error", (e) => (e.code === "EPIPE" || e.code === "ECONNRESET" ? undefined : reject(e)));
    req.end(body);
  });
}

describe("MCP stdio: a message over 10 MiB", () => {
  test("is answered with an error naming the limit and its id; later calls are answered", async () => {
    const { child, send, next } = stdioServer();
    try {
      await send(INIT);
      assert.equal((await next()).id, 1);
      await send({ jsonrpc: "2.0", method: "notifications/initialized" });
      // The id after 11 MiB of params, as the SDK's client writes it; an `id` inside params too.
      const huge = `{"jsonrpc":"2.0","method":"tools/call","params":{"name":"mpp_decode","arguments":{"id":"inner","challenge":"${"x".repeat(11 * 1024 * 1024)}"}},"id":7}\n`;
      await send(huge);
      const refused = await next();
      assert.equal(refused.id, 7);
      assert.equal(refused.error.code, -32600);
      assert.match(refused.error.message, /10 MiB/);
      await send({ jsonrpc: "2.0", id: 8, method: "tools/list" });
      const listed = await next();
      assert.equal(listed.id, 8);
      assert.ok(listed.result.tools.length > 0);
      // Not JSON: a parse error with id null, and the server still answers.
      await send("{not json\n");
      assert.deepEqual((await next()).error.code, -32700);
      await send({ jsonrpc: "2.0", id: 9, method: "tools/list" });
      assert.equal((await next()).id, 9);
    } finally {
      child.kill("SIGTERM");
    }
  });
});

describe("serve edges", () => {
  test("the bearer scheme in any case; a body over 1 MiB is 413 with a JSON-RPC error", async () => {
    const { child, url } = await startServe();
    try {
      for (const scheme of ["Bearer", "bearer", "BEARER"]) assert.equal((await post(url, { Authorization: `${scheme} ${TOKEN}` }, JSON.stringify(INIT))).status, 200, scheme);
      assert.equal((await post(url, { Authorization: `bearer wrong` }, JSON.stringify(INIT))).status, 401);
      const big = await post(url, { Authorization: `Bearer ${TOKEN}` }, JSON.stringify({ ...INIT, pad: "x".repeat(2 << 20) }));
      assert.equal(big.status, 413);
      const body = JSON.parse(big.text);
      assert.equal(body.jsonrpc, "2.0");
      assert.equal(body.error.code, -32600);
      assert.match(body.error.message, /1 MiB/);
    } finally {
      child.kill("SIGTERM");
    }
  });

  test("--host 0.0.0.0 accepts IP-literal and localhost Hosts with its port, refuses names", async () => {
    const { child, url } = await startServe(["--host", "0.0.0.0"]);
    try {
      const port = new URL(url).port;
      const target = `http://127.0.0.1:${port}/mcp`;
      const auth = { Authorization: `Bearer ${TOKEN}` };
      for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `0.0.0.0:${port}`, `192.168.1.20:${port}`]) {
        assert.equal((await post(target, { ...auth, Host: host }, JSON.stringify(INIT))).status, 200, host);
      }
      for (const host of [`attacker.example:${port}`, `127.0.0.1:1`, "127.0.0.1"]) {
        assert.equal((await post(target, { ...auth, Host: host }, JSON.stringify(INIT))).status, 403, host);
      }
      assert.equal((await post(target, { Host: `127.0.0.1:${port}` }, JSON.stringify(INIT))).status, 401, "the token is still required");
    } finally {
      child.kill("SIGTERM");
    }
  });
});

describe("CLI: refused before any request", () => {
  const cli = async (args) => {
    const r = await run(process.execPath, [BIN, ...args, "--format", "json"], { env: env(), maxBuffer: 1 << 24 }).catch((e) => e);
    return { code: r.code ?? 0, out: JSON.parse(r.stdout) };
  };
  const create = ["spend-request", "create", "-m", "Example Store", "--merchant-url", "https://shop.example"];

  test("a single-value flag given twice names the flag", async () => {
    const before = sb.requests().length;
    const r = await cli([...create, "--amount", "100", "--amount", "200", "--context", CONTEXT]);
    assert.equal(r.code, 1);
    assert.equal(r.out.code, "VALIDATION_ERROR");
    assert.deepEqual(r.out.fieldErrors, [{ path: "amount", message: "takes one value, got 2: give --amount once" }]);
    const id = await cli(["spend-request", "retrieve", "lsrq_1", "--id", "lsrq_2"]);
    assert.deepEqual(id.out.fieldErrors.map((f) => f.path), ["id"]);
    assert.equal(sb.requests().length, before, "no request");
  });

  test("a context over 5000 characters, for create and mpp pay", async () => {
    const before = sb.requests().length;
    const long = "x".repeat(10_000);
    const r = await cli([...create, "--amount", "100", "--context", long]);
    assert.equal(r.out.code, "VALIDATION_ERROR");
    assert.deepEqual(r.out.fieldErrors, [{ path: "context", message: "must be at most 5000 characters (got 10000): the person approving reads it on their phone" }]);
    const pay = await cli(["mpp", "pay", `${sb.merchantUrl}/api/forecast`, "--context", long]);
    assert.equal(pay.out.code, "VALIDATION_ERROR");
    assert.deepEqual(pay.out.fieldErrors.map((f) => f.path), ["context"]);
    assert.equal(sb.requests().length, before, "no request");
  });
});
