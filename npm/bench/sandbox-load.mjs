#!/usr/bin/env node
// Load bench for the sandbox (a bench script, not a timed test).
//
//   node bench/sandbox-load.mjs [--cycles 20000] [--clients 50] [--mode both|control|auto]
//
// The sandbox runs in a child process (as `linkpay sandbox` would); 50 keep-alive clients run
// create → approve → retrieve(include=card) cycles against it, spread over many sandbox users
// (10 cycles each: the 10-approved limit) so the per-user limits do not stop the bench.
//
//   control: the person approves through the control API — three requests per cycle
//            (POST /spend_requests, POST /sandbox/spend_requests/{id}/approve, GET …?include=card);
//   auto:    the sandbox runs with --auto-approve — two requests per cycle (the approval happens
//            inside the sandbox when the retrieve looks at the request).
//
// The clients speak raw HTTP/1.1 over keep-alive sockets so that the sandbox, not Node's HTTP
// client, is what is measured; the sandbox process's own CPU time per cycle is reported too (it
// does not depend on what else the machine is doing). SANDBOX_BENCH_PROFILE=dir writes a CPU
// profile of the sandbox process.
//
// Then a hammer phase fires concurrent requests at single users to show the limits hold exactly.
// Every count is asserted after the run; the exit code is non-zero if any is off.
import { fork } from "node:child_process";
import http from "node:http";
import net from "node:net";
import { parseArgs } from "node:util";

async function main() {
  const { values } = parseArgs({ options: { cycles: { type: "string", default: "20000" }, clients: { type: "string", default: "50" }, mode: { type: "string", default: "both" } } });
  const CYCLES = Number(values.cycles);
  const CLIENTS = Number(values.clients);
  const modes = values.mode === "both" ? ["control", "auto"] : [values.mode];
  const results = {};
  const failures = [];
  let hammer;
  const ceiling = await noopCeiling(CLIENTS);
  console.log(`loopback ceiling right now: a no-op Node http server answers ${ceiling} requests/s with the same client`);
  for (const mode of modes) {
    const r = await run(mode, CYCLES, CLIENTS, failures, mode === modes[0]);
    results[mode] = r.throughput;
    hammer ??= r.hammer;
  }
  const report = { cycles: CYCLES, clients: CLIENTS, noop_ceiling_requests_per_second: ceiling, modes: results, hammer, failures: failures.length };
  console.log(JSON.stringify(report));
  if (failures.length > 0) {
    console.error(`FAILED (${failures.length}):\n  ${failures.slice(0, 20).join("\n  ")}`);
    process.exitCode = 1;
  } else {
    console.log("all counts exact: no lost update, no overshoot");
  }
}

/**
 * A minimal HTTP/1.1 keep-alive connection: one request at a time, responses framed by
 * Content-Length (the sandbox always sends it). Much cheaper than `http.request`, so the bench
 * measures the server rather than Node's HTTP client.
 */
class Connection {
  #socket;
  #buffer = Buffer.alloc(0);
  #pending;
  #ready;

  constructor(port) {
    this.#socket = net.connect({ host: "127.0.0.1", port, noDelay: true });
    this.#ready = new Promise((resolve, reject) => {
      this.#socket.once("connect", resolve);
      this.#socket.once("error", reject);
    });
    this.#socket.on("data", (chunk) => {
      this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
      this.#drain();
    });
    this.#socket.on("error", (e) => this.#pending?.reject(e));
  }

  #drain() {
    if (this.#pending === undefined) return;
    const end = this.#buffer.indexOf("\r\n\r\n");
    if (end < 0) return;
    const head = this.#buffer.toString("latin1", 0, end);
    const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    const length = m ? Number(m[1]) : 0;
    if (this.#buffer.length < end + 4 + length) return;
    const body = this.#buffer.toString("utf8", end + 4, end + 4 + length);
    this.#buffer = this.#buffer.subarray(end + 4 + length);
    const { resolve } = this.#pending;
    this.#pending = undefined;
    resolve({ status: Number(head.slice(9, 12)), json: body ? JSON.parse(body) : undefined });
  }

  async request(method, path, { token, body, headers = {} } = {}) {
    await this.#ready;
    const payload = body === undefined ? "" : JSON.stringify(body);
    let head = `${method} ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\n`;
    if (token) head += `authorization: Bearer ${token}\r\n`;
    for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
    if (payload !== "") head += `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(payload)}\r\n`;
    return new Promise((resolve, reject) => {
      this.#pending = { resolve, reject };
      this.#socket.write(`${head}\r\n${payload}`);
    });
  }

  close() {
    this.#socket.destroy();
  }
}

