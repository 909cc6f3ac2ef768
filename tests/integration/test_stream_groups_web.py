"""Consumer-group delivery of a stream to browsers (web/stream_tail.c,
ws/ws_tail.c): GET /_stream/<key>?group=g&consumer=c as Server-Sent Events
and {"tail":key,"group":g,"consumer":c} over WebSocket, acked with POST
/_stream/<key>/ack?group=g or {"ack":[ids]}; unacked entries come again on
reconnect (the consumer's pending entries first), then new ones; the
user's ACL rules for XREADGROUP/XACK apply. Checked against the group's
state as redis-py reads it (XPENDING, XINFO GROUPS)."""

import base64
import json
import shutil
import socket
import tempfile
import time

import pytest

import harness
from test_rdb import Srv
from test_streams import _events, _sse_read


@pytest.fixture
def web():
    port = harness.free_port()
    srv = Srv("keel", tempfile.mkdtemp(prefix="keel-xgweb-"), extra=["--http-port", str(port)])
    srv.start()
    srv.http_port = port
    try:
        yield srv
    finally:
        srv.stop()
        shutil.rmtree(srv.workdir, ignore_errors=True)


def _sse(port, path, headers=b""):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n" +
              headers + b"\r\n")
    return s


def _post(port, path, body, headers=b""):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"POST " + path + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
              b"Content-Type: application/json\r\nContent-Length: %d\r\n" % len(body) +
              headers + b"\r\n" + body)
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), body


def _basic(user, pw):
    return b"Authorization: Basic " + base64.b64encode(("%s:%s" % (user, pw)).encode()) + b"\r\n"


def _pending(c, key="s", group="g"):
    return [(p["message_id"].decode(), p["consumer"].decode())
            for p in c.xpending_range(key, group, "-", "+", 100)]


def test_sse_group_delivery_ack_and_redelivery(web):
    c = web.client()
    for i in range(1, 4):
        c.xadd("s", {"n": i}, id="%d-1" % i)
    c.xgroup_create("s", "g", id="0")
    s = _sse(web.http_port, b"/_stream/s?group=g&consumer=alice")
    data = _sse_read(s, 3)
    assert b"Content-Type: text/event-stream" in data
    assert _events(data) == [(b"1-1", b'{"n":"1"}'), (b"2-1", b'{"n":"2"}'),
                             (b"3-1", b'{"n":"3"}')]
    assert _pending(c) == [("1-1", "alice"), ("2-1", "alice"), ("3-1", "alice")]
    # new entries arrive while the read blocks
    c.xadd("s", {"n": 4}, id="4-1")
    assert _events(b"\r\n\r\n" + _sse_read(s, 1)) == [(b"4-1", b'{"n":"4"}')]
    # the browser acks two over HTTP
    status, body = _post(web.http_port, b"/_stream/s/ack?group=g", b'["1-1","3-1"]')
    assert status == 200 and json.loads(body) == {"XACK": 2}
    assert _pending(c) == [("2-1", "alice"), ("4-1", "alice")]
    s.close()
    # the browser reconnects (its Last-Event-ID does not matter: the
    # pending list does): the unacked ones again, then new ones
    c.xadd("s", {"n": 5}, id="5-1")
    s = _sse(web.http_port, b"/_stream/s?group=g&consumer=alice", b"Last-Event-ID: 4-1\r\n")
    assert [e[0] for e in _events(_sse_read(s, 3))] == [b"2-1", b"4-1", b"5-1"]
    c.xadd("s", {"n": 6}, id="6-1")
    assert [e[0] for e in _events(b"\r\n\r\n" + _sse_read(s, 1))] == [b"6-1"]
    s.close()
    info = c.xinfo_groups("s")[0]
    assert info["pending"] == 4 and info["last-delivered-id"] == b"6-1"
    # another consumer gets only what was never delivered
    c.xadd("s", {"n": 7}, id="7-1")
    s = _sse(web.http_port, b"/_stream/s?group=g&consumer=bob")
    assert [e[0] for e in _events(_sse_read(s, 1))] == [b"7-1"]
    s.close()
    # a pending entry deleted since comes with null
    c.xdel("s", "2-1")
    s = _sse(web.http_port, b"/_stream/s?group=g&consumer=alice")
    assert _events(_sse_read(s, 3))[0] == (b"2-1", b"null")
    s.close()


