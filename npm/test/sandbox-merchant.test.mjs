// The sandbox's demo merchant over real HTTP: MPP 402 challenges (stripe charge, HMAC-bound id,
// the Payment-Authorization variant behind a non-stripe challenge), credential verification
// (accept, reuse, tampering, expiry, wrong header, externalId, unknown/unapproved/short SPTs),
// receipts; and the card checkout. The client side of each exchange is the core's own MPP code.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as linkpay from "../dist/index.js";
import { startSandbox } from "../dist/sandbox/index.js";

const T0 = Date.parse("2026-03-02T09:00:00Z");
const NETWORK = "profile_sandbox_merchant";

async function withSandbox(fn, opts = {}) {
  const sb = await startSandbox({ clock: () => T0, ...opts });
  try {
    return await fn(sb);
  } finally {
    await sb.close();
  }
}

let seq = 0;
const context = () => `Paying the sandbox weather merchant for data the user asked for, request number ${++seq}, within the agreed budget.`.padEnd(110, ".");

async function api(sb, token, method, path, body) {
  const res = await fetch(sb.url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, json: await res.json() };
}

/** An approved SPT spend request for `amount` on `network`; its token. */
async function approvedSpt(sb, token, { amount = 100, network = NETWORK } = {}) {
  const sr = (await api(sb, token, "POST", "/spend_requests", { credential_type: "shared_payment_token", network_id: network, amount, currency: "usd", context: context(), request_approval: true })).json;
  sb.approve(sr.id);
  const got = (await api(sb, token, "GET", `/spend_requests/${sr.id}?include=shared_payment_token`)).json;
  return { id: sr.id, spt: got.shared_payment_token.id };
}

/** Asks for the resource without paying: the 402 and its decoded challenges. */
async function probe(sb, path, headers = {}) {
  const res = await fetch(sb.url + path, { headers });
  const www = res.headers.get("www-authenticate");
  const body = await res.json();
  return { res, www, body, challenges: www ? linkpay.decodeChallenges(www) : [] };
}

/** Pays `path` with `spt` the way the client does; returns the merchant's answer. */
async function pay(sb, path, spt, tweak = (c) => c) {
  const p = await probe(sb, path);
  const decoded = linkpay.decodeStripeChallenge(p.www, sb.now(), sb.url + path);
  const challenge = tweak(p.challenges[decoded.challenge_index].challenge);
  const payload = linkpay.buildStripePayload(challenge, spt);
  const cred = linkpay.buildCredential(challenge, payload, undefined, sb.now());
  const res = await fetch(sb.url + path, { headers: { [cred.header]: cred.value } });
  const text = await res.text();
  return { res, cred, decoded, text, json: JSON.parse(text) };
}

function assertProblem(r, slug, status = 402) {
  assert.equal(r.res.status, status, r.text);
  assert.equal(r.res.headers.get("content-type"), "application/problem+json");
  assert.equal(r.res.headers.get("cache-control"), "no-store");
  assert.equal(r.json.type, `https://paymentauth.org/problems/${slug}`, r.text);
  assert.equal(r.json.status, status);
  assert.equal(typeof r.json.detail, "string");
  // A fresh challenge comes with every refusal.
  const fresh = linkpay.decodeChallenges(r.res.headers.get("www-authenticate"));
  assert.ok(fresh.length >= 1 && fresh.every((c) => c.ok), r.res.headers.get("www-authenticate"));
  assert.equal(r.res.headers.get("payment-receipt"), null);
  return r.json;
}

