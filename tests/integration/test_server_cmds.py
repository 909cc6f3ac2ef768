"""The server group against redis-server 7.0: DBSIZE, FLUSHDB, FLUSHALL,
SWAPDB, TIME, SHUTDOWN and INFO.

Differential (raw reply bytes) where the reply is deterministic. INFO is
compared structurally with the oracle's (the same section headers in the same
order for every selector, only field names Redis has, in Redis's order, CRLF
layout, bulk in RESP2 and verbatim "txt" in RESP3) and its figures are
checked against what the test did (deltas of counters, keyspace lines).
SHUTDOWN runs against servers of its own.
"""

import os
import re
import signal
import time

import pytest

import harness
from harness import Parsed, RawConn, ServerProcess, cmds, encode, parse_one



# ---------------------------------------------------------------------------
# Differential cases

CASES = {
    "dbsize": ["DBSIZE", "MSET a 1 b 2 c 3", "DBSIZE", "DEL a", "DBSIZE", "DBSIZE x",
               "SELECT 1", "DBSIZE", "SET z 1", "DBSIZE", "SELECT 0", "DBSIZE"],
    "dbsize_counts_expiring": ["SET a 1 EX 100", "SET b 2", "DBSIZE", "PERSIST a", "DBSIZE"],
    "flushdb": ["MSET a 1 b 2", "SELECT 1", "SET c 3", "FLUSHDB", "DBSIZE", "SELECT 0",
                "DBSIZE", "FLUSHDB SYNC", "DBSIZE", "SET a 1", "FLUSHDB ASYNC", "DBSIZE",
                "FLUSHDB sync", "FLUSHDB async", "FLUSHDB FOO", "FLUSHDB SYNC ASYNC",
                "FLUSHDB ASYNC ASYNC", "FLUSHDB SYNC SYNC", "FLUSHDB a b", "flushdb"],
    "flushdb_ttls": ["SET a 1 EX 100", "SET b 1 PX 100000", "FLUSHDB", "TTL a", "SET a 1",
                     "TTL a", "DBSIZE"],
    "flushall": ["MSET a 1 b 2", "SELECT 3", "SET c 3", "SELECT 15", "SET d 4", "FLUSHALL",
                 "DBSIZE", "SELECT 0", "DBSIZE", "SELECT 3", "DBSIZE", "SET a 1",
                 "FLUSHALL ASYNC", "DBSIZE", "SET a 1", "FLUSHALL SYNC", "DBSIZE",
                 "FLUSHALL FOO", "FLUSHALL SYNC ASYNC", "FLUSHALL ASYNC ASYNC", "flushall async",
                 "FLUSHALL a b"],
    "swapdb": ["SET k zero", "SELECT 1", "SET k one", "SET only1 x", "SWAPDB 0 1", "GET k",
               "DBSIZE", "SELECT 0", "GET k", "DBSIZE", "SWAPDB 0 0", "GET k",
               "SWAPDB 1 0", "GET k", "SWAPDB 15 0", "DBSIZE", "SELECT 15", "DBSIZE"],
    "swapdb_errors": ["SWAPDB 0 16", "SWAPDB 16 0", "SWAPDB -1 0", "SWAPDB 0 -1", "SWAPDB a 1",
                      "SWAPDB 0 b", "SWAPDB a b", "SWAPDB 0", "SWAPDB", "SWAPDB 0 1 2",
                      "SWAPDB 1.5 0", "SWAPDB 0 1.5", "SWAPDB 99999999999 0",
                      "SWAPDB 0 99999999999", "SWAPDB 99999999999 x", "SWAPDB -2147483649 0",
                      "SWAPDB 2147483647 0", "SWAPDB '' 0", "SWAPDB ' 1' 0", "SWAPDB +1 0",
                      "SWAPDB 01 0"],
    "swapdb_ttl": ["SET k v EX 100", "SET p v", "SWAPDB 0 5", "SELECT 5", "TTL k", "TTL p",
                   "SELECT 0", "EXISTS k", "SWAPDB 5 0", "TTL k"],
    "time_arity": ["TIME x", "time a b"],
    "shutdown_errors": ["SHUTDOWN ABORT", "shutdown abort", "SHUTDOWN NOW ABORT",
                        "SHUTDOWN ABORT NOSAVE", "SHUTDOWN FORCE ABORT", "SHUTDOWN SAVE ABORT",
                        "SHUTDOWN ABORT ABORT", "SHUTDOWN FOO", "SHUTDOWN NOSAVE SAVE",
                        "SHUTDOWN SAVE NOSAVE NOW", "SHUTDOWN NOW FOO", "PING"],
    "info_unknown_section": ["INFO nosuchsection", "INFO nosuch other", "INFO ''"],
}

