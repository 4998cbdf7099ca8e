/**
 * The CLI's standard output, without `process.stdout` where it is not needed: creating that
 * stream for a pipe or a file loads Node's stream machinery (`net`, `stream` and a dozen
 * internal modules, ~4 ms of each start, `node bench/cli-cold.mjs`), and an agent reads the CLI
 * through a pipe. Text is written to fd 1 at once instead, in order; a terminal, or a pipe that
 * is full (`EAGAIN` on a non-blocking fd), gets the stream, and what follows goes to the stream
 * too, so nothing is reordered.
 */
import { fstatSync, writeSync } from "node:fs";

let viaStream = false;

/** Whether fd 1 is a terminal. Only a character device can be one, so a pipe or a file is
 * told apart by `fstat` alone, without the stream. */
export function stdoutIsTty(): boolean {
  try {
    if (!fstatSync(1).isCharacterDevice()) return false;
  } catch {
    return false;
  }
  // A terminal is written through its stream from here on (the spinner and prompts use it).
  viaStream = process.stdout.isTTY === true;
  return viaStream;
}

/** Writes `text` to standard output. A reader that went away (`EPIPE`, `linkpay … | head`)
 * ends the output, as it does for `process.stdout`. */
export function writeStdout(text: string): void {
  let rest: string | Buffer = text;
  if (!viaStream) {
    const bytes = Buffer.from(text, "utf8");
    let done = 0;
    try {
      while (done < bytes.length) done += writeSync(1, bytes, done);
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EPIPE") return;
      if (code !== "EAGAIN") throw e;
      viaStream = true;
      rest = bytes.subarray(done);
    }
  }
  process.stdout.write(rest);
}
