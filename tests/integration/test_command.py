"""Differential tests: COMMAND and its subcommands, and DEBUG, Keel vs redis-server.

COMMAND INFO is compared byte for byte for every command Keel registers (RESP2
and RESP3); COMMAND DOCS for every command with the texts Keel writes itself
(summary, complexity, history descriptions) masked. Redis lists commands and
subcommands in hash order, so those lists are compared as sets, element by
element in raw bytes. A container's subcommands on Keel must be a subset of
Redis's (Keel implements some of them only).

DEBUG needs an oracle started with --enable-debug-command yes (a module-scoped
redis-server of its own).
"""

import glob
import json
import os
import re
import subprocess
import time

import pytest

import harness
from harness import RawConn, ServerProcess, cmds, encode, reply_end

SCHEMA_DIR = os.path.join(harness.REPO, "schemas", "commands")


def _not_in_7_0():
    """Full names of the schemas marked keel_not_in_7_0 (newer than the oracle)."""
    out = set()
    for path in glob.glob(os.path.join(SCHEMA_DIR, "*.json")):
        with open(path) as f:
            doc = json.load(f)
        for name, body in doc.items():
            if body.get("keel_not_in_7_0"):
                cont = body.get("container")
                out.add((cont.lower() + "|" + name.lower()) if cont else name.lower())
    return out


NOT_IN_7_0 = _not_in_7_0()


# --------------------------------------------------------------------------
# raw-reply helpers: split an aggregate into the raw bytes of its elements,
# and a typed parse (type byte kept) for masking

def elements(raw):
    """(header, [raw element]) of an aggregate reply ('*', '~', '%' count pairs twice)."""
    end = raw.index(b"\r\n")
    t, n = raw[:1], int(raw[1:end])
    if t == b"%":
        n *= 2
    out, pos = [], end + 2
    for _ in range(max(n, 0)):
        nxt = reply_end(raw, pos)
        out.append(raw[pos:nxt])
        pos = nxt
    assert pos == len(raw), "trailing bytes after aggregate"
    return raw[:end + 2], out


def tparse(buf, pos=0):
    """Typed parse: (type byte, value); aggregates hold lists of typed values."""
    t = buf[pos:pos + 1]
    end = buf.index(b"\r\n", pos)
    line = buf[pos + 1:end]
    nxt = end + 2
    if t in (b"$", b"=", b"!"):
        n = int(line)
        if n < 0:
            return (t, None), nxt
        return (t, buf[nxt:nxt + n]), nxt + n + 2
    if t in (b"*", b"~", b">", b"%"):
        n = int(line)
        if n < 0:
            return (t, None), nxt
        if t == b"%":
            n *= 2
        items = []
        for _ in range(n):
            v, nxt = tparse(buf, nxt)
            items.append(v)
        return (t, items), nxt
    return (t, line), nxt


def typed(raw):
    v, end = tparse(raw)
    assert end == len(raw)
    return v


def call(port, *cmd, resp3=False):
    with RawConn(port) as c:
        if resp3:
            c.send(encode(["HELLO", "3"]))
            c.read_reply()
        c.send(encode(list(cmd)))
        return c.read_reply(timeout=20)


def keel_names(port):
    """Every name Keel registers (commands and subcommands), from COMMAND LIST."""
    return sorted(n.decode() for n in harness.parse_one(call(port, "COMMAND", "LIST"))[0])


def sub_by_name(raw_subs):
    """{fullname: raw info} of COMMAND INFO's subcommand elements."""
    out = {}
    for e in raw_subs:
        _, parts = elements(e)
        out[harness.parse_one(parts[0])[0].decode()] = e
    return out


# --------------------------------------------------------------------------
# COMMAND INFO: every command, byte for byte

