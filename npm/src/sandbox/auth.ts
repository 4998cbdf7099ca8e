/**
 * The auth base: the OAuth device flow (RFC 8628) with refresh-token rotation, as
 * `login.link.com` answers it (link-cli.md §2.2, link-cli-wire.md §4), and Bearer checks for the
 * API base.
 */

import { authClientId, type Json, type JsonObject } from "../index.js";
import type { Context } from "./context.js";
import { HttpError, apiError, decodeBracketList, formFields, oauthError } from "./http.js";
import { randomId, randomPhrase, randomSecret } from "./ids.js";
import type { AccessTokenRecord, DeviceAuthRecord, SessionRecord, UserRecord } from "./state.js";

export const DEFAULT_SCOPE = "userinfo:read payment_methods.agentic";
const GRANT_DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code";
/** RFC 8628 §3.5: each `slow_down` adds 5 seconds to the interval. */
const SLOW_DOWN_STEP_S = 5;

function checkClient(fields: Map<string, string>): string {
  const clientId = fields.get("client_id");
  if (clientId === undefined || clientId === "") throw oauthError(400, "invalid_request", "Missing required parameter: client_id");
  if (clientId !== authClientId) throw oauthError(401, "invalid_client", "Unknown client_id");
  return clientId;
}

/** `POST /device/code`. */
export function deviceCode(ctx: Context, pairs: [string, string][]): JsonObject {
  const fields = formFields(pairs);
  const clientId = checkClient(fields);
  const scope = (fields.get("scope") ?? DEFAULT_SCOPE).trim().split(/\s+/).filter(Boolean).join(" ") || DEFAULT_SCOPE;
  const now = ctx.clock.now();
  const auth: DeviceAuthRecord = {
    device_code: randomSecret("dc_"),
    user_code: uniquePhrase(ctx),
    client_id: clientId,
    scope,
    authorization_details: decodeBracketList(pairs, "authorization_details"),
    client_hint: fields.get("client_hint") ?? "",
    connection_label: fields.get("connection_label") ?? "",
    status: "pending",
    created_ms: now,
    expires_ms: now + ctx.config.deviceCodeTtlS * 1000,
    interval_s: ctx.config.deviceIntervalS,
  };
  if (ctx.config.autoApprove) auth.auto_approve_ms = now + ctx.config.autoApproveDelayMs;
  ctx.state.addDeviceAuth(auth);
  ctx.changed();
  const verification = `${ctx.config.baseUrl}/device`;
  return {
    device_code: auth.device_code,
    user_code: auth.user_code,
    verification_uri: verification,
    verification_uri_complete: `${verification}?code=${encodeURIComponent(auth.user_code)}`,
    expires_in: ctx.config.deviceCodeTtlS,
    interval: auth.interval_s,
  };
}

function uniquePhrase(ctx: Context): string {
  for (;;) {
    const phrase = randomPhrase();
    const taken = ctx.state.userCodes.get(phrase);
    if (taken === undefined) return phrase;
    const other = ctx.state.deviceAuths.get(taken);
    // A phrase is reused only once its old code is over.
    if (other === undefined || other.status === "consumed" || other.expires_ms <= ctx.clock.now()) return phrase;
  }
}

/** `POST /device/token`: the device-code grant and the refresh-token grant. */
export function token(ctx: Context, pairs: [string, string][]): JsonObject {
  const fields = formFields(pairs);
  const clientId = checkClient(fields);
  const grant = fields.get("grant_type");
  if (grant === GRANT_DEVICE_CODE) return pollDeviceCode(ctx, fields, clientId);
  if (grant === "refresh_token") return refresh(ctx, fields, clientId);
  if (grant === undefined || grant === "") throw oauthError(400, "invalid_request", "Missing required parameter: grant_type");
  throw oauthError(400, "unsupported_grant_type", `Unsupported grant_type: ${grant}`);
}

