/**
 * Financial insights: `GET /sources`, `GET /balances`, `GET /transactions` over seeded data (the
 * same for every user), as the reference client reads them (link-cli.md §1.6): cursor pages
 * `{data, has_more}` (`limit` 1–100, `starting_after`, `ending_before`), date, category, origin
 * and `sources[]` filters, and the session's `source` authorization_details actions
 * (`--source-actions`) as the scopes: a session without the action a list needs gets
 * `403 insufficient_scope` and no data.
 */

import type { JsonObject } from "../index.js";
import { apiError } from "./http.js";
import type { SessionRecord } from "./state.js";

/** The `source` actions a session can be granted (`auth login --source-actions`). */
export const SOURCE_ACTIONS = ["read_balances", "read_external_transactions", "read_link_transactions", "read_source_details"] as const;
export type SourceAction = (typeof SOURCE_ACTIONS)[number];

/** When the seeded balances were last updated. */
const AS_OF = "2026-11-30T08:00:00Z";

interface SeedSource {
  id: string;
  name: string;
  type: "card" | "bank_account";
  origin: "link" | "external_connection";
  card?: JsonObject;
  bank_account?: JsonObject;
  external_connection: JsonObject | null;
  balance: { type: "cash" | "credit"; current: number; amount: number };
}

/** A Link card, an external checking account and an external savings account. */
const SOURCES: readonly SeedSource[] = [
  {
    id: "csmrpd_sandbox_visa",
    name: "Personal Visa ····4242",
    type: "card",
    origin: "link",
    card: { brand: "visa", last4: "4242", exp_month: 12, exp_year: 2034 },
    external_connection: null,
    balance: { type: "credit", current: 84_215, amount: 84_215 },
  },
  {
    id: "csmrpd_sandbox_checking",
    name: "STRIPE TEST BANK Checking ····6789",
    type: "bank_account",
    origin: "external_connection",
    bank_account: { bank_name: "STRIPE TEST BANK", last4: "6789", account_type: "checking" },
    external_connection: { status: "active", institution_name: "STRIPE TEST BANK", last_synced_at: AS_OF },
    balance: { type: "cash", current: 523_410, amount: 512_960 },
  },
  {
    id: "csmrpd_sandbox_savings",
    name: "STRIPE TEST BANK Savings ····1357",
    type: "bank_account",
    origin: "external_connection",
    bank_account: { bank_name: "STRIPE TEST BANK", last4: "1357", account_type: "savings" },
    external_connection: { status: "active", institution_name: "STRIPE TEST BANK", last_synced_at: AS_OF },
    balance: { type: "cash", current: 1_250_000, amount: 1_250_000 },
  },
];

interface SeedTransaction {
  id: string;
  source_id: string | null;
  amount: number;
  created_date: string;
  description: string;
  origin: "link" | "external_connection";
  category: string | null;
  status: string;
}

const L = "link";
const X = "external_connection";
const VISA = "csmrpd_sandbox_visa";
const CHECKING = "csmrpd_sandbox_checking";
const SAVINGS = "csmrpd_sandbox_savings";

/** [date, source, amount (negative: money out), description, origin, category, status?] */
type Row = [string, string | null, number, string, typeof L | typeof X, string | null, string?];

