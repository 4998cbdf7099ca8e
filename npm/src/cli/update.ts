/**
 * The update notice's effects (what to do is the core's, `src/update.rs`): read the cache file
 * (`update-check.json`, next to the credential file) and the environment, print the core's
 * notice on stderr, and when the core says so start a detached `linkpay --update-check` that
 * asks the registry and writes the cache for the next run. No command waits for the registry,
 * and nothing here can fail a command: every error is dropped. Loaded only by the runs that
 * check (a person at a terminal, `auth status`, the MCP `auth_status` tool).
 */
import { dirname, join } from "node:path";
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { authFilePath, updateCheck, updatePlan, updateRefreshed, updateRegistryUrl, type JsonObject } from "../index.js";
import { tempPath } from "../host/temp.js";

/** The variables the core reads (`src/update.rs`). */
function env(): JsonObject {
  const out: JsonObject = {};
  for (const key of ["NO_UPDATE_NOTIFIER", "CI", "npm_config_update_notifier", "LINKPAY_UPDATE_REGISTRY", "npm_config_registry"]) {
    const value = process.env[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

/** The cache file: next to the credential file (`--auth`, `LINK_AUTH_FILE` or the default). */
export function cacheFile(auth?: string): string {
  return join(dirname(auth ?? authFilePath()), "update-check.json");
}

function readCache(file: string): string | null {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return null;
  }
}

/** Atomically (temp file + rename), 0600; a failed write leaves no temp file behind. */
function writeCache(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const temp = tempPath(file, true);
  try {
    writeFileSync(temp, `${text}\n`, { mode: 0o600 });
    renameSync(temp, file);
  } catch (e) {
    rmSync(temp, { force: true });
    throw e;
  }
}

/**
 * One run's update check: the `update` that `auth status` carries (if a newer version is
 * cached), the notice printed on stderr when `notice` (a person at a terminal), and a detached
 * refresh started when the cache is due — at the process's exit when `atExit` (the CLI: the
 * spawn, a few ms once a day, comes after the output), else at once (the MCP server). Never
 * throws.
 */
export function checkForUpdate(opts: { auth?: string; notice: boolean; atExit?: boolean }): JsonObject | undefined {
  try {
    const file = cacheFile(opts.auth);
    const decision = updateCheck({ env: env(), cache: readCache(file), now_ms: Date.now(), notice: opts.notice });
    if (typeof decision.notice === "string") process.stderr.write(`${decision.notice}\n`);
    if (decision.refresh === true && typeof decision.schedule === "string") {
      writeCache(file, decision.schedule);
      // node:child_process (with net and dgram) loaded only when a refresh is due, not at each
      // start; resolved long before the exit it may wait for.
      void import("node:child_process").then(({ spawn }) => {
        if (opts.atExit) process.once("exit", () => startRefresh(spawn, opts.auth));
        else startRefresh(spawn, opts.auth);
      });
    }
    return decision.update !== null && typeof decision.update === "object" && !Array.isArray(decision.update) ? decision.update : undefined;
  } catch {
    return undefined;
  }
}

/** `linkpay --update-check [--auth f]`, detached, its output nowhere. */
function startRefresh(spawn: typeof import("node:child_process").spawn, auth?: string): void {
  const entry = process.argv[1];
  if (entry === undefined) return;
  try {
    const child = spawn(process.execPath, [...process.execArgv, entry, "--update-check", ...(auth !== undefined ? ["--auth", auth] : [])], {
      detached: true,
      stdio: "ignore",
    });
    child.once("error", () => undefined);
    child.unref();
  } catch {
    // Silent, like every part of the check.
  }
}

/** The detached refresh: the registry's answer, as the core reads it, into the cache file. A
 * registry that is down, slow (10 s) or answers garbage leaves the cache as it is (the core
 * retries in an hour). */
export async function refresh(auth?: string): Promise<void> {
  try {
    const answer = await fetch(updateRegistryUrl(env()), {
      headers: { accept: "application/json" },
      signal: AbortSignal.timeout(10_000),
    });
    if (!answer.ok) return;
    const record = updateRefreshed(await answer.text(), Date.now());
    if (record !== null) writeCache(cacheFile(auth), record);
  } catch {
    // Silent: an update check never fails anything.
  }
}

/** `linkpay --update`: the versions and the update command, which is run (npm's output on
 * stderr, so stdout stays the result). Resolves the result; rejects when the command fails. */
export async function runUpdate(auth?: string): Promise<JsonObject> {
  const plan = updatePlan(readCache(cacheFile(auth)));
  const [command, ...args] = String(plan.update_command).split(" ");
  const { spawn } = await import("node:child_process");
  const code = await new Promise<number | string>((resolve) => {
    const child = spawn(command, args, { stdio: ["ignore", 2, 2], shell: process.platform === "win32" });
    child.once("error", (e) => resolve(e.message));
    child.once("exit", (status, signal) => resolve(status ?? signal ?? 1));
  });
  if (code !== 0) {
    const { codedError } = await import("../host/types.js");
    throw codedError("UNKNOWN", `${String(plan.update_command)} failed (${typeof code === "number" ? `exit ${code}` : code})`);
  }
  return { ...plan, updated: true };
}
