import { dirname, resolve } from "node:path";
import { homedir } from "node:os";
import type { LinkStorage } from "./types.js";
import { codedError } from "./types.js";

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

/**
 * The session in one JSON file, mode 0600, written atomically (temp file + rename). Each key is
 * a top-level property holding the stored JSON value, like the reference client's file
 * (`{"auth": …, "pendingDeviceAuth": …}`). A corrupt file is a `STORAGE_ERROR` naming the path,
 * and it is never overwritten.
 */
export class FileStorage implements LinkStorage {
  readonly location: string;

  constructor(path: string = defaultConfigPath()) {
    this.location = resolve(path);
  }

  private async read(): Promise<Record<string, unknown>> {
    let text: string;
    try {
      text = await (await fsp()).readFile(this.location, "utf8");
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

  private async write(data: Record<string, unknown>): Promise<void> {
    const { chmod, mkdir, open, rename, unlink } = await fsp();
    const dir = dirname(this.location);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    // Web Crypto, not node:crypto: loaded only when a file is written (CLI cold start).
    const suffix = Array.from(globalThis.crypto.getRandomValues(new Uint8Array(6)), (b) => b.toString(16).padStart(2, "0")).join("");
    const temp = `${this.location}.${process.pid}.${suffix}.tmp`;
    try {
      const handle = await open(temp, "wx", 0o600);
      try {
        await handle.writeFile(JSON.stringify(data, null, "\t") + "\n", "utf8");
        await handle.sync();
      } finally {
        await handle.close();
      }
      await chmod(temp, 0o600);
      await rename(temp, this.location);
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
    const data = await this.read();
    data[key] = JSON.parse(value);
    await this.write(data);
  }

  async delete(key: string): Promise<void> {
    const data = await this.read();
    if (!(key in data)) return;
    delete data[key];
    const remaining = Object.values(data).some((v) => v !== null && v !== undefined);
    if (remaining) {
      await this.write(data);
    } else {
      // Nothing left: remove the file (as the reference's logout does).
      await (await fsp()).unlink(this.location).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== "ENOENT") throw codedError("STORAGE_ERROR", `Cannot delete ${this.location}: ${e.message}`);
      });
    }
  }

  /** Whether the file exists and is a regular file (not a symlink). */
  async exists(): Promise<boolean> {
    return (await fsp()).lstat(this.location).then((s) => s.isFile(), () => false);
  }
}
