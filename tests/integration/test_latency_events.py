"""LATENCY events Keel samples where it has Redis 7.0's operation:
command-unblocking (serving a command woken by a push), aof-fstat (the size
of an AOF file, at load and after a rewrite) and while-blocked-cron (the
cron's share while a busy script holds the loop). The first two are forced
with latency-monitor-threshold 1 and a slow path, against Keel and
redis-server alike: a blocked BLMPOP woken for 300,000 elements; stat() of
the AOF files slowed by a preloaded shim. (while-blocked-cron does too
little to be slowed from outside: not forced here.)"""
import os
import shutil
import subprocess
import tempfile
import time

import pytest

import harness
from harness import RawConn, ServerProcess, encode, parse_one

SHIM = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
/* stat() of an AOF file takes 20 ms more (stat64 too: large-file builds). */
static void slow(const char *path)
{
    struct timespec ts = {0, 20000000};
    if (strstr(path, ".aof")) nanosleep(&ts, NULL);
}
int stat(const char *path, struct stat *st)
{
    static int (*real)(const char *, struct stat *);
    if (!real) real = (int (*)(const char *, struct stat *))dlsym(RTLD_NEXT, "stat");
    slow(path);
    return real(path, st);
}
int stat64(const char *path, struct stat64 *st)
{
    static int (*real)(const char *, struct stat64 *);
    if (!real) real = (int (*)(const char *, struct stat64 *))dlsym(RTLD_NEXT, "stat64");
    slow(path);
    return real(path, st);
}
"""


def latest(c):
    """LATENCY LATEST as a list of [event, time, latest, max]."""
    return parse_one(c.call("LATENCY", "LATEST"))[0]


def names(c):
    return sorted(e[0].decode() if isinstance(e[0], bytes) else e[0] for e in latest(c))


@pytest.mark.parametrize("kind", ["keel", "redis"])
def test_command_unblocking(keel, oracle, kind):
    srv = keel if kind == "keel" else oracle
    with RawConn(srv.port) as a, RawConn(srv.port, timeout=30) as b:
        a.call("DEL", "lat:l")
        assert a.call("CONFIG", "SET", "latency-monitor-threshold", "1") == b"+OK\r\n"
        assert a.call("LATENCY", "RESET") is not None
        try:
            b.send(encode(["BLMPOP", "0", "1", "lat:l", "LEFT", "COUNT", "300000"]))
            time.sleep(0.3)
            a.send(encode(["RPUSH", "lat:l"] + ["v%d" % i for i in range(300000)]))
            assert a.read_replies(1, timeout=30)[0] == b":300000\r\n"
            rep = b.read_replies(1, timeout=30)[0]
            assert rep.startswith(b"*2\r\n$5\r\nlat:l\r\n*300000\r\n")
            assert "command-unblocking" in names(a)
        finally:
            a.call("CONFIG", "SET", "latency-monitor-threshold", "0")
            a.call("LATENCY", "RESET")
            a.call("DEL", "lat:l")


@pytest.fixture(scope="module")
def shim():
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        pytest.skip("no C compiler for the stat() shim")
    d = tempfile.mkdtemp(prefix="keel-shim-")
    src = os.path.join(d, "slowstat.c")
    lib = os.path.join(d, "slowstat.so")
    with open(src, "w") as f:
        f.write(SHIM)
    subprocess.check_call([cc, "-shared", "-fPIC", "-O1", "-o", lib, src, "-ldl"])
    yield lib
    shutil.rmtree(d, ignore_errors=True)


@pytest.mark.parametrize("kind", ["keel", "redis"])
def test_aof_fstat(shim, kind):
    base = harness.keel_argv if kind == "keel" else harness.oracle_argv

    def argv(port):
        a = base(port)
        # appendonly yes (the oracle's argv says no: the last one wins)
        return a + ["--appendonly", "yes", "--latency-monitor-threshold", "1"]

    # (ASan wants its runtime first; the shim only wraps stat)
    env = {"LD_PRELOAD": shim,
           "ASAN_OPTIONS": harness.DEFAULT_SAN_ENV["ASAN_OPTIONS"] + ":verify_asan_link_order=0"}
    srv = ServerProcess("latency-aof-" + kind, argv, env=env)
    srv.start()
    try:
        with RawConn(srv.port) as c:
            c.call("SET", "k", "v")
            assert c.call("BGREWRITEAOF").startswith(b"+")
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                if "aof-fstat" in names(c):
                    break
                time.sleep(0.1)
            assert "aof-fstat" in names(c)
            ev = [e for e in latest(c) if e[0] == b"aof-fstat"][0]
            assert ev[3] >= 20
    finally:
        srv.stop()
        srv.cleanup()
