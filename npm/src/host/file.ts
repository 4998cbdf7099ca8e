import { dirname, resolve } from "node:path";
import { homedir } from "node:os";
import type { LinkStorage } from "./types.js";
import { codedError } from "./types.js";
import { processAlive, removeStaleTemps, tempPath } from "./temp.js";

/** `node:fs/promises`, loaded on first use: it pulls in streams and readline (~2 ms), which a
 * command that never opens the file (`linkpay mpp decode`) should not pay at start. */
const fsp = (): Promise<typeof import("node:fs/promises")> => import("node:fs/promises");

/** `~/.config/linkpay/config.json`, or `$XDG_CONFIG_HOME/linkpay/config.json`. */
// The parameter's type is spelled out, not `NodeJS.ProcessEnv`: public declarations must not
// need @types/node.
export function defaultConfigPath(env: { readonly [name: string]: string | undefined } = process.env): string {
  const base = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.trim() !== "" ? env.XDG_CONFIG_HOME : resolve(homedir(), ".config");
  return resolve(base, "linkpay", "config.json");
}

export interface FileStorageOptions {
  /** Told, once per file and process, what was wrong with the file and what was done about it
   * (a mode readable by others, fixed to 0600). Default: `process.emitWarning` (stderr). */
  onWarning?: (message: string) => void;
}

/** Files already warned about in this process. */
const warned = new Set<string>();

/** How long a write waits for another process's write of the same file. */
const LOCK_WAIT_MS = 12_000;
/** A lock file older than this (or whose process is gone) was left by a killed writer. */
const LOCK_STALE_MS = 10_000;

/** The credential file of a Node client: `LINK_AUTH_FILE`, else {@link defaultConfigPath}. */
export function authFilePath(env: { readonly [name: string]: string | undefined } = process.env): string {
  return env.LINK_AUTH_FILE?.trim() ? resolve(env.LINK_AUTH_FILE) : defaultConfigPath(env);
}

/**
 * The session in one JSON file, mode 0600, written atomically (temp file + rename). Each key is
 * a top-level property holding the stored JSON value, like the reference client's file
 * (`{"auth": …, "pendingDeviceAuth": …}`). A corrupt file is a `STORAGE_ERROR` naming the path,
 * and it is never overwritten.
 *
 * - A symbolic link is written through: the temp file goes next to the link's target and is
 *   renamed over the target, so the link stays and the target gets the new tokens.
 * - A file others can read (group or other mode bits) is warned about once and set to 0600.
 * - A write (read, change one key, write back) holds `<file>.lock` (created exclusively), so
 *   processes writing different keys at once cannot undo each other's change.
 * - Stale temp files a killed process left next to the file are removed on the next write.
 */
export class FileStorage implements LinkStorage {
  readonly location: string;
  readonly #onWarning: (message: string) => void;

  constructor(path: string = defaultConfigPath(), options: FileStorageOptions = {}) {
    this.location = resolve(path);
    this.#onWarning = options.onWarning ?? ((message) => process.emitWarning(message, { code: "LINKPAY_CREDENTIAL_FILE" }));
  }

  /** The file the data lives in: the location, or where its symbolic link(s) lead. */
  private async target(): Promise<string> {
    const { lstat, readlink, realpath } = await fsp();
    try {
      return await realpath(this.location);
    } catch {
      // A link to a file not made yet: its target (one level), else the location itself.
      const stat = await lstat(this.location).catch(() => undefined);
      if (stat?.isSymbolicLink()) return resolve(dirname(this.location), await readlink(this.location));
      return this.location;
    }
  }

