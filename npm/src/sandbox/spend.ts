/**
 * The Link API's spend requests: create (and delegated create), list, retrieve, update,
 * request approval, cancel; the person's approve/deny; 3-D Secure; credential issuance; and the
 * documented limits. Input rules are the core's (`validateCreateSpendRequestBody`,
 * `validateUpdateSpendRequestBody`) and every status change goes through the core's
 * `spendRequestTransition`, so the sandbox and the client share one lifecycle.
 *
 * Time-driven changes (the approval window, 12-hour credentials, 3-D Secure resuming,
 * auto-approval) are applied lazily, in time order, whenever a request is looked at: no timers,
 * so advancing the sandbox clock is instant and exact.
 */

import {
  isLinkpayError,
  validateCommandInput,
  spendRequestTransition,
  validateCreateSpendRequestBody,
  validateUpdateSpendRequestBody,
  type Json,
  type JsonObject,
} from "../index.js";
import { isoSeconds } from "./clock.js";
import type { Context } from "./context.js";
import { HttpError, apiError } from "./http.js";
import { randomDigits, randomId, randomSecret, randomTestCardNumber } from "./ids.js";
import type { SpendRequestRecord, UserRecord } from "./state.js";
import { DEFAULT_PAYMENT_METHOD, billingAddress, findPaymentMethod } from "./wallet.js";

/** No event leaves these (the core's `Status::is_final`). */
export const FINAL_STATUSES: ReadonlySet<string> = new Set(["denied", "expired", "canceled", "succeeded", "failed"]);
/** What `GET /spend_requests` lists without `include_history`, and what the active limit counts. */
const ACTIVE_STATUSES: ReadonlySet<string> = new Set(["created", "pending_approval", "requires_action", "approved"]);
/** What the approved limit counts: approved, and 3-D Secure about to resume into approved. */
const APPROVED_STATUSES: ReadonlySet<string> = new Set(["approved", "requires_action"]);
/** What the daily and monthly amounts count: everything that may still be, or was, spent. */
const SPENDING_STATUSES: ReadonlySet<string> = new Set(["created", "pending_approval", "requires_action", "approved", "succeeded"]);
/** `?include=` values the API knows. */
const INCLUDES: ReadonlySet<string> = new Set(["card", "shared_payment_token", "link_pay_token"]);
const DAY_MS = 86_400_000;
/** The monthly limit's window: a rolling 30 days. */
const MONTH_MS = 30 * DAY_MS;
const HOUR_MS = 3_600_000;

export const isFinal = (status: string): boolean => FINAL_STATUSES.has(status);

// ----- errors --------------------------------------------------------------------------------

/** A core `VALIDATION_ERROR` as the API's 400 `parameter_invalid`, with the core's messages. */
function validationError(e: unknown): HttpError {
  if (isLinkpayError(e) && e.code === "VALIDATION_ERROR") {
    const fieldErrors = (e.fieldErrors ?? []).map((f) => ({ path: f.path, message: f.message }));
    const extra: JsonObject = { field_errors: fieldErrors };
    if (fieldErrors.length > 0) extra.param = fieldErrors[0].path;
    return apiError(400, "parameter_invalid", e.message, extra);
  }
  throw e;
}

/** The status `event` leads to, from the core; an illegal event becomes the API's 409/422. */
function nextStatus(sr: SpendRequestRecord, event: string): string {
  try {
    return spendRequestTransition(sr.status, event);
  } catch (e) {
    if (isLinkpayError(e) && e.code === "ILLEGAL_TRANSITION") {
      const details = (e.details ?? {}) as JsonObject;
      const status = typeof details.http_status === "number" ? details.http_status : 409;
      throw apiError(status, "spend_request_unexpected_state", e.message, { status: sr.status });
    }
    throw e;
  }
}

/** Applies a lifecycle event through the core (see `nextStatus`). */
function transition(ctx: Context, sr: SpendRequestRecord, event: string, at: number): void {
  const next = nextStatus(sr, event);
  sr.status = next;
  sr.updated_ms = Math.max(sr.updated_ms, at);
  if (isFinal(next)) ctx.state.spendIndex(sr.user_id).live.delete(sr.id);
  ctx.changed();
}

