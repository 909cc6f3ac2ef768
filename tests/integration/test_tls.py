"""TLS on every port (adapters/tls): tls-port speaking RESP, https-port
speaking HTTP and WebSocket, with certificates made by `openssl` at test time
(tls_certs.py).

Clients: redis-cli --tls, redis-py with ssl options, curl --cacert, a Python
WSS client (websocket-client with sslopt); ioredis is in node/. Refused: an
expired, a wrong-CA and a wrong-hostname server certificate, a client
without a certificate when tls-auth-clients is yes, a client certificate of
another CA or expired. Certificates reload with CONFIG SET (new connections
get the new one, open ones keep theirs). Garbage on the TLS port closes that
connection only. Differential against redis-server 7.0 started with the same
files: replies over TLS, CONFIG SET errors, refusals.
"""

import hashlib
import os
import select
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time

import pytest

import harness
from harness import ServerProcess, free_port, parse_one
from test_http_helpers import wait_port
import tls_certs

try:
    import redis
except ImportError:  # pragma: no cover - the wrong interpreter
    redis = None
try:
    import websocket
except ImportError:  # pragma: no cover
    websocket = None

HOST = "127.0.0.1"


@pytest.fixture(scope="module")
def certs():
    d = tempfile.mkdtemp(prefix="keel-tls-")
    try:
        yield tls_certs.make_certs(d)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def tls_args(c):
    return ["--tls-cert-file", c["server.crt"], "--tls-key-file", c["server.key"],
            "--tls-ca-cert-file", c["ca.crt"]]


class TlsServer:
    """A server with a plain port (the harness's PING probe), a TLS port and,
    for Keel, HTTP and HTTPS ports."""

    def __init__(self, name, certs, extra=(), oracle=False):
        self.certs = certs
        self.extra = list(extra)
        self.oracle = oracle
        self.tls = self.http = self.https = None
        self.srv = ServerProcess(name, self._argv)

    def _argv(self, port):
        self.tls = free_port()
        if self.oracle:
            return harness.oracle_argv(port) + ["--tls-port", str(self.tls)] + \
                tls_args(self.certs) + self.extra
        self.http, self.https = free_port(), free_port()
        return harness.keel_argv(port) + ["--tls-port", str(self.tls), "--http-port",
                                          str(self.http), "--https-port", str(self.https)] + \
            tls_args(self.certs) + self.extra

    @property
    def port(self):
        return self.srv.port

    def start(self):
        self.srv.start()
        assert wait_port(self.tls, HOST, 10.0), self.srv.stderr_tail()
        if self.https:
            assert wait_port(self.https, HOST, 10.0), self.srv.stderr_tail()
        return self

    def plain(self, *cmd):
        with harness.RawConn(self.port) as c:
            c.send(harness.encode(cmd))
            return parse_one(c.read_reply())[0]

    def client(self, cert="client", ca="ca.crt", **kw):
        c = self.certs
        opts = dict(host="localhost", port=self.tls, ssl=True, ssl_ca_certs=c[ca],
                    socket_timeout=10)
        if cert:
            opts.update(ssl_certfile=c[cert + ".crt"], ssl_keyfile=c[cert + ".key"])
        opts.update(kw)
        return redis.Redis(**opts)


def server_fixture(name, oracle=False, extra=()):
    @pytest.fixture(scope="module", name=name)
    def _fix(certs):
        s = TlsServer(name, certs, extra, oracle=oracle)
        s.start()
        try:
            yield s
        finally:
            problem = s.srv.stop()
            s.srv.cleanup()
            if problem:
                pytest.fail("at shutdown: " + problem, pytrace=False)
    return _fix


tkeel = server_fixture("tkeel")
toracle = server_fixture("toracle", oracle=True)


@pytest.fixture(autouse=True)
def _health(request):
    yield
    for name in ("tkeel", "keel_opt"):
        if name in request.fixturenames:
            s = request.getfixturevalue(name)
            problem = s.srv.health(probe=True)
            assert problem is None, problem


