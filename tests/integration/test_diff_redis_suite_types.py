"""Edge cases from Redis's own suite for the data types and the keyspace,
against redis-server 7.0: how many changes each command adds to the dirty
counter (INFO persistence rdb_changes_since_last_save, what the save rules
and the propagation of a command go by).

Redis counts some commands per element (RPUSH a b c: 3; HSET of n pairs: n,
updates too; SADD / SREM / ZREM / HDEL: what was added or removed; ZADD:
added + updated; LPOP / SPOP / ZPOPMIN with a count: what was popped; LREM,
LTRIM, ZREMRANGEBY*: what was removed, 0 for a no-op LTRIM; PFADD: the
creation and each register raised; BITFIELD: each write; GEOADD as ZADD;
SORT / GEORADIUS / GEOSEARCHSTORE ... STORE: what was stored), others as one
change whatever they do (a pop that empties its key, LMOVE, SMOVE's removal,
SET with an expire, COPY ... REPLACE), and keys expired or evicted are no
change at all; FLUSHALL counts the keys it removed (an empty one: none).

Each command runs on both servers after FLUSHALL; its reply and the
counter's change must be the same. Replies that are random by nature
(SPOP, SRANDMEMBER) are compared by size only.
"""

import shlex
import time

import pytest

from harness import RawConn, encode, parse_one


def _changes(c):
    c.send(encode(["INFO", "persistence"]))
    text = parse_one(c.read_reply())[0]
    for line in bytes(text).split(b"\r\n"):
        if line.startswith(b"rdb_changes_since_last_save:"):
            return int(line.split(b":")[1])
    raise AssertionError("no rdb_changes_since_last_save in INFO")


def _shape(cmd, rep):
    """The part of a reply compared: random pops by their size only."""
    if cmd[0].upper() in ("SPOP", "SRANDMEMBER"):
        v = parse_one(rep)[0]
        return len(v) if isinstance(v, list) else (v is None)
    return rep


def _run(port, seq):
    out = []
    with RawConn(port) as c:
        assert c.call("FLUSHALL") == b"+OK\r\n"
        for line in seq:
            if line.startswith("!sleep "):
                time.sleep(float(line.split()[1]))
                continue
            cmd = shlex.split(line)
            before = _changes(c)
            c.send(encode(cmd))
            rep = c.read_reply()
            out.append((line, _changes(c) - before, _shape(cmd, rep)))
    return out


def _same(keel, oracle, seq):
    got, want = _run(keel.port, seq), _run(oracle.port, seq)
    bad = ["%s: keel %r, redis %r" % (g[0], g[1:], w[1:]) for g, w in zip(got, want) if g != w]
    assert not bad, "\n".join(bad)


