// Issue 14: where linkpay and link-cli 0.13.1 behaved differently on the same steps. An unknown
// command or subcommand is COMMAND_NOT_FOUND with exit 1 (it printed help and exited 0);
// `line_items` and `totals` go out in the reference schema's key order whatever the flag's order
// (link-cli-wire.md: `name:Shoes,unit_amount:1000,quantity:1` → `{name, quantity, unit_amount}`).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { startSandbox } from "../dist/sandbox/index.js";

const BIN = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "cli", "linkpay.cjs");
const run = promisify(execFile);
let sb, token;

before(async () => {
  sb = await startSandbox();
  token = sb.issueTokens().access_token;
});
after(() => sb.close());

async function cli(...args) {
  const env = { PATH: process.env.PATH, HOME: "/nonexistent", ...sb.env, LINK_ACCESS_TOKEN: token };
  const r = await run(process.execPath, [BIN, ...args, "--format", "json"], { env }).catch((e) => e);
  return { code: r.code ?? 0, out: JSON.parse(r.stdout) };
}

test("an unknown command or subcommand is COMMAND_NOT_FOUND, exit 1, with the nearest command", async () => {
  const sub = await cli("spend-request", "frobnicate");
  assert.equal(sub.code, 1);
  assert.equal(sub.out.code, "COMMAND_NOT_FOUND");
  assert.equal(sub.out.message, "'spend-request frobnicate' is not a command for 'linkpay'. Did you mean 'spend-request create'? See linkpay --help.");
  const top = await cli("frobnicate");
  assert.equal(top.code, 1);
  assert.equal(top.out.code, "COMMAND_NOT_FOUND");
  const typo = await cli("spend-request", "retreive", "lsrq_1");
  assert.match(typo.out.message, /Did you mean 'spend-request retrieve'\?/);
});

test("line items and totals go out in the reference's key order, not the flag's", async () => {
  sb.clearRequests();
  const r = await cli(
    "spend-request", "create", "--amount", "1000", "-m", "Example Store", "--merchant-url", "https://shop.example",
    "--context", "Buying one pair of blue running shoes, size 42, from Example Store for the user, who asked for them in chat.",
    "--line-item", "unit_amount:1000,quantity:1,name:Shoes", "--total", "amount:1000,display_text:Total,type:total", "--no-request-approval",
  );
  assert.equal(r.code, 0, JSON.stringify(r.out));
  const create = sb.requests().find((q) => q.method === "POST" && q.path.endsWith("/spend_requests"));
  const body = create.body;
  assert.ok(body.includes('"line_items":[{"name":"Shoes","quantity":1,"unit_amount":1000}]'), body);
  assert.ok(body.includes('"totals":[{"type":"total","display_text":"Total","amount":1000}]'), body);
});

test("shipping-address list and user-info retrieve: the wallet's data, in the CLI, MCP-named and typed in LinkClient", async () => {
  const { LinkClient, MemoryStorage } = await import("../dist/index.js");
  sb.clearRequests();
  const link = new LinkClient({ apiBaseUrl: sb.apiUrl, authBaseUrl: sb.authUrl, accessToken: token, storage: new MemoryStorage() });
  const addresses = await link.shippingAddresses.list();
  assert.equal(addresses[0].address.line_1, "510 Townsend St");
  assert.equal(addresses[0].address.line_2, null, "nulls kept");
  const me = await link.userInfo.retrieve();
  assert.deepEqual(Object.keys(me).slice(0, 5), ["email", "name", "first_name", "last_name", "phone"]);
  assert.deepEqual(await link.run("user-info_retrieve"), me);
  assert.deepEqual(
    sb.requests().map((r) => `${r.method} ${r.path}`),
    ["GET /shipping_addresses", "GET /userinfo", "GET /userinfo"].map((p) => p.replace(" /", ` ${new URL(sb.apiUrl).pathname.replace(/\/$/, "")}/`)),
  );
});

test("bad input or no session: a stable error and no request", async () => {
  sb.clearRequests();
  const bad = await cli("user-info", "retrieve", "--limit", "3");
  assert.equal(bad.out.code, "VALIDATION_ERROR");
  assert.deepEqual(bad.out.fieldErrors.map((f) => f.path), ["limit"]);
  const env = { PATH: process.env.PATH, HOME: "/nonexistent", ...sb.env };
  const r = await run(process.execPath, [BIN, "shipping-address", "list", "--format", "json"], { env }).catch((e) => e);
  assert.equal(r.code, 1);
  assert.equal(JSON.parse(r.stdout).code, "NOT_AUTHENTICATED");
  assert.equal(sb.requests().length, 0);
});

