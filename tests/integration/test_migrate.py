"""Differential tests: MIGRATE, Keel vs redis-server 7.0, both ways.

Keel -> Redis: the same script runs on Keel (migrating to one redis-server
target) and on the oracle (migrating to a second, identical target); the
replies, what is left on each source and what arrived on each target are
compared. Redis -> Keel: the oracle migrates every type of value into Keel,
and Keel's copy reads the same as the original. Keel -> Keel too. Errors:
syntax, KEYS with a key, bad integers, NOKEY, BUSYKEY and other errors the
target replies (AUTH, SELECT), IOERR on a refused connection and on a
target that never answers (timeout).
"""

import socket
import threading
import time

import pytest

import harness
from harness import RawConn, ServerProcess, encode


def call(port, *cmd):
    with RawConn(port) as c:
        c.send(encode([str(a) if isinstance(a, int) else a for a in cmd]))
        return c.read_reply(timeout=20)


@pytest.fixture(scope="module")
def targets():
    ts = [ServerProcess("redis-mig-target-%d" % i, harness.oracle_argv) for i in (1, 2)]
    for t in ts:
        t.start()
    yield ts
    for t in ts:
        t.stop()
        t.cleanup()


@pytest.fixture
def fresh(keel, oracle, targets):
    for p in (keel.port, oracle.port, targets[0].port, targets[1].port):
        assert call(p, "FLUSHALL") == b"+OK\r\n"
    yield
    for p in (keel.port, oracle.port, targets[0].port, targets[1].port):
        call(p, "FLUSHALL")


SETUP = [
    ["SET", "s", "hello"], ["SET", "n", "12345"], ["RPUSH", "l", "a", "b", "c"],
    ["HSET", "h", "f", "v", "g", "w"], ["SADD", "st", "x", "y"], ["SADD", "si", "1", "2", "3"],
    ["ZADD", "z", "1", "m", "2.5", "n"], ["SET", "ttl", "v"], ["PEXPIRE", "ttl", "100000"],
    ["PFADD", "hll", "a", "b"],
]
KEYS = ["s", "n", "l", "h", "st", "si", "z", "ttl", "hll"]


def contents(port, keys):
    """Type and value of each key, read with plain commands (not DUMP bytes)."""
    out = {}
    for k in keys:
        t = call(port, "TYPE", k)
        if t == b"+string\r\n":
            v = call(port, "GET", k)
        elif t == b"+list\r\n":
            v = call(port, "LRANGE", k, "0", "-1")
        elif t == b"+hash\r\n":
            v = sorted(harness.parse_one(call(port, "HGETALL", k))[0])
        elif t == b"+set\r\n":
            v = sorted(harness.parse_one(call(port, "SMEMBERS", k))[0])
        elif t == b"+zset\r\n":
            v = call(port, "ZRANGE", k, "0", "-1", "WITHSCORES")
        else:
            v = None
        ttl = harness.parse_one(call(port, "PTTL", k))[0]
        out[k] = (t, v, ttl > 0 if isinstance(ttl, int) else ttl)
    return out


def run_both(keel, oracle, targets, script):
    """Run script on Keel (-> targets[0]) and on the oracle (-> targets[1]);
    '$T' in a command is the source's target port. Returns both reply lists."""
    out = []
    for src, dst in ((keel.port, targets[0].port), (oracle.port, targets[1].port)):
        replies = []
        for cmd in script:
            cmd = [str(dst) if w == "$T" else w for w in cmd]
            if cmd[0] == "@target":
                replies.append(call(dst, *cmd[1:]))
            else:
                replies.append(call(src, *cmd))
        out.append(replies)
    return out


def check(keel, oracle, targets, script):
    k, r = run_both(keel, oracle, targets, script)
    bad = [(script[i], k[i], r[i]) for i in range(len(script)) if k[i] != r[i]]
    assert not bad, bad
    assert contents(keel.port, KEYS) == contents(oracle.port, KEYS)
    assert contents(targets[0].port, KEYS) == contents(targets[1].port, KEYS)


M = ["MIGRATE", "127.0.0.1", "$T"]


def test_migrate_one_key_each_type(keel, oracle, targets, fresh):
    script = SETUP + [M + [k, "0", "5000"] for k in KEYS] + [["EXISTS"] + KEYS]
    check(keel, oracle, targets, script)
    assert call(targets[0].port, "DBSIZE") == b":9\r\n"


