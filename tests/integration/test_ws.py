"""Keel's WebSocket adapter (issue 6): the handshake on the HTTP port, framing
(wslay), JSON mode, RESP mode, pushes, backpressure and connection life.

Two clients are used: Debian's python3-websocket (`import websocket`) for
ordinary traffic, and RawWS below, a socket-level client that builds frames
byte by byte (fragmentation, unmasked frames, bad UTF-8, 16/64-bit lengths,
close codes) and reads the server's frames exactly.

JSON mode (documented in adapters/ws/ws_conn.c): ["SET","k","v"] ->
{"SET":[true,"OK"]}; {"id":7,"cmd":[..]} -> {"id":7,"reply":..}; batches ->
one frame [{"SET":..},{"GET":..}]; {"batch":[..],"atomic":true} -> MULTI/EXEC
({"EXEC":[false,"EXECABORT ..."]} / {"EXEC":null} when it fails); pushes
{"push":[..]}; malformed requests {"error":".."} (with "id" when one was read);
disabled commands [false,"ERR command 'X' is disabled over HTTP and WebSocket"].
"""

import base64
import hashlib
import json
import os
import socket
import struct
import time

import pytest
import websocket

from harness import RawConn, encode, parse_one
from test_http_helpers import check_health, keel_http_fixture

HOST = "127.0.0.1"
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


@pytest.fixture(scope="module")
def srv():
    yield from keel_http_fixture(["--ws-max-message-size", "1mb"], name="keel-ws")


@pytest.fixture(autouse=True)
def _health(srv):
    srv.ensure_running()
    srv.flushall()
    yield
    check_health(srv)


# --------------------------------------------------------------------------
# clients

class Closed(Exception):
    pass


class RawWS:
    """A WebSocket client on a plain socket: exact frames both ways."""

    def __init__(self, port, path="/", protocols=None, headers=None, timeout=5.0,
                 expect=101):
        self.sock = socket.create_connection((HOST, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.timeout = timeout
        self.key = base64.b64encode(os.urandom(16)).decode()
        hdrs = {"Host": "%s:%d" % (HOST, port), "Upgrade": "websocket",
                "Connection": "Upgrade", "Sec-WebSocket-Key": self.key,
                "Sec-WebSocket-Version": "13"}
        if protocols:
            hdrs["Sec-WebSocket-Protocol"] = ", ".join(protocols)
        for k, v in (headers or {}).items():
            if v is None:
                hdrs.pop(k, None)
            else:
                hdrs[k] = v
        req = "GET %s HTTP/1.1\r\n" % path + "".join("%s: %s\r\n" % kv for kv in hdrs.items())
        self.sock.sendall(req.encode() + b"\r\n")
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            d = self.sock.recv(65536)
            if not d:
                break
            self.buf += d
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {}
        for ln in lines[1:]:
            k, _, v = ln.partition(":")
            self.headers[k.strip().lower()] = v.strip()
        if expect is not None:
            assert self.status == expect, (self.status, head, self.buf)

    # -- sending
    def frame(self, opcode, payload=b"", fin=True, mask=True, rsv=0):
        if isinstance(payload, str):
            payload = payload.encode()
        b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
        n = len(payload)
        mbit = 0x80 if mask else 0
        if n < 126:
            h = struct.pack("!BB", b0, mbit | n)
        elif n < 65536:
            h = struct.pack("!BBH", b0, mbit | 126, n)
        else:
            h = struct.pack("!BBQ", b0, mbit | 127, n)
        if mask:
            key = os.urandom(4)
            payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload)) if n < 4096 else \
                _xor(payload, key)
            h += key
        return h + payload

    def send(self, opcode, payload=b"", **kw):
        self.sock.sendall(self.frame(opcode, payload, **kw))

    def send_json(self, obj):
        self.send(1, json.dumps(obj))

    # -- receiving
    def _fill(self, n, deadline):
        while len(self.buf) < n:
            rem = deadline - time.monotonic()
            if rem <= 0:
                raise socket.timeout("timed out")
            self.sock.settimeout(rem)
            try:
                d = self.sock.recv(1 << 20)
            except ConnectionResetError:
                d = b""
            if not d:
                raise Closed("connection closed (%d bytes pending)" % len(self.buf))
            self.buf += d

    def recv_frame(self, timeout=None):
        """(fin, opcode, payload, header bytes) of the next frame."""
        deadline = time.monotonic() + (timeout or self.timeout)
        self._fill(2, deadline)
        b0, b1 = self.buf[0], self.buf[1]
        assert not b1 & 0x80, "server frames must not be masked"
        n, hl = b1 & 0x7F, 2
        if n == 126:
            self._fill(4, deadline)
            n, hl = struct.unpack("!H", self.buf[2:4])[0], 4
        elif n == 127:
            self._fill(10, deadline)
            n, hl = struct.unpack("!Q", self.buf[2:10])[0], 10
        self._fill(hl + n, deadline)
        head, payload = self.buf[:hl], self.buf[hl:hl + n]
        self.buf = self.buf[hl + n:]
        return bool(b0 & 0x80), b0 & 0x0F, payload, head

    def recv_json(self, timeout=None):
        fin, op, payload, _ = self.recv_frame(timeout)
        assert fin and op == 1, (op, payload)
        return json.loads(payload)

    def recv_close(self, timeout=None):
        """Skip data frames until the close frame: (code, reason)."""
        while True:
            fin, op, payload, _ = self.recv_frame(timeout)
            if op == 8:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                return code, payload[2:].decode()

    def wait_eof(self, timeout=3.0):
        deadline = time.monotonic() + timeout
        try:
            while True:
                self._fill(len(self.buf) + 1, deadline)
        except Closed:
            return True
        except socket.timeout:
            return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def _xor(data, key):
    k = int.from_bytes(key * 1024, "big")
    out = bytearray()
    for i in range(0, len(data), 4096):
        chunk = data[i:i + 4096]
        v = int.from_bytes(chunk, "big") ^ (k >> (8 * (4096 - len(chunk))))
        out += v.to_bytes(len(chunk), "big")
    return bytes(out)


