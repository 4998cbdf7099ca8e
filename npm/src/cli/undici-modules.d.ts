// The undici modules the CLI's proxy loads (npm/src/cli/proxy.ts), typed as undici's index
// declares them: undici ships no declarations per file.
declare module "undici/lib/dispatcher/proxy-agent.js" {
  const ProxyAgent: typeof import("undici").ProxyAgent;
  export default ProxyAgent;
}
declare module "undici/lib/web/fetch/index.js" {
  export const fetch: typeof import("undici").fetch;
}
declare module "undici/lib/dispatcher/dispatcher.js" {
  const Dispatcher: typeof import("undici").Dispatcher;
  export default Dispatcher;
}
declare module "undici/lib/api/index.js" {
  const api: Record<string, unknown>;
  export default api;
}