RESP3_CASES = ["dbsize", "flushdb", "flushall", "swapdb", "swapdb_errors", "shutdown_errors",
               "info_unknown_section"]


@pytest.mark.parametrize("name", sorted(CASES))
def test_diff(diff, name):
    diff(cmds(*CASES[name]))


@pytest.mark.parametrize("name", RESP3_CASES)
def test_diff_resp3(diff, name):
    diff.resp3(cmds(*CASES[name]))


def test_inline(diff):
    diff.inline(["SET a 1", "DBSIZE", "SWAPDB 0 1", "DBSIZE", "FLUSHALL", "DBSIZE",
                 "SHUTDOWN ABORT", "INFO nosuch"])


def _time_shape(v):
    return (type(v), len(v), [type(x) for x in v], [x.isdigit() for x in v])


@pytest.mark.parametrize("resp3", [False, True], ids=["resp2", "resp3"])
def test_time_shape(diff, resp3):
    diff([Parsed(["TIME"], _time_shape)], resp3=resp3)


def test_time_value(keel):
    with RawConn(keel.port) as c:
        before = time.time()
        raw = c.call("TIME")
        after = time.time()
    assert re.fullmatch(rb"\*2\r\n\$\d+\r\n\d+\r\n\$\d+\r\n\d+\r\n", raw), raw
    sec, usec = parse_one(raw)[0]
    t = int(sec) + int(usec) / 1e6
    assert 0 <= int(usec) < 1000000
    assert before - 0.01 <= t <= after + 0.01


def test_flushall_async_large(keel):
    """ASYNC with enough keys to free them in a background thread."""
    with RawConn(keel.port) as c:
        for db in (0, 2):
            c.call("SELECT", str(db))
            args = ["MSET"]
            for i in range(3000):
                args += ["k%d" % i, "v" * (i % 50)]
            assert c.call(*args) == b"+OK\r\n"
            c.call("EXPIRE", "k1", "100")
        assert c.call("FLUSHALL", "ASYNC") == b"+OK\r\n"
        assert c.call("DBSIZE") == b":0\r\n"
        c.call("SELECT", "0")
        assert c.call("DBSIZE") == b":0\r\n"
        assert c.call("SET", "k1", "x") == b"+OK\r\n"
        assert c.call("TTL", "k1") == b":-1\r\n"
        for i in range(200):
            c.call("SET", "a%d" % i, "x")
        assert c.call("FLUSHDB", "ASYNC") == b"+OK\r\n"
        assert c.call("DBSIZE") == b":0\r\n"


# ---------------------------------------------------------------------------
# INFO: layout and structure against the oracle

def _info(port, *sections, resp3=False):
    with RawConn(port) as c:
        if resp3:
            c.call("HELLO", "3")
        return c.call("INFO", *sections)


def _text(raw):
    return bytes(parse_one(raw)[0]).decode()


def _headers(text):
    return [ln[2:] for ln in text.split("\r\n") if ln.startswith("# ")]


def _by_section(text):
    out, cur = {}, None
    for ln in text.split("\r\n"):
        if ln.startswith("# "):
            cur = ln[2:]
            out[cur] = []
        elif ln and cur is not None:
            out[cur].append(ln.split(":", 1)[0])
    return out


def _fields(text):
    d = {}
    for ln in text.split("\r\n"):
        if ln and not ln.startswith("#"):
            k, v = ln.split(":", 1)
            d[k] = v
    return d


SELECTORS = [[], ["default"], ["all"], ["everything"], ["server"], ["SERVER"], ["clients"],
             ["memory"], ["persistence"], ["stats"], ["replication"], ["cpu"], ["modules"],
             ["module_list"], ["commandstats"], ["errorstats"], ["latencystats"], ["cluster"],
             ["keyspace"], ["cpu", "server"], ["keyspace", "keyspace"], ["clients", "nosuch"],
             ["default", "commandstats"], ["all", "server"], ["Stats", "Replication"]]


