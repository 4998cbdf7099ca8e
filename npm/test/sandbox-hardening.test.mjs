// The sandbox under hostile callers (issue 17, the sandbox's part), each against a started
// sandbox: the request log keeps no secret and stays bounded; only the pages themselves can post
// their decisions; create_delegated needs an explicit option; the approval and device pages show
// sanitized text and say what they removed; with a data file a 200 is on disk (507 when it cannot
// be) and survives SIGKILL; every answer carries `X-Content-Type-Options: nosniff`.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as linkpay from "../dist/index.js";
import { startSandbox } from "../dist/sandbox/index.js";

const CLIENT_ID = linkpay.authClientId;
const GRANT_DEVICE = "urn:ietf:params:oauth:grant-type:device_code";
const HERE = dirname(fileURLToPath(import.meta.url));
const MAIN = join(HERE, "..", "dist", "sandbox", "main.js");
const BIN = join(HERE, "..", "dist", "cli", "linkpay.cjs");

async function withSandbox(opts, fn) {
  const sb = await startSandbox(opts);
  try {
    return await fn(sb);
  } finally {
    await sb.close().catch(() => undefined);
  }
}

/**
 * One HTTP request with exactly these headers (node:http, so `Origin` and `Sec-Fetch-Site` go
 * out as a browser would send them). Resolves `{status, headers, text, json}`.
 */
function call(base, method, path, { token, body, form, headers = {} } = {}) {
  const h = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  let payload;
  if (form !== undefined) {
    h["content-type"] = "application/x-www-form-urlencoded";
    payload = new URLSearchParams(form).toString();
  } else if (body !== undefined) {
    h["content-type"] ??= "application/json";
    payload = typeof body === "string" || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  }
  if (payload !== undefined) h["content-length"] = Buffer.byteLength(payload);
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(path, base), { method, headers: h }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let json;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
    });
    req.on("error", reject);
    req.end(payload);
  });
}

let seq = 0;
const context = (tag = "") => `Buying item ${++seq} ${tag} for the user, who asked for it in this conversation; the total matches the cart shown at checkout.`.padEnd(110, ".");
const cardBody = (over = {}) => ({
  credential_type: "card",
  amount: 12_900,
  currency: "usd",
  merchant_name: "Sandbox Outfitters",
  merchant_url: "https://shop.example",
  context: context(),
  request_approval: true,
  ...over,
});
const tokenOf = (sb) => sb.issueTokens(undefined, { expiresIn: 86_400 }).access_token;
const pageToken = (html) => /name="page_token" value="([^"]+)"/.exec(html)?.[1];

