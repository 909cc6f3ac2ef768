// browser.mjs — what the browser tests share: a headless Chromium (Debian's
// /usr/bin/chromium, or $CHROMIUM_BIN) driven by playwright-core, in a fresh
// profile with no network besides 127.0.0.1, and the server from the node
// tests' one spawn module (tests/integration/node/keel_spawn.mjs).
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
