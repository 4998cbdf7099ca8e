/** What every part of the sandbox shares: the state, the clock, the settings. */

import type { SandboxClock } from "./clock.js";
import type { State, UserRecord } from "./state.js";

/** The documented Link limits (link-cli.md §2.6, the skill's "hard limits"). */
export interface Limits {
  // The $500 per-request cap is a core validation rule (`validateCreateSpendRequestBody`).
  /** Per user per rolling 24 hours, cents. */
  dailyCents: number;
  /** Per user per rolling 30 days, cents. */
  monthlyCents: number;
  /** Requests in created, pending_approval, requires_action or approved at once. */
  active: number;
  /** Requests approved (or resuming into approved after 3-D Secure) at once. */
  approved: number;
  /** Creates per rolling hour. */
  hourly: number;
  /** Creates per rolling 60 days. */
  rolling: number;
  rollingWindowMs: number;
  /** The person must approve within this long of the approval request. */
  approvalWindowMs: number;
  /** Credentials stay valid this long after creation (unless `expires_at` says otherwise). */
  credentialValidityMs: number;
  /** Link Pay Tokens stay valid at most this long after approval. */
  linkPayTokenValidityMs: number;
  /** The same request again within this window is refused as a duplicate. */
  duplicateWindowMs: number;
  /** Idempotency keys are remembered this long. */
  idempotencyWindowMs: number;
}

export const DEFAULT_LIMITS: Limits = {
  dailyCents: 50_000,
  monthlyCents: 2_000_000,
  active: 30,
  approved: 10,
  hourly: 50,
  rolling: 200,
  rollingWindowMs: 60 * 86_400_000,
  approvalWindowMs: 10 * 60_000,
  credentialValidityMs: 12 * 3_600_000,
  linkPayTokenValidityMs: 30 * 60_000,
  duplicateWindowMs: 60_000,
  idempotencyWindowMs: 24 * 3_600_000,
};

export interface Config {
  /** `http://host:port`, known once the server listens. */
  baseUrl: string;
  /** Approve device codes and spend requests without a person (after `autoApproveDelayMs`). */
  autoApprove: boolean;
  autoApproveDelayMs: number;
  /** Access-token lifetime (`expires_in`), seconds. */
  accessTokenTtlS: number;
  /** Device-code lifetime, seconds. */
  deviceCodeTtlS: number;
  /** The poll interval the device flow asks for, seconds. */
  deviceIntervalS: number;
  /** How long 3-D Secure takes before the request resumes by itself, ms of sandbox time. */
  threeDSecureDelayMs: number;
  /** How long an MPP challenge stays payable, ms. */
  challengeTtlMs: number;
  /**
   * Whether `POST /spend_requests/create_delegated` works. The real API allows it only to
   * allow-listed clients, because it hands over an approved credential with no person involved;
   * the sandbox refuses it unless started with `allowDelegated` / `--allow-delegated`.
   */
  allowDelegated: boolean;
  limits: Limits;
}

export interface Context {
  state: State;
  clock: SandboxClock;
  config: Config;
  /** Call after every change to the state (with `--data`, the answer waits until it is saved). */
  changed(): void;
  /** This process's key for the pages' form tokens (`formToken`). */
  pageKey: Buffer;
  /** The user the device page and the approval controls act for when none is named. */
  defaultUser(): UserRecord;
}
