"""Differential tests: every redis.conf 7.0 parameter known to CONFIG, Keel vs redis-server.

`CONFIG GET *` lists the same names on both (aliases included, hidden ones
left out; Keel adds its own http-*/ws-* entries), with the same values on a fresh start; every parameter of
config/config_table_compat.c (the ones stored without effect) answers CONFIG
SET with Redis's exact reply for a set of probe values (type, bounds, enum
names, mutability), and is put back. Hidden, protected and aliased names,
multi-parameter rollback, start-up values and CONFIG REWRITE of the new
parameters are checked too.
"""

import os
import re

import pytest

import harness
from harness import ServerProcess, parse_one
from test_config import G, call, pairs

HERE = os.path.dirname(os.path.abspath(__file__))
COMPAT_C = os.path.join(HERE, "..", "..", "config", "config_table_compat.c")
# The tls-* entries (adapters/tls): with no TLS port served, CONFIG SET
# answers as Redis's does when TLS is not in use, so they are probed too.
TLS_C = os.path.join(HERE, "..", "..", "adapters", "tls", "tls_ctx.c")

# Parameters other branches implement with an effect (eviction, lazy free,
# latency, streams, scripting, DEBUG): Keel may not have them yet.
ELSEWHERE = {
    "maxmemory-samples", "maxmemory-eviction-tenacity", "lfu-log-factor", "lfu-decay-time",
    "maxmemory-clients", "lazyfree-lazy-eviction", "lazyfree-lazy-expire",
    "lazyfree-lazy-server-del", "lazyfree-lazy-user-del", "lazyfree-lazy-user-flush",
    "replica-lazy-flush", "slave-lazy-flush", "replica-ignore-maxmemory",
    "slave-ignore-maxmemory", "latency-monitor-threshold", "latency-tracking",
    "latency-tracking-info-percentiles", "stream-node-max-bytes", "stream-node-max-entries",
    "busy-reply-threshold", "lua-time-limit",
}
# Values that differ per process (ports, paths, how the harness starts each).
PER_PROCESS = {"port", "dir", "maxclients", "enable-debug-command", "bind", "logfile",
               "pidfile", "daemonize"}
PROBES = ["abc", "", "-1", "0", "1", "1kb", "777", "65536", "2147483648",
          "9223372036854775807", "-9223372036854775809", "yes", "NO", "local", "no one",
          "127.0.0.1 1", "0 200 800", "1 2", "2001 0 0"]


def compat_names():
    """The names of config_table_compat.c's entries and their aliases, and
    the tls-* entries of adapters/tls (not Keel's own https-port and
    tls-auth-clients-user)."""
    text = open(COMPAT_C).read()
    table = text[text.index("config_table_compat[] = {"):text.index("{NULL, NULL")]
    tls = open(TLS_C).read()
    table += tls[tls.index("tls_config_table[] = {"):tls.index("{NULL, NULL")]
    out = []
    for m in re.finditer(r'\{"([a-z0-9_-]+)",\s*(?:"([a-z0-9_-]+)"|NULL)', table):
        out.append(m.group(1))
        if m.group(2):
            out.append(m.group(2))
    return [n for n in out if n not in ("https-port", "tls-auth-clients-user")]


# Keel's own parameters, listed by CONFIG GET * beside Redis's names.
KEEL_OWN = {"active-expire-enabled", "max-multibulk-len", "http-port", "http-bind",
            "http-allow-networks", "http-allowed-origins", "http-disabled-commands",
            "http-max-url-length", "http-max-header-size", "http-max-body-size",
            "http-header-timeout", "http-idle-timeout", "http-sse-heartbeat",
            "ws-max-message-size", "http-readonly-token", "http-default-root", "http-database",
            "http-websockets", "https-port", "http-tokens", "http-assets-dir",
            "tls-auth-clients-user", "io-backend", "upstream", "upstream-user", "upstream-password",
            "upstream-connections", "upstream-tls", "upstream-tls-ca-cert-file",
            "upstream-tls-ca-cert-dir", "upstream-tls-cert-file", "upstream-tls-key-file"}


