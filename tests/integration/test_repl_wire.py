"""A request's own bytes in the replication stream and the AOF
(client.h's wire, core/persist/propagate.c): a command propagated as it
arrived, in canonical RESP2 multibulk form, is copied into the stream
instead of being formatted again. These tests check that the stream stays
what formatting would give: the exact bytes a raw PSYNC client reads after
requests of every form (canonical multibulk, lowercase names, inline
commands, multibulks Redis accepts with other bytes where CRLF belongs,
pipelined mixes), and that replicas (redis-server 7.0 and Keel) and the
AOF end with the primary's dataset after a mix of verbatim and rewritten
writes (SET EX, EXPIRE, INCRBYFLOAT, GETEX, SPOP, scripts, MULTI/EXEC,
SELECT across databases, inline commands).

Each test starts its own servers on free ports and stops them by PID.
"""

import pytest

from harness import RawConn, encode
from test_repl_primary import (RawReplica, assert_same, client, digest, info, keel_replica,
                               keel_server, redis_replica, servers, stream_of, wait_for)

redis = pytest.importorskip("redis")

assert servers  # the fixture, imported for the tests below


def send_raw(port, data, nreplies):
    """Send bytes as they are on a fresh connection; return the replies."""
    with RawConn(port, timeout=10) as rc:
        rc.send(data)
        return rc.read_replies(nreplies)


def test_stream_bytes_whatever_the_request_form(servers):
    primary = keel_server("--repl-diskless-sync-delay", 0, "--repl-ping-replica-period", 3600)
    servers.append(primary)
    p = client(primary)
    rr = RawReplica(primary.port, True)
    try:
        wait_for(lambda: "state=online" in info(p).get("slave0", ""), 10, "online")
        rr.ack()  # a diskless sync's stream starts at the first ACK
        # canonical, with a lowercase name: verbatim
        assert send_raw(primary.port, encode(["set", "a", "1"]), 1) == [b"+OK\r\n"]
        want = stream_of(["SELECT", "0"], ["set", "a", "1"])
        assert rr.stream(len(want)) == want
        # inline: formatted
        assert send_raw(primary.port, b"RPUSH  l x \"y z\"\r\n", 1) == [b":2\r\n"]
        want = stream_of(["RPUSH", "l", "x", "y z"])
        assert rr.stream(len(want)) == want
        # accepted as Redis accepts them (any byte after a header's \r, any
        # two bytes after a bulk), but the stream gets the canonical form
        odd = [b"*3\rX$3\r\nSET\r\n$1\r\nb\r\n$1\r\n2\r\n",
               b"*3\r\n$3\rXSET\r\n$1\r\nc\r\n$1\r\n3\r\n",
               b"*3\r\n$3\r\nSET\r\n$1\r\nd\r\n$1\r\n4XY",
               b"*3\r\n$3\r\nSET\r\n$1\r\ne\rZ$1\r\n5\r\n"]
        for req in odd:
            assert send_raw(primary.port, req, 1) == [b"+OK\r\n"], req
        want = stream_of(["SET", "b", "2"], ["SET", "c", "3"], ["SET", "d", "4"],
                         ["SET", "e", "5"])
        assert rr.stream(len(want)) == want
        # one pipelined write mixing every form, and a write that changes
        # nothing (not propagated), and another database
        mix = (encode(["INCR", "n"]) + b"INCR n\r\n" + encode(["GET", "n"]) +
               b"*2\r\n$4\r\nINCR\r\n$1\r\nnXY" + encode(["SET", "a", "1", "XX", "GET"]) +
               encode(["SELECT", "7"]) + encode(["HSET", "h", "f", "v"]) +
               b"HSET h g w\r\n" + encode(["DEL", "nothing"]) + encode(["SELECT", "0"]) +
               encode(["APPEND", "a", "x" * 300]))
        got = send_raw(primary.port, mix, 11)
        assert got[:4] == [b":1\r\n", b":2\r\n", b"$1\r\n2\r\n", b":3\r\n"], got
        # (SET ... GET travels without GET: a rewrite, formatted)
        want = stream_of(["INCR", "n"], ["INCR", "n"], ["INCR", "n"],
                         ["SET", "a", "1", "XX"], ["SELECT", "7"],
                         ["HSET", "h", "f", "v"], ["HSET", "h", "g", "w"], ["SELECT", "0"],
                         ["APPEND", "a", "x" * 300])
        assert rr.stream(len(want)) == want
        # everything counted: the offset is the bytes read
        assert int(info(p)["master_repl_offset"]) == rr.offset + len(
            stream_of(["SELECT", "0"], ["set", "a", "1"], ["RPUSH", "l", "x", "y z"],
                      ["SET", "b", "2"], ["SET", "c", "3"], ["SET", "d", "4"],
                      ["SET", "e", "5"])) + len(want)
    finally:
        rr.close()


