"""Replication, replica side: Keel replicating from a redis-server 7.0 primary.

Real processes on free ports: a redis-server primary (disk-based and
diskless full syncs), a Keel replica started with REPLICAOF. What is checked:
REPLICAOF / SLAVEOF replies against a redis-server replica; a dataset of
every type and encoding synced, DEBUG DIGEST equal on both sides; a writer
running during the sync and after it; the primary's expiry reaching the
replica (which deletes nothing itself); -READONLY and -MASTERDOWN; partial
resync after CLIENT KILL TYPE master on the replica and after the primary
drops the link (redis's sync_partial_ok); kill -9 of the replica mid-sync
and a restart with `replicaof` in its configuration; AUTH with masterauth
and masteruser; REPLICAOF NO ONE then writes; the live-migration story
(REPLICAOF a loaded redis-server, wait, promote, data equal).
"""

import os
import signal
import socket
import threading
import time

import pytest
import redis

import harness
from repl_helpers import cli, stop, wait_for
from harness import ServerProcess


def redis_argv(*extra):
    def argv(port):
        return [harness.oracle_bin(), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--enable-debug-command", "yes"] + list(extra)
    return argv


def keel_argv(*extra):
    def argv(port):
        return harness.keel_argv(port) + list(extra)
    return argv


def start(name, argv_fn):
    return ServerProcess(name, argv_fn).start()


def primary_sees_replica_at_offset(p):
    """The redis primary has one online replica whose ACKed offset is the
    primary's master_repl_offset."""
    info = p.info("replication")
    s = info.get("slave0")
    return bool(s) and s["state"] == "online" and s["offset"] == info["master_repl_offset"]


def wait_synced(p, timeout=60.0):
    wait_for(lambda: primary_sees_replica_at_offset(p), timeout, "the replica to catch up")


def digest(c):
    return c.execute_command("DEBUG", "DIGEST")


def link_up(k):
    """The Keel replica is applying the stream (it accepts what a
    connected replica accepts: the master client shows in CLIENT LIST)."""
    return b"flags=M" in k.execute_command("CLIENT", "LIST", "TYPE", "master")


def load_every_type(c, big=True):
    """Every type in each of its encodings, in three databases, with TTLs."""
    c.set("str:int", 12345)
    c.set("str:embstr", "hello")
    c.set("str:raw", "x" * 500)
    c.set("str:ttl", "v", px=600000)
    c.rpush("list:small", "a", "b", "c", 1, 2)
    c.hset("hash:small", mapping={"f1": "v1", "f2": 2})
    c.sadd("set:int", 1, 2, 3, 99)
    c.sadd("set:str", "a", "b", "c")
    c.zadd("zset:small", {"a": 1, "b": 2.5, "c": -3})
    c.pfadd("hll", *["e%d" % i for i in range(50)])
    c.xadd("stream", {"f": "v"}, id="1-1")
    c.xadd("stream", {"f": "w", "g": "x"}, id="2-0")
    c.xgroup_create("stream", "grp", id="0")
    c.xreadgroup("grp", "alice", {"stream": ">"}, count=1)
    c.setbit("bits", 1000, 1)
    c.geoadd("geo", (13.361389, 38.115556, "Palermo"))
    if big:
        c.rpush("list:big", *["elem-%d" % i for i in range(2000)])
        c.rpush("list:huge-elem", "y" * 20000, "z")
        c.hset("hash:big", mapping={"f%d" % i: "v%d" % i for i in range(1000)})
        c.sadd("set:big", *["m%d" % i for i in range(1000)])
        c.sadd("set:bigint", *range(1000))
        c.zadd("zset:big", {"m%d" % i: i * 1.5 for i in range(1000)})
        for i in range(300):
            c.xadd("stream:big", {"i": i})
        c.execute_command("DEBUG", "POPULATE", 2000, "pop", 20)
    port = c.connection_pool.connection_kwargs["port"]
    c3 = redis.Redis(host="127.0.0.1", port=port, db=3)
    c3.set("db3:k", "v3")
    c3.hset("db3:h", "a", "b")
    c2 = redis.Redis(host="127.0.0.1", port=port, db=5)
    c2.set("db5:k", "v5", ex=3600)
    c2.zadd("db5:z", {"x": 1})


@pytest.fixture
def primary():
    p = start("redis-primary", redis_argv())
    yield p
    stop(p)


@pytest.fixture
def replica():
    k = start("keel-replica", keel_argv())
    yield k
    stop(k)


def test_replicaof_replies_as_redis():
    """REPLICAOF/SLAVEOF errors and replies, byte for byte against a
    redis-server doing the same (the primary port is closed: nothing
    connects)."""
    dead = harness.free_port()
    seq = [
        ["REPLICAOF", "127.0.0.1", "abc"],
        ["REPLICAOF", "127.0.0.1", "70000"],
        ["REPLICAOF", "127.0.0.1", "-1"],
        ["REPLICAOF", "127.0.0.1"],
        ["REPLICAOF", "no", "one"],
        ["SLAVEOF", "NO", "ONE"],
        ["REPLICAOF", "127.0.0.1", str(dead)],
        ["REPLICAOF", "127.0.0.1", str(dead)],
        ["SLAVEOF", "127.0.0.1", str(dead)],
        ["CONFIG", "GET", "replicaof"],
        ["SET", "k", "v"],
        ["GET", "k"],
        ["CONFIG", "SET", "replica-serve-stale-data", "no"],
        ["GET", "k"],
        ["PING"],
        ["CONFIG", "GET", "slave-serve-stale-data"],
        ["CONFIG", "SET", "replica-serve-stale-data", "yes"],
        ["CONFIG", "SET", "replica-read-only", "no"],
        ["SET", "k", "v"],
        ["CONFIG", "SET", "replica-read-only", "yes"],
        ["REPLICAOF", "NO", "ONE"],
        ["CONFIG", "GET", "replicaof"],
        ["SET", "k", "v2"],
        ["GET", "k"],
        ["REPLICAOF", "no", "1"],
        ["REPLICAOF", "no", "one"],
        ["CONFIG", "SET", "replicaof", "127.0.0.1 1"],
    ]
    servers = [start("keel", keel_argv()), start("redis", redis_argv())]
    try:
        out = []
        for s in servers:
            with harness.RawConn(s.port) as c:
                out.append([c.call(*cmd) for cmd in seq])
        for cmd, a, b in zip(seq, out[0], out[1]):
            assert a == b, (cmd, a, b)
    finally:
        for s in servers:
            stop(s)


@pytest.mark.parametrize("diskless", ["no", "yes"])
def test_full_sync_every_type(primary, replica, diskless):
    p, k = cli(primary), cli(replica)
    p.config_set("repl-diskless-sync", diskless)
    p.config_set("repl-diskless-sync-delay", 0)
    load_every_type(p)
    k.set("stale", "dropped by the sync")
    assert k.execute_command("REPLICAOF", "127.0.0.1", primary.port) == b"OK"
    wait_synced(p)
    assert digest(k) == digest(p)
    for db in (0, 3, 5):
        assert cli_db(replica, db).dbsize() == cli_db(primary, db).dbsize()
    assert k.get("stale") is None
    assert k.object("encoding", "list:small") == p.object("encoding", "list:small")
    # the stream: writes after the sync arrive, digest still equal
    p.set("after", 1)
    p.incr("str:int")
    p.lpush("list:small", "new")
    cli_db(primary, 5).set("db5:after", "x")
    wait_synced(p)
    assert digest(k) == digest(p)
    assert cli_db(replica, 5).get("db5:after") == b"x"
    assert p.info("stats")["sync_full"] == 1


def cli_db(srv, db):
    return redis.Redis(host="127.0.0.1", port=srv.port, db=db, socket_timeout=30)


def writer(port, stop_ev, counter):
    c = redis.Redis(host="127.0.0.1", port=port)
    i = 0
    while not stop_ev.is_set():
        pipe = c.pipeline(transaction=(i % 7 == 0))
        pipe.incr("w:counter")
        pipe.rpush("w:list:%d" % (i % 10), i)
        pipe.hset("w:hash", "f%d" % (i % 500), i)
        pipe.zadd("w:zset", {"m%d" % (i % 300): i})
        pipe.set("w:k:%d" % i, "v" * (i % 50), px=(200 if i % 5 == 0 else None))
        pipe.execute()
        i += 1
    counter.append(i)


@pytest.mark.parametrize("diskless", ["no", "yes"])
def test_writer_during_and_after_sync(primary, replica, diskless):
    p, k = cli(primary), cli(replica)
    p.config_set("repl-diskless-sync", diskless)
    p.config_set("repl-diskless-sync-delay", 0)
    p.execute_command("DEBUG", "POPULATE", 50000, "base", 30)
    stop_ev, counter = threading.Event(), []
    t = threading.Thread(target=writer, args=(primary.port, stop_ev, counter))
    t.start()
    try:
        time.sleep(0.3)
        k.execute_command("REPLICAOF", "127.0.0.1", primary.port)
        wait_for(lambda: link_up(k), 60, "the link")
        time.sleep(1.0)  # writes keep coming after the sync
    finally:
        stop_ev.set()
        t.join()
    assert counter and counter[0] > 10
    wait_synced(p)
    # keys of the writer with a 200 ms TTL: the primary's expiry DELs them
    # on both sides in time; wait until the keyspaces agree
    wait_for(lambda: digest(k) == digest(p), 20, "equal digests")
    assert k.get("w:counter") == p.get("w:counter")


def test_expiry_comes_from_the_primary(primary, replica):
    p, k = cli(primary), cli(replica)
    k.execute_command("REPLICAOF", "127.0.0.1", primary.port)
    wait_synced(p)
    p.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 0)  # the primary expires lazily only
    p.set("t", "v", px=3000)
    wait_for(lambda: k.get("t") == b"v", 3, "the key on the replica")
    time.sleep(3.1)
    # logically expired on the replica: reads miss, the key stays (no DEL
    # of its own)
    assert k.get("t") is None
    assert k.exists("t") == 0
    assert k.dbsize() == 1
    # the primary's lazy expiry propagates a DEL
    assert p.get("t") is None
    wait_synced(p)
    wait_for(lambda: k.dbsize() == 0, 10, "the DEL")
    assert digest(k) == digest(p)


