// Unit tests of web/dashboard/keel.js (the /_keel.js client module) with a
// fake WebSocket and fake timers: ids and promises, error and status
// shapes, pushes, stats, queued sends, reconnect with backoff that
// re-subscribes, re-tracks, re-asks for stats and resumes tails, tokens,
// and splitArgs. Run: node --test tests/browser/keel_client.test.mjs (no browser needed)
import { test } from "node:test";
import assert from "node:assert/strict";
import { Keel, KeelError, splitArgs } from "../../web/dashboard/keel.js";

class FakeWS {
  static all = [];
  constructor(url, proto) {
    this.url = url;
    this.proto = proto;
    this.sent = [];
    this.closed = false;
    FakeWS.all.push(this);
  }
  send(m) {
    if (this.closed) throw new Error("send on a closed socket");
    this.sent.push(JSON.parse(m));
  }
  close() {
    this.drop();
  }
  open() {
    this.onopen();
  }
  reply(o) {
    this.onmessage({ data: JSON.stringify(o) });
  }
  drop() {
    if (this.closed) return;
    this.closed = true;
    if (this.onclose) this.onclose({ code: 1006 });
  }
}

function fakeTimers() {
  const t = { list: [], set: (f, ms) => (t.list.push({ f, ms }), t.list.length), clear: () => {} };
  t.fire = () => {
    const x = t.list.shift();
    x.f();
    return x.ms;
  };
  return t;
}

function make(opts = {}) {
  FakeWS.all = [];
  const timers = fakeTimers();
  const k = new Keel({ url: "ws://h:1/", WebSocket: FakeWS, timers, ...opts });
  return { k, timers, ws: () => FakeWS.all[FakeWS.all.length - 1] };
}

test("requests carry ids; replies resolve their own promise, in any order", async () => {
  const { k, ws } = make();
  ws().open();
  const a = k.call("GET", "a"), b = k.call("GET", "b");
  const [ma, mb] = ws().sent;
  assert.deepEqual(ma.cmd, ["GET", "a"]);
  assert.notEqual(ma.id, mb.id);
  ws().reply({ id: mb.id, reply: "B" });
  ws().reply({ id: ma.id, reply: "A" });
  assert.equal(await a, "A");
  assert.equal(await b, "B");
  assert.equal(ws().proto, "json");
});

test("an error reply rejects with its text; a status resolves to its text", async () => {
  const { k, ws } = make();
  ws().open();
  const e = k.call("INCR", "s"), s = k.call("SET", "k", "v");
  ws().reply({ id: ws().sent[0].id, reply: [false, "ERR value is not an integer or out of range"] });
  ws().reply({ id: ws().sent[1].id, reply: [true, "OK"] });
  await assert.rejects(e, (err) => err instanceof KeelError && /not an integer/.test(err.message));
  assert.equal(await s, "OK");
});

test("numbers are sent as strings; sends before open are queued", async () => {
  const { k, ws } = make();
  const p = k.call("EXPIRE", "k", 10);
  assert.equal(ws().sent.length, 0);
  ws().open();
  assert.deepEqual(ws().sent[0].cmd, ["EXPIRE", "k", "10"]);
  ws().reply({ id: ws().sent[0].id, reply: 1 });
  assert.equal(await p, 1);
});

test("pushes, stats and tails go to their listeners", () => {
  const { k, ws } = make();
  ws().open();
  const got = [];
  k.on("push", (p) => got.push(["push", p]));
  k.on("stats", (s) => got.push(["stats", s.ops_per_sec]));
  k.on("tail", (t) => got.push(["tail", t.id]));
  ws().reply({ push: ["message", "c", "hi"] });
  ws().reply({ stats: { ops_per_sec: 5 } });
  ws().reply({ tail: "s", id: "1-1", fields: { f: "v" } });
  assert.deepEqual(got, [["push", ["message", "c", "hi"]], ["stats", 5], ["tail", "1-1"]]);
});

