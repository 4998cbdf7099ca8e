/**
 * The demo MPP merchant (mpp.md §1–2): paid JSON endpoints that answer 402 with
 * `WWW-Authenticate: Payment` challenges (stripe charge, HMAC-bound id, `expires`,
 * `description`, base64url-JCS `request`), verify the credential that comes back, and answer
 * 200 with a `Payment-Receipt`. Challenge issuance, credential decoding, the HMAC check,
 * problem types and receipt encoding are the core's (`mppIssueChallenge`,
 * `mppVerifyCredential`, `mppProblem`, `mppEncodeReceipt`); this module only decides prices and
 * whether the shared payment token is good.
 *
 * - `GET /merchant/api/forecast`: $1.00, one stripe challenge, credential in `Authorization`.
 * - `GET /merchant/api/archive`: $2.50, a `tempo` challenge first (which this merchant cannot
 *   verify), then a stripe challenge with `header="Payment-Authorization"` and an `externalId`
 *   that the credential payload must echo.
 * - `POST /merchant/api/report`: $0.75, a report for the JSON body's `location` (a paid
 *   request with a body: the client must send the body again with the credential).
 * - `GET /merchant/api/quote`: $0.50, and the same challenge for its whole lifetime, as a
 *   merchant that caches its 402 does (a client must not pay one challenge twice).
 * - `GET /merchant/api/onchain`: only a `tempo` challenge (a 402 linkpay cannot pay).
 */

import {
  isLinkpayError,
  mppEncodeReceipt,
  mppIssueChallenge,
  mppProblem,
  mppVerifyCredential,
  type Json,
  type JsonObject,
  type MppChallengeSpec,
  type MppVerifiedCredential,
} from "../index.js";
import type { Context } from "./context.js";
import { HttpError, type Reply } from "./http.js";
import { randomId } from "./ids.js";
import type { Request } from "./server.js";
import { markUsed, settle } from "./spend.js";

/** The merchant's Stripe Business Network profile: what `network_id` must be. */
export const MERCHANT_NETWORK_ID = "profile_sandbox_merchant";
const PROBLEM_TYPE = "application/problem+json";

interface PaidRoute {
  amount: number;
  currency: string;
  description: string;
  /** Where the credential must come: the default `Authorization`, or `Payment-Authorization`. */
  header?: "Payment-Authorization";
  /** Offer a non-stripe challenge first. */
  decoy?: boolean;
  /** Bind the credential to a merchant reference (`request.externalId`). */
  externalId?: boolean;
  /** Only this method's challenge (`tempo`): nothing this merchant can verify. */
  tempoOnly?: boolean;
  /** The same challenge until it expires. */
  stable?: boolean;
  /** The method the route answers (default GET). */
  method?: "POST";
  resource: (r: Request) => JsonObject;
}

const ROUTES: Record<string, PaidRoute> = {
  forecast: {
    amount: 100,
    currency: "usd",
    description: "Weather forecast for San Francisco (one request)",
    resource: () => ({
      location: "San Francisco, CA",
      forecast: [
        { day: "today", summary: "Fog, then sun", high_c: 19, low_c: 12 },
        { day: "tomorrow", summary: "Sunny", high_c: 22, low_c: 13 },
      ],
    }),
  },
  archive: {
    amount: 250,
    currency: "usd",
    description: "Historical weather archive (one download)",
    header: "Payment-Authorization",
    decoy: true,
    externalId: true,
    resource: () => ({ location: "San Francisco, CA", years: [2023, 2024, 2025], mean_high_c: 18.4 }),
  },
  report: {
    amount: 75,
    currency: "usd",
    description: "Custom weather report for one location",
    method: "POST",
    resource: (r) => {
      let location: Json = null;
      try {
        const body = JSON.parse(r.text) as JsonObject;
        if (typeof body.location === "string") location = body.location;
      } catch {
        // not JSON: no location
      }
      return { location, report: "Mild, with a chance of fog in the morning", received_bytes: Buffer.byteLength(r.text) };
    },
  },
  quote: {
    amount: 50,
    currency: "usd",
    description: "Current weather quote (cached challenge)",
    stable: true,
    resource: () => ({ location: "San Francisco, CA", now: { summary: "Fog", temp_c: 14 } }),
  },
  onchain: {
    amount: 100,
    currency: "usd",
    description: "Weather on chain (tempo only)",
    tempoOnly: true,
    resource: () => ({}),
  },
};

