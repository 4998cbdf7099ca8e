// Financial insights [beta] (issue 14, link-cli.md §1.6): `transactions list`, `sources list`,
// `balances list`. The wire query is the reference's (dates renamed date_start/date_end, each
// source as sources%5B%5D, balances' sources first); the sandbox answers from seeded data with
// cursor pages and refuses a session without the `source` action a list needs; bad input is a
// VALIDATION_ERROR with field paths and sends nothing; a page of a bad shape is INVALID_RESPONSE
// in the reference's words.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { LinkClient, MemoryStorage } from "../dist/index.js";
import { startSandbox } from "../dist/sandbox/index.js";

const BIN = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "cli", "linkpay.cjs");
const run = promisify(execFile);
const ALL = ["read_balances", "read_external_transactions", "read_link_transactions", "read_source_details"];
let sb, full, bare;

before(async () => {
  sb = await startSandbox();
  full = sb.issueTokens(undefined, { sourceActions: ALL }).access_token;
  bare = sb.issueTokens().access_token;
});
after(() => sb.close());

/** A LinkClient on the sandbox whose fetch records each URL it is given. */
function client(token, urls = [], fetch = globalThis.fetch) {
  return new LinkClient({
    apiBaseUrl: sb.apiUrl,
    authBaseUrl: sb.authUrl,
    accessToken: token,
    storage: new MemoryStorage(),
    fetch: (request) => {
      urls.push(request.url);
      return fetch(request);
    },
  });
}

async function cli(token, ...args) {
  const env = { PATH: process.env.PATH, HOME: "/nonexistent", ...sb.env, ...(token ? { LINK_ACCESS_TOKEN: token } : {}) };
  const r = await run(process.execPath, [BIN, ...args, "--format", "json"], { env }).catch((e) => e);
  return { code: r.code ?? 0, out: JSON.parse(r.stdout) };
}

const apiRequests = () => sb.requests().filter((r) => !r.path.startsWith("/device"));

test("the wire query is the reference's: date_start/date_end, sources%5B%5D repeated, each list its own order", async () => {
  sb.clearRequests();
  const urls = [];
  const link = client(full, urls);
  const page = await link.transactions.list({
    limit: 2,
    startingAfter: "lbctxn_sandbox_0027",
    startDate: "2026-06-01",
    endDate: "2026-11-30",
    category: "income",
    origin: "external_connection",
    source: ["csmrpd_sandbox_checking", "csmrpd_sandbox_savings"],
  });
  await link.sources.list({ limit: 2, endingBefore: "csmrpd_sandbox_savings" });
  await link.balances.list({ source: ["csmrpd_sandbox_savings"], limit: 1 });
  await link.transactions.list();
  assert.deepEqual(urls.map((u) => u.slice(sb.apiUrl.length)), [
    "/transactions?limit=2&starting_after=lbctxn_sandbox_0027&date_start=2026-06-01&date_end=2026-11-30&category=income&origin=external_connection&sources%5B%5D=csmrpd_sandbox_checking&sources%5B%5D=csmrpd_sandbox_savings",
    "/sources?limit=2&ending_before=csmrpd_sandbox_savings",
    "/balances?sources%5B%5D=csmrpd_sandbox_savings&limit=1",
    "/transactions",
  ]);
  // What the sandbox received: never start_date/end_date, sources[] twice.
  const [first] = apiRequests();
  assert.equal(first.method, "GET");
  assert.deepEqual(first.query, {
    limit: "2",
    starting_after: "lbctxn_sandbox_0027",
    date_start: "2026-06-01",
    date_end: "2026-11-30",
    category: "income",
    origin: "external_connection",
    "sources[]": ["csmrpd_sandbox_checking", "csmrpd_sandbox_savings"],
  });
  assert.equal(first.body, null);
  assert.deepEqual(page.data.map((t) => [t.created_date, t.description]), [["2026-10-30", "Interest"], ["2026-10-15", "ACME Corp Payroll"]]);
  assert.equal(page.has_more, true);

  // The CLI's flags send the same query (--source repeated).
  sb.clearRequests();
  const r = await cli(full, "transactions", "list", "--limit", "2", "--starting-after", "lbctxn_sandbox_0027", "--start-date", "2026-06-01",
    "--end-date", "2026-11-30", "--category", "income", "--origin", "external_connection", "--source", "csmrpd_sandbox_checking", "--source", "csmrpd_sandbox_savings");
  assert.equal(r.code, 0, JSON.stringify(r.out));
  assert.deepEqual(r.out, page, "the page object, as LinkClient returns it");
  assert.deepEqual(apiRequests().map((q) => q.query), [first.query]);
});

