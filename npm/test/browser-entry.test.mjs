// The browser entry (`browser` export condition, the `web` wasm build): its import graph holds no
// Node built-in and only relative specifiers; and in headless Chromium, on a page served from
// another loopback origin than the sandbox (so every call is cross-origin: CORS with exposed
// headers), it decodes a 402's challenge, logs in, runs the card flow and pays an MPP endpoint,
// keeping the session in localStorage.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { dirname, extname, join, normalize, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { startSandbox } from "../dist/sandbox/index.js";
import { importGraph } from "../../scripts/extension-lib.mjs";

const dist = resolve(dirname(fileURLToPath(import.meta.url)), "..", "dist");
const pkg = JSON.parse(readFileSync(resolve(dist, "..", "package.json"), "utf8"));

describe("browser entry: import graph", () => {
  test("the browser export condition selects dist/browser.js, over the web build", () => {
    assert.deepEqual(pkg.exports["."].browser, { types: "./dist/browser.d.ts", default: "./dist/browser.js" });
    assert.equal(Object.keys(pkg.exports["."])[0], "browser", "matched before the Node default");
  });

  test("no Node built-ins, only relative imports, the web wasm as an asset", () => {
    const { files, specifiers } = importGraph(join(dist, "browser.js"));
    const names = files.map((f) => relative(dist, f)).sort();
    assert.ok(names.includes("pkg/web/linkpay.js") && names.includes("pkg/web/linkpay_bg.wasm"), names.join(" "));
    assert.ok(!names.some((n) => n.includes("nodejs") || n.startsWith("sandbox/") || n === "index.js" || n === "host/file.js"), names.join(" "));
    assert.ok(specifiers.length >= 8);
    const builtins = new Set(builtinModules);
    for (const { from, spec } of specifiers) {
      assert.ok(!spec.startsWith("node:") && !builtins.has(spec.split("/")[0]), `${relative(dist, from)} imports ${spec}`);
      assert.ok(spec.startsWith("./") || spec.startsWith("../"), `${relative(dist, from)} imports the bare specifier ${spec}`);
    }
    for (const file of files.filter((f) => f.endsWith(".js"))) {
      assert.doesNotMatch(readFileSync(file, "utf8"), /\bprocess\.|\brequire\(|\bBuffer\./, `${relative(dist, file)} uses a Node global`);
    }
  });
});

const MIME = { ".js": "text/javascript", ".wasm": "application/wasm", ".html": "text/html" };

/** npm/dist over HTTP on its own loopback port (another origin than the sandbox). */
function staticServer() {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, "http://x").pathname));
    if (path === "/") {
      res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>linkpay page test</title>");
      return;
    }
    const file = join(dist, path);
    if (!file.startsWith(dist + "/")) return res.writeHead(403).end();
    try {
      const body = readFileSync(file);
      res.writeHead(200, { "content-type": MIME[extname(file)] ?? "application/octet-stream" }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((r) => server.listen(0, "127.0.0.1", () => r(server)));
}

describe("browser entry in Chromium (web build, cross-origin to the sandbox)", () => {
  let sb;
  let server;
  let browser;
  let profile;
  let page;
  const problems = [];

  before(async () => {
    sb = await startSandbox();
    server = await staticServer();
    profile = mkdtempSync(join(tmpdir(), "linkpay-page-"));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: "/usr/bin/chromium",
      headless: true,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    browser.setDefaultTimeout(20_000);
    page = await browser.newPage();
    page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
    // (HTTP errors the flows expect, 402 and pending 400s, are logged as "Failed to load resource".)
    page.on("console", (m) => m.type() === "error" && !m.text().startsWith("Failed to load resource") && problems.push(`console: ${m.text()}`));
    // The sandbox is on 127.0.0.1, the page on localhost: different origins.
    await page.goto(`http://localhost:${server.address().port}/`);
  });

  after(async () => {
    await browser?.close();
    await new Promise((r) => (server ? server.close(r) : r()));
    await sb?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  test("init() loads the web build; synchronous functions work after it, not before", async () => {
    const out = await page.evaluate(async () => {
      const m = await import("/browser.js");
      let before;
      try {
        m.decodeChallenges("Basic realm=x");
      } catch (e) {
        before = e.code;
      }
      await m.init();
      return { before, version: m.version, codes: m.errorCodes.length, none: m.decodeChallenges("Basic realm=x")[0].error.code };
    });
    assert.equal(out.before, "INVALID_INPUT");
    assert.equal(out.version, pkg.version);
    assert.ok(out.codes > 20);
    assert.equal(out.none, "MPP_NO_PAYMENT_CHALLENGE");
  });

  test("mpp.decode on a cross-origin 402 (WWW-Authenticate exposed by CORS)", async () => {
    const out = await page.evaluate(async (url) => {
      const { LinkClient } = await import("/browser.js");
      const res = await fetch(url);
      const header = res.headers.get("www-authenticate");
      const decoded = await new LinkClient().mpp.decode(header, { url });
      return { status: res.status, decoded };
    }, `${sb.merchantUrl}/api/forecast`);
    assert.equal(out.status, 402);
    assert.equal(out.decoded.method, "stripe");
    assert.equal(out.decoded.amount, 100);
    assert.equal(out.decoded.currency, "usd");
    assert.equal(out.decoded.network_id, "profile_sandbox_merchant");
    assert.deepEqual(out.decoded.warnings, []);
  });

  test("login, card flow and mpp.pay from the page; the session in localStorage", async () => {
    const started = await page.evaluate(async (base) => {
      const { LinkClient } = await import("/browser.js");
      window.link = new LinkClient({ apiBaseUrl: base, authBaseUrl: base, clientName: "Page test" });
      const start = await window.link.auth.login();
      window.loginWait = start.wait({ interval: 0.05, timeout: 10 });
      return { phrase: start.phrase, url: start.verification_url };
    }, sb.url);
    assert.match(started.url, /\/device\?code=/);
    sb.approveDevice(started.phrase);
    const status = await page.evaluate(() => window.loginWait);
    assert.equal(status.authenticated, true);
    assert.equal(status.credentials_path, "localStorage");
    const stored = await page.evaluate(() => JSON.parse(localStorage.getItem("linkpay:auth")));
    assert.ok(stored.access_token);

    const created = await page.evaluate(async (merchantUrl) => {
      window.created = await window.link.spendRequests.create({
        amount: 2500,
        merchant_name: "Sandbox Outfitters",
        merchant_url: merchantUrl,
        context: "A page in the browser buys a pair of gloves the person chose; the amount matches the checkout total shown.",
      });
      return window.created;
    }, `${sb.merchantUrl}/checkout`);
    assert.equal(created.status, "pending_approval");
    sb.approve(created.id);
    const done = await page.evaluate(() => window.link.spendRequests.waitFor(window.created.id, { interval: 0.05, timeout: 10, include: ["card"] }));
    assert.equal(done.status, "approved");
    assert.match(done.card.number, /^\d{15,16}$/);

    await page.evaluate((url) => {
      window.progress = [];
      window.paying = window.link.mpp.pay(url, {
        context: "A page in the browser pays for one weather forecast the person asked for; one request, one dollar at most.",
        interval: 0.05,
        timeout: 10,
        onProgress: (sr) => window.progress.push({ id: sr.id, status: sr.status }),
      });
    }, `${sb.merchantUrl}/api/forecast`);
    // The person approves the SPT request once the page shows it is waiting.
    await page.waitForFunction(() => window.progress.some((p) => p.status === "pending_approval"));
    const ids = await page.evaluate(() => window.progress.map((p) => p.id));
    sb.approve(ids[0]);
    const paid = { result: await page.evaluate(() => window.paying), ids };
    assert.ok(paid.ids.length > 0);
    assert.equal(paid.result.status, 200);
    assert.equal(paid.result.receipt.status, "success", "Payment-Receipt exposed by CORS and parsed");
    assert.equal(paid.result.spend_request_id, paid.ids[0]);

    // link.fetch from the page: a cross-origin POST paid, its body sent again, the receipt read.
    await page.evaluate((url) => {
      window.approvals = [];
      window.fetched = (async () => {
        const { receiptOf } = await import("/browser.js");
        const res = await window.link.fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ location: "Bergen" }) }, {
          context: "A page in the browser buys one weather report for Bergen that the person asked for; seventy-five cents.",
          interval: 0.05,
          timeout: 10,
          onApproval: (a) => window.approvals.push(a),
        });
        return { status: res.status, body: await res.json(), receipt: receiptOf(res) };
      })();
    }, `${sb.merchantUrl}/api/report`);
    await page.waitForFunction(() => window.approvals.length > 0);
    sb.approve(await page.evaluate(() => window.approvals[0].spend_request_id));
    const fetched = await page.evaluate(() => window.fetched);
    assert.equal(fetched.status, 200);
    assert.equal(fetched.body.location, "Bergen");
    assert.equal(fetched.receipt.status, "success");
    assert.deepEqual(problems, []);
  });
});
