"""Shared plumbing of the HTTP adapter tests (test_http.py, test_http_webdis.py).

Holds no tests (pytest collects this module and finds none). What is here:

- KeelHttp: a Keel process with an HTTP port (`--http-port N`), started with
  harness.ServerProcess (so sanitizer reports and crashes are caught the same
  way as for the `keel` fixture) plus extra config arguments.
- WebdisPair: Debian's redis-server 7.0 with Debian's webdis 0.1.9 in front.
- HttpConn: a raw HTTP/1.x client on a socket (exact bytes: pipelining,
  partial requests, chunked streams, connection close), and Response, the
  parsed answer (status, headers, body, chunks).
- get()/request(): one request on a fresh connection.
"""

import base64
import hashlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

import harness
from harness import ServerProcess, free_port, RawConn, encode

HOST = "127.0.0.1"


# --------------------------------------------------------------------------
# Servers

def wait_port(port, host=HOST, timeout=10.0):
    deadline = time.monotonic() + timeout
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    while time.monotonic() < deadline:
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.settimeout(0.5)
        try:
            s.connect((host, port))
            return True
        except OSError:
            time.sleep(0.05)
        finally:
            s.close()
    return False


class KeelHttp:
    """A Keel server with its RESP port (.port) and HTTP port (.http).

    args: extra command-line config, e.g. ["--requirepass", "secret"].
    http_host: where the HTTP port is reached (with --http-bind ::1, "::1")."""

    def __init__(self, args=(), name="keel-http", http_host=HOST):
        self.args = list(args)
        self.http = None
        self.http_host = http_host
        self.srv = ServerProcess(name, self._argv)

    def _argv(self, port):
        self.http = free_port()
        return harness.keel_argv(port) + ["--http-port", str(self.http)] + self.args

    @property
    def port(self):
        return self.srv.port

    def start(self):
        self.srv.start()
        if not wait_port(self.http, self.http_host, 10.0):
            problem = self.srv.stop()
            raise RuntimeError("Keel answers PING on %d but its HTTP port %d does not accept "
                               "connections (%s)\n%s" % (self.srv.port, self.http, problem,
                                                         self.srv.stderr_tail()))
        return self

    def stop(self):
        problem = self.srv.stop()
        self.srv.cleanup()
        return problem

    def health(self):
        return self.srv.health(probe=True)

    def ensure_running(self):
        if not self.srv.alive():
            self.start()

    def resp(self, *cmd, timeout=5.0):
        """One RESP command on a fresh connection; the parsed reply."""
        with RawConn(self.port, timeout=timeout) as c:
            c.send(encode(cmd))
            return harness.parse_one(c.read_reply())[0]

    def flushall(self):
        assert self.resp("FLUSHALL") == b"OK"


def keel_http_fixture(args=(), **kw):
    """A generator for a fixture: start, yield, and fail the test (or the
    module teardown) that crashed the server or made it report."""
    srv = KeelHttp(args, **kw)
    try:
        srv.start()
    except RuntimeError as e:
        pytest.fail(str(e), pytrace=False)
    try:
        yield srv
    finally:
        problem = srv.stop()
        if problem:
            pytest.fail("at shutdown: " + problem, pytrace=False)


def check_health(*servers):
    problems = [p for p in (s.health() for s in servers) if p]
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


