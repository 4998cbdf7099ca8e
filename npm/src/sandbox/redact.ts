/**
 * What the request log (`GET /sandbox/requests`, which needs no token) may keep of a request.
 * The log is for looking at what a client sent, so it keeps the raw text, but never a secret and
 * never much of it:
 *
 * - by key: the values of secret-named fields in JSON and form bodies and in queries (card
 *   number and CVC, access/refresh tokens, device codes, SPTs, the pages' form tokens) become
 *   `<redacted>`; credential headers keep only their scheme;
 * - by value, anywhere in a body, a query or a header: Luhn-valid runs of 13–19 digits (card
 *   numbers, also written with spaces, dashes or form-encoded `+`/`%20` between the digits) and
 *   tokens with one of the sandbox's secret prefixes (`spt_`, `lsat_`, `lsrt_`, `lpt_`, `dc_`);
 * - a body keeps at most `MAX_LOGGED_BODY` characters (after redacting, so a cut never leaves
 *   half a secret), marked as truncated, so large unauthenticated POSTs cannot grow the log.
 */

import type { IncomingMessage } from "node:http";
import { luhnCheckDigit } from "./ids.js";

export const REDACTED = "<redacted>";
/** How much of one body the log keeps, in UTF-16 code units (bodies themselves may be 1 MiB). */
export const MAX_LOGGED_BODY = 4096;
/** How much of a body is scanned for secrets: past this, the text is cut anyway. */
const SCAN_LIMIT = 2 * MAX_LOGGED_BODY;

/** Headers whose value is a credential: only the scheme is kept (`Bearer <redacted>`). */
const CREDENTIAL_HEADERS: ReadonlySet<string> = new Set(["authorization", "payment-authorization", "proxy-authorization", "cookie", "set-cookie"]);

/** Field names (lower case, `-` and `_` alike) whose values are secrets wherever they appear. */
const SECRET_KEYS: ReadonlySet<string> = new Set(
  [
    "number", "card_number", "cardnumber", "cc_number", "pan",
    "cvc", "cvv", "cvc2", "cc_csc", "csc", "security_code",
    "access_token", "refresh_token", "id_token", "token", "device_code", "client_secret", "password", "secret",
    "shared_payment_token", "spt", "link_pay_token",
    "page_token",
  ],
);

const isSecretKey = (key: string): boolean => SECRET_KEYS.has(key.trim().toLowerCase().replace(/-/g, "_"));

// A digit, then 12–18 more, each optionally after one separator (space, dash, form-encoded space),
// not part of a longer run of digits.
const DIGIT_RUN = /(?<!\d)\d(?:(?:[ +-]|%20)?\d){12,18}(?!\d)/g;
// The sandbox's secret prefixes (see ids.ts callers), followed by the token's characters.
const TOKEN = /\b(spt_|lsat_|lsrt_|lpt_|dc_)[A-Za-z0-9_-]{6,}/g;

function luhnValid(digits: string): boolean {
  return luhnCheckDigit(digits.slice(0, -1)) === digits[digits.length - 1];
}

/** Redacts card numbers and prefixed tokens anywhere in `text`. */
export function redactValues(text: string): string {
  // Most values (content types, user agents, short ids) hold neither: skip both scans.
  const digits = /\d/.test(text);
  if (!digits && !text.includes("_")) return text;
  if (!digits) return text.replace(TOKEN, (_token, prefix: string) => `${prefix}${REDACTED}`);
  return text
    .replace(DIGIT_RUN, (run) => {
      const digits = run.replace(/%20|\D/g, "");
      return digits.length >= 13 && digits.length <= 19 && luhnValid(digits) ? REDACTED : run;
    })
    .replace(TOKEN, (_token, prefix: string) => `${prefix}${REDACTED}`);
}

// `"key": "string"` (possibly cut off at the end of the text) or `"key": number|true|false|null`.
const JSON_MEMBER = /"((?:[^"\\]|\\.)*)"(\s*:\s*)("(?:[^"\\]|\\.)*(?:"|$)|-?\d[\d.eE+-]*|true|false|null)/g;

/** Redacts the values of secret-named JSON members, leaving the rest of the text as it was. */
function redactJsonKeys(text: string): string {
  return text.replace(JSON_MEMBER, (member, key: string, colon: string) => (isSecretKey(key) ? `"${key}"${colon}"${REDACTED}"` : member));
}

/** Redacts the values of secret-named `key=value` pairs (form bodies, queries). */
function redactFormKeys(text: string): string {
  return text
    .split("&")
    .map((pair) => {
      const eq = pair.indexOf("=");
      if (eq < 0) return pair;
      let key: string;
      try {
        key = decodeURIComponent(pair.slice(0, eq).replace(/\+/g, " "));
      } catch {
        key = pair.slice(0, eq);
      }
      // `card[number]=…`, `payment[cvc]=…`: the innermost bracketed name counts.
      const inner = /\[([^\]]*)\]$/.exec(key)?.[1];
      return isSecretKey(key) || (inner !== undefined && isSecretKey(inner)) ? `${pair.slice(0, eq)}=${REDACTED}` : pair;
    })
    .join("&");
}

export interface LoggedBody {
  body: string | null;
  /** Present when the body was cut: its full size in bytes. */
  truncated?: { bytes: number };
}

/** The body as the log keeps it: redacted by key (JSON or form, whichever it looks like) and value, then capped. */
export function redactBody(text: string | null, contentType: string | undefined): LoggedBody {
  if (text === null || text === "") return { body: null };
  const scanned = text.length > SCAN_LIMIT ? text.slice(0, SCAN_LIMIT) : text;
  const type = (contentType ?? "").split(";")[0].trim().toLowerCase();
  const trimmed = scanned.trimStart();
  let out = scanned;
  if (type.includes("json") || trimmed.startsWith("{") || trimmed.startsWith("[")) out = redactJsonKeys(out);
  else if (type === "application/x-www-form-urlencoded" || /^[^\s=&]+=/.test(trimmed)) out = redactFormKeys(out);
  out = redactValues(out);
  if (text.length <= MAX_LOGGED_BODY && out.length <= MAX_LOGGED_BODY) return { body: out };
  return { body: out.slice(0, MAX_LOGGED_BODY), truncated: { bytes: Buffer.byteLength(text) } };
}

/** Query parameters as the log keeps them: secret-named ones redacted, values scanned. */
export function redactQuery(query: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, raw] of query) {
    const v = isSecretKey(k) ? REDACTED : redactValues(raw);
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

/** Headers as the log keeps them: credentials reduced to their scheme, every value scanned. */
export function redactHeaders(headers: IncomingMessage["headers"]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const scheme = (s: string): string => {
    const space = s.indexOf(" ");
    return space > 0 ? `${s.slice(0, space)} ${REDACTED}` : REDACTED;
  };
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    const one = CREDENTIAL_HEADERS.has(k) ? scheme : redactValues;
    out[k] = Array.isArray(v) ? v.map(one) : one(v);
  }
  return out;
}
