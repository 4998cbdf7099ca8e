// The `linkpay` CLI, spawned, against a real sandbox over loopback: every command, every
// format, bad input for every command (VALIDATION_ERROR with field paths, exit 1, zero requests
// in the sandbox's log), the card output file, POLLING_TIMEOUT, and the table agreeing with
// --help, --schema and --llms-full.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, statSync, existsSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { decode as decodeToon } from "@toon-format/toon";
import { commandTable, version } from "../dist/index.js";
import { startSandbox } from "../dist/sandbox/index.js";

const BIN = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "cli", "linkpay.cjs");
const HDR =
  'Payment id="ch_1", realm="merchant.example", method="stripe", intent="charge", request="eyJhbW91bnQiOiIxMDAwIiwiY3VycmVuY3kiOiJ1c2QiLCJtZXRob2REZXRhaWxzIjp7Im5ldHdvcmtJZCI6Im5ldF8xMjMiLCJwYXltZW50TWV0aG9kVHlwZXMiOlsiY2FyZCJdfX0"';
let seq = 0;
const context = () => `Buying item ${++seq} for the person, who picked it in this conversation; the total matches the cart at checkout.`.padEnd(110, ".");

let sb;
let dir;
let authFile;
let env;

/** Runs the CLI; resolves `{code, stdout, stderr}`. */
function cli(args, extraEnv = {}) {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...env, ...extraEnv }, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr });
    });
  });
}
const json = async (args, extraEnv) => {
  const r = await cli([...args, "--format", "json"], extraEnv);
  return { ...r, out: JSON.parse(r.stdout) };
};