def test_migrate_keys_option(keel, oracle, targets, fresh):
    script = SETUP + [
        M + ["", "0", "5000", "KEYS", "s", "nosuch", "l", "h"],
        M + ["", "0", "5000", "COPY", "KEYS", "st", "z"],
        M + ["", "0", "5000", "KEYS", "nosuch1", "nosuch2"],
        M + ["", "3", "5000", "REPLACE", "KEYS", "si", "hll", "ttl"],
        ["@target", "SELECT", "3"], ["EXISTS", "si", "st", "z"],
    ]
    check(keel, oracle, targets, script)
    assert call(targets[0].port, "DBSIZE") == b":5\r\n"


def test_migrate_busykey_replace_copy(keel, oracle, targets, fresh):
    script = SETUP + [
        ["@target", "SET", "s", "old"], M + ["s", "0", "5000"], ["GET", "s"],
        ["@target", "GET", "s"], M + ["s", "0", "5000", "COPY"],
        M + ["s", "0", "5000", "COPY", "REPLACE"], ["GET", "s"], ["@target", "GET", "s"],
        M + ["s", "0", "5000", "REPLACE"], ["EXISTS", "s"],
        ["@target", "SET", "l", "x"], M + ["", "0", "5000", "KEYS", "n", "l", "h"],
        ["EXISTS", "n", "l", "h"],
    ]
    check(keel, oracle, targets, script)


def test_migrate_target_errors(keel, oracle, targets, fresh):
    script = SETUP + [
        M + ["s", "99", "5000"], M + ["s", "-1", "5000"],
        M + ["s", "0", "5000", "AUTH", "pw"], M + ["s", "0", "5000", "AUTH2", "u", "pw"],
        M + ["s", "0", "5000", "AUTH2", "default", "pw", "COPY"], ["EXISTS", "s"],
    ]
    check(keel, oracle, targets, script)


def test_migrate_syntax_and_values(keel, oracle, targets, fresh):
    script = SETUP + [
        M + ["s", "0", "5000", "FOO"], M + ["s", "0", "5000", "AUTH"],
        M + ["s", "0", "5000", "AUTH2", "u"], M + ["s", "x", "5000"], M + ["s", "0", "x"],
        M + ["s", "x", "x"], M + ["s", "x", "5000", "FOO"], M + ["s", "0", "5000", "KEYS", "n"],
        M + ["s", "0", "1.5"], M + ["nosuch", "0", "5000"], M + ["", "0", "5000"],
        M + ["nosuch", "0", "5000", "COPY", "COPY", "REPLACE"], ["MIGRATE", "a", "b", "c", "d"],
        M + ["", "0", "5000", "KEYS", "nosuch", "COPY"], M + ["", "0", "5000", "KEYS"],
        M + ["s", "0", "5000", "KEYS"], M + ["", "0", "5000", "COPY", "KEYS"],
        M + ["s", "0", "5000", "copy", "replace", "auth", "p", "auth2", "u", "p"],
    ]
    check(keel, oracle, targets, script)


def test_migrate_connect_refused(keel, oracle, targets, fresh):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    script = SETUP + [["MIGRATE", "127.0.0.1", str(port), "s", "0", "1000"], ["EXISTS", "s"],
                      ["MIGRATE", "127.0.0.1", "0", "s", "0", "1000"],
                      ["MIGRATE", "127.0.0.1", "notaport", "s", "0", "1000"]]
    check(keel, oracle, targets, script)


