/**
 * The MCP server: one tool per command of the table (`auth_login`, `spend-request_create`, …),
 * its input schema from the table, input checked by the same Rust rules as the CLI's, errors as
 * `isError` with `{code, message, fieldErrors?}`. `linkpay --mcp` serves it on stdio, `linkpay
 * serve` over streamable HTTP at `/mcp` (loopback by default, bearer token, Host and Origin
 * checked).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { AjvJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/ajv";
import type { JsonSchemaType, JsonSchemaValidator, jsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/types.js";
import { CallToolRequestSchema, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { commandTable, version, LinkClient, type CommandSpec, type Json, type JsonObject } from "../index.js";
import { credentialFile, errorObject } from "./output.js";
import { withAbsoluteOutputFile } from "./argv.js";
import { BoundedStdioTransport } from "./stdio.js";
import { linkFetchFromEnv } from "./proxy.js";
import { checkForUpdate } from "./update.js";

export interface McpOptions {
  /** Credential file (else `LINK_AUTH_FILE`, else the default). */
  authFile?: string;
}

/** The one client of a server: its calls in flight at once share one token refresh (the
 * driver's refresh turn), which separate clients per call would not. */
function clientFor(options: McpOptions): () => LinkClient {
  let link: LinkClient | undefined;
  return () => (link ??= new LinkClient({ storage: credentialFile(options.authFile), linkFetch: linkFetchFromEnv() }));
}

/** The SDK's own (Ajv) validator, made on first use: the server validates only what it asks
 * the client for (elicitation), which linkpay never does, so `--mcp` (and each `serve`
 * request) does not pay for building Ajv at start (~9 ms). */
function lazyAjv(): jsonSchemaValidator {
  let ajv: jsonSchemaValidator | undefined;
  return {
    getValidator<T>(schema: JsonSchemaType): JsonSchemaValidator<T> {
      ajv ??= new AjvJsonSchemaValidator();
      return ajv.getValidator<T>(schema);
    },
  };
}

/** What a tool needs of its command. */
type Tool = Pick<CommandSpec, "name" | "tool" | "description" | "inputSchema" | "annotations">;

/** The table's commands with `mcp`, as JSON, put in the bundle by scripts/bundle-cli.mjs from
 * the same build's table: `--mcp` then does not build the whole table at each start (~10 ms of
 * wasm); without the bundle (tsc's output) the table is asked. */
declare const LINKPAY_MCP_TOOLS: string | undefined;
let tools: Tool[] | undefined;
const mcpTools = (): Tool[] =>
  (tools ??= typeof LINKPAY_MCP_TOOLS === "string" ? (JSON.parse(LINKPAY_MCP_TOOLS) as Tool[]) : commandTable().commands.filter((c) => c.mcp));

/** An MCP server exposing the table's commands as tools; `client` is the Link client its
 * calls share (default: one made on the first call). */
export function createMcpServer(options: McpOptions = {}, client: () => LinkClient = clientFor(options)): Server {
  const server = new Server({ name: "linkpay", version }, { capabilities: { tools: {} }, jsonSchemaValidator: lazyAjv() });
  const tools = mcpTools();
  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: tools.map((c) => ({ name: c.tool, description: c.description, inputSchema: c.inputSchema as { type: "object" }, annotations: c.annotations })),
  }));
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const fail = (e: unknown) => ({ isError: true, content: [{ type: "text" as const, text: JSON.stringify(errorObject(e)) }] });
    const command = tools.find((c) => c.tool === request.params.name);
    if (!command) return fail({ code: "INVALID_INPUT", message: `Unknown tool '${request.params.name}'` });
    const progressToken = request.params._meta?.progressToken;
    let progress = 0;
    try {
      const link = client();
      const input = withAbsoluteOutputFile((request.params.arguments ?? {}) as JsonObject);
      // `auth_status` carries a newer linkpay's versions, as the reference's does (no notice).
      const update = command.name === "auth status" ? checkForUpdate({ auth: options.authFile, notice: false }) : undefined;
      const value: Json = await link.run(command.name, input, {
        surface: "mcp",
        update,
        onEvent: (event) => {
          if (event.type !== "chunk" || progressToken === undefined) return;
          progress += 1;
          void extra.sendNotification({ method: "notifications/progress", params: { progressToken, progress, message: JSON.stringify(event.data) } }).catch(() => undefined);
        },
      });
      return { content: [{ type: "text" as const, text: JSON.stringify(value, null, 2) }] };
    } catch (e) {
      return fail(e);
    }
  });
  return server;
}