def all_names(port, pattern="*"):
    return dict(pairs(parse_one(call(port, "CONFIG", "GET", pattern))[0]))


def test_config_get_star_same_names(keel, oracle):
    k, r = all_names(keel.port), all_names(oracle.port)
    missing = {n.decode() for n in set(r) - set(k)}
    assert missing <= ELSEWHERE, sorted(missing - ELSEWHERE)
    extra = {n.decode() for n in set(k) - set(r)}
    assert extra == KEEL_OWN, sorted(extra ^ KEEL_OWN)
    for name, value in k.items():
        if name.decode() not in PER_PROCESS | KEEL_OWN:
            assert r[name] == value, (name, value, r[name])


def test_compat_table_is_complete():
    names = compat_names()
    assert len(names) > 110 and len(names) == len(set(names))
    assert "replicaof" in names and "slaveof" in names and "tls-port" in names


@pytest.mark.parametrize("name", compat_names())
def test_compat_param_set_probes(keel, oracle, name):
    """Each stored-only parameter: Redis's reply for every probe value, and
    Redis's value afterwards; then put back on both servers."""
    before = {p: parse_one(call(p, "CONFIG", "GET", name))[0] for p in (keel.port, oracle.port)}
    assert before[keel.port] == before[oracle.port] or name == "daemonize"
    try:
        for v in PROBES:
            k = call(keel.port, "CONFIG", "SET", name, v)
            r = call(oracle.port, "CONFIG", "SET", name, v)
            assert k == r, (name, v, k, r)
            k = call(keel.port, "CONFIG", "GET", name)
            r = call(oracle.port, "CONFIG", "GET", name)
            assert k == r, (name, v, k, r)
    finally:
        for p in (keel.port, oracle.port):
            value = before[p][1] if before[p] else b""
            call(p, "CONFIG", "SET", name, value)


def test_hidden_configs(diff):
    diff.both([G("key-load-delay"), G("KEY-LOAD-DELAY"), G("key-load*"), G("rdb-key-save-delay"),
               G("rdb-key*"), G("watchdog-period"), G("watchdog*"), G("use-exit-on-panic"),
               G("loading-process-events-interval-bytes"), G("loading*"),
               G("lua-enable-deprecated-api"), G("*deprecated*"),
               ["CONFIG", "SET", "key-load-delay", "5"], G("key-load-delay"),
               ["CONFIG", "SET", "key-load-delay", "0"], G("key-load-delay"),
               ["CONFIG", "SET", "lua-enable-deprecated-api", "yes"]])


def test_aliases_are_names_of_their_own(diff):
    diff.both([
        G("slaveof"), G("replicaof"), G("slave*f"), G("slave-[pr]*"), G("replica-[ap]*"), G("*-slave-*"),
        G("repl-ping-*"), G("hash-max-*-entries"), G("hash-max-listpack-entries",
                                                      "hash-max-ziplist-entries"),
        G("hash-max-ziplist-entries", "hash-max-l*"), G("min-*"),
        ["CONFIG", "SET", "slave-priority", "5"], G("replica-priority", "slave-priority"),
        ["CONFIG", "SET", "replica-priority", "7", "slave-priority", "8"], G("slave-priority"),
        ["CONFIG", "SET", "replica-priority", "100"],
        ["CONFIG", "SET", "slave-read-only", "maybe"], ["CONFIG", "SET", "slaveof", "no one"],
        ["CONFIG", "SET", "replicaof", "127.0.0.1 1"],
        ["CONFIG", "SET", "hash-max-ziplist-value", "abc"],
        ["CONFIG", "SET", "hash-max-ziplist-value", "1kb"], G("hash-max-listpack-value"),
        ["CONFIG", "SET", "zset-max-ziplist-value", "2kb"], G("zset-max-*-value"),
        ["CONFIG", "SET", "hash-max-listpack-value", "64", "zset-max-listpack-value", "64"],
    ])