/** Starts the server in a child process; `cpu()` reads its CPU time, `close()` stops it. */
async function spawnServer(options) {
  const execArgv = process.env.SANDBOX_BENCH_PROFILE ? ["--cpu-prof", `--cpu-prof-dir=${process.env.SANDBOX_BENCH_PROFILE}`] : [];
  const child = fork(new URL(import.meta.url), ["--child", JSON.stringify(options)], { stdio: ["ignore", "inherit", "inherit", "ipc"], execArgv });
  const ask = (message) =>
    new Promise((resolve) => {
      child.once("message", resolve);
      child.send(message);
    });
  const { url } = await new Promise((resolve, reject) => {
    child.once("message", resolve);
    child.once("exit", (code) => reject(new Error(`server exited ${code}`)));
  });
  return {
    url,
    cpu: () => ask("cpu"),
    close: async () => {
      await ask("close");
      await new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once("exit", resolve)));
    },
  };
}

/** Requests/s a no-op server reaches with this client on this machine now (for scale). */
async function noopCeiling(CLIENTS, N = 20_000) {
  const server = await spawnServer({ noop: true });
  const url = server.url;
  const conns = Array.from({ length: CLIENTS }, () => new Connection(Number(new URL(url).port)));
  let n = 0;
  const t0 = performance.now();
  await Promise.all(conns.map(async (c) => {
    while (n++ < N) await c.request("GET", "/");
  }));
  const rate = Math.round(N / ((performance.now() - t0) / 1000));
  for (const c of conns) c.close();
  await server.close();
  return rate;
}