CASES = {
    "lists": ["LPUSH l a b c d", "RPUSH l e f", "LPUSHX l x y z", "RPUSHX l x y", "LPUSHX no a",
              "LINSERT l BEFORE a q", "LREM l 0 x", "LREM l 1 y", "LREM l 0 nosuch",
              "LTRIM l 0 -1", "LTRIM l 1 -2", "LTRIM nokey 0 1", "LSET l 0 z", "LPOP l 2",
              "RPOP l 3", "LPOP l", "LPOP l 0", "LMPOP 1 l LEFT COUNT 2", "RPUSH l a b c d e",
              "LPOP l 100", "RPUSH l2 a b c", "RPOPLPUSH l2 l3", "LMOVE l2 l3 LEFT LEFT",
              "LMOVE l2 l3 LEFT LEFT", "LMOVE l3 l3 LEFT RIGHT", "RPUSH one x", "RPOP one",
              "RPUSH one x", "LREM one 0 x", "RPUSH one x y", "LTRIM one 5 10",
              "RPUSH b a b c", "BLPOP b 0.01", "BLMPOP 0.01 1 b RIGHT COUNT 5",
              "RPUSH b a", "BRPOPLPUSH b b2 0.01", "BLMOVE b2 b3 LEFT RIGHT 0.01"],
    "hashes": ["HSET h a 1 b 2 c 3", "HSET h a 1 b 3 d 4", "HMSET h a 1 e 5", "HSET h a 1",
               "HDEL h a b zz", "HDEL h zz", "HSETNX h q 1", "HSETNX h q 1", "HINCRBY h q 1",
               "HINCRBYFLOAT h q 1", "HDEL h c d e q"],
    "sets": ["SADD s a b c d", "SADD s a b e", "SADD s a", "SREM s a b z", "SREM s z",
             "SPOP s 2", "SPOP s", "SADD s2 a b c", "SPOP s2 3", "SADD s3 1 2 3 4 5 6 7 8 9 10",
             "SPOP s3 8", "SPOP s3 5", "SPOP s3 0", "SADD s4 1 2 3", "SMOVE s4 s5 1",
             "SMOVE s4 s5 2", "SADD s5 3", "SMOVE s4 s5 3", "SMOVE s5 s5 1",
             "SINTERSTORE d s5 s5", "SUNIONSTORE d s5 nokey", "SDIFFSTORE d s5 s5"],
    "zsets": ["ZADD z 1 a 2 b 3 c", "ZADD z 1 a 5 b 6 d", "ZADD z CH 1 a 7 b 8 e",
              "ZADD z XX 9 a 9 nosuch", "ZADD z NX 9 a", "ZADD z INCR 1 a", "ZINCRBY z 0 a",
              "ZREM z a b zz", "ZREM z zz", "ZREMRANGEBYRANK z 0 0", "ZREMRANGEBYSCORE z -inf +inf",
              "ZADD z 0 a 0 b 0 c 0 d", "ZREMRANGEBYLEX z [b [c", "ZREMRANGEBYLEX z - +",
              "ZADD z 1 a 2 b 3 c 4 d", "ZPOPMIN z 2", "ZPOPMAX z 5", "ZADD z 1 a 2 b 3 c",
              "ZMPOP 1 z MIN COUNT 2", "ZMPOP 1 z MAX", "ZADD z 1 a 2 b", "BZPOPMIN z 0.01",
              "BZPOPMAX z 0.01", "ZADD z 1 a 2 b 3 c", "BZMPOP 0.01 1 z MIN COUNT 5",
              "ZADD z 1 a", "ZRANGESTORE d z 0 -1", "ZUNIONSTORE d 1 z"],
    "strings_and_keys": ["SET s v EX 100", "SET s v PX 100000 GET", "SETEX s 10 x",
                         "PSETEX s 10000 x", "SET s v KEEPTTL", "SET s v", "GETEX s EX 100",
                         "GETEX s PERSIST", "MSET a 1 b 2 c 3", "MSETNX x 1 y 2",
                         "DEL a b c x y nokey", "SET a 1", "COPY a b", "COPY a b",
                         "COPY a b REPLACE", "RENAME b c", "SET d 1", "RENAME c d",
                         "SET e 1", "RENAMENX d e", "RENAME d d", "SETRANGE c 0 x", "APPEND c y",
                         "INCRBY a 5", "GETDEL a"],
    "hll_and_bits": ["PFADD hll a b c", "PFADD hll a b d", "PFADD hll a", "PFADD hll2",
                     "PFADD hll2", "PFADD hll3 a", "PFMERGE hll4 hll hll3", "SETBIT k 0 1",
                     "SETBIT k 0 1", "BITFIELD k SET u8 0 1 SET u8 8 2",
                     "BITFIELD k SET u8 0 1 SET u8 8 2 SET u8 16 3",
                     "BITFIELD k INCRBY u8 0 1 GET u8 0", "BITFIELD new GET u8 0",
                     "BITOP NOT d k"],
    "geo_and_sort": ["GEOADD g 13.361389 38.115556 Palermo 15.087269 37.502669 Catania",
                     "GEOADD g 13.361389 38.115556 Palermo 15.087269 37.502669 Catania",
                     "GEOADD g CH 13.361389 38.115556 Palermo 15.0 37.0 Catania",
                     "GEOSEARCHSTORE d g FROMLONLAT 15 37 BYRADIUS 200 km",
                     "GEORADIUS g 15 37 200 km STORE d2", "GEORADIUS g 0 0 1 km STORE d2",
                     "RPUSH l 3 1 2", "SORT l STORE d3", "SORT l LIMIT 0 1 STORE d3",
                     "SORT nokey STORE d3", "SORT nokey STORE d3"],
    "flushes": ["FLUSHALL", "SET a 1", "SET b 2", "FLUSHALL", "FLUSHALL ASYNC", "SET a 1",
                "FLUSHDB", "FLUSHDB", "SET a 1", "SELECT 1", "SET b 1", "FLUSHALL",
                "SWAPDB 0 1", "SWAPDB 0 0"],
    "streams": ["XADD st 1-1 f v", "XADD st 2-1 f v", "XADD st 3-1 f v",
                "XDEL st 1-1 2-1 9-9", "XDEL st 9-9", "XDEL nost 1-1", "XADD st 4-1 f v",
                "XTRIM st MAXLEN 0", "XTRIM st MAXLEN 0", "XADD st 5-1 f v", "XADD st 6-1 f v",
                "XADD st MAXLEN 0 7-1 f v", "XADD st MAXLEN 1 7-2 f v", "XTRIM nost MAXLEN 0",
                "XADD st NOMKSTREAM 8-1 f v", "XADD st2 NOMKSTREAM 1-1 f v"],
    # a key expired (met by a command, or by the active cycle meanwhile):
    # deleted, but no change to count either way
    "expiry": ["PSETEX a 1 v", "!sleep 0.02", "GET a", "RPUSH l a b c", "PEXPIRE l 1",
               "!sleep 0.02", "RPUSH l a b c", "PSETEX e 1 v", "!sleep 0.02", "EXISTS e"],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_dirty_counts_as_redis(keel, oracle, name):
    _same(keel, oracle, CASES[name])


def _with_save_rules(port, value):
    with RawConn(port) as c:
        assert c.call("CONFIG", "SET", "save", value) == b"+OK\r\n"


def test_flushall_with_save_rules_saves_and_counts_nothing(keel, oracle):
    """With save rules, FLUSHALL saves the empty dataset at once: Redis 7.0
    leaves the counter at 0 after it."""
    for s in (keel, oracle):
        _with_save_rules(s.port, "3600 1")
    try:
        _same(keel, oracle, ["SET a 1", "SET b 2", "FLUSHALL", "SET c 3", "FLUSHALL"])
    finally:
        for s in (keel, oracle):
            _with_save_rules(s.port, "")


def test_evictions_are_no_change(keel, oracle):
    """Keys evicted under maxmemory are deleted (and propagated) but Redis
    counts them as no change: lowering maxmemory evicts at once (or at the
    next command), and the counter stays."""
    seen = {}
    for name, s in (("keel", keel), ("redis", oracle)):
        with RawConn(s.port) as c:
            assert c.call("FLUSHALL") == b"+OK\r\n"
            for i in range(200):
                c.call("SET", "k%d" % i, "x" * 1000)
            info = parse_one(c.call("INFO", "memory"))[0]
            used = int(bytes(info).split(b"used_memory:")[1].split(b"\r\n")[0])
            try:
                assert c.call("CONFIG", "SET", "maxmemory-policy", "allkeys-random") == b"+OK\r\n"
                before = _changes(c)
                assert c.call("CONFIG", "SET", "maxmemory", str(used - 50000)) == b"+OK\r\n"
                after = _changes(c)
                dbsize = parse_one(c.call("DBSIZE"))[0]
            finally:
                c.call("CONFIG", "SET", "maxmemory", "0")
                c.call("CONFIG", "SET", "maxmemory-policy", "noeviction")
                c.call("FLUSHALL")
            assert dbsize < 200, "%s evicted nothing" % name
            seen[name] = after - before
    assert seen == {"keel": 0, "redis": 0}


BLOCKED = [
    (["BLPOP", "l", "0"], ["RPUSH", "l", "a", "b", "c"]),
    (["BRPOP", "l", "0"], ["RPUSH", "l", "a"]),
    (["BLMOVE", "l", "d", "LEFT", "RIGHT", "0"], ["RPUSH", "l", "a", "b"]),
    (["BRPOPLPUSH", "l", "l", "0"], ["RPUSH", "l", "a"]),
    (["BLMPOP", "0", "1", "l", "LEFT", "COUNT", "5"], ["RPUSH", "l", "a", "b", "c"]),
    (["BZPOPMIN", "z", "0"], ["ZADD", "z", "1", "a", "2", "b"]),
    (["BZMPOP", "0", "1", "z", "MIN", "COUNT", "5"], ["ZADD", "z", "1", "a", "2", "b"]),
]


def _served(port, block, push):
    with RawConn(port) as c, RawConn(port) as b:
        assert c.call("FLUSHALL") == b"+OK\r\n"
        b.send(encode(block))
        for _ in range(100):  # until the client is blocked
            if b"blocked_clients:1" in c.call("INFO", "clients"):
                break
            time.sleep(0.01)
        before = _changes(c)
        c.send(encode(push))
        pushed = c.read_reply()
        served = b.read_reply()
        return pushed, served, _changes(c) - before


@pytest.mark.parametrize("block,push", BLOCKED, ids=[b[0] for b, _ in BLOCKED])
def test_dirty_when_a_blocked_client_is_served(keel, oracle, block, push):
    """Redis 7.0 counts no change for the pop of a served BLPOP / BRPOP /
    BLMOVE / BRPOPLPUSH (the push counts), one per element for BLMPOP and
    the sorted-set ones."""
    assert _served(keel.port, block, push) == _served(oracle.port, block, push)


def _stats(c):
    c.send(encode(["INFO", "stats"]))
    text = bytes(parse_one(c.read_reply())[0])
    return tuple(int(text.split(name + b":")[1].split(b"\r\n")[0])
                 for name in (b"keyspace_hits", b"keyspace_misses"))


STORE_SOURCES = ["ZUNIONSTORE d 2 z nokey", "ZINTERSTORE d 2 z nokey", "ZDIFFSTORE d 2 z nokey",
                 "ZUNIONSTORE d 2 z s", "ZINTERSTORE d 1 z", "ZUNION 2 z nokey",
                 "ZINTERCARD 2 z nokey", "SUNIONSTORE d2 s nokey", "SINTERSTORE d2 s nokey"]


def _hits(port):
    out = []
    with RawConn(port) as c:
        assert c.call("FLUSHALL") == b"+OK\r\n"
        c.call("ZADD", "z", "1", "a")
        c.call("SADD", "s", "a")
        for line in STORE_SOURCES:
            before = _stats(c)
            rep = c.call(*shlex.split(line))
            after = _stats(c)
            out.append((line, rep, after[0] - before[0], after[1] - before[1]))
    return out


def test_store_variants_count_their_sources_as_reads(keel, oracle):
    """ZUNIONSTORE / ZINTERSTORE / ZDIFFSTORE look their sources up as reads
    in Redis 7.0: each one a keyspace hit or miss (Keel counted none)."""
    assert _hits(keel.port) == _hits(oracle.port)


def test_store_variants_notify_keymiss(keel, oracle):
    from helpers import key_events
    seq = ["ZADD z 1 a", "ZUNIONSTORE d 2 z nokey", "ZINTERSTORE d 2 nokey z",
           "ZDIFFSTORE d 2 z nokey"]
    assert key_events(keel.port, seq, "KEAm") == key_events(oracle.port, seq, "KEAm")


def test_object_on_a_missing_key_is_no_keymiss(keel, oracle):
    """OBJECT looks its key up without notifying (Redis's LOOKUP_NONOTIFY):
    a miss is counted, but no keymiss event; TYPE / TTL / EXISTS notify."""
    from helpers import key_events
    seq = ["OBJECT ENCODING nokey", "OBJECT FREQ nokey", "OBJECT IDLETIME nokey",
           "OBJECT REFCOUNT nokey", "TYPE nokey2", "TTL nokey3", "EXISTS nokey4"]
    got = key_events(keel.port, seq, "KEAm")
    assert got == key_events(oracle.port, seq, "KEAm")
    assert [m for _, m in got if m.startswith(b"nokey")] == [b"nokey2", b"nokey3", b"nokey4"]