@pytest.mark.parametrize("resp3", [False, True], ids=["resp2", "resp3"])
def test_command_info_every_command(keel, oracle, resp3):
    names = [n for n in keel_names(keel.port) if n not in NOT_IN_7_0]
    assert len(names) > 10
    bad = []
    checked = 0
    for name in names:
        k = call(keel.port, "COMMAND", "INFO", name, resp3=resp3)
        r = call(oracle.port, "COMMAND", "INFO", name, resp3=resp3)
        if k == r:
            checked += 1
            continue
        # A container: its own fields byte for byte, its subcommands as a set
        # (hash order in Redis; Keel has a subset of them).
        _, [kinfo] = elements(k)
        _, [rinfo] = elements(r)
        kh, kparts = elements(kinfo)
        rh, rparts = elements(rinfo)
        if kh != rh or kparts[:9] != rparts[:9]:
            bad.append("%s\n  keel:  %r\n  redis: %r" % (name, k[:600], r[:600]))
            continue
        _, ksubs = elements(kparts[9])
        _, rsubs = elements(rparts[9])
        ks, rs = sub_by_name(ksubs), sub_by_name(rsubs)
        for sub, raw in ks.items():
            if sub in NOT_IN_7_0:
                continue
            if rs.get(sub) != raw:
                bad.append("%s (subcommand %s)\n  keel:  %r\n  redis: %r"
                           % (name, sub, raw, rs.get(sub)))
        checked += 1
    assert not bad, "%d/%d COMMAND INFO replies differ:\n%s" % (len(bad), len(names),
                                                               "\n".join(bad[:10]))
    assert checked == len(names)


def test_command_info_multi_and_unknown(diff):
    diff.both(cmds(
        "COMMAND INFO get set", "COMMAND INFO GET nosuch SET", "COMMAND INFO nosuch",
        "COMMAND INFO ''", "COMMAND INFO get|", "COMMAND INFO |get", "COMMAND INFO get|x",
        "COMMAND INFO object|encoding|x", "COMMAND INFO config|GET", "COMMAND INFO CONFIG|set",
        "COMMAND INFO object|nosuch", "COMMAND INFO OBJECT|ENCODING get OBJECT|REFCOUNT",
        "COMMAND INFO command|getkeys command|getkeysandflags command|count",
        ["COMMAND", "INFO", "g\x00et"], ["COMMAND", "INFO", "x" * 300],
    ))


def test_command_no_args_matches_info(keel):
    """COMMAND, COMMAND INFO (no names) and COMMAND COUNT agree, entry by entry."""
    all_raw = call(keel.port, "COMMAND")
    info_raw = call(keel.port, "COMMAND", "INFO")
    _, entries = elements(all_raw)
    _, entries2 = elements(info_raw)
    count = harness.parse_one(call(keel.port, "COMMAND", "COUNT"))[0]
    assert len(entries) == count == len(entries2)
    assert sorted(entries) == sorted(entries2)
    top = [n for n in keel_names(keel.port) if "|" not in n]
    assert len(top) == count
    by_name = sub_by_name(entries)
    assert sorted(by_name) == top
    for name in top[:200]:
        _, [one] = elements(call(keel.port, "COMMAND", "INFO", name))
        assert one == by_name[name], name


@pytest.mark.parametrize("resp3", [False, True], ids=["resp2", "resp3"])
def test_command_all_entries_match_oracle(keel, oracle, resp3):
    """COMMAND with no arguments: each of Keel's entries equals Redis's (non-containers)."""
    _, kent = elements(call(keel.port, "COMMAND", resp3=resp3))
    _, rent = elements(call(oracle.port, "COMMAND", resp3=resp3))
    rmap = sub_by_name(rent)
    containers = {n.split("|")[0] for n in keel_names(keel.port) if "|" in n}
    checked = 0
    for name, raw in sub_by_name(kent).items():
        if name in containers or name in NOT_IN_7_0:
            continue
        assert rmap.get(name) == raw, name
        checked += 1
    assert checked > 10


# --------------------------------------------------------------------------
# COMMAND DOCS: every command, texts masked

MASKED_DOC_KEYS = {b"summary", b"complexity"}


def mask_docs(v):
    """Typed docs map with Keel's own texts masked and subcommands sorted."""
    t, items = v
    assert t in (b"%", b"*"), v
    out = []
    for i in range(0, len(items), 2):
        key, val = items[i], items[i + 1]
        k = key[1]
        if k in MASKED_DOC_KEYS:
            val = (val[0], b"<masked>")
        elif k == b"history":
            val = (val[0], [(e[0], [e[1][0], (e[1][1][0], b"<masked>")]) for e in val[1]])
        elif k == b"subcommands":
            pairs = [(val[1][j], mask_docs(val[1][j + 1])) for j in range(0, len(val[1]), 2)]
            val = (val[0], sorted(pairs))
        out.append((key, val))
    return (t, out)


def docs_of(port, name, resp3):
    """(name, masked typed docs) for one command, or None when unknown."""
    v = typed(call(port, "COMMAND", "DOCS", name, resp3=resp3))
    if not v[1]:
        return None
    assert len(v[1]) == 2
    return v[1][0], mask_docs(v[1][1])


