"""Regression tests for the defects a hostile probe found (issue 11): each
test here failed on the code before its fix.

  - per-request state shared between HTTP connections (?sep= leaked from
    one connection's request into another's reply);
  - a deny list that did not parse was taken as "nothing disabled";
  - atomic batches holding transaction-control commands ran half-way;
  - JSON bodies that did not parse (a bad db in a batch, CLIENT REPLY
    OFF/SKIP over HTTP and WebSocket);
  - requests from a refused Origin ran (only their answer was hidden);
  - RESET on a keep-alive connection broke later authenticated requests;
  - GET /SUBSCRIBE with no channel opened a stream that never ended;
  - pipelined HTTP requests past the 256 KB of output at which answering
    pauses stalled when the socket took that output at once (found while
    moving the adapters onto the connection base, adapters/conn.c).
"""

import json
import socket
import subprocess
import time

import pytest
import websocket

from harness import Err, RawConn, encode, keel_argv, free_port, parse_one
from test_http_helpers import HttpConn, check_health, get, keel_http_fixture, post_json


@pytest.fixture(scope="module")
def _srv():
    yield from keel_http_fixture([], name="hardening")


@pytest.fixture
def srv(_srv):
    _srv.ensure_running()
    _srv.flushall()
    yield _srv
    check_health(_srv)


def _ws(srv, path="/", **kw):
    return websocket.create_connection("ws://127.0.0.1:%d%s" % (srv.http, path), timeout=5, **kw)


def _call(ws, obj):
    ws.send(json.dumps(obj))
    return json.loads(ws.recv())


# ---------------------------------------------------------------- 1. ?sep=

def test_sep_is_per_request_not_shared_between_connections(srv):
    a = HttpConn(srv.http)
    b = HttpConn(srv.http)
    try:
        # A blocks with its own separator ...
        a.request("GET", "/BLPOP/q/0.txt?sep=AAA")
        time.sleep(0.2)
        # ... B's request with another separator must not change A's.
        r = b.roundtrip("GET", "/ECHO/x.txt?sep=SECRET-OF-B")
        assert r.status == 200 and r.body == b"x"
        srv.resp("RPUSH", "q", "v")
        r = a.read_response(timeout=5)
        assert r.status == 200
        assert r.body == b"qAAAv"
        assert b"SECRET" not in r.body
    finally:
        a.close()
        b.close()


# ---------------------------------------------------- 2. deny list fails closed

@pytest.mark.parametrize("value", ['CONFIG "FLUSHALL KEYS', 'CONFIG "FLUSHALL', "CONFIG,FLUSHALL",
                                   "CONFIG NOSUCHCOMMAND"])
def test_disabled_commands_list_that_does_not_parse_is_refused(srv, value):
    before = srv.resp("CONFIG", "GET", "http-disabled-commands")
    got = srv.resp("CONFIG", "SET", "http-disabled-commands", value)
    assert isinstance(got, Err), got
    assert "http-disabled-commands" in repr(got)
    assert srv.resp("CONFIG", "GET", "http-disabled-commands") == before
    # Still refused over HTTP.
    r = get(srv.http, "/CONFIG/SET/requirepass/x")
    assert r.status == 403
    assert srv.resp("CONFIG", "GET", "requirepass") == [b"requirepass", b""]


def test_disabled_commands_valid_lists_are_taken(srv):
    try:
        assert srv.resp("CONFIG", "SET", "http-disabled-commands", "config  flushall") == b"OK"
        assert get(srv.http, "/FLUSHALL").status == 403
        assert get(srv.http, "/KEYS/*").status == 200
        assert srv.resp("CONFIG", "SET", "http-disabled-commands", "") == b"OK"
        assert get(srv.http, "/KEYS/*").status == 200
    finally:
        srv.resp("CONFIG", "SET", "http-disabled-commands",
                 "FLUSHALL FLUSHDB CONFIG DEBUG SHUTDOWN KEYS")


@pytest.mark.parametrize("value", ['CONFIG "FLUSHALL', "CONFIG,FLUSHALL", "NOSUCH"])
def test_server_does_not_start_with_a_bad_disabled_list(tmp_path, value):
    port, http = free_port(), free_port()
    p = subprocess.run(keel_argv(port) + ["--http-port", str(http),
                                          "--http-disabled-commands", value],
                       cwd=tmp_path, capture_output=True, timeout=20)
    assert p.returncode != 0
    assert b"http-disabled-commands" in p.stderr + p.stdout


