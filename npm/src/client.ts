/**
 * `LinkClient`: the Link wallet for agents — device login, payment methods, spend requests with
 * approval and polling, and MPP payments. The logic is the Rust driver (`src/client.rs`); this
 * class only supplies its host (fetch, storage, clock, randomness, logger) and converts option
 * names.
 */
import { codedError, type FetchFunction, type LinkStorage, type Logger } from "./host/types.js";
import { MemoryStorage } from "./host/memory.js";
import { HostGuard, logFunction } from "./host/guard.js";
import { decodeStripeChallenge } from "./core.js";
import type {
  ApprovalLink,
  AuthStatus,
  Balance,
  CredentialType,
  ListBalancesOptions,
  ListSourcesOptions,
  ListTransactionsOptions,
  MppPayResult,
  Page,
  PaymentMethod,
  ReportInput,
  ShippingAddress,
  Source,
  SpendRequest,
  StripeChallenge,
  Transaction,
  UserInfo,
} from "./types.js";

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
  paymentFor(url: string, status: number, headers: [string, string][], options: unknown, context: unknown, onApproval?: (value: unknown) => void): Promise<unknown>;
  sharedPaymentToken(params: unknown, options: unknown, context: unknown, onApproval?: (value: unknown) => void): Promise<unknown>;
  /** Node module only (`payMcp`, `mcp proxy`). */
  mcpPayment?(response: unknown, call: unknown, serverUrl: string | undefined, options: unknown, context: unknown, onApproval?: (value: unknown) => void): Promise<unknown>;
  run(command: string, input: unknown, human: boolean, onEvent?: (event: unknown) => void, surface?: string, update?: unknown): Promise<unknown>;
}

export type WasmDriverClass = new (host: unknown, config: unknown) => WasmDriver;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export interface LinkClientOptions {
  /** `fetch` to use (default `globalThis.fetch`): pass your own for a proxy or an extension. */
  fetch?: FetchFunction;
  /** `fetch` for the requests to Link only (the API and the auth server), e.g. through a proxy;
   * merchant requests (`mpp pay`) keep `fetch`. Default: `fetch`. The CLI and MCP server pass
   * one that goes through `LINK_HTTP_PROXY`. */
  linkFetch?: FetchFunction;
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
  /** Verbose log lines, redacted at the source: a function, or a console-like object (`console`,
   * pino, winston) whose `debug` (else `info`, else `log`) method gets them. Anything else is
   * an `INVALID_INPUT` error from the constructor. */
  logger?: Logger;
  /** How long one HTTP exchange (connect, send, headers, body) may take before it is a
   * `TRANSPORT_ERROR`: 1 to 600000 ms, default 30000. Out of range, every call is a
   * `VALIDATION_ERROR`. */
  requestTimeoutMs?: number;
}

/** What a command tells its caller while it runs (see `LinkClient.run`). */
export type RunEvent =
  /** One chunk of a streaming command's output, as it comes. */
  | { type: "chunk"; data: Json }
  /** A person at a terminal should open `url` now. */
  | { type: "approval"; label: string; url: string }
  /** The command starts waiting for the person. */
  | { type: "waiting"; message: string }
  /** The wait ended. */
  | { type: "waited"; ok: boolean }
  /** Worth telling the person, not a failure (`auth upgrade` without a session to extend). */
  | { type: "warning"; message: string };

export interface RunOptions {
  /** A person at a terminal runs the command: logins and approvals are waited for in the same
   * call, instead of ending with a `_next` hint for an agent. Default false. */
  human?: boolean;
  /** Who reads the hints (`_next`, `instruction`, error messages): `"mcp"` names the tools to
   * call and their arguments (`spend-request_retrieve {"id":…}`), `"cli"` (default) command lines. */
  surface?: "cli" | "mcp";
  onEvent?: (event: RunEvent) => void;
  /** A newer linkpay is published (the CLI's update check): `{current_version,
   * latest_version, update_command}`, which `auth status` then carries as `update`. */
  update?: JsonObject;
}

/** Poll limits: seconds between polls, attempts (0 = unlimited), seconds in all. */
export interface PollOptions {
  interval?: number;
  maxAttempts?: number;
  timeout?: number;
}