@pytest.mark.parametrize("resp3", [False, True], ids=["resp2", "resp3"])
def test_command_docs_every_command(keel, oracle, resp3):
    names = [n for n in keel_names(keel.port) if n not in NOT_IN_7_0]
    bad = []
    for name in names:
        k = docs_of(keel.port, name, resp3)
        r = docs_of(oracle.port, name, resp3)
        assert k is not None, name
        if k == r:
            continue
        # A container: Keel's subcommands are a subset of Redis's.
        kd, rd = dict(k[1][1]), dict(r[1][1]) if r else {}
        sk = [e for e in k[1][1] if e[0][1] == b"subcommands"]
        if r and sk:
            kother = [e for e in k[1][1] if e[0][1] != b"subcommands"]
            rother = [e for e in r[1][1] if e[0][1] != b"subcommands"]
            ksubs = dict(kd[(b"$", b"subcommands")][1])
            rsubs = dict(rd.get((b"$", b"subcommands"), (None, []))[1])
            if kother == rother and len(k[1][1]) == len(r[1][1]) and all(
                    rsubs.get(s) == d for s, d in ksubs.items()
                    if s[1].decode() not in NOT_IN_7_0):
                continue
        bad.append("%s\n  keel:  %r\n  redis: %r" % (name, k, r))
    assert not bad, "%d/%d COMMAND DOCS replies differ:\n%s" % (len(bad), len(names),
                                                               "\n".join(bad[:5]))


def test_command_docs_multi_and_unknown(keel, oracle, diff):
    diff.both(cmds("COMMAND DOCS nosuch", "COMMAND DOCS nosuch other", "COMMAND DOCS ''",
                   "COMMAND DOCS get|x", "COMMAND DOCS x|y|z"))
    for resp3 in (False, True):
        for line in ("COMMAND DOCS get nosuch set", "COMMAND DOCS GET get",
                     "COMMAND DOCS config|get object|encoding"):
            k = typed(call(keel.port, *line.split(), resp3=resp3))
            r = typed(call(oracle.port, *line.split(), resp3=resp3))
            assert k[0] == r[0] and len(k[1]) == len(r[1]), line
            km = [(k[1][i], mask_docs(k[1][i + 1])) for i in range(0, len(k[1]), 2)]
            rm = [(r[1][i], mask_docs(r[1][i + 1])) for i in range(0, len(r[1]), 2)]
            assert km == rm, line


def test_command_docs_all(keel):
    """COMMAND DOCS without names: one entry per top-level command."""
    v = typed(call(keel.port, "COMMAND", "DOCS", resp3=True))
    names = sorted(v[1][i][1].decode() for i in range(0, len(v[1]), 2))
    top = [n for n in keel_names(keel.port) if "|" not in n]
    assert names == top
    v2 = typed(call(keel.port, "COMMAND", "DOCS"))
    assert v2[0] == b"*" and len(v2[1]) == 2 * len(top)


def test_command_docs_debug_hides_keel_grammar(keel):
    """DEBUG's grammar is Keel's (keel_arguments): COMMAND DOCS shows none, as Redis."""
    v = typed(call(keel.port, "COMMAND", "DOCS", "debug", resp3=True))
    keys = [v[1][1][1][i][1] for i in range(0, len(v[1][1][1]), 2)]
    assert b"arguments" not in keys
    assert b"doc_flags" in keys


# --------------------------------------------------------------------------
# COMMAND COUNT / LIST / HELP / errors

def test_command_count_and_list(keel, oracle):
    kcount = harness.parse_one(call(keel.port, "COMMAND", "COUNT"))[0]
    klist = set(harness.parse_one(call(keel.port, "COMMAND", "LIST"))[0])
    rlist = set(harness.parse_one(call(oracle.port, "COMMAND", "LIST"))[0])
    assert kcount == len([n for n in klist if b"|" not in n]) == len(klist) - len(
        [n for n in klist if b"|" in n])
    extra = {n for n in klist - rlist if n.decode() not in NOT_IN_7_0}
    assert not extra, "Keel lists commands Redis 7.0 does not have: %r" % extra
    assert b"command|getkeysandflags" in klist and b"config|set" in klist


