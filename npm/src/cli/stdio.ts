/**
 * MCP over stdio with a bounded line reader. The SDK's `StdioServerTransport` closes itself for
 * good when one line passes its 10 MiB buffer (it stops reading stdin: no reply to that call
 * or any later one). Here a line over {@link MAX_MESSAGE_BYTES} is skipped up to its newline
 * (memory stays bounded by the limit), answered with a JSON-RPC error naming the limit (the
 * request's id when its top level carries one, else null), and the next lines are read as usual.
 * A line that is not JSON, or not a JSON-RPC message, is answered too (-32700/-32600).
 */
import process from "node:process";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { JSONRPCMessageSchema, type JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";

/** The longest message read, in bytes (the SDK's own stdio limit). */
export const MAX_MESSAGE_BYTES = 10 * 1024 * 1024;

type Id = string | number | null;

/**
 * Finds the top-level `"id"` of a JSON object read in pieces, keeping only a few bytes: enough
 * to answer an oversized request with its own id.
 */
class IdScanner {
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** At depth 1: the next string is a key. */
  private expectKey = false;
  private key: number[] | undefined;
  private lastKey = "";
  /** The text of the top-level `id` value while it is read. */
  private value: number[] | undefined;
  id: Id = null;

  feed(bytes: Uint8Array): void {
    for (const b of bytes) {
      if (this.value) {
        if (this.value.length > 256) this.value = undefined;
        else if (!this.inString && this.depth === 1 && (b === 0x2c || b === 0x7d)) {
          this.id = parseId(this.value);
          this.value = undefined;
        } else this.value.push(b);
      }
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (b === 0x5c) this.escaped = true;
        else if (b === 0x22) {
          this.inString = false;
          if (this.key) {
            this.lastKey = this.key.length <= 8 ? String.fromCharCode(...this.key) : "";
            this.key = undefined;
          }
          continue;
        }
        if (this.key && this.key.length <= 8) this.key.push(b);
        continue;
      }
      if (b === 0x22) {
        this.inString = true;
        if (this.depth === 1 && this.expectKey) {
          this.key = [];
          this.expectKey = false;
        }
      } else if (b === 0x7b || b === 0x5b) {
        this.depth++;
        if (this.depth === 1) this.expectKey = b === 0x7b;
      } else if (b === 0x7d || b === 0x5d) {
        this.depth--;
      } else if (this.depth === 1 && b === 0x2c) {
        this.expectKey = true;
      } else if (this.depth === 1 && b === 0x3a && this.lastKey === "id") {
        this.value = [];
        this.lastKey = "";
      }
    }
  }
}

function parseId(text: number[]): Id {
  try {
    const v: unknown = JSON.parse(Buffer.from(text).toString("utf8"));
    return typeof v === "string" || typeof v === "number" ? v : null;
  } catch {
    return null;
  }
}

/** The id of a parsed message, when it has a usable one. */
function idOf(value: unknown): Id {
  const id = value !== null && typeof value === "object" ? (value as { id?: unknown }).id : undefined;
  return typeof id === "string" || typeof id === "number" ? id : null;
}

export class BoundedStdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  /** The current line's pieces (while under the limit). */
  private chunks: Buffer[] = [];
  private size = 0;
  /** Set while skipping an oversized line up to its newline. */
  private skipping: IdScanner | undefined;
  private started = false;

  constructor(
    private readonly stdin: NodeJS.ReadableStream = process.stdin,
    private readonly stdout: NodeJS.WritableStream = process.stdout,
    private readonly maxBytes: number = MAX_MESSAGE_BYTES,
  ) {}

  private readonly onData = (chunk: Buffer): void => {
    let rest = chunk;
    while (rest.length > 0) {
      const nl = rest.indexOf(0x0a);
      const piece = nl === -1 ? rest : rest.subarray(0, nl);
      if (this.skipping) {
        this.skipping.feed(piece);
      } else if (this.size + piece.length > this.maxBytes) {
        // Over the limit: scan what was kept and the rest of the line for its id, keep nothing.
        this.skipping = new IdScanner();
        for (const c of this.chunks) this.skipping.feed(c);
        this.skipping.feed(piece);
        this.chunks = [];
        this.size = 0;
      } else {
        this.chunks.push(piece);
        this.size += piece.length;
      }
      if (nl === -1) break;
      this.endLine();
      rest = rest.subarray(nl + 1);
    }
  };

  private endLine(): void {
    if (this.skipping) {
      const id = this.skipping.id;
      this.skipping = undefined;
      const limit = `${this.maxBytes / (1024 * 1024)} MiB (${this.maxBytes} bytes)`;
      this.reply(id, -32600, `Invalid Request: message larger than this server's limit of ${limit}; it was not read`);
      return;
    }
    const line = Buffer.concat(this.chunks).toString("utf8").replace(/\r$/, "");
    this.chunks = [];
    this.size = 0;
    if (line.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return this.reply(null, -32700, "Parse error: the line is not JSON");
    }
    const parsed = JSONRPCMessageSchema.safeParse(value);
    if (!parsed.success) return this.reply(idOf(value), -32600, "Invalid Request: not a JSON-RPC 2.0 message");
    this.onmessage?.(parsed.data);
  }

  private reply(id: Id, code: number, message: string): void {
    this.onerror?.(new Error(message));
    this.stdout.write(`${JSON.stringify({ jsonrpc: "2.0", id, error: { code, message } })}\n`);
  }

  private readonly onStreamError = (error: Error): void => this.onerror?.(error);

  async start(): Promise<void> {
    if (this.started) throw new Error("BoundedStdioTransport already started");
    this.started = true;
    this.stdin.on("data", this.onData);
    this.stdin.on("error", this.onStreamError);
  }

  send(message: JSONRPCMessage): Promise<void> {
    return new Promise((resolve) => {
      if (this.stdout.write(`${JSON.stringify(message)}\n`)) resolve();
      else this.stdout.once("drain", resolve);
    });
  }

  async close(): Promise<void> {
    this.stdin.off("data", this.onData);
    this.stdin.off("error", this.onStreamError);
    if (this.stdin.listenerCount("data") === 0) this.stdin.pause();
    this.chunks = [];
    this.skipping = undefined;
    this.onclose?.();
  }
}