export interface WaitForOptions extends PollOptions {
  include?: CredentialType[];
  /** Sees every changed intermediate snapshot. */
  onProgress?: (spendRequest: SpendRequest) => void;
}

/** `spendRequests.create`: camelCase or snake_case keys; the core validates every rule. */
export interface CreateSpendRequestInput {
  /** Cents, at most 50000 ($500). */
  amount: number;
  /** ≥ 100 characters: what the person reads on the approval screen. */
  context: string;
  credential_type?: CredentialType;
  currency?: string;
  merchant_name?: string;
  merchant_url?: string;
  network_id?: string;
  payment_method_id?: string;
  /** `LineItem` objects, or `"name:…,quantity:…,unit_amount:…"` strings. */
  line_items?: (string | JsonObject)[];
  totals?: (string | JsonObject)[];
  metadata?: JsonObject | string[];
  /** Default true: ask the person at once. */
  request_approval?: boolean;
  test?: boolean;
  expires_at?: number;
  [key: string]: unknown;
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
  /** Sees the SPT spend request while it waits (show its `approval_url`). */
  onProgress?: (spendRequest: SpendRequest) => void;
}

/** The person is asked to approve a payment (`link.fetch`, the mppx method): show them the link. */
export interface PaymentApproval {
  approval_url: string;
  spend_request_id: string;
  /** Smallest currency unit (cents). */
  amount: number;
  currency: string;
}

/** Options of `link.fetch` and `link.createSharedPaymentToken`. The guardrails (`maxAmount`,
 * `maxTotal`, the realm, expiry, one payment per challenge) are checked by the core before the
 * person is asked; a refusal is a `PAYMENT_GUARDRAIL` error with `details.reason`. */
export interface PaymentOptions<C = StripeChallenge> {
  /** For the person approving (≥ 100 characters), or a function of the decoded challenge that
   * returns it (or a Promise of it). */
  context?: string | ((challenge: C) => string | Promise<string>);
  /** Cents one payment may cost (default 5000). */
  maxAmount?: number;
  /** Cents this client may spend through these methods, approved or waiting (default 20000). */
  maxTotal?: number;
  /** Realms allowed to differ from the URL's host. With the mppx method (which does not say
   * which URL asked), when given, the realm must be one of them. */
  allowRealms?: string[];
  /** The Link payment method to pay with (default: the wallet's first). */
  paymentMethodId?: string;
  /** Seconds between approval polls (default 2). */
  interval?: number;
  /** Seconds to wait for the person (default 600); then `POLLING_TIMEOUT`. */
  timeout?: number;
  /** Called once when the person is asked: show them `approval_url`. */
  onApproval?: (approval: PaymentApproval) => void;
}

/** What mppx 0.11's `stripe.charge({ createToken })` passes its callback (the fields linkpay reads). */
export interface CreateTokenParameters {
  amount: string;
  currency: string;
  networkId: string | undefined;
  challenge: { id: string; realm: string; method: string; intent: string; expires?: string; [key: string]: unknown };
  /** Used as the Link payment method id unless `paymentMethodId` is given. */
  paymentMethod?: string;
  expiresAt?: number;
  metadata?: Record<string, string>;
  /** The Stripe.js instance, if any (not used). */
  client?: unknown;
  [key: string]: unknown;
}

export interface LoginPending {
  authenticated: false;
  verification_url: string;
  phrase: string;
  poll_interval_seconds: number;
  expires_at: number;
  /** Resolves once the person approves (rejects on denial, expiry or timeout). */
  wait(options?: LoginWaitOptions): Promise<AuthStatus>;
}

export interface LoginWaitOptions extends PollOptions {
  onProgress?: (status: AuthStatus) => void;
}

export interface LoginOptions {
  /** Shown to the person: "<clientName> on <hostname>". */
  clientName?: string;
  scope?: string;
  sourceActions?: string[];
  authorizationDetails?: unknown[];
}

export interface LoginDone {
  authenticated: true;
  message: string;
}

/** Each client's driver and option converter, for the Node entry's paid MCP calls (`payMcp`). */
export const drivers = new WeakMap<object, () => Promise<WasmDriver>>();

