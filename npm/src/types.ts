/**
 * The shapes linkpay's API returns, for TypeScript users. They describe what the Rust core
 * produces (and the Link API sends); the core decides them, these types only name them. Objects
 * keep unknown members, so each type is open (`[key: string]: unknown`).
 */

/** A JSON value as the Link API and MPP use them. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** One broken rule: where (`line_items[0].quantity`) and why. */
export interface FieldError {
  path: string;
  message: string;
}

/** What every linkpay function throws (an `Error`; test with `isLinkpayError`). */
export interface LinkpayError extends Error {
  name: "LinkpayError";
  /** Stable code, e.g. `VALIDATION_ERROR`, `NOT_AUTHENTICATED`, `MPP_MALFORMED_CHALLENGE`. */
  code: string;
  /** Every broken rule, for `VALIDATION_ERROR`. */
  fieldErrors?: FieldError[];
  /** The parsed API answer (`status`, `error`, `duplicate_spend_request`, …) when there is one. */
  details?: Json;
}

/** Lifecycle statuses, as the Link API spells them. */
export type SpendRequestStatus =
  | "created"
  | "pending_approval"
  | "requires_action"
  | "approved"
  | "denied"
  | "expired"
  | "canceled"
  | "succeeded"
  | "failed";

export type CredentialType = "card" | "shared_payment_token" | "link_pay_token";

export interface BillingAddress {
  name?: string | null;
  line1?: string | null;
  line2?: string | null;
  city?: string | null;
  state?: string | null;
  postal_code?: string | null;
  country?: string | null;
}

/** The one-time virtual card: only with `include: ["card"]`, once approved. A secret. */
export interface Card {
  id?: string;
  brand?: string;
  exp_month?: number;
  exp_year?: number;
  number?: string;
  cvc?: string;
  billing_address?: BillingAddress | null;
  valid_until?: string | number | null;
  [key: string]: unknown;
}

/** A Shared Payment Token for an MPP merchant (`include: ["shared_payment_token"]`). A secret. */
export interface SharedPaymentToken {
  id: string;
  billing_address?: BillingAddress | null;
  valid_until?: string | number | null;
  [key: string]: unknown;
}

export interface LineItem {
  name?: string;
  quantity?: number;
  unit_amount?: number;
  url?: string;
  image_url?: string;
  description?: string;
  sku?: string;
  product_url?: string;
  [key: string]: unknown;
}

/** One amount line on the approval sheet (`subtotal`, `tax`, `total`, …). */
export interface Total {
  type?: string;
  display_text?: string;
  amount?: number;
  [key: string]: unknown;
}

/** What the person must do for a `requires_action` request. */
export interface NextAction {
  type?: string;
  /** `auto_resume` (keep polling), `create_new_spend_request`, … */
  resolution?: string;
  display_message?: string;
  action_url?: string;
  expires_at?: string | number;
  [key: string]: unknown;
}

/** A spend request as the Link API returns it (credentials only when asked with `include`). */
export interface SpendRequest {
  id: string;
  status: SpendRequestStatus;
  credential_type?: CredentialType;
  amount?: number;
  /** Lower-case ISO 4217. */
  currency?: string;
  merchant_name?: string;
  merchant_url?: string;
  network_id?: string;
  context?: string;
  line_items?: LineItem[];
  totals?: Total[];
  /** The payment method (`csmrpd_…`). */
  payment_details?: string;
  /** Where the person approves it (the Link app). */
  approval_url?: string;
  card_brand?: string;
  card_last4?: string;
  card?: Card;
  shared_payment_token?: SharedPaymentToken;
  link_pay_token?: string;
  status_details?: { requires_action?: { failure_code?: string; next_action?: NextAction } } | null;
  payment_status_details?: { outcome?: string; code?: string; decline_code?: string; amount?: number; currency?: string; [key: string]: unknown } | null;
  metadata?: { [key: string]: Json };
  test?: boolean;
  expires_at?: string | number;
  created_at?: string | number;
  updated_at?: string | number;
  [key: string]: unknown;
}

/** `spendRequests.requestApproval`: where to send the person. */
export interface ApprovalLink {
  id: string;
  approval_link: string;
  [key: string]: unknown;
}

/** One entry of the wallet (`paymentMethods.list`). */
export interface PaymentMethod {
  id: string;
  type: "card" | "bank_account" | string;
  is_default?: boolean;
  nickname?: string;
  card_details?: { brand?: string; last4?: string; exp_month?: number; exp_year?: number };
  bank_account_details?: { last4?: string; bank_name?: string };
  [key: string]: unknown;
}

/** One address of the wallet (`shippingAddresses.list`); nulls kept as the server sent them. */
export interface ShippingAddress {
  id: string;
  is_default?: boolean;
  nickname?: string | null;
  address?: {
    name?: string | null;
    line_1?: string | null;
    line_2?: string | null;
    locality?: string | null;
    dependent_locality?: string | null;
    administrative_area?: string | null;
    postal_code?: string | null;
    sorting_code?: string | null;
    country_code?: string | null;
    [key: string]: unknown;
  } | null;
  [key: string]: unknown;
}

/** `report`: how an agent's purchase attempt on a domain ended. */
export interface ReportInput {
  domain: string;
  outcome: "success" | "blocked" | "abandoned";
  spend_request_id: string;
  tags?: Array<"stripe_checkout" | "captcha" | "anti_bot_script" | "cdn_block" | "waf_block" | "dns_block" | "rate_limited" | "login_required" | "3ds_challenge" | "page_inaccessible" | "timeout" | "site_error" | "payment_declined" | "other">;
  /** At most 500 characters. */
  step?: string;
  /** At most 500 characters. */
  freeform_context?: string;
}

