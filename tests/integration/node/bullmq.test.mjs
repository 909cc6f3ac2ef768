// BullMQ (npm) running a queue end to end against a spawned Keel: its Lua
// scripts (cmsgpack, streams for events), blocking BZPOPMIN/BRPOPLPUSH
// moves, delayed jobs, retries, and the event stream a QueueEvents tails.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Queue, Worker, QueueEvents } from "bullmq";
import { useServer } from "./keel_spawn.mjs";

const server = useServer();
const serverPort = () => server().port;
const conn = () => ({ host: "127.0.0.1", port: serverPort(), maxRetriesPerRequest: null });

test("a BullMQ queue: jobs added, processed, completed and failed with retries", async () => {
  const name = "q" + Date.now();
  const queue = new Queue(name, { connection: conn() });
  const events = new QueueEvents(name, { connection: conn() });
  await events.waitUntilReady();
  const seen = [];
  const worker = new Worker(name, async (job) => {
    seen.push(job.name);
    if (job.name === "flaky" && job.attemptsMade < 1) throw new Error("try again");
    return { doubled: job.data.n * 2 };
  }, { connection: conn(), concurrency: 2 });

  const completed = new Promise((resolve) => {
    const done = new Set();
    events.on("completed", ({ jobId }) => { done.add(jobId); if (done.size === 4) resolve(done); });
  });
  const a = await queue.add("a", { n: 1 });
  const b = await queue.add("b", { n: 2 }, { priority: 1 });
  const d = await queue.add("delayed", { n: 3 }, { delay: 200 });
  const f = await queue.add("flaky", { n: 4 }, { attempts: 3, backoff: { type: "fixed", delay: 50 } });
  const done = await completed;
  for (const j of [a, b, d, f]) assert.ok(done.has(j.id), `job ${j.name} completed`);
  assert.deepEqual((await queue.getJob(f.id)).returnvalue, { doubled: 8 });
  assert.equal((await queue.getJob(f.id)).attemptsMade, 2);
  const counts = await queue.getJobCounts("completed", "failed", "wait", "delayed", "active");
  assert.deepEqual(counts, { completed: 4, failed: 0, wait: 0, delayed: 0, active: 0 });
  assert.ok(seen.filter((n) => n === "flaky").length === 2);
  await worker.close();
  await events.close();
  await queue.obliterate({ force: true });
  await queue.close();
});