@pytest.mark.parametrize("filt", [
    ["ACLCAT", "string"], ["ACLCAT", "STRING"], ["ACLCAT", "keyspace"], ["ACLCAT", "admin"],
    ["ACLCAT", "slow"], ["ACLCAT", "fast"], ["ACLCAT", "connection"], ["ACLCAT", "dangerous"],
    ["ACLCAT", "write"], ["ACLCAT", "read"], ["ACLCAT", "nosuch"], ["ACLCAT", "@string"],
    ["PATTERN", "g*t"], ["PATTERN", "config*"], ["PATTERN", "*|*"], ["PATTERN", "CONFIG|G*"],
    ["PATTERN", "?et"], ["PATTERN", "[gs]et"], ["PATTERN", "*"], ["PATTERN", "nomatch"],
    ["MODULE", "m"], ["MODULE", ""],
])
def test_command_list_filterby(keel, oracle, filt):
    """Keel's filtered list = Redis's filtered list restricted to Keel's commands."""
    klist = set(harness.parse_one(call(keel.port, "COMMAND", "LIST"))[0])
    k = harness.parse_one(call(keel.port, "COMMAND", "LIST", "FILTERBY", *filt))[0]
    r = harness.parse_one(call(oracle.port, "COMMAND", "LIST", "FILTERBY", *filt))[0]
    assert isinstance(k, list) and len(k) == len(set(k))
    k = {n for n in k if n.decode() not in NOT_IN_7_0}
    assert set(k) == set(r) & klist, (sorted(set(k) ^ (set(r) & klist)))


def test_command_list_errors(diff):
    diff.both(cmds(
        "COMMAND LIST x", "COMMAND LIST FILTERBY", "COMMAND LIST FILTERBY PATTERN",
        "COMMAND LIST FILTERBY FOO x", "COMMAND LIST FILTERBY PATTERN a FILTERBY PATTERN b",
        "COMMAND LIST FILTERBY PATTERN a FILTERBY ACLCAT b", "COMMAND LIST FILTERBY PATTERN a b",
        "COMMAND LIST filterby pattern nomatch", "COMMAND LIST FILTERBY MODULE nosuch",
        "COMMAND LIST FILTERBY ACLCAT nosuch", "COMMAND LIST FILTERBY PATTERN get",
    ))


def test_command_help_and_errors(diff):
    diff.both(cmds(
        "COMMAND HELP", "command help", "COMMAND HELP x", "COMMAND FOO", "command foo bar",
        "COMMAND COUNT x", ["COMMAND", "x" * 200],
    ))


# --------------------------------------------------------------------------
# COMMAND GETKEYS / GETKEYSANDFLAGS

GETKEYS_LINES = [
    # errors
    "COMMAND GETKEYS", "COMMAND GETKEYS get", "COMMAND GETKEYS nosuch a",
    "COMMAND GETKEYS ping x", "COMMAND GETKEYS echo x", "COMMAND GETKEYS get a b",
    "COMMAND GETKEYS set a", "COMMAND GETKEYS object nosub k", "COMMAND GETKEYS config get x",
    "COMMAND GETKEYS config set a b", "COMMAND GETKEYS command info get",
    "COMMAND GETKEYS mset a", "COMMAND GETKEYS mset a b c", "COMMAND GETKEYS client kill x",
    "COMMAND GETKEYS select 1", "COMMAND GETKEYS keys *", "COMMAND GETKEYS scan 0",
    "COMMAND GETKEYS dbsize x", "COMMAND GETKEYS flushall x", "COMMAND GETKEYS debug object k",
    # single keys
    "COMMAND GETKEYS get a", "COMMAND GETKEYS GET a", "COMMAND GETKEYS set k v",
    "COMMAND GETKEYS set k v get", "COMMAND GETKEYS set k v EX 10 NX",
    "COMMAND GETKEYS setnx k v", "COMMAND GETKEYS setex k 10 v", "COMMAND GETKEYS psetex k 10 v",
    "COMMAND GETKEYS getex k", "COMMAND GETKEYS getex k PERSIST", "COMMAND GETKEYS getdel k",
    "COMMAND GETKEYS getset k v", "COMMAND GETKEYS append k v", "COMMAND GETKEYS strlen k",
    "COMMAND GETKEYS incr k", "COMMAND GETKEYS incrby k 1", "COMMAND GETKEYS decr k",
    "COMMAND GETKEYS decrby k 1", "COMMAND GETKEYS incrbyfloat k 1.5",
    "COMMAND GETKEYS getrange k 0 1", "COMMAND GETKEYS setrange k 0 v",
    "COMMAND GETKEYS substr k 0 1", "COMMAND GETKEYS type k", "COMMAND GETKEYS ttl k",
    "COMMAND GETKEYS pttl k", "COMMAND GETKEYS expire k 10", "COMMAND GETKEYS expire k 10 NX",
    "COMMAND GETKEYS pexpire k 10", "COMMAND GETKEYS expireat k 10",
    "COMMAND GETKEYS pexpireat k 10", "COMMAND GETKEYS expiretime k",
    "COMMAND GETKEYS pexpiretime k", "COMMAND GETKEYS persist k", "COMMAND GETKEYS move k 1",
    "COMMAND GETKEYS object encoding k", "COMMAND GETKEYS object freq k",
    "COMMAND GETKEYS object idletime k", "COMMAND GETKEYS object refcount k",
    "COMMAND GETKEYS OBJECT ENCODING k",
    # several keys
    "COMMAND GETKEYS mget a", "COMMAND GETKEYS mget a b c", "COMMAND GETKEYS mset a 1 b 2",
    "COMMAND GETKEYS msetnx a 1 b 2 c 3", "COMMAND GETKEYS del a", "COMMAND GETKEYS del a b c",
    "COMMAND GETKEYS unlink a b", "COMMAND GETKEYS exists a b a", "COMMAND GETKEYS touch a b",
    "COMMAND GETKEYS rename a b", "COMMAND GETKEYS renamenx a b", "COMMAND GETKEYS copy a b",
    "COMMAND GETKEYS copy a b DB 1 REPLACE", "COMMAND GETKEYS lcs a b",
    "COMMAND GETKEYS lcs a b LEN IDX", "COMMAND GETKEYS mset a 1 b",
    # binary and odd keys
    ["COMMAND", "GETKEYS", "get", b"\x00\xff\r\n"], ["COMMAND", "GETKEYS", "mget", "", ""],
]