function notFound(id: string): HttpError {
  return apiError(404, "resource_missing", `No such spend request: '${id}'`, { param: "id" });
}

// ----- lookups and time ------------------------------------------------------------------------

/** The user's spend request, settled to the sandbox clock; 404 for anyone else's. */
export function find(ctx: Context, user: UserRecord | undefined, id: string): SpendRequestRecord {
  const sr = ctx.state.spendRequests.get(id);
  if (sr === undefined || (user !== undefined && sr.user_id !== user.id)) throw notFound(id);
  settle(ctx, sr);
  return sr;
}

/** Applies every time-driven change that is due, earliest first. */
export function settle(ctx: Context, sr: SpendRequestRecord): void {
  const { limits } = ctx.config;
  for (;;) {
    if (isFinal(sr.status)) return;
    const now = ctx.clock.now();
    let due: { at: number; apply: () => void } | undefined;
    const consider = (at: number | undefined, apply: () => void): void => {
      if (at !== undefined && at <= now && (due === undefined || at < due.at)) due = { at, apply };
    };
    if (sr.status === "pending_approval") {
      const autoAt = sr.auto_approve_ms;
      consider(autoAt, () => {
        sr.auto_approve_ms = undefined;
        try {
          approveAsPerson(ctx, sr, autoAt ?? now);
        } catch (e) {
          if (!(e instanceof HttpError)) throw e; // over a limit: it waits for a person instead
        }
        ctx.changed();
      });
      if (sr.approval_requested_ms !== undefined) {
        const deadline = sr.approval_requested_ms + limits.approvalWindowMs;
        consider(deadline, () => transition(ctx, sr, "expire", deadline));
      }
    }
    if (sr.status === "requires_action") {
      const resumeAt = sr.resume_ms;
      consider(resumeAt, () => resume(ctx, sr, resumeAt ?? now));
    }
    consider(sr.valid_until_ms, () => transition(ctx, sr, "expire", sr.valid_until_ms));
    if (due === undefined) return;
    due.apply();
  }
}

/** Settles every request of a user that time can still change. */
export function settleUser(ctx: Context, user: UserRecord): void {
  for (const id of [...ctx.state.spendIndex(user.id).live]) {
    const sr = ctx.state.spendRequests.get(id);
    if (sr !== undefined) settle(ctx, sr);
  }
}

/** How many of the user's requests are in one of `statuses` (call `settleUser` first). */
function countLive(ctx: Context, user: UserRecord, statuses: ReadonlySet<string>): number {
  let n = 0;
  for (const id of ctx.state.spendIndex(user.id).live) {
    const sr = ctx.state.spendRequests.get(id);
    if (sr !== undefined && statuses.has(sr.status)) n++;
  }
  return n;
}

/** Cents the user committed in the `windowMs` before `now`, not counting `except`. */
function spentWithin(ctx: Context, user: UserRecord, now: number, windowMs: number, except?: string): number {
  const index = ctx.state.spendIndex(user.id);
  let total = 0;
  for (let i = index.ids.length - 1; i >= 0; i--) {
    const sr = ctx.state.spendRequests.get(index.ids[i]);
    if (sr === undefined) continue;
    if (sr.created_ms <= now - windowMs) break;
    if (sr.id !== except && SPENDING_STATUSES.has(sr.status)) total += Number(sr.request.amount ?? 0);
  }
  return total;
}

/** The daily ($500 per rolling 24 h) and monthly ($20,000 per rolling 30 days) limits, for a
 * request of `amount` cents: `400 spend_limit_exceeded` with `limit` when it would go over.
 * `what` starts the message ("This spend request", "This change"). */
