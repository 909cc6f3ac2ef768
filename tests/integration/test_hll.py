"""Differential tests for the hyperloglog group (core/types/hyperloglog.c, core/commands/cmd_hll.c),
Keel vs redis-server 7.0: PFADD PFCOUNT PFMERGE.

An HLL is a string in Redis's exact format, so besides the replies the stored
bytes (GET) must be identical to Redis's after every change: sparse values, the
switch to dense at hll-sparse-max-bytes (also after CONFIG SET), dense values,
the cached cardinality and its "stale" bit. Values made by Redis are loaded into
Keel (GET there, SET here) and must keep working; corrupt values must give
Redis's errors. Keyspace events ("pfadd", also for PFMERGE) and WATCH (a PFCOUNT
that refreshes the cache touches the key, as in Redis) are checked too.
"""

import random

import pytest

from harness import RawConn, cmds, parse_one
from helpers import key_events

HDR_SPARSE = b"HYLL\x01\x00\x00\x00" + b"\x00" * 7 + b"\x80"
EMPTY_SPARSE = HDR_SPARSE + b"\x7f\xff"  # XZERO covering 16384 registers


def _words(n, prefix="e"):
    return " ".join("%s%d" % (prefix, i) for i in range(n))


CASES = {
    "pfadd_basic": ["PFADD h a b c", "PFADD h a", "PFADD h a b c d", "PFCOUNT h", "GET h",
                    "PFCOUNT h", "GET h", "OBJECT ENCODING h", "TYPE h", "STRLEN h"],
    "pfadd_no_elements": ["PFADD h", "GET h", "PFADD h", "PFCOUNT h", "GET h", "PFADD h",
                          "PFCOUNT nokey", "EXISTS nokey"],
    "pfadd_duplicates_and_empty": ["PFADD h '' '' x x", "PFCOUNT h", "PFADD h ''", "GET h"],
    "pfadd_binary": ["PFADD h '\x00' '\x00\x01' '\xff\xfe'", "PFCOUNT h", "GET h"],
    "pfcount_cache": ["PFADD h a b c", "GET h", "PFCOUNT h", "GET h", "PFADD h a", "GET h",
                      "PFADD h z", "GET h", "PFCOUNT h", "GET h"],
    "pfcount_multi": ["PFADD a 1 2 3 4 5", "PFADD b 4 5 6 7", "PFCOUNT a b", "PFCOUNT b a",
                      "PFCOUNT a b nokey", "PFCOUNT nokey nokey2", "PFCOUNT a a a", "GET a",
                      "EXISTS nokey"],
    "pfmerge_basic": ["PFADD a 1 2 3", "PFADD b 3 4 5", "PFMERGE d a b", "PFCOUNT d", "GET d",
                      "PFMERGE d", "GET d", "PFMERGE a b", "GET a", "PFCOUNT a",
                      "PFMERGE e nokey", "GET e", "PFMERGE d d d", "GET d"],
    "pfmerge_into_existing": ["PFADD d x y", "PFADD a 1 2", "PFMERGE d a", "PFCOUNT d", "GET d"],
    "pfmerge_dense": ["PFADD a " + _words(3000), "PFADD b 1 2 3", "GET a", "PFMERGE d a b",
                      "STRLEN d", "PFCOUNT d", "GET d", "PFMERGE e b", "STRLEN e", "GET e",
                      "PFMERGE b a", "STRLEN b", "PFCOUNT b"],
    "dense_values": ["PFADD h " + _words(2500), "STRLEN h", "PFCOUNT h", "GET h",
                     "PFADD h " + _words(2500, "f"), "PFCOUNT h", "GET h", "PFADD h e1",
                     "PFCOUNT h a"],
    "sparse_to_dense_edge": ["PFADD h " + _words(1100), "STRLEN h", "PFADD h " + _words(300, "g"),
                             "STRLEN h", "GET h", "PFCOUNT h"],
    "wrongtype_other_types": ["RPUSH l a", "PFADD l a", "PFCOUNT l", "PFCOUNT l nokey",
                              "PFCOUNT nokey l", "PFMERGE l", "PFMERGE d l", "PFMERGE l nokey",
                              "EXISTS d", "HSET hh a 1", "PFCOUNT hh"],
    "wrongtype_strings": ["SET s 123", "PFADD s a", "PFCOUNT s", "SET s HYLL", "PFCOUNT s",
                          "SET s abcdefghijklmnopqrstuvwxyz", "PFADD s a", "PFMERGE d s",
                          "PFMERGE s", "PFCOUNT s s", "EXISTS d"],
    "arity": ["PFADD", "PFCOUNT", "PFMERGE"],
}