/** Thirty transactions, June to November 2026, newest first. */
const ROWS: readonly Row[] = [
  ["2026-11-28", VISA, -4_599, "Galtee Outdoor", L, "shopping"],
  ["2026-11-26", CHECKING, -12_840, "Whole Foods Market", X, "groceries", "pending"],
  ["2026-11-20", VISA, -1_550, "Blue Bottle Coffee", L, "restaurants"],
  ["2026-11-15", CHECKING, 420_000, "ACME Corp Payroll", X, "income"],
  ["2026-11-10", VISA, -1_599, "Streamly Subscription", L, "subscriptions"],
  ["2026-11-03", CHECKING, -979, "Chase", X, "credit_card_payment"],
  ["2026-10-30", SAVINGS, 5_000, "Interest", X, "income"],
  ["2026-10-25", VISA, -23_400, "Alpine Air", L, "travel"],
  ["2026-10-21", CHECKING, -8_675, "Trader Joe's", X, "groceries"],
  ["2026-10-15", CHECKING, 420_000, "ACME Corp Payroll", X, "income"],
  ["2026-10-12", VISA, -6_200, "Osteria Mozza", L, "restaurants"],
  ["2026-10-10", VISA, -1_599, "Streamly Subscription", L, "subscriptions"],
  ["2026-10-02", null, -15_000, "Transfer to savings", X, "transfer"],
  ["2026-09-28", CHECKING, -14_210, "PG&E", X, "utilities"],
  ["2026-09-19", VISA, -3_250, "Climate Contribution", L, null],
  ["2026-09-15", CHECKING, 420_000, "ACME Corp Payroll", X, "income"],
  ["2026-09-10", VISA, -1_599, "Streamly Subscription", L, "subscriptions"],
  ["2026-09-04", CHECKING, -9_830, "Whole Foods Market", X, "groceries"],
  ["2026-08-27", VISA, -12_900, "Galtee Outdoor", L, "shopping", "refunded"],
  ["2026-08-22", CHECKING, -4_120, "Shell", X, "transportation"],
  ["2026-08-15", CHECKING, 420_000, "ACME Corp Payroll", X, "income"],
  ["2026-08-10", VISA, -1_599, "Streamly Subscription", L, "subscriptions"],
  ["2026-08-01", CHECKING, -185_000, "Rent", X, "housing"],
  ["2026-07-24", VISA, -2_875, "Tartine Bakery", L, "restaurants"],
  ["2026-07-15", CHECKING, 420_000, "ACME Corp Payroll", X, "income"],
  ["2026-07-10", VISA, -1_599, "Streamly Subscription", L, "subscriptions"],
  ["2026-07-03", SAVINGS, 15_000, "Transfer from checking", X, "transfer"],
  ["2026-06-20", CHECKING, -7_640, "Safeway", X, "groceries"],
  ["2026-06-10", VISA, -1_599, "Streamly Subscription", L, "subscriptions"],
  ["2026-06-08", CHECKING, -979, "Chase", X, "credit_card_payment"],
];

const TRANSACTIONS: readonly SeedTransaction[] = ROWS.map(([created_date, source_id, amount, description, origin, category, status], i) => ({
  id: `lbctxn_sandbox_${String(ROWS.length - i).padStart(4, "0")}`,
  source_id,
  amount,
  created_date,
  description,
  origin,
  category,
  status: status ?? "succeeded",
}));

/** The `source` actions of a session's authorization_details, deduplicated. */
export function grantedActions(session: SessionRecord): Set<string> {
  const out = new Set<string>();
  for (const detail of session.authorization_details ?? []) {
    if (detail === null || typeof detail !== "object" || Array.isArray(detail) || detail.type !== "source") continue;
    const actions = detail.actions;
    if (Array.isArray(actions)) for (const a of actions) if (typeof a === "string") out.add(a);
  }
  return out;
}

/** `403 insufficient_scope`, naming the actions the call needs and how to get them. */
function refuse(what: string, needed: readonly string[]): never {
  const flags = needed.map((a) => `--source-actions ${a}`).join(" ");
  throw apiError(
    403,
    "insufficient_scope",
    `This session is not authorized to read ${what}: it needs the source action ${needed.join(" or ")}. Run auth login (or auth upgrade) with ${flags} to grant it.`,
    { required_actions: [...needed] },
    { "www-authenticate": `Bearer realm="link", error="insufficient_scope"` },
  );
}

/** A query parameter given at most once, or a 400. */
function single(query: URLSearchParams, name: string): string | undefined {
  const all = query.getAll(name);
  if (all.length > 1) throw invalid(name, `${name} must be given once`);
  return all[0];
}

function invalid(param: string, message: string): never {
  throw apiError(400, "parameter_invalid", message, { param });
}

