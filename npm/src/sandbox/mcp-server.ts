#!/usr/bin/env node
/**
 * `node dist/sandbox/mcp-server.js [--merchant URL]`: the sandbox's paid MCP server (`mcp.ts`) on
 * stdio, from a checkout (the package runs it as `linkpay mcp sandbox`).
 */
import { parseArgs } from "node:util";
import { serveSandboxMcp } from "./mcp.js";

const { values } = parseArgs({ options: { merchant: { type: "string" } }, strict: true });
await serveSandboxMcp(values.merchant);
