// The sandbox over real HTTP: the auth base (device flow, refresh rotation, revoke), the API
// base (spend requests, every documented limit and window, the lifecycle, error shapes), the
// controls, CORS, the request log and persistence. Time is a fixed clock moved by the test.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, statSync, writeFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import * as linkpay from "../dist/index.js";
import { startSandbox, PAYMENT_METHODS, DEFAULT_LIMITS } from "../dist/sandbox/index.js";

const CLIENT_ID = linkpay.authClientId;
const T0 = Date.parse("2026-03-02T09:00:00Z");
const MIN = 60_000;
const HOUR = 60 * MIN;
const GRANT_DEVICE = "urn:ietf:params:oauth:grant-type:device_code";

/** A sandbox on a frozen clock (moved only by `advanceClock`), closed after `fn`. */
async function withSandbox(opts, fn) {
  const sb = await startSandbox({ clock: () => T0, ...opts });
  try {
    return await fn(sb);
  } finally {
    await sb.close();
  }
}

async function call(sb, method, path, { token, body, form, headers = {} } = {}) {
  const h = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  let payload;
  if (form !== undefined) {
    h["content-type"] = "application/x-www-form-urlencoded";
    payload = new URLSearchParams(form).toString();
  } else if (body !== undefined) {
    h["content-type"] = "application/json";
    payload = typeof body === "string" ? body : JSON.stringify(body);
  }
  const res = await fetch(sb.url + path, { method, headers: h, body: payload, redirect: "manual" });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

let contextSeq = 0;
/** A distinct context of at least 100 characters (distinct contexts are not duplicates). */
function context(tag = "") {
  contextSeq++;
  return `Buying item ${contextSeq} ${tag} for the user, who asked for it in this conversation; the total matches the cart shown at checkout.`.padEnd(110, ".");
}

function cardBody(over = {}) {
  return {
    credential_type: "card",
    amount: 1000,
    currency: "usd",
    merchant_name: "Example Store",
    merchant_url: "https://shop.example",
    context: context(),
    line_items: [{ name: "Shoes", quantity: 1, unit_amount: 1000 }],
    totals: [{ type: "total", display_text: "Total", amount: 1000 }],
    request_approval: true,
    ...over,
  };
}

function sptBody(over = {}) {
  return { credential_type: "shared_payment_token", network_id: "profile_sandbox", amount: 100, currency: "usd", context: context("mpp"), request_approval: true, ...over };
}

/** A token that outlives every clock jump of a test. */
const tokenOf = (sb, userId) => sb.issueTokens(userId, { expiresIn: 365 * 86_400 }).access_token;
const create = (sb, token, body, headers) => call(sb, "POST", "/spend_requests", { token, body, headers });

function assertApiError(res, status, code) {
  assert.equal(res.status, status, res.text);
  assert.equal(typeof res.json?.error, "object", res.text);
  assert.equal(res.json.error.code, code, res.text);
  assert.equal(typeof res.json.error.message, "string");
  return res.json.error;
}

// ----- auth base -------------------------------------------------------------------------------

describe("auth: device flow", () => {
  const deviceCodeForm = {
    client_id: CLIENT_ID,
    scope: "userinfo:read payment_methods.agentic",
    connection_label: "Link CLI on vm",
    client_hint: "Link CLI",
    "authorization_details[][type]": "source",
    "authorization_details[][actions][]": "read_balances",
  };
  const poll = (sb, device_code) => call(sb, "POST", "/device/token", { form: { grant_type: GRANT_DEVICE, device_code, client_id: CLIENT_ID } });

  test("device code: the shape the client expects, with the verification page", () =>
    withSandbox({}, async (sb) => {
      const res = await call(sb, "POST", "/device/code", { form: deviceCodeForm });
      assert.equal(res.status, 200);
      assert.deepEqual(Object.keys(res.json), ["device_code", "user_code", "verification_uri", "verification_uri_complete", "expires_in", "interval"]);
      assert.match(res.json.user_code, /^[a-z]+-[a-z]+-[a-z]+$/);
      assert.equal(res.json.verification_uri, `${sb.url}/device`);
      assert.equal(res.json.verification_uri_complete, `${sb.url}/device?code=${res.json.user_code}`);
      assert.equal(res.json.expires_in, 300);
      assert.equal(res.json.interval, 1);
      assert.equal(res.headers.get("cache-control"), "no-store");
    }));

  test("client_id is checked; the body must be form-encoded", () =>
    withSandbox({}, async (sb) => {
      let res = await call(sb, "POST", "/device/code", { form: { scope: "x" } });
      assert.equal(res.status, 400);
      assert.deepEqual(res.json, { error: "invalid_request", error_description: "Missing required parameter: client_id" });
      res = await call(sb, "POST", "/device/code", { form: { client_id: "lwlpk_other" } });
      assert.equal(res.status, 401);
      assert.equal(res.json.error, "invalid_client");
      res = await call(sb, "POST", "/device/token", { form: { grant_type: "refresh_token", refresh_token: "x", client_id: "nope" } });
      assert.equal(res.json.error, "invalid_client");
      res = await call(sb, "POST", "/device/code", { body: { client_id: CLIENT_ID } });
      assert.equal(res.status, 400);
      assert.equal(res.json.error, "invalid_request");
      res = await call(sb, "POST", "/device/token", { form: { grant_type: "password", client_id: CLIENT_ID } });
      assert.equal(res.json.error, "unsupported_grant_type");
    }));

  test("pending, slow_down when polled faster than the interval, then tokens once", () =>
    withSandbox({}, async (sb) => {
      const code = (await call(sb, "POST", "/device/code", { form: deviceCodeForm })).json;
      let res = await poll(sb, code.device_code);
      assert.equal(res.status, 400);
      assert.equal(res.json.error, "authorization_pending");
      res = await poll(sb, code.device_code); // same instant: too fast
      assert.equal(res.json.error, "slow_down");
      sb.advanceClock(1000); // the interval is now 6 s: still too fast, and now 11 s
      res = await poll(sb, code.device_code);
      assert.equal(res.json.error, "slow_down");
      assert.match(res.json.error_description, /11 seconds/);
      sb.advanceClock(11_000);
      res = await poll(sb, code.device_code);
      assert.equal(res.json.error, "authorization_pending");

      // The client core reads these answers as "keep polling" (slow_down adds 5 s).
      const pending = { device_code: code.device_code, interval: 1, expires_at: T0 + 300_000, verification_url: code.verification_uri_complete, phrase: code.user_code };
      const step = linkpay.authHandleTokenResponse(pending, 400, JSON.stringify({ error: "slow_down" }), sb.now());
      assert.equal(step.state, "pending");

      sb.approveDevice(code.user_code);
      sb.advanceClock(11_000);
      res = await poll(sb, code.device_code);
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(Object.keys(res.json), ["access_token", "refresh_token", "token_type", "expires_in", "scope", "authorization_details"]);
      assert.equal(res.json.token_type, "Bearer");
      assert.equal(res.json.expires_in, 3600);
      assert.equal(res.json.scope, "userinfo:read,payment_methods.agentic");
      assert.deepEqual(res.json.authorization_details, [{ type: "source", actions: ["read_balances"] }]);
      const done = linkpay.authHandleTokenResponse(pending, 200, res.text, sb.now());
      assert.equal(done.state, "authenticated");

      const me = await call(sb, "GET", "/userinfo", { token: res.json.access_token });
      assert.equal(me.status, 200);
      assert.equal(me.json.email, "jenny.rosen@example.com");

      sb.advanceClock(20_000);
      res = await poll(sb, code.device_code);
      assert.equal(res.json.error, "invalid_grant");
    }));

  test("denied → access_denied; not approved in time → expired_token", () =>
    withSandbox({}, async (sb) => {
      const a = (await call(sb, "POST", "/device/code", { form: deviceCodeForm })).json;
      const b = (await call(sb, "POST", "/device/code", { form: deviceCodeForm })).json;
      const denied = await call(sb, "POST", "/sandbox/device/deny", { body: { user_code: a.user_code } });
      assert.deepEqual(denied.json, { user_code: a.user_code, status: "denied" });
      let res = await poll(sb, a.device_code);
      assert.equal(res.json.error, "access_denied");
      const pending = { device_code: a.device_code, interval: 1, expires_at: T0 + 300_000, verification_url: "x", phrase: a.user_code };
      assert.throws(() => linkpay.authHandleTokenResponse(pending, res.status, res.text, sb.now()), { code: "AUTHORIZATION_DENIED" });

      sb.advanceClock(300_000);
      res = await poll(sb, b.device_code);
      assert.equal(res.json.error, "expired_token");
      assert.throws(() => linkpay.authHandleTokenResponse({ ...pending, device_code: b.device_code }, res.status, res.text, sb.now()), { code: "DEVICE_CODE_EXPIRED" });
      res = await call(sb, "POST", "/sandbox/device/approve", { body: { user_code: b.user_code } });
      assert.equal(res.status, 409);
      res = await poll(sb, "dc_unknown");
      assert.equal(res.json.error, "invalid_grant");
    }));

  test("auto-approve: the first poll gets tokens", () =>
    withSandbox({ autoApprove: true }, async (sb) => {
      const code = (await call(sb, "POST", "/device/code", { form: deviceCodeForm })).json;
      const res = await poll(sb, code.device_code);
      assert.equal(res.status, 200, res.text);
      assert.ok(res.json.access_token);
    }));

  test("refresh rotates: the old refresh token stops working", () =>
    withSandbox({}, async (sb) => {
      const first = sb.issueTokens();
      const refresh = (rt) => call(sb, "POST", "/device/token", { form: { grant_type: "refresh_token", refresh_token: rt, client_id: CLIENT_ID } });
      const second = await refresh(first.refresh_token);
      assert.equal(second.status, 200, second.text);
      assert.notEqual(second.json.refresh_token, first.refresh_token);
      assert.notEqual(second.json.access_token, first.access_token);
      const again = await refresh(first.refresh_token);
      assert.equal(again.status, 400);
      assert.equal(again.json.error, "invalid_grant");
      const third = await refresh(second.json.refresh_token);
      assert.equal(third.status, 200);
      assert.equal((await call(sb, "GET", "/payment-details", { token: third.json.access_token })).status, 200);
    }));

  test("revoke ends the session: refresh and access tokens stop working", () =>
    withSandbox({}, async (sb) => {
      const t = sb.issueTokens();
      assert.equal((await call(sb, "GET", "/payment-details", { token: t.access_token })).status, 200);
      let res = await call(sb, "POST", "/device/revoke", { form: { client_id: CLIENT_ID, token: t.refresh_token } });
      assert.equal(res.status, 200);
      assert.deepEqual(res.json, {});
      res = await call(sb, "POST", "/device/token", { form: { grant_type: "refresh_token", refresh_token: t.refresh_token, client_id: CLIENT_ID } });
      assert.equal(res.json.error, "invalid_grant");
      res = await call(sb, "GET", "/payment-details", { token: t.access_token });
      assert.equal(assertApiError(res, 401, "unauthorized").message, "Access token revoked.");
      // Unknown tokens are not an error (RFC 7009).
      res = await call(sb, "POST", "/device/revoke", { form: { client_id: CLIENT_ID, token: "lsrt_unknown" } });
      assert.equal(res.status, 200);
    }));

  test("bearer auth on every API call: missing, unknown, expired → 401", () =>
    withSandbox({ accessTokenTtlSeconds: 60 }, async (sb) => {
      const token = sb.issueTokens().access_token;
      for (const [method, path] of [["GET", "/payment-details"], ["GET", "/spend_requests"], ["POST", "/spend_requests"], ["GET", "/spend_requests/lsrq_x"], ["POST", "/spend_requests/lsrq_x/cancel"], ["GET", "/userinfo"]]) {
        const res = await call(sb, method, path);
        assertApiError(res, 401, "unauthorized");
        assert.match(res.headers.get("www-authenticate"), /^Bearer /);
      }
      assert.equal(assertApiError(await call(sb, "GET", "/payment-details", { token: "nope" }), 401, "unauthorized").message, "Invalid access token.");
      assert.equal((await call(sb, "GET", "/payment-details", { token })).status, 200);
      sb.advanceClock(60_000);
      assert.equal(assertApiError(await call(sb, "GET", "/payment-details", { token }), 401, "unauthorized").message, "Access token expired.");
    }));
});

// ----- API base ----------------------------------------------------------------------------------

describe("api: wallet", () => {
  test("payment-details lists the test methods; userinfo and shipping addresses", () =>
    withSandbox({}, async (sb) => {
      const token = tokenOf(sb);
      const res = await call(sb, "GET", "/payment-details", { token });
      assert.equal(res.status, 200);
      const methods = res.json.payment_details;
      assert.deepEqual(methods.map((m) => m.id), PAYMENT_METHODS.map((m) => m.id));
      assert.deepEqual(methods[0], {
        id: "csmrpd_sandbox_visa",
        type: "card",
        is_default: true,
        nickname: "Personal Visa",
        card_details: { brand: "visa", last4: "4242", exp_month: 12, exp_year: 2034 },
        capabilities: { agentic_payments: { eligible: true, ineligibility_reasons: [] } },
      });
      assert.equal(methods.filter((m) => m.is_default).length, 1);
      assert.ok(methods.some((m) => m.card_details?.brand === "mastercard"));
      assert.ok(methods.some((m) => m.type === "bank_account" && m.bank_account_details.last4));
      const ship = await call(sb, "GET", "/shipping_addresses", { token });
      assert.equal(ship.json.shipping_addresses[0].address.country_code, "US");
    }));
});

describe("api: spend requests", () => {
  test("create exactly as the reference client sends it → pending_approval with approval_url", () =>
    withSandbox({}, async (sb) => {
      const token = tokenOf(sb);
      const body = {
        payment_details: "csmrpd_sandbox_visa",
        credential_type: "card",
        amount: 1000,
        currency: "usd",
        merchant_name: "Example Store",
        merchant_url: "https://shop.example",
        context: context(),
        line_items: [{ name: "Shoes", quantity: 1, unit_amount: 1000 }],
        totals: [{ type: "total", display_text: "Total", amount: 1000 }],
        request_approval: true,
        metadata: { order_id: "ord_1" },
      };
      const res = await create(sb, token, body);
      assert.equal(res.status, 200, res.text);
      const sr = res.json;
      assert.match(sr.id, /^lsrq_/);
      assert.equal(sr.status, "pending_approval");
      assert.equal(sr.approval_url, `${sb.url}/approve/${sr.id}`);
      for (const k of ["merchant_name", "merchant_url", "context", "amount", "currency", "line_items", "totals", "credential_type", "metadata"]) assert.deepEqual(sr[k], body[k], k);
      assert.equal(sr.payment_details, "csmrpd_sandbox_visa");
      assert.equal(sr.created_at, "2026-03-02T09:00:00Z");
      assert.equal(sr.expires_at, (T0 + 12 * HOUR) / 1000);
      assert.equal(sr.card, undefined);
      // The client core accepts what the sandbox says.
      assert.deepEqual(linkpay.normalizeSpendRequest(sr), sr);
      assert.equal(linkpay.nextSpendRequestAction(sr).terminal, false);

      const plain = await create(sb, token, cardBody({ request_approval: undefined }));
      assert.equal(plain.json.status, "created");
      assert.equal(plain.json.approval_url, undefined);
      assert.equal(plain.json.payment_details, "csmrpd_sandbox_visa", "the default payment method");
    }));

  test("validation: the core's rules and messages, as 400 parameter_invalid with field errors", () =>
    withSandbox({}, async (sb) => {
      const token = tokenOf(sb);
      const cases = [
        { amount: 0, context: "short", credential_type: "card" },
        cardBody({ amount: 50_001 }),
        cardBody({ network_id: "net_1" }),
        sptBody({ network_id: undefined }),
        sptBody({ merchant_name: "x" }),
        cardBody({ execution_method: "link_pay_token" }),
        cardBody({ totals: [{ type: "bogus", display_text: "T", amount: 1 }] }),
        cardBody({ currency: "dollars" }),
        cardBody({ colour: "red" }),
        cardBody({ metadata: { k: 1 } }),
        cardBody({ expires_at: T0 / 1000 + 60 }),
      ];
      for (const body of cases) {
        const clean = JSON.parse(JSON.stringify(body));
        let expected;
        try {
          linkpay.validateCreateSpendRequestBody(clean, T0 / 1000);
          assert.fail(`core accepted ${JSON.stringify(clean)}`);
        } catch (e) {
          expected = e;
        }
        const err = assertApiError(await create(sb, token, clean), 400, "parameter_invalid");
        assert.equal(err.message, expected.message);
        assert.deepEqual(err.field_errors, expected.fieldErrors);
        assert.equal(err.param, expected.fieldErrors[0].path);
      }
      assertApiError(await create(sb, token, "[1,2]"), 400, "parameter_invalid");
      assertApiError(await create(sb, token, "{nope"), 400, "invalid_json");
      const pm = assertApiError(await create(sb, token, cardBody({ payment_details: "csmrpd_mock_1" })), 400, "parameter_invalid");
      assert.equal(pm.param, "payment_details");
      assert.equal((await call(sb, "GET", "/spend_requests?include_history=true", { token })).json.data.length, 0, "nothing was created");
    }));

  test("SPT and Link Pay Token requests; credentials only with include, only once approved", () =>
    withSandbox({}, async (sb) => {
      const token = tokenOf(sb);
      const spt = (await create(sb, token, sptBody())).json;
      assert.equal(spt.network_id, "profile_sandbox");
      let got = await call(sb, "GET", `/spend_requests/${spt.id}?include=shared_payment_token`, { token });
      assert.equal(got.json.shared_payment_token, undefined, "not before approval");
      sb.approve(spt.id);
      got = await call(sb, "GET", `/spend_requests/${spt.id}`, { token });
      assert.equal(got.json.status, "approved");
      assert.equal(got.json.shared_payment_token, undefined, "not unless asked");
      got = await call(sb, "GET", `/spend_requests/${spt.id}?include=shared_payment_token`, { token });
      assert.deepEqual(Object.keys(got.json.shared_payment_token), ["id", "valid_until"]);
      assert.match(got.json.shared_payment_token.id, /^spt_/);
      assert.equal(got.json.shared_payment_token.valid_until, "2026-03-02T21:00:00Z");
      assert.equal(got.json.card, undefined);

      const card = (await create(sb, token, cardBody())).json;
      sb.approve(card.id);
      got = await call(sb, "GET", `/spend_requests/${card.id}?include=card%2Cshared_payment_token`, { token });
      const c = got.json.card;
      assert.deepEqual(Object.keys(c), ["id", "brand", "exp_month", "exp_year", "number", "cvc", "billing_address", "valid_until"]);
      assert.match(c.number, /^\d{16}$/);
      assert.match(c.cvc, /^\d{3}$/);
      assert.equal(got.json.card_last4, c.number.slice(-4));
      assert.equal(got.json.card_brand, "visa");
      assert.equal(c.billing_address.country, "US");
      assert.equal(got.json.shared_payment_token, undefined);
      assert.equal((await call(sb, "GET", `/spend_requests/${card.id}?include=card&include=shared_payment_token`, { token })).json.card.number, c.number);

      const lpt = (await create(sb, token, { execution_method: "link_pay_token", merchant_account_id: "acct_123", amount: 500, context: context(), request_approval: true })).json;
      assert.equal(lpt.status, "pending_approval");
      sb.approve(lpt.id);
      got = await call(sb, "GET", `/spend_requests/${lpt.id}?include=link_pay_token`, { token });
      assert.match(got.json.link_pay_token, /^lpt_/);

      assertApiError(await call(sb, "GET", `/spend_requests/${card.id}?include=pan`, { token }), 400, "parameter_invalid");
    }));

  test("retrieve and list: 404s, other users' requests are invisible, active vs history", () =>
    withSandbox({}, async (sb) => {
      const token = tokenOf(sb);
      const other = sb.createUser().access_token;
      const a = (await create(sb, token, cardBody())).json;
      const b = (await create(sb, token, cardBody())).json;
      const c = (await create(sb, token, cardBody({ request_approval: undefined }))).json;
      await call(sb, "POST", `/spend_requests/${b.id}/cancel`, { token });
      const missing = assertApiError(await call(sb, "GET", "/spend_requests/lsrq_missing", { token }), 404, "resource_missing");
      assert.equal(missing.message, "No such spend request: 'lsrq_missing'");
      assertApiError(await call(sb, "GET", `/spend_requests/${a.id}`, { token: other }), 404, "resource_missing");
      assertApiError(await call(sb, "POST", `/spend_requests/${a.id}/cancel`, { token: other }), 404, "resource_missing");
      const active = await call(sb, "GET", "/spend_requests", { token });
      assert.deepEqual(Object.keys(active.json), ["data"]);
      assert.deepEqual(active.json.data.map((s) => s.id), [c.id, a.id]);
      const all = await call(sb, "GET", "/spend_requests?include_history=true", { token });
      assert.deepEqual(all.json.data.map((s) => s.id), [c.id, b.id, a.id]);
      assert.deepEqual((await call(sb, "GET", "/spend_requests", { token: other })).json, { data: [] });
    }));

  test("update only while created; request_approval; cancel 409/422", () =>
    withSandbox({}, async (sb) => {
      const token = tokenOf(sb);
      const sr = (await create(sb, token, cardBody({ request_approval: undefined }))).json;
      let res = await call(sb, "POST", `/spend_requests/${sr.id}`, { token, body: { amount: 1500, payment_details: "csmrpd_sandbox_mastercard", line_items: [{ name: "Boots", quantity: "2", unit_amount: 750 }] } });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json.amount, 1500);
      assert.equal(res.json.payment_details, "csmrpd_sandbox_mastercard");
      assert.deepEqual(res.json.line_items, [{ name: "Boots", quantity: 2, unit_amount: 750 }]);
      let err = assertApiError(await call(sb, "POST", `/spend_requests/${sr.id}`, { token, body: { payment_method_id: "x" } }), 400, "parameter_invalid");
      assert.deepEqual(err.field_errors.map((f) => f.path), ["payment_method_id", "input"]);
      err = assertApiError(await call(sb, "POST", `/spend_requests/${sr.id}`, { token, body: { amount: -1 } }), 400, "parameter_invalid");
      assert.equal(err.message, (() => { try { linkpay.validateUpdateSpendRequest({ amount: -1 }); } catch (e) { return e.message; } })());

      res = await call(sb, "POST", `/spend_requests/${sr.id}/request_approval`, { token });
      assert.equal(res.status, 200);
      assert.deepEqual(res.json, { id: sr.id, approval_link: `${sb.url}/approve/${sr.id}` });
      err = assertApiError(await call(sb, "POST", `/spend_requests/${sr.id}/request_approval`, { token }), 409, "spend_request_unexpected_state");
      assert.equal(err.message, "Cannot request approval for a spend request in pending_approval status");
      err = assertApiError(await call(sb, "POST", `/spend_requests/${sr.id}`, { token, body: { amount: 900 } }), 409, "spend_request_unexpected_state");
      assert.equal(err.message, "Cannot update a spend request in pending_approval status");

      res = await call(sb, "POST", `/spend_requests/${sr.id}/cancel`, { token });
      assert.equal(res.json.status, "canceled");
      err = assertApiError(await call(sb, "POST", `/spend_requests/${sr.id}/cancel`, { token }), 409, "spend_request_unexpected_state");
      assert.equal(err.message, "Cannot cancel a spend request in canceled status");

      const approved = (await create(sb, token, cardBody())).json;
      sb.approve(approved.id);
      assert.equal((await call(sb, "POST", `/spend_requests/${approved.id}/cancel`, { token })).json.status, "canceled");
      assert.equal((await call(sb, "GET", `/spend_requests/${approved.id}?include=card`, { token })).json.card, undefined);

      const expiring = (await create(sb, token, cardBody())).json;
      sb.advanceClock(10 * MIN);
      err = assertApiError(await call(sb, "POST", `/spend_requests/${expiring.id}/cancel`, { token }), 422, "spend_request_unexpected_state");
      assert.equal(err.message, "Cannot cancel a spend request in expired status");
    }));

  test("the 10-minute approval window, on the sandbox clock", () =>
    withSandbox({}, async (sb) => {
      const token = tokenOf(sb);
      const sr = (await create(sb, token, cardBody())).json;
      sb.advanceClock(10 * MIN - 1);
      assert.equal((await call(sb, "GET", `/spend_requests/${sr.id}`, { token })).json.status, "pending_approval");
      sb.advanceClock(1);
      const res = await call(sb, "GET", `/spend_requests/${sr.id}`, { token });
      assert.equal(res.json.status, "expired");
      assert.equal(res.json.updated_at, "2026-03-02T09:10:00Z", "expired at the deadline, not when looked at");
      assert.equal(linkpay.nextSpendRequestAction(res.json).terminal, true);
      const late = await call(sb, "POST", `/sandbox/spend_requests/${sr.id}/approve`);
      assert.equal(late.status, 409);
    }));

  test("credentials are valid 12 hours (or until expires_at), then expired", () =>
    withSandbox({}, async (sb) => {
      const token = tokenOf(sb);
      const sr = (await create(sb, token, cardBody())).json;
      sb.approve(sr.id);
      sb.advanceClock(12 * HOUR - 1000);
      let res = await call(sb, "GET", `/spend_requests/${sr.id}?include=card`, { token });
      assert.equal(res.json.status, "approved");
      assert.equal(res.json.card.valid_until, "2026-03-02T21:00:00Z");
      sb.advanceClock(1000);
      res = await call(sb, "GET", `/spend_requests/${sr.id}?include=card`, { token });
      assert.equal(res.json.status, "expired");
      assert.equal(res.json.card, undefined);

      const expiresAt = Math.floor(sb.now() / 1000) + 4 * 3600;
      const custom = (await create(sb, token, cardBody({ expires_at: expiresAt }))).json;
      assert.equal(custom.expires_at, expiresAt);
      sb.approve(custom.id);
      sb.advanceClock(4 * HOUR);
      assert.equal((await call(sb, "GET", `/spend_requests/${custom.id}`, { token })).json.status, "expired");
    }));

  test("deny → denied, never a credential", () =>
    withSandbox({}, async (sb) => {
      const token = tokenOf(sb);
      const sr = (await create(sb, token, cardBody())).json;
      const res = await call(sb, "POST", `/sandbox/spend_requests/${sr.id}/deny`);
      assert.equal(res.json.status, "denied");
      const got = await call(sb, "GET", `/spend_requests/${sr.id}?include=card`, { token });
      assert.equal(got.json.status, "denied");
      assert.equal(got.json.card, undefined);
      assert.equal((await call(sb, "POST", `/sandbox/spend_requests/${sr.id}/approve`)).status, 409);
    }));

  test("3-D Secure: requires_action with auto_resume, then approved after a short delay", () =>
    withSandbox({}, async (sb) => {
      const token = tokenOf(sb);
      const sr = (await create(sb, token, cardBody({ payment_details: "csmrpd_sandbox_3ds" }))).json;
      sb.approve(sr.id);
      let res = await call(sb, "GET", `/spend_requests/${sr.id}?include=card`, { token });
      assert.equal(res.json.status, "requires_action");
      assert.equal(res.json.card, undefined);
      const next = res.json.status_details.requires_action.next_action;
      assert.equal(next.type, "three_d_secure");
      assert.equal(next.resolution, "auto_resume");
      assert.equal(next.action_url, `${sb.url}/3ds/${sr.id}`);
      const step = linkpay.nextSpendRequestAction(res.json);
      assert.equal(step.terminal, false, "the client keeps polling");
      assert.equal(step.requires_action.auto_resume, true);
      sb.advanceClock(2999);
      assert.equal((await call(sb, "GET", `/spend_requests/${sr.id}`, { token })).json.status, "requires_action");
      sb.advanceClock(1);
      res = await call(sb, "GET", `/spend_requests/${sr.id}?include=card`, { token });
      assert.equal(res.json.status, "approved");
      assert.equal(res.json.status_details, null);
      assert.match(res.json.card.number, /^\d{16}$/);

      // The bank page completes it at once.
      const other = (await create(sb, token, cardBody({ payment_details: "csmrpd_sandbox_3ds" }))).json;
      sb.approve(other.id);
      const form = await call(sb, "GET", `/3ds/${other.id}`);
      const pageToken = /name="page_token" value="([^"]+)"/.exec(form.text)[1];
      assert.equal((await call(sb, "POST", `/3ds/${other.id}`)).status, 403, "a post without the page's token changes nothing");
      assert.equal((await call(sb, "GET", `/spend_requests/${other.id}`, { token })).json.status, "requires_action");
      const page = await call(sb, "POST", `/3ds/${other.id}`, { form: { page_token: pageToken } });
      assert.equal(page.status, 200);
      assert.equal((await call(sb, "GET", `/spend_requests/${other.id}`, { token })).json.status, "approved");
    }));

  test("every other transition: fail (approved or requires_action), and nothing leaves a final status", () =>
    withSandbox({}, async (sb) => {
      const token = tokenOf(sb);
      const a = (await create(sb, token, cardBody())).json;
      sb.approve(a.id);
      let res = await call(sb, "POST", `/sandbox/spend_requests/${a.id}/fail`);
      assert.equal(res.json.status, "failed");
      assert.equal(res.json.payment_status_details.outcome, "failure");
      assert.equal((await call(sb, "GET", `/spend_requests/${a.id}?include=card`, { token })).json.card, undefined);
      const b = (await create(sb, token, cardBody({ payment_details: "csmrpd_sandbox_3ds" }))).json;
      sb.approve(b.id);
      assert.equal((await call(sb, "POST", `/sandbox/spend_requests/${b.id}/fail`)).json.status, "failed");
      sb.advanceClock(5000);
      assert.equal((await call(sb, "GET", `/spend_requests/${b.id}`, { token })).json.status, "failed", "3-D Secure does not resume a failed request");
      // Final statuses: every event is refused with the core's message.
      for (const [path, message] of [
        [`/spend_requests/${a.id}/cancel`, "Cannot cancel a spend request in failed status"],
        [`/spend_requests/${a.id}/request_approval`, "Cannot request approval for a spend request in failed status"],
      ]) {
        const err = assertApiError(await call(sb, "POST", path, { token }), 409, "spend_request_unexpected_state");
        assert.equal(err.message, message);
      }
      for (const action of ["approve", "deny", "resume", "fail"]) {
        assert.equal((await call(sb, "POST", `/sandbox/spend_requests/${a.id}/${action}`)).status, 409, action);
      }
      const c = (await create(sb, token, cardBody())).json;
      assert.equal((await call(sb, "POST", `/sandbox/spend_requests/${c.id}/fail`)).status, 409, "pending_approval cannot fail");
      assert.equal((await call(sb, "POST", `/sandbox/spend_requests/${c.id}/resume`)).status, 409);
    }));

  test("create_delegated (with allowDelegated): created approved, with credentials", () =>
    withSandbox({ allowDelegated: true }, async (sb) => {
      const token = tokenOf(sb);
      let res = await call(sb, "POST", "/spend_requests/create_delegated", { token, body: cardBody({ request_approval: undefined }) });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json.status, "approved");
      res = await call(sb, "GET", `/spend_requests/${res.json.id}?include=card`, { token });
      assert.ok(res.json.card.number);
      res = await call(sb, "POST", "/spend_requests/create_delegated", { token, body: cardBody({ payment_details: "csmrpd_sandbox_3ds" }) });
      assert.equal(res.json.status, "requires_action");
    }));

  test("auto-approve: pending_approval on create, approved on the next look", () =>
    withSandbox({ autoApprove: true }, async (sb) => {
      const token = tokenOf(sb);
      const sr = (await create(sb, token, cardBody())).json;
      assert.equal(sr.status, "pending_approval");
      assert.equal((await call(sb, "GET", `/spend_requests/${sr.id}`, { token })).json.status, "approved");
    }));
});

