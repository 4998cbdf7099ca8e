/**
 * `linkpay/component`: the WASI client component (world `client` of wit/linkpay.wit) in Node
 * through jco, with the glue written once: the component transpiled by jco at build time
 * (npm/dist/component/jco/), WASI from `@bytecodealliance/preview2-shim` (wasi:http really
 * sends, from a worker thread), the session in a storage the caller picks, and every failure
 * the same `LinkpayError` as the library's (`code` spelled as npm spells it). Node only; not
 * loaded by the main entry, and the shim is an optional peer dependency that only this entry
 * needs.
 *
 * Every method is synchronous, as the component's are (jco on Node 20 runs synchronous host
 * imports only): it blocks the thread until its HTTP exchanges and polls are done, so the
 * server it talks to must not run on the same thread.
 */
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import * as clocks from "@bytecodealliance/preview2-shim/clocks";
import * as http from "@bytecodealliance/preview2-shim/http";
import * as io from "@bytecodealliance/preview2-shim/io";
import * as random from "@bytecodealliance/preview2-shim/random";
import { instantiate, type ImportObject } from "./jco/linkpay-client.js";
import type { Client as JcoClient } from "./jco/interfaces/linkpay-core-client-api.js";
import { codedError } from "../host/types.js";
import type { FieldError, Json, JsonObject, PaymentMethod, SpendRequest } from "../types.js";
import { ComponentMemoryStorage, type ComponentStorage } from "./storage.js";

export { ComponentFileStorage, ComponentMemoryStorage, type ComponentStorage } from "./storage.js";

/** How the client reaches Link (the WIT `options` record); every field is optional. */
export interface ComponentClientOptions {
  /** Link API base URL (default `https://api.link.com`). */
  apiBaseUrl?: string;
  /** Link auth base URL (default `https://login.link.com`). */
  authBaseUrl?: string;
  /** Use this access token as is; storage is not consulted for tokens. */
  accessToken?: string;
  /** With `accessToken`, one refresh on a 401. */
  refreshToken?: string;
  /** Never refresh; an expired token is `TOKEN_EXPIRED`. */
  noRefresh?: boolean;
  /** The machine's name in the connection label the person sees (default: `os.hostname()`). */
  hostname?: string;
  /** How long one HTTP exchange may take, 1 to 600000 ms (default 30000). */
  requestTimeoutMs?: number;
  /** Where the session lives (default: memory, gone with the process). */
  storage?: ComponentStorage;
}

/**
 * The component's `client` resource. Methods mirror `LinkClient`'s; JSON in and out as values
 * (the component's JSON text parsed), failures thrown as `LinkpayError`.
 */
export interface ComponentClient {
  loginStart(options?: JsonObject): JsonObject;
  authStatus(): JsonObject;
  /** `policy`: `{interval, max_attempts, timeout}` in seconds (default: the login defaults). */
  loginWait(policy?: JsonObject): JsonObject;
  logout(): JsonObject;
  listPaymentMethods(): PaymentMethod[];
  createSpendRequest(input: JsonObject): SpendRequest;
  updateSpendRequest(id: string, input: JsonObject): SpendRequest;
  retrieveSpendRequest(id: string, include?: string[]): SpendRequest;
  requestApproval(id: string): SpendRequest;
  cancelSpendRequest(id: string): SpendRequest;
  listSpendRequests(includeHistory?: boolean): SpendRequest[];
  waitForSpendRequest(id: string, options?: JsonObject): SpendRequest;
  mppPay(input: JsonObject): JsonObject;
  /** A command of the linkpay command table, exactly as `linkpay <command> --format json`. */
  run(command: string, input?: JsonObject): Json;
  /** Frees the component's client (its instance stays until garbage-collected). */
  close(): void;
}

const jcoDir = new URL("./jco/", import.meta.url);

/** WIT `error-code` case → npm's code (`mpp-no-payment-challenge` → `MPP_NO_PAYMENT_CHALLENGE`),
 * generated from wit/linkpay.wit by scripts/transpile-component.mjs. */
let codes: Record<string, string> | undefined;
const errorCodes = (): Record<string, string> =>
  (codes ??= JSON.parse(readFileSync(new URL("error-codes.json", jcoDir), "utf8")) as Record<string, string>);

/** The compiled core modules, shared by every instance. */
const modules = new Map<string, WebAssembly.Module>();
function coreModule(path: string): WebAssembly.Module {
  let module = modules.get(path);
  if (!module) modules.set(path, (module = new WebAssembly.Module(readFileSync(new URL(path, jcoDir)))));
  return module;
}

/** The WIT `error` record jco throws (as a `ComponentError`'s `payload`). */
interface WitError {
  code: string;
  message: string;
  fieldErrors: FieldError[];
  details?: string;
}

