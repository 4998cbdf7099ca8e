/**
 * The wasm-bindgen build the core functions call, set once by the entry that loaded it (Node's
 * at import, the browser's once `init()` has fetched the module). Internal: no entry
 * re-exports this module, and it is not in the package's `exports`.
 */
import type { WasmDriverClass } from "./client.js";
import { codedError } from "./host/types.js";

/** The functions of a wasm-bindgen build of the crate (`pkg/nodejs` or `pkg/web`) used here. */
export interface WasmCore {
  WasmClient: WasmDriverClass;
  validateCreateSpendRequest(input: unknown, now: number): unknown;
  validateCreateSpendRequestBody(body: unknown, now: number): unknown;
  validateUpdateSpendRequest(input: unknown): unknown;
  parseKeyValueFlag(kind: string, value: string): unknown;
  validateRetrieveOptions(input: unknown): unknown;
  validateLoginOptions(input: unknown): unknown;
  spendRequestTransition(status: string, event: string): unknown;
  nextSpendRequestAction(spendRequest: unknown): unknown;
  normalizeSpendRequest(spendRequest: unknown): unknown;
  authHandleTokenResponse(pending: unknown, status: number, body: string, nowMs: number): unknown;
  tokenNeedsRefresh(tokens: unknown, nowMs: number): unknown;
  pollDecide(policy: unknown, state: unknown, nowMs: number, terminal: boolean): unknown;
  decodeChallenges(header: unknown): unknown;
  decodeStripeChallenge(header: unknown, nowMs: number, requestUrl?: string): unknown;
  buildCredential(challenge: unknown, payload: unknown, source: string | undefined, nowMs: number): unknown;
  buildStripePayload(challenge: unknown, spt: string): unknown;
  parseReceipt(value: string): unknown;
  sanitizeForDisplay(text: string): string;
  parseHttpUrl(url: string): unknown;
  errorCodes(): string[];
  version(): string;
}

let bound: WasmCore | undefined;

/** Makes `core` the module every function of `core.ts` calls (each entry does this once). */
export function bindCore(core: WasmCore): void {
  bound = core;
}

/** The bound module; `INVALID_INPUT` until an entry has bound one. */
export function wasm(): WasmCore {
  if (bound === undefined) {
    throw codedError("INVALID_INPUT", "linkpay's WebAssembly module is not loaded yet: `await init()` first (LinkClient loads it by itself).");
  }
  return bound;
}
