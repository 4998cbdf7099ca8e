/**
 * linkpay: one-time payment credentials from a Link wallet for AI agents.
 *
 * Every rule lives in the Rust core (compiled to WebAssembly); this module only gives it
 * TypeScript types. Failures are `Error`s with a stable `.code` (and `.fieldErrors` for
 * `VALIDATION_ERROR`).
 */
import { createRequire } from "node:module";
// The wasm-bindgen glue is CommonJS: `require` skips the named-export scan an ESM import of it
// runs (several ms of every CLI cold start).
const core: typeof import("#wasm") = createRequire(import.meta.url)("#wasm");
import { hostname as osHostname } from "node:os";
import { LinkClientBase, type LinkClientOptions } from "./client.js";
import { bindCore } from "./binding.js";
import { FileStorage, authFilePath, defaultConfigPath, type FileStorageOptions } from "./host/file.js";
import { MemoryStorage } from "./host/memory.js";
import { payMcp, type McpPaymentOptions, type McpToolCaller } from "./mcp-pay.js";
import type { Json, JsonObject, Receipt } from "./types.js";

// The pure functions (validation, state machines, MPP decoding), bound to the Node build.
bindCore(core);
export * from "./core.js";

/** Every stable error code. */
export const errorCodes: readonly string[] = core.errorCodes();

/** The package version (equal to the Rust core's). */
export const version: string = core.version();

/** `WebAssembly.Module` where the program's lib declares it (DOM, WebWorker), else `never`: the
 * Node entry's declarations need no lib beyond what `fetch` needs (DOM or @types/node). */
type WasmModule = typeof globalThis extends { WebAssembly: { Module: abstract new (...args: never[]) => infer M } } ? M : never;

/** What the browser entry's `init` accepts (its `WasmSource`, spelled without DOM-only names);
 * the Node entry's `init` ignores it. */
export type WasmSource = string | URL | Request | Response | ArrayBuffer | ArrayBufferView | WasmModule;

/**
 * Does nothing and resolves: the Node entry loads its wasm module synchronously at import. It
 * is here, with the browser entry's signature, so that code written for both entries (`await
 * init()` before the synchronous functions) runs unchanged in Node.
 */
export async function init(source?: WasmSource): Promise<void> {
  void source;
}

// ------------------------------------------------------------------ the client (Node defaults)


export type { LinkClientOptions, RunOptions, RunEvent, PollOptions, WaitForOptions, PayOptions, PaymentOptions, PaymentApproval, CreateTokenParameters, LoginPending, LoginDone, LoginOptions, LoginWaitOptions, CreateSpendRequestInput } from "./client.js";
export type { LinkStorage, FetchFunction, Logger } from "./host/types.js";
export type { McpPaymentOptions, McpToolCaller } from "./mcp-pay.js";

/** An MPP receipt as a paid MCP tool result carries it (`_meta["org.paymentauth/receipt"]`):
 * the receipt plus the `challengeId` it paid. */
export type McpReceipt = Receipt & { challengeId?: string };

/** The receipt of a paid MCP tool result (`_meta["org.paymentauth/receipt"]`, sanitized), or
 * `null` when it has none. */
export function mcpReceiptOf(result: unknown): McpReceipt | null {
  return (core.mcpReceipt(result) as McpReceipt | null) ?? null;
}
export { FileStorage, MemoryStorage, authFilePath, defaultConfigPath, type FileStorageOptions };

/** Node defaults: `LINK_*` environment variables, and the credential file (`LINK_AUTH_FILE`). */
function nodeEnv(): Partial<LinkClientOptions> {
  const env = process.env;
  const text = (v: string | undefined) => (v && v.trim() !== "" ? v : undefined);
  return {
    apiBaseUrl: text(env.LINK_API_BASE_URL),
    authBaseUrl: text(env.LINK_AUTH_BASE_URL),
    accessToken: text(env.LINK_ACCESS_TOKEN),
    refreshToken: text(env.LINK_REFRESH_TOKEN),
    // As the reference: any non-empty value turns refreshing off.
    noRefresh: text(env.LINK_NO_REFRESH) !== undefined ? true : undefined,
  };
}

/**
 * The Link wallet for agents. In Node it defaults to the environment (`LINK_API_BASE_URL`,
 * `LINK_AUTH_BASE_URL`, `LINK_ACCESS_TOKEN`, `LINK_REFRESH_TOKEN`, `LINK_NO_REFRESH`) and keeps
 * the session in a 0600 file (`LINK_AUTH_FILE`, else `~/.config/linkpay/config.json`).
 */
