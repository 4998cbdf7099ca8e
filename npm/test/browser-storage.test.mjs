// The browser storage hosts (chrome.storage.local, localStorage) over stand-in storage areas:
// prefixed keys, missing values, a corrupt value kept, and every failure a STORAGE_ERROR.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ChromeStorage, WebStorageStore, browserStorage } from "../dist/host/browser.js";
import { MemoryStorage } from "../dist/host/memory.js";

function chromeArea(items = {}) {
  return {
    items,
    async get(name) { return name in items ? { [name]: items[name] } : {}; },
    async set(more) { Object.assign(items, more); },
    async remove(name) { delete items[name]; },
  };
}

function webStorage() {
  const items = new Map();
  return { items, getItem: (k) => items.get(k) ?? null, setItem: (k, v) => items.set(k, v), removeItem: (k) => items.delete(k) };
}

const broken = (message) => () => { throw new Error(message); };

test("chrome.storage.local: round trip under the prefix; a corrupt value is a STORAGE_ERROR and kept", async () => {
  const area = chromeArea();
  const store = new ChromeStorage(area);
  assert.equal(await store.get("auth"), null);
  await store.set("auth", '{"a":1}');
  assert.deepEqual(area.items, { "linkpay:auth": '{"a":1}' });
  assert.equal(await store.get("auth"), '{"a":1}');
  await store.delete("auth");
  assert.deepEqual(area.items, {});
  area.items["linkpay:auth"] = { not: "text" };
  await assert.rejects(store.get("auth"), { code: "STORAGE_ERROR", message: /corrupt value under linkpay:auth/ });
  assert.deepEqual(area.items["linkpay:auth"], { not: "text" });
});

test("chrome.storage.local and localStorage failures are STORAGE_ERRORs naming the store and the operation", async () => {
  const area = { get: broken("quota"), set: broken("quota"), remove: broken("quota") };
  const chrome = new ChromeStorage(area);
  await assert.rejects(chrome.get("k"), { code: "STORAGE_ERROR", message: "Cannot read chrome.storage.local: quota" });
  await assert.rejects(chrome.set("k", "v"), { code: "STORAGE_ERROR", message: "Cannot write chrome.storage.local: quota" });
  await assert.rejects(chrome.delete("k"), { code: "STORAGE_ERROR", message: "Cannot write chrome.storage.local: quota" });
  const web = new WebStorageStore({ getItem: broken("denied"), setItem: broken("full"), removeItem: broken("denied") });
  await assert.rejects(web.get("k"), { code: "STORAGE_ERROR", message: "Cannot read localStorage: denied" });
  await assert.rejects(web.set("k", "v"), { code: "STORAGE_ERROR", message: "Cannot write localStorage: full" });
  await assert.rejects(web.delete("k"), { code: "STORAGE_ERROR", message: "Cannot write localStorage: denied" });
});

test("localStorage: round trip under the prefix", async () => {
  const ls = webStorage();
  const store = new WebStorageStore(ls, "x:");
  await store.set("auth", "t");
  assert.deepEqual([...ls.items], [["x:auth", "t"]]);
  assert.equal(await store.get("auth"), "t");
  await store.delete("auth");
  assert.equal(await store.get("auth"), null);
});

test("browserStorage picks chrome.storage.local, else localStorage, else memory", () => {
  const g = globalThis;
  try {
    g.chrome = { storage: { local: chromeArea() } };
    assert.ok(browserStorage() instanceof ChromeStorage);
    delete g.chrome;
    Object.defineProperty(g, "localStorage", { value: webStorage(), configurable: true });
    assert.ok(browserStorage() instanceof WebStorageStore);
    Object.defineProperty(g, "localStorage", { get: broken("SecurityError"), configurable: true });
    assert.ok(browserStorage() instanceof MemoryStorage);
  } finally {
    delete g.chrome;
    delete g.localStorage;
  }
});
