/**
 * `startSandbox`: one HTTP server (Node's `http`) that is the Link auth base, the Link API base,
 * the device and approval pages, the demo MPP merchant and the sandbox controls.
 *
 * URL layout (one origin; auth and API paths do not overlap, so both base URLs are the origin):
 *
 *   POST /device/code  /device/token  /device/revoke    auth base (form-encoded, OAuth errors)
 *   GET|POST /device[?code=phrase]                      device verification page
 *   GET /payment-details  /userinfo  /shipping_addresses
 *   POST /agent_observations                             report (the core's rules)
 *   GET /sources  /balances  /transactions               financial insights (source actions)
 *   POST /spend_requests  /spend_requests/create_delegated
 *   GET /spend_requests[?include_history=true]  GET /spend_requests/{id}[?include=card,…]
 *   POST /spend_requests/{id}  …/{id}/request_approval  …/{id}/cancel
 *   GET|POST /approve/{id}                               approval page (the Link app)
 *   GET|POST /3ds/{id}                                   3-D Secure page (`action_url`)
 *   /merchant/…                                          demo merchant (checkout, MPP API)
 *   /sandbox/…                                           controls (never part of the real API)
 *
 * Every response carries `X-Content-Type-Options: nosniff`. With `dataFile`, a request that
 * changed the state is answered once the change is on disk (507 when it cannot be saved).
 */

import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Json, JsonObject } from "../index.js";
import * as auth from "./auth.js";
import * as insights from "./insights.js";
import { SandboxClock, isoSeconds, type ClockSource } from "./clock.js";
import { DEFAULT_LIMITS, type Config, type Context, type Limits } from "./context.js";
import { checkoutPage, checkoutSubmit, chargeJson } from "./checkout.js";
import { FORM_TOKEN_FIELD, crossSite, formTokenValid, samePagePost } from "./forms.js";
import { HttpError, apiError, formFields, json, parseFormPairs, type Reply } from "./http.js";
import { PAGE_CSP } from "./html.js";
import { merchantRoute } from "./merchant.js";
import * as pages from "./pages.js";
import { redactBody, redactHeaders, redactQuery } from "./redact.js";
import * as spend from "./spend.js";
import { Persister, State, readDataFile, type UserRecord } from "./state.js";
import { DEFAULT_USER_ID, createUser, paymentDetails, shippingAddresses, userInfo } from "./wallet.js";

export interface SandboxOptions {
  /** TCP port; 0 (the default) picks a free one. */
  port?: number;
  /** Interface to listen on (default `127.0.0.1`). */
  host?: string;
  /** Approve device codes and spend requests without a person. */
  autoApprove?: boolean;
  /** Sandbox milliseconds between the approval request and the auto-approval (default 0: the next poll sees it). */
  autoApproveDelayMs?: number;
  /**
   * Save the state here (atomically, mode 0600) and load it on start. A change is on disk before
   * its request is answered; when it cannot be saved, the answer is 507 and nothing changed.
   */
  dataFile?: string;
  /** Base time source (default `Date.now`); the sandbox clock is this plus what `advanceClock` added. */
  clock?: ClockSource;
  /** Access-token lifetime in seconds (default 3600). */
  accessTokenTtlSeconds?: number;
  /** Device-code lifetime in seconds (default 300). */
  deviceCodeTtlSeconds?: number;
  /** Poll interval the device flow asks for, seconds (default 1). */
  deviceIntervalSeconds?: number;
  /** How long 3-D Secure takes before the request resumes by itself, sandbox ms (default 3000). */
  threeDSecureDelayMs?: number;
  /** How long an MPP challenge stays payable, ms (default 300 000). */
  challengeTtlMs?: number;
  /** Override documented limits (tests only; the defaults are Link's). */
  limits?: Partial<Limits>;
  /** How many requests the log keeps (default 10 000; the oldest are dropped). */
  requestLogLimit?: number;
  /**
   * How many bytes the log keeps in all, roughly (bodies, headers, paths; default 32 MiB; the
   * oldest entries are dropped). Each body keeps at most 4 KiB anyway.
   */
  requestLogBytes?: number;
  /**
   * Allow `POST /spend_requests/create_delegated` (created approved, no person involved; the
   * hidden `--approve` of `spend-request create`). The real API allows it only to allow-listed
   * clients; without this the sandbox answers 403 like it.
   */
  allowDelegated?: boolean;
  /** Extra origins allowed by CORS besides loopback ones. */
  corsOrigins?: string[];
  /** Where to report unexpected errors (default `console.error`; never given secrets). */
  onError?: (message: string) => void;
}

