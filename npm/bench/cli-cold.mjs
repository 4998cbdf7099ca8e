// Cold start of the CLI: `linkpay mpp decode --challenge …` (stdout piped, so the default toon
// output) against `node -e 0`, whole process, wall time and peak RSS over repeated runs,
// interleaved. Needs /usr/bin/time (GNU time, Debian package `time`) for the peak RSS.
// Run: `node bench/cli-cold.mjs [runs]`. Targets (issue 15): ≤ 1.25× node -e 0 wall, ≤ 55 MiB.
// On a shared machine, note the load average it prints with the figures.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";

const runs = Number(process.argv[2] ?? 30);
const bin = fileURLToPath(new URL("../dist/cli/linkpay.cjs", import.meta.url));
const challenge =
  'Payment id="ch_1", realm="merchant.example", method="stripe", intent="charge", request="eyJhbW91bnQiOiIxMDAwIiwiY3VycmVuY3kiOiJ1c2QiLCJtZXRob2REZXRhaWxzIjp7Im5ldHdvcmtJZCI6Im5ldF8xMjMiLCJwYXltZW50TWV0aG9kVHlwZXMiOlsiY2FyZCJdfX0"';
const time = existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined;
const cases = {
  "node -e 0": [process.execPath, "-e", "0"],
  "linkpay mpp decode": [process.execPath, bin, "mpp", "decode", "--challenge", challenge],
};

function once(argv) {
  const start = process.hrtime.bigint();
  const r = time ? spawnSync(time, ["-f", "%M", ...argv], { encoding: "utf8" }) : spawnSync(argv[0], argv.slice(1), { encoding: "utf8" });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${argv.join(" ")} failed: ${r.stderr}`);
  const kib = time ? Number(r.stderr.trim().split("\n").at(-1)) : NaN;
  return { ms, mib: kib / 1024 };
}

const samples = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (const argv of Object.values(cases)) once(argv); // page cache, and the bin's code cache (a start after the first)
for (let i = 0; i < runs; i++) for (const [name, argv] of Object.entries(cases)) samples[name].push(once(argv));

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const row = (name) => {
  const s = samples[name];
  return { name, wallMs: median(s.map((x) => x.ms)), minMs: Math.min(...s.map((x) => x.ms)), peakMiB: Math.max(...s.map((x) => x.mib)) };
};
const base = row("node -e 0");
const cli = row("linkpay mpp decode");
console.log(`runs: ${runs} each, interleaved; wall = median (min), peak RSS = max over runs${time ? "" : " (no /usr/bin/time: RSS not measured)"}; load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
for (const r of [base, cli]) console.log(`  ${r.name.padEnd(20)} ${r.wallMs.toFixed(1)} ms (${r.minMs.toFixed(1)})  ${r.peakMiB.toFixed(1)} MiB`);
console.log(`  ratio ${(cli.wallMs / base.wallMs).toFixed(2)}× node -e 0 (target ≤ 1.25×), peak ${cli.peakMiB.toFixed(1)} MiB (target ≤ 55)`);
