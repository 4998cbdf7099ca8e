/**
 * What each command does once its input passed `validateCommandInput`: it calls `LinkClient`
 * (whose Rust driver does the work) and emits what the agent sees, with the reference client's
 * `instruction` and `_next` hints. Shared by the CLI and the MCP server.
 */
import {
  LinkClient,
  FileStorage,
  decodeStripeChallenge,
  type Json,
  type JsonObject,
  type Logger,
  type LinkStorage,
  type CreateSpendRequestInput,
} from "../index.js";
import type { SpendRequest } from "../types.js";
import { codedError } from "../host/types.js";

export interface RunContext {
  /** A person at a terminal: spinner, QR code, waiting for approvals. */
  human: boolean;
  /** `--auth <file>` (else `LINK_AUTH_FILE`, else the default file). */
  authFile?: string;
  /** A storage to use instead (the demo's memory store). */
  storage?: LinkStorage;
  logger?: Logger;
  /** Prints one value (one yield of a streaming command, or the result). */
  emit(value: Json | object): void;
  /** Person-facing progress (stderr), only when `human`. */
  tty?: TtyHooks;
}

/** What a terminal shows while the CLI waits for a person. */
export interface TtyHooks {
  approvalUrl(label: string, url: string): Promise<void>;
  wait<T>(message: string, work: Promise<T>): Promise<T>;
}

const RETRIEVE_NEXT = (id: string) => `spend-request retrieve ${id} --interval 2 --max-attempts 300`;

function client(ctx: RunContext, clientName?: string): LinkClient {
  const storage = ctx.storage ?? (ctx.authFile ? new FileStorage(ctx.authFile) : undefined);
  return new LinkClient({ storage, logger: ctx.logger, clientName });
}

/** The client's typed results are JSON objects; the CLI only reshapes and prints them. */
const asJson = (value: object): JsonObject => value as unknown as JsonObject;

const str = (v: Json | undefined): string | undefined => (typeof v === "string" ? v : undefined);
const num = (v: Json | undefined, d: number): number => (typeof v === "number" ? v : d);

/** `{...sr, instruction, _next?}` for a spend request that needs the person (or an action). */
function approvalHint(spendRequest: object): JsonObject {
  const sr = asJson(spendRequest);
  const id = String(sr.id);
  if (sr.status === "requires_action") {
    const details = (sr.status_details as JsonObject | undefined)?.requires_action as JsonObject | undefined;
    const action = (details?.next_action ?? {}) as JsonObject;
    if (action.resolution === "auto_resume") {
      return {
        ...sr,
        instruction: `The spend request requires 3D Secure verification. Present action_url (${action.action_url ?? ""}) to the user, then poll with \`${RETRIEVE_NEXT(id)}\`. Do not create a new spend request.`,
        _next: { command: RETRIEVE_NEXT(id), until: "status changes from requires_action" },
      };
    }
    return {
      ...sr,
      instruction: `The spend request requires action (${action.type ?? "unknown"}): ${action.display_message ?? ""} URL: ${action.action_url ?? ""} Have the user complete this, then create a new spend request.`,
    };
  }
  return {
    ...sr,
    instruction: `Present the approval_url to the user and ask them to approve the spend request in the Link app. Then call \`${RETRIEVE_NEXT(id)}\` (start polling immediately) and continue when the status changes from pending_approval.`,
    _next: { command: RETRIEVE_NEXT(id), until: "status changes from pending_approval" },
  };
}

/** Applies `--output-file` to a spend request that carries a card. */
async function withCard(spendRequest: object, input: JsonObject): Promise<JsonObject> {
  const sr = asJson(spendRequest);
  const file = str(input.output_file);
  if (file && sr.card && typeof sr.card === "object") {
    const { writeCardFile } = await import("./card.js");
    return writeCardFile(sr, file, input.force === true);
  }
  return sr;
}

/** Polls a spend request until decided, with a spinner for a person. */
async function waitFor(ctx: RunContext, c: LinkClient, id: string, input: JsonObject, onProgress?: (sr: SpendRequest) => void): Promise<SpendRequest> {
  const work = c.spendRequests.waitFor(id, {
    interval: num(input.interval, 2),
    maxAttempts: num(input.max_attempts, 0),
    timeout: num(input.timeout, 600),
    include: (input.include as ("card" | "shared_payment_token" | "link_pay_token")[] | undefined) ?? [],
    onProgress,
  });
  return ctx.tty ? ctx.tty.wait(`Waiting for approval of ${id}…`, work) : work;
}

