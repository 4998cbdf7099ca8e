/**
 * Paid MCP tool calls for an MCP SDK `Client` (Node entry): `link.payMcp(client, options)`.
 * Whether and how to pay is the core's (`Client::mcp_payment`, mppx's `-32042` convention);
 * this module only calls the tool, hands the answer to the core and calls once more with the
 * params it returns. It never imports the MCP SDK: the caller passes their own `Client`.
 */
import { codedError } from "./host/types.js";
import { drivers, snake, type PaymentApproval, type PaymentOptions } from "./client.js";

const ORIGINAL = Symbol.for("linkpay.mcp.callTool");

/** The core's decision on an MCP server's answer to `tools/call` (`{error}` or `{result}`):
 * the params to call again with (the credential in their `_meta`), or `null` to pass the
 * answer on. `payMcp` and `linkpay mcp proxy` both pay through this. */
export async function paymentFor(link: object, response: unknown, params: unknown, options: McpPaymentOptions): Promise<{ name: string; _meta?: Record<string, unknown> } | null> {
  const driver = drivers.get(link);
  if (driver === undefined) throw codedError("INVALID_INPUT", "payMcp needs a LinkClient");
  const d = await driver();
  if (d.mcpPayment === undefined) throw codedError("INVALID_INPUT", "Paid MCP calls need the Node module");
  // A string `context` goes with the options (the core checks it); a function is called by the core.
  const { onApproval, serverUrl, ...rest } = options;
  // As the JSON the answer travels in: an in-process transport hands over objects whose
  // `undefined` members JSON leaves out (and mppx's challenge ids bind the JSON form).
  const wire = (v: unknown): unknown => (v === undefined ? null : JSON.parse(JSON.stringify(v)));
  return (await d.mcpPayment(wire(response), wire(params), serverUrl, snake(rest), options.context, (v) => onApproval?.(v as PaymentApproval))) as { name: string } | null;
}

/** Options of `link.payMcp`: `link.fetch`'s, plus the server's URL when it has one. */
export interface McpPaymentOptions extends PaymentOptions {
  /** The MCP server's URL (an HTTP transport): the challenge's realm must be its host, unless
   * `allowRealms` admits it. A stdio server has none: then, when `allowRealms` is given, the
   * realm must be one of them. */
  serverUrl?: string;
  /** For the person approving; when absent (here only), the core writes one naming the tool,
   * the server's realm, the price and the server's description. */
  context?: PaymentOptions["context"];
}

/** The part of an MCP SDK `Client` that `payMcp` wraps. */
export interface McpToolCaller {
  callTool(params: { name: string; arguments?: Record<string, unknown>; _meta?: Record<string, unknown> }, ...rest: never[]): Promise<unknown>;
}

/** `link.payMcp`: replaces `client.callTool` in place (as mppx's `McpClient.wrap` does; again,
 * with other options or another client, replaces the configuration) and returns the client. A call answered `-32042` with a payable stripe challenge is paid through
 * Link under the guardrails (a refusal is `PAYMENT_GUARDRAIL`, and nothing is created), the
 * person approves, and the call is made once more with the credential in
 * `_meta["org.paymentauth/credential"]`: its result (read the receipt with `mcpReceiptOf`) or
 * its error comes back. Any other answer comes back as it came. */
export function payMcp<C extends McpToolCaller>(link: object, client: C, options: McpPaymentOptions = {}): C {
  if (!drivers.has(link)) throw codedError("INVALID_INPUT", "payMcp needs a LinkClient");
  // Wrapping again replaces the configuration (as mppx's `wrap` does), not wraps the wrapper.
  const target = client as C & { [ORIGINAL]?: C["callTool"] };
  const unwrapped = target[ORIGINAL] ?? client.callTool;
  Object.defineProperty(target, ORIGINAL, { configurable: true, value: unwrapped });
  const original = unwrapped.bind(client) as (...args: unknown[]) => Promise<unknown>;
  const callTool = async (params: { name: string; _meta?: Record<string, unknown> }, ...more: unknown[]): Promise<unknown> => {
    let answer: unknown;
    let response: unknown;
    let failed = false;
    try {
      answer = await original(params, ...more);
      response = { result: answer };
    } catch (e) {
      // A JSON-RPC error (the SDK's McpError has `code` and `data`); anything else is not an answer.
      const error = e as { code?: unknown; message?: unknown; data?: unknown } | null;
      if (typeof error?.code !== "number") throw e;
      answer = e;
      failed = true;
      response = { error: { code: error.code, message: String(error.message ?? ""), data: error.data } };
    }
    const paid = await paymentFor(link, response, params, options);
    if (paid === null) {
      if (failed) throw answer;
      return answer;
    }
    return original(paid, ...more);
  };
  Object.defineProperty(client, "callTool", { configurable: true, enumerable: false, writable: true, value: callTool });
  return client;
}