function pollDeviceCode(ctx: Context, fields: Map<string, string>, clientId: string): JsonObject {
  const code = fields.get("device_code");
  if (code === undefined || code === "") throw oauthError(400, "invalid_request", "Missing required parameter: device_code");
  const auth = ctx.state.deviceAuths.get(code);
  if (auth === undefined || auth.client_id !== clientId) throw oauthError(400, "invalid_grant", "Unknown device code");
  const now = ctx.clock.now();
  settleDevice(ctx, auth, now);
  const lastPoll = auth.last_poll_ms;
  auth.last_poll_ms = now;
  ctx.changed();
  switch (auth.status) {
    case "consumed":
      throw oauthError(400, "invalid_grant", "Device code already used");
    case "denied":
      throw oauthError(400, "access_denied", "The user denied the authorization request");
    case "approved": {
      auth.status = "consumed";
      const user = ctx.state.users.get(auth.user_id ?? "") ?? ctx.defaultUser();
      const session = newSession(ctx, user, auth.client_id, auth.scope, auth.authorization_details, auth.client_hint);
      return tokenResponse(ctx, session);
    }
    case "pending":
      if (now >= auth.expires_ms) throw oauthError(400, "expired_token", "The device code has expired");
      if (lastPoll !== undefined && now - lastPoll < auth.interval_s * 1000) {
        auth.interval_s += SLOW_DOWN_STEP_S;
        throw oauthError(400, "slow_down", `Polling too fast: wait at least ${auth.interval_s} seconds between requests`);
      }
      throw oauthError(400, "authorization_pending", "The user has not yet approved the authorization request");
  }
}

/** Applies a due auto-approval. */
function settleDevice(ctx: Context, auth: DeviceAuthRecord, now: number): void {
  if (auth.status === "pending" && auth.auto_approve_ms !== undefined && auth.auto_approve_ms <= now && now < auth.expires_ms) {
    auth.status = "approved";
    auth.user_id = ctx.defaultUser().id;
    ctx.changed();
  }
}

function refresh(ctx: Context, fields: Map<string, string>, clientId: string): JsonObject {
  const presented = fields.get("refresh_token");
  if (presented === undefined || presented === "") throw oauthError(400, "invalid_request", "Missing required parameter: refresh_token");
  const sessionId = ctx.state.refreshTokens.get(presented);
  const session = sessionId === undefined ? undefined : ctx.state.sessions.get(sessionId);
  if (session === undefined || session.client_id !== clientId) throw oauthError(400, "invalid_grant", "Invalid refresh token");
  if (session.revoked_ms !== undefined) throw oauthError(400, "invalid_grant", "Refresh token revoked");
  if (session.refresh_token !== presented) throw oauthError(400, "invalid_grant", "Refresh token already used (tokens rotate on every refresh)");
  // Rotation: the presented token stops working; the new one replaces it.
  session.refresh_token = randomSecret("lsrt_");
  ctx.state.refreshTokens.set(session.refresh_token, session.id);
  ctx.changed();
  return tokenResponse(ctx, session);
}

/** `POST /device/revoke` (RFC 7009: unknown tokens are not an error). */
export function revoke(ctx: Context, pairs: [string, string][]): JsonObject {
  const fields = formFields(pairs);
  checkClient(fields);
  const presented = fields.get("token");
  if (presented === undefined || presented === "") throw oauthError(400, "invalid_request", "Missing required parameter: token");
  let sessionId = ctx.state.refreshTokens.get(presented);
  if (sessionId === undefined) sessionId = ctx.state.accessTokens.get(presented)?.session_id;
  const session = sessionId === undefined ? undefined : ctx.state.sessions.get(sessionId);
  if (session !== undefined && session.revoked_ms === undefined) {
    session.revoked_ms = ctx.clock.now();
    ctx.changed();
  }
  return {};
}

function newSession(ctx: Context, user: UserRecord, clientId: string, scope: string, details: Json[], clientName: string): SessionRecord {
  const session: SessionRecord = {
    id: randomId("sess_"),
    user_id: user.id,
    client_id: clientId,
    scope,
    client_name: clientName,
    refresh_token: randomSecret("lsrt_"),
    created_ms: ctx.clock.now(),
  };
  if (details.length > 0) session.authorization_details = details;
  ctx.state.addSession(session);
  ctx.changed();
  return session;
}

let issued = 0;

/** Forgets access tokens and device codes a day after they expired (every 1,024 tokens minted). */
function prune(ctx: Context): void {
  if (++issued % 1024 !== 0) return;
  const now = ctx.clock.now();
  for (const [token, access] of ctx.state.accessTokens) if (access.expires_ms + 86_400_000 <= now) ctx.state.accessTokens.delete(token);
  for (const [code, auth] of ctx.state.deviceAuths) {
    if (auth.expires_ms + 86_400_000 <= now) {
      ctx.state.deviceAuths.delete(code);
      if (ctx.state.userCodes.get(auth.user_code) === code) ctx.state.userCodes.delete(auth.user_code);
    }
  }
}

