/**
 * `linkpay mcp proxy -- <command> [args…]`: an MCP stdio server to the host that spawns the paid
 * MCP server and forwards every message both ways, line by line (MCP's stdio framing), as it
 * came. Only an answer to a `tools/call` is looked at: the core (`Client::mcp_payment`, the
 * same pay flow, guardrails and ledger as `link.fetch` and `link.payMcp`) decides whether it
 * asks for a payment linkpay makes (`-32042` with a stripe challenge); if so the person is
 * asked, and the call is sent again (under an id of the proxy's own, which MCP requires to be
 * new) with the credential in `_meta["org.paymentauth/credential"]`; the server's answer to
 * that goes to the host under the host's id. A payment that does not happen (a guardrail,
 * denial, timeout) answers the host with the server's `-32042`, its message saying why and
 * `data.linkpay` the linkpay error. A paid call is never paid twice.
 *
 * The person is told on stderr (the approval URL, and its QR code when stderr is a terminal)
 * and, so that a host that shows its servers' logs shows it, in an MCP log notification
 * (`notifications/message`, logger `linkpay`, level `warning`). The proxy's stdout carries
 * only the protocol. It exits with the server's exit code.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { LinkClient, type Json, type JsonObject } from "../index.js";
import { paymentFor, type McpPaymentOptions } from "../mcp-pay.js";
import { credentialFile, errorObject } from "./output.js";
import { linkFetchFromEnv } from "./proxy.js";

type Id = string | number;
interface Message {
  jsonrpc?: string;
  id?: Id | null;
  method?: string;
  params?: JsonObject;
  result?: Json;
  error?: { code: number; message: string; data?: Json };
}

function parse(line: string): Message | undefined {
  try {
    const value = JSON.parse(line) as unknown;
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Message) : undefined;
  } catch {
    return undefined;
  }
}

export async function runMcpProxy(input: JsonObject, opts: { authFile?: string }): Promise<void> {
  const [command, ...args] = (input.command as string[] | undefined) ?? [];
  const link = new LinkClient({
    storage: credentialFile(opts.authFile),
    linkFetch: process.env.LINK_HTTP_PROXY ? linkFetchFromEnv() : undefined,
  });
  const toHost = (message: Message | string) => process.stdout.write(`${typeof message === "string" ? message : JSON.stringify(message)}\n`);
  const tty = process.stderr.isTTY === true;
  const options: McpPaymentOptions = {
    context: typeof input.context === "string" ? input.context : undefined,
    maxAmount: typeof input.max_amount === "number" ? input.max_amount : undefined,
    maxTotal: typeof input.max_total === "number" ? input.max_total : undefined,
    allowRealms: Array.isArray(input.allow_realms) ? (input.allow_realms as string[]) : undefined,
    paymentMethodId: typeof input.payment_method_id === "string" ? input.payment_method_id : undefined,
    timeout: typeof input.timeout === "number" ? input.timeout : undefined,
    onApproval: (a) => {
      const text = `linkpay: approve the payment of ${a.amount} ${a.currency.toUpperCase()} (smallest unit) for an MCP tool call: ${a.approval_url}`;
      process.stderr.write(`${text}\n`);
      if (tty) void import("./tty.js").then(async ({ qr }) => process.stderr.write(`${await qr(a.approval_url)}\n`)).catch(() => {});
      toHost({ jsonrpc: "2.0", method: "notifications/message", params: { level: "warning", logger: "linkpay", data: { message: text, ...a } as unknown as JsonObject } });
    },
  };

  // The core checks the options (the context's length, the caps) before the server runs: an
  // answer that asks for no payment is only validated against them.
  await paymentFor(link, { result: {} }, {}, options);

  const child = spawn(command, args, { stdio: ["pipe", "pipe", "inherit"] });
  // The `tools/call` requests the server has not answered, by the id it saw (as JSON text).
  const calls = new Map<string, { hostId: Id; params: JsonObject; retry: boolean }>();
  let next = 0;
  const toServer = (message: Message | string) => child.stdin.write(`${typeof message === "string" ? message : JSON.stringify(message)}\n`);

  createInterface({ input: process.stdin, crlfDelay: Infinity })
    .on("line", (line) => {
      const m = parse(line);
      if (m?.method === "tools/call" && (typeof m.id === "string" || typeof m.id === "number")) {
        calls.set(JSON.stringify(m.id), { hostId: m.id, params: m.params ?? {}, retry: false });
      }
      toServer(line);
    })
    .on("close", () => child.stdin.end());

  const answered = async (line: string, m: Message, call: { hostId: Id; params: JsonObject; retry: boolean }): Promise<void> => {
    if (call.retry) return void toHost({ ...m, id: call.hostId });
    let paid;
    try {
      paid = await paymentFor(link, m.error !== undefined ? { error: m.error } : { result: m.result }, call.params, options);
    } catch (e) {
      const error = errorObject(e);
      process.stderr.write(`linkpay: the tool call was not paid: ${String(error.code)}: ${String(error.message)}\n`);
      const original = m.error ?? { code: -32042, message: "Payment Required" };
      const data = typeof original.data === "object" && original.data !== null && !Array.isArray(original.data) ? original.data : {};
      return void toHost({ jsonrpc: "2.0", id: call.hostId, error: { code: original.code, message: `${original.message} (linkpay did not pay: ${String(error.code)}: ${String(error.message)})`, data: { ...data, linkpay: error } } });
    }
    if (paid === null) return void toHost(line);
    const id = `linkpay-paid-${++next}`;
    calls.set(JSON.stringify(id), { hostId: call.hostId, params: paid as unknown as JsonObject, retry: true });
    toServer({ jsonrpc: "2.0", id, method: "tools/call", params: paid as unknown as JsonObject });
  };

  createInterface({ input: child.stdout, crlfDelay: Infinity }).on("line", (line) => {
    const m = parse(line);
    const key = m !== undefined && m.method === undefined && (m.result !== undefined || m.error !== undefined) ? JSON.stringify(m.id) : undefined;
    const call = key === undefined ? undefined : calls.get(key);
    if (m === undefined || key === undefined || call === undefined) return void toHost(line);
    calls.delete(key);
    void answered(line, m, call);
  });

  await new Promise<void>((resolve) => {
    child.on("error", (e) => {
      process.stderr.write(`linkpay mcp proxy: cannot run ${command}: ${e.message}\n`);
      process.exitCode = 1;
      resolve();
    });
    child.on("exit", (code, signal) => {
      process.exitCode = code ?? (signal ? 1 : 0);
      resolve();
    });
  });
}
