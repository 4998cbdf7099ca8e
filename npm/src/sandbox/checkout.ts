/**
 * The demo merchant's card checkout (`/merchant/checkout`): a plain card form (stable `name`
 * and `autocomplete` attributes, so browser agents and autofill find the fields) that "charges"
 * a virtual card the sandbox issued. A charge is one use of the spend request's credential.
 */

import type { JsonObject } from "../index.js";
import type { Context } from "./context.js";
import { html, type Reply } from "./http.js";
import { clean, esc, money, page, shown } from "./html.js";
import { randomId } from "./ids.js";
import { markUsed, settle } from "./spend.js";

export const MERCHANT_NAME = "Sandbox Outfitters";
const DEFAULT_ITEM = { name: "Trail running jacket", amount: 12900, currency: "usd" };

export interface CardCharge {
  number: string;
  exp_month: number;
  exp_year: number;
  cvc: string;
  amount: number;
  currency: string;
}

export type ChargeResult =
  | { ok: true; reference: string; spend_request: string }
  | { ok: false; code: string; decline_code: string; message: string };

const declined = (decline_code: string, message: string): ChargeResult => ({ ok: false, code: "card_declined", decline_code, message });

/** Charges an issued card once. */
export function chargeCard(ctx: Context, charge: CardCharge): ChargeResult {
  const id = ctx.state.cards.get(charge.number);
  const sr = id === undefined ? undefined : ctx.state.spendRequests.get(id);
  if (sr === undefined || sr.card === undefined) return declined("generic_decline", "Your card was declined.");
  settle(ctx, sr);
  if (sr.status === "succeeded") return declined("card_already_used", "This single-use card was already used.");
  if (sr.status === "expired" || ctx.clock.now() >= sr.valid_until_ms) return declined("expired_card", "Your card has expired.");
  if (sr.status !== "approved") return declined("generic_decline", "Your card was declined.");
  if (charge.exp_month !== sr.card.exp_month || charge.exp_year !== sr.card.exp_year) return { ok: false, code: "invalid_expiry", decline_code: "invalid_expiry", message: "Your card's expiration date is incorrect." };
  if (charge.cvc !== sr.card.cvc) return { ok: false, code: "incorrect_cvc", decline_code: "incorrect_cvc", message: "Your card's security code is incorrect." };
  const currency = String(sr.request.currency ?? "usd");
  if (charge.currency !== currency || charge.amount > Number(sr.request.amount ?? 0)) {
    return declined("amount_too_large", "The amount is more than the card allows.");
  }
  markUsed(ctx, sr, charge.amount, charge.currency);
  return { ok: true, reference: randomId("ch_"), spend_request: sr.id };
}

function item(query: URLSearchParams): { name: string; amount: number; currency: string } {
  const amount = Number(query.get("amount") ?? DEFAULT_ITEM.amount);
  const currency = (query.get("currency") ?? DEFAULT_ITEM.currency).toLowerCase();
  return {
    name: query.get("item") ?? DEFAULT_ITEM.name,
    amount: Number.isSafeInteger(amount) && amount > 0 ? amount : DEFAULT_ITEM.amount,
    currency: /^[a-z]{3}$/.test(currency) ? currency : DEFAULT_ITEM.currency,
  };
}

