"""Upstream mode: Keel in front of a real Redis Cluster (issue 19).

A cluster of three masters with a replica each (Debian's redis-server,
upstream_cluster.py) and Keel with `--upstream 127.0.0.1:<first node>`.
Checked: every key-bearing command family lands on the node owning its
slot, replies are byte for byte redis-server's (RESP2 and RESP3, compared
with a standalone oracle), CROSSSLOT, hash tags, fan-out DBSIZE/KEYS/SCAN/
FLUSHALL, MULTI/EXEC, BLPOP on its own connection, pub/sub relayed, MOVED
after a slot moved and ASK during a migration, HTTP and WebSocket clients,
INFO and /_health. Faults (failover, restart) are test_upstream_faults.py.
"""

import json
import threading
import time

import pytest

import harness
from harness import RawConn, encode, parse_one
from test_http_helpers import KeelHttp, get, post_json
from upstream_cluster import Cluster, keyslot

try:
    import websocket
except ImportError:  # pragma: no cover
    websocket = None


@pytest.fixture(scope="module")
def cluster():
    cl = Cluster(masters=3, replicas=1).start()
    yield cl
    cl.stop()


def wait_upstream_ok(port, timeout=15):
    deadline = time.monotonic() + timeout
    info = b""
    while time.monotonic() < deadline:
        with RawConn(port) as c:
            info = parse_one(c.call("INFO", "upstream"))[0]
        if b"upstream_state:ok" in info:
            return info
        time.sleep(0.1)
    raise AssertionError("upstream not ok: %r" % info)


@pytest.fixture(scope="module")
def _kup(cluster):
    srv = KeelHttp(["--upstream", "127.0.0.1:%d" % cluster.ports[0]], name="keel-upstream")
    srv.start()
    wait_upstream_ok(srv.port)
    yield srv
    problem = srv.stop()
    if problem:
        pytest.fail("at shutdown: " + problem, pytrace=False)


@pytest.fixture
def kup(_kup):
    _kup.ensure_running()
    _kup.srv.health()
    yield _kup
    problem = _kup.health()
    if problem:
        pytest.fail(problem, pytrace=False)


def call(port, *cmd, resp3=False):
    with RawConn(port) as c:
        if resp3:
            c.call("HELLO", "3")
        return c.call(*cmd)


def v(port, *cmd):
    return parse_one(call(port, *cmd))[0]


def flush(kup, cluster):
    assert v(kup.port, "FLUSHALL") == b"OK"
    for m in cluster.masters():
        assert v(m.port, "DBSIZE") == 0


# ---------------------------------------------------------------- routing

FAMILIES = [
    ("string", [["SET", "s1", "v"], ["APPEND", "s1", "w"], ["GET", "s1"]]),
    ("hash", [["HSET", "h1", "a", "1", "b", "2"], ["HINCRBY", "h1", "a", "5"], ["HGETALL", "h1"]]),
    ("list", [["RPUSH", "l1", "a", "b", "c"], ["LRANGE", "l1", "0", "-1"], ["LPOP", "l1"]]),
    ("set", [["SADD", "t1", "x", "y"], ["SISMEMBER", "t1", "x"], ["SCARD", "t1"]]),
    ("zset", [["ZADD", "z1", "1.5", "a", "2", "b"], ["ZSCORE", "z1", "a"],
              ["ZRANGE", "z1", "0", "-1", "WITHSCORES"], ["ZINCRBY", "z1", "0.25", "a"]]),
    ("stream", [["XADD", "x1", "1-1", "f", "v"], ["XLEN", "x1"], ["XRANGE", "x1", "-", "+"]]),
    ("hll", [["PFADD", "p1", "a", "b", "c"], ["PFCOUNT", "p1"]]),
    ("geo", [["GEOADD", "g1", "13.361389", "38.115556", "Palermo"],
             ["GEOPOS", "g1", "Palermo"]]),
    ("bitmap", [["SETBIT", "b1", "7", "1"], ["BITCOUNT", "b1"], ["GETBIT", "b1", "7"]]),
    ("keys", [["SET", "e1", "v"], ["EXPIRE", "e1", "100"], ["TTL", "e1"], ["TYPE", "e1"],
              ["EXISTS", "e1"]]),
    ("script", [["EVAL", "return redis.call('SET', KEYS[1], ARGV[1])", "1", "c1", "x"],
                ["GET", "c1"]]),
]


