/**
 * Everything the sandbox remembers, its indexes, and saving it to `--data FILE` (atomically:
 * a 0600 temp file renamed over the old one). Records are plain JSON so a file written by one
 * sandbox version can be read by the next; the indexes are rebuilt on load.
 */

import { mkdir, rename, writeFile, unlink } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { dirname } from "node:path";
import { randomBytes } from "node:crypto";
import type { Json, JsonObject } from "../index.js";

export interface UserRecord {
  id: string;
  email: string;
  name: string;
  first_name: string;
  last_name: string;
  phone: string;
  created_ms: number;
}

/** One login: a refresh token (rotated on every refresh) and the access tokens it minted. */
export interface SessionRecord {
  id: string;
  user_id: string;
  client_id: string;
  scope: string;
  authorization_details?: Json[];
  client_name?: string;
  refresh_token: string;
  created_ms: number;
  revoked_ms?: number;
}

export interface AccessTokenRecord {
  token: string;
  session_id: string;
  user_id: string;
  expires_ms: number;
}

export type DeviceStatus = "pending" | "approved" | "denied" | "consumed";

export interface DeviceAuthRecord {
  device_code: string;
  user_code: string;
  client_id: string;
  scope: string;
  authorization_details: Json[];
  client_hint: string;
  connection_label: string;
  status: DeviceStatus;
  user_id?: string;
  created_ms: number;
  expires_ms: number;
  interval_s: number;
  last_poll_ms?: number;
  auto_approve_ms?: number;
}

export interface CardRecord {
  id: string;
  brand: string;
  number: string;
  cvc: string;
  exp_month: number;
  exp_year: number;
}

export interface SpendRequestRecord {
  id: string;
  user_id: string;
  status: string;
  /** The normalised wire body (`validateCreateSpendRequestBody`), with updates applied. */
  request: JsonObject;
  /** The payment method the request is funded by (`payment_details`, resolved to the default). */
  payment_method: string;
  delegated: boolean;
  idempotency_key?: string;
  /** What a replay with the same idempotency key must match (endpoint + body). */
  idempotency_fingerprint?: string;
  /** Duplicate-detection key: amount, currency, merchant, context, credential type. */
  dedupe_key: string;
  created_ms: number;
  updated_ms: number;
  approval_requested_ms?: number;
  auto_approve_ms?: number;
  resume_ms?: number;
  valid_until_ms: number;
  status_details?: JsonObject | null;
  card?: CardRecord;
  spt?: { id: string };
  lpt?: { token: string; valid_until_ms: number };
  payment_status_details?: JsonObject;
  link_transaction_id?: string;
}

/** Per-user indexes over spend requests (rebuilt from the records on load). */
export interface UserSpendIndex {
  /** Every request id, in creation order. */
  ids: string[];
  /** Requests not yet in a final status (the ones time can still change). */
  live: Set<string>;
  /** Creation times (ms) within the longest rate window, oldest first. */
  creates: number[];
  idempotency: Map<string, string>;
  dedupe: Map<string, string>;
}

const FORMAT = "linkpay-sandbox/1";

export class State {
  /** The merchant's HMAC key for challenge ids (kept across restarts with `--data`). */
  secret: string = randomBytes(32).toString("base64url");
  clockOffsetMs = 0;
  users = new Map<string, UserRecord>();
  sessions = new Map<string, SessionRecord>();
  accessTokens = new Map<string, AccessTokenRecord>();
  deviceAuths = new Map<string, DeviceAuthRecord>();
  spendRequests = new Map<string, SpendRequestRecord>();
  /** MPP challenge ids already paid (single use), with when they expire. */
  usedChallenges = new Map<string, number>();

  // Indexes.
  refreshTokens = new Map<string, string>();
  userCodes = new Map<string, string>();
  userSpend = new Map<string, UserSpendIndex>();
  spts = new Map<string, string>();
  cards = new Map<string, string>();

  spendIndex(userId: string): UserSpendIndex {
    let index = this.userSpend.get(userId);
    if (index === undefined) {
      index = { ids: [], live: new Set(), creates: [], idempotency: new Map(), dedupe: new Map() };
      this.userSpend.set(userId, index);
    }
    return index;
  }

  addSession(session: SessionRecord): void {
    this.sessions.set(session.id, session);
    this.refreshTokens.set(session.refresh_token, session.id);
  }

  addDeviceAuth(auth: DeviceAuthRecord): void {
    this.deviceAuths.set(auth.device_code, auth);
    this.userCodes.set(auth.user_code, auth.device_code);
  }

