/**
 * Only the pages themselves may post their decisions. The approval page, the device page and the
 * 3-D Secure page change what a person decided, so a form post from another site (a page the
 * person happens to have open) must not approve anything. Two checks, both needed:
 *
 * - a form token: each page carries a hidden `page_token`, an HMAC of what the form acts on
 *   (`approve|lsrq_…`) under a key drawn when the process starts. Another site cannot read the
 *   page, so it cannot know the token (CORS lets only loopback origins and `corsOrigins` read
 *   answers, and those may use the controls anyway); a restart makes open pages stale;
 * - the browser's own word: `Sec-Fetch-Site` (every current browser sends it) must be
 *   `same-origin` (or `none`: typed by the person), and an `Origin` other than `null` must be
 *   this sandbox's. The pages send `Referrer-Policy: no-referrer`, under which browsers send
 *   `Origin: null` even for same-origin form posts, so `null` alone proves nothing either way.
 *
 * Clients that are not browsers (tests, curl) send neither header and need only the token.
 */

import { createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { Context } from "./context.js";

export const FORM_TOKEN_FIELD = "page_token";

/** The token of the form that acts on `subject` (`approve|lsrq_…`, `device|apple-banana-cherry`). */
export function formToken(ctx: Context, purpose: string, subject: string): string {
  return createHmac("sha256", ctx.pageKey).update(`${purpose}|${subject}`).digest("base64url");
}

/** Whether `presented` is the token of the form for `subject`. */
export function formTokenValid(ctx: Context, purpose: string, subject: string, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  const expected = Buffer.from(formToken(ctx, purpose, subject));
  const got = Buffer.from(presented);
  return got.length === expected.length && timingSafeEqual(got, expected);
}

const first = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);

/**
 * Whether a browser says this request comes from another site than the ones `allowed` accepts
 * (`Origin`, else `Sec-Fetch-Site`). Requests with neither header (not a browser) are not.
 */
export function crossSite(headers: IncomingMessage["headers"], allowed: (origin: string) => boolean): boolean {
  const origin = first(headers.origin);
  const site = first(headers["sec-fetch-site"]);
  if (origin !== undefined && origin !== "null") return !allowed(origin);
  return site !== undefined && site !== "same-origin" && site !== "none";
}

/** This sandbox's own origin as the browser addressed it (`http://` + `Host`). */
export function ownOrigin(headers: IncomingMessage["headers"]): string | undefined {
  const host = first(headers.host);
  return host === undefined ? undefined : `http://${host}`;
}

/** A page post is the page's own: not cross-site, and `Sec-Fetch-Site`, when sent, is same-origin. */
export function samePagePost(headers: IncomingMessage["headers"]): boolean {
  const own = ownOrigin(headers);
  const site = first(headers["sec-fetch-site"]);
  if (site !== undefined && site !== "same-origin" && site !== "none") return false;
  return !crossSite(headers, (origin) => origin === own);
}
