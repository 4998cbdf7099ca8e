/**
 * The linkpay sandbox: a local stand-in for the Link API, its device-login and approval pages,
 * and an MPP merchant, so every linkpay flow runs end to end offline. See `server.ts` for the
 * URL layout and `startSandbox` for the options.
 */
export { startSandbox, type Sandbox, type SandboxOptions, type LoggedRequest } from "./server.js";
export { DEFAULT_LIMITS, type Limits } from "./context.js";
export { PAYMENT_METHODS, DEFAULT_USER_ID, type PaymentMethod } from "./wallet.js";
export type { ClockSource } from "./clock.js";
