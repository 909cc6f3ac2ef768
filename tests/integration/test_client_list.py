"""CLIENT LIST / CLIENT INFO field by field against redis-server 7.0, and
CLIENT PAUSE's semantics. The same client states are built on both servers
and one client's line is compared after masking what must differ (ids,
addresses, fds, ages, buffer sizes and totals; Keel's lib-name/lib-ver, the
7.2 fields CLIENT SETINFO fills, are dropped): flags (x b t B d O P e N),
multi and multi-mem, argv-mem (the running command's and a blocked one's),
cmd (the last command looked up, NULL after an unknown one, EXEC while its
queue runs), db, name, sub/psub, redir, resp. CLIENT PAUSE: a write sent
inside MULTI waits (Redis checks the pause before queueing), EXEC waits when
its queue holds a write, reads and read-only transactions run, PUBLISH
waits, keys do not expire while paused (reads see them missing, they stay
and are not counted expired until the pause ends), a monitor is never
paused, UNPAUSE resumes the clients in order."""

import re
import time

import pytest

from harness import RawConn, encode, parse_one

MASKED = {"id", "addr", "laddr", "fd", "age", "idle", "qbuf-free", "rbs", "rbp", "tot-mem"}
DROPPED = {"lib-name", "lib-ver"}


def fields(line, mask_redir=False):
    if isinstance(line, (bytes, bytearray)):
        line = bytes(line).decode()
    out = []
    for f in line.strip().split(" "):
        k, v = f.split("=", 1)
        if k in DROPPED:
            continue
        out.append((k, "*" if k in MASKED or (k == "redir" and v not in ("-1", "0")) else v))
    return out


def line_of(observer, cid):
    return fields(parse_one(observer.call("CLIENT", "LIST", "ID", str(cid)))[0])


def same_state(keel, oracle, build):
    """build(port) -> (target conn, extra conns): compare the target's line."""
    out = []
    for srv in (keel, oracle):
        with RawConn(srv.port) as obs:
            obs.call("FLUSHALL")
            target, extra = build(srv.port)
            cid = parse_one(target.call("CLIENT", "ID"))[0] if not hasattr(target, "cid") \
                else target.cid
            out.append(line_of(obs, cid))
            for c in [target] + extra:
                c.close()
    assert out[0] == out[1], "\n%s\n%s" % (out[0], out[1])
    return dict(out[0])


def conn_with_id(port):
    c = RawConn(port)
    c.cid = parse_one(c.call("CLIENT", "ID"))[0]
    return c


def steps(c, *cmds):
    for cmd in cmds:
        c.call(*cmd)
    return c


def test_fresh_and_after_commands(keel, oracle):
    f = same_state(keel, oracle, lambda p: (conn_with_id(p), []))
    assert f["cmd"] == "client|id" and f["flags"] == "N" and f["argv-mem"] == "0"
    f = same_state(keel, oracle, lambda p: (steps(conn_with_id(p), ["NOSUCH", "x"]), []))
    assert f["cmd"] == "NULL"
    same_state(keel, oracle, lambda p: (steps(conn_with_id(p), ["GET"]), []))
    same_state(keel, oracle, lambda p: (steps(conn_with_id(p), ["CLIENT", "NOSUCH"]), []))
    f = same_state(keel, oracle, lambda p: (steps(
        conn_with_id(p), ["SELECT", "3"], ["CLIENT", "SETNAME", "nm"], ["HELLO", "3"],
        ["SET", "k", "v"]), []))
    assert f["db"] == "3" and f["name"] == "nm" and f["resp"] == "3"


def test_multi_fields(keel, oracle):
    f = same_state(keel, oracle, lambda p: (steps(
        conn_with_id(p), ["MULTI"], ["SET", "a", "b"], ["GET", "xyz"]), []))
    assert f["flags"] == "x" and f["multi"] == "2" and f["multi-mem"] == "51"
    assert f["cmd"] == "get"

    def dirty(p):
        c = steps(conn_with_id(p), ["WATCH", "k"], ["MULTI"], ["INCR", "k"])
        with RawConn(p) as o:
            o.call("SET", "k", "1")
        return c, []
    f = same_state(keel, oracle, dirty)
    assert f["flags"] == "xd"


