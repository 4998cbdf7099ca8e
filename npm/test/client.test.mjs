// LinkClient (the Rust driver in wasm, with Node hosts) against a real sandbox over loopback
// HTTP: login, payment methods, the card and SPT flows, denial, expiry, 3-D Secure auto_resume,
// duplicates, the 401 refresh, a sandbox restart in the middle of a poll, a corrupt credential
// file, the exact requests on the wire, and no secret in any log or console output.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync, statSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LinkClient, FileStorage, MemoryStorage, version } from "../dist/index.js";
import { startSandbox } from "../dist/sandbox/index.js";

const FAST = { interval: 0.05, timeout: 10 };
let seq = 0;
const context = (tag = "") =>
  `Buying item ${++seq} ${tag} for the person, who picked it in this conversation; the total matches the cart at checkout.`.padEnd(110, ".");
const cardInput = (over = {}) => ({
  amount: 1299,
  merchant_name: "Sandbox Outdoor",
  merchant_url: "https://outdoor.example/cart",
  context: context("card"),
  line_items: ["name:Trail shoes,quantity:1,unit_amount:1299"],
  ...over,
});

/** Every log line and console write of the run, to search for secrets at the end. */
const captured = [];
const originalConsole = { log: console.log, error: console.error, warn: console.warn, info: console.info };
before(() => {
  for (const k of Object.keys(originalConsole)) {
    console[k] = (...args) => {
      captured.push(args.map(String).join(" "));
      originalConsole[k](...args);
    };
  }
});
after(() => Object.assign(console, originalConsole));
const logger = (line) => captured.push(line);
/** Secrets seen during the run: none of them may appear in `captured`. */
const secrets = new Set();
const remember = (value) => {
  if (typeof value === "string" && value.length >= 8) secrets.add(value);
};
/** CVCs are 3 digits, so they are searched as a value next to a cvc key, not as bare text. */
const cvcs = new Set();

async function sandbox(opts = {}) {
  return startSandbox({ onError: (m) => captured.push(m), ...opts });
}

function client(sb, opts = {}) {
  return new LinkClient({ apiBaseUrl: sb.apiUrl, authBaseUrl: sb.authUrl, storage: new MemoryStorage(), logger, hostname: "testhost", ...opts });
}

/** A client logged in through the device flow, approved on the sandbox. */
async function loggedIn(sb, opts = {}) {
  const c = client(sb, opts);
  const start = await c.auth.login({ clientName: "Test Agent" });
  assert.equal(start.authenticated, false);
  sb.approveDevice(start.phrase);
  const status = await start.wait(FAST);
  assert.equal(status.authenticated, true);
  const stored = JSON.parse(await c.storage.get("auth"));
  remember(stored.access_token);
  remember(stored.refresh_token);
  return c;
}