export class LinkClient extends LinkClientBase {
  constructor(options: LinkClientOptions = {}) {
    super(() => core.WasmClient, options, {
      env: nodeEnv,
      storage: () => new FileStorage(authFilePath()),
      hostname: () => osHostname(),
      writeFile: async (path, contents, replace) => (await import("./host/secret-file.js")).writeSecretFile(path, contents, replace),
    });
  }

  /**
   * Makes an MCP SDK `Client`'s tool calls that cost money payable through Link (mppx's
   * convention: `-32042` with the challenges, the credential in
   * `_meta["org.paymentauth/credential"]`): `client.callTool` is replaced in place and the
   * client returned. A payable stripe challenge is paid under `link.fetch`'s guardrails and
   * ledger, after the person approves; `mcpReceiptOf(result)` reads the receipt. Node only.
   */
  payMcp<C extends McpToolCaller>(client: C, options: McpPaymentOptions = {}): C {
    return payMcp(this, client, options);
  }
}

// ---------------------------------------------------------------------------------------------
// Sandbox/server side (append-only): what the local sandbox needs to answer like the Link API.
// ---------------------------------------------------------------------------------------------

/** The OAuth client id the Link auth server accepts (the reference client's public id). */
export const authClientId: string = core.authClientId();

/** Validates the wire body of `POST /spend_requests/{id}` (`payment_details` names the payment
 * method); returns the normalised wire body. Same rules and messages as `validateUpdateSpendRequest`. */
export function validateUpdateSpendRequestBody(body: JsonObject): JsonObject {
  return core.validateUpdateSpendRequestBody(body) as JsonObject;
}

/** What the merchant fills in to issue an MPP challenge. */
export interface MppChallengeSpec {
  realm: string;
  method: string;
  intent: string;
  /** Sent as base64url JCS. */
  request: JsonObject;
  description?: string;
  digest?: string;
  /** RFC 3339. */
  expires?: string;
  /** A string map, sent as base64url JCS. */
  opaque?: { [key: string]: string };
  /** `"Payment-Authorization"` to ask for that header. */
  header?: string;
}

/** Issues an MPP challenge whose id is the HMAC of its fields under `secret` (≥ 32 bytes):
 * the challenge (as `decodeChallenges` shows it) and its `WWW-Authenticate` value. */
export function mppIssueChallenge(secret: string, spec: MppChallengeSpec): { challenge: JsonObject; www_authenticate: string } {
  return core.mppIssueChallenge(secret, spec) as { challenge: JsonObject; www_authenticate: string };
}

/** A verified MPP credential; `stripe` is the decoded stripe request. */
export interface MppVerifiedCredential {
  challenge: JsonObject;
  payload: JsonObject;
  source?: string;
  stripe?: { amount: number; currency: string; network_id: string; payment_method_types: string[]; external_id?: string };
}

/** Verifies a credential received in `headerName` at `nowMs`: HMAC id, expiry, header. Errors
 * carry `details.problem` (the RFC 9457 type URI) and `details.status`. */
export function mppVerifyCredential(secret: string, headerName: string, headerValue: string, nowMs: number = Date.now()): MppVerifiedCredential {
  return core.mppVerifyCredential(secret, headerName, headerValue, nowMs) as MppVerifiedCredential;
}

/** RFC 9457 problem details (`problem` is a slug such as `verification-failed`, or a type URI). */
export function mppProblem(problem: string, detail: string, challengeId?: string): JsonObject {
  return core.mppProblem(problem, detail, challengeId) as JsonObject;
}

/** Encodes a `Payment-Receipt` value from `{method, reference, timestamp, externalId?, …}`. */
export function mppEncodeReceipt(receipt: JsonObject): string {
  return core.mppEncodeReceipt(receipt) as string;
}

/** The sandbox's paid MCP server: a merchant's `WWW-Authenticate` challenges as the challenge
 * objects of an MCP `-32042` answer (mppx's convention: `request` an object). */
export function mcpChallengeObjects(header: string | string[]): JsonObject[] {
  return core.mcpChallengeObjects(header) as JsonObject[];
}

/** The sandbox's paid MCP server: the credential object of `_meta["org.paymentauth/credential"]`
 * as the header it stands for, to send to the merchant. `MPP_MALFORMED_CREDENTIAL` otherwise. */
export function mcpCredentialHeader(credential: unknown): { header: string; value: string } {
  return core.mcpCredentialHeader(credential) as { header: string; value: string };
}

