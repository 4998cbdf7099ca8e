// Issue 14: the agent-host commands, spawned on a temporary HOME (and a temporary project
// directory for --no-global): `mcp add` writes a valid config per host, keeps the servers and
// keys already there, changes nothing on a second run (byte for byte), refuses a corrupt config
// and leaves it untouched; `mcp doctor` reports the registration and runs the command;
// `skills add`/`skills list`; and `serve`'s /.well-known/skills/ routes (no token).
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const BIN = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "cli", "linkpay.cjs");
const SHIPPED = readFileSync(join(dirname(fileURLToPath(import.meta.url)), "..", "skills", "linkpay", "SKILL.md"), "utf8");

let home;
let project;
let bin; // a `linkpay` on PATH for `mcp doctor` to run

function cli(args, cwd = project, extraEnv = {}) {
  return new Promise((resolve) => {
    const env = { PATH: `${bin}:${process.env.PATH}`, HOME: home, XDG_CONFIG_HOME: "", ...extraEnv };
    execFile(process.execPath, [BIN, ...args, "--format", "json"], { env, cwd, timeout: 30_000 }, (err, stdout, stderr) => {
      let out;
      try {
        out = JSON.parse(stdout);
      } catch {
        out = stdout;
      }
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, out, stderr });
    });
  });
}

