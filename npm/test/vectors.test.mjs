// The shared vectors (tests/vectors/*.json) through the built npm package (wasm).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as linkpay from "../dist/index.js";

const dir = fileURLToPath(new URL("../../tests/vectors/", import.meta.url));

/** `expected` ⊆ `actual`: objects by key, arrays element-wise with equal length. */
function matches(expected, actual) {
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && expected.length === actual.length && expected.every((e, i) => matches(e, actual[i]));
  }
  if (expected && typeof expected === "object") {
    return !!actual && typeof actual === "object" && !Array.isArray(actual) &&
      Object.entries(expected).every(([k, v]) => Object.hasOwn(actual, k) && matches(v, actual[k]));
  }
  return Object.is(expected, actual) || expected === actual;
}

function check(c, run) {
  if ("ok" in c || "okMatch" in c) {
    const actual = run();
    if ("ok" in c) assert.deepStrictEqual(actual, c.ok);
    else assert.ok(matches(c.okMatch, actual), `expected to match ${JSON.stringify(c.okMatch)}\n got ${JSON.stringify(actual)}`);
    return;
  }
  assert.ok(c.error, "case has neither ok, okMatch nor error");
  let err;
  try {
    const got = run();
    assert.fail(`expected error ${JSON.stringify(c.error)}, got ${JSON.stringify(got)}`);
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    err = e;
  }
  assert.ok(err instanceof Error, "throws an Error");
  assert.equal(err.code, c.error.code, `code of ${err.message}`);
  if (c.error.messageContains) assert.ok(err.message.includes(c.error.messageContains), `message ${err.message}`);
  if (c.error.fieldErrors) {
    const got = (err.fieldErrors ?? []).map((f) => f.path).sort();
    assert.deepStrictEqual(got, c.error.fieldErrors.map((f) => f.path).sort());
    for (const f of c.error.fieldErrors) {
      if (f.message !== undefined) {
        assert.ok(err.fieldErrors.some((g) => g.path === f.path && g.message === f.message), `field error ${f.path}: ${f.message}`);
      }
    }
  }
}

// commands.json is steps against a sandbox, run by commands.test.mjs.
for (const file of readdirSync(dir).filter((f) => f.endsWith(".json") && f !== "commands.json").sort()) {
  const doc = JSON.parse(readFileSync(dir + file, "utf8"));
  test(`vectors: ${file}`, async (t) => {
    for (const c of doc.cases) {
      const fn = c.function ?? doc.function;
      await t.test(c.name, () => {
        assert.equal(typeof linkpay[fn], "function", `linkpay exports ${fn}`);
        check(c, () => linkpay[fn](...c.args));
      });
    }
  });
}

test("errors carry a stable code", () => {
  assert.ok(linkpay.errorCodes.includes("VALIDATION_ERROR"));
  assert.ok(linkpay.errorCodes.includes("spend_request_rate_limited"));
});
