// Paid MCP tool calls (mppx's convention: -32042 with the challenges, the credential object in
// `_meta["org.paymentauth/credential"]`, the receipt in `result._meta["org.paymentauth/receipt"]`)
// paid through Link, with the MCP SDK's own client:
// - `link.payMcp(client)` against the sandbox's paid MCP server (a stdio process bridging to the
//   sandbox merchant, which verifies the sandbox's shared payment tokens), and against a server
//   built with mppx 0.11's MCP transport (`Transport.mcpSdk()` + `stripe.charge`, a stub Stripe
//   on 127.0.0.1 as in mppx.test.mjs);
// - `linkpay mcp proxy -- <server>`: an MCP stdio server in front of the paid one;
// - guardrail refusals (no spend request created: the sandbox's request log), denial, receipts.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { LoggingMessageNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { CallToolRequestSchema, McpError } from "@modelcontextprotocol/sdk/types.js";
import { McpClient } from "mppx-0.11/mcp/client";
import { stripe } from "mppx-0.11/stripe/client";
import { mppxPaidServer } from "./fixtures/mppx-mcp-server.mjs";
import { stripeStub } from "./fixtures/stripe-stub.mjs";
import { LinkClient, MemoryStorage, mcpReceiptOf } from "../dist/index.js";
import { startSandbox } from "../dist/sandbox/index.js";

const MPPX_SERVER = fileURLToPath(new URL("./fixtures/mppx-mcp-server.mjs", import.meta.url));
const SERVER = fileURLToPath(new URL("../dist/sandbox/mcp-server.js", import.meta.url));
const CLI = fileURLToPath(new URL("../dist/cli/linkpay.cjs", import.meta.url));
/** A context of its own per payment (the sandbox refuses the same purchase twice within a minute). */
let paid = 0;
const contextFor = () =>
  `Buying weather data (payment ${++paid}) from a paid MCP tool for the person, who asked for it in this chat; the price was shown first.`;

let sb;
before(async () => {
  sb = await startSandbox({ onError: () => {} });
});
after(async () => {
  await sb.close();
});

function link() {
  const tokens = sb.issueTokens();
  return new LinkClient({ apiBaseUrl: sb.apiUrl, authBaseUrl: sb.authUrl, storage: new MemoryStorage(), accessToken: tokens.access_token });
}

/** An MCP SDK client of the sandbox's paid server, spawned on stdio. */
async function sandboxServer() {
  const client = new Client({ name: "mcp-pay-test", version: "1.0.0" });
  await client.connect(new StdioClientTransport({ command: process.execPath, args: [SERVER, "--merchant", sb.merchantUrl], stderr: "inherit" }));
  return client;
}

/** The sandbox's request log over HTTP (`GET /sandbox/requests`). */
async function requestLog(since = 0) {
  const res = await fetch(`${sb.url}/sandbox/requests?since=${since}`);
  return (await res.json()).data;
}
const creates = async (since) => (await requestLog(since)).filter((r) => r.method === "POST" && r.path === "/spend_requests");
const lastSeq = async () => (await requestLog()).at(-1)?.seq ?? 0;

/** Approves each payment as the person would, recording what they were shown. */
const approving = (approvals) => (a) => {
  approvals.push(a);
  sb.approve(a.spend_request_id);
};

