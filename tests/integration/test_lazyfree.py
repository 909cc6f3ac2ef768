"""Lazy free against redis-server 7.0: the lazyfree-lazy-* and
replica-lazy-flush config entries (defaults, CONFIG SET/GET, bad values),
and which deletions go to the background thread, counted by INFO memory's
lazyfree_pending_objects / lazyfreed_objects: UNLINK of a big value (more
than 64 nodes / entries) and not of a small one, DEL under
lazyfree-lazy-user-del, FLUSHALL/FLUSHDB ASYNC and under
lazyfree-lazy-user-flush (one object per key), overwrites under
lazyfree-lazy-server-del, expiry under lazyfree-lazy-expire, CONFIG
RESETSTAT. Each step compares the counter of both servers once their
threads are idle.
"""

import time

import pytest

from harness import C, RawConn, parse_one

NAMES = ["lazyfree-lazy-expire", "lazyfree-lazy-server-del", "lazyfree-lazy-user-del",
         "lazyfree-lazy-user-flush", "replica-lazy-flush", "slave-lazy-flush"]


def test_config_entries(diff):
    # (lazyfree-lazy-eviction belongs with eviction; CONFIG GET lazyfree-*
    # would list it too)
    lines = [["CONFIG", "GET", n] for n in NAMES]
    for n in NAMES:
        lines += [["CONFIG", "SET", n, "yes"], ["CONFIG", "GET", n], ["CONFIG", "SET", n, "no"],
                  ["CONFIG", "GET", n]]
    # a bad value (named by the canonical name: Keel's CONFIG SET names an
    # alias's entry by its canonical name where Redis echoes the alias)
    lines += [["CONFIG", "SET", n, "maybe"] for n in NAMES[:5]]
    diff(lines)


def info_lazy(c):
    """(pending, freed) once nothing is pending (the thread may be busy)."""
    deadline = time.monotonic() + 10
    while True:
        v, _ = parse_one(c.call("INFO", "memory"))
        f = dict(l.split(b":", 1) for l in v.split(b"\r\n") if b":" in l)
        pending, freed = int(f[b"lazyfree_pending_objects"]), int(f[b"lazyfreed_objects"])
        if pending == 0 or time.monotonic() > deadline:
            return pending, freed
        time.sleep(0.02)


def big(kind, key):
    if kind == "list":   # 8 elements a node: 100 nodes
        return [["RPUSH", key] + ["e%d" % i for i in range(800)]]
    if kind == "set":
        return [["SADD", key] + ["m%d" % i for i in range(200)]]
    if kind == "zset":
        return [["ZADD", key] + sum([[str(i), "m%d" % i] for i in range(200)], [])]
    if kind == "hash":
        return [["HSET", key] + sum([["f%d" % i, "v"] for i in range(600)], [])]
    raise ValueError(kind)


