// The bin's code cache (npm/src/cli/bin.cjs): on Node without `module.enableCompileCache`
// (20), V8's cached code of the bundle (the wasm glue inside it) per user in
// $XDG_CACHE_HOME/linkpay/v8-code-cache (0700, files 0600), used by the next start, rewritten
// when it does not fit, never in the way: garbage, a cache that cannot be written and
// NODE_DISABLE_COMPILE_CACHE=1 all leave the output as it is.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const BIN = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "cli", "linkpay.cjs");
const HDR =
  'Payment id="ch_1", realm="merchant.example", method="stripe", intent="charge", request="eyJhbW91bnQiOiIxMDAwIiwiY3VycmVuY3kiOiJ1c2QiLCJtZXRob2REZXRhaWxzIjp7Im5ldHdvcmtJZCI6Im5ldF8xMjMiLCJwYXltZW50TWV0aG9kVHlwZXMiOlsiY2FyZCJdfX0"';
const builtIn = typeof createRequire(import.meta.url)("node:module").enableCompileCache === "function";

function decode(env) {
  const { NODE_DISABLE_COMPILE_CACHE: _, ...rest } = process.env;
  return execFileSync(process.execPath, [BIN, "mpp", "decode", "--challenge", HDR, "--format", "json"], { env: { ...rest, ...env }, encoding: "utf8" });
}

test("the code cache: written once, used, rewritten when it does not fit, never in the way", { skip: builtIn && "Node's own compile cache (module.enableCompileCache)" }, () => {
  const scratch = mkdtempSync(join(tmpdir(), "linkpay-start-"));
  try {
    const expected = decode({ NODE_DISABLE_COMPILE_CACHE: "1", XDG_CACHE_HOME: scratch });
    assert.equal(JSON.parse(expected).id, "ch_1");
    assert.equal(existsSync(join(scratch, "linkpay")), false, "NODE_DISABLE_COMPILE_CACHE=1 writes nothing");

    assert.equal(decode({ XDG_CACHE_HOME: scratch }), expected);
    const dir = join(scratch, "linkpay", "v8-code-cache");
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    const files = readdirSync(dir).sort();
    assert.deepEqual(files, ["cli_main.cjs"]);
    for (const f of files) assert.equal(statSync(join(dir, f)).mode & 0o777, 0o600, f);
    const written = Object.fromEntries(files.map((f) => [f, readFileSync(join(dir, f))]));
    const inodes = files.map((f) => statSync(join(dir, f)).ino);

    // Used as it is: not written again.
    assert.equal(decode({ XDG_CACHE_HOME: scratch }), expected);
    assert.deepEqual(files.map((f) => statSync(join(dir, f)).ino), inodes, "rewritten though it fit (V8 rejected it)");

    // Garbage after a matching key (V8 rejects it): replaced.
    const main = join(dir, "cli_main.cjs");
    const keyOf = (bytes) => bytes.subarray(0, bytes.indexOf(10) + 1);
    const key = keyOf(written["cli_main.cjs"]);
    writeFileSync(main, Buffer.concat([key, Buffer.from("not V8's code cache")]));
    assert.equal(decode({ XDG_CACHE_HOME: scratch }), expected);
    assert.ok(readFileSync(main).length > 1000, "the rejected entry is rewritten");
    // An entry for another build: rewritten for this one.
    writeFileSync(main, "20.0.0 x64 1 1\nstale");
    assert.equal(decode({ XDG_CACHE_HOME: scratch }), expected);
    assert.ok(keyOf(readFileSync(main)).equals(key), "the stale entry is rewritten for this build");

    // A cache directory that cannot be made (a file in its place): no cache, same output.
    const blocked = join(scratch, "blocked");
    writeFileSync(blocked, "");
    assert.equal(decode({ XDG_CACHE_HOME: blocked }), expected);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});

test("the bundle without the bin compiles its wasm module itself (dist/cli/wasm-module.cjs)", () => {
  const main = join(dirname(BIN), "main.cjs");
  const out = execFileSync(process.execPath, [main, "mpp", "decode", "--challenge", HDR, "--format", "json"], { encoding: "utf8" });
  assert.equal(out, decode({ NODE_DISABLE_COMPILE_CACHE: "1" }));
});

test("the bin runs with Node's compile cache where Node has one", { skip: !builtIn && "Node without module.enableCompileCache" }, () => {
  assert.equal(JSON.parse(decode({})).id, "ch_1");
});

// Standard output is written to fd 1 directly (npm/src/cli/stdout.ts); a non-blocking pipe that
// is full (EAGAIN) hands the rest to process.stdout, so nothing is lost or reordered. The pipe is
// made by python3 (F_SETPIPE_SZ to one page, O_NONBLOCK), which Node cannot do, and read only
// after a pause, so the CLI's writes fill it.
const python = (() => {
  try {
    execFileSync("python3", ["-c", "import fcntl"], { stdio: "ignore" });
    return "python3";
  } catch {
    return undefined;
  }
})();

test("stdout: a full non-blocking pipe loses nothing", { skip: !python && "no python3 to make the pipe" }, () => {
  const expected = execFileSync(process.execPath, [BIN, "--llms-full"], { encoding: "utf8" });
  assert.ok(expected.length > 4 * 4096, "enough output to fill the pipe a few times");
  const script = `
import fcntl, os, subprocess, sys, time
r, w = os.pipe()
fcntl.fcntl(w, 1031, 4096)  # F_SETPIPE_SZ
fcntl.fcntl(w, fcntl.F_SETFL, fcntl.fcntl(w, fcntl.F_GETFL) | os.O_NONBLOCK)
child = subprocess.Popen(sys.argv[1:], stdout=w)
os.close(w)
time.sleep(0.5)
out = b""
while True:
    chunk = os.read(r, 65536)
    if not chunk:
        break
    out += chunk
sys.stdout.buffer.write(out)
sys.exit(child.wait())
`;
  const got = execFileSync(python, ["-c", script, process.execPath, BIN, "--llms-full"], { encoding: "utf8", maxBuffer: 1 << 24 });
  assert.equal(got, expected);
});
