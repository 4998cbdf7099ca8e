#!/usr/bin/env node
/**
 * `linkpay`: the CLI. Flags, help, `--schema` and `--llms-full` come from the command table
 * (`src/commands.rs`); input is checked by the Rust rules before any request; the work is
 * `LinkClient`'s. Heavy modules (MCP SDK, toon, yaml, qrcode, the sandbox) load only in the
 * commands that use them.
 */
import { commandTable, validateCommandInput, version, type CommandSpec, type Json, type JsonObject } from "../index.js";
import { splitGlobals, findCommand, parseInput, helpText, llmsFull, type Globals } from "./argv.js";
import { encode, errorObject, type Format } from "./output.js";
import type { RunContext, TtyHooks } from "./run.js";
import { codedError } from "../host/types.js";

const out = (text: string) => process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);

/** Prints what a command emits, in the format and shape the reference prints. */
class Printer {
  private readonly chunks: Json[] = [];
  private readonly started = Date.now();
  /** The toon encoder, loaded before an incremental command runs (so yields print in order). */
  toon?: (value: Json) => string;
  constructor(
    private readonly format: Format,
    /** toon by default: each yield printed as it comes. */
    readonly incremental: boolean,
    private readonly command: CommandSpec | undefined,
  ) {}

  emit = (emitted: Json | object): void => {
    const value = emitted as Json; // the client's typed results are JSON values
    if (this.format === "jsonl" && this.command?.streaming) {
      out(JSON.stringify({ type: "chunk", data: value }));
    } else if (this.incremental && this.command?.streaming && this.toon) {
      out(value !== null && typeof value === "object" ? this.toon(value) : String(value));
    } else {
      this.chunks.push(value);
    }
  };

  async done(): Promise<void> {
    if (this.format === "jsonl" && this.command?.streaming) {
      out(JSON.stringify({ type: "done", ok: true, meta: { command: this.command.name, duration: `${Date.now() - this.started}ms` } }));
      return;
    }
    if (this.incremental && this.command?.streaming) return;
    const value = this.command?.streaming ? this.chunks : (this.chunks[0] ?? null);
    out(await encode(value, this.format));
  }

  async fail(e: unknown): Promise<void> {
    const error = errorObject(e);
    if (this.format === "jsonl" && this.command?.streaming) {
      out(JSON.stringify({ type: "error", ok: false, error }));
    } else if (this.incremental && this.command?.streaming && this.format === "toon") {
      out(error.code === "UNKNOWN" ? `Error: ${error.message}` : `Error (${error.code}): ${error.message}`);
    } else {
      out(await encode(error, this.format));
    }
    process.exitCode = 1;
  }
}

function ttyHooks(): TtyHooks {
  return {
    async approvalUrl(label, url) {
      const { qr } = await import("./tty.js");
      process.stderr.write(`\n${label}:\n  ${url}\n\n${await qr(url)}\n`);
    },
    async wait(message, work) {
      const { spinner } = await import("./tty.js");
      const s = spinner(message);
      try {
        const result = await work;
        s.stop("✓ done");
        return result;
      } catch (e) {
        s.stop("✗ failed");
        throw e;
      }
    },
  };
}

async function main(argv: string[]): Promise<void> {
  let globals: Globals;
  let rest: string[];
  const table = () => commandTable().commands;
  try {
    ({ globals, rest } = splitGlobals(argv));
  } catch (e) {
    out(JSON.stringify(errorObject(e), null, 2));
    process.exitCode = 1;
    return;
  }
  const explicit = globals.format !== undefined;
  const human = process.stdout.isTTY === true && !explicit;
  const format: Format = globals.format ?? (human ? "yaml" : "toon");

  if (globals.version) return void out(version);
  if (globals.mcp) {
    const { serveStdio } = await import("./mcp.js");
    return serveStdio({ authFile: globals.auth });
  }
  // The command's own entry first (cheap); the whole table only for help, docs and errors.
  const words = rest.filter((w) => !w.startsWith("-"));
  const lookup = (name: string): CommandSpec | undefined => commandTable(name).commands[0];
  const single = lookup(words.slice(0, 2).join(" ")) ?? lookup(words[0] ?? "");
  const needAll = !single || globals.help || globals.llms || globals.llmsFull;
  const commands = needAll ? table() : [single];
  const { command, group, rest: args } = findCommand(commands, rest);
  if (globals.llms || globals.llmsFull) {
    const scoped = commands.filter((c) => (command ? c === command : group ? c.name.startsWith(`${group} `) : true));
    if (explicit && format !== "md") {
      const manifest = { version, commands: scoped.map((c) => ({ name: c.name, tool: c.tool, description: c.description, ...(globals.llmsFull ? { inputSchema: c.inputSchema } : {}) })) };
      return void out(await encode(manifest as unknown as Json, format));
    }
    return void out(llmsFull(version, scoped, globals.llmsFull));
  }
  if (globals.help || (!command && rest.length === 0)) return void out(helpText(version, commands, command, group));
  const printer = new Printer(format, !explicit && format === "toon", command);
  if (!command) {
    const word = rest[0] ?? "";
    const near = commands.map((c) => c.name).find((n) => n.startsWith(word.slice(0, 3)) || n.includes(word));
    if (group) return void out(helpText(version, commands, undefined, group));
    return printer.fail(codedError("INVALID_INPUT", `'${word}' is not a linkpay command.${near ? ` Did you mean '${near}'?` : ""} See linkpay --help.`));
  }
  if (globals.schema) return void out(await encode(command.inputSchema, format));

  try {
    const input = validateCommandInput(command.name, parseInput(command, args));
    if (printer.incremental && command.streaming) printer.toon = (await import("@toon-format/toon")).encode as (v: Json) => string;
    if (command.name === "sandbox" || command.name === "serve" || command.name === "demo") {
      const { runProcessCommand } = await import("./process.js");
      await runProcessCommand(command.name, input, { human });
      return;
    }
    const ctx: RunContext = {
      human,
      authFile: globals.auth,
      logger: globals.verbose ? (line) => process.stderr.write(`[linkpay] ${line}\n`) : undefined,
      emit: printer.emit,
      tty: human && process.stderr.isTTY === true ? ttyHooks() : undefined,
    };
    const { runCommand } = await import("./run.js");
    await runCommand(command.name, input as JsonObject, ctx);
    await printer.done();
  } catch (e) {
    await printer.fail(e);
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  out(JSON.stringify(errorObject(e), null, 2));
  process.exitCode = 1;
});
