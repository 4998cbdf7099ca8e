// The MCP server with the SDK's own Client, over stdio (`linkpay --mcp`) and streamable HTTP
// (`linkpay serve`), against a real sandbox: the tools and their schemas are the table's, every
// tool works, bad input is isError VALIDATION_ERROR with no request, and `serve` wants its
// bearer token (401) and its own Origin and Host (403).
import { describe, test, before, after, beforeEach, afterEach } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { request as httpRequest } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { commandTable } from "../dist/index.js";
import { startSandbox } from "../dist/sandbox/index.js";

const BIN = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "cli", "linkpay.cjs");
const HDR =
  'Payment id="ch_1", realm="merchant.example", method="stripe", intent="charge", request="eyJhbW91bnQiOiIxMDAwIiwiY3VycmVuY3kiOiJ1c2QiLCJtZXRob2REZXRhaWxzIjp7Im5ldHdvcmtJZCI6Im5ldF8xMjMiLCJwYXltZW50TWV0aG9kVHlwZXMiOlsiY2FyZCJdfX0"';
const TOKEN = "test-token-0123456789";
let seq = 0;
const context = () => `MCP purchase ${++seq} for the person, who picked it in this conversation; the total matches the cart at checkout.`.padEnd(110, ".");

let sb;
let dir;
const tools = commandTable().commands.filter((c) => c.mcp);