// ---------------------------------------------------------------------------------------------
// CLI/MCP side (append-only): the command table of `src/commands.rs` (Node module only).
// ---------------------------------------------------------------------------------------------

/** One input key of a command, as the CLI parses it. */
export interface CommandOption {
  /** camelCase: the JSON Schema property and MCP argument. */
  key: string;
  /** kebab-case long flag, without `--`. */
  flag: string;
  short?: string;
  type: "string" | "integer" | "number" | "boolean" | "pairs" | "json";
  enum?: string[];
  repeatable: boolean;
  required: boolean;
  positional: boolean;
  default?: Json;
  description: string;
  hidden: boolean;
}

/** One command of the table: the CLI command, its MCP tool and its input schema. */
export interface CommandSpec {
  name: string;
  tool: string;
  description: string;
  streaming: boolean;
  mcp: boolean;
  /** What calling it does, as MCP tool annotations (`tools/list` shows them). */
  annotations: { readOnlyHint: boolean; destructiveHint: boolean; idempotentHint: boolean; openWorldHint: boolean };
  inputSchema: JsonObject;
  options: CommandOption[];
}

/** The command table the CLI's flags, help, `--schema`, `--llms-full` and the MCP tools come
 * from; only the command `name` (none if unknown) when given. */
export function commandTable(name?: string): { version: string; commands: CommandSpec[]; globalOptions?: [string, string][] } {
  return JSON.parse(core.commandTable(name)) as { version: string; commands: CommandSpec[]; globalOptions?: [string, string][] };
}

/** `--filter-output <paths>` (`id,card.last4,line_items[0,3]`): the parts of an output the
 * paths name, as the reference's framework filters. */
export function filterOutput(value: Json, expression: string): Json {
  return core.filterOutput(value, expression) as Json;
}

/** `linkpay completions <shell>`: a completion script for bash, zsh, fish or nushell, from the command table. */
export function completionScript(shell: string): string {
  return core.completionScript(shell) as string;
}

/** `linkpay mcp add`/`mcp doctor`: the agent hosts' MCP config files (`src/agent_host.rs`), global
 * or the project's (`project`), only `agents` when given: `[{id, name, path, key, detect}]`. */
export function mcpHosts(env: JsonObject, project: boolean, agents: string[]): Json {
  return core.mcpHosts(env, project, agents) as Json;
}

/** `linkpay mcp add`: a host's config text with linkpay registered to run `command`; the same
 * text when it already is. A config that is not a JSON object is `STORAGE_ERROR`. */
export function mcpConfigWith(existing: string, host: string, project: boolean, command: string): string {
  return core.mcpConfigWith(existing, host, project, command) as string;
}

/** `linkpay mcp doctor`: linkpay's entry in a host's config text: `{registered, command?}`. */
export function mcpRegistration(existing: string, host: string, project: boolean): Json {
  return core.mcpRegistration(existing, host, project) as Json;
}

/** `linkpay skills add`/`skills list`: the directories skill `skill` is installed into. */
export function skillDirs(env: JsonObject, project: boolean, skill: string): Json {
  return core.skillDirs(env, project, skill) as Json;
}

/** Checks a command's input (camelCase keys) with the client's rules before any request; returns
 * it in the core's snake_case vocabulary with defaults, or throws `VALIDATION_ERROR`. */
export function validateCommandInput(name: string, input: JsonObject, now: number = Math.floor(Date.now() / 1000)): JsonObject {
  return core.validateCommandInput(name, input, now) as JsonObject;
}

/** The CLI's update check (`src/update.rs`): `{env, cache (the cache file's text or null),
 * now_ms, notice}` in; `{update?, notice?, refresh, schedule?, registry_url?}` out. */
export function updateCheck(input: JsonObject): JsonObject {
  return core.updateCheck(input) as JsonObject;
}

/** The registry's answer as the update cache's text, or null when it names no version. */
export function updateRefreshed(body: string, nowMs: number): string | null {
  return core.updateRefreshed(body, nowMs) ?? null;
}

/** The registry URL the update check asks, from the environment's variables. */
export function updateRegistryUrl(env: JsonObject): string {
  return core.updateRegistryUrl(env) as string;
}

/** `linkpay --update`: `{current_version, latest_version?, update_command}`. */
export function updatePlan(cache: string | null): JsonObject {
  return core.updatePlan(cache ?? undefined) as JsonObject;
}

/** `LINK_HTTP_PROXY` checked: the proxy URL, or a `VALIDATION_ERROR` at path `LINK_HTTP_PROXY`. */
export function validateProxyUrl(url: string): string {
  return core.validateProxyUrl(url) as string;
}
