// The real @upstash/redis SDK, unchanged, against a spawned Keel: its URL
// is http://127.0.0.1:<http-port>/_upstash, its token Keel's requirepass
// (or http-readonly-token for the read-only client). The SDK asks for
// base64 responses and auto-pipelines by default; both are exercised, and
// the plain-JSON encoding too.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Redis } from "@upstash/redis";
import { startKeel } from "./keel_spawn.mjs";

const TOKEN = "s3cret-token", RO_TOKEN = "read-only-token";
let keel, url;

before(async () => {
  keel = await startKeel({ http: true, args: ["--requirepass", TOKEN, "--http-readonly-token", RO_TOKEN,
    "--http-disabled-commands", "SHUTDOWN DEBUG"] });
  url = `http://127.0.0.1:${keel.httpPort}/_upstash`;
});
after(async () => { if (keel) await keel.stop(); });

const client = (opts = {}) => new Redis({ url, token: TOKEN, enableTelemetry: false,
  retry: false, ...opts });

test("strings: set / get / incr / mget / del, with and without auto-pipelining", async () => {
  for (const opts of [{}, { enableAutoPipelining: false }, { responseEncoding: false }]) {
    const r = client(opts);
    await r.flushdb();
    assert.equal(await r.set("s:k", "v1"), "OK");
    assert.equal(await r.get("s:k"), "v1");
    assert.equal(await r.get("s:missing"), null);
    assert.equal(await r.incr("s:n"), 1);
    assert.equal(await r.incrby("s:n", 41), 42);
    assert.equal(await r.get("s:n"), 42); // the SDK parses numbers
    assert.deepEqual(await r.mget("s:k", "s:missing", "s:n"), ["v1", null, 42]);
    assert.equal(await r.set("s:k", "v2", { nx: true }), null);
    assert.equal(await r.set("s:ex", "x", { ex: 100 }), "OK");
    const ttl = await r.ttl("s:ex");
    assert.ok(ttl > 90 && ttl <= 100, String(ttl));
    assert.equal(await r.del("s:k", "s:n", "s:none"), 2);
    assert.equal(await r.exists("s:k"), 0);
  }
});

test("hashes", async () => {
  const r = client();
  await r.del("h");
  assert.equal(await r.hset("h", { a: "1", b: "two" }), 2);
  assert.equal(await r.hget("h", "b"), "two");
  assert.deepEqual(await r.hgetall("h"), { a: 1, b: "two" });
  assert.deepEqual((await r.hkeys("h")).sort(), ["a", "b"]);
  assert.equal(await r.hincrby("h", "a", 5), 6);
  assert.equal(await r.hdel("h", "a"), 1);
  assert.equal(await r.hlen("h"), 1);
  assert.equal(await r.hgetall("nohash"), null);
});

test("sorted sets", async () => {
  const r = client();
  await r.del("z");
  assert.equal(await r.zadd("z", { score: 1, member: "one" }, { score: 2.5, member: "two" },
    { score: 3, member: "three" }), 3);
  assert.deepEqual(await r.zrange("z", 0, -1), ["one", "two", "three"]);
  assert.deepEqual(await r.zrange("z", 0, 1, { withScores: true }), ["one", 1, "two", 2.5]);
  assert.equal(await r.zscore("z", "two"), 2.5);
  assert.equal(await r.zincrby("z", 0.5, "one"), 1.5);
  assert.equal(await r.zrank("z", "three"), 2);
  assert.equal(await r.zcard("z"), 3);
  assert.deepEqual(await r.zrange("z", 2, 3, { byScore: true }), ["two", "three"]);
});

test("JSON values round-trip through the SDK's serializer", async () => {
  const r = client();
  const v = { name: "keel", n: 3, list: [1, "x", null], nested: { ok: true } };
  assert.equal(await r.set("j", v), "OK");
  assert.deepEqual(await r.get("j"), v);
  await r.del("jl");
  await r.rpush("jl", { a: 1 }, [2, 3], "plain");
  assert.deepEqual(await r.lrange("jl", 0, -1), [{ a: 1 }, [2, 3], "plain"]);
});

test("pipeline: ordered, one response per command, errors per entry", async () => {
  const r = client();
  await r.del("p:a", "p:l");
  const p = r.pipeline();
  p.set("p:a", 1).incr("p:a").get("p:a").rpush("p:l", "x", "y").lrange("p:l", 0, -1);
  assert.deepEqual(await p.exec(), ["OK", 2, 2, 2, ["x", "y"]]);
  const bad = r.pipeline();
  bad.set("p:a", "text").incr("p:a").get("p:a");
  const res = await bad.exec({ keepErrors: true });
  assert.equal(res[0].result, "OK");
  assert.match(res[1].error, /^ERR value is not an integer or out of range/);
  assert.equal(res[2].result, "text");
  await assert.rejects(r.pipeline().set("p:a", "t").incr("p:a").exec(), /Command 2 \[ incr \] failed/);
});

