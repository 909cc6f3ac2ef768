// Issue 14: GET /_stream/<key> tails a stream as Server-Sent Events. An
// EventSource in headless Chromium reads the entries, its connection is cut
// (CLIENT KILL of the HTTP client), entries are added while it is away, and
// the browser's own reconnection (Last-Event-ID) resumes with no entry lost
// or repeated. The same as a consumer of a group: the page acks some
// entries (fetch POST /_stream/<key>/ack, and {"ack":[..]} on a WebSocket),
// and after a cut the unacked ones come again before new ones.
// Binary: $KEEL_BIN, else build-test/keel, else build/keel.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launchChromium, startKeel, redisCli as cli } from "./browser.mjs";

let keel, port, http, context, page;
const pageErrors = [];

before(async () => {
  keel = await startKeel({ http: true });
  port = keel.port;
  http = keel.httpPort;
  context = await launchChromium(keel.workdir);
  page = context.pages()[0] || await context.newPage();
  page.on("pageerror", (e) => pageErrors.push(String(e)));
});

after(async () => {
  if (context) await context.close();
  if (keel) await keel.stop();
});


const redisCli = (...args) => cli(port, ...args);

async function tailClientId(cmd = "xread") {
  const list = await redisCli("CLIENT", "LIST");
  const line = list.split("\n").find((l) => l.includes(`laddr=127.0.0.1:${http} `) &&
    l.includes(`cmd=${cmd} `));
  return line ? line.match(/^id=(\d+)/)[1] : null;
}

async function pendingIds(key, group) {
  const out = await redisCli("XPENDING", key, group, "-", "+", "100");
  return out.split("\n").filter((l) => /^\d+-\d+$/.test(l.trim())).map((l) => l.trim());
}

async function until(fn, ms = 10000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
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

test("a consumer group over SSE and WebSocket: acks from the page, unacked entries again after a cut", async () => {
  await page.goto(`http://127.0.0.1:${http}/_console`);
  for (let i = 1; i <= 3; i++) await redisCli("XADD", "jobs", `${i}-1`, "n", String(i));
  await redisCli("XGROUP", "CREATE", "jobs", "g", "0");
  await page.evaluate(() => {
    window.got = [];
    window.es = new EventSource("/_stream/jobs?group=g&consumer=page");
    window.es.onmessage = (e) => window.got.push(e.lastEventId);
  });
  await page.waitForFunction(() => window.got.length >= 3, null, { timeout: 10000 });
  const acked = await page.evaluate(async () => {
    const r = await fetch("/_stream/jobs/ack?group=g", { method: "POST",
      headers: { "Content-Type": "application/json" }, body: JSON.stringify(["1-1", "3-1"]) });
    return r.json();
  });
  assert.deepEqual(acked, { XACK: 2 });
  assert.deepEqual(await pendingIds("jobs", "g"), ["2-1"]);
  // cut the EventSource's connection; it comes back on its own
  const id = await until(() => tailClientId("xreadgroup"));
  assert.ok(id, "the group tail's XREADGROUP is visible in CLIENT LIST");
  assert.equal(await redisCli("CLIENT", "KILL", "ID", id), "1");
  await redisCli("XADD", "jobs", "4-1", "n", "4");
  await page.waitForFunction(() => window.got.length >= 5, null, { timeout: 15000 });
  await new Promise((r) => setTimeout(r, 300));
  // 2-1 was delivered but not acked: it comes again, then the new one
  assert.deepEqual(await page.evaluate(() => window.got), ["1-1", "2-1", "3-1", "2-1", "4-1"]);
  await page.evaluate(() => window.es.close());

  // the same consumer over a WebSocket, acking in its own frames
  await page.evaluate((port) => new Promise((resolve) => {
    window.frames_ = [];
    window.ws = new WebSocket(`ws://127.0.0.1:${port}/`);
    window.ws.onmessage = (e) => window.frames_.push(JSON.parse(e.data));
    window.ws.onopen = () => {
      window.ws.send(JSON.stringify({ tail: "jobs", group: "g", consumer: "page" }));
      resolve();
    };
  }), http);
  await page.waitForFunction(() => window.frames_.length >= 2, null, { timeout: 10000 });
  assert.deepEqual(await page.evaluate(() => window.frames_.map((f) => f.id)), ["2-1", "4-1"]);
  await page.evaluate(() => window.ws.send(JSON.stringify({ ack: ["2-1", "4-1"] })));
  assert.ok(await until(async () => (await pendingIds("jobs", "g")).length === 0),
    "the WebSocket acks emptied the pending list");
  await redisCli("XADD", "jobs", "5-1", "n", "5");
  await page.waitForFunction(() => window.frames_.length >= 3, null, { timeout: 10000 });
  assert.deepEqual(await page.evaluate(() => window.frames_[2]),
    { tail: "jobs", id: "5-1", fields: { n: "5" } });
  await page.evaluate(() => window.ws.close());
  assert.deepEqual(pageErrors, []);
});