def ws_connect(srv, path="/", **kw):
    ws = websocket.create_connection("ws://%s:%d%s" % (HOST, srv.http, path), timeout=5, **kw)
    return ws


def call(ws, obj):
    ws.send(json.dumps(obj))
    return json.loads(ws.recv())


def resp(srv, *cmd):
    return srv.resp(*cmd)


def client_list(srv):
    return resp(srv, "CLIENT", "LIST").decode()


def wait_for(pred, timeout=3.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.02)
    return pred()


# --------------------------------------------------------------------------
# handshake

def test_handshake_accept_key_and_headers(srv):
    w = RawWS(srv.http)
    want = base64.b64encode(hashlib.sha1(w.key.encode() + GUID).digest()).decode()
    assert w.headers["sec-websocket-accept"] == want
    assert w.headers["upgrade"].lower() == "websocket"
    assert w.headers["connection"].lower() == "upgrade"
    assert "sec-websocket-protocol" not in w.headers
    w.send_json(["PING"])
    assert w.recv_json() == {"PING": [True, "PONG"]}
    w.close()


def test_handshake_rfc_example_key(srv):
    # RFC 6455 section 1.3's example key and answer
    s = socket.create_connection((HOST, srv.http), timeout=5)
    s.sendall(b"GET /.json HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(4096)
    assert data.startswith(b"HTTP/1.1 101 ")
    assert b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" in data
    s.close()


def test_frames_sent_with_the_handshake(srv):
    """Frames in the same packet as the upgrade request (bytes the HTTP
    adapter read past the request) are the first messages."""
    probe = RawWS.__new__(RawWS)
    frames = probe.frame(1, '["SET","early","1"]') + probe.frame(1, '["GET","early"]')
    s = socket.create_connection((HOST, srv.http), timeout=5)
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
              + frames)
    w = RawWS.__new__(RawWS)
    w.sock, w.timeout, w.buf = s, 5.0, b""
    w._fill(4, time.monotonic() + 5)
    while b"\r\n\r\n" not in w.buf:
        w._fill(len(w.buf) + 1, time.monotonic() + 5)
    head, _, w.buf = w.buf.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101 ")
    assert w.recv_json() == {"SET": [True, "OK"]}
    assert w.recv_json() == {"GET": "1"}
    w.close()


@pytest.mark.parametrize("headers", [
    {"Sec-WebSocket-Key": None},
    {"Sec-WebSocket-Key": "short"},
    {"Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ"},          # no padding
    {"Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="[:-3] + "!=="},
    {"Sec-WebSocket-Version": "8"},
])
def test_handshake_bad_key_or_version_is_400(srv, headers):
    w = RawWS(srv.http, headers=headers, expect=400)
    assert w.headers.get("sec-websocket-version") == "13"
    w.close()