before(() => {
  home = mkdtempSync(join(tmpdir(), "linkpay-home-"));
  project = mkdtempSync(join(tmpdir(), "linkpay-project-"));
  bin = mkdtempSync(join(tmpdir(), "linkpay-bin-"));
  writeFileSync(join(bin, "linkpay"), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
  chmodSync(join(bin, "linkpay"), 0o755);
});
after(() => {
  for (const d of [home, project, bin]) rmSync(d, { recursive: true, force: true });
});

describe("mcp add", () => {
  const claude = () => join(home, ".claude.json");
  const cursor = () => join(home, ".cursor", "mcp.json");
  const vscode = () => join(home, ".config", "Code", "User", "mcp.json");

  test("writes each host found, keeping the servers and keys already there", async () => {
    mkdirSync(join(home, ".claude"), { recursive: true });
    mkdirSync(join(home, ".cursor"), { recursive: true });
    mkdirSync(join(home, ".config", "Code", "User"), { recursive: true });
    mkdirSync(join(home, ".codeium", "windsurf"), { recursive: true });
    writeFileSync(claude(), JSON.stringify({ numStartups: 3, mcpServers: { other: { command: "other-mcp", args: [] } }, projects: {} }, null, 2));
    chmodSync(claude(), 0o600);
    const r = await cli(["mcp", "add"]);
    assert.equal(r.code, 0, JSON.stringify(r.out));
    assert.deepEqual(r.out.agents.map((a) => a.id).sort(), ["claude-code", "cursor", "vscode", "windsurf"]);
    const c = JSON.parse(readFileSync(claude(), "utf8"));
    assert.equal(c.numStartups, 3);
    assert.deepEqual(c.projects, {});
    assert.deepEqual(c.mcpServers.other, { command: "other-mcp", args: [] });
    assert.deepEqual(c.mcpServers.linkpay, { command: "linkpay", args: ["--mcp"] });
    assert.equal(statSync(claude()).mode & 0o777, 0o600, "the file's mode is kept");
    assert.deepEqual(JSON.parse(readFileSync(cursor(), "utf8")).mcpServers.linkpay, { command: "linkpay", args: ["--mcp"] });
    assert.deepEqual(JSON.parse(readFileSync(vscode(), "utf8")).servers.linkpay, { command: "linkpay", args: ["--mcp"] });
    const windsurf = JSON.parse(readFileSync(join(home, ".codeium", "windsurf", "mcp_config.json"), "utf8"));
    assert.ok(windsurf.mcpServers.linkpay);
    // No temp file is left next to a config.
    assert.deepEqual(
      (await import("node:fs")).readdirSync(home).filter((n) => n.endsWith(".tmp")),
      [],
    );
  });

  test("a second run changes nothing, byte for byte", async () => {
    const files = [claude(), cursor(), vscode()];
    const before = files.map((f) => readFileSync(f));
    const mtimes = files.map((f) => statSync(f).mtimeMs);
    const r = await cli(["mcp", "add"]);
    assert.equal(r.code, 0);
    assert.ok(r.out.agents.every((a) => a.changed === false));
    files.forEach((f, i) => {
      assert.ok(readFileSync(f).equals(before[i]), f);
      assert.equal(statSync(f).mtimeMs, mtimes[i], `${f} was not rewritten`);
    });
  });

  test("--agent and --command pick the host and the command", async () => {
    // A quoted program path (no network: the doctor below runs it).
    const r = await cli(["mcp", "add", "--agent", "opencode", "-c", `"${bin}/linkpay" --mcp`]);
    assert.equal(r.code, 0, JSON.stringify(r.out));
    const o = JSON.parse(readFileSync(join(home, ".config", "opencode", "opencode.json"), "utf8"));
    assert.deepEqual(o.mcp.linkpay, { type: "local", command: [`${bin}/linkpay`, "--mcp"], enabled: true, environment: {} });
  });

  test("a corrupt config is refused and left untouched; nothing else is written", async () => {
    mkdirSync(join(home, ".gemini"), { recursive: true });
    const gemini = join(home, ".gemini", "settings.json");
    const bad = '{ "theme": "dark", ';
    writeFileSync(gemini, bad);
    const cursorBefore = readFileSync(cursor());
    const r = await cli(["mcp", "add", "-c", "linkpay-other --mcp"]);
    assert.equal(r.code, 1);
    assert.equal(r.out.code, "STORAGE_ERROR");
    assert.match(r.out.message, /settings\.json/);
    assert.equal(readFileSync(gemini, "utf8"), bad);
    assert.ok(readFileSync(cursor()).equals(cursorBefore), "no host is written when one config is corrupt");
    rmSync(join(home, ".gemini"), { recursive: true, force: true });
  });

  test("--no-global writes the project's config", async () => {
    mkdirSync(join(project, ".cursor"), { recursive: true });
    const r = await cli(["mcp", "add", "--no-global", "--agent", "claude-code", "--agent", "cursor"]);
    assert.equal(r.code, 0, JSON.stringify(r.out));
    assert.ok(JSON.parse(readFileSync(join(project, ".mcp.json"), "utf8")).mcpServers.linkpay);
    assert.ok(JSON.parse(readFileSync(join(project, ".cursor", "mcp.json"), "utf8")).mcpServers.linkpay);
    const amp = await cli(["mcp", "add", "--no-global", "--agent", "amp"]);
    assert.equal(amp.out.code, "VALIDATION_ERROR");
  });

  test("Codex (TOML), Goose (YAML) and a JSON config with comments: comments kept, valid, a second run changes nothing", async () => {
    const { parse: parseToml } = await import("smol-toml");
    const YAML = await import("yaml");
    const jsonc = await import("jsonc-parser");
    const codex = join(home, ".codex", "config.toml");
    const goose = join(home, ".config", "goose", "config.yaml");
    const zed = join(home, ".config", "zed", "settings.json");
    mkdirSync(dirname(codex), { recursive: true });
    mkdirSync(dirname(goose), { recursive: true });
    mkdirSync(dirname(zed), { recursive: true });
    const codexBefore = '# Codex settings\nmodel = "o3" # the default model\n\n[mcp_servers.docs]\ncommand = "docs-mcp"\nargs = ["--stdio"]\n';
    const gooseBefore = "# Goose\nGOOSE_PROVIDER: openai\nextensions:\n  developer: # built in\n    enabled: true\n    type: builtin\n";
    const zedBefore = '// Zed settings\n{\n  "theme": "One Dark", // the theme\n  "context_servers": {\n    "other": { "source": "custom", "command": "x", "args": [] },\n  },\n}\n';
    writeFileSync(codex, codexBefore);
    writeFileSync(goose, gooseBefore);
    writeFileSync(zed, zedBefore);
    const agents = ["--agent", "codex", "--agent", "goose", "--agent", "zed"];
    const r = await cli(["mcp", "add", ...agents]);
    assert.equal(r.code, 0, JSON.stringify(r.out));
    assert.ok(r.out.agents.every((a) => a.changed === true), JSON.stringify(r.out));

    const codexText = readFileSync(codex, "utf8");
    assert.ok(codexText.startsWith(codexBefore), codexText);
    const c = JSON.parse(JSON.stringify(parseToml(codexText))); // plain objects
    assert.equal(c.model, "o3");
    assert.deepEqual(c.mcp_servers.docs, { command: "docs-mcp", args: ["--stdio"] });
    assert.deepEqual(c.mcp_servers.linkpay, { command: "linkpay", args: ["--mcp"] });

    const gooseText = readFileSync(goose, "utf8");
    assert.match(gooseText, /^# Goose$/m);
    assert.match(gooseText, /# built in/);
    const g = YAML.parse(gooseText);
    assert.equal(g.GOOSE_PROVIDER, "openai");
    assert.deepEqual(g.extensions.developer, { enabled: true, type: "builtin" });
    assert.deepEqual(g.extensions.linkpay, { name: "linkpay", description: "", cmd: "linkpay", args: ["--mcp"], enabled: true, envs: {}, type: "stdio", timeout: 300 });

    const zedText = readFileSync(zed, "utf8");
    assert.match(zedText, /^\/\/ Zed settings$/m);
    assert.match(zedText, /"theme": "One Dark", \/\/ the theme/);
    const errors = [];
    const z = jsonc.parse(zedText, errors, { allowTrailingComma: true });
    assert.deepEqual(errors, []);
    assert.deepEqual(z.context_servers.linkpay, { source: "custom", command: "linkpay", args: ["--mcp"], env: {} });
    assert.equal(z.context_servers.other.command, "x");

    const again = await cli(["mcp", "add", ...agents]);
    assert.equal(again.code, 0);
    assert.ok(again.out.agents.every((a) => a.changed === false), JSON.stringify(again.out));
    assert.equal(readFileSync(codex, "utf8"), codexText);
    assert.equal(readFileSync(goose, "utf8"), gooseText);
    assert.equal(readFileSync(zed, "utf8"), zedText);

    const doctor = await cli(["mcp", "doctor", ...agents]);
    assert.deepEqual(doctor.out.agents.map((a) => [a.id, a.registered, a.command]), [
      ["zed", true, "linkpay --mcp"],
      ["codex", true, "linkpay --mcp"],
      ["goose", true, "linkpay --mcp"],
    ]);

    // Broken TOML or YAML is refused and left untouched, like broken JSON.
    writeFileSync(codex, "model = [\n");
    writeFileSync(goose, "extensions: [unclosed\n");
    for (const agent of ["codex", "goose"]) {
      const bad = await cli(["mcp", "add", "--agent", agent]);
      assert.equal(bad.out.code, "STORAGE_ERROR", agent);
    }
    assert.equal(readFileSync(codex, "utf8"), "model = [\n");
    assert.equal(readFileSync(goose, "utf8"), "extensions: [unclosed\n");
    for (const d of [dirname(codex), dirname(goose), dirname(zed)]) rmSync(d, { recursive: true, force: true });
  });

  test("no host found is a VALIDATION_ERROR naming agent", async () => {
    const empty = mkdtempSync(join(tmpdir(), "linkpay-empty-"));
    try {
      const r = await cli(["mcp", "add", "--no-global"], empty);
      assert.equal(r.code, 1);
      assert.equal(r.out.code, "VALIDATION_ERROR");
      assert.equal(r.out.fieldErrors[0].path, "agent");
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

test("a config another program writes while mcp add runs keeps that program's change", async () => {
  // A preload that, when linkpay opens its temp file, rewrites the config (as Claude Code does
  // with ~/.claude.json), once.
  const target = join(project, ".mcp.json");
  writeFileSync(target, JSON.stringify({ mcpServers: { a: { command: "a" } } }));
  const preload = join(bin, "race.cjs");
  writeFileSync(
    preload,
    `const fsp = require("node:fs/promises"); const fs = require("node:fs"); const open = fsp.open; let done = false;
fsp.open = async (p, ...rest) => {
  if (!done && String(p).includes(".mcp.json.") && String(p).endsWith(".tmp")) {
    done = true;
    fs.writeFileSync(${JSON.stringify(target)}, JSON.stringify({ mcpServers: { a: { command: "a" }, b: { command: "b" } } }));
  }
  return open(p, ...rest);
};`,
  );
  const r = await cli(["mcp", "add", "--no-global", "--agent", "claude-code"], project, { NODE_OPTIONS: `--require ${preload}` });
  assert.equal(r.code, 0, JSON.stringify(r.out));
  const servers = JSON.parse(readFileSync(target, "utf8")).mcpServers;
  assert.deepEqual(Object.keys(servers), ["a", "b", "linkpay"], "the change made meanwhile is kept");
  rmSync(target);
  rmSync(preload);
});

describe("mcp doctor", () => {
  test("reports, per host, the registration and whether its command runs", async () => {
    const r = await cli(["mcp", "doctor"]);
    assert.equal(r.code, 0, JSON.stringify(r.out));
    const claude = r.out.agents.find((a) => a.id === "claude-code");
    assert.equal(claude.registered, true);
    assert.equal(claude.command, "linkpay --mcp");
    assert.equal(claude.runs, true);
    assert.match(claude.version, /^\d+\.\d+\.\d+/);
    assert.ok(claude.tools > 10, "the registered command answered initialize and tools/list");
    const opencode = r.out.agents.find((a) => a.id === "opencode");
    assert.equal(opencode.command, `${bin}/linkpay --mcp`);
    assert.equal(opencode.runs, true);
    assert.equal(r.out.ok, r.out.agents.filter((a) => a.registered).every((a) => a.runs));
  });

  test("a command that does not run is reported, not thrown", async () => {
    await cli(["mcp", "add", "--agent", "amp", "-c", "/nonexistent/linkpay --mcp"]);
    const r = await cli(["mcp", "doctor", "--agent", "amp"]);
    assert.equal(r.code, 0);
    assert.equal(r.out.ok, false);
    assert.equal(r.out.agents[0].registered, true);
    assert.equal(r.out.agents[0].runs, false);
    assert.ok(r.out.agents[0].problem);
  });
});

describe("skills", () => {
  test("skills add installs SKILL.md in ~/.agents/skills and the agents' own directories", async () => {
    const r = await cli(["skills", "add"]);
    assert.equal(r.code, 0, JSON.stringify(r.out));
    for (const p of [join(home, ".agents", "skills", "linkpay", "SKILL.md"), join(home, ".claude", "skills", "linkpay", "SKILL.md"), join(home, ".codeium", "windsurf", "skills", "linkpay", "SKILL.md")]) {
      assert.equal(readFileSync(p, "utf8"), SHIPPED, p);
    }
    assert.match(SHIPPED, /^---\nname: linkpay\n/);
    const again = await cli(["skills", "add"]);
    assert.ok(again.out.skills.every((s) => s.changed === false));
  });

  test("a different SKILL.md is not replaced without --force", async () => {
    const mine = join(home, ".claude", "skills", "linkpay", "SKILL.md");
    writeFileSync(mine, "my own notes\n");
    const r = await cli(["skills", "add"]);
    assert.equal(r.code, 1);
    assert.equal(r.out.code, "OUTPUT_FILE_EXISTS");
    assert.equal(readFileSync(mine, "utf8"), "my own notes\n");
    const forced = await cli(["skills", "add", "--force"]);
    assert.equal(forced.code, 0);
    assert.equal(readFileSync(mine, "utf8"), SHIPPED);
  });

  test("--no-global installs into the project", async () => {
    const r = await cli(["skills", "add", "--no-global"]);
    assert.equal(r.code, 0, JSON.stringify(r.out));
    assert.ok(existsSync(join(project, ".agents", "skills", "linkpay", "SKILL.md")));
    assert.ok(existsSync(join(project, ".claude", "skills", "linkpay", "SKILL.md")));
  });

  test("skills list lists the shipped skills and where they are installed", async () => {
    const r = await cli(["skills", "list"]);
    assert.equal(r.code, 0);
    assert.equal(r.out[0].name, "linkpay");
    assert.match(r.out[0].description, /payment credential/);
    assert.equal(r.out[0].installed, true);
    assert.ok(r.out[0].paths.some((p) => p.path === join(home, ".claude", "skills", "linkpay", "SKILL.md") && p.current));
  });
});

describe("serve /.well-known/skills/", () => {
  let child;
  let base;
  before(async () => {
    child = spawn(process.execPath, [BIN, "serve", "--port", "0"], { env: { PATH: process.env.PATH, HOME: home, LINKPAY_SERVE_TOKEN: "secret-token" }, stdio: ["ignore", "ignore", "pipe"] });
    const url = await new Promise((resolve, reject) => {
      let text = "";
      child.stderr.on("data", (d) => {
        text += d;
        const m = /listening on (http:\/\/\S+)/.exec(text);
        if (m) resolve(m[1]);
      });
      child.on("exit", () => reject(new Error(`serve exited: ${text}`)));
    });
    base = url.replace(/\/mcp$/, "");
  });
  after(() => child.kill());

  test("index.json and SKILL.md without a token; everything else unchanged", async () => {
    const index = await fetch(`${base}/.well-known/skills/index.json`);
    assert.equal(index.status, 200);
    const body = await index.json();
    assert.deepEqual(body.skills.map((s) => ({ name: s.name, files: s.files })), [{ name: "linkpay", files: ["SKILL.md"] }]);
    assert.ok(body.skills[0].description.length > 20);
    const skill = await fetch(`${base}/.well-known/skills/linkpay/SKILL.md`);
    assert.equal(skill.status, 200);
    assert.match(skill.headers.get("content-type"), /text\/markdown/);
    assert.equal(await skill.text(), SHIPPED);
    assert.equal((await fetch(`${base}/.well-known/skills/nope/SKILL.md`)).status, 404);
    assert.equal((await fetch(`${base}/.well-known/skills/linkpay/other.md`)).status, 404);
    assert.equal((await fetch(`${base}/.well-known/skills/index.json`, { method: "POST" })).status, 404);
    assert.equal((await fetch(`${base}/elsewhere`)).status, 404);
    assert.equal((await fetch(`${base}/mcp`, { method: "POST", body: "{}" })).status, 401, "/mcp still needs the token");
  });
});
