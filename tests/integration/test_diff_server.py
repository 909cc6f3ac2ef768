"""Differential tests: server and connection commands, Keel vs redis-server.

Fields that legitimately differ (server name, version, client id, doc texts)
are masked; everything else is compared byte for byte.
"""

import pytest

from harness import Parsed, RawConn, cmds, encode, parse_one

CASES = {
    # ------------------------------------------------------------ PING/ECHO
    "ping": ["PING", "PING hello", 'PING ""', "PING a b", "ping", "PiNg x"],
    "ping_binary": [["PING", b"\x00\r\n\xff"]],
    "echo": ["ECHO hello", 'ECHO ""', "ECHO", "ECHO a b", ["ECHO", b"\x00\x01\r\n" * 100]],
    # ------------------------------------------------------- SELECT/SWAPDB
    "select": ["SELECT 0", "SELECT 15", "SELECT 16", "SELECT -1", "SELECT abc", "SELECT 1.5",
               "SELECT ''", "SELECT 99999999999999999999", "SELECT", "SELECT 1 2",
               "SET k v", "SELECT 0", "GET k", "SELECT 15", "GET k"],
    "select_isolates": ["SET k zero", "SELECT 1", "GET k", "SET k one", "SELECT 0", "GET k",
                        "DBSIZE", "SELECT 1", "DBSIZE"],
    "swapdb": ["SET k zero", "SELECT 1", "SET k one", "SET only1 x", "SWAPDB 0 1", "GET k",
               "DBSIZE", "SELECT 0", "GET k", "DBSIZE", "SWAPDB 0 0", "GET k",
               "SWAPDB 1 0", "GET k"],
    "swapdb_errors": ["SWAPDB 0 16", "SWAPDB 16 0", "SWAPDB -1 0", "SWAPDB a 1", "SWAPDB 0 b",
                      "SWAPDB a b", "SWAPDB 0", "SWAPDB", "SWAPDB 0 1 2", "SWAPDB 1.5 0"],
    "swapdb_ttl": ["SET k v EX 100", "SWAPDB 0 5", "SELECT 5", "TTL k"],
    # ---------------------------------------------------- DBSIZE / FLUSH*
    "dbsize": ["DBSIZE", "MSET a 1 b 2 c 3", "DBSIZE", "DEL a", "DBSIZE", "DBSIZE x"],
    "flushdb": ["MSET a 1 b 2", "SELECT 1", "SET c 3", "FLUSHDB", "DBSIZE", "SELECT 0",
                "DBSIZE", "FLUSHDB SYNC", "DBSIZE", "SET a 1", "FLUSHDB ASYNC", "DBSIZE",
                "FLUSHDB sync", "FLUSHDB FOO", "FLUSHDB SYNC ASYNC", "FLUSHDB ASYNC ASYNC"],
    "flushall": ["MSET a 1 b 2", "SELECT 3", "SET c 3", "FLUSHALL", "DBSIZE", "SELECT 0",
                 "DBSIZE", "SET a 1", "FLUSHALL ASYNC", "DBSIZE", "SET a 1", "FLUSHALL SYNC",
                 "DBSIZE", "FLUSHALL FOO", "FLUSHALL SYNC ASYNC", "flushall async"],
    # -------------------------------------------------------------- arity
    "arity_strings": ["GET", "GET a b", "SET", "SET a", "SETNX a", "SETEX a 1", "PSETEX a 1",
                      "MGET", "MSET", "MSET a", "MSETNX", "GETSET a", "GETDEL", "GETEX",
                      "APPEND a", "STRLEN", "INCR", "DECR", "INCRBY a", "DECRBY a",
                      "INCRBYFLOAT a", "GETRANGE a 0", "SETRANGE a 0", "SUBSTR a 0", "LCS a"],
    "arity_keys": ["DEL", "UNLINK", "EXISTS", "TYPE", "TOUCH", "EXPIRE a", "PEXPIRE a",
                   "EXPIREAT a", "PEXPIREAT a", "TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME",
                   "PERSIST", "KEYS", "SCAN", "RANDOMKEY a", "RENAME a", "RENAMENX a",
                   "COPY a", "MOVE a", "OBJECT", "DBSIZE a"],
    "arity_server": ["PING a b", "ECHO", "SELECT", "SWAPDB 0", "FLUSHDB a b c", "AUTH",
                     "AUTH a b c", "CLIENT", "HELLO 3 AUTH",
                     "HELLO 3 AUTH default", "CLIENT SETNAME", "CLIENT GETNAME x"],
    "arity_lowercase_name": ["get", "Set k", "mGeT", "expire k"],
    # --------------------------------------------------- unknown commands
    "unknown_command": ["FOO a b", "FOO", "foo", "FOO ''", 'FOO "a b" c',
                        ["FOO", "x" * 200], ["FOO", "a" * 50, "b" * 50, "c" * 50, "d"],
                        ["FOO\r\nBAR", "x\ny"], ["", "a"], ["FOO", b"\x00\xff"]],
    "unknown_subcommand": ["OBJECT FOO", "OBJECT FOO bar", "CLIENT FOO", "COMMAND FOO",
                           "CONFIG FOO", "object foo"],
    "case_insensitive": ["sEt k v", "gEt k", "Get k", "SET K v2", "GET K", "get k",
                         "oBjEcT eNcOdInG k", "ExIsTs k K", "dEl K"],
    # --------------------------------------------------------------- AUTH
    "auth_no_password": ["AUTH foo", "AUTH default foo", "AUTH default ''", "AUTH a b c",
                         "AUTH nouser pass", "PING"],
    # ------------------------------------------------------------- CLIENT
    "client_name": ["CLIENT GETNAME", "CLIENT SETNAME myname", "CLIENT GETNAME",
                    "CLIENT SETNAME 'with space'", "CLIENT SETNAME 'new\nline'",
                    "CLIENT GETNAME", ['CLIENT', 'SETNAME', 'a\x01b'],
                    ['CLIENT', 'SETNAME', 'caf\xe9'], "CLIENT SETNAME ''",
                    "CLIENT GETNAME", "CLIENT SETNAME a b", "CLIENT GETNAME x",
                    "client setname LOWER", "CLIENT getname"],
    "client_errors": ["CLIENT", "CLIENT FOO", "CLIENT SETNAME", "CLIENT KILL",
                      "CLIENT NO-EVICT maybe"],
    # ------------------------------------------------------------- HELLO
    "hello_errors": ["HELLO 4", "HELLO 1", "HELLO 0", "HELLO -1", "HELLO abc", "HELLO 3.0",
                     "HELLO 3 FOO", "HELLO 3 SETNAME", "HELLO 3 AUTH default",
                     "HELLO 2 AUTH nouser x", "HELLO 3 SETNAME 'a b'", "HELLO 2 FOO BAR"],
    # ------------------------------------------------------------- COMMAND
    "command_info": ["COMMAND INFO get", "COMMAND INFO set", "COMMAND INFO object|encoding",
                     "COMMAND INFO GET SET", "COMMAND INFO nosuchcommand",
                     "COMMAND INFO get nosuch set", "COMMAND INFO incr", "COMMAND INFO mset",
                     "COMMAND INFO del", "COMMAND INFO lcs", "COMMAND INFO getex",
                     "COMMAND INFO expire", "COMMAND INFO scan", "COMMAND INFO ping",
                     "COMMAND INFO hello", "COMMAND INFO client|setname",
                     "COMMAND INFO OBJECT|ENCODING", "COMMAND INFO object|nosuch"],
    "command_getkeys": ["COMMAND GETKEYS set k v", "COMMAND GETKEYS mset a 1 b 2",
                        "COMMAND GETKEYS get", "COMMAND GETKEYS get a b",
                        "COMMAND GETKEYS foo bar", "COMMAND GETKEYS ping x",
                        "COMMAND GETKEYS del a b c", "COMMAND GETKEYS copy a b",
                        "COMMAND GETKEYS lcs a b", "COMMAND GETKEYS object encoding k"],
    # --------------------------------------------------------------- QUIT
    "quit": ["SET k v", "QUIT", "GET k"],
    "quit_with_arg": ["QUIT x"],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_server(diff, name):
    diff(cmds(*CASES[name]))


RESP3_CASES = ["ping", "echo", "select", "dbsize", "unknown_command", "client_name",
               "hello_errors", "command_info", "command_getkeys", "auth_no_password"]


@pytest.mark.parametrize("name", RESP3_CASES)
def test_server_resp3(diff, name):
    diff.resp3(cmds(*CASES[name]))


INLINE_CASES = {
    "inline_ping_echo": ["PING", "PING hi", "ECHO 'a b'", "echo x"],
    "inline_unknown": ["FOO a b", "FOO"],
    "inline_select": ["SELECT 1", "SET k v", "SELECT 0", "GET k", "SELECT 99"],
}


@pytest.mark.parametrize("name", sorted(INLINE_CASES))
def test_server_inline(diff, name):
    diff.inline(INLINE_CASES[name])


# ----------------------------------------------------- COMMAND INFO (containers)

def _norm_info(v):
    """COMMAND INFO with each command's subcommand list sorted by name (Redis
    lists subcommands in hash-table order, which differs between processes)."""
    if not isinstance(v, list):
        return v
    out = []
    for entry in v:
        if isinstance(entry, list) and len(entry) >= 10 and isinstance(entry[9], list):
            # CLIENT SETINFO is Redis 7.2's; Keel has it, 7.0.15 does not.
            subs = [e for e in entry[9] if not (isinstance(e, list) and e
                                                and e[0] in (b"client|setinfo", "client|setinfo"))]
            entry = entry[:9] + [sorted(_norm_info(subs), key=lambda e: e[0])] + entry[10:]
        out.append(entry)
    return repr(out)


CONTAINER_INFO = ["object", "client", "command", "config", "object|help", "cluster",
                  "readonly readwrite asking"]


@pytest.mark.parametrize("name", CONTAINER_INFO)
@pytest.mark.parametrize("resp3", [False, True], ids=["resp2", "resp3"])
def test_command_info_container(diff, name, resp3):
    diff([Parsed(["COMMAND", "INFO"] + name.split(), _norm_info)], resp3=resp3)


# ------------------------------------------------------------------ HELLO

MASKED_HELLO_FIELDS = {b"server", b"version", b"id"}


def _mask_hello(v):
    if isinstance(v, dict):
        items = list(v.items())
    elif isinstance(v, list):
        items = list(zip(v[0::2], v[1::2]))
    else:
        return v
    return [(k, None if k in MASKED_HELLO_FIELDS else val) for k, val in items]


def H(line):
    return Parsed(cmds(line)[0], _mask_hello)


HELLO_CASES = {
    "hello_plain": [H("HELLO")],
    "hello_2": [H("HELLO 2"), "PING", "GET missing"],
    "hello_3": [H("HELLO 3"), "PING", "GET missing", H("HELLO 2"), "GET missing"],
    "hello_3_then_plain": [H("HELLO 3"), H("HELLO")],
    "hello_setname": [H("HELLO 3 SETNAME myname"), "CLIENT GETNAME", H("HELLO 2 SETNAME n2"),
                      "CLIENT GETNAME"],
    "hello_auth_default": [H("HELLO 3 AUTH default anything"), "PING"],
    "hello_lowercase": [H("hello 3 auth default x setname nm"), "CLIENT GETNAME"],
    "hello_failed_keeps_proto": [H("HELLO 3"), "HELLO 4", "GET missing", "HELLO 3 FOO",
                                 "GET missing"],
}


@pytest.mark.parametrize("name", sorted(HELLO_CASES))
def test_hello(diff, name):
    diff(cmds(*HELLO_CASES[name]))


def test_hello_fields_present(keel):
    with RawConn(keel.port) as c:
        c.send(encode(["HELLO", "3"]))
        v = parse_one(c.read_reply())[0]
    assert isinstance(v, dict), v
    for field in (b"server", b"version", b"proto", b"id", b"mode", b"role", b"modules"):
        assert field in v, field
    assert v[b"proto"] == 3 and v[b"mode"] == b"standalone" and v[b"role"] == b"master"
    assert isinstance(v[b"id"], int)


# --------------------------------------------------------------- COMMAND DOCS

DROP_DOC_KEYS = {b"summary", b"complexity"}


def _pairs(v):
    if isinstance(v, dict):
        return list(v.items())
    if isinstance(v, list) and len(v) % 2 == 0:
        return list(zip(v[0::2], v[1::2]))
    raise ValueError("not a map: %r" % (v,))


def _norm_doc(doc):
    """A command's doc map without summary/complexity/history descriptions."""
    out = {}
    for k, val in _pairs(doc):
        if k in DROP_DOC_KEYS:
            continue
        if k == b"history":
            val = [entry[0] for entry in val]   # keep versions, drop descriptions
        elif k == b"subcommands":
            val = {name: _norm_doc(d) for name, d in _pairs(val)}
        elif k == b"arguments":
            val = [_norm_arg(a) for a in val]
        out[k] = val
    return out


def _norm_arg(arg):
    out = {}
    for k, val in _pairs(arg):
        if k == b"arguments":
            val = [_norm_arg(a) for a in val]
        out[k] = val
    return out


def _norm_docs(reply):
    return {name: _norm_doc(doc) for name, doc in _pairs(reply)}


@pytest.mark.parametrize("names", [["set"], ["get"], ["getex"], ["lcs"], ["expire"],
                                   ["object|encoding"], ["set", "get"], ["nosuchcommand"]],
                         ids=lambda n: "+".join(n))
@pytest.mark.parametrize("resp3", [False, True], ids=["resp2", "resp3"])
def test_command_docs(diff, names, resp3):
    diff([Parsed(["COMMAND", "DOCS"] + names, _norm_docs)], resp3=resp3)


def test_command_count_is_positive(keel):
    """COMMAND COUNT is not compared (Keel implements fewer commands)."""
    with RawConn(keel.port) as c:
        c.send(encode(["COMMAND", "COUNT"]))
        n = parse_one(c.read_reply())[0]
    assert isinstance(n, int) and n > 0