def redis_cli(port, *args, certs, cert="client", ca="ca.crt", stdin=None):
    argv = ["redis-cli", "-h", "localhost", "-p", str(port), "--tls", "--cacert", certs[ca]]
    if cert:
        argv += ["--cert", certs[cert + ".crt"], "--key", certs[cert + ".key"]]
    p = subprocess.run(argv + list(args), input=stdin, capture_output=True, timeout=20)
    return p.returncode, p.stdout, p.stderr


def handshake(port, certs, cert=None, ca="ca.crt", hostname="localhost", **ctxopts):
    """A TLS handshake with Python's ssl; the connected socket or the
    exception it raised."""
    ctx = ssl.create_default_context(cafile=certs[ca])
    for k, v in ctxopts.items():
        setattr(ctx, k, v)
    if cert:
        ctx.load_cert_chain(certs[cert + ".crt"], certs[cert + ".key"])
    s = socket.create_connection((HOST, port), timeout=5)
    try:
        t = ctx.wrap_socket(s, server_hostname=hostname)
        # TLS 1.3: a refused client certificate shows at the first read.
        t.sendall(b"*1\r\n$4\r\nPING\r\n")
        got = t.recv(100)
        if not got:
            raise ConnectionResetError("closed")
        assert got == b"+PONG\r\n"
        return t
    except (ssl.SSLError, OSError) as e:
        s.close()
        return e


# ---- clients ----

def test_redis_cli_tls_same_as_redis(tkeel, toracle, certs):
    script = b"SET k v\nGET k\nINCR n\nINCR n\nLPUSH l a b c\nLRANGE l 0 -1\nGET missing\n" \
             b"HSET h f 1\nHGETALL h\nDEL k l h n\n"
    outs = [redis_cli(s.tls, certs=certs, stdin=script) for s in (tkeel, toracle)]
    assert outs[0][0] == 0 and outs[0][1] == outs[1][1], outs


def test_redis_cli_without_client_cert_refused_like_redis(tkeel, toracle, certs):
    for s in (tkeel, toracle):
        rc, out, err = redis_cli(s.tls, "PING", certs=certs, cert=None)
        assert rc != 0 and b"PONG" not in out, (s.srv.name, rc, out, err)


def test_redis_py_tls(tkeel):
    r = tkeel.client()
    assert r.set("a", "1") is True
    assert r.get("a") == b"1"
    big = os.urandom(3 * 1024 * 1024)
    r.set("big", big)
    assert r.get("big") == big
    # A pipeline larger than any one read or record: decrypted input that
    # waits in SSL (SSL_pending) is taken without new socket input.
    p = r.pipeline(transaction=False)
    for i in range(2000):
        p.set("p%d" % i, str(i) * 50)
    for i in range(2000):
        p.get("p%d" % i)
    res = p.execute()
    assert res[:2000] == [True] * 2000
    assert res[2000:] == [(str(i) * 50).encode() for i in range(2000)]
    vals = r.mget(["p%d" % i for i in range(2000)])
    assert vals[1999] == b"1999" * 50
    r.delete("big", "a", *["p%d" % i for i in range(2000)])
    r.close()


def test_pubsub_over_tls(tkeel):
    sub = tkeel.client()
    ps = sub.pubsub()
    ps.subscribe("ch")
    assert ps.get_message(timeout=5)["type"] == "subscribe"
    pub = tkeel.client()
    assert pub.publish("ch", "hello") == 1
    msg = ps.get_message(timeout=5)
    assert msg["data"] == b"hello"
    ps.close()
    pub.close()


def test_plain_and_tls_ports_share_the_store(tkeel):
    r = tkeel.client()
    r.set("shared", "x")
    assert tkeel.plain("GET", "shared") == b"x"
    r.delete("shared")
    r.close()