@pytest.mark.parametrize("sel", SELECTORS, ids=lambda s: "+".join(s) or "none")
def test_info_sections_like_redis(keel, oracle, sel):
    k = _text(_info(keel.port, *sel))
    r = _text(_info(oracle.port, *sel))
    assert _headers(k) == _headers(r)


def _subsequence(small, big):
    it = iter(big)
    return all(x in it for x in small)


def test_info_field_names_are_redis_names(keel, oracle):
    """Every Keel field exists in the same Redis section, in Redis's order
    (commandstats/errorstats/keyspace/latencystats lines are per item)."""
    k = _by_section(_text(_info(keel.port, "everything")))
    r = _by_section(_text(_info(oracle.port, "everything")))
    # Keel's own: keel_mode (local or upstream) in Server
    k["Server"] = [f for f in k["Server"] if f != "keel_mode"]
    for sec in ("Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "CPU",
                "Cluster"):
        missing = [f for f in k[sec] if f not in r[sec]]
        assert not missing, (sec, missing)
        assert _subsequence(k[sec], r[sec]), (sec, k[sec])
    # the fields clients and monitoring tools read most
    must = {"Server": ["redis_version", "redis_mode", "os", "arch_bits", "process_id", "run_id",
                       "tcp_port", "uptime_in_seconds", "uptime_in_days", "hz", "executable"],
            "Clients": ["connected_clients", "maxclients", "blocked_clients"],
            "Memory": ["used_memory", "used_memory_human", "used_memory_rss",
                       "used_memory_peak", "maxmemory", "maxmemory_policy",
                       "mem_fragmentation_ratio"],
            "Persistence": ["loading", "rdb_changes_since_last_save", "rdb_bgsave_in_progress",
                            "rdb_last_save_time", "aof_enabled", "aof_rewrite_in_progress"],
            "Stats": ["total_connections_received", "total_commands_processed",
                      "instantaneous_ops_per_sec", "total_net_input_bytes",
                      "total_net_output_bytes", "rejected_connections", "expired_keys",
                      "evicted_keys", "keyspace_hits", "keyspace_misses", "total_error_replies"],
            "Replication": ["role", "connected_slaves", "master_replid", "master_repl_offset"],
            "CPU": ["used_cpu_sys", "used_cpu_user"],
            "Cluster": ["cluster_enabled"]}
    for sec, names in must.items():
        assert [n for n in names if n not in k[sec]] == [], sec


@pytest.mark.parametrize("sel", [[], ["all"], ["server"], ["keyspace"], ["nosuch"]],
                         ids=lambda s: "+".join(s) or "none")
def test_info_layout(keel, sel):
    with RawConn(keel.port) as c:
        c.call("SET", "layout", "1")
        raw = c.call("INFO", *sel)
    assert raw.startswith(b"$")
    text = parse_one(raw)[0]
    if not text:
        return
    assert b"\n" not in text.replace(b"\r\n", b"")          # CRLF only
    assert text.endswith(b"\r\n") and not text.endswith(b"\r\n\r\n")
    assert text.startswith(b"# ")
    for block in text[:-2].split(b"\r\n\r\n"):                # sections: header, lines
        lines = block.split(b"\r\n")
        assert lines[0].startswith(b"# ")
        for ln in lines[1:]:
            assert re.fullmatch(rb"[A-Za-z0-9_|\-]+:[^\r\n]*", ln), ln


def test_info_resp3_verbatim(keel, oracle):
    for port in (keel.port, oracle.port):
        raw = _info(port, "server", resp3=True)
        assert raw.startswith(b"=")
        v = parse_one(raw)[0]
        assert v.fmt == b"txt" and v.startswith(b"# Server\r\n")


def test_info_server_values(keel):
    t = _fields(_text(_info(keel.port, "server")))
    assert t["redis_version"] == "7.0.15" and t["redis_mode"] == "standalone"
    assert t["process_id"] == str(keel.proc.pid)
    assert t["tcp_port"] == str(keel.port)
    assert re.fullmatch(r"[0-9a-f]{40}", t["run_id"])
    assert t["arch_bits"] in ("32", "64")
    assert int(t["uptime_in_seconds"]) >= 0 and t["uptime_in_days"] == "0"
    assert os.path.basename(t["executable"]) == os.path.basename(harness.keel_bin())
    assert abs(int(t["server_time_usec"]) / 1e6 - time.time()) < 5
    assert t["os"].split()[0] == os.uname().sysname


