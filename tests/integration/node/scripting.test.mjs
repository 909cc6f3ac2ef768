// Lua scripting through real Node.js libraries against a spawned Keel:
// ioredis defineCommand (EVALSHA with the EVAL fallback), redlock (locks
// acquired, extended and released by scripts) and rate-limiter-flexible
// (its RateLimiterRedis counts points with a script).
import { test } from "node:test";
import assert from "node:assert/strict";
import Redis from "ioredis";
import Redlock from "redlock";
import { RateLimiterRedis } from "rate-limiter-flexible";
import { useServer } from "./keel_spawn.mjs";

const server = useServer();
const serverPort = () => server().port;

async function connect() {
  const client = new Redis({ port: serverPort(), host: "127.0.0.1", lazyConnect: true,
    maxRetriesPerRequest: 1, retryStrategy: () => null });
  await client.connect();
  return client;
}

test("ioredis defineCommand runs a script by EVALSHA, loading it on NOSCRIPT", async () => {
  const r = await connect();
  await r.flushall();
  await r.script("FLUSH");
  r.defineCommand("incrAndGet", {
    numberOfKeys: 1,
    lua: "return redis.call('INCRBY', KEYS[1], ARGV[1])",
  });
  r.defineCommand("echoAll", {
    numberOfKeys: 2,
    lua: "return {KEYS[1], KEYS[2], ARGV[1], redis.call('GET', KEYS[1])}",
  });
  assert.equal(await r.incrAndGet("counter", 5), 5);
  assert.equal(await r.incrAndGet("counter", 2), 7);
  assert.deepEqual(await r.echoAll("counter", "other", "x"), ["counter", "other", "x", "7"]);
  const p = r.pipeline();
  p.incrAndGet("counter", 1);
  p.incrAndGet("counter", 1);
  const res = await p.exec();
  assert.deepEqual(res, [[null, 8], [null, 9]]);
  await assert.rejects(r.eval("return redis.call('INCR', KEYS[1])", 1, "nonint_missing_x")
    .then(() => r.set("s", "abc")).then(() => r.eval("return redis.call('INCR', 's')", 0)),
  /ERR value is not an integer or out of range script:/);
  await r.quit();
});

test("redlock acquires, extends and releases; a held lock is refused", async () => {
  const a = await connect();
  const b = await connect();
  await a.flushall();
  const one = new Redlock([a], { retryCount: 0 });
  const two = new Redlock([b], { retryCount: 0 });
  const lock = await one.acquire(["resource:1"], 5000);
  assert.ok(await a.get("resource:1"));
  await assert.rejects(two.acquire(["resource:1"], 5000));
  const extended = await lock.extend(10000);
  const ttl = await a.pttl("resource:1");
  assert.ok(ttl > 5000 && ttl <= 10000, `pttl ${ttl}`);
  await extended.release();
  assert.equal(await a.get("resource:1"), null);
  const again = await two.acquire(["resource:1", "resource:2"], 2000);
  assert.ok(await b.get("resource:2"));
  await again.release();
  await a.quit();
  await b.quit();
});

test("rate-limiter-flexible counts points with its script", async () => {
  const r = await connect();
  await r.flushall();
  const limiter = new RateLimiterRedis({ storeClient: r, points: 3, duration: 10,
    keyPrefix: "rl" });
  for (let i = 1; i <= 3; i++) {
    const res = await limiter.consume("user1");
    assert.equal(res.remainingPoints, 3 - i);
  }
  await assert.rejects(limiter.consume("user1"), (res) => res.remainingPoints === 0 &&
    res.msBeforeNext > 0);
  const other = await limiter.consume("user2", 2);
  assert.equal(other.remainingPoints, 1);
  const ttl = await r.pttl("rl:user1");
  assert.ok(ttl > 0 && ttl <= 10000, `pttl ${ttl}`);
  await r.quit();
});
