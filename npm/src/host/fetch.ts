import type { FetchFunction } from "./types.js";
import { codedError } from "./types.js";

/** The request shape the wasm driver hands the host. */
export interface WireRequest {
  method: string;
  url: string;
  headers: [string, string][];
  body?: string;
  /** The whole exchange's limit, set by the driver (`requestTimeoutMs`, default 30 s). */
  timeoutMs: number;
}

/** The response shape the wasm driver reads. */
export interface WireResponse {
  status: number;
  headers: [string, string][];
  body: string;
}

/** Sends a driver request with `fetchFn`; network failures and running out of `timeoutMs`
 * (headers and body) become `TRANSPORT_ERROR`. */
export async function sendWith(fetchFn: FetchFunction, request: WireRequest): Promise<WireResponse> {
  let response: Response;
  try {
    response = await fetchFn(request.url, {
      method: request.method,
      headers: request.headers,
      body: request.body,
      redirect: "manual",
      signal: AbortSignal.timeout(request.timeoutMs),
    });
  } catch (e) {
    const cause = e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e);
    throw codedError("TRANSPORT_ERROR", `Request failed: ${request.method} ${request.url} (${cause})`);
  }
  const headers: [string, string][] = [];
  response.headers.forEach((value, name) => headers.push([name, value]));
  let body: string;
  try {
    body = await response.text();
  } catch (e) {
    throw codedError("TRANSPORT_ERROR", `Reading the response failed: ${request.method} ${request.url} (${(e as Error).message})`);
  }
  return { status: response.status, headers, body };
}
