/**
 * argv → (command, input object) per the command table. Nothing is checked here: values stay
 * text (the Rust rules coerce and check them), unknown flags become unknown keys (which the
 * rules reject with their path), so the CLI and MCP see one set of rules.
 */
import { resolve } from "node:path";
import { commandTable, type CommandOption, type CommandSpec, type Json, type JsonObject } from "../index.js";
import { FORMATS, type Format } from "./output.js";
import { codedError } from "../host/types.js";

export interface Globals {
  format?: Format;
  auth?: string;
  verbose: boolean;
  help: boolean;
  version: boolean;
  mcp: boolean;
  schema: boolean;
  llms: boolean;
  llmsFull: boolean;
  /** `--full-output`: the `{ok, data|error, meta}` envelope. */
  fullOutput: boolean;
  /** `--filter-output <paths>`. */
  filterOutput?: string;
  /** `--token-count`: print the output's token count instead. */
  tokenCount: boolean;
  /** `--token-limit n` / `--token-offset n`: a window of the output, in tokens. */
  tokenLimit?: number;
  tokenOffset?: number;
  /** `--update`: update linkpay (the core's update command). */
  update: boolean;
  /** `--update-check` (hidden): the detached refresh of the update cache. */
  updateCheck: boolean;
}

/** Removes the global flags wherever they are (as the reference strips `--verbose`/`--auth`). */
export function splitGlobals(argv: string[]): { globals: Globals; rest: string[] } {
  const g: Globals = { verbose: false, help: false, version: false, mcp: false, schema: false, llms: false, llmsFull: false, fullOutput: false, tokenCount: false, update: false, updateCheck: false };
  const count = (flag: string, text: string): number => {
    const n = Number(text);
    if (text.trim() === "" || !Number.isSafeInteger(n) || n < 0) throw codedError("INVALID_INPUT", `Invalid value for ${flag}: "${text}" (a whole number of tokens)`);
    return n;
  };
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") {
      rest.push(...argv.slice(i));
      break;
    }
    const [name, inline] = a.startsWith("--") && a.includes("=") ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] : [a, undefined];
    const value = (): string => {
      if (inline !== undefined) return inline;
      const next = argv[i + 1];
      if (next === undefined) throw codedError("INVALID_INPUT", `${name} needs a value`);
      i++;
      return next;
    };
    switch (name) {
      case "--format": {
        const f = value();
        if (!(FORMATS as readonly string[]).includes(f)) throw codedError("INVALID_INPUT", `--format must be one of: ${FORMATS.join(", ")}`);
        g.format = f as Format;
        break;
      }
      case "--json":
        g.format = "json";
        break;
      case "--auth":
        g.auth = value();
        break;
      case "--verbose":
        g.verbose = true;
        break;
      case "--help":
      case "-h":
        g.help = true;
        break;
      case "--version":
        g.version = true;
        break;
      case "--mcp":
        g.mcp = true;
        break;
      case "--schema":
        g.schema = true;
        break;
      case "--llms":
        g.llms = true;
        break;
      case "--llms-full":
        g.llmsFull = true;
        break;
      case "--full-output":
        g.fullOutput = true;
        break;
      case "--filter-output":
        g.filterOutput = value();
        break;
      case "--token-count":
        g.tokenCount = true;
        break;
      case "--update":
        g.update = true;
        break;
      case "--update-check":
        g.updateCheck = true;
        break;
      case "--token-limit":
        g.tokenLimit = count(name, value());
        break;
      case "--token-offset":
        g.tokenOffset = count(name, value());
        break;
      default:
        rest.push(a);
    }
  }
  return { globals: g, rest };
}