RESP3_CASES = ["pfadd_basic", "pfcount_multi", "pfmerge_basic"]


@pytest.mark.parametrize("name", sorted(CASES))
def test_hll(diff, name):
    diff(cmds(*CASES[name]))


@pytest.mark.parametrize("name", RESP3_CASES)
def test_hll_resp3(diff, name):
    diff.resp3(cmds(*CASES[name]))


# ------------------------------------------------------ hand-made values


def _sparse(opcodes, card=b"\x00" * 7 + b"\x80"):
    return b"HYLL\x01\x00\x00\x00" + card + bytes(opcodes)


def test_values_set_by_hand(diff):
    """Values built with SET: valid sparse and dense ones work as Redis's;
    corrupt ones give Redis's errors."""
    valid_sparse = _sparse([0x7f, 0xff])
    # VAL 3 x1 at register 0, then XZERO for the other 16383
    one_val = _sparse([0x88, 0x7f, 0xfe])
    short = _sparse([0x7f, 0x00])             # covers 256 registers only
    too_long = _sparse([0x7f, 0xff, 0x80])    # one register too many
    bad_enc = b"HYLL\x02" + b"\x00" * 11 + b"\x7f\xff"
    dense = b"HYLL\x00" + b"\x00" * 11 + b"\x00" * 12288
    dense_short = dense[:-1]
    dense_cached = b"HYLL\x00\x00\x00\x00" + b"\x07\x00\x00\x00\x00\x00\x00\x00" + b"\x00" * 12288
    seq = [
        ["SET", "v", valid_sparse], ["PFCOUNT", "v"], ["PFADD", "v", "a"], ["GET", "v"],
        ["SET", "o", one_val], ["PFCOUNT", "o"], ["PFADD", "o", "zz"], ["GET", "o"],
        ["PFMERGE", "mo", "o", "v"], ["GET", "mo"],
        ["SET", "s", short], ["PFCOUNT", "s"], ["PFADD", "s", "a", "b", "c"], ["PFCOUNT", "s", "v"],
        ["PFMERGE", "ms", "s"], ["EXISTS", "ms"],
        ["SET", "t", too_long], ["PFCOUNT", "t"], ["PFCOUNT", "t", "v"], ["PFMERGE", "mt", "t"],
        ["SET", "e", bad_enc], ["PFCOUNT", "e"], ["PFADD", "e", "a"], ["PFMERGE", "me", "e"],
        ["SET", "d", dense], ["PFCOUNT", "d"], ["PFADD", "d", "a", "b"], ["PFCOUNT", "d"],
        ["GET", "d"], ["SET", "ds", dense_short], ["PFCOUNT", "ds"], ["PFADD", "ds", "x"],
        ["SET", "dc", dense_cached], ["PFCOUNT", "dc"], ["PFADD", "dc", "x"], ["PFCOUNT", "dc"],
        ["GET", "dc"], ["OBJECT", "ENCODING", "v"],
    ]
    diff(seq)


def _xzero(n):
    return [0x40 | ((n - 1) >> 8), (n - 1) & 0xff]


def _val(v, n):
    return [0x80 | ((v - 1) << 2) | (n - 1)]


