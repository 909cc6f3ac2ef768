"""Differential tests: CONFIG GET / SET / RESETSTAT / REWRITE / HELP, Keel vs redis-server.

Redis has ~200 parameters, Keel the subset in config/config.c: GET is compared
on the parameters both have (as maps: Redis returns them in hash order), SET's
errors and effects byte for byte. Every test that changes a parameter puts it
back (the servers are shared by the whole session). CONFIG REWRITE is checked
end to end: a Keel started with a config file, CONFIG SET, REWRITE, restart,
and the values are still there.
"""

import os
import re

import pytest

import harness
from harness import Cmd, Parsed, RawConn, ServerProcess, cmds, encode, parse_one

# Parameters both servers have, with the same value on a fresh start.
SHARED = ["hz", "timeout", "tcp-keepalive", "databases", "tcp-backlog", "requirepass",
          "client-query-buffer-limit", "proto-max-bulk-len", "maxmemory", "maxmemory-policy",
          "loglevel", "logfile", "appendonly", "dbfilename", "pidfile", "io-threads", "save",
          "bind", "protected-mode"]
# Parameters whose value legitimately differs (per process).
PER_PROCESS = {b"port", b"dir", b"maxclients",
               b"enable-debug-command"}  # the harness starts Keel with yes
KEEL_ONLY = {b"active-expire-enabled", b"max-multibulk-len",
             b"io-backend",  # the connection I/O path (adapters/uring.c)
             # the HTTP and WebSocket adapters' own entries
             b"http-port", b"http-bind", b"http-allow-networks", b"http-allowed-origins",
             b"http-disabled-commands", b"http-max-url-length", b"http-max-header-size",
             b"http-max-body-size", b"http-header-timeout", b"http-idle-timeout",
             b"http-sse-heartbeat", b"ws-max-message-size", b"http-tokens",
             b"http-readonly-token", b"http-default-root", b"http-database", b"http-websockets",
             b"http-assets-dir", b"tls-auth-clients-user",
             # the TLS adapter's HTTPS and WSS port
             b"https-port",
             # upstream mode (adapters/upstream)
             b"upstream", b"upstream-user", b"upstream-password", b"upstream-connections",
             b"upstream-tls", b"upstream-tls-ca-cert-file", b"upstream-tls-ca-cert-dir",
             b"upstream-tls-cert-file", b"upstream-tls-key-file",
             # Redis has it but hides it from CONFIG GET patterns (a test-only knob)
             b"rdb-key-save-delay"}
# Values put back after each test that sets parameters.
RESTORE = ["hz", "10", "timeout", "0", "tcp-keepalive", "300", "maxmemory", "0",
           "maxmemory-policy", "noeviction", "loglevel", "notice", "appendonly", "no",
           "save", "", "requirepass", "", "client-query-buffer-limit", "1gb",
           "proto-max-bulk-len", "512mb", "protected-mode", "yes"]


def pairs(v):
    """A CONFIG GET reply (RESP2 flat array or RESP3 map) as a set of pairs."""
    if isinstance(v, dict):
        return set(v.items())
    if isinstance(v, list) and v and isinstance(v[0], tuple):
        return set(v)
    assert isinstance(v, list) and len(v) % 2 == 0, v
    return {(v[i], v[i + 1]) for i in range(0, len(v), 2)}


class ConfigMap(Cmd):
    """CONFIG GET: same reply type and the same (name, value) pairs in any order."""

    def same(self, a, b):
        if a == b:
            return True
        if a[:1] != b[:1] or a[:1] not in (b"*", b"%"):
            return False
        return pairs(parse_one(a)[0]) == pairs(parse_one(b)[0])


def G(*names):
    return ConfigMap(["CONFIG", "GET"] + list(names))


def call(port, *cmd, resp3=False):
    with RawConn(port) as c:
        if resp3:
            c.send(encode(["HELLO", "3"]))
            c.read_reply()
        c.send(encode(list(cmd)))
        return c.read_reply()