def test_readonly_and_masterdown(primary, replica):
    p, k = cli(primary), cli(replica)
    k.execute_command("REPLICAOF", "127.0.0.1", primary.port)
    wait_synced(p)
    with harness.RawConn(replica.port) as c:
        assert c.call("SET", "x", "1") == b"-READONLY You can't write against a read only replica.\r\n"
        assert c.call("GET", "x") == b"$-1\r\n"
        c.call("CONFIG", "SET", "replica-serve-stale-data", "no")
        assert c.call("GET", "x") == b"$-1\r\n"  # link up: served
    # the link down: stale data refused
    p.config_set("requirepass", "secret")  # the replica cannot come back
    p.execute_command("CLIENT", "KILL", "TYPE", "replica")
    wait_for(lambda: not link_up(k), 10, "the link to drop")
    with harness.RawConn(replica.port) as c:
        assert c.call("GET", "x") == (b"-MASTERDOWN Link with MASTER is down and "
                                      b"replica-serve-stale-data is set to 'no'.\r\n")
        assert c.call("INFO", "server").startswith(b"$")  # flagged STALE
        c.call("CONFIG", "SET", "replica-serve-stale-data", "yes")
        assert c.call("GET", "x") == b"$-1\r\n"


def test_partial_resync_after_client_kill_master(primary, replica):
    p, k = cli(primary), cli(replica)
    p.config_set("repl-diskless-sync-delay", 0)
    load_every_type(p, big=False)
    k.execute_command("REPLICAOF", "127.0.0.1", primary.port)
    wait_synced(p)
    assert p.info("stats")["sync_partial_ok"] == 0
    lines = k.execute_command("CLIENT", "LIST", "TYPE", "master")
    assert b"flags=M" in lines and b"cmd=" in lines
    p5 = cli_db(primary, 5)
    p5.set("db5:before", "x")  # the stream's last SELECT is 5 ...
    wait_synced(p)
    assert k.execute_command("CLIENT", "KILL", "TYPE", "master") == 1
    p5.set("db5:gap", "y")  # ... and is not repeated after the partial resync
    p.set("during", "gap")  # written while the link is down: from the backlog
    wait_for(lambda: p.info("stats")["sync_partial_ok"] == 1, 20, "a partial resync")
    wait_synced(p)
    assert p.info("stats")["sync_full"] == 1
    assert k.get("during") == b"gap"
    assert cli_db(replica, 5).get("db5:gap") == b"y"
    assert digest(k) == digest(p)