/** The Luhn check digit, to build card-like numbers the log must catch. */
function luhn(payload) {
  let sum = 0;
  for (let i = 0; i < payload.length; i++) {
    let d = Number(payload[payload.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return payload + String((10 - (sum % 10)) % 10);
}

// ----- 1. the request log ----------------------------------------------------------------------

describe("the request log", () => {
  test("keeps no card number, CVC, token or device code: by key and by value", () =>
    withSandbox({}, async (sb) => {
      // A device login: the device code goes out in the poll, tokens come back.
      const code = (await call(sb.url, "POST", "/device/code", { form: { client_id: CLIENT_ID } })).json;
      sb.approveDevice(code.user_code);
      const tokens = (await call(sb.url, "POST", "/device/token", { form: { grant_type: GRANT_DEVICE, device_code: code.device_code, client_id: CLIENT_ID } })).json;
      assert.ok(tokens.refresh_token);
      const refreshed = (await call(sb.url, "POST", "/device/token", { form: { grant_type: "refresh_token", refresh_token: tokens.refresh_token, client_id: CLIENT_ID } })).json;
      const token = refreshed.access_token;

      // A card, paid at the demo checkout (form) and offered to the JSON charge API.
      const sr = (await call(sb.url, "POST", "/spend_requests", { token, body: cardBody() })).json;
      sb.approve(sr.id);
      const card = (await call(sb.url, "GET", `/spend_requests/${sr.id}?include=card`, { token })).json.card;
      assert.match(card.number, /^\d{16}$/);
      const spaced = card.number.replace(/(\d{4})(?=\d)/g, "$1 ");
      const exp = `${String(card.exp_month).padStart(2, "0")}/${String(card.exp_year).slice(2)}`;
      const paid = await call(sb.url, "POST", "/merchant/checkout", {
        form: { item: "Trail running jacket", amount: "12900", currency: "usd", cardholder: "Jenny Rosen", cardnumber: spaced, exp, cvc: card.cvc, postal: "94107" },
      });
      assert.equal(paid.status, 200, paid.text);
      await call(sb.url, "POST", "/merchant/api/charge", { body: { number: card.number, exp_month: card.exp_month, exp_year: card.exp_year, cvc: card.cvc, amount: 100 } });
      // Secrets under keys the log does not know, in free text, in a query, in a header.
      const stray = luhn("424242424242424");
      const spt = "spt_1QabcdefGHIJKLmnop";
      await call(sb.url, "POST", "/nowhere", { body: { note: `card ${stray.replace(/(\d{4})(?=\d)/g, "$1-")} and ${spt}`, deep: [{ cc: card.number }] } });
      await call(sb.url, "GET", `/nowhere?q=${card.number}&token=${tokens.access_token}`, { headers: { "x-note": `pay with ${card.number}` } });
      await call(sb.url, "POST", "/nowhere", { body: `plain text ${card.number} ${tokens.refresh_token}`, headers: { "content-type": "text/plain" } });

      const log = await call(sb.url, "GET", "/sandbox/requests");
      assert.equal(log.status, 200);
      const text = log.text;
      for (const [what, secret] of [
        ["card number", card.number],
        ["card number with spaces", spaced],
        ["form-encoded card number", encodeURIComponent(spaced)],
        ["form-encoded card number (+)", spaced.replace(/ /g, "+")],
        ["stray card number", stray],
        ["SPT", spt],
        ["device code", code.device_code],
        ["refresh token", tokens.refresh_token],
        ["rotated refresh token", refreshed.refresh_token],
        ["access token", tokens.access_token],
        ["access token (refreshed)", token],
      ]) {
        assert.ok(!text.includes(secret), `${what} in /sandbox/requests`);
      }
      const entries = log.json.data;
      const checkout = entries.find((e) => e.path === "/merchant/checkout");
      const fields = new URLSearchParams(checkout.body);
      assert.equal(fields.get("cardnumber"), "<redacted>");
      assert.equal(fields.get("cvc"), "<redacted>");
      assert.equal(fields.get("cardholder"), "Jenny Rosen", "what is not a secret stays readable");
      const charge = JSON.parse(entries.find((e) => e.path === "/merchant/api/charge").body);
      assert.equal(charge.number, "<redacted>");
      assert.equal(charge.cvc, "<redacted>");
      assert.equal(charge.exp_month, card.exp_month);
      const note = JSON.parse(entries.find((e) => e.path === "/nowhere" && e.method === "POST").body);
      assert.equal(note.note, "card <redacted> and spt_<redacted>");
      assert.equal(note.deep[0].cc, "<redacted>");
      const query = entries.find((e) => e.path === "/nowhere" && e.method === "GET");
      assert.deepEqual(query.query, { q: "<redacted>", token: "<redacted>" });
      assert.equal(query.headers["x-note"], "pay with <redacted>");
      const poll = entries.find((e) => e.path === "/device/token");
      assert.match(poll.body, /&device_code=<redacted>&/);
    }));

  test("1 MiB POSTs: each entry keeps 4 KiB (marked truncated), the log a bounded count and size", () =>
    withSandbox({ requestLogLimit: 40 }, async (sb) => {
      const big = "x".repeat(1024 * 1024 - 10);
      for (let i = 0; i < 120; i++) {
        const res = await call(sb.url, "POST", `/spam/${i}`, { body: `{"n":${i},"s":"${big}"}`.slice(0, 1024 * 1024) });
        assert.equal(res.status, 404);
      }
      const entries = sb.requests();
      assert.ok(entries.length <= 80, `${entries.length} entries kept (limit 40, dropped in batches)`);
      assert.equal(entries.at(-1).path, "/spam/119", "the newest are kept");
      for (const e of entries) {
        assert.ok(e.body.length <= 4096, `a body of ${e.body.length} characters`);
        assert.equal(e.body_truncated, true);
        assert.equal(e.body_bytes, 1024 * 1024);
      }
      const served = await call(sb.url, "GET", "/sandbox/requests");
      assert.ok(served.text.length < 80 * 6 * 1024, `the log is ${served.text.length} bytes`);
    }));

  test("the byte budget drops the oldest entries too; small bodies are kept whole", () =>
    withSandbox({ requestLogBytes: 64 * 1024 }, async (sb) => {
      for (let i = 0; i < 100; i++) await call(sb.url, "POST", `/spam/${i}`, { body: "y".repeat(100_000) });
      const entries = sb.requests();
      const kept = JSON.stringify(entries).length;
      assert.ok(kept <= 96 * 1024, `${kept} bytes kept for a 64 KiB budget`);
      assert.ok(entries.length >= 5 && entries.at(-1).path === "/spam/99");
      await call(sb.url, "POST", "/small", { body: { hello: "world" } });
      const small = sb.requests().at(-1);
      assert.equal(small.body, '{"hello":"world"}');
      assert.equal(small.body_truncated, undefined);
    }));
});

// ----- 2. only the pages post their decisions ----------------------------------------------------

describe("cross-site posts", () => {
  test("POST /approve/{id} needs the page's token and a same-origin browser; without, 403 and nothing changes", () =>
    withSandbox({}, async (sb) => {
      const token = tokenOf(sb);
      const sr = (await call(sb.url, "POST", "/spend_requests", { token, body: cardBody() })).json;
      const other = (await call(sb.url, "POST", "/spend_requests", { token, body: cardBody() })).json;
      const page = await call(sb.url, "GET", `/approve/${sr.id}`);
      const mine = pageToken(page.text);
      const theirs = pageToken((await call(sb.url, "GET", `/approve/${other.id}`)).text);
      assert.ok(mine && theirs && mine !== theirs, "one token per request");
      const own = sb.url;
      const refused = [
        ["no token (a cross-site form post)", { action: "approve" }, { origin: "https://evil.example", "sec-fetch-site": "cross-site" }],
        ["no token, no browser headers", { action: "approve" }, {}],
        ["another request's token", { action: "approve", page_token: theirs }, {}],
        ["a forged token", { action: "approve", page_token: "x".repeat(43) }, {}],
        ["the right token from another site", { action: "approve", page_token: mine }, { origin: "https://evil.example" }],
        ["the right token, Sec-Fetch-Site cross-site", { action: "approve", page_token: mine }, { origin: "null", "sec-fetch-site": "cross-site" }],
        ["the right token, same-site but not same-origin", { action: "approve", page_token: mine }, { "sec-fetch-site": "same-site" }],
      ];
      for (const [what, form, headers] of refused) {
        const res = await call(sb.url, "POST", `/approve/${sr.id}`, { form, headers });
        assert.equal(res.status, 403, what);
        assert.match(res.text, /did not come from this page/);
        assert.equal((await call(sb.url, "GET", `/spend_requests/${sr.id}`, { token })).json.status, "pending_approval", what);
      }
      // What the page itself sends (Chromium: Origin null under no-referrer, Sec-Fetch-Site same-origin).
      const ok = await call(sb.url, "POST", `/approve/${sr.id}`, { form: { action: "approve", page_token: mine }, headers: { origin: "null", "sec-fetch-site": "same-origin" } });
      assert.equal(ok.status, 303);
      assert.equal((await call(sb.url, "GET", `/spend_requests/${sr.id}`, { token })).json.status, "approved");
      // An Origin that is this sandbox's is fine too.
      const deny = await call(sb.url, "POST", `/approve/${other.id}`, { form: { action: "deny", page_token: theirs }, headers: { origin: own } });
      assert.equal(deny.status, 303);
      assert.equal((await call(sb.url, "GET", `/spend_requests/${other.id}`, { token })).json.status, "denied");
    }));

  test("POST /device needs the page's token; without, 403 and the login stays pending", () =>
    withSandbox({}, async (sb) => {
      const code = (await call(sb.url, "POST", "/device/code", { form: { client_id: CLIENT_ID } })).json;
      const poll = () => call(sb.url, "POST", "/device/token", { form: { grant_type: GRANT_DEVICE, device_code: code.device_code, client_id: CLIENT_ID } });
      const form = { code: code.user_code, confirm: "yes", action: "approve" };
      let res = await call(sb.url, "POST", "/device", { form, headers: { origin: "https://evil.example", "sec-fetch-site": "cross-site" } });
      assert.equal(res.status, 403);
      res = await call(sb.url, "POST", "/device", { form });
      assert.equal(res.status, 403);
      assert.equal((await poll()).json.error, "authorization_pending");
      sb.advanceClock(2000);
      const token = pageToken((await call(sb.url, "GET", `/device?code=${code.user_code}`)).text);
      res = await call(sb.url, "POST", "/device", { form: { ...form, page_token: token }, headers: { origin: "https://evil.example" } });
      assert.equal(res.status, 403, "the right token from another site");
      res = await call(sb.url, "POST", "/device", { form: { ...form, page_token: token }, headers: { origin: "null", "sec-fetch-site": "same-origin" } });
      assert.equal(res.status, 200, res.text);
      assert.match(res.text, /Approved/);
      assert.ok((await poll()).json.access_token);
    }));

  test("the controls refuse state changes from other sites' pages, not from loopback or non-browsers", () =>
    withSandbox({}, async (sb) => {
      const token = tokenOf(sb);
      const sr = (await call(sb.url, "POST", "/spend_requests", { token, body: cardBody() })).json;
      for (const headers of [{ origin: "https://evil.example" }, { origin: "null", "sec-fetch-site": "cross-site" }, { "sec-fetch-site": "same-site" }]) {
        const res = await call(sb.url, "POST", `/sandbox/spend_requests/${sr.id}/approve`, { body: "{}", headers: { ...headers, "content-type": "text/plain" } });
        assert.equal(res.status, 403, JSON.stringify(headers));
        assert.equal(res.json.error.code, "cross_site_request");
      }
      assert.equal((await call(sb.url, "GET", `/spend_requests/${sr.id}`, { token })).json.status, "pending_approval");
      assert.equal((await call(sb.url, "POST", `/sandbox/spend_requests/${sr.id}/approve`, { headers: { origin: "http://localhost:5173" } })).status, 200);
      assert.equal((await call(sb.url, "GET", "/sandbox/requests", { headers: { origin: "https://evil.example" } })).status, 200, "reads are not refused (CORS keeps them from the page)");
    }));
});

// ----- 3. create_delegated ---------------------------------------------------------------------

describe("create_delegated", () => {
  test("refused with 403 unless the sandbox allows it; nothing is created", () =>
    withSandbox({}, async (sb) => {
      const token = tokenOf(sb);
      const res = await call(sb.url, "POST", "/spend_requests/create_delegated", { token, body: cardBody({ request_approval: undefined }) });
      assert.equal(res.status, 403);
      assert.equal(res.json.error.code, "delegated_creation_not_allowed");
      assert.match(res.json.error.message, /not allowed to create pre-approved spend requests/);
      assert.deepEqual((await call(sb.url, "GET", "/spend_requests?include_history=true", { token })).json.data, []);
      assert.equal((await call(sb.url, "GET", "/sandbox")).json.auto_approve, false);
    }));

  test("`spend-request create --approve`: an error against a default sandbox, approved with allowDelegated", async () => {
    const dir = mkdtempSync(join(tmpdir(), "linkpay-delegated-"));
    const run = (sb, args) =>
      new Promise((resolve) => {
        const env = { PATH: process.env.PATH, HOME: dir, LINK_AUTH_FILE: join(dir, "auth.json"), LINK_ACCESS_TOKEN: tokenOf(sb), ...sb.env };
        execFile(process.execPath, [BIN, ...args, "--format", "json"], { env, timeout: 60_000 }, (err, stdout, stderr) => resolve({ code: err ? err.code : 0, stdout, stderr }));
      });
    const args = ["spend-request", "create", "--amount", "1000", "--merchant-name", "Example Store", "--merchant-url", "https://shop.example", "--context", context("cli"), "--approve"];
    try {
      await withSandbox({}, async (sb) => {
        const r = await run(sb, args);
        assert.equal(r.code, 1, r.stdout + r.stderr);
        assert.match(r.stdout + r.stderr, /not allowed to create pre-approved spend requests/);
        assert.equal(sb.requests().filter((e) => e.path === "/spend_requests/create_delegated").map((e) => e.status).join(), "403");
      });
      await withSandbox({ allowDelegated: true }, async (sb) => {
        const r = await run(sb, args);
        assert.equal(r.code, 0, r.stdout + r.stderr);
        assert.equal([JSON.parse(r.stdout)].flat()[0].status, "approved");
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("`linkpay sandbox --allow-delegated` (the command table's option) allows it", async () => {
    const child = spawn(process.execPath, [BIN, "sandbox", "--port", "0", "--allow-delegated"], { env: { PATH: process.env.PATH }, stdio: ["ignore", "pipe", "pipe"] });
    try {
      const url = await listening(child);
      const token = (await call(url, "POST", "/sandbox/tokens", { body: {} })).json.access_token;
      const res = await call(url, "POST", "/spend_requests/create_delegated", { token, body: cardBody() });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json.status, "approved");
    } finally {
      child.kill("SIGKILL");
    }
  });
});

// ----- 4. what the pages show --------------------------------------------------------------------

describe("page text", () => {
  test("the approval page shows sanitized text and says how many characters it removed", () =>
    withSandbox({}, async (sb) => {
      const token = tokenOf(sb);
      const body = cardBody({
        merchant_name: "Shop \u202Elapyap\u202C",
        merchant_url: "https://shop.example/\u200Bcart",
        context: `${context()} Pay\u0000 now\u2066!\u2069 \u001b[31mred\u001b[0m`,
        line_items: [{ name: "Jacket\u202E", quantity: 1, unit_amount: 12_900 }],
        totals: [{ type: "total", display_text: "To\u200Dtal", amount: 12_900 }],
      });
      const sr = (await call(sb.url, "POST", "/spend_requests", { token, body })).json;
      assert.equal(sr.merchant_name, "Shop \u202Elapyap\u202C", "the API keeps what the agent sent");
      const html = (await call(sb.url, "GET", `/approve/${sr.id}`)).text;
      for (const ch of ["\u202E", "\u202C", "\u200B", "\u0000", "\u2066", "\u2069", "\u001b", "\u200D"]) {
        assert.ok(!html.includes(ch), `U+${ch.codePointAt(0).toString(16).padStart(4, "0")} reached the page`);
      }
      assert.match(html, /<strong id="merchant">Shop lapyap <span class="removed">\(2 hidden characters removed\)<\/span><\/strong>/);
      assert.match(html, /id="merchant-url">https:\/\/shop\.example\/cart <span class="removed">\(1 hidden character removed\)<\/span>/);
      assert.match(html, /Pay now!.*red <span class="removed">\(\d+ hidden characters removed\)<\/span><\/div>/s);
      assert.match(html, /Jacket <span class="removed">\(1 hidden character removed\)<\/span>/);
      assert.match(html, /Total <span class="removed">\(1 hidden character removed\)<\/span>/);
      // Clean text gets no note.
      const plain = (await call(sb.url, "POST", "/spend_requests", { token, body: cardBody() })).json;
      assert.ok(!(await call(sb.url, "GET", `/approve/${plain.id}`)).text.includes("hidden character"));
    }));

  test("the device page too (client name, connection label)", () =>
    withSandbox({}, async (sb) => {
      const code = (await call(sb.url, "POST", "/device/code", { form: { client_id: CLIENT_ID, client_hint: "Good\u202Eppa liveE", connection_label: "laptop\u0000" } })).json;
      const html = (await call(sb.url, "GET", `/device?code=${code.user_code}`)).text;
      assert.ok(!html.includes("\u202E") && !html.includes("\u0000"));
      assert.match(html, /<span id="client">Goodppa liveE <span class="removed">\(1 hidden character removed\)<\/span><\/span>/);
      assert.match(html, /<span id="connection">laptop <span class="removed">\(1 hidden character removed\)<\/span><\/span>/);
    }));
});

// ----- 5. persistence ----------------------------------------------------------------------------

/** Resolves the URL a spawned sandbox prints. */
function listening(child) {
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    child.stdout.on("data", (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once("exit", (code) => reject(new Error(`sandbox exited ${code}: ${out}${err}`)));
  });
}

describe("persistence", () => {
  test("a write that cannot be saved is 507 and does not happen; the next one is saved", async () => {
    const dir = mkdtempSync(join(tmpdir(), "linkpay-507-"));
    const stateDir = join(dir, "state");
    const file = join(stateDir, "sandbox.json");
    const errors = [];
    try {
      let sb = await startSandbox({ dataFile: file, onError: (m) => errors.push(m) });
      const token = tokenOf(sb);
      const kept = (await call(sb.url, "POST", "/spend_requests", { token, body: cardBody() })).json;
      await sb.flush();
      // A file where the directory was: every write fails (also as root, where modes do not).
      rmSync(stateDir, { recursive: true, force: true });
      writeFileSync(stateDir, "not a directory");
      const res = await call(sb.url, "POST", "/spend_requests", { token, body: cardBody() });
      assert.equal(res.status, 507, res.text);
      assert.equal(res.json.error.code, "insufficient_storage");
      assert.match(res.json.error.message, /nothing was changed/);
      assert.equal(res.headers["x-content-type-options"], "nosniff");
      const list = (await call(sb.url, "GET", "/spend_requests", { token })).json.data;
      assert.deepEqual(list.map((s) => s.id), [kept.id], "the refused write is not there");
      // A page's decision: 507 as a page, and still pending.
      const approve = await call(sb.url, "POST", `/approve/${kept.id}`, { form: { action: "approve", page_token: pageToken((await call(sb.url, "GET", `/approve/${kept.id}`)).text) } });
      assert.equal(approve.status, 507);
      assert.match(approve.headers["content-type"], /^text\/html/);
      assert.equal((await call(sb.url, "GET", `/spend_requests/${kept.id}`, { token })).json.status, "pending_approval");
      assert.ok(errors.some((m) => m.includes("could not save")), "the failure is reported");

      // The disk is back: the next write is saved, and a restart shows exactly what was answered 200.
      rmSync(stateDir, { force: true });
      const later = await call(sb.url, "POST", "/spend_requests", { token, body: cardBody() });
      assert.equal(later.status, 200, later.text);
      await sb.close();
      sb = await startSandbox({ dataFile: file });
      try {
        const ids = (await call(sb.url, "GET", "/spend_requests", { token })).json.data.map((s) => s.id).sort();
        assert.deepEqual(ids, [kept.id, later.json.id].sort());
      } finally {
        await sb.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a data file that cannot be written at start is an error, not a sandbox that loses writes", async () => {
    const dir = mkdtempSync(join(tmpdir(), "linkpay-507-"));
    try {
      // The file does not exist yet (a fresh start), but its first temp file cannot be created:
      // a directory holds the name.
      const file = join(dir, "sandbox.json");
      mkdirSync(`${file}.${process.pid}.1.tmp`);
      await assert.rejects(startSandbox({ dataFile: file, onError: () => undefined }), /could not save/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("kill -9 right after a 200: the restarted sandbox has the write (and no temp file is left)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "linkpay-kill-"));
    const file = join(dir, "sandbox.json");
    const start = () => spawn(process.execPath, [MAIN, "--port", "0", "--data", file], { stdio: ["ignore", "pipe", "pipe"] });
    try {
      let child = start();
      let url = await listening(child);
      const token = (await call(url, "POST", "/sandbox/tokens", { body: { expires_in: 86_400 } })).json.access_token;
      const ids = [];
      for (let round = 0; round < 3; round++) {
        // A few writes in parallel (they share saves), then SIGKILL the moment the last answer is in.
        const answers = await Promise.all([0, 1, 2].map(() => call(url, "POST", "/spend_requests", { token, body: cardBody({ amount: 1000 }) })));
        child.kill("SIGKILL");
        for (const a of answers) {
          assert.equal(a.status, 200, a.text);
          ids.push(a.json.id);
        }
        await new Promise((resolve) => child.once("exit", resolve));
        child = start();
        url = await listening(child);
        const list = await call(url, "GET", "/spend_requests", { token });
        assert.equal(list.status, 200, "the access token issued with a 200 was lost");
        const seen = list.json.data.map((s) => s.id);
        for (const id of ids) assert.ok(seen.includes(id), `${id} was answered 200 and lost`);
      }
      // A start clears temp files an earlier process may have left (they hold cards and tokens).
      writeFileSync(`${file}.999999.1.tmp`, "{}");
      child.kill("SIGKILL");
      await new Promise((resolve) => child.once("exit", resolve));
      child = start();
      url = await listening(child);
      assert.deepEqual(readdirSync(dir).filter((n) => n.endsWith(".tmp")), []);
      child.kill("SIGKILL");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// ----- 6. nosniff ----------------------------------------------------------------------------------

describe("X-Content-Type-Options", () => {
  test("nosniff on every kind of answer", () =>
    withSandbox({}, async (sb) => {
      const token = tokenOf(sb);
      const sr = (await call(sb.url, "POST", "/spend_requests", { token, body: cardBody() })).json;
      const answers = [
        await call(sb.url, "GET", "/"),
        await call(sb.url, "GET", "/payment-details", { token }),
        await call(sb.url, "GET", "/payment-details"),
        await call(sb.url, "GET", "/nowhere"),
        await call(sb.url, "GET", `/approve/${sr.id}`),
        await call(sb.url, "POST", `/approve/${sr.id}`, { form: { action: "approve" } }),
        await call(sb.url, "GET", "/device"),
        await call(sb.url, "POST", "/device/token", { form: { client_id: CLIENT_ID } }),
        await call(sb.url, "GET", "/merchant/checkout"),
        await call(sb.url, "GET", "/merchant/api/forecast"),
        await call(sb.url, "GET", "/sandbox/requests"),
        await call(sb.url, "OPTIONS", "/spend_requests", { headers: { origin: "http://localhost:1", "access-control-request-method": "POST" } }),
        await call(sb.url, "POST", "/nowhere", { body: "z".repeat((1 << 20) + 1) }),
      ];
      const statuses = new Set(answers.map((a) => a.status));
      for (const s of [200, 204, 401, 402, 403, 404, 413]) assert.ok(statuses.has(s), `a ${s} was checked`);
      for (const a of answers) assert.equal(a.headers["x-content-type-options"], "nosniff", `status ${a.status}`);
    }));
});