/** One request as the sandbox received it (`GET /sandbox/requests`). */
export interface LoggedRequest {
  seq: number;
  time: string;
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  /** Lower-case names; `Authorization`-type values redacted to their scheme, secrets in values redacted. */
  headers: Record<string, string | string[]>;
  /** The body text with secrets redacted (by key and by value), at most 4 KiB; `null` when empty. */
  body: string | null;
  /** Set when `body` was cut to 4 KiB. */
  body_truncated?: true;
  /** With `body_truncated`: the size of the whole body, bytes. */
  body_bytes?: number;
  /** The answer's status, once sent. */
  status?: number;
}

export interface Sandbox {
  /** The origin, e.g. `http://127.0.0.1:4242`. */
  url: string;
  /** `LINK_AUTH_BASE_URL` (the origin). */
  authUrl: string;
  /** `LINK_API_BASE_URL` (the origin). */
  apiUrl: string;
  /** The demo merchant: `${url}/merchant`. */
  merchantUrl: string;
  host: string;
  port: number;
  /** Environment for a client pointed at this sandbox; `NO_UPDATE_NOTIFIER` too, so a CLI run
   * against it (a test, a demo) does not ask the npm registry for a newer linkpay. */
  env: { LINK_AUTH_BASE_URL: string; LINK_API_BASE_URL: string; NO_UPDATE_NOTIFIER: string };
  /** The user the device page and the controls act for by default. */
  defaultUserId: string;
  /** Stops the server (open connections too) and writes the data file. */
  close(): Promise<void>;
  /** Sandbox time, epoch ms. */
  now(): number;
  /** Moves the sandbox clock forward; returns the new time. */
  advanceClock(ms: number): number;
  /** A new user with fresh tokens. */
  createUser(fields?: { id?: string; email?: string; name?: string }): JsonObject;
  /** Fresh tokens (token-endpoint shape) for a user (default: the default user). */
  issueTokens(userId?: string, opts?: auth.IssueOptions): JsonObject;
  /** The person approves / denies a spend request (as on the approval page). */
  approve(id: string): JsonObject;
  deny(id: string): JsonObject;
  /** The person approves / denies a device code, by phrase or device code. */
  approveDevice(code: string, userId?: string): void;
  denyDevice(code: string): void;
  /** The request log (optionally only entries after `since`). */
  requests(since?: number): LoggedRequest[];
  clearRequests(): void;
  /** Forgets everything (users, tokens, spend requests, the log); the clock stays. */
  reset(): void;
  /** Writes the data file now (with `dataFile`). */
  flush(): Promise<void>;
}

const MAX_BODY = 1 << 20;
const EXPOSED_HEADERS = "WWW-Authenticate, Payment-Receipt, Retry-After, Idempotent-Replayed";
const ALLOWED_HEADERS = "Authorization, Content-Type, Idempotency-Key, Payment-Authorization, Accept-Payment, User-Agent";

