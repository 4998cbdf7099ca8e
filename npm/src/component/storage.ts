/**
 * Storages for the component client (`linkpay/component`): synchronous, as the component's
 * `storage` import is on jco (Node 20 runs synchronous host imports only).
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { tempPath } from "../host/temp.js";

/**
 * The component's `linkpay:core/storage` import: string values under a few keys (`auth`,
 * `pendingDeviceAuth`). `get` returns `null`/`undefined` for a missing key; a thrown error
 * becomes the `STORAGE_ERROR` the client reports. Values hold tokens: treat them as secrets.
 */
export interface ComponentStorage {
  get(key: string): string | null | undefined;
  set(key: string, value: string): void;
  delete(key: string): void;
}

/** Keeps the session in memory only (tests, short-lived agents). */
export class ComponentMemoryStorage implements ComponentStorage {
  readonly values = new Map<string, string>();

  get(key: string): string | undefined {
    return this.values.get(key);
  }

  set(key: string, value: string): void {
    this.values.set(key, value);
  }

  delete(key: string): void {
    this.values.delete(key);
  }
}

/**
 * The session in one JSON file, the same format as the library's `FileStorage` (each key a
 * top-level property holding the stored JSON value), so the CLI and this client can share it:
 * mode 0600 in a 0700 directory, written atomically (temp file + rename). Unlike `FileStorage`
 * it takes no lock: one process writes it at a time.
 */
export class ComponentFileStorage implements ComponentStorage {
  readonly location: string;

  constructor(path: string) {
    this.location = resolve(path);
  }

  private read(): Record<string, unknown> {
    let text: string;
    try {
      text = readFileSync(this.location, "utf8");
    } catch (e) {
      if ((e as { code?: string }).code === "ENOENT") return {};
      throw new Error(`Cannot read credential file ${this.location}: ${(e as Error).message}`);
    }
    const parsed: unknown = text.trim() === "" ? {} : JSON.parse(text);
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      throw new Error(`Credential file ${this.location} is corrupt (not a JSON object). It was left untouched.`);
    }
    return parsed as Record<string, unknown>;
  }

  private write(data: Record<string, unknown>): void {
    mkdirSync(dirname(this.location), { recursive: true, mode: 0o700 });
    const temp = tempPath(this.location);
    try {
      writeFileSync(temp, JSON.stringify(data, null, "\t") + "\n", { mode: 0o600, flag: "wx" });
      chmodSync(temp, 0o600);
      renameSync(temp, this.location);
    } catch (e) {
      try {
        unlinkSync(temp);
      } catch {
        // Never written.
      }
      throw new Error(`Cannot write credential file ${this.location}: ${(e as Error).message}`);
    }
  }

  get(key: string): string | undefined {
    const value = this.read()[key];
    return value === undefined || value === null ? undefined : JSON.stringify(value);
  }

  set(key: string, value: string): void {
    const data = this.read();
    data[key] = JSON.parse(value) as unknown;
    this.write(data);
  }

  delete(key: string): void {
    const data = this.read();
    if (!(key in data)) return;
    delete data[key];
    if (Object.values(data).some((v) => v !== null && v !== undefined)) this.write(data);
    else unlinkSync(this.location);
  }
}