def test_curl_https(tkeel, certs):
    tkeel.client().set("web", "hello")
    base = ["curl", "-sS", "--max-time", "10", "--cacert", certs["ca.crt"]]
    ok = subprocess.run(base + ["--cert", certs["client.crt"], "--key", certs["client.key"],
                                "https://localhost:%d/GET/web" % tkeel.https],
                        capture_output=True, timeout=20)
    assert ok.returncode == 0 and ok.stdout == b'{"GET":"hello"}', ok
    # No client certificate: refused (tls-auth-clients yes).
    no = subprocess.run(base + ["https://localhost:%d/GET/web" % tkeel.https],
                        capture_output=True, timeout=20)
    assert no.returncode != 0 and b"hello" not in no.stdout
    # Plain HTTP on the HTTPS port: no answer in clear text.
    plain = subprocess.run(["curl", "-sS", "--max-time", "5",
                            "http://localhost:%d/GET/web" % tkeel.https],
                           capture_output=True, timeout=20)
    assert plain.returncode != 0 and b"hello" not in plain.stdout


@pytest.mark.skipif(websocket is None, reason="websocket-client missing")
def test_wss(tkeel, certs):
    tkeel.client().set("wsk", "wv")
    sslopt = {"ca_certs": certs["ca.crt"], "certfile": certs["client.crt"],
              "keyfile": certs["client.key"]}
    ws = websocket.create_connection("wss://localhost:%d/.json" % tkeel.https, sslopt=sslopt,
                                     timeout=10)
    ws.send('["GET","wsk"]')
    assert ws.recv() == '{"GET":"wv"}'
    big = "x" * 200000
    ws.send('["SET","wbig","%s"]' % big)
    assert ws.recv() == '{"SET":[true,"OK"]}'
    ws.send('["STRLEN","wbig"]')
    assert ws.recv() == '{"STRLEN":200000}'
    ws.close()
    # RESP mode over WSS.
    ws = websocket.create_connection("wss://localhost:%d/.raw" % tkeel.https, sslopt=sslopt,
                                     timeout=10)
    ws.send("*2\r\n$3\r\nGET\r\n$3\r\nwsk\r\n")
    assert ws.recv() in ("$2\r\nwv\r\n", b"$2\r\nwv\r\n")
    ws.close()


# ---- refusals ----

def test_client_without_certificate_refused(tkeel, certs):
    assert isinstance(handshake(tkeel.tls, certs), Exception)
    assert isinstance(handshake(tkeel.https, certs), Exception)


def test_client_certificate_of_other_ca_refused(tkeel, certs):
    assert isinstance(handshake(tkeel.tls, certs, cert="other_client"), Exception)


def test_expired_client_certificate_refused(tkeel, certs):
    assert isinstance(handshake(tkeel.tls, certs, cert="client_expired"), Exception)


def test_server_of_wrong_ca_refused_by_client(tkeel, certs):
    e = handshake(tkeel.tls, certs, cert="client", ca="other_ca.crt")
    assert isinstance(e, ssl.SSLCertVerificationError), e


def test_client_certificate_accepted(tkeel, certs):
    t = handshake(tkeel.tls, certs, cert="client")
    assert isinstance(t, ssl.SSLSocket), t
    t.close()


def reload_cert(s, name):
    c = s.certs
    return s.plain("CONFIG", "SET", "tls-cert-file", c[name + ".crt"], "tls-key-file",
                   c[name + ".key"])


def test_expired_and_wrong_hostname_server_certificates_refused(tkeel, certs):
    try:
        assert reload_cert(tkeel, "expired") == b"OK"
        e = handshake(tkeel.tls, certs, cert="client")
        assert isinstance(e, ssl.SSLCertVerificationError) and "expired" in str(e), e
        e = handshake(tkeel.https, certs, cert="client")
        assert isinstance(e, ssl.SSLCertVerificationError), e
        assert reload_cert(tkeel, "wrongname") == b"OK"
        e = handshake(tkeel.tls, certs, cert="client")
        assert isinstance(e, ssl.SSLCertVerificationError) and "mismatch" in str(e), e
        # redis-py checks the name too.
        with pytest.raises(redis.exceptions.ConnectionError):
            tkeel.client(ssl_check_hostname=True).ping()
        # The right name is accepted with the same certificate.
        t = handshake(tkeel.tls, certs, cert="client", hostname="wrong.example")
        assert isinstance(t, ssl.SSLSocket), t
        t.close()
    finally:
        assert reload_cert(tkeel, "server") == b"OK"


