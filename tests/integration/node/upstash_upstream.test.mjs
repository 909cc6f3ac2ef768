// The real @upstash/redis SDK against Keel's HTTP front in upstream mode:
// Keel forwards to a three-master Redis Cluster started here from Debian's
// redis-server (--cluster-enabled yes, joined with redis-cli --cluster
// create), so the SDK's keys land on the cluster's nodes; ioredis talks
// to the same Keel over RESP. Nodes are stopped by PID.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { Redis as Upstash } from "@upstash/redis";
import IORedis from "ioredis";
import { startKeel, pingOnce } from "./keel_spawn.mjs";

const TOKEN = "upstream-token";
let keel, nodes = [], dir;

function portFree(port) {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once("error", () => resolve(false));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });
}

// A port below 55536 whose cluster bus port (+10000) is free too.
async function clusterPort(taken) {
  for (;;) {
    const p = 20000 + Math.floor(Math.random() * 25000);
    if (taken.has(p) || taken.has(p + 10000)) continue;
    if (await portFree(p) && await portFree(p + 10000)) { taken.add(p); return p; }
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "keel-node-cluster-"));
  const taken = new Set();
  for (let i = 0; i < 3; i++) {
    const port = await clusterPort(taken);
    const proc = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1",
      "--cluster-enabled", "yes", "--cluster-config-file", `nodes-${port}.conf`, "--save", "",
      "--appendonly", "no", "--dir", dir], { stdio: "ignore" });
    nodes.push({ port, proc });
  }
  for (const n of nodes) {
    const t0 = Date.now();
    while (!(await pingOnce(n.port))) {
      if (Date.now() - t0 > 10000) throw new Error(`redis-server ${n.port} did not start`);
      await sleep(50);
    }
  }
  execFileSync("redis-cli", ["--cluster", "create", ...nodes.map((n) => `127.0.0.1:${n.port}`),
    "--cluster-yes"], { stdio: "ignore", timeout: 60000 });
  for (const n of nodes) {
    const t0 = Date.now();
    for (;;) {
      const info = execFileSync("redis-cli", ["-p", String(n.port), "CLUSTER", "INFO"]).toString();
      if (info.includes("cluster_state:ok")) break;
      if (Date.now() - t0 > 30000) throw new Error("cluster not ok");
      await sleep(100);
    }
  }
  keel = await startKeel({ http: true,
    args: ["--requirepass", TOKEN, "--upstream", `127.0.0.1:${nodes[0].port}`,
      "--http-disabled-commands", "SHUTDOWN DEBUG"] });
  // wait for Keel's slot map
  const io = new IORedis({ port: keel.port, password: TOKEN, lazyConnect: true });
  await io.connect();
  const t0 = Date.now();
  while (!(await io.info("upstream")).includes("upstream_state:ok")) {
    if (Date.now() - t0 > 15000) throw new Error("upstream not ok");
    await sleep(100);
  }
  io.disconnect();
});

after(async () => {
  if (keel) await keel.stop();
  for (const n of nodes) n.proc.kill("SIGKILL");
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const client = (opts = {}) => new Redis({ opts });
function Redis({ opts }) {
  return new Upstash({ url: `http://127.0.0.1:${keel.httpPort}/_upstash`, token: TOKEN,
    enableTelemetry: false, retry: false, ...opts });
}

test("@upstash/redis over Keel's HTTP front, data on the cluster's nodes", async () => {
  for (const opts of [{}, { enableAutoPipelining: false }]) {
    const r = client(opts);
    await r.flushall();
    for (let i = 0; i < 30; i++) assert.equal(await r.set(`k:${i}`, `v${i}`), "OK");
    for (let i = 0; i < 30; i++) assert.equal(await r.get(`k:${i}`), `v${i}`);
    assert.equal(await r.dbsize(), 30);
    // the keys are spread over the three masters
    const perNode = nodes.map((n) =>
      Number(execFileSync("redis-cli", ["-p", String(n.port), "DBSIZE"]).toString().trim()));
    assert.equal(perNode.reduce((a, b) => a + b, 0), 30);
    assert.ok(perNode.every((x) => x > 0), String(perNode));
    assert.equal(await r.hset("{u}h", { a: "1", b: "two" }), 2);
    assert.deepEqual(await r.hgetall("{u}h"), { a: 1, b: "two" });
    assert.deepEqual(await r.mget("{u}a", "{u}b"), [null, null]);
    await assert.rejects(r.mget("a", "b"), /CROSSSLOT/);
    const p = r.multi();
    p.incr("{t}n");
    p.incrby("{t}n", 4);
    assert.deepEqual(await p.exec(), [1, 5]);
  }
});

test("ioredis over RESP through the same Keel", async () => {
  const io = new IORedis({ port: keel.port, password: TOKEN });
  try {
    await io.set("io:k", "1");
    assert.equal(await io.incr("io:k"), 2);
    const keys = [];
    let cursor = "0";
    do {
      const [next, batch] = await io.scan(cursor, "MATCH", "k:*", "COUNT", 10);
      keys.push(...batch);
      cursor = next;
    } while (cursor !== "0");
    assert.equal(new Set(keys).size, 30);
  } finally {
    io.disconnect();
  }
});
