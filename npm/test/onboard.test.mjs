// Issue 14: `linkpay onboard`, a person's first run. In agent mode (pipes) or with --format it is
// REQUIRES_TTY; on a pseudo-terminal (util-linux `script`) against the sandbox it logs in
// (approval URL and QR), lists the wallet and asks which payment method agents should name,
// shows the Link app's QR and offers the demo; a second run finds the session.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { startSandbox } from "../dist/sandbox/index.js";

const BIN = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "cli", "linkpay.cjs");
const QR = /[▄▀█]{3}/;
let sb;
let dir;
let env;

before(async () => {
  sb = await startSandbox({ autoApprove: true });
  dir = mkdtempSync(join(tmpdir(), "linkpay-onboard-"));
  env = { PATH: process.env.PATH, HOME: dir, LINK_AUTH_FILE: join(dir, "auth.json"), TERM: "xterm", ...sb.env };
});
after(async () => {
  await sb.close();
  rmSync(dir, { recursive: true, force: true });
});

test("REQUIRES_TTY in agent mode and with --format, before any request", async () => {
  const before = sb.requests().length;
  for (const args of [["onboard"], ["onboard", "--format", "json"]]) {
    const r = await new Promise((resolve) => execFile(process.execPath, [BIN, ...args], { env }, (err, stdout) => resolve({ code: err?.code ?? 0, stdout })));
    assert.equal(r.code, 1, args.join(" "));
    assert.match(r.stdout, /REQUIRES_TTY/);
    assert.match(r.stdout, /The onboard command requires an interactive terminal\./);
  }
  assert.equal(sb.requests().length, before);
});

/** Runs `linkpay onboard` on a pty, answering each prompt (matched on the screen) in turn. */
function onboard(answers) {
  const child = spawn("script", ["-qefc", `'${process.execPath}' '${BIN}' onboard`, "/dev/null"], { env, stdio: ["pipe", "pipe", "pipe"] });
  let screen = "";
  const pending = [...answers];
  child.stdout.on("data", (d) => {
    screen += d;
    while (pending.length > 0 && pending[0][0].test(screen.slice(pending[0].at ?? 0))) {
      const [, answer] = pending.shift();
      child.stdin.write(`${answer}\r`);
    }
  });
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, screen, unanswered: pending.length });
    });
  });
}

test("on a terminal: login, the payment-method picker, the app, the demo offered; a second run finds the session", async () => {
  const first = await onboard([
    [/Which one should your agents pay with\? \[1\]/, "9"],
    [/Type a number from 1 to 4\.[\s\S]*Which one/, "2"],
    [/Run the offline demo now/, "n"],
  ]);
  assert.equal(first.code, 0, first.screen);
  assert.equal(first.unanswered, 0, first.screen);
  assert.match(first.screen, /Approve this login \(phrase "[a-z]+-[a-z]+-[a-z]+"\):\r?\n {2}http:\/\/127\.0\.0\.1:\d+\/device\?code=/);
  assert.match(first.screen, QR);
  assert.match(first.screen, /1\. visa •••• 4242 \(default\) {2}csmrpd_sandbox_visa/);
  assert.match(first.screen, /Agents pay with mastercard •••• 4444: they pass --payment-method-id csmrpd_sandbox_mastercard/);
  assert.match(first.screen, /https:\/\/link\.com\/download/);
  assert.match(first.screen, /You are set up/);
  assert.doesNotMatch(first.screen, /linkpay .* demo — sandbox/, "the demo was declined");

  const second = await onboard([
    [/Which one should your agents pay with\?/, ""],
    [/Run the offline demo now/, "y"],
  ]);
  assert.equal(second.code, 0, second.screen);
  assert.match(second.screen, /Already logged in\./);
  assert.doesNotMatch(second.screen, /Approve this login/);
  assert.match(second.screen, /Agents pay with visa •••• 4242 \(default\)/);
  assert.match(second.screen, /demo — sandbox at/);
  assert.match(second.screen, /Done\. Every rule/);
});
