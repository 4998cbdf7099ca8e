#!/usr/bin/env node
/**
 * `node dist/sandbox/mcp-server.js [--merchant URL]`: the sandbox's paid MCP server (`mcp.ts`)
 * on stdio, for `linkpay mcp proxy`, `link.payMcp` and the tests. `--merchant` is the sandbox
 * merchant's URL (default `$LINKPAY_SANDBOX_URL/merchant`, else http://127.0.0.1:4242/merchant).
 */
import { parseArgs } from "node:util";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { paidMcpServer } from "./mcp.js";

const { values } = parseArgs({ options: { merchant: { type: "string" } }, strict: true });
const base = process.env.LINKPAY_SANDBOX_URL?.trim() || "http://127.0.0.1:4242";
const server = paidMcpServer((values.merchant ?? `${base}/merchant`).replace(/\/$/, ""));
await server.connect(new StdioServerTransport());