describe("link.payMcp(client) against the sandbox's paid MCP server", () => {
  let client;
  before(async () => {
    client = await sandboxServer();
  });
  after(async () => {
    await client.close();
  });

  test("-32042 without linkpay: mppx's convention on the wire", async () => {
    await assert.rejects(client.callTool({ name: "forecast", arguments: {} }), (e) => {
      assert.equal(e.code, -32042);
      assert.equal(e.data.httpStatus, 402);
      const [challenge] = e.data.challenges;
      assert.equal(challenge.method, "stripe");
      assert.equal(challenge.realm, "127.0.0.1");
      assert.deepEqual(challenge.request.methodDetails, { networkId: "profile_sandbox_merchant", paymentMethodTypes: ["card", "link"] });
      assert.equal(challenge.request.amount, "100");
      return true;
    });
    // A free tool is not touched.
    const free = await client.callTool({ name: "conditions", arguments: {} });
    assert.equal(mcpReceiptOf(free), null);
  });

  test("paid: the person approves once, the call is made again with the credential, the receipt is readable", async () => {
    const paying = link();
    const approvals = [];
    const since = await lastSeq();
    const wrapped = paying.payMcp(client, { context: contextFor, interval: 0.05, onApproval: approving(approvals) });
    assert.equal(wrapped, client, "wrapped in place, as mppx's McpClient.wrap");
    const result = await client.callTool({ name: "forecast", arguments: {} });
    const body = JSON.parse(result.content[0].text);
    assert.equal(body.location, "San Francisco, CA");
    assert.equal(body.paid.amount, "100");
    const receipt = mcpReceiptOf(result);
    assert.equal(receipt.status, "success");
    assert.equal(receipt.method, "stripe");
    assert.equal(receipt.reference, body.paid.reference);
    assert.match(receipt.challengeId, /\S/);
    assert.equal(approvals.length, 1);
    assert.equal(approvals[0].amount, 100);
    assert.equal(approvals[0].currency, "usd");
    const made = await creates(since);
    assert.equal(made.length, 1);
    // A free tool through the wrapper: nothing asked.
    await client.callTool({ name: "conditions", arguments: {} });
    assert.equal((await creates(since)).length, 1);
  });

  test("an externalId challenge after a tempo one: the stripe one is paid, externalId echoed", async () => {
    const approvals = [];
    link().payMcp(client, { context: contextFor, interval: 0.05, onApproval: approving(approvals) });
    const result = await client.callTool({ name: "archive", arguments: {} });
    assert.equal(JSON.parse(result.content[0].text).paid.amount, "250");
    assert.match(mcpReceiptOf(result).externalId, /^order_/);
    assert.equal(approvals[0].amount, 250);
  });

  test("no context: the person reads one naming the tool, the server and the price", async () => {
    const approvals = [];
    const paying = link();
    paying.payMcp(client, { interval: 0.05, onApproval: approving(approvals) });
    await client.callTool({ name: "forecast", arguments: {} });
    const shown = (await paying.spendRequests.retrieve(approvals[0].spend_request_id)).context;
    assert.match(shown, /"forecast"/);
    assert.match(shown, /127\.0\.0\.1/);
    assert.match(shown, /100 USD/);
  });

  test("guardrails refuse before any spend request: maxAmount, maxTotal, allowRealms", async () => {
    const since = await lastSeq();
    for (const [options, reason] of [
      [{ maxAmount: 99 }, "max_amount"],
      [{ maxTotal: 50 }, "max_total"],
      [{ allowRealms: ["weather.example"] }, "realm_mismatch"],
      [{ serverUrl: "https://tools.example/mcp" }, "realm_mismatch"],
    ]) {
      link().payMcp(client, { context: contextFor, interval: 0.05, ...options, onApproval: () => assert.fail("the person is never asked") });
      await assert.rejects(client.callTool({ name: "forecast", arguments: {} }), (e) => {
        assert.equal(e.code, "PAYMENT_GUARDRAIL", String(e));
        assert.equal(e.details.reason, reason);
        return true;
      });
    }
    assert.deepEqual(await creates(since), [], "no spend request was created");
    // allowRealms naming the server's realm admits it.
    link().payMcp(client, { context: contextFor, interval: 0.05, allowRealms: ["127.0.0.1"], onApproval: approving([]) });
    const result = await client.callTool({ name: "forecast", arguments: {} });
    assert.equal(mcpReceiptOf(result).status, "success");
  });

  test("the client's ledger counts MCP payments with its other payments (maxTotal)", async () => {
    const paying = link();
    paying.payMcp(client, { context: contextFor, interval: 0.05, maxTotal: 150, onApproval: approving([]) });
    await client.callTool({ name: "forecast", arguments: {} });
    const since = await lastSeq();
    await assert.rejects(client.callTool({ name: "forecast", arguments: {} }), (e) => e.code === "PAYMENT_GUARDRAIL" && e.details.reason === "max_total" && e.details.total === 100);
    assert.deepEqual(await creates(since), []);
  });

  test("denied by the person: SPEND_REQUEST_NOT_APPROVED, and the tool is not called again", async () => {
    const since = await lastSeq();
    link().payMcp(client, { context: contextFor, interval: 0.05, onApproval: (a) => sb.deny(a.spend_request_id) });
    await assert.rejects(client.callTool({ name: "forecast", arguments: {} }), (e) => {
      assert.equal(e.code, "SPEND_REQUEST_NOT_APPROVED");
      assert.match(String(e.message), /denied/i);
      return true;
    });
    assert.equal((await creates(since)).length, 1, "one spend request, denied");
  });
});


let stub, stubUrl;
before(async () => {
  stub = stripeStub();
  stubUrl = await new Promise((r) => stub.server.listen(0, "127.0.0.1", () => r(`http://127.0.0.1:${stub.server.address().port}`)));
});
after(async () => {
  await new Promise((r) => stub.server.close(r));
});

