"""Replication: async loading (Redis 7.0's async_loading) with
repl-diskless-load swapdb.

A replica whose data belongs to the history a full sync continues (its
replid is the one +FULLRESYNC names) keeps serving the old data while the
new RDB loads beside it, then swaps the new data in:
- differential, a Keel replica beside a redis-server 7.0 replica of one
  redis-server primary (a full sync forced as Redis's own test does: the
  replicas killed, the backlog overrun): during the load both answer
  INFO persistence loading:0 / async_loading:1, GET of an old key with
  the old value (a key past its TTL too: nothing expires while loading),
  BGSAVE (NO_ASYNC_LOADING) with -LOADING, the old function libraries,
  the same INFO
  replication status; afterwards a transaction WATCHing a key fails, a
  RESP3 tracking client gets the "all keys" invalidation, and the data is
  the primary's (DEBUG DIGEST); replies compared byte for byte;
- the same with a Keel primary (Keel and redis-server replicas);
- Keel with a fake primary whose +FULLRESYNC names the replica's own
  replid: a payload that fails its checksum at the end leaves the old
  data (never -LOADING meanwhile); a fresh replid is a plain -LOADING
  swapdb load.
"""

import os
import time

import pytest

from harness import RawConn, ServerProcess
from repl_helpers import cli, stop, wait_for
from test_repl_sync_fallback import FakePrimary, keel_argv, redis_argv

NKEYS = 200          # DEBUG POPULATE keys of VALSIZE bytes: a 20 MB RDB,
VALSIZE = 100000     # events served every 2 MB (20 keys) of the load
DELAY_US = 25000     # key-load-delay: 200 keys take 5 s to load
LOADING = b"-LOADING Redis is loading the dataset in memory\r\n"


def start(kind, *extra):
    fn = keel_argv(*extra) if kind == "keel" else redis_argv(*extra)
    return ServerProcess(kind, fn).start()


def info(port, section):
    with RawConn(port, timeout=10) as c:
        text = c.call("INFO", section)
    out = {}
    for line in bytes(text).decode().split("\r\n"):
        if ":" in line and not line.startswith("#"):
            k, v = line.split(":", 1)
            out[k] = v
    return out


OLDLIB = ("#!lua name=oldlib\nredis.register_function{function_name='oldf', "
          "callback=function() return 'hello1' end, flags={'no-writes'}}")
NEWLIB = ("#!lua name=newlib\nredis.register_function{function_name='newf', "
          "callback=function() return 'hello2' end, flags={'no-writes'}}")


def force_full_sync(p):
    """As Redis's tests: the replicas dropped and the backlog overrun in
    one transaction, so their PSYNC gets +FULLRESYNC with the same replid;
    mykey changes meanwhile."""
    pipe = p.pipeline(transaction=True)
    pipe.execute_command("CLIENT", "KILL", "TYPE", "replica")
    pipe.config_set("repl-backlog-size", 16384)
    for i in range(10):
        pipe.set("filler:%d" % i, "A" * 16384)
    pipe.set("mykey", "new")
    pipe.execute_command("FUNCTION", "DELETE", "oldlib")
    pipe.execute_command("FUNCTION", "LOAD", NEWLIB)
    pipe.execute()


