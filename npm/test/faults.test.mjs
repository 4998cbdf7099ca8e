// Issue 17: the client under faults, spawned against real servers. A poll outlives the sandbox
// being killed and restarted (item 7); a create whose answers are all lost reports its
// Idempotency-Key and a retry with it makes no second spend request (item 8); `mpp pay` reads
// at most its cap of a 300 MB body with bounded memory (item 5); secrets a merchant echoes
// anywhere never reach --verbose (item 9); a challenge's one-line fields stay on one line
// (item 10).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { createServer, request as httpRequest } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { startSandbox } from "../dist/sandbox/index.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const BIN = join(HERE, "..", "dist", "cli", "linkpay.cjs");
const SANDBOX = join(HERE, "..", "dist", "sandbox", "main.js");
const run = promisify(execFile);
const CONTEXT = "The person asked for this purchase in our conversation; these fault tests check that it survives a network that fails in the middle.";
let dir;

before(() => {
  dir = mkdtempSync(join(tmpdir(), "linkpay-faults-"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function listen(server) {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server.address().port)));
}

async function freePort() {
  const s = createServer();
  const port = await listen(s);
  await new Promise((r) => s.close(r));
  return port;
}

/** `linkpay sandbox` as its own process, keeping its state in `data`. */
async function spawnSandbox(port, data) {
  const child = spawn(process.execPath, [SANDBOX, "--port", String(port), "--data", data], { stdio: ["ignore", "pipe", "inherit"] });
  child.env = await new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (b) => {
      out += b;
      const api = /LINK_API_BASE_URL=(\S+)/.exec(out)?.[1];
      const auth = /LINK_AUTH_BASE_URL=(\S+)/.exec(out)?.[1];
      if (api && auth) resolve({ LINK_API_BASE_URL: api, LINK_AUTH_BASE_URL: auth });
    });
    child.on("exit", (code) => reject(new Error(`sandbox exited ${code}`)));
  });
  return child;
}

async function control(base, path, body = {}) {
  const r = await fetch(`${base}/sandbox/${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  assert.equal(r.status, 200, await r.clone().text());
  return r.json();
}

function cli(env, ...args) {
  return run(process.execPath, [BIN, ...args, "--format", "json"], { env: { PATH: process.env.PATH, HOME: "/nonexistent", ...env }, maxBuffer: 64 << 20 }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

test("a poll outlives the sandbox being killed and restarted: it ends with the approved request", async () => {
  const port = await freePort();
  const data = join(dir, "sandbox-state.json");
  const base = `http://127.0.0.1:${port}`;
  let sandbox = await spawnSandbox(port, data);
  try {
    const { access_token } = await control(base, "tokens");
    const env = { ...sandbox.env, LINK_ACCESS_TOKEN: access_token };
    const created = await cli(env, "spend-request", "create", "--amount", "1500", "-m", "Fault Shop", "--merchant-url", "https://fault.example/cart", "--context", CONTEXT);
    assert.equal(created.code, 0, created.stdout + created.stderr);
    const id = JSON.parse(created.stdout)[0]?.id ?? JSON.parse(created.stdout).id;
    assert.match(id, /^lsrq_/);

    const poll = cli(env, "spend-request", "retrieve", id, "--interval", "1", "--max-attempts", "30");
    await sleep(1500);
    sandbox.kill("SIGKILL");
    await new Promise((r) => sandbox.once("exit", r));
    await sleep(5000);
    sandbox = await spawnSandbox(port, data);
    await control(base, `spend_requests/${id}/approve`);
    const r = await poll;
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal((Array.isArray(out) ? out.at(-1) : out).status, "approved");
  } finally {
    sandbox.kill("SIGKILL");
  }
});

test("a create whose answers are all lost reports its key; the retry with it makes no second spend request", async () => {
  const sb = await startSandbox();
  // A proxy that forwards every request and, for creates, lets the sandbox answer and then
  // drops the connection: the spend request exists, the client never hears of it.
  let creates = 0;
  const target = new URL(sb.url);
  const proxy = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const upstream = httpRequest({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
        const body = [];
        answer.on("data", (c) => body.push(c));
        answer.on("end", () => {
          if (req.method === "POST" && req.url.endsWith("/spend_requests")) {
            creates += 1;
            res.socket.destroy();
            return;
          }
          res.writeHead(answer.statusCode, answer.headers);
          res.end(Buffer.concat(body));
        });
      });
      upstream.end(Buffer.concat(chunks));
    });
  });
  const proxyPort = await listen(proxy);
  try {
    const token = sb.issueTokens().access_token;
    const args = ["spend-request", "create", "--amount", "2500", "-m", "Lost Shop", "--merchant-url", "https://lost.example/cart", "--context", CONTEXT];
    const lost = await cli({ ...sb.env, LINK_API_BASE_URL: `http://127.0.0.1:${proxyPort}/v1`, LINK_ACCESS_TOKEN: token }, ...args);
    assert.equal(lost.code, 1);
    const error = JSON.parse(lost.stdout);
    assert.equal(error.code, "TRANSPORT_ERROR");
    assert.match(error.message, /may have been created/);
    const key = /idempotency key (\S+)/.exec(error.message)?.[1];
    assert.ok(key, error.message);
    assert.ok(creates >= 1, "the creates reached the sandbox");

    const retried = await cli({ ...sb.env, LINK_ACCESS_TOKEN: token }, ...args, "--idempotency-key", key);
    assert.equal(retried.code, 0, retried.stdout + retried.stderr);
    const listed = await cli({ ...sb.env, LINK_ACCESS_TOKEN: token }, "spend-request", "list");
    const all = JSON.parse(listed.stdout).filter((s) => s.merchant_name === "Lost Shop");
    assert.equal(all.length, 1, "one spend request for one purchase");
    const out = JSON.parse(retried.stdout);
    assert.equal((Array.isArray(out) ? out[0] : out).id, all[0].id);
  } finally {
    proxy.close();
    await sb.close();
  }
});