class WebdisPair:
    """redis-server 7.0 (the oracle) with webdis in front of it."""

    def __init__(self, extra_conf=None):
        self.extra_conf = dict(extra_conf or {})  # more webdis.json keys
        self.dir = tempfile.mkdtemp(prefix="keel-it-webdis-")
        self.redis = ServerProcess("webdis-redis", harness.oracle_argv)
        self.proc = None
        self.http = None

    @property
    def redis_port(self):
        return self.redis.port

    def start(self):
        self.redis.start()
        for _attempt in range(3):
            self.http = free_port()
            conf = {
                "redis_host": HOST, "redis_port": self.redis.port, "redis_auth": None,
                "http_host": HOST, "http_port": self.http, "threads": 2,
                "daemonize": False, "database": 0, "verbosity": 1,
                "logfile": os.path.join(self.dir, "webdis.log"),
            }
            conf.update(self.extra_conf)
            path = os.path.join(self.dir, "webdis.json")
            with open(path, "w") as f:
                json.dump(conf, f)
            self.proc = subprocess.Popen(["webdis", path], cwd=self.dir,
                                         stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if wait_port(self.http, HOST, 5.0) and self.proc.poll() is None:
                return self
            self._kill()
        raise RuntimeError("webdis did not start")

    def _kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def stop(self):
        self._kill()
        self.redis.stop()
        self.redis.cleanup()
        shutil.rmtree(self.dir, ignore_errors=True)

    def resp(self, *cmd):
        with RawConn(self.redis.port) as c:
            c.send(encode(cmd))
            return harness.parse_one(c.read_reply())[0]

    def flushall(self):
        assert self.resp("FLUSHALL") == b"OK"


def have_webdis():
    return shutil.which("webdis") is not None


# --------------------------------------------------------------------------
# HTTP messages

class Incomplete(Exception):
    pass


class Response:
    def __init__(self, version, status, reason, headers, body, chunks=None, raw=b""):
        self.version = version        # "HTTP/1.1"
        self.status = status          # int
        self.reason = reason          # str
        self.header_list = headers    # [(name, value)] as sent
        self.body = body              # bytes (de-chunked)
        self.chunks = chunks          # [bytes] when chunked, else None
        self.raw = raw

    def header(self, name, default=None):
        name = name.lower()
        for k, v in self.header_list:
            if k.lower() == name:
                return v
        return default

    def headers_named(self, name):
        name = name.lower()
        return [v for k, v in self.header_list if k.lower() == name]

    @property
    def content_type(self):
        return self.header("content-type")

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        b = self.body if len(self.body) < 300 else self.body[:300] + b"..."
        return "<%s %d %s %r %r>" % (self.version, self.status, self.reason, self.header_list, b)


def _parse_head(buf, pos):
    end = buf.find(b"\r\n\r\n", pos)
    if end < 0:
        raise Incomplete()
    lines = bytes(buf[pos:end]).split(b"\r\n")
    parts = lines[0].decode("latin-1").split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/"):
        raise AssertionError("not an HTTP status line: %r" % lines[0])
    version, status = parts[0], int(parts[1])
    reason = parts[2] if len(parts) > 2 else ""
    headers = []
    for ln in lines[1:]:
        k, _, v = ln.decode("latin-1").partition(":")
        headers.append((k.strip(), v.strip()))
    return version, status, reason, headers, end + 4


def _parse_chunks(buf, pos):
    """De-chunk from pos: (chunks, pos after the last CRLF) or Incomplete."""
    chunks = []
    while True:
        le = buf.find(b"\r\n", pos)
        if le < 0:
            raise Incomplete()
        size = int(bytes(buf[pos:le]).split(b";")[0], 16)
        pos = le + 2
        if size == 0:
            # trailers up to the empty line
            while True:
                le = buf.find(b"\r\n", pos)
                if le < 0:
                    raise Incomplete()
                if le == pos:
                    return chunks, pos + 2
                pos = le + 2
        if len(buf) < pos + size + 2:
            raise Incomplete()
        assert bytes(buf[pos + size:pos + size + 2]) == b"\r\n", "chunk not followed by CRLF"
        chunks.append(bytes(buf[pos:pos + size]))
        pos += size + 2


def parse_response(buf, pos=0, closed=False, head=False):
    """One complete response at buf[pos:] -> (Response, newpos)."""
    version, status, reason, headers, bpos = _parse_head(buf, pos)
    r = Response(version, status, reason, headers, b"")
    te = (r.header("transfer-encoding") or "").lower()
    cl = r.header("content-length")
    if head or 100 <= status < 200 or status in (204, 304):
        r.raw = bytes(buf[pos:bpos])
        return r, bpos
    if "chunked" in te:
        chunks, end = _parse_chunks(buf, bpos)
        r.chunks = chunks
        r.body = b"".join(chunks)
        r.raw = bytes(buf[pos:end])
        return r, end
    if cl is not None:
        n = int(cl)
        if len(buf) < bpos + n:
            raise Incomplete()
        r.body = bytes(buf[bpos:bpos + n])
        r.raw = bytes(buf[pos:bpos + n])
        return r, bpos + n
    if not closed:
        raise Incomplete()
    r.body = bytes(buf[bpos:])
    r.raw = bytes(buf[pos:])
    return r, len(buf)


class HttpConn:
    """A raw HTTP connection: send bytes, read whole responses, or read a
    streamed (chunked or close-delimited) response piece by piece."""

    def __init__(self, port, host=HOST, timeout=5.0, family=None):
        self.port = port
        self.timeout = timeout
        if family is None:
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect((host, port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.closed = False
        self.stream_head = None   # Response of a streamed reply (headers only)
        self.stream_chunked = False

    # -- io
    def send(self, data):
        if isinstance(data, str):
            data = data.encode("latin-1")
        self.sock.sendall(data)

    def _recv(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise socket.timeout()
        self.sock.settimeout(remaining)
        try:
            d = self.sock.recv(1 << 18)
        except (ConnectionResetError, BrokenPipeError):
            d = b""
        if not d:
            self.closed = True
        else:
            self.buf += d
        return d

    def request(self, method, path, headers=None, body=None, version="HTTP/1.1", host=True):
        """Send one request (Content-Length added when there is a body)."""
        self.send(build_request(method, path, headers, body, version, host))

    def read_response(self, timeout=None, head=False):
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            try:
                r, used = parse_response(self.buf, 0, self.closed, head)
                del self.buf[:used]
                return r
            except Incomplete:
                if self.closed:
                    raise AssertionError("connection closed before a complete response; got %r"
                                         % bytes(self.buf[:500]))
            try:
                self._recv(deadline)
            except (socket.timeout, TimeoutError):
                raise AssertionError("timed out waiting for a response; got %r"
                                     % bytes(self.buf[:500]))

    def read_responses(self, n, timeout=None):
        return [self.read_response(timeout) for _ in range(n)]

    def roundtrip(self, method, path, headers=None, body=None, **kw):
        self.request(method, path, headers, body, **kw)
        return self.read_response()

    def get(self, path, headers=None):
        return self.roundtrip("GET", path, headers)

    # -- streams
    def read_stream_head(self, timeout=None):
        """Headers of a streamed response (chunked or until close)."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            try:
                version, status, reason, headers, bpos = _parse_head(self.buf, 0)
                break
            except Incomplete:
                if self.closed:
                    raise AssertionError("closed before response headers; got %r"
                                         % bytes(self.buf[:500]))
            try:
                self._recv(deadline)
            except (socket.timeout, TimeoutError):
                raise AssertionError("timed out waiting for response headers; got %r"
                                     % bytes(self.buf[:500]))
        del self.buf[:bpos]
        r = Response(version, status, reason, headers, b"")
        self.stream_head = r
        self.stream_chunked = "chunked" in (r.header("transfer-encoding") or "").lower()
        return r

    def read_chunk(self, timeout=None):
        """The next chunk's payload; b"" for the terminating chunk."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            le = self.buf.find(b"\r\n")
            if le >= 0:
                size = int(bytes(self.buf[:le]).split(b";")[0], 16)
                if size == 0:
                    del self.buf[:le + 2]
                    return b""
                if len(self.buf) >= le + 2 + size + 2:
                    data = bytes(self.buf[le + 2:le + 2 + size])
                    assert bytes(self.buf[le + 2 + size:le + 4 + size]) == b"\r\n", \
                        "chunk not followed by CRLF: %r" % bytes(self.buf[:200])
                    del self.buf[:le + 4 + size]
                    return data
            if self.closed:
                raise AssertionError("closed in the middle of a chunk stream: %r"
                                     % bytes(self.buf[:300]))
            try:
                self._recv(deadline)
            except (socket.timeout, TimeoutError):
                raise AssertionError("timed out waiting for a chunk; have %r"
                                     % bytes(self.buf[:300]))

    def read_stream_bytes(self, want, timeout=None):
        """Body bytes of a streamed response (de-chunked if chunked) until
        `want` (bytes) appears in what was read; returns all bytes read."""
        deadline = time.monotonic() + (timeout or self.timeout)
        got = b""
        while want not in got:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("timed out waiting for %r in the stream; got %r"
                                     % (want, got[-500:]))
            if self.stream_chunked:
                got += self.read_chunk(left)
            else:
                if not self.buf:
                    if self.closed:
                        raise AssertionError("stream closed; got %r" % got[-500:])
                    try:
                        self._recv(time.monotonic() + left)
                    except (socket.timeout, TimeoutError):
                        continue
                got += bytes(self.buf)
                self.buf.clear()
        return got

    def wait_closed(self, timeout=3.0):
        """True if the peer closes within timeout (data read meanwhile kept in buf)."""
        deadline = time.monotonic() + timeout
        try:
            while not self.closed:
                self._recv(deadline)
        except (socket.timeout, TimeoutError):
            return False
        return True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


def build_request(method, path, headers=None, body=None, version="HTTP/1.1", host=True):
    if isinstance(path, str):
        path = path.encode("latin-1")
    lines = [method.encode() + b" " + path + b" " + version.encode()]
    hdrs = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
    names = {k.lower() for k, _ in hdrs}
    if host and "host" not in names:
        hdrs.insert(0, ("Host", "localhost"))
    if isinstance(body, str):
        body = body.encode("utf-8")
    if body is not None and "content-length" not in names and "transfer-encoding" not in names:
        hdrs.append(("Content-Length", str(len(body))))
    for k, v in hdrs:
        if isinstance(v, str):
            v = v.encode("latin-1")
        lines.append(k.encode() + b": " + v)
    return b"\r\n".join(lines) + b"\r\n\r\n" + (body or b"")


def request(port, method, path, headers=None, body=None, host=HOST, timeout=5.0, **kw):
    """One request on a fresh connection."""
    with HttpConn(port, host=host, timeout=timeout) as c:
        c.request(method, path, headers, body, **kw)
        return c.read_response()


def get(port, path, headers=None, **kw):
    return request(port, "GET", path, headers, **kw)


def post_json(port, obj, path="/", headers=None, **kw):
    h = {"Content-Type": "application/json"}
    h.update(headers or {})
    body = obj if isinstance(obj, (bytes, str)) else json.dumps(obj)
    return request(port, "POST", path, h, body, **kw)


def etag_of(body):
    return '"%s"' % hashlib.md5(body).hexdigest()


def b64(data):
    return base64.b64encode(data).decode()
