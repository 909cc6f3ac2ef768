"""What Keel writes to its AOF, command by command, against redis-server
7.0 with the same settings (appendonly yes, appendfsync always, no RDB
preamble, no timestamps): the rewrites Redis 7.0 makes (SET with any
expiry -> SET key value PXAT, its other options dropped; GETSET -> SET;
SETEX / GETEX / EXPIRE family -> absolute times; INCRBYFLOAT -> SET
KEEPTTL; GETDEL -> DEL; SPOP -> SREM; XREADGROUP -> XCLAIM, the group's
last id only with NOACK), and keys met expired by a command: their DEL
(UNLINK under lazyfree-lazy-expire) goes with the command, in one
MULTI/EXEC with what it propagates (MGET's two DELs too), also for MSET /
SETEX, in transactions and scripts; SCAN and RANDOMKEY run directly are
the exception (test_edge_cases_70.py). Absolute times and stream ids are masked
(13-digit milliseconds)."""

import re
import time

import pytest

import harness
from test_aof import Server, incr_commands

ARGS = ("--appendonly", "yes", "--appendfsync", "always", "--aof-use-rdb-preamble", "no",
        "--aof-timestamp-enabled", "no", "--enable-debug-command", "yes")

S = str.split
CASES = {
    "set_options": [
        # (no active expiry: when the cycle would catch `PXAT 1`'s key is timing)
        S("DEBUG SET-ACTIVE-EXPIRE 0"), S("SET k v GET"), S("SET k v2 GET EX 100"), S("SET k v3 GET PX 100000"),
        S("SET k v4 KEEPTTL GET"), S("SET k v5 EXAT 9999999999 GET"),
        S("SET k v6 PXAT 9999999999000 XX"), S("SET k v6 PXAT 9999999999000 GET"),
        S("SET k v7 NX EX 10"), S("SET k2 v NX EX 10"), S("SET k2 v XX PX 5000 GET"),
        S("SET nokey v XX"), S("SET nokey v XX GET"), S("SET k v PXAT 1"), S("SET k v EXAT 1"),
        S("SETNX k3 v"), S("SETNX k3 v"), S("GETSET k3 w"), S("GETSET k3new w"),
        S("MSETNX m1 a m2 b"), S("MSETNX m1 a m3 b"), S("SETEX sx 100 v"),
        S("PSETEX psx 100000 v"), S("GETEX sx EX 50"), S("GETEX sx PXAT 9999999999000"),
        S("GETEX sx PERSIST"), S("GETEX sx PERSIST"), S("GETEX sx"), S("GETEX nosuch EX 10"),
        S("GETDEL psx"), S("GETDEL psx"), S("SET fl 1.5 EX 100"), S("INCRBYFLOAT fl 2.25"),
        S("INCRBYFLOAT newfl 3"), S("HINCRBYFLOAT h f 0.5")],
    "expire_family": [
        S("SET e1 v"), S("EXPIRE e1 100"), S("EXPIRE e1 200 NX"), S("EXPIRE e1 300 XX"),
        S("EXPIRE e1 50 GT"), S("EXPIRE e1 50 LT"), S("PEXPIRE e1 100000"),
        S("EXPIREAT e1 9999999999"), S("EXPIREAT e1 1"), S("SET e2 v"), S("PEXPIREAT e2 1"),
        S("SET e3 v"), S("EXPIRE e3 0"), S("SET e5 v"), S("EXPIRE e5 100"), S("PERSIST e5"),
        S("PERSIST e5")],
    "pops_and_moves": [
        S("SADD one a"), S("SPOP one"), S("SADD one a"), S("SPOP one 1"), S("SADD s a b"),
        S("SPOP s 0"), S("SPOP s 10"), S("SADD s2 x"), S("SRANDMEMBER s2"),
        S("SRANDMEMBER s2 -3"), S("RPUSH l a b c"), S("LMOVE l l2 LEFT RIGHT"),
        S("RPOPLPUSH l l2"), S("LPOP l 5"), S("ZADD z 1 a 2 b"), S("BZPOPMIN z 0"),
        S("BZMPOP 0 1 z MIN"), S("PFADD hll a b"), S("PFCOUNT hll"), S("PFCOUNT hll")],
    # writes that change nothing are not propagated (Redis counts no
    # change for them: LTRIM keeping the whole list, SREM / ZREM / HDEL /
    # LREM of nothing), those that do, once
    "no_change_writes": [
        S("RPUSH l a b c"), S("LTRIM l 0 -1"), S("LTRIM l 0 100"), S("LTRIM l 1 -1"),
        S("LREM l 0 zz"), S("SADD s a"), S("SADD s a"), S("SREM s zz"), S("ZADD z 1 a"),
        S("ZADD z 1 a"), S("ZREM z zz"), S("HSET h f v"), S("HDEL h zz"), S("HSET h f v"),
        S("FLUSHALL"), S("FLUSHALL")],
    "stream_groups": [
        S("XADD st 1-1 a b"), S("XGROUP CREATE st g 0"),
        S("XREADGROUP GROUP g c COUNT 1 STREAMS st >"), S("XADD st 2-1 a b"),
        S("XREADGROUP GROUP g c STREAMS st >"), S("XACK st g 1-1"),
        S("XCLAIM st g c2 0 2-1"), S("XADD st 3-1 a b"),
        S("XREADGROUP GROUP g c NOACK STREAMS st >"), S("XADD st MAXLEN ~ 1 4-1 c d")],
    # a consumer made by a NOACK read that served entries: XGROUP CREATECONSUMER
    # before the last id, in MULTI/EXEC; a read that serves nothing or reads
    # history propagates nothing (never XREADGROUP itself)
    "stream_noack_consumers": [
        S("XGROUP CREATE s g $ MKSTREAM"), S("XADD s 1 f v"),
        S("XREADGROUP GROUP g B NOACK STREAMS s >"), S("XADD s 2 f v"),
        S("XREADGROUP GROUP g B NOACK STREAMS s >"), S("XREADGROUP GROUP g C STREAMS s >"),
        S("XREADGROUP GROUP g D STREAMS s 0"), S("XREADGROUP GROUP g I NOACK STREAMS s >"),
        S("XADD s 4 f v"), S("XADD t 4 f v"), S("XGROUP CREATE t g 0"),
        S("XREADGROUP GROUP g M NOACK STREAMS s t > >"), S("MULTI"), S("XADD s 5 f v"),
        S("XREADGROUP GROUP g N NOACK STREAMS s >"), S("EXEC")],
    "lazy_expiry": [
        S("DEBUG SET-ACTIVE-EXPIRE 0")] + [S("SET %s v PX 30" % k) for k in (
            "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "m1", "m2", "x1", "x2", "y1", "y2",
            "r1", "r2")] + [
        ["SLEEP"],
        S("GET a"), S("MGET r1 r2"), S("SET b v EXAT 1"), S("SET c v2 GET"), S("SET d v PX 100 NX"),
        S("INCR e"), S("MSET m1 a m2 b"), S("SETEX x1 100 v"), S("PSETEX x2 100000 v"),
        S("MULTI"), S("GET f"), S("SET g w"), S("EXEC"),
        ["EVAL", "redis.call('get', KEYS[1]) redis.call('set','sx','y') return 1", "1", "h"],
        ["EVAL", "redis.set_repl(redis.REPL_NONE) redis.call('get', KEYS[1]) "
                 "redis.call('set','sn','y') return 1", "1", "i"],
        S("CONFIG SET lazyfree-lazy-expire yes"), S("GET j"), S("INCRBYFLOAT y1 1"),
        S("LPUSH y2 a"), S("CONFIG SET lazyfree-lazy-expire no")],
    "scripts_and_functions": [
        ["EVAL", "redis.call('set','ek','v','EX','100') return 1", "0"],
        ["EVAL", "redis.call('set','ek2','v') redis.call('incrbyfloat','ek2f','1.5') "
                 "redis.call('expire','ek2','100') return 1", "0"],
        ["EVAL", "redis.call('getdel','ek2') return 1", "0"],
        ["EVAL", "redis.call('getex','ek','PX','5000') redis.call('getset','ek','z') return 1",
         "0"],
        ["EVAL", "return redis.call('get','ek')", "0"],
        ["FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function('f', function(k, a) "
                             "redis.call('set', k[1], a[1], 'EX', '100') return "
                             "redis.call('incrbyfloat', k[1]..'f', '2.5') end)"],
        S("FCALL f 1 fk val"), S("MULTI"), S("SET mk v EX 100"), S("GETSET mk w"),
        S("INCRBYFLOAT mkf 1.5"), S("EXEC")],
}


def mask(cmds):
    out = []
    for c in cmds:
        out.append([re.sub(rb"^1\d{12}(?=-|$)", b"<T>", a) for a in c])
    return out


def run(srv, cmds):
    with harness.RawConn(srv.port, timeout=10) as c:
        for cmd in cmds:
            if cmd == ["SLEEP"]:
                time.sleep(0.15)
            else:
                c.call(*cmd)


@pytest.mark.parametrize("name", sorted(CASES))
def test_propagation_as_redis(name):
    k, r = Server("keel", ARGS), Server("redis", ARGS)
    try:
        k.start()
        r.start()
        run(k, CASES[name])
        run(r, CASES[name])
        time.sleep(0.2)
        got, want = mask(incr_commands(k)), mask(incr_commands(r))
        assert got == want
        assert not k.sanitizer_report(), k.tail()
    finally:
        for s in (k, r):
            s.stop()
            s.cleanup()