/** `linkpay --mcp`: MCP over stdio until stdin closes (a message over 10 MiB is answered with
 * an error and skipped, see `stdio.ts`). */
export async function serveStdio(options: McpOptions = {}): Promise<void> {
  await createMcpServer(options).connect(new BoundedStdioTransport());
}

export interface HttpServeOptions extends McpOptions {
  port: number;
  host: string;
  /** Bearer token clients must send (default `LINKPAY_SERVE_TOKEN`, else a random one). */
  token?: string;
}

export interface RunningServer {
  url: string;
  token: string;
  close(): Promise<void>;
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);
const WILDCARD = new Set(["0.0.0.0", "::", "[::]"]);
/** The largest request body read, in bytes. */
const MAX_BODY_BYTES = 1 << 20;

class BodyTooLarge extends Error {}

/**
 * Whether a `Host` (or an Origin's host) names this server. Bound to loopback or one address:
 * that address (and the loopback names) with the port. Bound to a wildcard address (`--host
 * 0.0.0.0` or `::`, which the user chose so that other machines connect): any IP literal or
 * `localhost` with the port, since a client reaches the machine by one of its addresses, which
 * the server cannot list reliably (NAT, containers). DNS rebinding, what the check is for, needs
 * a domain name the attacker controls, so host names other than `localhost` stay refused; the
 * bearer token is required either way.
 */
function hostAllowed(isIP: (name: string) => number, host: string, allowed: Set<string>, wildcard: boolean, port: number): boolean {
  if (allowed.has(host)) return true;
  if (!wildcard || !/^[a-z0-9.:[\]-]+$/.test(host)) return false;
  let url: URL;
  try {
    url = new URL(`http://${host}`);
  } catch {
    return false;
  }
  const name = url.hostname.replace(/^\[(.*)\]$/, "$1");
  return (url.port || "80") === String(port) && (name === "localhost" || isIP(name) !== 0);
}

/** `Authorization: Bearer <token>`, the scheme in any case (RFC 7235 §2.1). */
function bearerMatches(timingSafeEqual: (a: Buffer, b: Buffer) => boolean, header: string | undefined, token: Buffer): boolean {
  const m = /^bearer +(.*)$/i.exec(header ?? "");
  const given = Buffer.from(m ? m[1].trim() : "");
  return m !== null && given.length === token.length && timingSafeEqual(given, token);
}

function send(res: ServerResponse, status: number, body: JsonObject, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "Content-Type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  if (Number(req.headers["content-length"] ?? 0) > MAX_BODY_BYTES) throw new BodyTooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new BodyTooLarge();
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  return text === "" ? undefined : JSON.parse(text);
}

/** `GET /.well-known/skills/index.json` (`{skills: [{name, description, files}]}`) and
 * `GET /.well-known/skills/<skill>/SKILL.md`: the skills shipped in the package. */
async function wellKnownSkills(res: ServerResponse, path: string, headers: Record<string, string>): Promise<void> {
  const { shippedSkills } = await import("./agents.js");
  const skills = await shippedSkills();
  const rest = path.slice("/.well-known/skills/".length).split("/");
  const cache = { "Cache-Control": "public, max-age=300" };
  if (rest.length === 1 && rest[0] === "index.json") {
    const index = skills.map((s) => ({ name: s.name, description: s.description, files: ["SKILL.md"] }));
    return send(res, 200, { skills: index }, { ...headers, ...cache });
  }
  const skill = rest.length === 2 && rest[1] === "SKILL.md" ? skills.find((s) => s.name === rest[0]) : undefined;
  if (!skill) return send(res, 404, { error: "not found" }, headers);
  res.writeHead(200, { "Content-Type": "text/markdown; charset=utf-8", ...headers, ...cache });
  res.end(skill.content);
}

