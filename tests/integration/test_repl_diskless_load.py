"""Replication: repl-diskless-load disabled | on-empty-db | swapdb, as Redis 7.0.

Keel replicas beside redis-server replicas, the same steps on both:
- which syncs load from the socket ("to parser") and which through a file
  ("to disk", dbfilename written): disabled always to disk; on-empty-db to
  the parser only when the replica holds no key; swapdb to the parser;
- the data synced (DEBUG DIGEST equal to the primary's), old keys gone;
- a transfer that stalls and times out (a fake primary in the test sends
  half the payload): the old data stays, readable during the transfer with
  replica-serve-stale-data yes, -MASTERDOWN with no (replies compared byte
  for byte);
- a complete but corrupt payload: disabled and on-empty-db have flushed
  (the dataset is empty after the failed load), swapdb keeps the old data.
"""

import os
import time

import pytest
import redis

from repl_helpers import cli, stop, wait_for
from harness import RawConn, ServerProcess
from test_repl_sync_fallback import FakePrimary, keel_argv, redis_argv, redis_rdb


def start(kind, *extra):
    fn = keel_argv(*extra) if kind == "keel" else redis_argv(*extra)
    return ServerProcess(kind, fn).start()


def raw(port, *cmd):
    with RawConn(port) as c:
        return c.call(*cmd)


def no_one(r):
    try:
        r.replicaof("no", "one")
        return True
    except redis.exceptions.BusyLoadingError:
        return False


def log_has(srv, text):
    return text.encode() in srv.log_text()


@pytest.mark.parametrize("mode,old_keys,target", [
    ("disabled", 0, "to disk"), ("disabled", 5, "to disk"),
    ("on-empty-db", 0, "to parser"), ("on-empty-db", 5, "to disk"),
    ("swapdb", 0, "to parser"), ("swapdb", 5, "to parser"),
])
def test_where_the_rdb_goes(mode, old_keys, target):
    primary = start("redis", "--repl-diskless-sync", "no")
    reps = []
    try:
        p = cli(primary)
        p.execute_command("DEBUG", "POPULATE", 3000)
        p.rpush("list", *range(50))
        p.zadd("z", {"a": 1, "b": 2})
        want = p.execute_command("DEBUG", "DIGEST")
        files = {}
        for kind in ("keel", "redis"):
            rep = start(kind, "--repl-diskless-load", mode)
            reps.append(rep)
            r = cli(rep)
            for i in range(old_keys):
                r.set("old:%d" % i, i)
            assert r.config_get("repl-diskless-load") == {"repl-diskless-load": mode}
            r.replicaof("127.0.0.1", primary.port)
            wait_for(lambda: r.info("replication")["master_link_status"] == "up", 30, kind)
            assert r.execute_command("DEBUG", "DIGEST") == want, kind
            assert r.get("old:0") is None
            assert log_has(rep, "MASTER <-> REPLICA sync: receiving"), kind
            assert log_has(rep, target), (kind, rep.log_text()[-2000:])
            files[kind] = os.path.exists(os.path.join(rep.workdir, "dump.rdb"))
        assert files["keel"] == files["redis"] == (target == "to disk")
    finally:
        for rep in reps:
            stop(rep)
        stop(primary)


FULLRESYNC = b"+FULLRESYNC " + b"a" * 40 + b" 0\r\n"


