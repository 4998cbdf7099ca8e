import type { LinkStorage } from "./types.js";
import { codedError } from "./types.js";
import { MemoryStorage } from "./memory.js";

/** The part of `chrome.storage.StorageArea` used here (promise form, Manifest V3). */
export interface ChromeStorageArea {
  get(keys: string | string[]): Promise<Record<string, unknown>>;
  set(items: Record<string, unknown>): Promise<void>;
  remove(keys: string | string[]): Promise<void>;
}

/** The part of the Web Storage API used here. */
export interface WebStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** Runs one storage call; its failure becomes `STORAGE_ERROR` naming the store and the operation. */
async function guard<T>(where: string, op: "read" | "write", call: () => T | Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    throw codedError("STORAGE_ERROR", `Cannot ${op} ${where}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * The session in an extension's `chrome.storage.local` (service worker, popup and options page
 * share it; web pages cannot read it). Values are kept as the JSON text linkpay gives, under
 * `prefix` + key.
 */
export class ChromeStorage implements LinkStorage {
  readonly location = "chrome.storage.local";

  constructor(
    private readonly area: ChromeStorageArea,
    private readonly prefix = "linkpay:",
  ) {}

  async get(key: string): Promise<string | null> {
    const name = this.prefix + key;
    const items = await guard(this.location, "read", () => this.area.get(name));
    const value = items[name];
    if (value === undefined || value === null) return null;
    if (typeof value !== "string") throw codedError("STORAGE_ERROR", `${this.location} holds a corrupt value under ${name}. It was left untouched.`);
    return value;
  }

  async set(key: string, value: string): Promise<void> {
    await guard(this.location, "write", () => this.area.set({ [this.prefix + key]: value }));
  }

  async delete(key: string): Promise<void> {
    await guard(this.location, "write", () => this.area.remove(this.prefix + key));
  }
}

/** The session in a page's `localStorage` (readable by every script of that origin). */
export class WebStorageStore implements LinkStorage {
  readonly location = "localStorage";

  constructor(
    private readonly store: WebStorage,
    private readonly prefix = "linkpay:",
  ) {}

  async get(key: string): Promise<string | null> {
    return guard(this.location, "read", () => this.store.getItem(this.prefix + key));
  }

  async set(key: string, value: string): Promise<void> {
    await guard(this.location, "write", () => this.store.setItem(this.prefix + key, value));
  }

  async delete(key: string): Promise<void> {
    await guard(this.location, "write", () => this.store.removeItem(this.prefix + key));
  }
}

/**
 * The browser default: `chrome.storage.local` in an extension, else `localStorage`, else (a
 * worker outside an extension) memory only, so the session lasts as long as the worker.
 */
export function browserStorage(prefix = "linkpay:"): LinkStorage {
  const g = globalThis as { chrome?: { storage?: { local?: ChromeStorageArea } }; localStorage?: WebStorage };
  const area = g.chrome?.storage?.local;
  if (area !== undefined) return new ChromeStorage(area, prefix);
  let local: WebStorage | undefined;
  try {
    local = g.localStorage; // throws in sandboxed frames and with storage disabled
  } catch {
    local = undefined;
  }
  return local !== undefined && local !== null ? new WebStorageStore(local, prefix) : new MemoryStorage();
}