def write_mix(primary):
    """Writes of every kind, through redis-py (canonical multibulk) and
    raw bytes (inline, non-canonical)."""
    p = client(primary)
    port = primary.port
    for i in range(200):
        p.set("s:%d" % i, "v%d" % i)
    p.set("ex", "v", ex=1000)
    p.set("px", "v", px=500000)
    p.setex("setex", 1000, "v")
    p.set("ttl", "v")
    p.expire("ttl", 1000)
    p.pexpire("s:1", 900000)
    p.expireat("s:2", 4102444800)
    p.getex("s:3", ex=700)
    p.incrbyfloat("f", "1.25")
    p.incrbyfloat("f", "2.5e3")
    p.hincrbyfloat("hf", "x", "0.1")
    p.sadd("set", *["m%d" % i for i in range(20)])
    p.spop("set", 3)
    p.rpush("list", *range(30))
    p.lmove("list", "list2", "LEFT", "RIGHT")
    p.zadd("z", {"a": 1, "b": 2})
    p.zincrby("z", 3, "a")
    p.eval("redis.call('SET', KEYS[1], ARGV[1]); return redis.call('INCR', KEYS[2])",
           2, "script:k", "script:n", "sv")
    p.eval("return redis.call('SET', KEYS[1], 'one')", 1, "script:single")
    m = p.pipeline(transaction=True)
    m.set("m:a", 1)
    m.incr("m:n")
    m.execute_command("SELECT", 4)
    m.set("m:in4", 1)
    m.expire("m:in4", 1000)
    m.execute()
    for db in (1, 2, 9):
        send_raw(port, encode(["SELECT", str(db)]) + encode(["SET", "db", str(db)]) +
                 b"LPUSH inl a b c\r\n" + b"*3\r\n$4\r\nSADD\r\n$2\r\nsx\rX$1\r\nq\r\n" +
                 encode(["SET", "ex%d" % db, "v", "EX", "1000"]), 5)
    # pipelined: many commands in each read
    pipe = p.pipeline(transaction=False)
    for i in range(3000):
        pipe.set("p:%d" % (i % 700), "x" * (i % 50))
        pipe.incr("p:n")
        if i % 300 == 0:
            pipe.expire("p:%d" % (i % 700), 1000)
    pipe.execute()
    send_raw(port, b"".join(b"INCRBY inl:n %d\r\n" % i for i in range(100)), 100)


def test_replicas_and_aof_match_after_mixed_writes(servers):
    primary = keel_server("--repl-diskless-sync-delay", 0, "--appendonly", "yes")
    servers.append(primary)
    client(primary).set("seed", 1)
    rr = redis_replica(primary, "--repl-diskless-load", "disabled")
    kr = keel_replica(primary)
    servers += [rr, kr]
    assert_same(primary, rr)
    assert_same(primary, kr)
    write_mix(primary)
    assert_same(primary, rr)
    assert_same(primary, kr)
    # the AOF holds the same writes: replaying it gives the same dataset
    want = digest(primary)
    assert client(primary).execute_command("DEBUG", "LOADAOF") == b"OK"
    assert digest(primary) == want
