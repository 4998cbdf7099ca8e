// `mpp pay` checks everything it can before the merchant hears from it (issue 17 item 12,
// issue 14's wire differences with the reference): bad or missing input, no session, and a
// given spend request that cannot pay (a card, or not approved) all fail with no merchant
// request — link-cli refuses and retrieves first, and so does linkpay.
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
const CONTEXT = "The person asked to buy this forecast in our conversation and agreed to the price shown by the merchant.";
let sb, token, card;

before(async () => {
  sb = await startSandbox();
  token = sb.issueTokens().access_token;
  const link = new LinkClient({ apiBaseUrl: sb.apiUrl, authBaseUrl: sb.authUrl, accessToken: token, storage: new MemoryStorage() });
  card = await link.spendRequests.create({ amount: 300, merchant_name: "Card Shop", merchant_url: "https://card.example/cart", context: CONTEXT });
});
after(() => sb.close());

async function pay(args, { session = true } = {}) {
  const env = { PATH: process.env.PATH, HOME: "/nonexistent", LINK_AUTH_FILE: "/nonexistent/auth.json", ...sb.env, ...(session ? { LINK_ACCESS_TOKEN: token } : {}) };
  const r = await run(process.execPath, [BIN, "mpp", "pay", `${sb.merchantUrl}/api/forecast`, ...args, "--format", "json"], { env }).catch((e) => e);
  return JSON.parse(r.stdout);
}
const merchantRequests = () => sb.requests().filter((r) => r.path.startsWith("/merchant")).length;

test("no context and no spend request id: VALIDATION_ERROR at context, nothing sent", async () => {
  sb.clearRequests();
  const out = await pay([]);
  assert.equal(out.code, "VALIDATION_ERROR");
  assert.deepEqual(out.fieldErrors.map((f) => f.path), ["context"]);
  assert.equal(sb.requests().length, 0);
});

test("no session: NOT_AUTHENTICATED before the merchant is contacted", async () => {
  sb.clearRequests();
  const out = await pay(["--context", CONTEXT], { session: false });
  assert.equal(out.code, "NOT_AUTHENTICATED");
  assert.equal(merchantRequests(), 0);
});

test("a card spend request, or one not approved, fails after its retrieve and before the merchant", async () => {
  sb.clearRequests();
  const out = await pay(["--spend-request-id", card.id]);
  assert.equal(out.code, "INVALID_INPUT");
  assert.match(out.message, /shared_payment_token/);
  assert.equal(merchantRequests(), 0);
  assert.equal(sb.requests().filter((r) => r.path === `/spend_requests/${card.id}`).length, 1, "retrieved first");
});
