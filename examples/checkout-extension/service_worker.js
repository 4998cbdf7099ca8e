// The extension's module service worker: it owns linkpay (the browser entry, laid out in
// ./lib/linkpay by scripts/build), the session (chrome.storage.local, via linkpay's default
// storage) and every network call (fetch from here: host_permissions, no CORS). The popup only
// sends commands and renders the state kept in chrome.storage.session, which never holds a
// card number or CVC: the card goes from linkpay straight into chrome.scripting's arguments.
import { LinkClient, decodeStripeChallenge, init, sanitizeForDisplay } from "./lib/linkpay/browser.js";
import { detectCheckout, fillCard } from "./page.js";

const DEFAULT_SETTINGS = { apiBaseUrl: "https://api.link.com", authBaseUrl: "https://login.link.com" };
const CLIENT_NAME = "Link checkout helper";
/** Approval polling: the reference client's 2 s, for up to the 10-minute approval window. */
const WAIT = { interval: 2, timeout: 660 };

async function settings() {
  const { settings: saved } = await chrome.storage.local.get("settings");
  return { ...DEFAULT_SETTINGS, ...(saved ?? {}) };
}

async function link() {
  return new LinkClient({ ...(await settings()), clientName: CLIENT_NAME });
}

/** Page and server text for the popup: control/bidi characters stripped, length capped. */
const clean = (text, max = 120) => {
  const s = sanitizeForDisplay(String(text ?? "")).trim();
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
};

const money = (amount, currency) =>
  currency === "usd" ? `$${(amount / 100).toFixed(2)}` : `${(amount / 100).toFixed(2)} ${currency.toUpperCase()}`;

const problem = (e) => (e && typeof e === "object" && "code" in e ? `${e.code}: ${clean(e.message, 400)}` : clean(e?.message ?? e, 400));

// ------------------------------------------------------------------------------ UI state

const flowKey = (tabId) => `flow:${tabId}`;

async function setFlow(tabId, state) {
  await chrome.storage.session.set({ [flowKey(tabId)]: { ...state, updated: Date.now() } });
}

async function flow(tabId) {
  return (await chrome.storage.session.get(flowKey(tabId)))[flowKey(tabId)];
}

/** Flows running in this service worker instance, by tab (a restarted worker resumes them). */
const running = new Set();

// ------------------------------------------------------------------------------ login

let loginWaiting = false;

async function status() {
  const client = await link();
  const s = await client.auth.status();
  if (s.pending && !loginWaiting) void waitLogin(client, 5); // a login a stopped worker was waiting for
  return { authenticated: s.authenticated, pending: s.pending ?? false, verification_url: s.verification_url, phrase: s.phrase };
}

async function login() {
  const client = await link();
  const start = await client.auth.login();
  if (start.authenticated) {
    await chrome.storage.session.set({ login: { state: "done" } });
    return { authenticated: true };
  }
  await chrome.storage.session.set({ login: { state: "pending", verification_url: start.verification_url, phrase: start.phrase } });
  void waitLogin(client, start.poll_interval_seconds);
  return { authenticated: false, pending: true, verification_url: start.verification_url, phrase: start.phrase };
}

async function waitLogin(client, interval) {
  loginWaiting = true;
  try {
    await client.auth.wait({ interval: interval ?? 5, timeout: 600 });
    await chrome.storage.session.set({ login: { state: "done" } });
  } catch (e) {
    await chrome.storage.session.set({ login: { state: "error", message: problem(e) } });
  } finally {
    loginWaiting = false;
  }
}

async function logout() {
  await (await link()).auth.logout();
  await chrome.storage.session.remove("login");
  return { authenticated: false };
}

// ------------------------------------------------------------------------------ the checkout