/** The challenges of `stable` routes, per sandbox state, until they expire. */
const cached = new WeakMap<object, Map<PaidRoute, { lines: string[]; until: number }>>();

function realm(ctx: Context): string {
  return new URL(ctx.config.baseUrl).hostname;
}

/** Fresh challenges for a route: the `WWW-Authenticate` lines. */
function challenges(ctx: Context, route: PaidRoute): string[] {
  if (route.stable === true) {
    const routes = cached.get(ctx.state) ?? new Map<PaidRoute, { lines: string[]; until: number }>();
    cached.set(ctx.state, routes);
    const hit = routes.get(route);
    if (hit !== undefined && hit.until > ctx.clock.now() + 1000) return hit.lines;
    const lines = freshChallenges(ctx, route);
    routes.set(route, { lines, until: ctx.clock.now() + ctx.config.challengeTtlMs });
    return lines;
  }
  return freshChallenges(ctx, route);
}

function freshChallenges(ctx: Context, route: PaidRoute): string[] {
  const expires = new Date(ctx.clock.now() + ctx.config.challengeTtlMs).toISOString().replace(/\.\d{3}Z$/, "Z");
  const lines: string[] = [];
  if (route.decoy === true || route.tempoOnly === true) {
    lines.push(
      mppIssueChallenge(ctx.state.secret, {
        realm: realm(ctx),
        method: "tempo",
        intent: "charge",
        request: { amount: String(route.amount * 10_000), currency: "0x20c0000000000000000000000000000000000001", recipient: "0x000000000000000000000000000000000000dEaD", methodDetails: { chainId: 4217 } },
        expires,
        description: route.description,
      }).www_authenticate,
    );
  }
  if (route.tempoOnly === true) return lines;
  const request: JsonObject = {
    amount: String(route.amount),
    currency: route.currency,
    methodDetails: { networkId: MERCHANT_NETWORK_ID, paymentMethodTypes: ["card", "link"] },
  };
  if (route.externalId === true) request.externalId = randomId("order_", 9);
  // A fresh nonce in `opaque` makes every challenge (and so its HMAC-bound id) unique, so two
  // payments within the same second of `expires` are two challenges, not a replay.
  const opaque = { nonce: randomId("", 12) };
  const spec: MppChallengeSpec = { realm: realm(ctx), method: "stripe", intent: "charge", request, expires, description: route.description, opaque };
  if (route.header !== undefined) spec.header = route.header;
  lines.push(mppIssueChallenge(ctx.state.secret, spec).www_authenticate);
  return lines;
}

/** A 402 (or 400 for an unsupported method) with problem details and fresh challenges. */
function refuse(ctx: Context, route: PaidRoute, problem: string, detail: string, challengeId?: string): HttpError {
  const body = mppProblem(problem, detail, challengeId);
  const status = typeof body.status === "number" ? body.status : 402;
  return new HttpError(status, body, { "www-authenticate": challenges(ctx, route), "cache-control": "no-store", "content-type": PROBLEM_TYPE });
}

/** The credential and the header it came in, if any. */
function credentialOf(r: Request): { name: string; value: string } | undefined {
  const pa = r.headers["payment-authorization"];
  if (typeof pa === "string" && pa !== "") return { name: "Payment-Authorization", value: pa };
  const a = r.headers.authorization;
  if (typeof a === "string" && /^payment(\s|$)/i.test(a)) return { name: "Authorization", value: a };
  return undefined;
}

