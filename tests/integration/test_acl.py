"""ACL users (issue 18): differential tests against redis-server 7.0 (rule
forms, every ACL subcommand, error texts, NOPERM refusals, MULTI, ACL LOG
fields with ages, ids and addresses masked), then Keel-only behaviour: the
same user allowed and refused alike over RESP, HTTP and WebSocket, Bearer
tokens (http-tokens), requirepass as the default user's password, CLIENT
KILL USER, clients of a deleted user and pub/sub clients whose channels are
revoked disconnected, `user` config lines, aclfile with ACL SAVE/LOAD.

Every differential case ends by deleting its users (the servers are shared
by the session) and runs on one connection, switching users with AUTH."""

import base64
import json
import os
import socket
import tempfile
import time

import pytest

from harness import C, Parsed, RawConn, cmds, encode, parse_one
from test_http_helpers import check_health, keel_http_fixture

HASH_PW = "30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4"  # sha256("pw")
BACK = "AUTH default x"  # the default user has nopass: any password
CLEAN = "ACL DELUSER u v w"

RULE_FORMS = [
    "+get", "+get +get", "+@string +get", "+get +@string", "+@string -get +get", "-get",
    "+@all -get", "+@all +get", "+client|id", "-@all +client|id -client",
    "+client|id -client|id", "allcommands -@dangerous", "nocommands +GET", "+@read -@write",
    "+@STRING", "+@hash", "+@list +@set", "+@all -@list", "+@keyspace -del",
    "+@all -@dangerous -client +client|id", "-client|id", "+@all -client|id",
    "~k*", "~a ~a", "~a allkeys", "allkeys", "resetkeys", "%R~r*", "%W~w*", "%RW~x*",
    "%W~a %R~a", "~a %R~b %W~c", "&a &a", "&ch* &x", "allchannels", "resetchannels",
    ">pw", ">pw <pw", ">pw >pw", "#" + HASH_PW, "#" + HASH_PW + " !" + HASH_PW, "nopass",
    ">pw nopass", "nopass resetpass", "on", "on off", "off on", "reset", ">pw reset",
    "skip-sanitize-payload", "sanitize-payload", "on >pw ~k* &c +get",
    "(+get ~x*)", "(+get ~x*) (+set %W~y*)", "(+get ~x*) clearselectors",
    "( +get )", "on (~a &b +@hash)",
]

BAD_RULES = [
    "+bogus", "+@bogus", "-@bogus", "%X~a", "%~a", "%RR~a", "allkeys ~a", "allchannels &a",
    "#abc", "!abc", "!" + "0" * 64, "<nope", "+get|", "bogus", "(~a", "(+get) (+nope)",
    "~a b", "on +get +bogus",
]


def _case_setuser(rules):
    return [CLEAN, "ACL SETUSER u " + rules, "ACL LIST", "ACL GETUSER u", CLEAN]


def _mask_log(v):
    """ACL LOG entries with the fields that vary between servers masked: the
    age, and client-info but for its user, command and database. (Redis
    7.0.15 has no entry-id / timestamp-* fields: those arrived in 7.2.)"""
    out = []
    for e in v if isinstance(v, list) else []:
        d = dict(zip(e[0::2], e[1::2])) if isinstance(e, list) else dict(e)
        d[b"age-seconds"] = "*" if b"age-seconds" in d else None
        info = d[b"client-info"].decode()
        fields = dict(f.split("=", 1) for f in info.split(" ") if "=" in f)
        d[b"client-info"] = (fields.get("user"), fields.get("cmd"), fields.get("db"))
        out.append(sorted(d.items()))
    return out