CORRUPT = {
    "val_past_end": _xzero(16384) + _val(1, 1),
    "xzero_past_end": _xzero(16384) + _xzero(5),
    "zero_past_end": _xzero(16384) + [0],
    "val_run_crosses_end": _xzero(16382) + _val(2, 4),
    "too_short": _xzero(100),
    "two_vals_past_end": _xzero(16383) + _val(2, 1) + _val(3, 1),
    "leading_val_then_full": _val(2, 4) + _xzero(16384),
    "truncated_xzero": _xzero(16384) + [0x40],
}


@pytest.mark.parametrize("name", sorted(CORRUPT))
def test_corrupt_sparse(diff, name):
    """Every way a command meets a malformed sparse value: the estimate, the
    merge (PFCOUNT of several keys, PFMERGE source and destination), an add
    in place, an add that converts to dense."""
    v = _sparse(CORRUPT[name])
    seq = [["SET", "v", _sparse(_xzero(16384))],
           ["SET", "x", v], ["PFCOUNT", "x"],
           ["SET", "x", v], ["PFCOUNT", "x", "v"],
           ["SET", "x", v], ["PFMERGE", "m", "x"], ["GET", "m"],
           ["SET", "x", v], ["PFADD", "x", "a", "b", "c", "d", "e", "f", "g", "h"], ["GET", "x"],
           ["SET", "x", v], ["CONFIG", "SET", "hll-sparse-max-bytes", "0"],
           ["PFADD", "x", "a", "b"], ["STRLEN", "x"],
           ["CONFIG", "SET", "hll-sparse-max-bytes", "3000"],
           ["SET", "x", v], ["PFMERGE", "x", "v"], ["GET", "x"]]
    try:
        diff(seq)
    finally:
        for port in diff.ports.values():
            with RawConn(port) as c:
                c.call("CONFIG", "SET", "hll-sparse-max-bytes", "3000")


def test_redis_values_load_in_keel(keel, oracle):
    """GET of HLLs built by Redis, SET into Keel: same counts, same bytes after
    more adds (the byte format is Redis's)."""
    rnd = random.Random(7)
    with RawConn(keel.port) as k, RawConn(oracle.port) as o:
        k.call("FLUSHALL")
        o.call("FLUSHALL")
        for n in (1, 5, 50, 500, 1500, 4000):
            key = "h%d" % n
            els = ["%d-%f" % (i, rnd.random()) for i in range(n)]
            for i in range(0, n, 500):
                o.call("PFADD", key, *els[i:i + 500])
            val = parse_one(o.call("GET", key))[0]
            assert k.call("SET", key, val) == b"+OK\r\n"
            assert k.call("PFCOUNT", key) == o.call("PFCOUNT", key)
            assert k.call("GET", key) == o.call("GET", key)
            more = ["m%d" % i for i in range(rnd.randint(1, 800))]
            assert k.call("PFADD", key, *more) == o.call("PFADD", key, *more)
            assert k.call("GET", key) == o.call("GET", key)
            assert k.call("PFCOUNT", key) == o.call("PFCOUNT", key)


# ------------------------------------------------------ randomized, byte-identical


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_bytes_identical(diff, seed):
    rnd = random.Random(seed)
    seq = []
    keys = ["k1", "k2", "k3"]
    for step in range(250):
        key = rnd.choice(keys)
        r = rnd.random()
        if r < 0.6:
            els = [rnd.choice([str(rnd.random()), "%d" % rnd.randint(0, 10**6),
                               bytes(rnd.randrange(256) for _ in range(rnd.randint(0, 12)))])
                   for _ in range(rnd.randint(1, 40))]
            seq.append(["PFADD", key] + els)
        elif r < 0.75:
            seq.append(["PFCOUNT", key])
        elif r < 0.85:
            seq.append(["PFCOUNT"] + rnd.sample(keys + ["none"], rnd.randint(2, 4)))
        elif r < 0.93:
            seq.append(["PFMERGE", rnd.choice(keys + ["m"])] + rnd.sample(keys + ["none"], rnd.randint(1, 3)))
        else:
            seq.append(["GET", rnd.choice(keys + ["m"])])
        if step % 10 == 0:
            seq += [["GET", k] for k in keys]
    seq += [["GET", k] for k in keys + ["m"]] + [["STRLEN", k] for k in keys]
    diff(seq)


