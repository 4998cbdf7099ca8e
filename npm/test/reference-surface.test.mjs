// Issue 14: linkpay's command list and global flags against a fixture of link-cli 0.13.1's
// (tests/fixtures/link-cli-0.13.1-surface.json). Each of link-cli's commands, built-ins and
// global flags exists in linkpay under the same name, or README.md's "Not in linkpay (yet)"
// names it; and that section names nothing linkpay already has.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { commandTable } from "../dist/index.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const BIN = join(ROOT, "npm", "dist", "cli", "linkpay.cjs");
const fixture = JSON.parse(readFileSync(join(ROOT, "tests", "fixtures", "link-cli-0.13.1-surface.json"), "utf8"));
const readme = readFileSync(join(ROOT, "README.md"), "utf8");
const section = readme.slice(readme.indexOf("## Not in linkpay (yet)"), readme.indexOf("\n## ", readme.indexOf("## Not in linkpay (yet)") + 1));
const declared = new Set([...section.matchAll(/`([^`]+)`/g)].map((m) => m[1]));

const ours = new Set(commandTable().commands.map((c) => c.name));
const help = execFileSync(process.execPath, [BIN, "--help"], { encoding: "utf8" });
const globalFlags = new Set([...help.slice(help.indexOf("Global Options:")).matchAll(/--[a-z-]+/g)].map((m) => m[0]));

test("every link-cli 0.13.1 command and built-in is in linkpay, or the README says why not", () => {
  assert.ok(section.length > 100, "the README section exists");
  const missing = [...fixture.commands, ...fixture.builtins].filter((c) => !ours.has(c));
  for (const name of missing) assert.ok(declared.has(name), `'${name}' is neither a linkpay command nor in the README's list`);
  for (const name of declared) {
    if (name.startsWith("--")) continue;
    if ([...fixture.commands, ...fixture.builtins].includes(name)) assert.ok(!ours.has(name), `'${name}' exists now: take it off the README's list`);
  }
});

test("every link-cli 0.13.1 global flag is in linkpay, or the README says why not", () => {
  for (const flag of fixture.globalFlags) {
    assert.ok(globalFlags.has(flag) || declared.has(flag), `${flag} is neither a global flag of linkpay nor in the README's list`);
    if (declared.has(flag)) assert.ok(!globalFlags.has(flag), `${flag} exists now: take it off the README's list`);
  }
});