  /** A mode others can read becomes 0600, with a warning (once). */
  private async checkMode(target: string): Promise<void> {
    const { stat, chmod } = await fsp();
    const mode = (await stat(target).catch(() => undefined))?.mode;
    if (mode === undefined || (mode & 0o077) === 0) return;
    let fixed = true;
    await chmod(target, 0o600).catch(() => (fixed = false));
    if (warned.has(target)) return;
    warned.add(target);
    const was = (mode & 0o777).toString(8).padStart(4, "0");
    this.#onWarning(
      fixed
        ? `Credential file ${target} was readable by others (mode ${was}); its mode is now 0600.`
        : `Credential file ${target} is readable by others (mode ${was}) and its mode could not be changed: chmod 600 it.`,
    );
  }

  private async read(): Promise<Record<string, unknown>> {
    let text: string;
    try {
      const target = await this.target();
      text = await (await fsp()).readFile(target, "utf8");
      await this.checkMode(target);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return {};
      throw codedError("STORAGE_ERROR", `Cannot read credential file ${this.location}: ${(e as Error).message}`);
    }
    if (text.trim() === "") return {};
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw codedError(
        "STORAGE_ERROR",
        `Credential file ${this.location} is corrupt (not JSON). It was left untouched: fix or delete it, then log in again.`,
        { path: this.location },
      );
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      throw codedError("STORAGE_ERROR", `Credential file ${this.location} is corrupt (not a JSON object). It was left untouched.`, { path: this.location });
    }
    return parsed as Record<string, unknown>;
  }

  /** Runs `change` (read, modify, write back) holding the file's lock. */
  private async locked<T>(change: (target: string) => Promise<T>): Promise<T> {
    const { mkdir, open, readFile, stat, unlink } = await fsp();
    const target = await this.target();
    await mkdir(dirname(target), { recursive: true, mode: 0o700 }).catch((e: Error) => {
      throw codedError("STORAGE_ERROR", `Cannot write credential file ${this.location}: ${e.message}`);
    });
    const lock = `${target}.lock`;
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (let delay = 5; ; delay = Math.min(delay * 2, 50)) {
      try {
        const handle = await open(lock, "wx", 0o600);
        await handle.writeFile(String(process.pid)).finally(() => handle.close());
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") {
          throw codedError("STORAGE_ERROR", `Cannot lock credential file ${this.location}: ${(e as Error).message}`);
        }
      }
      // Held: wait, unless its writer is gone (killed mid-write) or it is too old to be live.
      const pid = Number(await readFile(lock, "utf8").catch(() => ""));
      const age = Date.now() - ((await stat(lock).catch(() => undefined))?.mtimeMs ?? Date.now());
      if ((pid > 0 && !processAlive(pid)) || age > LOCK_STALE_MS) {
        await unlink(lock).catch(() => undefined);
        continue;
      }
      if (Date.now() > deadline) throw codedError("STORAGE_ERROR", `Credential file ${this.location} stayed locked by process ${pid || "unknown"} (${lock})`);
      await new Promise((r) => setTimeout(r, delay));
    }
    try {
      return await change(target);
    } finally {
      await unlink(lock).catch(() => undefined);
    }
  }

  private async write(target: string, data: Record<string, unknown>): Promise<void> {
    const { chmod, open, rename, unlink } = await fsp();
    await removeStaleTemps(target);
    const temp = tempPath(target);
    try {
      const handle = await open(temp, "wx", 0o600);
      try {
        await handle.writeFile(JSON.stringify(data, null, "\t") + "\n", "utf8");
        await handle.sync();
      } finally {
        await handle.close();
      }
      await chmod(temp, 0o600);
      await rename(temp, target);
    } catch (e) {
      await unlink(temp).catch(() => undefined);
      throw codedError("STORAGE_ERROR", `Cannot write credential file ${this.location}: ${(e as Error).message}`);
    }
  }

  async get(key: string): Promise<string | null> {
    const data = await this.read();
    const value = data[key];
    return value === undefined || value === null ? null : JSON.stringify(value);
  }

  async set(key: string, value: string): Promise<void> {
    const parsed: unknown = JSON.parse(value);
    await this.locked(async (target) => {
      const data = await this.read();
      data[key] = parsed;
      await this.write(target, data);
    });
  }

  async delete(key: string): Promise<void> {
    if (!(key in (await this.read()))) return;
    await this.locked(async (target) => {
      const data = await this.read();
      if (!(key in data)) return;
      delete data[key];
      const remaining = Object.values(data).some((v) => v !== null && v !== undefined);
      if (remaining) {
        await this.write(target, data);
      } else {
        // Nothing left: remove the file (as the reference's logout does); through a link, the
        // file it leads to, which is where the secrets were.
        await (await fsp()).unlink(target).catch((e: NodeJS.ErrnoException) => {
          if (e.code !== "ENOENT") throw codedError("STORAGE_ERROR", `Cannot delete ${this.location}: ${e.message}`);
        });
      }
    });
  }

  /** Whether the file exists and is a regular file (not a symlink). */
  async exists(): Promise<boolean> {
    return (await fsp()).lstat(this.location).then((s) => s.isFile(), () => false);
  }
}