@pytest.mark.parametrize("limit", ["0", "100", "500", "1000", "3000", "20000"])
def test_sparse_max_bytes(diff, limit):
    """CONFIG SET hll-sparse-max-bytes: the switch to dense at the same point."""
    rnd = random.Random(int(limit) + 1)
    seq = [["CONFIG", "SET", "hll-sparse-max-bytes", limit],
           ["CONFIG", "GET", "hll-sparse-max-bytes"]]
    for i in range(12):
        key = "h%d" % i
        n = rnd.choice([1, 10, 50, 200, 800, 3000])
        seq.append(["PFADD", key] + ["x%d-%d" % (i, j) for j in range(n)])
        seq += [["STRLEN", key], ["GET", key], ["PFCOUNT", key]]
        seq += [["PFMERGE", "m" + key, key, "h%d" % (i // 2)], ["GET", "m" + key]]
    try:
        diff(seq)
    finally:
        for port in diff.ports.values():
            with RawConn(port) as c:
                c.call("CONFIG", "SET", "hll-sparse-max-bytes", "3000")


def test_config_entry(diff):
    diff(cmds("CONFIG GET hll-sparse-max-bytes", "CONFIG SET hll-sparse-max-bytes 1kb",
              "CONFIG GET hll-sparse-max-bytes", "CONFIG SET hll-sparse-max-bytes -1",
              "CONFIG SET hll-sparse-max-bytes abc", "CONFIG GET hll-sparse-max-bytes",
              "CONFIG SET hll-sparse-max-bytes 3000", "CONFIG GET hll*"))


def test_large_cardinalities(diff):
    seq = []
    for i in range(0, 60000, 3000):
        seq.append(["PFADD", "big"] + [str(j) for j in range(i, i + 3000)])
        seq.append(["PFCOUNT", "big"])
    seq += [["GET", "big"], ["PFADD", "big2"] + [str(j) for j in range(30000, 33000)],
            ["PFCOUNT", "big", "big2"], ["PFMERGE", "big3", "big2", "big"], ["GET", "big3"]]
    diff(seq)


# ------------------------------------------------------ events, WATCH


EVENT_SEQ = ["PFADD h a b", "PFADD h a", "PFADD h", "PFCOUNT h", "PFADD n", "PFMERGE d h",
             "PFMERGE h d", "PFCOUNT h d", "PFADD l a", "SET s x", "PFADD s a"]


def test_keyspace_events(keel, oracle):
    assert key_events(keel.port, EVENT_SEQ) == key_events(oracle.port, EVENT_SEQ)


def _watch_outcomes(port):
    """For each change made by another client between WATCH and EXEC:
    whether EXEC ran (True) or was aborted (False)."""
    out = []
    with RawConn(port) as a, RawConn(port) as b:
        a.call("FLUSHALL")
        b.call("PFADD", "h", "a", "b")
        for change in (["PFCOUNT", "h"],           # refreshes the cache: touches
                       ["PFCOUNT", "h"],           # cache valid: no change
                       ["PFADD", "h", "a"],        # nothing new
                       ["PFADD", "h", "zzz"],
                       ["PFMERGE", "h", "nokey"],
                       ["PFCOUNT", "h", "nokey"]):
            a.call("WATCH", "h")
            b.call(*change)
            a.call("MULTI")
            a.call("PING")
            out.append(parse_one(a.call("EXEC"))[0] is not None)
    return out


def test_watch(keel, oracle):
    assert _watch_outcomes(keel.port) == _watch_outcomes(oracle.port)
