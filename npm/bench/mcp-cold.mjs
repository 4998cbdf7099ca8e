// Cold start of the MCP server as a host sees it at every session start: spawn `linkpay --mcp`
// (stdio) → `initialize` → `notifications/initialized` + `tools/list` → the first `tools/call`
// (`mpp_decode`) result, each message sent once the previous answer arrived, as an MCP client
// does. Side by side with `node -e 0` (spawn → exit), interleaved, in one run.
// Run: `node bench/mcp-cold.mjs [runs]`. Target: spawn → first result ≤ 150 ms (median).
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";

const runs = Number(process.argv[2] ?? 40);
const bin = fileURLToPath(new URL("../dist/cli/linkpay.cjs", import.meta.url));
const challenge =
  'Payment id="ch_1", realm="merchant.example", method="stripe", intent="charge", request="eyJhbW91bnQiOiIxMDAwIiwiY3VycmVuY3kiOiJ1c2QiLCJtZXRob2REZXRhaWxzIjp7Im5ldHdvcmtJZCI6Im5ldF8xMjMiLCJwYXltZW50TWV0aG9kVHlwZXMiOlsiY2FyZCJdfX0"';

const now = () => Number(process.hrtime.bigint()) / 1e6;

// GNU time (Debian package `time`), when there, for CPU time and peak RSS: on a busy machine
// CPU time varies less than wall time.
const time = existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined;
const scratch = mkdtempSync(join(tmpdir(), "mcp-cold-"));
const timeFile = join(scratch, "time");
/** `argv` to spawn, under GNU time if there. */
const timed = (argv) => (time ? [time, ["-o", timeFile, "-f", "%U %S %M", ...argv]] : [argv[0], argv.slice(1)]);
/** CPU ms and peak MiB of the last timed process. */
function usage() {
  if (!time) return { cpu: NaN, mib: NaN };
  const [user, sys, kib] = readFileSync(timeFile, "utf8").trim().split("\n").at(-1).split(" ").map(Number);
  return { cpu: (user + sys) * 1000, mib: kib / 1024 };
}

/** `node -e 0`: spawn → exit. */
function nodeBaseline() {
  const start = now();
  return new Promise((resolve, reject) => {
    const child = spawn(...timed([process.execPath, "-e", "0"]), { stdio: "ignore" });
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve({ total: now() - start, ...usage() }) : reject(new Error(`node -e 0 exited ${code}`))));
  });
}

/** One MCP session: the time from spawn to each answer. */
function mcpSession() {
  const start = now();
  const child = spawn(...timed([process.execPath, bin, "--mcp"]), { stdio: ["pipe", "pipe", "ignore"] });
  const send = (msg) => child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", ...msg })}\n`);
  const times = {};
  return new Promise((resolve, reject) => {
    let buffered = "";
    child.on("error", reject);
    child.on("exit", (code) => times.total === undefined && reject(new Error(`linkpay --mcp exited ${code} before answering`)));
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk) => {
      buffered += chunk;
      let nl;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        const msg = JSON.parse(line);
        if (msg.error) return reject(new Error(JSON.stringify(msg.error)));
        if (msg.id === 1) {
          times.initialize = now() - start;
          send({ method: "notifications/initialized" });
          send({ id: 2, method: "tools/list" });
        } else if (msg.id === 2) {
          times.toolsList = now() - start;
          if (!msg.result.tools.some((t) => t.name === "mpp_decode")) return reject(new Error("no mpp_decode tool"));
          send({ id: 3, method: "tools/call", params: { name: "mpp_decode", arguments: { challenge } } });
        } else if (msg.id === 3) {
          times.total = now() - start;
          if (msg.result.isError) return reject(new Error(JSON.stringify(msg.result)));
          child.stdin.end();
          child.on("exit", () => resolve({ ...times, ...usage() }));
        }
      }
    });
    send({ id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "mcp-cold", version: "1" } } });
  });
}

const samples = { node: [], mcp: [] };
await nodeBaseline(); // page cache
await mcpSession(); // the bin's code cache (a start after the first)
for (let i = 0; i < runs; i++) {
  samples.node.push(await nodeBaseline());
  samples.mcp.push(await mcpSession());
}

const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
const fmt = (xs) => `median ${pct(xs, 0.5).toFixed(1)} ms, p90 ${pct(xs, 0.9).toFixed(1)} ms`;
console.log(`runs: ${runs} each, interleaved; load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
console.log(`  node -e 0 (spawn → exit)                ${fmt(samples.node.map((s) => s.total))}`);
console.log(`  linkpay --mcp: initialize answered      ${fmt(samples.mcp.map((s) => s.initialize))}`);
console.log(`                 tools/list answered      ${fmt(samples.mcp.map((s) => s.toolsList))}`);
console.log(`                 first mpp_decode result  ${fmt(samples.mcp.map((s) => s.total))} (target ≤ 150 ms)`);
if (time) {
  for (const [name, s] of [["node -e 0", samples.node], ["linkpay --mcp (whole session)", samples.mcp]]) {
    console.log(`  ${name.padEnd(30)} CPU ${fmt(s.map((x) => x.cpu))}; peak RSS ${Math.max(...s.map((x) => x.mib)).toFixed(1)} MiB`);
  }
}
rmSync(scratch, { recursive: true, force: true });
console.log(`  ratio ${(pct(samples.mcp.map((s) => s.total), 0.5) / pct(samples.node.map((s) => s.total), 0.5)).toFixed(2)}× node -e 0 (median)`);