def _getkeys_lines(keel):
    """GETKEYS lines whose command Keel registers (others would differ by design)."""
    names = set(keel_names(keel.port))
    out = []
    for line in GETKEYS_LINES:
        words = line.split() if isinstance(line, str) else line
        if len(words) >= 3:
            name = str(words[2]).lower()
            sub = "%s|%s" % (name, str(words[3]).lower()) if len(words) > 3 else None
            if name not in names and name not in ("nosuch",):
                continue
            if sub and sub in NOT_IN_7_0:
                continue
        out.append(words)
    return out


def test_command_getkeys(keel, diff):
    lines = _getkeys_lines(keel)
    assert len(lines) > 40
    diff.both(lines)


def test_command_getkeysandflags(keel, diff):
    lines = [["COMMAND", "GETKEYSANDFLAGS"] + list(w[2:]) for w in _getkeys_lines(keel)]
    diff.both(lines)


# --------------------------------------------------------------------------
# DEBUG (against an oracle with the DEBUG command enabled)

@pytest.fixture(scope="module")
def debug_oracle():
    def argv(port):
        return harness.oracle_argv(port) + ["--enable-debug-command", "yes"]
    srv = ServerProcess("redis-oracle-debug", argv)
    srv.start()
    yield srv
    srv.stop()
    srv.cleanup()


def debug_diff(keel, debug_oracle):
    return harness.Differ(keel.port, debug_oracle.port)


DEBUG_OBJECT_RE = re.compile(
    rb"^\+Value at:0x[0-9a-f]+ refcount:(\d+) encoding:(\w+) serializedlength:(\d+) "
    rb"lru:\d+ lru_seconds_idle:(\d+)\r\n$")


class DebugObject(harness.Cmd):
    """DEBUG OBJECT: address and lru clock masked, the rest compared."""

    def same(self, a, b):
        if a == b:
            return True
        ma, mb = DEBUG_OBJECT_RE.match(a), DEBUG_OBJECT_RE.match(b)
        return bool(ma and mb and ma.groups() == mb.groups())


def test_debug_errors(keel, debug_oracle):
    d = debug_diff(keel, debug_oracle)
    d.both(cmds(
        "DEBUG", "DEBUG FOO", "debug foo bar", "DEBUG JMAP", "DEBUG SLEEP", "DEBUG SLEEP 0 1",
        "DEBUG OBJECT", "DEBUG OBJECT k x", "DEBUG SET-ACTIVE-EXPIRE",
        "DEBUG SET-ACTIVE-EXPIRE 1 2", "DEBUG HELP x", "DEBUG ERROR", "DEBUG ERROR a b",
        "DEBUG LOG", "DEBUG LOG a b", "debug sleep", ["DEBUG", "x" * 200],
        ["DEBUG", "a\r\nb"],
    ))


