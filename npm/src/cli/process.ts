/**
 * The process-level commands: `sandbox` and `serve` run until SIGINT/SIGTERM, `demo` runs the
 * offline demo, `onboard` a person's first steps at a terminal, `mcp proxy` runs a paid MCP
 * server behind linkpay until it exits, `completions` prints a script; `mcp add|doctor` and `skills add|list` return
 * their output for the CLI to print. Loaded only for them.
 */
import type { Json, JsonObject } from "../index.js";

function untilSignal(close: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    let closing = false;
    const stop = () => {
      if (closing) return;
      closing = true;
      close().then(resolve, (e: unknown) => {
        process.stderr.write(`[linkpay] ${(e as Error).message}\n`);
        process.exitCode = 1;
        resolve();
      });
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

export interface ProcessOptions {
  /** stdout is a terminal and no `--format` was given. */
  human: boolean;
  /** `human`, and stdin is a terminal too (someone can answer a question). */
  terminal: boolean;
  /** `--auth`. */
  authFile?: string;
}

export async function runProcessCommand(name: string, input: JsonObject, opts: ProcessOptions): Promise<Json | undefined> {
  if (name === "onboard") {
    const { runOnboard } = await import("./onboard.js");
    await runOnboard({ terminal: opts.terminal, authFile: opts.authFile });
    return undefined;
  }
  if (name === "mcp sandbox") {
    const { serveSandboxMcp } = await import("../sandbox/mcp.js");
    await serveSandboxMcp(typeof input.merchant === "string" ? input.merchant : undefined);
    return undefined;
  }
  if (name === "mcp proxy") {
    const { runMcpProxy } = await import("./mcp-proxy.js");
    await runMcpProxy(input, { authFile: opts.authFile });
    return undefined;
  }
  if (name === "mcp add" || name === "mcp doctor" || name === "skills add" || name === "skills list") {
    const agents = await import("./agents.js");
    if (name === "mcp add") return agents.mcpAdd(input);
    if (name === "mcp doctor") return agents.mcpDoctor(input);
    if (name === "skills add") return agents.skillsAdd(input);
    return agents.skillsList(input);
  }
  const host = String(input.host ?? "127.0.0.1");
  const port = typeof input.port === "number" ? input.port : 0;
  if (name === "completions") {
    const { completionScript } = await import("../index.js");
    process.stdout.write(completionScript(String(input.shell)));
    return undefined;
  }
  if (name === "sandbox") {
    const { startSandbox } = await import("../sandbox/index.js");
    const autoApprove = input.auto_approve === true;
    const allowDelegated = input.allow_delegated === true;
    const data = typeof input.data === "string" ? input.data : undefined;
    const sb = await startSandbox({ port, host, autoApprove, allowDelegated, dataFile: data });
    process.stdout.write(
      [
        `linkpay sandbox listening on ${sb.url}${autoApprove ? " (auto-approve)" : ""}${allowDelegated ? " (delegated creates allowed)" : ""}`,
        `  export LINK_AUTH_BASE_URL=${sb.authUrl}`,
        `  export LINK_API_BASE_URL=${sb.apiUrl}`,
        `  device page   ${sb.url}/device`,
        `  merchant      ${sb.merchantUrl}/checkout  ·  ${sb.merchantUrl}/api/forecast (MPP)`,
        `  controls      ${sb.url}/sandbox/`,
        ...(data === undefined ? [] : [`  data          ${data}`]),
        "",
      ].join("\n"),
    );
    await untilSignal(() => sb.close());
    return undefined;
  }
  if (name === "serve") {
    const { serveHttp } = await import("./mcp.js");
    const server = await serveHttp({ port, host });
    const fromEnv = Boolean(process.env.LINKPAY_SERVE_TOKEN?.trim());
    process.stderr.write(
      [
        `linkpay MCP server listening on ${server.url}`,
        fromEnv ? "  bearer token: from LINKPAY_SERVE_TOKEN" : `  bearer token: ${server.token}  (send "Authorization: Bearer <token>"; set LINKPAY_SERVE_TOKEN to choose it)`,
        ...(["127.0.0.1", "localhost", "::1"].includes(host)
          ? []
          : [`  WARNING: listening on ${host}: anyone who can reach this port and has the token can use your Link session.`]),
        "",
      ].join("\n"),
    );
    await untilSignal(() => server.close());
    return undefined;
  }
  const { runDemo } = await import("./demo.js");
  // Both flags, like neither, run both flows.
  const onlyCard = input.only_card === true && input.only_spt !== true;
  const onlySpt = input.only_spt === true && input.only_card !== true;
  await runDemo({ interactive: input.interactive === true, color: opts.human, card: !onlySpt, spt: !onlyCard });
  return undefined;
}