@pytest.mark.parametrize("stale", ["yes", "no"])
def test_stalled_transfer_serves_old_data(stale):
    """disabled (the RDB to a file): during a transfer that stalls, the old
    data is served (or -MASTERDOWN), and kept once the transfer times out.
    (With swapdb redis-server reads the socket inside its loader and
    answers nobody until it fails; Keel's swapdb is checked below.)"""
    rdb = redis_rdb()
    half = FULLRESYNC + b"$%d\r\n" % len(rdb) + rdb[:len(rdb) // 2]
    fake = FakePrimary(half, b"")
    reps = []
    try:
        seen = {}
        for kind in ("keel", "redis"):
            rep = start(kind, "--repl-diskless-load", "disabled", "--repl-timeout", "3",
                        "--replica-serve-stale-data", stale)
            reps.append(rep)
            r = cli(rep)
            r.set("old", "data")
            r.replicaof("127.0.0.1", fake.port)
            wait_for(lambda: r.info("replication")["master_sync_in_progress"] == 1, 10,
                     kind + " transfer")
            during = raw(rep.port, "GET", "old")
            wait_for(lambda: log_has(rep, "Timeout receiving bulk data from MASTER"), 20,
                     kind + " transfer timeout")
            r.replicaof("no", "one")
            seen[kind] = (during, r.get("old"))
        assert seen["keel"] == seen["redis"], seen
        want_during = b"$4\r\ndata\r\n" if stale == "yes" else \
            b"-MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.\r\n"
        assert seen["keel"] == (want_during, b"data")
    finally:
        for rep in reps:
            stop(rep)
        fake.close()


@pytest.mark.parametrize("stale", ["yes", "no"])
def test_swapdb_stalled_transfer_keel(stale):
    """Keel's swapdb loads the payload as it comes (a sync of another
    history: not an async load), serving clients while it waits for the
    primary: -LOADING (replica-serve-stale-data yes; -MASTERDOWN first with
    no, Redis's order) where redis-server, blocked in its read, answers
    nobody; the old data is kept when the transfer times out."""
    rdb = redis_rdb()
    fake = FakePrimary(FULLRESYNC + b"$%d\r\n" % len(rdb) + rdb[:len(rdb) // 2], b"")
    rep = start("keel", "--repl-diskless-load", "swapdb", "--repl-timeout", "3",
                "--replica-serve-stale-data", stale)
    try:
        r = cli(rep)
        r.set("old", "data")
        r.replicaof("127.0.0.1", fake.port)
        wait_for(lambda: r.info("replication")["master_sync_in_progress"] == 1, 10, "transfer")
        during = raw(rep.port, "GET", "old")
        assert during == (b"-LOADING Redis is loading the dataset in memory\r\n"
                          if stale == "yes" else
                          b"-MASTERDOWN Link with MASTER is down and replica-serve-stale-data "
                          b"is set to 'no'.\r\n")
        wait_for(lambda: log_has(rep, "Timeout receiving bulk data from MASTER"), 20, "timeout")
        # the replica retries at once and the fake primary would stall it
        # again: it goes away, the load under way fails (-LOADING until
        # then), and REPLICAOF NO ONE is served
        fake.close()
        wait_for(lambda: no_one(r), 30, "REPLICAOF NO ONE once no load runs")
        assert r.get("old") == b"data" and r.dbsize() == 1
        assert not os.path.exists(os.path.join(rep.workdir, "dump.rdb"))
    finally:
        stop(rep)
        fake.close()


@pytest.mark.parametrize("mode", ["disabled", "swapdb"])
def test_aborted_transfer_keeps_old_data(mode):
    """The primary closes the link halfway through the payload: the old
    data stays (disabled: the file was not complete; swapdb: the load
    failed on the socket's end), on both servers."""
    rdb = redis_rdb()
    fake = FakePrimary(FULLRESYNC + b"$%d\r\n" % len(rdb) + rdb[:len(rdb) // 2], b"",
                       close_after_psync=True)
    reps = []
    try:
        seen = {}
        for kind in ("keel", "redis"):
            rep = start(kind, "--repl-diskless-load", mode)
            reps.append(rep)
            r = cli(rep)
            r.set("old", "data")
            r.replicaof("127.0.0.1", fake.port)
            n = len(fake.received())
            wait_for(lambda: len(fake.received()) >= n + 2, 20, kind + " two attempts")
            r.replicaof("no", "one")
            seen[kind] = (r.get("old"), r.dbsize())
        assert seen["keel"] == seen["redis"] == (b"data", 1), seen
    finally:
        for rep in reps:
            stop(rep)
        fake.close()


@pytest.mark.parametrize("mode,kept", [("disabled", False), ("swapdb", True)])
def test_corrupt_payload_keel(mode, kept):
    """A complete payload whose CRC64 is wrong. (redis-server exits on a
    corrupt RDB; Keel refuses it and stays up.) disabled has flushed before
    loading: empty; swapdb puts the old data back."""
    rdb = bytearray(redis_rdb())
    rdb[len(rdb) // 2] ^= 0xFF
    fake = FakePrimary(FULLRESYNC + b"$%d\r\n" % len(rdb) + bytes(rdb), b"")
    rep = start("keel", "--repl-diskless-load", mode)
    try:
        r = cli(rep)
        r.set("old", "data")
        r.replicaof("127.0.0.1", fake.port)
        wait_for(lambda: log_has(rep, "Failed trying to load the MASTER synchronization DB"),
                 20, "the load to fail")
        r.replicaof("no", "one")
        assert (r.get("old"), r.dbsize()) == ((b"data", 1) if kept else (None, 0))
        assert r.ping()
    finally:
        stop(rep)
        fake.close()