function checkSpendLimits(ctx: Context, user: UserRecord, now: number, amount: number, what: string, except?: string): void {
  const { limits } = ctx.config;
  for (const [limit, windowMs, capCents, span] of [
    ["daily", DAY_MS, limits.dailyCents, "24 hours"],
    ["monthly", MONTH_MS, limits.monthlyCents, "30 days"],
  ] as const) {
    const spent = spentWithin(ctx, user, now, windowMs, except);
    if (spent + amount > capCents) {
      throw apiError(400, "spend_limit_exceeded", `${what} would bring the last ${span} to ${cents(spent + amount)}, over the ${limit} limit of ${cents(capCents)} (${cents(Math.max(0, capCents - spent))} left).`, { limit, param: "amount" });
    }
  }
}

// ----- the API ---------------------------------------------------------------------------------

export interface CreateOptions {
  delegated: boolean;
  idempotencyKey?: string;
}

export interface CreateResult {
  sr: SpendRequestRecord;
  replayed: boolean;
}

/** `POST /spend_requests` and `POST /spend_requests/create_delegated`. */
export function create(ctx: Context, user: UserRecord, body: Json, opts: CreateOptions): CreateResult {
  const { limits } = ctx.config;
  const now = ctx.clock.now();
  const index = ctx.state.spendIndex(user.id);
  const fingerprint = opts.idempotencyKey === undefined ? "" : `${opts.delegated ? "delegated" : "create"} ${JSON.stringify(body)}`;

  // Idempotency: the same key returns the same request; never a second one.
  if (opts.idempotencyKey !== undefined) {
    const earlier = ctx.state.spendRequests.get(index.idempotency.get(opts.idempotencyKey) ?? "");
    if (earlier !== undefined && now - earlier.created_ms < limits.idempotencyWindowMs) {
      if (earlier.idempotency_fingerprint !== fingerprint) {
        throw apiError(400, "idempotency_error", `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${opts.idempotencyKey}' if you meant to execute a different request.`);
      }
      settle(ctx, earlier);
      return { sr: earlier, replayed: true };
    }
  }

  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw apiError(400, "parameter_invalid", "Invalid input: the request body must be a JSON object", { field_errors: [{ path: "input", message: "must be a JSON object" }], param: "input" });
  }
  let request: JsonObject;
  try {
    request = validateCreateSpendRequestBody(body, Math.floor(now / 1000));
  } catch (e) {
    throw validationError(e);
  }
  const pmId = typeof request.payment_details === "string" ? request.payment_details : DEFAULT_PAYMENT_METHOD.id;
  if (findPaymentMethod(pmId) === undefined) {
    throw apiError(400, "parameter_invalid", `No such payment method: '${pmId}'`, { param: "payment_details", field_errors: [{ path: "payment_details", message: `no such payment method: '${pmId}'` }] });
  }
  const amount = Number(request.amount);

  settleUser(ctx, user);

  // Duplicates: the same purchase again within the window.
  const dedupeKey = JSON.stringify([request.credential_type, amount, request.currency, request.merchant_name ?? null, request.merchant_url ?? null, request.network_id ?? null, request.merchant_account_id ?? null, request.context]);
  const duplicate = ctx.state.spendRequests.get(index.dedupe.get(dedupeKey) ?? "");
  if (duplicate !== undefined && now - duplicate.created_ms < limits.duplicateWindowMs) {
    settle(ctx, duplicate);
    const retryAfterMs = duplicate.created_ms + limits.duplicateWindowMs;
    throw rateLimited(
      "You cannot submit duplicate spend requests within a short period of time. Retrieve the existing spend request instead.",
      "duplicate",
      retryAfterMs,
      now,
      { duplicate_spend_request: view(ctx, duplicate) },
    );
  }

  // Creation rates.
  while (index.creates.length > 0 && index.creates[0] <= now - limits.rollingWindowMs) index.creates.shift();
  if (index.creates.length >= limits.rolling) {
    throw rateLimited(`You can create at most ${limits.rolling} spend requests in 60 days.`, "rolling", index.creates[index.creates.length - limits.rolling] + limits.rollingWindowMs, now);
  }
  const lastHour = index.creates.filter((t) => t > now - HOUR_MS);
  if (lastHour.length >= limits.hourly) {
    throw rateLimited(`You can create at most ${limits.hourly} spend requests per hour.`, "hourly", lastHour[lastHour.length - limits.hourly] + HOUR_MS, now);
  }

  // Concurrency.
  const active = countLive(ctx, user, ACTIVE_STATUSES);
  if (active >= limits.active) {
    throw apiError(409, "spend_request_limit_exceeded", `You already have ${active} active spend requests (the limit is ${limits.active}). Cancel or finish one first.`, { limit: "active" });
  }
  const approved = countLive(ctx, user, APPROVED_STATUSES);
  if (approved >= limits.approved) {
    throw apiError(409, "spend_request_limit_exceeded", `You already have ${approved} approved spend requests (the limit is ${limits.approved}). Use or cancel one first.`, { limit: "approved" });
  }

  // Money.
  checkSpendLimits(ctx, user, now, amount, "This spend request");

  const expiresAt = typeof request.expires_at === "number" ? request.expires_at * 1000 : undefined;
  const sr: SpendRequestRecord = {
    id: randomId("lsrq_"),
    user_id: user.id,
    status: "created",
    request,
    payment_method: pmId,
    delegated: opts.delegated,
    dedupe_key: dedupeKey,
    created_ms: now,
    updated_ms: now,
    valid_until_ms: expiresAt ?? now + limits.credentialValidityMs,
    status_details: null,
  };
  if (opts.idempotencyKey !== undefined) {
    sr.idempotency_key = opts.idempotencyKey;
    sr.idempotency_fingerprint = fingerprint;
  }
  ctx.state.addSpendRequest(sr, false);

  if (opts.delegated) {
    transition(ctx, sr, "approve", now);
    afterApproval(ctx, sr, now);
  } else if (request.request_approval === true) {
    askForApproval(ctx, sr, now);
  }
  ctx.changed();
  return { sr, replayed: false };
}