CASES = {
    "cat": ["ACL CAT", "ACL CAT nosuch", "ACL CAT a b", "acl cat a b", "ACL LOG 1 2",
            "ACL LOG RESET x", "ACL GENPASS 1 2"],
    "whoami_users": ["ACL WHOAMI", "ACL USERS", "ACL SETUSER v", "ACL SETUSER u", "ACL USERS",
                     CLEAN, "ACL USERS"],
    "deluser": ["ACL SETUSER u", "ACL SETUSER v", "ACL DELUSER u nosuch v", "ACL DELUSER u",
                "ACL DELUSER default", "ACL DELUSER u default", "ACL DELUSER", "ACL LIST"],
    "getuser_missing": ["ACL GETUSER nosuch", "ACL GETUSER", "ACL GETUSER a b"],
    "default_user": ["ACL LIST", "ACL GETUSER default"],
    "genpass_errors": ["ACL GENPASS 0", "ACL GENPASS -1", "ACL GENPASS 4097", "ACL GENPASS x",
                       "ACL GENPASS 1 2"],
    "help_errors": ["ACL", "ACL NOSUCH", "ACL WHOAMI x", "ACL LIST x", "ACL SETUSER"],
    "dryrun": ["ACL SETUSER u on nopass +get +set ~k* %R~r* &c",
               "ACL DRYRUN u get k1", "ACL DRYRUN u get x", "ACL DRYRUN u set k v",
               "ACL DRYRUN u set r v", "ACL DRYRUN u get r", "ACL DRYRUN u del k",
               "ACL DRYRUN nosuch get k", "ACL DRYRUN u nosuchcmd", CLEAN],
    "noperm": ["ACL SETUSER u on >pw +get +set +publish +subscribe +auth ~k* %R~r* &c*",
               "AUTH u pw", "GET k", "GET x", "SET k v", "SET r v", "GET r", "DEL k",
               "MGET k1 k2", "MGET k1 x", "PUBLISH c1 m", "PUBLISH d m", "ACL WHOAMI",
               "CLIENT ID", BACK, "ACL WHOAMI", CLEAN],
    "noperm_subcommand": ["ACL SETUSER u on nopass -@all +client|getname +auth",
                          "AUTH u x", "CLIENT GETNAME", "CLIENT ID", "CONFIG GET x", BACK, CLEAN],
    "noperm_selectors": ["ACL SETUSER u on nopass +auth ~a* +get (+set ~b*)", "AUTH u x",
                         "GET a1", "GET b1", "SET b1 v", "SET a1 v", BACK, CLEAN],
    "noperm_multi": ["ACL SETUSER u on nopass +@all -set ~*", "AUTH u x", "MULTI", "GET k",
                     "SET k v", "EXEC", BACK, CLEAN],
    "exec_recheck": ["ACL SETUSER u on nopass +@all ~* &*", "AUTH u x", "MULTI",
                     "ACL SETUSER u -set resetkeys ~k* resetchannels", "SET k v", "GET x",
                     "GET k", "PUBLISH c m", "EXEC", BACK,
                     Parsed(["ACL", "LOG"], _mask_log), "ACL LOG RESET", CLEAN],
    "sort_by_get": ["RPUSH k 2 1", "ACL SETUSER u on nopass +@all ~k*", "AUTH u x",
                    "SORT k", "SORT k BY w_*", "SORT k BY nosort", "SORT k GET #",
                    "SORT k GET w_* BY w_*", "SORT k BY nosort GET #", "SORT k BY w_* GET #",
                    "SORT_RO k BY w_*", BACK, "ACL SETUSER u ~*", "AUTH u x", "SORT k BY w_*",
                    "SORT k GET #", BACK, CLEAN],
    "auth": ["ACL SETUSER u on >pw +@all ~*", "AUTH u bad", "AUTH nosuch pw", "AUTH u pw",
             "ACL WHOAMI", BACK, "ACL SETUSER u off", "AUTH u pw", "ACL WHOAMI",
             "ACL SETUSER u on nopass", "AUTH u anything", "ACL WHOAMI", BACK, CLEAN],
    "auth_in_multi": ["ACL LOG RESET", "ACL SETUSER u on >pw +@all ~*", "MULTI", "AUTH u bad",
                      "EXEC", Parsed(["ACL", "LOG"], _mask_log), "ACL LOG RESET", CLEAN],
    "hello_auth": ["ACL SETUSER u on >pw +@all ~*", "HELLO 2 AUTH u bad",
                   "ACL WHOAMI", BACK, CLEAN],
    "auth_default_password": ["ACL SETUSER default >pw", "AUTH pw", "AUTH wrong",
                              "AUTH default pw", "ACL SETUSER default nopass", "AUTH x",
                              "ACL LIST"],
    "acl_log": ["ACL LOG RESET", "ACL SETUSER u on >pw +get +auth ~k* &c",
                "AUTH u bad", "AUTH u pw", "GET x", "GET x", "SET k v", BACK,
                Parsed(["ACL", "LOG"], _mask_log), Parsed(["ACL", "LOG", "1"], _mask_log),
                "ACL LOG 0", "ACL LOG -1", "ACL LOG x", "ACL LOG RESET", "ACL LOG", CLEAN],
}

