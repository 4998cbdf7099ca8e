// The host callbacks of LinkClient (logger, fetch, storage, clock, sleep, random, onProgress):
// a console-like logger works, any other logger value is INVALID_INPUT when the client is made,
// and a callback that throws becomes the call's error (a rejected promise with a `.code`),
// never an uncaught exception thrown from inside a wasm callback (issue 13, bug 2). Nothing
// sent after a callback failed: the custom `fetch` counts the requests.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { LinkClient, MemoryStorage } from "../dist/index.js";
import { startSandbox } from "../dist/sandbox/index.js";

/** Uncaught exceptions and unhandled rejections of the whole file: there must be none. One
 * also rejects the call a test is waiting for (see `settled`), which would otherwise hang. */
const uncaught = [];
let failWaiting;
const onUncaught = (e) => {
  uncaught.push(e);
  failWaiting?.(Object.assign(new Error(`uncaught exception: ${e?.message ?? e}`), { code: "UNCAUGHT", cause: e }));
};
/** `promise`, or a rejection as soon as an uncaught exception happens while it is pending. */
const settled = (promise) =>
  Promise.race([
    promise,
    new Promise((_, reject) => {
      failWaiting = reject;
    }),
  ]).finally(() => (failWaiting = undefined));
/** Every test gives up after 10 s instead of hanging. */
const T = { timeout: 10_000 };
before(() => {
  process.on("uncaughtException", onUncaught);
  process.on("unhandledRejection", onUncaught);
});
after(() => {
  process.off("uncaughtException", onUncaught);
  process.off("unhandledRejection", onUncaught);
  assert.deepEqual(uncaught, []);
});

const json = (status, body) => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
const context = "Buying trail shoes for the person, who picked them in this conversation; the total matches the cart at checkout.";
const cardInput = {
  payment_method_id: "csmrpd_1",
  amount: 1299,
  merchant_name: "Sandbox Outdoor",
  merchant_url: "https://outdoor.example/cart",
  context,
  line_items: ["name:Trail shoes,quantity:1,unit_amount:1299"],
};

/** A client in env-token mode over a scripted `fetch` that answers every request with a
 * pending spend request (or `answer(url)`), counting the requests. */
function scripted(options = {}, answer = () => json(200, { id: "lsrq_1", status: "pending_approval" })) {
  const sent = [];
  const fetch = async (input, init) => {
    // The driver hands a standard `Request`; a URL and init work too.
    const url = input instanceof Request ? input.url : String(input);
    const method = input instanceof Request ? input.method : (init?.method ?? "GET");
    sent.push(`${method} ${new URL(url).pathname}`);
    return answer(url);
  };
  const client = new LinkClient({
    fetch,
    storage: new MemoryStorage(),
    accessToken: "tok_env_1234567890",
    apiBaseUrl: "http://127.0.0.1:9",
    authBaseUrl: "http://127.0.0.1:9",
    hostname: "testhost",
    ...options,
  });
  return { client, sent };
}

/** Replaces `object[key]` with `replacement` until `run` settles. */
async function patched(object, key, replacement, run) {
  const own = Object.getOwnPropertyDescriptor(object, key);
  Object.defineProperty(object, key, { value: replacement, configurable: true, writable: true });
  try {
    return await run();
  } finally {
    if (own) Object.defineProperty(object, key, own);
    else delete object[key];
  }
}

/** The rejection a throwing callback turns into. */
const callbackError = (what, message) => (e) => {
  assert.equal(e.code, "UNKNOWN", e.stack);
  assert.ok(e.message.includes(`The ${what} callback threw`), e.message);
  assert.ok(e.message.includes(message), e.message);
  assert.ok(e.cause instanceof Error);
  return true;
};

describe("logger option", () => {
  let sb;
  before(async () => {
    sb = await startSandbox({ onError: () => {} });
  });
  after(() => sb.close());

  const sandboxClient = (logger) =>
    new LinkClient({ apiBaseUrl: sb.apiUrl, authBaseUrl: sb.authUrl, storage: new MemoryStorage(), logger, hostname: "testhost" });

  test("a console-like object ({debug, info, warn, error}) gets the lines on debug", T, async () => {
    const lines = { debug: [], info: [], warn: [], error: [] };
    const logger = Object.fromEntries(Object.keys(lines).map((k) => [k, (line) => lines[k].push(line)]));
    const c = sandboxClient(logger);
    const start = await settled(c.auth.login({ clientName: "Test Agent" }));
    assert.equal(start.authenticated, false);
    sb.approveDevice(start.phrase);
    const status = await settled(start.wait({ interval: 0.05, timeout: 10 }));
    assert.equal(status.authenticated, true);
    assert.ok(lines.debug.some((l) => l.startsWith("> POST ") && l.endsWith("/device/code")), lines.debug.join("\n"));
    assert.ok(lines.debug.some((l) => l.startsWith("> POST ") && l.endsWith("/device/token")));
    assert.deepEqual([lines.info, lines.warn, lines.error], [[], [], []]);
    // Redacted as with a function logger.
    const stored = JSON.parse(await c.storage.get("auth"));
    assert.ok(!lines.debug.join("\n").includes(stored.access_token));
  });

  test("without debug, info is used, else log, called as methods (pino-like classes)", T, async () => {
    class InfoLogger {
      lines = [];
      info(line) {
        this.lines.push(line);
      }
      log() {
        throw new Error("log must not be used when info exists");
      }
    }
    const info = new InfoLogger();
    await settled(sandboxClient(info).auth.login({ clientName: "Test Agent" }));
    assert.ok(info.lines.some((l) => l.endsWith("/device/code")), info.lines.join("\n"));

    const logged = [];
    const onlyLog = { log(line) { logged.push([this === onlyLog, line]); } };
    await settled(sandboxClient(onlyLog).auth.login({ clientName: "Test Agent" }));
    assert.ok(logged.length > 0 && logged.every(([self]) => self));
  });

  test("any other value is INVALID_INPUT when the client is made", T, () => {
    for (const logger of [42, "verbose", true, false, {}, { debug: "yes" }, [], Symbol("log")]) {
      assert.throws(
        () => new LinkClient({ logger, storage: new MemoryStorage() }),
        (e) => e.code === "INVALID_INPUT" && /logger must be a function or an object with a debug, info or log method/.test(e.message),
        String(typeof logger === "symbol" ? "symbol" : JSON.stringify(logger)),
      );
    }
    for (const logger of [undefined, null, () => {}, console]) {
      assert.doesNotThrow(() => new LinkClient({ logger, storage: new MemoryStorage() }));
    }
  });
});