test("pages: newest first, limit 1-100 (default 10), starting_after and ending_before walk every transaction once", async () => {
  const link = client(full);
  const first = await link.transactions.list();
  assert.equal(first.data.length, 10);
  assert.equal(first.has_more, true);
  const seen = [];
  let cursor;
  for (let i = 0; i < 10; i++) {
    const page = await link.transactions.list({ limit: 7, ...(cursor ? { startingAfter: cursor } : {}) });
    seen.push(...page.data);
    if (!page.has_more) break;
    cursor = page.data.at(-1).id;
  }
  assert.equal(seen.length, 30);
  assert.equal(new Set(seen.map((t) => t.id)).size, 30);
  const dates = seen.map((t) => t.created_date);
  assert.deepEqual(dates, [...dates].sort().reverse(), "newest first");
  assert.deepEqual(new Set(seen.map((t) => t.origin)), new Set(["link", "external_connection"]));
  assert.ok(seen.some((t) => t.category === null) && seen.some((t) => t.source_id === null));
  assert.ok(new Set(dates.map((d) => d.slice(0, 7))).size >= 6, "several months");
  // Backwards from the oldest.
  const back = await link.transactions.list({ limit: 100, endingBefore: seen.at(-1).id });
  assert.deepEqual(back.data.map((t) => t.id), seen.slice(0, -1).map((t) => t.id));
  assert.equal(back.has_more, false);
  // Balances page by source_id.
  const one = await link.balances.list({ limit: 1 });
  const next = await link.balances.list({ limit: 1, startingAfter: one.data[0].source_id });
  assert.notEqual(next.data[0].source_id, one.data[0].source_id);
  assert.equal(next.has_more, true);
  // The sandbox keeps the real rules for a client that does not check.
  const raw = await globalThis.fetch(`${sb.apiUrl}/transactions?limit=0`, { headers: { authorization: `Bearer ${full}` } });
  assert.equal(raw.status, 400);
  assert.equal((await raw.json()).error.param, "limit");
  const unknown = await globalThis.fetch(`${sb.apiUrl}/sources?starting_after=nope`, { headers: { authorization: `Bearer ${full}` } });
  assert.equal(unknown.status, 400);
});

