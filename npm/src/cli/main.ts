/**
 * `linkpay`: the CLI. Flags, help, `--schema` and `--llms-full` come from the command table
 * (`src/commands.rs`); input is checked by the Rust rules before any request; the work is
 * `LinkClient`'s. Heavy modules (MCP SDK, toon, yaml, qrcode, the sandbox) load only in the
 * commands that use them.
 */
import { commandTable, filterOutput, validateCommandInput, version, LinkClient, type CommandSpec, type Json } from "../index.js";
import { splitGlobals, findCommand, parseInput, helpText, llmsFull, withAbsoluteOutputFile, type Globals } from "./argv.js";
import { credentialFile, encode, errorObject, type Format } from "./output.js";
import { codedError } from "../host/types.js";
import { stdoutIsTty, writeStdout } from "./stdout.js";

const out = (text: string) => writeStdout(text.endsWith("\n") ? text : `${text}\n`);

/** How the global output flags shape what is printed (`--full-output`, `--filter-output`,
 * `--token-*`), as the reference's framework (incur) does. */
interface Shaping {
  fullOutput: boolean;
  filterOutput?: string;
  tokenCount: boolean;
  tokenLimit?: number;
  tokenOffset?: number;
}

/** Prints what a command emits, in the format and shape the reference prints. */
class Printer {
  private readonly started = Date.now();
  /** The toon encoder, loaded before an incremental command runs (so yields print in order). */
  toon?: (value: Json) => string;
  /** The global output flags: set, they print the whole output at the end. */
  private readonly shaped: boolean;
  constructor(
    private readonly format: Format,
    /** toon by default: each yield printed as it comes. */
    readonly incremental: boolean,
    private readonly command: CommandSpec | undefined,
    private readonly shaping: Shaping = { fullOutput: false, tokenCount: false },
  ) {
    this.shaped = shaping.fullOutput || shaping.filterOutput !== undefined || shaping.tokenCount || shaping.tokenLimit !== undefined || shaping.tokenOffset !== undefined;
    if (this.shaped) this.incremental = false;
  }

  private get streamsJsonl(): boolean {
    return this.format === "jsonl" && this.command?.streaming === true;
  }

  /** One chunk of a streaming command, printed at once in jsonl and incremental toon. */
  emit = (value: Json): void => {
    if (this.streamsJsonl) {
      // Each chunk filtered as the buffered formats filter each element of their array.
      const paths = this.shaping.filterOutput;
      out(JSON.stringify({ type: "chunk", data: paths !== undefined ? filterOutput(value, paths) : value }));
    } else if (this.incremental && this.command?.streaming && this.toon) {
      out(value !== null && typeof value === "object" ? this.toon(value) : String(value));
    }
  };

  private meta(): Json {
    return { command: this.command?.name ?? "", duration: `${Date.now() - this.started}ms` };
  }

  /** `--token-count`, or the output (in its envelope with `--full-output`) cut to the
   * `--token-limit`/`--token-offset` window. */
  private async print(ok: boolean, value: Json): Promise<void> {
    const { fullOutput, tokenCount, tokenLimit, tokenOffset } = this.shaping;
    const text = await encode(value, this.format);
    if (tokenCount || tokenLimit !== undefined || tokenOffset !== undefined) {
      const { estimateTokenCount, sliceByTokens } = await import("tokenx");
      const total = estimateTokenCount(text);
      if (tokenCount) return void out(String(total));
      const offset = tokenOffset ?? 0;
      const end = Math.min(tokenLimit !== undefined ? offset + tokenLimit : total, total);
      if (offset > 0 || end < total) {
        const window = `${sliceByTokens(text, offset, end)}\n[truncated: showing tokens ${offset}–${end} of ${total}]`;
        if (!fullOutput) return void out(window);
        const meta = this.meta() as Record<string, Json>;
        if (end < total) meta.nextOffset = end;
        return void out(await encode(ok ? { ok, data: window, meta } : { ok, error: window, meta }, this.format));
      }
    }
    if (fullOutput) return void out(await encode(ok ? { ok, data: value, meta: this.meta() } : { ok, error: value, meta: this.meta() }, this.format));
    out(text);
  }

  /** The command's output (what `--format json` prints), unless its chunks were printed. */
  async done(output: Json): Promise<void> {
    if (this.streamsJsonl) {
      out(JSON.stringify({ type: "done", ok: true, meta: this.meta() }));
      return;
    }
    if (this.incremental && this.command?.streaming) return;
    const { filterOutput: paths } = this.shaping;
    await this.print(true, paths !== undefined ? filterOutput(output, paths) : output);
  }

