/**
 * `linkpay onboard`: a person's first run at a terminal, as link-cli's onboard goes: welcome →
 * login (skipped when a session exists) → a payment method in the wallet (none: add one at the
 * wallet URL and retry; several: pick the one agents should name) → the Link app, where spends
 * are approved → the offline demo. Every step is a command of the table run through the core;
 * this module only asks and prints. Elsewhere (a pipe, `--format`) it is `REQUIRES_TTY`.
 */
import { createInterface } from "node:readline/promises";
import { LinkClient, type JsonObject } from "../index.js";
import { codedError } from "../host/types.js";
import { credentialFile } from "./output.js";
import { qr, terminalEvents } from "./tty.js";

/** Where the Link app is downloaded (the reference shows its QR code). */
const APP_URL = "https://link.com/download";

export interface OnboardOptions {
  /** stdin and stdout are a terminal and no `--format` was given. */
  terminal: boolean;
  authFile?: string;
}

export async function runOnboard(options: OnboardOptions): Promise<void> {
  if (!options.terminal) throw codedError("REQUIRES_TTY", "The onboard command requires an interactive terminal.");
  const print = (line = "") => process.stdout.write(`${line}\n`);
  const title = (n: number, text: string) => print(`\n\x1b[1m${n}. ${text}\x1b[0m`);
  const prompt = createInterface({ input: process.stdin, output: process.stdout });
  const ask = async (question: string) => (await prompt.question(question)).trim();
  try {
    print("Welcome to linkpay: your agents get one-time payment credentials from your Link wallet,");
    print("and you approve every spend on your phone.");
    const link = new LinkClient({ storage: credentialFile(options.authFile) });
    const events = terminalEvents(process.stderr.isTTY === true);

    title(1, "Log in to Link");
    const status = await link.auth.status();
    if (status.authenticated) print("   Already logged in.");
    else await link.run("auth login", { clientName: "linkpay onboard" }, { human: true, onEvent: events });

    title(2, "A payment method in your wallet");
    let methods = (await link.run("payment-methods list")) as JsonObject[];
    while (methods.length === 0) {
      const { url } = (await link.run("payment-methods add")) as { url: string };
      print(`   Your wallet has no payment method yet. Add one at:\n     ${url}\n`);
      print(await qr(url));
      if ((await ask("   Press Enter once it is added (q to stop): ")).toLowerCase() === "q") return;
      methods = (await link.run("payment-methods list")) as JsonObject[];
    }
    const label = (pm: JsonObject) => {
      const card = pm.card_details as JsonObject | undefined;
      const bank = pm.bank_account_details as JsonObject | undefined;
      return `${card ? `${card.brand} •••• ${card.last4}` : `${bank?.bank_name ?? "bank"} •••• ${bank?.last4}`}${pm.is_default ? " (default)" : ""}`;
    };
    let chosen = methods.find((pm) => pm.is_default === true) ?? methods[0];
    if (methods.length > 1) {
      methods.forEach((pm, i) => print(`   ${i + 1}. ${label(pm)}  ${pm.id}`));
      const fallback = methods.indexOf(chosen) + 1;
      for (;;) {
        const answer = (await ask(`   Which one should your agents pay with? [${fallback}] `)) || String(fallback);
        const n = Number(answer);
        if (Number.isInteger(n) && n >= 1 && n <= methods.length) {
          chosen = methods[n - 1];
          break;
        }
        print(`   Type a number from 1 to ${methods.length}.`);
      }
    }
    print(`   Agents pay with ${label(chosen)}: they pass --payment-method-id ${String(chosen.id)} (or omit it for the default).`);

    title(3, "The Link app, where you approve each spend");
    print(`   ${APP_URL}\n`);
    print(await qr(APP_URL));

    title(4, "See it work");
    if (!/^n/i.test(await ask("   Run the offline demo now (a virtual card and an MPP payment in a local sandbox)? [Y/n] "))) {
      const { runDemo } = await import("./demo.js");
      await runDemo({ interactive: false, color: true });
    }
    print("\nYou are set up. Register linkpay with your agents: linkpay mcp add");
  } finally {
    prompt.close();
  }
}