test("a dropped connection fails requests in flight and reconnects with growing backoff", async () => {
  const { k, ws, timers } = make({ minDelay: 100, maxDelay: 1000 });
  ws().open();
  const p = k.call("BLPOP", "q", "0");
  const states = [];
  k.on("state", (s) => states.push(s));
  ws().drop();
  await assert.rejects(p, /connection closed/);
  const d1 = timers.fire();
  assert.equal(FakeWS.all.length, 2);
  ws().drop(); // the server is still down
  const d2 = timers.fire();
  ws().drop();
  const d3 = timers.fire();
  assert.ok(d1 <= 100 && d2 <= 200 && d3 <= 400 && d3 > 100, `${d1} ${d2} ${d3}`);
  ws().open();
  assert.deepEqual(states.slice(0, 2), ["closed", "connecting"]);
  assert.equal(states.at(-1), "open");
  for (let i = 0; i < 10; i++) {
    ws().drop();
    assert.ok(timers.fire() <= 1000);
  }
});

test("after a reconnect: re-subscribes, re-tracks, re-asks for stats, resumes tails", () => {
  const { k, ws, timers } = make();
  ws().open();
  k.call("SUBSCRIBE", "a", "b").catch(() => {});
  k.call("PSUBSCRIBE", "n.*").catch(() => {});
  k.call("UNSUBSCRIBE", "b").catch(() => {});
  k.call("CLIENT", "TRACKING", "ON", "BCAST").catch(() => {});
  k.stats(true);
  k.tail("s", "0-0");
  ws().reply({ tail: "s", id: "5-1", fields: {} });
  ws().drop();
  timers.fire();
  ws().open();
  const sent = ws().sent;
  assert.deepEqual(sent.find((m) => m.cmd && m.cmd[0] === "SUBSCRIBE").cmd, ["SUBSCRIBE", "a"]);
  assert.deepEqual(sent.find((m) => m.cmd && m.cmd[0] === "PSUBSCRIBE").cmd, ["PSUBSCRIBE", "n.*"]);
  assert.deepEqual(sent.find((m) => m.cmd && m.cmd[0] === "CLIENT").cmd, ["CLIENT", "TRACKING", "ON", "BCAST"]);
  assert.ok(sent.some((m) => m.stats === 1));
  assert.deepEqual(sent.find((m) => m.tail), { tail: "s", from: "5-1" });
});

test("tracking off and stats off are not replayed", () => {
  const { k, ws, timers } = make();
  ws().open();
  k.call("CLIENT", "TRACKING", "ON").catch(() => {});
  k.call("CLIENT", "TRACKING", "OFF").catch(() => {});
  k.stats(true);
  k.stats(false);
  ws().drop();
  timers.fire();
  ws().open();
  assert.deepEqual(ws().sent, []);
});

test("the token goes on the upgrade URL; reauth reconnects with the new one", () => {
  const { k, ws } = make({ token: "p w&" });
  assert.equal(ws().url, "ws://h:1/?token=p%20w%26");
  ws().open();
  k.reauth("new");
  assert.equal(ws().url, "ws://h:1/?token=new");
});

test("close() stops reconnecting", () => {
  const { k, ws, timers } = make();
  ws().open();
  k.close();
  assert.equal(timers.list.length, 0);
  assert.equal(k.state, "closed");
});

test("batch resolves with the array of replies", async () => {
  const { k, ws } = make();
  ws().open();
  const p = k.batch([["SET", "a", "1"], ["GET", "a"]], true);
  const m = ws().sent[0];
  assert.equal(m.atomic, true);
  ws().reply({ id: m.id, reply: [{ SET: [true, "OK"] }, { GET: "1" }] });
  assert.deepEqual(await p, [{ SET: [true, "OK"] }, { GET: "1" }]);
});

test("a listener that throws does not stop the others", () => {
  const { k, ws } = make();
  ws().open();
  let n = 0;
  const orig = console.error;
  console.error = () => {};
  k.on("push", () => {
    throw new Error("x");
  });
  k.on("push", () => n++);
  ws().reply({ push: ["message", "c", "m"] });
  console.error = orig;
  assert.equal(n, 1);
});

test("splitArgs: words, quotes, escapes, errors", () => {
  assert.deepEqual(splitArgs(String.raw` SET  k "a b\n\x41" 'it\'s'`), ["SET", "k", "a b\nA", "it's"]);
  assert.deepEqual(splitArgs('SET k ""'), ["SET", "k", ""]);
  assert.deepEqual(splitArgs("   "), []);
  assert.throws(() => splitArgs('GET "x'), /unbalanced/);
  assert.throws(() => splitArgs('GET "x"y'), /closing quote/);
});
