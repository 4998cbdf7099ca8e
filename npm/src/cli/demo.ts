/**
 * `linkpay demo`: the whole product against an in-process sandbox (the Link API, the Link app's
 * approval step and an MPP merchant on 127.0.0.1) — no Link account, no network. Approvals are
 * automatic unless `--interactive`, which prints the approval pages for a person to click.
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LinkClient, MemoryStorage, decodeStripeChallenge, mcpReceiptOf, receiptOf, version, type JsonObject } from "../index.js";
import { startSandbox } from "../sandbox/index.js";

export interface DemoOptions {
  interactive: boolean;
  /** Bold step titles (a terminal). */
  color: boolean;
  /** Run the card flow (`--only-spt` turns it off). */
  card?: boolean;
  /** Run the MPP flow (`--only-card` turns it off). */
  spt?: boolean;
}

const CONTEXT =
  "The person asked me to buy the Trail Runner shoes (size 10, blue) from Sandbox Outdoor for their race on Saturday; this is the exact cart total.";

export async function runDemo(options: DemoOptions): Promise<void> {
  const print = (line = "") => process.stdout.write(`${line}\n`);
  const step = (n: number, title: string) => print(`\n${options.color ? `\x1b[1m${n}. ${title}\x1b[0m` : `${n}. ${title}`}`);
  const say = (text: string) => print(`   ${text}`);
  const wait = { interval: options.interactive ? 1 : 0.2, timeout: options.interactive ? 600 : 30 };
  const person = options.interactive ? "open it in a browser and approve" : "the sandbox approves it for you";

  const sb = await startSandbox({ autoApprove: !options.interactive });
  const dir = mkdtempSync(join(tmpdir(), "linkpay-demo-"));
  try {
    print(`linkpay ${version} demo — sandbox at ${sb.url} (no Link account, no network)`);
    const client = new LinkClient({ apiBaseUrl: sb.apiUrl, authBaseUrl: sb.authUrl, storage: new MemoryStorage(), clientName: "linkpay demo" });

    step(1, "Log in with the device flow  ($ linkpay auth login)");
    const login = await client.auth.login();
    if (login.authenticated) throw new Error("unexpected existing session");
    say(`verification_url ${login.verification_url}`);
    say(`phrase "${login.phrase}" — ${person}`);
    const session = await login.wait(wait);
    say(`authenticated: ${session.authenticated}, token ${session.access_token} (only a preview is ever shown)`);

    step(2, "Payment methods in the wallet  ($ linkpay payment-methods list)");
    for (const pm of await client.paymentMethods.list()) {
      const card = pm.card_details as JsonObject | undefined;
      const bank = pm.bank_account_details as JsonObject | undefined;
      const what = card ? `${card.brand} •••• ${card.last4}` : `${bank?.bank_name ?? "bank"} •••• ${bank?.last4}`;
      say(`${pm.id}  ${what}${pm.is_default ? "  (default)" : ""}`);
    }

    let n = 3;
    if (options.card !== false) {
      step(n++, "Card flow: a one-time virtual card  ($ linkpay spend-request create … then retrieve --include card --output-file)");
      try {
        await client.spendRequests.create({ amount: 999999, context: "too short" });
      } catch (e) {
        const err = e as { code: string; fieldErrors?: { path: string }[] };
        say(`bad input never reaches the API: ${err.code} at ${(err.fieldErrors ?? []).map((f) => f.path).join(", ")} (0 requests sent)`);
      }
      const created = await client.spendRequests.create({
        amount: 12900,
        merchant_name: "Sandbox Outdoor",
        merchant_url: `${sb.merchantUrl}/checkout`,
        context: CONTEXT,
        line_items: ["name:Trail Runner shoes,quantity:1,unit_amount:12900"],
        totals: ["type:total,display_text:Total,amount:12900"],
      });
      say(`spend request ${created.id}: ${created.status}`);
      say(`approval_url ${created.approval_url} — ${person}`);
      const cardFile = join(dir, "card.json");
      const retrieved = (await client.run("spend-request retrieve", { id: created.id, include: ["card"], outputFile: cardFile, ...wait })) as JsonObject[];
      const shown = retrieved[retrieved.length - 1];
      say(`status: ${shown.status}`);
      if (shown.status !== "approved") throw new Error(`the spend request was ${shown.status}`);
      const card = shown.card as JsonObject;
      say(`card ${card.brand} •••• ${card.last4}, exp ${card.exp_month}/${card.exp_year} — number and CVC never printed`);
      say(`full card in ${cardFile} (mode ${(statSync(cardFile).mode & 0o777).toString(8)}, removed when the demo ends)`);
    }

    if (options.spt !== false) {
      step(n++, "MPP flow: pay an HTTP 402 endpoint with a Shared Payment Token  ($ linkpay mpp pay <url>)");
      const url = `${sb.merchantUrl}/api/forecast`;
      const probe = await fetch(url);
      say(`GET ${url} → ${probe.status} ${probe.statusText}`);
      const challenge = decodeStripeChallenge(probe.headers.get("www-authenticate") ?? "", Date.now(), url);
      say(`decode: ${challenge.description ?? "(no description)"} — ${challenge.amount} ${challenge.currency}, network ${challenge.network_id}  ($ linkpay mpp decode)`);
      const seen = new Set<string>();
      const paid = await client.mpp.pay(url, {
        context: `${CONTEXT} Also paying for the weather forecast the person asked for before the race.`,
        ...wait,
        onProgress: (sr) => {
          const key = `${sr.id} ${sr.status}`;
          if (seen.has(key)) return;
          seen.add(key);
          say(`SPT spend request ${sr.id}: ${sr.status}${sr.status === "pending_approval" && sr.approval_url ? ` — approve at ${sr.approval_url} (${person})` : ""}`);
        },
      });
      say(`paid with the SPT (one-time, never printed) → ${paid.status}`);
      const receipt = paid.receipt as JsonObject | undefined;
      if (receipt) say(`receipt: ${receipt.status} ${receipt.method} ${receipt.reference}${receipt.timestamp ? ` at ${receipt.timestamp}` : ""}`);
      say(`merchant answered: ${String(paid.body).slice(0, 120)}`);

      step(n++, "An agent's plain fetch code paying a 402  (link.fetch, with the guardrails)");
      const report = `${sb.merchantUrl}/api/report`;
      say(`const res = await link.fetch("${report}", { method: "POST", body: … }, { context, maxAmount: 500 })`);
      const res = await client.fetch(
        report,
        { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ location: "Lake Tahoe" }) },
        {
          context: `${CONTEXT} Also buying the weather report for the race location, Lake Tahoe.`,
          maxAmount: 500,
          ...wait,
          onApproval: (a) => say(`the person is asked: ${a.amount} ${a.currency}, spend request ${a.spend_request_id} — approve at ${a.approval_url} (${person})`),
        },
      );
      const got = receiptOf(res);
      say(`link.fetch → ${res.status}, the POST body sent again with the credential: ${(await res.text()).slice(0, 100)}`);
      if (got) say(`receiptOf(res): ${got.status} ${got.method} ${got.reference}`);
      try {
        await client.fetch(`${sb.merchantUrl}/api/archive`, undefined, { context: CONTEXT, maxAmount: 100 });
      } catch (e) {
        const err = e as { code: string; details?: { reason?: string } };
        say(`over maxAmount: ${err.code} (${err.details?.reason}), refused before anyone is asked`);
      }

      step(n++, "An MCP tool call that costs money  (link.payMcp(client); or: linkpay mcp proxy -- <server>)");
      // The sandbox's paid MCP server (mppx's convention) and an MCP SDK client, linked in memory.
      const { Client } = await import("@modelcontextprotocol/sdk/client/index.js");
      const { InMemoryTransport } = await import("@modelcontextprotocol/sdk/inMemory.js");
      const { paidMcpServer } = await import("../sandbox/mcp.js");
      const [hostSide, serverSide] = InMemoryTransport.createLinkedPair();
      const server = paidMcpServer(sb.merchantUrl);
      await server.connect(serverSide);
      const mcp = new Client({ name: "linkpay demo", version });
      await mcp.connect(hostSide);
      try {
        say(`the paid MCP server's tool "forecast" answers tools/call with -32042 and a stripe challenge ($1.00)`);
        say(`link.payMcp(mcp, { context, maxAmount: 500 }); await mcp.callTool({ name: "forecast" })`);
        client.payMcp(mcp, {
          context: `${CONTEXT} Also buying the paid forecast tool's answer for the race day, through the agent's MCP client.`,
          maxAmount: 500,
          ...wait,
          onApproval: (a) => say(`the person is asked: ${a.amount} ${a.currency}, spend request ${a.spend_request_id} — approve at ${a.approval_url} (${person})`),
        });
        const result = (await mcp.callTool({ name: "forecast", arguments: {} })) as { content?: { text?: string }[] };
        say(`callTool → called again with the credential in _meta: ${String(result.content?.[0]?.text ?? "").slice(0, 100)}`);
        const receipt = mcpReceiptOf(result);
        if (receipt) say(`mcpReceiptOf(result): ${receipt.status} ${receipt.method} ${receipt.reference}`);
      } finally {
        await mcp.close();
        await server.close();
      }
    }
    print("\nDone. Every rule, the state machines and the MPP codec ran in linkpay's Rust core (wasm).");
  } finally {
    await sb.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