def test_handshake_http10_is_400(srv):
    """RFC 6455 4.1: the opening handshake is HTTP/1.1 or later; an HTTP/1.0
    request asking for an upgrade is refused like other bad handshakes."""
    s = socket.create_connection((HOST, srv.http), timeout=5)
    s.sendall(b"GET / HTTP/1.0\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        d = s.recv(4096)
        if not d:
            break
        data += d
    assert data.startswith(b"HTTP/1.1 400 "), data
    head, _, body = data.partition(b"\r\n\r\n")
    assert b"Sec-WebSocket-Version: 13\r\n" in head
    assert b"Sec-WebSocket-Accept" not in head
    while True:  # the body, then the server closes
        d = s.recv(4096)
        if not d:
            break
        body += d
    s.close()
    assert "HTTP/1.1" in json.loads(body)["error"]


def test_handshake_unknown_path_is_404(srv):
    w = RawWS(srv.http, path="/nope", expect=404)
    w.close()


@pytest.mark.parametrize("offer,chosen", [
    (["json"], "json"), (["resp3"], "resp3"), (["resp2"], "resp2"),
    (["mqtt", "resp3", "json"], "resp3"), (["mqtt"], None),
])
def test_subprotocol_negotiation(srv, offer, chosen):
    w = RawWS(srv.http, protocols=offer)
    assert w.headers.get("sec-websocket-protocol") == chosen
    if chosen in (None, "json"):
        w.send_json(["PING"])
        assert w.recv_json() == {"PING": [True, "PONG"]}
    else:
        w.send(2, encode(["HGETALL", "nokey"]))
        _, op, payload, _ = w.recv_frame()
        assert op == 2
        assert payload == (b"%0\r\n" if chosen == "resp3" else b"*0\r\n")
    w.close()


def test_origin_and_auth(srv):
    resp(srv, "CONFIG", "SET", "http-allowed-origins", "http://good.example")
    resp(srv, "CONFIG", "SET", "requirepass", "s3cret")
    try:
        RawWS(srv.http, expect=401).close()
        RawWS(srv.http, path="/?token=wrong", expect=401).close()
        RawWS(srv.http, path="/?token=s3cret", headers={"Origin": "http://evil.example"},
              expect=403).close()
        w = RawWS(srv.http, path="/?token=s3cret", headers={"Origin": "http://good.example"})
        w.send_json(["SET", "k", "v"])
        assert w.recv_json() == {"SET": [True, "OK"]}
        w.close()
        w = RawWS(srv.http, headers={"Authorization": "Bearer s3cret"})
        w.send_json(["GET", "k"])
        assert w.recv_json() == {"GET": "v"}
        w.close()
        w = RawWS(srv.http, headers={"Authorization": "Basic " +
                                     base64.b64encode(b"default:s3cret").decode()})
        w.send_json(["GET", "k"])
        assert w.recv_json() == {"GET": "v"}
        w.close()
    finally:
        with RawConn(srv.port) as c:
            c.call("AUTH", "s3cret")
            c.call("CONFIG", "SET", "requirepass", "")
            c.call("CONFIG", "SET", "http-allowed-origins", "*")


# --------------------------------------------------------------------------
# JSON mode

def test_json_commands_and_shapes(srv):
    ws = ws_connect(srv)
    assert call(ws, ["SET", "k", "v"]) == {"SET": [True, "OK"]}
    assert call(ws, ["get", "k"]) == {"get": "v"}
    assert call(ws, ["GET", "missing"]) == {"GET": None}
    assert call(ws, ["INCR", "k"]) == {"INCR": [False, "ERR value is not an integer or out of "
                                                      "range"]}
    assert call(ws, ["RPUSH", "l", "a", "b", 3]) == {"RPUSH": 3}
    assert call(ws, ["LRANGE", "l", 0, -1]) == {"LRANGE": ["a", "b", "3"]}
    # RESP3 semantics: maps are objects, doubles numbers
    assert call(ws, ["HSET", "h", "f", "1", "g", "2"]) == {"HSET": 2}
    assert call(ws, ["HGETALL", "h"]) == {"HGETALL": {"f": "1", "g": "2"}}
    assert call(ws, ["ZADD", "z", 1.5, "m"]) == {"ZADD": 1}
    assert call(ws, ["ZSCORE", "z", "m"]) == {"ZSCORE": 1.5}
    assert call(ws, ["HELLO"])["HELLO"]["proto"] == 3
    assert call(ws, ["NOSUCH"]) == {"NOSUCH": [False, "ERR unknown command 'NOSUCH', with args "
                                                      "beginning with: "]}
    ws.close()


def test_json_64bit_integers_exact(srv):
    ws = ws_connect(srv)
    big = 9007199254740993  # 2**53 + 1: not a double
    assert call(ws, ["SET", "n", big]) == {"SET": [True, "OK"]}
    assert call(ws, ["GET", "n"]) == {"GET": str(big)}
    assert call(ws, ["INCRBY", "n", 9223372036854775807 - big]) == {"INCRBY": 9223372036854775807}
    assert call(ws, ["SET", "neg", -9223372036854775808]) == {"SET": [True, "OK"]}
    assert call(ws, ["GET", "neg"]) == {"GET": "-9223372036854775808"}
    ws.close()


def test_json_ids_echoed(srv):
    ws = ws_connect(srv)
    for ident in (7, "req-1", 12345678901234567890, -3, 1.25, "üñí"):
        assert call(ws, {"id": ident, "cmd": ["ECHO", "x"]}) == {"id": ident, "reply": "x"}
    # raw text of a numeric id is kept as sent
    ws.send('{"cmd":["PING"], "id": 1e3}')
    assert ws.recv() == '{"id":1e3,"reply":[true,"PONG"]}'
    ws.close()


def test_json_pipelining_by_id(srv):
    ws = ws_connect(srv)
    for i in range(100):
        ws.send(json.dumps({"id": i, "cmd": ["INCR", "ctr"]}))
    got = [json.loads(ws.recv()) for _ in range(100)]
    assert got == [{"id": i, "reply": i + 1} for i in range(100)]
    ws.close()


def test_json_batch(srv):
    ws = ws_connect(srv)
    assert call(ws, [["SET", "k", "v"], ["GET", "k"], ["INCR", "k"]]) == [
        {"SET": [True, "OK"]}, {"GET": "v"},
        {"INCR": [False, "ERR value is not an integer or out of range"]}]
    assert call(ws, {"id": 3, "batch": [["DEL", "k"], ["EXISTS", "k"]]}) == {
        "id": 3, "reply": [{"DEL": 1}, {"EXISTS": 0}]}
    ws.close()


def test_json_atomic_batch(srv):
    ws = ws_connect(srv)
    assert call(ws, {"batch": [["SET", "a", "1"], ["INCR", "a"], ["GET", "a"]],
                     "atomic": True}) == [{"SET": [True, "OK"]}, {"INCR": 2}, {"GET": "2"}]
    assert call(ws, {"id": 9, "batch": [["SET", "a", "x"], ["INCR", "a"]], "atomic": True}) == {
        "id": 9, "reply": [{"SET": [True, "OK"]},
                           {"INCR": [False, "ERR value is not an integer or out of range"]}]}
    # a queue-time error aborts the transaction
    assert call(ws, {"batch": [["SET", "a", "1"], ["GET"]], "atomic": True}) == {
        "EXEC": [False, "EXECABORT Transaction discarded because of previous errors."]}
    assert call(ws, {"id": "t", "batch": [["FLUSHALL"]], "atomic": True}) == {
        "id": "t",
        "reply": {"EXEC": [False, "EXECABORT Transaction discarded because of previous errors."]}}
    assert call(ws, ["GET", "a"]) == {"GET": "x"}
    # WATCH in its own message, then an atomic batch: a changed key fails it
    assert call(ws, ["WATCH", "w"]) == {"WATCH": [True, "OK"]}
    resp(srv, "SET", "w", "changed")
    assert call(ws, {"batch": [["SET", "w", "mine"]], "atomic": True}) == {"EXEC": None}
    assert resp(srv, "GET", "w") == b"changed"
    # not allowed inside
    r = call(ws, {"id": 1, "batch": [["MULTI"], ["EXEC"]], "atomic": True})
    assert r["id"] == 1 and "atomic" in r["error"]
    ws.close()


def test_json_multi_exec_across_messages(srv):
    ws = ws_connect(srv)
    assert call(ws, ["MULTI"]) == {"MULTI": [True, "OK"]}
    assert call(ws, ["SET", "k", "1"]) == {"SET": [True, "QUEUED"]}
    assert call(ws, ["INCR", "k"]) == {"INCR": [True, "QUEUED"]}
    assert call(ws, ["EXEC"]) == {"EXEC": [[True, "OK"], 2]}
    ws.close()


@pytest.mark.parametrize("msg,err_part,with_id", [
    ('["SET","k"', "invalid JSON", None),
    ("nope", "a request is a JSON array", None),
    ("42", "a request is a JSON array", None),
    ("[]", "non-empty array", None),
    ('[["GET","k"],"x"]', "non-empty array", None),
    ('["SET","k",{"a":1}]', "strings or numbers", None),
    ('["SET","k",true]', "strings or numbers", None),
    ('{"id":5}', "needs \\\"cmd\\\"", 5),
    ('{"id":5,"cmd":["GET","k"],"extra":1}', "unknown field", 5),
    ('{"id":[1],"cmd":["GET","k"]}', "\\\"id\\\" must be", None),
    ('{"id":"a","cmd":[["GET","k"]]}', "one command array", "a"),
    ('{"id":"a","batch":["GET","k"]}', "array of command arrays", "a"),
    ('{"id":"a","cmd":["GET","k"],"atomic":true}', "goes with", "a"),
    ('{"id":6,"cmd":["GET","k"]', "invalid JSON", 6),
    ('{"id":6,"cmd":["GET","k"]} x', "invalid JSON", 6),
    ('{"id":6,"cmd":["GET",1e999]}', "invalid JSON", 6),
])
def test_json_malformed_requests_answered(srv, msg, err_part, with_id):
    ws = ws_connect(srv)
    ws.send(msg)
    raw = ws.recv()
    got = json.loads(raw)
    assert set(got) == ({"error"} if with_id is None else {"id", "error"}), raw
    assert err_part in raw, raw
    if with_id is not None:
        assert got["id"] == with_id
    # the connection stays usable
    assert call(ws, ["PING"]) == {"PING": [True, "PONG"]}
    ws.close()


def _random_value(rnd):
    if rnd.random() < 0.3:
        return rnd.choice([0, -1, 1, 7, 10 ** 17, 10 ** 18 - 1, 10 ** 18, -10 ** 18,
                           2 ** 63 - 1, -2 ** 63, rnd.randint(-2 ** 63, 2 ** 63 - 1),
                           rnd.randint(-1000, 1000)])
    pool = ['a', 'Z', ' ', '"', '\\', '/', '\n', '\r', '\t', '\b', '\f', '\x00', '\x01', '\x1f',
            '\x7f', 'é', 'ß', '€', '\u2028', '\ufeff', '\U0001F600', '\U0010FFFF', '{', ']', ',']
    return "".join(rnd.choice(pool) for _ in range(rnd.randint(0, 12)))


def test_json_decoding_randomized(srv):
    """Strings (escapes, NUL, BMP and astral characters, with and without
    ensure_ascii) and 64-bit integers reach the store byte-exact, whether the
    fast decoder or the general one (jansson) reads them."""
    import random
    rnd = random.Random(6)
    ws = ws_connect(srv)
    for i in range(400):
        val = _random_value(rnd)
        key = "k%d" % i
        form = rnd.randrange(3)
        kw = dict(ensure_ascii=rnd.random() < 0.5, indent=rnd.choice([None, None, 1]),
                  separators=rnd.choice([(",", ":"), (", ", ": "), (" ,\t", " : ")]))
        if form == 0:
            msg = json.dumps(["SET", key, val], **kw)
            want = {"SET": [True, "OK"]}
        elif form == 1:
            msg = json.dumps({"id": i, "cmd": ["SET", key, val]}, **kw)
            want = {"id": i, "reply": [True, "OK"]}
        else:
            msg = json.dumps([["SET", key, val], ["STRLEN", key]], **kw)
            want = None
        ws.send(msg)
        got = json.loads(ws.recv())
        raw = val.encode() if isinstance(val, str) else str(val).encode()
        if want is None:
            want = [{"SET": [True, "OK"]}, {"STRLEN": len(raw)}]
        assert got == want, msg
        assert resp(srv, "GET", key) == raw, msg
    # a float goes through the general decoder
    assert call(ws, ["SET", "f", 1.5]) == {"SET": [True, "OK"]}
    assert resp(srv, "GET", "f") == b"1.5"
    # a lone surrogate escape is refused, the connection stays
    ws.send('["SET","s","\\ud800"]')
    assert "error" in json.loads(ws.recv())
    assert call(ws, ["PING"]) == {"PING": [True, "PONG"]}
    ws.close()


def test_json_disabled_commands(srv):
    ws = ws_connect(srv)
    for cmd in (["FLUSHALL"], ["flushdb"], ["CONFIG", "GET", "port"], ["KEYS", "*"],
                ["DEBUG", "SLEEP", "0"], ["SHUTDOWN"]):
        got = call(ws, cmd)
        assert got == {cmd[0]: [False, "ERR command '%s' is disabled over HTTP and WebSocket"
                                % cmd[0]]}
    # matched exactly: SET is not SETEX
    assert call(ws, ["SETEX", "k", 10, "v"]) == {"SETEX": [True, "OK"]}
    ws.close()


def test_json_binary_values(srv):
    resp(srv, "SET", "bin", b"\xff\x00ab")
    resp(srv, "SET", "nul", b"a\x00b")
    ws = ws_connect(srv)
    assert call(ws, ["GET", "bin"]) == {"GET": {"base64": base64.b64encode(b"\xff\x00ab").decode()}}
    assert call(ws, ["GET", "nul"]) == {"GET": "a\x00b"}
    assert call(ws, ["SET", "u", "héllo \u2603"]) == {"SET": [True, "OK"]}
    assert resp(srv, "GET", "u") == "héllo \u2603".encode()
    ws.close()


def test_binary_frame_in_json_mode(srv):
    w = RawWS(srv.http)
    w.send(2, b'["ECHO","hi"]')
    assert w.recv_json() == {"ECHO": "hi"}
    # JSON is UTF-8: a binary message that is not gets an error, not a close
    w.send(2, b'["ECHO","\xff"]')
    assert "UTF-8" in w.recv_json()["error"]
    w.send(2, b'["ECHO","ok"]')
    assert w.recv_json() == {"ECHO": "ok"}
    w.close()


def test_firefox_style_connection_header(srv):
    w = RawWS(srv.http, headers={"Connection": "keep-alive, Upgrade", "Upgrade": "WebSocket"})
    w.send_json(["PING"])
    assert w.recv_json() == {"PING": [True, "PONG"]}
    w.close()


# --------------------------------------------------------------------------
# pushes

def test_pubsub_pushes_and_commands_while_subscribed(srv):
    ws = ws_connect(srv)
    ws.send(json.dumps({"id": 1, "cmd": ["SUBSCRIBE", "c1", "c2"]}))
    assert json.loads(ws.recv()) == {"id": 1, "reply": ["subscribe", "c1", 1]}
    assert json.loads(ws.recv()) == {"id": 1, "reply": ["subscribe", "c2", 2]}
    assert call(ws, ["PSUBSCRIBE", "p*"]) == {"PSUBSCRIBE": ["psubscribe", "p*", 3]}
    assert resp(srv, "PUBLISH", "c1", "hello") == 1
    assert json.loads(ws.recv()) == {"push": ["message", "c1", "hello"]}
    assert resp(srv, "PUBLISH", "pq", "w") == 1
    assert json.loads(ws.recv()) == {"push": ["pmessage", "p*", "pq", "w"]}
    # ordinary commands keep working (RESP3)
    assert call(ws, ["SET", "k", "v"]) == {"SET": [True, "OK"]}
    assert call(ws, {"id": 2, "cmd": ["GET", "k"]}) == {"id": 2, "reply": "v"}
    # a message to itself: the push comes before PUBLISH's reply
    ws.send(json.dumps(["PUBLISH", "c2", "self"]))
    assert json.loads(ws.recv()) == {"push": ["message", "c2", "self"]}
    assert json.loads(ws.recv()) == {"PUBLISH": 1}
    assert call(ws, ["UNSUBSCRIBE", "c1"]) == {"UNSUBSCRIBE": ["unsubscribe", "c1", 2]}
    assert resp(srv, "PUBSUB", "NUMSUB", "c1", "c2") == [b"c1", 0, b"c2", 1]
    ws.close()
    assert wait_for(lambda: resp(srv, "PUBSUB", "NUMSUB", "c2") == [b"c2", 0])
    assert resp(srv, "PUBSUB", "NUMPAT") == 0


def test_keyspace_notifications_as_pushes(srv):
    resp(srv, "CONFIG", "SET", "notify-keyspace-events", "KEA")
    try:
        ws = ws_connect(srv)
        assert call(ws, ["PSUBSCRIBE", "__keyspace@0__:*"])["PSUBSCRIBE"][0] == "psubscribe"
        resp(srv, "SET", "watched", "1")
        assert json.loads(ws.recv()) == {
            "push": ["pmessage", "__keyspace@0__:*", "__keyspace@0__:watched", "set"]}
        ws.close()
    finally:
        resp(srv, "CONFIG", "SET", "notify-keyspace-events", "")


def test_tracking_invalidation_pushes(srv):
    ws = ws_connect(srv)
    assert call(ws, ["CLIENT", "TRACKING", "on"]) == {"CLIENT": [True, "OK"]}
    resp(srv, "SET", "k", "1")
    assert call(ws, ["GET", "k"]) == {"GET": "1"}
    resp(srv, "SET", "k", "2")
    assert json.loads(ws.recv()) == {"push": ["invalidate", ["k"]]}
    assert call(ws, ["GET", "k"]) == {"GET": "2"}
    resp(srv, "FLUSHALL")
    assert json.loads(ws.recv()) == {"push": ["invalidate", None]}
    ws.close()


# --------------------------------------------------------------------------
# blocking and connection life

def test_blpop_woken_by_another_client(srv):
    ws = ws_connect(srv)
    ws.send(json.dumps({"id": "b", "cmd": ["BLPOP", "q", 5]}))
    ws.send(json.dumps({"id": "after", "cmd": ["PING"]}))  # held until BLPOP returns
    assert wait_for(lambda: "cmd=blpop" in client_list(srv))
    resp(srv, "RPUSH", "q", "x")
    assert json.loads(ws.recv()) == {"id": "b", "reply": ["q", "x"]}
    assert json.loads(ws.recv()) == {"id": "after", "reply": [True, "PONG"]}
    # in a batch: the batch resumes after the pop
    ws.send(json.dumps([["BLPOP", "q2", 5], ["LLEN", "q2"]]))
    assert wait_for(lambda: "cmd=blpop" in client_list(srv))
    resp(srv, "RPUSH", "q2", "a", "b")
    assert json.loads(ws.recv()) == [{"BLPOP": ["q2", "a"]}, {"LLEN": 1}]
    # timeout: null
    assert call(ws, ["BLPOP", "none", 0.05]) == {"BLPOP": None}
    ws.close()


def test_client_pause_parks_and_resumes(srv):
    ws = ws_connect(srv)
    resp(srv, "CLIENT", "PAUSE", "300", "WRITE")
    t0 = time.monotonic()
    ws.send(json.dumps({"id": 1, "cmd": ["SET", "p", "1"]}))
    ws.send(json.dumps({"id": 2, "cmd": ["GET", "p"]}))
    assert json.loads(ws.recv()) == {"id": 1, "reply": [True, "OK"]}
    assert time.monotonic() - t0 > 0.2
    assert json.loads(ws.recv()) == {"id": 2, "reply": "1"}
    # an atomic batch waits for the pause too (EXEC is a write)
    resp(srv, "CLIENT", "PAUSE", "200", "WRITE")
    assert call(ws, {"batch": [["INCR", "p"], ["INCR", "p"]], "atomic": True}) == [
        {"INCR": 2}, {"INCR": 3}]
    ws.close()


def test_reset_and_hello_in_json_mode(srv):
    ws = ws_connect(srv)
    assert call(ws, ["SUBSCRIBE", "r"]) == {"SUBSCRIBE": ["subscribe", "r", 1]}
    assert call(ws, ["RESET"]) == {"RESET": [True, "RESET"]}
    assert resp(srv, "PUBSUB", "NUMSUB", "r") == [b"r", 0]
    hello = call(ws, ["HELLO", 3])["HELLO"]
    assert hello["proto"] == 3 and hello["server"] == "redis"
    assert call(ws, ["ZADD", "z", 2.5, "m"]) == {"ZADD": 1}
    assert call(ws, ["ZSCORE", "z", "m"]) == {"ZSCORE": 2.5}
    ws.close()


def test_query_buffer_limit_while_parked(srv):
    resp(srv, "CONFIG", "SET", "client-query-buffer-limit", "1mb")
    try:
        w = RawWS(srv.http)
        w.send_json(["BLPOP", "never", 0])
        assert wait_for(lambda: "cmd=blpop" in client_list(srv))
        chunk = w.frame(1, json.dumps(["SET", "k", "x" * 100000]))
        try:
            for _ in range(20):
                w.sock.sendall(chunk)
        except OSError:
            pass
        code, reason = w.recv_close()
        assert code == 1008 and "query buffer" in reason
        w.close()
        assert wait_for(lambda: "cmd=blpop" not in client_list(srv))
        assert "blocked_clients:0" in resp(srv, "INFO", "clients").decode()
    finally:
        resp(srv, "CONFIG", "SET", "client-query-buffer-limit", "1gb")


def test_disconnect_while_blocked_leaves_nothing(srv):
    for _ in range(3):
        w = RawWS(srv.http)
        w.send_json(["BLPOP", "q", 0])
        assert wait_for(lambda: "cmd=blpop" in client_list(srv))
        w.close()
        assert wait_for(lambda: "cmd=blpop" not in client_list(srv))
    info = resp(srv, "INFO", "clients").decode()
    assert "blocked_clients:0" in info
    resp(srv, "RPUSH", "q", "x")
    assert resp(srv, "LLEN", "q") == 1  # nobody took it


def test_disconnect_while_subscribed_and_tracking(srv):
    w = RawWS(srv.http)
    w.send_json(["CLIENT", "TRACKING", "on", "BCAST"])
    w.send_json(["SUBSCRIBE", "gone"])
    w.recv_json()
    w.recv_json()
    w.sock.close()
    assert wait_for(lambda: resp(srv, "PUBSUB", "NUMSUB", "gone") == [b"gone", 0])
    assert resp(srv, "PUBLISH", "gone", "x") == 0
    resp(srv, "SET", "any", "1")  # an invalidation with nobody to receive it
    assert resp(srv, "PING") == b"PONG"


def test_disconnect_with_pending_replies(srv):
    w = RawWS(srv.http)
    big = "x" * 100000
    w.send_json(["SET", "big", big])
    for _ in range(50):
        w.send_json(["GET", "big"])
    w.sock.close()
    assert resp(srv, "PING") == b"PONG"


def test_client_list_shows_ws_clients(srv):
    ws = ws_connect(srv)
    assert call(ws, ["CLIENT", "SETNAME", "dash"]) == {"CLIENT": [True, "OK"]}
    line = [ln for ln in client_list(srv).splitlines() if "name=dash" in ln]
    assert len(line) == 1
    assert "laddr=127.0.0.1:%d" % srv.http in line[0]
    assert "resp=3" in line[0]
    me = call(ws, ["CLIENT", "INFO"])["CLIENT"]
    assert "name=dash" in me and "addr=127.0.0.1:" in me
    ws.close()


def test_metrics_count_ws_clients(srv):
    import urllib.request
    ws = ws_connect(srv)
    assert call(ws, ["PING"]) == {"PING": [True, "PONG"]}

    def ws_count():
        text = urllib.request.urlopen("http://%s:%d/_metrics" % (HOST, srv.http), timeout=5).read()
        line = [ln for ln in text.splitlines() if ln.startswith(b'redis_connected_clients{protocol="ws"}')]
        return int(line[0].split()[-1])

    assert wait_for(lambda: ws_count() == 1)
    ws.close()
    assert wait_for(lambda: ws_count() == 0)


def test_quit_closes_with_1000(srv):
    w = RawWS(srv.http)
    w.send_json(["QUIT"])
    assert w.recv_json() == {"QUIT": [True, "OK"]}
    assert w.recv_close() == (1000, "")
    w.send(8, struct.pack("!H", 1000), mask=True)
    assert w.wait_eof()
    w.close()


def test_client_kill(srv):
    w = RawWS(srv.http)
    w.send_json(["CLIENT", "SETNAME", "victim"])
    w.recv_json()
    assert resp(srv, "CLIENT", "KILL", "SKIPME", "yes", "LADDR",
                "127.0.0.1:%d" % srv.http) >= 1
    assert w.wait_eof()
    assert "name=victim" not in client_list(srv)
    w.close()


# --------------------------------------------------------------------------
# framing

def test_ping_pong(srv):
    w = RawWS(srv.http)
    w.send(9, b"hello?")
    fin, op, payload, _ = w.recv_frame()
    assert (fin, op, payload) == (True, 10, b"hello?")
    w.close()


def test_fragmented_message_with_ping_between(srv):
    w = RawWS(srv.http)
    w.send(1, '["SET","frag",', fin=False)
    w.send(0, '"a b ', fin=False)
    w.send(9, b"p")
    w.send(0, 'c"]', fin=True)
    got = sorted((w.recv_frame()[1:3] for _ in range(2)), key=lambda f: f[0])
    assert got == [(1, b'{"SET":[true,"OK"]}'), (10, b"p")]
    w.send_json(["GET", "frag"])
    assert w.recv_json() == {"GET": "a b c"}
    w.close()


def test_16_and_64_bit_lengths(srv):
    w = RawWS(srv.http)
    for size in (125, 126, 1000, 65535, 65536, 200000):
        val = "v" * size
        w.send_json(["SET", "big", val])
        assert w.recv_json() == {"SET": [True, "OK"]}
        w.send_json(["GET", "big"])
        fin, op, payload, head = w.recv_frame()
        assert json.loads(payload) == {"GET": val}
        n = len(payload)
        want = 2 if n < 126 else 4 if n < 65536 else 10
        assert len(head) == want
    w.close()


def test_close_handshake_echoes_code(srv):
    w = RawWS(srv.http)
    w.send(8, struct.pack("!H", 1001) + b"bye")
    assert w.recv_close()[0] == 1001
    assert w.wait_eof()
    w.close()


def test_max_message_size_closes_1009(srv):
    w = RawWS(srv.http)
    w.send(1, '["SET","k","' + "x" * (1024 * 1024 + 10) + '"]')
    code, reason = w.recv_close()
    assert code == 1009
    assert w.wait_eof()
    w.close()
    # also over fragments
    w = RawWS(srv.http)
    for _ in range(3):
        w.send(2 if _ == 0 else 0, b"x" * 400000, fin=False)
    assert w.recv_close()[0] == 1009
    w.close()


def test_invalid_utf8_closes_1007(srv):
    w = RawWS(srv.http)
    w.send(1, b'["SET","k","\xff"]')
    code, reason = w.recv_close()
    assert code == 1007
    assert w.wait_eof()
    w.close()
    # an overlong encoding and a lone surrogate are invalid too
    for bad in (b'["ECHO","\xc0\xaf"]', b'["ECHO","\xed\xa0\x80"]'):
        w = RawWS(srv.http)
        w.send(1, bad)
        assert w.recv_close()[0] == 1007
        w.close()


def test_unmasked_client_frame_closes_1002(srv):
    w = RawWS(srv.http)
    w.send(1, '["PING"]', mask=False)
    assert w.recv_close()[0] == 1002
    assert w.wait_eof()
    w.close()


@pytest.mark.parametrize("frame", [
    dict(opcode=3, payload=b"x"),                    # reserved opcode
    dict(opcode=1, payload=b'["PING"]', rsv=4),      # RSV1 without an extension
    dict(opcode=0, payload=b"x"),                    # continuation without a start
    dict(opcode=9, payload=b"x" * 126),              # control frame > 125
    dict(opcode=9, payload=b"x", fin=False),         # fragmented control frame
])
def test_protocol_errors_close_1002(srv, frame):
    w = RawWS(srv.http)
    w.send(**frame)
    assert w.recv_close()[0] == 1002
    w.close()
    assert resp(srv, "PING") == b"PONG"


def test_random_frames_do_not_hurt_the_server(srv):
    """Random frame sequences (any opcode, RSV bits, fragmentation, masking,
    lengths, JSON-ish and garbage payloads) on many connections: the server
    answers or closes each one, and stays healthy (sanitizers watch)."""
    import random
    rnd = random.Random(66)
    payloads = [b'["PING"]', b'{"id":1,"cmd":["GET","k"]}', b'[["SET","k","v"],["GET","k"]]',
                b'{"batch":[["INCR","n"]],"atomic":true}', b'["SUBSCRIBE","c"]', b"[", b"",
                b'["BLPOP","q",0.01]', b'\xff\xfe', b"*1\r\n$4\r\nPING\r\n", b"x" * 300,
                b'["CLIENT","TRACKING","on"]', b'["QUIT"]', b'{"id":[],"cmd":1}']
    for conn in range(60):
        path = rnd.choice(["/", "/.json", "/.raw"])
        w = RawWS(srv.http, path=path)
        data = b""
        for _ in range(rnd.randint(1, 12)):
            op = rnd.choice([0, 1, 1, 1, 2, 2, 3, 8, 9, 10, 11])
            pl = rnd.choice(payloads)
            if rnd.random() < 0.2:
                pl = bytes(rnd.randrange(256) for _ in range(rnd.randint(0, 40)))
            data += w.frame(op, pl, fin=rnd.random() < 0.8, mask=rnd.random() < 0.95,
                            rsv=rnd.choice([0, 0, 0, 0, 1, 4]))
        if rnd.random() < 0.2:
            data = data[:rnd.randint(0, len(data))]
        try:
            w.sock.sendall(data)
            w.sock.settimeout(0.2)
            while w.sock.recv(65536):
                pass
        except OSError:
            pass
        w.close()
    assert resp(srv, "PING") == b"PONG"
    assert wait_for(lambda: "laddr=127.0.0.1:%d" % srv.http not in client_list(srv))


# --------------------------------------------------------------------------
# RESP mode

def test_resp_mode_raw_path(srv):
    """Binary frames: /.raw with the resp2 subprotocol (without one, /.raw
    speaks Webdis's text frames: test_ws_webdis.py)."""
    w = RawWS(srv.http, path="/.raw", protocols=["resp2"])
    w.send(2, encode(["SET", "k", "v"]) + encode(["GET", "k"]))
    data = b""
    while data.count(b"\r\n") < 3:
        _, op, payload, _ = w.recv_frame()
        assert op == 2
        data += payload
    assert data == b"+OK\r\n$1\r\nv\r\n"
    # resp2 by default: a map is a flat array; HELLO 3 switches
    w.send(2, encode(["HSET", "h", "f", "1"]))
    assert w.recv_frame()[2] == b":1\r\n"
    w.send(2, encode(["HGETALL", "h"]))
    assert w.recv_frame()[2] == b"*2\r\n$1\r\nf\r\n$1\r\n1\r\n"
    w.send(2, encode(["HELLO", "3"]))
    hello = w.recv_frame()[2]
    assert hello.startswith(b"%")
    w.send(2, encode(["HGETALL", "h"]))
    assert w.recv_frame()[2] == b"%1\r\n$1\r\nf\r\n$1\r\n1\r\n"
    # a command split over messages
    cmd = encode(["ECHO", "split"])
    w.send(2, cmd[:7])
    w.send(2, cmd[7:])
    assert w.recv_frame()[2] == b"$5\r\nsplit\r\n"
    # disabled commands answered as RESP errors
    w.send(2, encode(["FLUSHALL"]))
    assert w.recv_frame()[2] == b"-ERR command 'FLUSHALL' is disabled over HTTP and WebSocket\r\n"
    w.close()


def test_resp3_mode_pushes(srv):
    w = RawWS(srv.http, protocols=["resp3"])
    w.send(2, encode(["SUBSCRIBE", "ch"]))
    assert w.recv_frame()[2] == b">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n"
    resp(srv, "PUBLISH", "ch", "hi")
    assert w.recv_frame()[2] == b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n"
    w.send(2, encode(["PING"]))
    assert w.recv_frame()[2] == b"+PONG\r\n"
    w.close()


def test_resp_mode_protocol_error(srv):
    w = RawWS(srv.http, path="/.raw", protocols=["resp2"])
    w.send(2, b"*1\r\n$x\r\n")
    _, op, payload, _ = w.recv_frame()
    assert op == 2 and payload.startswith(b"-ERR Protocol error")
    assert w.recv_close()[0] == 1008
    w.close()


def test_resp_library_over_websocket(srv):
    """redis-py's RESP parser over the byte stream of binary frames."""
    import redis.connection as rc
    ws = ws_connect(srv, "/.raw", subprotocols=["resp2"])
    stream = b""
    for cmd in (["SET", "k", "1"], ["INCR", "k"], ["MGET", "k", "nope"]):
        ws.send_binary(encode(cmd))
        stream += ws.recv()
    ws.close()
    p = rc.PythonParser(65536)

    class FakeSock:
        def __init__(self, data):
            self.data = data

        def recv_into(self, buf, *a):
            n = min(len(buf), len(self.data))
            buf[:n] = self.data[:n]
            self.data = self.data[n:]
            return n

        def recv(self, n, *a):
            d, self.data = self.data[:n], self.data[n:]
            return d

        def settimeout(self, t):
            pass

    class FakeConn:
        socket_timeout = 5
        _sock = FakeSock(stream)
        encoder = rc.Encoder("utf-8", "strict", False)

    p.on_connect(FakeConn())
    assert [p.read_response() for _ in range(3)] == [b"OK", 2, [b"2", None]]


# --------------------------------------------------------------------------
# backpressure

def test_slow_subscriber_closed_1008(srv):
    resp(srv, "CONFIG", "SET", "client-output-buffer-limit", "pubsub 262144 131072 1")
    try:
        w = RawWS(srv.http)
        w.send_json(["SUBSCRIBE", "flood"])
        assert w.recv_json() == {"SUBSCRIBE": ["subscribe", "flood", 1]}
        msg = "m" * 10000
        with RawConn(srv.port) as pub:
            closed_at = None
            for i in range(2000):
                pub.send(encode(["PUBLISH", "flood", msg]))
                n = parse_one(pub.read_reply())[0]
                if n == 0:
                    closed_at = i
                    break
        assert closed_at is not None, "the server never dropped the slow subscriber"
        assert resp(srv, "PUBSUB", "NUMSUB", "flood") == [b"flood", 0]
        code, reason = w.recv_close(timeout=10)
        assert code == 1008 and "output buffer" in reason
        w.close()
    finally:
        resp(srv, "CONFIG", "SET", "client-output-buffer-limit",
             "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60")


def test_client_not_reading_replies_is_held_back(srv):
    """A client that pipelines requests and does not read the replies: the
    server stops reading its requests once a bounded amount of output waits
    (TCP pushes back), and loses nothing when the client reads again."""
    import threading
    value = "x" * 10000
    resp(srv, "SET", "big", value)
    w = RawWS(srv.http)
    w.send_json(["CLIENT", "SETNAME", "nonreader"])
    assert w.recv_json() == {"CLIENT": [True, "OK"]}
    n = 3000
    seen = {}

    def reader():
        time.sleep(1.0)
        seen["line"] = [ln for ln in client_list(srv).splitlines() if "name=nonreader" in ln][0]
        got = 0
        try:
            while got < n:
                fin, op, payload, _ = w.recv_frame(10)
                assert payload == b'{"GET":"' + value.encode() + b'"}'
                got += 1
        finally:
            seen["got"] = got

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    w.sock.sendall(w.frame(1, '["GET","big"]') * n)
    t.join(30)
    fields = dict(kv.split("=", 1) for kv in seen["line"].split(" ") if "=" in kv)
    # held back: far less than the 30 MB the requests ask for
    assert int(fields["omem"]) + int(fields["qbuf"]) < 4 << 20, seen["line"]
    assert seen["got"] == n, seen
    w.close()


def test_batch_reply_larger_than_one_round(srv):
    """A batch whose assembled reply passes the 256 KB a round of processing
    may produce is still answered (its entries wait in the batch, not in
    the output the peer drains; the server once spun on it)."""
    resp(srv, "SET", "big300k", "x" * 300000)
    ws = ws_connect(srv)
    got = call(ws, [["GET", "big300k"], ["GET", "big300k"], ["PING"]])
    assert got == [{"GET": "x" * 300000}, {"GET": "x" * 300000}, {"PING": [True, "PONG"]}]
    assert call(ws, ["PING"]) == {"PING": [True, "PONG"]}
    ws.close()


def test_reply_over_hard_limit_closed_1008(srv):
    resp(srv, "CONFIG", "SET", "client-output-buffer-limit", "normal 1048576 0 0")
    try:
        resp(srv, "SET", "huge", "x" * (2 << 20))
        w = RawWS(srv.http)
        w.send_json(["GET", "huge"])
        code, reason = w.recv_close(timeout=10)
        assert code == 1008 and "output buffer" in reason
        w.close()
        ws = ws_connect(srv)  # the server carries on
        assert call(ws, ["STRLEN", "huge"]) == {"STRLEN": 2 << 20}
        ws.close()
    finally:
        resp(srv, "CONFIG", "SET", "client-output-buffer-limit", "normal 0 0 0")


# --------------------------------------------------------------------------
# the console page

def test_console_page_served(srv):
    s = socket.create_connection((HOST, srv.http), timeout=5)
    s.sendall(b"GET /_console HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        data += d
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert b"text/html" in head
    assert b"new WebSocket(" in body and b'id="cmd"' in body and b'id="pushes"' in body