// A sandbox per test: its merchant's challenge ids (an HMAC under the sandbox's secret, with
// `expires` in whole seconds) never repeat across the two transports' payments.
beforeEach(async () => {
  sb = await startSandbox({ autoApprove: true });
});
afterEach(() => sb.close());
before(() => {
  dir = mkdtempSync(join(tmpdir(), "linkpay-mcp-"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const envFor = (name) => ({ PATH: process.env.PATH, HOME: dir, LINK_AUTH_FILE: join(dir, `${name}.json`), LINKPAY_SERVE_TOKEN: TOKEN, ...sb.env });

/** Every text a tool returned (results and errors), for the no-shell-commands check. */
const returned = [];

async function call(client, name, args = {}) {
  const r = await client.callTool({ name, arguments: args });
  returned.push(`${name}: ${r.content[0].text}`);
  const value = JSON.parse(r.content[0].text);
  return { isError: r.isError === true, value };
}

/** What reads as a command line to run in a shell: `linkpay …`, a two-word command
 * (`spend-request retrieve`, `auth status`) or a `--flag`. Over MCP an agent calls tools. */
const TWO_WORDS = commandTable().commands.map((c) => c.name).filter((n) => n.includes(" "));
const SHELL_TEXT = [/\blinkpay\s+[a-z-]/, new RegExp(`\\b(${TWO_WORDS.join("|")})\\b`), /(^|[\s`'"(])--[a-z]/];
function assertNoShellCommands() {
  for (const text of returned) for (const re of SHELL_TEXT) assert.doesNotMatch(text, re, text);
}

/** Calls every tool once against the sandbox (the session is the client's own file). */
async function everyTool(client) {
  const listed = await client.listTools();
  assert.deepEqual(listed.tools.map((t) => t.name), tools.map((c) => c.tool));
  returned.length = 0;
  for (const t of listed.tools) {
    for (const hint of ["readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"]) assert.equal(typeof t.annotations?.[hint], "boolean", `${t.name} ${hint}`);
  }
  // What the agent reads of the tools (descriptions, schemas) names no command line either.
  for (const t of listed.tools) returned.push(`tools/list ${t.name}: ${t.description} ${JSON.stringify(t.inputSchema)}`);
  const annotated = (name) => listed.tools.find((t) => t.name === name).annotations;
  assert.equal(annotated("mpp_decode").readOnlyHint, true);
  assert.equal(annotated("mpp_decode").openWorldHint, false);
  assert.equal(annotated("auth_status").readOnlyHint, true);
  assert.equal(annotated("spend-request_list").readOnlyHint, true);
  assert.deepEqual(annotated("mpp_pay"), { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true });
  for (const t of listed.tools) assert.deepEqual(t.inputSchema, tools.find((c) => c.tool === t.name).inputSchema, t.name);
  const called = new Set();
  const ok = async (name, args) => {
    called.add(name);
    const r = await call(client, name, args);
    assert.equal(r.isError, false, `${name}: ${JSON.stringify(r.value)}`);
    return r.value;
  };

  const login = await ok("auth_login", { clientName: "MCP test", sourceActions: ["read_balances", "read_link_transactions", "read_source_details"] });
  // Hints name the tool and its arguments, not a command line.
  assert.equal(login[0]._next.command, 'auth_status {"interval":5,"maxAttempts":60}');
  assert.match(login[0].instruction, /Then call `auth_status \{"interval":5,"maxAttempts":60\}`/);
  const status = await ok("auth_status", { interval: 0.1, timeout: 10 });
  assert.equal(status.at(-1).authenticated, true);
  const again = await ok("auth_login", { clientName: "MCP test" });
  assert.match(again[0].message, /call the `auth_logout` tool first/);
  assert.ok((await ok("payment-methods_list")).length > 0);
  assert.equal((await ok("payment-methods_add")).url, "https://app.link.com/wallet");
  const [sr] = await ok("spend-request_create", {
    amount: 1500,
    merchantName: "Sandbox Outdoor",
    merchantUrl: "https://outdoor.example/cart",
    context: context(),
    lineItem: [{ name: "Shoes", quantity: 1, unit_amount: 1500 }],
    metadata: ["order:o2"],
    requestApproval: false,
  });
  assert.equal(sr.status, "created");
  assert.equal((await ok("spend-request_update", { id: sr.id, amount: 1600 })).amount, 1600);
  const [approval] = await ok("spend-request_request-approval", { id: sr.id });
  assert.equal(approval.id, sr.id);
  const got = await ok("spend-request_retrieve", { id: sr.id, interval: 0.1, timeout: 10, include: ["card"] });
  assert.equal(got.at(-1).status, "approved");
  assert.ok(got.at(-1).card.number, "the card, as asked with include");
  const [asked] = await ok("spend-request_create", { amount: 900, merchantName: "Shop", merchantUrl: "https://shop.example", context: context() });
  assert.equal(asked._next.command, `spend-request_retrieve {"id":"${asked.id}","interval":2,"maxAttempts":300}`);
  const [unpaid] = await ok("mpp_pay", { url: `${sb.merchantUrl}/api/forecast`, context: context() });
  assert.equal(unpaid._next.pay_command, `mpp_pay {"url":"${sb.merchantUrl}/api/forecast","spendRequestId":"${unpaid.id}"}`);
  const [other] = await ok("spend-request_create", { amount: 700, merchantName: "Shop", merchantUrl: "https://shop.example", context: context(), requestApproval: false });
  assert.equal((await ok("spend-request_cancel", { id: other.id })).status, "canceled");
  assert.ok((await ok("spend-request_list", { includeHistory: true })).some((x) => x.id === other.id));
  assert.equal((await ok("mpp_decode", { challenge: HDR })).network_id, "net_123");
  const paid = await ok("mpp_pay", { url: `${sb.merchantUrl}/api/forecast`, context: context(), interval: 0.1, timeout: 10 });
  assert.equal(paid.at(-1).status, 200, JSON.stringify(paid.at(-1)));
  assert.equal((await ok("shipping-address_list"))[0].address.country_code, "US");
  assert.equal(typeof (await ok("user-info_retrieve")).email, "string");
  assert.equal((await ok("report", { domain: "shop.example", outcome: "abandoned", spendRequestId: other.id, tag: ["other"] })).status, "recorded");
  // The login granted Link transactions only: no external ones.
  const txns = await ok("transactions_list", { limit: 100, source: ["csmrpd_sandbox_visa"] });
  assert.ok(txns.data.length > 0 && txns.data.every((t) => t.origin === "link" && t.source_id === "csmrpd_sandbox_visa"), JSON.stringify(txns));
  assert.equal((await ok("sources_list", { limit: 1 })).has_more, true);
  assert.equal((await ok("balances_list", { source: ["csmrpd_sandbox_checking"] })).data[0].type, "cash");
  const [upgrade] = await ok("auth_upgrade", { sourceActions: ["read_balances"] });
  assert.match(upgrade.verification_url, /^http/);
  assert.deepEqual(await ok("auth_logout"), { authenticated: false });
  assert.deepEqual([...called].sort(), tools.map((c) => c.tool).sort(), "every tool was called");

  // Bad input: isError with {code, message, fieldErrors}, and no request at all.
  const before = sb.requests().length;
  const bad = await call(client, "spend-request_create", { amount: "lots", context: "short", colour: "blue" });
  assert.equal(bad.isError, true);
  assert.equal(bad.value.code, "VALIDATION_ERROR");
  assert.deepEqual(bad.value.fieldErrors.map((f) => f.path).sort(), ["amount", "colour", "context", "merchantName", "merchantUrl"]);
  const noAuth = await call(client, "payment-methods_list");
  assert.equal(noAuth.isError, true);
  assert.equal(noAuth.value.code, "NOT_AUTHENTICATED");
  assert.match(noAuth.value.message, /the `auth_login` tool/);
  assert.equal(sb.requests().length, before);
  assertNoShellCommands();
}

describe("MCP", () => {
  test("stdio: tools from the table, every tool against the sandbox", async () => {
    const transport = new StdioClientTransport({ command: process.execPath, args: [BIN, "--mcp"], env: envFor("stdio"), stderr: "ignore" });
    const client = new Client({ name: "linkpay-test", version: "1.0.0" });
    await client.connect(transport);
    try {
      await everyTool(client);
    } finally {
      await client.close();
    }
  });

  test("HTTP: bearer token, Origin and Host checks, every tool against the sandbox", async () => {
    const child = spawn(process.execPath, [BIN, "serve", "--port", "0"], { env: envFor("http"), stdio: ["ignore", "ignore", "pipe"] });
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
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
      const init = { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } } };
      const post = (headers) => fetch(url, { method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json, text/event-stream", ...headers }, body: JSON.stringify(init) });
      assert.equal((await post({})).status, 401);
      assert.equal((await post({ Authorization: "Bearer wrong" })).status, 401);
      assert.equal((await post({ Authorization: `Bearer ${TOKEN}`, Origin: "https://evil.example" })).status, 403);
      assert.equal((await post({ Authorization: `Bearer ${TOKEN}`, Origin: new URL(url).origin })).status, 200);
      assert.equal((await fetch(new URL("/other", url), { headers: { Authorization: `Bearer ${TOKEN}` } })).status, 404);
      const foreignHost = await new Promise((resolve, reject) => {
        const req = httpRequest(url, { method: "POST", headers: { Host: "attacker.example", Authorization: `Bearer ${TOKEN}`, "Content-Type": "application/json" } }, (res) => {
          res.resume();
          resolve(res.statusCode);
        });
        req.on("error", reject);
        req.end(JSON.stringify(init));
      });
      assert.equal(foreignHost, 403);

      const client = new Client({ name: "linkpay-test", version: "1.0.0" });
      await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${TOKEN}` } } }));
      try {
        await everyTool(client);
      } finally {
        await client.close();
      }
    } finally {
      child.kill("SIGTERM");
    }
  });
});