/** The command the leading words name (`spend-request create`), and the words after it. */
export function findCommand(commands: CommandSpec[], words: string[]): { command?: CommandSpec; group?: string; rest: string[] } {
  const two = words.slice(0, 2).join(" ");
  const c2 = commands.find((c) => c.name === two);
  if (c2) return { command: c2, rest: words.slice(2) };
  const c1 = commands.find((c) => c.name === words[0]);
  if (c1) return { command: c1, rest: words.slice(1) };
  const group = words[0] !== undefined && commands.some((c) => c.name.startsWith(`${words[0]} `)) ? words[0] : undefined;
  return { group, rest: words.slice(group ? 1 : 0) };
}

const camel = (flag: string) => flag.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** Parses a command's flags and positionals into its input object (camelCase keys). */
export function parseInput(command: CommandSpec, args: string[]): JsonObject {
  const input: JsonObject = {};
  const byFlag = new Map<string, CommandOption>();
  const byShort = new Map<string, CommandOption>();
  for (const o of command.options) {
    byFlag.set(o.flag, o);
    if (o.short) byShort.set(o.short, o);
  }
  const positionals = command.options.filter((o) => o.positional);
  const extra: string[] = [];
  // A repeatable flag collects a list; a single-value flag given twice becomes a list too, which
  // the Rust rules refuse naming the flag (the last one is not silently taken).
  const given = new Set<string>();
  const put = (key: string, repeatable: boolean, value: Json) => {
    if (repeatable || given.has(key)) {
      const list = Array.isArray(input[key]) ? (input[key] as Json[]) : given.has(key) ? [input[key] as Json] : [];
      list.push(value);
      input[key] = list;
    } else {
      input[key] = value;
    }
    given.add(key);
  };
  let onlyPositionals = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (onlyPositionals || !a.startsWith("-") || a === "-") {
      // A repeatable positional (`mcp proxy -- <command> [args…]`) takes every one left.
      const p = positionals[0]?.repeatable ? positionals[0] : positionals.shift();
      if (p) put(p.key, p.repeatable, a);
      else extra.push(a);
      continue;
    }
    if (a === "--") {
      onlyPositionals = true;
      continue;
    }
    const long = a.startsWith("--");
    const eq = a.indexOf("=");
    const name = long ? a.slice(2, eq > 0 ? eq : undefined) : a.slice(1, 2);
    const inline = long ? (eq > 0 ? a.slice(eq + 1) : undefined) : a.length > 2 ? a.slice(2) : undefined;
    let o = long ? byFlag.get(name) : byShort.get(name);
    let negated = false;
    if (!o && long && name.startsWith("no-")) {
      const base = byFlag.get(name.slice(3));
      if (base?.type === "boolean") {
        o = base;
        negated = true;
      }
    }
    if (o?.type === "boolean") {
      put(o.key, false, negated ? false : (inline ?? true));
      continue;
    }
    const next = args[i + 1];
    const takeNext = () => {
      if (inline !== undefined) return inline;
      if (next === undefined || (o === undefined && next.startsWith("-"))) return o ? "" : true;
      i++;
      return next;
    };
    if (!o) {
      // Unknown: kept under its camelCase name so the rules report it.
      input[camel(name)] = takeNext();
      continue;
    }
    put(o.key, o.repeatable, takeNext());
  }
  if (extra.length > 0) input.arguments = extra;
  return input;
}

// ------------------------------------------------------------------------------ help and docs

const usageArgs = (c: CommandSpec) =>
  c.options
    .filter((o) => o.positional)
    .map((o) => `<${o.key}>`)
    .join(" ");

function optionLine(o: CommandOption): [string, string] {
  const value = o.type === "boolean" ? "" : o.enum ? ` <${o.enum.join("|")}>` : ` <${o.type === "pairs" ? "key:value,…" : o.type === "json" ? "json" : o.type === "string" ? "value" : "n"}>`;
  const left = `${o.short ? `-${o.short}, ` : ""}--${o.flag}${value}`;
  const notes = [o.required ? "required" : "", o.repeatable ? "repeatable" : "", o.default !== undefined ? `default ${JSON.stringify(o.default)}` : ""].filter(Boolean);
  return [left, `${o.description}${notes.length ? ` (${notes.join(", ")})` : ""}`];
}