def test_partial_resync_after_primary_drops_link(primary, replica):
    p, k = cli(primary), cli(replica)
    k.execute_command("REPLICAOF", "127.0.0.1", primary.port)
    wait_synced(p)
    for round_ in range(3):
        p.execute_command("CLIENT", "KILL", "TYPE", "replica")
        p.rpush("l", round_)
        p.execute_command("MULTI")
        p.execute_command("INCR", "n")
        p.execute_command("INCR", "n")
        p.execute_command("EXEC")
        wait_for(lambda: p.info("stats")["sync_partial_ok"] == round_ + 1, 20, "partial resync")
        wait_synced(p)
    assert p.info("stats")["sync_full"] == 1
    assert k.lrange("l", 0, -1) == [b"0", b"1", b"2"]
    assert k.get("n") == b"6"
    assert digest(k) == digest(p)


def test_full_sync_when_backlog_lost(primary, replica):
    """A primary restarted (new replid, no backlog): the replica's PSYNC is
    refused and a full sync follows."""
    p, k = cli(primary), cli(replica)
    k.execute_command("REPLICAOF", "127.0.0.1", primary.port)
    p.set("a", 1)
    wait_synced(p)
    port = primary.port
    primary.proc.send_signal(signal.SIGKILL)
    primary.proc.wait()
    argv = redis_argv()(port)
    import subprocess
    proc = subprocess.Popen(argv, cwd=primary.workdir, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: harness.ping_ok(port, 0.5), 10, "the primary's restart")
        p2 = redis.Redis(host="127.0.0.1", port=port)
        p2.set("b", 2)
        wait_synced(p2)
        assert p2.info("stats")["sync_full"] == 1
        assert k.get("a") is None  # the new primary's dataset replaced ours
        assert k.get("b") == b"2"
    finally:
        proc.kill()
        proc.wait()
    primary.proc = None