def test_info_counters(keel):
    def stats():
        return _fields(_text(_info(keel.port, "stats", "persistence", "clients")))

    with RawConn(keel.port) as c:
        c.call("DEL", "ic", "ic-exp")
        c.call("SET", "ic", "1")
        s0 = stats()
        assert c.call("GET", "ic") == b"$1\r\n1\r\n"
        assert c.call("GET", "ic") == b"$1\r\n1\r\n"
        assert c.call("GET", "ic-missing") == b"$-1\r\n"
        c.call("SET", "ic-exp", "v", "PX", "1")
        c.call("SET", "ic", "2")
        time.sleep(0.05)
        assert c.call("GET", "ic-exp") == b"$-1\r\n"            # expires lazily
        s1 = stats()
    assert int(s1["keyspace_hits"]) - int(s0["keyspace_hits"]) == 2
    assert int(s1["keyspace_misses"]) - int(s0["keyspace_misses"]) == 2
    assert int(s1["expired_keys"]) - int(s0["expired_keys"]) >= 1
    # INFO, 2 GET hits, 1 miss, SET, SET, GET (the INFO that reads s1 is not counted yet)
    assert int(s1["total_commands_processed"]) - int(s0["total_commands_processed"]) == 7
    assert int(s1["rdb_changes_since_last_save"]) - int(s0["rdb_changes_since_last_save"]) >= 2
    assert int(s1["total_connections_received"]) - int(s0["total_connections_received"]) == 1
    assert int(s1["total_net_input_bytes"]) > int(s0["total_net_input_bytes"])
    assert int(s1["total_net_output_bytes"]) > int(s0["total_net_output_bytes"])
    assert s1["loading"] == "0" and s1["aof_enabled"] == "0"


def test_info_connected_clients(keel):
    with RawConn(keel.port) as a, RawConn(keel.port) as b:
        b.call("PING")
        n = int(_fields(_text(a.call("INFO", "clients")))["connected_clients"])
        lines = _text(a.call("CLIENT", "LIST")).strip().split("\n")
        assert n == len(lines) >= 2


def test_info_memory_values(keel):
    m = _fields(_text(_info(keel.port, "memory")))
    assert int(m["used_memory"]) > 0 and int(m["used_memory_rss"]) > 0
    assert int(m["used_memory_peak"]) >= int(m["used_memory"])
    assert re.fullmatch(r"\d+(\.\d\d[KMGTP])?B?", m["used_memory_human"]) or \
        re.fullmatch(r"\d+\.\d\d[KMGTP]", m["used_memory_human"])
    assert m["maxmemory"] == "0" and m["maxmemory_human"] == "0B"
    assert m["maxmemory_policy"] == "noeviction"
    float(m["mem_fragmentation_ratio"])


def test_info_cpu_values(keel):
    cpu = _fields(_text(_info(keel.port, "cpu")))
    for k in ("used_cpu_sys", "used_cpu_user", "used_cpu_sys_children",
              "used_cpu_user_children"):
        assert re.fullmatch(r"\d+\.\d{6}", cpu[k]), (k, cpu[k])
    assert float(cpu["used_cpu_sys"]) + float(cpu["used_cpu_user"]) > 0


def test_info_instantaneous_ops(keel):
    with RawConn(keel.port) as c:
        c.call("INFO", "stats")                       # starts the sampler
        for _ in range(10):
            c.send(b"".join(encode(["PING"]) for _ in range(300)))
            c.read_replies(300, timeout=10)
            time.sleep(0.03)
        ops = int(_fields(_text(c.call("INFO", "stats")))["instantaneous_ops_per_sec"])
    assert ops > 0


def test_info_keyspace(keel):
    with RawConn(keel.port) as c:
        c.call("FLUSHALL")
        assert _text(c.call("INFO", "keyspace")) == "# Keyspace\r\n"
        c.call("MSET", "a", "1", "b", "2", "c", "3")
        c.call("EXPIRE", "a", "1000")
        c.call("SELECT", "7")
        c.call("SET", "x", "1", "EX", "50")
        text = _text(c.call("INFO", "keyspace"))
        c.call("FLUSHALL")
    lines = text.split("\r\n")
    assert lines[0] == "# Keyspace"
    assert re.fullmatch(r"db0:keys=3,expires=1,avg_ttl=\d+", lines[1]), lines
    assert re.fullmatch(r"db7:keys=1,expires=1,avg_ttl=\d+", lines[2]), lines
    assert lines[3:] == [""]