  async fail(e: unknown): Promise<void> {
    const error = errorObject(e);
    if (this.streamsJsonl) {
      out(JSON.stringify({ type: "error", ok: false, error }));
    } else if (this.incremental && this.command?.streaming && this.format === "toon") {
      out(error.code === "UNKNOWN" ? `Error: ${error.message}` : `Error (${error.code}): ${error.message}`);
    } else {
      await this.print(false, error);
    }
    process.exitCode = 1;
  }
}

/** Each command's entry of the core's table (`commandTable(name)`), as JSON, by its name, and
 * each tool's command: baked into the bundle from the table of the module it ships with
 * (scripts/bundle-cli.mjs), so that a start finds its command without building the table in
 * wasm (~1.5 ms of each start, `node bench/cli-cold.mjs`). Undefined outside the bundle. */
declare const LINKPAY_COMMANDS: { entries: Record<string, string>; tools: Record<string, string> } | undefined;

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
  const human = !explicit && stdoutIsTty();
  const format: Format = globals.format ?? (human ? "yaml" : "toon");

  if (globals.version) return void out(version);
  if (globals.updateCheck) return (await import("./update.js")).refresh(globals.auth);
  if (globals.update && !globals.help) {
    const printer = new Printer(format, false, undefined, globals);
    try {
      return await printer.done(await (await import("./update.js")).runUpdate(globals.auth));
    } catch (e) {
      return printer.fail(e);
    }
  }
  if (globals.mcp) {
    const { serveStdio } = await import("./mcp.js");
    return serveStdio({ authFile: globals.auth });
  }
  // The command's own entry first (cheap); the whole table only for help, docs and errors.
  const words = rest.filter((w) => !w.startsWith("-"));
  const lookup = (name: string): CommandSpec | undefined => {
    if (typeof LINKPAY_COMMANDS !== "object") return commandTable(name).commands[0];
    const { entries, tools } = LINKPAY_COMMANDS;
    const key = Object.hasOwn(tools, name) ? tools[name] : name;
    return Object.hasOwn(entries, key) ? (JSON.parse(entries[key]) as CommandSpec) : undefined;
  };
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
  const printer = new Printer(format, !explicit && format === "toon", command, globals);
  if (!command) {
    // A group alone is its help; anything else is the core's COMMAND_NOT_FOUND (exit 1).
    if (group && words.length < 2) return void out(helpText(version, commands, undefined, group));
    try {
      validateCommandInput(words.slice(0, group ? 2 : 1).join(" "), {});
    } catch (e) {
      return printer.fail(e);
    }
    return printer.fail(codedError("UNKNOWN", "command lookup disagreed with the core"));
  }
  if (globals.schema) return void out(await encode(command.inputSchema, format));

  try {
    const input = parseInput(command, args);
    if (printer.incremental && command.streaming) printer.toon = (await import("@toon-format/toon")).encode as (v: Json) => string;
    if (!command.mcp) {
      // The process-level commands (`sandbox`, `serve`, `demo`, `mcp add`, …) run here, not in
      // the core; those with an output print it like any command's.
      const { runProcessCommand } = await import("./process.js");
      const output = await runProcessCommand(command.name, validateCommandInput(command.name, input), { human, terminal: human && process.stdin.isTTY === true, authFile: globals.auth });
      if (output !== undefined) await printer.done(output);
      return;
    }
    // A person at a terminal is told of a newer linkpay on stderr; `auth status` carries it.
    const update = human || command.name === "auth status" ? (await import("./update.js")).checkForUpdate({ auth: globals.auth, notice: human, atExit: true }) : undefined;
    const link = new LinkClient({
      storage: credentialFile(globals.auth),
      logger: globals.verbose ? (line) => process.stderr.write(`[linkpay] ${line}\n`) : undefined,
      linkFetch: process.env.LINK_HTTP_PROXY ? (await import("./proxy.js")).linkFetchFromEnv() : undefined,
    });
    const terminal = human ? (await import("./tty.js")).terminalEvents(process.stderr.isTTY === true) : undefined;
    const output = await link.run(command.name, withAbsoluteOutputFile(input), {
      human,
      update,
      onEvent: (event) => {
        if (event.type === "chunk") printer.emit(event.data);
        else if (event.type === "warning") process.stderr.write(`${event.message}\n`);
        else terminal?.(event);
      },
    });
    await printer.done(output);
  } catch (e) {
    await printer.fail(e);
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  out(JSON.stringify(errorObject(e), null, 2));
  process.exitCode = 1;
});
