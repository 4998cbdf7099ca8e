// tests/vectors/commands.json: every command with the same input, against a fresh sandbox, by
// three of the five runners — LinkClient.run, the CLI (`linkpay <command> --format json`) and
// the MCP tools (`linkpay --mcp`) — each output equal, after the vector's normalisation, to the
// one the file holds (which the Rust runner and the WASI component's `run` also check).
// Over MCP the hints name tools, not command lines: a step whose MCP output differs has it in
// `expect_mcp`. LINKPAY_BLESS=1 rewrites the file's `expect` from LinkClient.run and
// `expect_mcp` from the MCP tools.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { LinkClient, MemoryStorage, commandTable } from "../dist/index.js";
import { startSandbox } from "../dist/sandbox/index.js";

const here = dirname(fileURLToPath(import.meta.url));
const FILE = join(here, "..", "..", "tests", "vectors", "commands.json");
const BIN = join(here, "..", "dist", "cli", "linkpay.cjs");
const vectors = JSON.parse(readFileSync(FILE, "utf8"));
const bless = process.env.LINKPAY_BLESS === "1";
const run = promisify(execFile);

/** The vector's normalisation: listed keys become "*", then the replacements on every string. */
function normalize(value) {
  const patterns = vectors.normalize.replace.map(([re, text]) => [new RegExp(re, "g"), text]);
  const walk = (v) => {
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === "object") {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, vectors.normalize.keys.includes(k) ? "*" : walk(x)]));
    }
    return typeof v === "string" ? patterns.reduce((s, [re, text]) => s.replace(re, text), v) : v;
  };
  return walk(value);
}

/** `{sandbox}` and `{{name}}` in an input. */
function substitute(input, sb, saved) {
  const text = JSON.stringify(input).replaceAll("{sandbox}", sb.url).replace(/\{\{(\w+)\}\}/g, (_, n) => saved[n] ?? "");
  return JSON.parse(text);
}

const errorOf = (e) => {
  const out = { code: e.code, message: e.message };
  if (Array.isArray(e.fieldErrors) && e.fieldErrors.length > 0) out.fieldErrors = e.fieldErrors;
  if (e.details !== null && typeof e.details === "object" && !Array.isArray(e.details)) out.details = e.details;
  return out;
};

/** The id a later step refers to: the last value's (a streaming command's last chunk). */
const idOf = (output) => (Array.isArray(output) ? output.at(-1) : output)?.id;

/** argv for an input, per the command table (the inverse of the CLI's parsing). */
function argv(command, input) {
  const spec = commandTable(command).commands[0];
  const args = command.split(" ");
  for (const [key, value] of Object.entries(input)) {
    const opt = spec?.options.find((o) => o.key === key);
    if (!opt) {
      args.push(`--${key}`, String(value));
      continue;
    }
    for (const v of Array.isArray(value) ? value : [value]) {
      if (opt.positional) args.push(String(v));
      else if (opt.type === "boolean") args.push(v ? `--${opt.flag}` : `--no-${opt.flag}`);
      else args.push(`--${opt.flag}`, typeof v === "object" ? JSON.stringify(v) : String(v));
    }
  }
  return args;
}

const RUNNERS = {
  async "LinkClient.run"(sb, token) {
    const clients = {
      token: new LinkClient({ apiBaseUrl: sb.apiUrl, authBaseUrl: sb.authUrl, accessToken: token, storage: new MemoryStorage() }),
      none: new LinkClient({ apiBaseUrl: sb.apiUrl, authBaseUrl: sb.authUrl, storage: new MemoryStorage() }),
    };
    return {
      async call(step, input) {
        try {
          return { output: await clients[step.auth].run(step.command, input) };
        } catch (e) {
          return { error: errorOf(e) };
        }
      },
      close: async () => {},
    };
  },

  async cli(sb, token, dir) {
    const env = (auth) => ({ PATH: process.env.PATH, HOME: dir, LINK_AUTH_FILE: join(dir, `${auth}.json`), ...sb.env, ...(auth === "token" ? { LINK_ACCESS_TOKEN: token } : {}) });
    return {
      async call(step, input) {
        const r = await run(process.execPath, [BIN, ...argv(step.command, input), "--format", "json"], { env: env(step.auth) }).catch((e) => e);
        const printed = JSON.parse(r.stdout);
        return r.code ? { error: printed } : { output: printed };
      },
      close: async () => {},
    };
  },

  async mcp(sb, token, dir) {
    const clients = {};
    for (const auth of ["token", "none"]) {
      const env = { PATH: process.env.PATH, HOME: dir, LINK_AUTH_FILE: join(dir, `mcp-${auth}.json`), ...sb.env, ...(auth === "token" ? { LINK_ACCESS_TOKEN: token } : {}) };
      const client = new Client({ name: "vectors", version: "1.0.0" });
      await client.connect(new StdioClientTransport({ command: process.execPath, args: [BIN, "--mcp"], env }));
      clients[auth] = client;
    }
    return {
      async call(step, input) {
        const tool = step.command.replace(" ", "_");
        const r = await clients[step.auth].callTool({ name: tool, arguments: input });
        const value = JSON.parse(r.content[0].text);
        return r.isError ? { error: value } : { output: value };
      },
      close: async () => Promise.all(Object.values(clients).map((c) => c.close())),
    };
  },
};

for (const [name, make] of Object.entries(RUNNERS)) {
  test(`commands.json: ${name}`, { skip: bless && name !== "LinkClient.run" && name !== "mcp" }, async () => {
    const sb = await startSandbox({ autoApprove: true });
    const dir = mkdtempSync(join(tmpdir(), "linkpay-commands-"));
    // With every financial-insights source action (transactions, sources and balances list).
    const token = sb.issueTokens(undefined, { sourceActions: ["read_balances", "read_external_transactions", "read_link_transactions", "read_source_details"] }).access_token;
    const runner = await make(sb, token, dir);
    const saved = {};
    try {
      for (const step of vectors.steps) {
        const raw = await runner.call(step, substitute(step.input, sb, saved));
        const actual = normalize(raw);
        if (bless && name === "mcp") {
          if (JSON.stringify(actual) === JSON.stringify(step.expect)) delete step.expect_mcp;
          else step.expect_mcp = actual;
        } else if (bless) step.expect = actual;
        else assert.deepStrictEqual(actual, name === "mcp" ? (step.expect_mcp ?? step.expect) : step.expect, `${name}: ${step.name}`);
        if (step.save) saved[step.save] = idOf(raw.output);
      }
    } finally {
      await runner.close();
      await sb.close();
      rmSync(dir, { recursive: true, force: true });
    }
    if (bless) writeFileSync(FILE, JSON.stringify(vectors, null, 2) + "\n");
  });
}
