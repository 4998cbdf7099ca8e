/**
 * The pages a person sees: the device-verification page (the `verification_uri`), the approval
 * page (the `approval_url`, what the Link app shows), the 3-D Secure page and the sandbox index.
 * All text from agents and clients is sanitized and escaped (`shown`, `clean`) and the CSP
 * forbids scripts. Every form that decides something carries its form token (`forms.ts`); the
 * server checks it before a decision reaches these functions.
 */

import type { Json, JsonObject } from "../index.js";
import type { Context } from "./context.js";
import { decideDevice, findDeviceAuth } from "./auth.js";
import { isoSeconds } from "./clock.js";
import { HttpError, html, type Reply } from "./http.js";
import { FORM_TOKEN_FIELD, formToken } from "./forms.js";
import { esc, money, page, shown } from "./html.js";
import { approveAsPerson, deny, find, resume } from "./spend.js";
import type { DeviceAuthRecord, SpendRequestRecord } from "./state.js";
import { describePaymentMethod, findPaymentMethod } from "./wallet.js";

// ----- device verification ---------------------------------------------------------------------

function phraseForm(message = ""): string {
  return `<h1>Connect an app to your Link account</h1>
${message}
<form method="get" action="/device">
<label for="code">Enter the phrase shown by the app</label>
<input id="code" name="code" autocomplete="off" autocapitalize="none" spellcheck="false" placeholder="apple-banana-cherry">
<div class="actions"><button class="approve" type="submit">Continue</button></div>
</form>`;
}

function listOf(values: Json[]): string {
  return values.map((v) => `<li><code>${shown(typeof v === "string" ? v : JSON.stringify(v))}</code></li>`).join("");
}

/** The hidden field that proves a post came from this page (`forms.ts`). */
function tokenField(ctx: Context, purpose: string, subject: string): string {
  return `<input type="hidden" name="${FORM_TOKEN_FIELD}" value="${esc(formToken(ctx, purpose, subject))}">`;
}

/** A decision posted without this page's form token, or from another site: nothing changed. */
export function refusedPost(title: string): Reply {
  return html(
    403,
    page(title, `<h1>${esc(title)}</h1><p class="error" id="error">This form did not come from this page, or the page is out of date. Nothing was changed: open the link again and decide there.</p>`),
  );
}

/** `GET /device[?code=phrase]`. */
export function devicePage(ctx: Context, code: string | null): Reply {
  if (code === null || code.trim() === "") return html(200, page("Connect to Link", phraseForm()));
  const auth = findDeviceAuth(ctx, code);
  const now = ctx.clock.now();
  if (auth === undefined || auth.status !== "pending" || now >= auth.expires_ms) {
    const why = auth === undefined ? "That phrase does not match any sign-in request." : auth.status !== "pending" ? "That phrase was already used." : "That phrase has expired. Start the sign-in again in the app.";
    return html(auth === undefined ? 404 : 410, page("Connect to Link", phraseForm(`<p class="error" id="error">${esc(why)}</p>`)));
  }
  return html(200, page("Connect to Link", deviceConfirm(ctx, auth)));
}

function deviceConfirm(ctx: Context, auth: DeviceAuthRecord): string {
  const client = auth.client_hint || "An app";
  const scopes = auth.scope.split(" ").filter(Boolean);
  return `<h1><span id="client">${shown(client)}</span> wants to connect to your Link account</h1>
<p class="muted">Connection: <span id="connection">${shown(auth.connection_label || "(not named)")}</span></p>
<p>Check that this phrase is exactly the one the app shows:</p>
<p><span class="phrase" id="phrase">${esc(auth.user_code)}</span></p>
<p>It asks for:</p>
<ul id="scopes">${listOf(scopes)}${listOf(auth.authorization_details)}</ul>
<form method="post" action="/device">
<input type="hidden" name="code" value="${esc(auth.user_code)}">
${tokenField(ctx, "device", auth.user_code)}
<label class="check"><input type="checkbox" name="confirm" value="yes" id="confirm" required> The phrase matches</label>
<div class="actions">
<button class="approve" type="submit" name="action" value="approve" id="approve">Approve</button>
<button class="deny" type="submit" name="action" value="deny" id="deny" formnovalidate>Deny</button>
</div>
</form>`;
}

