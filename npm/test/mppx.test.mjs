// The mppx payment method: `link.createSharedPaymentToken` as mppx 0.11's own client
// `stripe.charge({ createToken })`, paying a merchant built with mppx 0.11's own server
// (`Mppx.create` + `stripe.charge`) end to end: mppx's 402 and challenge, a spend request the
// person approves on the sandbox, the token mppx puts in its credential, mppx's verification
// charging it through a stub of the Stripe API on 127.0.0.1 (the stub stands in for Stripe, not
// for anything tested here), and mppx's receipt. With `externalId`, with the credential in
// `Payment-Authorization`, and with the guardrails refusing before any spend request.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { Mppx as MppxServer, Request as MppxRequest, NodeListener } from "mppx-0.11/server/core";
import { stripe } from "mppx-0.11/stripe/client";
// mppx's entries `mppx`, `mppx/client` and `mppx/stripe/server` also load its EVM and tempo
// methods, which need viem (not installed): the modules used here are imported by path.
const dist = (path) => import(new URL(`../node_modules/mppx-0.11/dist/${path}`, import.meta.url));
const Mppx = await dist("client/Mppx.js");
const Challenge = await dist("Challenge.js");
const stripeServer = await dist("stripe/server/Charge.js");
import { LinkClient, MemoryStorage, receiptOf } from "../dist/index.js";
import { startSandbox } from "../dist/sandbox/index.js";
import { stripeClient, stripeStub } from "./fixtures/stripe-stub.mjs";

const NETWORK = "profile_mppx_merchant";
const SECRET = "mppx-test-secret-key-of-at-least-32-bytes!!";
const context =
  "Buying one weather lookup from the mppx test merchant for the person, who asked for it in this chat; the price was shown first.";

