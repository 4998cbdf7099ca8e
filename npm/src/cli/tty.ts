/**
 * Terminal extras for a person at the keyboard: a spinner on stderr while polling and a QR code
 * of an approval URL. Never used in agent mode (stdout not a terminal, or `--format` given).
 */

import type { RunEvent } from "../client.js";

export interface Spinner {
  text(message: string): void;
  stop(final?: string): void;
}

const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/** A spinner on stderr (only when stderr is a terminal; otherwise it does nothing). */
export function spinner(message: string, stream: NodeJS.WriteStream = process.stderr): Spinner {
  if (!stream.isTTY) return { text() {}, stop() {} };
  let current = message;
  let frame = 0;
  const draw = () => stream.write(`\r\x1b[2K${FRAMES[frame++ % FRAMES.length]} ${current}`);
  draw();
  const timer = setInterval(draw, 80);
  timer.unref();
  return {
    text(m) {
      current = m;
    },
    stop(final) {
      clearInterval(timer);
      stream.write(`\r\x1b[2K${final === undefined ? "" : `${final}\n`}`);
    },
  };
}

/** A QR code of `url` for the terminal (half-block characters), or "" if it cannot be drawn. */
export async function qr(url: string): Promise<string> {
  try {
    const { default: QRCode } = await import("qrcode");
    return await QRCode.toString(url, { type: "terminal", small: true, errorCorrectionLevel: "L" });
  } catch {
    return "";
  }
}

/** What a person at a terminal sees of a command's events: the approval URL with its QR code,
 * a spinner while it waits. */
export function terminalEvents(tty: boolean): (event: RunEvent) => void {
  let waiting: Spinner | undefined;
  return (event) => {
    if (event.type === "approval") {
      if (!tty) return void process.stderr.write(`\n${event.label}:\n  ${event.url}\n\n`);
      void qr(event.url).then((code) => process.stderr.write(`\n${event.label}:\n  ${event.url}\n\n${code}\n`));
    } else if (event.type === "waiting" && tty) {
      waiting = spinner(event.message);
    } else if (event.type === "waited" && waiting) {
      waiting.stop(event.ok ? "✓ done" : "✗ failed");
      waiting = undefined;
    }
  };
}