def test_debug_sleep(keel, debug_oracle):
    d = debug_diff(keel, debug_oracle)
    d.both(cmds("DEBUG SLEEP 0", "DEBUG SLEEP abc", "DEBUG SLEEP 0.01", "DEBUG SLEEP -1",
                "DEBUG SLEEP 1e-9", "DEBUG SLEEP inf", "DEBUG SLEEP nan", "DEBUG SLEEP ''",
                "debug sleep 0.001", "DEBUG SLEEP 1e300"))
    t0 = time.monotonic()
    assert call(keel.port, "DEBUG", "SLEEP", "0.3") == b"+OK\r\n"
    assert time.monotonic() - t0 >= 0.28


def test_debug_sleep_blocks_server(keel):
    """The server does nothing else while DEBUG SLEEP runs (as Redis)."""
    with RawConn(keel.port) as a, RawConn(keel.port) as b:
        a.send(encode(["DEBUG", "SLEEP", "0.4"]))
        time.sleep(0.05)
        t0 = time.monotonic()
        assert b.call("PING") == b"+PONG\r\n"
        assert time.monotonic() - t0 >= 0.2
        assert a.read_reply() == b"+OK\r\n"


def test_debug_object(keel, debug_oracle):
    d = debug_diff(keel, debug_oracle)
    lines = [
        "DEBUG OBJECT nokey", "SET k v", DebugObject(["DEBUG", "OBJECT", "k"]),
        "SET n 123", DebugObject(["DEBUG", "OBJECT", "n"]),
        "SET n 0", DebugObject(["DEBUG", "OBJECT", "n"]),
        "SET n 9999", DebugObject(["DEBUG", "OBJECT", "n"]),
        "SET n 10000", DebugObject(["DEBUG", "OBJECT", "n"]),
        "SET n -1", DebugObject(["DEBUG", "OBJECT", "n"]),
        "SET n -129", DebugObject(["DEBUG", "OBJECT", "n"]),
        "SET n 1000000", DebugObject(["DEBUG", "OBJECT", "n"]),
        "SET n 12345678901", DebugObject(["DEBUG", "OBJECT", "n"]),
        "SET n -9223372036854775808", DebugObject(["DEBUG", "OBJECT", "n"]),
        "SET e ''", DebugObject(["DEBUG", "OBJECT", "e"]),
        "SET s 0123", DebugObject(["DEBUG", "OBJECT", "s"]),
        "SET s abcdefghijklmnopqrstuvwxyz", DebugObject(["DEBUG", "OBJECT", "s"]),
        "SET s 12345678901234567890123", DebugObject(["DEBUG", "OBJECT", "s"]),
        ["SET", "big", "a" * 63], DebugObject(["DEBUG", "OBJECT", "big"]),
        ["SET", "big", "ab" * 5000], DebugObject(["DEBUG", "OBJECT", "big"]),
        ["SET", "rnd", bytes(range(256)) * 2], DebugObject(["DEBUG", "OBJECT", "rnd"]),
        ["SET", "k44", "x" * 44], DebugObject(["DEBUG", "OBJECT", "k44"]),
        ["SET", "k45", "x" * 45], DebugObject(["DEBUG", "OBJECT", "k45"]),
        "SET k v PX 1", "DEBUG SLEEP 0.01", DebugObject(["DEBUG", "OBJECT", "k"]), "EXISTS k",
        "DEBUG OBJECT k",
    ]
    d.both(lines)


def test_debug_object_idle(keel):
    c = RawConn(keel.port)
    try:
        assert c.call("SET", "idle", "v") == b"+OK\r\n"
        time.sleep(2.2)
        m = DEBUG_OBJECT_RE.match(c.call("DEBUG", "OBJECT", "idle"))
        assert m and int(m.group(4)) >= 1
    finally:
        c.close()


