// What an agent reads (`instruction`, `_next`) and the poll defaults are the Rust runner's
// (src/runner.rs): the TypeScript layer only converts values and performs effects. This scans
// npm/src (but the sandbox, a stand-in for Link's servers with their own texts) for code — not
// comments — that writes such text or a poll default.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, dirname, relative } from "node:path";
import { fileURLToPath } from "node:url";

const SRC = join(dirname(fileURLToPath(import.meta.url)), "..", "src");

function files(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === "sandbox" ? [] : files(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

/** Code lines (comment lines and trailing `//` comments dropped). */
function code(path) {
  return readFileSync(path, "utf8")
    .split("\n")
    .map((line, i) => [i + 1, line.replace(/\s\/\/ .*$/, "")])
    .filter(([, line]) => !/^\s*(\*|\/\*\*|\/\/)/.test(line));
}

const RULES = [
  ["agent-facing text", /\binstruction\b|_next\b|Present the|--max-attempts/],
  ["a poll default", /\b(interval|timeout|maxAttempts|max_attempts)\s*[:=?]+\s*\d/],
];

test("npm/src holds no agent-facing text and no poll defaults", () => {
  const found = [];
  for (const path of files(SRC)) {
    for (const [n, line] of code(path)) {
      for (const [what, re] of RULES) if (re.test(line)) found.push(`${relative(SRC, path)}:${n}: ${what}: ${line.trim()}`);
    }
  }
  assert.deepEqual(found, []);
});

test("the scan finds what it looks for", () => {
  assert.ok(RULES[0][1].test('const x = { instruction: "Present the approval_url" };'));
  assert.ok(RULES[1][1].test("const policy = { interval: 2, timeout: 600 };"));
  assert.ok(!RULES[1][1].test("interval: options.interactive ? 1 : 0.2"));
});