/** `POST /device` (form: `code`, `action`, `confirm`). */
export function deviceDecide(ctx: Context, fields: Map<string, string>): Reply {
  const code = fields.get("code") ?? "";
  const action = fields.get("action");
  if (action !== "approve" && action !== "deny") return html(400, page("Connect to Link", phraseForm(`<p class="error" id="error">Choose Approve or Deny.</p>`)));
  if (action === "approve" && fields.get("confirm") !== "yes") {
    const auth = findDeviceAuth(ctx, code);
    const body = auth === undefined ? phraseForm() : deviceConfirm(ctx, auth);
    return html(400, page("Connect to Link", `<p class="error" id="error">Confirm that the phrase matches first.</p>${body}`));
  }
  let auth: DeviceAuthRecord;
  try {
    auth = decideDevice(ctx, code, action === "approve");
  } catch (e) {
    if (!(e instanceof HttpError)) throw e;
    return html(e.status, page("Connect to Link", phraseForm(`<p class="error" id="error">${esc(e.message)}</p>`)));
  }
  const client = shown(auth.client_hint || "The app");
  const result =
    action === "approve"
      ? `<p class="status ok" id="result">Approved. ${client} is now connected; you can go back to it.</p>`
      : `<p class="status bad" id="result">Denied. ${client} was not connected.</p>`;
  return html(200, page("Connect to Link", `<h1>Connect an app to your Link account</h1>${result}`));
}

/** The answer to a decision that could not be saved (507): nothing changed. */
export function storageFailedPage(message: string): Reply {
  return html(507, page("linkpay sandbox", `<h1>Not saved</h1><p class="error" id="error">${esc(message)}</p>`));
}

// ----- approval --------------------------------------------------------------------------------

const STATUS_TEXT: Record<string, [string, string]> = {
  approved: ["ok", "Approved. The agent can now use this credential."],
  succeeded: ["ok", "Approved and used: the payment went through."],
  denied: ["bad", "Denied. The agent cannot use this request."],
  expired: ["bad", "Expired. Nobody approved it in time, or its credential ran out."],
  canceled: ["bad", "Canceled by the agent."],
  failed: ["bad", "The payment failed."],
  requires_action: ["", "Approved. Your bank is verifying it (3-D Secure); it continues by itself."],
  created: ["", "The agent has not asked for approval yet."],
};

function itemRows(sr: SpendRequestRecord, currency: string): string {
  const items = Array.isArray(sr.request.line_items) ? (sr.request.line_items as JsonObject[]) : [];
  return items
    .map((item) => {
      const qty = typeof item.quantity === "number" ? item.quantity : 1;
      const unit = typeof item.unit_amount === "number" ? money(item.unit_amount * qty, currency) : "";
      const desc = typeof item.description === "string" ? `<br><span class="muted">${shown(item.description)}</span>` : "";
      return `<tr><td>${shown(item.name)}${qty !== 1 ? ` × ${esc(qty)}` : ""}${desc}</td><td class="num">${esc(unit)}</td></tr>`;
    })
    .join("");
}

function totalRows(sr: SpendRequestRecord, currency: string): string {
  const totals = Array.isArray(sr.request.totals) ? (sr.request.totals as JsonObject[]) : [];
  return totals
    .map((t) => `<tr${t.type === "total" ? ' style="font-weight:700"' : ""}><td>${shown(t.display_text)}</td><td class="num">${esc(money(Number(t.amount ?? 0), currency))}</td></tr>`)
    .join("");
}

function approvalBody(ctx: Context, sr: SpendRequestRecord, notice = ""): string {
  const r = sr.request;
  const currency = String(r.currency ?? "usd");
  const amount = Number(r.amount ?? 0);
  const spt = r.credential_type === "shared_payment_token";
  const merchant = spt ? `Machine payment (network ${String(r.network_id ?? "")})` : String(r.merchant_name ?? r.merchant_account_id ?? "Merchant");
  const pm = findPaymentMethod(sr.payment_method);
  const items = itemRows(sr, currency);
  const totals = totalRows(sr, currency);
  const [cls, text] = STATUS_TEXT[sr.status] ?? ["", sr.status];
  const waiting = sr.status === "pending_approval";
  const deadline = sr.approval_requested_ms === undefined ? undefined : sr.approval_requested_ms + ctx.config.limits.approvalWindowMs;
  return `<h1>Approve a purchase by your agent</h1>
${notice}
<p class="muted">Merchant</p>
<p><strong id="merchant">${shown(merchant)}</strong>${typeof r.merchant_url === "string" ? `<br><span class="muted" id="merchant-url">${shown(r.merchant_url)}</span>` : ""}</p>
<div class="amount" id="amount">${esc(money(amount, currency))}</div>
<p class="muted">${spt ? "Shared payment token" : r.execution_method === "link_pay_token" ? "Link Pay token" : "One-time virtual card"}${pm ? ` · paid with ${esc(describePaymentMethod(pm))}` : ""}${r.test === true ? " · test mode" : ""}</p>
${items ? `<table id="line-items">${items}</table>` : ""}
${totals ? `<table id="totals">${totals}</table>` : ""}
<p class="muted">Why the agent is buying this (written by the agent; check it):</p>
<div class="context" id="context">${shown(r.context)}</div>
${
  waiting
    ? `<p class="muted">Waiting for you${deadline === undefined ? "" : ` until ${esc(isoSeconds(deadline))}`}.</p>
<form method="post" action="/approve/${esc(sr.id)}" class="actions">
${tokenField(ctx, "approve", sr.id)}
<button class="approve" type="submit" name="action" value="approve" id="approve">Approve</button>
<button class="deny" type="submit" name="action" value="deny" id="deny">Deny</button>
</form>`
    : `<p class="status ${cls}" id="result" data-status="${esc(sr.status)}">${esc(text)}</p>`
}
<p class="muted">Request <code>${esc(sr.id)}</code></p>`;
}

