/** Where linkpay keeps the session: string values under a few keys (`auth`, `pendingDeviceAuth`). */
export interface LinkStorage {
  get(key: string): Promise<string | null | undefined>;
  set(key: string, value: string): Promise<void>;
  delete(key: string): Promise<void>;
  /** Shown as `credentials_path` by `auth status` (a file path, "memory", "chrome.storage"…). */
  readonly location?: string;
}

/** `fetch` as in the WHATWG spec; the caller may pass its own (a proxy, an extension's). linkpay
 * calls it with one argument, a standard `Request` (method, headers, body, `redirect: "manual"`
 * and an `AbortSignal` for the request timeout). */
export type FetchFunction = (input: Request | string | URL, init?: RequestInit) => Promise<Response>;

/** Receives verbose log lines; linkpay redacts tokens, card numbers and CVCs before calling it. */
export type LogFunction = (line: string) => void;

/** A console-like logger (`console`, pino, winston, bunyan): lines go to `debug`, else `info`,
 * else `log`, called as a method. */
export interface ConsoleLogger {
  debug?: (...args: never[]) => unknown;
  info?: (...args: never[]) => unknown;
  log?: (...args: never[]) => unknown;
  [key: string]: unknown;
}

/** The `logger` option: a function or a console-like object. */
export type Logger = LogFunction | ConsoleLogger;

/** An `Error` with linkpay's stable `.code`. */
export function codedError(code: string, message: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), { name: "LinkpayError", code, ...extra });
}
