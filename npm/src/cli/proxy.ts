/**
 * `LINK_HTTP_PROXY`: the CLI's and MCP server's requests to Link (the API and the auth server)
 * go through this HTTP proxy; merchant requests (`mpp pay`) do not, as in the reference, whose
 * merchant fetch is the global one. (The reference's own auth calls bypass its proxy, a quirk
 * not copied: behind a proxy-only network it could not log in.) The proxy is undici's `ProxyAgent` (CONNECT for https://
 * targets, absolute-form requests for http:// ones), from the npm package (bundled into the CLI
 * by scripts/bundle-cli.mjs, loaded only when the variable is set): Node's own undici is not
 * importable. undici's `fetch` is used with it (its dispatcher and its fetch are one version),
 * so the standard `Request` the core built is re-made as undici's and undici's `Response` as the
 * global one. The URL is checked by the core (`validateProxyUrl`) before any request.
 */
import { validateProxyUrl, type FetchFunction } from "../index.js";

/** The `linkFetch` for `LINK_HTTP_PROXY`, or none when it is unset; a value that is no proxy
 * URL is a `VALIDATION_ERROR` (path `LINK_HTTP_PROXY`) thrown here, before any request. */
export function linkFetchFromEnv(env: NodeJS.ProcessEnv = process.env): FetchFunction | undefined {
  const raw = env.LINK_HTTP_PROXY;
  if (raw === undefined || raw.trim() === "") return undefined;
  const proxy = validateProxyUrl(raw);
  let loaded: Promise<{ fetch: typeof import("undici").fetch; agent: import("undici").ProxyAgent }> | undefined;
  // The modules it takes, not undici's index (WebSocket, EventSource, caches, mocks: 0.2 MB
  // more in every install): undici has no exports map, and the version is pinned and bundled,
  // so its file layout is fixed at build time (a change fails test/proxy.test.mjs, not a user).
  return async (input: Request | string | URL, init?: RequestInit): Promise<Response> => {
    // `proxyTunnel: false`: http:// targets in absolute form (what HTTP proxies log and filter);
    // https:// ones through CONNECT either way.
    loaded ??= Promise.all([
      import("undici/lib/dispatcher/proxy-agent.js"),
      import("undici/lib/web/fetch/index.js"),
      import("undici/lib/dispatcher/dispatcher.js"),
      import("undici/lib/api/index.js"),
    ]).then(([agent, web, dispatcher, api]) => {
      // What undici's entry points do first: the dispatchers' `connect` (CONNECT), `request`, ….
      Object.assign(dispatcher.default.prototype, api.default);
      return { fetch: web.fetch, agent: new agent.default({ uri: proxy, proxyTunnel: false }) };
    });
    const { fetch, agent } = await loaded;
    const request = input instanceof Request ? input : new Request(input, init);
    const body = request.method === "GET" || request.method === "HEAD" ? undefined : await request.arrayBuffer();
    const headers: [string, string][] = [];
    request.headers.forEach((value, name) => void headers.push([name, value]));
    const answer = await fetch(request.url, {
      method: request.method,
      headers,
      body,
      redirect: request.redirect,
      signal: request.signal,
      dispatcher: agent,
    });
    const empty = answer.status === 204 || answer.status === 205 || answer.status === 304;
    const back: [string, string][] = [];
    answer.headers.forEach((value, name) => void back.push([name, value]));
    return new Response(empty ? null : (answer.body as ReadableStream<Uint8Array> | null), {
      status: answer.status,
      statusText: answer.statusText,
      headers: back,
    });
  };
}