describe("LinkClient against the sandbox", () => {
  let sb;
  before(async () => {
    sb = await sandbox();
  });
  after(() => sb.close());

  test("device login: URL and phrase at once, approved through the sandbox, tokens stored", async () => {
    const c = client(sb);
    const start = await c.auth.login({ clientName: "Test Agent" });
    assert.match(start.verification_url, /\/device\?code=/);
    assert.equal(typeof start.phrase, "string");
    const pending = await c.auth.status();
    assert.equal(pending.authenticated, false);
    assert.equal(pending.pending, true);
    // A second process (another client on the same storage) finishes the poll.
    const other = new LinkClient({ apiBaseUrl: sb.apiUrl, authBaseUrl: sb.authUrl, storage: c.storage, logger });
    sb.approveDevice(start.phrase);
    const done = await other.auth.wait(FAST);
    assert.equal(done.authenticated, true);
    assert.match(done.access_token, /\.\.\.$/);
    assert.equal((await c.auth.status()).authenticated, true);
    const again = await c.auth.login();
    assert.equal(again.authenticated, true, "a live session is kept");
    const out = await c.auth.logout();
    assert.deepEqual(out, { authenticated: false });
    assert.equal(await c.storage.get("auth"), null);
  });

  test("denied login rejects with AUTHORIZATION_DENIED and clears the pending record", async () => {
    const c = client(sb);
    const start = await c.auth.login();
    sb.denyDevice(start.phrase);
    await assert.rejects(start.wait(FAST), (e) => e.code === "AUTHORIZATION_DENIED");
    assert.equal(await c.storage.get("pendingDeviceAuth"), null);
  });

  test("status, then wait (as `auth login --interval` runs them): wait's first poll comes one interval later", async () => {
    const polls = [];
    const fetch = (request, init) => {
      const url = request instanceof Request ? request.url : String(request);
      if (url.endsWith("/device/token")) polls.push(performance.now());
      return globalThis.fetch(request, init);
    };
    const c = client(sb, { fetch });
    const start = await c.auth.login({ clientName: "Test Agent" });
    assert.equal((await c.auth.status()).pending, true);
    sb.approveDevice(start.phrase);
    assert.equal((await c.auth.wait(FAST)).authenticated, true);
    assert.equal(polls.length, 2);
    // Back to back, the second poll would have been answered with slow_down (+5 s to the wait).
    const gap = polls[1] - polls[0];
    assert.ok(gap >= 990, `polled ${Math.round(gap)} ms apart; the sandbox's device interval is 1 s`);
  });

  test("payment methods", async () => {
    const c = await loggedIn(sb);
    const methods = await c.paymentMethods.list();
    assert.ok(methods.length >= 4);
    assert.equal(methods[0].is_default, true);
    assert.equal(methods[0].card_details.last4, "4242");
  });

  test("card flow: create → approve → retrieve the card", async () => {
    const c = await loggedIn(sb);
    const created = await c.spendRequests.create(cardInput());
    assert.equal(created.status, "pending_approval");
    assert.ok(created.approval_url);
    sb.approve(created.id);
    const done = await c.spendRequests.waitFor(created.id, { ...FAST, include: ["card"] });
    assert.equal(done.status, "approved");
    assert.match(done.card.number, /^\d{15,16}$/);
    remember(done.card.number);
    cvcs.add(done.card.cvc);
    const plain = await c.spendRequests.retrieve(created.id);
    assert.equal(plain.card, undefined, "the card only when asked");
    const listed = await c.spendRequests.list();
    assert.ok(listed.some((sr) => sr.id === created.id));
  });

  test("SPT flow: mpp.pay probes, creates, waits for approval, pays, verifies the receipt", async () => {
    const c = await loggedIn(sb);
    const progress = [];
    const result = await c.mpp.pay(`${sb.merchantUrl}/api/forecast`, {
      context: context("mpp"),
      ...FAST,
      onProgress: (sr) => {
        progress.push(sr.status);
        if (sr.status === "pending_approval") sb.approve(sr.id);
      },
    });
    assert.equal(result.status, 200);
    assert.equal(result.receipt.status, "success");
    assert.equal(result.receipt.method, "stripe");
    assert.equal(result.headers["payment-receipt"] !== undefined, true);
    // mpp.decode: the challenge of the same endpoint, safe to display.
    const probe = await fetch(`${sb.merchantUrl}/api/forecast`);
    const decoded = await c.mpp.decode(probe.headers.get("www-authenticate"), { url: probe.url });
    assert.deepEqual([decoded.method, decoded.intent, decoded.amount, decoded.currency, decoded.network_id], ["stripe", "charge", 100, "usd", "profile_sandbox_merchant"]);
    await assert.rejects(c.mpp.decode('Payment id="x"'), (e) => e.code === "MPP_MALFORMED_CHALLENGE" || e.code === "MPP_NO_STRIPE_CHALLENGE");
    assert.ok(result.spend_request_id);
    assert.ok(progress.includes("pending_approval"));
    const sr = await c.spendRequests.retrieve(result.spend_request_id, { include: ["shared_payment_token"] });
    remember(sr.shared_payment_token?.id);
    // The SPT is single use: the request is now succeeded, and paying with it again is refused.
    assert.equal(sr.status, "succeeded");
    await assert.rejects(
      c.mpp.pay(`${sb.merchantUrl}/api/forecast`, { spendRequestId: result.spend_request_id }),
      (e) => e.code === "SPEND_REQUEST_NOT_APPROVED" && /current status: succeeded/.test(e.message),
    );
  });

  test("SPT flow with header=Payment-Authorization behind a non-stripe challenge", async () => {
    const c = await loggedIn(sb);
    const result = await c.mpp.pay(`${sb.merchantUrl}/api/archive`, {
      context: context("archive"),
      ...FAST,
      onProgress: (sr) => sr.status === "pending_approval" && sb.approve(sr.id),
    });
    assert.equal(result.status, 200);
    assert.equal(result.receipt.status, "success");
  });

  test("denial: waitFor ends on denied; mpp.pay says SPEND_REQUEST_NOT_APPROVED", async () => {
    const c = await loggedIn(sb);
    const created = await c.spendRequests.create(cardInput());
    sb.deny(created.id);
    const done = await c.spendRequests.waitFor(created.id, FAST);
    assert.equal(done.status, "denied");
    await assert.rejects(
      c.mpp.pay(`${sb.merchantUrl}/api/forecast`, {
        context: context("deny"),
        ...FAST,
        onProgress: (sr) => sr.status === "pending_approval" && sb.deny(sr.id),
      }),
      (e) => e.code === "SPEND_REQUEST_NOT_APPROVED" && /denied/.test(e.message),
    );
  });

  test("expiry: the 10-minute approval window on the sandbox clock", async () => {
    const c = await loggedIn(sb);
    const created = await c.spendRequests.create(cardInput());
    sb.advanceClock(11 * 60_000);
    const done = await c.spendRequests.waitFor(created.id, FAST);
    assert.equal(done.status, "expired");
  });

  test("requires_action with auto_resume (3-D Secure) is polled through to approved", async () => {
    const c = await loggedIn(sb);
    const created = await c.spendRequests.create(cardInput({ payment_method_id: "csmrpd_sandbox_3ds" }));
    sb.approve(created.id);
    const seen = [];
    const done = await c.spendRequests.waitFor(created.id, {
      ...FAST,
      onProgress: (sr) => {
        seen.push(sr.status);
        if (sr.status === "requires_action") sb.advanceClock(5_000);
      },
    });
    assert.ok(seen.includes("requires_action"), `saw ${seen}`);
    assert.equal(done.status, "approved");
  });

  test("POLLING_TIMEOUT when a request stays pending", async () => {
    const c = await loggedIn(sb);
    const created = await c.spendRequests.create(cardInput());
    await assert.rejects(
      c.spendRequests.waitFor(created.id, { interval: 0.01, maxAttempts: 2 }),
      (e) => e.code === "POLLING_TIMEOUT" && /max attempts \(2\) exhausted; current status is pending_approval/.test(e.message),
    );
  });

  test("duplicate create → spend_request_rate_limited naming the existing request", async () => {
    const c = await loggedIn(sb);
    const input = cardInput();
    const first = await c.spendRequests.create(input);
    await assert.rejects(c.spendRequests.create(input), (e) => {
      assert.equal(e.code, "spend_request_rate_limited");
      assert.equal(e.details.duplicate_spend_request.id, first.id);
      assert.match(e.message, new RegExp(`already exists: ${first.id}`));
      return true;
    });
  });

  test("bad input: VALIDATION_ERROR with every field and no request sent", async () => {
    const c = await loggedIn(sb);
    sb.clearRequests();
    await assert.rejects(c.spendRequests.create({ amount: 60000, currency: "dollars", context: "short" }), (e) => {
      assert.equal(e.code, "VALIDATION_ERROR");
      const paths = e.fieldErrors.map((f) => f.path);
      for (const p of ["amount", "currency", "context", "merchant_name", "merchant_url"]) assert.ok(paths.includes(p), p);
      return true;
    });
    await assert.rejects(c.spendRequests.retrieve("../../etc"), (e) => e.code === "VALIDATION_ERROR");
    assert.equal(sb.requests().length, 0);
  });

  test("cancel, update and request-approval", async () => {
    const c = await loggedIn(sb);
    const created = await c.spendRequests.create(cardInput({ request_approval: false }));
    assert.equal(created.status, "created");
    const updated = await c.spendRequests.update(created.id, { amount: 1500 });
    assert.equal(updated.amount, 1500);
    const approval = await c.spendRequests.requestApproval(created.id);
    assert.equal(approval.id, created.id);
    assert.ok(approval.approval_link);
    const canceled = await c.spendRequests.cancel(created.id);
    assert.equal(canceled.status, "canceled");
    await assert.rejects(c.spendRequests.cancel(created.id), (e) => e.code === "API_ERROR" && e.details.status === 409);
  });
});

