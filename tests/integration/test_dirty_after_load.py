"""The dirty counter (INFO persistence rdb_changes_since_last_save) after
loads, differential against redis-server 7.0: a replica's full sync keeps
the replica's own count when it loads from disk (repl-diskless-load
disabled) and adds one when it loads from the socket (swapdb, on-empty-db
into an empty replica: nothing was saved); DEBUG RELOAD leaves the count
(0 after its own save), a failed one (no file) too, with Redis 7.0's error
text. Compared between a Keel and a redis-server of the same kind of
setup."""

import pytest

from harness import RawConn, parse_one
from repl_helpers import cli, stop, wait_for
from test_repl_async_load import make_rdb, start
from test_repl_sync_fallback import FakePrimary


def changes(port):
    with RawConn(port) as c:
        text = parse_one(c.call("INFO", "persistence"))[0]
    for line in bytes(text).split(b"\r\n"):
        if line.startswith(b"rdb_changes_since_last_save:"):
            return int(line.split(b":")[1])
    return None


def replica_scenario(kind, load, own):
    primary = start("redis", "--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0")
    rep = None
    try:
        p = cli(primary)
        p.execute_command("DEBUG", "POPULATE", 100, "key", 10)
        p.set("mykey", "v1")
        rep = start(kind, "--repl-diskless-load", load)
        r = cli(rep)
        for i in range(own):
            r.set("own:%d" % i, i)
        seen = {"before": changes(rep.port)}
        r.replicaof("127.0.0.1", primary.port)
        wait_for(lambda: r.info("replication")["master_link_status"] == "up", 60, kind)
        wait_for(lambda: r.get("mykey") == b"v1", 10, kind)
        seen["after_load"] = changes(rep.port)
        seen["dbsize"] = r.dbsize()
        p.set("mykey", "v2")
        wait_for(lambda: r.get("mykey") == b"v2", 10, kind)
        seen["after_a_write"] = changes(rep.port)
        return seen
    finally:
        if rep:
            stop(rep)
        stop(primary)


@pytest.mark.parametrize("load,own", [("swapdb", 3), ("swapdb", 0), ("on-empty-db", 0),
                                      ("on-empty-db", 2), ("disabled", 3)])
def test_dirty_after_a_replicas_load(load, own):
    seen = {kind: replica_scenario(kind, load, own) for kind in ("keel", "redis")}
    assert seen["keel"] == seen["redis"], seen
    s = seen["keel"]
    diskless = load == "swapdb" or (load == "on-empty-db" and own == 0)
    assert s["before"] == own
    assert s["after_load"] == own + (1 if diskless else 0)
    assert s["after_a_write"] == s["after_load"] + 1


def reload_scenario(kind):
    srv = start(kind)
    try:
        out = []
        with RawConn(srv.port) as c:
            def step(*cmd):
                out.append((cmd, c.call(*cmd), changes(srv.port)))
            step("SET", "a", "1")
            step("SET", "b", "2")
            step("DEBUG", "RELOAD", "NOSAVE")  # no file yet: an error, the data flushed
            step("DBSIZE")
            step("SET", "a", "1")
            step("DEBUG", "POPULATE", "20")
            step("DEBUG", "RELOAD")  # saves (0), loads
            step("DBSIZE")
            step("SET", "c", "3")
            step("DEL", "key:1")
            step("DEBUG", "RELOAD", "NOSAVE")
            step("DBSIZE")
            step("SET", "d", "4")
            step("DEBUG", "RELOAD", "NOSAVE", "NOFLUSH", "MERGE")
            step("DBSIZE")
        return out
    finally:
        stop(srv)


def test_dirty_after_debug_reload():
    k, r = reload_scenario("keel"), reload_scenario("redis")
    assert k == r
    assert k[2][1] == b"-ERR Error trying to load the RDB dump\r\n" and k[2][2] == 2
    assert k[6][2] == 0
    assert [x[2] for x in k[8:]] == [1, 2, 2, 2, 3, 3, 3]


@pytest.mark.parametrize("load", ["disabled", "on-empty-db"])
def test_dirty_after_a_failed_load(load):
    """Keel only (redis-server 7.0 exits on a corrupt RDB): a payload failing
    its checksum at the very end is loaded, then dropped; neither is a
    change, the replica's count stays (disabled: its own writes; on-empty-db
    into an empty replica: 0)."""
    rdb = make_rdb(300)
    rdb = rdb[:-8] + bytes(b ^ 0xFF for b in rdb[-8:])
    rep = start("keel", "--repl-diskless-load", load)
    fake = None
    try:
        r = cli(rep)
        own = 2 if load == "disabled" else 0
        for i in range(own):
            r.set("own:%d" % i, i)
        fake = FakePrimary(b"+FULLRESYNC " + b"b" * 40 + b" 0\r\n$%d\r\n" % len(rdb) + rdb, b"")
        r.replicaof("127.0.0.1", fake.port)
        wait_for(lambda: b"Failed trying to load the MASTER synchronization DB" in rep.log_text(),
                 30, "failed load")
        r.replicaof("no", "one")
        assert r.dbsize() == 0
        assert changes(rep.port) == own
    finally:
        stop(rep)
        if fake:
            fake.close()