// ----- limits --------------------------------------------------------------------------------

describe("limits", () => {
  test("$500 per request (core rule) and $500 per rolling day per user", () =>
    withSandbox({}, async (sb) => {
      const token = tokenOf(sb);
      const over = assertApiError(await create(sb, token, cardBody({ amount: 50_001 })), 400, "parameter_invalid");
      assert.match(over.message, /\$500 per-request limit/);
      for (let i = 0; i < 4; i++) assert.equal((await create(sb, token, cardBody({ amount: 12_000 }))).status, 200);
      const err = assertApiError(await create(sb, token, cardBody({ amount: 2_001 })), 400, "spend_limit_exceeded");
      assert.equal(err.limit, "daily");
      assert.match(err.message, /\$500\.00/);
      assert.equal((await create(sb, token, cardBody({ amount: 2_000 }))).status, 200, "exactly $500 is allowed");
      // Another user has their own budget.
      assert.equal((await create(sb, sb.createUser().access_token, cardBody({ amount: 50_000 }))).status, 200);
      // Denied and canceled requests give the budget back.
      const list = (await call(sb, "GET", "/spend_requests", { token })).json.data;
      await call(sb, "POST", `/spend_requests/${list[0].id}/cancel`, { token });
      assert.equal((await create(sb, token, cardBody({ amount: 2_000 }))).status, 200);
      sb.advanceClock(24 * HOUR);
      assert.equal((await create(sb, token, cardBody({ amount: 50_000 }))).status, 200, "a new day");
    }));

  test("$20,000 per rolling 30 days per user, beside the daily limit; the window rolls over", () =>
    // The daily limit ($500) alone keeps 30 days under $15,500: it is raised here (to $15,000)
    // so that two days reach the monthly limit, which keeps its default.
    withSandbox({ limits: { dailyCents: 1_500_000 } }, async (sb) => {
      assert.equal(DEFAULT_LIMITS.monthlyCents, 2_000_000);
      assert.equal(DEFAULT_LIMITS.dailyCents, 50_000);
      const token = tokenOf(sb);
      const spent = async (n, amount = 50_000) => {
        for (let i = 0; i < n; i++) {
          const sr = await create(sb, token, cardBody({ amount }));
          assert.equal(sr.status, 200, sr.text);
          for (const action of ["approve", "succeed"]) {
            const res = await call(sb, "POST", `/sandbox/spend_requests/${sr.json.id}/${action}`);
            assert.equal(res.status, 200, res.text);
          }
        }
      };
      await spent(20); // day 0: $10,000, charged
      sb.advanceClock(24 * HOUR + 1);
      await spent(19); // day 1: $9,500 more
      const last = await create(sb, token, cardBody({ amount: 49_999, request_approval: false })); // $19,999.99, created (updatable)
      assert.equal(last.status, 200, last.text);
      let err = assertApiError(await create(sb, token, cardBody({ amount: 2 })), 400, "spend_limit_exceeded");
      assert.equal(err.limit, "monthly");
      assert.equal(err.param, "amount");
      assert.match(err.message, /last 30 days to \$20000\.01, over the monthly limit of \$20000\.00 \(\$0\.01 left\)/);
      // An update is held to it too (the request's own amount not counted twice): exactly $20,000 is allowed.
      const updated = await call(sb, "POST", `/spend_requests/${last.json.id}`, { token, body: { amount: 50_000 } });
      assert.equal(updated.status, 200, updated.text);
      err = assertApiError(await create(sb, token, cardBody({ amount: 1 })), 400, "spend_limit_exceeded");
      assert.equal(err.limit, "monthly");
      // The daily limit is still checked first, and is still the daily one.
      let usage = (await call(sb, "GET", `/sandbox/users/${sb.defaultUserId}`)).json;
      assert.equal(usage.spent_last_30_days, 2_000_000);
      assert.equal(usage.spent_last_24h, 1_000_000);
      // Another user has their own month.
      assert.equal((await create(sb, sb.createUser().access_token, cardBody({ amount: 50_000 }))).status, 200);
      // 30 days after day 0, day 0's $10,000 is out of the window (day 1's created request expired unapproved).
      sb.advanceClock(29 * 24 * HOUR);
      usage = (await call(sb, "GET", `/sandbox/users/${sb.defaultUserId}`)).json;
      assert.equal(usage.spent_last_30_days, 950_000);
      assert.equal((await create(sb, token, cardBody({ amount: 50_000 }))).status, 200, "the window rolled over");
    }));

  test("the daily limit with the monthly one lowered: whichever is reached first refuses", () =>
    withSandbox({ limits: { monthlyCents: 60_000 } }, async (sb) => {
      const token = tokenOf(sb);
      assert.equal((await create(sb, token, cardBody({ amount: 50_000 }))).status, 200);
      let err = assertApiError(await create(sb, token, cardBody({ amount: 1 })), 400, "spend_limit_exceeded");
      assert.equal(err.limit, "daily");
      sb.advanceClock(24 * HOUR);
      // The first request expired unapproved (it no longer counts): approve one and charge it.
      const sr = (await create(sb, token, cardBody({ amount: 50_000 }))).json;
      await call(sb, "POST", `/sandbox/spend_requests/${sr.id}/approve`);
      await call(sb, "POST", `/sandbox/spend_requests/${sr.id}/succeed`);
      sb.advanceClock(24 * HOUR);
      err = assertApiError(await create(sb, token, cardBody({ amount: 10_001 })), 400, "spend_limit_exceeded");
      assert.equal(err.limit, "monthly", "a new day, but the month is at $500 of $600");
      assert.equal((await create(sb, token, cardBody({ amount: 10_000 }))).status, 200);
      // `succeed` is a merchant's charge: only an approved request can be charged.
      assert.equal((await call(sb, "POST", `/sandbox/spend_requests/${sr.id}/succeed`)).status, 409);
    }));

  test("30 active at once", () =>
    withSandbox({}, async (sb) => {
      const token = tokenOf(sb);
      const ids = [];
      for (let i = 0; i < 30; i++) {
        const res = await create(sb, token, cardBody({ amount: 100 }));
        assert.equal(res.status, 200, res.text);
        ids.push(res.json.id);
      }
      const err = assertApiError(await create(sb, token, cardBody({ amount: 100 })), 409, "spend_request_limit_exceeded");
      assert.equal(err.limit, "active");
      await call(sb, "POST", `/spend_requests/${ids[0]}/cancel`, { token });
      assert.equal((await create(sb, token, cardBody({ amount: 100 }))).status, 200);
    }));

  test("10 approved at once: at approval and at create", () =>
    withSandbox({ allowDelegated: true }, async (sb) => {
      const token = tokenOf(sb);
      const ids = [];
      for (let i = 0; i < 12; i++) ids.push((await create(sb, token, cardBody({ amount: 100 }))).json.id);
      for (let i = 0; i < 10; i++) assert.equal((await call(sb, "POST", `/sandbox/spend_requests/${ids[i]}/approve`)).status, 200);
      const err = assertApiError(await call(sb, "POST", `/sandbox/spend_requests/${ids[10]}/approve`), 409, "spend_request_limit_exceeded");
      assert.equal(err.limit, "approved");
      assert.equal((await call(sb, "GET", `/spend_requests/${ids[10]}`, { token })).json.status, "pending_approval");
      assertApiError(await create(sb, token, cardBody({ amount: 100 })), 409, "spend_request_limit_exceeded");
      assertApiError(await call(sb, "POST", "/spend_requests/create_delegated", { token, body: cardBody({ amount: 100 }) }), 409, "spend_request_limit_exceeded");
      await call(sb, "POST", `/spend_requests/${ids[0]}/cancel`, { token });
      assert.equal((await call(sb, "POST", `/sandbox/spend_requests/${ids[10]}/approve`)).status, 200);
      const usage = (await call(sb, "GET", `/sandbox/users/${sb.defaultUserId}`)).json;
      assert.equal(usage.approved, 10);
    }));

  test("50 creates per hour, 200 per 60 days: 429 spend_request_rate_limited with retry_after", () =>
    withSandbox({}, async (sb) => {
      const token = tokenOf(sb);
      const burst = async (n) => {
        for (let i = 0; i < n; i++) {
          const res = await create(sb, token, cardBody({ amount: 100, request_approval: undefined }));
          assert.equal(res.status, 200, res.text);
          await call(sb, "POST", `/spend_requests/${res.json.id}/cancel`, { token });
        }
      };
      await burst(50);
      let res = await create(sb, token, cardBody({ amount: 100 }));
      let err = assertApiError(res, 429, "spend_request_rate_limited");
      assert.equal(err.limit, "hourly");
      assert.equal(err.retry_after, (T0 + HOUR) / 1000);
      assert.equal(res.headers.get("retry-after"), "3600");
      sb.advanceClock(HOUR);
      await burst(50);
      sb.advanceClock(HOUR);
      await burst(50);
      sb.advanceClock(HOUR);
      await burst(50);
      sb.advanceClock(HOUR);
      res = await create(sb, token, cardBody({ amount: 100 }));
      err = assertApiError(res, 429, "spend_request_rate_limited");
      assert.equal(err.limit, "rolling");
      assert.equal(err.retry_after, (T0 + 60 * 24 * HOUR) / 1000);
      sb.advanceClock(60 * 24 * HOUR - 4 * HOUR);
      assert.equal((await create(sb, token, cardBody({ amount: 100 }))).status, 200);
    }));

  test("duplicates within 60 s → 429 with retry_after and the duplicate", () =>
    withSandbox({}, async (sb) => {
      const token = tokenOf(sb);
      const body = cardBody();
      const first = (await create(sb, token, body)).json;
      sb.advanceClock(30_000);
      const res = await create(sb, token, body);
      const err = assertApiError(res, 429, "spend_request_rate_limited");
      assert.equal(err.limit, "duplicate");
      assert.equal(err.retry_after, (T0 + 60_000) / 1000);
      assert.equal(res.headers.get("retry-after"), "30");
      assert.equal(err.duplicate_spend_request.id, first.id);
      assert.equal(err.duplicate_spend_request.status, "pending_approval");
      assert.match(err.message, /duplicate spend requests within a short period of time/);
      // A different purchase is fine; the same one after the window is fine.
      assert.equal((await create(sb, token, { ...body, amount: 1001 })).status, 200);
      assert.equal((await create(sb, sb.createUser().access_token, body)).status, 200, "another user");
      sb.advanceClock(30_000);
      assert.equal((await create(sb, token, body)).status, 200);
    }));

  test("Idempotency-Key: a repeat returns the same request and creates nothing", () =>
    withSandbox({}, async (sb) => {
      const token = tokenOf(sb);
      const body = cardBody();
      const headers = { "idempotency-key": "key-1" };
      const a = await create(sb, token, body, headers);
      sb.advanceClock(5000);
      const b = await create(sb, token, body, headers);
      assert.equal(b.status, 200, b.text);
      assert.equal(b.json.id, a.json.id);
      assert.equal(b.headers.get("idempotent-replayed"), "true");
      assert.equal(a.headers.get("idempotent-replayed"), null);
      assert.equal((await call(sb, "GET", "/spend_requests", { token })).json.data.length, 1);
      assertApiError(await create(sb, token, { ...body, amount: 2000 }, headers), 400, "idempotency_error");
      // Keys are per user.
      const other = await create(sb, sb.createUser().access_token, body, headers);
      assert.notEqual(other.json.id, a.json.id);
      // A failed create does not burn the key.
      const bad = await create(sb, token, cardBody({ amount: 0 }), { "idempotency-key": "key-2" });
      assert.equal(bad.status, 400);
      assert.equal((await create(sb, token, cardBody({ amount: 0 }), { "idempotency-key": "key-2" })).status, 400);
    }));
});