/** What a route handler receives. */
export interface Request {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage["headers"];
  text: string;
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const host = options.host ?? "127.0.0.1";
  const onError = options.onError ?? ((message: string) => console.error(`[sandbox] ${message}`));
  const loaded = options.dataFile === undefined ? undefined : readDataFile(options.dataFile);
  let state = loaded === undefined ? new State() : State.fromJSON(loaded, spend.isFinal);
  const clock = new SandboxClock(options.clock, state.clockOffsetMs);
  const config: Config = {
    baseUrl: "",
    autoApprove: options.autoApprove ?? false,
    autoApproveDelayMs: options.autoApproveDelayMs ?? 0,
    accessTokenTtlS: options.accessTokenTtlSeconds ?? 3600,
    deviceCodeTtlS: options.deviceCodeTtlSeconds ?? 300,
    deviceIntervalS: options.deviceIntervalSeconds ?? 1,
    threeDSecureDelayMs: options.threeDSecureDelayMs ?? 3000,
    challengeTtlMs: options.challengeTtlMs ?? 300_000,
    allowDelegated: options.allowDelegated ?? false,
    limits: { ...DEFAULT_LIMITS, ...options.limits },
  };
  const persister =
    options.dataFile === undefined
      ? undefined
      : new Persister(
          options.dataFile,
          () => {
            state.clockOffsetMs = clock.offsetMs;
            return state.toJSON();
          },
          // A failed save: back to what the file holds (the clock keeps its time).
          (text) => {
            state = State.fromJSON(JSON.parse(text) as JsonObject, spend.isFinal);
          },
          (e) => onError(`could not save ${options.dataFile}: ${(e as Error).message}`),
        );
  // Counts changes, so a request knows whether it made one (and must wait for the save).
  let changes = 0;
  const ctx: Context = {
    get state() {
      return state;
    },
    clock,
    config,
    changed: () => {
      changes++;
      persister?.touch();
    },
    pageKey: randomBytes(32),
    defaultUser: () => state.users.get(DEFAULT_USER_ID) ?? createUser(ctx, { id: DEFAULT_USER_ID }),
  };
  ctx.defaultUser();

  const log: LoggedRequest[] = [];
  let logBytes = 0;
  const entryBytes = new WeakMap<LoggedRequest, number>();
  let seq = 0;
  const logLimit = options.requestLogLimit ?? 10_000;
  const logByteLimit = options.requestLogBytes ?? 32 * 1024 * 1024;
  const extraOrigins = new Set(options.corsOrigins ?? []);

  const fail = (res: ServerResponse, e: unknown): void => {
    onError(`internal error: ${(e as Error)?.message ?? String(e)}`);
    if (!res.headersSent) send(res, { status: 500, body: { error: { code: "api_error", message: "Internal sandbox error" } } }, undefined);
    else res.destroy();
  };
  const server: Server = createServer((req, res) => {
    // Requests without a body (most GETs) are handled at once, without waiting for 'end'.
    const length = req.headers["content-length"];
    if (req.headers["transfer-encoding"] === undefined && (length === undefined || length === "0")) {
      req.resume();
      try {
        handle(req, res, "");
      } catch (e) {
        fail(res, e);
      }
      return;
    }
    readBody(req).then(
      (text) => handle(req, res, text),
      (e: unknown) => fail(res, e),
    ).catch((e: unknown) => fail(res, e));
  });
  server.keepAliveTimeout = 30_000;

  /** Keeps a log entry, dropping the oldest ones beyond the count or byte limit (in batches: one splice per many requests). */
  function keep(entry: LoggedRequest): void {
    const bytes = 256 + entry.path.length + (entry.body?.length ?? 0) + textSize(entry.headers) + textSize(entry.query);
    entryBytes.set(entry, bytes);
    log.push(entry);
    logBytes += bytes;
    if (log.length <= logLimit + Math.min(1000, logLimit) && logBytes <= logByteLimit) return;
    let drop = Math.max(0, log.length - logLimit);
    let bytesAfter = logBytes;
    for (let i = 0; i < drop; i++) bytesAfter -= entryBytes.get(log[i]) ?? 0;
    // Under the byte limit with a margin, so the next few requests do not splice again.
    while (drop < log.length - 1 && bytesAfter > logByteLimit * 0.9) bytesAfter -= entryBytes.get(log[drop++]) ?? 0;
    log.splice(0, drop);
    logBytes = bytesAfter;
  }