@pytest.fixture
def restore(keel, oracle):
    yield
    for port in (keel.port, oracle.port):
        assert call(port, "CONFIG", "SET", *RESTORE) == b"+OK\r\n"


# --------------------------------------------------------------------------
# CONFIG GET

def test_config_get_shared(diff):
    diff.both([G(n) for n in SHARED] + [G(n.upper()) for n in SHARED[:6]] + [
        G("hz", "timeout"), G("hz", "HZ"), G("HZ", "hz"), G(*SHARED), G("nosuch"),
        G("nosuch", "hz"), G(""), G("h?"), G("H?"), G("[h]z"), G("maxmemory"),
        G("hz", "h?"), G("h?", "HZ"), G("save", "appendonly"), G("proto-max-bulk-len"),
    ])


def test_config_get_exact_name_as_given(keel, diff):
    """An exact name is echoed as typed; a pattern gives the canonical name."""
    diff.both([G("Hz"), G("TIMEOUT"), G("LogLevel"), G("hZ", "HZ"), G("TIMEOUT", "t?meout"),
               G("t?meout", "TIMEOUT"), G("HZ", "h?"), G("h?", "HZ")])
    assert parse_one(call(keel.port, "CONFIG", "GET", "PORT"))[0] == [
        b"PORT", str(keel.port).encode()]


@pytest.mark.parametrize("pattern", ["*", "*max*", "h?", "*e*", "p*", "[a-d]*", "*-*",
                                     "MAX*", "*limit", "?", "\\*"])
def test_config_get_patterns_subset(keel, oracle, pattern):
    """Keel's matches = Redis's matches on the parameters Keel has."""
    for resp3 in (False, True):
        k = pairs(parse_one(call(keel.port, "CONFIG", "GET", pattern, resp3=resp3))[0])
        r = pairs(parse_one(call(oracle.port, "CONFIG", "GET", pattern, resp3=resp3))[0])
        knames = {n for n, _ in k}
        assert len(knames) == len(k)
        rmap = dict(r)
        for name, value in k:
            if name in KEEL_ONLY:
                continue
            assert name in rmap, name
            if name not in PER_PROCESS:
                assert rmap[name] == value, (name, value, rmap[name])
        keel_all = {n for n, _ in pairs(parse_one(call(keel.port, "CONFIG", "GET", "*"))[0])}
        assert {n for n in rmap if n in keel_all} == knames - KEEL_ONLY


def test_config_get_per_process_values(keel):
    got = dict(pairs(parse_one(call(keel.port, "CONFIG", "GET", "port", "dir"))[0]))
    assert got[b"port"] == str(keel.port).encode()
    assert os.path.realpath(got[b"dir"].decode()) == os.path.realpath(keel.workdir)


def test_config_get_reply_types(keel, oracle):
    for port in (keel.port, oracle.port):
        assert call(port, "CONFIG", "GET", "nosuch") == b"*0\r\n"
        assert call(port, "CONFIG", "GET", "nosuch", resp3=True) == b"%0\r\n"
        assert call(port, "CONFIG", "GET", "hz", resp3=True) == b"%1\r\n$2\r\nhz\r\n$2\r\n10\r\n"


# --------------------------------------------------------------------------
# CONFIG SET

