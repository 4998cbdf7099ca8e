// Issue 14: `linkpay completions bash|zsh|fish|nushell`, generated from the command table. The bash
// script is run in a real bash: what it completes for a partial command line.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { commandTable } from "../dist/index.js";

const BIN = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "cli", "linkpay.cjs");
const script = (shell) => execFileSync(process.execPath, [BIN, "completions", shell], { encoding: "utf8" });
const bash = script("bash");

/** What bash offers after `linkpay <words…>` with the cursor on the last word. */
function complete(...words) {
  const line = ["linkpay", ...words];
  const program = `${bash}\nCOMP_WORDS=(${line.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${line.length - 1}; _linkpay; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync("bash", ["--norc", "--noprofile", "-c", program], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split("\n").filter(Boolean);
}

test("bash: commands, subcommands, flags, enum values and the global flags", () => {
  assert.deepEqual(complete("sp"), ["spend-request"]);
  assert.deepEqual(complete("spend-request", "re"), ["retrieve", "request-approval"]);
  assert.deepEqual(complete("report", "--outcome", ""), ["success", "blocked", "abandoned"]);
  assert.deepEqual(complete("mpp", "pay", "https://x.example", "--max"), ["--max-body-bytes"]);
  assert.deepEqual(complete("auth", "status", "--ver"), ["--verbose", "--version"]);
  assert.deepEqual(complete("completions", ""), ["bash", "zsh", "fish", "nushell"]);
});

test("bash: every command of the table can be completed, with each of its flags", () => {
  for (const c of commandTable().commands) {
    const [first, second] = c.name.split(" ");
    assert.ok(complete(first.slice(0, 2)).includes(first), c.name);
    if (second) assert.ok(complete(first, second.slice(0, 2)).includes(second), c.name);
    for (const o of c.options.filter((o) => !o.positional && !o.hidden)) {
      assert.ok(complete(...c.name.split(" "), `--${o.flag.slice(0, 3)}`).includes(`--${o.flag}`), `${c.name} --${o.flag}`);
    }
  }
});

test("zsh runs the same function through bashcompinit; fish gets complete lines; another shell is refused", () => {
  const zsh = script("zsh");
  assert.ok(zsh.startsWith("#compdef linkpay\nautoload -U +X bashcompinit && bashcompinit\n"));
  assert.ok(zsh.endsWith(bash));
  const fish = script("fish");
  assert.match(fish, /^complete -c linkpay -n '__fish_seen_subcommand_from spend-request; and __fish_seen_subcommand_from create' -l amount /m);
  assert.match(fish, /^complete -c linkpay -n '__fish_seen_subcommand_from report' -l outcome -xa 'success blocked abandoned' /m);
  const r = spawnSync(process.execPath, [BIN, "completions", "powershell", "--format", "json"], { encoding: "utf8" });
  assert.equal(r.status, 1);
  assert.deepEqual(JSON.parse(r.stdout).fieldErrors.map((f) => f.path), ["shell"]);
});

test("nushell: one extern signature per command with its flags, enum values completed", () => {
  const nu = script("nushell");
  assert.match(nu, /^module linkpay-completions \{$/m);
  assert.match(nu, /^export use linkpay-completions \*$/m);
  // Each signature lists exactly the command's visible flags (plus the global ones).
  const signatures = new Map([...nu.matchAll(/export extern "([^"]+)" \[\n([\s\S]*?)\n  \]/g)].map((m) => [m[1], m[2]]));
  const globals = commandTable().globalOptions.flatMap(([flag]) => flag.split(", ").map((f) => f.split(" ")[0]));
  for (const c of commandTable().commands) {
    const body = signatures.get(`linkpay ${c.name}`);
    assert.ok(body !== undefined, c.name);
    const flags = [...body.matchAll(/^    (--[a-z-]+)/gm)].map((m) => m[1]);
    const want = [...c.options.filter((o) => !o.positional && !o.hidden).map((o) => `--${o.flag}`), ...globals];
    assert.deepEqual(flags.sort(), want.sort(), c.name);
    for (const o of c.options.filter((o) => o.enum && !o.hidden)) {
      const completer = `nu-complete linkpay ${c.name} ${o.flag}`;
      assert.ok(nu.includes(`def "${completer}" [] { [${o.enum.join(" ")}] }`), completer);
      assert.ok(body.includes(`@"${completer}"`), completer);
    }
  }
  assert.ok(signatures.get("linkpay").includes('command?: string@"nu-complete linkpay"'));
});