def async_load_scenario(kind, primary_kind="redis"):
    """One replica of kind beside its own primary (the same data each
    time): what its clients see during and after the load."""
    primary = start(primary_kind, "--repl-diskless-sync", "yes", "--repl-diskless-sync-delay",
                    "0", "--rdbcompression", "no")
    rep = None
    conns = []
    try:
        p = cli(primary)
        p.execute_command("DEBUG", "POPULATE", NKEYS, "key", VALSIZE)
        p.set("mykey", "old")
        # a key expired on the primary that it does not delete (no active
        # expiry, never read there): the replica keeps it, reads it missing
        p.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", 0)
        p.set("short", "v", px=300)
        p.execute_command("FUNCTION", "LOAD", OLDLIB)
        rep = start(kind, "--repl-diskless-load", "swapdb")
        r = cli(rep)
        r.replicaof("127.0.0.1", primary.port)
        wait_for(lambda: r.info("replication")["master_link_status"] == "up", 60, kind)
        wait_for(lambda: r.get("mykey") == b"old", 10, kind)
        r.config_set("key-load-delay", DELAY_US)
        time.sleep(0.4)
        with RawConn(rep.port, timeout=10) as c:
            c.send(b"GET short\r\nTTL short\r\n")
            before = c.read_replies(2)
        # a watcher and a RESP3 tracking client
        w = RawConn(rep.port, timeout=10)
        conns.append(w)
        assert w.call("WATCH", "mykey") == b"+OK\r\n"
        t = RawConn(rep.port, timeout=10)
        conns.append(t)
        t.call("HELLO", "3")
        assert t.call("CLIENT", "TRACKING", "on") == b"+OK\r\n"
        assert t.call("GET", "mykey") == b"$3\r\nold\r\n"
        force_full_sync(p)
        wait_for(lambda: info(rep.port, "persistence").get("async_loading") == "1", 60,
                 kind + " async_loading")
        pers = info(rep.port, "persistence")
        repl = info(rep.port, "replication")
        with RawConn(rep.port, timeout=10) as c:
            c.send(b"GET mykey\r\nBGSAVE\r\nREPLICAOF NO ONE\r\nEXISTS key:0\r\n"
                   b"GET short\r\nTTL short\r\nFCALL_RO oldf 0\r\n")
            during = c.read_replies(7)
        seen = {
            "before": before,
            "loading": (pers["loading"], pers["async_loading"]),
            "loading_fields": sorted(k for k in pers if k.startswith("loading_")),
            "link": (repl["master_link_status"], repl["master_sync_in_progress"]),
            "during": during,
            "still_async": info(rep.port, "persistence").get("async_loading"),
        }
        wait_for(lambda: info(rep.port, "persistence").get("async_loading") == "0" and
                 r.info("replication")["master_link_status"] == "up", 90, kind + " sync")
        wait_for(lambda: r.get("mykey") == b"new", 10, kind)
        assert r.execute_command("DEBUG", "DIGEST") == p.execute_command("DEBUG", "DIGEST"), kind
        w.send(b"MULTI\r\nGET mykey\r\nEXEC\r\n")
        seen["exec"] = w.read_replies(3)
        seen["invalidate"] = t.read_reply(timeout=10)
        with RawConn(rep.port, timeout=10) as c:
            c.send(b"FUNCTION LIST\r\nFCALL_RO newf 0\r\nFCALL_RO oldf 0\r\n")
            seen["functions_after"] = c.read_replies(3)
        return seen
    finally:
        for c in conns:
            c.close()
        if rep:
            stop(rep)
        stop(primary)


def test_async_loading_serves_old_data_keel_and_redis():
    seen = {kind: async_load_scenario(kind) for kind in ("keel", "redis")}
    assert seen["keel"] == seen["redis"], seen
    s = seen["keel"]
    assert s["loading"] == ("0", "1")
    assert s["still_async"] == "1"  # the replies above were all during the load
    assert s["link"] == ("down", "1")
    # while loading nothing expires (Redis's keyIsExpired), before it did
    assert s["before"] == [b"$-1\r\n", b":-2\r\n"]
    assert s["during"] == [b"$3\r\nold\r\n", LOADING, LOADING, b":1\r\n",
                           b"$1\r\nv\r\n", b":0\r\n", b"$6\r\nhello1\r\n"]
    # the image's libraries replaced the old ones
    assert s["functions_after"][1] == b"$6\r\nhello2\r\n"
    assert s["functions_after"][2].startswith(b"-ERR Function not found")
    assert s["exec"][2] == b"*-1\r\n"
    assert s["invalidate"] == b">2\r\n$10\r\ninvalidate\r\n_\r\n"


def test_async_loading_keel_primary_keel_replica():
    """The same from a Keel primary to a Keel replica, against what a
    redis-server replica showed above."""
    seen = async_load_scenario("keel", "keel")
    want = async_load_scenario("redis", "keel")
    assert seen == want, (seen, want)
    assert seen["loading"] == ("0", "1")