async function run(mode, CYCLES, CLIENTS, failures, withHammer) {
  const PER_USER = 10; // the concurrent-approved limit
  const server = await spawnServer({ autoApprove: mode === "auto" });
  const base = new URL(server.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });
  const conns = Array.from({ length: CLIENTS }, () => new Connection(Number(base.port)));

  /** One HTTP exchange through Node's client (setup, checks, hammer); resolves `{status, json}`. */
  function call(method, path, { token, body, headers = {} } = {}) {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const h = { ...headers };
      if (token) h.authorization = `Bearer ${token}`;
      if (payload !== undefined) {
        h["content-type"] = "application/json";
        h["content-length"] = Buffer.byteLength(payload);
      }
      const req = http.request({ host: base.hostname, port: base.port, method, path, headers: h, agent }, (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          resolve({ status: res.statusCode, json: text ? JSON.parse(text) : undefined });
        });
      });
      req.on("error", reject);
      req.end(payload);
    });
  }

  const context = (tag) => `Bench purchase ${tag}: the user asked the agent to buy this item; the amount matches the cart at checkout exactly.`;
  const cardBody = (tag, amount = 100 + (tag.length % 400)) => ({
    credential_type: "card",
    amount,
    currency: "usd",
    merchant_name: "Bench Store",
    merchant_url: "https://bench.example/cart",
    context: context(tag),
    line_items: [{ name: "Widget", quantity: 1, unit_amount: amount }],
    totals: [{ type: "total", display_text: "Total", amount }],
    request_approval: true,
  });
  const newUser = async () => (await call("POST", "/sandbox/users", { body: {} })).json;
  const usage = async (userId) => (await call("GET", `/sandbox/users/${userId}`)).json;
  const check = (ok, what) => {
    if (!ok) failures.push(what);
  };

  // ----- phase 1: throughput ---------------------------------------------------------------
  const userCount = Math.ceil(CYCLES / PER_USER);
  const users = [];
  for (let i = 0; i < userCount; i += 100) {
    users.push(...(await Promise.all(Array.from({ length: Math.min(100, userCount - i) }, newUser))));
  }
  const done = new Map(users.map((u) => [u.user_id, 0]));
  let nextUser = 0;
  let cycles = 0;
  const latencies = [];

  async function client(conn) {
    const call = (method, path, opts) => conn.request(method, path, opts);
    for (;;) {
      const u = users[nextUser++];
      if (u === undefined) return;
      for (let k = 0; k < PER_USER && cycles < CYCLES; k++) {
        cycles++;
        const t0 = performance.now();
        const created = await call("POST", "/spend_requests", { token: u.access_token, body: cardBody(`${u.user_id}-${k}`) });
        if (created.status !== 200) {
          check(false, `create ${created.status} ${JSON.stringify(created.json)}`);
          continue;
        }
        const id = created.json.id;
        if (mode === "control") {
          const approved = await call("POST", `/sandbox/spend_requests/${id}/approve`);
          check(approved.status === 200 && approved.json.status === "approved", `approve ${approved.status}`);
        }
        const got = await call("GET", `/spend_requests/${id}?include=card`, { token: u.access_token });
        check(got.status === 200 && got.json.status === "approved" && /^\d{16}$/.test(got.json.card?.number ?? ""), `retrieve ${got.status}`);
        done.set(u.user_id, done.get(u.user_id) + 1);
        latencies.push(performance.now() - t0);
      }
    }
  }

  const cpuBefore = await server.cpu();
  const started = performance.now();
  await Promise.all(conns.map(client));
  const seconds = (performance.now() - started) / 1000;
  const cpuAfter = await server.cpu();
  const serverCpuUs = cpuAfter.user + cpuAfter.system - cpuBefore.user - cpuBefore.system;

  // Every cycle left exactly one approved request behind: nothing lost, nothing doubled.
  let counted = 0;
  for (let i = 0; i < users.length; i += 200) {
    const batch = await Promise.all(users.slice(i, i + 200).map((u) => usage(u.user_id)));
    for (const s of batch) {
      const expected = done.get(s.user_id);
      counted += s.total;
      check(s.total === expected && s.approved === expected && s.active === expected && s.by_status.approved === expected, `user ${s.user_id}: ${JSON.stringify(s)} expected ${expected}`);
    }
  }
  check(counted === CYCLES, `requests counted ${counted} != cycles ${CYCLES}`);

  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))].toFixed(2);
  const rate = CYCLES / seconds;

  const throughput = {
    requests_per_cycle: mode === "control" ? 3 : 2,
    users: users.length,
    seconds: Number(seconds.toFixed(2)),
    cycles_per_second: Math.round(rate),
    requests_per_second: Math.round(rate * (mode === "control" ? 3 : 2)),
    cycle_latency_ms: { p50: Number(pct(50)), p99: Number(pct(99)), max: Number(latencies[latencies.length - 1].toFixed(2)) },
    // Load-independent: the sandbox process's CPU time per cycle, and what one core could do.
    server_cpu_us_per_cycle: Math.round(serverCpuUs / CYCLES),
    cycles_per_server_core_second: Math.round(1e6 / (serverCpuUs / CYCLES)),
  };
  console.log(`sandbox load (${mode}): ${CYCLES} create→approve→retrieve cycles, ${CLIENTS} clients, ${users.length} users`);
  console.log(`  ${throughput.cycles_per_second} cycles/s (${throughput.requests_per_second} requests/s) in ${throughput.seconds} s; cycle p50 ${throughput.cycle_latency_ms.p50} ms, p99 ${throughput.cycle_latency_ms.p99} ms`);
  console.log(`  sandbox CPU: ${throughput.server_cpu_us_per_cycle} µs per cycle (${throughput.cycles_per_server_core_second} cycles per CPU-second of the sandbox process)`);
  if (!withHammer) {
    await stop();
    return { throughput };
  }

  // ----- phase 2: hammer single users ------------------------------------------------------------
  const burst = (n, fn) => Promise.all(Array.from({ length: n }, (_, i) => fn(i)));
  const tally = (results) => results.reduce((m, r) => ((m[`${r.status}${r.json?.error ? ` ${r.json.error.code}/${r.json.error.limit ?? ""}` : ""}`] = (m[`${r.status}${r.json?.error ? ` ${r.json.error.code}/${r.json.error.limit ?? ""}` : ""}`] ?? 0) + 1), m), {});
  const hammer = {};

  // 30 active: 100 concurrent creates.
  const one = await newUser();
  let results = await burst(100, (i) => call("POST", "/spend_requests", { token: one.access_token, body: cardBody(`active-${i}`, 100) }));
  hammer.active = tally(results);
  check(results.filter((r) => r.status === 200).length === 30, `active: ${JSON.stringify(hammer.active)}`);
  check(results.filter((r) => r.status === 409 && r.json.error.limit === "active").length === 70, "active refusals");
  const ids = results.filter((r) => r.status === 200).map((r) => r.json.id);
  // 10 approved: approve all 30 at once.
  results = await burst(ids.length, (i) => call("POST", `/sandbox/spend_requests/${ids[i]}/approve`));
  hammer.approved = tally(results);
  check(results.filter((r) => r.status === 200).length === 10, `approved: ${JSON.stringify(hammer.approved)}`);
  check((await usage(one.user_id)).approved === 10, "approved count");
  // 50 per hour: cancel all, then 100 concurrent creates → 20 more.
  await burst(ids.length, (i) => call("POST", `/spend_requests/${ids[i]}/cancel`, { token: one.access_token }));
  results = await burst(100, (i) => call("POST", "/spend_requests", { token: one.access_token, body: cardBody(`hourly-${i}`, 100) }));
  hammer.hourly = tally(results);
  check(results.filter((r) => r.status === 200).length === 20, `hourly: ${JSON.stringify(hammer.hourly)}`);
  check(results.filter((r) => r.status === 429 && r.json.error.limit === "hourly").length === 80, "hourly refusals");
  check((await usage(one.user_id)).created_last_hour === 50, "hourly count");

  // $500 a day: 50 concurrent $100 creates → 5.
  const two = await newUser();
  results = await burst(50, (i) => call("POST", "/spend_requests", { token: two.access_token, body: cardBody(`daily-${i}`, 10_000) }));
  hammer.daily = tally(results);
  check(results.filter((r) => r.status === 200).length === 5, `daily: ${JSON.stringify(hammer.daily)}`);
  check((await usage(two.user_id)).spent_last_24h === 50_000, "daily amount");

  // Duplicates: 50 identical creates → 1.
  const three = await newUser();
  const same = cardBody("duplicate", 700);
  results = await burst(50, () => call("POST", "/spend_requests", { token: three.access_token, body: same }));
  hammer.duplicate = tally(results);
  check(results.filter((r) => r.status === 200).length === 1, `duplicate: ${JSON.stringify(hammer.duplicate)}`);

  // Idempotency: 50 creates with one key → one request, 50 identical answers.
  const four = await newUser();
  results = await burst(50, () => call("POST", "/spend_requests", { token: four.access_token, body: cardBody("idempotent", 900), headers: { "idempotency-key": "bench-key" } }));
  hammer.idempotent = tally(results);
  check(results.every((r) => r.status === 200 && r.json.id === results[0].json.id), `idempotent: ${JSON.stringify(hammer.idempotent)}`);
  check((await usage(four.user_id)).total === 1, "idempotent count");

  console.log(`  limits under concurrency: ${JSON.stringify(hammer)}`);
  await stop();
  return { throughput, hammer };

  async function stop() {
    for (const c of conns) c.close();
    agent.destroy();
    await server.close();
  }
}

// Dispatch last: the classes and functions above must be initialized first.
if (process.argv[2] === "--child") {
  const options = JSON.parse(process.argv[3]);
  let close;
  let url;
  if (options.noop === true) {
    // The loopback ceiling: a Node http server that only answers a small JSON body.
    const server = http.createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        const body = '{"id":"lsrq_noop","status":"approved"}';
        res.writeHead(200, { "content-type": "application/json", "content-length": body.length });
        res.end(body);
      });
    });
    await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${server.address().port}`;
    close = () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(resolve);
    });
  } else {
    const { startSandbox } = await import("../dist/sandbox/index.js");
    const sb = await startSandbox({ port: 0, ...options });
    url = sb.url;
    close = () => sb.close();
  }
  process.on("message", async (m) => {
    if (m === "cpu") process.send(process.cpuUsage());
    if (m === "close") {
      await close();
      process.send({ closed: true }, () => process.exit(0));
    }
  });
  process.send({ url });
} else {
  await main();
}
