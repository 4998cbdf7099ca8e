/**
 * The agent-host commands: `mcp add`, `mcp doctor`, `skills add`, `skills list`, and the skill
 * files `serve` publishes at `/.well-known/skills/`. Which hosts, where their files live and how
 * a config is merged are the core's (`src/agent_host.rs`); this module reads and writes the
 * files: atomically (a temp file in the same directory, renamed over the target, the target's
 * mode kept), and never over a file it would have to guess about. Files in other formats are
 * only converted here: a YAML config (Goose) and a JSON config with comments (JSONC) go to the
 * core's merge as JSON, and the entry it returns is put back into the document with the format's
 * own editor (yaml's Document, jsonc-parser's edits), so their comments and layout stay. TOML
 * (Codex) is edited in the core.
 */
import { spawn } from "node:child_process";
import { existsSync, realpathSync } from "node:fs";
import { lstat, mkdir, open, readdir, readFile, rename, stat, unlink } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { mcpConfigWith, mcpHosts, mcpRegistration, skillDirs, type Json, type JsonObject } from "../index.js";
import { codedError } from "../host/types.js";
import { removeStaleTemps, tempPath } from "../host/temp.js";

interface McpHost {
  id: string;
  name: string;
  path: string;
  key: string;
  /** `json` (JSONC accepted), `toml` or `yaml`. */
  format: string;
  detect: string[];
}

interface SkillDir {
  agent: string;
  dir: string;
  detect: string | null;
}

export interface Skill {
  name: string;
  description: string;
  content: string;
}

/** How long `mcp doctor` lets a registered command take to print its version. */
const PROBE_MS = 5000;

/** The directories the core roots paths in, from this process's environment. */
function env(): JsonObject {
  return {
    home: process.env.HOME?.trim() || homedir(),
    configHome: process.env.XDG_CONFIG_HOME ?? "",
    platform: process.platform,
    appData: process.env.APPDATA ?? "",
    cwd: process.cwd(),
    codexHome: process.env.CODEX_HOME ?? "",
  };
}

const corrupt = (why: string) => codedError("STORAGE_ERROR", `the config file ${why}; fix or move it (linkpay left it untouched)`);

/** A config text the core reads as JSON, and how to put its merged entry back: YAML and JSONC
 * become their JSON; JSON and TOML go to the core as they are. */
async function asCoreText(text: string, host: McpHost): Promise<{ core: string; back?: (merged: string) => string }> {
  const entryOf = (merged: string): Json => ((JSON.parse(merged) as JsonObject)[host.key] as JsonObject)?.linkpay ?? null;
  if (host.format === "yaml") {
    const { parseDocument } = await import("yaml");
    const doc = parseDocument(text);
    if (doc.errors.length > 0) throw corrupt(`is not valid YAML (${doc.errors[0].message.split("\n")[0]})`);
    const value: unknown = doc.toJS() ?? {};
    if (typeof value !== "object" || Array.isArray(value)) throw corrupt("is YAML but not a mapping");
    return {
      core: JSON.stringify(value),
      back: (merged) => {
        doc.setIn([host.key, "linkpay"], doc.createNode(entryOf(merged)));
        return String(doc);
      },
    };
  }
  if (host.format !== "json" || text.trim() === "") return { core: text };
  try {
    JSON.parse(text);
    return { core: text };
  } catch {
    // Not plain JSON: JSON with comments or trailing commas (VS Code's and Zed's files have them)?
  }
  const jsonc = await import("jsonc-parser");
  const errors: import("jsonc-parser").ParseError[] = [];
  const value: unknown = jsonc.parse(text, errors, { allowTrailingComma: true });
  if (errors.length > 0) throw corrupt(`is not valid JSON (${jsonc.printParseErrorCode(errors[0].error)} at offset ${errors[0].offset})`);
  return {
    core: JSON.stringify(value ?? {}),
    back: (merged) => {
      const indent = /\n([ \t]+)"/.exec(text)?.[1] ?? "  ";
      const formattingOptions = { insertSpaces: !indent.includes("\t"), tabSize: indent.includes("\t") ? 1 : indent.length, eol: text.includes("\r\n") ? "\r\n" : "\n" };
      return jsonc.applyEdits(text, jsonc.modify(text, [host.key, "linkpay"], entryOf(merged), { formattingOptions }));
    },
  };
}