describe("tokens, restarts and storage", () => {
  test("an expired access token is refreshed once on 401 and the request retried", async () => {
    const sb = await sandbox({ accessTokenTtlSeconds: 3600 });
    try {
      const c = await loggedIn(sb);
      sb.advanceClock(2 * 3600_000); // the server now rejects the stored token
      sb.clearRequests();
      const methods = await c.paymentMethods.list();
      assert.ok(methods.length > 0);
      const log = sb.requests().map((r) => `${r.method} ${r.path} ${r.status}`);
      assert.deepEqual(log, ["GET /payment-details 401", "POST /device/token 200", "GET /payment-details 200"]);
      const refresh = sb.requests()[1];
      assert.match(refresh.body, /^grant_type=refresh_token&refresh_token=[^&]+&client_id=lwlpk_U7Qy7ThG69STZk$/);
    } finally {
      await sb.close();
    }
  });

  test("LINK_ACCESS_TOKEN mode without a refresh token: TOKEN_EXPIRED on 401", async () => {
    const sb = await sandbox();
    try {
      const tokens = sb.issueTokens();
      const c = client(sb, { accessToken: tokens.access_token });
      assert.ok((await c.paymentMethods.list()).length > 0);
      const stale = client(sb, { accessToken: "not-a-token" });
      await assert.rejects(stale.paymentMethods.list(), (e) => e.code === "TOKEN_EXPIRED");
    } finally {
      await sb.close();
    }
  });

  test("the sandbox stops in the middle of a poll and restarts: the poll recovers, no duplicate", async () => {
    const dir = mkdtempSync(join(tmpdir(), "linkpay-restart-"));
    const dataFile = join(dir, "sandbox.json");
    let sb = await sandbox({ dataFile });
    const port = sb.port;
    try {
      const c = await loggedIn(sb);
      const created = await c.spendRequests.create(cardInput());
      const polling = c.spendRequests.waitFor(created.id, { interval: 0.1, timeout: 20 }).then(
        (v) => ({ ok: v }),
        (e) => ({ error: e }),
      );
      await new Promise((r) => setTimeout(r, 150));
      await sb.close();
      await new Promise((r) => setTimeout(r, 300));
      sb = await sandbox({ dataFile, port });
      sb.approve(created.id);
      const outcome = await polling;
      if (outcome.error) {
        assert.equal(outcome.error.code, "TRANSPORT_ERROR");
      } else {
        assert.equal(outcome.ok.status, "approved");
      }
      const all = await c.spendRequests.list({ includeHistory: true });
      assert.equal(all.filter((sr) => sr.context === created.context).length, 1, "no duplicate spend request");
    } finally {
      await sb.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a transport failure on create is retried with the same Idempotency-Key: one request", async () => {
    const sb = await sandbox();
    try {
      const c0 = await loggedIn(sb);
      let failures = 1;
      // A caller's fetch gets the standard Request the core built (gloo-net).
      const flaky = async (request) => {
        assert.ok(request instanceof Request);
        const { method, url } = request;
        const res = await fetch(request);
        if (method === "POST" && url.endsWith("/spend_requests") && failures-- > 0) {
          throw new TypeError("fetch failed (connection reset after the server answered)");
        }
        return res;
      };
      const c = new LinkClient({ apiBaseUrl: sb.apiUrl, authBaseUrl: sb.authUrl, storage: c0.storage, fetch: flaky, logger });
      sb.clearRequests();
      const created = await c.spendRequests.create(cardInput());
      const creates = sb.requests().filter((r) => r.method === "POST" && r.path === "/spend_requests");
      assert.equal(creates.length, 2, "sent twice");
      assert.equal(creates[0].headers["idempotency-key"], creates[1].headers["idempotency-key"]);
      const all = await c.spendRequests.list();
      assert.equal(all.filter((sr) => sr.context === created.context).length, 1, "created once");
    } finally {
      await sb.close();
    }
  });

  test("requestTimeoutMs bounds the whole exchange: a silent server and a stalled body are TRANSPORT_ERRORs", async () => {
    // A server that answers nothing on /silent/… and sends headers and half a body on /stalled/….
    const { createServer } = await import("node:http");
    const held = [];
    const server = createServer((req, res) => {
      held.push(res);
      if (req.url.startsWith("/stalled/")) {
        res.writeHead(200, { "content-type": "application/json" });
        res.write('{"id":');
      }
    });
    await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${server.address().port}`;
    try {
      for (const path of ["silent", "stalled"]) {
        const c = new LinkClient({ apiBaseUrl: `${base}/${path}`, accessToken: "lsat_test", storage: new MemoryStorage(), requestTimeoutMs: 300, logger });
        const started = Date.now();
        // request-approval is not retried, so one exchange is timed.
        await assert.rejects(c.spendRequests.requestApproval("lsrq_timeout"), (e) => {
          assert.equal(e.code, "TRANSPORT_ERROR", `${path}: ${e.message}`);
          assert.match(e.message, /timeout/i);
          return true;
        });
        const took = Date.now() - started;
        assert.ok(took >= 250 && took < 5_000, `${path}: gave up after ${took} ms`);
      }
      assert.equal(held.length, 2, "one request each");

      // Out of range: a VALIDATION_ERROR naming the option, on every call, and nothing sent.
      for (const requestTimeoutMs of [0, 600_001, 1.5, "30000"]) {
        const c = new LinkClient({ apiBaseUrl: base, accessToken: "lsat_test", storage: new MemoryStorage(), requestTimeoutMs });
        for (let i = 0; i < 2; i++) {
          await assert.rejects(c.paymentMethods.list(), (e) => {
            assert.equal(e.code, "VALIDATION_ERROR", String(requestTimeoutMs));
            assert.deepEqual(e.fieldErrors.map((f) => f.path), ["requestTimeoutMs"]);
            return true;
          });
        }
      }
      assert.equal(held.length, 2, "no request for a bad option");
    } finally {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test("file storage: 0600, atomic; a corrupt file is STORAGE_ERROR naming the path and is kept", async () => {
    const sb = await sandbox();
    const dir = mkdtempSync(join(tmpdir(), "linkpay-store-"));
    try {
      const path = join(dir, "nested", "config.json");
      const c = await loggedIn(sb, { storage: new FileStorage(path) });
      assert.equal(statSync(path).mode & 0o777, 0o600);
      const saved = JSON.parse(readFileSync(path, "utf8"));
      assert.ok(saved.auth.access_token);
      assert.equal((await c.auth.status()).credentials_path, path);
      const corrupt = "{ this is not json";
      writeFileSync(path, corrupt);
      const broken = client(sb, { storage: new FileStorage(path) });
      await assert.rejects(broken.auth.status(), (e) => e.code === "STORAGE_ERROR" && e.message.includes(path));
      await assert.rejects(broken.auth.login(), (e) => e.code === "STORAGE_ERROR");
      assert.equal(readFileSync(path, "utf8"), corrupt, "never overwritten");
    } finally {
      await sb.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("wire: the exact requests (link-cli-wire.md §4)", () => {
  test("device code, create, retrieve with include, request-approval, cancel, list", async () => {
    const sb = await sandbox();
    try {
      sb.clearRequests();
      const c = client(sb);
      const start = await c.auth.login({ clientName: "My Agent", sourceActions: ["read_balances"] });
      const code = sb.requests()[0];
      assert.equal(code.method, "POST");
      assert.equal(code.path, "/device/code");
      assert.equal(code.headers["content-type"], "application/x-www-form-urlencoded");
      assert.equal(code.headers["user-agent"], `linkpay/${version}`);
      assert.equal(
        code.body,
        "client_id=lwlpk_U7Qy7ThG69STZk&scope=userinfo%3Aread+payment_methods.agentic&connection_label=My+Agent+on+testhost&client_hint=My+Agent&authorization_details%5B%5D%5Btype%5D=source&authorization_details%5B%5D%5Bactions%5D%5B%5D=read_balances",
      );
      sb.approveDevice(start.phrase);
      await start.wait(FAST);
      const poll = sb.requests().find((r) => r.path === "/device/token");
      assert.match(poll.body, /^grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&device_code=[^&]+&client_id=lwlpk_U7Qy7ThG69STZk$/);

      sb.clearRequests();
      const created = await c.spendRequests.create({
        payment_method_id: "csmrpd_sandbox_visa",
        amount: 1000,
        currency: "USD",
        merchant_name: "Example Store",
        merchant_url: "https://shop.example",
        context: context("wire"),
        line_items: ["name:Shoes,unit_amount:1000,quantity:1"],
        totals: ["type:total,display_text:Total,amount:1000"],
        metadata: ["order_id:ord_1"],
      });
      const create = sb.requests()[0];
      assert.equal(create.method, "POST");
      assert.equal(create.path, "/spend_requests");
      assert.equal(create.headers["content-type"], "application/json");
      assert.match(create.headers.authorization, /^Bearer/);
      assert.ok(create.headers["idempotency-key"]);
      const body = JSON.parse(create.body);
      assert.deepEqual(Object.keys(body), [
        "payment_details", "credential_type", "amount", "currency", "merchant_name", "merchant_url",
        "context", "line_items", "totals", "request_approval", "metadata",
      ]);
      assert.equal(body.payment_details, "csmrpd_sandbox_visa");
      assert.equal(body.currency, "usd");
      assert.deepEqual(body.line_items, [{ name: "Shoes", unit_amount: 1000, quantity: 1 }]);
      assert.deepEqual(body.totals, [{ type: "total", display_text: "Total", amount: 1000 }]);
      assert.deepEqual(body.metadata, { order_id: "ord_1" });
      assert.equal(body.request_approval, true);

      sb.clearRequests();
      await c.spendRequests.retrieve(created.id, { include: ["card", "shared_payment_token"] });
      await c.spendRequests.requestApproval(created.id).catch(() => undefined);
      await c.spendRequests.cancel(created.id);
      await c.spendRequests.list({ includeHistory: true });
      const [retrieve, approval, cancel, list] = sb.requests();
      assert.equal(retrieve.method, "GET");
      assert.equal(retrieve.path, `/spend_requests/${created.id}`);
      assert.deepEqual(retrieve.query, { include: "card,shared_payment_token" });
      assert.equal(retrieve.body, null);
      for (const [r, suffix] of [[approval, "request_approval"], [cancel, "cancel"]]) {
        assert.equal(r.method, "POST");
        assert.equal(r.path, `/spend_requests/${created.id}/${suffix}`);
        assert.equal(r.body, null);
        assert.equal(r.headers["content-type"], undefined);
      }
      assert.equal(list.path, "/spend_requests");
      assert.deepEqual(list.query, { include_history: "true" });

      // payment methods, update (only the given keys, wire names), mpp pay, logout (revoke).
      const draft = await c.spendRequests.create({ ...cardInput(), request_approval: false });
      sb.clearRequests();
      await c.paymentMethods.list();
      await c.spendRequests.update(draft.id, { amount: 1500, payment_method_id: "csmrpd_sandbox_mastercard" });
      const [methods, update] = sb.requests();
      assert.deepEqual([methods.method, methods.path, methods.query, methods.body], ["GET", "/payment-details", {}, null]);
      assert.match(methods.headers.authorization, /^Bearer/);
      assert.equal(update.method, "POST");
      assert.equal(update.path, `/spend_requests/${draft.id}`);
      assert.equal(update.headers["content-type"], "application/json");
      assert.deepEqual(JSON.parse(update.body), { payment_details: "csmrpd_sandbox_mastercard", amount: 1500 });

      sb.clearRequests();
      const why = context("wire mpp");
      await c.mpp.pay(`${sb.merchantUrl}/api/forecast`, {
        context: why,
        ...FAST,
        onProgress: (sr) => sr.status === "pending_approval" && sb.approve(sr.id),
      });
      const merchant = sb.requests().filter((r) => r.path === "/merchant/api/forecast");
      assert.deepEqual(merchant.map((r) => [r.method, r.status, r.headers.authorization ?? null]), [
        ["GET", 402, null],
        ["GET", 200, "Payment <redacted>"], // the credential, redacted by the sandbox's log
      ]);
      // link-cli.md `mpp pay` mode B: probe, methods[0] from /payment-details, then the SPT create.
      assert.deepEqual(sb.requests().slice(0, 3).map((r) => `${r.method} ${r.path}`), ["GET /merchant/api/forecast", "GET /payment-details", "POST /spend_requests"]);
      const spt = sb.requests()[2];
      assert.equal(spt.body, JSON.stringify({
        payment_details: "csmrpd_sandbox_visa", credential_type: "shared_payment_token", network_id: "profile_sandbox_merchant",
        amount: 100, currency: "usd", context: why, request_approval: true,
      }));

      const refresh = JSON.parse((await c.storage.get("auth")) ?? "{}").refresh_token;
      sb.clearRequests();
      await c.auth.logout();
      const [revoke] = sb.requests();
      assert.equal(revoke.method, "POST");
      assert.equal(revoke.path, "/device/revoke");
      assert.equal(revoke.headers["content-type"], "application/x-www-form-urlencoded");
      assert.ok(refresh);
      assert.equal(revoke.body, "client_id=lwlpk_U7Qy7ThG69STZk&token=<redacted>", "the sandbox's log redacts the refresh token");
    } finally {
      await sb.close();
    }
  });
});

test("no card number, CVC or token reached any log line or console output", () => {
  assert.ok(secrets.size >= 4, `collected ${secrets.size} secrets`);
  assert.ok(cvcs.size >= 1);
  assert.ok(captured.length > 20, "the logger saw the traffic");
  const all = captured.join("\n");
  assert.ok(all.includes('"number":"<redacted>"'), "card bodies reached the logger, redacted");
  assert.ok(/refresh_token=<redacted>/.test(all), "token forms reached the logger, redacted");
  for (const secret of secrets) {
    assert.ok(!all.includes(secret), `a secret leaked into the logs (${secret.slice(0, 4)}…)`);
  }
  for (const cvc of cvcs) {
    assert.doesNotMatch(all, new RegExp(`cvc\\W{0,4}${cvc}`, "i"), "a CVC leaked into the logs");
  }
});