# First-argument rules (+cmd|first-arg for a command without subcommands,
# Redis 7.0's allowed_firstargs): which forms are accepted, the errors of
# the others, how ACL LIST / GETUSER show them and what clears them. (One
# command per case: Redis lists single commands in its hash table's order.)
FIRST_ARG_RULES = [
    "+select|0", "+SELECT|Db0", "+select|0 +select|1 +select|0", "+select|0 +SELECT|0",
    "+select|0 +select", "+select|0 -select", "+@all +select|0", "+@all -select +select|0",
    "+@all -select +select|0 +select|1", "+select|0 +@all", "+select|0 -@all",
    "+select|0 allcommands", "+select|0 nocommands", "+select|0 +@connection",
    "+select|0 -@connection", "+select|0 -@dangerous", "+select|0 +@keyspace",
    "+@all -@connection +select|0 +select|1", "+@all -select +select|0 -@connection",
    "+get|k", "+debug|object", "+config|get", "+client|id -client +client|list",
    "-@all +select|0 allcommands -select", "+select|0|", "'+select|a b'",
    "+select|0 (+select|1 ~y)", "(+select|1) +select|2", "+select|0 reset",
    "+select|0 (+get|x) clearselectors", "+select|* +select|?",
]
BAD_FIRST_ARG_RULES = [
    "-select|0", "+config|get|x", "+client|id|x", "+config|get|", "+select|", "+config|",
    "-config|", "+|x", "+|", "+select||", "+select|0|1", "+nosuch|x", "+config|nosuch",
    "+config|get|x|y", "-config|get|x", "-get|x", "+select|0 -select|0", "+", "-",
    "(+select|0 -select|0)", "(+config|get|x)",
]
FIRST_ARG_CASES = {
    "first_arg_check": [
        "ACL SETUSER u on nopass ~* -@all +select|0 +auth +get|k +echo|Hi",
        "ACL DRYRUN u select 0", "ACL DRYRUN u select 1", "ACL DRYRUN u SELECT 0",
        "ACL DRYRUN u select", "ACL DRYRUN u get k", "ACL DRYRUN u get K",
        "ACL DRYRUN u get x", "ACL DRYRUN u echo hi", "ACL DRYRUN u echo HI",
        "ACL DRYRUN u echo hi x", "ACL DRYRUN u set k v", "AUTH u x", "SELECT 0", "SELECT 1",
        "SELECT 00", "ECHO hI", "ECHO x", "GET k", "GET x", "ACL WHOAMI", BACK,
        Parsed(["ACL", "LOG"], _mask_log), "ACL LOG RESET", CLEAN],
    "first_arg_selectors": [
        "ACL SETUSER u on nopass ~* +@all -select +select|0 (+select|1 ~y)",
        "ACL GETUSER u", "ACL DRYRUN u select 0", "ACL DRYRUN u select 1",
        "ACL DRYRUN u select 2", "AUTH u x", "SELECT 1", "SELECT 2", "SELECT 0", BACK, CLEAN],
    "first_arg_keys": [
        "ACL SETUSER u on nopass ~k* -@all +auth +get|k1 +get|x",
        "AUTH u x", "GET k1", "GET x", "GET k2", BACK, CLEAN],
    "first_arg_multi": [
        "ACL SETUSER u on nopass ~* -@all +auth +multi +exec +select|0 +get|k",
        "AUTH u x", "MULTI", "SELECT 0", "SELECT 1", "GET k", "EXEC", "MULTI", "GET k",
        BACK, "ACL SETUSER u -get", "EXEC", BACK, CLEAN],
}
CASES.update(FIRST_ARG_CASES)
for i, rules in enumerate(FIRST_ARG_RULES):
    CASES["first_arg_rules_%02d" % i] = _case_setuser(rules)
