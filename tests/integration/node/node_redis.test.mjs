// node-redis (npm `redis`, v5) against a spawned Keel, over RESP2 and RESP3:
// the client's own connect sequence (HELLO, CLIENT SETINFO), every type's
// typed replies as node-redis maps them, MULTI/EXEC and WATCH, pub/sub on a
// duplicated connection, blocking pops, scan iterators, scripts defined with
// defineScript (EVALSHA with the EVAL fallback), streams with a consumer
// group, and its RESP3 client-side cache invalidated by another client.
// Binary: $KEEL_BIN (relative to the repo root), else build-test/keel, else build/keel.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createClient, defineScript, BasicClientSideCache } from "redis";
import { useServer } from "./keel_spawn.mjs";

const server = useServer();

async function connect(resp, opts = {}) {
  const client = createClient({
    socket: { host: "127.0.0.1", port: server().port, reconnectStrategy: false },
    RESP: resp,
    ...opts,
  });
  const errors = [];
  client.on("error", (e) => errors.push(e));
  await client.connect();
  client.testErrors = errors;
  return client;
}

for (const resp of [2, 3]) {
  test(`RESP${resp}: strings, keys and expiry`, async () => {
    const r = await connect(resp);
    await r.flushAll();
    assert.equal(await r.set("k", "v"), "OK");
    assert.equal(await r.get("k"), "v");
    assert.equal(await r.get("missing"), null);
    assert.equal(await r.set("k", "x", { condition: "NX" }), null);
    assert.equal(await r.incrBy("n", 41), 41);
    assert.equal(await r.incrByFloat("f", 1.5), "1.5");
    assert.deepEqual(await r.mGet(["k", "missing", "n"]), ["v", null, "41"]);
    assert.equal(await r.set("t", "v", { expiration: { type: "EX", value: 100 } }), "OK");
    assert.equal(await r.ttl("t"), 100);
    assert.equal(await r.exists(["k", "t", "missing"]), 2);
    assert.equal(await r.type("k"), "string");
    assert.equal(await r.del(["k", "t"]), 2);
    assert.deepEqual(r.testErrors, []);
    await r.close();
  });

  test(`RESP${resp}: hashes, lists, sets and sorted sets`, async () => {
    const r = await connect(resp);
    await r.flushAll();
    assert.equal(await r.hSet("h", { a: "1", b: "2" }), 2);
    assert.deepEqual({ ...(await r.hGetAll("h")) }, { a: "1", b: "2" });
    assert.equal(await r.hIncrBy("h", "a", 5), 6);
    assert.deepEqual(await r.hmGet("h", ["a", "zz"]), ["6", null]);
    assert.equal(await r.rPush("l", ["a", "b", "c"]), 3);
    assert.deepEqual(await r.lRange("l", 0, -1), ["a", "b", "c"]);
    assert.equal(await r.lPop("l"), "a");
    assert.equal(await r.lPos("l", "c"), 1);
    assert.equal(await r.sAdd("s", ["x", "y", "x"]), 2);
    assert.deepEqual((await r.sMembers("s")).sort(), ["x", "y"]);
    assert.equal(await r.sIsMember("s", "y"), 1);
    assert.equal(await r.zAdd("z", [{ score: 2, value: "b" }, { score: 1.5, value: "a" }]), 2);
    assert.deepEqual(await r.zRangeWithScores("z", 0, -1),
      [{ value: "a", score: 1.5 }, { value: "b", score: 2 }]);
    assert.equal(await r.zScore("z", "a"), 1.5);
    assert.equal(await r.zIncrBy("z", 1, "a"), 2.5);
    assert.deepEqual(await r.zPopMin("z"), { value: "b", score: 2 });
    assert.deepEqual(r.testErrors, []);
    await r.close();
  });

  test(`RESP${resp}: MULTI/EXEC, WATCH and a conflicting writer`, async () => {
    const r = await connect(resp);
    const other = await connect(resp);
    await r.flushAll();
    assert.deepEqual(await r.multi().set("a", "1").incr("a").get("a").exec(), ["OK", 2, "2"]);
    const watcher = await r.duplicate().connect();
    await watcher.watch("a");
    await other.set("a", "changed");
    await assert.rejects(watcher.multi().set("a", "mine").exec(), /WatchError|watched keys/i);
    assert.equal(await r.get("a"), "changed");
    await watcher.watch("a");
    assert.deepEqual(await watcher.multi().set("a", "mine").exec(), ["OK"]);
    assert.equal(await r.get("a"), "mine");
    await Promise.all([r.close(), other.close(), watcher.close()]);
  });

  test(`RESP${resp}: pub/sub on a duplicated connection`, async () => {
    const r = await connect(resp);
    const sub = await r.duplicate().connect();
    const got = [];
    const three = new Promise((resolve) => {
      const push = (message, channel) => {
        got.push([channel, message]);
        if (got.length === 3) resolve();
      };
      sub.subscribe("news", push).then(() => sub.pSubscribe("ev:*", push)).then(async () => {
        assert.equal(await r.publish("news", "hello"), 1);
        assert.equal(await r.publish("ev:1", "one"), 1);
        assert.equal(await r.publish("news", "bye"), 1);
      });
    });
    await three;
    assert.deepEqual(got, [["news", "hello"], ["ev:1", "one"], ["news", "bye"]]);
    await sub.unsubscribe("news");
    await sub.pUnsubscribe("ev:*");
    assert.equal(await r.publish("news", "nobody"), 0);
    await Promise.all([r.close(), sub.close()]);
  });

  test(`RESP${resp}: a blocking pop served by another client's push`, async () => {
    const r = await connect(resp);
    const blocker = await r.duplicate().connect();
    await r.flushAll();
    const popped = blocker.blPop("jobs", 5);
    await new Promise((res) => setTimeout(res, 100));
    await r.rPush("jobs", "job-1");
    assert.deepEqual({ ...(await popped) }, { key: "jobs", element: "job-1" });
    assert.equal(await blocker.blPop("empty", 0.1), null);
    await Promise.all([r.close(), blocker.close()]);
  });

  test(`RESP${resp}: scan iterators`, async () => {
    const r = await connect(resp);
    await r.flushAll();
    for (let i = 0; i < 250; i++) await r.set(`key:${i}`, String(i));
    await r.set("other", "x");
    await r.hSet("big", Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`f${i}`, `${i}`])));
    const keys = [];
    for await (const batch of r.scanIterator({ MATCH: "key:*", COUNT: 50 })) keys.push(...batch);
    assert.equal(new Set(keys).size, 250);
    const fields = [];
    for await (const batch of r.hScanIterator("big", { COUNT: 40 })) fields.push(...batch);
    assert.equal(new Set(fields.map((e) => e.field)).size, 300);
    await r.close();
  });

  test(`RESP${resp}: defineScript runs by EVALSHA after its EVAL fallback`, async () => {
    const add = defineScript({
      SCRIPT: "return redis.call('INCRBY', KEYS[1], ARGV[1])",
      NUMBER_OF_KEYS: 1,
      parseCommand(parser, key, n) {
        parser.pushKey(key);
        parser.push(String(n));
      },
      transformReply(reply) {
        return reply;
      },
    });
    const r = await connect(resp, { scripts: { add } });
    await r.flushAll();
    await r.scriptFlush();
    await r.configResetStat();
    assert.equal(await r.add("ctr", 5), 5); // NOSCRIPT, then EVAL
    assert.equal(await r.add("ctr", 7), 12); // EVALSHA
    const stats = await r.sendCommand(["INFO", "commandstats"]);
    assert.match(String(stats), /cmdstat_evalsha:calls=2,/);
    assert.match(String(stats), /cmdstat_eval:calls=1,/);
    await r.close();
  });

  test(`RESP${resp}: streams with a consumer group`, async () => {
    const r = await connect(resp);
    await r.flushAll();
    await r.xGroupCreate("orders", "workers", "0", { MKSTREAM: true });
    const id1 = await r.xAdd("orders", "*", { item: "book", qty: "1" });
    const id2 = await r.xAdd("orders", "*", { item: "pen", qty: "3" });
    const res = await r.xReadGroup("workers", "w1", { key: "orders", id: ">" }, { COUNT: 10 });
    // RESP2: [{ name, messages: [{ id, message }] }]; RESP3 (a map reply,
    // which node-redis v5 leaves unmapped): { orders: [[id, [field, value...]]] }
    const list = resp === 2 ? res[0].messages.map((m) => [m.id, { ...m.message }])
      : res.orders.map(([id, kv]) => [id, { [kv[0]]: kv[1], [kv[2]]: kv[3] }]);
    assert.deepEqual(list, [[id1, { item: "book", qty: "1" }], [id2, { item: "pen", qty: "3" }]]);
    assert.equal(await r.xAck("orders", "workers", id1), 1);
    const pending = await r.xPending("orders", "workers");
    assert.equal(pending.pending, 1);
    assert.equal(pending.firstId, id2);
    await r.close();
  });

  test(`RESP${resp}: the cluster commands answer as a standalone Redis`, async () => {
    const r = await connect(resp);
    await assert.rejects(r.sendCommand(["CLUSTER", "INFO"]),
      /This instance has cluster support disabled/);
    assert.deepEqual(await r.sendCommand(["MODULE", "LIST"]), []);
    await r.close();
  });
}

test("RESP3: the client-side cache is invalidated by another client's write", async () => {
  const cache = new BasicClientSideCache({ ttl: 0, maxEntries: 0 });
  const r = await connect(3, { clientSideCache: cache });
  const writer = await connect(3);
  await writer.flushAll();
  await writer.set("cached", "v1");
  assert.equal(await r.get("cached"), "v1"); // miss: read from the server
  assert.equal(await r.get("cached"), "v1"); // hit
  assert.equal(cache.stats().hitCount, 1);
  await writer.set("cached", "v2");
  // The invalidation push arrives on r's own connection; wait for it.
  for (let i = 0; i < 50 && cache.size() > 0; i++) await new Promise((res) => setTimeout(res, 20));
  assert.equal(cache.size(), 0);
  assert.equal(await r.get("cached"), "v2");
  const info = await writer.sendCommand(["CLIENT", "LIST"]);
  assert.match(String(info), /flags=t/); // r's connection is a tracking client
  await Promise.all([r.close(), writer.close()]);
});