/** `text` with linkpay registered: the core's merge, in the file's own format. */
async function configWith(text: string, host: McpHost, project: boolean, command: string): Promise<string> {
  const { core, back } = await asCoreText(text, host);
  const merged = mcpConfigWith(core, host.id, project, command);
  if (merged === core) return text; // already registered: not a byte changes
  return back ? back(merged) : merged;
}

const list = (v: Json | undefined): string[] => (Array.isArray(v) ? v.map(String) : typeof v === "string" ? [v] : []);

/** Reads `path`'s text, `""` when it does not exist. */
async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return "";
    throw codedError("STORAGE_ERROR", `Cannot read ${path}: ${(e as Error).message}`);
  }
}

/** Thrown by {@link writeAtomic} when the file changed since it was read. */
class Changed extends Error {}

/** Writes `text` to `path` atomically: a temp file next to it, then a rename; an existing
 * file's mode is kept (a new file gets 0644). Through a symbolic link (dotfile managers link
 * configs) the file it points to is replaced and the link kept. With `expected` (the text the
 * new one was made from), a file that no longer holds it (another program wrote it meanwhile:
 * Claude Code rewrites ~/.claude.json often) is not replaced: {@link Changed} is thrown. */
export async function writeAtomic(path: string, text: string, expected?: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const existing = await stat(path).catch(() => undefined);
  if (existing && !existing.isFile()) throw codedError("STORAGE_ERROR", `${path} is not a regular file`);
  const target = existing ? realpathSync(path) : path;
  const mode = existing ? existing.mode & 0o777 : 0o644;
  await removeStaleTemps(target, true);
  const temp = tempPath(target, true);
  try {
    const handle = await open(temp, "wx", mode);
    try {
      await handle.writeFile(text, "utf8");
      await handle.chmod(mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (expected !== undefined && (await readText(target)) !== expected) throw new Changed(path);
    await rename(temp, target);
  } catch (e) {
    await unlink(temp).catch(() => undefined);
    if (e instanceof Changed) throw e;
    throw codedError("STORAGE_ERROR", `Cannot write ${path}: ${(e as Error).message}`);
  }
}

/** The hosts `--agent` names, else those found on this machine (or in the project). */
function chosenHosts(input: JsonObject): { hosts: McpHost[]; project: boolean } {
  const project = input.global === false;
  const agents = list(input.agent);
  const all = mcpHosts(env(), project, agents) as unknown as McpHost[];
  const hosts = agents.length > 0 ? all : all.filter((h) => h.detect.some((d) => existsSync(d)));
  return { hosts, project };
}

/** `linkpay mcp add`: registers `linkpay --mcp` (or `--command`) with each host. A config that
 * is not JSON is refused before any file is written. */
export async function mcpAdd(input: JsonObject): Promise<Json> {
  // The table's default (`linkpay --mcp`) is filled in by the core's input check.
  const command = String(input.command);
  const { hosts, project } = chosenHosts(input);
  if (hosts.length === 0) {
    throw Object.assign(codedError("VALIDATION_ERROR", `No agent host found${project ? " in this project" : ""}: name one with --agent`), {
      fieldErrors: [{ path: "agent", message: "no agent host found; name one with --agent" }],
    });
  }
  // Every file merged first: one corrupt config stops the run with nothing written.
  const plans: { host: McpHost; before: string; after: string }[] = [];
  for (const host of hosts) {
    const before = await readText(host.path);
    try {
      plans.push({ host, before, after: await configWith(before, host, project, command) });
    } catch (e) {
      const err = e as Error & { code?: string };
      if (err.code === "STORAGE_ERROR") throw codedError("STORAGE_ERROR", `${host.name}: ${host.path}: ${err.message}`);
      throw e;
    }
  }
  const agents: Json[] = [];
  for (const plan of plans) {
    const { host } = plan;
    const changed = plan.before !== plan.after;
    // Only what this run changes is written (a second run writes nothing). A file another
    // program wrote meanwhile is read and merged again, so its change is never lost.
    for (let attempt = 0; changed; attempt++) {
      try {
        await writeAtomic(host.path, plan.after, plan.before);
        break;
      } catch (e) {
        if (!(e instanceof Changed) || attempt >= 4) {
          if (e instanceof Changed) throw codedError("STORAGE_ERROR", `${host.name}: ${host.path} kept changing while linkpay wrote it; try again`);
          throw e;
        }
        plan.before = await readText(host.path);
        plan.after = await configWith(plan.before, host, project, command);
        if (plan.before === plan.after) break;
      }
    }
    agents.push({ agent: host.name, id: host.id, path: host.path, changed });
  }
  return { name: "linkpay", command, agents };
}

/** Runs `words` with `--version` (`--mcp` dropped; {@link PROBE_MS} at most): whether it starts and what it printed. */
function probe(words: string[]): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    const [program, ...args] = words;
    const flagged = args.filter((a) => a !== "--mcp");
    let output = "";
    let settled = false;
    const finish = (ok: boolean, text?: string) => {
      if (settled) return;
      settled = true;
      resolve({ ok, output: (text ?? output).trim().slice(0, 200) });
    };
    try {
      const child = spawn(program, [...flagged, "--version"], { stdio: ["ignore", "pipe", "pipe"], timeout: PROBE_MS });
      child.stdout.on("data", (d: Buffer) => (output += d.toString()));
      child.stderr.on("data", (d: Buffer) => (output += d.toString()));
      child.on("error", (e) => finish(false, e.message));
      child.on("close", (code) => finish(code === 0));
    } catch (e) {
      finish(false, (e as Error).message);
    }
  });
}