# ------------------------------------------------------- 3. atomic batches

@pytest.mark.parametrize("ctl", [["EXEC"], ["DISCARD"], ["RESET"], ["MULTI"], ["WATCH", "k"],
                                 ["UNWATCH"], ["exec"]])
def test_http_atomic_batch_with_transaction_control_runs_nothing(srv, ctl):
    r = post_json(srv.http, [ctl, ["SET", "ab1", "written"]], path="/?atomic=1")
    assert r.status == 400
    assert "atomic batch" in r.json()["error"]
    assert srv.resp("EXISTS", "ab1") == 0
    r = post_json(srv.http, [["SET", "ab1", "written"], ctl], path="/?atomic=1")
    assert r.status == 400
    assert srv.resp("EXISTS", "ab1") == 0


@pytest.mark.parametrize("ctl", [["EXEC"], ["DISCARD"], ["RESET"], ["MULTI"], ["WATCH", "k"]])
def test_ws_atomic_batch_with_transaction_control_runs_nothing(srv, ctl):
    ws = _ws(srv)
    try:
        got = _call(ws, {"id": 1, "batch": [ctl, ["SET", "ab2", "written"]], "atomic": True})
        assert "atomic batch" in json.dumps(got), got
        assert srv.resp("EXISTS", "ab2") == 0
        # The connection still works and is not in a transaction.
        assert _call(ws, {"id": 2, "cmd": ["SET", "ab2", "ok"]})["reply"] == [True, "OK"]
        assert srv.resp("GET", "ab2") == b"ok"
    finally:
        ws.close()


def test_http_atomic_batch_inside_multi_is_refused(srv):
    with HttpConn(srv.http) as c:
        assert c.roundtrip("GET", "/MULTI").json() == {"MULTI": [True, "OK"]}
        body = json.dumps([["SET", "ab3", "x"]])
        r = c.roundtrip("POST", "/?atomic=1", {"Content-Type": "application/json"}, body)
        assert r.status == 400
        assert "inside MULTI" in r.json()["error"]
        assert c.roundtrip("GET", "/DISCARD").json() == {"DISCARD": [True, "OK"]}
    assert srv.resp("EXISTS", "ab3") == 0


def test_http_atomic_batch_still_works(srv):
    r = post_json(srv.http, [["SET", "ab4", "1"], ["INCR", "ab4"]], path="/?atomic=1")
    assert r.status == 200
    assert r.json() == [{"SET": [True, "OK"]}, {"INCR": 2}]


# ------------------------------------------------------ 4. JSON that parses

def test_batch_with_bad_db_is_valid_json(srv):
    r = post_json(srv.http, [["PING"], ["ECHO", "x"]], path="/99/")
    assert r.status == 200
    assert r.json() == [{"PING": [False, "ERR DB index is out of range"]},
                        {"ECHO": [False, "ERR DB index is out of range"]}]
    r = post_json(srv.http, [["PING"]], path="/99/?atomic=1")
    assert r.json() == {"EXEC": [False, "ERR DB index is out of range"]}
    r = get(srv.http, "/99/PING")
    assert r.json() == {"PING": [False, "ERR DB index is out of range"]}


@pytest.mark.parametrize("mode", ["OFF", "SKIP"])
def test_client_reply_off_skip_refused_over_http(srv, mode):
    r = post_json(srv.http, [["CLIENT", "REPLY", mode], ["PING"], ["PING"]])
    body = r.json()  # must parse
    assert len(body) == 3
    assert body[0]["CLIENT"][0] is False and "CLIENT REPLY" in body[0]["CLIENT"][1]
    assert body[1] == {"PING": [True, "PONG"]} and body[2] == {"PING": [True, "PONG"]}
    r = post_json(srv.http, [["CLIENT", "REPLY", mode], ["PING"]], path="/?atomic=1")
    body = r.json()  # EXEC's results: CLIENT's error, then PONG
    assert body[0]["CLIENT"][0] is False and body[1] == {"PING": [True, "PONG"]}
    r = get(srv.http, "/CLIENT/REPLY/" + mode)
    assert r.json()["CLIENT"][0] is False
    assert get(srv.http, "/CLIENT/REPLY/ON").json() == {"CLIENT": [True, "OK"]}