const columns = (rows: [string, string][]) => {
  const width = Math.max(0, ...rows.map(([l]) => l.length));
  return rows.map(([l, r]) => `  ${l.padEnd(width)}  ${r}`).join("\n");
};

/** The global flags and their help, from the command table (`commands::GLOBAL_OPTIONS`). */
export function globalOptions(): [string, string][] {
  return commandTable().globalOptions ?? [];
}

/** Root help, a group's help, or one command's help. */
export function helpText(version: string, commands: CommandSpec[], command?: CommandSpec, group?: string): string {
  if (command) {
    const rows = command.options.filter((o) => !o.hidden && !o.positional).map(optionLine);
    const args = command.options.filter((o) => o.positional).map((o): [string, string] => [`<${o.key}>`, o.description]);
    return [
      `linkpay ${command.name} — ${command.description}`,
      "",
      `Usage: linkpay ${command.name}${args.length ? ` ${usageArgs(command)}` : ""}${rows.length ? " [options]" : ""}`,
      ...(args.length ? ["", "Arguments:", columns(args)] : []),
      ...(rows.length ? ["", "Options:", columns(rows)] : []),
      "",
      `MCP tool: ${command.mcp ? command.tool : "(not exposed)"}`,
      "",
    ].join("\n");
  }
  const listed = commands.filter((c) => group === undefined || c.name.startsWith(`${group} `));
  return [
    `linkpay@${version} — One-time payment credentials from a Link wallet for AI agents: virtual cards and MPP shared payment tokens, approved by a person.`,
    "",
    `Usage: linkpay ${group ?? "<command>"}${group ? " <command>" : ""} [options]`,
    "",
    "Commands:",
    columns(listed.map((c) => [c.name, c.description])),
    "",
    "Global Options:",
    columns(globalOptions()),
    "",
  ].join("\n");
}

/** `--llms-full` in markdown: every command with its flags, MCP tool and input schema. */
export function llmsFull(version: string, commands: CommandSpec[], full: boolean): string {
  const out = [
    `# linkpay ${version}`,
    "",
    "One-time payment credentials from a Link wallet for AI agents. Output is toon when stdout is not a terminal; pass `--format json` for JSON. Errors print `{code, message, fieldErrors?}` on stdout and exit 1.",
    "",
  ];
  for (const c of commands) {
    out.push(`## linkpay ${c.name}`, "", c.description, "");
    if (!full) continue;
    out.push(`Usage: \`linkpay ${c.name}${c.options.some((o) => o.positional) ? ` ${usageArgs(c)}` : ""}\`${c.mcp ? ` · MCP tool \`${c.tool}\`` : ""}`, "");
    const rows = c.options.filter((o) => !o.hidden);
    if (rows.length) {
      out.push("| flag | type | description |", "| --- | --- | --- |");
      for (const o of rows) {
        const [left, right] = optionLine(o);
        out.push(`| \`${o.positional ? `<${o.key}>` : left}\` | ${o.enum ? o.enum.join(" \\| ") : o.type}${o.repeatable ? "[]" : ""} | ${right.replace(/\|/g, "\\|")} |`);
      }
      out.push("");
    }
    out.push("```json", JSON.stringify(c.inputSchema), "```", "");
  }
  return out.join("\n");
}

/** `outputFile` made absolute against this process's directory (an effect the core cannot
 * have): the runner prints the path it was given as `card_output_file`. A trailing `/` is kept,
 * so the runner can refuse a directory. */
export function withAbsoluteOutputFile<T extends Record<string, unknown>>(input: T): T {
  const file = input.outputFile;
  if (typeof file !== "string" || file.trim() === "") return input;
  return { ...input, outputFile: resolve(file) + (/[\\/]$/.test(file) ? "/" : "") };
}
