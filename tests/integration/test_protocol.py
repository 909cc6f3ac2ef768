"""RESP protocol-level tests: framing, inline commands, pipelining, malformed input.

Where Redis's behaviour is the spec the exact bytes (and whether the connection
is closed) are compared with the oracle. After every malformed input a fresh
connection must still get +PONG.
"""

import random
import socket
import time

import pytest

from harness import RawConn, assert_same_bytes, encode, encode_many, ping_ok, split_replies


def exchange(port, data, settle=1.0, chunks=None):
    """Send data (optionally in pieces), then read until the peer closes or
    `settle` seconds pass with the connection open. Returns (bytes, closed)."""
    with RawConn(port) as c:
        if chunks:
            for piece in chunks(data):
                c.send(piece)
        else:
            try:
                c.send(data)
            except (BrokenPipeError, ConnectionResetError):
                pass
        return c.read_until_close(settle)


def fresh_pong(port):
    assert ping_ok(port, 3.0), "server does not answer PING on a fresh connection"


def both(keel, oracle, data, settle=1.0):
    k = exchange(keel.port, data, settle)
    r = exchange(oracle.port, data, settle)
    fresh_pong(keel.port)
    return k, r


# ---------------------------------------------------------------------------
# malformed input: same bytes, same close behaviour as Redis

