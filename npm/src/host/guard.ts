/**
 * Host callbacks that can never throw into the wasm driver.
 *
 * The driver calls the host's `log`, `now`, `random` and `sleep` as plain wasm imports (not
 * `catch` ones, see src/bind/js.rs): an exception thrown there would unwind through the wasm
 * frames and surface as an uncaught exception that kills the Node process, never as the call's
 * error. And it ignores what an `onProgress` callback throws. So every callback the host hands
 * the driver goes through a {@link HostGuard}:
 *
 * - a callback that throws (or whose promise rejects) has its error recorded (the first one
 *   wins) and returns a harmless value instead: `now` 0, `random` zero bytes, `sleep` at once,
 *   `log` and `onProgress` nothing;
 * - while a failure is recorded, the host's `fetch`, storage and `writeFile` reject with it, so the
 *   driver stops at its next step and sends or stores nothing the failed callback shaped (an
 *   idempotency key made of zero bytes is never sent, a poll never runs without its sleep);
 * - when a driver call settles, a recorded failure becomes its result: the call rejects with an
 *   `Error` whose `.code` is `UNKNOWN` (the callback's bug is not linkpay's to classify), whose
 *   message names the callback, and whose `.cause` is what it threw.
 *
 * A throwing logger thus fails the call rather than being swallowed: logging was asked for, and a
 * logger that silently stops logging would hide the bug. With several calls in flight on one
 * client, a failure fails the calls that reach their next fetch or storage step before the one
 * that hit it settles. `fetch` and storage themselves are `catch` imports already: what they
 * throw becomes `TRANSPORT_ERROR` / `STORAGE_ERROR` (or the `.code` they set) in the driver.
 */
import { codedError, type Logger } from "./types.js";

/** The host object the wasm driver is constructed with. */
export interface DriverHost {
  /** `link`: the request goes to Link (API or auth), not to a merchant. */
  fetch(request: unknown, link: boolean): Promise<unknown>;
  storageGet(key: string): Promise<string | null>;
  storageSet(key: string, value: string): Promise<void>;
  storageDelete(key: string): Promise<void>;
  now(): number;
  sleep(ms: number): Promise<void>;
  random(len: number): Uint8Array;
  log(line: string): void;
  writeFile(path: string, contents: string, replace: boolean): Promise<void>;
}

/** The `logger` option as a function: a function as is, a console-like object's `debug`, `info`
 * or `log` method (bound to it); `undefined`/`null` log nothing. Anything else is
 * `INVALID_INPUT`, thrown when the client is made rather than on its first request. */
export function logFunction(logger: Logger | null | undefined): ((line: string) => void) | undefined {
  if (logger === undefined || logger === null) return undefined;
  if (typeof logger === "function") return (line) => void logger(line);
  if (typeof logger === "object") {
    for (const name of ["debug", "info", "log"] as const) {
      const method: unknown = logger[name];
      if (typeof method === "function") return (line) => void method.call(logger, line);
    }
  }
  throw codedError(
    "INVALID_INPUT",
    `logger must be a function or an object with a debug, info or log method (console, pino, winston), not ${describe(logger)}`,
  );
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "an object without debug, info or log methods";
  return `a ${typeof value}`;
}

export class HostGuard {
  #failure: Error | undefined;

  #record(what: string, e: unknown): void {
    if (this.#failure) return;
    const message = e instanceof Error ? e.message : String(e);
    this.#failure = codedError("UNKNOWN", `The ${what} callback threw: ${message}`, { cause: e });
  }

  #take(): Error | undefined {
    const failure = this.#failure;
    this.#failure = undefined;
    return failure;
  }

  /** `fn`, returning `fallback()` instead of throwing. */
  #sync<A extends unknown[], R>(what: string, fn: (...args: A) => R, fallback: (...args: A) => R): (...args: A) => R {
    return (...args) => {
      try {
        return fn(...args);
      } catch (e) {
        this.#record(what, e);
        return fallback(...args);
      }
    };
  }

  /** `fn` (fetch, storage), rejecting at once while a callback failure is recorded. */
  #io<A extends unknown[], R>(fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
    return async (...args) => {
      if (this.#failure) throw this.#failure;
      return fn(...args);
    };
  }

  /** The host with every callback guarded. */
  host(host: DriverHost): DriverHost {
    return {
      fetch: this.#io(host.fetch),
      storageGet: this.#io(host.storageGet),
      storageSet: this.#io(host.storageSet),
      storageDelete: this.#io(host.storageDelete),
      writeFile: this.#io(host.writeFile),
      now: this.#sync("clock (now)", host.now, () => 0),
      random: this.#sync("random", host.random, (len) => new Uint8Array(len)),
      log: this.#sync("logger", host.log, () => undefined),
      sleep: (ms) => {
        if (this.#failure) return Promise.resolve();
        try {
          return Promise.resolve(host.sleep(ms)).catch((e: unknown) => this.#record("sleep", e));
        } catch (e) {
          this.#record("sleep", e);
          return Promise.resolve();
        }
      },
    };
  }

  /** The driver with each method's callback arguments (`onProgress`, `run`'s `onEvent`)
   * guarded, and each call's result replaced by the failure of a callback recorded meanwhile. */
  driver<T extends object>(driver: T): T {
    return new Proxy(driver, {
      get: (target, key) => {
        const member: unknown = Reflect.get(target, key, target);
        if (typeof member !== "function") return member;
        const what = key === "run" ? "onEvent" : "onProgress";
        return (...args: unknown[]) =>
          this.#settle(() =>
            member.apply(
              target,
              args.map((a) => (typeof a === "function" ? this.#sync(what, a as (v: unknown) => unknown, () => undefined) : a)),
            ),
          );
      },
    });
  }

  async #settle(run: () => unknown): Promise<unknown> {
    let result: unknown;
    try {
      result = await run();
    } catch (e) {
      throw this.#take() ?? e;
    }
    const failure = this.#take();
    if (failure) throw failure;
    return result;
  }
}