before(async () => {
  sb = await startSandbox({ autoApprove: true });
  dir = mkdtempSync(join(tmpdir(), "linkpay-cli-"));
  authFile = join(dir, "auth.json");
  env = { PATH: process.env.PATH, HOME: dir, LINK_AUTH_FILE: authFile, ...sb.env };
});
after(async () => {
  await sb.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("bad input", () => {
  // One case per command: argv, and the field paths the VALIDATION_ERROR must name.
  const CASES = {
    "auth login": [["--client-name", " ", "--source-actions", "read_everything"], ["clientName", "sourceActions[0]"]],
    "auth upgrade": [["--client-name", " ", "--source-actions", "read_everything"], ["clientName", "sourceActions[0]"]],
    "auth logout": [["--bogus", "1"], ["bogus"]],
    onboard: [["--bogus", "1"], ["bogus"]],
    "auth status": [["--interval=-1", "--max-attempts", "x"], ["interval", "maxAttempts"]],
    "payment-methods list": [["--bogus"], ["bogus"]],
    "payment-methods add": [["extra"], ["arguments"]],
    "shipping-address list": [["--limit", "3"], ["limit"]],
    "user-info retrieve": [["extra"], ["arguments"]],
    report: [["--domain", " ", "--outcome", "maybe", "--tag", "nope"], ["domain", "outcome", "spendRequestId", "tag[0]"]],
    "transactions list": [["--limit", "0", "--start-date", "2026-6-1", "--origin", "bank"], ["limit", "startDate", "origin"]],
    "sources list": [["--limit", "101", "--starting-after", " "], ["limit", "startingAfter"]],
    "balances list": [["--source", "", "--limit", "x"], ["source[0]", "limit"]],
    "spend-request create": [["--amount", "999999", "--context", "short", "--line-item", "name:A,quantity:x"], ["amount", "context", "lineItem[0].quantity", "merchantName", "merchantUrl"]],
    "spend-request update": [["lsrq_1", "--amount", "0", "--currency", "dollars"], ["amount", "currency"]],
    "spend-request retrieve": [["bad id", "--include", "cvv", "--timeout", "-1"], ["id", "include[0]", "timeout"]],
    "spend-request request-approval": [["bad/id"], ["id"]],
    "spend-request cancel": [[], ["id"]],
    "spend-request list": [["--include-history=maybe"], ["includeHistory"]],
    "mpp decode": [[], ["challenge"]],
    "mpp pay": [["ftp://merchant.example/x", "-H", "nocolon", "--amount", "0"], ["url", "header[0]", "amount"]],
    sandbox: [["--port", "70000"], ["port"]],
    serve: [["--port", "abc", "--host", " "], ["port", "host"]],
    demo: [["--interactive=perhaps"], ["interactive"]],
    completions: [["powershell"], ["shell"]],
    "mcp add": [["--agent", "notepad", "--command", " "], ["agent[0]", "command"]],
    "mcp doctor": [["--agent", "notepad"], ["agent[0]"]],
    "mcp proxy": [["--max-amount", "-1", "--timeout", "x"], ["command", "maxAmount", "timeout"]],
    "mcp sandbox": [["--merchant", " "], ["merchant"]],
    "skills add": [["--force=perhaps"], ["force"]],
    "skills list": [["--global=perhaps"], ["global"]],
  };

  test("covers every command of the table", () => {
    assert.deepEqual(Object.keys(CASES).sort(), commandTable().commands.map((c) => c.name).sort());
  });

  test("every command: VALIDATION_ERROR with field paths, exit 1, zero requests", async () => {
    const before = sb.requests().length;
    const results = await Promise.all(Object.entries(CASES).map(async ([name, [args, paths]]) => ({ name, paths, r: await cli([...name.split(" "), ...args, "--format", "json"]) })));
    for (const { name, paths, r } of results) {
      assert.equal(r.code, 1, `${name}: ${r.stdout}${r.stderr}`);
      const err = JSON.parse(r.stdout);
      assert.equal(err.code, "VALIDATION_ERROR", name);
      const got = err.fieldErrors.map((f) => f.path);
      for (const p of paths) assert.ok(got.includes(p), `${name}: ${p} not in ${got}`);
    }
    assert.equal(sb.requests().length, before, "no request reached the sandbox");
  });

  test("unknown command and bad --format", async () => {
    const r = await json(["spend-requests", "create"]);
    assert.equal(r.code, 1);
    assert.equal(r.out.code, "COMMAND_NOT_FOUND");
    assert.match(r.out.message, /Did you mean 'spend-request/);
    const f = await cli(["mpp", "decode", "--format", "xml"]);
    assert.equal(f.code, 1);
    assert.equal(JSON.parse(f.stdout).code, "INVALID_INPUT");
  });
});

describe("formats", () => {
  test("mpp decode in every format", async () => {
    const [toon, jsonOut, yaml, md, jsonl] = await Promise.all(
      [[], ["--format", "json"], ["--format", "yaml"], ["--format", "md"], ["--format", "jsonl"]].map((f) => cli(["mpp", "decode", "--challenge", HDR, ...f])),
    );
    const expected = JSON.parse(jsonOut.stdout);
    assert.equal(expected.network_id, "net_123");
    assert.deepEqual(expected.request_json, { amount: "1000", currency: "usd", methodDetails: { networkId: "net_123", paymentMethodTypes: ["card"] } });
    assert.deepEqual(decodeToon(toon.stdout.trim()), expected, "toon is the default off a terminal");
    assert.deepEqual(parseYaml(yaml.stdout), expected);
    assert.deepEqual(JSON.parse(jsonl.stdout), expected);
    assert.match(md.stdout, /^- \*\*id\*\*: ch_1$/m);
    for (const r of [toon, jsonOut, yaml, md, jsonl]) assert.equal(r.code, 0);
  });

  test("a streaming command: an array in json/yaml/toon, chunks then done in jsonl", async () => {
    const args = ["auth", "status", "--auth", join(dir, "nobody.json")];
    const [toon, j, y, l, explicitToon] = await Promise.all([[], ["--format", "json"], ["--format", "yaml"], ["--format", "jsonl"], ["--format", "toon"]].map((f) => cli([...args, ...f])));
    const status = { authenticated: false, credentials_path: join(dir, "nobody.json") };
    assert.deepEqual(JSON.parse(j.stdout), [status]);
    assert.deepEqual(parseYaml(y.stdout), [status]);
    assert.deepEqual(decodeToon(toon.stdout.trim()), status, "default toon prints each yield as it comes");
    assert.deepEqual(decodeToon(explicitToon.stdout.trim()), [status]);
    const lines = l.stdout.trim().split("\n").map((x) => JSON.parse(x));
    assert.deepEqual(lines[0], { type: "chunk", data: status });
    assert.equal(lines[1].type, "done");
    assert.equal(lines[1].meta.command, "auth status");
  });

  test("errors in every format, exit 1", async () => {
    const args = ["spend-request", "retrieve", "lsrq_missing", "--auth", join(dir, "nobody.json")];
    const [toon, j, y, l] = await Promise.all([[], ["--format", "json"], ["--format", "yaml"], ["--format", "jsonl"]].map((f) => cli([...args, ...f])));
    for (const r of [toon, j, y, l]) assert.equal(r.code, 1);
    assert.equal(JSON.parse(j.stdout).code, "NOT_AUTHENTICATED");
    assert.equal(parseYaml(y.stdout).code, "NOT_AUTHENTICATED");
    assert.match(toon.stdout, /^Error \(NOT_AUTHENTICATED\): Not authenticated/);
    assert.equal(JSON.parse(l.stdout.trim()).error.code, "NOT_AUTHENTICATED");
  });
});

describe("commands against the sandbox", () => {
  test("auth login, status, payment methods, the card flow, MPP, logout", async () => {
    // auth login: the agent gets the URL, phrase and the next command.
    const login = await json(["auth", "login", "--client-name", "CLI test"]);
    assert.equal(login.code, 0);
    assert.equal(login.out.length, 1);
    assert.ok(login.out[0].verification_url.startsWith(sb.url));
    assert.equal(login.out[0]._next.command, "auth status --interval 5 --max-attempts 60");
    assert.match(login.out[0].instruction, /verification_url/);
    const status = await json(["auth", "status", "--interval", "0.1", "--timeout", "10"]);
    assert.equal(status.out.at(-1).authenticated, true);
    assert.equal(statSync(authFile).mode & 0o777, 0o600);
    const again = await json(["auth", "login"]);
    assert.equal(again.out[0].authenticated, true, "already logged in");

    const pms = await json(["payment-methods", "list"]);
    assert.ok(Array.isArray(pms.out) && pms.out.some((p) => p.is_default));
    assert.deepEqual((await json(["payment-methods", "add"])).out, { url: "https://app.link.com/wallet" });

    // Card flow.
    const create = await json(["spend-request", "create", "--amount", "1234", "-m", "Sandbox Outdoor", "--merchant-url", "https://outdoor.example/cart", "--context", context(), "--line-item", "name:Shoes,quantity:1,unit_amount:1234", "--total", "type:total,display_text:Total,amount:1234", "--metadata", "order:o1"]);
    assert.equal(create.code, 0, create.stdout);
    const sr = create.out[0];
    assert.equal(sr.status, "pending_approval");
    assert.equal(sr._next.command, `spend-request retrieve ${sr.id} --interval 2 --max-attempts 300`);
    assert.match(sr.instruction, /approval_url/);

    const cardFile = join(dir, "card.json");
    const got = await json(["spend-request", "retrieve", sr.id, "--interval", "0.1", "--timeout", "10", "--include", "card", "--output-file", cardFile]);
    assert.equal(got.code, 0, got.stdout);
    const last = got.out.at(-1);
    assert.equal(last.status, "approved");
    assert.deepEqual(Object.keys(last.card).sort(), ["brand", "exp_month", "exp_year", "last4"]);
    assert.equal(last.card_output_file, cardFile);
    assert.equal(statSync(cardFile).mode & 0o777, 0o600);
    const saved = JSON.parse(readFileSync(cardFile, "utf8"));
    assert.equal(saved.spend_request_id, sr.id);
    assert.match(saved.card.number, /^\d{12,19}$/);
    assert.ok(!got.stdout.includes(saved.card.number) && !got.stdout.includes(`"${saved.card.cvc}"`), "the number and CVC stay in the file");
    const exists = await json(["spend-request", "retrieve", sr.id, "--include", "card", "--output-file", cardFile]);
    assert.equal(exists.code, 1);
    assert.equal(exists.out.code, "OUTPUT_FILE_EXISTS");
    const forced = await json(["spend-request", "retrieve", sr.id, "--include", "card", "--output-file", cardFile, "--force"]);
    assert.equal(forced.code, 0);
    assert.equal(statSync(cardFile).mode & 0o777, 0o600);
    // Without --output-file the number is printed only because --include card asked for it.
    const plain = await json(["spend-request", "retrieve", sr.id]);
    assert.equal(plain.out[0].card, undefined);
    const shown = await json(["spend-request", "retrieve", sr.id, "--include", "card"]);
    assert.equal(shown.out[0].card.number, saved.card.number);

    // No approval requested: created; update, list, cancel; POLLING_TIMEOUT on it.
    const draft = (await json(["spend-request", "create", "--amount", "999", "-m", "Shop", "--merchant-url", "https://shop.example", "--context", context(), "--no-request-approval"])).out[0];
    assert.equal(draft.status, "created");
    assert.equal(draft._next, undefined);
    const later = (await json(["spend-request", "create", "--amount", "998", "-m", "Shop", "--merchant-url", "https://shop.example", "--context", context(), "--no-request-approval"])).out[0];
    const approval = await json(["spend-request", "request-approval", later.id]);
    assert.equal(approval.code, 0, approval.stdout);
    assert.equal(approval.out[0].id, later.id);
    assert.ok(approval.out[0].approval_link.startsWith(sb.url));
    assert.ok(approval.out[0]._next.command.includes("spend-request retrieve"));
    const updated = await json(["spend-request", "update", draft.id, "--amount", "1001"]);
    assert.equal(updated.out.amount, 1001);
    const timeout = await json(["spend-request", "retrieve", draft.id, "--interval", "0.05", "--max-attempts", "2"]);
    assert.equal(timeout.code, 1);
    assert.equal(timeout.out.code, "POLLING_TIMEOUT");
    assert.equal(timeout.out.retryable, true);
    const list = await json(["spend-request", "list"]);
    assert.ok(list.out.some((x) => x.id === draft.id));
    const canceled = await json(["spend-request", "cancel", draft.id]);
    assert.equal(canceled.out.status, "canceled");
    assert.ok(!(await json(["spend-request", "list"])).out.some((x) => x.id === draft.id));
    assert.ok((await json(["spend-request", "list", "--include-history"])).out.some((x) => x.id === draft.id));

    // MPP: agent mode returns the spend request and the pay command; then pay with it.
    const url = `${sb.merchantUrl}/api/forecast`;
    const pending = await json(["mpp", "pay", url, "--context", context()]);
    assert.equal(pending.code, 0, pending.stdout);
    const spt = pending.out.at(-1);
    assert.equal(spt.credential_type, "shared_payment_token");
    assert.match(spt._next.pay_command, new RegExp(`--spend-request-id ${spt.id}`));
    await json(["spend-request", "retrieve", spt.id, "--interval", "0.1", "--timeout", "10"]);
    const paid = await json(["mpp", "pay", url, "--spend-request-id", spt.id]);
    assert.equal(paid.out.at(-1).status, 200, paid.stdout);
    assert.equal(paid.out.at(-1).receipt.status, "success");
    const oneCall = await json(["mpp", "pay", url, "--context", context(), "--interval", "0.1", "--timeout", "10"]);
    assert.equal(oneCall.out.at(-1).status, 200, oneCall.stdout);
    assert.equal((await json(["mpp", "decode", "--challenge", HDR])).out.network_id, "net_123");

    // --verbose: traffic on stderr, the token redacted.
    const token = JSON.parse(readFileSync(authFile, "utf8")).auth.access_token;
    const verbose = await cli(["payment-methods", "list", "--verbose", "--format", "json"]);
    assert.match(verbose.stderr, /> GET .*\/payment-details/);
    assert.ok(!verbose.stderr.includes(token) && !verbose.stdout.includes(token));

    const logout = await json(["auth", "logout"]);
    assert.deepEqual(logout.out, { authenticated: false });
    assert.equal(existsSync(authFile), false);
  });

  test("sandbox and demo", async () => {
    const child = spawn(process.execPath, [BIN, "sandbox", "--port", "0", "--auto-approve"], { env });
    const url = await new Promise((resolve, reject) => {
      let text = "";
      child.stdout.on("data", (d) => {
        text += d;
        const m = /listening on (http:\/\/\S+)/.exec(text);
        if (m) resolve(m[1]);
      });
      child.on("exit", () => reject(new Error(`sandbox exited: ${text}`)));
    });
    const r = await fetch(`${url}/merchant/api/forecast`);
    assert.equal(r.status, 402);
    const exited = new Promise((resolve) => child.on("exit", resolve));
    child.kill("SIGTERM");
    assert.equal(await exited, 0);

    const demo = await cli(["demo"]);
    assert.equal(demo.code, 0, demo.stdout + demo.stderr);
    assert.match(demo.stdout, /paid with the SPT .* → 200/);
    assert.match(demo.stdout, /link\.fetch → 200, the POST body sent again .*Lake Tahoe/);
    assert.match(demo.stdout, /receiptOf\(res\): success stripe pi_/);
    assert.match(demo.stdout, /over maxAmount: PAYMENT_GUARDRAIL \(max_amount\), refused before anyone is asked/);
    assert.match(demo.stdout, /An MCP tool call that costs money/);
    assert.match(demo.stdout, /callTool → called again with the credential in _meta: .*San Francisco/);
    assert.match(demo.stdout, /mcpReceiptOf\(result\): success stripe pi_/);
    const onlyCard = await cli(["demo", "--only-card"]);
    assert.equal(onlyCard.code, 0, onlyCard.stdout + onlyCard.stderr);
    assert.match(onlyCard.stdout, /3\. Card flow/);
    assert.doesNotMatch(onlyCard.stdout, /MPP flow/);
    const onlySpt = await cli(["demo", "--only-spt"]);
    assert.equal(onlySpt.code, 0, onlySpt.stdout + onlySpt.stderr);
    assert.match(onlySpt.stdout, /3\. MPP flow/);
    assert.doesNotMatch(onlySpt.stdout, /Card flow/);
    assert.match(demo.stdout, /receipt: success/);
    assert.match(demo.stdout, /mode 600/);
    assert.doesNotMatch(demo.stdout, /\b\d{13,19}\b/, "no card number on screen");
  });
});

describe("on a terminal (a pty from util-linux `script`) and in agent mode", () => {
  const SPINNER = /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/;
  const QR = /[▄▀█]{3}/;
  let ttyDir;
  let ttyEnv;
  before(() => {
    ttyDir = mkdtempSync(join(tmpdir(), "linkpay-tty-"));
    ttyEnv = { ...env, HOME: ttyDir, LINK_AUTH_FILE: join(ttyDir, "auth.json"), TERM: "xterm" };
  });
  after(() => rmSync(ttyDir, { recursive: true, force: true }));

  /** Runs the CLI with stdin, stdout and stderr on a pseudo-terminal; resolves what it drew. */
  function onTerminal(args) {
    const quoted = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(" ");
    return new Promise((resolve) => {
      execFile("script", ["-qefc", quoted, "/dev/null"], { env: ttyEnv, timeout: 30_000 }, (err, stdout) => {
        resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, screen: stdout });
      });
    });
  }

  test("the approval URL, its QR code and the spinner for a person; none of it for an agent", async () => {
    const login = await onTerminal(["auth", "login", "--client-name", "TTY test"]);
    assert.equal(login.code, 0, login.screen);
    assert.match(login.screen, /Approve this login \(phrase "[a-z]+-[a-z]+-[a-z]+"\):\r?\n {2}http:\/\/127\.0\.0\.1:\d+\/device\?code=/);
    assert.match(login.screen, QR);
    assert.match(login.screen, /authenticated: true/, "a person gets yaml");

    const args = (amount) => ["spend-request", "create", "--amount", amount, "-m", "Sandbox Outdoor", "--merchant-url", "https://outdoor.example/cart", "--context", context()];
    const create = await onTerminal(args("1500"));
    assert.equal(create.code, 0, create.screen);
    assert.match(create.screen, /Approve this spend request:\r?\n {2}http:\/\/127\.0\.0\.1:\d+\//);
    assert.match(create.screen, QR);
    assert.match(create.screen, SPINNER, "a spinner while it polls");
    assert.match(create.screen, /✓ done/);
    assert.match(create.screen, /status: approved/, "a person waits for the approval");

    // The same command from an agent (stdout and stderr pipes): the hint, and a quiet stderr.
    const agent = await cli(args("1501"), { HOME: ttyDir, LINK_AUTH_FILE: join(ttyDir, "auth.json") });
    assert.equal(agent.code, 0, agent.stdout);
    assert.match(agent.stdout, /_next/);
    assert.equal(agent.stderr, "");
    for (const text of [agent.stdout, agent.stderr]) {
      assert.doesNotMatch(text, QR);
      assert.doesNotMatch(text, SPINNER);
      assert.doesNotMatch(text, /Approve this/);
    }
  });
});

describe("the command table is the one source", () => {
  const table = commandTable().commands;
  const kebab = (k) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

  test("--version is the package's version (the Rust core's)", async () => {
    const pkg = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), "..", "package.json"), "utf8"));
    const r = await cli(["--version"]);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, `${pkg.version}\n`);
    assert.equal(r.stdout.trim(), version);
  });

  test("--help, --schema and --llms-full agree with the table", async () => {
    const root = await cli(["--help"]);
    for (const c of table) assert.ok(root.stdout.includes(`  ${c.name} `), c.name);
    const llms = (await cli(["--llms-full"])).stdout;
    const manifest = JSON.parse((await cli(["--llms-full", "--format", "json"])).stdout);
    assert.deepEqual(manifest.commands.map((c) => c.name), table.map((c) => c.name));
    const runs = await Promise.all(table.map((c) => Promise.all([cli([...c.name.split(" "), "--help"]), cli([...c.name.split(" "), "--schema", "--format", "json"])])));
    table.forEach((c, i) => {
      const [help, schema] = runs[i];
      assert.deepEqual(JSON.parse(schema.stdout), c.inputSchema, c.name);
      assert.deepEqual(Object.keys(c.inputSchema.properties), c.options.map((o) => o.key), c.name);
      assert.deepEqual(manifest.commands[i].inputSchema, c.inputSchema);
      assert.ok(llms.includes(`## linkpay ${c.name}`), c.name);
      const flags = [...help.stdout.matchAll(/^ {2}(?:-\w, )?--([a-z][a-z-]*)/gm)].map((m) => m[1]);
      for (const o of c.options) {
        assert.equal(o.flag, kebab(o.key));
        if (o.positional) {
          assert.ok(help.stdout.includes(`<${o.key}>`), `${c.name} <${o.key}>`);
        } else if (!o.hidden) {
          assert.ok(flags.includes(o.flag), `${c.name} --${o.flag} in --help`);
          assert.ok(llms.includes(`--${o.flag}`), `${c.name} --${o.flag} in --llms-full`);
        }
      }
      for (const f of flags) assert.ok(c.options.some((o) => o.flag === f), `${c.name}: --${f} in help but not in the table`);
    });
  });
});

