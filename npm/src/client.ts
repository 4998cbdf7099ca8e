/**
 * `LinkClient`: the Link wallet for agents — device login, payment methods, spend requests with
 * approval and polling, and MPP payments. The logic is the Rust driver (`src/client.rs`); this
 * class only supplies its host (fetch, storage, clock, randomness, logger) and converts option
 * names.
 */
import type { FetchFunction, LinkStorage, Logger } from "./host/types.js";
import { sendWith, type WireRequest } from "./host/fetch.js";
import { MemoryStorage } from "./host/memory.js";

/** The wasm driver class (from the wasm-bindgen build that matches the platform). */
export interface WasmDriver {
  loginStart(options: unknown): Promise<unknown>;
  authStatus(): Promise<unknown>;
  loginWait(policy: unknown, onProgress?: (value: unknown) => void): Promise<unknown>;
  logout(): Promise<unknown>;
  listPaymentMethods(): Promise<unknown>;
  createSpendRequest(input: unknown): Promise<unknown>;
  updateSpendRequest(id: string, input: unknown): Promise<unknown>;
  retrieveSpendRequest(id: string, include: unknown): Promise<unknown>;
  requestApproval(id: string): Promise<unknown>;
  cancelSpendRequest(id: string): Promise<unknown>;
  listSpendRequests(includeHistory: boolean): Promise<unknown>;
  waitForSpendRequest(id: string, options: unknown, onProgress?: (value: unknown) => void): Promise<unknown>;
  mppPay(input: unknown, onProgress?: (value: unknown) => void): Promise<unknown>;
}

export type WasmDriverClass = new (host: unknown, config: unknown) => WasmDriver;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export interface LinkClientOptions {
  /** `fetch` to use (default `globalThis.fetch`): pass your own for a proxy or an extension. */
  fetch?: FetchFunction;
  /** Where the session lives (default: a 0600 file in Node, `chrome.storage`/`localStorage` in browsers). */
  storage?: LinkStorage;
  /** Link API base (default `LINK_API_BASE_URL` in Node, else `https://api.link.com`). */
  apiBaseUrl?: string;
  /** Link auth base (default `LINK_AUTH_BASE_URL` in Node, else `https://login.link.com`). */
  authBaseUrl?: string;
  /** A bearer token to use as is (default `LINK_ACCESS_TOKEN` in Node). */
  accessToken?: string;
  /** Refreshes `accessToken` once on a 401 (default `LINK_REFRESH_TOKEN` in Node). */
  refreshToken?: string;
  /** Never refresh; an expired token is `TOKEN_EXPIRED` (default `LINK_NO_REFRESH` in Node). */
  noRefresh?: boolean;
  /** Shown to the person approving the login: "<clientName> on <hostname>". */
  clientName?: string;
  /** The machine's name in the connection label. */
  hostname?: string;
  /** Verbose log lines, redacted at the source. */
  logger?: Logger;
}

/** Poll limits: seconds between polls, attempts (0 = unlimited), seconds in all. */
export interface PollOptions {
  interval?: number;
  maxAttempts?: number;
  timeout?: number;
}

export interface WaitForOptions extends PollOptions {
  include?: ("card" | "shared_payment_token" | "link_pay_token")[];
  /** Sees every changed intermediate snapshot. */
  onProgress?: (spendRequest: JsonObject) => void;
}

export interface PayOptions {
  /** Pay with this approved SPT spend request instead of creating one. */
  spendRequestId?: string;
  /** Why the agent pays (≥ 100 characters); required when no `spendRequestId`. */
  context?: string;
  /** Cents; defaults to the challenge's amount. */
  amount?: number;
  paymentMethodId?: string;
  test?: boolean;
  method?: string;
  headers?: Record<string, string> | string[];
  data?: string;
  /** `false`: return after creating the spend request (`{status, headers, body, spend_request}`)
   * instead of waiting for approval and paying. */
  wait?: boolean;
  /** Approval polling. */
  interval?: number;
  timeout?: number;
  onProgress?: (value: JsonObject) => void;
}

export interface LoginPending {
  authenticated: false;
  verification_url: string;
  phrase: string;
  poll_interval_seconds: number;
  expires_at: number;
  /** Resolves once the person approves (rejects on denial, expiry or timeout). */
  wait(options?: PollOptions & { onProgress?: (status: JsonObject) => void }): Promise<JsonObject>;
}

export interface LoginDone {
  authenticated: true;
  message: string;
}

/** camelCase option names to the snake_case the core (and the Link API) speak. */
function snake(options: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined || typeof value === "function") continue;
    out[key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = value;
  }
  return out;
}

function randomBytes(len: number): Uint8Array {
  const bytes = new Uint8Array(len);
  globalThis.crypto.getRandomValues(bytes);
  return bytes;
}

/** Platform defaults the entry point (Node or browser) provides. */
export interface PlatformDefaults {
  storage(): LinkStorage;
  env(): Partial<LinkClientOptions>;
  hostname(): string;
}