function cents(amount: number): string {
  return `$${(amount / 100).toFixed(2)}`;
}

function rateLimited(message: string, limit: string, retryAtMs: number, now: number, extra: JsonObject = {}): HttpError {
  const retryAfter = Math.ceil(retryAtMs / 1000);
  return apiError(429, "spend_request_rate_limited", message, { limit, retry_after: retryAfter, ...extra }, { "retry-after": String(Math.max(1, Math.ceil((retryAtMs - now) / 1000))) });
}

function askForApproval(ctx: Context, sr: SpendRequestRecord, at: number): void {
  transition(ctx, sr, "request_approval", at);
  sr.approval_requested_ms = at;
  if (ctx.config.autoApprove) sr.auto_approve_ms = at + ctx.config.autoApproveDelayMs;
}

/** `GET /spend_requests` (`include_history` adds final ones), newest first. */
export function list(ctx: Context, user: UserRecord, includeHistory: boolean): JsonObject[] {
  settleUser(ctx, user);
  const out: JsonObject[] = [];
  const ids = ctx.state.spendIndex(user.id).ids;
  for (let i = ids.length - 1; i >= 0; i--) {
    const sr = ctx.state.spendRequests.get(ids[i]);
    if (sr !== undefined && (includeHistory || ACTIVE_STATUSES.has(sr.status))) out.push(view(ctx, sr));
  }
  return out;
}

/** Parses `include` query values (`card,shared_payment_token`, repeated or comma-joined). */
export function parseInclude(values: string[]): Set<string> {
  const include = new Set<string>();
  for (const value of values) {
    for (const part of value.split(",")) {
      const name = part.trim();
      if (name === "") continue;
      if (!INCLUDES.has(name)) {
        throw apiError(400, "parameter_invalid", `Invalid include value: '${name}'. Allowed values: ${[...INCLUDES].join(", ")}`, { param: "include" });
      }
      include.add(name);
    }
  }
  return include;
}