def test_info_commandstats(keel):
    with RawConn(keel.port) as c:
        before = _fields(_text(c.call("INFO", "commandstats")))
        for _ in range(3):
            c.call("CLIENT", "ID")
        c.call("SWAPDB", "0", "99")                          # fails in the handler
        c.call("SWAPDB", "x", "0")                           # fails in the matcher
        after = _fields(_text(c.call("INFO", "commandstats")))

    def stat(d, name):
        if "cmdstat_" + name not in d:
            return {"calls": 0, "usec": 0, "rejected_calls": 0, "failed_calls": 0}
        return {k: float(v) for k, v in
                (kv.split("=") for kv in d["cmdstat_" + name].split(","))}

    assert stat(after, "client|id")["calls"] - stat(before, "client|id")["calls"] == 3
    assert stat(after, "swapdb")["failed_calls"] - stat(before, "swapdb")["failed_calls"] == 2
    line = after["cmdstat_client|id"]
    assert re.fullmatch(r"calls=\d+,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=\d+,"
                        r"failed_calls=\d+", line), line
    if "cmdstat_client" in after:               # containers have no calls of their own
        assert stat(after, "client")["calls"] == 0


def test_info_commandstats_rejected(keel, oracle):
    for port in (keel.port, oracle.port):
        with RawConn(port) as c:
            b = _fields(_text(c.call("INFO", "commandstats"))).get("cmdstat_dbsize", "")
            c.call("DBSIZE", "extra")
            a = _fields(_text(c.call("INFO", "commandstats")))["cmdstat_dbsize"]
        rej = lambda s: int(re.search(r"rejected_calls=(\d+)", s).group(1)) if s else 0
        assert rej(a) - rej(b) == 1, port


def test_info_errorstats(keel):
    with RawConn(keel.port) as c:
        c.call("SET", "es", "x")
        c.call("INCR", "es")                    # ERR value is not an integer
        c.call("SWAPDB", "0", "99")             # ERR DB index is out of range
        c.call("HELLO", "9")                    # NOPROTO
        c.call("AUTH", "nouser", "x")           # WRONGPASS
        d = _fields(_text(c.call("INFO", "errorstats")))
        c.call("DEL", "es")
    names = list(d)
    assert names == sorted(names)
    for code in ("ERR", "NOPROTO", "WRONGPASS"):
        assert int(d["errorstat_" + code].split("=")[1]) >= 1, d


def test_info_redis_py(r):
    info = r.info()
    assert info["redis_version"] == "7.0.15"
    assert info["loading"] == 0 and info["role"] == "master"
    assert isinstance(info["connected_clients"], int) and info["connected_clients"] >= 1
    assert isinstance(info["used_memory"], int)
    r.set("rp", "1", ex=100)
    ks = r.info("keyspace")
    assert ks["db0"]["keys"] >= 1 and ks["db0"]["expires"] >= 1
    full = r.info("everything")
    assert "cmdstat_info" in full or "cmdstat_set" in full
    assert full["cluster_enabled"] == 0
    assert r.info("commandstats")["cmdstat_set"]["calls"] >= 1
    r.delete("rp")


def test_info_ioredis_ready_check_parse(keel):
    """ioredis's _readyCheck: split on CRLF, name:value, ready if loading is 0."""
    text = _text(_info(keel.port))
    info = {}
    for line in text.split("\r\n"):
        name, _, value = line.partition(":")
        if value:
            info[name] = value
    assert info.get("loading") == "0"
    assert "redis_version" in info and "role" in info


# ---------------------------------------------------------------------------
# SHUTDOWN against servers of its own

def _own_keel():
    srv = ServerProcess("keel-shutdown", harness.keel_argv)
    srv.start()
    return srv


@pytest.mark.parametrize("args", [[], ["NOSAVE"], ["SAVE"], ["now"], ["NOSAVE", "NOW", "FORCE"],
                                  ["SAVE", "FORCE"]], ids=lambda a: "+".join(a) or "plain")