  function handle(req: IncomingMessage, res: ServerResponse, text: string | null): void {
    const method = req.method ?? "GET";
    const target = req.url ?? "/";
    const q = target.indexOf("?");
    const path = q < 0 ? target : target.slice(0, q);
    const query = new URLSearchParams(q < 0 ? "" : target.slice(q + 1));
    const cors = corsHeaders(req.headers.origin, extraOrigins);
    let entry: LoggedRequest | undefined;
    if (!path.startsWith("/sandbox/") && path !== "/sandbox") {
      const logged = redactBody(text, headerValue(req.headers["content-type"]));
      entry = { seq: ++seq, time: isoSeconds(clock.now()), method, path: redactPath(path), query: redactQuery(query), headers: redactHeaders(req.headers), body: logged.body };
      if (logged.truncated !== undefined) {
        entry.body_truncated = true;
        entry.body_bytes = logged.truncated.bytes;
      }
      keep(entry);
    }
    const before = changes;
    let reply: Reply;
    if (text === null) {
      reply = json(413, { error: { code: "payload_too_large", message: `Request bodies are limited to ${MAX_BODY} bytes` } });
    } else if (method === "OPTIONS" && req.headers["access-control-request-method"] !== undefined) {
      reply = cors === undefined ? { status: 403, body: "" } : preflight(req);
    } else {
      try {
        reply = route({ method, path, query, headers: req.headers, text });
      } catch (e) {
        if (!(e instanceof HttpError)) throw e;
        reply = { status: e.status, body: e.body, headers: e.headers };
      }
    }
    if (persister === undefined || changes === before) {
      if (entry !== undefined) entry.status = reply.status;
      send(res, reply, cors);
      return;
    }
    // The request changed the state: answer once the change is on disk. When it cannot be
    // saved the state is back to the file's and the answer says nothing changed.
    const answer = (r: Reply): void => {
      if (entry !== undefined) entry.status = r.status;
      send(res, r, cors);
    };
    persister.commit().then(
      () => answer(reply),
      (e: unknown) => answer(insufficientStorage(e, reply)),
    ).catch((e: unknown) => fail(res, e));
  }

  /** 507 in the shape of the route that failed to save (a page, or the API's error). */
  function insufficientStorage(e: unknown, reply: Reply): Reply {
    const why = (e as NodeJS.ErrnoException).code ?? "write failed";
    const message = `The sandbox could not save its state (${why}); nothing was changed. Free space or fix the data file's directory, then retry.`;
    if (reply.headers?.["content-security-policy"] !== undefined) {
      return withCsp(pages.storageFailedPage(message));
    }
    return json(507, { error: { code: "insufficient_storage", message } }, { "cache-control": "no-store" });
  }