def test_multi_set_rollback(diff):
    """Several parameters at once: all or nothing, Redis's errors."""
    diff.both([
        ["CONFIG", "SET", "repl-timeout", "30", "tls-port", "abc"], G("repl-timeout", "tls-port"),
        ["CONFIG", "SET", "repl-timeout", "30", "activedefrag", "maybe", "hz", "20"],
        G("repl-timeout", "activedefrag", "hz"),
        ["CONFIG", "SET", "acllog-max-len", "5", "daemonize", "no"], G("acllog-max-len"),
        ["CONFIG", "SET", "acllog-max-len", "5", "nosuch", "no", "daemonize", "no"],
        ["CONFIG", "SET", "daemonize", "no", "nosuch", "no"],
        ["CONFIG", "SET", "acllog-max-len", "5", "ACLLOG-MAX-LEN", "6"],
        ["CONFIG", "SET", "dir", "/tmp", "hz", "5"], ["CONFIG", "SET", "hz", "5", "dbfilename", "x"],
        ["CONFIG", "SET", "repl-timeout", "30", "oom-score-adj-values", "1 2"],
        G("repl-timeout", "oom-score-adj-values"),
        ["CONFIG", "SET", "repl-timeout", "31", "shutdown-on-sigint", "save",
         "tls-ciphers", "DEFAULT"], G("repl-timeout", "shutdown-on-sigint", "tls-ciphers"),
        ["CONFIG", "SET", "repl-timeout", "60", "shutdown-on-sigint", "default",
         "tls-ciphers", ""],
        ["CONFIG", "SET", "cluster-enabled", "yes"], ["CONFIG", "SET", "enable-protected-configs",
                                                      "yes"],
        ["CONFIG", "SET", "unixsocketperm", "700"], ["CONFIG", "SET", "socket-mark-id", "1"],
    ])


# --------------------------------------------------------------------------
# Start-up values (immutable parameters), protected configs

STARTUP = ["--replicaof", "127.0.0.1", "1", "--unixsocketperm", "0750", "--daemonize", "no",
           "--enable-protected-configs", "yes", "--syslog-ident", "keelish",
           "--oom-score-adj-values", "0 100 200", "--cluster-port", "17000",
           "--supervised", "no", "--io-threads-do-reads", "yes", "--socket-mark-id", "4294967295",
           "--repl-backlog-size", "2mb", "--active-defrag-ignore-bytes", "1gb"]
STARTUP_NAMES = ["replicaof", "slaveof", "unixsocketperm", "daemonize",
                 "enable-protected-configs", "syslog-ident", "oom-score-adj-values",
                 "cluster-port", "supervised", "io-threads-do-reads", "socket-mark-id",
                 "repl-backlog-size", "active-defrag-ignore-bytes"]


@pytest.fixture(scope="module")
def startup_pair():
    k = ServerProcess("keel-cfg-startup", lambda p: harness.keel_argv(p) + STARTUP)
    r = ServerProcess("redis-cfg-startup", lambda p: harness.oracle_argv(p) + STARTUP)
    k.start()
    r.start()
    yield k, r
    for s in (k, r):
        s.stop()
        s.cleanup()


def test_startup_values(startup_pair):
    k, r = startup_pair
    for cmd in [["CONFIG", "GET", n] for n in STARTUP_NAMES] + [["CONFIG", "GET"] + STARTUP_NAMES]:
        kr, rr = call(k.port, *cmd), call(r.port, *cmd)
        assert pairs(parse_one(kr)[0]) == pairs(parse_one(rr)[0]), (cmd, kr, rr)


def test_protected_configs_allowed(startup_pair, tmp_path):
    """enable-protected-configs yes: dir and dbfilename may be set."""
    k, r = startup_pair
    for port, srv in ((k.port, k), (r.port, r)):
        assert call(port, "CONFIG", "SET", "dbfilename", "other.rdb") == b"+OK\r\n"
        assert call(port, "CONFIG", "GET", "dbfilename") == \
            b"*2\r\n$10\r\ndbfilename\r\n$9\r\nother.rdb\r\n"
        assert call(port, "CONFIG", "SET", "dbfilename", "dump.rdb") == b"+OK\r\n"


