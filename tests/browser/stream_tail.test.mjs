// Issue 14: GET /_stream/<key> tails a stream as Server-Sent Events. An
// EventSource in headless Chromium reads the entries, its connection is cut
// (CLIENT KILL of the HTTP client), entries are added while it is away, and
// the browser's own reconnection (Last-Event-ID) resumes with no entry lost
// or repeated. Binary: $KEEL_BIN, else build-test/keel, else build/keel.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, openSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const CHROMIUM = process.env.CHROMIUM_BIN || "/usr/bin/chromium";

function keelBin() {
  const env = process.env.KEEL_BIN;
  if (env) {
    if (path.isAbsolute(env)) return env;
    const rel = path.join(ROOT, env);
    if (env.includes("/") || existsSync(rel)) return rel;
    return env;
  }
  for (const cand of ["build-test/keel", "build/keel"]) {
    const p = path.join(ROOT, cand);
    if (existsSync(p)) return p;
  }
  throw new Error("no Keel binary: set KEEL_BIN or build build-test/keel or build/keel");
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port) {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host: "127.0.0.1" });
    sock.setTimeout(500, () => { sock.destroy(); resolve(false); });
    sock.on("error", () => resolve(false));
    sock.on("connect", () => { sock.destroy(); resolve(true); });
  });
}

const SANITIZER = ["ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"];
let server, port, http, workdir, stderrPath, exited = null, context, page;
const pageErrors = [];

before(async () => {
  const bin = keelBin();
  port = await freePort();
  http = await freePort();
  workdir = mkdtempSync(path.join(os.tmpdir(), "keel-browser-tail-"));
  stderrPath = path.join(workdir, "stderr.log");
  const env = {
    ASAN_OPTIONS: "halt_on_error=1:abort_on_error=1:detect_leaks=1",
    UBSAN_OPTIONS: "halt_on_error=1:abort_on_error=1:print_stacktrace=1",
    ...process.env,
  };
  server = spawn(bin, ["--port", String(port), "--bind", "127.0.0.1", "--http-port", String(http)], {
    cwd: workdir, env, stdio: ["ignore", "ignore", openSync(stderrPath, "a")],
  });
  server.on("exit", (code, signal) => { exited = { code, signal }; });
  const deadline = Date.now() + 10000;
  let up = false;
  while (Date.now() < deadline && !exited) {
    if (await canConnect(http)) { up = true; break; }
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!up) {
    throw new Error(`Keel's HTTP port did not open (exit ${JSON.stringify(exited)}):\n` +
      readFileSync(stderrPath, "utf8").slice(-4000));
  }
  // A fresh profile each run; no network besides 127.0.0.1.
  context = await chromium.launchPersistentContext(path.join(workdir, "profile"), {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  page = context.pages()[0] || await context.newPage();
  page.on("pageerror", (e) => pageErrors.push(String(e)));
});

after(async () => {
  if (context) await context.close();
  if (!server) return;
  if (!exited) {
    server.kill("SIGTERM");
    const t0 = Date.now();
    while (!exited && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 20));
    if (!exited) {
      server.kill("SIGKILL");
      while (!exited) await new Promise((r) => setTimeout(r, 20));
      throw new Error("server ignored SIGTERM for 5 s");
    }
  }
  const err = existsSync(stderrPath) ? readFileSync(stderrPath, "utf8") : "";
  rmSync(workdir, { recursive: true, force: true });
  assert.ok(!SANITIZER.some((m) => err.includes(m)), "sanitizer report:\n" + err.slice(-6000));
  assert.deepEqual(exited, { code: 0, signal: null }, "server exit status; stderr:\n" + err.slice(-2000));
});


function redisCli(...args) {
  return new Promise((resolve, reject) => {
    execFile("redis-cli", ["-p", String(port), ...args], (err, stdout) =>
      err ? reject(err) : resolve(stdout.trim()));
  });
}

async function tailClientId() {
  const list = await redisCli("CLIENT", "LIST");
  const line = list.split("\n").find((l) => l.includes(`laddr=127.0.0.1:${http} `) &&
    l.includes("cmd=xread"));
  return line ? line.match(/^id=(\d+)/)[1] : null;
}

test("an EventSource on /_stream/<key> resumes after a cut with no gap and no repeat", async () => {
  await page.goto(`http://127.0.0.1:${http}/_console`);
  for (let i = 1; i <= 3; i++) await redisCli("XADD", "feed", `${i}-1`, "n", String(i));
  await page.evaluate(() => {
    window.got = [];
    window.opens = 0;
    window.es = new EventSource("/_stream/feed?from=0");
    window.es.onopen = () => { window.opens++; };
    window.es.onmessage = (e) => window.got.push([e.lastEventId, JSON.parse(e.data)]);
  });
  await page.waitForFunction(() => window.got.length >= 3, null, { timeout: 10000 });
  await redisCli("XADD", "feed", "4-1", "n", "4", "extra", "x");
  await page.waitForFunction(() => window.got.length >= 4, null, { timeout: 10000 });

  // cut the connection server-side; add entries while the browser is away
  let id = null;
  const deadline = Date.now() + 5000;
  while (!id && Date.now() < deadline) {
    id = await tailClientId();
    if (!id) await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(id, "the tail's XREAD is visible in CLIENT LIST");
  assert.equal(await redisCli("CLIENT", "KILL", "ID", id), "1");
  for (let i = 5; i <= 8; i++) await redisCli("XADD", "feed", `${i}-1`, "n", String(i));
  await page.waitForFunction(() => window.got.length >= 8, null, { timeout: 15000 });
  await redisCli("XADD", "feed", "9-1", "n", "9");
  await page.waitForFunction(() => window.got.length >= 9, null, { timeout: 10000 });
  await new Promise((r) => setTimeout(r, 300));
  const got = await page.evaluate(() => window.got);
  assert.deepEqual(got.map((g) => g[0]),
    ["1-1", "2-1", "3-1", "4-1", "5-1", "6-1", "7-1", "8-1", "9-1"]);
  assert.deepEqual(got[3][1], { n: "4", extra: "x" });
  assert.ok(await page.evaluate(() => window.opens) >= 2, "the EventSource reconnected");
  await page.evaluate(() => window.es.close());
  assert.deepEqual(pageErrors, []);
});
