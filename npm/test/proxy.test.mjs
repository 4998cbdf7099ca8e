// Issue 14: LINK_HTTP_PROXY. The CLI's and the MCP server's requests to Link (API and auth)
// go through an HTTP proxy — absolute-form for http:// targets, CONNECT for https:// ones —
// and merchant requests (`mpp pay`) do not, as in the reference. A value that is no proxy URL
// is a VALIDATION_ERROR before any request. The proxy is a small one written here, counting
// what it forwarded, in front of the sandbox (and of a TLS front of it, for CONNECT).
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { createServer, request as httpRequest } from "node:http";
import { connect as netConnect } from "node:net";
import { createServer as createTlsServer } from "node:tls";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { startSandbox } from "../dist/sandbox/index.js";

const BIN = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "cli", "linkpay.cjs");
const context = (n) => `Buying item ${n} for the person, who picked it in this conversation; the total matches the cart at checkout.`.padEnd(110, ".");

/** An HTTP proxy: absolute-form requests (`GET http://host/path`) are forwarded, CONNECT
 * opens a tunnel. `forwarded` lists `METHOD url` and `CONNECT host:port`. */
async function startProxy() {
  const proxy = { forwarded: [] };
  const server = createServer((req, res) => {
    if (!/^http:\/\//.test(req.url)) return void res.writeHead(400).end("not a proxy request");
    proxy.forwarded.push(`${req.method} ${req.url}`);
    const target = new URL(req.url);
    const headers = { ...req.headers };
    delete headers["proxy-connection"];
    const upstream = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: target.pathname + target.search, headers }, (answer) => {
      res.writeHead(answer.statusCode, answer.headers);
      answer.pipe(res);
    });
    upstream.on("error", () => res.writeHead(502).end());
    req.pipe(upstream);
  });
  server.on("connect", (req, socket, head) => {
    proxy.forwarded.push(`CONNECT ${req.url}`);
    const [host, port] = req.url.split(":");
    const upstream = netConnect(Number(port), host, () => {
      socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on("error", () => socket.destroy());
    socket.on("error", () => upstream.destroy());
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  proxy.url = `http://127.0.0.1:${server.address().port}`;
  proxy.close = () => new Promise((r) => { server.closeAllConnections(); server.close(r); });
  return proxy;
}

let sb;
let proxy;
let dir;
let env;
before(async () => {
  sb = await startSandbox({ autoApprove: true });
  proxy = await startProxy();
  dir = mkdtempSync(join(tmpdir(), "linkpay-proxy-"));
  env = { PATH: process.env.PATH, HOME: dir, LINK_AUTH_FILE: join(dir, "auth.json"), ...sb.env, LINK_HTTP_PROXY: proxy.url };
});
after(async () => {
  await sb.close();
  await proxy.close();
  rmSync(dir, { recursive: true, force: true });
});

function cli(args, extra = {}) {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args, "--format", "json"], { env: { ...env, ...extra }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr, out: stdout ? JSON.parse(stdout) : undefined });
    });
  });
}

/** What the sandbox received (method and path) and the proxy forwarded, since `mark`. */
const since = (mark) => ({
  sandbox: sb.requests().slice(mark.sandbox).map((r) => `${r.method} ${r.path}`),
  proxied: proxy.forwarded.slice(mark.proxy).map((line) => line.replace(sb.url, "").replace(/\?.*$/, "")),
});
const mark = () => ({ sandbox: sb.requests().length, proxy: proxy.forwarded.length });