def make_rdb(nkeys):
    srv = ServerProcess("rdb-maker", redis_argv()).start()
    try:
        c = cli(srv)
        c.execute_command("DEBUG", "POPULATE", nkeys, "new")
        c.save()
        with open(os.path.join(srv.workdir, "dump.rdb"), "rb") as f:
            return f.read()
    finally:
        stop(srv)


@pytest.mark.parametrize("same_history,corrupt", [(True, True), (True, False), (False, False)])
def test_keel_async_load_with_fake_primary(same_history, corrupt):
    rdb = make_rdb(3000)
    if corrupt:  # the CRC64 trailer: the load fails at its very end
        rdb = rdb[:-8] + bytes(b ^ 0xFF for b in rdb[-8:])
    rep = start("keel", "--repl-diskless-load", "swapdb", "--key-load-delay", "1500",
                "--repl-timeout", "60")
    fake = None
    try:
        r = cli(rep)
        r.set("old", "data")
        replid = info(rep.port, "replication")["master_replid"]
        fid = replid.encode() if same_history else b"b" * 40
        fake = FakePrimary(b"+FULLRESYNC " + fid + b" 0\r\n$%d\r\n" % len(rdb) + rdb, b"")
        r.replicaof("127.0.0.1", fake.port)
        field = "async_loading" if same_history else "loading"
        wait_for(lambda: info(rep.port, "persistence").get(field) == "1", 30, field)
        with RawConn(rep.port, timeout=10) as c:
            got = c.call("GET", "old")
        if same_history:
            assert got == b"$4\r\ndata\r\n"
            assert info(rep.port, "persistence")["loading"] == "0"
        else:
            assert got == LOADING, got
        if corrupt:
            wait_for(lambda: b"Discarding temporary DB" in rep.log_text(), 60, "failed load")
            r.replicaof("no", "one")
            assert r.get("old") == b"data" and r.dbsize() == 1
        else:
            wait_for(lambda: r.info("replication")["master_link_status"] == "up", 60, "sync")
            assert r.get("old") is None and r.dbsize() == 3000
            assert r.info("replication")["master_replid"] == fid.decode()
            log = rep.log_text()
            assert b"Swapping active DB with loaded DB" in log
    finally:
        stop(rep)
        if fake:
            fake.close()


@pytest.mark.parametrize("mode", ["disabled", "on-empty-db", "swapdb"])
def test_full_sync_replaces_function_libraries(mode):
    """A full sync leaves the replica with the primary's function
    libraries only (Redis 7.0 clears or swaps its functions context), in
    every repl-diskless-load mode; FUNCTION LIST compared with a
    redis-server replica's."""
    seen = {}
    for kind in ("keel", "redis"):
        primary = start("redis", "--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0")
        rep = None
        try:
            p = cli(primary)
            p.set("mykey", "old")
            p.execute_command("FUNCTION", "LOAD", OLDLIB)
            rep = start(kind, "--repl-diskless-load", mode)
            r = cli(rep)
            r.replicaof("127.0.0.1", primary.port)
            wait_for(lambda: r.info("replication")["master_link_status"] == "up", 60, kind)
            wait_for(lambda: r.get("mykey") == b"old", 10, kind)
            full = p.info("stats")["sync_full"]
            force_full_sync(p)
            wait_for(lambda: p.info("stats")["sync_full"] > full, 30, kind + " full sync")
            wait_for(lambda: r.info("replication")["master_link_status"] == "up" and
                     r.get("mykey") == b"new", 60, kind + " sync")
            with RawConn(rep.port, timeout=10) as c:
                c.send(b"FUNCTION LIST\r\nFCALL_RO newf 0\r\nFCALL_RO oldf 0\r\n")
                seen[kind] = c.read_replies(3)
        finally:
            if rep:
                stop(rep)
            stop(primary)
    assert seen["keel"] == seen["redis"], seen
    assert seen["keel"][1] == b"$6\r\nhello2\r\n"
    assert seen["keel"][2].startswith(b"-ERR Function not found")
