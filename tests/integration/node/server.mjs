// server.mjs — spawn a Keel (or $KEEL_BIN) on a free port for a node --test
// file, and check at the end that it exited cleanly with no sanitizer
// report (the same rules as ioredis.test.mjs).
import { before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, openSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

function keelBin() {
  const env = process.env.KEEL_BIN;
  if (env) {
    if (path.isAbsolute(env)) return env;
    const rel = path.join(ROOT, env);
    if (env.includes("/") || existsSync(rel)) return rel;
    return env; // a name looked up on PATH, e.g. redis-server
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

function pingOnce(port) {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host: "127.0.0.1" });
    let buf = "";
    const done = (ok) => { sock.destroy(); resolve(ok); };
    sock.setTimeout(500, () => done(false));
    sock.on("error", () => done(false));
    sock.on("data", (d) => { buf += d; if (buf.includes("\r\n")) done(buf === "+PONG\r\n"); });
    sock.on("connect", () => sock.write("*1\r\n$4\r\nPING\r\n"));
  });
}

const SANITIZER = ["ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"];
let server, workdir, stderrPath, exited = null;
export let port;

before(async () => {
  const bin = keelBin();
  port = await freePort();
  workdir = mkdtempSync(path.join(os.tmpdir(), "keel-node-"));
  stderrPath = path.join(workdir, "stderr.log");
  const args = ["--port", String(port), "--bind", "127.0.0.1"];
  // Every listener on a port of its own: no HTTP port here (the default one
  // may belong to a server started with scripts/run).
  if (path.basename(bin).startsWith("redis-server")) args.push("--save", "", "--appendonly", "no");
  else args.push("--http-port", "0");
  const env = {
    ASAN_OPTIONS: "halt_on_error=1:abort_on_error=1:detect_leaks=1",
    UBSAN_OPTIONS: "halt_on_error=1:abort_on_error=1:print_stacktrace=1",
    ...process.env,
  };
  server = spawn(bin, args, {
    cwd: workdir, env, stdio: ["ignore", "ignore", openSync(stderrPath, "a")],
  });
  server.on("exit", (code, signal) => { exited = { code, signal }; });
  const deadline = Date.now() + 10000;
  while (Date.now() < deadline) {
    if (exited) break;
    if (await pingOnce(port)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`server did not answer PING (exit ${JSON.stringify(exited)}):\n` +
    readFileSync(stderrPath, "utf8").slice(-4000));
});

after(async () => {
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

export function useServer() {
  return () => port;
}
