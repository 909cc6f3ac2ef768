// ioredis against a spawned Keel, with ioredis's default options (it sends
// CLIENT SETINFO, ignoring errors, then INFO as its ready check).
// Binary: $KEEL_BIN (relative to the repo root), else build-test/keel, else build/keel.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, openSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Redis from "ioredis";

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
let server, port, workdir, stderrPath, exited = null;

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

async function connect(opts = {}) {
  const client = new Redis({ port, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 1,
    retryStrategy: () => null, ...opts });
  const errors = [];
  client.on("error", (e) => errors.push(e));
  try {
    await client.connect(); // resolves once ready (after the INFO ready check)
  } catch (e) {
    throw new Error(`${e.message}; client errors: ${errors.map((x) => x.message).join(" | ")}`);
  }
  client.testErrors = errors;
  return client;
}

test("connects with default options and becomes ready", async () => {
  const r = await connect();
  assert.equal(r.status, "ready");
  assert.equal(await r.ping(), "PONG");
  assert.deepEqual(r.testErrors, []);
  await r.quit();
});

test("set / get / incr / mget", async () => {
  const r = await connect();
  await r.flushall();
  assert.equal(await r.set("k", "v"), "OK");
  assert.equal(await r.get("k"), "v");
  assert.equal(await r.get("missing"), null);
  assert.equal(await r.incr("n"), 1);
  assert.equal(await r.incrby("n", 41), 42);
  assert.equal(await r.set("k2", "v2", "EX", 100), "OK");
  assert.equal(await r.ttl("k2"), 100);
  assert.deepEqual(await r.mget("k", "missing", "k2", "n"), ["v", null, "v2", "42"]);
  assert.equal(await r.set("k", "x", "NX"), null);
  await r.quit();
});

test("pipeline", async () => {
  const r = await connect();
  await r.flushall();
  const res = await r.pipeline()
    .set("a", "1").incr("a").get("a").mget("a", "b").set("b", "2").mget("a", "b").del("a", "b")
    .exec();
  assert.deepEqual(res, [
    [null, "OK"], [null, 2], [null, "2"], [null, ["2", null]], [null, "OK"],
    [null, ["2", "2"]], [null, 2],
  ]);
  const p = r.pipeline();
  for (let i = 0; i < 1000; i++) p.incr("ctr");
  const many = await p.exec();
  assert.equal(many.length, 1000);
  assert.deepEqual(many[999], [null, 1000]);
  await r.quit();
});

test("errors are reported per command", async () => {
  const r = await connect();
  await r.flushall();
  await r.set("s", "abc");
  await assert.rejects(r.incr("s"), /ERR value is not an integer or out of range/);
  const res = await r.pipeline().incr("s").set("t", "1").exec();
  assert.match(res[0][0].message, /ERR value is not an integer or out of range/);
  assert.deepEqual(res[1], [null, "OK"]);
  assert.equal(r.status, "ready");
  await r.quit();
});

test("binary values round-trip", async () => {
  const r = await connect();
  const buf = Buffer.from([0, 1, 2, 13, 10, 255, 0]);
  await r.set(Buffer.from("bin\x00key"), buf);
  assert.deepEqual(await r.getBuffer(Buffer.from("bin\x00key")), buf);
  const big = Buffer.alloc(1 << 20, 0x61);
  await r.set("big", big);
  assert.equal(await r.strlen("big"), 1 << 20);
  assert.deepEqual(await r.getBuffer("big"), big);
  await r.quit();
});

test("select and a named connection", async () => {
  const r = await connect({ db: 3, connectionName: "node-test" });
  await r.set("indb3", "yes");
  assert.equal(await r.client("GETNAME"), "node-test");
  const r0 = await connect();
  assert.equal(await r0.get("indb3"), null);
  await r0.select(3);
  assert.equal(await r0.get("indb3"), "yes");
  await r.quit();
  await r0.quit();
});

test("disconnect without QUIT leaves the server healthy", async () => {
  const r = await connect();
  r.disconnect();
  assert.ok(await pingOnce(port));
});

test("the server listens on no default port (a scripts/run server may hold them)", async () => {
  const r = await connect();
  const isKeel = !path.basename(keelBin()).startsWith("redis-server");
  const [, p] = await r.config("GET", "port");
  assert.equal(Number(p), port);
  if (isKeel) assert.deepEqual(await r.config("GET", "http-port"), ["http-port", "0"]);
  await r.quit();
});