STEPS = [
    # (name, commands): lazyfreed_objects is compared after each
    ("unlink big list", big("list", "l") + [C("UNLINK l")]),
    ("unlink big set zset hash", big("set", "s") + big("zset", "z") + big("hash", "h")
     + [C("UNLINK s z h")]),
    ("unlink small values", [C("RPUSH sl a b"), C("SADD ss 1 2"), C("SET str v"),
                             ["SET", "raw", "x" * 10000], C("UNLINK sl ss str raw")]),
    ("del is sync by default", big("set", "s") + [C("DEL s")]),
    ("del under lazyfree-lazy-user-del", [C("CONFIG SET lazyfree-lazy-user-del yes")]
     + big("hash", "h") + [C("DEL h"), C("CONFIG SET lazyfree-lazy-user-del no")]),
    ("flushall async", [C("MSET a 1 b 2 c 3"), C("SELECT 2"), C("SET d 4"), C("SELECT 0"),
                        C("FLUSHALL ASYNC")]),
    ("flushdb async", [C("MSET a 1 b 2"), C("FLUSHDB ASYNC"), C("FLUSHDB ASYNC")]),
    ("flush sync", [C("MSET a 1 b 2"), C("FLUSHDB SYNC"), C("MSET a 1"), C("FLUSHALL")]),
    ("lazyfree-lazy-user-flush", [C("CONFIG SET lazyfree-lazy-user-flush yes"),
                                  C("MSET a 1 b 2 c 3"), C("FLUSHDB"), C("SET x 1"),
                                  C("FLUSHALL"), C("SET y 1"), C("FLUSHALL SYNC"),
                                  C("CONFIG SET lazyfree-lazy-user-flush no")]),
    ("overwrite is sync by default", big("zset", "z") + [C("SET z v")]),
    ("overwrite under lazyfree-lazy-server-del",
     [C("CONFIG SET lazyfree-lazy-server-del yes")] + big("zset", "z")
     + [C("SET z v")] + big("list", "l") + big("list", "l2") + [C("RENAME l l2")]
     + [C("CONFIG SET lazyfree-lazy-server-del no"), C("DEL l2 z")]),
    ("expiry is sync by default", big("set", "s") + [C("PEXPIRE s 1"), C("DEBUG SLEEP 0.01"),
                                                     C("EXISTS s")]),
    ("expiry under lazyfree-lazy-expire",
     [C("CONFIG SET lazyfree-lazy-expire yes")] + big("hash", "h")
     + [C("PEXPIRE h 1"), C("DEBUG SLEEP 0.01"), C("EXISTS h"),
        C("CONFIG SET lazyfree-lazy-expire no")]),
]


@pytest.fixture
def debug_oracle_diff(keel):
    # DEBUG SLEEP needs the oracle started with enable-debug-command
    import harness
    from harness import ServerProcess
    srv = ServerProcess("redis-oracle-lazyfree",
                        lambda p: harness.oracle_argv(p) + ["--enable-debug-command", "yes"])
    srv.start()
    try:
        yield {"keel": keel.port, "redis": srv.port}
    finally:
        srv.stop()
        srv.cleanup()


def test_what_is_freed_lazily(debug_oracle_diff):
    ports = debug_oracle_diff
    conns = {n: RawConn(p) for n, p in ports.items()}
    try:
        for c in conns.values():
            c.call("FLUSHALL", "SYNC")
            c.call("CONFIG", "SET", "list-max-listpack-size", "8")
            c.call("CONFIG", "RESETSTAT")
        base = {n: info_lazy(c)[1] for n, c in conns.items()}
        assert base == {"keel": 0, "redis": 0}
        for name, cmds in STEPS:
            got = {}
            for n, c in conns.items():
                replies = [c.call(*cmd) for cmd in cmds]
                got[n] = (replies, info_lazy(c))
            assert got["keel"][0] == got["redis"][0], name
            assert got["keel"][1] == got["redis"][1], "%s: keel %r, redis %r" % (
                name, got["keel"][1], got["redis"][1])
        # the counters moved, and CONFIG RESETSTAT clears the freed count
        assert got["keel"][1][1] > 10
        for c in conns.values():
            c.call("CONFIG", "RESETSTAT")
        assert {n: info_lazy(c) for n, c in conns.items()} == {"keel": (0, 0), "redis": (0, 0)}
    finally:
        for c in conns.values():
            c.call("CONFIG", "SET", "list-max-listpack-size", "-2")
            for n in NAMES[:5]:
                c.call("CONFIG", "SET", n, "no")
            c.close()


def test_unlink_big_values_data_intact(r):
    """What UNLINK leaves behind is consistent: the key is gone at once, other
    keys and a re-created key of the same name are untouched."""
    r.config_set("list-max-listpack-size", "4")
    try:
        for i in range(20):
            r.rpush("l%d" % i, *["e%d" % j for j in range(1000)])
        r.set("keep", "v")
        assert r.unlink(*["l%d" % i for i in range(20)]) == 20
        r.rpush("l0", "new")
        assert r.lrange("l0", 0, -1) == [b"new"]
        assert r.get("keep") == b"v"
        assert r.dbsize() == 2
        r.rpush("big", *range(5000))
        r.flushall(asynchronous=True)
        assert r.dbsize() == 0
    finally:
        r.config_set("list-max-listpack-size", "-2")