test("scopes: each list needs its source action; a session without it is refused, with the action named", async () => {
  const link = client(bare);
  for (const [list, action] of [
    [() => link.transactions.list(), "read_link_transactions or read_external_transactions"],
    [() => link.sources.list(), "read_source_details"],
    [() => link.balances.list(), "read_balances"],
  ]) {
    const e = await list().then(() => assert.fail("refused"), (e) => e);
    assert.equal(e.code, "API_ERROR");
    assert.match(e.message, /^Failed to list (transactions|sources|balances) \(403\): This session is not authorized/);
    assert.ok(e.message.includes(action), e.message);
    assert.equal(e.details.status, 403);
    assert.equal(e.details.body.error.code, "insufficient_scope");
  }
  const r = await cli(bare, "balances", "list");
  assert.equal(r.code, 1);
  assert.equal(r.out.code, "API_ERROR");
  assert.match(r.out.message, /\(403\).*read_balances/);

  // Link transactions only: the external ones are not shown, and asking for them is refused.
  const linkOnly = client(sb.issueTokens(undefined, { sourceActions: ["read_link_transactions"] }).access_token);
  const page = await linkOnly.transactions.list({ limit: 100 });
  assert.ok(page.data.length > 0);
  assert.deepEqual(new Set(page.data.map((t) => t.origin)), new Set(["link"]));
  const e = await linkOnly.transactions.list({ origin: "external_connection" }).catch((x) => x);
  assert.equal(e.code, "API_ERROR");
  assert.match(e.message, /read_external_transactions/);
  // The sandbox control grants actions too, and refuses unknown ones.
  const control = (body) => globalThis.fetch(`${sb.url}/sandbox/tokens`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const granted = await (await control({ source_actions: ["read_balances"] })).json();
  assert.deepEqual(granted.authorization_details, [{ type: "source", actions: ["read_balances"] }]);
  assert.equal((await control({ source_actions: ["read_everything"] })).status, 400);
});

test("a device login with --source-actions grants exactly those actions", async () => {
  const link = new LinkClient({ apiBaseUrl: sb.apiUrl, authBaseUrl: sb.authUrl, storage: new MemoryStorage() });
  const pending = await link.auth.login({ clientName: "insights", sourceActions: ["read_balances", "read_source_details"] });
  sb.approveDevice(pending.phrase);
  const status = await pending.wait({ interval: 1, timeout: 30 });
  assert.equal(status.authenticated, true);
  assert.deepEqual(status.authorization_details, [{ type: "source", actions: ["read_balances", "read_source_details"] }]);
  assert.equal((await link.balances.list()).data.length, 3);
  assert.equal((await link.sources.list()).data[0].granted_actions.join(), "read_balances,read_source_details");
  const e = await link.transactions.list().catch((x) => x);
  assert.match(e.message, /\(403\)/);
});

test("bad input is a VALIDATION_ERROR with field paths and sends no request", async () => {
  sb.clearRequests();
  const r = await cli(full, "transactions", "list", "--start-date", "2026-6-1", "--end-date", "2026-06-01T00:00", "--limit", "101", "--origin", "bank");
  assert.equal(r.code, 1);
  assert.equal(r.out.code, "VALIDATION_ERROR");
  assert.deepEqual(r.out.fieldErrors, [
    { path: "limit", message: "must be at most 100" },
    { path: "startDate", message: "Date must be in YYYY-MM-DD format." },
    { path: "endDate", message: "Date must be in YYYY-MM-DD format." },
    { path: "origin", message: "must be one of: link, external_connection" },
  ]);
  const urls = [];
  const link = client(full, urls);
  for (const [call, paths] of [
    [() => link.transactions.list({ startDate: "yesterday" }), ["startDate"]],
    [() => link.sources.list({ limit: 0, startingAfter: " " }), ["limit", "startingAfter"]],
    [() => link.balances.list({ source: [""], limit: 1.5 }), ["source[0]", "limit"]],
    [() => link.sources.list({ source: ["csmrpd_sandbox_visa"] }), ["source"]],
  ]) {
    const e = await call().then(() => assert.fail("refused"), (x) => x);
    assert.equal(e.code, "VALIDATION_ERROR");
    assert.deepEqual(e.fieldErrors.map((f) => f.path), paths);
  }
  const none = await cli(undefined, "sources", "list");
  assert.equal(none.out.code, "NOT_AUTHENTICATED");
  assert.deepEqual(urls, []);
  assert.deepEqual(sb.requests(), []);
});

/** A fetch that answers every request with `body` (status 200). */
const answering = (body) => async () => new Response(typeof body === "string" ? body : JSON.stringify(body), { status: 200, headers: { "content-type": "application/json" } });
const TXN = { id: "lbctxn_1", source_id: null, amount: -979, currency: "usd", created_date: "2026-06-08", description: "Chase", origin: "external_connection", category: null, status: "succeeded" };

test("pages the client cannot read are INVALID_RESPONSE; unknown fields pass through, sanitized", async () => {
  for (const [body, why] of [
    [{ data: [{ ...TXN, amount: "979" }] }, "Expected transactions[0].amount to be a finite number"],
    [{ data: [{ ...TXN, origin: "bank" }] }, "Expected transactions[0].origin to be a transaction origin"],
    [{ data: {} }, "Expected transactions to be an array"],
    [{ data: [], has_more: "no" }, "Expected has_more to be a boolean"],
  ]) {
    const e = await client(full, [], answering(body)).transactions.list().catch((x) => x);
    assert.equal(e.code, "INVALID_RESPONSE");
    assert.equal(e.message, `Failed to list transactions (200): invalid response shape: ${why}`);
  }
  const e = await client(full, [], answering([])).balances.list().catch((x) => x);
  assert.equal(e.message, "Failed to list balances (200): invalid response shape: Expected response body to be an object");
  const odd = { object: "list", data: [{ ...TXN, description: "Chase\u001b[2J\u202e", merchant: { name: "Chase\u0007" } }], has_more: false, next_page: "x" };
  const page = await client(full, [], answering(odd)).transactions.list();
  assert.deepEqual(page, { object: "list", next_page: "x", data: [{ ...TXN, description: "Chase", merchant: { name: "Chase" } }], has_more: false });
  const bareArray = await client(full, [], answering([TXN])).transactions.list();
  assert.deepEqual(bareArray, { data: [TXN] });
});
