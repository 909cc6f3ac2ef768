"""A big reply's memory is given back once written, over HTTP and
WebSocket as over RESP (Redis frees its reply blocks once sent): an idle
connection that got a 500 KB reply shows at most its kept side buffer
(16 KB) in CLIENT LIST's omem, so memory it no longer uses does not count
for maxmemory or maxmemory-clients. Before, the JSON reply buffer, the RESP
frames buffer and the HTTP body buffers kept their peak (512 KB-1.5 MB)."""
import json
import time

import pytest
import websocket

from test_http_helpers import HttpConn, check_health, keel_http_fixture

BIG = 500000
KEPT = 16384


@pytest.fixture(scope="module")
def _srv():
    yield from keel_http_fixture([], name="web-buffers")


@pytest.fixture
def srv(_srv):
    _srv.ensure_running()
    _srv.flushall()
    _srv.resp("SET", "big", "x" * BIG)
    yield _srv
    check_health(_srv)


def omem_of(srv, name):
    listing = srv.resp("CLIENT", "LIST").decode()
    for line in listing.splitlines():
        f = dict(kv.split("=", 1) for kv in line.split())
        if f["name"] == name:
            return int(f["omem"])
    raise AssertionError("no client named " + name)


def settled_omem(srv, name):
    # the reply has been read by the client: the server wrote it all
    time.sleep(0.1)
    return omem_of(srv, name)


def ws_json(srv):
    ws = websocket.create_connection("ws://127.0.0.1:%d/" % srv.http, timeout=5)
    ws.send(json.dumps(["CLIENT", "SETNAME", "wsjson"]))
    ws.recv()
    return ws


def test_ws_json_single_reply(srv):
    ws = ws_json(srv)
    try:
        ws.send(json.dumps(["GET", "big"]))
        assert len(ws.recv()) > BIG
        assert settled_omem(srv, "wsjson") <= KEPT
    finally:
        ws.close()


def test_ws_json_batch(srv):
    ws = ws_json(srv)
    try:
        ws.send(json.dumps({"id": 1, "batch": [["GET", "big"], ["GET", "big"]]}))
        assert len(ws.recv()) > 2 * BIG
        assert settled_omem(srv, "wsjson") <= KEPT
    finally:
        ws.close()


def test_ws_big_request(srv):
    ws = ws_json(srv)
    try:
        ws.send(json.dumps(["SET", "big2", "y" * BIG]))
        assert json.loads(ws.recv()) == {"SET": [True, "OK"]}
        assert settled_omem(srv, "wsjson") <= KEPT
    finally:
        ws.close()


def test_ws_resp_mode(srv):
    ws = websocket.create_connection("ws://127.0.0.1:%d/" % srv.http, timeout=5,
                                     subprotocols=["resp2"])
    try:
        ws.send_binary(b"*3\r\n$6\r\nCLIENT\r\n$7\r\nSETNAME\r\n$6\r\nwsresp\r\n")
        assert ws.recv() == b"+OK\r\n"
        ws.send_binary(b"*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n")
        got = b""
        while len(got) < BIG:
            got += ws.recv()
        assert settled_omem(srv, "wsresp") <= KEPT
    finally:
        ws.close()


@pytest.mark.parametrize("path", ["/GET/big", "/GET/big.raw", "/GET/big.txt"])
def test_http_keep_alive(srv, path):
    with HttpConn(srv.http) as h:
        assert h.roundtrip("GET", "/CLIENT/SETNAME/http").status == 200
        r = h.roundtrip("GET", path)
        assert r.status == 200 and len(r.body) >= BIG
        assert settled_omem(srv, "http") <= KEPT