  /** Indexes a new spend request (its credentials are indexed when issued). */
  addSpendRequest(sr: SpendRequestRecord, isFinal: boolean): void {
    this.spendRequests.set(sr.id, sr);
    const index = this.spendIndex(sr.user_id);
    index.ids.push(sr.id);
    index.creates.push(sr.created_ms);
    if (!isFinal) index.live.add(sr.id);
    if (sr.idempotency_key !== undefined) index.idempotency.set(sr.idempotency_key, sr.id);
    index.dedupe.set(sr.dedupe_key, sr.id);
    if (sr.spt) this.spts.set(sr.spt.id, sr.id);
    if (sr.card) this.cards.set(sr.card.number, sr.id);
  }

  toJSON(): JsonObject {
    return {
      format: FORMAT,
      secret: this.secret,
      clock_offset_ms: this.clockOffsetMs,
      users: [...this.users.values()] as unknown as Json[],
      sessions: [...this.sessions.values()] as unknown as Json[],
      access_tokens: [...this.accessTokens.values()] as unknown as Json[],
      device_auths: [...this.deviceAuths.values()] as unknown as Json[],
      spend_requests: [...this.spendRequests.values()] as unknown as Json[],
      used_challenges: Object.fromEntries(this.usedChallenges),
    };
  }

  /** Rebuilds a state (and its indexes) from `toJSON` output. */
  static fromJSON(data: JsonObject, isFinal: (status: string) => boolean): State {
    if (data.format !== FORMAT) throw new Error(`not a sandbox data file (format ${JSON.stringify(data.format)})`);
    const state = new State();
    state.secret = String(data.secret);
    state.clockOffsetMs = Number(data.clock_offset_ms ?? 0);
    const list = <T>(key: string): T[] => (Array.isArray(data[key]) ? (data[key] as unknown as T[]) : []);
    for (const u of list<UserRecord>("users")) state.users.set(u.id, u);
    for (const s of list<SessionRecord>("sessions")) state.addSession(s);
    for (const t of list<AccessTokenRecord>("access_tokens")) state.accessTokens.set(t.token, t);
    for (const d of list<DeviceAuthRecord>("device_auths")) state.addDeviceAuth(d);
    const requests = list<SpendRequestRecord>("spend_requests").sort((a, b) => a.created_ms - b.created_ms);
    for (const sr of requests) state.addSpendRequest(sr, isFinal(sr.status));
    const used = data.used_challenges;
    if (used !== null && typeof used === "object" && !Array.isArray(used)) {
      for (const [id, until] of Object.entries(used)) state.usedChallenges.set(id, Number(until));
    }
    return state;
  }
}

/** Reads a data file; `undefined` when it does not exist. A corrupt file is an error, never overwritten. */
export function readDataFile(path: string): JsonObject | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  const data = JSON.parse(text) as unknown;
  if (data === null || typeof data !== "object" || Array.isArray(data)) throw new Error(`${path}: not a sandbox data file`);
  return data as JsonObject;
}

/**
 * Coalesces saves: a change marks the state dirty and one write happens shortly after, so a burst
 * of requests costs one write. Each write goes to a fresh 0600 temp file that is renamed over
 * the data file, so a crash leaves either the old or the new state, never half of one.
 */
export class Persister {
  #dirty = false;
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> | undefined;
  #seq = 0;

  #error: unknown;

  constructor(
    readonly path: string,
    readonly snapshot: () => JsonObject,
    readonly onError: (e: unknown) => void,
    readonly delayMs = 20,
  ) {}

  /** Marks the state changed; a write follows within `delayMs`. */
  touch(): void {
    this.#dirty = true;
    if (this.#timer === undefined && this.#writing === undefined) {
      this.#timer = setTimeout(() => void this.#run(), this.delayMs);
      this.#timer.unref();
    }
  }

  async #run(): Promise<void> {
    this.#timer = undefined;
    if (this.#writing !== undefined) return;
    while (this.#dirty) {
      this.#dirty = false;
      this.#writing = this.#write();
      try {
        await this.#writing;
        this.#error = undefined;
      } catch (e) {
        this.#error = e;
        this.onError(e);
      } finally {
        this.#writing = undefined;
      }
    }
  }

  async #write(): Promise<void> {
    const text = JSON.stringify(this.snapshot());
    const tmp = `${this.path}.${process.pid}.${++this.#seq}.tmp`;
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    try {
      await writeFile(tmp, text, { mode: 0o600, flag: "wx" });
      await rename(tmp, this.path);
    } catch (e) {
      await unlink(tmp).catch(() => undefined);
      throw e;
    }
  }

  /** Writes now if anything changed, and waits for every write in flight. */
  async flush(): Promise<void> {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#writing !== undefined) await this.#writing.catch(() => undefined);
    while (this.#writing !== undefined) await new Promise((r) => setImmediate(r));
    if (this.#dirty) await this.#run();
    if (this.#error !== undefined) throw this.#error;
  }
}