/** Routes under `/merchant/` other than the checkout; `undefined` when not a merchant route. */
export function merchantRoute(ctx: Context, r: Request, parts: string[]): Reply | undefined {
  if (parts.length !== 2 || parts[0] !== "api") return undefined;
  const route = Object.hasOwn(ROUTES, parts[1]) ? ROUTES[parts[1]] : undefined;
  if (route === undefined || r.method !== (route.method ?? "GET")) return undefined;
  const sent = credentialOf(r);
  if (sent === undefined || route.tempoOnly === true) throw refuse(ctx, route, "payment-required", "Payment is required.");

  const now = ctx.clock.now();
  let verified: MppVerifiedCredential;
  try {
    verified = mppVerifyCredential(ctx.state.secret, sent.name, sent.value, now);
  } catch (e) {
    if (!isLinkpayError(e)) throw e;
    const details = (e.details ?? {}) as JsonObject;
    throw refuse(ctx, route, String(details.problem ?? "malformed-credential"), e.message);
  }
  const c = verified.challenge;
  const id = String(c.id);
  if (c.method !== "stripe" || verified.stripe === undefined) throw refuse(ctx, route, "method-unsupported", `This merchant accepts only the stripe method, not ${String(c.method)}.`, id);
  if (c.intent !== "charge") throw refuse(ctx, route, "method-unsupported", `This merchant accepts only intent charge, not ${String(c.intent)}.`, id);
  const s = verified.stripe;
  if (c.realm !== realm(ctx) || s.amount !== route.amount || s.currency !== route.currency || s.network_id !== MERCHANT_NETWORK_ID || (route.externalId === true) !== (s.external_id !== undefined)) {
    throw refuse(ctx, route, "invalid-challenge", "The challenge was issued for another resource.", id);
  }
  if (s.external_id !== undefined && verified.payload.externalId !== s.external_id) {
    throw refuse(ctx, route, "invalid-challenge", "credential externalId does not match this route request", id);
  }
  const spt = verified.payload.spt;
  if (typeof spt !== "string" || spt === "") throw refuse(ctx, route, "malformed-credential", "The stripe payload must carry spt.", id);

  // The shared payment token: issued by this sandbox for an approved SPT spend request.
  const srId = ctx.state.spts.get(spt);
  const sr = srId === undefined ? undefined : ctx.state.spendRequests.get(srId);
  if (sr === undefined) throw refuse(ctx, route, "verification-failed", "Unknown shared payment token.", id);
  settle(ctx, sr);
  if (sr.status === "succeeded") throw refuse(ctx, route, "verification-failed", "This shared payment token was already used.", id);
  if (sr.status !== "approved") throw refuse(ctx, route, "verification-failed", `The shared payment token's spend request is ${sr.status}, not approved.`, id);
  if (sr.request.network_id !== MERCHANT_NETWORK_ID) throw refuse(ctx, route, "verification-failed", "The shared payment token was issued for another network.", id);
  const allowed = Number(sr.request.amount ?? 0);
  if (sr.request.currency !== route.currency || allowed < route.amount) {
    throw refuse(ctx, route, "payment-insufficient", `The shared payment token allows ${allowed} ${String(sr.request.currency)}; this costs ${route.amount} ${route.currency}.`, id);
  }
  if ((ctx.state.usedChallenges.get(id) ?? 0) > now) throw refuse(ctx, route, "invalid-challenge", "This challenge was already paid.", id);

  // Paid: the token is spent (single use), and so is the challenge.
  markUsed(ctx, sr, route.amount, route.currency, now);
  for (const [used, until] of ctx.state.usedChallenges) if (until <= now) ctx.state.usedChallenges.delete(used);
  ctx.state.usedChallenges.set(id, Date.parse(String(c.expires)) || now + ctx.config.challengeTtlMs);
  ctx.changed();
  const receipt: JsonObject = { method: "stripe", reference: randomId("pi_"), timestamp: new Date(now).toISOString().replace(/\.\d{3}Z$/, "Z") };
  if (s.external_id !== undefined) receipt.externalId = s.external_id;
  const body: Json = { ...route.resource(r), paid: { amount: String(route.amount), currency: route.currency, reference: receipt.reference } };
  return { status: 200, body, headers: { "payment-receipt": mppEncodeReceipt(receipt), "cache-control": "private" } };
}
