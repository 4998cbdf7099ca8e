// Lays out linkpay's browser entry for the checkout extension: copies npm/dist/browser.js and
// every file it loads (its static imports, transitively, and the `new URL("…", import.meta.url)`
// assets — the web wasm) into <extension>/lib/linkpay/, keeping their relative paths. The
// extension's service worker imports ./lib/linkpay/browser.js.
//
//   node scripts/extension-lib.mjs [extension-dir]   (default: examples/checkout-extension)
//
// `importGraph` is also what npm/test/browser-entry.test.mjs checks for Node built-ins.
import { copyFileSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

const IMPORT = /(?:^|[;\n}])\s*(?:import|export)\s[^'"]*?from\s*["']([^"']+)["']|(?:^|[;\n])\s*import\s*["']([^"']+)["']|\bimport\s*\(\s*["']([^"']+)["']\s*\)/g;
const ASSET = /new URL\(\s*["']([^"']+)["']\s*,\s*import\.meta\.url\s*\)/g;

/**
 * Every module specifier and asset reachable from `entry` (a file path): `{ files, specifiers }`,
 * `files` as absolute paths of the relative imports and assets, `specifiers` every import
 * specifier seen (relative or not) with the file that holds it.
 */
export function importGraph(entry) {
  const files = new Set();
  const specifiers = [];
  const todo = [resolve(entry)];
  while (todo.length > 0) {
    const file = todo.pop();
    if (files.has(file)) continue;
    files.add(file);
    if (!file.endsWith(".js")) continue;
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? m[3];
      specifiers.push({ from: file, spec });
      if (spec.startsWith("./") || spec.startsWith("../")) todo.push(resolve(dirname(file), spec));
    }
    for (const m of text.matchAll(ASSET)) {
      const spec = m[1].startsWith(".") ? m[1] : `./${m[1]}`;
      todo.push(resolve(dirname(file), spec));
    }
  }
  return { files: [...files], specifiers };
}

/** Copies the browser entry's graph from `dist` into `<extensionDir>/lib/linkpay/`. */
export function layOut(extensionDir, dist = join(root, "npm", "dist")) {
  const entry = join(dist, "browser.js");
  const { files } = importGraph(entry);
  const lib = join(extensionDir, "lib", "linkpay");
  rmSync(lib, { recursive: true, force: true });
  for (const file of files) {
    const to = join(lib, relative(dist, file));
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(file, to);
  }
  return files.map((f) => relative(dist, f)).sort();
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = resolve(process.argv[2] ?? join(root, "examples", "checkout-extension"));
  const copied = layOut(dir);
  console.log(`[extension] ${relative(root, join(dir, "lib", "linkpay")) || "."}: ${copied.join(" ")}`);
}