def test_client_info_inside_exec(keel, oracle):
    out = []
    for srv in (keel, oracle):
        with RawConn(srv.port) as c:
            c.call("MULTI")
            c.call("CLIENT", "INFO")
            out.append(fields(parse_one(c.call("EXEC"))[0][0]))
    assert out[0] == out[1]
    f = dict(out[0])
    assert f["flags"] == "x" and f["multi"] == "1" and f["cmd"] == "exec"
    assert f["argv-mem"] == "4" and f["multi-mem"] == "26"


def test_running_command_argv_mem(keel, oracle):
    out = []
    for srv in (keel, oracle):
        with RawConn(srv.port) as c:
            out.append(fields(parse_one(c.call("CLIENT", "INFO"))[0]))
    assert out[0] == out[1] and dict(out[0])["argv-mem"] == "10"


def test_blocked_subscribed_tracking_monitor_noevict(keel, oracle):
    def blocked(p):
        c = conn_with_id(p)
        c.send(encode(["BLPOP", "q", "0"]))
        time.sleep(0.1)
        return c, []
    f = same_state(keel, oracle, blocked)
    assert f["flags"] == "b" and f["argv-mem"] == "7" and f["cmd"] == "blpop"

    def subscribed(p):
        c = conn_with_id(p)
        c.send(encode(["SUBSCRIBE", "a", "b"]) + encode(["PSUBSCRIBE", "p*"]))
        time.sleep(0.1)
        return c, []
    f = same_state(keel, oracle, subscribed)
    assert f["flags"] == "P" and f["sub"] == "2" and f["psub"] == "1"

    f = same_state(keel, oracle, lambda p: (steps(conn_with_id(p), ["CLIENT", "TRACKING", "on"]),
                                            []))
    assert f["flags"] == "t"
    f = same_state(keel, oracle, lambda p: (steps(
        conn_with_id(p), ["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a"]), []))
    assert f["flags"] == "tB"

    def redirected(p):
        r = conn_with_id(p)
        c = steps(conn_with_id(p), ["CLIENT", "TRACKING", "on", "REDIRECT", str(r.cid)])
        return c, [r]
    same_state(keel, oracle, redirected)

    def monitor(p):
        c = conn_with_id(p)
        c.call("MONITOR")
        return c, []
    f = same_state(keel, oracle, monitor)
    assert f["flags"] == "O" and f["cmd"] == "monitor"
    f = same_state(keel, oracle, lambda p: (steps(conn_with_id(p), ["CLIENT", "NO-EVICT", "on"]),
                                            []))
    assert f["flags"] == "e"


# --------------------------------------------------------------------------
# CLIENT PAUSE

def no_reply(c, wait=0.15):
    c.sock.settimeout(wait)
    try:
        return c.sock.recv(100) == b""
    except Exception:
        return True
    finally:
        c.sock.settimeout(5)


@pytest.fixture
def pair(keel, oracle):
    yield (keel, oracle)
    for srv in (keel, oracle):
        with RawConn(srv.port) as c:
            c.call("CLIENT", "UNPAUSE")
            c.call("FLUSHALL")


def test_pause_write_inside_multi(pair):
    out = []
    for srv in pair:
        with RawConn(srv.port) as c, RawConn(srv.port) as admin:
            c.call("MULTI")
            c.call("GET", "k")
            admin.call("CLIENT", "PAUSE", "100000", "WRITE")
            c.send(encode(["SET", "k", "v"]))
            waited = no_reply(c)
            admin.call("CLIENT", "UNPAUSE")
            queued = c.read_reply()
            out.append((waited, queued, parse_one(c.call("EXEC"))[0]))
    assert out[0] == out[1], out
    assert out[0][0] is True and out[0][1] == b"+QUEUED\r\n"


def test_pause_write_exec_with_write_waits_reads_run(pair):
    out = []
    for srv in pair:
        with RawConn(srv.port) as c, RawConn(srv.port) as r, RawConn(srv.port) as admin:
            c.call("SET", "k", "1")
            c.call("MULTI")
            c.call("INCR", "k")
            r.call("MULTI")
            r.call("GET", "k")
            admin.call("CLIENT", "PAUSE", "100000", "WRITE")
            ro_exec = parse_one(r.call("EXEC"))[0]  # read-only transaction: runs
            get = parse_one(r.call("GET", "k"))[0]
            c.send(encode(["EXEC"]))
            exec_waited = no_reply(c)
            pub = RawConn(srv.port)
            pub.send(encode(["PUBLISH", "ch", "m"]))
            pub_waited = no_reply(pub)
            ping = r.call("PING")
            admin.call("CLIENT", "UNPAUSE")
            out.append((ro_exec, get, exec_waited, pub_waited, ping,
                        parse_one(c.read_reply())[0], parse_one(pub.read_reply())[0]))
            pub.close()
    assert out[0] == out[1], out
    assert out[0][2] is True and out[0][3] is True and out[0][5] == [2]