describe("link.payMcp(client) against a server built with mppx 0.11's MCP transport", () => {
  let client, mcpServer;
  before(async () => {
    mcpServer = mppxPaidServer(stubUrl);
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await mcpServer.connect(serverSide);
    client = new Client({ name: "mcp-pay-test", version: "1.0.0" });
    await client.connect(clientSide);
  });
  after(async () => {
    await client.close();
    await mcpServer.close();
  });

  test("mppx's -32042, the person's approval, mppx's verification charging the stub, mppx's receipt", async () => {
    const approvals = [];
    link().payMcp(client, { context: contextFor, interval: 0.05, onApproval: approving(approvals) });
    const result = await client.callTool({ name: "premium", arguments: {} });
    assert.deepEqual(result.content, [{ type: "text", text: "premium result" }]);
    const receipt = mcpReceiptOf(result);
    assert.equal(receipt.status, "success");
    assert.equal(receipt.method, "stripe");
    assert.equal(receipt.reference, "pi_stub_1");
    assert.match(receipt.challengeId, /\S/);
    assert.equal(approvals.length, 1);
    assert.equal(approvals[0].amount, 80);
    assert.equal(stub.charges.length, 1);
    assert.equal(Number(stub.charges[0].amount), 80);
  });

  test("over maxAmount: refused before any spend request, nothing charged", async () => {
    const since = await lastSeq();
    link().payMcp(client, { context: contextFor, interval: 0.05, maxAmount: 79 });
    await assert.rejects(client.callTool({ name: "premium", arguments: {} }), (e) => e.code === "PAYMENT_GUARDRAIL" && e.details.reason === "max_amount");
    await assert.rejects(client.callTool({ name: "pricey", arguments: {} }), (e) => e.code === "PAYMENT_GUARDRAIL" && e.details.reason === "max_amount");
    assert.deepEqual(await creates(since), []);
    assert.equal(stub.charges.length, 1);
  });
});

/** `linkpay mcp proxy -- <server…>` spawned on stdio, with an MCP SDK client as its host; the
 * person approves what the proxy's log notifications announce. */
async function proxied(server, flags = [], approvals = [], decide = (a) => sb.approve(a.spend_request_id)) {
  const tokens = sb.issueTokens();
  const client = new Client({ name: "mcp-proxy-test", version: "1.0.0" });
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
    if (n.params.logger !== "linkpay") return;
    approvals.push(n.params.data);
    decide(n.params.data);
  });
  const env = { ...process.env, LINK_API_BASE_URL: sb.apiUrl, LINK_AUTH_BASE_URL: sb.authUrl, LINK_ACCESS_TOKEN: tokens.access_token, LINK_AUTH_FILE: "/nonexistent/linkpay-mcp-proxy-test.json" };
  await client.connect(new StdioClientTransport({ command: process.execPath, args: [CLI, "mcp", "proxy", ...flags, "--", ...server], env, stderr: "pipe" }));
  return client;
}