def test_auth_masterauth_and_masteruser(replica):
    p_srv = start("redis-auth-primary", redis_argv())
    try:
        cli(p_srv).config_set("requirepass", "pw")
        p = redis.Redis(host="127.0.0.1", port=p_srv.port, password="pw")
        p.set("secret", "data")
        k = cli(replica)
        k.config_set("masterauth", "wrong")
        k.execute_command("REPLICAOF", "127.0.0.1", p_srv.port)
        time.sleep(1.5)
        assert not link_up(k)
        k.config_set("masterauth", "pw")
        wait_synced(p)
        assert k.get("secret") == b"data"
        # masteruser: an ACL user with just what replication needs
        p.execute_command("ACL", "SETUSER", "repl", "on", ">rpw", "+psync", "+replconf", "+ping")
        k.config_set("masteruser", "repl")
        k.config_set("masterauth", "rpw")
        p.execute_command("CLIENT", "KILL", "TYPE", "replica")
        p.set("more", "x")
        wait_for(lambda: k.get("more") == b"x", 20, "the stream as user repl")
        assert k.config_get("masteruser") == {"masteruser": "repl"}
    finally:
        stop(p_srv)


def test_replicaof_no_one_promotes(primary, replica):
    p, k = cli(primary), cli(replica)
    p.set("kept", "yes")
    k.execute_command("REPLICAOF", "127.0.0.1", primary.port)
    wait_synced(p)
    assert k.execute_command("REPLICAOF", "NO", "ONE") == b"OK"
    assert k.get("kept") == b"yes"
    assert k.set("new", "write") is True
    assert k.config_get("replicaof") == {"replicaof": ""}
    # the primary no longer feeds it
    p.set("kept", "changed")
    time.sleep(0.3)
    assert k.get("kept") == b"yes"