test("report: POST /agent_observations with the reference's body; bad input sends nothing", async () => {
  const { LinkClient, MemoryStorage } = await import("../dist/index.js");
  const link = new LinkClient({ apiBaseUrl: sb.apiUrl, authBaseUrl: sb.authUrl, accessToken: token, storage: new MemoryStorage() });
  const sr = await link.spendRequests.create({ amount: 900, merchant_name: "Report Shop", merchant_url: "https://report.example", context: "The person asked for this purchase in our conversation; the report test files what happened at the checkout afterwards." });
  sb.clearRequests();
  const r = await cli("report", "--tag", "captcha", "--spend-request-id", sr.id, "--outcome", "abandoned", "--domain", "report.example", "--freeform-context", "gave up");
  assert.equal(r.code, 0, JSON.stringify(r.out));
  assert.equal(r.out.status, "recorded");
  const sent = sb.requests().filter((q) => q.method === "POST");
  assert.equal(sent.length, 1);
  assert.ok(sent[0].path.endsWith("/agent_observations"), sent[0].path);
  assert.equal(sent[0].body, JSON.stringify({ domain: "report.example", outcome: "abandoned", spend_request_id: sr.id, tags: ["captcha"], freeform_context: "gave up" }));
  sb.clearRequests();
  const bad = await cli("report", "--domain", "x.example", "--outcome", "won", "--spend-request-id", sr.id);
  assert.deepEqual(bad.out.fieldErrors.map((f) => f.path), ["outcome"]);
  assert.equal(sb.requests().length, 0);
  const typed = await link.report({ domain: "report.example", outcome: "success", spend_request_id: sr.id, tags: ["other"] });
  assert.equal(typed.outcome, "success");
});

test("error details reach the agent in CLI and MCP output: a duplicate create names the existing request", async () => {
  const args = ["spend-request", "create", "--amount", "1100", "-m", "Twice Shop", "--merchant-url", "https://twice.example", "--context", "The person asked for this purchase in our conversation; the details test creates it twice to see the duplicate answer's details."];
  const first = await cli(...args);
  assert.equal(first.code, 0, JSON.stringify(first.out));
  const again = await cli(...args);
  assert.equal(again.code, 1);
  assert.equal(again.out.code, "spend_request_rate_limited");
  const id = (Array.isArray(first.out) ? first.out[0] : first.out).id;
  assert.equal(again.out.details.duplicate_spend_request.id, id, JSON.stringify(again.out));
});

test("auth upgrade: a device login for the merged access; the old session works until the new one is approved, then is revoked", async () => {
  const { mkdtempSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const file = join(mkdtempSync(join(tmpdir(), "linkpay-upgrade-")), "auth.json");
  const env = { PATH: process.env.PATH, HOME: "/nonexistent", ...sb.env, LINK_AUTH_FILE: file };
  const run2 = (...args) => run(process.execPath, [BIN, ...args, "--format", "json"], { env }).then((r) => ({ code: 0, out: JSON.parse(r.stdout), stderr: r.stderr }), (e) => ({ code: e.code, out: JSON.parse(e.stdout), stderr: e.stderr }));
  const login = await run2("auth", "login");
  sb.approveDevice(login.out[0].phrase);
  assert.equal((await run2("auth", "status")).out.at(-1).authenticated, true);

  sb.clearRequests();
  const up = await run2("auth", "upgrade", "--source-actions", "read_balances", "--scope", "userinfo:read");
  assert.equal(up.code, 0, JSON.stringify(up.out));
  assert.equal(up.out[0].warning, undefined);
  assert.equal(up.stderr, "");
  const form = new URLSearchParams(sb.requests().find((r) => r.path.endsWith("/device/code")).body);
  assert.equal(form.get("scope"), "userinfo:read payment_methods.agentic", "requested first, then the session's");
  assert.equal(form.get("authorization_details[][type]"), "source");
  assert.deepEqual(form.getAll("authorization_details[][actions][]"), ["read_balances"]);
  assert.ok(!sb.requests().some((r) => r.path.endsWith("/device/revoke")), "not revoked up front");
  assert.equal((await run2("payment-methods", "list")).code, 0, "the current session still works");

  sb.approveDevice(up.out[0].phrase);
  const done = await run2("auth", "status");
  assert.equal(done.out.at(-1).authenticated, true);
  assert.ok(sb.requests().some((r) => r.path.endsWith("/device/revoke")), "the old session is revoked once the new one is approved");

  const fresh = { ...env, LINK_AUTH_FILE: `${file}.none` };
  const lone = await run(process.execPath, [BIN, "auth", "upgrade", "--format", "json"], { env: fresh });
  assert.equal(JSON.parse(lone.stdout)[0].warning, "warning: no active session to upgrade; continuing with only the requested access.");
  assert.match(lone.stderr, /no active session to upgrade/);
});

test("LinkClient.auth.upgrade: the pending upgrade, then wait() for the superset session", async () => {
  const { LinkClient, MemoryStorage } = await import("../dist/index.js");
  const link = new LinkClient({ apiBaseUrl: sb.apiUrl, authBaseUrl: sb.authUrl, storage: new MemoryStorage() });
  const start = await link.auth.login({ clientName: "upgrade" });
  sb.approveDevice(start.phrase);
  await start.wait({ interval: 0.1, timeout: 10 });
  const up = await link.auth.upgrade({ sourceActions: ["read_balances"] });
  assert.equal(up.warning, undefined);
  sb.approveDevice(up.phrase);
  const status = await up.wait({ interval: 0.1, timeout: 10 });
  assert.equal(status.authenticated, true);
  assert.ok(JSON.stringify(status.authorization_details ?? []).includes("read_balances"), JSON.stringify(status));
});