/** Mints an access token for a session and answers like the token endpoint. */
function tokenResponse(ctx: Context, session: SessionRecord, ttlS = ctx.config.accessTokenTtlS): JsonObject {
  prune(ctx);
  const access: AccessTokenRecord = {
    token: randomSecret("lsat_"),
    session_id: session.id,
    user_id: session.user_id,
    expires_ms: ctx.clock.now() + ttlS * 1000,
  };
  ctx.state.accessTokens.set(access.token, access);
  ctx.changed();
  const body: JsonObject = {
    access_token: access.token,
    refresh_token: session.refresh_token,
    token_type: "Bearer",
    expires_in: ttlS,
    // The token endpoint echoes scopes comma-delimited (link-cli.md §1.1, auth upgrade).
    scope: session.scope.split(" ").join(","),
  };
  if (session.authorization_details !== undefined) body.authorization_details = session.authorization_details;
  return body;
}

/** What a session made without the device flow is granted. */
export interface IssueOptions {
  scope?: string;
  expiresIn?: number;
  clientName?: string;
  /** Financial-insight access: one `{type: "source", actions}` authorization detail, first. */
  sourceActions?: string[];
  /** More authorization details, as a device login would record them. */
  authorizationDetails?: Json[];
}

/** Tokens for a user without the device flow (sandbox controls, tests, the bench). */
export function issueTokens(ctx: Context, user: UserRecord, opts: IssueOptions = {}): JsonObject {
  const details: Json[] = [];
  if (opts.sourceActions !== undefined && opts.sourceActions.length > 0) details.push({ type: "source", actions: [...new Set(opts.sourceActions)] });
  details.push(...(opts.authorizationDetails ?? []));
  const session = newSession(ctx, user, authClientId, opts.scope ?? DEFAULT_SCOPE, details, opts.clientName ?? "sandbox");
  return tokenResponse(ctx, session, opts.expiresIn ?? ctx.config.accessTokenTtlS);
}

/** The person approves (or denies) a device code, by phrase or device code. */
export function decideDevice(ctx: Context, code: string, approve: boolean, user?: UserRecord): DeviceAuthRecord {
  const auth = findDeviceAuth(ctx, code);
  if (auth === undefined) throw apiError(404, "resource_missing", "No such device code or phrase");
  const now = ctx.clock.now();
  settleDevice(ctx, auth, now);
  if (auth.status !== "pending") throw apiError(409, "device_code_unexpected_state", `This code was already ${auth.status === "consumed" ? "used" : auth.status}`);
  if (now >= auth.expires_ms) throw apiError(409, "device_code_unexpected_state", "This code has expired");
  auth.status = approve ? "approved" : "denied";
  if (approve) auth.user_id = (user ?? ctx.defaultUser()).id;
  ctx.changed();
  return auth;
}

/** A device authorization by its phrase (`user_code`) or its device code. */
export function findDeviceAuth(ctx: Context, code: string): DeviceAuthRecord | undefined {
  const byPhrase = ctx.state.userCodes.get(code.trim().toLowerCase());
  return ctx.state.deviceAuths.get(byPhrase ?? code);
}

/** Checks `Authorization: Bearer …` on an API call; the user it belongs to, or a 401. */
export function authenticate(ctx: Context, header: string | undefined): UserRecord {
  return authenticateSession(ctx, header).user;
}

/** {@link authenticate}, with the session the token belongs to (its scope and authorization details). */
export function authenticateSession(ctx: Context, header: string | undefined): { user: UserRecord; session: SessionRecord } {
  const unauthorized = (message: string): HttpError =>
    apiError(401, "unauthorized", message, {}, { "www-authenticate": 'Bearer realm="link", error="invalid_token"' });
  const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (match === null) throw unauthorized("No valid access token provided. Send Authorization: Bearer <access_token>.");
  const access = ctx.state.accessTokens.get(match[1]);
  if (access === undefined) throw unauthorized("Invalid access token.");
  const session = ctx.state.sessions.get(access.session_id);
  if (session === undefined || session.revoked_ms !== undefined) throw unauthorized("Access token revoked.");
  if (ctx.clock.now() >= access.expires_ms) throw unauthorized("Access token expired.");
  const user = ctx.state.users.get(access.user_id);
  if (user === undefined) throw unauthorized("Invalid access token.");
  return { user, session };
}
