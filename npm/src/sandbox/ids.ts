/** Random identifiers, secrets, phrases and test card numbers. */
import { randomBytes, randomInt } from "node:crypto";

// Random bytes are drawn from a pool refilled 64 KiB at a time: one system call per ~2,000
// identifiers instead of one each (the pool is the kernel CSPRNG's output, used once).
const POOL_SIZE = 64 * 1024;
let pool = randomBytes(POOL_SIZE);
let offset = 0;

function take(n: number): Buffer {
  if (offset + n > POOL_SIZE) {
    pool = randomBytes(POOL_SIZE);
    offset = 0;
  }
  const out = pool.subarray(offset, offset + n);
  offset += n;
  return out;
}

/** `prefix` + 24 random base62-ish characters (base64url without `-`/`_`). */
export function randomId(prefix: string, bytes = 18): string {
  return prefix + take(bytes).toString("base64url").replace(/[-_]/g, "x");
}

/** A random secret (access/refresh tokens, device codes): 32 bytes of base64url. */
export function randomSecret(prefix: string): string {
  return prefix + take(32).toString("base64url");
}

// Short, unambiguous, lowercase words for device-flow phrases (the person compares them).
const WORDS = (
  "apple banana cherry grape lemon mango melon olive peach pear plum berry " +
  "amber azure coral ivory jade olive onyx pearl ruby sage slate topaz " +
  "cedar maple willow birch aspen pine oak elm fern moss reed " +
  "river ocean harbor meadow canyon valley summit glacier desert island prairie forest " +
  "falcon otter badger heron lynx robin salmon tiger zebra panda koala bison"
).split(" ");

/** A three-word phrase, `apple-banana-cherry` style. */
export function randomPhrase(): string {
  return [0, 1, 2].map(() => WORDS[randomInt(WORDS.length)]).join("-");
}

/** `count` uniformly random decimal digits (bytes ≥ 250 are skipped, so there is no bias). */
export function randomDigits(count: number): string {
  let out = "";
  while (out.length < count) {
    for (const b of take(count - out.length + 2)) {
      if (b < 250 && out.length < count) out += String(b % 10);
    }
  }
  return out;
}

/** The Luhn check digit for a string of digits. */
export function luhnCheckDigit(payload: string): string {
  let sum = 0;
  for (let i = 0; i < payload.length; i++) {
    let d = payload.charCodeAt(payload.length - 1 - i) - 48;
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return String((10 - (sum % 10)) % 10);
}

/** A Luhn-valid 16-digit Visa test number in the `400000` test range. */
export function randomTestCardNumber(): string {
  const payload = "400000" + randomDigits(9);
  return payload + luhnCheckDigit(payload);
}
