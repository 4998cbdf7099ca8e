// The README's WASI embeddings in JavaScript (`linkpay/component`) and Python (wasmtime-py, in
// the venv scripts/setup makes at target/pyenv), each run as written against a sandbox that
// approves device logins by itself (the snippets block while they wait). The Rust one is
// tests/wasi-runner/tests/readme.rs.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const NPM = join(dirname(fileURLToPath(import.meta.url)), "..");
const ROOT = join(NPM, "..");
const README = readFileSync(join(ROOT, "README.md"), "utf8");
const PYTHON = join(ROOT, "target/pyenv/bin/python");
let sandbox;
let env;
let dir;

/** The README's ```lang block that contains `marker`. */
function block(lang, marker) {
  const blocks = [...README.matchAll(new RegExp("```" + lang + "\\n([\\s\\S]*?)```\\n", "g"))].map((m) => m[1]);
  const found = blocks.filter((b) => b.includes(marker));
  assert.equal(found.length, 1, `one ${lang} block with ${marker} in README.md`);
  return found[0];
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "linkpay-readme-wasi-"));
  sandbox = spawn(process.execPath, [join(NPM, "dist/sandbox/main.js"), "--port", "0", "--auto-approve"], { stdio: ["ignore", "pipe", "inherit"] });
  const url = await new Promise((resolve, reject) => {
    let text = "";
    sandbox.stdout.on("data", (d) => {
      text += d;
      const m = /listening on (http:\/\/\S+)/.exec(text);
      if (m) resolve(m[1]);
    });
    sandbox.on("exit", () => reject(new Error(`sandbox exited: ${text}`)));
  });
  env = { ...process.env, LINK_API_BASE_URL: url, LINK_AUTH_BASE_URL: url, LINK_AUTH_FILE: join(dir, "session.json") };
});

after(() => {
  sandbox?.kill();
  rmSync(dir, { recursive: true, force: true });
});

test("the README's linkpay/component snippet runs against the sandbox", async () => {
  // Inside npm/ (not in test/, where the runner looks for tests), so that `linkpay/component`
  // resolves to this package (a self-reference).
  const file = join(NPM, `.readme-component-${process.pid}.mjs`);
  writeFileSync(file, block("js", "linkpay/component"));
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [file], { env, cwd: dir, timeout: 60_000 });
    assert.match(stdout, /Approve at http:\/\/127\.0\.0\.1:\d+\/device\?code=/);
    assert.match(stdout, /^4 payment methods$/m);
    assert.match(stdout, /^MPP_NO_PAYMENT_CHALLENGE$/m);
    assert.equal(statSync(env.LINK_AUTH_FILE).mode & 0o777, 0o600, "the session in a 0600 file");
    assert.equal(typeof JSON.parse(readFileSync(env.LINK_AUTH_FILE, "utf8")).auth.access_token, "string");
  } finally {
    rmSync(file, { force: true });
  }
});

test("the README's wasmtime-py snippet runs against the sandbox", async () => {
  const file = join(dir, "embed.py");
  writeFileSync(file, block("python", "from wasmtime"));
  const { stdout } = await promisify(execFile)(PYTHON, [file], { env, cwd: ROOT, timeout: 60_000 });
  assert.match(stdout, /Approve at http:\/\/127\.0\.0\.1:\d+\/device\?code=/);
  assert.match(stdout, /^4 payment methods$/m);
  assert.match(stdout, /^mpp-no-payment-challenge: /m);
});