def server_fingerprint(port, certs):
    ctx = ssl.create_default_context(cafile=certs["ca.crt"])
    ctx.load_cert_chain(certs["client.crt"], certs["client.key"])
    with socket.create_connection((HOST, port), timeout=5) as s:
        with ctx.wrap_socket(s, server_hostname="localhost") as t:
            return hashlib.sha256(t.getpeercert(binary_form=True)).hexdigest()


def file_fingerprint(path):
    der = ssl.PEM_cert_to_DER_cert(open(path).read())
    return hashlib.sha256(der).hexdigest()


def test_certificate_reload_with_config_set(tkeel, certs):
    old = tkeel.client()
    assert old.ping()
    assert server_fingerprint(tkeel.tls, certs) == file_fingerprint(certs["server.crt"])
    try:
        assert reload_cert(tkeel, "server2") == b"OK"
        # New connections (RESP and HTTPS) get the new certificate ...
        assert server_fingerprint(tkeel.tls, certs) == file_fingerprint(certs["server2.crt"])
        assert server_fingerprint(tkeel.https, certs) == file_fingerprint(certs["server2.crt"])
        # ... the open one keeps working.
        assert old.set("still", "here") and old.get("still") == b"here"
        # A certificate whose key does not match: refused, nothing changes.
        got = tkeel.plain("CONFIG", "SET", "tls-cert-file", certs["server.crt"])
        assert isinstance(got, harness.Err)
        assert tkeel.plain("CONFIG", "GET", "tls-cert-file") == [b"tls-cert-file",
                                                               certs["server2.crt"].encode()]
        assert server_fingerprint(tkeel.tls, certs) == file_fingerprint(certs["server2.crt"])
    finally:
        assert reload_cert(tkeel, "server") == b"OK"
    old.close()


def test_config_set_errors_as_redis(tkeel, toracle, certs):
    cmds = [
        ["CONFIG", "SET", "tls-cert-file", "/nonexistent.crt"],
        ["CONFIG", "GET", "tls-cert-file"],
        ["CONFIG", "SET", "tls-key-file", "/nonexistent.key"],
        ["CONFIG", "SET", "tls-protocols", "TLSv9"],
        ["CONFIG", "GET", "tls-protocols"],
        ["CONFIG", "SET", "tls-ciphers", "NO-SUCH-CIPHER"],
        ["CONFIG", "SET", "tls-ciphersuites", "NO_SUCH_SUITE"],
        ["CONFIG", "SET", "tls-ca-cert-file", "/nonexistent.crt"],
        ["CONFIG", "SET", "tls-auth-clients", "maybe"],
        ["CONFIG", "SET", "tls-session-cache-size", "-1"],
        ["CONFIG", "SET", "tls-session-caching", "no"],
        ["CONFIG", "GET", "tls-session-caching"],
        ["CONFIG", "SET", "tls-session-caching", "yes"],
        ["CONFIG", "SET", "tls-protocols", "TLSv1.2 TLSv1.3"],
        ["CONFIG", "SET", "tls-protocols", ""],
        ["CONFIG", "SET", "tls-prefer-server-ciphers", "yes"],
        ["CONFIG", "SET", "tls-prefer-server-ciphers", "no"],
    ]
    for cmd in cmds:
        k, r = tkeel.plain(*cmd), toracle.plain(*cmd)
        if cmd[1] == "GET" and cmd[2] == "tls-cert-file":
            assert k == r == [b"tls-cert-file", certs["server.crt"].encode()]
        else:
            assert k == r, (cmd, k, r)
    # Both still serve.
    assert tkeel.client().ping() and toracle.client().ping()


