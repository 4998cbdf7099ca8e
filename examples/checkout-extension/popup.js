// The popup: sends commands to the service worker and renders what it reports. It never sees a
// card number or CVC (the service worker keeps only brand and last4 in the state it shares).
// Every value from a page or a server is shown with textContent.

const $ = (id) => document.getElementById(id);
const show = (id, on = true) => ($(id).hidden = !on);

async function send(type, extra = {}) {
  const answer = await chrome.runtime.sendMessage({ type, ...extra });
  if (!answer?.ok) throw new Error(answer?.error ?? "The extension's service worker did not answer.");
  return answer.value;
}

/** The tab to help with: `?tab=<id>` when the popup is opened as a page, else the active tab. */
async function targetTab() {
  const given = Number(new URLSearchParams(location.search).get("tab"));
  if (Number.isInteger(given) && given > 0) return given;
  const [tab] = await chrome.tabs.query({ active: true, currentWindow: true });
  return tab?.id;
}

let tabId;
let authenticated = false;
let found = null;
let busy = false;

function renderAuth(s) {
  authenticated = s.authenticated;
  const status = $("auth-status");
  status.dataset.state = s.authenticated ? "authenticated" : s.pending ? "pending" : "logged-out";
  status.textContent = s.authenticated ? "Logged in to Link." : s.pending ? "Waiting for you to approve this browser in Link…" : "Not logged in to Link.";
  show("device", !s.authenticated && Boolean(s.pending));
  if (s.pending) {
    $("verification-url").textContent = s.verification_url;
    $("verification-url").href = s.verification_url;
    $("phrase").textContent = s.phrase;
  }
  show("login", !s.authenticated && !s.pending);
  show("logout", s.authenticated);
  renderCheckout();
}

function renderCheckout() {
  const offer = found && (found.kind === "card" || found.kind === "mpp");
  show("checkout", Boolean(offer));
  show("nothing", !offer && found !== null);
  if (!offer) {
    $("nothing").textContent = found?.reason ?? "No card form or MPP payment request on this page.";
    return;
  }
  $("kind").textContent = found.kind === "card" ? "Card checkout on this page" : "This page asks for payment (HTTP 402, MPP)";
  $("merchant").textContent = found.merchant;
  $("total").textContent = found.total;
  $("item").textContent = found.item ?? "";
  show("get-card", found.kind === "card" && authenticated && !busy);
  show("mpp-pay", found.kind === "mpp" && authenticated && !busy);
}

const TEXT = {
  creating: "Creating the spend request in Link…",
  created: "Creating the spend request in Link…",
  pending_approval: "Waiting for your approval in Link…",
  requires_action: "Link needs one more step from you: open the approval page.",
  approved: "Approved. Filling in the card…",
  filled: "Card filled in. Check the form, then pay on the page.",
  not_filled: "Approved, but the card could not be filled in.",
  paid: "Paid.",
  refused: "The merchant refused the payment.",
  denied: "Denied.",
  expired: "Expired.",
  canceled: "Canceled.",
  failed: "Failed.",
  succeeded: "Used.",
  error: "Something went wrong.",
};
const ACTIVE = new Set(["creating", "created", "pending_approval", "requires_action", "approved"]);

function renderFlow(f) {
  busy = Boolean(f && ACTIVE.has(f.state));
  show("progress", Boolean(f));
  if (!f) return renderCheckout();
  $("progress").dataset.state = f.state;
  if (f.spend_request_id) $("progress").dataset.spendRequest = f.spend_request_id;
  $("flow-status").textContent = TEXT[f.state] ?? f.state;
  show("approval", Boolean(f.approval_url) && ["pending_approval", "requires_action"].includes(f.state));
  if (f.approval_url) $("approval-url").href = f.approval_url;
  show("card", f.state === "filled");
  if (f.state === "filled") $("card").textContent = `${f.brand} •••• ${f.last4} (${f.filled.join(", ")})`;
  show("message", Boolean(f.message));
  $("message").textContent = f.message ?? "";
  const answer = f.kind === "mpp" && f.http_status ? `HTTP ${f.http_status}${f.receipt ? ` · receipt ${f.receipt.status} ${f.receipt.reference}` : ""}\n${f.body ?? ""}` : "";
  show("answer", Boolean(answer));
  $("answer").textContent = answer;
  show("reset", !busy);
  renderCheckout();
}

async function refreshAuth() {
  renderAuth(await send("status"));
}

function fail(e) {
  show("progress");
  show("message");
  $("message").textContent = e.message;
}

async function main() {
  tabId = await targetTab();
  const { settings } = await chrome.storage.local.get("settings");
  $("api-base").value = settings?.apiBaseUrl ?? "https://api.link.com";
  $("auth-base").value = settings?.authBaseUrl ?? "https://login.link.com";

  $("login").onclick = () => send("login").then(renderAuth, fail);
  $("logout").onclick = () => send("logout").then(renderAuth, fail);
  $("get-card").onclick = () => send("pay-card", { tabId }).then((r) => r.started || fail(new Error(r.reason)), fail);
  $("mpp-pay").onclick = () => send("pay-mpp", { tabId }).then((r) => r.started || fail(new Error(r.reason)), fail);
  $("reset").onclick = () => send("reset", { tabId }).then(() => renderFlow(null), fail);
  $("save-settings").onclick = () =>
    send("settings", { apiBaseUrl: $("api-base").value, authBaseUrl: $("auth-base").value }).then(
      () => {
        $("settings-status").textContent = "Saved.";
        return refreshAuth();
      },
      (e) => ($("settings-status").textContent = e.message),
    );

  chrome.storage.session.onChanged.addListener((changes) => {
    if (changes.login) {
      const login = changes.login.newValue;
      if (login?.state === "error") fail(new Error(`Login failed: ${login.message}`));
      void refreshAuth().catch(fail);
    }
    const mine = changes[`flow:${tabId}`];
    if (mine) renderFlow(mine.newValue ?? null);
  });

  await refreshAuth().catch(fail);
  if (tabId === undefined) return;
  found = await send("inspect", { tabId }).catch((e) => ({ kind: "none", reason: `Cannot read this page (${e.message}).` }));
  renderFlow(await send("state", { tabId }));
  document.body.dataset.ready = "true";
}

void main();
