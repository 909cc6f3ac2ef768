"""DUMP / RESTORE (issue 7): payloads move between Keel and redis-server 7.0
both ways for every type and encoding; small values give byte-identical
payloads; RESTORE's options and errors match Redis byte for byte; mutated
payloads never crash the server."""

import random
import struct

import pytest

from harness import Approx, Cmd
from test_rdb import assert_same_data, crc64_jones, populate, snapshot, DBS

redis = pytest.importorskip("redis")


def _clients(port):
    cache = {}

    def get(db):
        if db not in cache:
            cache[db] = redis.Redis(host="127.0.0.1", port=port, db=db, socket_timeout=30)
        return cache[db]
    return get


def _flushall(port):
    redis.Redis(host="127.0.0.1", port=port).flushall()


def _move_all(src_port, dst_port):
    src, dst = _clients(src_port), _clients(dst_port)
    for db in DBS:
        for k in src(db).scan_iter(count=1000):
            payload = src(db).dump(k)
            pttl = src(db).pttl(k)
            dst(db).restore(k, pttl if pttl > 0 else 0, payload)


@pytest.mark.parametrize("direction", ["keel->redis", "redis->keel"])
def test_dump_restore_every_type_between_servers(keel, oracle, direction):
    a, b = (keel.port, oracle.port) if direction == "keel->redis" else (oracle.port, keel.port)
    _flushall(a)
    _flushall(b)
    try:
        populate(_clients(a))
        want = snapshot(_clients(a))
        _move_all(a, b)
        assert_same_data(want, snapshot(_clients(b)), ttl_tol_ms=5000)
    finally:
        _flushall(a)
        _flushall(b)


def test_dump_payloads_identical_for_compact_values(diff):
    cmds = [["SET", "s", "hello"], ["SET", "i", "12345"], ["SET", "n", "-7"],
            ["SET", "big", "123456789012345"], ["SET", "e", ""],
            ["RPUSH", "l", "a", "b", "1", "-2", "300000"], ["SADD", "si", "1", "2", "70000"],
            ["SADD", "sbig", "5000000000", "1"], ["HSET", "h", "f", "v", "n", "12"],
            ["ZADD", "z", "1", "a", "2.5", "b", "-1e10", "c", "inf", "d"]]
    cmds += [["DUMP", k] for k in ("s", "i", "n", "big", "e", "l", "si", "sbig", "h", "z", "nokey")]
    diff(cmds)


def test_dump_compressed_string_restores_in_redis(r, ro):
    v = b"abcdefghij" * 100
    r.set("k", v)
    p = r.dump("k")
    assert len(p) < len(v)  # LZF-compressed
    ro.restore("k", 0, p)
    assert ro.get("k") == v
    ro.set("k2", v)
    r.restore("k2", 0, ro.dump("k2"))
    assert r.get("k2") == v


def _payload(ro, setup, key="src"):
    ro.delete(key)
    setup(ro, key)
    return ro.dump(key)


def test_restore_options_and_errors_match_redis(diff, ro):
    good = _payload(ro, lambda c, k: c.set(k, "value"))
    zs = _payload(ro, lambda c, k: c.zadd(k, {"a": 1}))
    bad_crc = good[:-1] + bytes([good[-1] ^ 1])
    bad_ver = good[:-10] + struct.pack("<H", 11) + good[-8:]
    cmds = [
        ["RESTORE", "k", "0", good], ["GET", "k"], ["RESTORE", "k", "0", good],
        ["RESTORE", "k", "0", good, "REPLACE"], ["RESTORE", "k", "x", good],
        ["RESTORE", "nk", "x", good], ["RESTORE", "nk", "-1", good],
        ["RESTORE", "nk", "0", bad_crc], ["RESTORE", "nk", "0", bad_ver],
        ["RESTORE", "nk", "0", "short"], ["RESTORE", "nk", "0", ""],
        ["RESTORE", "nk", "0", good, "FOO"], ["RESTORE", "nk", "0", good, "IDLETIME"],
        ["RESTORE", "nk", "0", good, "IDLETIME", "x"], ["RESTORE", "nk", "0", good, "IDLETIME", "-1"],
        ["RESTORE", "nk", "0", good, "FREQ", "256"], ["RESTORE", "nk", "0", good, "FREQ", "-1"],
        ["RESTORE", "nk", "0", good, "FREQ", "x"],
        ["RESTORE", "nk", "0", good, "IDLETIME", "5", "FREQ", "5"],
        ["RESTORE", "nk", "0", good, "FREQ", "5", "IDLETIME", "5"],
        ["RESTORE", "nk", "0", good, "IDLETIME", "x", "FREQ", "5"],
        ["RESTORE", "nk", "0", good, "replace", "absttl", "idletime", "10"],
        ["EXISTS", "nk"], ["OBJECT", "IDLETIME", "nk"],
        ["RESTORE", "k", "x", good, "REPLACE"], ["RESTORE", "k", "0", good, "FOO"],
        ["RESTORE", "t", "100000", good], Approx(["PTTL", "t"], 2000),
        ["RESTORE", "t2", "1", good, "ABSTTL"], ["EXISTS", "t2"],
        ["RESTORE", "k", "1", good, "ABSTTL", "REPLACE"], ["EXISTS", "k"],
        ["RESTORE", "t3", "99999999999999", good, "ABSTTL"], ["PEXPIRETIME", "t3"],
        ["RESTORE", "z", "0", zs], ["ZRANGE", "z", "0", "-1", "WITHSCORES"],
        ["RESTORE"], ["RESTORE", "a", "0"],
        ["SET", "str", "x"], ["RESTORE", "str", "0", zs, "REPLACE"], ["TYPE", "str"],
        ["RESTORE", "k9", "0", good, "IDLETIME", "1", "IDLETIME", "2"],
        ["RESTORE", "k10", "0", good, "ABSTTL", "ABSTTL", "REPLACE", "REPLACE"],
    ]
    diff(cmds)