def test_config_set_errors(diff, restore):
    diff.both(cmds(
        "CONFIG SET nosuch 1", "CONFIG SET NOSUCH 1", "CONFIG SET databases 4",
        "CONFIG SET DATABASES 4", "CONFIG SET io-threads 2", "CONFIG SET tcp-backlog 10",
        "CONFIG SET logfile x", "CONFIG SET pidfile x", "CONFIG SET dir /tmp",
        "CONFIG SET dbfilename x.rdb", "CONFIG SET hz 5 hz 6", "CONFIG SET hz 5 HZ 6",
        "CONFIG SET databases 4 nosuch 1", "CONFIG SET nosuch 1 databases 4",
        "CONFIG SET hz 1 databases 4", "CONFIG SET hz 1 nosuch 2 hz 3",
        "CONFIG SET hz abc", "CONFIG SET hz ''", "CONFIG SET hz 1.5", "CONFIG SET hz -1",
        "CONFIG SET hz 99999999999999999999", "CONFIG SET timeout -1",
        "CONFIG SET timeout 2147483648", "CONFIG SET tcp-keepalive -5",
        "CONFIG SET maxclients 0", "CONFIG SET maxclients abc",
        "CONFIG SET maxmemory -1", "CONFIG SET maxmemory 1foo", "CONFIG SET maxmemory 1.5gb",
        "CONFIG SET maxmemory ' 1'", "CONFIG SET client-query-buffer-limit 1",
        "CONFIG SET client-query-buffer-limit 1mb1", "CONFIG SET proto-max-bulk-len 1000",
        "CONFIG SET proto-max-bulk-len 99999999999gb", "CONFIG SET maxmemory-policy foo",
        "CONFIG SET maxmemory-policy ''", "CONFIG SET loglevel foo", "CONFIG SET loglevel nothing",
        "CONFIG SET appendonly maybe", "CONFIG SET appendonly 1", "CONFIG SET appendonly ''",
        "CONFIG SET protected-mode maybe", "CONFIG SET protected-mode 0",
        "CONFIG SET save 100", "CONFIG SET save 'a b'", "CONFIG SET save '0 1'",
        "CONFIG SET save '100  5'", "CONFIG SET save '100 -1'", "CONFIG SET save ' 100 5'",
        "CONFIG SET save '100 5 200'", "CONFIG SET a", "CONFIG SET a b c", "CONFIG SET",
        "CONFIG SET hz 20 timeout abc", "CONFIG GET hz", "CONFIG GET timeout",
    ))


def test_config_set_values(diff, restore):
    diff.both([
        ["CONFIG", "SET", "hz", "20"], G("hz"), ["CONFIG", "SET", "hz", "1000"], G("hz"),
        ["CONFIG", "SET", "hz", "0"], G("hz"), ["CONFIG", "SET", "HZ", "15"], G("hz"),
        ["CONFIG", "SET", "timeout", "300"], G("timeout"),
        ["CONFIG", "SET", "tcp-keepalive", "60"], G("tcp-keepalive"),
        ["CONFIG", "SET", "maxmemory", "1GB"], G("maxmemory"),
        ["CONFIG", "SET", "maxmemory", "100kb"], G("maxmemory"),
        ["CONFIG", "SET", "maxmemory", "3k"], G("maxmemory"),
        ["CONFIG", "SET", "maxmemory", "2m"], G("maxmemory"),
        ["CONFIG", "SET", "maxmemory", "1g"], G("maxmemory"),
        ["CONFIG", "SET", "maxmemory", "12b"], G("maxmemory"),
        ["CONFIG", "SET", "maxmemory", ""], G("maxmemory"),
        ["CONFIG", "SET", "maxmemory", "mb"], G("maxmemory"),
        ["CONFIG", "SET", "maxmemory", "0"], G("maxmemory"),
        ["CONFIG", "SET", "maxmemory-policy", "ALLKEYS-LRU"], G("maxmemory-policy"),
        ["CONFIG", "SET", "maxmemory-policy", "volatile-ttl"], G("maxmemory-policy"),
        ["CONFIG", "SET", "loglevel", "WARNING"], G("loglevel"),
        ["CONFIG", "SET", "loglevel", "debug"], G("loglevel"),
        ["CONFIG", "SET", "appendonly", "NO"], G("appendonly"),
        ["CONFIG", "SET", "save", "100 5 200 6"], G("save"),
        ["CONFIG", "SET", "save", "3600 1"], G("save"),
        ["CONFIG", "SET", "save", "100 "], G("save"),
        ["CONFIG", "SET", "save", ""], G("save"),
        ["CONFIG", "SET", "client-query-buffer-limit", "2mb"], G("client-query-buffer-limit"),
        ["CONFIG", "SET", "proto-max-bulk-len", "1048576"], G("proto-max-bulk-len"),
        ["CONFIG", "SET", "hz", "11", "timeout", "12", "tcp-keepalive", "13"],
        G("hz", "timeout", "tcp-keepalive"),
        ["CONFIG", "SET", "hz", "10", "timeout", "0", "tcp-keepalive", "300"],
        ["CONFIG", "SET", "requirepass", ""], G("requirepass"),
        ["CONFIG", "SET", "protected-mode", "no"], G("protected-mode"),
        ["CONFIG", "SET", "PROTECTED-MODE", "YES"], G("protected-mode"),
    ])