def test_shutdown(args):
    srv = _own_keel()
    try:
        with RawConn(srv.port) as other, RawConn(srv.port) as c:
            other.call("PING")
            c.call("SET", "k", "v")
            c.call("INFO")                                 # the sampler timer is live
            c.send(encode(["SHUTDOWN"] + args) + encode(["PING"]))
            data, closed = c.read_until_close(5.0)
            assert data == b"" and closed                 # no reply, as Redis
            data, closed = other.read_until_close(5.0)
            assert closed
        srv.proc.wait(10)
        assert srv.proc.returncode == 0, srv.stderr_tail()
        assert not srv.new_sanitizer_output()
    finally:
        if srv.alive():
            srv._kill()
        srv.cleanup()


def test_shutdown_abort_keeps_running():
    srv = _own_keel()
    try:
        with RawConn(srv.port) as c:
            assert c.call("SHUTDOWN", "ABORT") == b"-ERR No shutdown in progress.\r\n"
            assert c.call("SHUTDOWN", "NOSAVE", "SAVE") == b"-ERR syntax error\r\n"
            assert c.call("PING") == b"+PONG\r\n"
        assert srv.alive()
        assert srv.stop() is None
    finally:
        srv.cleanup()


@pytest.mark.parametrize("kind", ["keel", "redis"])
def test_second_sigint_during_the_final_save_exits_at_once(kind):
    """SIGINT starts the final save (save rules set); a SIGINT while it runs
    ends the server at once, exit code 1, the temp RDB removed (Redis's
    shutdown.tcl "Temp rdb will be deleted in signal handle")."""
    base = harness.keel_argv if kind == "keel" else harness.oracle_argv
    srv = ServerProcess("sigint-insist-" + kind,
                        lambda port: base(port) + ["--save", "900 1", "--dir", "."])
    srv.start()
    try:
        with RawConn(srv.port) as c:
            for i in range(20):
                c.call("SET", str(i), str(i))
            assert c.call("CONFIG", "SET", "rdb-key-save-delay", "100000") == b"+OK\r\n"
        temp = os.path.join(srv.workdir, "temp-%d.rdb" % srv.proc.pid)
        os.kill(srv.proc.pid, signal.SIGINT)
        deadline = time.monotonic() + 5
        while not os.path.exists(temp) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert os.path.exists(temp), "no final save began"
        os.kill(srv.proc.pid, signal.SIGINT)
        srv.proc.wait(1.5)  # the save alone takes 2 s
        assert srv.proc.returncode == 1
        assert not os.path.exists(temp)
        assert not os.path.exists(os.path.join(srv.workdir, "dump.rdb"))
    finally:
        if srv.alive():
            srv._kill()
        srv.cleanup()


@pytest.mark.parametrize("kind", ["keel", "redis"])
def test_shutdown_abort_cancels_a_signal_while_the_cron_is_paused(kind):
    """A SIGTERM is acted on by the cron: with DEBUG PAUSE-CRON 1 it waits,
    SHUTDOWN ABORT cancels it (Redis's shutdown.tcl); a later SIGTERM with
    the cron running ends the server, exit code 0."""
    base = harness.keel_argv if kind == "keel" else harness.oracle_argv
    srv = ServerProcess("sigterm-abort-" + kind, lambda port: base(port) + [
        "--enable-debug-command", "yes", "--logfile", "server.log"])
    srv.start()
    try:
        with RawConn(srv.port) as c:
            assert c.call("DEBUG", "PAUSE-CRON", "1") == b"+OK\r\n"
            os.kill(srv.proc.pid, signal.SIGTERM)
            time.sleep(0.3)
            assert c.call("PING") == b"+PONG\r\n"
            assert c.call("SHUTDOWN", "ABORT") == b"+OK\r\n"
            assert c.call("SHUTDOWN", "ABORT") == b"-ERR No shutdown in progress.\r\n"
            assert c.call("DEBUG", "PAUSE-CRON", "0") == b"+OK\r\n"
            time.sleep(0.3)
            assert c.call("PING") == b"+PONG\r\n"
        with open(os.path.join(srv.workdir, "server.log")) as f:
            assert "Shutdown manually aborted" in f.read()
        os.kill(srv.proc.pid, signal.SIGTERM)
        srv.proc.wait(5)
        assert srv.proc.returncode == 0
    finally:
        if srv.alive():
            srv._kill()
        srv.cleanup()