export class LinkClientBase {
  readonly storage: LinkStorage;
  private readonly driver: WasmDriver;

  /** Device login (OAuth 2.0 device authorization), session status, logout. */
  readonly auth: {
    login(options?: { clientName?: string; scope?: string; sourceActions?: string[]; authorizationDetails?: unknown[] }): Promise<LoginPending | LoginDone>;
    status(): Promise<JsonObject>;
    wait(options?: PollOptions & { onProgress?: (status: JsonObject) => void }): Promise<JsonObject>;
    logout(): Promise<JsonObject>;
  };
  readonly paymentMethods: { list(): Promise<JsonObject[]> };
  readonly spendRequests: {
    create(input: Record<string, unknown>): Promise<JsonObject>;
    update(id: string, input: Record<string, unknown>): Promise<JsonObject>;
    retrieve(id: string, options?: { include?: WaitForOptions["include"] }): Promise<JsonObject>;
    requestApproval(id: string): Promise<JsonObject>;
    cancel(id: string): Promise<JsonObject>;
    list(options?: { includeHistory?: boolean }): Promise<JsonObject[]>;
    waitFor(id: string, options?: WaitForOptions): Promise<JsonObject>;
  };
  readonly mpp: {
    pay(url: string, options?: PayOptions): Promise<JsonObject>;
  };

  constructor(Driver: WasmDriverClass, options: LinkClientOptions, platform: PlatformDefaults) {
    const env = platform.env();
    const merged: LinkClientOptions = { ...env, ...options };
    const fetchFn: FetchFunction | undefined = merged.fetch ?? (globalThis.fetch ? globalThis.fetch.bind(globalThis) : undefined);
    if (!fetchFn) throw Object.assign(new Error("No fetch available: pass options.fetch"), { code: "INVALID_INPUT" });
    const storage = merged.storage ?? platform.storage();
    const logger = merged.logger;
    this.storage = storage;
    const host = {
      fetch: (request: WireRequest) => sendWith(fetchFn, request),
      storageGet: async (key: string) => (await storage.get(key)) ?? null,
      storageSet: (key: string, value: string) => storage.set(key, value),
      storageDelete: (key: string) => storage.delete(key),
      now: () => Date.now(),
      sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
      random: randomBytes,
      log: (line: string) => logger?.(line),
    };
    this.driver = new Driver(host, {
      apiBaseUrl: merged.apiBaseUrl,
      authBaseUrl: merged.authBaseUrl,
      accessToken: merged.accessToken,
      refreshToken: merged.refreshToken,
      noRefresh: merged.noRefresh ?? false,
      hostname: merged.hostname ?? platform.hostname(),
    });
    const d = this.driver;
    const clientName = merged.clientName;
    const withLocation = (status: unknown): JsonObject => ({ ...(status as JsonObject), credentials_path: storage.location ?? null });
    const policy = (o: PollOptions = {}) => snake({ interval: o.interval, maxAttempts: o.maxAttempts, timeout: o.timeout });
    const wait = async (o: PollOptions & { onProgress?: (status: JsonObject) => void } = {}) =>
      withLocation(await d.loginWait({ ...{ interval: 5, timeout: 300 }, ...policy(o) }, (v) => o.onProgress?.(withLocation(v))));

    this.auth = {
      login: async (o = {}) => {
        const started = (await d.loginStart(snake({ clientName, ...o }))) as JsonObject;
        if (started.authenticated === true) return started as unknown as LoginDone;
        return { ...(started as unknown as Omit<LoginPending, "wait">), wait };
      },
      status: async () => withLocation(await d.authStatus()),
      wait,
      logout: async () => (await d.logout()) as JsonObject,
    };
    this.paymentMethods = { list: async () => (await d.listPaymentMethods()) as JsonObject[] };
    this.spendRequests = {
      create: async (input) => (await d.createSpendRequest(snake(input))) as JsonObject,
      update: async (id, input) => (await d.updateSpendRequest(id, snake(input))) as JsonObject,
      retrieve: async (id, o = {}) => (await d.retrieveSpendRequest(id, o.include ?? [])) as JsonObject,
      requestApproval: async (id) => (await d.requestApproval(id)) as JsonObject,
      cancel: async (id) => (await d.cancelSpendRequest(id)) as JsonObject,
      list: async (o = {}) => (await d.listSpendRequests(o.includeHistory ?? false)) as JsonObject[],
      waitFor: async (id, o = {}) => {
        const { onProgress, ...rest } = o;
        return (await d.waitForSpendRequest(id, { interval: 2, ...snake({ ...rest }) }, (v) => onProgress?.(v as JsonObject))) as JsonObject;
      },
    };
    this.mpp = {
      pay: async (url, o = {}) => {
        const { onProgress, ...rest } = o;
        return (await d.mppPay({ url, ...snake(rest) }, (v) => onProgress?.(v as JsonObject))) as JsonObject;
      },
    };
  }
}

export { MemoryStorage };
