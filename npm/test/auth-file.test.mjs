// The credential file's edges (issue 17 #13): a mode others can read is warned about once and
// fixed, a symbolic link is written through to its target, stale temp files a killed process
// left (which can hold a device code or a card) are removed on the next write, and writers of
// different keys at once do not undo each other.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, rmSync, symlinkSync, lstatSync, statSync, readdirSync, chmodSync, existsSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { FileStorage } from "../dist/index.js";
import { writeSecretFile } from "../dist/host/secret-file.js";

const BIN = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "cli", "linkpay.cjs");
let root;
let n = 0;
const fresh = () => {
  const d = join(root, `case-${++n}`);
  mkdirSync(d, { recursive: true });
  return d;
};
/** The pid of a process that has exited. */
function deadPid() {
  return spawnSync(process.execPath, ["-e", ""]).pid;
}
const SESSION = { auth: { access_token: "lsat_abc", refresh_token: "lsrt_abc", token_type: "Bearer", expires_in: 3600, expires_at: Date.now() + 3_600_000 } };

before(() => {
  root = mkdtempSync(join(tmpdir(), "linkpay-authfile-"));
});
after(() => rmSync(root, { recursive: true, force: true }));

describe("credential file mode", () => {
  test("a 0644 file is warned about once and set to 0600", async () => {
    const file = join(fresh(), "auth.json");
    writeFileSync(file, JSON.stringify(SESSION));
    chmodSync(file, 0o644);
    const warnings = [];
    const storage = new FileStorage(file, { onWarning: (m) => warnings.push(m) });
    assert.equal(JSON.parse(await storage.get("auth")).access_token, "lsat_abc", "still used");
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /readable by others \(mode 0644\); its mode is now 0600/);
    chmodSync(file, 0o640);
    await storage.get("auth");
    assert.equal(warnings.length, 1, "once per file");
    assert.equal(statSync(file).mode & 0o777, 0o600);
  });

  test("the CLI says so on stderr", async () => {
    const d = fresh();
    const file = join(d, "auth.json");
    writeFileSync(file, JSON.stringify(SESSION));
    chmodSync(file, 0o644);
    const r = await new Promise((resolve) =>
      execFile(process.execPath, [BIN, "auth", "status", "--format", "json"], { env: { PATH: process.env.PATH, HOME: d, LINK_AUTH_FILE: file, NO_UPDATE_NOTIFIER: "1" } }, (err, stdout, stderr) =>
        resolve({ err, stdout, stderr }),
      ),
    );
    assert.equal(r.err, null, r.stderr);
    assert.equal([].concat(JSON.parse(r.stdout)).at(-1).authenticated, true);
    assert.equal(r.stderr.match(/warning: Credential file .* was readable by others \(mode 0644\); its mode is now 0600\./g)?.length, 1, r.stderr);
    assert.equal(statSync(file).mode & 0o777, 0o600);
  });
});

describe("symbolic links", () => {
  test("a write goes through the link to its target; the link stays", async () => {
    const d = fresh();
    mkdirSync(join(d, "real"));
    const target = join(d, "real", "auth.json");
    writeFileSync(target, JSON.stringify(SESSION), { mode: 0o600 });
    const link = join(d, "auth.json");
    symlinkSync(join("real", "auth.json"), link);
    const storage = new FileStorage(link);
    await storage.set("auth", JSON.stringify({ ...SESSION.auth, refresh_token: "lsrt_new" }));
    assert.ok(lstatSync(link).isSymbolicLink());
    assert.equal(JSON.parse(readFileSync(target, "utf8")).auth.refresh_token, "lsrt_new");
    assert.equal(statSync(target).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(d).sort(), ["auth.json", "real"], "no temp next to the link");
    assert.deepEqual(readdirSync(join(d, "real")), ["auth.json"], "temp renamed over the target");
    // Logout through the link removes the secrets (the target).
    await storage.delete("auth");
    assert.equal(existsSync(target), false);
  });
});

describe("stale temp files", () => {
  test("the credential file's next write removes ours that a dead or old process left", async () => {
    const d = fresh();
    const file = join(d, "auth.json");
    const dead = join(d, `auth.json.${deadPid()}.0123456789ab.tmp`);
    const old = join(d, `auth.json.${process.pid}.ba9876543210.tmp`);
    const live = join(d, `auth.json.${process.pid}.aaaaaaaaaaaa.tmp`);
    const foreign = join(d, "auth.json.backup.tmp");
    for (const f of [dead, old, live, foreign]) writeFileSync(f, '{"pendingDeviceAuth":{"device_code":"dc_secret"}}', { mode: 0o600 });
    const longAgo = new Date(Date.now() - 60 * 60 * 1000);
    utimesSync(old, longAgo, longAgo);
    await new FileStorage(file).set("auth", JSON.stringify(SESSION.auth));
    assert.deepEqual(readdirSync(d).sort(), ["auth.json", "auth.json.backup.tmp", `auth.json.${process.pid}.aaaaaaaaaaaa.tmp`].sort());
    assert.equal(statSync(file).mode & 0o777, 0o600);
  });

  test("the card file writer removes its own stale temp files too", async () => {
    const d = fresh();
    const card = join(d, "card.json");
    const dead = join(d, `.card.json.${deadPid()}.0123456789ab.tmp`);
    writeFileSync(dead, '{"number":"4242424242424242","cvc":"123"}', { mode: 0o600 });
    await writeSecretFile(card, '{"number":"4000000000000002"}', false);
    assert.deepEqual(readdirSync(d), ["card.json"]);
    assert.equal(statSync(card).mode & 0o777, 0o600);
  });
});

describe("concurrent writers", () => {
  test("20 writers of different keys (as 20 processes) keep every key", async () => {
    const file = join(fresh(), "auth.json");
    await Promise.all(Array.from({ length: 20 }, (_, i) => new FileStorage(file).set(`k${i}`, JSON.stringify(i))));
    const data = JSON.parse(readFileSync(file, "utf8"));
    assert.deepEqual(Object.keys(data).sort(), Array.from({ length: 20 }, (_, i) => `k${i}`).sort());
    assert.equal(existsSync(`${file}.lock`), false);
  });
});