describe("the packed package", () => {
  // What `npm pack` ships must be enough for the bin: unpack the tarball, give it the package's
  // dependencies (a node_modules link), and run a command of each kind from it.
  test("the bin runs from the tarball: decode, yaml, the sandbox and MCP over stdio", async () => {
    const root = join(dirname(fileURLToPath(import.meta.url)), "..");
    const work = mkdtempSync(join(tmpdir(), "linkpay-pack-"));
    try {
      const packed = await new Promise((resolve, reject) =>
        execFile("npm", ["pack", "--json", "--pack-destination", work], { cwd: root, timeout: 60_000 }, (err, stdout) => (err ? reject(err) : resolve(JSON.parse(stdout)[0]))),
      );
      assert.ok(packed.files.some((f) => f.path === "dist/cli/linkpay.cjs"));
      assert.ok(!packed.files.some((f) => /^dist\/cli\/.*\.js$/.test(f.path)), "only the bundle of the CLI ships");
      await new Promise((resolve, reject) => execFile("tar", ["-xzf", join(work, packed.filename), "-C", work], (err) => (err ? reject(err) : resolve())));
      symlinkSync(join(root, "node_modules"), join(work, "package", "node_modules"), "dir");
      const bin = join(work, "package", "dist", "cli", "linkpay.cjs");
      const run = (args) =>
        new Promise((resolve) => execFile(process.execPath, [bin, ...args], { env, timeout: 30_000 }, (err, stdout) => resolve({ code: err ? err.code : 0, stdout })));

      const decoded = await run(["mpp", "decode", "--challenge", HDR]);
      assert.equal(decoded.code, 0, decoded.stdout);
      assert.equal(decodeToon(decoded.stdout).network_id, "net_123");
      assert.equal(parseYaml((await run(["mpp", "decode", "--challenge", HDR, "--format", "yaml"])).stdout).amount, 1000);
      const demo = await run(["demo"]);
      assert.equal(demo.code, 0, demo.stdout);
      assert.match(demo.stdout, /receipt: success/);

      const { Client } = await import("@modelcontextprotocol/sdk/client/index.js");
      const { StdioClientTransport } = await import("@modelcontextprotocol/sdk/client/stdio.js");
      const mcp = new Client({ name: "pack-test", version: "1.0.0" });
      await mcp.connect(new StdioClientTransport({ command: process.execPath, args: [bin, "--mcp"], env, stderr: "ignore" }));
      try {
        const tools = await mcp.listTools();
        assert.ok(tools.tools.some((t) => t.name === "mpp_decode"));
        const call = await mcp.callTool({ name: "mpp_decode", arguments: { challenge: HDR } });
        assert.equal(call.isError, undefined, JSON.stringify(call));
      } finally {
        await mcp.close();
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