def test_config_set_is_atomic(diff, restore):
    """A failing pair leaves every parameter of the call as it was."""
    diff.both([
        ["CONFIG", "SET", "hz", "20", "timeout", "abc"], G("hz", "timeout"),
        ["CONFIG", "SET", "timeout", "5", "hz", "20", "maxmemory-policy", "nosuch"],
        G("hz", "timeout", "maxmemory-policy"),
        ["CONFIG", "SET", "maxmemory", "1mb", "save", "1"], G("maxmemory", "save"),
        ["CONFIG", "SET", "save", "10 1", "loglevel", "warning", "appendonly", "x"],
        G("save", "loglevel", "appendonly"),
        ["CONFIG", "SET", "hz", "30", "databases", "2"], G("hz"),
        ["CONFIG", "SET", "hz", "30", "nosuch", "2"], G("hz"),
    ])


def test_config_set_applies(keel, restore):
    """Values set at runtime take effect: timeout closes idle clients."""
    with RawConn(keel.port) as c:
        assert c.call("CONFIG", "SET", "timeout", "1") == b"+OK\r\n"
        data, closed = c.read_until_close(timeout=6.0)
        assert closed, data
    assert call(keel.port, "CONFIG", "SET", "timeout", "0") == b"+OK\r\n"


def test_config_set_requirepass(keel, restore):
    try:
        assert call(keel.port, "CONFIG", "SET", "requirepass", "s3cret") == b"+OK\r\n"
        with RawConn(keel.port) as c:
            assert c.call("GET", "x").startswith(b"-NOAUTH")
            assert c.call("AUTH", "s3cret") == b"+OK\r\n"
            assert c.call("CONFIG", "SET", "requirepass", "") == b"+OK\r\n"
    finally:
        with RawConn(keel.port) as c:
            c.call("AUTH", "s3cret")
            c.call("CONFIG", "SET", "requirepass", "")


# --------------------------------------------------------------------------
# RESETSTAT, HELP, errors

def test_config_resetstat(diff):
    diff.both(cmds("CONFIG RESETSTAT", "config resetstat", "CONFIG RESETSTAT x"))


def info_fields(port):
    rep = parse_one(call(port, "INFO", "stats"))[0]
    if not isinstance(rep, (bytes, bytearray)):
        return None
    out = {}
    for line in bytes(rep).decode().splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            out[k] = v
    return out


def test_config_resetstat_zeroes_counters(keel, oracle):
    for port in (keel.port, oracle.port):
        with RawConn(port) as c:
            c.call("SET", "rs", "1")
            c.call("GET", "rs")
            c.call("GET", "nosuch-rs")
            c.call("FOO")
            before = info_fields(port)
            assert int(before["keyspace_hits"]) >= 1 and int(before["keyspace_misses"]) >= 1
            assert c.call("CONFIG", "RESETSTAT") == b"+OK\r\n"
            after = info_fields(port)
            for f in ("keyspace_hits", "keyspace_misses", "expired_keys",
                      "total_error_replies", "rejected_connections"):
                if f in after:
                    assert after[f] == "0", (port, f, after[f])


def _cmdstats(v):
    """INFO commandstats as a set of lines, times masked."""
    if not isinstance(v, (bytes, bytearray)):
        return v
    return sorted(re.sub(r"usec=\d+,usec_per_call=[\d.]+", "usec=*", ln)
                  for ln in bytes(v).decode().splitlines())