@pytest.mark.parametrize("name,seq", FAMILIES, ids=[f[0] for f in FAMILIES])
def test_family_lands_on_slot_owner(kup, cluster, oracle, name, seq):
    """Each family's replies equal redis-server's, and the key is on the
    master owning its slot (and on no other)."""
    flush(kup, cluster)
    assert v(oracle.port, "FLUSHALL") == b"OK"
    for resp3 in (False, True):
        for m in cluster.masters():
            call(m.port, "FLUSHALL")
        call(oracle.port, "FLUSHALL")
        with RawConn(kup.port) as k, RawConn(oracle.port) as o:
            if resp3:
                k.call("HELLO", "3")
                o.call("HELLO", "3")
            for cmd in seq:
                assert k.call(*cmd) == o.call(*cmd), (cmd, resp3)
    key = seq[0][1] if name != "script" else "c1"
    owner = cluster.slot_owner(keyslot(key))
    assert v(owner, "EXISTS", key) == 1
    assert sum(v(m.port, "DBSIZE") for m in cluster.masters()) == 1


def test_pipelined_replies_in_order(kup, cluster, oracle):
    """One write of 2,000 commands over many slots, with keyless, local,
    erroneous and CROSSSLOT ones among them: the replies come back in the
    order sent, byte for byte redis-server's (CROSSSLOT aside)."""
    flush(kup, cluster)
    call(oracle.port, "FLUSHALL")
    cmds = []
    for i in range(400):
        k = "p:%d" % (i % 97)
        cmds += [["INCR", k], ["GET", k], ["APPEND", "s:%d" % (i % 31), "x"]]
        if i % 50 == 7:
            cmds += [["PING"], ["SET", k], ["ECHO", "e%d" % i], ["SET", k, "v", "NX", "XX"]]
        if i % 100 == 3:
            cmds += [["DBSIZE"], ["MGET", "{t}a", "{t}b"], ["CLIENT", "GETNAME"]]
    cross = ["MGET", "p:1", "p:2"]
    cmds.insert(1000, cross)
    with RawConn(kup.port, timeout=20) as k, RawConn(oracle.port, timeout=20) as o:
        wire = b"".join(encode(c) for c in cmds)
        k.send(wire)
        o.send(wire)
        kr = k.read_replies(len(cmds))
        orr = o.read_replies(len(cmds))
    assert kr[1000] == b"-CROSSSLOT Keys in request don't hash to the same slot\r\n"
    assert orr[1000].startswith(b"*2")
    for i, (a, b) in enumerate(zip(kr, orr)):
        if i != 1000:
            assert a == b, (i, cmds[i], a, b)


def test_crossslot_and_hash_tags(kup, cluster):
    flush(kup, cluster)
    assert keyslot("a") != keyslot("b")
    err = b"-CROSSSLOT Keys in request don't hash to the same slot\r\n"
    assert call(kup.port, "MSET", "a", "1", "b", "2") == err
    assert call(kup.port, "MGET", "a", "b") == err
    assert call(kup.port, "DEL", "a", "b") == err
    assert call(kup.port, "SUNIONSTORE", "a", "b") == err
    assert call(kup.port, "MSET", "{u}a", "1", "{u}b", "2") == b"+OK\r\n"
    assert v(kup.port, "MGET", "{u}a", "{u}b") == [b"1", b"2"]
    assert v(kup.port, "DEL", "{u}a", "{u}b", "{u}c") == 2
    # schema errors come from Keel's matcher, as redis-server's
    assert call(kup.port, "SET", "k") == b"-ERR wrong number of arguments for 'set' command\r\n"
    assert call(kup.port, "SET", "k", "v", "XX", "NX") == b"-ERR syntax error\r\n"


