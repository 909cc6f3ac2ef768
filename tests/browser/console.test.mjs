// Keel's WebSocket console (GET /_console, adapters/ws/ws_page.c) in a real
// headless Chromium (Debian's /usr/bin/chromium driven by playwright-core):
// the page connects a WebSocket to the same origin, runs SET and GET, then
// SUBSCRIBEs and shows a message that `redis-cli PUBLISH` sends.
// Binary: $KEEL_BIN (relative to the repo root), else build-test/keel, else build/keel.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { ROOT, launchChromium, startKeel, consoleRun, waitText as waitTextIn, redisCli as cli } from "./browser.mjs";

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

const run = (line) => consoleRun(page, line);
const waitText = (sel, text) => waitTextIn(page, sel, text);

const redisCli = (...args) => cli(port, ...args);

test("the console connects, runs SET/GET and shows a PUBLISH from redis-cli", async () => {
  const resp = await page.goto(`http://127.0.0.1:${http}/_console`);
  assert.equal(resp.status(), 200);
  assert.match(resp.headers()["content-type"], /text\/html/);
  await page.waitForSelector("#status.open", { timeout: 10000 });

  await run('SET greeting "hello from chromium"');
  await waitText("#log", '[true,"OK"]');
  assert.equal(await redisCli("GET", "greeting"), "hello from chromium");

  await redisCli("SET", "counter", "41");
  await run("INCR counter");
  await waitText("#log", "42");
  await run("GET greeting");
  await waitText("#log", '"hello from chromium"');

  await run("SUBSCRIBE news");
  await waitText("#log", '["subscribe","news",1]');
  // the page's subscription is visible server-side before publishing
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline && (await redisCli("PUBSUB", "NUMSUB", "news")).split("\n")[1] !== "1") {
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(await redisCli("PUBLISH", "news", "hi from redis-cli"), "1");
  await waitText("#pushes", '["message","news","hi from redis-cli"]');

  // ordinary commands still work on the subscribed connection (RESP3)
  await run('["GET","counter"]');
  await waitText("#log", '"42"');
  // the browser is a WebSocket client in CLIENT LIST
  assert.match(await redisCli("CLIENT", "LIST"), new RegExp(`laddr=127\\.0\\.0\\.1:${http} .*sub=1`));
  assert.deepEqual(pageErrors, []);
});

