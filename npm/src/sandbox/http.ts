/** What handlers return, the API's error shapes, and request-body parsing. */

import type { Json, JsonObject } from "../index.js";

/** A handler's answer. `body` objects are sent as JSON; strings as they are. */
export interface Reply {
  status: number;
  headers?: Record<string, string | string[]>;
  body?: Json | string | Buffer;
  /** Content type for string bodies (default `text/html; charset=utf-8`). */
  type?: string;
}

/**
 * An error answer. The Link API answers `{error: {code, message, …}}`; the OAuth endpoints
 * answer `{error, error_description}`; the MPP merchant answers RFC 9457 problem details.
 * Handlers throw this; the server turns it into the reply.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: JsonObject,
    readonly headers: Record<string, string | string[]> = {},
  ) {
    super(typeof body.error === "object" && body.error !== null && !Array.isArray(body.error)
      ? String((body.error as JsonObject).message ?? "")
      : String(body.error_description ?? body.error ?? body.detail ?? ""));
  }
}

/** A Link API error: `{error: {code, message, ...extra}}`. */
export function apiError(status: number, code: string, message: string, extra: JsonObject = {}, headers: Record<string, string> = {}): HttpError {
  return new HttpError(status, { error: { code, message, ...extra } }, headers);
}

/** An OAuth error (RFC 6749 §5.2 / RFC 8628 §3.5): `{error, error_description}`. */
export function oauthError(status: number, error: string, description: string): HttpError {
  return new HttpError(status, { error, error_description: description }, { "cache-control": "no-store" });
}

export const json = (status: number, body: Json, headers?: Record<string, string | string[]>): Reply => ({ status, body, headers });

export const html = (status: number, body: string, headers?: Record<string, string | string[]>): Reply => ({
  status,
  body,
  type: "text/html; charset=utf-8",
  headers,
});

/** Parses an `application/x-www-form-urlencoded` body into ordered pairs. */
export function parseFormPairs(text: string): [string, string][] {
  return [...new URLSearchParams(text).entries()];
}

/** The first value of each form field. */
export function formFields(pairs: [string, string][]): Map<string, string> {
  const fields = new Map<string, string>();
  for (const [k, v] of pairs) if (!fields.has(k)) fields.set(k, v);
  return fields;
}

/**
 * Rebuilds JSON values from the reference client's bracket encoding of `authorization_details`
 * (`authorization_details[][type]=source&authorization_details[][actions][]=read_balances`):
 * a key seen again in the current element, or a bare `authorization_details[]` value, starts a
 * new element.
 */
export function decodeBracketList(pairs: [string, string][], name: string): Json[] {
  const prefix = `${name}[]`;
  const out: Json[] = [];
  let current: JsonObject | null = null;
  for (const [key, value] of pairs) {
    if (!key.startsWith(prefix)) continue;
    const rest = key.slice(prefix.length);
    if (rest === "") {
      out.push(value);
      current = null;
      continue;
    }
    const segments = [...rest.matchAll(/\[([^\]]*)\]/g)].map((m) => m[1]);
    if (segments.length === 0 || segments[0] === "") continue;
    const first = segments[0];
    const appends = segments.length > 1 && segments[segments.length - 1] === "";
    if (current === null || (first in current && !appends)) {
      current = {};
      out.push(current);
    }
    let target: JsonObject = current;
    for (let i = 0; i < segments.length; i++) {
      const seg = segments[i];
      const last = i === segments.length - 1;
      const nextIsAppend = segments[i + 1] === "";
      if (seg === "") break;
      if (last) {
        target[seg] = value;
      } else if (nextIsAppend && i + 1 === segments.length - 1) {
        const list = Array.isArray(target[seg]) ? (target[seg] as Json[]) : (target[seg] = []);
        list.push(value);
        break;
      } else {
        const next = target[seg];
        target = next !== null && typeof next === "object" && !Array.isArray(next) ? next : (target[seg] = {});
      }
    }
  }
  return out;
}
