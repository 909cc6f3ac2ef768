"""LATENCY and latency tracking against redis-server 7.0: HELP, the empty
monitor (LATEST, HISTORY, GRAPH's error, RESET, DOCTOR's texts), arity and
subcommand errors, events sampled past latency-monitor-threshold (DEBUG
SLEEP: "command"; a FAST command never reaches it) with their LATEST /
HISTORY / GRAPH / DOCTOR forms (times and milliseconds masked), RESET of
some events, LATENCY HISTOGRAM's shape over RESP2 and RESP3 (names, calls,
bucket keys), INFO latencystats (format, latency-tracking-info-percentiles,
latency-tracking off), the config entries and their errors, and CONFIG
RESETSTAT clearing the histograms. Both servers are session-wide; every
test leaves the three configs at their defaults."""

import re
import time

import pytest

import harness
from harness import RawConn, ServerProcess, encode, parse_one, Verbatim

DEFAULTS = [("latency-monitor-threshold", "0"), ("latency-tracking", "yes"),
            ("latency-tracking-info-percentiles", "50 99 99.9")]


@pytest.fixture(scope="module")
def oracle_dbg():
    """redis-server 7.0 with DEBUG allowed (DEBUG SLEEP makes slow commands)."""
    srv = ServerProcess("redis-oracle-debug", lambda port: harness.oracle_argv(port) + [
        "--enable-debug-command", "yes"])
    srv.start()
    yield srv
    srv.stop()
    srv.cleanup()


@pytest.fixture
def both(keel, oracle_dbg):
    conns = [RawConn(keel.port), RawConn(oracle_dbg.port)]
    for c in conns:
        c.call("LATENCY", "RESET")
        c.call("CONFIG", "RESETSTAT")
    yield conns
    for c in conns:
        for k, v in DEFAULTS:
            c.call("CONFIG", "SET", k, v)
        c.call("LATENCY", "RESET")
        c.call("FLUSHALL")
        c.close()


def val(c, *cmd):
    return parse_one(c.call(*cmd))[0]


def run(conns, *cmds):
    out = []
    for cmd in cmds:
        k, o = (val(c, *cmd) for c in conns)
        assert k == o, (cmd, k, o)
        out.append(k)
    return out


def test_help_and_errors(both):
    run(both, ["LATENCY", "HELP"], ["LATENCY"], ["LATENCY", "NOPE"], ["LATENCY", "HISTORY"],
        ["LATENCY", "HISTORY", "a", "b"], ["LATENCY", "GRAPH"], ["LATENCY", "LATEST", "x"],
        ["LATENCY", "DOCTOR", "x"], ["LATENCY", "HELP", "x"])


def test_empty_monitor(both):
    run(both, ["LATENCY", "LATEST"], ["LATENCY", "HISTORY", "command"],
        ["LATENCY", "GRAPH", "command"], ["LATENCY", "RESET"], ["LATENCY", "RESET", "a", "b"],
        ["LATENCY", "DOCTOR"])
    # enabled, nothing seen yet
    run(both, ["CONFIG", "SET", "latency-monitor-threshold", "100"],
        ["CONFIG", "GET", "latency-monitor-threshold"])
    k, o = (mask_ms(val(c, "LATENCY", "DOCTOR")) for c in both)
    assert k == o


def mask_ms(text):
    # The huge-pages advice depends on the process (Redis disables THP for
    # itself, disable-thp): not compared.
    text = re.sub(rb"- I detected a non zero amount of anonymous huge pages[^\n]*\n", b"",
                  bytes(text))
    return re.sub(rb"\d+(\.\d+)?", b"N", text)