def test_tls_protocols_and_ciphersuites(tkeel, certs):
    try:
        assert tkeel.plain("CONFIG", "SET", "tls-protocols", "TLSv1.3") == b"OK"
        t = handshake(tkeel.tls, certs, cert="client", maximum_version=ssl.TLSVersion.TLSv1_2)
        assert isinstance(t, ssl.SSLError), t
        t = handshake(tkeel.tls, certs, cert="client")
        assert isinstance(t, ssl.SSLSocket) and t.version() == "TLSv1.3", t
        t.close()
        assert tkeel.plain("CONFIG", "SET", "tls-protocols", "TLSv1.2") == b"OK"
        t = handshake(tkeel.tls, certs, cert="client")
        assert isinstance(t, ssl.SSLSocket) and t.version() == "TLSv1.2", t
        t.close()
        assert tkeel.plain("CONFIG", "SET", "tls-ciphersuites",
                          "TLS_CHACHA20_POLY1305_SHA256", "tls-protocols", "TLSv1.3") == b"OK"
        t = handshake(tkeel.tls, certs, cert="client")
        assert t.cipher()[0] == "TLS_CHACHA20_POLY1305_SHA256", t.cipher()
        t.close()
    finally:
        tkeel.plain("CONFIG", "SET", "tls-protocols", "", "tls-ciphersuites", "")


def test_ca_cert_dir(tkeel, certs):
    d = tempfile.mkdtemp(prefix="keel-tls-cadir-")
    try:
        shutil.copy(certs["ca.crt"], os.path.join(d, "ca.pem"))
        subprocess.run(["openssl", "rehash", d], check=True, capture_output=True)
        assert tkeel.plain("CONFIG", "SET", "tls-ca-cert-file", "", "tls-ca-cert-dir", d) == b"OK"
        t = handshake(tkeel.tls, certs, cert="client")
        assert isinstance(t, ssl.SSLSocket), t
        t.close()
        assert isinstance(handshake(tkeel.tls, certs, cert="other_client"), Exception)
        # Neither a file nor a directory while client certificates are required.
        got = tkeel.plain("CONFIG", "SET", "tls-ca-cert-dir", "")
        assert got == harness.Err(b"ERR CONFIG SET failed (possibly related to argument "
                                  b"'tls-ca-cert-dir') - Unable to update TLS configuration. "
                                  b"Check server logs."), got
    finally:
        assert tkeel.plain("CONFIG", "SET", "tls-ca-cert-file", certs["ca.crt"],
                           "tls-ca-cert-dir", "") == b"OK"
        shutil.rmtree(d, ignore_errors=True)


def resumed(port, certs):
    """Two TLS 1.2 connections, the second offering the first's session."""
    ctx = ssl.create_default_context(cafile=certs["ca.crt"])
    ctx.load_cert_chain(certs["client.crt"], certs["client.key"])
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    with ctx.wrap_socket(socket.create_connection((HOST, port), timeout=5),
                         server_hostname="localhost") as t:
        t.sendall(b"*1\r\n$4\r\nPING\r\n")
        assert t.recv(100) == b"+PONG\r\n"
        session = t.session
    with ctx.wrap_socket(socket.create_connection((HOST, port), timeout=5),
                         server_hostname="localhost", session=session) as t:
        t.sendall(b"*1\r\n$4\r\nPING\r\n")
        assert t.recv(100) == b"+PONG\r\n"
        return t.session_reused


def test_session_caching(tkeel, certs):
    assert resumed(tkeel.tls, certs) is True
    try:
        assert tkeel.plain("CONFIG", "SET", "tls-session-caching", "no") == b"OK"
        assert resumed(tkeel.tls, certs) is False
    finally:
        assert tkeel.plain("CONFIG", "SET", "tls-session-caching", "yes") == b"OK"
    assert resumed(tkeel.tls, certs) is True