describe("MPP merchant", () => {
  test("402 with a stripe charge challenge: HMAC id, expires, description, base64url JCS request", () =>
    withSandbox(async (sb) => {
      const p = await probe(sb, "/merchant/api/forecast");
      assert.equal(p.res.status, 402);
      assert.equal(p.res.headers.get("cache-control"), "no-store");
      assert.equal(p.res.headers.get("content-type"), "application/problem+json");
      assert.equal(p.body.type, "https://paymentauth.org/problems/payment-required");
      assert.equal(p.challenges.length, 1);
      const c = p.challenges[0].challenge;
      assert.equal(c.method, "stripe");
      assert.equal(c.intent, "charge");
      assert.equal(c.realm, "127.0.0.1");
      assert.match(c.id, /^[A-Za-z0-9_-]{43}$/, "base64url HMAC-SHA256");
      assert.equal(c.expires, "2026-03-02T09:05:00Z");
      assert.ok(c.description.length > 0);
      assert.equal(c.header, undefined);
      assert.deepEqual(c.request_json, { amount: "100", currency: "usd", methodDetails: { networkId: NETWORK, paymentMethodTypes: ["card", "link"] } });
      const jcs = '{"amount":"100","currency":"usd","methodDetails":{"networkId":"profile_sandbox_merchant","paymentMethodTypes":["card","link"]}}';
      assert.equal(c.request, Buffer.from(jcs).toString("base64url"));
      const decoded = linkpay.decodeStripeChallenge(p.www, sb.now(), `${sb.url}/merchant/api/forecast`);
      assert.deepEqual(decoded.warnings, []);
      assert.equal(decoded.amount, 100);
      // Every challenge is new, even within the same second of `expires` (a nonce in `opaque`).
      assert.match(c.opaque, /^[A-Za-z0-9_-]+$/, "opaque: base64url JCS");
      assert.match(JSON.parse(Buffer.from(c.opaque, "base64url").toString()).nonce, /^\w{16}$/);
      const sameSecond = (await probe(sb, "/merchant/api/forecast")).challenges[0].challenge;
      assert.equal(sameSecond.expires, c.expires);
      assert.notEqual(sameSecond.id, c.id);
      sb.advanceClock(1000);
      assert.notEqual((await probe(sb, "/merchant/api/forecast")).challenges[0].challenge.id, c.id);
    }));

  test("a good credential: 200, the resource, a Payment-Receipt, Cache-Control private; the SPT is spent", () =>
    withSandbox(async (sb) => {
      const token = sb.issueTokens().access_token;
      const { id, spt } = await approvedSpt(sb, token);
      const r = await pay(sb, "/merchant/api/forecast", spt);
      assert.equal(r.res.status, 200, r.text);
      assert.equal(r.res.headers.get("cache-control"), "private");
      assert.equal(r.json.location, "San Francisco, CA");
      const receipt = linkpay.parseReceipt(r.res.headers.get("payment-receipt"));
      assert.equal(receipt.status, "success");
      assert.equal(receipt.method, "stripe");
      assert.match(receipt.reference, /^pi_/);
      assert.equal(receipt.timestamp, "2026-03-02T09:00:00Z");
      const sr = (await api(sb, token, "GET", `/spend_requests/${id}`)).json;
      assert.equal(sr.status, "succeeded");
      assert.equal(sr.payment_status_details.outcome, "success");
      assert.equal(sr.payment_status_details.amount, 100);

      // Reuse: the same credential again, or the same SPT on a fresh challenge.
      const again = await fetch(sb.url + "/merchant/api/forecast", { headers: { [r.cred.header]: r.cred.value } });
      const againBody = assertProblem({ res: again, text: "", json: await again.json() }, "verification-failed");
      assert.match(againBody.detail, /already used/);
      assertProblem(await pay(sb, "/merchant/api/forecast", spt), "verification-failed");
    }));

  test("a credential for a fresh SPT on an already-paid challenge is refused", () =>
    withSandbox(async (sb) => {
      const token = sb.issueTokens().access_token;
      const first = await approvedSpt(sb, token);
      const second = await approvedSpt(sb, token);
      const p = await probe(sb, "/merchant/api/forecast");
      const challenge = p.challenges[0].challenge;
      const credFor = (spt) => linkpay.buildCredential(challenge, linkpay.buildStripePayload(challenge, spt), undefined, sb.now());
      const ok = await fetch(sb.url + "/merchant/api/forecast", { headers: { authorization: credFor(first.spt).value } });
      assert.equal(ok.status, 200);
      const res = await fetch(sb.url + "/merchant/api/forecast", { headers: { authorization: credFor(second.spt).value } });
      const body = assertProblem({ res, text: "", json: await res.json() }, "invalid-challenge");
      assert.match(body.detail, /already paid/);
      assert.equal((await api(sb, token, "GET", `/spend_requests/${second.id}`)).json.status, "approved", "the second SPT is untouched");
    }));

  test("tampered challenges, forged ids, garbage and expired challenges are refused", () =>
    withSandbox(async (sb) => {
      const token = sb.issueTokens().access_token;
      const { id, spt } = await approvedSpt(sb, token);
      const cheaper = Buffer.from('{"amount":"1","currency":"usd","methodDetails":{"networkId":"profile_sandbox_merchant","paymentMethodTypes":["card"]}}').toString("base64url");
      assertProblem(await pay(sb, "/merchant/api/forecast", spt, (c) => ({ ...c, request: cheaper })), "invalid-challenge");
      assertProblem(await pay(sb, "/merchant/api/forecast", spt, (c) => ({ ...c, id: "A".repeat(43) })), "invalid-challenge");
      assertProblem(await pay(sb, "/merchant/api/forecast", spt, (c) => ({ ...c, expires: "2026-03-02T10:00:00Z" })), "invalid-challenge");
      // A valid challenge of another resource is not a ticket for this one.
      const archive = await probe(sb, "/merchant/api/archive");
      const foreign = archive.challenges[1].challenge;
      const cred = linkpay.buildCredential(foreign, linkpay.buildStripePayload(foreign, spt), undefined, sb.now());
      let res = await fetch(sb.url + "/merchant/api/forecast", { headers: { [cred.header]: cred.value } });
      const foreignBody = assertProblem({ res, text: "", json: await res.json() }, "invalid-challenge");
      assert.match(foreignBody.detail, /another resource/);
      for (const value of ["Payment", "Payment !!!", "Payment e30", `Payment ${Buffer.from('{"challenge":{},"payload":{}}').toString("base64url")}`]) {
        res = await fetch(sb.url + "/merchant/api/forecast", { headers: { authorization: value } });
        assertProblem({ res, text: "", json: await res.json() }, "malformed-credential");
      }
      // Expired: pay a challenge after its `expires`.
      const p = await probe(sb, "/merchant/api/forecast");
      const challenge = p.challenges[0].challenge;
      const late = linkpay.buildCredential(challenge, linkpay.buildStripePayload(challenge, spt), undefined, sb.now());
      sb.advanceClock(5 * 60_000);
      res = await fetch(sb.url + "/merchant/api/forecast", { headers: { authorization: late.value } });
      assertProblem({ res, text: "", json: await res.json() }, "payment-expired");
      assert.equal((await api(sb, token, "GET", `/spend_requests/${id}`)).json.status, "approved", "nothing was spent");
    }));

  test("SPT checks: unknown, not approved, too small, another network, expired", () =>
    withSandbox(async (sb) => {
      const token = sb.issueTokens().access_token;
      let body = assertProblem(await pay(sb, "/merchant/api/forecast", "spt_made_up"), "verification-failed");
      assert.match(body.detail, /Unknown/);
      // Tokens exist only once approved; a canceled request keeps one that must not work.
      const canceled = await approvedSpt(sb, token);
      await api(sb, token, "POST", `/spend_requests/${canceled.id}/cancel`);
      body = assertProblem(await pay(sb, "/merchant/api/forecast", canceled.spt), "verification-failed");
      assert.match(body.detail, /canceled, not approved/);
      const small = await approvedSpt(sb, token, { amount: 99 });
      body = assertProblem(await pay(sb, "/merchant/api/forecast", small.spt), "payment-insufficient");
      assert.match(body.detail, /allows 99 usd; this costs 100 usd/);
      const elsewhere = await approvedSpt(sb, token, { network: "profile_other" });
      assertProblem(await pay(sb, "/merchant/api/forecast", elsewhere.spt), "verification-failed");
      // An expired SPT (12 hours after creation).
      const old = await approvedSpt(sb, token);
      sb.advanceClock(12 * 3600_000);
      body = assertProblem(await pay(sb, "/merchant/api/forecast", old.spt), "verification-failed");
      assert.match(body.detail, /expired/);
    }));

  test("a non-stripe challenge first, then stripe with header=Payment-Authorization and externalId", () =>
    withSandbox(async (sb) => {
      const token = sb.issueTokens().access_token;
      const p = await probe(sb, "/merchant/api/archive");
      assert.equal(p.res.status, 402);
      assert.equal(p.challenges.length, 2);
      assert.equal(p.challenges[0].challenge.method, "tempo");
      const stripe = p.challenges[1].challenge;
      assert.equal(stripe.method, "stripe");
      assert.equal(stripe.header, "Payment-Authorization");
      assert.match(stripe.request_json.externalId, /^order_/);
      const decoded = linkpay.decodeStripeChallenge(p.www, sb.now(), `${sb.url}/merchant/api/archive`);
      assert.equal(decoded.challenge_index, 1);
      assert.equal(decoded.amount, 250);

      const { id, spt } = await approvedSpt(sb, token, { amount: 250 });
      // The core echoes externalId into the payload and picks Payment-Authorization.
      let r = await pay(sb, "/merchant/api/archive", spt);
      assert.equal(r.cred.header, "Payment-Authorization");
      assert.equal(r.res.status, 200, r.text);
      const receipt = linkpay.parseReceipt(r.res.headers.get("payment-receipt"));
      assert.equal(receipt.externalId, r.decoded.external_id);
      assert.equal((await api(sb, token, "GET", `/spend_requests/${id}`)).json.status, "succeeded");

      const other = await approvedSpt(sb, token, { amount: 250 });
      const q = await probe(sb, "/merchant/api/archive");
      const c = q.challenges[1].challenge;
      // Without the externalId echo (as the reference client pays): refused.
      const noExternal = linkpay.buildCredential(c, { spt: other.spt }, undefined, sb.now());
      let res = await fetch(sb.url + "/merchant/api/archive", { headers: { "payment-authorization": noExternal.value } });
      let body = assertProblem({ res, text: "", json: await res.json() }, "invalid-challenge");
      assert.match(body.detail, /externalId/);
      // The right credential in the wrong header.
      const right = linkpay.buildCredential(c, linkpay.buildStripePayload(c, other.spt), undefined, sb.now());
      res = await fetch(sb.url + "/merchant/api/archive", { headers: { authorization: right.value } });
      body = assertProblem({ res, text: "", json: await res.json() }, "malformed-credential");
      assert.match(body.detail, /Payment-Authorization/);
      // Paying the tempo challenge: this merchant cannot take it.
      const tempo = q.challenges[0].challenge;
      const tempoCred = linkpay.buildCredential(tempo, { signature: "0x00" }, undefined, sb.now());
      res = await fetch(sb.url + "/merchant/api/archive", { headers: { authorization: tempoCred.value } });
      assertProblem({ res, text: "", json: await res.json() }, "method-unsupported", 400);
      assert.equal((await api(sb, token, "GET", `/spend_requests/${other.id}`)).json.status, "approved");
      r = await pay(sb, "/merchant/api/archive", other.spt);
      assert.equal(r.res.status, 200);
    }));

  test("browsers can read the challenge and the receipt (CORS exposes them)", () =>
    withSandbox(async (sb) => {
      const res = await fetch(sb.url + "/merchant/api/forecast", { headers: { origin: "http://localhost:8080" } });
      assert.equal(res.headers.get("access-control-allow-origin"), "http://localhost:8080");
      assert.match(res.headers.get("access-control-expose-headers"), /WWW-Authenticate/);
      assert.match(res.headers.get("access-control-expose-headers"), /Payment-Receipt/);
      const pre = await fetch(sb.url + "/merchant/api/archive", { method: "OPTIONS", headers: { origin: "http://localhost:8080", "access-control-request-method": "GET", "access-control-request-headers": "payment-authorization" } });
      assert.equal(pre.status, 204);
      assert.equal(pre.headers.get("access-control-allow-headers"), "payment-authorization");
    }));
});