def test_command_event(both):
    now = int(time.time())
    run(both, ["CONFIG", "SET", "latency-monitor-threshold", "50"], ["SET", "k", "v"],
        ["DEBUG", "SLEEP", "0.12"])
    latest = [val(c, "LATENCY", "LATEST") for c in both]
    for lat in latest:
        assert len(lat) == 1, lat
        name, ts, ms, mx = lat[0]
        assert name == b"command" and abs(ts - now) <= 3 and 120 <= ms <= 1000 and mx == ms
    hist = [val(c, "LATENCY", "HISTORY", "command") for c in both]
    for h in hist:
        assert len(h) == 1 and h[0][1] == latest[0][0][2] or h[0][1] >= 120
    graphs = [val(c, "LATENCY", "GRAPH", "command") for c in both]
    for c in both:  # a verbatim string over RESP3
        val(c, "HELLO", "3")
        assert isinstance(val(c, "LATENCY", "GRAPH", "command"), Verbatim)
        assert isinstance(val(c, "LATENCY", "DOCTOR"), Verbatim)
        val(c, "HELLO", "2")
    k, o = (bytes(g).split(b"\n") for g in graphs)
    assert mask_ms(k[0]) == mask_ms(o[0]) and k[1] == o[1] == b"-" * 80
    # one sample: the same drawing, and its label (seconds ago: masked)
    assert [mask_ms(x) for x in k[2:]] == [mask_ms(x) for x in o[2:]], (k, o)
    docs = [mask_ms(val(c, "LATENCY", "DOCTOR")) for c in both]
    assert docs[0] == docs[1]
    assert b"N. command: N latency spikes" in docs[0]
    # the event's name is looked up exactly; RESET is case-insensitive
    run(both, ["LATENCY", "HISTORY", "COMMAND"], ["LATENCY", "RESET", "nosuch"],
        ["LATENCY", "RESET", "COMMAND", "command"], ["LATENCY", "LATEST"])


def test_doctor_advice_with_slowlog_off(both):
    run(both, ["CONFIG", "SET", "latency-monitor-threshold", "20"],
        ["CONFIG", "SET", "slowlog-log-slower-than", "-1"], ["DEBUG", "SLEEP", "0.03"])
    try:
        docs = [mask_ms(val(c, "LATENCY", "DOCTOR")) for c in both]
        assert docs[0] == docs[1]
        assert b"CONFIG SET slowlog-log-slower-than N" in docs[0]
    finally:
        run(both, ["CONFIG", "SET", "slowlog-log-slower-than", "10000"])


def test_fast_commands_under_threshold(both):
    run(both, ["CONFIG", "SET", "latency-monitor-threshold", "1000"], ["SET", "a", "1"],
        ["GET", "a"], ["LATENCY", "LATEST"])


VALID_USEC = {(1024 * 2 ** k + (1 << max(0, (1024 * 2 ** k).bit_length() - 8)) - 1) // 1000
              for k in range(20)}


def check_cdf(entry, calls):
    assert entry[b"calls"] == calls, entry
    h = entry[b"histogram_usec"]
    assert h and set(h) <= VALID_USEC, h
    counts = [h[k] for k in sorted(h)]
    assert counts == sorted(counts) and len(set(counts)) == len(counts) and counts[-1] == calls


def histogram(c, *names):
    raw = val(c, "LATENCY", "HISTOGRAM", *names)
    if isinstance(raw, list):  # RESP2: flat arrays
        def to_map(a):
            return {a[i]: a[i + 1] for i in range(0, len(a), 2)}
        raw = to_map(raw)
        for k, v in raw.items():
            v = to_map(v)
            v[b"histogram_usec"] = to_map(v[b"histogram_usec"])
            raw[k] = v
    return raw


def test_histogram(both):
    run(both, *([["SET", "k", "v"]] * 5 + [["GET", "k"]] * 3 + [["CONFIG", "GET", "maxmemory"]]))
    for resp in ("2", "3"):
        hs = []
        for c in both:
            val(c, "HELLO", resp)
            hs.append(histogram(c, "set", "GET", "config", "nosuch", "config|get", "x|y|z"))
        k, o = hs
        assert set(k) == set(o) == {b"set", b"get", b"config|get", b"config|resetstat"}, (k, o)
        for h in hs:
            check_cdf(h[b"set"], 5)
            check_cdf(h[b"get"], 3)
        full = [histogram(c) for c in both]
        assert set(full[0]) == set(full[1])
        assert full[0][b"set"][b"calls"] == 5
    for c in both:
        val(c, "HELLO", "2")
    run(both, ["LATENCY", "HISTOGRAM", "nosuch"])
    # CONFIG RESETSTAT forgets them
    for c in both:
        val(c, "CONFIG", "RESETSTAT")
    k, o = (set(histogram(c)) for c in both)
    assert k == o and b"set" not in k