def test_fan_out_dbsize_keys_scan(kup, cluster):
    flush(kup, cluster)
    keys = {("key:%d" % i).encode() for i in range(300)}
    with RawConn(kup.port) as c:
        c.send(b"".join(encode(["SET", k, "v"]) for k in keys))
        assert c.read_replies(len(keys)).count(b"+OK\r\n") == len(keys)
    per_node = [v(m.port, "DBSIZE") for m in cluster.masters()]
    assert all(n > 0 for n in per_node) and sum(per_node) == 300
    assert v(kup.port, "DBSIZE") == 300
    assert set(v(kup.port, "KEYS", "*")) == keys
    assert set(v(kup.port, "KEYS", "key:1?")) == {("key:1%d" % i).encode() for i in range(10)}
    seen, cursor, rounds = [], b"0", 0
    while True:
        cursor, batch = v(kup.port, "SCAN", cursor, "COUNT", "50")
        seen += batch
        rounds += 1
        if cursor == b"0":
            break
        assert rounds < 1000
    assert len(seen) == len(set(seen)) and set(seen) == keys
    assert v(kup.port, "FLUSHALL") == b"OK"
    assert v(kup.port, "DBSIZE") == 0


def test_script_load_reaches_every_master(kup, cluster):
    sha = v(kup.port, "SCRIPT", "LOAD", "return 7")
    for m in cluster.masters():
        assert v(m.port, "SCRIPT", "EXISTS", sha) == [1]
    for key in ("a", "b", "c"):
        assert v(kup.port, "EVALSHA", sha, "1", key) == 7


def test_function_load_reaches_every_master(kup, cluster):
    lib = "#!lua name=kup\nredis.register_function('kget', function(keys) " \
          "return redis.call('GET', keys[1]) end)"
    assert v(kup.port, "FUNCTION", "LOAD", "REPLACE", lib) == b"kup"
    for m in cluster.masters():
        assert v(m.port, "FUNCTION", "LIST", "LIBRARYNAME", "kup")[0][1] == b"kup"
    for key in ("a", "b", "c"):
        v(kup.port, "SET", key, key)
        assert v(kup.port, "FCALL", "kget", "1", key) == key.encode()
    assert v(kup.port, "FUNCTION", "DELETE", "kup") == b"OK"


def test_multi_exec_pinned_to_slot(kup, cluster):
    flush(kup, cluster)
    with RawConn(kup.port) as c:
        assert c.call("MULTI") == b"+OK\r\n"
        assert c.call("INCR", "{t}n") == b"+QUEUED\r\n"
        assert c.call("INCRBY", "{t}n", "9") == b"+QUEUED\r\n"
        assert c.call("GET", "{t}n") == b"+QUEUED\r\n"
        assert c.call("EXEC") == b"*3\r\n:1\r\n:10\r\n$2\r\n10\r\n"
        # across slots: refused when queued, and EXEC aborts
        assert c.call("MULTI") == b"+OK\r\n"
        assert c.call("SET", "a", "1") == b"+QUEUED\r\n"
        assert c.call("SET", "b", "1") == \
            b"-CROSSSLOT Keys in request don't hash to the same slot\r\n"
        assert c.call("EXEC") == \
            b"-EXECABORT Transaction discarded because of previous errors.\r\n"
        assert c.call("EXEC") == b"-ERR EXEC without MULTI\r\n"
        assert c.call("DISCARD") == b"-ERR DISCARD without MULTI\r\n"
        assert c.call("MULTI") == b"+OK\r\n"
        assert c.call("MULTI") == b"-ERR MULTI calls can not be nested\r\n"
        assert c.call("DISCARD") == b"+OK\r\n"
        assert c.call("EXISTS", "a") == b":0\r\n"