describe("linkpay mcp proxy -- <paid server>", () => {
  test("the sandbox's paid server: listed tools pass through, a paid call is paid once approved, its receipt comes back", async () => {
    const approvals = [];
    const since = await lastSeq();
    const client = await proxied([process.execPath, SERVER, "--merchant", sb.merchantUrl], [], approvals);
    try {
      const { tools } = await client.listTools();
      assert.deepEqual(tools.map((t) => t.name).sort(), ["archive", "conditions", "forecast"]);
      const result = await client.callTool({ name: "forecast", arguments: {} });
      assert.equal(JSON.parse(result.content[0].text).paid.amount, "100");
      assert.equal(mcpReceiptOf(result).status, "success");
      assert.equal(approvals.length, 1);
      assert.equal(approvals[0].amount, 100);
      assert.match(approvals[0].approval_url, /^http:\/\/127\.0\.0\.1:\d+\/approve\//);
      assert.equal((await creates(since)).length, 1);
      // A free tool, and a second paid call (a new challenge, a new approval).
      await client.callTool({ name: "conditions", arguments: {} });
      await client.callTool({ name: "archive", arguments: {} });
      assert.equal(approvals.length, 2);
    } finally {
      await client.close();
    }
  });

  test("guardrails and denial: the host gets the server's -32042 saying why, with data.linkpay; nothing created when refused", async () => {
    const since = await lastSeq();
    const refusing = await proxied([process.execPath, SERVER, "--merchant", sb.merchantUrl], ["--max-amount", "99"]);
    try {
      await assert.rejects(refusing.callTool({ name: "forecast", arguments: {} }), (e) => {
        assert.equal(e.code, -32042);
        assert.match(e.message, /PAYMENT_GUARDRAIL/);
        assert.equal(e.data.linkpay.code, "PAYMENT_GUARDRAIL");
        assert.equal(e.data.linkpay.details.reason, "max_amount");
        assert.equal(e.data.challenges[0].method, "stripe", "the server's data kept");
        return true;
      });
    } finally {
      await refusing.close();
    }
    const elsewhere = await proxied([process.execPath, SERVER, "--merchant", sb.merchantUrl], ["--allow-realm", "weather.example"]);
    try {
      await assert.rejects(elsewhere.callTool({ name: "forecast", arguments: {} }), (e) => e.data.linkpay.details.reason === "realm_mismatch");
    } finally {
      await elsewhere.close();
    }
    assert.deepEqual(await creates(since), []);
    const denying = await proxied([process.execPath, SERVER, "--merchant", sb.merchantUrl], [], [], (a) => sb.deny(a.spend_request_id));
    try {
      await assert.rejects(denying.callTool({ name: "forecast", arguments: {} }), (e) => e.code === -32042 && e.data.linkpay.code === "SPEND_REQUEST_NOT_APPROVED");
    } finally {
      await denying.close();
    }
  });

  test("its options are the core's: a short --context is VALIDATION_ERROR before the server runs", async () => {
    const { spawnSync } = await import("node:child_process");
    const r = spawnSync(process.execPath, [CLI, "mcp", "proxy", "--context", "too short", "--format", "json", "--", process.execPath, "-e", "require('fs').writeFileSync(1, 'ran')"], { encoding: "utf8", env: { ...process.env, ...sb.env } });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    const error = JSON.parse(r.stdout);
    assert.equal(error.code, "VALIDATION_ERROR");
    assert.deepEqual(error.fieldErrors.map((f) => f.path), ["context"]);
    assert.doesNotMatch(r.stdout, /ran/);
  });

  test("a server built with mppx 0.11's MCP transport", async () => {
    const approvals = [];
    const charged = stub.charges.length;
    const client = await proxied([process.execPath, MPPX_SERVER, stubUrl], ["--allow-realm", "tools.example"], approvals);
    try {
      const result = await client.callTool({ name: "premium", arguments: {} });
      assert.deepEqual(result.content, [{ type: "text", text: "premium result" }]);
      const receipt = mcpReceiptOf(result);
      assert.equal(receipt.status, "success");
      assert.equal(receipt.method, "stripe");
      assert.equal(approvals[0].amount, 80);
      assert.equal(stub.charges.length, charged + 1);
    } finally {
      await client.close();
    }
  });
});

describe("the credential object is mppx's own, byte for byte", () => {
  test("link.payMcp and mppx 0.11's McpClient.wrap (with link.createSharedPaymentToken) send the same JSON for one challenge", async () => {
    // A server with one fixed challenge (an externalId, `opaque`, a description and `expires`)
    // that records the credential each call carries, as the JSON it travels in.
    const challenge = {
      id: "ch_fixed_1",
      realm: "tools.example",
      method: "stripe",
      intent: "charge",
      description: "One premium answer",
      expires: new Date(Date.now() + 600_000).toISOString(),
      opaque: "eyJub25jZSI6IjEifQ",
      request: { currency: "usd", amount: "80", externalId: "order_7", methodDetails: { paymentMethodTypes: ["card"], networkId: "profile_fixed" } },
    };
    const seen = [];
    /** An MCP SDK client of a fresh server with that one challenge, linked in memory. */
    const clientFor = async () => {
      const server = new Server({ name: "fixed", version: "1.0.0" }, { capabilities: { tools: {} } });
      server.setRequestHandler(CallToolRequestSchema, (request) => {
        const credential = request.params._meta?.["org.paymentauth/credential"];
        if (credential === undefined) throw new McpError(-32042, "Payment Required", { httpStatus: 402, challenges: [challenge] });
        seen.push(JSON.stringify(credential).replace(/"spt_[A-Za-z0-9_]+"/, '"spt_X"'));
        return { content: [{ type: "text", text: "ok" }] };
      });
      const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
      await server.connect(serverSide);
      const c = new Client({ name: "t", version: "1.0.0" });
      await c.connect(clientSide);
      return c;
    };
    const ours = await clientFor();
    link().payMcp(ours, { context: contextFor, interval: 0.05, onApproval: approving([]) });
    await ours.callTool({ name: "premium", arguments: {} });
    const theirs = await clientFor();
    const paying = link();
    const [card] = await paying.paymentMethods.list();
    McpClient.wrap(theirs, { methods: [stripe.charge({ paymentMethod: card.id, createToken: paying.createSharedPaymentToken({ context: contextFor, interval: 0.05, onApproval: approving([]) }) })] });
    await theirs.callTool({ name: "premium", arguments: {} });
    assert.equal(seen.length, 2);
    assert.equal(seen[0], seen[1]);
    assert.match(seen[0], /^\{"challenge":\{"description":"One premium answer","expires":"[^"]+","id":"ch_fixed_1","intent":"charge","method":"stripe","opaque":"eyJub25jZSI6IjEifQ","realm":"tools.example","request":\{"amount":"80","currency":"usd","externalId":"order_7","methodDetails":\{"networkId":"profile_fixed","paymentMethodTypes":\["card"\]\}\}\},"payload":\{"spt":"spt_X","externalId":"order_7"\}\}$/);
    await ours.close();
    await theirs.close();
  });
});
