// Node bench: linkpay's MPP decoder (the npm package: Rust → wasm) vs mppx 0.8.19 (TypeScript),
// same inputs, side by side in one run. Run: `node bench/mpp-decode.mjs [seconds-per-case]`.
import { decodeChallenges, decodeStripeChallenge } from "../dist/index.js";
import { benchInputs } from "./mpp-corpus.mjs";

const Mppx = await import(new URL("../node_modules/mppx/dist/Challenge.js", import.meta.url));
const seconds = Number(process.argv[2] ?? 1);
const now = Date.now();

/** linkpay's decode, the same fields read as from mppx's below. */
function ourStripe(header) {
  const d = decodeStripeChallenge(header, now);
  return { id: d.id, network_id: d.network_id, amount: BigInt(d.amount), currency: d.currency };
}

/** mppx "decode" as link-cli does it: deserializeList, pick the stripe charge, read networkId. */
function mppxStripe(header) {
  const c = Mppx.deserializeList(header).find((x) => x.method === "stripe" && (x.intent === "charge" || x.intent === "session"));
  if (!c) return undefined;
  const r = c.request;
  return { id: c.id, network_id: r.methodDetails?.networkId ?? r.networkId, amount: BigInt(r.amount), currency: String(r.currency).toLowerCase() };
}

/** The fields both sides' results are read for, so neither can skip building them. */
function readOurs(list) {
  let n = 0;
  for (const r of list) if (r.ok) n += r.challenge.id.length + r.challenge.method.length + String(r.challenge.request_json.amount).length;
  return n;
}
function readMppx(list) {
  let n = 0;
  for (const c of list) n += c.id.length + c.method.length + String(c.request.amount).length;
  return n;
}

/** ops/s of `fn(input)` over about `secs` seconds. */
function rate(fn, input, secs) {
  let iterations = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(secs * 1e9));
  let t;
  do {
    for (let i = 0; i < 20; i++) fn(input);
    iterations += 20;
    t = process.hrtime.bigint();
  } while (t < deadline);
  return iterations / (Number(t - start) / 1e9);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/** Both sides in alternating rounds (the machine may be shared: load changes hit both alike);
 * the medians of the rates and of the per-round ratios. */
function compare(ours, theirs, input) {
  for (let i = 0; i < 200; i++) { ours(input); theirs(input); } // warm up (JIT, wasm tier-up)
  const rounds = 7;
  const a = [], b = [], r = [];
  for (let k = 0; k < rounds; k++) {
    a.push(rate(ours, input, seconds / rounds));
    b.push(rate(theirs, input, seconds / rounds));
    r.push(a[k] / b[k]);
  }
  return [median(a), median(b), median(r)];
}

const inputs = benchInputs();
const stripeHeader = (h) => `${h}, Payment id="s1", realm="api.example.com", method="stripe", intent="charge", request="eyJhbW91bnQiOiIxMDAwIiwiY3VycmVuY3kiOiJ1c2QiLCJtZXRob2REZXRhaWxzIjp7Im5ldHdvcmtJZCI6Im5ldF8xMjMiLCJwYXltZW50TWV0aG9kVHlwZXMiOlsiY2FyZCJdfX0"`;
const cases = [
  ["single challenge", "list", inputs.single],
  ["three-challenge header", "list", inputs.three],
  [`16 KiB request (${inputs.largeRequestLength} chars)`, "list", inputs.large],
  ["stripe decode, single", "stripe", stripeHeader('Bearer realm="x"')],
  ["stripe decode, four challenges", "stripe", stripeHeader(inputs.three)],
  ["stripe decode, 16 KiB request", "stripe", inputs.large],
];

console.log(`linkpay (wasm) vs mppx 0.8.19 — ${seconds}s per case, node ${process.version}`);
console.log("case                                   linkpay ops/s      mppx ops/s   ratio (median of 7 alternating rounds)");
const ratios = [];
for (const [name, kind, header] of cases) {
  const ours = kind === "list" ? (h) => readOurs(decodeChallenges(h)) : (h) => ourStripe(h);
  const theirs = kind === "list" ? (h) => readMppx(Mppx.deserializeList(h)) : mppxStripe;
  const [a, b, ratio] = compare(ours, theirs, header);
  ratios.push(ratio);
  console.log(`${name.padEnd(38)} ${a.toFixed(0).padStart(13)} ${b.toFixed(0).padStart(15)} ${ratio.toFixed(2).padStart(6)}×`);
}
const geo = Math.exp(ratios.reduce((s, r) => s + Math.log(r), 0) / ratios.length);
console.log(`geometric mean ratio: ${geo.toFixed(2)}× (target ≥ 3×)`);
