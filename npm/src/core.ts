/**
 * The pure core functions (validation, state machines, the MPP decoder), shared by the Node
 * and browser entries. They call the wasm-bindgen build the entry bound (`binding.ts`): Node's
 * at import, the browser's once `init()` has fetched the module.
 */
import { wasm } from "./binding.js";
import type { ChallengeResult, JsonObject, LinkpayError, Receipt, SpendRequest, StripeChallenge } from "./types.js";

export type * from "./types.js";

/** True when `e` is an error thrown by linkpay (it carries a stable `.code`). */
export function isLinkpayError(e: unknown): e is LinkpayError {
  return e instanceof Error && typeof (e as { code?: unknown }).code === "string";
}

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** Validates and normalises a spend-request create input; throws `VALIDATION_ERROR` listing every problem. */
export function validateCreateSpendRequest(input: JsonObject, now: number = nowSeconds()): JsonObject {
  return wasm().validateCreateSpendRequest(input, now) as JsonObject;
}

/** The same rules on the wire body the Link API receives (`payment_details`). */
export function validateCreateSpendRequestBody(body: JsonObject, now: number = nowSeconds()): JsonObject {
  return wasm().validateCreateSpendRequestBody(body, now) as JsonObject;
}

/** Validates a spend-request update input. */
export function validateUpdateSpendRequest(input: JsonObject): JsonObject {
  return wasm().validateUpdateSpendRequest(input) as JsonObject;
}

/** Parses one `key:value,key:value` flag of kind `line_item`, `total` or `metadata`. */
export function parseKeyValueFlag(kind: "line_item" | "total" | "metadata", value: string): JsonObject {
  return wasm().parseKeyValueFlag(kind, value) as JsonObject;
}

/** Validates retrieve/poll options (`interval`, `max_attempts`, `timeout`, `include`). */
export function validateRetrieveOptions(input: JsonObject): JsonObject {
  return wasm().validateRetrieveOptions(input) as JsonObject;
}

/** Validates login options (`client_name`, `scope`, `source_actions`, `authorization_details`). */
export function validateLoginOptions(input: JsonObject): JsonObject {
  return wasm().validateLoginOptions(input) as JsonObject;
}

/** Applies a lifecycle event to a spend-request status; throws `ILLEGAL_TRANSITION`. */
export function spendRequestTransition(status: string, event: string): string {
  return wasm().spendRequestTransition(status, event) as string;
}

/** What a poller should do with a spend request it just fetched. */
export function nextSpendRequestAction(spendRequest: JsonObject): JsonObject {
  return wasm().nextSpendRequestAction(spendRequest) as JsonObject;
}

/** Normalises a spend request from the API (a string `shared_payment_token` becomes `{id}`). */
export function normalizeSpendRequest(spendRequest: JsonObject): SpendRequest {
  return wasm().normalizeSpendRequest(spendRequest) as SpendRequest;
}

/** Steps the device-authorization flow with the answer to a `/device/token` poll. */
export function authHandleTokenResponse(pending: JsonObject, status: number, body: string, nowMs: number = Date.now()): JsonObject {
  return wasm().authHandleTokenResponse(pending, status, body, nowMs) as JsonObject;
}

/** Whether stored tokens must be refreshed before use. */
export function tokenNeedsRefresh(tokens: JsonObject, nowMs: number = Date.now()): boolean {
  return wasm().tokenNeedsRefresh(tokens, nowMs) as boolean;
}

/** Decides what a poll loop does after an attempt. */
export function pollDecide(policy: JsonObject, state: JsonObject, nowMs: number, terminal: boolean): JsonObject {
  return wasm().pollDecide(policy, state, nowMs, terminal) as JsonObject;
}

const utf8 = new TextEncoder();
/** Reused for a single header value (wasm copies the bytes before the call returns). */
let scratch = new Uint8Array(1024);
/** Header values cross into wasm as UTF-8 bytes: `TextEncoder` is native code, while
 * wasm-bindgen copies a string in a JS loop (a quarter of the time on a 16 KiB header). A
 * single value is encoded into a reused buffer (`encodeInto`: no new array per call, ~0.3 µs
 * of a 5 µs `decodeStripeChallenge`). */
function headerBytes(header: unknown): unknown {
  if (typeof header === "string") {
    if (scratch.length < header.length * 3) scratch = new Uint8Array(header.length * 3);
    return scratch.subarray(0, utf8.encodeInto(header, scratch).written);
  }
  const bytes = (h: unknown): unknown => (typeof h === "string" ? utf8.encode(h) : h);
  return Array.isArray(header) ? header.map(bytes) : bytes(header);
}

/** Parses every `Payment` challenge of one or more `WWW-Authenticate` values; one result per challenge. */
export function decodeChallenges(header: string | string[]): ChallengeResult[] {
  return wasm().decodeChallenges(headerBytes(header)) as ChallengeResult[];
}

/** Picks and decodes the stripe charge/session challenge; the result is safe to display. */
export function decodeStripeChallenge(header: string | string[], nowMs: number = Date.now(), requestUrl?: string): StripeChallenge {
  return wasm().decodeStripeChallenge(headerBytes(header), nowMs, requestUrl) as StripeChallenge;
}

/** Builds the credential header for a challenge (as returned by `decodeChallenges`) and a payload. */
export function buildCredential(challenge: JsonObject, payload: JsonObject, source?: string, nowMs: number = Date.now()): { header: string; value: string } {
  return wasm().buildCredential(challenge, payload, source, nowMs) as { header: string; value: string };
}

/** The stripe payload for a challenge and a shared payment token. */
export function buildStripePayload(challenge: JsonObject, spt: string): JsonObject {
  return wasm().buildStripePayload(challenge, spt) as JsonObject;
}

/** Parses a `Payment-Receipt` header value. */
export function parseReceipt(value: string): Receipt {
  return wasm().parseReceipt(value) as Receipt;
}

/** The `Payment-Receipt` of a merchant's answer (`link.fetch`'s), parsed; `null` when it has none.
 * A receipt that cannot be read is `MPP_MALFORMED_RECEIPT`. */
export function receiptOf(response: { headers: { get(name: string): string | null } }): Receipt | null {
  const value = response.headers.get("payment-receipt");
  return value === null ? null : parseReceipt(value);
}

/** Strips ANSI sequences, control, bidi and zero-width characters from untrusted text. */
export function sanitizeForDisplay(text: string): string {
  return wasm().sanitizeForDisplay(text);
}

/** Takes a URL linkpay would request apart, as the core sends it (one parse for validation, the
 * npm build and the WASI component); `VALIDATION_ERROR` at `url` for anything else. */
export function parseHttpUrl(url: string): { https: boolean; authority: string; host: string; port: number | null; path_and_query: string } {
  return wasm().parseHttpUrl(url) as { https: boolean; authority: string; host: string; port: number | null; path_and_query: string };
}