/** What the tab offers: a card form, a 402 MPP endpoint, or nothing. */
async function inspect(tabId) {
  const [{ result: page }] = await chrome.scripting.executeScript({ target: { tabId }, func: detectCheckout });
  if (page.form) {
    if (!page.total) return { kind: "none", reason: "A card form, but no total on the page." };
    return {
      kind: "card",
      merchant: clean(page.merchant, 80),
      item: clean(page.item, 80),
      amount: page.total.amount,
      currency: page.total.currency,
      total: money(page.total.amount, page.total.currency),
      url: page.url,
      origin: page.origin,
      fields: page.fields,
    };
  }
  // No form: is the page an MPP endpoint? Ask it again (GET, no cookies) and decode its challenge.
  if (!/^https?:/.test(page.url)) return { kind: "none" };
  let res;
  try {
    res = await fetch(page.url, { credentials: "omit", cache: "no-store" });
  } catch {
    return { kind: "none" };
  }
  if (res.status !== 402) return { kind: "none" };
  await init();
  try {
    const c = decodeStripeChallenge(res.headers.get("www-authenticate") ?? "", Date.now(), page.url);
    return {
      kind: "mpp",
      merchant: clean(c.realm, 80),
      item: clean(c.description ?? "", 120),
      amount: c.amount,
      currency: c.currency,
      total: money(c.amount, c.currency),
      url: page.url,
      warnings: c.warnings.map((w) => clean(w.message, 200)),
    };
  } catch (e) {
    return { kind: "none", reason: `HTTP 402, but no payable challenge (${problem(e)}).` };
  }
}

/** The context the person reads on the approval screen: what, where, when, and who asked. */
function contextFor(found, what) {
  const u = new URL(found.url);
  const at = new Date().toLocaleTimeString("en-US", { hour: "2-digit", minute: "2-digit" });
  const item = found.item ? ` for "${found.item}"` : "";
  return `You asked the Link checkout helper in your browser, at ${at}, to pay ${found.merchant} ${found.total}${item} on ${u.host}${u.pathname}. ${what}`;
}

async function payCard(tabId) {
  const found = await inspect(tabId); // read again: never trust what the popup shows
  if (found.kind !== "card") throw new Error("No card form with a total on this page.");
  const base = { kind: "card", merchant: found.merchant, total: found.total, origin: found.origin };
  await setFlow(tabId, { ...base, state: "creating" });
  const client = await link();
  let sr;
  try {
    sr = await client.spendRequests.create({
      amount: found.amount,
      currency: found.currency,
      merchant_name: found.merchant,
      merchant_url: `${new URL(found.url).origin}${new URL(found.url).pathname}`,
      context: contextFor(found, "Once you approve, it fills a one-time card into that page's payment form."),
      line_items: [{ name: found.item || `Order at ${found.merchant}`, quantity: 1, unit_amount: found.amount }],
      totals: [{ type: "total", display_text: "Total", amount: found.amount }],
    });
  } catch (e) {
    // The same request a moment ago (a second click): carry on with it while it is pending.
    const dup = e?.code === "spend_request_rate_limited" ? e.details?.duplicate_spend_request : undefined;
    if (!dup || dup.status !== "pending_approval") throw e;
    sr = dup;
  }
  await waitAndFill(tabId, client, { ...base, spend_request_id: sr.id, approval_url: sr.approval_url });
}

async function waitAndFill(tabId, client, base) {
  await setFlow(tabId, { ...base, state: "pending_approval" });
  const done = await client.spendRequests.waitFor(base.spend_request_id, {
    ...WAIT,
    include: ["card"],
    onProgress: (sr) => void setFlow(tabId, { ...base, state: sr.status }),
  });
  if (done.status !== "approved" || !done.card?.number) {
    const message =
      done.status === "denied"
        ? "You denied the request in Link. Nothing was filled in."
        : `The request ended ${done.status.replace(/_/g, " ")}. Nothing was filled in.`;
    await setFlow(tabId, { ...base, state: done.status, message });
    return;
  }
  const card = done.card;
  const brand = clean(card.brand ?? done.card_brand ?? "card", 20);
  const last4 = clean(done.card_last4 ?? card.number.slice(-4), 4);
  const [{ result }] = await chrome.scripting.executeScript({
    target: { tabId },
    func: fillCard,
    args: [
      base.origin,
      {
        number: card.number,
        exp_month: card.exp_month,
        exp_year: card.exp_year,
        cvc: card.cvc,
        name: card.billing_address?.name ?? "",
        postal_code: card.billing_address?.postal_code ?? "",
      },
    ],
  });
  await setFlow(tabId, {
    ...base,
    state: result.ok ? "filled" : "not_filled",
    brand,
    last4,
    filled: result.filled,
    message: result.ok ? "" : result.reason,
  });
}