for i, rules in enumerate(BAD_FIRST_ARG_RULES):
    CASES["first_arg_bad_%02d" % i] = [CLEAN, "ACL SETUSER u " + rules, "ACL GETUSER u",
                                       "ACL SETUSER u +select|0 " + rules, "ACL GETUSER u",
                                       CLEAN]

for i, rules in enumerate(RULE_FORMS):
    CASES["rules_%02d" % i] = _case_setuser(rules)
for i, rules in enumerate(BAD_RULES):
    CASES["bad_rules_%02d" % i] = [CLEAN, "ACL SETUSER u " + rules, "ACL GETUSER u", CLEAN]


@pytest.mark.parametrize("name", sorted(CASES))
def test_acl_diff(diff, name):
    diff(cmds(*CASES[name]))


@pytest.mark.parametrize("name", ["noperm", "acl_log", "rules_20", "whoami_users"])
def test_acl_diff_resp3(diff, name):
    diff.resp3(cmds(*CASES[name]))


def test_genpass_lengths(keel):
    with RawConn(keel.port) as c:
        for bits, n in ((None, 64), (1, 1), (4, 1), (5, 2), (128, 32), (4096, 1024)):
            v, _ = parse_one(c.call(*(["ACL", "GENPASS"] + ([str(bits)] if bits else []))))
            assert len(v) == n and all(ch in b"0123456789abcdef" for ch in v), (bits, v)
        a, _ = parse_one(c.call("ACL", "GENPASS"))
        b, _ = parse_one(c.call("ACL", "GENPASS"))
        assert a != b


def test_client_list_user_and_kill_user(keel):
    with RawConn(keel.port) as admin, RawConn(keel.port) as c1, RawConn(keel.port) as c2:
        admin.call("ACL", "SETUSER", "u", "on", ">pw", "+@all", "~*")
        try:
            assert c1.call("AUTH", "u", "pw") == b"+OK\r\n"
            assert c2.call("AUTH", "u", "pw") == b"+OK\r\n"
            lst = parse_one(admin.call("CLIENT", "LIST"))[0].decode()
            assert lst.count(" user=u ") == 2, lst
            assert admin.call("CLIENT", "KILL", "USER", "nosuch") == \
                b"-ERR No such user 'nosuch'\r\n"
            assert admin.call("CLIENT", "KILL", "USER", "u") == b":2\r\n"
            assert c1.read_until_close() is not None
        finally:
            admin.call("ACL", "DELUSER", "u")


def test_deleted_user_clients_disconnected(keel):
    with RawConn(keel.port) as admin, RawConn(keel.port) as c:
        admin.call("ACL", "SETUSER", "u", "on", "nopass", "+@all", "~*")
        assert c.call("AUTH", "u", "x") == b"+OK\r\n"
        assert admin.call("ACL", "DELUSER", "u") == b":1\r\n"
        c.read_until_close()
        assert c.closed or c.call("PING") in (b"", None)


