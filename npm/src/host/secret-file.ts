/**
 * The Node host's `writeFile` effect (`--output-file`, `outputFile`): a card goes to a new 0600
 * file, written to a temp file in the same directory and renamed into place (the stale temp
 * files of that path a killed process left, which can hold a card, are removed first). What the file
 * holds and what is printed instead (brand, last4, expiry) is decided by the Rust runner.
 */
import { lstat, open, rename, unlink } from "node:fs/promises";
import { resolve } from "node:path";
import { codedError } from "./types.js";
import { removeStaleTemps, tempPath } from "./temp.js";

/**
 * Writes `contents` to `path` (mode 0600). An existing path is `OUTPUT_FILE_EXISTS` unless
 * `replace` (then it is replaced atomically); a symbolic link is always refused.
 */
export async function writeSecretFile(path: string, contents: string, replace: boolean): Promise<void> {
  const target = resolve(path);
  const existing = await lstat(target).catch(() => undefined);
  if (existing?.isSymbolicLink()) {
    throw codedError("OUTPUT_FILE_WRITE_ERROR", `${target} is a symbolic link. Refusing to write credentials through it.`);
  }
  if (existing && !replace) throw codedError("OUTPUT_FILE_EXISTS", `${target} already exists. Use --force to overwrite.`);
  if (existing && !existing.isFile()) throw codedError("OUTPUT_FILE_WRITE_ERROR", `${target} is not a regular file.`);
  await removeStaleTemps(target, true);
  const temp = tempPath(target, true);
  try {
    const handle = await open(temp, "wx", 0o600);
    try {
      await handle.writeFile(contents, "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (!replace) {
      // No replace without --force, even if the file appeared meanwhile.
      const raced = await lstat(target).catch(() => undefined);
      if (raced) throw codedError("OUTPUT_FILE_EXISTS", `${target} already exists. Use --force to overwrite.`);
    }
    await rename(temp, target);
  } catch (e) {
    await unlink(temp).catch(() => undefined);
    if ((e as { code?: string }).code === "OUTPUT_FILE_EXISTS") throw e;
    throw codedError("OUTPUT_FILE_WRITE_ERROR", `Cannot write ${target}: ${(e as Error).message}`);
  }
}