/** `POST /spend_requests/{id}`. */
export function update(ctx: Context, user: UserRecord, id: string, body: Json): SpendRequestRecord {
  const sr = find(ctx, user, id);
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw apiError(400, "parameter_invalid", "Invalid input: the request body must be a JSON object", { param: "input" });
  }
  let changes: JsonObject;
  try {
    changes = validateUpdateSpendRequestBody(body);
  } catch (e) {
    throw validationError(e);
  }
  const now = ctx.clock.now();
  nextStatus(sr, "update");
  if (typeof changes.payment_details === "string") {
    if (findPaymentMethod(changes.payment_details) === undefined) {
      throw apiError(400, "parameter_invalid", `No such payment method: '${changes.payment_details}'`, { param: "payment_details" });
    }
  }
  if (typeof changes.amount === "number") {
    checkSpendLimits(ctx, user, now, changes.amount, "This change", sr.id);
  }
  transition(ctx, sr, "update", now);
  for (const [key, value] of Object.entries(changes)) {
    if (key === "payment_details" && typeof value === "string") sr.payment_method = value;
    sr.request[key] = value;
  }
  sr.updated_ms = now;
  return sr;
}

/** `POST /spend_requests/{id}/request_approval`: `{id, approval_link}`. */
export function requestApproval(ctx: Context, user: UserRecord, id: string): JsonObject {
  const sr = find(ctx, user, id);
  askForApproval(ctx, sr, ctx.clock.now());
  return { id: sr.id, approval_link: approvalUrl(ctx, sr) };
}

/** `POST /spend_requests/{id}/cancel`. */
export function cancel(ctx: Context, user: UserRecord, id: string): SpendRequestRecord {
  const sr = find(ctx, user, id);
  transition(ctx, sr, "cancel", ctx.clock.now());
  return sr;
}

// ----- the person (approval page, sandbox controls) -------------------------------------------

/** The person approves: approved (credentials issued), or requires_action for 3-D Secure. */
export function approveAsPerson(ctx: Context, sr: SpendRequestRecord, at = ctx.clock.now()): void {
  if (sr.status === "created") {
    // The core also allows created → approved, but only for delegated creation: a person only
    // sees what was sent to them.
    throw apiError(409, "spend_request_unexpected_state", "Cannot approve a spend request in created status: approval was not requested", { status: sr.status });
  }
  if (sr.status === "pending_approval") {
    const user = ctx.state.users.get(sr.user_id);
    const approved = user === undefined ? 0 : countLive(ctx, user, APPROVED_STATUSES);
    if (approved >= ctx.config.limits.approved) {
      throw apiError(409, "spend_request_limit_exceeded", `You already have ${approved} approved spend requests (the limit is ${ctx.config.limits.approved}). Use or cancel one first.`, { limit: "approved" });
    }
  }
  if (findPaymentMethod(sr.payment_method)?.threeDSecure === true && sr.status === "pending_approval") {
    transition(ctx, sr, "require_action", at);
    requireThreeDSecure(ctx, sr, at);
  } else {
    transition(ctx, sr, "approve", at);
    issueCredentials(ctx, sr, at);
  }
  sr.auto_approve_ms = undefined;
}

/** After the approve event: 3-D Secure first for cards that need it, else the credentials. */
function afterApproval(ctx: Context, sr: SpendRequestRecord, at: number): void {
  if (findPaymentMethod(sr.payment_method)?.threeDSecure === true) {
    transition(ctx, sr, "require_action", at);
    requireThreeDSecure(ctx, sr, at);
  } else {
    issueCredentials(ctx, sr, at);
  }
}

function requireThreeDSecure(ctx: Context, sr: SpendRequestRecord, at: number): void {
  sr.resume_ms = at + ctx.config.threeDSecureDelayMs;
  sr.status_details = {
    requires_action: {
      failure_code: null,
      next_action: {
        type: "three_d_secure",
        resolution: "auto_resume",
        display_message: "Your bank needs to verify this purchase (3-D Secure). It continues by itself once verified.",
        action_url: `${ctx.config.baseUrl}/3ds/${sr.id}`,
        expires_at: isoSeconds(at + ctx.config.limits.approvalWindowMs),
      },
    },
  };
}

/** 3-D Secure done: back to approved, with credentials. */
export function resume(ctx: Context, sr: SpendRequestRecord, at = ctx.clock.now()): void {
  transition(ctx, sr, "resume", at);
  sr.resume_ms = undefined;
  sr.status_details = null;
  issueCredentials(ctx, sr, at);
}