describe("a host callback that throws is the call's error", () => {
  test("logger: the call rejects and nothing is sent; the next call works", T, async () => {
    let throwing = true;
    const { client, sent } = scripted({
      logger: () => {
        if (throwing) throw new TypeError("logger is broken");
      },
    });
    await assert.rejects(settled(client.paymentMethods.list()), callbackError("logger", "logger is broken"));
    assert.deepEqual(sent, [], "the request after the failed log line is not sent");
    throwing = false;
    const found = await settled(client.spendRequests.retrieve("lsrq_1"));
    assert.equal(found.status, "pending_approval");
    assert.deepEqual(sent, ["GET /spend_requests/lsrq_1"]);
  });

  test("a console-like logger whose debug throws", T, async () => {
    const { client, sent } = scripted({ logger: { debug: () => { throw new Error("sink closed"); } } });
    await assert.rejects(settled(client.spendRequests.retrieve("lsrq_1")), callbackError("logger", "sink closed"));
    assert.deepEqual(sent, []);
  });

  test("onProgress: waitFor rejects at the first snapshot instead of polling on", T, async () => {
    const { client, sent } = scripted();
    await assert.rejects(
      settled(
        client.spendRequests.waitFor("lsrq_1", {
          interval: 0.01,
          timeout: 5,
          onProgress: () => {
            throw new RangeError("progress UI gone");
          },
        }),
      ),
      callbackError("onProgress", "progress UI gone"),
    );
    assert.deepEqual(sent, ["GET /spend_requests/lsrq_1"]);
  });

  test("clock: the call rejects before anything is sent", T, async () => {
    const { client, sent } = scripted();
    await client.paymentMethods.list().catch(() => {}); // the driver is made (and warm)
    sent.length = 0;
    const realNow = Date.now;
    let armed = true;
    const now = () => {
      if (armed) {
        armed = false;
        throw new Error("clock unavailable");
      }
      return realNow();
    };
    await patched(Date, "now", now, () => assert.rejects(settled(client.spendRequests.list()), callbackError("clock (now)", "clock unavailable")));
    assert.deepEqual(sent, []);
  });

  test("random: create rejects and never sends a key made of zeros", T, async () => {
    const { client, sent } = scripted();
    await patched(
      globalThis.crypto,
      "getRandomValues",
      () => {
        throw new Error("no entropy");
      },
      () => assert.rejects(settled(client.spendRequests.create(cardInput)), callbackError("random", "no entropy")),
    );
    assert.deepEqual(sent, []);
  });

  test("sleep: a poll never runs on without its wait", T, async () => {
    const { client, sent } = scripted();
    const realSetTimeout = globalThis.setTimeout;
    // Only the driver's poll sleep (1234 ms less the time the fetch took) fails; every other timer works.
    const setTimeout = (fn, ms, ...rest) => {
      if (ms > 1100 && ms <= 1234) throw new Error("timers disabled");
      return realSetTimeout(fn, ms, ...rest);
    };
    await patched(globalThis, "setTimeout", setTimeout, () =>
      assert.rejects(settled(client.spendRequests.waitFor("lsrq_1", { interval: 1.234, timeout: 5 })), callbackError("sleep", "timers disabled")),
    );
    assert.deepEqual(sent, ["GET /spend_requests/lsrq_1"], "one fetch, then the failed sleep");
  });

  test("fetch that throws synchronously: TRANSPORT_ERROR", T, async () => {
    const client = new LinkClient({
      fetch: () => {
        throw new TypeError("fetch exploded");
      },
      storage: new MemoryStorage(),
      accessToken: "tok_env_1234567890",
      apiBaseUrl: "http://127.0.0.1:9",
    });
    // request-approval is not retried: one attempt.
    await assert.rejects(settled(client.spendRequests.requestApproval("lsrq_1")), (e) => e.code === "TRANSPORT_ERROR" && /fetch exploded/.test(e.message));
  });

  test("storage that throws synchronously: STORAGE_ERROR", T, async () => {
    const storage = {
      get() {
        throw new Error("disk gone");
      },
      set() {
        throw Object.assign(new Error("read-only"), { code: "STORAGE_ERROR" });
      },
      delete() {},
    };
    const { client } = scripted({ storage, accessToken: undefined });
    await assert.rejects(settled(client.paymentMethods.list()), (e) => e.code === "STORAGE_ERROR" && /disk gone/.test(e.message));
    await assert.rejects(settled(client.auth.status()), (e) => e.code === "STORAGE_ERROR");
  });
});