/** Parameters a list does not take are an error, as the real API's strict parameter parsing. */
function onlyParams(query: URLSearchParams, allowed: readonly string[]): void {
  for (const key of query.keys()) {
    if (!allowed.includes(key)) invalid(key, `Received unknown parameter: ${key}`);
  }
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** One page of `items` (newest first) by `limit` (default 10) and the cursors. */
function page<T>(items: readonly T[], query: URLSearchParams, key: (t: T) => string, noun: string): { data: T[]; has_more: boolean } {
  const rawLimit = single(query, "limit");
  let limit = 10;
  if (rawLimit !== undefined) {
    if (!/^\d+$/.test(rawLimit) || Number(rawLimit) < 1 || Number(rawLimit) > 100) invalid("limit", "limit must be an integer from 1 to 100");
    limit = Number(rawLimit);
  }
  const after = single(query, "starting_after");
  const before = single(query, "ending_before");
  if (after !== undefined && before !== undefined) invalid("starting_after", "starting_after and ending_before cannot be used together");
  const at = (cursor: string, param: string): number => {
    const i = items.findIndex((t) => key(t) === cursor);
    if (i < 0) throw apiError(400, "resource_missing", `No such ${noun}: '${cursor}'`, { param });
    return i;
  };
  if (after !== undefined) {
    const start = at(after, "starting_after") + 1;
    return { data: items.slice(start, start + limit), has_more: start + limit < items.length };
  }
  if (before !== undefined) {
    const end = at(before, "ending_before");
    const start = Math.max(0, end - limit);
    return { data: items.slice(start, end), has_more: start > 0 };
  }
  return { data: items.slice(0, limit), has_more: limit < items.length };
}

function sourceFilter(query: URLSearchParams): Set<string> | undefined {
  const ids = query.getAll("sources[]");
  return ids.length === 0 ? undefined : new Set(ids);
}

/** `GET /sources`: needs `read_source_details`. */
export function listSources(session: SessionRecord, query: URLSearchParams): JsonObject {
  const granted = grantedActions(session);
  if (!granted.has("read_source_details")) refuse("source details", ["read_source_details"]);
  onlyParams(query, ["limit", "starting_after", "ending_before"]);
  const actions = SOURCE_ACTIONS.filter((a) => granted.has(a));
  const all = SOURCES.map((s): JsonObject => {
    const out: JsonObject = {
      id: s.id,
      name: s.name,
      type: s.type,
      capabilities: { balances: { status: "eligible" }, transactions: { status: "eligible" } },
      external_connection: s.external_connection,
      granted_actions: [...actions],
    };
    if (s.card !== undefined) out.card = s.card;
    if (s.bank_account !== undefined) out.bank_account = s.bank_account;
    return out;
  });
  const { data, has_more } = page(all, query, (s) => String(s.id), "source");
  return { data, has_more };
}

/** `GET /balances`: needs `read_balances`; the cursor is a balance's `source_id`. */
export function listBalances(session: SessionRecord, query: URLSearchParams): JsonObject {
  if (!grantedActions(session).has("read_balances")) refuse("balances", ["read_balances"]);
  onlyParams(query, ["limit", "starting_after", "ending_before", "sources[]"]);
  const only = sourceFilter(query);
  const all = SOURCES.filter((s) => only === undefined || only.has(s.id)).map((s): JsonObject => {
    const { type, current, amount } = s.balance;
    const out: JsonObject = { source_id: s.id, type };
    if (type === "cash") out.cash = { available: { usd: amount } };
    else out.credit = { used: { usd: amount } };
    return { ...out, current, currency: "usd", as_of: AS_OF };
  });
  const { data, has_more } = page(all, query, (b) => String(b.source_id), "balance");
  return { data, has_more };
}

/**
 * `GET /transactions`: Link transactions need `read_link_transactions`, those from bank
 * connections `read_external_transactions`; a session with one of them sees only those (and
 * asking for the other `origin` is refused), one with neither is refused.
 */
export function listTransactions(session: SessionRecord, query: URLSearchParams): JsonObject {
  const granted = grantedActions(session);
  const link = granted.has("read_link_transactions");
  const external = granted.has("read_external_transactions");
  if (!link && !external) refuse("transactions", ["read_link_transactions", "read_external_transactions"]);
  onlyParams(query, ["limit", "starting_after", "ending_before", "date_start", "date_end", "category", "origin", "sources[]"]);
  const origin = single(query, "origin");
  if (origin !== undefined && origin !== "link" && origin !== "external_connection") invalid("origin", "origin must be one of: link, external_connection");
  if (origin === "link" && !link) refuse("Link transactions", ["read_link_transactions"]);
  if (origin === "external_connection" && !external) refuse("external transactions", ["read_external_transactions"]);
  const start = single(query, "date_start");
  const end = single(query, "date_end");
  for (const [param, value] of [["date_start", start], ["date_end", end]] as const) {
    if (value !== undefined && !DATE.test(value)) invalid(param, `${param} must be a date in YYYY-MM-DD format`);
  }
  const category = single(query, "category");
  const only = sourceFilter(query);
  const visible = TRANSACTIONS.filter(
    (t) =>
      (t.origin === "link" ? link : external) &&
      (origin === undefined || t.origin === origin) &&
      (start === undefined || t.created_date >= start) &&
      (end === undefined || t.created_date <= end) &&
      (category === undefined || t.category === category) &&
      (only === undefined || (t.source_id !== null && only.has(t.source_id))),
  );
  const { data, has_more } = page(visible, query, (t) => t.id, "transaction");
  const view = (t: SeedTransaction): JsonObject => ({
    id: t.id,
    source_id: t.source_id,
    amount: t.amount,
    currency: "usd",
    created_date: t.created_date,
    description: t.description,
    origin: t.origin,
    category: t.category,
    status: t.status,
  });
  return { data: data.map(view), has_more };
}