/** Starts `words` (the registered MCP command) and asks it, over stdio, what incur's doctor
 * asks: `initialize`, then `tools/list`. Resolves the number of tools, or why not. */
function handshake(words: string[]): Promise<{ ok: boolean; tools: number; problem?: string }> {
  return new Promise((resolve) => {
    const [program, ...args] = words;
    let buffer = "";
    let settled = false;
    const child = spawn(program, args, { stdio: ["pipe", "pipe", "ignore"] });
    const finish = (result: { ok: boolean; tools: number; problem?: string }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill();
      resolve(result);
    };
    const timer = setTimeout(() => finish({ ok: false, tools: 0, problem: "no tools/list answer in time" }), PROBE_MS);
    child.on("error", (e) => finish({ ok: false, tools: 0, problem: e.message }));
    child.on("exit", () => finish({ ok: false, tools: 0, problem: "the server exited" }));
    child.stdout.on("data", (d: Buffer) => {
      buffer += d.toString();
      for (const line of buffer.split("\n").slice(0, -1)) {
        let msg: { id?: number; result?: { tools?: unknown[] }; error?: { message?: string } };
        try {
          msg = JSON.parse(line) as typeof msg;
        } catch {
          continue;
        }
        if (msg.id === 1 && msg.error) finish({ ok: false, tools: 0, problem: `initialize failed: ${msg.error.message ?? ""}` });
        if (msg.id === 2) {
          if (Array.isArray(msg.result?.tools)) finish({ ok: true, tools: msg.result.tools.length });
          else finish({ ok: false, tools: 0, problem: `tools/list failed: ${msg.error?.message ?? "no tools array"}` });
        }
      }
    });
    const send = (m: Json) => child.stdin.write(`${JSON.stringify(m)}\n`);
    child.stdin.on("error", () => undefined);
    send({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "linkpay-doctor", version: "1" } } });
    send({ jsonrpc: "2.0", method: "notifications/initialized" });
    send({ jsonrpc: "2.0", id: 2, method: "tools/list", params: {} });
  });
}

/** `linkpay mcp doctor`: per host, whether linkpay is registered, whether its command runs
 * (`--version`) and whether it answers as an MCP server (`initialize`, `tools/list`). */
export async function mcpDoctor(input: JsonObject): Promise<Json> {
  const { hosts, project } = chosenHosts(input);
  const agents: Json[] = [];
  for (const host of hosts) {
    const text = await readText(host.path);
    const row: JsonObject = { agent: host.name, id: host.id, path: host.path, exists: text !== "" };
    try {
      const reg = mcpRegistration((await asCoreText(text, host)).core, host.id, project) as JsonObject;
      row.registered = reg.registered === true;
      if (reg.registered === true) {
        const words = list(reg.command);
        row.command = words.join(" ");
        const run = words.length > 0 ? await probe(words) : { ok: false, output: "no command" };
        row.version = run.ok ? run.output : null;
        if (!run.ok) row.problem = `the command does not run: ${run.output}`;
        const mcp = run.ok ? await handshake(words) : { ok: false, tools: 0 };
        row.runs = run.ok && mcp.ok;
        row.tools = mcp.tools;
        if (run.ok && !mcp.ok) row.problem = `the command does not answer as an MCP server: ${mcp.problem ?? ""}`;
      }
    } catch (e) {
      row.registered = false;
      row.problem = (e as Error).message;
    }
    agents.push(row);
  }
  const registered = agents.filter((a) => (a as JsonObject).registered === true);
  return { ok: registered.length > 0 && registered.every((a) => (a as JsonObject).runs === true), agents };
}

