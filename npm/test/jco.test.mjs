// The WASI client component in a second runtime, jco (beside wasmtime in tests/wasi-runner),
// through `linkpay/component`: its wasi:http (@bytecodealliance/preview2-shim) really sends to
// the sandbox, a separate process (the component blocks this thread while it waits). The flow
// of tests/wasi-runner/tests/client.rs: device login approved on the sandbox, payment methods,
// a card spend request approved through the sandbox's controls and its card retrieved; errors
// as the library's LinkpayError with npm's codes; memory and file storage.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, existsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isLinkpayError } from "linkpay";
import { ComponentFileStorage, ComponentMemoryStorage, loadComponentClient, toLinkpayError } from "linkpay/component";

const SANDBOX = new URL("../dist/sandbox/main.js", import.meta.url).pathname;
let sandbox;
let url;
let dir;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "linkpay-jco-"));
  sandbox = spawn(process.execPath, [SANDBOX, "--port", "0"], { stdio: ["ignore", "pipe", "inherit"] });
  url = await new Promise((resolve, reject) => {
    let text = "";
    sandbox.stdout.on("data", (d) => {
      text += d;
      const m = /listening on (http:\/\/\S+)/.exec(text);
      if (m) resolve(m[1]);
    });
    sandbox.on("exit", () => reject(new Error(`sandbox exited: ${text}`)));
  });
});

after(() => {
  sandbox?.kill();
  rmSync(dir, { recursive: true, force: true });
});