describe("LINK_HTTP_PROXY", () => {
  test("login, status, create and list go through the proxy: every request the sandbox got, and no other", async () => {
    const m = mark();
    const login = await cli(["auth", "login"]);
    assert.equal(login.code, 0, login.stdout + login.stderr);
    const status = await cli(["auth", "status"]);
    assert.equal(status.out[0].authenticated, true, status.stdout);
    const create = await cli(["spend-request", "create", "--amount", "1500", "-m", "Proxy Store", "--merchant-url", "https://proxy.example/cart", "--context", context(1), "--line-item", "name:Hat,quantity:1,unit_amount:1500", "--total", "type:total,display_text:Total,amount:1500"]);
    assert.equal(create.code, 0, create.stdout);
    const list = await cli(["spend-request", "list"]);
    assert.equal(list.code, 0, list.stdout);
    const seen = since(m);
    assert.ok(seen.sandbox.length >= 4, seen.sandbox.join("\n"));
    assert.deepEqual(seen.proxied, seen.sandbox.map((r) => r.replace(/\?.*$/, "")), "one forwarded request per request the sandbox got");
    assert.ok(seen.proxied.some((r) => r.startsWith("POST /device/code")), "the auth server too");
    assert.ok(seen.proxied.some((r) => r.startsWith("POST /spend_requests")));
  });

  test("mpp pay: the Link requests through the proxy, the merchant's not (as the reference)", async () => {
    const m = mark();
    const pay = await cli(["mpp", "pay", `${sb.merchantUrl}/api/forecast`, "--context", context(2), "--interval", "1"]);
    assert.equal(pay.code, 0, pay.stdout + pay.stderr);
    assert.equal(pay.out.at(-1).status, 200, pay.stdout);
    const seen = since(m);
    const merchant = seen.sandbox.filter((r) => r.includes("/merchant/"));
    assert.ok(merchant.length >= 2, "probe and paid retry reached the merchant");
    assert.deepEqual(seen.proxied.filter((r) => r.includes("/merchant/")), [], "no merchant request through the proxy");
    assert.deepEqual(seen.proxied, seen.sandbox.filter((r) => !r.includes("/merchant/")).map((r) => r.replace(/\?.*$/, "")));
    assert.ok(seen.proxied.some((r) => r.startsWith("POST /spend_requests")));
  });

  test("the MCP server's tools go through it too", async () => {
    const m = mark();
    const client = new Client({ name: "proxy-test", version: "1" });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [BIN, "--mcp"], env, stderr: "pipe" }));
    try {
      const result = await client.callTool({ name: "payment-methods_list", arguments: {} });
      assert.ok(!result.isError, result.content[0].text);
    } finally {
      await client.close();
    }
    const seen = since(m);
    assert.deepEqual(seen.proxied, seen.sandbox.map((r) => r.replace(/\?.*$/, "")));
    assert.ok(seen.proxied.includes("GET /payment-details"), seen.proxied.join());
  });

  test("https:// targets are tunnelled with CONNECT", async () => {
    // A TLS front of the sandbox (self-signed, trusted through NODE_EXTRA_CA_CERTS).
    const key = join(dir, "key.pem");
    const cert = join(dir, "cert.pem");
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"], { stdio: "ignore" });
    const front = createTlsServer({ key: readFileSync(key), cert: readFileSync(cert) }, (socket) => {
      const upstream = netConnect(sb.port, "127.0.0.1");
      socket.pipe(upstream).pipe(socket);
      upstream.on("error", () => socket.destroy());
      socket.on("error", () => upstream.destroy());
    });
    await new Promise((r) => front.listen(0, "127.0.0.1", r));
    const https = `https://127.0.0.1:${front.address().port}`;
    try {
      const m = mark();
      const r = await cli(["spend-request", "list"], { LINK_API_BASE_URL: https, LINK_AUTH_BASE_URL: https, NODE_EXTRA_CA_CERTS: cert });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.deepEqual(proxy.forwarded.slice(m.proxy), [`CONNECT 127.0.0.1:${front.address().port}`]);
      assert.deepEqual(since(m).sandbox, ["GET /spend_requests"]);
    } finally {
      await new Promise((r) => front.close(r));
    }
  });

  test("a value that is no proxy URL: VALIDATION_ERROR at LINK_HTTP_PROXY, no request, no password echoed", async () => {
    for (const bad of ["not a url", "ftp://proxy.example:21", "http://user:hunter2@proxy.example:3128/some/path", "http://"]) {
      const m = mark();
      const r = await cli(["spend-request", "list"], { LINK_HTTP_PROXY: bad });
      assert.equal(r.code, 1, r.stdout);
      assert.equal(r.out.code, "VALIDATION_ERROR", r.stdout);
      assert.deepEqual(r.out.fieldErrors.map((f) => f.path), ["LINK_HTTP_PROXY"]);
      assert.doesNotMatch(r.stdout + r.stderr, /hunter2/);
      assert.deepEqual(since(m), { sandbox: [], proxied: [] }, bad);
    }
    // Unset or blank: no proxy.
    const m = mark();
    assert.equal((await cli(["spend-request", "list"], { LINK_HTTP_PROXY: " " })).code, 0);
    assert.equal(since(m).proxied.length, 0);
    assert.equal(since(m).sandbox.length, 1);
  });
});
