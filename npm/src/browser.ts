/**
 * linkpay for browsers, extensions and workers (the `browser` export condition): the same API as
 * the Node entry over the `web` wasm build, with no Node built-ins anywhere on its import graph
 * and only relative imports, so it loads as is from a page, a bundle or an extension's module
 * service worker.
 *
 * The wasm module is fetched on first use: `LinkClient` loads it by itself; the synchronous
 * functions (`decodeStripeChallenge`, `validate…`) need `await init()` first. By default the
 * module comes from `./pkg/web/linkpay_bg.wasm` next to this file (`import.meta.url`, which
 * bundlers and extensions resolve); pass `init(url | bytes | module)` to load it from elsewhere.
 */
import initWasm, * as web from "./pkg/web/linkpay.js";
import { LinkClientBase, type LinkClientOptions } from "./client.js";
import { bindCore } from "./binding.js";
import { browserStorage, ChromeStorage, WebStorageStore } from "./host/browser.js";
import { MemoryStorage } from "./host/memory.js";
import { codedError } from "./host/types.js";

export * from "./core.js";
export type { LinkClientOptions, RunOptions, RunEvent, PollOptions, WaitForOptions, PayOptions, PaymentOptions, PaymentApproval, CreateTokenParameters, LoginPending, LoginDone, LoginOptions, LoginWaitOptions, CreateSpendRequestInput } from "./client.js";
export type { LinkStorage, FetchFunction, Logger } from "./host/types.js";
export type { ChromeStorageArea, WebStorage } from "./host/browser.js";
export { browserStorage, ChromeStorage, WebStorageStore, MemoryStorage };

/** Where `init` finds the wasm module: its URL, a `Response`/`Request`, its bytes, or a compiled module. */
export type WasmSource = string | URL | Request | Response | BufferSource | WebAssembly.Module;

/** The package version (equal to the Rust core's); set once `init()` has resolved. */
export let version = "";

/** Every stable error code; set once `init()` has resolved. */
export let errorCodes: readonly string[] = [];

let ready: Promise<void> | undefined;

/**
 * Loads the wasm module once (later calls return the same promise; a failed load may be
 * retried). `source` defaults to `new URL("./pkg/web/linkpay_bg.wasm", import.meta.url)`.
 * A failed fetch or a broken module rejects with `TRANSPORT_ERROR`.
 */
export function init(source?: WasmSource): Promise<void> {
  if (ready === undefined) {
    const module_or_path = source ?? new URL("./pkg/web/linkpay_bg.wasm", import.meta.url);
    ready = initWasm({ module_or_path }).then(
      () => {
        bindCore(web);
        version = web.version();
        errorCodes = web.errorCodes();
      },
      (e: unknown) => {
        ready = undefined;
        throw codedError("TRANSPORT_ERROR", `Loading linkpay's WebAssembly module failed: ${e instanceof Error ? e.message : String(e)}`);
      },
    );
  }
  return ready;
}

/** "Chromium (Linux)": the machine's name in the login's connection label ("<client> on …"). */
function browserName(): string {
  const nav = (globalThis as { navigator?: { userAgentData?: { brands?: { brand: string }[]; platform?: string }; platform?: string } }).navigator;
  const data = nav?.userAgentData;
  const brand = data?.brands?.map((b) => b.brand).find((b) => !/not.?a.?brand/i.test(b) && b !== "Chromium") ?? data?.brands?.[0]?.brand;
  const platform = data?.platform || nav?.platform;
  if (brand && platform) return `${brand} (${platform})`;
  return brand ?? platform ?? "a browser";
}

/**
 * The Link wallet from a page, an extension or a worker. `fetch` defaults to the global one
 * (an extension's service worker with `host_permissions` needs no CORS); the session lives in
 * `chrome.storage.local` in an extension, else `localStorage` (see `browserStorage`). There are
 * no environment variables: pass `apiBaseUrl`/`authBaseUrl` to use another server.
 */
export class LinkClient extends LinkClientBase {
  constructor(options: LinkClientOptions = {}) {
    super(
      async () => {
        await init();
        return web.WasmClient;
      },
      options,
      { env: () => ({}), storage: () => browserStorage(), hostname: browserName },
    );
  }
}