def test_watch_on_a_pinned_connection(kup, cluster):
    flush(kup, cluster)
    with RawConn(kup.port) as a, RawConn(kup.port) as b:
        # untouched: EXEC runs
        assert a.call("WATCH", "{w}k", "{w}j") == b"+OK\r\n"
        assert a.call("MULTI") == b"+OK\r\n"
        assert a.call("SET", "{w}k", "1") == b"+QUEUED\r\n"
        assert a.call("EXEC") == b"*1\r\n+OK\r\n"
        # changed by another client: EXEC answers nil, as redis-server
        assert a.call("WATCH", "{w}k") == b"+OK\r\n"
        assert b.call("SET", "{w}k", "2") == b"+OK\r\n"
        assert a.call("MULTI") == b"+OK\r\n"
        assert a.call("SET", "{w}k", "3") == b"+QUEUED\r\n"
        assert a.call("EXEC") == b"*-1\r\n"
        assert b.call("GET", "{w}k") == b"$1\r\n2\r\n"
        # EXEC released the watch; UNWATCH and DISCARD do too
        assert a.call("WATCH", "{w}k") == b"+OK\r\n"
        assert a.call("UNWATCH") == b"+OK\r\n"
        assert b.call("SET", "{w}k", "4") == b"+OK\r\n"
        assert a.call("MULTI") == b"+OK\r\n"
        assert a.call("INCR", "{w}k") == b"+QUEUED\r\n"
        assert a.call("EXEC") == b"*1\r\n:5\r\n"
        assert a.call("WATCH", "a", "b") == \
            b"-CROSSSLOT Keys in request don't hash to the same slot\r\n"
        assert a.call("MULTI") == b"+OK\r\n"
        assert a.call("WATCH", "x") == b"-ERR WATCH inside MULTI is not allowed\r\n"
        assert a.call("DISCARD") == b"+OK\r\n"
    # a client leaving while watching takes its connection with it
    c = RawConn(kup.port)
    assert c.call("WATCH", "{w}k") == b"+OK\r\n"
    c.close()
    time.sleep(0.2)
    assert v(kup.port, "GET", "{w}k") == b"5"


def test_blpop_on_its_own_connection(kup, cluster):
    flush(kup, cluster)
    got = {}

    def waiter():
        with RawConn(kup.port, timeout=10) as c:
            got["r"] = c.call("BLPOP", "q", "5")
    t = threading.Thread(target=waiter)
    t.start()
    time.sleep(0.3)
    # other clients are served while BLPOP waits (it does not hold a shared connection)
    t0 = time.monotonic()
    assert v(kup.port, "SET", "other", "1") == b"OK"
    assert time.monotonic() - t0 < 1.0
    assert v(kup.port, "RPUSH", "q", "hello") == 1
    t.join(10)
    assert got["r"] == b"*2\r\n$1\r\nq\r\n$5\r\nhello\r\n"
    # a timeout is a null array, as redis-server's
    assert call(kup.port, "BLPOP", "q", "0.2") == b"*-1\r\n"


def test_blocked_client_disconnecting(kup, cluster):
    c = RawConn(kup.port)
    c.send(encode(["BLPOP", "gone", "0"]))
    time.sleep(0.2)
    c.close()
    time.sleep(0.2)
    # the upstream connection went with it: a push is not eaten by a ghost
    assert v(kup.port, "RPUSH", "gone", "x") == 1
    assert v(kup.port, "LLEN", "gone") == 1


