// The offline demo: a local sandbox stands in for the Link API, the Link app and an MPP merchant;
// the agent side is linkpay's LinkClient. Approvals are automatic (the sandbox plays the person).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LinkClient, MemoryStorage, decodeStripeChallenge, version } from "../dist/index.js";
import { startSandbox } from "../dist/sandbox/index.js";

const step = (n, title) => console.log(`\n\x1b[1m${n}. ${title}\x1b[0m`);
const say = (text) => console.log(`   ${text}`);
const context =
  "The person asked me to buy the Trail Runner shoes (size 10, blue) from Sandbox Outdoor for their race on Saturday; this is the exact cart total.";

const sb = await startSandbox({ autoApprove: true });
const dir = mkdtempSync(join(tmpdir(), "linkpay-demo-"));
try {
  console.log(`linkpay ${version} demo — sandbox at ${sb.url} (no Link account, no network)`);
  const client = new LinkClient({ apiBaseUrl: sb.apiUrl, authBaseUrl: sb.authUrl, storage: new MemoryStorage(), clientName: "linkpay demo" });

  step(1, "Log in with the device flow");
  const login = await client.auth.login();
  say(`Open ${login.verification_url} and confirm the phrase "${login.phrase}" (the sandbox approves it for you)`);
  const session = await login.wait({ interval: 0.2, timeout: 30 });
  say(`authenticated: ${session.authenticated}, token ${session.access_token}`);

  step(2, "Payment methods in the wallet");
  for (const pm of await client.paymentMethods.list()) {
    const what = pm.card_details ? `${pm.card_details.brand} •••• ${pm.card_details.last4}` : `${pm.bank_account_details?.bank_name} •••• ${pm.bank_account_details?.last4}`;
    say(`${pm.id}  ${what}${pm.is_default ? "  (default)" : ""}`);
  }

  step(3, "Card flow: a one-time virtual card for a web checkout");
  try {
    await client.spendRequests.create({ amount: 999999, context: "too short" });
  } catch (e) {
    say(`bad input never reaches the API: ${e.code}, ${e.fieldErrors.map((f) => f.path).join(", ")}`);
  }
  const created = await client.spendRequests.create({
    amount: 12900,
    merchant_name: "Sandbox Outdoor",
    merchant_url: `${sb.merchantUrl}/checkout`,
    context,
    line_items: ["name:Trail Runner shoes,quantity:1,unit_amount:12900"],
    totals: ["type:total,display_text:Total,amount:12900"],
  });
  say(`spend request ${created.id}: ${created.status}; the person approves at ${created.approval_url}`);
  const approved = await client.spendRequests.waitFor(created.id, { include: ["card"], interval: 0.2, timeout: 30 });
  const cardFile = join(dir, "card.json");
  writeFileSync(cardFile, JSON.stringify(approved.card, null, 2), { mode: 0o600 });
  say(`${approved.status}: ${approved.card.brand} •••• ${approved.card.number.slice(-4)}, exp ${approved.card.exp_month}/${approved.card.exp_year}`);
  say(`full card written to ${cardFile} (mode 0600, removed when the demo ends); never printed`);

  step(4, "MPP flow: pay an HTTP 402 endpoint with a Shared Payment Token");
  const url = `${sb.merchantUrl}/api/forecast`;
  const probe = await fetch(url);
  say(`GET ${url} → ${probe.status}`);
  const challenge = decodeStripeChallenge(probe.headers.get("www-authenticate"), Date.now(), url);
  say(`challenge: ${challenge.description ?? "(no description)"}, ${challenge.amount} ${challenge.currency}, network ${challenge.network_id}`);
  const paid = await client.mpp.pay(url, {
    context: `${context} Also paying for the weather forecast the person asked for before the race.`,
    interval: 0.2,
    timeout: 30,
    onProgress: (sr) => say(`spend request ${sr.id}: ${sr.status}`),
  });
  say(`paid → ${paid.status}; receipt ${paid.receipt?.status} ${paid.receipt?.reference}`);
  say(`merchant answered: ${paid.body.slice(0, 100)}`);
  console.log("\nDone. Every rule, the state machines and the MPP codec ran in linkpay's Rust core (wasm).");
} finally {
  await sb.close();
  rmSync(dir, { recursive: true, force: true });
}
