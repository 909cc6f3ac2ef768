"""Replication: a diskless load reads the payload as it arrives (issue 21).

A Keel replica with repl-diskless-load on-empty-db or swapdb loads the RDB
straight from the socket (core/persist/rdb_stream.c), as Redis 7.0's
rdbLoadRio over the connection: its memory holds the old data and the new,
never the whole payload besides.
- peak memory: a replica starting empty (on-empty-db) synced from
  redis-server (diskless sync: the $EOF:<mark> form) and from Keel (disk
  sync: the $<len> form) with a payload of ~160 MB of incompressible
  values; VmHWM from /proc/<pid>/status stays well under the final
  dataset plus the payload (the old code held the payload whole, then
  loaded it), and the data equals the primary's (DEBUG DIGEST); then a
  swapdb replica holding 40 MB of old data peaks under old + new + half
  the payload;
- the primary killed mid-transfer (the replica slowed by key-load-delay,
  so the transfer is under way while it loads): swapdb keeps the old data,
  on-empty-db is left empty (redis-server's emptyData after a failed
  diskless load); the replica then reconnects and syncs once a primary is
  back on that port.
"""

import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest
import redis

import harness
from harness import ServerProcess
from repl_helpers import cli, stop, wait_for
from test_repl_sync_fallback import keel_argv, redis_argv

MB = 1024 * 1024
BIG_VALUES = 160          # 1 MB each, incompressible
SMALL_KEYS = 20000
OLD_VALUES = 40            # a swapdb replica's old data, 1 MB each

# ASan keeps freed blocks in a quarantine (256 MB by default): the source's
# windows, freed as it goes, would stay resident and hide what is measured.
LOW_QUARANTINE = {"ASAN_OPTIONS": harness.DEFAULT_SAN_ENV["ASAN_OPTIONS"] +
                  ":quarantine_size_mb=8:thread_local_quarantine_size_kb=256"}


def start(kind, *extra, env=None):
    fn = keel_argv(*extra) if kind == "keel" else redis_argv(*extra)
    return ServerProcess(kind, fn, env=env).start()


