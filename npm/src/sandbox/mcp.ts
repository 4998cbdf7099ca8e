/**
 * The sandbox's paid MCP server (mppx's convention, `mppx/src/mcp/server/Transport.ts`): tools
 * that cost money answer `tools/call` with the JSON-RPC error `-32042` "Payment Required" and
 * `data: {httpStatus: 402, challenges, problem}`; a call with the credential object in
 * `params._meta["org.paymentauth/credential"]` is answered with the tool's result and the
 * receipt in `result._meta["org.paymentauth/receipt"]` (`{...receipt, challengeId}`); a
 * credential the merchant refuses is `-32043` (`-32602` when malformed), as mppx 0.11 maps them.
 *
 * It is a bridge to the sandbox's MPP merchant (`merchant.ts`): each paid tool is one of its
 * paid routes, whose 402 challenges it passes on as challenge objects, and whose verification
 * (HMAC-bound id, the sandbox's shared payment tokens, single use) decides a credential, sent
 * as the header it stands for. So the MCP server and the HTTP merchant are paid the same way.
 *
 * - `forecast`: $1.00 (`GET /merchant/api/forecast`).
 * - `archive`: $2.50, a tempo challenge first, then a stripe one with an `externalId`
 *   (`GET /merchant/api/archive`).
 * - `conditions`: free.
 *
 * Run it as a stdio process with `linkpay mcp sandbox [--merchant <url>]` (or
 * `node dist/sandbox/mcp-server.js` from a checkout).
 */
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { CallToolRequestSchema, ListToolsRequestSchema, McpError } from "@modelcontextprotocol/sdk/types.js";
import { isLinkpayError, mcpChallengeObjects, mcpCredentialHeader, parseReceipt, version, type JsonObject } from "../index.js";

const PAYMENT_REQUIRED = -32042;
const VERIFICATION_FAILED = -32043;
const INVALID_PARAMS = -32602;
const CREDENTIAL_KEY = "org.paymentauth/credential";
const RECEIPT_KEY = "org.paymentauth/receipt";

interface Tool {
  description: string;
  /** The merchant's paid route (`/merchant/api/<route>`); none: free. */
  route?: string;
}

const TOOLS: Record<string, Tool> = {
  forecast: { description: "Weather forecast for San Francisco. Costs $1.00 (paid with MPP: stripe).", route: "forecast" },
  archive: { description: "Historical weather archive for San Francisco. Costs $2.50 (paid with MPP: stripe, with an order reference).", route: "archive" },
  conditions: { description: "Current conditions in San Francisco (free)." },
};

/** The problem type's slug (`…/problems/verification-failed` → `verification-failed`). */
const slug = (problem: unknown): string => String((problem as { type?: unknown } | undefined)?.type ?? "").split("/").pop() ?? "";

/** The paid MCP server over the merchant at `merchantUrl` (`<sandbox>/merchant`). */
export function paidMcpServer(merchantUrl: string, fetchFn: typeof fetch = fetch): Server {
  const server = new Server({ name: "linkpay-sandbox-paid-tools", version }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: Object.entries(TOOLS).map(([name, tool]) => ({ name, description: tool.description, inputSchema: { type: "object" as const, properties: {} } })),
  }));
  server.setRequestHandler(CallToolRequestSchema, async (request) => {
    const name = request.params.name;
    const tool = Object.hasOwn(TOOLS, name) ? TOOLS[name] : undefined;
    if (tool === undefined) throw new McpError(INVALID_PARAMS, `Unknown tool: ${name}`);
    if (tool.route === undefined) return { content: [{ type: "text" as const, text: JSON.stringify({ location: "San Francisco, CA", now: { summary: "Fog", temp_c: 14 } }) }] };
    const credential = (request.params._meta as Record<string, unknown> | undefined)?.[CREDENTIAL_KEY];
    const headers: Record<string, string> = {};
    if (credential !== undefined) {
      try {
        const { header, value } = mcpCredentialHeader(credential);
        headers[header] = value;
      } catch (e) {
        if (!isLinkpayError(e)) throw e;
        throw new McpError(INVALID_PARAMS, e.message);
      }
    }
    const res = await fetchFn(`${merchantUrl}/api/${tool.route}`, { headers });
    if (res.status === 402) {
      const problem = (await res.json().catch(() => undefined)) as JsonObject | undefined;
      const challenges = mcpChallengeObjects(res.headers.get("www-authenticate") ?? "");
      const code = credential === undefined || slug(problem) === "payment-required" ? PAYMENT_REQUIRED : slug(problem) === "malformed-credential" ? INVALID_PARAMS : VERIFICATION_FAILED;
      const message = code === PAYMENT_REQUIRED ? "Payment Required" : String(problem?.detail ?? "Payment verification failed");
      throw new McpError(code, message, { httpStatus: 402, challenges, ...(problem === undefined ? {} : { problem }) });
    }
    if (!res.ok) throw new McpError(-32603, `The merchant answered ${res.status}`);
    const body = (await res.json()) as JsonObject;
    const receiptHeader = res.headers.get("payment-receipt");
    const challengeId = String((credential as { challenge?: { id?: unknown } }).challenge?.id ?? "");
    return {
      content: [{ type: "text" as const, text: JSON.stringify(body) }],
      ...(receiptHeader === null ? {} : { _meta: { [RECEIPT_KEY]: { ...parseReceipt(receiptHeader), challengeId } } }),
    };
  });
  return server;
}

/** `linkpay mcp sandbox`: the paid MCP server on stdio until stdin closes. The merchant defaults
 * to `$LINK_API_BASE_URL/merchant` (the sandbox serves both), else http://127.0.0.1:4242/merchant. */
export async function serveSandboxMcp(merchant?: string): Promise<void> {
  const base = process.env.LINK_API_BASE_URL?.trim() || "http://127.0.0.1:4242";
  const server = paidMcpServer((merchant ?? `${base.replace(/\/$/, "")}/merchant`).replace(/\/$/, ""));
  const transport = new StdioServerTransport();
  await new Promise<void>((resolve) => {
    transport.onclose = resolve;
    process.stdin.on("end", resolve);
    void server.connect(transport);
  });
}
