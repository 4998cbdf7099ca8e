// Polls are bounded (issue 17, items 1 and 2; issue 14's `--timeout 0`), spawned against a
// sandbox that never approves: an interval or timeout past its documented maximum is a
// VALIDATION_ERROR with its path and no request; `--timeout` bounds the wait even when the
// interval is longer (the last fetch comes at the deadline); `--timeout 0` is one fetch, then
// POLLING_TIMEOUT.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { LinkClient, MemoryStorage } from "../dist/index.js";
import { startSandbox } from "../dist/sandbox/index.js";

const BIN = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "cli", "linkpay.cjs");
const run = promisify(execFile);
let sb, token, id;

before(async () => {
  sb = await startSandbox();
  token = sb.issueTokens().access_token;
  const link = new LinkClient({ apiBaseUrl: sb.apiUrl, authBaseUrl: sb.authUrl, accessToken: token, storage: new MemoryStorage() });
  const sr = await link.spendRequests.create({
    amount: 700,
    merchant_name: "Poll Shop",
    merchant_url: "https://poll.example/cart",
    context: "The person asked for this purchase in our conversation; the polling tests wait on it and it is never approved.",
  });
  id = sr.id;
});
after(() => sb.close());

async function cli(...args) {
  const env = { PATH: process.env.PATH, HOME: "/nonexistent", ...sb.env, LINK_ACCESS_TOKEN: token };
  const started = Date.now();
  const r = await run(process.execPath, [BIN, ...args, "--format", "json"], { env }).catch((e) => e);
  return { code: r.code ?? 0, out: JSON.parse(r.stdout), ms: Date.now() - started };
}
const gets = () => sb.requests().filter((r) => r.method === "GET" && r.path === `/spend_requests/${id}`).length;

test("an interval or timeout beyond its maximum is refused with its path, before any request", async () => {
  sb.clearRequests();
  for (const [args, path] of [
    [["--interval", "10000000", "--timeout", "5"], "interval"],
    [["--interval", "1e15"], "interval"],
    [["--interval", "2", "--timeout", "3601"], "timeout"],
  ]) {
    const r = await cli("spend-request", "retrieve", id, ...args);
    assert.equal(r.code, 1);
    assert.equal(r.out.code, "VALIDATION_ERROR");
    assert.deepEqual(r.out.fieldErrors.map((f) => f.path), [path]);
  }
  const status = await cli("auth", "status", "--interval", "10000000", "--timeout", "3");
  assert.equal(status.out.code, "VALIDATION_ERROR");
  assert.deepEqual(status.out.fieldErrors.map((f) => f.path), ["interval"]);
  assert.equal(sb.requests().length, 0, "nothing sent");
});

test("--timeout bounds the wait: an interval longer than the timeout fetches at the start and at the deadline", async () => {
  sb.clearRequests();
  const r = await cli("spend-request", "retrieve", id, "--interval", "100", "--timeout", "2");
  assert.equal(r.code, 1);
  assert.equal(r.out.code, "POLLING_TIMEOUT");
  assert.ok(r.ms < 10_000, `ended after ${r.ms} ms`);
  assert.equal(gets(), 2, "the first fetch and one at the deadline");
});

test("--timeout 0 is one fetch, then POLLING_TIMEOUT (as the reference)", async () => {
  sb.clearRequests();
  const r = await cli("spend-request", "retrieve", id, "--interval", "1", "--timeout", "0");
  assert.equal(r.out.code, "POLLING_TIMEOUT");
  assert.equal(gets(), 1);
});

// Issue 17, item 11: `--output-file` is never silently ignored.
test("--output-file without --include card, or naming a directory, is refused before any request", async () => {
  sb.clearRequests();
  const noCard = await cli("spend-request", "retrieve", id, "--output-file", "/tmp/linkpay-never-written.json");
  assert.equal(noCard.out.code, "VALIDATION_ERROR");
  assert.deepEqual(noCard.out.fieldErrors.map((f) => f.path), ["outputFile"]);
  const dir = await cli("spend-request", "retrieve", id, "--include", "card", "--output-file", "/tmp/linkpay-dir/");
  assert.equal(dir.out.code, "VALIDATION_ERROR");
  assert.match(dir.out.fieldErrors[0].message, /not a directory/);
  assert.equal(sb.requests().length, 0, "nothing sent");
});

test("a spend request without a card says so: card_output_file null and a warning, no file", async () => {
  const { existsSync } = await import("node:fs");
  const file = `/tmp/linkpay-pending-${process.pid}.json`;
  const r = await cli("spend-request", "retrieve", id, "--include", "card", "--output-file", file);
  assert.equal(r.code, 0);
  const sr = r.out.at(-1);
  assert.equal(sr.status, "pending_approval");
  assert.equal(sr.card_output_file, null);
  assert.match(sr.warning, /no card yet/);
  assert.equal(existsSync(file), false);
});