def test_restore_events_match_redis(diff, ro):
    good = _payload(ro, lambda c, k: c.set(k, "value"))
    diff([["CONFIG", "SET", "notify-keyspace-events", "KEA"],
          ["RESTORE", "k", "0", good], ["RESTORE", "k", "0", good, "REPLACE"],
          ["RESTORE", "k", "1", good, "REPLACE", "ABSTTL"],
          ["CONFIG", "SET", "notify-keyspace-events", ""]])


def test_restore_idletime(r):
    r.set("src", "v")
    p = r.dump("src")
    r.restore("k", 0, p, idletime=1000)
    assert 999 <= r.object("idletime", "k") <= 1002


def _fix_crc(body):
    """A payload body (type + value + 2-byte version) with a correct CRC."""
    return body + struct.pack("<Q", crc64_jones(body))


def test_mutated_payloads_never_crash(r, ro, keel):
    sources = []
    ro.rpush("l", *range(50))
    ro.hset("h", mapping={"a": 1, "b": "x" * 30, "c": "3"})
    ro.zadd("z", {"a": 1, "b": 2, "c": 3})
    ro.sadd("si", 1, 2, 3, 1000)
    ro.sadd("ss", "a", "b")
    ro.set("s", "y" * 100)
    ro.hset("hl", mapping={"f%d" % i: i for i in range(200)})
    ro.zadd("zl", {"m%d" % i: i for i in range(200)})
    for k in (b"l", b"h", b"z", b"si", b"ss", b"s", b"hl", b"zl"):
        sources.append(ro.dump(k))
    rnd = random.Random(99)
    ok = bad = 0
    for i in range(1500):
        src = bytearray(rnd.choice(sources)[:-8])
        n = rnd.randint(1, 3)
        for _ in range(n):
            pos = rnd.randrange(0, len(src) - 2)
            src[pos] = rnd.randrange(256)
        if i % 7 == 0:
            cut = rnd.randrange(1, len(src) - 2)
            src = src[:cut] + src[-2:]
        try:
            r.restore("fz", 0, _fix_crc(bytes(src)), replace=True)
            ok += 1
        except redis.ResponseError as e:
            assert str(e) == "Bad data format", str(e)
            bad += 1
            continue
        t = r.type("fz")
        if t == b"list":
            r.lrange("fz", 0, -1)
            r.lpush("fz", "new")
            r.rpop("fz")
        elif t == b"hash":
            r.hgetall("fz")
            r.hset("fz", "newfield", "v")
        elif t == b"zset":
            r.zrange("fz", 0, -1, withscores=True)
            r.zadd("fz", {"newm": 0.5})
        elif t == b"set":
            r.smembers("fz")
            r.sadd("fz", "zz")
        else:
            r.get("fz")
        r.dump("fz")
    assert r.ping()
    assert bad > 0


def test_restore_converts_on_length_only(r, ro):
    """A listpack zset restored under a smaller zset-max-listpack-value stays
    a listpack (Redis 7.0 converts a loaded listpack zset on its length
    only); a skiplist one is converted back to a listpack when it fits."""
    out = []
    for c in (r, ro):
        c.flushall()
        c.zadd("z", {"abcdef": 1, "m30": float("inf"), "37": 2e20})
        c.zadd("s", {"abcdef": 1, "ab": 2})
        c.config_set("zset-max-listpack-value", "3")
        c.zadd("s", {"x" * 10: 3})
        c.zrem("s", "x" * 10, "abcdef")
        pz, ps = c.dump("z"), c.dump("s")
        c.restore("z2", 0, pz)
        c.restore("s2", 0, ps)
        out.append([c.object("encoding", k) for k in ("z2", "s", "s2")] +
                   [c.zrange("z2", 0, -1, withscores=True)])
        c.config_set("zset-max-listpack-value", "64")
    assert out[0] == out[1]
    assert out[1][0] == b"listpack"