def test_tls_port_moves_with_config_set(tkeel, certs):
    new = free_port()
    old = tkeel.tls
    try:
        assert tkeel.plain("CONFIG", "SET", "tls-port", str(new)) == b"OK"
        tkeel.tls = new
        assert tkeel.client().ping()
        with pytest.raises(OSError):
            socket.create_connection((HOST, old), timeout=2).close()
    finally:
        assert tkeel.plain("CONFIG", "SET", "tls-port", str(old)) == b"OK"
        tkeel.tls = old
    assert tkeel.client().ping()


# ---- garbage and stuck peers ----

def test_garbage_closes_only_that_connection(tkeel, certs):
    good = tkeel.client()
    assert good.set("g", "1")
    for payload in (b"*1\r\n$4\r\nPING\r\n", os.urandom(5000),
                    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc" + os.urandom(600),
                    b"\x16\x03\x03\x00\x05hello" * 10, b"GET / HTTP/1.1\r\n\r\n"):
        for port in (tkeel.tls, tkeel.https):
            s = socket.create_connection((HOST, port), timeout=5)
            s.sendall(payload)
            data = b""
            try:
                while True:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
            except (ConnectionResetError, socket.timeout):
                pass
            s.close()
            assert b"PONG" not in data and b"HTTP/1.1 200" not in data
    # Garbage after a good handshake: a RESP protocol error, as on the plain port.
    t = handshake(tkeel.tls, certs, cert="client")
    t.sendall(b"*x\r\n")
    assert t.recv(200).startswith(b"-ERR Protocol error")
    t.close()
    assert good.get("g") == b"1"
    assert tkeel.plain("PING") == b"PONG"
    good.close()


def test_stalled_handshake_does_not_block_others(tkeel, certs):
    # Half a ClientHello, then silence; and a peer that never reads.
    stuck = socket.create_connection((HOST, tkeel.tls), timeout=5)
    stuck.sendall(b"\x16\x03\x01\x02\x00\x01\x00")
    r = tkeel.client()
    assert r.ping()
    big = "v" * (4 * 1024 * 1024)
    r.set("huge", big)
    ctx = ssl.create_default_context(cafile=certs["ca.crt"])
    ctx.load_cert_chain(certs["client.crt"], certs["client.key"])
    slow = ctx.wrap_socket(socket.create_connection((HOST, tkeel.tls), timeout=5),
                           server_hostname="localhost")
    slow.sendall(b"*2\r\n$3\r\nGET\r\n$4\r\nhuge\r\n" * 4)  # 16 MB of replies, unread
    time.sleep(0.3)
    assert r.get("g") in (b"1", None) and r.ping()
    # Now read them all: the server resumes writing when the socket drains.
    want = (b"$%d\r\n" % len(big) + big.encode() + b"\r\n") * 4
    got = bytearray()
    slow.settimeout(20)
    while len(got) < len(want):
        chunk = slow.recv(1 << 20)
        assert chunk
        got += chunk
    assert bytes(got) == want
    slow.close()
    stuck.close()
    r.delete("huge")
    r.close()


def test_pipeline_under_backpressure(tkeel, certs):
    """Many requests sent at once while the replies back up: reading pauses
    with records still buffered inside OpenSSL (read-ahead); when the output
    drains, they are served without new socket input."""
    r = tkeel.client()
    val = b"q" * 10000
    r.set("bp", val)
    ctx = ssl.create_default_context(cafile=certs["ca.crt"])
    ctx.load_cert_chain(certs["client.crt"], certs["client.key"])
    t = ctx.wrap_socket(socket.create_connection((HOST, tkeel.tls), timeout=20),
                        server_hostname="localhost")
    n = 5000
    req = b"*2\r\n$3\r\nGET\r\n$2\r\nbp\r\n" * n + b"*1\r\n$4\r\nPING\r\n"
    want = (b"$10000\r\n" + val + b"\r\n") * n + b"+PONG\r\n"
    got = bytearray()
    sent = 0
    t.setblocking(False)
    deadline = time.monotonic() + 60
    # One thread: write while the socket takes it, read only once all is
    # sent or the send would block (the replies back up meanwhile).
    while len(got) < len(want):
        assert time.monotonic() < deadline, (sent, len(got))
        progressed = False
        if sent < len(req):
            try:
                sent += t.send(req[sent:sent + 65536])
                progressed = True
            except (ssl.SSLWantWriteError, ssl.SSLWantReadError, BlockingIOError):
                pass
        if sent == len(req) or not progressed:
            try:
                chunk = t.recv(1 << 16)
                assert chunk, len(got)
                got += chunk
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
                select.select([t], [t] if sent < len(req) else [], [], 0.5)
    assert bytes(got) == want
    t.close()
    r.delete("bp")
    r.close()


