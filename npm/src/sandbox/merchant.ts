/** The demo MPP merchant (HTTP 402 `Payment` challenges, stripe method). */

import type { Context } from "./context.js";
import type { Reply } from "./http.js";
import type { Request } from "./server.js";

/** Routes under `/merchant/` other than the checkout; `undefined` when not a merchant route. */
export function merchantRoute(ctx: Context, r: Request, parts: string[]): Reply | undefined {
  void ctx;
  void r;
  void parts;
  return undefined;
}