  function route(r: Request): Reply {
    const { method, path } = r;
    let parts: string[];
    try {
      parts = path.split("/").filter((p) => p !== "").map(decodeURIComponent);
    } catch {
      throw apiError(404, "not_found", `Unrecognized request URL (${method}: ${path})`);
    }
    const [top, second, third] = parts;
    const n = parts.length;

    // Auth base.
    if (top === "device") {
      if (n === 1 && method === "GET") return withCsp(pages.devicePage(ctx, r.query.get("code")));
      if (n === 1 && method === "POST") {
        const fields = formFields(parseFormPairs(r.text));
        if (!pagePost(r, fields, "device", fields.get("code") ?? "")) return withCsp(pages.refusedPost("Connect to Link"));
        return withCsp(pages.deviceDecide(ctx, fields));
      }
      if (n === 2 && method === "POST" && (second === "code" || second === "token" || second === "revoke")) {
        requireForm(r);
        const pairs = parseFormPairs(r.text);
        const body = second === "code" ? auth.deviceCode(ctx, pairs) : second === "token" ? auth.token(ctx, pairs) : auth.revoke(ctx, pairs);
        return json(200, body, { "cache-control": "no-store" });
      }
    }

    // API base.
    if (top === "payment-details" && n === 1 && method === "GET") {
      auth.authenticate(ctx, r.headers.authorization);
      return json(200, { payment_details: paymentDetails() });
    }
    if (top === "userinfo" && n === 1 && method === "GET") return json(200, userInfo(auth.authenticate(ctx, r.headers.authorization)));
    if (top === "shipping_addresses" && n === 1 && method === "GET") {
      return json(200, { shipping_addresses: shippingAddresses(auth.authenticate(ctx, r.headers.authorization)) });
    }
    if (top === "agent_observations" && n === 1 && method === "POST") {
      return json(200, spend.observe(ctx, auth.authenticate(ctx, r.headers.authorization), jsonBody(r), clock.now()));
    }
    if ((top === "sources" || top === "balances" || top === "transactions") && n === 1 && method === "GET") {
      const { session } = auth.authenticateSession(ctx, r.headers.authorization);
      const list = top === "sources" ? insights.listSources : top === "balances" ? insights.listBalances : insights.listTransactions;
      return json(200, list(session, r.query), { "cache-control": "no-store" });
    }
    if (top === "spend_requests") return spendRoute(r, parts);

    // Pages.
    if (top === "approve" && n === 2) {
      if (method === "GET") return withCsp(pages.approvalPage(ctx, second));
      if (method === "POST") {
        const fields = formFields(parseFormPairs(r.text));
        if (!pagePost(r, fields, "approve", second)) return withCsp(pages.refusedPost("Approve a purchase"));
        return withCsp(pages.approvalDecide(ctx, second, fields));
      }
    }
    if (top === "3ds" && n === 2 && (method === "GET" || method === "POST")) {
      if (method === "POST" && !pagePost(r, formFields(parseFormPairs(r.text)), "3ds", second)) return withCsp(pages.refusedPost("3-D Secure"));
      return withCsp(pages.threeDSecurePage(ctx, second, method));
    }
    if (n === 0 && method === "GET") return withCsp(pages.indexPage(ctx));

    // Merchant.
    if (top === "merchant") {
      if (second === "checkout" && n === 2 && method === "GET") return withCsp(checkoutPage(r.query));
      if (second === "checkout" && n === 2 && method === "POST") return withCsp(checkoutSubmit(ctx, formFields(parseFormPairs(r.text))));
      if (second === "api" && third === "charge" && n === 3 && method === "POST") {
        const result = chargeJson(ctx, objectBody(r));
        return json(result.status, result.body);
      }
      const reply = merchantRoute(ctx, r, parts.slice(1));
      if (reply !== undefined) return reply;
    }

    // Controls. They need no token (tests and the bench drive them), so a browser page of
    // another site must not reach them either: its fetches carry its Origin (or Sec-Fetch-Site).
    if (top === "sandbox") {
      if (method !== "GET" && method !== "HEAD" && crossSite(r.headers, (origin) => allowedOrigin(origin, extraOrigins))) {
        throw apiError(403, "cross_site_request", "The sandbox controls accept requests from loopback origins (and corsOrigins) only");
      }
      return controlRoute(r, parts.slice(1));
    }

    throw apiError(404, "not_found", `Unrecognized request URL (${method}: ${path})`);
  }

  /** A decision posted by the page itself: its form token, and no browser saying it came from elsewhere. */
  function pagePost(r: Request, fields: Map<string, string>, purpose: string, subject: string): boolean {
    return samePagePost(r.headers) && formTokenValid(ctx, purpose, subject, fields.get(FORM_TOKEN_FIELD));
  }

  function spendRoute(r: Request, parts: string[]): Reply {
    const { method } = r;
    const user = auth.authenticate(ctx, r.headers.authorization);
    const [, id, action] = parts;
    const n = parts.length;
    const noStore = { "cache-control": "no-store" };
    if (n === 1 && method === "GET") {
      const history = r.query.get("include_history") === "true";
      return json(200, { data: spend.list(ctx, user, history) }, noStore);
    }
    if (n === 2 && id === "create_delegated" && method === "POST" && !config.allowDelegated) {
      // The real API's answer to a client that is not allow-listed (link-cli.md §2: "needs an
      // allow-list"). 403, not 401: the token is fine, and a 401 would make clients refresh it.
      throw apiError(403, "delegated_creation_not_allowed", "This client is not allowed to create pre-approved spend requests (create_delegated). Create the spend request and ask the person to approve it instead; the sandbox allows it when started with --allow-delegated.");
    }
    if ((n === 1 || (n === 2 && id === "create_delegated")) && method === "POST") {
      const key = headerValue(r.headers["idempotency-key"]);
      const result = spend.create(ctx, user, jsonBody(r), { delegated: n === 2, idempotencyKey: key });
      const headers: Record<string, string> = { ...noStore };
      if (result.replayed) headers["idempotent-replayed"] = "true";
      return json(200, spend.view(ctx, result.sr), headers);
    }
    if (n === 2 && method === "GET") {
      const include = spend.parseInclude([...r.query.getAll("include"), ...r.query.getAll("include[]")]);
      return json(200, spend.view(ctx, spend.find(ctx, user, id), include), noStore);
    }
    if (n === 2 && method === "POST") return json(200, spend.view(ctx, spend.update(ctx, user, id, jsonBody(r))), noStore);
    if (n === 3 && method === "POST" && action === "request_approval") return json(200, spend.requestApproval(ctx, user, id), noStore);
    if (n === 3 && method === "POST" && action === "cancel") return json(200, spend.view(ctx, spend.cancel(ctx, user, id)), noStore);
    throw apiError(404, "not_found", `Unrecognized request URL (${method}: ${r.path})`);
  }

