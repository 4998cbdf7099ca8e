/**
 * HTML for the sandbox's pages (device verification, approval, 3-D Secure, demo checkout).
 * Every value that reaches a page goes through `esc`; the pages also carry a CSP that allows
 * no script at all, so hostile text (an agent's `context`, a client name) is shown inert.
 * Text from agents and clients goes through `shown`, which also removes what would mislead a
 * person (bidi overrides, invisible characters, controls) and says so.
 */

import { sanitizeForDisplay } from "../index.js";

const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Escapes text for HTML element content and quoted attribute values. */
export function esc(value: unknown): string {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

/**
 * Untrusted text as a page shows it: the core's `sanitizeForDisplay` (what the CLI shows: no
 * bidi controls, zero-width or tag characters, controls, escape sequences), escaped, and when
 * anything was removed a visible note saying how many characters, so `Shop \u202Elapyap\u202C`
 * reads "Shop lapyap (2 hidden characters removed)" instead of "Shop paypal".
 */
export function shown(value: unknown): string {
  const raw = String(value ?? "");
  const clean = sanitizeForDisplay(raw);
  if (clean === raw) return esc(raw);
  const removed = [...raw].length - [...clean].length;
  return `${esc(clean)} <span class="removed">(${removed} hidden character${removed === 1 ? "" : "s"} removed)</span>`;
}

/** Untrusted text for an attribute or a title: sanitized and escaped, without the note. */
export function clean(value: unknown): string {
  return esc(sanitizeForDisplay(String(value ?? "")));
}

/** The CSP of every page: no scripts, no plugins, forms post only to this origin. */
export const PAGE_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

const STYLE = `
body{font:16px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#f6f8fa;color:#1a1f36}
main{max-width:34rem;margin:2rem auto;background:#fff;border-radius:12px;box-shadow:0 2px 8px #0002;padding:1.5rem 1.75rem}
h1{font-size:1.3rem;margin:.2rem 0 1rem}
.brand{color:#00a650;font-weight:700;letter-spacing:.02em}
.muted{color:#697386;font-size:.9rem}
.amount{font-size:2rem;font-weight:700;margin:.25rem 0}
table{width:100%;border-collapse:collapse;margin:.5rem 0}
td{padding:.3rem 0;border-bottom:1px solid #eef}
td.num{text-align:right;white-space:nowrap}
.context{white-space:pre-wrap;overflow-wrap:anywhere;background:#f6f8fa;border-radius:8px;padding:.75rem;font-size:.95rem}
.phrase{font:700 1.3rem ui-monospace,monospace;background:#f6f8fa;border-radius:8px;padding:.5rem .75rem;display:inline-block}
.actions{display:flex;gap:.75rem;margin-top:1.25rem}
button{font:inherit;font-weight:600;border:0;border-radius:8px;padding:.65rem 1.3rem;cursor:pointer}
button.approve{background:#00a650;color:#fff}
button.deny{background:#e3e8ee;color:#1a1f36}
.status{font-weight:700;padding:.6rem .8rem;border-radius:8px;background:#eef6ff}
.status.ok{background:#e6f7ee;color:#03613a}.status.bad{background:#fdecea;color:#8a1c12}
.error{background:#fdecea;color:#8a1c12;border-radius:8px;padding:.6rem .8rem}
label{display:block;margin:.6rem 0 .2rem;font-weight:600}
input[type=text],input:not([type]){font:inherit;width:100%;box-sizing:border-box;padding:.5rem;border:1px solid #cfd7df;border-radius:6px}
.check{display:flex;gap:.5rem;align-items:center;font-weight:400}
.removed{color:#8a1c12;font-size:.85rem;font-weight:600;white-space:nowrap}
`;

/** A complete page: title, the sandbox banner and `body` (already-escaped HTML). */
export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${clean(title)}</title><style>${STYLE}</style></head>
<body><main>
<div class="muted"><span class="brand">link</span> sandbox · no real money moves</div>
${body}
</main></body></html>
`;
}

/** Formats integer minor units: `12900, "usd"` → `$129.00`, other currencies as `129.00 EUR`. */
export function money(amount: number, currency: string): string {
  const major = (amount / 100).toFixed(2);
  return currency.toLowerCase() === "usd" ? `$${major}` : `${major} ${currency.toUpperCase()}`;
}
