/**
 * linkpay: one-time payment credentials from a Link wallet for AI agents.
 *
 * Every rule lives in the Rust core (compiled to WebAssembly); this module only gives it
 * TypeScript types. Failures are `Error`s with a stable `.code` (and `.fieldErrors` for
 * `VALIDATION_ERROR`).
 */
import * as core from "#wasm";
import { hostname as osHostname } from "node:os";
import { LinkClientBase, type LinkClientOptions } from "./client.js";
import { FileStorage, defaultConfigPath } from "./host/file.js";
import { MemoryStorage } from "./host/memory.js";

/** A JSON object as the Link API and MPP use them. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** One broken rule: where (`line_items[0].quantity`) and why. */
export interface FieldError {
  path: string;
  message: string;
}

/** What every linkpay function throws. */
export interface LinkpayError extends Error {
  name: "LinkpayError";
  /** Stable code, e.g. `VALIDATION_ERROR`, `NOT_AUTHENTICATED`, `MPP_MALFORMED_CHALLENGE`. */
  code: string;
  fieldErrors?: FieldError[];
  details?: Json;
}

/** True when `e` is an error thrown by linkpay (it carries a stable `.code`). */
export function isLinkpayError(e: unknown): e is LinkpayError {
  return e instanceof Error && typeof (e as { code?: unknown }).code === "string";
}

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** Validates and normalises a spend-request create input; throws `VALIDATION_ERROR` listing every problem. */
export function validateCreateSpendRequest(input: JsonObject, now: number = nowSeconds()): JsonObject {
  return core.validateCreateSpendRequest(input, now) as JsonObject;
}

/** The same rules on the wire body the Link API receives (`payment_details`). */
export function validateCreateSpendRequestBody(body: JsonObject, now: number = nowSeconds()): JsonObject {
  return core.validateCreateSpendRequestBody(body, now) as JsonObject;
}

/** Validates a spend-request update input. */
export function validateUpdateSpendRequest(input: JsonObject): JsonObject {
  return core.validateUpdateSpendRequest(input) as JsonObject;
}

/** Parses one `key:value,key:value` flag of kind `line_item`, `total` or `metadata`. */
export function parseKeyValueFlag(kind: "line_item" | "total" | "metadata", value: string): JsonObject {
  return core.parseKeyValueFlag(kind, value) as JsonObject;
}

/** Validates retrieve/poll options (`interval`, `max_attempts`, `timeout`, `include`). */
export function validateRetrieveOptions(input: JsonObject): JsonObject {
  return core.validateRetrieveOptions(input) as JsonObject;
}

/** Validates login options (`client_name`, `scope`, `source_actions`, `authorization_details`). */
export function validateLoginOptions(input: JsonObject): JsonObject {
  return core.validateLoginOptions(input) as JsonObject;
}

/** Applies a lifecycle event to a spend-request status; throws `ILLEGAL_TRANSITION`. */
export function spendRequestTransition(status: string, event: string): string {
  return core.spendRequestTransition(status, event) as string;
}

/** What a poller should do with a spend request it just fetched. */
export function nextSpendRequestAction(spendRequest: JsonObject): JsonObject {
  return core.nextSpendRequestAction(spendRequest) as JsonObject;
}

/** Normalises a spend request from the API (a string `shared_payment_token` becomes `{id}`). */
export function normalizeSpendRequest(spendRequest: JsonObject): JsonObject {
  return core.normalizeSpendRequest(spendRequest) as JsonObject;
}

/** Steps the device-authorization flow with the answer to a `/device/token` poll. */
export function authHandleTokenResponse(pending: JsonObject, status: number, body: string, nowMs: number = Date.now()): JsonObject {
  return core.authHandleTokenResponse(pending, status, body, nowMs) as JsonObject;
}

/** Whether stored tokens must be refreshed before use. */
export function tokenNeedsRefresh(tokens: JsonObject, nowMs: number = Date.now()): boolean {
  return core.tokenNeedsRefresh(tokens, nowMs) as boolean;
}

/** Decides what a poll loop does after an attempt. */
export function pollDecide(policy: JsonObject, state: JsonObject, nowMs: number, terminal: boolean): JsonObject {
  return core.pollDecide(policy, state, nowMs, terminal) as JsonObject;
}

const utf8 = new TextEncoder();
/** Header values cross into wasm as UTF-8 bytes: `TextEncoder` is native code, while
 * wasm-bindgen copies a string in a JS loop (a quarter of the time on a 16 KiB header). */
function headerBytes(header: unknown): unknown {
  const bytes = (h: unknown): unknown => (typeof h === "string" ? utf8.encode(h) : h);
  return Array.isArray(header) ? header.map(bytes) : bytes(header);
}

/** Parses every `Payment` challenge of one or more `WWW-Authenticate` values; one result per challenge. */
export function decodeChallenges(header: string | string[]): JsonObject[] {
  return core.decodeChallenges(headerBytes(header)) as JsonObject[];
}

/** Picks and decodes the stripe charge/session challenge; the result is safe to display. */
export function decodeStripeChallenge(header: string | string[], nowMs: number = Date.now(), requestUrl?: string): JsonObject {
  return core.decodeStripeChallenge(headerBytes(header), nowMs, requestUrl) as JsonObject;
}

/** Builds the credential header for a challenge (as returned by `decodeChallenges`) and a payload. */
export function buildCredential(challenge: JsonObject, payload: JsonObject, source?: string, nowMs: number = Date.now()): { header: string; value: string } {
  return core.buildCredential(challenge, payload, source, nowMs) as { header: string; value: string };
}

