/**
 * Output formats of the CLI: `toon` (the default when stdout is not a terminal), `json`, `yaml`,
 * `md`, `jsonl`. The encoders of toon and yaml are imported only when used (cold start).
 */
import { FileStorage, authFilePath, type Json, type JsonObject } from "../index.js";

/** The credential file of a CLI or MCP run (`--auth`, else `LINK_AUTH_FILE`, else the default),
 * what is wrong with it told on stderr as `warning: …` (as the reference's warnings are). */
export function credentialFile(path?: string): FileStorage {
  return new FileStorage(path ?? authFilePath(), { onWarning: (message) => void process.stderr.write(`warning: ${message}\n`) });
}

export const FORMATS = ["toon", "json", "yaml", "md", "jsonl"] as const;
export type Format = (typeof FORMATS)[number];

/** One document in `format` (without the trailing newline). */
export async function encode(value: Json, format: Format): Promise<string> {
  switch (format) {
    case "json":
      return JSON.stringify(value, null, 2);
    case "jsonl":
      return Array.isArray(value) ? value.map((v) => JSON.stringify(v)).join("\n") : JSON.stringify(value);
    case "yaml": {
      const { stringify } = await import("yaml");
      return stringify(value).replace(/\n$/, "");
    }
    case "md":
      return markdown(value);
    case "toon": {
      if (value === null || typeof value !== "object") return String(value);
      const { encode: toon } = await import("@toon-format/toon");
      return toon(value);
    }
  }
}

const cell = (v: Json | undefined): string => {
  if (v === undefined || v === null) return "";
  const text = typeof v === "object" ? JSON.stringify(v) : String(v);
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
};

/** Markdown: an array of objects as a table, an object as a key list, scalars as text. */
export function markdown(value: Json, depth = 0): string {
  if (Array.isArray(value)) {
    if (value.length === 0) return "_(none)_";
    if (value.every((v) => v !== null && typeof v === "object" && !Array.isArray(v))) {
      const rows = value as JsonObject[];
      const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))];
      return [`| ${keys.join(" | ")} |`, `| ${keys.map(() => "---").join(" | ")} |`, ...rows.map((r) => `| ${keys.map((k) => cell(r[k])).join(" | ")} |`)].join("\n");
    }
    return value.map((v) => `- ${cell(v)}`).join("\n");
  }
  if (value !== null && typeof value === "object") {
    const pad = "  ".repeat(depth);
    return Object.entries(value)
      .map(([k, v]) =>
        v !== null && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length > 0
          ? `${pad}- **${k}**:\n${markdown(v, depth + 1)}`
          : `${pad}- **${k}**: ${cell(v)}`,
      )
      .join("\n");
  }
  return cell(value);
}

/** What the CLI prints for an error: `{code, message, fieldErrors?, retryable?, details?}`
 * (`details`, the core's: the duplicate spend request, `retry_after`, `scope_eligibility`, a
 * create's idempotency key, already sanitized and redacted). */
export function errorObject(e: unknown): JsonObject {
  const err = e as { code?: unknown; message?: unknown; fieldErrors?: unknown; details?: unknown };
  const code = typeof err?.code === "string" && /^[A-Za-z_]+$/.test(err.code) ? err.code : "UNKNOWN";
  const out: JsonObject = { code, message: typeof err?.message === "string" ? err.message : String(e) };
  if (Array.isArray(err?.fieldErrors) && err.fieldErrors.length > 0) out.fieldErrors = err.fieldErrors as Json;
  if (code === "POLLING_TIMEOUT") out.retryable = true;
  if (err?.details !== null && typeof err?.details === "object" && !Array.isArray(err.details)) out.details = err.details as Json;
  return out;
}