function form(it: { name: string; amount: number; currency: string }, error = ""): string {
  return `<h1>${esc(MERCHANT_NAME)} · checkout</h1>
<table><tr><td id="item">${shown(it.name)}</td><td class="num" id="price">${esc(money(it.amount, it.currency))}</td></tr></table>
${error}
<form method="post" action="/merchant/checkout" id="checkout" autocomplete="on">
<input type="hidden" name="item" value="${clean(it.name)}">
<input type="hidden" name="amount" value="${esc(it.amount)}">
<input type="hidden" name="currency" value="${esc(it.currency)}">
<label for="cc-name">Name on card</label>
<input id="cc-name" name="cardholder" autocomplete="cc-name" required>
<label for="cc-number">Card number</label>
<input id="cc-number" name="cardnumber" autocomplete="cc-number" inputmode="numeric" required>
<label for="cc-exp">Expiry (MM/YY)</label>
<input id="cc-exp" name="exp" autocomplete="cc-exp" placeholder="MM/YY" required>
<label for="cc-csc">CVC</label>
<input id="cc-csc" name="cvc" autocomplete="cc-csc" inputmode="numeric" required>
<label for="postal">Postal code</label>
<input id="postal" name="postal" autocomplete="postal-code" required>
<div class="actions"><button class="approve" type="submit" id="pay">Pay ${esc(money(it.amount, it.currency))}</button></div>
</form>`;
}

/** `GET /merchant/checkout[?item=&amount=&currency=]`. */
export function checkoutPage(query: URLSearchParams): Reply {
  return html(200, page(`${MERCHANT_NAME} checkout`, form(item(query))));
}

/** Parses `MM/YY`, `MM / YYYY`, `MMYY`. */
function parseExpiry(text: string): { month: number; year: number } | undefined {
  const m = /^\s*(\d{1,2})\s*\/?\s*(\d{2}|\d{4})\s*$/.exec(text);
  if (m === null) return undefined;
  const month = Number(m[1]);
  const year = m[2].length === 2 ? 2000 + Number(m[2]) : Number(m[2]);
  return month >= 1 && month <= 12 ? { month, year } : undefined;
}

/** `POST /merchant/checkout` (form fields as in the page). */
export function checkoutSubmit(ctx: Context, fields: Map<string, string>): Reply {
  const it = item(new URLSearchParams([...fields.entries()].filter(([k]) => k === "item" || k === "amount" || k === "currency")));
  const number = (fields.get("cardnumber") ?? "").replace(/[\s-]/g, "");
  const expiry = parseExpiry(fields.get("exp") ?? "");
  const cvc = (fields.get("cvc") ?? "").trim();
  const missing = ["cardholder", "cardnumber", "exp", "cvc", "postal"].filter((k) => (fields.get(k) ?? "").trim() === "");
  const fail = (status: number, message: string): Reply =>
    html(status, page(`${MERCHANT_NAME} checkout`, form(it, `<p class="error" id="error">${esc(message)}</p>`)));
  if (missing.length > 0) return fail(400, `Fill in: ${missing.join(", ")}.`);
  if (!/^\d{12,19}$/.test(number)) return fail(400, "Your card number is invalid.");
  if (expiry === undefined) return fail(400, "Your card's expiration date is invalid.");
  const result = chargeCard(ctx, { number, exp_month: expiry.month, exp_year: expiry.year, cvc, amount: it.amount, currency: it.currency });
  if (!result.ok) return fail(402, result.message);
  return html(
    200,
    page(
      `${MERCHANT_NAME} · paid`,
      `<h1>${esc(MERCHANT_NAME)}</h1><p class="status ok" id="result">Payment successful: ${esc(money(it.amount, it.currency))} for ${shown(it.name)}.</p>
<p class="muted">Order <code id="order">${esc(result.reference)}</code></p>`,
    ),
  );
}

/** The JSON form of a charge (for `POST /merchant/api/charge`, used by tests and agents). */
export function chargeJson(ctx: Context, body: JsonObject): { status: number; body: JsonObject } {
  const number = String(body.number ?? "").replace(/[\s-]/g, "");
  const result = chargeCard(ctx, {
    number,
    exp_month: Number(body.exp_month),
    exp_year: Number(body.exp_year),
    cvc: String(body.cvc ?? ""),
    amount: Number(body.amount ?? DEFAULT_ITEM.amount),
    currency: String(body.currency ?? "usd").toLowerCase(),
  });
  return result.ok
    ? { status: 200, body: { status: "succeeded", reference: result.reference } }
    : { status: 402, body: { error: { code: result.code, decline_code: result.decline_code, message: result.message } } };
}