type Handler = (input: JsonObject, ctx: RunContext) => Promise<void>;

async function loginStatusLoop(ctx: RunContext, c: LinkClient, input: JsonObject): Promise<void> {
  const status = await c.auth.status();
  delete status.next_poll_at_ms;
  if (num(input.interval, 0) <= 0 || status.authenticated === true || status.pending !== true) {
    ctx.emit(status);
    return;
  }
  ctx.emit(status);
  let last: object = status;
  try {
    const work = c.auth.wait({
      interval: num(input.interval, 5),
      maxAttempts: num(input.max_attempts, 0),
      timeout: num(input.timeout, 300),
      onProgress: (s) => {
        last = s;
        if (JSON.stringify(s) !== JSON.stringify(status)) ctx.emit(s);
      },
    });
    ctx.emit(ctx.tty ? await ctx.tty.wait("Waiting for you to approve the login…", work) : await work);
  } catch (e) {
    // As the reference: running out of polls is not a failure of `auth status`.
    if ((e as { code?: string }).code !== "POLLING_TIMEOUT") throw e;
    ctx.emit(last);
  }
}

export const HANDLERS: Record<string, Handler> = {
  async "auth login"(input, ctx) {
    const c = client(ctx, str(input.client_name));
    const started = await c.auth.login({
      clientName: str(input.client_name),
      scope: str(input.scope),
      sourceActions: input.source_actions as string[],
      authorizationDetails: input.authorization_details as Json[],
    });
    if (started.authenticated) {
      ctx.emit({ authenticated: true, message: started.message });
      return;
    }
    const polling = num(input.interval, 0) > 0 || ctx.human;
    const base = { verification_url: started.verification_url, phrase: started.phrase };
    if (!polling) {
      ctx.emit({
        ...base,
        instruction: `Present the verification_url to the user and tell them to approve the connection in Link, checking that the phrase "${started.phrase}" matches. Then call \`auth status --interval 5 --max-attempts 60\` to wait until authenticated is true.`,
        _next: { command: "auth status --interval 5 --max-attempts 60", poll_interval_seconds: started.poll_interval_seconds, until: "authenticated is true" },
      });
      return;
    }
    ctx.emit({ ...base, instruction: `Present the verification_url to the user and tell them to approve the connection in Link, checking that the phrase "${started.phrase}" matches. Polling has started automatically; wait for authenticated to be true.` });
    await ctx.tty?.approvalUrl(`Approve this login (phrase "${started.phrase}")`, started.verification_url);
    await loginStatusLoop(ctx, c, { ...input, interval: num(input.interval, 0) > 0 ? input.interval : 2 });
  },

  async "auth logout"(_input, ctx) {
    ctx.emit(await client(ctx).auth.logout());
  },

  async "auth status"(input, ctx) {
    await loginStatusLoop(ctx, client(ctx), input);
  },

  async "payment-methods list"(_input, ctx) {
    ctx.emit(await client(ctx).paymentMethods.list());
  },

  async "payment-methods add"(_input, ctx) {
    // No API call: payment methods are added in the Link wallet by the person.
    ctx.emit({ url: "https://app.link.com/wallet" });
  },

  async "spend-request create"(input, ctx) {
    const { output_file: _file, force: _force, ...create } = input;
    const c = client(ctx);
    const sr = await c.spendRequests.create(create as unknown as CreateSpendRequestInput);
    if (sr.status === "requires_action") {
      ctx.emit(approvalHint(sr));
      return;
    }
    if (create.request_approval !== true || sr.status !== "pending_approval") {
      ctx.emit(await withCard(sr, input));
      return;
    }
    if (!ctx.tty) {
      ctx.emit(approvalHint(sr));
      return;
    }
    await ctx.tty.approvalUrl("Approve this spend request", String(sr.approval_url ?? ""));
    ctx.emit(await waitFor(ctx, c, String(sr.id), { interval: 2, timeout: 600 }));
  },

  async "spend-request update"(input, ctx) {
    const { id, ...update } = input;
    ctx.emit(await client(ctx).spendRequests.update(String(id), update));
  },

  async "spend-request retrieve"(input, ctx) {
    const c = client(ctx);
    const id = String(input.id);
    const include = (input.include as ("card" | "shared_payment_token" | "link_pay_token")[] | undefined) ?? [];
    const sr =
      num(input.interval, 0) > 0
        ? await waitFor(ctx, c, id, input, (snapshot) => ctx.emit(snapshot))
        : await c.spendRequests.retrieve(id, { include });
    if (sr.status === "requires_action") {
      ctx.emit(approvalHint(sr));
      return;
    }
    ctx.emit(await withCard(sr, input));
  },

  async "spend-request request-approval"(input, ctx) {
    const c = client(ctx);
    const id = String(input.id);
    const answer = await c.spendRequests.requestApproval(id);
    if (!ctx.tty) {
      const hint = approvalHint({ ...answer, id });
      ctx.emit({ ...answer, instruction: String(hint.instruction).replace("approval_url", "approval_link"), _next: hint._next as Json });
      return;
    }
    await ctx.tty.approvalUrl("Approve this spend request", String(answer.approval_link ?? ""));
    ctx.emit(await waitFor(ctx, c, id, { interval: 2, timeout: 600 }));
  },

  async "spend-request cancel"(input, ctx) {
    ctx.emit(await client(ctx).spendRequests.cancel(String(input.id)));
  },

  async "spend-request list"(input, ctx) {
    ctx.emit(await client(ctx).spendRequests.list({ includeHistory: input.include_history === true }));
  },

  async "mpp decode"(input, ctx) {
    ctx.emit(decodeStripeChallenge(String(input.challenge)));
  },

  async "mpp pay"(input, ctx) {
    const c = client(ctx);
    const url = String(input.url);
    const wait = input.spend_request_id !== undefined || input.interval !== undefined || ctx.human;
    const headers = (input.headers as string[] | undefined) ?? [];
    const options = {
      spendRequestId: str(input.spend_request_id),
      context: str(input.context),
      amount: typeof input.amount === "number" ? input.amount : undefined,
      paymentMethodId: str(input.payment_method_id),
      test: input.test === true ? true : undefined,
      method: str(input.method),
      headers,
      data: str(input.data),
      interval: num(input.interval, 2),
      timeout: num(input.timeout, 600),
      wait,
    };
    if (!wait) {
      const result = await c.mpp.pay(url, options);
      const sr = asJson(result).spend_request as JsonObject | undefined;
      if (!sr) {
        ctx.emit(result);
        return;
      }
      const id = String(sr.id);
      const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
      const pay = [`mpp pay ${quote(url)} --spend-request-id ${id}`];
      if (options.method) pay.push(`-X ${options.method}`);
      if (options.data !== undefined) pay.push(`-d ${quote(options.data)}`);
      for (const h of headers) pay.push(`-H ${quote(h)}`);
      ctx.emit({
        ...sr,
        instruction: `Present the approval_url to the user and ask them to approve the payment in the Link app. Poll with \`${RETRIEVE_NEXT(id)}\`; once the status is approved, run \`${pay.join(" ")}\`.`,
        _next: { poll_command: RETRIEVE_NEXT(id), pay_command: pay.join(" "), until: "status changes from pending_approval, then run pay_command" },
      });
      return;
    }
    let shown = false;
    const work = c.mpp.pay(url, {
      ...options,
      onProgress: (sr) => {
        ctx.emit(sr);
        if (!shown && ctx.tty && typeof sr.approval_url === "string") {
          shown = true;
          void ctx.tty.approvalUrl("Approve this payment", sr.approval_url);
        }
      },
    });
    ctx.emit(ctx.tty ? await ctx.tty.wait("Paying…", work) : await work);
  },
};

/** Runs a command whose input `validateCommandInput` already normalised. */
export async function runCommand(name: string, input: JsonObject, ctx: RunContext): Promise<void> {
  const handler = HANDLERS[name];
  if (!handler) throw codedError("INVALID_INPUT", `'${name}' cannot run here`);
  await handler(input, ctx);
}
