// ioredis against a spawned Keel, with ioredis's default options (it sends
// CLIENT SETINFO, ignoring errors, then INFO as its ready check).
// Binary: $KEEL_BIN (relative to the repo root), else build-test/keel, else build/keel.
import { test } from "node:test";
import assert from "node:assert/strict";
import Redis from "ioredis";
import { isRedis, pingOnce, useServer } from "./keel_spawn.mjs";

const server = useServer();

async function connect(opts = {}) {
  const client = new Redis({ port: server().port, host: "127.0.0.1", lazyConnect: true,
    maxRetriesPerRequest: 1, retryStrategy: () => null, ...opts });
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
  assert.ok(await pingOnce(server().port));
});

test("the server listens on no default port (a scripts/run server may hold them)", async () => {
  const r = await connect();
  const isKeel = !isRedis();
  const [, p] = await r.config("GET", "port");
  assert.equal(Number(p), server().port);
  if (isKeel) assert.deepEqual(await r.config("GET", "http-port"), ["http-port", "0"]);
  await r.quit();
});