def test_https_pipelined_requests_paused_and_resumed(tkeel, certs):
    """HTTP pauses reading while 256 KB of responses wait; requests that came
    in the same socket read sit decrypted-or-not inside OpenSSL meanwhile
    (read-ahead), and must be served once the output drains, with nothing
    more arriving on the socket."""
    val = "w" * 100000
    tkeel.client().set("hp", val)
    ctx = ssl.create_default_context(cafile=certs["ca.crt"])
    ctx.load_cert_chain(certs["client.crt"], certs["client.key"])
    t = ctx.wrap_socket(socket.create_connection((HOST, tkeel.https), timeout=20),
                        server_hostname="localhost")
    one = b"GET /GET/hp.txt HTTP/1.1\r\nHost: localhost\r\n\r\n"
    n_records, per_record = 6, 8
    for _ in range(n_records):  # one TLS record each, sent back to back
        t.send(one * per_record)
    time.sleep(0.5)  # every response backs up; nothing read yet
    total = n_records * per_record
    got = bytearray()
    while got.count(b"HTTP/1.1 200") < total or not got.endswith(val.encode()):
        chunk = t.recv(1 << 16)
        assert chunk, got.count(b"HTTP/1.1 200")
        got += chunk
    assert got.count(val.encode()) == total
    t.close()