def test_kill9_replica_mid_sync_then_restart(primary):
    """kill -9 during the transfer; a restart with `replicaof` in its
    configuration syncs from scratch."""
    p = cli(primary)
    p.config_set("repl-diskless-sync", "no")
    p.execute_command("DEBUG", "POPULATE", 20000, "k", 50)
    load_every_type(p, big=False)
    # a slow RDB: the transfer is still running when the replica dies
    p.config_set("rdb-key-save-delay", 100)
    k_srv = start("keel-replica-k9", keel_argv())
    try:
        k = cli(k_srv)
        k.execute_command("REPLICAOF", "127.0.0.1", primary.port)
        wait_for(lambda: p.info("replication").get("slave0", {}).get("state")
                 in ("wait_bgsave", "send_bulk"), 20, "the sync to start")
        time.sleep(0.5)
        k_srv.proc.send_signal(signal.SIGKILL)
        k_srv.proc.wait()
        p.config_set("rdb-key-save-delay", 0)
        wait_for(lambda: "slave0" not in p.info("replication"), 20, "the primary to notice")
        # restart with the primary in the configuration
        k_srv.argv_fn = keel_argv("--replicaof", "127.0.0.1 %d" % primary.port)
        k_srv.start()
        k = cli(k_srv)
        wait_synced(p)
        # the primary counts a disk sync done once sent: the replica may
        # still be loading it (-LOADING, DEBUG DIGEST of a partial set)
        wait_for(lambda: link_up(k), 30, "the replica's load to end")
        assert digest(k) == digest(p)
        assert k.config_get("replicaof") == {"replicaof": "127.0.0.1 %d" % primary.port}
    finally:
        stop(k_srv)


def test_live_migration_story(primary, replica):
    """Keel REPLICAOF a loaded redis-server, wait for the sync, promote:
    the same data on both sides, and Keel takes writes."""
    p, k = cli(primary), cli(replica)
    p.execute_command("DEBUG", "POPULATE", 100000, "user", 40)
    load_every_type(p)
    k.execute_command("REPLICAOF", "127.0.0.1", primary.port)
    wait_synced(p)
    wait_for(lambda: link_up(k), 60, "the replica's load to end")  # else -LOADING
    k.execute_command("REPLICAOF", "NO", "ONE")
    assert digest(k) == digest(p)
    assert k.dbsize() == p.dbsize()
    k.set("after-migration", 1)
    assert k.get("after-migration") == b"1"


REPLICA_SEQ = [
    ["GET", "k"],
    ["SET", "k", "v"],
    ["INCR", "n"],
    ["DEL", "k"],
    ["FLUSHALL"],
    ["PUBLISH", "ch", "m"],
    ["MULTI"], ["SET", "a", "1"], ["GET", "k"], ["EXEC"],
    ["MULTI"], ["GET", "k"], ["EXEC"],
    ["EVAL", "return redis.call('get', 'k')", "0"],
    ["EVAL", "return redis.call('set', 'x', '1')", "0"],
    ["EVAL", "return redis.pcall('set', 'x', '1')", "0"],
    ["EVAL", "#!lua flags=no-writes\nreturn redis.call('get', 'k')", "0"],
    ["EVAL_RO", "return redis.call('get', 'k')", "0"],
    ["SELECT", "2"], ["GET", "k"], ["SET", "k", "2"],
    ["EXPIRE", "k", "100"],
    ["CONFIG", "SET", "replica-read-only", "no"],
    ["SET", "local", "write"],
    ["GET", "local"],
    ["EVAL", "return redis.call('set', 'x', '1')", "0"],
    ["CONFIG", "SET", "replica-read-only", "yes"],
    ["SET", "local", "again"],
]


def test_replica_replies_as_a_redis_replica(primary):
    """A Keel replica and a redis-server replica of the same primary answer
    a client's commands byte for byte alike (-READONLY, scripts, MULTI)."""
    p = cli(primary)
    p.set("k", "primary")
    reps = [start("keel-replica-diff", keel_argv()), start("redis-replica-diff", redis_argv())]
    try:
        for r in reps:
            cli(r).execute_command("REPLICAOF", "127.0.0.1", primary.port)
        wait_for(lambda: p.info("replication").get("connected_slaves") == 2, 30, "two replicas")
        wait_for(lambda: all(cli(r).get("k") == b"primary" for r in reps), 30, "the data")
        out = []
        for r in reps:
            with harness.RawConn(r.port) as c:
                out.append([c.call(*cmd) for cmd in REPLICA_SEQ])
        for cmd, a, b in zip(REPLICA_SEQ, out[0], out[1]):
            assert a == b, (cmd, a, b)
    finally:
        for r in reps:
            stop(r)


