// @upstash/ratelimit, unchanged, on @upstash/redis against Keel's
// /_upstash endpoint. The limiter runs Lua (EVALSHA, then EVAL on
// NOSCRIPT): the test skips, saying why, while the server does not know
// EVAL (COMMAND INFO eval answers nil).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Redis } from "@upstash/redis";
import { Ratelimit } from "@upstash/ratelimit";
import { startKeel } from "./keel_spawn.mjs";

let keel, redis, hasEval = false;

before(async () => {
  keel = await startKeel({ http: true, args: ["--requirepass", "tok"] });
  redis = new Redis({ url: `http://127.0.0.1:${keel.httpPort}/_upstash`, token: "tok",
    enableTelemetry: false, retry: false });
  const info = await fetch(`http://127.0.0.1:${keel.httpPort}/_upstash?_token=tok`, {
    method: "POST", body: JSON.stringify(["COMMAND", "INFO", "eval"]) });
  const body = await info.json();
  hasEval = Array.isArray(body.result) && body.result[0] !== null;
});
after(async () => { if (keel) await keel.stop(); });

const reason = "the server does not know EVAL yet (COMMAND INFO eval is nil)";

test("fixed window: the limit holds per identifier", async (t) => {
  if (!hasEval) return t.skip(reason);
  const rl = new Ratelimit({ redis, limiter: Ratelimit.fixedWindow(3, "1000 s"), prefix: "rl-fw-" + Math.random(),
    analytics: false, ephemeralCache: false });
  const got = [];
  for (let i = 0; i < 5; i++) got.push((await rl.limit("user")).success);
  assert.deepEqual(got, [true, true, true, false, false]);
  const r = await rl.limit("other");
  assert.equal(r.success, true);
  assert.equal(r.remaining, 2);
});

test("sliding window and token bucket allow up to their limit", async (t) => {
  if (!hasEval) return t.skip(reason);
  // long windows: calls that straddle a window's boundary would see the
  // previous window's weight floored (a flaky third success)
  for (const limiter of [Ratelimit.slidingWindow(2, "1000 s"), Ratelimit.tokenBucket(1, "1000 s", 2)]) {
    const rl = new Ratelimit({ redis, limiter, prefix: "rl-" + Math.random(), analytics: false,
      ephemeralCache: false });
    const got = [];
    for (let i = 0; i < 3; i++) got.push((await rl.limit("u")).success);
    assert.deepEqual(got, [true, true, false]);
  }
});
