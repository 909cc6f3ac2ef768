"""The randomized differential probe of test_diff_error_probe.py spoken in
RESP3: both connections send HELLO 3 first, then the same random commands
after the same dataset, and the raw reply bytes are compared (maps, sets,
doubles, nulls, big numbers, verbatim strings and booleans must be
byte-identical, not merely equal after parsing). Commands whose successful
replies are random or time-dependent are compared only where one side
errs. Fixed seeds; KEEL_PROBE_SEEDS=a-b runs seeds a..b-1."""

import random

import pytest

import harness
from conftest import _session_server
from test_diff_error_probe import (ADMIN_WORDS, ERRORS_ONLY, EXACT, HEADS, KNOWN, WORDS,
                                   seeds, time_dependent)


@pytest.fixture(scope="module")
def keel(request):
    yield from _session_server(request, "keel", harness.keel_argv)


@pytest.fixture(scope="module")
def oracle(request):
    yield from _session_server(request, "redis-oracle", harness.oracle_argv)


DATASET = [["FLUSHALL"], ["SET", "k", "10"], ["RPUSH", "l", "a", "b"],
           ["ZADD", "z", "1", "a", "2", "b"], ["HSET", "h", "f", "1"], ["SADD", "s", "a"],
           ["XADD", "st", "1-1", "a", "b"], ["XGROUP", "CREATE", "st", "g", "0"]]

ADMIN_RESET = [["FLUSHALL"], ["SET", "k", "1"], ["ACL", "DELUSER", "u"], ["FUNCTION", "FLUSH"],
               ["SCRIPT", "FLUSH"]]
ADMIN_AFTER = [["CLIENT", "TRACKING", "OFF"], ["UNWATCH"]]
ADMIN_KNOWN = [
    lambda c: "MODULE" in c,  # Keel has no modules: MODULE is not a command here
    # HELLO 2 would switch the connection back to RESP2 (the probe's
    # connection stays RESP3; HELLO itself: test_protocol.py)
    lambda c: c[0] == "hello" and len(c) > 1 and c[1] == "2",
]


class Resp3:
    """A raw RESP3 connection (HELLO 3 sent) that reconnects when a probed
    command closed it (CLIENT KILL, AUTH as a user deleted later...)."""

    def __init__(self, port):
        self.port = port
        self.conn = None

    def connect(self):
        self.conn = harness.RawConn(self.port, timeout=10.0)
        self.conn.send(harness.encode(["HELLO", "3"]))
        rep = self.conn.read_replies(1)[0]
        assert rep.startswith(b"%"), rep[:100]

    def run(self, before, cmd, after=()):
        """Send before + [cmd] + after in one write; the raw reply to cmd
        (b"<closed>" when the connection closed before it)."""
        if self.conn is None:
            self.connect()
        cmds = list(before) + [cmd] + list(after)
        try:
            self.conn.send(harness.encode_many(cmds))
            reps = self.conn.read_replies(len(cmds))
        except (OSError, harness.ReplyTimeout):
            self.close()
            return b"<closed>"
        return reps[len(before)]

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def is_err(rep):
    return rep[:1] in (b"-", b"!")


def report(bad, total):
    return "%d of %d differ:\n%s" % (len(bad), total, "\n".join(bad[:10]))


@pytest.mark.parametrize("rnd", seeds(range(10)))
def test_resp3_replies_match_redis(keel, oracle, rnd):
    rng = random.Random(rnd)  # the same commands as the RESP2 probe's seed
    k, r = Resp3(keel.port), Resp3(oracle.port)
    bad = []
    try:
        for _ in range(1000):
            exact = rng.random() < 0.75
            name = rng.choice(EXACT if exact else ERRORS_ONLY)
            cmd = [name] + [rng.choice(WORDS) for _ in range(rng.randint(0, 6))]
            exact = exact and not time_dependent(cmd)
            if any(known(cmd) for known in KNOWN):
                continue
            a, b = k.run(DATASET, cmd), r.run(DATASET, cmd)
            if a == b or (not exact and not is_err(a) and not is_err(b)):
                continue
            bad.append("%r\n  keel:  %.300r\n  redis: %.300r" % (cmd, a, b))
    finally:
        k.close()
        r.close()
    assert not bad, report(bad, 1000)


@pytest.mark.parametrize("rnd", seeds(range(4)))
def test_resp3_admin_error_replies_match_redis(keel, oracle, rnd):
    rng = random.Random(1000 + rnd)
    k, r = Resp3(keel.port), Resp3(oracle.port)
    bad = []
    try:
        for _ in range(600):
            cmd = list(rng.choice(HEADS)) + [rng.choice(ADMIN_WORDS)
                                             for _ in range(rng.randint(0, 5))]
            if any(known(cmd) for known in ADMIN_KNOWN):
                continue
            a = k.run(ADMIN_RESET, cmd, ADMIN_AFTER)
            b = r.run(ADMIN_RESET, cmd, ADMIN_AFTER)
            if a == b or (not is_err(a) and not is_err(b)):
                continue
            bad.append("%r\n  keel:  %.300r\n  redis: %.300r" % (cmd, a, b))
    finally:
        k.close()
        r.close()
    assert not bad, report(bad, 600)
