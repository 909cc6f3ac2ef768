// ioredis with `tls:` options against a spawned Keel's tls-port (adapters/tls),
// with a test CA, server and client certificates made by `openssl` here
// (as tests/integration/tls_certs.py makes them): commands, a large
// pipeline, pub/sub, and refusals (wrong CA, no client certificate).
// Binary: $KEEL_BIN (relative to the repo root), else build-test/keel, else build/keel.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import Redis from "ioredis";
import { freePort, startKeel } from "./keel_spawn.mjs";

let keel, tlsPort, workdir;
const pem = {};

function openssl(...args) {
  execFileSync("openssl", args, { cwd: workdir, stdio: ["ignore", "ignore", "pipe"] });
}

function makeCerts() {
  const ca = (name, cn) => openssl("req", "-x509", "-new", "-nodes", "-newkey", "rsa:2048",
    "-keyout", `${name}.key`, "-out", `${name}.crt`, "-days", "30", "-subj", `/CN=${cn}`);
  const leaf = (name, cn, signer, san) => {
    const req = ["req", "-new", "-nodes", "-newkey", "rsa:2048", "-keyout", `${name}.key`,
      "-out", `${name}.csr`, "-subj", `/CN=${cn}`];
    if (san) req.push("-addext", `subjectAltName=${san}`);
    openssl(...req);
    openssl("x509", "-req", "-in", `${name}.csr`, "-CA", `${signer}.crt`, "-CAkey",
      `${signer}.key`, "-CAcreateserial", "-out", `${name}.crt`, "-days", "30",
      "-copy_extensions", "copy");
  };
  ca("ca", "Keel Test CA");
  ca("other_ca", "Other Test CA");
  leaf("server", "localhost", "ca", "DNS:localhost,IP:127.0.0.1");
  leaf("client", "alice", "ca");
  for (const n of ["ca.crt", "other_ca.crt", "client.crt", "client.key"])
    pem[n] = readFileSync(path.join(workdir, n));
}

before(async () => {
  tlsPort = await freePort();
  workdir = mkdtempSync(path.join(os.tmpdir(), "keel-node-tls-"));
  makeCerts();
  keel = await startKeel({ workdir, args: ["--tls-port", String(tlsPort),
    "--tls-cert-file", path.join(workdir, "server.crt"),
    "--tls-key-file", path.join(workdir, "server.key"),
    "--tls-ca-cert-file", path.join(workdir, "ca.crt")] });
});

after(async () => { if (keel) await keel.stop(); });

function tlsOpts(over = {}) {
  return { ca: pem["ca.crt"], cert: pem["client.crt"], key: pem["client.key"],
    servername: "localhost", ...over };
}

async function connect(tls = tlsOpts()) {
  const client = new Redis({ port: tlsPort, host: "localhost", lazyConnect: true,
    maxRetriesPerRequest: 1, retryStrategy: () => null, tls });
  const errors = [];
  client.on("error", (e) => errors.push(e));
  try {
    await client.connect();
  } catch (e) {
    client.disconnect();
    throw new Error(`${e.message}; client errors: ${errors.map((x) => x.message).join(" | ")}`);
  }
  client.testErrors = errors;
  return client;
}

test("connects over TLS and runs commands", async () => {
  const r = await connect();
  assert.equal(r.status, "ready");
  assert.equal(await r.ping(), "PONG");
  assert.equal(await r.set("tk", "tv"), "OK");
  assert.equal(await r.get("tk"), "tv");
  assert.equal(await r.incrby("tn", 41), 41);
  assert.deepEqual(r.testErrors, []);
  await r.quit();
});

test("a large pipeline and large values", async () => {
  const r = await connect();
  const big = "z".repeat(2 * 1024 * 1024);
  assert.equal(await r.set("big", big), "OK");
  assert.equal(await r.get("big"), big);
  const p = r.pipeline();
  for (let i = 0; i < 3000; i++) p.set(`p${i}`, String(i).repeat(40));
  for (let i = 0; i < 3000; i++) p.get(`p${i}`);
  const res = await p.exec();
  for (let i = 0; i < 3000; i++) {
    assert.deepEqual(res[i], [null, "OK"]);
    assert.deepEqual(res[3000 + i], [null, String(i).repeat(40)]);
  }
  await r.quit();
});

test("pub/sub over TLS", async () => {
  const sub = await connect();
  const pub = await connect();
  const got = new Promise((resolve) => sub.on("message", (ch, msg) => resolve([ch, msg])));
  await sub.subscribe("news");
  assert.equal(await pub.publish("news", "hi"), 1);
  assert.deepEqual(await got, ["news", "hi"]);
  await sub.quit();
  await pub.quit();
});

test("a server certificate of another CA is refused", async () => {
  await assert.rejects(connect(tlsOpts({ ca: pem["other_ca.crt"] })));
});

test("no client certificate: refused (tls-auth-clients yes)", async () => {
  await assert.rejects(connect({ ca: pem["ca.crt"], servername: "localhost" }));
});

test("a wrong host name is refused", async () => {
  await assert.rejects(connect(tlsOpts({ servername: "wrong.example" })));
});