def test_debug_set_active_expire(keel, debug_oracle):
    d = debug_diff(keel, debug_oracle)
    d.both(cmds("DEBUG SET-ACTIVE-EXPIRE 0", "DEBUG SET-ACTIVE-EXPIRE 1",
                "DEBUG SET-ACTIVE-EXPIRE 2", "DEBUG SET-ACTIVE-EXPIRE abc",
                "debug set-active-expire 1"))
    with RawConn(keel.port) as c:
        try:
            assert c.call("DEBUG", "SET-ACTIVE-EXPIRE", "0") == b"+OK\r\n"
            assert c.call("CONFIG", "GET", "active-expire-enabled") == \
                b"*2\r\n$21\r\nactive-expire-enabled\r\n$2\r\nno\r\n"
            assert c.call("SET", "ae", "v", "PX", "50") == b"+OK\r\n"
            time.sleep(0.6)
            # Nobody touched the key: with active expiry off it is still stored.
            assert DEBUG_OBJECT_RE.match(c.call("DEBUG", "OBJECT", "ae"))
            assert c.call("DEBUG", "SET-ACTIVE-EXPIRE", "1") == b"+OK\r\n"
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                if c.call("DEBUG", "OBJECT", "ae") == b"-ERR no such key\r\n":
                    break
                time.sleep(0.1)
            assert c.call("DEBUG", "OBJECT", "ae") == b"-ERR no such key\r\n"
        finally:
            c.call("DEBUG", "SET-ACTIVE-EXPIRE", "1")


def test_debug_error_and_log(keel, debug_oracle):
    d = debug_diff(keel, debug_oracle)
    d.both(cmds("DEBUG ERROR foo", "DEBUG ERROR 'ERR custom'", "DEBUG ERROR '-WRONG x'",
                "DEBUG ERROR ''", ["DEBUG", "ERROR", "a\r\nb\nc"], "DEBUG LOG hello",
                "DEBUG LOG ''", "debug error x"))


def test_debug_help(keel):
    rep = call(keel.port, "DEBUG", "HELP")
    lines = harness.parse_one(rep)[0]
    assert lines[0] == b"DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    for sub in (b"SLEEP <seconds>", b"OBJECT <key>", b"SET-ACTIVE-EXPIRE <0|1>"):
        assert sub in lines
    assert lines[-2:] == [b"HELP", b"    Prints this help."]


# --------------------------------------------------------------------------
# enable-debug-command (DEBUG carries the PROTECTED flag; the kernel refuses it
# unless the option allows it). The test harness starts Keel with
# --enable-debug-command yes; these tests start servers of their own.

DEBUG_REFUSED = (b'-ERR DEBUG command not allowed. If the enable-debug-command option is set to '
                 b'"local", you can run it from a local connection, otherwise you need to set '
                 b'this option in the configuration file, and then restart the server.\r\n')


def _keel_argv_debug(mode, *extra):
    """Keel's argv without the harness's --enable-debug-command yes."""
    def argv(port):
        a = harness.keel_argv(port)
        i = a.index("--enable-debug-command")
        del a[i:i + 2]
        if mode is not None:
            a += ["--enable-debug-command", mode]
        return a + list(extra)
    return argv


def _oracle_argv_debug(mode, *extra):
    def argv(port):
        # protected mode would answer -DENIED to a client from 127.0.0.2
        a = harness.oracle_argv(port) + ["--protected-mode", "no"]
        if mode is not None:
            a += ["--enable-debug-command", mode]
        return a + list(extra)
    return argv


@pytest.fixture
def debug_pair(request):
    """debug_pair(mode, *extra) -> (keel, redis) started with that option."""
    made = []

    def start(mode, *extra):
        k = ServerProcess("keel-debug-%s" % mode, _keel_argv_debug(mode, *extra))
        r = ServerProcess("redis-debug-%s" % mode, _oracle_argv_debug(mode, *extra))
        made.extend([k, r])
        k.start()
        r.start()
        return k, r
    yield start
    problems = []
    for s in made:
        p = s.stop()
        s.cleanup()
        if p:
            problems.append(p)
    assert not problems, problems


def _replies_from(port, source, lines):
    """Raw replies to lines (one at a time) on a connection from address source."""
    with RawConn(port, source=source) as c:
        out = []
        for line in cmds(*lines):
            c.send(encode(line))
            out.append(c.read_reply())
        return out


REFUSAL_SCRIPT = ["DEBUG SLEEP 0", "debug help", "DEBUG", "DEBUG OBJECT k", "MULTI",
                  "DEBUG SLEEP 0", "SET k v", "EXEC", "GET k", "CONFIG GET enable-debug-command",
                  "CONFIG SET enable-debug-command yes", "DEBUG SLEEP 0"]