def test_many_clients_in_threads(tkeel):
    errors = []

    def work(i):
        try:
            c = tkeel.client()
            for j in range(50):
                c.set("t%d:%d" % (i, j), j)
                assert c.get("t%d:%d" % (i, j)) == str(j).encode()
            c.close()
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    ts = [threading.Thread(target=work, args=(i,)) for i in range(10)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors, errors


# ---- protected mode over TLS ----

def own_ipv4():
    """This machine's first non-loopback IPv4 address, or None."""
    out = subprocess.run(["ip", "-o", "-4", "addr", "show"], capture_output=True, text=True,
                         timeout=5).stdout
    for line in out.splitlines():
        parts = line.split()
        if "inet" in parts:
            ip = parts[parts.index("inet") + 1].split("/")[0]
            if not ip.startswith("127."):
                return ip
    return None


def test_protected_mode_denied_over_tls_like_redis(certs):
    """A non-loopback peer with no password set: -DENIED over TLS after the
    handshake, then the close, byte for byte as redis-server."""
    ip = own_ipv4()
    if not ip:
        pytest.skip("no non-loopback IPv4 address to connect from")
    got = {}
    for name, oracle in (("keel", False), ("redis", True)):
        s = TlsServer("tls-protected-" + name, certs, ["--bind", "127.0.0.1 " + ip],
                      oracle=oracle)
        s.start()
        try:
            ctx = ssl.create_default_context(cafile=certs["ca.crt"])
            ctx.load_cert_chain(certs["client.crt"], certs["client.key"])
            raw = socket.create_connection((ip, s.tls), timeout=5)
            if raw.getsockname()[0].startswith("127."):
                pytest.skip("connections to %s come from a loopback address" % ip)
            t = ctx.wrap_socket(raw, server_hostname="localhost")
            data = b""
            try:
                while True:
                    chunk = t.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            except (ssl.SSLError, ConnectionResetError):
                pass
            t.close()
            got[name] = data
            assert s.plain("PING") == b"PONG"
        finally:
            problem = s.srv.stop()
            s.srv.cleanup()
        assert problem is None, problem
    assert got["keel"].startswith(b"-DENIED Redis is running in protected mode")
    assert got["keel"] == got["redis"]


# ---- tls-auth-clients optional / no, the key pass, start-up ----

keel_opt = server_fixture("keel_opt", extra=["--tls-auth-clients", "optional"])


def test_auth_clients_optional_and_no(keel_opt, certs):
    s = keel_opt
    t = handshake(s.tls, certs)  # no certificate: fine
    assert isinstance(t, ssl.SSLSocket), t
    t.close()
    t = handshake(s.tls, certs, cert="client")
    assert isinstance(t, ssl.SSLSocket), t
    t.close()
    # optional still verifies a certificate that is given.
    assert isinstance(handshake(s.tls, certs, cert="other_client"), Exception)
    try:
        assert s.plain("CONFIG", "SET", "tls-auth-clients", "no") == b"OK"
        t = handshake(s.tls, certs, cert="other_client")
        assert isinstance(t, ssl.SSLSocket), t
        t.close()
    finally:
        assert s.plain("CONFIG", "SET", "tls-auth-clients", "optional") == b"OK"


def test_encrypted_key_with_pass(certs):
    s = TlsServer("keel_pass", certs, ["--tls-key-file", certs["server_enc.key"],
                                       "--tls-key-file-pass", "s3cret"])
    s.start()
    try:
        assert s.client().ping()
        assert s.plain("CONFIG", "GET", "tls-key-file-pass") == [b"tls-key-file-pass", b"s3cret"]
        # A wrong pass: the reload fails, the old context stays.
        got = s.plain("CONFIG", "SET", "tls-key-file-pass", "wrong")
        assert got == harness.Err(b"ERR CONFIG SET failed (possibly related to argument "
                                  b"'tls-key-file-pass') - Unable to update TLS configuration. "
                                  b"Check server logs."), got
        assert s.client().ping()
    finally:
        problem = s.srv.stop()
        s.srv.cleanup()
    assert problem is None, problem


@pytest.mark.parametrize("binary", ["keel", "redis"])
def test_start_without_certificate_fails(binary, tmp_path):
    port, tls = free_port(), free_port()
    if binary == "keel":
        argv = harness.keel_argv(port) + ["--tls-port", str(tls)]
    else:
        argv = harness.oracle_argv(port) + ["--tls-port", str(tls)]
    p = subprocess.run(argv, cwd=str(tmp_path), capture_output=True, timeout=20)
    assert p.returncode != 0
    assert b"No tls-cert-file configured!" in p.stdout + p.stderr


def test_client_certificate_logs_in_as_its_cn_user(tkeel, certs):
    """tls-auth-clients-user CN: a verified client certificate (CN=alice)
    logs its connection in as the ACL user alice; off (the default) or no
    such user leaves it the default user."""
    def whoami():
        t = handshake(tkeel.tls, certs, cert="client")
        assert isinstance(t, ssl.SSLSocket), t
        t.sendall(b"*2\r\n$3\r\nACL\r\n$6\r\nWHOAMI\r\n")
        got = t.recv(100)
        t.close()
        return got
    try:
        assert whoami() == b"$7\r\ndefault\r\n"
        assert tkeel.plain("CONFIG", "SET", "tls-auth-clients-user", "CN") == b"OK"
        assert whoami() == b"$7\r\ndefault\r\n"  # no user alice yet
        tkeel.plain("ACL", "SETUSER", "alice", "on", ">secret", "+@all", "~*")
        assert whoami() == b"$5\r\nalice\r\n"
        tkeel.plain("ACL", "SETUSER", "alice", "off")
        assert whoami() == b"$7\r\ndefault\r\n"
    finally:
        tkeel.plain("CONFIG", "SET", "tls-auth-clients-user", "off")
        tkeel.plain("ACL", "DELUSER", "alice")