def test_keel_to_keel(replica):
    """A Keel primary and a Keel replica: full sync of every type, the
    stream, a partial resync after CLIENT KILL TYPE master, promotion."""
    prim = start("keel-primary", keel_argv())
    try:
        p, k = cli(prim), cli(replica)
        load_every_type(p)
        k.execute_command("REPLICAOF", "127.0.0.1", prim.port)
        wait_synced(p)
        assert digest(k) == digest(p)
        p.set("after", "sync")
        p.execute_command("MULTI")
        p.execute_command("INCR", "str:int")
        p.execute_command("LPUSH", "list:small", "x")
        p.execute_command("EXEC")
        wait_synced(p)
        assert digest(k) == digest(p)
        assert k.execute_command("ROLE")[0] == b"slave"
        assert k.execute_command("CLIENT", "KILL", "TYPE", "master") == 1
        p.set("gap", 1)
        wait_for(lambda: k.get("gap") == b"1", 20, "the partial resync")
        wait_synced(p)
        assert p.info("stats")["sync_partial_ok"] == 1
        assert p.info("stats")["sync_full"] == 1
        assert digest(k) == digest(p)
        k.execute_command("REPLICAOF", "NO", "ONE")
        assert k.set("mine", 1) is True
    finally:
        stop(prim)


def test_chained_redis_keel_redis(primary, replica):
    """redis-server -> Keel -> redis-server: the middle Keel replica passes
    its primary's stream on verbatim; all three digests agree."""
    p, k = cli(primary), cli(replica)
    p.config_set("repl-diskless-sync-delay", 0)
    load_every_type(p)
    k.execute_command("REPLICAOF", "127.0.0.1", primary.port)
    wait_synced(p)
    sub = start("redis-sub-replica", redis_argv())
    try:
        s = cli(sub)
        s.execute_command("REPLICAOF", "127.0.0.1", replica.port)
        wait_synced(k)
        for i in range(200):
            p.rpush("chain", i)
            p.hset("chain:h", "f%d" % (i % 7), i)
        wait_synced(p)
        wait_synced(k)
        assert digest(s) == digest(k) == digest(p)
        assert s.llen("chain") == 200
        # the sub-replica's offset follows the top primary's
        assert k.info("replication")["master_repl_offset"] == \
            p.info("replication")["master_repl_offset"]
    finally:
        stop(sub)


def test_restarted_replica_continues_with_a_partial_resync(primary):
    """A replica's snapshot names its primary's stream (repl-id,
    repl-offset, repl-stream-db): restarted with `replicaof`, after a
    SIGTERM (saved) or a kill -9 (the last file), it continues from the
    primary's backlog instead of a full sync."""
    p = cli(primary)
    p4 = cli_db(primary, 4)
    k_srv = start("keel-replica-restart",
                  keel_argv("--save", "3600 1", "--replicaof", "127.0.0.1 %d" % primary.port))
    try:
        p4.set("a", 1)
        wait_synced(p)
        assert p.info("stats")["sync_full"] == 1
        problem = k_srv.stop()
        assert problem is None, problem
        p4.set("b", 2)  # db 4 still selected in the stream: no SELECT comes
        p.set("c", 3)
        k_srv.start()
        wait_synced(p)
        k = cli(k_srv)
        assert p.info("stats")["sync_full"] == 1
        assert p.info("stats")["sync_partial_ok"] == 1
        assert cli_db(k_srv, 4).get("b") == b"2"
        assert digest(k) == digest(p)
        # kill -9: the file of the last save is where it continues from
        k.save()
        p4.set("d", 4)
        wait_synced(p)
        k_srv.proc.send_signal(signal.SIGKILL)
        k_srv.proc.wait()
        k_srv.proc = None
        p4.set("e", 5)
        k_srv.start()
        wait_synced(p)
        k = cli(k_srv)
        assert p.info("stats")["sync_full"] == 1
        assert p.info("stats")["sync_partial_ok"] == 2
        assert digest(k) == digest(p)
    finally:
        stop(k_srv)


def test_wait_gets_acks_from_getack(primary, replica):
    """The primary's WAIT (which sends REPLCONF GETACK) is answered by the
    Keel replica's ACKs. That the ACK answers the GETACK itself, not the
    periodic one, is test_getack_answered_with_the_offset_before_it's: a
    timeout here would only measure the machine's load."""
    p, k = cli(primary), cli(replica)
    k.execute_command("REPLICAOF", "127.0.0.1", primary.port)
    wait_synced(p)
    for i in range(5):
        p.set("w", i)
        assert p.execute_command("WAIT", 1, 60000) == 1
    assert k.get("w") == b"4"