/** camelCase option names to the snake_case the core (and the Link API) speak. */
export function snake(options: Record<string, unknown>): Record<string, unknown> {
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

/** Loads the wasm driver class (at once in Node; the browser fetches the module first). */
export type DriverLoader = () => WasmDriverClass | Promise<WasmDriverClass>;

/** Platform defaults the entry point (Node or browser) provides. */
export interface PlatformDefaults {
  storage(): LinkStorage;
  env(): Partial<LinkClientOptions>;
  hostname(): string;
  /** Writes a secret to a new 0600 file (`outputFile`); platforms without files leave it out. */
  writeFile?(path: string, contents: string, replace: boolean): Promise<void>;
}

export class LinkClientBase {
  readonly storage: LinkStorage;

  /** Device login (OAuth 2.0 device authorization), session status, logout. */
  readonly auth: {
    /** Starts a device login: `verification_url` and `phrase` at once, then `wait()`. */
    login(options?: LoginOptions): Promise<LoginPending | LoginDone>;
    /** Re-authenticates for the requested access merged with the current session's (a
     * superset); the current session keeps working until the person approves. `warning` says
     * when there was no session to extend. */
    upgrade(options?: LoginOptions): Promise<{ verification_url: string; phrase: string; warning?: string; wait: LoginPending["wait"] }>;
    /** The session; polls a pending device login once. */
    status(): Promise<AuthStatus>;
    /** Polls a pending device login (perhaps started by another process) until it ends. */
    wait(options?: LoginWaitOptions): Promise<AuthStatus>;
    /** Revokes the session, then forgets it. */
    logout(): Promise<{ authenticated: false }>;
  };
  readonly paymentMethods: { list(): Promise<PaymentMethod[]> };
  /** The wallet's shipping addresses (`shipping-address list`). */
  readonly shippingAddresses: { list(): Promise<ShippingAddress[]> };
  /** The person's email, name and phone (`user-info retrieve`). */
  readonly userInfo: { retrieve(): Promise<UserInfo> };
  /** Reports how a purchase attempt on a domain ended (`report`); call after every attempt. */
  readonly report: (input: ReportInput) => Promise<JsonObject>;
  /** [beta] Transactions from Link and external accounts (`transactions list`); needs the
   * `read_link_transactions` / `read_external_transactions` source actions. */
  readonly transactions: { list(options?: ListTransactionsOptions): Promise<Page<Transaction>> };
  /** [beta] The wallet's sources (`sources list`); needs `read_source_details`. */
  readonly sources: { list(options?: ListSourcesOptions): Promise<Page<Source>> };
  /** [beta] Balances per source (`balances list`); needs `read_balances`. */
  readonly balances: { list(options?: ListBalancesOptions): Promise<Page<Balance>> };
  readonly spendRequests: {
    create(input: CreateSpendRequestInput): Promise<SpendRequest>;
    update(id: string, input: Partial<CreateSpendRequestInput>): Promise<SpendRequest>;
    retrieve(id: string, options?: { include?: CredentialType[] }): Promise<SpendRequest>;
    requestApproval(id: string): Promise<ApprovalLink>;
    cancel(id: string): Promise<SpendRequest>;
    list(options?: { includeHistory?: boolean }): Promise<SpendRequest[]>;
    /** Polls until a terminal status (through `auto_resume`); `POLLING_TIMEOUT` otherwise. */
    waitFor(id: string, options?: WaitForOptions): Promise<SpendRequest>;
  };
  readonly mpp: {
    /** Decodes the stripe challenge of a 402's `WWW-Authenticate` value(s); safe to display.
     * `url` (the request's) enables the realm warning. */
    decode(header: string | string[], options?: { url?: string }): Promise<StripeChallenge>;
    /** Probe, decode, SPT spend request, approval, paid retry: the merchant's final answer. */
    pay(url: string, options?: PayOptions): Promise<MppPayResult>;
  };

  /**
   * `fetch`, paying through Link: a request answered 402 with a payable stripe challenge becomes
   * a shared-payment-token spend request, the person approves it (`onApproval` gets the link),
   * the request is sent once more with the credential, and the merchant's answer comes back. A
   * non-402, or a 402 without a stripe challenge, comes back untouched. The body is read once,
   * so a POST is sent again as it was. `receiptOf(response)` reads the receipt.
   */
  readonly fetch: (input: string | URL | Request, init?: RequestInit, options?: PaymentOptions) => Promise<Response>;

  /**
   * The callback mppx's `stripe.charge({ createToken })` takes: pays mppx's stripe challenges
   * through Link, under the same guardrails as `fetch` (`Mppx.create({ methods: [stripe.charge({
   * paymentMethod, createToken: link.createSharedPaymentToken({ context }) })] })`; mppx needs a
   * `paymentMethod`, used as the Link payment method id).
   */
  readonly createSharedPaymentToken: (options?: PaymentOptions<CreateTokenParameters["challenge"]>) => (parameters: CreateTokenParameters) => Promise<string>;

  /**
   * Runs a command of linkpay's command table (`"spend-request create"`, or its MCP tool name
   * `"spend-request_create"`) with its input (the table's camelCase keys, as `--schema` shows;
   * snake_case also works) and resolves to exactly what `linkpay <command> --format json`
   * prints: the agent-facing result with its `instruction` and `_next` hints, or for a
   * streaming command the array of its chunks. The CLI and the MCP server run every command
   * through this.
   */
  readonly run: (command: string, input?: Record<string, unknown>, options?: RunOptions) => Promise<Json>;

  constructor(load: DriverLoader, options: LinkClientOptions, platform: PlatformDefaults) {
    const env = platform.env();
    const merged: LinkClientOptions = { ...env, ...options };
    const fetchFn: FetchFunction | undefined = merged.fetch ?? (globalThis.fetch ? globalThis.fetch.bind(globalThis) : undefined);
    if (!fetchFn) throw Object.assign(new Error("No fetch available: pass options.fetch"), { code: "INVALID_INPUT" });
    const linkFetch = merged.linkFetch;
    const storage = merged.storage ?? platform.storage();
    const logger = logFunction(merged.logger);
    this.storage = storage;
    // Every callback guarded: one that throws becomes the call's error (see host/guard.ts).
    const guard = new HostGuard();
    const host = guard.host({
      // The Rust driver builds the standard `Request` (gloo-net) with its timeout signal and
      // reads the `Response`; a caller's own fetch receives that Request.
      fetch: (request: Request, link: boolean) => (link && linkFetch ? linkFetch(request) : fetchFn(request)),
      storageGet: async (key: string) => (await storage.get(key)) ?? null,
      storageSet: (key: string, value: string) => storage.set(key, value),
      storageDelete: (key: string) => storage.delete(key),
      now: () => Date.now(),
      sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
      random: randomBytes,
      log: (line: string) => logger?.(line),
      writeFile: (path: string, contents: string, replace: boolean) =>
        platform.writeFile
          ? platform.writeFile(path, contents, replace)
          : Promise.reject(codedError("INVALID_INPUT", `outputFile (${path}) cannot be written here: this platform has no file system`)),
    });
    const config = {
      apiBaseUrl: merged.apiBaseUrl,
      authBaseUrl: merged.authBaseUrl,
      accessToken: merged.accessToken,
      refreshToken: merged.refreshToken,
      noRefresh: merged.noRefresh ?? false,
      hostname: merged.hostname ?? platform.hostname(),
      requestTimeoutMs: merged.requestTimeoutMs,
      storageLocation: storage.location,
    };
    // The driver is made on first use, so a browser entry can fetch the wasm module lazily.
    let made: Promise<WasmDriver> | undefined;
    const driver = (): Promise<WasmDriver> => {
      made ??= Promise.resolve(load()).then((Driver) => guard.driver(new Driver(host, config)));
      made.catch(() => (made = undefined));
      return made;
    };
    drivers.set(this, driver);
    const clientName = merged.clientName;
    const withLocation = (status: unknown): AuthStatus => status as AuthStatus;
    const policy = (o: PollOptions = {}) => snake({ interval: o.interval, maxAttempts: o.maxAttempts, timeout: o.timeout });
    const wait = async (o: LoginWaitOptions = {}) =>
      withLocation(await (await driver()).loginWait(policy(o), (v) => o.onProgress?.(withLocation(v))));

    this.auth = {
      login: async (o = {}) => {
        const started = (await (await driver()).loginStart(snake({ clientName, ...o }))) as JsonObject;
        if (started.authenticated === true) return started as unknown as LoginDone;
        return { ...(started as unknown as Omit<LoginPending, "wait">), wait };
      },
      upgrade: async (o = {}) => {
        const [first] = (await this.run("auth upgrade", snake({ clientName, ...o }) as Record<string, unknown>)) as unknown as [{ verification_url: string; phrase: string; warning?: string }];
        return { verification_url: first.verification_url, phrase: first.phrase, ...(first.warning ? { warning: first.warning } : {}), wait };
      },
      status: async () => withLocation(await (await driver()).authStatus()),
      wait,
      logout: async () => (await (await driver()).logout()) as { authenticated: false },
    };
    this.run = async (command, input = {}, o = {}) =>
      (await (await driver()).run(command, input, o.human === true, (e) => o.onEvent?.(e as RunEvent), o.surface, o.update)) as Json;
    this.paymentMethods = { list: async () => (await (await driver()).listPaymentMethods()) as PaymentMethod[] };
    this.shippingAddresses = { list: async () => (await this.run("shipping-address list")) as unknown as ShippingAddress[] };
    this.userInfo = { retrieve: async () => (await this.run("user-info retrieve")) as unknown as UserInfo };
    this.report = async (input) => (await this.run("report", input as unknown as Record<string, unknown>)) as JsonObject;
    const page = async <T>(command: string, o: object): Promise<Page<T>> => (await this.run(command, { ...o })) as unknown as Page<T>;
    this.transactions = { list: (o = {}) => page<Transaction>("transactions list", o) };
    this.sources = { list: (o = {}) => page<Source>("sources list", o) };
    this.balances = { list: (o = {}) => page<Balance>("balances list", o) };
    this.spendRequests = {
      create: async (input) => (await (await driver()).createSpendRequest(snake(input))) as SpendRequest,
      update: async (id, input) => (await (await driver()).updateSpendRequest(id, snake(input))) as SpendRequest,
      retrieve: async (id, o = {}) => (await (await driver()).retrieveSpendRequest(id, o.include ?? [])) as SpendRequest,
      requestApproval: async (id) => (await (await driver()).requestApproval(id)) as ApprovalLink,
      cancel: async (id) => (await (await driver()).cancelSpendRequest(id)) as SpendRequest,
      list: async (o = {}) => (await (await driver()).listSpendRequests(o.includeHistory ?? false)) as SpendRequest[],
      waitFor: async (id, o = {}) => {
        const { onProgress, ...rest } = o;
        const d = await driver();
        return (await d.waitForSpendRequest(id, snake({ ...rest }), (v) => onProgress?.(v as SpendRequest))) as SpendRequest;
      },
    };
    this.mpp = {
      decode: async (header, o = {}) => {
        await driver(); // the wasm module is loaded (browser entry)
        return decodeStripeChallenge(header, Date.now(), o.url);
      },
      pay: async (url, o = {}) => {
        const { onProgress, ...rest } = o;
        const d = await driver();
        return (await d.mppPay({ url, ...snake(rest) }, (v) => onProgress?.(v as SpendRequest))) as MppPayResult;
      },
    };
    // Whether and how to pay is the core's (`paymentFor`); here only the Request is copied
    // and the two fetches are sent.
    this.fetch = async (input, init, o = {}) => {
      const { onApproval, ...rest } = o;
      const request = new Request(input, init);
      const body = request.body === null ? undefined : await request.clone().arrayBuffer();
      const send = (credential?: { header: string; value: string }) => {
        const headers = new Headers(request.headers);
        if (credential) headers.set(credential.header, credential.value);
        return fetchFn(new Request(request, { headers, body }));
      };
      const answer = await send();
      const d = await driver();
      const headers: [string, string][] = [];
      answer.headers.forEach((value, name) => headers.push([name, value]));
      const credential = (await d.paymentFor(request.url, answer.status, headers, snake(rest), o.context, (v) => onApproval?.(v as PaymentApproval))) as { header: string; value: string } | null;
      if (credential === null) return answer;
      await answer.body?.cancel();
      return send(credential);
    };
    this.createSharedPaymentToken = (o = {}) => {
      const { onApproval, ...rest } = o;
      return async ({ client: _stripeJs, ...parameters }) =>
        (await (await driver()).sharedPaymentToken(parameters, snake(rest), o.context, (v) => onApproval?.(v as PaymentApproval))) as string;
    };
  }
}

export { MemoryStorage };