/** `GET /approve/{id}`. */
export function approvalPage(ctx: Context, id: string): Reply {
  let sr: SpendRequestRecord;
  try {
    sr = find(ctx, undefined, id);
  } catch (e) {
    if (!(e instanceof HttpError)) throw e;
    return html(404, page("Approve a purchase", `<h1>Approve a purchase</h1><p class="error" id="error">There is no such spend request.</p>`));
  }
  return html(200, page("Approve a purchase", approvalBody(ctx, sr)));
}

/** `POST /approve/{id}` (form: `action=approve|deny`): acts, then shows the result. */
export function approvalDecide(ctx: Context, id: string, fields: Map<string, string>): Reply {
  let sr: SpendRequestRecord;
  try {
    sr = find(ctx, undefined, id);
  } catch (e) {
    if (!(e instanceof HttpError)) throw e;
    return html(404, page("Approve a purchase", `<h1>Approve a purchase</h1><p class="error" id="error">There is no such spend request.</p>`));
  }
  const action = fields.get("action");
  try {
    if (action === "approve") approveAsPerson(ctx, sr);
    else if (action === "deny") deny(ctx, sr);
    else return html(400, page("Approve a purchase", approvalBody(ctx, sr, `<p class="error" id="error">Choose Approve or Deny.</p>`)));
  } catch (e) {
    if (!(e instanceof HttpError)) throw e;
    return html(e.status, page("Approve a purchase", approvalBody(ctx, sr, `<p class="error" id="error">${esc(e.message)}</p>`)));
  }
  // Post/redirect/get: a reload shows the result instead of posting again.
  return { status: 303, headers: { location: `/approve/${encodeURIComponent(sr.id)}` }, body: "" };
}

// ----- 3-D Secure ------------------------------------------------------------------------------

/** `GET /3ds/{id}`: the bank's page (the `action_url`). */
export function threeDSecurePage(ctx: Context, id: string, method: string): Reply {
  let sr: SpendRequestRecord;
  try {
    sr = find(ctx, undefined, id);
  } catch (e) {
    if (!(e instanceof HttpError)) throw e;
    return html(404, page("3-D Secure", `<h1>3-D Secure</h1><p class="error" id="error">There is no such purchase.</p>`));
  }
  if (method === "POST" && sr.status === "requires_action") {
    resume(ctx, sr);
  }
  const body =
    sr.status === "requires_action"
      ? `<p>Your bank asks you to confirm the purchase of <strong>${esc(money(Number(sr.request.amount ?? 0), String(sr.request.currency ?? "usd")))}</strong>.</p>
<form method="post" action="/3ds/${esc(sr.id)}" class="actions">${tokenField(ctx, "3ds", sr.id)}<button class="approve" type="submit" id="complete">Complete verification</button></form>`
      : `<p class="status ok" id="result">Verification complete. Status: ${esc(sr.status)}.</p>`;
  return html(200, page("3-D Secure", `<h1>3-D Secure verification</h1>${body}`));
}

// ----- index -----------------------------------------------------------------------------------

export function indexPage(ctx: Context): Reply {
  const u = ctx.config.baseUrl;
  return html(
    200,
    page(
      "linkpay sandbox",
      `<h1>linkpay sandbox</h1>
<p>A local stand-in for the Link API, its sign-in and approval pages, and an MPP merchant.</p>
<ul>
<li>LINK_AUTH_BASE_URL=<code>${esc(u)}</code> and LINK_API_BASE_URL=<code>${esc(u)}</code></li>
<li><a href="/device">Device sign-in page</a></li>
<li><a href="/merchant/checkout">Demo checkout</a> · MPP: <code>GET ${esc(u)}/merchant/api/forecast</code></li>
<li>Controls: <code>${esc(u)}/sandbox/…</code></li>
</ul>`,
    ),
  );
}