def test_config_resetstat_commandstats(keel, diff):
    diff.both(cmds("SET a 1", "GET a", "GET a", "FOO", "GET", "CONFIG RESETSTAT", "GET a") + [
        Parsed(["INFO", "commandstats"], _cmdstats), Parsed(["INFO", "errorstats"], _cmdstats),
        "CONFIG RESETSTAT", "CONFIG RESETSTAT", Parsed(["INFO", "commandstats"], _cmdstats)])


def test_config_help_and_errors(diff):
    diff.both(cmds("CONFIG HELP", "config help", "CONFIG HELP x", "CONFIG", "CONFIG FOO",
                   "CONFIG GET", "CONFIG REWRITE x", "config foo bar"))


def test_config_rewrite_without_file(diff):
    diff.both(cmds("CONFIG REWRITE", "config rewrite"))


# --------------------------------------------------------------------------
# CONFIG REWRITE with a config file: set, rewrite, restart, still set

def test_config_rewrite_persists(tmp_path):
    conf = tmp_path / "keel.conf"
    conf.write_text("# Keel test config\n"
                    "hz 10\n"
                    "# a comment that must survive\n"
                    "timeout 0\n"
                    "loglevel notice\n"
                    "hz 11\n")

    def argv(port):
        return [harness.keel_bin(), str(conf), "--port", str(port), "--bind", "127.0.0.1",
                "--http-port", "0"]

    srv = ServerProcess("keel-rewrite", argv)
    srv.start()
    try:
        assert call(srv.port, "CONFIG", "GET", "hz") == b"*2\r\n$2\r\nhz\r\n$2\r\n11\r\n"
        assert call(srv.port, "CONFIG", "SET", "hz", "42", "maxmemory", "3mb", "timeout", "7",
                    "loglevel", "warning", "save", "100 5 200 6",
                    "maxmemory-policy", "allkeys-lru") == b"+OK\r\n"
        assert call(srv.port, "CONFIG", "REWRITE") == b"+OK\r\n"
        text = conf.read_text()
        assert "# a comment that must survive" in text
        assert text.count("\nhz ") + text.startswith("hz ") == 1, text
        problem = srv.stop()
        assert problem is None, problem
        srv.start()
        got = pairs(parse_one(call(srv.port, "CONFIG", "GET", "hz", "maxmemory", "timeout",
                                   "loglevel", "save", "maxmemory-policy"))[0])
        assert got == {(b"hz", b"42"), (b"maxmemory", b"3145728"), (b"timeout", b"7"),
                       (b"loglevel", b"warning"), (b"save", b"100 5 200 6"),
                       (b"maxmemory-policy", b"allkeys-lru")}, got
        # A second rewrite with nothing changed keeps the file as it is (but
        # for the port, which the command line gives anew each start).
        assert call(srv.port, "CONFIG", "REWRITE") == b"+OK\r\n"

        def no_port(t):
            return [ln for ln in t.splitlines() if not ln.startswith("port ")]
        assert no_port(conf.read_text()) == no_port(text)
    finally:
        problem = srv.stop()
        srv.cleanup()
    assert problem is None, problem


def test_config_rewrite_file_gone(tmp_path):
    """The config file's directory removed under the server: Redis's error text."""
    d = tmp_path / "gone"
    d.mkdir()
    conf = d / "keel.conf"
    conf.write_text("hz 10\n")

    def argv(port):
        return [harness.keel_bin(), str(conf), "--port", str(port), "--bind", "127.0.0.1",
                "--http-port", "0"]

    srv = ServerProcess("keel-rewrite-gone", argv)
    srv.start()
    try:
        conf.unlink()
        d.rmdir()
        assert call(srv.port, "CONFIG", "REWRITE") == \
            b"-ERR Rewriting config file: No such file or directory\r\n"
    finally:
        problem = srv.stop()
        srv.cleanup()
    assert problem is None, problem