INFO_LINE = re.compile(rb"^latency_percentiles_usec_([a-z|\-]+):(.*)$")


def latencystats(c):
    text = bytes(val(c, "INFO", "latencystats")).decode()
    lines = text.split("\r\n")
    assert lines[0] == "# Latencystats"
    out = {}
    for line in lines[1:]:
        if not line:
            continue
        m = INFO_LINE.match(line.encode())
        assert m, line
        parts = m.group(2).decode().split(",") if m.group(2) else []
        keys = []
        for p in parts:
            k, v = p.split("=")
            assert re.fullmatch(r"\d+\.\d{3}", v), line
            keys.append(k)
        out[m.group(1).decode()] = keys
    return out


def test_info_latencystats(both):
    run(both, ["SET", "k", "v"], ["GET", "k"], ["CLIENT", "GETNAME"])
    k, o = (latencystats(c) for c in both)
    assert k["set"] == ["p50", "p99", "p99.9"]
    assert set(k) >= {"set", "get", "client|getname"} and set(k) == set(o) | set(k)
    assert {n: v for n, v in k.items() if n in o} == {n: v for n, v in o.items() if n in k}
    run(both, ["CONFIG", "SET", "latency-tracking-info-percentiles", "0 50.5 100 99.990"],
        ["CONFIG", "GET", "latency-tracking-info-percentiles"])
    k, o = (latencystats(c) for c in both)
    assert k["set"] == o["set"] == ["p0", "p50.5", "p100", "p99.99"]
    run(both, ["CONFIG", "SET", "latency-tracking-info-percentiles", ""],
        ["CONFIG", "GET", "latency-tracking-info-percentiles"])
    k, o = (latencystats(c) for c in both)
    assert k["set"] == o["set"] == []
    run(both, ["CONFIG", "SET", "latency-tracking-info-percentiles", "101"],
        ["CONFIG", "SET", "latency-tracking-info-percentiles", "abc"],
        ["CONFIG", "SET", "latency-tracking-info-percentiles", "-1"],
        ["CONFIG", "GET", "latency-tracking-info-percentiles"])
    # tracking off: the section is empty, nothing more is counted
    run(both, ["CONFIG", "SET", "latency-tracking", "no"], ["SET", "k", "w"])
    for c in both:
        assert bytes(val(c, "INFO", "latencystats")) == b"# Latencystats\r\n"
    k, o = (histogram(c, "set") for c in both)
    assert k[b"set"][b"calls"] == o[b"set"][b"calls"] == 1


def config_map(c, pattern):
    a = val(c, "CONFIG", "GET", pattern)
    return {a[i]: a[i + 1] for i in range(0, len(a), 2)}


def test_config_entries(both):
    k, o = (config_map(c, "latency-*") for c in both)
    assert k == o and len(k) == 3
    run(both, ["CONFIG", "SET", "latency-monitor-threshold", "-1"],
        ["CONFIG", "SET", "latency-monitor-threshold", "x"],
        ["CONFIG", "SET", "latency-tracking", "maybe"],
        ["CONFIG", "SET", "latency-tracking", "no", "latency-monitor-threshold", "7"])
    k, o = (config_map(c, "latency-*") for c in both)
    assert k == o and k[b"latency-monitor-threshold"] == b"7"


def test_threshold_on_keel_only_blocking_commands(keel):
    """A blocked command is sampled once served, with its own duration."""
    with RawConn(keel.port) as c, RawConn(keel.port) as b:
        c.call("CONFIG", "SET", "latency-monitor-threshold", "1")
        c.call("LATENCY", "RESET")
        b.send(encode(["BLPOP", "q", "0"]))
        time.sleep(0.3)
        c.call("RPUSH", "q", "x")
        assert parse_one(b.read_reply())[0] == [b"q", b"x"]
        lat = parse_one(c.call("LATENCY", "LATEST"))[0]
        assert all(e[0] != b"command" or e[2] < 300 for e in lat), lat
        c.call("CONFIG", "SET", "latency-monitor-threshold", "0")
        c.call("LATENCY", "RESET")
