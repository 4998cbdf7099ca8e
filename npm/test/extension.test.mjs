// The checkout-helper extension (examples/checkout-extension) in headless Chromium against a
// sandbox: device login from the popup, the demo checkout detected, a card spend request
// approved on the sandbox's approval page and filled into the form; a denied one leaves the form
// empty; an MPP 402 endpoint paid. The card never reaches the popup, extension storage or a log.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { startSandbox } from "../dist/sandbox/index.js";
import { layOut } from "../../scripts/extension-lib.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const SETTLE = { timeout: 20_000 };
const TEST = { timeout: 90_000 };

/** Playwright's `page.close()` and `worker.evaluate()` take no timeout. A stuck evaluate fails
 * the test instead of hanging the run; a stuck close is left to `ctx.close()`. */
function within(promise, ms, what) {
  let timer;
  const late = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
const closePage = (page) => within(page.close(), 5_000, "page.close").catch(() => undefined);
const swEval = (fn, arg) => within(sw.evaluate(fn, arg), 20_000, "service worker evaluate");

let sb;
let ctx;
let sw;
let extensionId;
let work;
const consoleLines = [];

before(async () => {
  sb = await startSandbox({ onError: (m) => consoleLines.push(m) });
  work = mkdtempSync(join(tmpdir(), "linkpay-extension-"));
  // The example as committed, with the browser entry laid out from this build's npm/dist.
  const extension = join(work, "extension");
  cpSync(join(root, "examples", "checkout-extension"), extension, { recursive: true, filter: (src) => !src.includes(`${"checkout-extension"}/lib`) });
  layOut(extension);
  ctx = await chromium.launchPersistentContext(join(work, "profile"), {
    executablePath: "/usr/bin/chromium",
    headless: false, // extensions need the new headless mode, asked for below
    args: [
      "--headless=new",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      `--disable-extensions-except=${extension}`,
      `--load-extension=${extension}`,
    ],
  });
  ctx.setDefaultTimeout(20_000);
  sw = ctx.serviceWorkers()[0] ?? (await ctx.waitForEvent("serviceworker"));
  extensionId = new URL(sw.url()).host;
  // Everything the service worker writes to its console, to search for secrets at the end.
  await swEval(() => {
    globalThis.__lines = [];
    for (const k of ["log", "info", "warn", "error", "debug"]) {
      const original = console[k];
      console[k] = (...args) => {
        globalThis.__lines.push(args.map(String).join(" "));
        original.apply(console, args);
      };
    }
  });
  ctx.on("console", (m) => consoleLines.push(m.text()));
});

after(async () => {
  await within(ctx?.close() ?? Promise.resolve(), 20_000, "closing Chromium").catch((e) => console.error(String(e)));
  await sb?.close();
  if (work) rmSync(work, { recursive: true, force: true });
  // A Chromium that would not close keeps Playwright's pipe open: end the process anyway (the
  // results are already reported; the exit code is node:test's).
  setTimeout(() => process.exit(), 2_000).unref();
});

async function tabIdOf(page) {
  const url = page.url();
  const id = await swEval(async (u) => (await chrome.tabs.query({})).find((t) => t.url === u)?.id, url);
  assert.ok(id, `no tab for ${url}`);
  return id;
}

/** The popup, opened as a page for the tab it helps with (`?tab=`). */
async function popupFor(page) {
  const popup = await ctx.newPage();
  popup.on("pageerror", (e) => consoleLines.push(`popup pageerror: ${e.message}`));
  await popup.goto(`chrome-extension://${extensionId}/popup.html?tab=${await tabIdOf(page)}`);
  await popup.waitForSelector("body[data-ready=true]", SETTLE);
  return popup;
}

async function sandboxSpendRequest(id) {
  return (await fetch(`${sb.url}/sandbox/spend_requests/${id}`)).json();
}

const fieldValues = (page) =>
  page.evaluate(() => Object.fromEntries([...document.querySelectorAll("#checkout input:not([type=hidden])")].map((i) => [i.name, i.value])));

const secrets = new Set();

describe("checkout extension", () => {
  let checkout;
  let popup;

  test("login from the popup through the device flow", TEST, async () => {
    checkout = await ctx.newPage();
    await checkout.goto(`${sb.url}/merchant/checkout`);
    popup = await popupFor(checkout);
    await popup.click("#settings summary");
    await popup.fill("#api-base", sb.apiUrl);
    await popup.fill("#auth-base", sb.authUrl);
    await popup.click("#save-settings");
    await popup.waitForSelector("#auth-status[data-state=logged-out]", SETTLE);
    assert.equal(await popup.locator("#get-card").isVisible(), false, "no card offer before login");

    await popup.click("#login");
    await popup.waitForSelector("#auth-status[data-state=pending]", SETTLE);
    const verification = await popup.locator("#verification-url").getAttribute("href");
    const phrase = await popup.locator("#phrase").textContent();
    assert.match(verification, new RegExp(`^${sb.authUrl}/device\\?code=`));

    const device = await ctx.newPage();
    await device.goto(verification);
    assert.equal(await device.locator("#phrase").textContent(), phrase);
    assert.match(await device.locator("#client").textContent(), /Link checkout helper/);
    await device.check("#confirm");
    await Promise.all([device.waitForURL(`${sb.authUrl}/device`), device.click("#approve")]);
    await closePage(device);
    await popup.waitForSelector("#auth-status[data-state=authenticated]", SETTLE);

    const stored = await swEval(() => chrome.storage.local.get(null));
    const auth = JSON.parse(stored["linkpay:auth"]);
    assert.ok(auth.access_token, "the session is in chrome.storage.local");
    secrets.add(auth.access_token).add(auth.refresh_token);
  });

  test("card checkout: detected, approved on the approval page, filled into the form", TEST, async () => {
    assert.equal(await popup.locator("#merchant").textContent(), "Sandbox Outfitters");
    assert.equal(await popup.locator("#total").textContent(), "$129.00");
    assert.equal(await popup.locator("#item").textContent(), "Trail running jacket");
    await popup.click("#get-card");
    await popup.waitForSelector("#progress[data-state=pending_approval]", SETTLE);
    const approvalUrl = await popup.locator("#approval-url").getAttribute("href");
    const id = await popup.locator("#progress").getAttribute("data-spend-request");
    assert.equal(approvalUrl, `${sb.url}/approve/${id}`);

    const approval = await ctx.newPage();
    await approval.goto(approvalUrl);
    assert.equal(await approval.locator("#merchant").textContent(), "Sandbox Outfitters");
    assert.equal(await approval.locator("#amount").textContent(), "$129.00");
    const context = await approval.locator("#context").textContent();
    assert.match(context, /^You asked the Link checkout helper in your browser, at .+, to pay Sandbox Outfitters \$129\.00 for "Trail running jacket" on 127\.0\.0\.1:\d+\/merchant\/checkout\./);
    await Promise.all([approval.waitForURL(approvalUrl), approval.click("#approve")]);
    await closePage(approval);

    await popup.waitForSelector("#progress[data-state=filled]", SETTLE);
    const sr = await sandboxSpendRequest(id);
    assert.equal(sr.status, "approved", "the sandbox sees the request approved");
    const card = sr.card;
    secrets.add(card.number);
    const shown = await popup.locator("#card").textContent();
    assert.equal(shown, `${card.brand} •••• ${card.number.slice(-4)} (number, exp, cvc, name, postal_code)`);
    assert.ok(!(await popup.content()).includes(card.number), "the popup never holds the card number");

    const values = await fieldValues(checkout);
    assert.deepEqual(values, {
      cardholder: card.billing_address.name,
      cardnumber: card.number,
      exp: `${String(card.exp_month).padStart(2, "0")}/${String(card.exp_year).slice(2)}`,
      cvc: card.cvc,
      postal: card.billing_address.postal_code,
    });
    // The filled form pays: the card is the real one the sandbox issued.
    await Promise.all([checkout.waitForLoadState("load"), checkout.click("#pay")]);
    assert.match(await checkout.locator("#result").textContent(), /Payment successful: \$129\.00/);
    assert.equal((await sandboxSpendRequest(id)).status, "succeeded");
    await closePage(popup);
  });

  test("a denied request leaves the form empty, with a clear message", TEST, async () => {
    const page = await ctx.newPage();
    await page.goto(`${sb.url}/merchant/checkout?item=${encodeURIComponent("Wool socks")}&amount=1500`);
    const p = await popupFor(page);
    assert.equal(await p.locator("#total").textContent(), "$15.00");
    await p.click("#get-card");
    await p.waitForSelector("#progress[data-state=pending_approval]", SETTLE);
    const id = await p.locator("#progress").getAttribute("data-spend-request");
    const approval = await ctx.newPage();
    await approval.goto(await p.locator("#approval-url").getAttribute("href"));
    await Promise.all([approval.waitForLoadState("load"), approval.click("#deny")]);
    await closePage(approval);
    await p.waitForSelector("#progress[data-state=denied]", SETTLE);
    assert.equal(await p.locator("#message").textContent(), "You denied the request in Link. Nothing was filled in.");
    assert.equal(await p.locator("#card").isVisible(), false);
    assert.deepEqual(await fieldValues(page), { cardholder: "", cardnumber: "", exp: "", cvc: "", postal: "" });
    assert.equal((await sandboxSpendRequest(id)).status, "denied");
    await closePage(p);
    await closePage(page);
  });

  test("an MPP 402 endpoint: the popup offers mpp pay, and pays after approval", TEST, async () => {
    const page = await ctx.newPage();
    await page.goto(`${sb.merchantUrl}/api/forecast`);
    const p = await popupFor(page);
    assert.match(await p.locator("#kind").textContent(), /HTTP 402, MPP/);
    assert.equal(await p.locator("#total").textContent(), "$1.00");
    assert.equal(await p.locator("#get-card").isVisible(), false);
    await p.click("#mpp-pay");
    await p.waitForSelector("#progress[data-state=pending_approval]", SETTLE);
    const approval = await ctx.newPage();
    await approval.goto(await p.locator("#approval-url").getAttribute("href"));
    await Promise.all([approval.waitForLoadState("load"), approval.click("#approve")]);
    await closePage(approval);
    await p.waitForSelector("#progress[data-state=paid]", SETTLE);
    assert.match(await p.locator("#answer").textContent(), /^HTTP 200 · receipt success pi_\w+\n\{"location":"San Francisco, CA"/);
    await closePage(p);
    await closePage(page);
  });

  test("no card number, CVC or token in extension storage or any console", TEST, async () => {
    const local = JSON.stringify(await swEval(() => chrome.storage.local.get(null)));
    const session = JSON.stringify(await swEval(() => chrome.storage.session.get(null)));
    const swLines = await swEval(() => globalThis.__lines);
    assert.ok(Array.isArray(swLines), "the service worker that ran the flows is the one whose console was captured");
    const lines = [...consoleLines, ...swLines].join("\n");
    const cardNumbers = [...secrets].filter((s) => /^\d+$/.test(s));
    assert.ok(cardNumbers.length >= 1 && secrets.size >= 3);
    for (const n of cardNumbers) assert.ok(!local.includes(n) && !session.includes(n), "a card number reached extension storage");
    for (const s of secrets) assert.ok(!lines.includes(s), `a secret reached a console (${s.slice(0, 4)}…)`);
    assert.doesNotMatch(local + session, /"(cvc|number)":/, "no card object in extension storage");
  });
});