/** The stripe payload for a challenge and a shared payment token. */
export function buildStripePayload(challenge: JsonObject, spt: string): JsonObject {
  return core.buildStripePayload(challenge, spt) as JsonObject;
}

/** Parses a `Payment-Receipt` header value. */
export function parseReceipt(value: string): JsonObject {
  return core.parseReceipt(value) as JsonObject;
}

/** Strips ANSI sequences, control, bidi and zero-width characters from untrusted text. */
export function sanitizeForDisplay(text: string): string {
  return core.sanitizeForDisplay(text);
}

/** Every stable error code. */
export const errorCodes: readonly string[] = core.errorCodes();

/** The package version (equal to the Rust core's). */
export const version: string = core.version();

// ------------------------------------------------------------------ the client (Node defaults)


export type { LinkClientOptions, PollOptions, WaitForOptions, PayOptions, LoginPending, LoginDone } from "./client.js";
export type { LinkStorage, FetchFunction, Logger } from "./host/types.js";
export { FileStorage, MemoryStorage, defaultConfigPath };

/** Node defaults: `LINK_*` environment variables, and the credential file (`LINK_AUTH_FILE`). */
function nodeEnv(): Partial<LinkClientOptions> {
  const env = process.env;
  const text = (v: string | undefined) => (v && v.trim() !== "" ? v : undefined);
  return {
    apiBaseUrl: text(env.LINK_API_BASE_URL),
    authBaseUrl: text(env.LINK_AUTH_BASE_URL),
    accessToken: text(env.LINK_ACCESS_TOKEN),
    refreshToken: text(env.LINK_REFRESH_TOKEN),
    // As the reference: any non-empty value turns refreshing off.
    noRefresh: text(env.LINK_NO_REFRESH) !== undefined ? true : undefined,
  };
}

/**
 * The Link wallet for agents. In Node it defaults to the environment (`LINK_API_BASE_URL`,
 * `LINK_AUTH_BASE_URL`, `LINK_ACCESS_TOKEN`, `LINK_REFRESH_TOKEN`, `LINK_NO_REFRESH`) and keeps
 * the session in a 0600 file (`LINK_AUTH_FILE`, else `~/.config/linkpay/config.json`).
 */
export class LinkClient extends LinkClientBase {
  constructor(options: LinkClientOptions = {}) {
    super(core.WasmClient, options, {
      env: nodeEnv,
      storage: () => new FileStorage(process.env.LINK_AUTH_FILE?.trim() ? process.env.LINK_AUTH_FILE : defaultConfigPath()),
      hostname: () => osHostname(),
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Sandbox/server side (append-only): what the local sandbox needs to answer like the Link API.
// ---------------------------------------------------------------------------------------------

/** The OAuth client id the Link auth server accepts (the reference client's public id). */
export const authClientId: string = core.authClientId();

/** Validates the wire body of `POST /spend_requests/{id}` (`payment_details` names the payment
 * method); returns the normalised wire body. Same rules and messages as `validateUpdateSpendRequest`. */
export function validateUpdateSpendRequestBody(body: JsonObject): JsonObject {
  return core.validateUpdateSpendRequestBody(body) as JsonObject;
}

/** What the merchant fills in to issue an MPP challenge. */
export interface MppChallengeSpec {
  realm: string;
  method: string;
  intent: string;
  /** Sent as base64url JCS. */
  request: JsonObject;
  description?: string;
  digest?: string;
  /** RFC 3339. */
  expires?: string;
  /** A string map, sent as base64url JCS. */
  opaque?: { [key: string]: string };
  /** `"Payment-Authorization"` to ask for that header. */
  header?: string;
}

/** Issues an MPP challenge whose id is the HMAC of its fields under `secret` (≥ 32 bytes):
 * the challenge (as `decodeChallenges` shows it) and its `WWW-Authenticate` value. */
export function mppIssueChallenge(secret: string, spec: MppChallengeSpec): { challenge: JsonObject; www_authenticate: string } {
  return core.mppIssueChallenge(secret, spec) as { challenge: JsonObject; www_authenticate: string };
}

/** A verified MPP credential; `stripe` is the decoded stripe request. */
export interface MppVerifiedCredential {
  challenge: JsonObject;
  payload: JsonObject;
  source?: string;
  stripe?: { amount: number; currency: string; network_id: string; payment_method_types: string[]; external_id?: string };
}

/** Verifies a credential received in `headerName` at `nowMs`: HMAC id, expiry, header. Errors
 * carry `details.problem` (the RFC 9457 type URI) and `details.status`. */
export function mppVerifyCredential(secret: string, headerName: string, headerValue: string, nowMs: number = Date.now()): MppVerifiedCredential {
  return core.mppVerifyCredential(secret, headerName, headerValue, nowMs) as MppVerifiedCredential;
}

/** RFC 9457 problem details (`problem` is a slug such as `verification-failed`, or a type URI). */
export function mppProblem(problem: string, detail: string, challengeId?: string): JsonObject {
  return core.mppProblem(problem, detail, challengeId) as JsonObject;
}

/** Encodes a `Payment-Receipt` value from `{method, reference, timestamp, externalId?, …}`. */
export function mppEncodeReceipt(receipt: JsonObject): string {
  return core.mppEncodeReceipt(receipt) as string;
}