// ----- controls, log, CORS, errors -------------------------------------------------------------

describe("sandbox controls and the wire", () => {
  test("the request log: method, path, query, redacted headers, redacted body; /sandbox is not logged", () =>
    withSandbox({}, async (sb) => {
      const token = tokenOf(sb);
      assert.deepEqual((await call(sb, "GET", "/sandbox/requests")).json, { data: [] }, "zero requests");
      await call(sb, "GET", "/spend_requests/lsrq_1?include=card%2Cshared_payment_token", { token, headers: { "user-agent": "link-cli/0.13.1" } });
      await call(sb, "POST", "/device/revoke", { form: { client_id: CLIENT_ID, token: "rt_x" } });
      const log = (await call(sb, "GET", "/sandbox/requests")).json.data;
      assert.equal(log.length, 2);
      assert.equal(log[0].method, "GET");
      assert.equal(log[0].path, "/spend_requests/lsrq_1");
      assert.deepEqual(log[0].query, { include: "card,shared_payment_token" });
      assert.equal(log[0].headers.authorization, "Bearer <redacted>");
      assert.equal(log[0].headers["user-agent"], "link-cli/0.13.1");
      assert.equal(log[0].body, null);
      assert.equal(log[0].status, 404);
      assert.equal(log[1].body, `client_id=${CLIENT_ID}&token=<redacted>`, "the revoked token is a secret");
      assert.equal(log[1].headers["content-type"], "application/x-www-form-urlencoded");
      assert.ok(!JSON.stringify(log).includes(token));
      assert.equal((await call(sb, "GET", `/sandbox/requests?since=${log[0].seq}`)).json.data.length, 1);
      await call(sb, "DELETE", "/sandbox/requests");
      assert.deepEqual(sb.requests(), []);
    }));

  test("clock, users, tokens, reset", () =>
    withSandbox({}, async (sb) => {
      let res = await call(sb, "GET", "/sandbox/clock");
      assert.deepEqual(res.json, { now_ms: T0, now: "2026-03-02T09:00:00.000Z", offset_ms: 0 });
      res = await call(sb, "POST", "/sandbox/clock", { body: { advance_ms: 90_000 } });
      assert.equal(res.json.now_ms, T0 + 90_000);
      assertApiError(await call(sb, "POST", "/sandbox/clock", { body: { advance_ms: -1 } }), 400, "parameter_invalid");
      res = await call(sb, "POST", "/sandbox/users", { body: { id: "usr_bench_1" } });
      assert.equal(res.json.user_id, "usr_bench_1");
      assert.equal((await call(sb, "GET", "/userinfo", { token: res.json.access_token })).json.email, "usr_bench_1@sandbox.link.test");
      res = await call(sb, "POST", "/sandbox/tokens", { body: { user_id: "usr_bench_1", expires_in: 5 } });
      assert.equal(res.json.expires_in, 5);
      assertApiError(await call(sb, "POST", "/sandbox/tokens", { body: { user_id: "usr_nobody" } }), 404, "resource_missing");
      const token = res.json.access_token;
      await create(sb, token, cardBody());
      assert.equal((await call(sb, "GET", "/sandbox/users/usr_bench_1")).json.active, 1);
      assert.equal((await call(sb, "POST", "/sandbox/reset")).status, 200);
      assertApiError(await call(sb, "GET", "/spend_requests", { token }), 401, "unauthorized");
      assert.equal((await call(sb, "GET", "/sandbox")).json.default_user_id, sb.defaultUserId);
    }));

  test("errors: unknown routes, wrong methods", () =>
    withSandbox({}, async (sb) => {
      const token = tokenOf(sb);
      const err = assertApiError(await call(sb, "GET", "/v1/customers", { token }), 404, "not_found");
      assert.equal(err.message, "Unrecognized request URL (GET: /v1/customers)");
      assertApiError(await call(sb, "DELETE", "/spend_requests/lsrq_1", { token }), 404, "not_found");
      assertApiError(await call(sb, "GET", "/sandbox/nope"), 404, "not_found");
      assertApiError(await call(sb, "GET", "/%E0%A4%A"), 404, "not_found");
    }));

  test("CORS: loopback origins, exposed payment headers, preflight; others refused", () =>
    withSandbox({}, async (sb) => {
      const origin = "http://localhost:5173";
      let res = await fetch(`${sb.url}/spend_requests`, { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type, idempotency-key" } });
      assert.equal(res.status, 204);
      assert.equal(res.headers.get("access-control-allow-origin"), origin);
      assert.match(res.headers.get("access-control-allow-methods"), /POST/);
      assert.equal(res.headers.get("access-control-allow-headers"), "authorization, content-type, idempotency-key");
      res = await fetch(`${sb.url}/payment-details`, { headers: { origin: "http://127.0.0.1:9999" } });
      assert.equal(res.status, 401);
      assert.equal(res.headers.get("access-control-allow-origin"), "http://127.0.0.1:9999");
      assert.match(res.headers.get("access-control-expose-headers"), /WWW-Authenticate, Payment-Receipt/);
      res = await fetch(`${sb.url}/payment-details`, { headers: { origin: "https://evil.example" } });
      assert.equal(res.headers.get("access-control-allow-origin"), null);
      res = await fetch(`${sb.url}/spend_requests`, { method: "OPTIONS", headers: { origin: "https://evil.example", "access-control-request-method": "POST" } });
      assert.equal(res.status, 403);
      assert.equal(res.headers.get("access-control-allow-origin"), null);
    }));
});

// ----- persistence and the CLI entry -------------------------------------------------------------

describe("persistence", () => {
  test("--data: saved atomically with mode 0600, and everything survives a restart", async () => {
    const dir = mkdtempSync(join(tmpdir(), "linkpay-sandbox-"));
    const file = join(dir, "state", "sandbox.json");
    try {
      let sb = await startSandbox({ clock: () => T0, dataFile: file });
      const tokens = sb.issueTokens();
      const sr = (await create(sb, tokens.access_token, cardBody())).json;
      sb.approve(sr.id);
      const card = (await call(sb, "GET", `/spend_requests/${sr.id}?include=card`, { token: tokens.access_token })).json.card;
      const pendingId = (await create(sb, tokens.access_token, cardBody())).json.id;
      sb.advanceClock(5 * MIN);
      await sb.close();
      assert.equal(statSync(file).mode & 0o777, 0o600);
      const saved = readFileSync(file, "utf8");
      assert.ok(saved.includes(sr.id));

      sb = await startSandbox({ clock: () => T0, dataFile: file });
      try {
        assert.equal(sb.now(), T0 + 5 * MIN, "the sandbox clock is kept");
        const again = (await call(sb, "GET", `/spend_requests/${sr.id}?include=card`, { token: tokens.access_token })).json;
        assert.equal(again.status, "approved");
        assert.deepEqual(again.card, card);
        assert.equal((await call(sb, "GET", "/spend_requests", { token: tokens.access_token })).json.data.length, 2);
        // The refresh token (and its rotation) survives too.
        const refreshed = await call(sb, "POST", "/device/token", { form: { grant_type: "refresh_token", refresh_token: tokens.refresh_token, client_id: CLIENT_ID } });
        assert.equal(refreshed.status, 200);
        // Windows keep running across the restart.
        sb.advanceClock(5 * MIN);
        assert.equal((await call(sb, "GET", `/spend_requests/${pendingId}`, { token: tokens.access_token })).json.status, "expired");
        // Limits are rebuilt from the saved requests.
        const usage = (await call(sb, "GET", `/sandbox/users/${sb.defaultUserId}`)).json;
        assert.equal(usage.created_last_hour, 2);
      } finally {
        await sb.close();
      }
      writeFileSync(file, "{not json");
      await assert.rejects(startSandbox({ dataFile: file }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("main.js", () => {
  test("prints its URLs and never a card number, CVC or token", async () => {
    const main = fileURLToPath(new URL("../dist/sandbox/main.js", import.meta.url));
    const child = spawn(process.execPath, [main, "--port", "0", "--auto-approve"], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    try {
      const url = await new Promise((resolve, reject) => {
        child.stdout.on("data", (d) => {
          out += d;
          const m = /listening on (http:\/\/\S+)/.exec(out);
          if (m) resolve(m[1]);
        });
        child.once("exit", (code) => reject(new Error(`exited ${code}: ${err}`)));
      });
      assert.match(out, /LINK_API_BASE_URL=http:\/\/127\.0\.0\.1:\d+/);
      const sb = { url };
      const code = (await call(sb, "POST", "/device/code", { form: { client_id: CLIENT_ID } })).json;
      const tokens = (await call(sb, "POST", "/device/token", { form: { grant_type: GRANT_DEVICE, device_code: code.device_code, client_id: CLIENT_ID } })).json;
      const sr = (await create(sb, tokens.access_token, cardBody())).json;
      const got = (await call(sb, "GET", `/spend_requests/${sr.id}?include=card`, { token: tokens.access_token })).json;
      assert.equal(got.status, "approved");
      await call(sb, "GET", "/spend_requests/%", { token: tokens.access_token });
      child.kill("SIGTERM");
      await new Promise((resolve) => child.once("exit", resolve));
      for (const secret of [got.card.number, got.card.cvc, tokens.access_token, tokens.refresh_token, code.device_code]) {
        assert.ok(!out.includes(secret) && !err.includes(secret), "a secret reached the console");
      }
    } finally {
      child.kill("SIGKILL");
    }
  });
});