def test_migrate_timeout_target_silent(keel, oracle, targets, fresh):
    """A target that accepts and never answers: IOERR after the timeout."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    port = srv.getsockname()[1]
    conns = []
    stop = threading.Event()

    def accept():
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                c, _ = srv.accept()
                conns.append(c)
            except OSError:
                pass

    th = threading.Thread(target=accept, daemon=True)
    th.start()
    try:
        script = SETUP + [["MIGRATE", "127.0.0.1", str(port), "s", "0", "300"], ["EXISTS", "s"]]
        t0 = time.time()
        check(keel, oracle, targets, script)
        assert time.time() - t0 < 10
    finally:
        stop.set()
        th.join()
        for c in conns:
            c.close()
        srv.close()


def test_migrate_redis_to_keel(keel, oracle, fresh):
    for cmd in SETUP:
        call(oracle.port, *cmd)
    before = contents(oracle.port, KEYS)
    assert call(oracle.port, "MIGRATE", "127.0.0.1", str(keel.port), "", "0", "5000", "COPY",
                "KEYS", *KEYS) == b"+OK\r\n"
    assert contents(keel.port, KEYS) == before
    # Keel as the target answers BUSYKEY the way Redis does.
    assert call(oracle.port, "MIGRATE", "127.0.0.1", str(keel.port), "s", "0", "5000") == \
        b"-ERR Target instance replied with error: BUSYKEY Target key name already exists.\r\n"
    assert call(oracle.port, "MIGRATE", "127.0.0.1", str(keel.port), "s", "9", "5000",
                "REPLACE") == b"+OK\r\n"
    assert call(keel.port, "SELECT", "9") == b"+OK\r\n"
    call(keel.port, "FLUSHALL")


def test_migrate_keel_to_keel(keel, fresh):
    other = ServerProcess("keel-mig-target", harness.keel_argv)
    other.start()
    try:
        for cmd in SETUP:
            call(keel.port, *cmd)
        before = contents(keel.port, KEYS)
        assert call(keel.port, "MIGRATE", "127.0.0.1", str(other.port), "", "0", "5000",
                    "KEYS", *KEYS) == b"+OK\r\n"
        assert contents(other.port, KEYS) == before
        assert call(keel.port, "DBSIZE") == b":0\r\n"
    finally:
        problem = other.stop()
        other.cleanup()
    assert problem is None, problem


def test_restore_asking(keel, diff):
    """RESTORE-ASKING is RESTORE (Redis's cluster flag aside)."""
    call(keel.port, "SET", "src", "v")
    payload = harness.parse_one(call(keel.port, "DUMP", "src"))[0]
    diff.both([["SET", "k", "v"], ["RESTORE-ASKING", "k", "0", "x"],
               ["RESTORE-ASKING", "k", "abc", "x"], ["RESTORE-ASKING", "k"],
               ["RESTORE-ASKING", "k2", "0", payload], ["GET", "k2"],
               ["RESTORE-ASKING", "k2", "0", payload], ["RESTORE-ASKING", "k2", "0", payload,
                                                        "REPLACE"], ["DEL", "src", "k", "k2"]])


@pytest.fixture
def auth_targets():
    ts = [ServerProcess("redis-mig-auth-%d" % i, harness.oracle_argv) for i in (1, 2)]
    for t in ts:
        t.start()
        assert call(t.port, "CONFIG", "SET", "requirepass", "s3cret") == b"+OK\r\n"
    yield ts
    for t in ts:
        t.stop()
        t.cleanup()


def test_migrate_cached_connection_keeps_auth(keel, oracle, auth_targets, fresh):
    """As Redis, the connection to a target is kept for 10 s: an AUTH given
    once still holds for the next MIGRATE to the same target."""
    script = SETUP + [
        M + ["s", "0", "5000"],                       # NOAUTH: the target wants a password
        M + ["s", "0", "5000", "AUTH", "wrong"],
        M + ["s", "0", "5000", "AUTH", "s3cret"],
        M + ["n", "0", "5000"],                       # same connection: still authenticated
        M + ["", "2", "5000", "KEYS", "l", "h"],      # SELECT 2 on it
        M + ["st", "2", "5000"],
    ]
    k, r = run_both(keel, oracle, auth_targets, script)
    assert k == r, list(zip(script, k, r))
    assert k[-4:] == [b"+OK\r\n"] * 4, k


def test_migrate_target_restarted(keel, oracle, fresh):
    """A cached connection whose target went away and came back: Redis's
    one retry on a new connection."""
    for src in (keel, oracle):
        t = ServerProcess("redis-mig-restart", harness.oracle_argv)
        t.start()
        try:
            call(src.port, "SET", "a", "1")
            call(src.port, "SET", "b", "2")
            assert call(src.port, "MIGRATE", "127.0.0.1", str(t.port), "a", "0", "5000") == \
                b"+OK\r\n"
            assert call(t.port, "CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes").startswith(
                b":")
            assert call(src.port, "MIGRATE", "127.0.0.1", str(t.port), "b", "0", "5000") == \
                b"+OK\r\n"
            assert call(t.port, "MGET", "a", "b") == b"*2\r\n$1\r\n1\r\n$1\r\n2\r\n"
        finally:
            t.stop()
            t.cleanup()
