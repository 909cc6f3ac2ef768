// browser.mjs — what the browser tests share: a headless Chromium (Debian's
// /usr/bin/chromium, or $CHROMIUM_BIN) driven by playwright-core, in a fresh
// profile with no network besides 127.0.0.1, and the server from the node
// tests' one spawn module (tests/integration/node/keel_spawn.mjs).
import { execFile } from "node:child_process";
import path from "node:path";
import { chromium } from "playwright-core";

export { ROOT, startKeel, freePort, keelBin } from "../integration/node/keel_spawn.mjs";

export const CHROMIUM = process.env.CHROMIUM_BIN || "/usr/bin/chromium";
export const CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
  "--no-first-run", "--disable-background-networking", "--disable-component-update",
  "--disable-sync"];

// A persistent context in dir/profile; extra flags appended; env and
// viewport when given.
export async function launchChromium(dir, extraArgs = [], env = undefined, viewport = undefined) {
  return chromium.launchPersistentContext(path.join(dir, "profile"), {
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_FLAGS, ...extraArgs],
    ...(env ? { env } : {}),
    ...(viewport ? { viewport } : {}),
  });
}

// redis-cli against the RESP port; resolves to its trimmed output.
export function redisCli(port, ...args) {
  return new Promise((resolve, reject) => {
    execFile("redis-cli", ["-p", String(port), ...args], (err, stdout) =>
      err ? reject(err) : resolve(stdout.trim()));
  });
}

// The /_console page: type a command line and press Enter.
export async function consoleRun(page, line) {
  await page.fill("#cmd", line);
  await page.press("#cmd", "Enter");
}

// Wait until the element's text contains text.
export async function waitText(page, selector, text) {
  await page.waitForFunction(([sel, t]) => document.querySelector(sel).textContent.includes(t),
    [selector, text], { timeout: 10000 });
}