def test_sse_group_errors(web):
    c = web.client()
    c.xadd("s", {"n": 1}, id="1-1")
    port = web.http_port
    # no such group: XREADGROUP's error as an error event
    s = _sse(port, b"/_stream/s?group=nope&consumer=a")
    data = s.recv(4096)
    assert b"event: error" in data and b"NOGROUP" in data
    s.close()
    for path in (b"/_stream/s?group=g", b"/_stream/s?consumer=a", b"/_stream/s?group=&consumer=a"):
        s = _sse(port, path, b"Connection: close\r\n")
        assert s.recv(4096).split(b" ")[1] == b"400", path
        s.close()
    c.xgroup_create("s", "g", id="0")
    for body in (b"", b"[]", b'{"a":1}', b"[1]", b"nope"):
        assert _post(port, b"/_stream/s/ack?group=g", body)[0] == 400, body
    assert _post(port, b"/_stream/s/ack", b'["1-1"]')[0] == 400
    # XACK's own errors and replies, as redis-server gives them
    status, body = _post(port, b"/_stream/s/ack?group=g", b'["bad"]')
    assert json.loads(body) == {"XACK": [False, "ERR Invalid stream ID specified as stream "
                                         "command argument"]}
    assert json.loads(_post(port, b"/_stream/s/ack?group=g", b'["1-1"]')[1]) == {"XACK": 0}
    # a key with a slash, %-encoded
    c.xadd("a/b", {"n": 1}, id="1-1")
    c.xgroup_create("a/b", "g", id="0")
    s = _sse(port, b"/_stream/a%2Fb?group=g&consumer=x")
    assert [e[0] for e in _events(_sse_read(s, 1))] == [b"1-1"]
    s.close()
    assert json.loads(_post(port, b"/_stream/a%2Fb/ack?group=g", b'["1-1"]')[1]) == {"XACK": 1}
    # XREADGROUP disabled over HTTP refuses the group tail
    c.config_set("http-disabled-commands", "XREADGROUP")
    s = _sse(port, b"/_stream/s?group=g&consumer=a", b"Connection: close\r\n")
    assert s.recv(4096).split(b" ")[1] == b"403"
    s.close()


def test_sse_group_acl(web):
    c = web.client()
    c.xadd("s", {"n": 1}, id="1-1")
    c.xadd("other", {"n": 1}, id="1-1")
    c.xgroup_create("s", "g", id="0")
    c.xgroup_create("other", "g", id="0")
    c.acl_setuser("reader", enabled=True, passwords=["+pw"], keys=["s"],
                  commands=["+xreadgroup"])
    c.acl_setuser("acker", enabled=True, passwords=["+pw"], keys=["s"],
                  commands=["+xreadgroup", "+xack"])
    port = web.http_port
    # a key the user may not touch
    s = _sse(port, b"/_stream/other?group=g&consumer=a", _basic("reader", "pw"))
    data = s.recv(4096)
    assert b"event: error" in data and b"NOPERM" in data
    s.close()
    s = _sse(port, b"/_stream/s?group=g&consumer=a", _basic("reader", "pw"))
    assert [e[0] for e in _events(_sse_read(s, 1))] == [b"1-1"]
    s.close()
    # XACK needs its own permission
    status, body = _post(port, b"/_stream/s/ack?group=g", b'["1-1"]', _basic("reader", "pw"))
    assert "NOPERM" in json.dumps(json.loads(body))
    assert _pending(c) == [("1-1", "a")]
    status, body = _post(port, b"/_stream/s/ack?group=g", b'["1-1"]', _basic("acker", "pw"))
    assert json.loads(body) == {"XACK": 1}
    assert _pending(c) == []