function isWitError(value: unknown): value is WitError {
  return typeof value === "object" && value !== null && typeof (value as WitError).code === "string" && typeof (value as WitError).message === "string";
}

/** An err result of the component as the library's `LinkpayError`: the WIT `error` record jco
 * throws, as it is or as a `ComponentError`'s `payload` (jco's `--no-component-error-wrapping`
 * or not); anything else (a trap) is returned as it is. */
export function toLinkpayError(e: unknown): unknown {
  const payload = isWitError(e) ? e : (e as { payload?: unknown } | null)?.payload;
  if (!isWitError(payload)) return e;
  const extra: Record<string, unknown> = {};
  if (payload.fieldErrors.length > 0) extra.fieldErrors = payload.fieldErrors.map(({ path, message }) => ({ path, message }));
  if (payload.details !== undefined) extra.details = JSON.parse(payload.details) as Json;
  return codedError(errorCodes()[payload.code] ?? payload.code, payload.message, extra);
}

/** A storage method as a WIT import: a thrown error becomes the `err` string the component reports as
 * `STORAGE_ERROR` (jco turns a thrown string into `err`; anything else would trap). */
function guarded<A extends unknown[], R>(f: (...args: A) => R): (...args: A) => R {
  return (...args) => {
    try {
      return f(...args);
    } catch (e) {
      throw e instanceof Error ? e.message : String(e);
    }
  };
}

/** `wasi:http/types@0.2.12` → `wasi:http/types`. */
type Unversioned<K> = K extends `${infer Name}@${string}` ? Name : K;

/** Loads the client component with its own instance and storage and returns its client. */
export function loadComponentClient(options: ComponentClientOptions = {}): ComponentClient {
  const storage = options.storage ?? new ComponentMemoryStorage();
  // Exactly the world's imports (tsc checks the keys against the transpiled component's), by
  // their unversioned names, which the generated code reads (its declarations say versioned);
  // the shim's resource classes are its own, so their types are not the generated ones.
  const imports = {
    "linkpay:core/storage": {
      get: guarded((key: string) => storage.get(key) ?? undefined),
      set: guarded((key: string, value: string) => storage.set(key, value)),
      delete: guarded((key: string) => storage.delete(key)),
    },
    "wasi:clocks/monotonic-clock": clocks.monotonicClock,
    "wasi:clocks/wall-clock": clocks.wallClock,
    "wasi:http/outgoing-handler": http.outgoingHandler,
    "wasi:http/types": http.types,
    "wasi:io/error": io.error,
    "wasi:io/poll": io.poll,
    "wasi:io/streams": io.streams,
    "wasi:random/random": random.random,
  } satisfies Record<Unversioned<keyof ImportObject>, unknown>;
  const root = instantiate(coreModule, imports as unknown as ImportObject);
  const client: JcoClient = new root.clientApi.Client({
    apiBaseUrl: options.apiBaseUrl,
    authBaseUrl: options.authBaseUrl,
    accessToken: options.accessToken,
    refreshToken: options.refreshToken,
    noRefresh: options.noRefresh ?? false,
    hostname: options.hostname ?? hostname(),
    requestTimeoutMs: options.requestTimeoutMs,
  });
  const call = <T>(f: () => string): T => {
    let text: string;
    try {
      text = f();
    } catch (e) {
      throw toLinkpayError(e);
    }
    return JSON.parse(text) as T;
  };
  const text = (value: JsonObject | undefined): string => JSON.stringify(value ?? {});
  return {
    loginStart: (o) => call(() => client.loginStart(text(o))),
    authStatus: () => call(() => client.authStatus()),
    loginWait: (policy) => call(() => client.loginWait(policy === undefined ? undefined : JSON.stringify(policy))),
    logout: () => call(() => client.logout()),
    listPaymentMethods: () => call(() => client.listPaymentMethods()),
    createSpendRequest: (input) => call(() => client.createSpendRequest(JSON.stringify(input))),
    updateSpendRequest: (id, input) => call(() => client.updateSpendRequest(id, JSON.stringify(input))),
    retrieveSpendRequest: (id, include = []) => call(() => client.retrieveSpendRequest(id, include)),
    requestApproval: (id) => call(() => client.requestApproval(id)),
    cancelSpendRequest: (id) => call(() => client.cancelSpendRequest(id)),
    listSpendRequests: (includeHistory = false) => call(() => client.listSpendRequests(includeHistory)),
    waitForSpendRequest: (id, o) => call(() => client.waitForSpendRequest(id, text(o))),
    mppPay: (input) => call(() => client.mppPay(JSON.stringify(input))),
    run: (command, input) => call(() => client.run(command, text(input))),
    close: () => (client as { [Symbol.dispose]?: () => void })[Symbol.dispose]?.(),
  };
}