export function deny(ctx: Context, sr: SpendRequestRecord, at = ctx.clock.now()): void {
  transition(ctx, sr, "deny", at);
  sr.auto_approve_ms = undefined;
}

function issueCredentials(ctx: Context, sr: SpendRequestRecord, at: number): void {
  const r = sr.request;
  if (r.execution_method === "link_pay_token") {
    sr.lpt = { token: randomSecret("lpt_"), valid_until_ms: Math.min(sr.valid_until_ms, at + ctx.config.limits.linkPayTokenValidityMs) };
  } else if (r.credential_type === "shared_payment_token") {
    sr.spt = { id: randomId("spt_") };
    ctx.state.spts.set(sr.spt.id, sr.id);
  } else {
    let number = randomTestCardNumber();
    while (ctx.state.cards.has(number)) number = randomTestCardNumber();
    const expiry = new Date(at);
    sr.card = {
      id: randomId("card_"),
      brand: "visa",
      number,
      cvc: randomDigits(3),
      exp_month: expiry.getUTCMonth() + 1,
      exp_year: expiry.getUTCFullYear() + 3,
    };
    ctx.state.cards.set(number, sr.id);
  }
  ctx.changed();
}

/** Marks a request's credential used (the merchant charged it): approved → succeeded. */
export function markUsed(ctx: Context, sr: SpendRequestRecord, amount: number, currency: string, at = ctx.clock.now()): void {
  transition(ctx, sr, "succeed", at);
  sr.payment_status_details = { outcome: "success", code: null, decline_code: null, amount, currency, created: Math.floor(at / 1000) };
  sr.link_transaction_id = randomId("ltxn_");
}

/** The payment with the credential failed (a control for client tests): → failed. */
export function markFailed(ctx: Context, sr: SpendRequestRecord, at = ctx.clock.now()): void {
  transition(ctx, sr, "fail", at);
  sr.resume_ms = undefined;
  sr.status_details = null;
  sr.payment_status_details = { outcome: "failure", code: "card_declined", decline_code: "generic_decline", amount: Number(sr.request.amount ?? 0), currency: String(sr.request.currency ?? "usd"), created: Math.floor(at / 1000) };
}

// ----- what the API shows ----------------------------------------------------------------------

export function approvalUrl(ctx: Context, sr: SpendRequestRecord): string {
  return `${ctx.config.baseUrl}/approve/${sr.id}`;
}

/** Whether the request's credential may be shown (`include=`): once approved, until spent. */
function credentialVisible(sr: SpendRequestRecord): boolean {
  return sr.status === "approved" || sr.status === "succeeded";
}