// ------------------------------------------------------------------------------------ skills

/** The package's `skills/` directory (npm/skills), next to dist/. */
function skillsRoot(): string {
  const here = typeof __dirname === "string" ? __dirname : dirname(realpathSync(process.argv[1] ?? "."));
  return join(here, "..", "..", "skills");
}

/** `name:`/`description:` of a SKILL.md's front matter. */
function frontMatter(content: string): { name?: string; description?: string } {
  const m = /^---\n([\s\S]*?)\n---/.exec(content);
  const out: { name?: string; description?: string } = {};
  for (const line of (m?.[1] ?? "").split("\n")) {
    const kv = /^(name|description):\s*(.*)$/.exec(line);
    if (kv) out[kv[1] as "name" | "description"] = kv[2].trim().replace(/^["']|["']$/g, "");
  }
  return out;
}

/** The skills shipped in the package: each `skills/<dir>/SKILL.md`. */
export async function shippedSkills(): Promise<Skill[]> {
  const root = skillsRoot();
  const dirs = await readdir(root, { withFileTypes: true }).catch(() => []);
  const skills: Skill[] = [];
  for (const d of dirs) {
    if (!d.isDirectory()) continue;
    const content = await readFile(join(root, d.name, "SKILL.md"), "utf8").catch(() => undefined);
    if (content === undefined) continue;
    const meta = frontMatter(content);
    skills.push({ name: meta.name ?? d.name, description: meta.description ?? "", content });
  }
  return skills.sort((a, b) => a.name.localeCompare(b.name));
}

/** Where a skill goes: the canonical directory, and each agent found with its own. */
function targets(skill: string, project: boolean): SkillDir[] {
  const dirs = skillDirs(env(), project, skill) as unknown as SkillDir[];
  return dirs.filter((d) => d.detect === null || existsSync(d.detect));
}

/** `linkpay skills add`: installs every shipped skill. A different SKILL.md already in a target
 * is `OUTPUT_FILE_EXISTS` (nothing written) unless `--force`; the same one is left alone. */
export async function skillsAdd(input: JsonObject): Promise<Json> {
  const project = input.global === false;
  const force = input.force === true;
  const plans: { skill: string; agent: string; path: string; write: boolean; content: string; current?: string }[] = [];
  for (const skill of await shippedSkills()) {
    for (const t of targets(skill.name, project)) {
      const path = join(t.dir, "SKILL.md");
      const info = await lstat(path).catch(() => undefined);
      let current: string | undefined;
      if (info?.isSymbolicLink()) {
        // incur links agents' directories to the canonical one: the same file, seen twice.
        current = await readFile(path, "utf8").catch(() => undefined);
      } else if (info) current = await readText(path);
      if (current !== undefined && current !== skill.content && !force) {
        throw codedError("OUTPUT_FILE_EXISTS", `${path} already exists and differs from linkpay's ${skill.name} skill. Use --force to replace it.`);
      }
      plans.push({ skill: skill.name, agent: t.agent, path, write: current !== skill.content, content: skill.content, current });
    }
  }
  const installed: Json[] = [];
  for (const p of plans) {
    // Without --force, a file that appeared (or changed) since it was read is not replaced.
    if (p.write) {
      await writeAtomic(p.path, p.content, force ? undefined : (p.current ?? "")).catch((e: unknown) => {
        if (e instanceof Changed) throw codedError("OUTPUT_FILE_EXISTS", `${p.path} changed while linkpay installed its skill. Use --force to replace it.`);
        throw e;
      });
    }
    installed.push({ skill: p.skill, agent: p.agent, path: p.path, changed: p.write });
  }
  return { skills: installed };
}

/** `linkpay skills list`: the shipped skills, and where each is installed (same file or not). */
export async function skillsList(input: JsonObject): Promise<Json> {
  const project = input.global === false;
  const out: Json[] = [];
  for (const skill of await shippedSkills()) {
    const installed: Json[] = [];
    for (const t of skillDirs(env(), project, skill.name) as unknown as SkillDir[]) {
      const path = join(t.dir, "SKILL.md");
      const text = await readFile(path, "utf8").catch(() => undefined);
      if (text !== undefined) installed.push({ agent: t.agent, path, current: text === skill.content });
    }
    out.push({ name: skill.name, description: skill.description, installed: installed.length > 0, paths: installed });
  }
  return out;
}
