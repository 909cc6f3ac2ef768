// Spawning Keel for node tests that speak HTTP: a free RESP port and a free
// HTTP port, extra config arguments, stop by PID with a sanitizer check.
// Binary: $KEEL_BIN (relative to the repo root), else build-test/keel, else build/keel.
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
  if (env) return path.isAbsolute(env) ? env : path.join(ROOT, env);
  for (const cand of ["build-test/keel", "build/keel"]) {
    const p = path.join(ROOT, cand);
    if (existsSync(p)) return p;
  }
  throw new Error("no Keel binary: set KEEL_BIN or build build-test/keel or build/keel");
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

async function httpUp(port) {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/PING`);
    await r.text();
    return true;
  } catch {
    return false;
  }
}

const SANITIZER = ["ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"];

// Starts Keel; resolves to { port, httpPort, stop() }.
export async function startKeel(extra = []) {
  const port = await freePort(), httpPort = await freePort();
  const workdir = mkdtempSync(path.join(os.tmpdir(), "keel-node-"));
  const stderrPath = path.join(workdir, "stderr.log");
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--http-port", String(httpPort),
    "--save", "", ...extra];
  const env = {
    ASAN_OPTIONS: "halt_on_error=1:abort_on_error=1:detect_leaks=1",
    UBSAN_OPTIONS: "halt_on_error=1:abort_on_error=1:print_stacktrace=1",
    ...process.env,
  };
  const server = spawn(keelBin(), args, {
    cwd: workdir, env, stdio: ["ignore", "ignore", openSync(stderrPath, "a")],
  });
  let exited = null;
  server.on("exit", (code, signal) => { exited = { code, signal }; });
  const deadline = Date.now() + 10000;
  let up = false;
  while (Date.now() < deadline && !exited) {
    if (await httpUp(httpPort)) { up = true; break; }
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!up) {
    server.kill("SIGKILL");
    throw new Error(`Keel did not start (exit ${JSON.stringify(exited)}):\n` +
      readFileSync(stderrPath, "utf8").slice(-4000));
  }
  return {
    port, httpPort,
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
      rmSync(workdir, { recursive: true, force: true });
      assert.ok(!SANITIZER.some((m) => err.includes(m)), "sanitizer report:\n" + err.slice(-6000));
      assert.deepEqual(exited, { code: 0, signal: null }, "exit status; stderr:\n" + err.slice(-2000));
    },
  };
}