/** Listens on 127.0.0.1; resolves to the base URL. */
function listen(server) {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${server.address().port}`)));
}



let sb, stub, stubUrl, merchant, merchantUrl;
/** What the merchant saw: each request's path and credential headers. */
const seen = [];

before(async () => {
  sb = await startSandbox({ onError: () => {} });
  stub = stripeStub();
  stubUrl = await listen(stub.server);
  const method = stripeServer.charge({ client: stripeClient(stubUrl), networkId: NETWORK, paymentMethodTypes: ["card"], currency: "usd", decimals: 2 });
  const plain = MppxServer.create({ methods: [method], secretKey: SECRET, realm: "127.0.0.1" });
  const privateAuth = MppxServer.create({ methods: [method], secretKey: SECRET, realm: "127.0.0.1", requiresAuth: true });
  const routes = {
    "/forecast": () => plain.charge({ amount: "1" }),
    "/order": () => plain.charge({ amount: "2.5", externalId: "order_42" }),
    "/private": () => privateAuth.charge({ amount: "0.75" }),
    "/pricey": () => plain.charge({ amount: "80" }),
  };
  merchant = createServer(async (req, res) => {
    const request = MppxRequest.fromNodeListener(req, res);
    const path = new URL(request.url).pathname;
    seen.push({ path, authorization: req.headers.authorization, paymentAuthorization: req.headers["payment-authorization"] });
    const route = routes[path];
    if (route === undefined) return res.writeHead(404).end();
    const result = await route()(request);
    if (result.status === 402) return NodeListener.sendResponse(res, result.challenge);
    await NodeListener.sendResponse(res, result.withReceipt(Response.json({ path, data: "sunny" })));
  });
  merchantUrl = await listen(merchant);
});

after(async () => {
  await new Promise((r) => merchant.close(r));
  await new Promise((r) => stub.server.close(r));
  await sb.close();
});

function client() {
  const tokens = sb.issueTokens();
  return new LinkClient({ apiBaseUrl: sb.apiUrl, authBaseUrl: sb.authUrl, storage: new MemoryStorage(), accessToken: tokens.access_token });
}

/** mppx's client with Link as its stripe method; `approvals` collects what the person was shown. */
async function mppxWith(link, options = {}, approvals = []) {
  const [card] = await link.paymentMethods.list();
  return Mppx.create({
    polyfill: false,
    methods: [
      stripe.charge({
        paymentMethod: card.id,
        createToken: link.createSharedPaymentToken({
          context,
          interval: 0.05,
          onApproval: (a) => {
            approvals.push(a);
            sb.approve(a.spend_request_id);
          },
          ...options,
        }),
      }),
    ],
  });
}

/** The SPT spend requests created since `since`. */
const creates = (since) => sb.requests(since).filter((r) => r.method === "POST" && r.path === "/spend_requests");
const lastSeq = () => sb.requests().at(-1)?.seq ?? 0;

describe("mppx 0.11 stripe.charge({ createToken: link.createSharedPaymentToken(...) })", () => {
  test("mppx's 402, the person's approval, mppx's credential, the stub charge, mppx's receipt", async () => {
    const link = client();
    const approvals = [];
    const mppx = await mppxWith(link, {}, approvals);
    const res = await mppx.fetch(`${merchantUrl}/forecast`);
    assert.equal(res.status, 200, await res.clone().text());
    assert.deepEqual(await res.json(), { path: "/forecast", data: "sunny" });
    const receipt = receiptOf(res);
    assert.equal(receipt.status, "success");
    assert.equal(receipt.method, "stripe");
    assert.equal(approvals.length, 1);
    assert.equal(approvals[0].amount, 100);
    assert.equal(approvals[0].currency, "usd");
    // The stub charged exactly the token the person approved, once, for the challenge's amount.
    const sr = await link.spendRequests.retrieve(approvals[0].spend_request_id, { include: ["shared_payment_token"] });
    assert.equal(sr.network_id, NETWORK);
    assert.equal(sr.amount, 100);
    const charge = stub.charges.find((c) => c.id === receipt.reference);
    assert.ok(charge, `no stub charge ${receipt.reference}`);
    assert.equal(charge.spt, sr.shared_payment_token.id);
    assert.equal(charge.amount, 100);
    assert.equal(charge.currency, "usd");
    const forecast = seen.filter((s) => s.path === "/forecast");
    assert.match(forecast.at(-1).authorization, /^Payment /);
  });

  test("a challenge with externalId: echoed in the credential and the receipt", async () => {
    const res = await (await mppxWith(client())).fetch(`${merchantUrl}/order`);
    assert.equal(res.status, 200, await res.clone().text());
    const receipt = receiptOf(res);
    assert.equal(receipt.externalId, "order_42");
    assert.equal(stub.charges.find((c) => c.id === receipt.reference).amount, 250);
  });

  test("a challenge whose credential goes in Payment-Authorization", async () => {
    const res = await (await mppxWith(client())).fetch(`${merchantUrl}/private`);
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(receiptOf(res).status, "success");
    const paid = seen.filter((s) => s.path === "/private").at(-1);
    assert.match(paid.paymentAuthorization, /^Payment /);
    assert.equal(paid.authorization, undefined);
  });

  test("the guardrails hold inside mppx: refused before any spend request", async () => {
    const since = lastSeq();
    const mppx = await mppxWith(client());
    await assert.rejects(mppx.fetch(`${merchantUrl}/pricey`), (e) => {
      const error = e.code === undefined ? e.cause : e;
      assert.equal(error.code, "PAYMENT_GUARDRAIL", String(e));
      assert.equal(error.details.reason, "max_amount");
      return true;
    });
    const limited = await mppxWith(client(), { allowRealms: ["shop.example"] });
    await assert.rejects(limited.fetch(`${merchantUrl}/forecast`), (e) => (e.code ?? e.cause?.code) === "PAYMENT_GUARDRAIL" && (e.details ?? e.cause.details).reason === "realm_mismatch");
    assert.equal(creates(since).length, 0);
  });

  test("one challenge is paid once: createToken called again for it is refused", async () => {
    const link = client();
    const once = `${context} (Asked once, through createToken directly.)`;
    const createToken = link.createSharedPaymentToken({ context: once, interval: 0.05, onApproval: (a) => sb.approve(a.spend_request_id) });
    const probe = await fetch(`${merchantUrl}/forecast`);
    const [card] = await link.paymentMethods.list();
    // What mppx passes: the decoded challenge and its request's fields.
    const challenge = Challenge.fromResponse(probe);
    const parameters = { amount: challenge.request.amount, currency: challenge.request.currency, networkId: challenge.request.methodDetails?.networkId ?? challenge.request.networkId, challenge, paymentMethod: card.id };
    const spt = await createToken(parameters);
    assert.match(spt, /^spt_/);
    const since = lastSeq();
    await assert.rejects(createToken(parameters), (e) => e.code === "PAYMENT_GUARDRAIL" && e.details.reason === "already_paid");
    assert.equal(creates(since).length, 0);
  });
});