@pytest.mark.parametrize("args", [
    ["--replicaof", "127.0.0.1"], ["--replicaof", "127.0.0.1", "x"],
    ["--unixsocketperm", "1000"], ["--unixsocketperm", "abc"], ["--cluster-port", "70000"],
    ["--supervised", "maybe"], ["--daemonize", "maybe"], ["--repl-backlog-size", "0"],
    ["--oom-score-adj-values", "1 2"], ["--socket-mark-id", "-1"],
])
def test_startup_refuses_bad_values(args, tmp_path):
    """A bad value on the command line stops the start, as Redis (which
    prints the same reason)."""
    import subprocess
    p = subprocess.run(harness.keel_argv(0) + args, capture_output=True, text=True, timeout=20,
                       cwd=str(tmp_path))
    assert p.returncode != 0, p.stdout + p.stderr
    r = subprocess.run(harness.oracle_argv(0) + args, capture_output=True, text=True, timeout=20,
                       cwd=str(tmp_path))
    reason = [ln for ln in (r.stdout + r.stderr).splitlines() if ln.strip()][-1].strip()
    assert reason in p.stdout + p.stderr, (reason, p.stderr)


# --------------------------------------------------------------------------
# CONFIG REWRITE writes the new parameters

def test_rewrite_compat_params(tmp_path):
    conf = tmp_path / "keel.conf"
    conf.write_text("# test\nslave-priority 50\nrepl-backlog-size 2mb\n")

    def argv(port):
        return [harness.keel_bin(), str(conf), "--port", str(port), "--bind", "127.0.0.1",
                "--http-port", "0"]

    srv = ServerProcess("keel-rewrite-compat", argv)
    srv.start()
    try:
        assert call(srv.port, "CONFIG", "SET", "replica-priority", "7", "tls-ciphers", "A B",
                    "oom-score-adj-values", "1 2 3", "activedefrag", "no",
                    "shutdown-on-sigterm", "nosave", "repl-backlog-size", "3mb",
                    "key-load-delay", "4") == b"+OK\r\n"
        assert call(srv.port, "CONFIG", "REWRITE") == b"+OK\r\n"
        assert srv.stop() is None
        srv.start()
        got = pairs(parse_one(call(srv.port, "CONFIG", "GET", "replica-priority", "tls-ciphers",
                                   "oom-score-adj-values", "activedefrag",
                                   "shutdown-on-sigterm", "repl-backlog-size",
                                   "key-load-delay"))[0])
        assert got == {(b"replica-priority", b"7"), (b"tls-ciphers", b"A B"),
                       (b"oom-score-adj-values", b"1 2 3"), (b"activedefrag", b"no"),
                       (b"shutdown-on-sigterm", b"nosave"), (b"repl-backlog-size", b"3145728"),
                       (b"key-load-delay", b"4")}, got
        text = conf.read_text()
        assert text.count("priority") == 1, text
        assert "\noom-score-adj-values 1 2 3\n" in text, text
    finally:
        problem = srv.stop()
        srv.cleanup()
    assert problem is None, problem


# --------------------------------------------------------------------------
# port and bind at runtime: the listeners move, as Redis's

def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


@pytest.mark.parametrize("kind", ["keel", "redis"])
def test_port_and_bind_at_runtime(kind):
    argv = harness.keel_argv if kind == "keel" else harness.oracle_argv
    srv = ServerProcess("%s-rebind" % kind, argv)
    srv.start()
    other = ServerProcess("%s-busy" % kind, harness.oracle_argv)
    other.start()
    port = srv.port
    try:
        # a port in use, an address not on this host: Redis's errors, nothing moves
        assert call(port, "CONFIG", "SET", "port", str(other.port)) == \
            b"-ERR CONFIG SET failed (possibly related to argument 'port') - " \
            b"Unable to listen on this port. Check server logs.\r\n"
        assert call(port, "CONFIG", "SET", "bind", "192.0.2.1") == \
            b"-ERR CONFIG SET failed (possibly related to argument 'bind') - " \
            b"Failed to bind to specified addresses.\r\n"
        assert call(port, "CONFIG", "GET", "bind") == b"*2\r\n$4\r\nbind\r\n$9\r\n127.0.0.1\r\n"
        # a new port: served there, no longer on the old one
        new = free_port()
        assert call(port, "CONFIG", "SET", "port", str(new)) == b"+OK\r\n"
        assert call(new, "PING") == b"+PONG\r\n"
        with pytest.raises(OSError):
            call(port, "PING")
        assert call(new, "CONFIG", "SET", "bind", "127.0.0.1 -::1") == b"+OK\r\n"
        assert call(new, "CONFIG", "GET", "bind") == \
            b"*2\r\n$4\r\nbind\r\n$14\r\n127.0.0.1 -::1\r\n"
        # a failing pair puts the port back where it was
        assert call(new, "CONFIG", "SET", "port", str(port), "hz", "x").startswith(b"-ERR")
        assert call(new, "PING") == b"+PONG\r\n"
        assert call(new, "CONFIG", "SET", "port", str(port)) == b"+OK\r\n"
        assert call(port, "PING") == b"+PONG\r\n"
    finally:
        problem = srv.stop()
        srv.cleanup()
        other.stop()
        other.cleanup()
    assert problem is None, problem