def test_changed_user_keeps_clients_and_applies_at_once(keel):
    with RawConn(keel.port) as admin, RawConn(keel.port) as c:
        admin.call("ACL", "SETUSER", "u", "on", "nopass", "+@all", "~*")
        try:
            assert c.call("AUTH", "u", "x") == b"+OK\r\n"
            assert c.call("SET", "k", "v") == b"+OK\r\n"
            admin.call("ACL", "SETUSER", "u", "-set")
            assert c.call("SET", "k", "v").startswith(b"-NOPERM")
            assert c.call("GET", "k") == b"$1\r\nv\r\n"
        finally:
            admin.call("ACL", "DELUSER", "u")


def test_pubsub_client_closed_when_channel_revoked(keel):
    with RawConn(keel.port) as admin, RawConn(keel.port) as s, RawConn(keel.port) as keep:
        admin.call("ACL", "SETUSER", "u", "on", "nopass", "+@all", "~*", "resetchannels",
                   "&news", "&other")
        try:
            assert s.call("AUTH", "u", "x") == b"+OK\r\n"
            assert keep.call("AUTH", "u", "x") == b"+OK\r\n"
            s.call("SUBSCRIBE", "news")
            keep.call("SUBSCRIBE", "other")
            admin.call("ACL", "SETUSER", "u", "resetchannels", "&other")
            s.read_until_close()
            assert keep.call("PING") == b"*2\r\n$4\r\npong\r\n$0\r\n\r\n"
        finally:
            admin.call("ACL", "DELUSER", "u")


def test_requirepass_is_default_users_password(keel):
    with RawConn(keel.port) as c:
        assert c.call("CONFIG", "SET", "requirepass", "s3cret") == b"+OK\r\n"
        try:
            v, _ = parse_one(c.call("ACL", "GETUSER", "default"))
            d = dict(zip(v[0::2], v[1::2]))
            assert d[b"flags"] == [b"on"]
            assert len(d[b"passwords"]) == 1
            with RawConn(keel.port) as n:
                assert n.call("GET", "k").startswith(b"-NOAUTH")
                assert n.call("AUTH", "s3cret") == b"+OK\r\n"
                assert n.call("AUTH", "default", "s3cret") == b"+OK\r\n"
        finally:
            c.call("CONFIG", "SET", "requirepass", "")
        v, _ = parse_one(c.call("ACL", "GETUSER", "default"))
        assert dict(zip(v[0::2], v[1::2]))[b"flags"] == [b"on", b"nopass"]


def test_requirepass_hash_is_sha256(keel):
    import hashlib
    with RawConn(keel.port) as c:
        c.call("CONFIG", "SET", "requirepass", "s3cret")
        try:
            c.call("AUTH", "s3cret")
            v, _ = parse_one(c.call("ACL", "GETUSER", "default"))
            d = dict(zip(v[0::2], v[1::2]))
            assert d[b"passwords"] == [hashlib.sha256(b"s3cret").hexdigest().encode()]
        finally:
            c.call("CONFIG", "SET", "requirepass", "")


# --------------------------------------------------------------------------
# The same user over RESP, HTTP and WebSocket

@pytest.fixture(scope="module")
def kh():
    yield from keel_http_fixture(["--http-tokens", "tok-alice alice tok-ghost ghost"],
                                 name="keel-acl")


def _basic(user, pw):
    return "Basic " + base64.b64encode(("%s:%s" % (user, pw)).encode()).decode()


def _http(port, path, headers=None):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    req = "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" % path
    for k, v in (headers or {}).items():
        req += "%s: %s\r\n" % (k, v)
    s.sendall((req + "\r\n").encode())
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1])
    return status, json.loads(body) if body else None


