"""Loading: clients are served while the dataset loads, as Redis 7.0 does.

Real processes on free ports, Keel beside Debian's redis-server 7.0: a
dataset big enough (DEBUG POPULATE, key-load-delay) that the load lasts,
then a client polls PING, GET, DBSIZE, CONFIG GET and INFO persistence
while it runs. Checked, the same on both: commands without the LOADING flag
answer "-LOADING Redis is loading the dataset in memory" byte for byte,
LOADING commands (INFO, CONFIG GET) are answered, INFO shows loading:1 and
the loading_* fields with a growing loaded_bytes, and at the end the
dataset is whole. Three loads: the RDB at start-up, the AOF at start-up,
and a replica's full sync (redis-server primary, the replica loading the
transferred RDB).
"""

import subprocess
import time

import redis

import harness
from harness import RawConn, ServerProcess

LOADING = b"-LOADING Redis is loading the dataset in memory\r\n"
KEYS = 60000


# Uncompressed values: the image is big enough (12 MB) that redis-server,
# which serves events every 2 MB loaded, answers several times during it.
PLAIN = ["--rdbcompression", "no"]


def keel_argv(*extra):
    def argv(port):
        return harness.keel_argv(port) + PLAIN + list(extra)
    return argv


def redis_argv(*extra):
    def argv(port):
        return [harness.oracle_bin(), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--enable-debug-command", "yes"] + PLAIN + list(extra)
    return argv


def stop(srv):
    problem = srv.stop()
    srv.cleanup()
    assert problem is None, problem


def spawn(srv, argv):
    """Start srv's process on its port without waiting for PONG (the load
    would make start() wait)."""
    srv.proc = subprocess.Popen(argv, cwd=srv.workdir, stdin=subprocess.DEVNULL,
                                stdout=open(srv.stdout_path, "ab"),
                                stderr=open(srv.stderr_path, "ab"))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            RawConn(srv.port, timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.02)
    raise AssertionError("%s did not open its port" % srv.name)


def info_fields(text):
    out = {}
    for line in text.split(b"\r\n"):
        if b":" in line and not line.startswith(b"#"):
            k, v = line.split(b":", 1)
            out[k.decode()] = v.decode()
    return out


def poll_while_loading(port, timeout=120.0):
    """Poll until the server says loading:0. Returns (replies seen while
    loading, INFO field dicts seen while loading)."""
    seen = {"PING": set(), "GET": set(), "DBSIZE": set(), "CONFIG": set()}
    infos = []
    deadline = time.monotonic() + timeout
    with RawConn(port, timeout=30) as c:
        while time.monotonic() < deadline:
            c.send(harness.encode_many([["INFO", "persistence"], ["PING"], ["GET", "key:1"],
                                        ["DBSIZE"], ["CONFIG", "GET", "maxmemory"]]))
            info, ping, get, dbsize, cfg = c.read_replies(5)
            fields = info_fields(info)
            assert "loading" in fields, info
            if fields["loading"] != "1":
                return seen, infos
            infos.append(fields)
            seen["PING"].add(ping)
            seen["GET"].add(get)
            seen["DBSIZE"].add(dbsize)
            seen["CONFIG"].add(cfg)
            time.sleep(0.02)
    raise AssertionError("still loading after %.0fs" % timeout)


def check_loading(name, seen, infos):
    assert infos, "%s: no poll happened while loading" % name
    # commands without the LOADING flag are refused, whatever the key
    assert seen["PING"] == {LOADING}, (name, seen["PING"])
    assert seen["GET"] == {LOADING}, (name, seen["GET"])
    assert seen["DBSIZE"] == {LOADING}, (name, seen["DBSIZE"])
    # CONFIG GET is flagged LOADING: answered
    assert seen["CONFIG"] == {b"*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n"}, (name, seen["CONFIG"])
    for f in infos:
        for k in ("loading_start_time", "loading_total_bytes", "loading_rdb_used_mem",
                  "loading_loaded_bytes", "loading_loaded_perc", "loading_eta_seconds"):
            assert k in f, (name, k, f)
        assert int(f["loading_total_bytes"]) > 0, (name, f)
        assert 0 <= int(f["loading_loaded_bytes"]) <= int(f["loading_total_bytes"]), (name, f)
        assert f["async_loading"] == "0"
    loaded = [int(f["loading_loaded_bytes"]) for f in infos]
    assert loaded == sorted(loaded), (name, loaded)


def startup_load(kind, argv_fn, extra_load):
    """Fill a server, persist, restart it slowed down; poll during the load."""
    srv = ServerProcess(kind, argv_fn)
    srv.start()
    try:
        c = redis.Redis(host="127.0.0.1", port=srv.port, socket_timeout=60)
        c.execute_command("DEBUG", "POPULATE", KEYS, "key", 200)
        c.set("key:1", "one")
        persist = extra_load.get("persist")
        if persist == "save":
            c.save()
        else:
            c.bgrewriteaof()
            deadline = time.monotonic() + 60
            while c.info("persistence")["aof_rewrite_in_progress"] or \
                    c.info("persistence")["aof_rewrite_scheduled"]:
                assert time.monotonic() < deadline
                time.sleep(0.05)
            c.set("tail", "after-the-rewrite")  # an incr file command too
        digest = c.execute_command("DEBUG", "DIGEST")
        c.close()
        assert srv.stop() is None
        spawn(srv, argv_fn(srv.port) + extra_load["args"])
        seen, infos = poll_while_loading(srv.port)
        c = redis.Redis(host="127.0.0.1", port=srv.port, socket_timeout=60)
        assert c.ping()
        assert c.get("key:1") == b"one"
        assert c.dbsize() == KEYS + (0 if persist == "save" else 1)
        assert c.execute_command("DEBUG", "DIGEST") == digest
        c.close()
        return seen, infos
    finally:
        stop(srv)


def test_rdb_startup_load_serves_loading():
    slow = {"persist": "save", "args": ["--key-load-delay", "40"]}
    k = startup_load("keel", keel_argv(), slow)
    r = startup_load("redis", redis_argv(), slow)
    check_loading("keel", *k)
    check_loading("redis", *r)
    assert k[0] == r[0]
    assert {x for x in k[1][0] if "loading" in x} == {x for x in r[1][0] if "loading" in x}


def test_aof_startup_load_serves_loading():
    aof = ["--appendonly", "yes", "--aof-use-rdb-preamble", "yes"]
    slow = {"persist": "aof", "args": aof + ["--key-load-delay", "40"]}
    k = startup_load("keel", keel_argv(*aof), slow)
    r = startup_load("redis", redis_argv(*aof), slow)
    check_loading("keel", *k)
    check_loading("redis", *r)
    assert k[0] == r[0]


def test_replica_full_sync_load_serves_loading():
    """A redis-server primary with a dataset; a replica (Keel, then
    redis-server) slowed by key-load-delay loads the transferred RDB while
    a client polls it."""
    primary = ServerProcess("primary", redis_argv()).start()
    try:
        p = redis.Redis(host="127.0.0.1", port=primary.port, socket_timeout=60)
        p.execute_command("DEBUG", "POPULATE", KEYS, "key", 200)
        p.set("key:1", "one")
        digest = p.execute_command("DEBUG", "DIGEST")
        results = {}
        for kind, fn in (("keel", keel_argv("--key-load-delay", "40")),
                         ("redis", redis_argv("--key-load-delay", "40"))):
            rep = ServerProcess(kind, fn).start()
            try:
                c = redis.Redis(host="127.0.0.1", port=rep.port, socket_timeout=60)
                c.replicaof("127.0.0.1", primary.port)
                # wait for the load to begin
                deadline = time.monotonic() + 60
                while c.info("persistence")["loading"] != 1:
                    assert time.monotonic() < deadline, "the sync's load never began"
                    time.sleep(0.01)
                results[kind] = poll_while_loading(rep.port)
                deadline = time.monotonic() + 60
                while c.info("replication")["master_link_status"] != "up":
                    assert time.monotonic() < deadline
                    time.sleep(0.05)
                assert c.execute_command("DEBUG", "DIGEST") == digest
                assert c.get("key:1") == b"one"
                c.close()
            finally:
                stop(rep)
        check_loading("keel", *results["keel"])
        check_loading("redis", *results["redis"])
        assert results["keel"][0] == results["redis"][0]
    finally:
        stop(primary)