// Issue 5: a browser's EventSource reads the HTTP pub/sub stream as
// Server-Sent Events (Accept: text/event-stream), from a page of the same origin.
test("EventSource receives PUBLISH messages from /SUBSCRIBE as Server-Sent Events", async () => {
  await page.goto(`http://127.0.0.1:${http}/_console`);
  await page.evaluate(() => {
    window.sse = [];
    window.es = new EventSource("/SUBSCRIBE/sse-news");
    window.es.onmessage = (e) => window.sse.push(JSON.parse(e.data));
  });
  // the confirmation arrives first, then the subscription is visible server-side
  await page.waitForFunction(() => window.sse.length >= 1, null, { timeout: 10000 });
  assert.deepEqual(await page.evaluate(() => window.sse[0]),
    { SUBSCRIBE: ["subscribe", "sse-news", 1] });
  assert.equal(await redisCli("PUBLISH", "sse-news", "über SSE"), "1");
  await page.waitForFunction(() => window.sse.length >= 2, null, { timeout: 10000 });
  assert.deepEqual(await page.evaluate(() => window.sse[1]),
    { SUBSCRIBE: ["message", "sse-news", "über SSE"] });
  // closing the EventSource unsubscribes on the server
  await page.evaluate(() => window.es.close());
  const deadline = Date.now() + 5000;
  let n = "";
  while (Date.now() < deadline) {
    n = (await redisCli("PUBSUB", "NUMSUB", "sse-news")).split("\n")[1];
    if (n === "0") break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(n, "0");
  assert.deepEqual(pageErrors, []);
});

// Issue 16: a Webdis client page, unchanged: a WebSocket on /.json,
// SUBSCRIBE, and a message PUBLISHed from redis-cli arriving in Webdis's
// shape {"SUBSCRIBE":["message",...]}; a refused command in Webdis's words.
test("a Webdis page on /.json subscribes and receives a redis-cli PUBLISH", async () => {
  await page.goto(`http://127.0.0.1:${http}/_console`);
  await page.evaluate(() => new Promise((resolve, reject) => {
    window.wd = [];
    window.wdws = new WebSocket(`ws://${location.host}/.json`);
    window.wdws.onmessage = (e) => window.wd.push(JSON.parse(e.data));
    window.wdws.onerror = () => reject(new Error("WebSocket error"));
    window.wdws.onopen = () => {
      window.wdws.send(JSON.stringify(["SET", "wd-key", "wd-value"]));
      window.wdws.send(JSON.stringify(["FLUSHALL"]));
      resolve();
    };
  }));
  await page.waitForFunction(() => window.wd.length >= 2, null, { timeout: 10000 });
  assert.deepEqual(await page.evaluate(() => window.wd.slice(0, 2)), [
    { SET: [true, "OK"] }, { error: true, message: "Forbidden", http_status: 403 }]);
  await page.evaluate(() => window.wdws.send(JSON.stringify(["SUBSCRIBE", "wd-news"])));
  await page.waitForFunction(() => window.wd.length >= 3, null, { timeout: 10000 });
  assert.deepEqual(await page.evaluate(() => window.wd[2]), { SUBSCRIBE: ["subscribe", "wd-news", 1] });
  assert.equal(await redisCli("PUBLISH", "wd-news", "hello webdis page"), "1");
  await page.waitForFunction(() => window.wd.length >= 4, null, { timeout: 10000 });
  assert.deepEqual(await page.evaluate(() => window.wd[3]),
    { SUBSCRIBE: ["message", "wd-news", "hello webdis page"] });
  // /.raw: RESP in text frames, which the browser hands over as strings
  const raw = await page.evaluate(() => new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${location.host}/.raw`);
    ws.onerror = () => reject(new Error("WebSocket error"));
    ws.onopen = () => ws.send("*2\r\n$3\r\nGET\r\n$6\r\nwd-key\r\n");
    ws.onmessage = (e) => { ws.close(); resolve([typeof e.data, e.data]); };
  }));
  assert.deepEqual(raw, ["string", "$8\r\nwd-value\r\n"]);
  await page.evaluate(() => window.wdws.close());
  assert.deepEqual(pageErrors, []);
});

// The README's copy-paste example of Keel's own protocol, as written there.
test("the README's browser example runs as written", async () => {
  await page.goto(`http://127.0.0.1:${http}/_console`);
  const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
  const m = readme.match(/```html\n<script>\n([\s\S]*?)<\/script>\n```/);
  assert.ok(m, "the README has the <script> example");
  const code = m[1].replace(/ws:\/\/localhost:\d+\//, `ws://127.0.0.1:${http}/`);
  assert.notEqual(code, m[1], "the example's URL was replaced");
  await page.evaluate((src) => {
    window.logged = [];
    const orig = console.log;
    console.log = (...a) => { window.logged.push(JSON.stringify(a)); orig(...a); };
    (0, eval)(src);
  }, code);
  await page.waitForFunction(() => window.logged.length >= 1, null, { timeout: 10000 });
  assert.equal(await page.evaluate(() => window.logged[0]), JSON.stringify([[true, "OK"], "hello"]));
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline && (await redisCli("PUBSUB", "NUMSUB", "news")).split("\n")[1] === "0") {
    await new Promise((r) => setTimeout(r, 50));
  }
  await redisCli("PUBLISH", "news", "hi");
  await page.waitForFunction(() => window.logged.length >= 2, null, { timeout: 10000 });
  const got = await page.evaluate(() => window.logged);
  assert.ok(got.includes(JSON.stringify(["push", ["message", "news", "hi"]])), got.join("\n"));
  assert.deepEqual(pageErrors, []);
});