def test_clients_leaving_mid_flight(kup, cluster):
    """Clients that close with commands still upstream (pipelined RESP,
    a parked HTTP request, a WebSocket blocked in BLPOP, a WATCH, a
    MULTI block) leave nothing behind: the server stays up and clean
    (the fixture checks the sanitizer's output after each test)."""
    import socket
    for _ in range(5):
        c = RawConn(kup.port)
        c.send(b"".join(encode(["INCR", "gone:%d" % i]) for i in range(500)))
        c.close()
    s = socket.create_connection(("127.0.0.1", kup.http))
    s.sendall(b"GET /BLPOP/gone:list/5 HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(0.2)
    s.close()
    if websocket is not None:
        ws = websocket.create_connection("ws://127.0.0.1:%d/" % kup.http, timeout=5)
        ws.send(json.dumps(["BLPOP", "gone:ws", "5"]))
        time.sleep(0.2)
        ws.close()
    c = RawConn(kup.port)
    c.send(encode(["WATCH", "{g}k"]) + encode(["MULTI"]) + encode(["INCR", "{g}k"]) +
           encode(["EXEC"]))
    c.close()
    time.sleep(0.5)
    assert v(kup.port, "RPUSH", "gone:list", "x") == 1
    assert v(kup.port, "LLEN", "gone:list") == 1
    assert call(kup.port, "PING") == b"+PONG\r\n"


def test_pubsub_relayed(kup, cluster):
    with RawConn(kup.port, timeout=5) as sub:
        assert parse_one(sub.call("SUBSCRIBE", "news"))[0] == [b"subscribe", b"news", 1]
        time.sleep(0.3)
        # published on a cluster node directly, then through Keel
        call(cluster.ports[-1], "PUBLISH", "news", "direct")
        assert parse_one(sub.read_reply())[0] == [b"message", b"news", b"direct"]
        assert v(kup.port, "PUBLISH", "news", "via-keel") >= 1
        assert parse_one(sub.read_reply())[0] == [b"message", b"news", b"via-keel"]


def test_shard_channels_relayed(kup, cluster):
    with RawConn(kup.port, timeout=5) as sub:
        for ch in ("s:a", "s:b", "{s}c"):
            assert parse_one(sub.call("SSUBSCRIBE", ch))[0][0] == b"ssubscribe"
        time.sleep(0.5)
        for ch in ("s:a", "s:b", "{s}c"):
            # SPUBLISH through Keel (to the slot's master) and on the node directly
            assert v(kup.port, "SPUBLISH", ch, "k-" + ch) >= 1
            assert parse_one(sub.read_reply())[0] == [b"smessage", ch.encode(),
                                                      ("k-" + ch).encode()]
            owner = cluster.slot_owner(keyslot(ch))
            call(owner, "SPUBLISH", ch, "d-" + ch)
            assert parse_one(sub.read_reply())[0] == [b"smessage", ch.encode(),
                                                      ("d-" + ch).encode()]


def test_keyspace_notifications_relayed(kup, cluster):
    for m in cluster.masters():
        assert v(m.port, "CONFIG", "SET", "notify-keyspace-events", "KEA") == b"OK"
    try:
        with RawConn(kup.port, timeout=5) as sub:
            sub.call("PSUBSCRIBE", "__keyevent@0__:*")
            time.sleep(0.5)
            keys = ["n:%d" % i for i in range(6)]   # over several masters
            assert len({cluster.slot_owner(keyslot(k)) for k in keys}) > 1
            for k in keys:
                assert v(kup.port, "SET", k, "1") == b"OK"
            got = [parse_one(sub.read_reply())[0] for _ in keys]
            assert sorted(g[3] for g in got) == sorted(k.encode() for k in keys)
            assert all(g[:3] == [b"pmessage", b"__keyevent@0__:*", b"__keyevent@0__:set"]
                       for g in got)
            # each event once (the main relay's "*" does not repeat them)
            with pytest.raises(harness.ReplyTimeout):
                sub.read_reply(timeout=0.5)
    finally:
        for m in cluster.masters():
            v(m.port, "CONFIG", "SET", "notify-keyspace-events", "")


def test_tracking_invalidations_relayed(kup, cluster):
    """CLIENT TRACKING through Keel: a key read through Keel and written
    elsewhere (on its node directly, or by another Keel client) sends the
    tracking client an invalidation push."""
    flush(kup, cluster)
    with RawConn(kup.port, timeout=5) as t, RawConn(kup.port) as w:
        t.call("HELLO", "3")
        assert t.call("CLIENT", "TRACKING", "ON") == b"+OK\r\n"
        time.sleep(0.4)   # Keel opens its BCAST connections to the masters
        for key in ("trk:a", "trk:b"):
            assert t.call("GET", key) == b"_\r\n"
        time.sleep(0.1)
        call(cluster.slot_owner(keyslot("trk:a")), "SET", "trk:a", "1")
        assert parse_one(t.read_reply())[0] == [b"invalidate", [b"trk:a"]]
        assert w.call("SET", "trk:b", "2") == b"+OK\r\n"
        assert parse_one(t.read_reply())[0] == [b"invalidate", [b"trk:b"]]
        # not read since: no second invalidation
        assert w.call("SET", "trk:b", "3") == b"+OK\r\n"
        with pytest.raises(harness.ReplyTimeout):
            t.read_reply(timeout=0.4)
        assert t.call("GET", "trk:b") == b"$1\r\n3\r\n"


def _move_slot(cluster, slot, keys, finish=True):
    """Migrate slot (and its keys) from its owner to another master."""
    src = cluster.slot_owner(slot)
    dst = next(m.port for m in cluster.masters() if m.port != src)
    src_id, dst_id = cluster.node_id(src), cluster.node_id(dst)
    assert v(dst, "CLUSTER", "SETSLOT", slot, "IMPORTING", src_id) == b"OK"
    assert v(src, "CLUSTER", "SETSLOT", slot, "MIGRATING", dst_id) == b"OK"
    for k in keys:
        assert v(src, "MIGRATE", "127.0.0.1", dst, k, "0", "5000") == b"OK"
    if finish:
        for m in cluster.masters():
            v(m.port, "CLUSTER", "SETSLOT", slot, "NODE", dst_id)
    return src, dst, dst_id


def _info(port):
    info = v(port, "INFO", "upstream").decode()
    return dict(line.split(":", 1) for line in info.split("\r\n") if ":" in line)


def test_moved_after_resharding(kup, cluster):
    flush(kup, cluster)
    key = "moving-key"
    assert v(kup.port, "SET", key, "before") == b"OK"
    before = int(_info(kup.port)["upstream_redirects"])
    src, dst, _ = _move_slot(cluster, keyslot(key), [key])
    assert v(kup.port, "GET", key) == b"before"       # MOVED followed, map refreshed
    assert v(kup.port, "SET", key, "after") == b"OK"
    assert v(dst, "GET", key) == b"after"
    assert int(_info(kup.port)["upstream_redirects"]) > before
    cluster.wait_ok()


def test_ask_during_migration(kup, cluster):
    flush(kup, cluster)
    a, b = "{mig}a", "{mig}b"
    assert v(kup.port, "MSET", a, "1", b, "2") == b"OK"
    slot = keyslot(a)
    src, dst, dst_id = _move_slot(cluster, slot, [a], finish=False)
    try:
        # a is on dst (ASK), b still on src
        assert v(kup.port, "GET", a) == b"1"
        assert v(kup.port, "GET", b) == b"2"
    finally:
        assert v(src, "MIGRATE", "127.0.0.1", dst, b, "0", "5000") == b"OK"
        for m in cluster.masters():
            v(m.port, "CLUSTER", "SETSLOT", slot, "NODE", dst_id)
    assert v(kup.port, "MGET", a, b) == [b"1", b"2"]
    cluster.wait_ok()


# ---------------------------------------------------------------- the fronts

def test_http_json_through_upstream(kup, cluster):
    flush(kup, cluster)
    r = get(kup.http, "/SET/web-key/hello")
    assert r.status == 200 and r.json() == {"SET": [True, "OK"]}
    r = get(kup.http, "/GET/web-key")
    assert r.json() == {"GET": "hello"}
    assert v(cluster.slot_owner(keyslot("web-key")), "GET", "web-key") == b"hello"
    get(kup.http, "/HSET/wh/a/1")
    assert get(kup.http, "/HGETALL/wh").json() == {"HGETALL": {"a": "1"}}
    r = get(kup.http, "/MGET/web-key/other")
    assert r.json() == {"MGET": [False, "CROSSSLOT Keys in request don't hash to the same slot"]}
    r = get(kup.http, "/_upstash/get/web-key")
    assert r.json() == {"result": "hello"}


def test_http_atomic_batches(kup, cluster):
    """?atomic=1 and Upstash's /multi-exec: EXEC's reply arrives from the
    upstream after the request was parked."""
    flush(kup, cluster)
    r = post_json(kup.http, [["INCR", "{b}n"], ["INCRBY", "{b}n", "4"]], "/?atomic=1")
    assert r.json() == [{"INCR": 1}, {"INCRBY": 5}]
    r = post_json(kup.http, [["INCR", "{b}n"], ["GET", "{b}n"]], "/_upstash/multi-exec")
    assert r.json() == [{"result": 6}, {"result": "6"}]
    r = post_json(kup.http, [["SET", "a", "1"], ["SET", "b", "1"]], "/?atomic=1")
    assert r.json() == {"EXEC": [False, "EXECABORT Transaction discarded because of previous "
                                         "errors."]}
    assert v(kup.port, "EXISTS", "a") == 0


def test_health_and_info(kup, cluster):
    h = get(kup.http, "/_health").json()
    assert h["status"] == "ok" and h["mode"] == "upstream"
    assert h["upstream"]["state"] == "ok" and h["upstream"]["slots_assigned"] == 16384
    info = v(kup.port, "INFO").decode()
    assert "keel_mode:upstream" in info and "# Upstream" in info
    m = get(kup.http, "/_metrics").body.decode()
    assert 'keel_upstream_node_up{node="127.0.0.1:%d"} 1' % cluster.ports[0] in m


@pytest.mark.skipif(websocket is None, reason="python3-websocket missing")
def test_websocket_through_upstream(kup, cluster):
    flush(kup, cluster)
    ws = websocket.create_connection("ws://127.0.0.1:%d/" % kup.http, timeout=5)
    try:
        ws.send(json.dumps({"id": 1, "cmd": ["SET", "ws-key", "w"]}))
        assert json.loads(ws.recv()) == {"id": 1, "reply": [True, "OK"]}
        ws.send(json.dumps({"id": 2, "cmd": ["GET", "ws-key"]}))
        assert json.loads(ws.recv()) == {"id": 2, "reply": "w"}
        ws.send(json.dumps({"id": 3, "cmd": ["SUBSCRIBE", "wsch"]}))
        json.loads(ws.recv())
        time.sleep(0.3)
        call(cluster.ports[1], "PUBLISH", "wsch", "pushed")
        msg = json.loads(ws.recv())
        assert "pushed" in json.dumps(msg)
    finally:
        ws.close()
    assert v(cluster.slot_owner(keyslot("ws-key")), "GET", "ws-key") == b"w"


def test_client_pause_holds_forwarded_writes(kup, cluster):
    with RawConn(kup.port, timeout=5) as a, RawConn(kup.port, timeout=5) as b:
        assert a.call("CLIENT", "PAUSE", "600", "WRITE") == b"+OK\r\n"
        t0 = time.monotonic()
        assert b.call("GET", "paused-key") == b"$-1\r\n"
        assert time.monotonic() - t0 < 0.4
        assert b.call("SET", "paused-key", "1") == b"+OK\r\n"
        assert time.monotonic() - t0 >= 0.5


def test_local_commands_and_select(kup):
    assert call(kup.port, "PING") == b"+PONG\r\n"
    assert call(kup.port, "ECHO", "x") == b"$1\r\nx\r\n"
    assert call(kup.port, "SELECT", "0") == b"+OK\r\n"
    assert call(kup.port, "SELECT", "1") == b"-ERR SELECT is not allowed in cluster mode\r\n"
    # Keel is one standalone server to its clients: the cluster's own
    # topology commands are not passed through to one of its nodes.
    for cmd in (["CLUSTER", "SLOTS"], ["CLUSTER", "INFO"], ["READONLY"], ["ASKING"]):
        assert call(kup.port, *cmd) == b"-ERR This instance has cluster support disabled\r\n"
    assert call(kup.port, "MODULE", "LIST") == b"*0\r\n"


def test_single_server_upstream(oracle):
    """A plain redis-server (no cluster) works as the upstream too."""
    srv = KeelHttp(["--upstream", "127.0.0.1:%d" % oracle.port], name="keel-upstream-single")
    srv.start()
    try:
        info = wait_upstream_ok(srv.port)
        assert b"upstream_cluster:0" in info
        call(oracle.port, "FLUSHALL")
        assert call(srv.port, "MSET", "a", "1", "b", "2") == b"+OK\r\n"   # any keys together
        assert v(oracle.port, "MGET", "a", "b") == [b"1", b"2"]
        assert v(srv.port, "DBSIZE") == 2
        assert sorted(v(srv.port, "SCAN", "0")[1]) == [b"a", b"b"]
        assert get(srv.http, "/GET/a").json() == {"GET": "1"}
    finally:
        problem = srv.stop()
    assert not problem, problem