def _ws(port, headers, msgs):
    import websocket
    h = ["%s: %s" % kv for kv in headers.items()]
    ws = websocket.create_connection("ws://127.0.0.1:%d/" % port, timeout=5, header=h)
    out = []
    for m in msgs:
        ws.send(json.dumps(m))
        out.append(json.loads(ws.recv()))
    ws.close()
    return out


def _resp(port, user, pw, cmd):
    with RawConn(port) as c:
        assert c.call("AUTH", user, pw) == b"+OK\r\n"
        return parse_one(c.call(*cmd))[0]


def _is_noperm(v):
    return "NOPERM" in (v if isinstance(v, str) else repr(v))


@pytest.fixture
def alice(kh):
    kh.resp("ACL", "SETUSER", "alice", "on", ">apw", "+get", "+set", "+acl|whoami", "~a:*",
            "%R~pub:*")
    kh.resp("SET", "a:1", "one")
    kh.resp("SET", "pub:1", "p")
    kh.resp("SET", "secret", "s")
    yield kh
    kh.resp("ACL", "DELUSER", "alice")
    kh.resp("ACL", "LOG", "RESET")
    check_health(kh)


CROSS = [
    (["GET", "a:1"], True), (["GET", "pub:1"], True), (["GET", "secret"], False),
    (["SET", "a:2", "x"], True), (["SET", "pub:1", "x"], False), (["DEL", "a:1"], False),
    (["ACL", "WHOAMI"], True), (["ACL", "LIST"], False),
]


@pytest.mark.parametrize("cmd,allowed", CROSS, ids=[" ".join(c) for c, _ in CROSS])
def test_same_user_every_protocol(alice, cmd, allowed):
    kh = alice
    r = _resp(kh.port, "alice", "apw", cmd)
    assert _is_noperm(r) != allowed, ("resp", cmd, r)
    st, body = _http(kh.http, "/" + "/".join(cmd), {"Authorization": _basic("alice", "apw")})
    assert st == 200 or not allowed
    assert _is_noperm(json.dumps(body)) != allowed, ("http", cmd, body)
    st, body = _http(kh.http, "/" + "/".join(cmd), {"Authorization": "Bearer tok-alice"})
    assert _is_noperm(json.dumps(body)) != allowed, ("bearer", cmd, body)
    [w] = _ws(kh.http, {"Authorization": _basic("alice", "apw")}, [cmd])
    assert _is_noperm(json.dumps(w)) != allowed, ("ws", cmd, w)


def test_http_whoami_and_wrong_credentials(alice):
    kh = alice
    assert _http(kh.http, "/ACL/WHOAMI", {"Authorization": _basic("alice", "apw")})[1] == \
        {"ACL": "alice"}
    assert _http(kh.http, "/ACL/WHOAMI", {"Authorization": "Bearer tok-alice"})[1] == \
        {"ACL": "alice"}
    assert _http(kh.http, "/ACL/WHOAMI")[1] == {"ACL": "default"}
    for h in ({"Authorization": _basic("alice", "bad")},
              {"Authorization": _basic("nosuch", "apw")},
              {"Authorization": "Bearer tok-ghost"}):   # mapped to a user that does not exist
        assert _http(kh.http, "/ACL/WHOAMI", h)[0] == 401, h
    kh.resp("ACL", "SETUSER", "alice", "off")
    assert _http(kh.http, "/GET/a:1", {"Authorization": _basic("alice", "apw")})[0] == 401
    assert _http(kh.http, "/GET/a:1", {"Authorization": "Bearer tok-alice"})[0] == 401


