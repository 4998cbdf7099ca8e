/**
 * `--output-file`: the card goes to a new 0600 file (written to a temp file, then renamed), and
 * what is printed keeps only brand, last4 and expiry plus `card_output_file`.
 */
import { lstat, open, rename, unlink } from "node:fs/promises";
import { dirname, basename, join, resolve } from "node:path";
import { randomBytes } from "node:crypto";
import type { JsonObject } from "../index.js";
import { codedError } from "../host/types.js";

/** brand, last4 and expiry of a card object; never the number or CVC. */
export function cardSummary(card: JsonObject): JsonObject {
  const number = typeof card.number === "string" ? card.number : "";
  const out: JsonObject = {};
  if (card.brand !== undefined) out.brand = card.brand;
  out.last4 = typeof card.last4 === "string" ? card.last4 : number.slice(-4);
  if (card.exp_month !== undefined) out.exp_month = card.exp_month;
  if (card.exp_year !== undefined) out.exp_year = card.exp_year;
  return out;
}

/**
 * Writes `{spend_request_id, merchant_name, merchant_url, context, created_at, card}` to `path`
 * (mode 0600) and returns the spend request with the card reduced to its summary and
 * `card_output_file` added. An existing path is `OUTPUT_FILE_EXISTS` unless `force` (then it is
 * replaced atomically); a symbolic link is always refused.
 */
export async function writeCardFile(sr: JsonObject, path: string, force: boolean): Promise<JsonObject> {
  const card = sr.card as JsonObject;
  const target = resolve(path);
  const existing = await lstat(target).catch(() => undefined);
  if (existing?.isSymbolicLink()) {
    throw codedError("OUTPUT_FILE_WRITE_ERROR", `${target} is a symbolic link. Refusing to write credentials through it.`);
  }
  if (existing && !force) throw codedError("OUTPUT_FILE_EXISTS", `${target} already exists. Use --force to overwrite.`);
  if (existing && !existing.isFile()) throw codedError("OUTPUT_FILE_WRITE_ERROR", `${target} is not a regular file.`);
  const content = {
    spend_request_id: sr.id ?? null,
    merchant_name: sr.merchant_name ?? null,
    merchant_url: sr.merchant_url ?? null,
    context: sr.context ?? null,
    created_at: sr.created_at ?? null,
    card,
  };
  const temp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    const handle = await open(temp, "wx", 0o600);
    try {
      await handle.writeFile(JSON.stringify(content, null, 2) + "\n", "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (!force) {
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
  const { card: _omit, ...rest } = sr;
  return { ...rest, card: cardSummary(card), card_output_file: target };
}
