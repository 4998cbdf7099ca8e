/**
 * The sandbox clock: a base time source (the wall clock unless the caller passes one) plus an
 * offset that `POST /sandbox/clock {advance_ms}` moves forward. Every window the sandbox enforces
 * (token lifetimes, the 10-minute approval window, 12-hour credentials, rate limits, MPP
 * challenge expiry) reads this clock, so tests can jump over them without waiting.
 */

/** Milliseconds since the epoch: a function, or an object with `now()`. */
export type ClockSource = (() => number) | { now(): number };

export class SandboxClock {
  readonly #source: () => number;
  #offsetMs: number;

  constructor(source: ClockSource | undefined, offsetMs = 0) {
    if (source === undefined) this.#source = Date.now;
    else if (typeof source === "function") this.#source = source;
    else this.#source = () => source.now();
    this.#offsetMs = offsetMs;
  }

  /** Sandbox time, epoch milliseconds. */
  now(): number {
    return Math.floor(this.#source()) + this.#offsetMs;
  }

  /** Sandbox time, unix seconds. */
  nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }

  /** How far the sandbox clock runs ahead of its source. */
  get offsetMs(): number {
    return this.#offsetMs;
  }

  /** Moves the clock forward (never back); returns the new time. */
  advance(ms: number): number {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError("advance_ms must be a non-negative number");
    this.#offsetMs += Math.floor(ms);
    return this.now();
  }
}

let lastSecond = NaN;
let lastIso = "";

/** RFC 3339 UTC without fractional seconds: `2026-05-01T12:00:00Z`. */
export function isoSeconds(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== lastSecond) {
    lastIso = new Date(second * 1000).toISOString().replace(".000Z", "Z");
    lastSecond = second;
  }
  return lastIso;
}
