"""Webdis's WebSocket shapes on /.json and /.raw (adapters/ws/ws_webdis.h),
beside Keel's own protocol on "/" (test_ws.py):

  /.json  Webdis's JSON replies (RESP2: the same JSON as Keel's Webdis HTTP
          form), pub/sub messages wrapped in the subscribing command's name
          {"SUBSCRIBE":["message","chan","hi"]}, refusals by the access rules
          {"error":true,"message":"Forbidden","http_status":403};
  /.raw   RESP in text frames, refusals -ERR Forbidden;
  a handshake without Sec-WebSocket-Version is accepted.

Debian's webdis (0.1.9) answers the first message of a WebSocket connection
and then drops it: the shapes of first replies are compared with it, one
connection per command; the rest follows the shapes today's Webdis
documents."""

import json
import time

import pytest
import websocket

from harness import encode
from test_http_helpers import (WebdisPair, check_health, get, have_webdis, keel_http_fixture)
from test_ws import RawWS

HOST = "127.0.0.1"
FORBIDDEN = {"error": True, "message": "Forbidden", "http_status": 403}


@pytest.fixture(scope="module")
def srv():
    yield from keel_http_fixture(name="keel-ws-webdis")


@pytest.fixture(autouse=True)
def _health(srv):
    srv.ensure_running()
    srv.flushall()
    yield
    check_health(srv)


@pytest.fixture(scope="module")
def webdis():
    if not have_webdis():
        pytest.skip("webdis not installed (apt-get install webdis)")
    w = WebdisPair({"websockets": True})
    try:
        w.start()
    except RuntimeError as e:
        w.stop()
        pytest.skip(str(e))
    yield w
    w.stop()


def wait_numsub(srv, chan, n=1):
    deadline = time.monotonic() + 3
    while srv.resp("PUBSUB", "NUMSUB", chan)[1] != n:
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_json_replies_match_the_http_form(srv):
    """/.json answers as the Webdis HTTP form does (RESP2 shapes)."""
    w = RawWS(srv.http, path="/.json")
    cmds = [["SET", "k", "v"], ["GET", "k"], ["GET", "nokey"], ["INCR", "n"],
            ["RPUSH", "l", "a", "b"], ["LRANGE", "l", "0", "-1"], ["HSET", "h", "f", "1"],
            ["HGETALL", "h"], ["ZADD", "z", "1.5", "m"], ["ZSCORE", "z", "m"],
            ["ZRANGE", "z", "0", "-1", "WITHSCORES"], ["INCR", "k"], ["TYPE", "l"], ["PING"]]
    ws_replies = []
    for c in cmds:
        w.send_json(c)
        ws_replies.append(w.recv_json())
    w.close()
    srv.flushall()
    http_replies = [get(srv.http, "/" + "/".join(c)).json() for c in cmds]
    assert ws_replies == http_replies
    assert ws_replies[9] == {"ZSCORE": "1.5"}


def test_json_pubsub_message_shape(srv):
    w = RawWS(srv.http, path="/.json")
    w.send_json(["SUBSCRIBE", "chan"])
    assert w.recv_json() == {"SUBSCRIBE": ["subscribe", "chan", 1]}
    wait_numsub(srv, "chan")
    srv.resp("PUBLISH", "chan", "hi")
    assert w.recv_json() == {"SUBSCRIBE": ["message", "chan", "hi"]}
    # Later subscriptions' messages keep the first subscribing command's name.
    w.send_json(["PSUBSCRIBE", "p*"])
    assert w.recv_json() == {"PSUBSCRIBE": ["psubscribe", "p*", 2]}
    srv.resp("PUBLISH", "pq", "x")
    assert w.recv_json() == {"SUBSCRIBE": ["pmessage", "p*", "pq", "x"]}
    w.close()
    # The name as the client typed it.
    w = RawWS(srv.http, path="/.json")
    w.send_json(["psubscribe", "a*"])
    assert w.recv_json() == {"psubscribe": ["psubscribe", "a*", 1]}
    deadline = time.monotonic() + 3
    while srv.resp("PUBSUB", "NUMPAT") != 1:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    srv.resp("PUBLISH", "ab", "y")
    assert w.recv_json() == {"psubscribe": ["pmessage", "a*", "ab", "y"]}
    w.close()


