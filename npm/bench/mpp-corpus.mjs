// A deterministic corpus of `WWW-Authenticate` values for the MPP differential test and the
// node bench: valid challenges in every legal spelling (escapes, both base64 alphabets, padding,
// case, whitespace, token values, unknown params, decoy schemes, several challenges per header),
// and invalid ones, each tagged with the mutation that broke it.

/** mulberry32: a small seeded PRNG, so every run sees the same corpus. */
export function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n) => Math.floor(next() * n);
  const pick = (xs) => xs[int(xs.length)];
  const chance = (p) => next() < p;
  return { next, int, pick, chance };
}

const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

export function b64(text, { url = true, pad = false } = {}) {
  let s = Buffer.from(text, "utf8").toString("base64");
  if (url) s = s.replace(/\+/g, "-").replace(/\//g, "_");
  if (!pad) s = s.replace(/=+$/, "");
  return s;
}

/** A quoted-string for `value` with the escapes a server may use. */
function quote(r, value) {
  let out = "";
  for (const ch of value) {
    const cp = ch.codePointAt(0);
    if (ch === '"' || ch === "\\") out += "\\" + ch;
    else if (cp > 0xff) {
      // \uXXXX as mppx emits for characters outside Latin-1 (surrogate pairs above U+FFFF).
      for (const unit of String.fromCodePoint(cp).split("")) out += "\\u" + unit.charCodeAt(0).toString(16).padStart(4, "0");
    } else if (ch === "," && r.chance(0.3)) out += "\\,";
    else out += ch;
  }
  return `"${out}"`;
}

const TOKEN = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

function value(r, text) {
  return TOKEN.test(text) && r.chance(0.25) ? text : quote(r, text);
}

function word(r, alphabet, min, max) {
  let s = "";
  const n = min + r.int(max - min + 1);
  for (let i = 0; i < n; i++) s += alphabet[r.int(alphabet.length)];
  return s;
}

function requestJson(r, method) {
  const obj = {};
  const amount = String(r.pick([0, 1, 50, 100, 999, 1000, 12900, 50000, 1000000]));
  obj.amount = amount;
  obj.currency = r.pick(["usd", "USD", "eur", "gbp", "0x20c0000000000000000000000000000000000001"]);
  if (r.chance(0.3)) obj.description = r.pick(["Premium API", "Trail shoes — size 10", "Café ☕", "Tickets 🎟️"]);
  if (r.chance(0.3)) obj.externalId = `order_${word(r, B64URL, 3, 12)}`;
  if (method === "stripe" || r.chance(0.3)) {
    obj.methodDetails = { networkId: `profile_${word(r, B64URL, 8, 24)}`, paymentMethodTypes: r.pick([["card"], ["card", "link"]]) };
    if (r.chance(0.2)) obj.methodDetails.metadata = { k: word(r, B64URL, 1, 8) };
  }
  if (r.chance(0.2)) obj.recipient = "0x" + word(r, "0123456789abcdef", 40, 40);
  return obj;
}

function expiresValue(r) {
  const y = 2000 + r.int(100);
  const pad = (n) => String(n).padStart(2, "0");
  const frac = r.chance(0.4) ? "." + word(r, "0123456789", 1, 6) : "";
  const zone = r.pick(["Z", "+00:00", "-05:00", "+09:30"]);
  return `${y}-${pad(1 + r.int(12))}-${pad(1 + r.int(28))}T${pad(r.int(24))}:${pad(r.int(60))}:${pad(r.int(60))}${frac}${zone}`;
}

/** One valid challenge: its header text and what both parsers must read from it. */
export function validChallenge(r) {
  const method = r.pick(["stripe", "stripe", "tempo", "evm", "x-custom_1"]);
  const intent = r.pick(["charge", "charge", "session", "subscription", "authorize"]);
  const id = word(r, B64URL, 8, 43);
  const realm = r.pick(["api.example.com", "merchant.example", "example.com", "shop.example.co.uk", "127.0.0.1:4242"]);
  const request = requestJson(r, method);
  const requestText = JSON.stringify(request);
  const url = r.chance(0.7);
  const requestB64 = b64(requestText, { url, pad: r.chance(0.4) });
  const expect = { id, realm, method, intent, request };
  const params = [
    ["id", value(r, id)],
    ["realm", value(r, realm)],
    ["method", value(r, method)],
    ["intent", value(r, intent)],
    ["request", r.chance(0.8) ? `"${requestB64}"` : TOKEN.test(requestB64) ? requestB64 : `"${requestB64}"`],
  ];
  if (r.chance(0.4)) {
    const d = r.pick(["Premium access", 'Plan "Pro", monthly', "path\\alpha", "1 × Classmatic — General Admission", "Tickets 🎟️ \"VIP\"", "tier,premium", "Payment realm"]);
    params.push(["description", quote(r, d)]);
    expect.description = d;
  }
  if (r.chance(0.4)) {
    const e = expiresValue(r);
    params.push(["expires", `"${e}"`]);
    expect.expires = e;
  }
  if (r.chance(0.2)) {
    const d = r.pick(["sha-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=", "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"]);
    params.push(["digest", `"${d}"`]);
    expect.digest = d;
  }
  if (r.chance(0.3)) {
    const o = b64(JSON.stringify({ pi: `pi_${word(r, B64URL, 4, 12)}` }));
    params.push(["opaque", `"${o}"`]);
    expect.opaque = o;
  }
  for (let i = r.int(3); i > 0; i--) params.push([`x${word(r, "abcdefghij", 1, 6)}${i}`, value(r, word(r, B64URL, 0, 10))]);
  // Parameter order does not matter; names are case-insensitive.
  for (let i = params.length - 1; i > 0; i--) {
    const j = r.int(i + 1);
    [params[i], params[j]] = [params[j], params[i]];
  }
  const ws = () => r.pick(["", "", " ", "  ", "\t"]);
  const body = params
    .map(([k, v]) => `${r.chance(0.15) ? k.toUpperCase() : k}${ws()}=${ws()}${v}`)
    .join(r.pick([", ", ",", " , ", ",\t"]));
  const scheme = r.pick(["Payment", "Payment", "payment", "PAYMENT"]);
  return { text: `${scheme}${r.pick([" ", "  ", "\t"])}${body}`, expect };
}

const DECOYS = ['Bearer realm="api"', 'Bearer error_description="retry with Payment challenge"', 'Digest realm="fallback Payment realm", nonce="abc"', "Basic"];

/** A header with 1–3 valid challenges, sometimes among other schemes. */
export function validHeader(r) {
  const n = 1 + r.int(3);
  const parts = [];
  const expect = [];
  if (r.chance(0.2)) parts.push(r.pick(DECOYS));
  for (let i = 0; i < n; i++) {
    const c = validChallenge(r);
    parts.push(c.text);
    expect.push(c.expect);
  }
  if (r.chance(0.2)) parts.push(r.pick(DECOYS));
  return { header: parts.join(", "), expect };
}

/**
 * Invalid inputs, each with the mutation that makes it so. `kind` names the mutation; the
 * differential test says which ones the two parsers treat differently, and why.
 */
export const MUTATIONS = {
  uppercase_method: (r, c) => c.text.replace(/method\s*=\s*"?([a-z][a-z0-9:_-]*)"?/i, 'method="Tempo"'),
  duplicate_param: (r, c) => `${c.text}, id="dup"`,
  unterminated_quote: (r, c) => `${c.text}, description="oops`,
  missing_request: (r, c) => c.text.replace(/\brequest\s*=\s*("[^"]*"|[^,\s]+)/i, 'xremoved="1"'),
  bad_base64_char: (r, c) => c.text.replace(/request\s*=\s*"?([^",\s]+)"?/i, 'request="e30!"'),
  length_1_mod_4: (r, c) => c.text.replace(/request\s*=\s*"?([^",\s]+)"?/i, 'request="e30aa"'),
  not_json: (r, c) => c.text.replace(/request\s*=\s*"?([^",\s]+)"?/i, `request="${b64("not json")}"`),
  json_array: (r, c) => c.text.replace(/request\s*=\s*"?([^",\s]+)"?/i, 'request="W10"'),
  invalid_utf8: (r, c) => c.text.replace(/request\s*=\s*"?([^",\s]+)"?/i, `request="${Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]).toString("base64url")}"`),
  lone_surrogate: (r, c) => `${c.text}, description="bad \\ud800 surrogate"`,
  empty_id: (r, c) => c.text.replace(/\bid\s*=\s*("[^"]*"|[^,\s]+)/i, 'id=""'),
  bad_expires: (r, c) => `${c.text.replace(/\bexpires\s*=\s*"[^"]*"/i, 'xremoved="1"')}, expires="2025-01-06 12:00:00"`,
  huge_request: (r, c) => c.text.replace(/request\s*=\s*"?([^",\s]+)"?/i, `request="${"a".repeat(16388)}"`),
  header_param: (r, c) => `${c.text}, header="X-Other"`,
};

export function invalidHeader(r) {
  const kind = r.pick(Object.keys(MUTATIONS));
  const bad = MUTATIONS[kind](r, validChallenge(r));
  // Sometimes a valid challenge follows the bad one: it must still be found (per-challenge).
  if (r.chance(0.5)) {
    const good = validChallenge(r);
    return { kind, header: `${bad}, ${good.text}`, badIndex: 0, good: good.expect };
  }
  return { kind, header: bad, badIndex: 0, good: null };
}

/** The bench inputs: one challenge, a three-challenge header, a 16 KiB request. */
export function benchInputs() {
  const r = rng(7);
  const single = validChallenge(r).text;
  const three = [validChallenge(r).text, validChallenge(r).text, validChallenge(r).text].join(", ");
  const big = { amount: "1000", currency: "usd", methodDetails: { networkId: "profile_big", paymentMethodTypes: ["card"] }, note: "" };
  big.note = "x".repeat(12200 - JSON.stringify(big).length);
  const bigRequest = b64(JSON.stringify(big));
  const large = `Payment id="big", realm="api.example.com", method="stripe", intent="charge", request="${bigRequest}"`;
  return { single, three, large, largeRequestLength: bigRequest.length };
}
