// Differential test: linkpay's MPP challenge decoder (wasm) against mppx 0.8.19's
// `Challenge.deserializeList` (the TypeScript reference SDK) on a generated corpus of 10,000
// valid headers and 2,000 invalid ones. On valid input they must agree on every challenge; on
// invalid input every disagreement must be one of the intended ones listed below, with its reason.
import { test } from "node:test";
import assert from "node:assert/strict";
import { buildCredential, decodeChallenges } from "../dist/index.js";
import { rng, validHeader, invalidHeader, MUTATIONS } from "../bench/mpp-corpus.mjs";

// mppx's package exports do not expose Challenge alone; its module needs none of mppx's peers.
const Mppx = await import(new URL("../node_modules/mppx/dist/Challenge.js", import.meta.url));

function mppx(header) {
  try {
    return { ok: Mppx.deserializeList(header) };
  } catch (e) {
    return { error: e };
  }
}

const FIELDS = ["id", "realm", "method", "intent", "description", "expires", "digest", "opaque"];

function sameChallenge(ours, theirs) {
  for (const f of FIELDS) assert.equal(ours[f], theirs[f], f);
  assert.deepEqual(ours.request_json, theirs.request);
}

test("valid corpus: linkpay and mppx agree on all 10,000 headers", () => {
  const r = rng(2026);
  let challenges = 0;
  for (let i = 0; i < 10_000; i++) {
    const { header, expect } = validHeader(r);
    const ours = decodeChallenges(header);
    const theirs = mppx(header);
    assert.ok(theirs.ok, `mppx rejected a valid header #${i}: ${theirs.error?.message}\n${header}`);
    assert.equal(ours.length, theirs.ok.length, `challenge count #${i}\n${header}`);
    ours.forEach((o, k) => {
      assert.ok(o.ok, `linkpay rejected challenge ${k} of #${i}: ${o.error?.message}\n${header}`);
      sameChallenge(o.challenge, theirs.ok[k]);
      sameChallenge(o.challenge, { ...expect[k], request: expect[k].request });
      challenges++;
    });
  }
  assert.ok(challenges >= 19_000, `${challenges} challenges compared`);
});

/**
 * Where linkpay and mppx deliberately differ on invalid input (mpp.md §1, §4, §6). Any other
 * disagreement fails the test.
 */
const INTENDED = {
  uppercase_method:
    "mppx rejects the whole header when one challenge is malformed (all-or-nothing); linkpay returns one result per challenge, so the valid challenge after it is still found",
  duplicate_param: "per-challenge results (as above)",
  unterminated_quote: "both reject the challenge; an unterminated quote swallows the rest of the header, so neither parser can find a challenge after it",
  missing_request: "per-challenge results",
  empty_id: "per-challenge results",
  not_json: "per-challenge results",
  json_array: "per-challenge results",
  huge_request: "per-challenge results",
  bad_base64_char:
    "ox 0.14.33 (mppx's base64) decodes characters outside both alphabets into garbage instead of failing; linkpay rejects them (conformance base64url.json: `not-valid!!!` must fail)",
  length_1_mod_4: "ox decodes a base64 length ≡ 1 (mod 4) by dropping bits; linkpay rejects it as no valid base64 has that length",
  invalid_utf8: "ox replaces invalid UTF-8 with U+FFFD; linkpay rejects it (conformance base64url.json: `_w` must fail)",
  lone_surrogate: "mppx keeps a lone \\uD800 in the string (not valid Unicode); linkpay rejects it (a Rust String cannot hold it, and silently replacing it would change what the person sees)",
  bad_expires: "mppx 0.8.19 does not validate `expires` on deserialize (it fails only when paying); linkpay rejects a non-RFC 3339 `expires` at decode, so an agent never shows a challenge it cannot pay",
  header_param:
    "both parse it, but mppx 0.8.19 drops the `header` param (its schema strips it) and would send the credential in `Authorization`; linkpay keeps it and, following draft-02, refuses to pay (MPP_UNSUPPORTED_CHALLENGE) when it is not `Payment-Authorization`",
};

test("invalid corpus: every disagreement with mppx is an intended one", () => {
  assert.deepEqual(Object.keys(INTENDED).sort(), Object.keys(MUTATIONS).sort(), "every mutation has a stated relationship");
  const r = rng(4040);
  const disagreements = {};
  for (let i = 0; i < 2_000; i++) {
    const { kind, header, good } = invalidHeader(r);
    const ours = decodeChallenges(header);
    const theirs = mppx(header);
    if (kind === "header_param") {
      assert.ok(ours[0].ok && ours[0].challenge.header === "X-Other", "linkpay keeps the header param");
      assert.ok(theirs.ok && !("header" in theirs.ok[0]), "mppx drops it");
      assert.throws(() => buildCredential(ours[0].challenge, { spt: "spt_1" }, undefined, 0), (e) => e.code === "MPP_UNSUPPORTED_CHALLENGE");
      disagreements[kind] = (disagreements[kind] ?? 0) + 1;
      continue;
    }
    // linkpay: a rejected challenge always carries an MPP_* code.
    for (const o of ours) if (!o.ok) assert.match(o.error.code, /^MPP_/, `${kind}: ${o.error.code}`);
    // An unterminated quote runs to the end of the header: nothing after it can be recovered.
    let foundGood = false;
    if (good && kind !== "unterminated_quote") {
      foundGood = ours.some((o) => o.ok && o.challenge.id === good.id);
      assert.ok(foundGood, `${kind}: the valid challenge after the bad one is still found\n${header}`);
    }
    const oursAcceptsBad = ours[0]?.ok === true && ours[0].challenge.id !== good?.id;
    const theirsAccepts = theirs.ok !== undefined;
    const disagree = oursAcceptsBad !== theirsAccepts || (foundGood && !theirsAccepts);
    if (disagree) {
      assert.ok(INTENDED[kind], `unexpected disagreement for ${kind}\n${header}`);
      assert.ok(!oursAcceptsBad || theirsAccepts, `${kind}: linkpay accepted what mppx rejects\n${header}`);
      disagreements[kind] = (disagreements[kind] ?? 0) + 1;
    }
  }
  // Every listed disagreement was actually observed (the list does not go stale).
  for (const kind of ["uppercase_method", "bad_base64_char", "invalid_utf8", "lone_surrogate", "header_param"]) {
    assert.ok(disagreements[kind] > 0, `expected to observe the ${kind} disagreement`);
  }
});