def test_acl_log_names_http_and_ws_clients(alice):
    kh = alice
    kh.resp("ACL", "LOG", "RESET")
    _http(kh.http, "/GET/secret", {"Authorization": _basic("alice", "apw")})
    _ws(kh.http, {"Authorization": _basic("alice", "apw")}, [["SET", "pub:9", "x"]])
    _http(kh.http, "/GET/a:1", {"Authorization": _basic("alice", "wrong")})
    log = kh.resp("ACL", "LOG")
    entries = [dict(zip(e[0::2], e[1::2])) for e in log]
    by_reason = {}
    for e in entries:  # newest first: keep each reason's newest entry
        by_reason.setdefault(e[b"reason"], e)
    assert by_reason[b"key"][b"object"] == b"pub:9"  # newest first: the WS SET
    info = by_reason[b"key"][b"client-info"].decode()
    assert " proto=ws" in info and "addr=127.0.0.1:" in info and " user=alice " in info
    auth = by_reason[b"auth"]
    assert auth[b"username"] == b"alice" and auth[b"object"] == b"AUTH"
    assert " proto=http" in auth[b"client-info"].decode()
    keys = [e for e in entries if e[b"reason"] == b"key"]
    assert any(e[b"object"] == b"secret" and b"proto=http" in e[b"client-info"] for e in keys)
    for e in entries:
        assert b"apw" not in repr(e).encode() and b"wrong" not in repr(e).encode()


def test_ws_auth_command_switches_user(alice):
    kh = alice
    out = _ws(kh.http, {}, [["ACL", "WHOAMI"], ["AUTH", "alice", "apw"], ["ACL", "WHOAMI"],
                            ["GET", "secret"]])
    assert out[0] == {"ACL": "default"}
    assert out[2] == {"ACL": "alice"}
    assert "NOPERM" in json.dumps(out[3])


def test_default_user_password_over_http(alice):
    kh = alice
    kh.resp("CONFIG", "SET", "requirepass", "dpw")
    try:
        assert _http(kh.http, "/PING")[0] == 401
        assert _http(kh.http, "/PING", {"Authorization": "Bearer dpw"})[0] == 200
        assert _http(kh.http, "/PING?token=dpw")[0] == 200
        assert _http(kh.http, "/PING", {"Authorization": _basic("default", "dpw")})[0] == 200
        assert _http(kh.http, "/ACL/WHOAMI", {"Authorization": _basic("alice", "apw")})[1] == \
            {"ACL": "alice"}
    finally:
        with RawConn(kh.port) as c:
            c.call("AUTH", "dpw")
            c.call("CONFIG", "SET", "requirepass", "")


# --------------------------------------------------------------------------
# Users from the configuration

