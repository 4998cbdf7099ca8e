// `link.fetch` against the sandbox over loopback HTTP: a 402 from the sandbox merchant becomes an
// SPT spend request, the person approves it on the sandbox, the request goes out once more with
// the credential, and the merchant's answer comes back with its receipt. GET and POST (the body
// sent again), answers left untouched (non-402, a tempo-only 402), each guardrail refusing before
// any spend request exists (the sandbox's request log shows none), denial, an approval that
// times out, and the redacted decision log.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { LinkClient, MemoryStorage, receiptOf } from "../dist/index.js";
import { startSandbox } from "../dist/sandbox/index.js";

const FAST = { interval: 0.05, timeout: 10 };
let seq = 0;
const context = (tag = "") =>
  `Paying the sandbox weather merchant for data the person asked for (${tag}, call ${++seq}); the price matches what they agreed to.`.padEnd(110, ".");

let sb;
before(async () => {
  sb = await startSandbox({ onError: () => {} });
});
after(() => sb.close());

/** A client with a fresh session (its guardrail ledger is its own); `logs` collects its log lines. */
function client(logs = []) {
  const tokens = sb.issueTokens();
  return new LinkClient({ apiBaseUrl: sb.apiUrl, authBaseUrl: sb.authUrl, storage: new MemoryStorage(), accessToken: tokens.access_token, logger: (l) => logs.push(l) });
}

/** Options that approve on the sandbox as soon as the person is asked. */
const approving = (extra = {}, seen = []) => ({
  context: context("approve"),
  ...FAST,
  onApproval: (a) => {
    seen.push(a);
    sb.approve(a.spend_request_id);
  },
  ...extra,
});

/** The SPT spend requests created since `since` (the sandbox's request log). */
const creates = (since) => sb.requests(since).filter((r) => r.method === "POST" && r.path === "/spend_requests");
const lastSeq = () => sb.requests().at(-1)?.seq ?? 0;

async function refused(promise, reason) {
  await assert.rejects(promise, (e) => {
    assert.equal(e.code, "PAYMENT_GUARDRAIL", e.message);
    assert.equal(e.details.reason, reason, e.message);
    return true;
  });
}