def test_include_directive(tmp_path):
    """include: every file of a glob, in order; later lines win; REWRITE keeps it."""
    (tmp_path / "a.conf").write_text("hz 20\nrepl-timeout 30\n")
    (tmp_path / "b.conf").write_text("hz 25\n")
    conf = tmp_path / "keel.conf"
    conf.write_text("include %s/*.conf\ninclude %s/nomatch-*.conf\ntimeout 7\n" % (
        tmp_path / "inc", tmp_path / "inc"))
    inc = tmp_path / "inc"
    inc.mkdir()
    (tmp_path / "a.conf").rename(inc / "a.conf")
    (tmp_path / "b.conf").rename(inc / "b.conf")

    def argv(port):
        return [harness.keel_bin(), str(conf), "--port", str(port), "--bind", "127.0.0.1",
                "--http-port", "0"]

    srv = ServerProcess("keel-include", argv)
    srv.start()
    try:
        got = pairs(parse_one(call(srv.port, "CONFIG", "GET", "hz", "repl-timeout",
                                   "timeout"))[0])
        assert got == {(b"hz", b"25"), (b"repl-timeout", b"30"), (b"timeout", b"7")}
        assert call(srv.port, "CONFIG", "REWRITE") == b"+OK\r\n"
        assert conf.read_text().startswith("include ")
    finally:
        problem = srv.stop()
        srv.cleanup()
    assert problem is None, problem


def test_include_missing_file_refused(tmp_path):
    import subprocess
    conf = tmp_path / "keel.conf"
    conf.write_text("include %s/nosuch.conf\n" % tmp_path)
    p = subprocess.run([harness.keel_bin(), str(conf), "--port", "0", "--http-port", "0"],
                       capture_output=True, text=True, timeout=20, cwd=str(tmp_path))
    assert p.returncode != 0 and "nosuch.conf" in p.stderr


def test_enum_error_lists_redis_order(diff):
    diff.both([["CONFIG", "SET", "appendfsync", "x"], ["CONFIG", "SET", "appendfsync", "always"],
               G("appendfsync"), ["CONFIG", "SET", "appendfsync", "everysec"], G("appendfsync"),
               ["CONFIG", "SET", "loglevel", "x"], ["CONFIG", "SET", "maxmemory-policy", "x"]])


@pytest.mark.parametrize("kind", ["keel", "redis"])
@pytest.mark.parametrize("mode,allowed", [("local", True), ("no", False)])
def test_enable_protected_configs_modes(kind, mode, allowed):
    """local: a loopback client may set dir/dbfilename; no: nobody may."""
    base = harness.keel_argv if kind == "keel" else harness.oracle_argv
    srv = ServerProcess("%s-protected-%s" % (kind, mode),
                        lambda p: base(p) + ["--enable-protected-configs", mode])
    srv.start()
    try:
        r = call(srv.port, "CONFIG", "SET", "dbfilename", "x.rdb")
        if allowed:
            assert r == b"+OK\r\n"
        else:
            assert r == b"-ERR CONFIG SET failed (possibly related to argument 'dbfilename') - " \
                b"can't set protected config\r\n"
    finally:
        problem = srv.stop()
        srv.cleanup()
    assert problem is None, problem
