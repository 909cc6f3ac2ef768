"""Replication stream delivery (core/repl/repl_primary.c): online replicas
read the stream from the backlog once a loop iteration, take their unsent
bytes early when the ring would overwrite them, and get a command larger
than the ring directly. A Keel primary with the smallest backlog (16 KB)
and a redis-server replica and a Keel replica: pipelined writes of many
small commands, of commands bigger than the ring, a backlog resized while
they stream, and MULTI/EXEC; both replicas must end with the primary's
DEBUG DIGEST. Also a disk ($<len>) full sync of a dataset of several MB,
which the primary sends without waiting for its cron between chunks.

Each test starts its own servers on free ports and stops them by PID.
"""

import os
import signal
import time

import pytest

import harness
from harness import RawConn, ServerProcess

redis = pytest.importorskip("redis")


def keel(*extra, name="keel-primary"):
    return ServerProcess(name, lambda p: harness.keel_argv(p) + [str(a) for a in extra]).start()


def redis_server(*extra, name="redis-replica"):
    return ServerProcess(name, lambda p: harness.oracle_argv(p) +
                         ["--enable-debug-command", "yes"] + [str(a) for a in extra]).start()


@pytest.fixture
def servers():
    started = []
    yield started
    problems = []
    for s in reversed(started):
        if s.proc is not None and s.proc.poll() is None:
            try:
                os.kill(s.proc.pid, signal.SIGCONT)
            except OSError:
                pass
        p = s.stop()
        if p and "keel" in s.name:
            problems.append(p)
        s.cleanup()
    assert not problems, "\n".join(problems)


def client(srv):
    return redis.Redis(host="127.0.0.1", port=srv.port, socket_timeout=30)


def info(srv, section="replication"):
    with RawConn(srv.port, timeout=10) as rc:
        rep = rc.call("INFO", section)
    out = {}
    for line in rep.split(b"\r\n", 1)[1].decode().split("\r\n"):
        if ":" in line and not line.startswith("#"):
            k, v = line.split(":", 1)
            out[k] = v
    return out


def wait_for(pred, timeout=60.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def synced(primary, replica):
    try:
        ri = info(replica)
    except OSError:
        return False
    return (ri.get("master_link_status") == "up" and
            int(ri["slave_repl_offset"]) == int(info(primary)["master_repl_offset"]))


def assert_same(primary, *replicas):
    for r in replicas:
        wait_for(lambda: synced(primary, r), what="replica %s to catch up" % r.name)
    want = client(primary).execute_command("DEBUG", "DIGEST")
    for r in replicas:
        assert client(r).execute_command("DEBUG", "DIGEST") == want, r.name


def attach(primary):
    rr = redis_server("--replicaof", "127.0.0.1", primary.port)
    kr = keel("--replicaof", "127.0.0.1", primary.port, name="keel-replica")
    return rr, kr


def test_stream_through_a_small_backlog(servers):
    primary = keel("--repl-diskless-sync-delay", 0, "--repl-backlog-size", "16kb")
    servers.append(primary)
    p = client(primary)
    p.set("seed", 1)
    rr, kr = attach(primary)
    servers += [rr, kr]
    assert_same(primary, rr, kr)
    sync_full = int(info(primary, "stats")["sync_full"])
    # many small commands per loop iteration: far more than 16 KB between
    # two iterations, so the ring drains the replicas early
    pipe = p.pipeline(transaction=False)
    for i in range(20000):
        pipe.set("k:%d" % (i % 3000), "v%d" % i)
        pipe.incr("ctr")
        if i % 500 == 499:
            pipe.execute()
    pipe.execute()
    assert_same(primary, rr, kr)
    # commands bigger than the ring, between small ones
    pipe = p.pipeline(transaction=False)
    for i in range(20):
        pipe.set("big:%d" % i, os.urandom(40000).hex())
        pipe.rpush("list", *("e%d" % j for j in range(200)))
    pipe.execute()
    assert_same(primary, rr, kr)
    # a transaction of big and small writes, then a resize while writing
    tx = p.pipeline(transaction=True)
    tx.set("tx:big", "x" * 100000)
    tx.incr("ctr")
    tx.hset("h", mapping={"f%d" % j: "v" * 50 for j in range(500)})
    tx.execute()
    for size in ("1mb", "16kb", "64kb"):
        p.config_set("repl-backlog-size", size)
        pipe = p.pipeline(transaction=False)
        for i in range(3000):
            pipe.set("r:%d" % i, "%s-%d" % (size, i))
        pipe.execute()
    assert_same(primary, rr, kr)
    # everything went as a stream: no replica needed a new full sync
    assert int(info(primary, "stats")["sync_full"]) == sync_full
    assert info(primary)["connected_slaves"] == "2"


def test_disk_sync_of_several_megabytes(servers):
    primary = keel("--repl-diskless-sync", "no")
    servers.append(primary)
    p = client(primary)
    pipe = p.pipeline(transaction=False)
    for i in range(60000):
        pipe.set("key:%d" % i, "%016d" % i)
        if i % 5000 == 4999:
            pipe.execute()
    pipe.execute()
    p.set("blob", os.urandom(3 << 20))
    rr, kr = attach(primary)
    servers += [rr, kr]
    # written while the RDB is produced and sent: held, then streamed
    for i in range(2000):
        p.incr("during")
    assert_same(primary, rr, kr)
    assert client(kr).dbsize() == p.dbsize()
    log = primary.log_text()
    assert b"Starting BGSAVE for SYNC with target: disk" in log
    assert b"Synchronization with replica" in log