def test_keel_endpoint_keeps_push(srv):
    w = RawWS(srv.http, path="/")
    w.send_json(["SUBSCRIBE", "chan"])
    assert w.recv_json() == {"SUBSCRIBE": ["subscribe", "chan", 1]}
    wait_numsub(srv, "chan")
    srv.resp("PUBLISH", "chan", "hi")
    assert w.recv_json() == {"push": ["message", "chan", "hi"]}
    w.close()


def test_json_forbidden(srv):
    w = RawWS(srv.http, path="/.json")
    w.send_json(["FLUSHALL"])
    assert w.recv_json() == FORBIDDEN
    w.send_json(["PING"])
    assert w.recv_json() == {"PING": [True, "PONG"]}
    w.close()


def test_raw_text_frames(srv):
    w = RawWS(srv.http, path="/.raw")
    w.send(1, encode(["SET", "k", "v"]))
    _, op, payload, _ = w.recv_frame()
    assert (op, payload) == (1, b"+OK\r\n")
    w.send(1, encode(["GET", "k"]))
    assert w.recv_frame()[1:3] == (1, b"$1\r\nv\r\n")
    w.send(2, encode(["FLUSHALL"]))  # a binary frame is read the same
    assert w.recv_frame()[1:3] == (1, b"-ERR Forbidden\r\n")
    w.send(1, encode(["SUBSCRIBE", "c"]))
    assert w.recv_frame()[1:3] == (1, b"*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n")
    wait_numsub(srv, "c")
    srv.resp("PUBLISH", "c", "hello")
    assert w.recv_frame()[1:3] == (1, b"*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$5\r\nhello\r\n")
    w.close()


def test_raw_with_a_library_client_is_text(srv):
    """Python's websocket-client hands text frames over as str."""
    ws = websocket.create_connection("ws://%s:%d/.raw" % (HOST, srv.http), timeout=5)
    ws.send(encode(["ECHO", "hé"]).decode())
    assert ws.recv() == "$3\r\nhé\r\n"
    ws.close()
    # The binary-safe mode: the resp2 subprotocol, binary frames.
    ws = websocket.create_connection("ws://%s:%d/.raw" % (HOST, srv.http), timeout=5,
                                     subprotocols=["resp2"])
    ws.send_binary(encode(["ECHO", b"\xff\x00"]))
    assert ws.recv() == b"$2\r\n\xff\x00\r\n"
    ws.close()


def test_handshake_without_version(srv):
    for path in ("/.json", "/"):
        w = RawWS(srv.http, path=path, headers={"Sec-WebSocket-Version": None})
        assert w.status == 101
        w.send_json(["PING"])
        assert w.recv_json() == {"PING": [True, "PONG"]}
        w.close()
    w = RawWS(srv.http, path="/.json", headers={"Sec-WebSocket-Version": "8"}, expect=400)
    w.close()


def test_first_replies_match_webdis(srv, webdis):
    """Each webdis 0.1.9 worker thread serves one WebSocket connection, and
    only its first message: two connections (threads 2), one per mode,
    each with a command whose reply both must frame the same way. (Its raw
    SUBSCRIBE confirmation writes the count as a bulk string, $1 1: a
    0.1.9 quirk Keel does not copy; it sends Redis's :1.)"""
    got = {}
    for name, s in (("keel", srv), ("webdis", webdis)):
        s.flushall()
        s.resp("RPUSH", "l", "a", "b")
        frames = []
        for path, payload in (("/.json", json.dumps(["LRANGE", "l", "0", "-1"])),
                              ("/.raw", encode(["LRANGE", "l", "0", "-1"]).decode())):
            # websocket-client: webdis 0.1.9 does not answer RawWS's handshake.
            w = websocket.create_connection("ws://%s:%d%s" % (HOST, s.http, path), timeout=5)
            w.send(payload)
            frames.append((path,) + w.recv_data())
            w.close()
        got[name] = frames
    assert got["keel"] == got["webdis"]
    assert got["keel"][0] == ("/.json", 1, b'{"LRANGE":["a","b"]}')
