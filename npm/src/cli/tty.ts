/**
 * Terminal extras for a person at the keyboard: a spinner on stderr while polling and a QR code
 * of an approval URL. Never used in agent mode (stdout not a terminal, or `--format` given).
 */

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