test("mpp pay reads at most its cap of a 300 MB body, in bounded memory, and says it cut it", async () => {
  const chunk = Buffer.alloc(1 << 20, 0x61);
  const merchant = createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/plain" });
    let sent = 0;
    const pump = () => {
      while (sent < 300) {
        sent += 1;
        if (!res.write(chunk)) return res.once("drain", pump);
      }
      res.end();
    };
    res.on("close", () => (sent = 300));
    pump();
  });
  const port = await listen(merchant);
  try {
    const r = await run("/usr/bin/time", ["-v", process.execPath, BIN, "mpp", "pay", `http://127.0.0.1:${port}/huge`, "--context", CONTEXT, "--format", "json"], {
      env: { PATH: process.env.PATH, HOME: "/nonexistent", LINK_ACCESS_TOKEN: "lsat_not_used_for_a_free_answer" },
      maxBuffer: 64 << 20,
    });
    const out = [JSON.parse(r.stdout)].flat().at(-1);
    assert.equal(out.status, 200);
    assert.equal(out.body_truncated, true);
    assert.equal(out.max_body_bytes, 4 << 20);
    assert.equal(out.body.length, 4 << 20);
    const rssKb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1]);
    assert.ok(rssKb > 0 && rssKb < 200 * 1024, `peak RSS ${rssKb} KB`);

    const raised = await cli({ LINK_ACCESS_TOKEN: "lsat_not_used_for_a_free_answer" }, "mpp", "pay", `http://127.0.0.1:${port}/huge`, "--context", CONTEXT, "--max-body-bytes", "1000");
    assert.equal([JSON.parse(raised.stdout)].flat().at(-1).body.length, 1000);
    const bad = await cli({ LINK_ACCESS_TOKEN: "x" }, "mpp", "pay", `http://127.0.0.1:${port}/huge`, "--context", CONTEXT, "--max-body-bytes", String(2 ** 40));
    assert.deepEqual(JSON.parse(bad.stdout).fieldErrors.map((f) => f.path), ["maxBodyBytes"]);
  } finally {
    merchant.close();
  }
});

test("--verbose never shows a card number or token a merchant echoes, under any key or in text", async () => {
  const merchant = createServer((req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ receipt: "paid with spt_1AbCdEfGhIjKlMnOpQ", note: "card 4242 4242 4242 4242 exp 12/30", nested: { x: "4000056655665556" } }));
  });
  const port = await listen(merchant);
  try {
    const r = await cli({ LINK_ACCESS_TOKEN: "lsat_abcdefghijklmnopqrstuvwxyz" }, "mpp", "pay", `http://127.0.0.1:${port}/echo`, "--context", CONTEXT, "--verbose");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /redacted card …4242/);
    for (const secret of ["spt_1AbCdEfGhIjKlMnOpQ", "4242 4242 4242 4242", "4000056655665556", "lsat_abcdefghij"]) {
      assert.ok(!r.stderr.includes(secret), `${secret} in --verbose: ${r.stderr}`);
    }
  } finally {
    merchant.close();
  }
});

test("a challenge's description escaping CR LF decodes to one line", async () => {
  const request = Buffer.from(JSON.stringify({ amount: "100", currency: "usd", methodDetails: { networkId: "net_1\u000aFAKE", paymentMethodTypes: ["card"] } })).toString("base64url");
  const header = `Payment id="abc", realm="shop.example", method="stripe", intent="charge", request="${request}", description="ok \\u000d\\u000aFAKE line\\u0009x"`;
  const r = await cli({}, "mpp", "decode", "--challenge", header);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const out = JSON.parse(r.stdout);
  for (const key of ["id", "realm", "method", "intent", "description", "network_id"]) {
    assert.ok(!/[\u0000-\u001f\u007f-\u009f]/.test(out[key]), `${key}: ${JSON.stringify(out[key])}`);
  }
  assert.equal(out.description, "ok  FAKE line x");
  assert.equal(out.network_id, "net_1 FAKE");
});