/** The person behind the session (`userInfo.retrieve`); a field the server left out is `null`. */
export interface UserInfo {
  email: string | null;
  name: string | null;
  first_name: string | null;
  last_name: string | null;
  phone: string | null;
  [key: string]: unknown;
}

/** The cursors and size of a financial-insights page (`--limit`, `--starting-after`, `--ending-before`). */
export interface PageOptions {
  /** 1 to 100. */
  limit?: number;
  /** The id (for balances: the `source_id`) of the last item of the previous page. */
  startingAfter?: string;
  /** The id of the first item of the page after the one wanted. */
  endingBefore?: string;
}

/** `transactions.list(options)` (`transactions list`). */
export interface ListTransactionsOptions extends PageOptions {
  /** `YYYY-MM-DD`, inclusive (sent as `date_start`). */
  startDate?: string;
  /** `YYYY-MM-DD`, inclusive (sent as `date_end`). */
  endDate?: string;
  category?: string;
  origin?: TransactionOrigin;
  /** Source ids (each sent as `sources[]`); named as the flag, `--source`. */
  source?: string[];
}

/** `sources.list(options)` (`sources list`). */
export type ListSourcesOptions = PageOptions;

/** `balances.list(options)` (`balances list`). */
export interface ListBalancesOptions extends PageOptions {
  /** Source ids (each sent as `sources[]`); named as the flag, `--source`. */
  source?: string[];
}

/** A financial-insights page, printed as the server sent it (not unwrapped). */
export interface Page<T> {
  data: T[];
  /** Present when the server says; when `true`, pass the last item's cursor as `startingAfter`. */
  has_more?: boolean;
  [key: string]: unknown;
}

export type TransactionOrigin = "link" | "external_connection";

/** One transaction; amounts are integers in minor units, negative for money out. */
export interface Transaction {
  id: string;
  source_id: string | null;
  amount: number;
  currency: string;
  /** `YYYY-MM-DD`. */
  created_date: string;
  description: string;
  origin: TransactionOrigin;
  category: string | null;
  /** As the server sent it (`succeeded`, `pending`, …: not a closed set). */
  status: string;
  [key: string]: unknown;
}

/** A financial account connected to the wallet: passed through as the server sent it. */
export interface Source {
  id?: string | null;
  name?: string | null;
  type?: string | null;
  capabilities?: Record<string, unknown> | null;
  external_connection?: Record<string, unknown> | null;
  granted_actions?: string[] | null;
  bank_account?: Record<string, unknown> | null;
  card?: Record<string, unknown> | null;
  [key: string]: unknown;
}

/** A source's balance (minor units per currency); passed through as the server sent it. */
export interface Balance {
  source_id: string;
  type: "cash" | "credit";
  cash?: { available: Record<string, number> } | null;
  credit?: { used: Record<string, number> } | null;
  current: number;
  currency: string;
  as_of: string;
  [key: string]: unknown;
}

/** `auth.status()`, `auth.wait()`: the session (tokens shown shortened, never whole). */
export interface AuthStatus {
  authenticated: boolean;
  /** A device login is waiting for the person. */
  pending?: boolean;
  verification_url?: string;
  phrase?: string;
  next_poll_at_ms?: number;
  /** The first characters of the access token, then `...`. */
  access_token?: string;
  token_type?: string;
  scope?: string;
  /** Where the session is kept: a file path, `memory`, `chrome.storage.local`, `localStorage`. */
  credentials_path?: string | null;
  [key: string]: unknown;
}

/** A `Payment-Receipt`, parsed. */
export interface Receipt {
  status: "success" | string;
  method: string;
  reference: string;
  /** RFC 3339. */
  timestamp: string;
  externalId?: string;
  subscriptionId?: string;
  [key: string]: unknown;
}

/** `mpp.pay`: the merchant's final answer (sanitized), and the receipt when it sent one. */
export interface MppPayResult {
  status: number;
  /** Lower-cased names; repeated headers joined with `, `. */
  headers: { [name: string]: string };
  body: string;
  receipt?: Receipt;
  /** Why `Payment-Receipt` could not be parsed. */
  receipt_error?: string;
  /** The SPT spend request used or created. */
  spend_request_id?: string;
  /** With `wait: false`: the SPT spend request just created, left for the caller to poll and pay. */
  spend_request?: SpendRequest;
}

/** A raw `Payment` challenge, as `decodeChallenges` shows it (`request` kept as sent). */
export interface Challenge {
  id: string;
  realm: string;
  method: string;
  intent: string;
  request: string;
  description?: string;
  digest?: string;
  expires?: string;
  opaque?: string;
  header?: string;
  request_json?: { [key: string]: Json };
  [key: string]: unknown;
}

/** One result per challenge: it parsed, or why not. */
export type ChallengeResult = { ok: true; challenge: Challenge } | { ok: false; error: { code: string; message: string; [key: string]: unknown } };

/** The stripe challenge of a 402, decoded and safe to display (`mpp.decode`). */
export interface StripeChallenge {
  id: string;
  realm: string;
  method: "stripe";
  intent: "charge" | "session" | string;
  description?: string;
  expires?: string;
  network_id: string;
  request_json: { [key: string]: Json };
  /** Smallest currency unit (cents). */
  amount: number;
  currency: string;
  payment_method_types: string[];
  external_id?: string;
  /** `expired`, `expiring_soon`, `realm_mismatch`, `unsupported_header`. */
  warnings: { code: string; message: string }[];
  /** Its position among the `Payment` challenges of the header. */
  challenge_index: number;
  [key: string]: unknown;
}