def test_getack_answered_with_the_offset_before_it(replica):
    """A fake primary sends a SET and REPLCONF GETACK * in one write; the
    replica answers REPLCONF ACK <offset after the SET, before the GETACK>,
    as Redis does. No periodic ACK can carry that offset (one before the
    write has 0, one after it counts the GETACK too), so the ACK is the
    GETACK's answer, whatever the machine's load."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(60)
    k = cli(replica)
    k.execute_command("REPLICAOF", "127.0.0.1", srv.getsockname()[1])
    s, _ = srv.accept()
    s.settimeout(60)
    buf = b""

    def next_cmd():
        nonlocal buf
        while True:
            try:
                cmd, end = harness.parse_one(buf, 0)
                buf = buf[end:]
                return [a.upper() if i < 2 else a for i, a in enumerate(cmd)]
            except harness.Incomplete:
                d = s.recv(65536)
                assert d, "the replica closed the link"
                buf += d

    try:
        while True:  # the handshake: PING, REPLCONF..., PSYNC
            cmd = next_cmd()
            if cmd[0] == b"PING":
                s.sendall(b"+PONG\r\n")
            elif cmd[0] in (b"AUTH", b"REPLCONF"):
                s.sendall(b"+OK\r\n")
            elif cmd[0] == b"PSYNC":
                break
            else:
                raise AssertionError(cmd)
        rdb = b"REDIS0010\xff" + bytes(8)  # no keys; a zero checksum is not checked
        s.sendall(b"+FULLRESYNC " + b"b" * 40 + b" 0\r\n$%d\r\n" % len(rdb) + rdb)
        wait_for(lambda: link_up(k), 60, "the replica to load the RDB")
        write = harness.encode(["SET", "acked", "1"])
        s.sendall(write + harness.encode(["REPLCONF", "GETACK", "*"]))
        while True:
            cmd = next_cmd()
            assert cmd[:2] == [b"REPLCONF", b"ACK"], cmd
            off = int(cmd[2])
            # a periodic ACK from before the write is 0; any other is the answer
            if off != 0:
                break
        assert off == len(write)
        assert k.get("acked") == b"1"
    finally:
        k.execute_command("REPLICAOF", "NO", "ONE")
        s.close()
        srv.close()


def test_big_values_in_the_stream(primary, replica):
    """Values of many megabytes arrive in the stream (in many reads) and in
    a transaction; replica-lazy-flush empties the old data on the lazy-free
    thread."""
    p, k = cli(primary), cli(replica)
    k.config_set("replica-lazy-flush", "yes")
    k.rpush("old", *range(1000))
    k.execute_command("REPLICAOF", "127.0.0.1", primary.port)
    wait_synced(p)
    assert k.exists("old") == 0
    p.set("big", b"x" * (20 * 1024 * 1024))
    pipe = p.pipeline(transaction=True)
    pipe.set("big2", b"y" * (3 * 1024 * 1024))
    pipe.append("big", "tail")
    pipe.execute()
    wait_synced(p)
    assert k.strlen("big") == 20 * 1024 * 1024 + 4
    assert k.strlen("big2") == 3 * 1024 * 1024
    assert digest(k) == digest(p)


def test_replica_with_appendonly(primary):
    """A replica's AOF starts again from the synced dataset (a rewrite) and
    logs the stream it applies: restarted as a primary from its AOF, it has
    the primary's data."""
    p = cli(primary)
    load_every_type(p, big=False)
    k_srv = start("keel-replica-aof", keel_argv("--appendonly", "yes"))
    try:
        k = cli(k_srv)
        k.set("mine", "before the sync")
        k.execute_command("REPLICAOF", "127.0.0.1", primary.port)
        wait_synced(p)
        wait_for(lambda: k.info("persistence")["aof_rewrite_in_progress"] == 0, 20, "the rewrite")
        p.set("streamed", 1)
        cli_db(primary, 3).incr("db3:n")
        wait_synced(p)
        want = digest(p)
        assert digest(k) == want
        problem = k_srv.stop()
        assert problem is None, problem
        k_srv.start()
        k = cli(k_srv)
        assert digest(k) == want
        assert k.get("mine") is None
    finally:
        stop(k_srv)
