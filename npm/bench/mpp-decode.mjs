// Node bench: linkpay's MPP decoder (the npm package: Rust → wasm) vs mppx 0.8.19 (TypeScript),
// same inputs, side by side in one run. Run: `node bench/mpp-decode.mjs [seconds-per-case]`.
import { decodeChallenges, decodeStripeChallenge } from "../dist/index.js";
import { benchInputs } from "./mpp-corpus.mjs";

const Mppx = await import(new URL("../node_modules/mppx/dist/Challenge.js", import.meta.url));
const seconds = Number(process.argv[2] ?? 1);
const now = Date.now();

/** mppx "decode" as link-cli does it: deserializeList, pick the stripe charge, read networkId. */
function mppxStripe(header) {
  const c = Mppx.deserializeList(header).find((x) => x.method === "stripe" && (x.intent === "charge" || x.intent === "session"));
  if (!c) return undefined;
  const r = c.request;
  return { id: c.id, network_id: r.methodDetails?.networkId ?? r.networkId, amount: BigInt(r.amount), currency: String(r.currency).toLowerCase() };
}

function measure(fn, input) {
  for (let i = 0; i < 200; i++) fn(input); // warm up (JIT, wasm tier-up)
  let iterations = 0;
  const deadline = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
  const start = process.hrtime.bigint();
  let t;
  do {
    for (let i = 0; i < 100; i++) fn(input);
    iterations += 100;
    t = process.hrtime.bigint();
  } while (t < deadline);
  return iterations / (Number(t - start) / 1e9);
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
console.log("case                                   linkpay ops/s      mppx ops/s   ratio");
const ratios = [];
for (const [name, kind, header] of cases) {
  const ours = kind === "list" ? (h) => decodeChallenges(h) : (h) => decodeStripeChallenge(h, now);
  const theirs = kind === "list" ? (h) => Mppx.deserializeList(h) : mppxStripe;
  const a = measure(ours, header);
  const b = measure(theirs, header);
  ratios.push(a / b);
  console.log(`${name.padEnd(38)} ${a.toFixed(0).padStart(13)} ${b.toFixed(0).padStart(15)} ${(a / b).toFixed(2).padStart(6)}×`);
}
const geo = Math.exp(ratios.reduce((s, r) => s + Math.log(r), 0) / ratios.length);
console.log(`geometric mean ratio: ${geo.toFixed(2)}× (target ≥ 3×)`);