def status_kb(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(field + " not in /proc status")


def fill(r, big, small):
    pipe = r.pipeline(transaction=False)
    for i in range(big):
        pipe.set("big:%d" % i, os.urandom(MB))
        if i % 16 == 15:
            pipe.execute()
    pipe.execute()
    for i in range(small):
        pipe.set("k:%d" % i, "v%d" % i)
        if i % 1000 == 999:
            pipe.execute()
    pipe.execute()


def synced(r, n):
    info = r.info("replication")
    return info.get("master_link_status") == "up" and r.dbsize() == n


@pytest.mark.parametrize("primary_kind,diskless_sync,form", [
    ("redis", "yes", "$EOF:"),
    ("keel", "no", "$<len>"),
])
def test_peak_memory_is_not_the_whole_payload(primary_kind, diskless_sync, form):
    prim = start(primary_kind, "--repl-diskless-sync", diskless_sync,
                 "--repl-diskless-sync-delay", "0")
    rep = None
    try:
        p = cli(prim)
        fill(p, BIG_VALUES, SMALL_KEYS)
        n = BIG_VALUES + SMALL_KEYS
        payload = BIG_VALUES * MB
        rep = start("keel", "--repl-diskless-load", "on-empty-db", "--repl-timeout", "60",
                    env=LOW_QUARANTINE)
        r = cli(rep)
        pid = rep.proc.pid
        base = status_kb(pid, "VmRSS") * 1024
        r.replicaof("127.0.0.1", prim.port)
        wait_for(lambda: synced(r, n), 240, "the sync")
        assert b"receiving streamed RDB" in rep.log_text() if form == "$EOF:" else \
            b"bytes from master to parser" in rep.log_text()
        assert not os.path.exists(os.path.join(rep.workdir, "dump.rdb"))
        assert r.execute_command("DEBUG", "DIGEST") == p.execute_command("DEBUG", "DIGEST")
        hwm = status_kb(pid, "VmHWM") * 1024
        after = status_kb(pid, "VmRSS") * 1024
        data = after - base
        # the old code peaked at data + payload (the payload held whole,
        # then loaded); streaming peaks at data + a window
        print("%s primary, %s form: payload %d MB, baseline %d MB, after %d MB, peak %d MB"
              % (primary_kind, form, payload // MB, base // MB, after // MB, hwm // MB))
        assert hwm - base < data + payload // 2, (hwm, base, after, payload)
        assert hwm - base < 1.5 * data, (hwm, base, after, payload)
        stop(rep)
        # swapdb beside old data: the peak is old + new + a window
        rep = start("keel", "--repl-diskless-load", "swapdb", "--repl-timeout", "60",
                    env=LOW_QUARANTINE)
        r = cli(rep)
        pid = rep.proc.pid
        base = status_kb(pid, "VmRSS") * 1024
        pipe = r.pipeline(transaction=False)
        for i in range(OLD_VALUES):
            pipe.set("old:%d" % i, os.urandom(MB))
        pipe.execute()
        old = status_kb(pid, "VmRSS") * 1024 - base
        r.replicaof("127.0.0.1", prim.port)
        wait_for(lambda: synced(r, n), 240, "the swapdb sync")
        assert r.execute_command("DEBUG", "DIGEST") == p.execute_command("DEBUG", "DIGEST")
        hwm = status_kb(pid, "VmHWM") * 1024
        print("  swapdb beside %d MB of old data: peak %d MB over the baseline "
              "(old %d MB + new %d MB)" % (OLD_VALUES, (hwm - base) // MB, old // MB, data // MB))
        assert hwm - base < old + data + payload // 2, (hwm, base, old, data, payload)
    finally:
        if rep:
            stop(rep)
        stop(prim)


@pytest.mark.parametrize("mode,kept", [("swapdb", 1), ("on-empty-db", 0)])
def test_primary_killed_mid_transfer(mode, kept):
    prim = start("redis", "--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0")
    # 20 ms a key of 100 KB: 30 MB (more than the sockets buffer) take 6 s
    # to load, the primary writes as the replica reads
    rep = start("keel", "--repl-diskless-load", mode, "--key-load-delay", "20000",
                "--repl-timeout", "10")
    port = prim.port
    try:
        p = cli(prim)
        pipe = p.pipeline(transaction=False)
        for i in range(300):
            pipe.set("key:%d" % i, os.urandom(100 * 1024))
        pipe.execute()
        r = cli(rep)
        if kept:
            r.set("old", "data")
        r.replicaof("127.0.0.1", port)
        wait_for(lambda: b"Loading DB in memory" in rep.log_text(), 30, "the load")
        time.sleep(1)
        assert r.info("replication")["master_sync_in_progress"] == 1
        os.kill(prim.proc.pid, signal.SIGKILL)
        prim.proc.wait()
        prim.proc = None
        wait_for(lambda: b"Failed trying to load the MASTER synchronization DB from socket"
                 in rep.log_text(), 60, "the failed load")
        assert r.dbsize() == kept
        if kept:
            assert r.get("old") == b"data"
        info = r.info("replication")
        assert info["master_link_status"] == "down"
        # a primary back on the port: the replica retries and syncs
        r.config_set("key-load-delay", "0")
        workdir = tempfile.mkdtemp(prefix="keel-it-streamload-")
        prim2 = subprocess.Popen(redis_argv("--repl-diskless-sync", "yes",
                                            "--repl-diskless-sync-delay", "0")(port),
                                 cwd=workdir, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 10
            while not harness.ping_ok(port, 0.5) and time.monotonic() < deadline:
                time.sleep(0.1)
            if prim2.poll() is not None:
                pytest.skip("port %d was taken meanwhile" % port)
            p2 = redis.Redis(host="127.0.0.1", port=port, socket_timeout=30)
            p2.set("fresh", "1")
            wait_for(lambda: synced(r, 1) and r.get("fresh") == b"1", 60, "the retry")
        finally:
            prim2.terminate()
            prim2.wait(10)
            shutil.rmtree(workdir, ignore_errors=True)
    finally:
        stop(rep)
        if prim.proc:
            stop(prim)
        else:
            prim.cleanup()
