"""Regressions found by test_isolation.py: another client's CLIENT PAUSE
changed a connection's own replies.

  - CLIENT REPLY SKIP was spent on a command parked by the pause, so that
    command's reply came after all (Redis keeps the skip for the postponed
    command): core/kernel/kernel.c.
"""

import pytest

from harness import RawConn, encode


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