/** The spend request as the API returns it; credentials only when asked for and approved. */
export function view(ctx: Context, sr: SpendRequestRecord, include: ReadonlySet<string> = new Set()): JsonObject {
  const r = sr.request;
  const out: JsonObject = { id: sr.id };
  const copy = (key: string): void => {
    if (r[key] !== undefined && r[key] !== null) out[key] = r[key];
  };
  for (const key of ["merchant_name", "merchant_url", "context", "amount", "currency"]) copy(key);
  out.line_items = r.line_items ?? [];
  out.totals = r.totals ?? [];
  out.payment_details = sr.payment_method;
  for (const key of ["credential_type", "network_id", "execution_method", "merchant_account_id", "profile_id", "merchant_id"]) copy(key);
  out.status = sr.status;
  if (sr.approval_requested_ms !== undefined) out.approval_url = approvalUrl(ctx, sr);
  if (sr.card !== undefined) {
    out.card_brand = sr.card.brand;
    out.card_last4 = sr.card.number.slice(-4);
  }
  out.status_details = sr.status_details ?? null;
  const nextAction = (sr.status_details?.requires_action as JsonObject | undefined)?.next_action as JsonObject | undefined;
  if (nextAction?.type === "three_d_secure") {
    // The bank page lives on this sandbox, wherever it listens now (the port may change across a restart).
    out.status_details = { requires_action: { ...(sr.status_details?.requires_action as JsonObject), next_action: { ...nextAction, action_url: `${ctx.config.baseUrl}/3ds/${sr.id}` } } };
  }
  if (sr.payment_status_details !== undefined) out.payment_status_details = sr.payment_status_details;
  if (sr.link_transaction_id !== undefined) {
    out.link_transaction_id = sr.link_transaction_id;
    out.activity_url = `${ctx.config.baseUrl}/activity/${sr.id}`;
  }
  out.metadata = r.metadata ?? {};
  copy("approval_details");
  out.test = r.test === true;
  out.expires_at = Math.floor(sr.valid_until_ms / 1000);
  out.created_at = isoSeconds(sr.created_ms);
  out.updated_at = isoSeconds(sr.updated_ms);
  if (credentialVisible(sr)) {
    const user = ctx.state.users.get(sr.user_id);
    const validUntil = isoSeconds(sr.valid_until_ms);
    if (include.has("card") && sr.card !== undefined) {
      out.card = {
        id: sr.card.id,
        brand: sr.card.brand,
        exp_month: sr.card.exp_month,
        exp_year: sr.card.exp_year,
        number: sr.card.number,
        cvc: sr.card.cvc,
        billing_address: user === undefined ? null : billingAddress(user),
        valid_until: validUntil,
      };
    }
    if (include.has("shared_payment_token") && sr.spt !== undefined) {
      out.shared_payment_token = { id: sr.spt.id, valid_until: validUntil };
    }
    if (include.has("link_pay_token") && sr.lpt !== undefined) out.link_pay_token = sr.lpt.token;
  }
  return out;
}

/** Counters a test or the bench can check a user's limits against. */
export function usage(ctx: Context, user: UserRecord): JsonObject {
  settleUser(ctx, user);
  const now = ctx.clock.now();
  const index = ctx.state.spendIndex(user.id);
  const byStatus: Record<string, number> = {};
  for (const id of index.ids) {
    const sr = ctx.state.spendRequests.get(id);
    if (sr !== undefined) byStatus[sr.status] = (byStatus[sr.status] ?? 0) + 1;
  }
  return {
    user_id: user.id,
    total: index.ids.length,
    by_status: byStatus,
    active: countLive(ctx, user, ACTIVE_STATUSES),
    approved: countLive(ctx, user, APPROVED_STATUSES),
    created_last_hour: index.creates.filter((t) => t > now - HOUR_MS).length,
    created_last_60_days: index.creates.filter((t) => t > now - ctx.config.limits.rollingWindowMs).length,
    spent_last_24h: spentWithin(ctx, user, now, DAY_MS),
    spent_last_30_days: spentWithin(ctx, user, now, MONTH_MS),
  };
}

/**
 * `POST /agent_observations` (`report`): the core's rules for the body (the report command's,
 * whose keys are the wire's), then the spend request must be the caller's. The record is
 * kept and returned as the API does: `{object, created_at, domain, outcome, spend_request_id,
 * status, …}`.
 */
export function observe(ctx: Context, user: UserRecord, body: unknown, now: number): JsonObject {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw apiError(400, "parameter_invalid", "Invalid input: the request body must be a JSON object", { param: "input" });
  }
  let report: JsonObject;
  try {
    report = validateCommandInput("report", body as JsonObject, Math.floor(now / 1000));
  } catch (e) {
    throw validationError(e);
  }
  find(ctx, user, String(report.spend_request_id));
  const record: JsonObject = {
    object: "agent_observation",
    id: randomId("aobs_"),
    created_at: Math.floor(now / 1000),
    domain: report.domain as Json,
    outcome: report.outcome as Json,
    spend_request_id: report.spend_request_id as Json,
    ...(report.tags !== undefined ? { tags: report.tags as Json } : {}),
    ...(report.step !== undefined ? { step: report.step as Json } : {}),
    ...(report.freeform_context !== undefined ? { freeform_context: report.freeform_context as Json } : {}),
    status: "recorded",
  };
  ctx.state.observations.push(record);
  ctx.changed();
  return record;
}