def test_user_config_lines_and_aclfile(tmp_path):
    conf = tmp_path / "keel.conf"
    conf.write_text("user bob on >bpw ~b:* +get\nuser default on nopass ~* &* +@all\n")
    import harness
    srv = harness.ServerProcess(
        "keel-acl-conf", lambda port: [harness.keel_bin(), str(conf), "--port", str(port),
                                       "--bind", "127.0.0.1", "--http-port", "0"])
    srv.start()
    try:
        with RawConn(srv.port) as c:
            assert parse_one(c.call("ACL", "LIST"))[0] == [
                b"user bob on #" + __import__("hashlib").sha256(b"bpw").hexdigest().encode() +
                b" ~b:* resetchannels -@all +get", b"user default on nopass ~* &* +@all"]
            assert b"-ERR This Redis instance is not configured" in c.call("ACL", "SAVE")
    finally:
        assert srv.stop() is None
    acl = tmp_path / "users.acl"
    acl.write_text("user carol on nopass ~c:* +@read\n")
    gen = keel_http_fixture(["--aclfile", str(acl)], name="keel-aclfile")
    srv = next(gen)
    try:
        assert srv.resp("ACL", "USERS") == [b"carol", b"default"]
        assert srv.resp("ACL", "SETUSER", "dave", "on", "+ping") == b"OK"
        assert srv.resp("ACL", "SAVE") == b"OK"
        assert acl.read_text() == ("user carol on nopass ~c:* resetchannels -@all +@read\n"
                                   "user dave on resetchannels -@all +ping\n"
                                   "user default on nopass ~* &* +@all\n")
        acl.write_text("user erin on nopass +@all ~*\nuser erin off\n")
        err = srv.resp("ACL", "LOAD")
        assert "Duplicate user 'erin'" in repr(err), err
        assert srv.resp("ACL", "USERS") == [b"carol", b"dave", b"default"]
        acl.write_text("user erin on nopass +@all ~*\nuser bad +nosuchcommand\n")
        err = srv.resp("ACL", "LOAD")
        assert "2: Unknown command or category name in ACL" in repr(err), err
        acl.write_text("user erin on nopass +@all ~*\n")
        assert srv.resp("ACL", "LOAD") == b"OK"
        assert srv.resp("ACL", "USERS") == [b"default", b"erin"]
        # First-argument rules go through ACL SAVE and LOAD as they are.
        assert srv.resp("ACL", "SETUSER", "fay", "on", ">fpw", "+@all", "-select",
                        "+select|0", "(+select|2)") == b"OK"
        assert srv.resp("ACL", "SAVE") == b"OK"
        line = [x for x in acl.read_text().splitlines() if x.startswith("user fay ")][0]
        assert line.endswith(" resetchannels +@all -select +select|0 "
                             "(resetchannels -@all +select|2)"), line
        assert srv.resp("ACL", "LOAD") == b"OK"
        assert line.encode() in srv.resp("ACL", "LIST")
        with RawConn(srv.port) as c:
            assert c.call("AUTH", "fay", "fpw") == b"+OK\r\n"
            assert c.call("SELECT", "0") == b"+OK\r\n"
            assert c.call("SELECT", "2") == b"+OK\r\n"
            assert c.call("SELECT", "1").startswith(
                b"-NOPERM this user has no permissions to run the 'select' command")
    finally:
        gen.close()


def test_secrets_not_in_slowlog_or_acl_log(keel):
    with RawConn(keel.port) as c:
        c.call("CONFIG", "SET", "slowlog-log-slower-than", "0")
        try:
            c.call("SLOWLOG", "RESET")
            c.call("ACL", "SETUSER", "u", "on", ">secretpw", "+get")
            c.call("AUTH", "u", "wrongsecret")
            c.call("HELLO", "2", "AUTH", "u", "wrongsecret2")
            log = parse_one(c.call("SLOWLOG", "GET", "10"))[0]
            args = [[a.lower() for a in e[3]] for e in log]
            assert [b"acl", b"setuser"] + [b"(redacted)"] * 4 in args, args
            assert [b"auth", b"(redacted)", b"(redacted)"] in args, args
            assert b"secretpw" not in repr(log).encode() and b"wrongsecret" not in \
                repr(log).encode()
            acl_log = c.call("ACL", "LOG")
            assert b"wrongsecret" not in acl_log and b"secretpw" not in acl_log
        finally:
            c.call("CONFIG", "SET", "slowlog-log-slower-than", "10000")
            c.call("ACL", "DELUSER", "u")
            c.call("ACL", "LOG", "RESET")


def test_metrics_and_health_need_the_info_permission(alice):
    """/_metrics and /_health show what INFO shows: a user may read them when
    it may run INFO (a monitoring user needs only +info); others get 403."""
    import urllib.error
    import urllib.request
    kh = alice
    kh.resp("ACL", "SETUSER", "mon", "on", ">mpw", "-@all", "+info")

    def status(path, user, pw):
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (kh.http, path),
                                     headers={"Authorization": _basic(user, pw)})
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()
    try:
        for path in ("/_metrics", "/_health"):
            st, body = status(path, "mon", "mpw")
            assert st == 200, (path, body)
            st, body = status(path, "alice", "apw")  # +get +set ...: no INFO
            assert st == 403 and b"NOPERM" in body, (path, st, body)
        assert b"NOPERM" in status("/GET/a:1", "mon", "mpw")[1]  # and nothing else
    finally:
        kh.resp("ACL", "DELUSER", "mon")
