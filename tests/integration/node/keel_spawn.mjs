// keel_spawn.mjs — the one way node and browser tests start a server: Keel
// (or $KEEL_BIN, which may be redis-server for a comparison run) on free
// 127.0.0.1 ports, ready when it answers PING on its RESP port, stopped by
// PID with SIGTERM and checked for a clean exit and no sanitizer report.
// Binary: $KEEL_BIN (relative to the repo root), else build-test/keel, else build/keel.
import { before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, openSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

export function keelBin() {
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

export function isRedis(bin = keelBin()) {
  return path.basename(bin).startsWith("redis-server");
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// Answers PING (a server with a password answers -NOAUTH: up too).
export function pingOnce(port) {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host: "127.0.0.1" });
    let buf = "";
    const done = (ok) => { sock.destroy(); resolve(ok); };
    sock.setTimeout(500, () => done(false));
    sock.on("error", () => done(false));
    sock.on("data", (d) => { buf += d; if (buf.includes("\r\n")) done(buf === "+PONG\r\n" || buf.startsWith("-NOAUTH")); });
    sock.on("connect", () => sock.write("*1\r\n$4\r\nPING\r\n"));
  });
}

const SANITIZER = ["ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"];

// Starts a server. opts.args: extra arguments, or a function (workdir) =>
// arguments (for files made in the server's folder); opts.http: give Keel an
// HTTP port of its own (else none: the default may belong to scripts/run);
// opts.workdir: use this folder (opts.keep: stop() leaves it, for a
// restart); opts.port / opts.httpPort: those ports (a restart on the same
// ones). Resolves to { port, httpPort, workdir, pid, stop() }.
export async function startKeel(opts = {}) {
  const bin = keelBin();
  const port = opts.port || await freePort();
  const httpPort = opts.http && !isRedis(bin) ? opts.httpPort || await freePort() : 0;
  const workdir = opts.workdir || mkdtempSync(path.join(os.tmpdir(), "keel-node-"));
  const stderrPath = path.join(workdir, "stderr.log");
  const extra = typeof opts.args === "function" ? opts.args(workdir) : (opts.args || []);
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", ...extra];
  if (isRedis(bin)) args.push("--appendonly", "no");
  else args.push("--http-port", String(httpPort));
  const env = {
    ASAN_OPTIONS: "halt_on_error=1:abort_on_error=1:detect_leaks=1",
    UBSAN_OPTIONS: "halt_on_error=1:abort_on_error=1:print_stacktrace=1",
    ...process.env,
  };
  const server = spawn(bin, args, {
    cwd: workdir, env, stdio: ["ignore", "ignore", openSync(stderrPath, "a")],
  });
  let exited = null;
  server.on("exit", (code, signal) => { exited = { code, signal }; });
  const deadline = Date.now() + 10000;
  let up = false;
  while (Date.now() < deadline && !exited) {
    if (await pingOnce(port)) { up = true; break; }
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!up) {
    if (!exited) server.kill("SIGKILL");
    throw new Error(`server did not answer PING (exit ${JSON.stringify(exited)}):\n` +
      readFileSync(stderrPath, "utf8").slice(-4000));
  }
  return {
    port, httpPort, workdir, pid: server.pid,
    async stop() {
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
      if (!opts.keep) rmSync(workdir, { recursive: true, force: true });
      assert.ok(!SANITIZER.some((m) => err.includes(m)), "sanitizer report:\n" + err.slice(-6000));
      assert.deepEqual(exited, { code: 0, signal: null }, "exit status; stderr:\n" + err.slice(-2000));
    },
  };
}

// One server for a whole test file: started before its tests, stopped (and
// checked) after them. Returns a function giving the running server.
export function useServer(opts = {}) {
  let keel = null;
  before(async () => { keel = await startKeel(opts); });
  after(async () => { if (keel) await keel.stop(); });
  return () => keel;
}