def test_client_reply_off_refused_over_websocket(srv):
    ws = _ws(srv)
    try:
        got = _call(ws, {"id": 1, "cmd": ["CLIENT", "REPLY", "OFF"]})
        assert "CLIENT REPLY" in json.dumps(got)
        assert _call(ws, {"id": 2, "cmd": ["PING"]})["id"] == 2
    finally:
        ws.close()


def test_client_reply_off_still_works_over_resp(srv):
    with RawConn(srv.port) as c:
        c.send(encode(["CLIENT", "REPLY", "OFF"]) + encode(["SET", "cr", "1"]) +
               encode(["CLIENT", "REPLY", "ON"]))
        assert parse_one(c.read_reply())[0] == b"OK"
    assert srv.resp("GET", "cr") == b"1"


# ------------------------------------------------------ 7. cross-site writes

def test_refused_origin_does_not_run(srv):
    try:
        assert srv.resp("CONFIG", "SET", "http-allowed-origins", "https://good.example") == b"OK"
        r = get(srv.http, "/SET/xs/evil", {"Origin": "https://evil.example"})
        assert r.status == 403
        assert srv.resp("EXISTS", "xs") == 0
        r = post_json(srv.http, ["SET", "xs", "evil"], headers={"Origin": "https://evil.example"})
        assert r.status == 403
        long_origin = "https://" + "a" * 300 + ".example"
        assert get(srv.http, "/SET/xs/evil", {"Origin": long_origin}).status == 403
        assert srv.resp("EXISTS", "xs") == 0
        r = get(srv.http, "/SET/xs/good", {"Origin": "https://good.example"})
        assert r.status == 200 and r.header("access-control-allow-origin") == "https://good.example"
        assert get(srv.http, "/GET/xs").json() == {"GET": "good"}  # no Origin: curl
    finally:
        srv.resp("CONFIG", "SET", "http-allowed-origins", "*")
    # Under the default "*", any origin may act (the README's security note).
    assert get(srv.http, "/PING", {"Origin": "https://" + "b" * 300}).status == 200


# ---------------------------------------------- 8. RESET, SUBSCRIBE, ...

def test_reset_then_bearer_still_authenticates(srv):
    try:
        assert srv.resp("CONFIG", "SET", "requirepass", "pw") == b"OK"
        with HttpConn(srv.http) as c:
            h = {"Authorization": "Bearer pw"}
            assert c.roundtrip("GET", "/PING", h).json() == {"PING": [True, "PONG"]}
            assert c.roundtrip("GET", "/RESET", h).json() == {"RESET": [True, "RESET"]}
            assert c.roundtrip("GET", "/SET/ra/1", h).json() == {"SET": [True, "OK"]}
            assert c.roundtrip("GET", "/PING").status == 401
    finally:
        with RawConn(srv.port) as c:
            c.send(encode(["AUTH", "pw"]) + encode(["CONFIG", "SET", "requirepass", ""]))
            c.read_reply()
            c.read_reply()


@pytest.mark.parametrize("cmd", ["SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE"])
def test_subscribe_without_channel_answers_and_ends(srv, cmd):
    with HttpConn(srv.http) as c:
        r = c.roundtrip("GET", "/" + cmd)
        assert "wrong number of arguments" in r.json()[cmd][1]
        # Keep-alive: the connection serves the next request.
        assert c.roundtrip("GET", "/PING").json() == {"PING": [True, "PONG"]}


# ------------------------------------------------- 8. a pipelined backlog

def test_pipelined_requests_past_the_output_pause_are_all_answered(srv):
    """Answering pauses at 256 KB of unwritten output; once the socket has
    taken it, the requests still waiting are answered at once (they used to
    wait for more input, which never came, then for the header timeout)."""
    srv.resp("SET", "v100k", "x" * 100000)
    n = 10
    with HttpConn(srv.http, timeout=5) as c:
        c.send(b"GET /GET/v100k.txt HTTP/1.1\r\nHost: x\r\n\r\n" * n)
        rs = c.read_responses(n)
    assert [r.status for r in rs] == [200] * n
    assert all(r.body == b"x" * 100000 for r in rs)