  function userFor(id: Json | undefined): UserRecord {
    if (id === undefined || id === null) return ctx.defaultUser();
    const user = state.users.get(String(id));
    if (user === undefined) throw apiError(404, "resource_missing", `No such user: '${String(id)}'`);
    return user;
  }

  const everything = new Set(["card", "shared_payment_token", "link_pay_token"]);

  function controlRoute(r: Request, parts: string[]): Reply {
    const { method } = r;
    const [what, id, action] = parts;
    const n = parts.length;
    if (n === 0 && method === "GET") {
      return json(200, { url: config.baseUrl, default_user_id: DEFAULT_USER_ID, auto_approve: config.autoApprove, limits: { ...config.limits }, now_ms: clock.now() });
    }
    if (what === "clock" && n === 1) {
      if (method === "POST") {
        const advance = objectBody(r).advance_ms;
        if (typeof advance !== "number" || !Number.isFinite(advance) || advance < 0) {
          throw apiError(400, "parameter_invalid", "advance_ms must be a non-negative number", { param: "advance_ms" });
        }
        clock.advance(advance);
        ctx.changed();
      }
      if (method === "GET" || method === "POST") return json(200, clockJson());
    }
    if (what === "reset" && n === 1 && method === "POST") {
      sandbox.reset();
      return json(200, {});
    }
    if (what === "requests" && n === 1) {
      if (method === "GET") return json(200, { data: sandbox.requests(Number(r.query.get("since") ?? 0)) as unknown as Json[] });
      if (method === "DELETE") {
        sandbox.clearRequests();
        return json(200, {});
      }
    }
    if (what === "users" && n === 1 && method === "POST") {
      const b = objectBody(r);
      return json(200, sandbox.createUser({ id: optString(b.id), email: optString(b.email), name: optString(b.name) }));
    }
    if (what === "users" && n === 2 && method === "GET") return json(200, spend.usage(ctx, userFor(id)));
    if (what === "tokens" && n === 1 && method === "POST") {
      const b = objectBody(r);
      const user = userFor(b.user_id);
      const sourceActions = stringList(b.source_actions, "source_actions");
      if (sourceActions !== undefined) {
        const bad = sourceActions.find((a) => !(insights.SOURCE_ACTIONS as readonly string[]).includes(a));
        if (bad !== undefined) throw apiError(400, "parameter_invalid", `Unknown source action '${bad}'; one of: ${insights.SOURCE_ACTIONS.join(", ")}`, { param: "source_actions" });
      }
      const details = b.authorization_details;
      if (details !== undefined && !Array.isArray(details)) throw apiError(400, "parameter_invalid", "authorization_details must be an array", { param: "authorization_details" });
      const opts: auth.IssueOptions = { expiresIn: typeof b.expires_in === "number" ? b.expires_in : undefined, scope: optString(b.scope), sourceActions, authorizationDetails: details };
      return json(200, { user_id: user.id, ...auth.issueTokens(ctx, user, opts) });
    }
    if (what === "device" && n === 2 && method === "POST" && (id === "approve" || id === "deny")) {
      const b = objectBody(r);
      const code = optString(b.user_code) ?? optString(b.device_code) ?? optString(b.code);
      if (code === undefined) throw apiError(400, "parameter_invalid", "user_code or device_code is required", { param: "user_code" });
      const decided = auth.decideDevice(ctx, code, id === "approve", id === "approve" ? userFor(b.user_id) : undefined);
      return json(200, { user_code: decided.user_code, status: decided.status });
    }
    if (what === "spend_requests" && n === 2 && method === "GET") return json(200, spend.view(ctx, spend.find(ctx, undefined, id), everything));
    if (what === "spend_requests" && n === 3 && method === "POST") {
      const sr = spend.find(ctx, undefined, id);
      if (action === "approve") spend.approveAsPerson(ctx, sr);
      else if (action === "deny") spend.deny(ctx, sr);
      else if (action === "resume") spend.resume(ctx, sr);
      else if (action === "fail") spend.markFailed(ctx, sr);
      else if (action === "succeed") spend.markUsed(ctx, sr, Number(sr.request.amount ?? 0), String(sr.request.currency ?? "usd"));
      else throw apiError(404, "not_found", `Unrecognized request URL (${method}: ${r.path})`);
      return json(200, spend.view(ctx, sr));
    }
    throw apiError(404, "not_found", `Unrecognized request URL (${method}: ${r.path})`);
  }

