// Issue 14: the reference framework's global output flags. `--filter-output` keeps the named
// parts (incur's paths: `a,b.c,items[0,3]`), `--full-output` wraps the output in
// `{ok, data|error, meta: {command, duration}}`, `--token-count` prints the estimated token
// count, `--token-limit`/`--token-offset` a window of it, marked as truncated.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const BIN = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "cli", "linkpay.cjs");
const H = 'Payment id="abc", realm="shop.example", method="stripe", intent="charge", request="eyJhbW91bnQiOiIxMDAwIiwiY3VycmVuY3kiOiJ1c2QiLCJtZXRob2REZXRhaWxzIjp7Im5ldHdvcmtJZCI6Im5ldF8xMjMiLCJwYXltZW50TWV0aG9kVHlwZXMiOlsiY2FyZCJdfX0"';
const cli = (...args) => {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", env: { PATH: process.env.PATH, HOME: "/nonexistent" } });
  return { code: r.status, out: r.stdout };
};
const decode = (...flags) => cli("mpp", "decode", "--challenge", H, ...flags);

test("--filter-output keeps the named parts; one scalar path gives the scalar", () => {
  assert.deepEqual(JSON.parse(decode("--format", "json", "--filter-output", "network_id,amount").out), { network_id: "net_123", amount: 1000 });
  assert.equal(JSON.parse(decode("--format", "json", "--filter-output", "currency").out), "usd");
  assert.deepEqual(JSON.parse(decode("--format", "json", "--filter-output", "request_json.methodDetails.networkId,payment_method_types[0,1]").out), {
    request_json: { methodDetails: { networkId: "net_123" } },
    payment_method_types: ["card"],
  });
});

test("--filter-output filters each chunk of a streaming command in jsonl, as each element in json", () => {
  const status = (...flags) => cli("auth", "status", "--filter-output", "authenticated", ...flags).out;
  const lines = status("--format", "jsonl").trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(lines[0], { type: "chunk", data: false });
  assert.equal(lines.at(-1).type, "done");
  assert.deepEqual(JSON.parse(status("--format", "json")), [false]);
});

test("--full-output wraps results and errors in the envelope", () => {
  const ok = JSON.parse(decode("--format", "json", "--full-output").out);
  assert.equal(ok.ok, true);
  assert.equal(ok.data.network_id, "net_123");
  assert.equal(ok.meta.command, "mpp decode");
  assert.match(ok.meta.duration, /^\d+ms$/);
  const bad = cli("mpp", "decode", "--challenge", "Basic x", "--format", "json", "--full-output");
  assert.equal(bad.code, 1);
  const err = JSON.parse(bad.out);
  assert.equal(err.ok, false);
  assert.equal(typeof err.error.code, "string");
});

test("--token-count, and a --token-limit/--token-offset window marked as truncated", () => {
  const total = Number(decode("--format", "json", "--token-count").out.trim());
  assert.ok(total > 20, String(total));
  const head = decode("--format", "json", "--token-limit", "10").out;
  assert.match(head, new RegExp(`\\[truncated: showing tokens 0–10 of ${total}\\]\\n$`));
  const env = JSON.parse(decode("--format", "json", "--full-output", "--token-limit", "10", "--token-offset", "5").out);
  assert.equal(env.meta.nextOffset, 15);
  assert.match(env.data, /truncated: showing tokens 5–15/);
  assert.equal(decode("--format", "json", "--token-limit", "100000").out, decode("--format", "json").out, "a window past the end is the whole output");
  const bad = decode("--format", "json", "--token-limit", "-1");
  assert.equal(bad.code, 1);
  assert.equal(JSON.parse(bad.out).code, "INVALID_INPUT");
});