def _ws(port, headers=None):
    websocket = pytest.importorskip("websocket")
    return websocket.create_connection("ws://127.0.0.1:%d/" % port, timeout=5,
                                       header=headers or [])


def test_ws_group_delivery_ack_and_redelivery(web):
    c = web.client()
    for i in range(1, 4):
        c.xadd("s", {"n": i}, id="%d-1" % i)
    c.xgroup_create("s", "g", id="0")
    ws = _ws(web.http_port)
    ws.send(json.dumps({"tail": "s", "group": "g", "consumer": "w"}))
    got = [json.loads(ws.recv()) for _ in range(3)]
    assert got == [{"tail": "s", "id": "%d-1" % i, "fields": {"n": str(i)}} for i in (1, 2, 3)]
    # acks while the read is parked: XACK runs, and reading goes on
    ws.send(json.dumps({"ack": ["1-1", "2-1"]}))
    deadline = time.monotonic() + 5
    while _pending(c) != [("3-1", "w")] and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _pending(c) == [("3-1", "w")]
    c.xadd("s", {"n": 4}, id="4-1")
    assert json.loads(ws.recv()) == {"tail": "s", "id": "4-1", "fields": {"n": "4"}}
    ws.close()
    # reconnect: 3-1 and 4-1 again (unacked), then new ones
    ws = _ws(web.http_port)
    ws.send(json.dumps({"tail": "s", "group": "g", "consumer": "w"}))
    assert [json.loads(ws.recv())["id"] for _ in range(2)] == ["3-1", "4-1"]
    ws.send(json.dumps({"ack": ["3-1"]}))
    c.xadd("s", {"n": 5}, id="5-1")
    assert json.loads(ws.recv())["id"] == "5-1"
    ws.send(json.dumps({"ack": ["4-1", "5-1"]}))
    deadline = time.monotonic() + 5
    while _pending(c) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _pending(c) == []
    # a bad ack ends the tail with XACK's error; the connection serves again
    ws.send(json.dumps({"ack": [7]}))
    got = json.loads(ws.recv())
    assert got["tail"] == "s" and "Invalid stream ID" in json.dumps(got["error"])
    ws.send(json.dumps({"id": 1, "cmd": ["XLEN", "s"]}))
    assert json.loads(ws.recv()) == {"id": 1, "reply": 5}
    # outside a group tail, an ack message is not a request
    ws.send(json.dumps({"ack": ["1-1"]}))
    assert "error" in json.loads(ws.recv())
    ws.close()


def test_ws_group_errors_and_acl(web):
    c = web.client()
    c.xadd("s", {"n": 1}, id="1-1")
    c.xgroup_create("s", "g", id="0")
    ws = _ws(web.http_port)
    for bad in ({"tail": "s", "group": "g"}, {"tail": "s", "group": 5, "consumer": "c"},
                {"tail": "s", "group": "", "consumer": "c"}):
        ws.send(json.dumps(bad))
        assert "error" in json.loads(ws.recv()), bad
    ws.send(json.dumps({"tail": "s", "group": "nope", "consumer": "c"}))
    got = json.loads(ws.recv())
    assert "NOGROUP" in json.dumps(got["error"])
    ws.close()
    c.acl_setuser("reader", enabled=True, passwords=["+pw"], keys=["s"],
                  commands=["+xreadgroup"])
    auth = "Authorization: Basic " + base64.b64encode(b"reader:pw").decode()
    ws = _ws(web.http_port, [auth])
    ws.send(json.dumps({"tail": "s", "group": "g", "consumer": "c"}))
    assert json.loads(ws.recv())["id"] == "1-1"
    ws.send(json.dumps({"ack": ["1-1"]}))
    got = json.loads(ws.recv())
    assert "NOPERM" in json.dumps(got["error"])
    assert _pending(c) == [("1-1", "c")]
    ws.close()
