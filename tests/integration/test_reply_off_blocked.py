"""CLIENT REPLY OFF / SKIP before a command that waits (BLPOP, XREAD
BLOCK, WAIT): its late reply — served by another client's write, timed
out, or CLIENT UNBLOCK from another connection — is dropped too, as on
redis-server 7.0 (differential). Keel wrote it: another client's write
made a reply appear that this connection had turned off (found with
test_isolation.py's actors)."""

import time

import pytest

from harness import RawConn, encode


def run(srv, steps):
    """steps: ("b", [cmds]) sent on b; ("a", cmd) a call on a; ("sleep", s);
    ("read", n) n replies read on b. Returns what b read."""
    got = []
    with RawConn(srv.port) as a, RawConn(srv.port) as b:
        assert a.call("FLUSHALL") == b"+OK\r\n"
        b.send(encode(["CLIENT", "ID"]))
        bid = b.read_reply()[1:-2]
        for kind, arg in steps:
            if kind == "b":
                b.send(b"".join(encode(c) for c in arg))
            elif kind == "a":
                a.call(*[bid if x == "<bid>" else x for x in arg])
            elif kind == "sleep":
                time.sleep(arg)
            else:
                got += b.read_replies(arg)
    return got


CASES = {
    "skip, served": [("b", [["CLIENT", "REPLY", "SKIP"], ["BLPOP", "q", "5"], ["PING"]]),
                     ("sleep", 0.1), ("a", ["RPUSH", "q", "x"]), ("read", 1)],
    "skip, timed out": [("b", [["CLIENT", "REPLY", "SKIP"], ["BLPOP", "q", "0.1"], ["PING"]]),
                        ("read", 1)],
    "off, served": [("b", [["CLIENT", "REPLY", "OFF"], ["BLPOP", "q", "5"]]), ("sleep", 0.1),
                    ("a", ["RPUSH", "q", "x"]), ("b", [["CLIENT", "REPLY", "ON"], ["LLEN", "q"]]),
                    ("read", 2)],
    "skip, unblocked": [("b", [["CLIENT", "REPLY", "SKIP"], ["BLPOP", "q", "5"], ["PING"]]),
                        ("sleep", 0.1), ("a", ["CLIENT", "UNBLOCK", "<bid>", "ERROR"]),
                        ("read", 1)],
    "skip, xread": [("b", [["CLIENT", "REPLY", "SKIP"],
                           ["XREAD", "BLOCK", "5000", "STREAMS", "s", "$"], ["PING"]]),
                    ("sleep", 0.1), ("a", ["XADD", "s", "1-1", "f", "v"]), ("read", 1)],
    "skip, wait": [("b", [["CLIENT", "REPLY", "SKIP"], ["SET", "k", "v"],
                          ["CLIENT", "REPLY", "SKIP"], ["WAIT", "1", "100"], ["PING"]]),
                   ("read", 1)],
}


@pytest.mark.parametrize("name", list(CASES))
def test_late_replies_of_silenced_commands(keel, oracle, name):
    k, r = run(keel, CASES[name]), run(oracle, CASES[name])
    assert k == r, "%s: keel %r, redis %r" % (name, k, r)