test("multi(): atomic, all results; a queue-time error aborts all", async () => {
  const r = client();
  await r.del("m:a", "m:b");
  const tx = r.multi();
  tx.set("m:a", "1").incr("m:a").set("m:b", { x: 1 }).get("m:b");
  assert.deepEqual(await tx.exec(), ["OK", 2, "OK", { x: 1 }]);
  // A runtime error is that command's alone (Redis's EXEC semantics).
  const tx2 = r.multi();
  tx2.set("m:a", "word").incr("m:a");
  const res = await tx2.exec({ keepErrors: true });
  assert.equal(res[0].result, "OK");
  assert.match(res[1].error, /not an integer/);
  // Wrong arity is refused at queue time: EXECABORT, nothing ran.
  await r.set("m:a", "before");
  const tx3 = r.multi();
  tx3.set("m:a", "after");
  tx3.chain({ command: ["get"], deserialize: (x) => x }); // GET without a key
  await assert.rejects(tx3.exec(), /EXECABORT/);
  assert.equal(await r.get("m:a"), "before");
});

test("binary-safe values: NUL, newlines, quotes, unicode", async () => {
  const r = client();
  for (const v of ["a\u0000b", "line1\r\nline2", "q\"uo'te\\", "héllo ✓ 日本 🎉", "OK", " "]) {
    assert.equal(await r.set("bin", v), "OK");
    assert.equal(await r.get("bin"), v, JSON.stringify(v));
    assert.equal(await r.strlen("bin"), Buffer.byteLength(v));
  }
  const plain = client({ responseEncoding: false });
  await plain.set("bin", "x\u0000y\n");
  assert.equal(await plain.get("bin"), "x\u0000y\n");
});

test("read-only token: reads answer, writes are refused with NOPERM", async () => {
  const rw = client();
  await rw.set("ro:k", "v");
  const ro = client({ token: RO_TOKEN });
  assert.equal(await ro.get("ro:k"), "v");
  assert.deepEqual(await ro.mget("ro:k", "ro:none"), ["v", null]);
  await assert.rejects(ro.set("ro:k", "w"), /NOPERM this user has no permissions to run the 'set' command/);
  await assert.rejects(ro.del("ro:k"), /NOPERM/);
  const tx = ro.multi();
  tx.get("ro:k").set("ro:k", "w");
  await assert.rejects(tx.exec(), /NOPERM/);
  assert.equal(await rw.get("ro:k"), "v");
  const bad = new Redis({ url, token: "wrong", enableTelemetry: false, retry: false });
  await assert.rejects(bad.get("ro:k"), /authentication required/);
});

test("the wire: _token, path form with a body and query arguments, base64", async () => {
  const post = (p, body, headers = {}) => fetch(url + p, { method: "POST", body, headers });
  let res = await post(`/set/w:k?_token=${TOKEN}&EX=100`, "a value/with+slash");
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { result: "OK" });
  res = await fetch(`${url}/get/w:k?_token=${TOKEN}`);
  assert.deepEqual(await res.json(), { result: "a value/with+slash" });
  res = await fetch(`${url}/ttl/w:k`, { headers: { authorization: `Bearer ${TOKEN}` } });
  const ttl = (await res.json()).result;
  assert.ok(ttl > 90 && ttl <= 100);
  res = await post(`?_token=${TOKEN}`, JSON.stringify(["GET", "w:k"]), { "Upstash-Encoding": "base64" });
  assert.deepEqual(await res.json(), { result: Buffer.from("a value/with+slash").toString("base64") });
  res = await post(`?_token=${TOKEN}`, JSON.stringify(["INCR", "w:k"]));
  assert.equal(res.status, 400);
  assert.deepEqual(await res.json(), { error: "ERR value is not an integer or out of range" });
  res = await post(`/pipeline?_token=${TOKEN}`, "not json");
  assert.equal(res.status, 400);
  assert.ok((await res.json()).error);
  res = await post(`/pipeline?_token=${TOKEN}`, JSON.stringify([["PING"], ["GET", "w:none"]]));
  assert.deepEqual(await res.json(), [{ result: "PONG" }, { result: null }]);
});