/** `linkpay serve`: streamable HTTP at `/mcp`, stateless (a fresh server per request). */
export async function serveHttp(options: HttpServeOptions): Promise<RunningServer> {
  // Loaded here, not at the top: `--mcp` (stdio) needs none (node:http, node:crypto, node:net,
  // and the SDK's HTTP transport with hono's server and undici, ~40 ms of every `--mcp` start).
  const { createServer: createHttpServer } = await import("node:http");
  const { randomBytes, timingSafeEqual } = await import("node:crypto");
  const { isIP } = await import("node:net");
  const { StreamableHTTPServerTransport } = await import("@modelcontextprotocol/sdk/server/streamableHttp.js");
  const token = options.token ?? (process.env.LINKPAY_SERVE_TOKEN?.trim() || randomBytes(24).toString("base64url"));
  const expected = Buffer.from(token);
  let allowedHosts = new Set<string>();
  // One client for every request (each gets a fresh MCP server, not a fresh client).
  const client = clientFor(options);
  let port = options.port;
  const wildcard = WILDCARD.has(options.host);
  const allowed = (host: string) => hostAllowed(isIP, host, allowedHosts, wildcard, port);
  const http = createHttpServer((req, res) => {
    void handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, { error: "Internal server error" });
    });
  });
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // DNS rebinding and cross-site requests: only our own Host and Origin.
    const host = (req.headers.host ?? "").toLowerCase();
    if (!allowed(host)) return send(res, 403, { error: "forbidden host" });
    const origin = req.headers.origin;
    let allowOrigin: Record<string, string> = {};
    if (origin !== undefined) {
      let originHost = "";
      try {
        originHost = new URL(origin).host.toLowerCase();
      } catch {
        originHost = "";
      }
      if (!allowed(originHost)) return send(res, 403, { error: "forbidden origin" });
      allowOrigin = {
        "Access-Control-Allow-Origin": origin,
        Vary: "Origin",
        "Access-Control-Allow-Methods": "POST, OPTIONS",
        "Access-Control-Allow-Headers": "Authorization, Content-Type, Accept, Mcp-Session-Id, Mcp-Protocol-Version",
      };
    }
    const path = (req.url ?? "/").split("?")[0];
    // Agent Skills Discovery, as the reference serves it: public files, no token.
    if (path.startsWith("/.well-known/skills/") && req.method === "GET") return wellKnownSkills(res, path, allowOrigin);
    if (path !== "/mcp") return send(res, 404, { error: "not found" }, allowOrigin);
    if (req.method === "OPTIONS") {
      res.writeHead(204, allowOrigin);
      return void res.end();
    }
    if (!bearerMatches(timingSafeEqual, req.headers.authorization, expected)) {
      return send(res, 401, { error: "unauthorized" }, { ...allowOrigin, "WWW-Authenticate": 'Bearer realm="linkpay"' });
    }
    if (req.method !== "POST") return send(res, 405, { error: "method not allowed" }, { ...allowOrigin, Allow: "POST" });
    for (const [k, v] of Object.entries(allowOrigin)) res.setHeader(k, v);
    let body: unknown;
    try {
      body = await readJson(req);
    } catch (e) {
      if (e instanceof BodyTooLarge) {
        res.setHeader("Connection", "close");
        return send(res, 413, { jsonrpc: "2.0", error: { code: -32600, message: `Request body larger than this server's limit of 1 MiB (${MAX_BODY_BYTES} bytes)` }, id: null });
      }
      return send(res, 400, { jsonrpc: "2.0", error: { code: -32700, message: "Parse error" }, id: null });
    }
    const server = createMcpServer(options, client);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on("close", () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport as unknown as Parameters<Server["connect"]>[0]);
    await transport.handleRequest(req, res, body);
  }
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(options.port, options.host, () => resolve());
  });
  const address = http.address();
  port = typeof address === "object" && address ? address.port : options.port;
  const bound = options.host.includes(":") ? `[${options.host}]` : options.host;
  allowedHosts = new Set([`${bound}:${port}`.toLowerCase()]);
  if (LOOPBACK.has(options.host)) for (const h of ["127.0.0.1", "localhost", "[::1]"]) allowedHosts.add(`${h}:${port}`);
  return {
    url: `http://${bound}:${port}/mcp`,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}