/** A sandbox control (`/sandbox/...`), from this thread between component calls. */
async function control(method, path, body) {
  const r = await fetch(`${url}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.equal(r.status, 200, `${method} ${path}`);
  return r.json();
}

/** What the sandbox received (its controls left out), as `METHOD /path STATUS`. */
async function requests() {
  const log = await control("GET", "/sandbox/requests");
  return log.data.filter((r) => !r.path.startsWith("/sandbox")).map((r) => `${r.method} ${r.path} ${r.status}`);
}

const FAST = { interval: 0.05, timeout: 10 };

function cardInput(tag) {
  return {
    amount: 1299,
    merchant_name: "Sandbox Outdoor",
    merchant_url: "https://outdoor.example/cart",
    context: `Buying ${tag} for the person, who picked it in this conversation; the total matches the cart at checkout. ........`,
    line_items: ["name:Trail shoes,quantity:1,unit_amount:1299"],
  };
}

/** The error `f` throws. */
function thrown(f) {
  try {
    f();
  } catch (e) {
    return e;
  }
  assert.fail("expected an error");
}

async function logIn(client) {
  const start = client.loginStart({ client_name: "jco agent" });
  assert.equal(start.authenticated, false);
  assert.match(start.verification_url, /\/device\?code=/);
  await control("POST", "/sandbox/device/approve", { user_code: start.phrase });
  const done = client.loginWait(FAST);
  assert.equal(done.authenticated, true);
  assert.ok(done.access_token.endsWith("..."), "only a preview");
}

test("device login, payment methods and the card flow against the sandbox, memory storage", async () => {
  const storage = new ComponentMemoryStorage();
  const client = loadComponentClient({ apiBaseUrl: url, authBaseUrl: url, hostname: "jco-test", storage });
  await control("DELETE", "/sandbox/requests");
  await logIn(client);
  const tokens = JSON.parse(storage.values.get("auth"));
  assert.ok(tokens.access_token.length > 10 && typeof tokens.refresh_token === "string");
  assert.equal(storage.values.has("pendingDeviceAuth"), false);
  // Over HTTP, through preview2-shim's wasi:http: the sandbox saw the device flow.
  const seen = await requests();
  assert.ok(seen.some((r) => /^POST \/device\/code 200$/.test(r)), seen.join("\n"));
  assert.ok(seen.some((r) => /^POST \/device\/token 200$/.test(r)), seen.join("\n"));

  const methods = client.listPaymentMethods();
  assert.ok(methods.length >= 4);
  assert.equal(methods[0].card_details.last4, "4242");

  // Bad input: the library's VALIDATION_ERROR with field paths, and nothing sent.
  await control("DELETE", "/sandbox/requests");
  const invalid = thrown(() => client.createSpendRequest({ amount: -5, merchant_name: "X" }));
  assert.ok(isLinkpayError(invalid) && invalid instanceof Error);
  assert.equal(invalid.name, "LinkpayError");
  assert.equal(invalid.code, "VALIDATION_ERROR");
  assert.ok(invalid.fieldErrors.some((f) => f.path === "amount"));
  assert.ok(invalid.fieldErrors.some((f) => f.path === "context"));
  assert.deepEqual(await requests(), []);

  const created = client.createSpendRequest(cardInput("trail shoes"));
  assert.equal(created.status, "pending_approval");
  await control("POST", `/sandbox/spend_requests/${created.id}/approve`);
  const done = client.waitForSpendRequest(created.id, { ...FAST, include: ["card"] });
  assert.equal(done.status, "approved");
  assert.match(done.card.number, /^\d{15,19}$/);
  assert.equal(typeof done.card.cvc, "string");
  assert.equal(client.retrieveSpendRequest(created.id).card, undefined, "the card only when asked");
  assert.equal(client.retrieveSpendRequest(created.id, ["card"]).card.number, done.card.number);
  assert.ok(client.listSpendRequests().some((sr) => sr.id === created.id));

  // The command table, as `linkpay <command> --format json` prints it.
  const listed = client.run("spend-request list", {});
  assert.ok(JSON.stringify(listed).includes(created.id));

  assert.deepEqual(client.logout(), { authenticated: false });
  assert.equal(storage.values.size, 0);
  assert.equal(thrown(() => client.listPaymentMethods()).code, "NOT_AUTHENTICATED");
  client.close();
});

test("errors carry npm's codes: MPP, transport, storage", () => {
  const client = loadComponentClient({ apiBaseUrl: url, authBaseUrl: url });
  const mpp = thrown(() => client.run("mpp decode", { challenge: 'Basic realm="x"' }));
  assert.equal(mpp.code, "MPP_NO_PAYMENT_CHALLENGE");
  assert.equal(mpp.name, "LinkpayError");

  const closed = loadComponentClient({ apiBaseUrl: "http://127.0.0.1:9", authBaseUrl: "http://127.0.0.1:9" });
  const transport = thrown(() => closed.loginStart());
  assert.equal(transport.code, "TRANSPORT_ERROR");

  const broken = {
    get() {
      throw new Error("disk on fire");
    },
    set() {},
    delete() {},
  };
  const failing = loadComponentClient({ apiBaseUrl: url, authBaseUrl: url, storage: broken });
  const storage = thrown(() => failing.authStatus());
  assert.equal(storage.code, "STORAGE_ERROR");
  assert.match(storage.message, /disk on fire/);

  // The one WIT code whose npm spelling is not SCREAMING_SNAKE, and a trap left as it is.
  assert.equal(toLinkpayError({ code: "spend-request-rate-limited", message: "m", fieldErrors: [] }).code, "spend_request_rate_limited");
  const trap = new WebAssembly.RuntimeError("unreachable");
  assert.equal(toLinkpayError(trap), trap);
});

test("file storage: 0600, the library's file format, shared across clients", async () => {
  const path = join(dir, "sub", "config.json");
  const client = loadComponentClient({ apiBaseUrl: url, authBaseUrl: url, storage: new ComponentFileStorage(path) });
  await logIn(client);
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.equal(statSync(join(dir, "sub")).mode & 0o777, 0o700);
  const file = JSON.parse(readFileSync(path, "utf8"));
  assert.equal(typeof file.auth.access_token, "string", "each key a property holding its JSON value");
  // A second client (another instance) on the same file is logged in.
  const again = loadComponentClient({ apiBaseUrl: url, authBaseUrl: url, storage: new ComponentFileStorage(path) });
  assert.ok(again.listPaymentMethods().length >= 4);
  again.logout();
  assert.equal(existsSync(path), false, "nothing left: the file is removed");

  writeFileSync(path, "[1]");
  const corrupt = thrown(() => client.authStatus());
  assert.equal(corrupt.code, "STORAGE_ERROR");
  assert.match(corrupt.message, /corrupt/);
  assert.equal(readFileSync(path, "utf8"), "[1]", "left untouched");
});