@pytest.mark.parametrize("mode", [None, "no"])
def test_debug_refused_by_default(debug_pair, mode):
    """Without enable-debug-command (or with no): Redis 7.0's refusal, after the
    arity check, inside MULTI (EXECABORT), counted as rejected; the option is
    immutable. The same bytes as redis-server 7.0."""
    k, r = debug_pair(mode)
    got = {}
    for srv in (k, r):
        got[srv] = _replies_from(srv.port, "127.0.0.1", REFUSAL_SCRIPT)
    assert got[k] == got[r]
    assert got[k][0] == DEBUG_REFUSED
    assert got[k][2] == b"-ERR wrong number of arguments for 'debug' command\r\n"
    assert got[k][7].startswith(b"-EXECABORT")
    stats = call(k.port, "INFO", "commandstats")
    assert b"cmdstat_debug:calls=0,usec=0,usec_per_call=0.00,rejected_calls=6,failed_calls=0" \
        in stats, stats


def test_debug_refused_before_auth(debug_pair):
    """As Redis 7.0: the protected check comes before NOAUTH."""
    k, r = debug_pair("no")
    lines = ["DEBUG SLEEP 0", "GET k", "AUTH pw", "DEBUG SLEEP 0", "CONFIG SET requirepass ''"]
    got = []
    for srv in (k, r):
        assert call(srv.port, "CONFIG", "SET", "requirepass", "pw") == b"+OK\r\n"
        got.append(_replies_from(srv.port, "127.0.0.1", lines))
    assert got[0] == got[1]
    a = got[0]
    assert a[0] == DEBUG_REFUSED and a[1].startswith(b"-NOAUTH") and a[3] == DEBUG_REFUSED


def test_debug_local(debug_pair):
    """local: allowed from 127.0.0.1, refused from another address (a client
    bound to 127.0.0.2 reaching the server on 127.0.0.1), as redis-server 7.0."""
    k, r = debug_pair("local")
    for srv in (k, r):
        got = _replies_from(srv.port, "127.0.0.1", ["DEBUG SLEEP 0",
                                                    "CONFIG GET enable-debug-command"])
        assert got == [b"+OK\r\n", b"*2\r\n$20\r\nenable-debug-command\r\n$5\r\nlocal\r\n"], \
            srv.name
        assert _replies_from(srv.port, "127.0.0.2", ["DEBUG SLEEP 0", "PING"]) == \
            [DEBUG_REFUSED, b"+PONG\r\n"], srv.name


def test_debug_yes_from_any_address(debug_pair):
    k, r = debug_pair("yes")
    for srv in (k, r):
        assert _replies_from(srv.port, "127.0.0.2", ["DEBUG SLEEP 0"]) == [b"+OK\r\n"], srv.name


def test_debug_command_bad_value(tmp_path):
    """A value other than no / yes / local stops the start with Redis's words."""
    out = subprocess.run([harness.keel_bin(), "--port", "0", "--http-port", "0",
                          "--enable-debug-command", "maybe"], capture_output=True, timeout=20,
                         cwd=str(tmp_path))
    assert out.returncode != 0
    assert b"argument(s) must be one of the following: no, yes, local" in out.stderr


def test_debug_over_http_follows_enable_debug_command():
    """Not in http-disabled-commands, DEBUG over HTTP is still the kernel's to
    refuse (the same check as over RESP): no refuses it; local allows it from
    127.0.0.1 and refuses an HTTP client bound to 127.0.0.2."""
    import http.client
    from test_http_helpers import HOST, KeelHttp, get
    refused = {"DEBUG": [False, DEBUG_REFUSED[1:-2].decode()]}
    servers = []
    try:
        for mode in ("no", "local"):
            srv = KeelHttp(["--http-disabled-commands", "", "--enable-debug-command", mode],
                           name="keel-http-debug-" + mode)
            servers.append(srv)
            srv.start()
        no, local = servers
        assert json.loads(get(no.http, "/DEBUG/SLEEP/0").body) == refused
        assert json.loads(get(local.http, "/DEBUG/SLEEP/0").body) == {"DEBUG": [True, "OK"]}
        c = http.client.HTTPConnection(HOST, local.http, timeout=5,
                                       source_address=("127.0.0.2", 0))
        try:
            c.request("GET", "/DEBUG/SLEEP/0")
            r = c.getresponse()
            assert r.status == 200
            assert json.loads(r.read()) == refused
        finally:
            c.close()
    finally:
        problems = [p for p in (s.stop() for s in servers) if p]
        assert not problems, problems