MALFORMED = {
    "mbulk_count_not_a_number": b"*abc\r\n",
    "mbulk_count_too_big": b"*3000000000\r\n",
    "mbulk_count_huge_digits": b"*99999999999999999999999\r\n",
    "mbulk_expected_dollar": b"*1\r\nPING\r\n",
    "mbulk_expected_dollar_colon": b"*1\r\n:4\r\n",
    "bulk_len_not_a_number": b"*1\r\n$abc\r\n",
    "bulk_len_negative": b"*1\r\n$-1\r\n",
    "bulk_len_too_big": b"*1\r\n$2000000000\r\n",
    "bulk_len_over_512mb": b"*1\r\n$600000000\r\n",
    "unbalanced_double_quote": b'SET "a b\r\n',
    "unbalanced_single_quote": b"SET 'a b\r\n",
    "quote_followed_by_char": b'SET "a"b c\r\n',
    "http_post": b"POST / HTTP/1.1\r\nHost: x\r\n\r\n",
    "http_host_first": b"Host: example.com\r\n",
    "http_get_then_host": b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    "valid_then_bad": b"*1\r\n$4\r\nPING\r\n*abc\r\n",
    "bad_after_partial_args": b"*2\r\n$3\r\nGET\r\n*1\r\n",
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_same_as_redis(keel, oracle, name):
    k, r = both(keel, oracle, MALFORMED[name])
    assert_same_bytes(k, r)


def test_post_multibulk_closes(keel, oracle):
    data = encode(["POST", "/"]) + encode(["PING"])
    k, r = both(keel, oracle, data)
    assert k == r == (b"", True)


def test_too_big_inline(keel, oracle):
    k, r = both(keel, oracle, b"a" * 70000, settle=2.0)
    assert_same_bytes(k, r)
    assert r[0].startswith(b"-ERR Protocol error: too big inline request")


def test_too_big_mbulk_count_string(keel, oracle):
    k, r = both(keel, oracle, b"*" + b"1" * 70000, settle=2.0)
    assert_same_bytes(k, r)


def test_too_big_bulk_count_string(keel, oracle):
    k, r = both(keel, oracle, b"*1\r\n$" + b"1" * 70000, settle=2.0)
    assert_same_bytes(k, r)


def test_mbulk_count_2000000000(keel):
    """Redis 7.0 accepts a multibulk count up to INT_MAX and waits for the
    arguments (allocating lazily). Keel may instead refuse it with a protocol
    error; either is fine as long as it neither crashes nor preallocates."""
    data, closed = exchange(keel.port, b"*2000000000\r\n", settle=1.0)
    if data:
        assert data.startswith(b"-ERR Protocol error"), data
        assert closed
    fresh_pong(keel.port)


# ---------------------------------------------------------------------------
# inputs that are ignored or become inline commands

@pytest.mark.parametrize("data,n", [
    (b"*-1\r\n*1\r\n$4\r\nPING\r\n", 1),
    (b"*0\r\n*1\r\n$4\r\nPING\r\n", 1),
    (b"*-5\r\nPING\r\n", 1),
    (b"$-1\r\n", 1),
    (b"\r\n\r\nPING\r\n", 1),
    (b"   \r\nPING\r\n", 1),
    (b"PING\n", 1),
    (b"PING\nPING\r\nPING\n", 3),
    (b"*2\r\n$4\r\nECHO\r\n$0\r\n\r\n", 1),
    (b"*1\r\n$4\r\nPI\r\n\r\n", 1),
    (b"  PING   \r\n", 1),
    (b"ping\r\n", 1),
    (b"\tPING\r\n", 1),
    (b'ECHO "\\x41\\x4a\\xZZ"\r\n', 1),
    (b'ECHO "a\\"b"\r\n', 1),
    (b"ECHO 'a\"b'\r\n", 1),
    (b'ECHO "\\a\\b\\n\\r\\t\\\\"\r\n', 1),
    (b'ECHO ""\r\n', 1),
    (b"ECHO ''\r\n", 1),
    (b'SET "a b" \'c\\x41\'\r\nGET "a b"\r\n', 2),
    (b'SET "a b" "c\\x41"\r\nGET "a b"\r\n', 2),
], ids=lambda v: repr(v)[:40] if isinstance(v, bytes) else str(v))
def test_lenient_inputs_same_as_redis(keel, oracle, raw, data, n):
    for port in (keel.port, oracle.port):
        raw(port, b"FLUSHALL\r\n")
    k = raw(keel.port, data, n)
    r = raw(oracle.port, data, n)
    assert_same_bytes(k, r)


# ---------------------------------------------------------------------------
# pipelining and fragmentation

def _pipeline(n, seed=1):
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        k = "k%d" % rnd.randrange(50)
        op = rnd.randrange(6)
        if op == 0:
            out.append(["SET", k, "v%d" % i])
        elif op == 1:
            out.append(["GET", k])
        elif op == 2:
            out.append(["INCR", "ctr"])
        elif op == 3:
            out.append(["APPEND", k, "x" * rnd.randrange(100)])
        elif op == 4:
            out.append(["DEL", k])
        else:
            out.append(["MGET", k, "k1", "nokey"])
    return out


def _replies(port, data, n, chunks=None, timeout=20.0):
    with RawConn(port, timeout=timeout) as c:
        c.send(b"*1\r\n$8\r\nFLUSHALL\r\n")
        c.read_reply()
        if chunks:
            for piece in chunks(data):
                c.send(piece)
        else:
            c.send(data)
        return b"".join(c.read_replies(n, timeout))


def test_pipeline_1000_in_one_write(keel, oracle):
    cmds = _pipeline(1000)
    data = encode_many(cmds)
    k = _replies(keel.port, data, len(cmds))
    r = _replies(oracle.port, data, len(cmds))
    assert_same_bytes(k, r)


def test_pipeline_10000_in_one_write(keel, oracle):
    cmds = [["SET", "k%d" % i, "v" * 20] for i in range(5000)] + \
           [["GET", "k%d" % i] for i in range(5000)]
    data = encode_many(cmds)
    k = _replies(keel.port, data, len(cmds))
    r = _replies(oracle.port, data, len(cmds))
    assert_same_bytes(k, r)


def test_pipeline_inline_1000(keel, oracle):
    data = b"".join(b"INCR n\r\n" for _ in range(1000)) + b"GET n\r\n"
    k = _replies(keel.port, data, 1001)
    r = _replies(oracle.port, data, 1001)
    assert_same_bytes(k, r)


def test_pipeline_mixed_errors(keel, oracle):
    cmds = [["SET", "a", "1"], ["FOO", "bar"], ["INCR", "a"], ["GET"], ["LPUSH", "a", "x"],
            ["GET", "a"], ["SET", "a", "b", "NX", "XX"], ["PING"]]
    data = encode_many(cmds) + b"PING inline\r\n"
    k = _replies(keel.port, data, len(cmds) + 1)
    r = _replies(oracle.port, data, len(cmds) + 1)
    assert_same_bytes(k, r)


def _byte_chunks(data):
    for i in range(len(data)):
        yield data[i:i + 1]
        if i % 64 == 0:
            time.sleep(0.001)


def _random_chunks(data, seed=7):
    rnd = random.Random(seed)
    i = 0
    while i < len(data):
        n = rnd.randrange(1, 300)
        yield data[i:i + n]
        i += n
        if rnd.random() < 0.2:
            time.sleep(0.002)


def test_fragmented_one_byte_writes(keel, oracle):
    cmds = _pipeline(40, seed=3)
    data = encode_many(cmds) + b"PING\r\nECHO 'x y'\r\n"
    n = len(cmds) + 2
    k = _replies(keel.port, data, n, chunks=_byte_chunks)
    r = _replies(oracle.port, data, n, chunks=_byte_chunks)
    assert_same_bytes(k, r)


def test_fragmented_random_writes(keel, oracle):
    cmds = _pipeline(2000, seed=5)
    data = encode_many(cmds)
    k = _replies(keel.port, data, len(cmds), chunks=_random_chunks)
    r = _replies(oracle.port, data, len(cmds), chunks=_random_chunks)
    assert_same_bytes(k, r)


def _big_chunks(data, seed=11):
    rnd = random.Random(seed)
    i = 0
    while i < len(data):
        n = rnd.randrange(1, 65536)
        yield data[i:i + n]
        i += n


def test_large_value_roundtrip(keel, oracle):
    big = random.Random(9).randbytes(4 << 20)  # 4 MiB
    data = encode(["SET", "big", big]) + encode(["STRLEN", "big"]) + encode(["GET", "big"])
    k = _replies(keel.port, data, 3, chunks=_big_chunks, timeout=60)
    r = _replies(oracle.port, data, 3, chunks=_big_chunks, timeout=60)
    assert_same_bytes(k, r)


def test_bulk_without_crlf_survives(keel):
    """Redis skips the two bytes after a bulk without checking them; Keel may
    be stricter. Either way the server survives."""
    exchange(keel.port, b"*2\r\n$4\r\nECHO\r\n$3\r\nabcXY*1\r\n$4\r\nPING\r\n", settle=0.5)
    fresh_pong(keel.port)


# ---------------------------------------------------------------------------
# connection life

def test_quit_closes(keel, oracle):
    data = encode(["QUIT"]) + encode(["PING"])
    k, r = both(keel, oracle, data)
    assert k == r == (b"+OK\r\n", True)


def test_client_closes_mid_command(keel):
    for data in (b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100\r\nabc", b"*2\r\n$3\r\nGE",
                 b'SET "unterminated', b"*1"):
        s = socket.create_connection(("127.0.0.1", keel.port))
        s.sendall(data)
        s.close()
    fresh_pong(keel.port)


def test_reset_by_peer(keel):
    for _ in range(5):
        s = socket.create_connection(("127.0.0.1", keel.port))
        s.sendall(encode(["SET", "k", "v" * 100000]))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()  # RST
    fresh_pong(keel.port)


def test_many_connections(keel):
    conns = [RawConn(keel.port) for _ in range(200)]
    try:
        for c in conns:
            c.send(b"*1\r\n$4\r\nPING\r\n")
        for c in conns:
            assert c.read_reply() == b"+PONG\r\n"
    finally:
        for c in conns:
            c.close()
    fresh_pong(keel.port)


def test_slow_reader_gets_everything(keel):
    """Replies larger than the socket buffers are delivered completely to a
    client that reads slowly."""
    with RawConn(keel.port, timeout=30) as c:
        c.send(encode(["SET", "v", "z" * 100000]))
        assert c.read_reply() == b"+OK\r\n"
        c.send(encode_many([["GET", "v"]] * 200))
        time.sleep(0.5)
        got = c.read_replies(200, timeout=30)
        assert all(g == b"$100000\r\n" + b"z" * 100000 + b"\r\n" for g in got)


def test_resp3_after_hello(keel, oracle):
    data = (encode(["HELLO", "3"]) + encode(["GET", "nokey"]) + encode(["PING"]) +
            encode(["HELLO", "2"]) + encode(["GET", "nokey"]))
    k = _replies(keel.port, data, 5)
    r = _replies(oracle.port, data, 5)
    # the HELLO maps carry server/version/id: compare everything after them
    kr, _ = split_replies(k)
    rr, _ = split_replies(r)
    assert [kr[1], kr[2], kr[4]] == [rr[1], rr[2], rr[4]]
    assert kr[0][:1] == b"%" and kr[3][:1] == b"*"


# ---------------------------------------------------------------------------
# RESP3 types through the JSON sink (DEBUG PROTOCOL; the RESP bytes of each
# type are compared with redis-server in test_debug.py)

@pytest.fixture(scope="module")
def kh_debug():
    from test_http_helpers import keel_http_fixture
    # DEBUG allowed over HTTP/WebSocket (it is in the default disabled list)
    yield from keel_http_fixture(["--http-disabled-commands", "SETEX"], name="keel-debug-json")


DEBUG_JSON_RESP3 = {
    "string": "Hello World", "integer": 12345, "double": 3.141,
    "bignum": "1234567999999999999999999999999999999", "null": None, "array": [0, 1, 2],
    "set": [0, 1, 2], "map": {"0": False, "1": True, "2": False},
    # an attribute is dropped: the reply it describes is the value
    "attrib": "Some real reply following the attribute",
    "verbatim": "This is a verbatim\nstring", "true": True, "false": False,
}


def test_resp3_types_as_websocket_json(kh_debug):
    import json
    import websocket
    ws = websocket.create_connection("ws://127.0.0.1:%d/" % kh_debug.http, timeout=5)
    try:
        for t, want in DEBUG_JSON_RESP3.items():
            ws.send(json.dumps(["DEBUG", "PROTOCOL", t]))
            assert json.loads(ws.recv()) == {"DEBUG": want}, t
        ws.send(json.dumps(["DEBUG", "PROTOCOL", "push"]))
        assert json.loads(ws.recv()) == {"push": ["server-cpu-usage", 42]}
        assert json.loads(ws.recv()) == {"DEBUG": "Some real reply following the push reply"}
        # nothing left over from the attribute: the next reply is whole
        ws.send(json.dumps(["PING"]))
        assert json.loads(ws.recv()) == {"PING": [True, "PONG"]}
    finally:
        ws.close()


def test_resp3_types_as_http_json(kh_debug):
    """HTTP clients are RESP2 clients: no attribute is sent at all, booleans
    are 1/0 and doubles strings, as their RESP2 forms."""
    import json
    from test_http_helpers import get
    want = dict(DEBUG_JSON_RESP3, double="3.141", map={"0": 0, "1": 1, "2": 0}, true=1, false=0)
    for t, v in want.items():
        rsp = get(kh_debug.http, "/DEBUG/PROTOCOL/" + t)
        assert rsp.status == 200 and json.loads(rsp.body) == {"DEBUG": v}, (t, rsp.body)
    rsp = get(kh_debug.http, "/DEBUG/PROTOCOL/push")
    assert json.loads(rsp.body) == {"DEBUG": [False, "ERR RESP2 is not supported by this command"]}