describe("card checkout", () => {
  async function approvedCard(sb, token, amount = 12_900) {
    const body = { credential_type: "card", amount, currency: "usd", merchant_name: "Sandbox Outfitters", merchant_url: `${sb.url}/merchant/checkout`, context: context(), request_approval: true };
    const sr = (await api(sb, token, "POST", "/spend_requests", body)).json;
    sb.approve(sr.id);
    return { id: sr.id, card: (await api(sb, token, "GET", `/spend_requests/${sr.id}?include=card`)).json.card };
  }
  const submit = (sb, fields) =>
    fetch(`${sb.url}/merchant/checkout`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(fields).toString() }).then(async (r) => ({ status: r.status, html: await r.text() }));
  const fieldsFor = (card, over = {}) => ({
    item: "Trail running jacket",
    amount: "12900",
    currency: "usd",
    cardholder: "Jenny Rosen",
    cardnumber: card.number.replace(/(\d{4})/g, "$1 ").trim(),
    exp: `${String(card.exp_month).padStart(2, "0")}/${String(card.exp_year).slice(2)}`,
    cvc: card.cvc,
    postal: "94103",
    ...over,
  });

  test("the form has stable names and autocomplete hints", () =>
    withSandbox(async (sb) => {
      const res = await fetch(`${sb.url}/merchant/checkout?amount=4200&item=Socks`);
      const html = await res.text();
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-security-policy"), /default-src 'none'/);
      for (const [name, ac] of [["cardholder", "cc-name"], ["cardnumber", "cc-number"], ["exp", "cc-exp"], ["cvc", "cc-csc"], ["postal", "postal-code"]]) {
        assert.match(html, new RegExp(`name="${name}" autocomplete="${ac}"`));
      }
      assert.match(html, /\$42\.00/);
    }));

  test("charges an issued card once; wrong CVC, wrong expiry, unknown, reused, over-amount and expired cards are declined", () =>
    withSandbox(async (sb) => {
      const token = sb.issueTokens().access_token;
      const { id, card } = await approvedCard(sb, token);
      let r = await submit(sb, fieldsFor(card, { cvc: card.cvc === "000" ? "001" : "000" }));
      assert.equal(r.status, 402);
      assert.match(r.html, /security code is incorrect/);
      r = await submit(sb, fieldsFor(card, { exp: "01/20" }));
      assert.match(r.html, /expiration date is incorrect/);
      r = await submit(sb, fieldsFor(card, { amount: "13000" }));
      assert.match(r.html, /more than the card allows/);
      r = await submit(sb, fieldsFor(card, { cardnumber: "4242424242424242" }));
      assert.match(r.html, /declined/);
      r = await submit(sb, fieldsFor(card, { postal: "" }));
      assert.equal(r.status, 400);
      assert.equal((await api(sb, token, "GET", `/spend_requests/${id}`)).json.status, "approved", "declines spend nothing");
      r = await submit(sb, fieldsFor(card));
      assert.equal(r.status, 200, r.html);
      assert.match(r.html, /Payment successful/);
      const sr = (await api(sb, token, "GET", `/spend_requests/${id}`)).json;
      assert.equal(sr.status, "succeeded");
      assert.equal(sr.payment_status_details.amount, 12_900);
      r = await submit(sb, fieldsFor(card));
      assert.match(r.html, /already used/);

      const old = await approvedCard(sb, token, 1000);
      sb.advanceClock(12 * 3600_000);
      r = await submit(sb, fieldsFor(old.card, { amount: "1000" }));
      assert.match(r.html, /expired/);

      // The JSON charge endpoint (for agents and tests without a browser).
      const fresh = await approvedCard(sb, sb.createUser().access_token, 500);
      const charge = (body) => fetch(`${sb.url}/merchant/api/charge`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }).then(async (r) => ({ status: r.status, json: await r.json() }));
      let c = await charge({ ...fresh.card, amount: 500, currency: "usd" });
      assert.equal(c.status, 200);
      assert.equal(c.json.status, "succeeded");
      c = await charge({ ...fresh.card, amount: 500, currency: "usd" });
      assert.equal(c.status, 402);
      assert.deepEqual(c.json.error, { code: "card_declined", decline_code: "card_already_used", message: "This single-use card was already used." });
    }));
});
