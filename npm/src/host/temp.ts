/**
 * The temp files behind linkpay's atomic writes (the credential file, `--output-file`): created
 * 0600 next to their target, named `<prefix>.<pid>.<12 hex>.tmp`, renamed over the target. One
 * left behind by a killed process can hold a device code or a whole card, so every write first
 * removes the stale ones of that target: ours by name, whose process is gone or which are older
 * than {@link STALE_TEMP_MS}.
 */
import { basename, dirname, join } from "node:path";

/** `node:fs/promises`, loaded on first use (see host/file.ts). */
const fsp = (): Promise<typeof import("node:fs/promises")> => import("node:fs/promises");

/** A temp file of a live process older than this is stale too (no write takes minutes). */
export const STALE_TEMP_MS = 10 * 60 * 1000;

/** A fresh temp path for `target`: in its directory, `<prefix>.<pid>.<random>.tmp`, where the
 * prefix is the target's name (`hidden`: with a leading dot). */
export function tempPath(target: string, hidden = false): string {
  // Web Crypto, not node:crypto: loaded only when a file is written (CLI cold start).
  const suffix = Array.from(globalThis.crypto.getRandomValues(new Uint8Array(6)), (b) => b.toString(16).padStart(2, "0")).join("");
  return join(dirname(target), `${prefix(target, hidden)}.${process.pid}.${suffix}.tmp`);
}

function prefix(target: string, hidden: boolean): string {
  return `${hidden ? "." : ""}${basename(target)}`;
}

/** Whether process `pid` is alive (one we may not signal is alive). */
export function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Removes the stale temp files of `target` (see the module doc); never fails. */
export async function removeStaleTemps(target: string, hidden = false, now = Date.now()): Promise<void> {
  const { readdir, lstat, unlink } = await fsp();
  const dir = dirname(target);
  const head = `${prefix(target, hidden)}.`;
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.startsWith(head)) continue;
    const match = /^(\d+)\.[0-9a-f]{12}\.tmp$/.exec(name.slice(head.length));
    if (match === null) continue;
    const path = join(dir, name);
    const stat = await lstat(path).catch(() => undefined);
    if (stat === undefined || !stat.isFile()) continue;
    if (!processAlive(Number(match[1])) || now - stat.mtimeMs > STALE_TEMP_MS) await unlink(path).catch(() => undefined);
  }
}