  function clockJson(): JsonObject {
    const now = clock.now();
    return { now_ms: now, now: new Date(now).toISOString(), offset_ms: clock.offsetMs };
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${address.port}`;
  config.baseUrl = url;
  if (persister !== undefined) {
    // The first save, before anyone is told the URL: a data file that cannot be written is an
    // error now, not a 507 on the first request.
    await persister.removeStaleTemps();
    persister.touch();
    try {
      await persister.commit();
    } catch (e) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      throw new Error(`could not save ${options.dataFile}: ${(e as Error).message}`);
    }
  }

  const sandbox: Sandbox = {
    url,
    authUrl: url,
    apiUrl: url,
    merchantUrl: `${url}/merchant`,
    host,
    port: address.port,
    env: { LINK_AUTH_BASE_URL: url, LINK_API_BASE_URL: url, NO_UPDATE_NOTIFIER: "1" },
    defaultUserId: DEFAULT_USER_ID,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await persister?.flush();
    },
    now: () => clock.now(),
    advanceClock(ms) {
      const now = clock.advance(ms);
      ctx.changed();
      return now;
    },
    createUser(fields = {}) {
      if (fields.id !== undefined && state.users.has(fields.id)) throw apiError(409, "resource_exists", `User '${fields.id}' already exists`);
      const user = createUser(ctx, fields);
      return { user_id: user.id, email: user.email, ...auth.issueTokens(ctx, user) };
    },
    issueTokens(userId, opts = {}) {
      return auth.issueTokens(ctx, userFor(userId), opts);
    },
    approve(id) {
      const sr = spend.find(ctx, undefined, id);
      spend.approveAsPerson(ctx, sr);
      return spend.view(ctx, sr);
    },
    deny(id) {
      const sr = spend.find(ctx, undefined, id);
      spend.deny(ctx, sr);
      return spend.view(ctx, sr);
    },
    approveDevice(code, userId) {
      auth.decideDevice(ctx, code, true, userFor(userId));
    },
    denyDevice(code) {
      auth.decideDevice(ctx, code, false);
    },
    requests(since = 0) {
      return since > 0 ? log.filter((e) => e.seq > since) : log.slice();
    },
    clearRequests() {
      log.length = 0;
      logBytes = 0;
    },
    reset() {
      const secret = state.secret;
      state = new State();
      state.secret = secret;
      log.length = 0;
      logBytes = 0;
      ctx.defaultUser();
      ctx.changed();
    },
    flush: async () => persister?.flush(),
  };
  return sandbox;
}

// ----- helpers ---------------------------------------------------------------------------------

function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) tooBig = true;
      else chunks.push(chunk);
    });
    req.on("end", () => resolve(tooBig ? null : chunks.length === 0 ? "" : Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/**
 * A path as the log keeps it: an id-like segment is kept, but a segment that is a secret (a card
 * number or a token someone put in a URL) is redacted like a body.
 */
function redactPath(path: string): string {
  return redactBody(path, "text/plain").body ?? path;
}

/** About how many characters a header or query record holds (for the log's byte budget). */
function textSize(record: Record<string, string | string[]>): number {
  let n = 0;
  for (const k in record) {
    const v = record[k];
    n += k.length + 6 + (typeof v === "string" ? v.length : v.reduce((sum, s) => sum + s.length + 3, 0));
  }
  return n;
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function optString(v: Json | undefined): string | undefined {
  return typeof v === "string" ? v : undefined;
}

/** An optional array of strings in a control's body, or a 400 naming `param`. */
function stringList(v: Json | undefined, param: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) throw apiError(400, "parameter_invalid", `${param} must be an array of strings`, { param });
  return v as string[];
}

function requireForm(r: Request): void {
  const type = (r.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") {
    throw new HttpError(400, { error: "invalid_request", error_description: "Content-Type must be application/x-www-form-urlencoded" });
  }
}

/** The JSON body of an API call; an empty body is `{}`. */
function jsonBody(r: Request): Json {
  if (r.text.trim() === "") return {};
  try {
    return JSON.parse(r.text) as Json;
  } catch (e) {
    throw apiError(400, "invalid_json", `Invalid JSON body: ${(e as Error).message}`);
  }
}

function objectBody(r: Request): JsonObject {
  const body = jsonBody(r);
  if (body === null || typeof body !== "object" || Array.isArray(body)) throw apiError(400, "parameter_invalid", "The request body must be a JSON object");
  return body;
}

function withCsp(reply: Reply): Reply {
  return { ...reply, headers: { ...reply.headers, "content-security-policy": PAGE_CSP, "x-frame-options": "DENY", "cache-control": "no-store", "referrer-policy": "no-referrer" } };
}

/** CORS headers for loopback origins (and configured extras); `undefined` for anyone else. */
function corsHeaders(origin: string | undefined, extra: ReadonlySet<string>): Record<string, string> | undefined {
  if (origin === undefined || !allowedOrigin(origin, extra)) return undefined;
  return { "access-control-allow-origin": origin, vary: "Origin", "access-control-expose-headers": EXPOSED_HEADERS };
}

/** Loopback origins and the configured extras. */
function allowedOrigin(origin: string, extra: ReadonlySet<string>): boolean {
  if (extra.has(origin)) return true;
  try {
    const u = new URL(origin);
    const h = u.hostname;
    return (u.protocol === "http:" || u.protocol === "https:") && (h === "localhost" || h === "[::1]" || /^127(\.\d{1,3}){3}$/.test(h));
  } catch {
    return false;
  }
}

function preflight(req: IncomingMessage): Reply {
  const headers: Record<string, string> = {
    "access-control-allow-methods": "GET, POST, DELETE, OPTIONS",
    "access-control-allow-headers": req.headers["access-control-request-headers"] ?? ALLOWED_HEADERS,
    "access-control-max-age": "600",
  };
  if (req.headers["access-control-request-private-network"] === "true") headers["access-control-allow-private-network"] = "true";
  return { status: 204, headers, body: "" };
}

function send(res: ServerResponse, reply: Reply, cors: Record<string, string> | undefined): void {
  let payload: string | Buffer;
  let type: string | undefined;
  if (reply.body === undefined || reply.body === "") payload = "";
  else if (Buffer.isBuffer(reply.body)) payload = reply.body;
  else if (typeof reply.body === "string") {
    payload = reply.body;
    type = reply.type ?? "text/html; charset=utf-8";
  } else {
    payload = JSON.stringify(reply.body);
    type = reply.type ?? "application/json; charset=utf-8";
  }
  // nosniff on every answer: a JSON body (which may echo an agent's text) is never run as a page.
  const headers: Record<string, string | string[] | number> = { ...cors, ...reply.headers, "x-content-type-options": "nosniff" };
  if (type !== undefined && headers["content-type"] === undefined) headers["content-type"] = type;
  headers["content-length"] = Buffer.byteLength(payload);
  res.writeHead(reply.status, headers);
  res.end(payload);
}
