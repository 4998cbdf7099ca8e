/**
 * Everything the sandbox remembers, its indexes, and saving it to `--data FILE` (atomically and
 * before answering: a fsynced 0600 temp file renamed over the old one, see `Persister`). Records are plain JSON so a file written by one
 * sandbox version can be read by the next; the indexes are rebuilt on load.
 */

import { mkdir, open, readdir, rename, unlink, type FileHandle } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
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
  /** `POST /agent_observations` records (`report`), oldest first. */
  observations: JsonObject[] = [];

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
      observations: this.observations,
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
    state.observations = list<JsonObject>("observations");
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
 * Saves the state to the data file, and says when a change is on disk.
 *
 * A request that changed the state is answered only once a write that includes the change has
 * finished (`commit`): a 200 means the change survives a crash. Concurrent requests share writes
 * (group commit): while one write is in flight, later changes wait for the next one, which covers
 * them all. Each write goes to a fresh 0600 temp file in the same directory, is fsynced, renamed
 * over the data file, and the directory is fsynced, so a crash leaves either the old or the new
 * state, never half of one, and a renamed file is not lost with the directory entry.
 *
 * When a write fails (a full disk, a path that is no longer a directory), the state in memory goes
 * back to what the file holds (`restore` with the last text written), and every change waiting
 * for that write is refused: what the sandbox answers always matches what it would load.
 * Changes made outside a request (the JS handle: `approve`, `advanceClock`, …) are written
 * shortly after (`touch`), and `flush` waits for them.
 */
export class Persister {
  /** Counts changes; `#savedGen` is the count the file includes. */
  #gen = 0;
  #savedGen = 0;
  #lastGood: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #waiters: { gen: number; resolve: () => void; reject: (e: unknown) => void }[] = [];
  #seq = 0;

  constructor(
    readonly path: string,
    readonly snapshot: () => JsonObject,
    readonly restore: (text: string) => void,
    readonly onError: (e: unknown) => void,
    readonly delayMs = 20,
  ) {}

  /** Marks the state changed; a write follows within `delayMs`. */
  touch(): void {
    this.#gen++;
    if (this.#timer === undefined && this.#running === undefined) {
      this.#timer = setTimeout(() => this.#kick(), this.delayMs);
      this.#timer.unref();
    }
  }

  /** Resolves once every change made so far is on disk; rejects when that write failed. */
  commit(): Promise<void> {
    const gen = this.#gen;
    if (this.#savedGen >= gen) return Promise.resolve();
    const done = new Promise<void>((resolve, reject) => this.#waiters.push({ gen, resolve, reject }));
    this.#kick();
    return done;
  }

  #kick(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#running !== undefined) return;
    this.#running = this.#run().finally(() => {
      this.#running = undefined;
      // A change made between the loop's last check and now still gets its write.
      if (this.#savedGen < this.#gen) this.#kick();
    });
  }

  async #run(): Promise<void> {
    while (this.#savedGen < this.#gen) {
      const gen = this.#gen;
      let text: string;
      try {
        text = JSON.stringify(this.snapshot());
        await this.#write(text);
      } catch (e) {
        this.#fail(e);
        continue;
      }
      this.#savedGen = gen;
      this.#lastGood = text;
      const waiting = this.#waiters;
      this.#waiters = [];
      for (const w of waiting) {
        if (w.gen <= gen) w.resolve();
        else this.#waiters.push(w);
      }
    }
  }

  /** A write failed: back to the file's state; every change since is lost, so every waiter is refused. */
  #fail(e: unknown): void {
    this.onError(e);
    if (this.#lastGood !== undefined) {
      try {
        this.restore(this.#lastGood);
      } catch (restoreError) {
        this.onError(restoreError);
      }
    }
    this.#savedGen = this.#gen;
    const waiting = this.#waiters;
    this.#waiters = [];
    for (const w of waiting) w.reject(e);
  }

  async #write(text: string): Promise<void> {
    const dir = dirname(this.path);
    const tmp = `${this.path}.${process.pid}.${++this.#seq}.tmp`;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    let file: FileHandle | undefined;
    try {
      file = await open(tmp, "wx", 0o600);
      await file.writeFile(text, "utf8");
      await file.sync();
      await file.close();
      file = undefined;
      await rename(tmp, this.path);
    } catch (e) {
      await file?.close().catch(() => undefined);
      await unlink(tmp).catch(() => undefined);
      throw e;
    }
    // The rename is durable only once the directory is: fsync it (not possible on every
    // platform, e.g. Windows, where opening a directory fails; the rename is still atomic).
    const handle = await open(dir, "r").catch(() => undefined);
    if (handle !== undefined) await handle.sync().catch(() => undefined).finally(() => handle.close().catch(() => undefined));
  }

  /** Writes now if anything changed, and waits for it; throws when that write failed. */
  async flush(): Promise<void> {
    if (this.#savedGen < this.#gen) await this.commit();
    while (this.#running !== undefined) await this.#running;
  }

  /**
   * Removes temp files an earlier sandbox process left next to the data file when it was killed
   * mid-write (they hold the whole state: cards, tokens). Only files named like ours, of other
   * processes.
   */
  async removeStaleTemps(): Promise<void> {
    const dir = dirname(this.path);
    const prefix = `${basename(this.path)}.`;
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names) {
      const m = name.startsWith(prefix) ? /^(\d+)\.\d+\.tmp$/.exec(name.slice(prefix.length)) : null;
      if (m !== null && Number(m[1]) !== process.pid) await unlink(join(dir, name)).catch(() => undefined);
    }
  }
}