async function payMpp(tabId) {
  const found = await inspect(tabId);
  if (found.kind !== "mpp") throw new Error("This page is not an MPP payment endpoint.");
  const base = { kind: "mpp", merchant: found.merchant, total: found.total };
  await setFlow(tabId, { ...base, state: "creating" });
  const client = await link();
  let current = base;
  const paid = await client.mpp.pay(found.url, {
    context: contextFor(found, "Once you approve, it pays the merchant with a one-time payment token (MPP) and shows the answer."),
    ...WAIT,
    onProgress: (sr) => {
      current = { ...base, spend_request_id: sr.id, approval_url: sr.approval_url };
      void setFlow(tabId, { ...current, state: sr.status });
    },
  });
  await setFlow(tabId, {
    ...current,
    state: paid.status < 400 ? "paid" : "refused",
    http_status: paid.status,
    receipt: paid.receipt ? { status: paid.receipt.status, reference: clean(paid.receipt.reference, 80) } : null,
    body: clean(paid.body, 600),
    spend_request_id: paid.spend_request_id ?? current.spend_request_id,
  });
}

/** Runs a flow once per tab; its failures end up in the flow's state. */
function start(tabId, run) {
  if (running.has(tabId)) return { started: false, reason: "Already running for this tab." };
  running.add(tabId);
  void (async () => {
    try {
      await run(tabId);
    } catch (e) {
      const before = await flow(tabId);
      await setFlow(tabId, { ...(before ?? {}), state: "error", message: problem(e) });
    } finally {
      running.delete(tabId);
    }
  })();
  return { started: true };
}

/** The tab's flow; a card flow left waiting by a stopped worker is picked up again. */
async function state(tabId) {
  const current = await flow(tabId);
  if (current?.kind === "card" && current.spend_request_id && ["pending_approval", "requires_action", "approved"].includes(current.state) && !running.has(tabId)) {
    start(tabId, async () => waitAndFill(tabId, await link(), current));
  }
  return current ?? null;
}

// ------------------------------------------------------------------------------ messages

const handlers = {
  status: () => status(),
  login: () => login(),
  logout: () => logout(),
  inspect: (m) => inspect(m.tabId),
  state: (m) => state(m.tabId),
  "pay-card": (m) => start(m.tabId, payCard),
  "pay-mpp": (m) => start(m.tabId, payMpp),
  reset: async (m) => {
    await chrome.storage.session.remove(flowKey(m.tabId));
    return {};
  },
  settings: async (m) => {
    const next = {};
    for (const key of ["apiBaseUrl", "authBaseUrl"]) {
      const u = new URL(m[key]); // throws on a bad URL
      if (u.protocol !== "https:" && !["127.0.0.1", "localhost", "[::1]"].includes(u.hostname)) throw new Error(`${key} must be https (or a loopback sandbox)`);
      next[key] = u.origin;
    }
    await chrome.storage.local.set({ settings: next });
    return next;
  },
};

chrome.runtime.onMessage.addListener((message, sender, reply) => {
  // Only the extension's own pages (the popup) give commands; never a content script.
  if (sender.id !== chrome.runtime.id || !sender.url?.startsWith(chrome.runtime.getURL("")) || !(message?.type in handlers)) return false;
  Promise.resolve()
    .then(() => handlers[message.type](message))
    .then(
      (value) => reply({ ok: true, value }),
      (e) => reply({ ok: false, error: problem(e) }),
    );
  return true; // replies asynchronously
});
