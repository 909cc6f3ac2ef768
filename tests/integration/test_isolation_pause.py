"""Regressions found by test_isolation.py: another client's CLIENT PAUSE
changed a connection's own replies.

  - CLIENT REPLY SKIP was spent on a command parked by the pause, so that
    command's reply came after all (Redis keeps the skip for the postponed
    command): core/kernel/kernel.c;
  - an HTTP atomic batch (?atomic=1, Upstash's /multi-exec) went on past a
    step the pause parked (a write is parked before it is queued, EXEC when
    its queue holds a write, everything under PAUSE ALL): its response was
    garbage ("[]{"EXEC":1}", EXEC without MULTI) and the parked command was
    lost: adapters/http/http_conn.c runs the batch step by step.
"""

import json
import time

import pytest

from harness import RawConn, encode
from test_http_helpers import HttpConn, build_request, check_health, keel_http_fixture


def test_reply_skip_survives_a_pause(keel, oracle):
    for srv in (keel, oracle):
        with RawConn(srv.port) as a, RawConn(srv.port) as b:
            assert a.call("FLUSHALL") == b"+OK\r\n"
            assert a.call("CLIENT", "PAUSE", "200", "WRITE") == b"+OK\r\n"
            b.send(encode(["CLIENT", "REPLY", "SKIP"]) + encode(["SET", "k", "v"]) +
                   encode(["PING"]))
            assert b.read_replies(1) == [b"+PONG\r\n"], srv.name
            assert a.call("GET", "k") == b"$1\r\nv\r\n"
            # and a skip that was not parked is not carried to the next one
            b.send(encode(["CLIENT", "REPLY", "SKIP"]) + encode(["GET", "k"]) +
                   encode(["GET", "k"]))
            assert b.read_replies(1) == [b"$1\r\nv\r\n"], srv.name


@pytest.fixture(scope="module")
def _srv():
    yield from keel_http_fixture([], name="isolation-pause")


@pytest.fixture
def srv(_srv):
    _srv.ensure_running()
    _srv.flushall()
    yield _srv
    check_health(_srv)


BATCH = [["SET", "k", "1"], ["INCR", "k"], ["GET", "k"]]


@pytest.mark.parametrize("mode", ["WRITE", "ALL"])
@pytest.mark.parametrize("path,want", [
    ("/?atomic=1", [{"SET": [True, "OK"]}, {"INCR": 2}, {"GET": "2"}]),
    ("/_upstash/multi-exec", [{"result": "OK"}, {"result": 2}, {"result": "2"}]),
])
def test_http_atomic_batch_waits_for_a_pause(srv, mode, path, want):
    with HttpConn(srv.http) as h:
        assert srv.resp("CLIENT", "PAUSE", "300", mode) == b"OK"
        t0 = time.monotonic()
        # the batch, and a request pipelined behind it on the same connection
        h.send(build_request("POST", path, {"Content-Type": "application/json"},
                             json.dumps(BATCH)) + build_request("GET", "/GET/k"))
        r = h.read_response()
        assert time.monotonic() - t0 > 0.2
        assert (r.status, r.json()) == (200, want)
        r = h.read_response()
        assert (r.status, r.json()) == (200, {"GET": "2"})
    assert srv.resp("GET", "k") == b"2"


def test_http_atomic_batch_closed_while_parked(srv):
    """The connection goes away while its batch waits: nothing runs later,
    nothing leaks (ASan), the server goes on."""
    h = HttpConn(srv.http)
    assert srv.resp("CLIENT", "PAUSE", "300", "WRITE") == b"OK"
    h.send(build_request("POST", "/?atomic=1", {"Content-Type": "application/json"},
                         json.dumps(BATCH)))
    time.sleep(0.1)
    h.close()
    time.sleep(0.4)
    assert srv.resp("EXISTS", "k") == 0
    assert srv.resp("PING") == b"PONG"
