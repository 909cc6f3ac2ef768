// Keel's console over HTTPS (https-port, adapters/tls) in headless Chromium:
// the page is loaded from https://localhost with a test CA made by `openssl`
// here, trusted the way a user trusts a CA: added to the NSS database of
// Chromium's home ($HOME/.pki/nssdb, with certutil from libnss3-tools);
// without certutil, the server certificate's SPKI hash is pinned with
// --ignore-certificate-errors-spki-list (also with KEEL_TLS_SPKI=1). Never
// --ignore-certificate-errors.
// The page's WebSocket is then wss:// to the same origin; SET/GET run over it.
// Binary: $KEEL_BIN (relative to the repo root), else build-test/keel, else build/keel.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync } from "node:fs";
import crypto from "node:crypto";
import os from "node:os";
import path from "node:path";
import { freePort, launchChromium, startKeel, consoleRun, waitText as waitTextIn, redisCli as cli } from "./browser.mjs";

let keel, port, https, workdir, context, page, trust;
const pageErrors = [];

function openssl(...args) {
  execFileSync("openssl", args, { cwd: workdir, stdio: ["ignore", "ignore", "pipe"] });
}

function haveCertutil() {
  try {
    execFileSync("certutil", ["-H"], { stdio: "ignore" });
  } catch (e) {
    if (e.code === "ENOENT") return false;
  }
  return true;
}

before(async () => {
  https = await freePort();
  workdir = mkdtempSync(path.join(os.tmpdir(), "keel-browser-tls-"));
  openssl("req", "-x509", "-new", "-nodes", "-newkey", "rsa:2048", "-keyout", "ca.key",
    "-out", "ca.crt", "-days", "30", "-subj", "/CN=Keel Test CA",
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
  openssl("req", "-new", "-nodes", "-newkey", "rsa:2048", "-keyout", "server.key",
    "-out", "server.csr", "-subj", "/CN=localhost",
    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
    "-addext", "extendedKeyUsage=serverAuth");
  openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
    "-CAcreateserial", "-out", "server.crt", "-days", "30", "-copy_extensions", "copy");
  const chromeHome = path.join(workdir, "home");
  const chromeArgs = [];
  if (!process.env.KEEL_TLS_SPKI && haveCertutil()) { // KEEL_TLS_SPKI=1: the pin instead
    const db = path.join(chromeHome, ".pki", "nssdb");
    mkdirSync(db, { recursive: true });
    execFileSync("certutil", ["-N", "-d", `sql:${db}`, "--empty-password"]);
    execFileSync("certutil", ["-A", "-d", `sql:${db}`, "-n", "Keel Test CA", "-t", "C,,",
      "-i", path.join(workdir, "ca.crt")]);
    trust = "nssdb";
  } else {
    const spki = crypto.createHash("sha256").update(
      new crypto.X509Certificate(readFileSync(path.join(workdir, "server.crt"))).publicKey
        .export({ type: "spki", format: "der" })).digest("base64");
    chromeArgs.push(`--ignore-certificate-errors-spki-list=${spki}`);
    trust = "spki";
  }
  keel = await startKeel({ workdir, args: ["--https-port", String(https),
    "--tls-cert-file", path.join(workdir, "server.crt"),
    "--tls-key-file", path.join(workdir, "server.key"), "--tls-auth-clients", "no"] });
  port = keel.port;
  // wrong.example reaches the server too: a name its certificate lacks.
  context = await launchChromium(workdir,
    ["--host-resolver-rules=MAP wrong.example 127.0.0.1", ...chromeArgs],
    { ...process.env, HOME: chromeHome });
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

test("the console loads over https with the test CA and talks over wss", async () => {
  const resp = await page.goto(`https://localhost:${https}/_console`);
  assert.equal(resp.status(), 200);
  const sec = await resp.securityDetails();
  assert.ok(sec, "no TLS details");
  if (trust === "nssdb") assert.equal(sec.issuer, "Keel Test CA");
  assert.equal(sec.subjectName, "localhost");
  await page.waitForSelector("#status.open", { timeout: 10000 });
  assert.equal(await page.evaluate(() => location.protocol), "https:");

  await run('SET secure "over wss"');
  await waitText("#log", '[true,"OK"]');
  assert.equal(await redisCli("GET", "secure"), "over wss");
  await run("GET secure");
  await waitText("#log", '"over wss"');
  // The browser's WebSocket is a client on the HTTPS port.
  assert.match(await redisCli("CLIENT", "LIST"), new RegExp(`laddr=127\\.0\\.0\\.1:${https} `));
  assert.deepEqual(pageErrors, []);
});

test("a host name the certificate does not name is refused", async (t) => {
  // A pinned SPKI overrides every certificate error, the name's too.
  if (trust === "spki") return t.skip("the SPKI pin accepts any name");
  const other = await context.newPage();
  await assert.rejects(other.goto(`https://wrong.example:${https}/_console`, { timeout: 10000 }),
    /ERR_CERT_COMMON_NAME_INVALID/);
  await other.close();
});