describe("link.fetch", () => {
  test("GET: 402, approval, the paid retry, the merchant's answer with a readable receipt", async () => {
    const logs = [];
    const link = client(logs);
    const seen = [];
    const res = await link.fetch(`${sb.merchantUrl}/api/forecast`, undefined, approving({}, seen));
    assert.ok(res instanceof Response);
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.location, "San Francisco, CA");
    assert.equal(body.paid.amount, "100");
    const receipt = receiptOf(res);
    assert.equal(receipt.status, "success");
    assert.equal(receipt.method, "stripe");
    assert.equal(receipt.reference, body.paid.reference);
    assert.equal(seen.length, 1, "the person is asked once");
    assert.deepEqual(Object.keys(seen[0]).sort(), ["amount", "approval_url", "currency", "spend_request_id"]);
    assert.equal(seen[0].amount, 100);
    assert.equal(seen[0].currency, "usd");
    assert.match(seen[0].approval_url, /^http/);
    const sr = await link.spendRequests.retrieve(seen[0].spend_request_id);
    assert.equal(sr.status, "succeeded", "the token was used");
    assert.equal(sr.credential_type, "shared_payment_token");
    // Every decision is logged, and no token is.
    assert.ok(logs.some((l) => /payment: challenge .* \(100 usd for 127\.0\.0\.1\): within the guardrails/.test(l)), logs.join("\n"));
    assert.ok(logs.some((l) => /: approved, its token is spent/.test(l)));
    assert.ok(!logs.some((l) => /spt_[A-Za-z0-9]{6,}/.test(l)), "no SPT in the log");
    assert.ok(!logs.some((l) => /Payment eyJ/.test(l)), "no credential in the log");
  });

  test("Payment-Authorization and externalId (the archive, behind a tempo challenge)", async () => {
    const res = await client().fetch(`${sb.merchantUrl}/api/archive`, {}, approving());
    assert.equal(res.status, 200, await res.clone().text());
    const receipt = receiptOf(res);
    assert.equal(receipt.status, "success");
    assert.match(receipt.externalId, /^order_/);
  });

  test("POST: the body is read once and sent again with the credential", async () => {
    const since = lastSeq();
    const res = await client().fetch(
      new Request(`${sb.merchantUrl}/api/report`, { method: "POST", headers: { "content-type": "application/json", "x-trace": "t1" }, body: JSON.stringify({ location: "Oslo" }) }),
      undefined,
      approving({ context: (challenge) => `Buying a ${challenge.amount} ${challenge.currency} weather report for Oslo, as the person asked in this chat; the price was shown to them first.` }),
    );
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.location, "Oslo");
    assert.equal(body.received_bytes, JSON.stringify({ location: "Oslo" }).length);
    const posts = sb.requests(since).filter((r) => r.path === "/merchant/api/report");
    assert.equal(posts.length, 2, "the probe and the paid retry");
    for (const p of posts) {
      assert.equal(p.method, "POST");
      assert.match(p.body, /Oslo/);
      assert.equal(p.headers["x-trace"], "t1");
    }
    assert.ok(posts[1].headers.authorization, "the retry carries the credential");
    assert.equal(posts[0].headers.authorization, undefined);
  });

  test("a non-402 comes back untouched, and nothing is paid", async () => {
    const since = lastSeq();
    const url = `${sb.apiUrl}/spend_requests/lsrq_missing`;
    const plain = await fetch(url);
    const res = await client().fetch(url, { headers: { "x-probe": "1" } }, approving());
    assert.equal(res.status, plain.status);
    assert.deepEqual(await res.json(), await plain.json());
    assert.equal(creates(since).length, 0);
    const ok = await client().fetch(`${sb.url}/merchant/checkout`);
    assert.equal(ok.status, 200);
    assert.match(await ok.text(), /<html/i);
  });

  test("a 402 with only a tempo challenge comes back untouched", async () => {
    const since = lastSeq();
    const logs = [];
    const res = await client(logs).fetch(`${sb.merchantUrl}/api/onchain`, undefined, approving());
    assert.equal(res.status, 402);
    assert.match(res.headers.get("www-authenticate"), /method="tempo"/);
    assert.equal((await res.json()).type, "https://paymentauth.org/problems/payment-required");
    assert.equal(creates(since).length, 0);
    assert.ok(logs.some((l) => /without a stripe challenge \(MPP_NO_STRIPE_CHALLENGE\): not paid/.test(l)), logs.join("\n"));
  });

  test("guardrail max_amount: over the per-payment cap, no spend request", async () => {
    const since = lastSeq();
    const logs = [];
    await refused(client(logs).fetch(`${sb.merchantUrl}/api/forecast`, undefined, approving({ maxAmount: 99 })), "max_amount");
    assert.equal(creates(since).length, 0);
    assert.ok(logs.some((l) => /refused, Payment refused \(max_amount\)/.test(l)), logs.join("\n"));
    // The default cap is $50: the $1 forecast passes it.
    const res = await client().fetch(`${sb.merchantUrl}/api/forecast`, undefined, approving());
    assert.equal(res.status, 200);
  });

  test("guardrail max_total: per client, counted across calls", async () => {
    const link = client();
    const first = await link.fetch(`${sb.merchantUrl}/api/forecast`, undefined, approving({ maxTotal: 150 }));
    assert.equal(first.status, 200);
    const since = lastSeq();
    await assert.rejects(link.fetch(`${sb.merchantUrl}/api/forecast`, undefined, approving({ maxTotal: 150 })), (e) => {
      assert.equal(e.code, "PAYMENT_GUARDRAIL");
      assert.equal(e.details.reason, "max_total");
      assert.equal(e.details.total, 100);
      return true;
    });
    assert.equal(creates(since).length, 0);
    // Another client has its own total.
    const other = await client().fetch(`${sb.merchantUrl}/api/forecast`, undefined, approving({ maxTotal: 150 }));
    assert.equal(other.status, 200);
  });

  test("guardrail realm_mismatch: the realm must be the URL's host unless allowed", async () => {
    const since = lastSeq();
    const viaLocalhost = `http://localhost:${sb.port}/merchant/api/forecast`;
    await refused(client().fetch(viaLocalhost, undefined, approving()), "realm_mismatch");
    assert.equal(creates(since).length, 0);
    const res = await client().fetch(viaLocalhost, undefined, approving({ allowRealms: ["127.0.0.1"] }));
    assert.equal(res.status, 200);
  });

  test("guardrail expired: a challenge past its expires is refused", async () => {
    // A merchant whose clock is two hours behind: its challenges expired before they were sent.
    const late = await startSandbox({ clock: () => Date.now() - 2 * 3600_000, onError: () => {} });
    try {
      const since = lastSeq();
      await refused(client().fetch(`${late.merchantUrl}/api/forecast`, undefined, approving()), "expired");
      assert.equal(creates(since).length, 0);
    } finally {
      await late.close();
    }
  });

  test("guardrail already_paid: one challenge is paid once", async () => {
    const link = client();
    const first = await link.fetch(`${sb.merchantUrl}/api/quote`, undefined, approving());
    assert.equal(first.status, 200);
    const since = lastSeq();
    // The merchant answers with the same (cached) challenge again.
    await refused(link.fetch(`${sb.merchantUrl}/api/quote`, undefined, approving()), "already_paid");
    assert.equal(creates(since).length, 0);
  });

  test("one approval per challenge: a second call for a challenge being approved is refused", async () => {
    // A merchant of its own, so its cached quote challenge was never paid.
    const shop = await startSandbox({ onError: () => {} });
    try {
      const link = client();
      let release;
      const asked = new Promise((r) => (release = r));
      const slow = link.fetch(`${shop.merchantUrl}/api/quote`, undefined, { context: context("slow"), ...FAST, onApproval: (a) => release(a) });
      const a = await asked;
      const since = lastSeq();
      await refused(link.fetch(`${shop.merchantUrl}/api/quote`, undefined, approving()), "already_paid");
      assert.equal(creates(since).length, 0);
      sb.approve(a.spend_request_id);
      // That merchant does not know this sandbox's tokens: it refuses the credential, and the
      // refusal comes back as the answer (a spent token is not retried).
      const res = await slow;
      assert.equal(res.status, 402);
      assert.equal((await res.json()).type, "https://paymentauth.org/problems/verification-failed");
    } finally {
      await shop.close();
    }
  });

  test("denial by the person: SPEND_REQUEST_NOT_APPROVED, and the amount no longer counts", async () => {
    const link = client();
    await assert.rejects(
      link.fetch(`${sb.merchantUrl}/api/forecast`, undefined, { context: context("deny"), ...FAST, maxTotal: 100, onApproval: (a) => sb.deny(a.spend_request_id) }),
      (e) => e.code === "SPEND_REQUEST_NOT_APPROVED" && /denied/.test(e.message),
    );
    const res = await link.fetch(`${sb.merchantUrl}/api/forecast`, undefined, approving({ maxTotal: 100 }));
    assert.equal(res.status, 200);
  });

  test("approval timeout: POLLING_TIMEOUT when the person does not answer", async () => {
    const seen = [];
    await assert.rejects(
      client().fetch(`${sb.merchantUrl}/api/forecast`, undefined, { context: context("timeout"), interval: 0.05, timeout: 0.3, onApproval: (a) => seen.push(a) }),
      (e) => e.code === "POLLING_TIMEOUT",
    );
    assert.equal(seen.length, 1);
  });

  test("a context is needed before anyone is asked; bad options are VALIDATION_ERROR", async () => {
    const since = lastSeq();
    await assert.rejects(client().fetch(`${sb.merchantUrl}/api/forecast`), (e) => e.code === "VALIDATION_ERROR" && e.fieldErrors[0].path === "context");
    await assert.rejects(client().fetch(`${sb.merchantUrl}/api/forecast`, undefined, { context: "too short" }), (e) => e.code === "VALIDATION_ERROR");
    await assert.rejects(
      client().fetch(`${sb.merchantUrl}/api/forecast`, undefined, { context: context(), maxAmount: -1, allowRealms: "x" }),
      (e) => e.code === "VALIDATION_ERROR" && e.fieldErrors.map((f) => f.path).join() === "max_amount,allow_realms",
    );
    assert.equal(creates(since).length, 0);
  });

  test("receiptOf: null without a receipt, MPP_MALFORMED_RECEIPT for a broken one", () => {
    assert.equal(receiptOf(new Response("x")), null);
    assert.throws(() => receiptOf(new Response("x", { headers: { "payment-receipt": "%%%" } })), (e) => e.code === "MPP_MALFORMED_RECEIPT");
  });
});