def test_pause_suspends_expiry(pair):
    out = []
    for srv in pair:
        with RawConn(srv.port) as c, RawConn(srv.port) as admin:
            c.call("CONFIG", "RESETSTAT")
            c.call("SET", "k", "v", "PX", "50")
            admin.call("CLIENT", "PAUSE", "100000", "WRITE")
            time.sleep(0.3)  # past the TTL, several expiry cycles
            seen = [parse_one(c.call(*cmd))[0] for cmd in (
                ["GET", "k"], ["EXISTS", "k"], ["DBSIZE"], ["TTL", "k"])]
            info = parse_one(c.call("INFO", "stats"))[0].decode()
            expired = re.search(r"expired_keys:(\d+)", info).group(1)
            admin.call("CLIENT", "UNPAUSE")
            time.sleep(0.05)
            after = [parse_one(c.call("GET", "k"))[0], parse_one(c.call("DBSIZE"))[0]]
            out.append((seen, expired, after))
    assert out[0] == out[1], out
    assert out[0][0][2] == 1 and out[0][1] == "0" and out[0][2] == [None, 0]


def test_monitor_is_never_paused(pair):
    out = []
    for srv in pair:
        with RawConn(srv.port) as m, RawConn(srv.port) as admin:
            m.call("MONITOR")
            # ALL: the pausing client itself waits too (even to UNPAUSE)
            admin.call("CLIENT", "PAUSE", "300")
            out.append(m.call("PING"))
            admin.send(encode(["CLIENT", "UNPAUSE"]))
            waited = no_reply(admin)
            out.append((waited, admin.read_reply()))
    assert out[0] == out[2] == b"+PONG\r\n" and out[1] == out[3] == (True, b"+OK\r\n")


def test_paused_client_line_and_unpause_order(pair):
    out = []
    for srv in pair:
        with RawConn(srv.port) as admin:
            a = conn_with_id(srv.port)
            b = conn_with_id(srv.port)
            admin.call("CLIENT", "PAUSE", "100000", "WRITE")
            a.send(encode(["RPUSH", "l", "a"]))
            time.sleep(0.05)
            b.send(encode(["RPUSH", "l", "b"]))
            time.sleep(0.05)
            line = dict(line_of(admin, a.cid))
            info = parse_one(admin.call("INFO", "clients"))[0].decode()
            blocked = re.search(r"blocked_clients:(\d+)", info).group(1)
            admin.call("CLIENT", "UNPAUSE")
            a.read_reply()
            b.read_reply()
            out.append((line["flags"], line["cmd"], line["argv-mem"], blocked,
                        parse_one(admin.call("LRANGE", "l", "0", "-1"))[0]))
            a.close()
            b.close()
    assert out[0] == out[1], out
    assert out[0][4] == [b"a", b"b"]


def test_pause_started_inside_a_transaction(pair):
    """The transaction that pauses runs to its end; later writes wait."""
    out = []
    for srv in pair:
        with RawConn(srv.port) as c, RawConn(srv.port) as other:
            c.call("SET", "e", "1", "PX", "1")
            c.call("MULTI")
            c.call("CLIENT", "PAUSE", "100000", "WRITE")
            c.call("SET", "k", "v")
            c.call("GET", "e")
            time.sleep(0.02)  # e has expired: GET sees it missing (no deletion while paused)
            res = parse_one(c.call("EXEC"))[0]
            other.send(encode(["SET", "k2", "v"]))
            waited = no_reply(other)
            got = parse_one(c.call("GET", "k"))[0]
            c.call("CLIENT", "UNPAUSE")
            out.append((res, waited, got, other.read_reply()))
    assert out[0] == out[1], out
    assert out[0][1] is True and out[0][0] == [b"OK", b"OK", None]
