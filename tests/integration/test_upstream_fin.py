"""Upstream mode, the rest of issue 19: WATCH and MULTI redirected while
slots move (Keel is the cluster client: it follows MOVED/ASK for a WATCH
with nothing watched yet, and passes Redis's EXECABORT when a queued
command was refused), forwarded commands in SLOWLOG, MONITOR, INFO
commandstats/errorstats and LATENCY, shard channels kept across a
reshard, and HTTP/WebSocket JSON requests forwarded together with their
replies in request order. A real cluster (upstream_cluster.py), three
masters without replicas.
"""

import json
import subprocess
import threading
import time

import pytest

from harness import RawConn, parse_one
from test_http_helpers import KeelHttp
from test_upstream import _move_slot, call, v, wait_upstream_ok
from upstream_cluster import Cluster, keyslot

try:
    import websocket
except ImportError:  # pragma: no cover
    websocket = None


@pytest.fixture(scope="module")
def cluster():
    cl = Cluster(masters=3, replicas=0).start()
    yield cl
    cl.stop()


@pytest.fixture(scope="module")
def _kup(cluster):
    srv = KeelHttp(["--upstream", "127.0.0.1:%d" % cluster.ports[0]], name="keel-upstream-fin")
    srv.start()
    wait_upstream_ok(srv.port)
    yield srv
    problem = srv.stop()
    if problem:
        pytest.fail("at shutdown: " + problem, pytrace=False)


@pytest.fixture
def kup(_kup):
    _kup.ensure_running()
    yield _kup
    problem = _kup.health()
    if problem:
        pytest.fail(problem, pytrace=False)


def _settle(cluster):
    cluster.wait_ok()
    time.sleep(0.2)


# ------------------------------------------------- WATCH / MULTI redirected

def test_watch_follows_moved(kup, cluster):
    """The map is stale (the slot moved behind Keel's back): WATCH is
    answered MOVED by the old owner, and Keel watches on the new one."""
    key = "wmv:key"
    assert v(kup.port, "SET", key, "1") == b"OK"
    src, dst, _ = _move_slot(cluster, keyslot(key), [key])
    with RawConn(kup.port) as a, RawConn(kup.port) as b:
        assert a.call("WATCH", key) == b"+OK\r\n"
        assert a.call("MULTI") == b"+OK\r\n"
        assert a.call("INCR", key) == b"+QUEUED\r\n"
        assert a.call("EXEC") == b"*1\r\n:2\r\n"
        assert v(dst, "GET", key) == b"2"
        # the watch is on the new owner: another client's write is seen
        assert a.call("WATCH", key) == b"+OK\r\n"
        assert b.call("SET", key, "9") == b"+OK\r\n"
        assert a.call("MULTI") == b"+OK\r\n"
        assert a.call("INCR", key) == b"+QUEUED\r\n"
        assert a.call("EXEC") == b"*-1\r\n"
    assert v(dst, "GET", key) == b"9"
    _settle(cluster)


def test_later_watch_moved_is_crossslot(kup, cluster):
    """A second WATCH whose slot moved away from the node holding the
    first one's: Keel cannot watch on two nodes."""
    k1 = "wlt:one"
    o1 = cluster.slot_owner(keyslot(k1))
    k2 = next("wlt:%d" % i for i in range(1000)
              if cluster.slot_owner(keyslot("wlt:%d" % i)) == o1 and
              keyslot("wlt:%d" % i) != keyslot(k1))
    for k in (k1, k2):
        assert v(kup.port, "SET", k, "1") == b"OK"
    # k2 moves to another node, behind Keel's back
    src2 = o1
    dst2 = next(m.port for m in cluster.masters() if m.port != o1)
    src_id, dst_id = cluster.node_id(src2), cluster.node_id(dst2)
    slot = keyslot(k2)
    assert v(dst2, "CLUSTER", "SETSLOT", slot, "IMPORTING", src_id) == b"OK"
    assert v(src2, "CLUSTER", "SETSLOT", slot, "MIGRATING", dst_id) == b"OK"
    assert v(src2, "MIGRATE", "127.0.0.1", dst2, k2, "0", "5000") == b"OK"
    for m in cluster.masters():
        v(m.port, "CLUSTER", "SETSLOT", slot, "NODE", dst_id)
    with RawConn(kup.port) as a:
        assert a.call("WATCH", k1) == b"+OK\r\n"
        assert a.call("WATCH", k2) == \
            b"-CROSSSLOT Keys in request don't hash to the same slot\r\n"
        # the first watch holds
        assert a.call("MULTI") == b"+OK\r\n"
        assert a.call("INCR", k1) == b"+QUEUED\r\n"
        assert a.call("EXEC") == b"*1\r\n:2\r\n"
    _settle(cluster)


def test_watch_waits_out_a_migration(kup, cluster):
    """ASK for a WATCH (its key already moved, the slot still migrating):
    Keel waits for the slot to settle and watches on its new owner."""
    key = "wask:key"
    assert v(kup.port, "SET", key, "5") == b"OK"
    slot = keyslot(key)
    src, dst, dst_id = _move_slot(cluster, slot, [key], finish=False)

    def finish():
        time.sleep(0.5)
        for m in cluster.masters():
            v(m.port, "CLUSTER", "SETSLOT", slot, "NODE", dst_id)
    t = threading.Thread(target=finish)
    t.start()
    try:
        with RawConn(kup.port, timeout=10) as a:
            t0 = time.monotonic()
            assert a.call("WATCH", key) == b"+OK\r\n"
            assert time.monotonic() - t0 >= 0.3
            assert a.call("MULTI") == b"+OK\r\n"
            assert a.call("INCR", key) == b"+QUEUED\r\n"
            assert a.call("EXEC") == b"*1\r\n:6\r\n"
    finally:
        t.join()
    assert v(dst, "GET", key) == b"6"
    _settle(cluster)


def test_multi_block_follows_moved(kup, cluster):
    """MULTI without WATCH: the block's queued command answered MOVED ran
    nowhere, so the block is sent again to the new owner."""
    key = "mmv:key"
    assert v(kup.port, "SET", key, "1") == b"OK"
    src, dst, _ = _move_slot(cluster, keyslot(key), [key])
    with RawConn(kup.port) as a:
        assert a.call("MULTI") == b"+OK\r\n"
        assert a.call("INCR", key) == b"+QUEUED\r\n"
        assert a.call("GET", key) == b"+QUEUED\r\n"
        assert a.call("EXEC") == b"*2\r\n:2\r\n$1\r\n2\r\n"
    assert v(dst, "GET", key) == b"2"
    _settle(cluster)


def test_watched_exec_moved_is_execabort(kup, cluster):
    """WATCH done, then the slot moves: the EXEC block's queued command is
    refused on the watching connection; Redis's EXECABORT reaches the
    client (the watches went with it) and nothing ran."""
    key = "wex:key"
    assert v(kup.port, "SET", key, "1") == b"OK"
    with RawConn(kup.port) as a:
        assert a.call("WATCH", key) == b"+OK\r\n"
        src, dst, _ = _move_slot(cluster, keyslot(key), [key])
        assert a.call("MULTI") == b"+OK\r\n"
        assert a.call("INCR", key) == b"+QUEUED\r\n"
        assert a.call("EXEC") == \
            b"-EXECABORT Transaction discarded because of previous errors.\r\n"
        # a fresh WATCH goes to the new owner
        assert a.call("WATCH", key) == b"+OK\r\n"
        assert a.call("MULTI") == b"+OK\r\n"
        assert a.call("INCR", key) == b"+QUEUED\r\n"
        assert a.call("EXEC") == b"*1\r\n:2\r\n"
    assert v(dst, "GET", key) == b"2"
    _settle(cluster)


def _first_slots(cluster, port, n):
    slots = []
    for start, end, master, *_ in cluster.slots(port):
        if int(master[1]) == port:
            slots.extend(range(start, end + 1))
    return sorted(slots)[:n]


def test_optimistic_counters_during_reshard(kup, cluster):
    """WATCH/GET/MULTI/INCR/EXEC loops while `redis-cli --cluster reshard`
    moves the counters' slots: no MOVED or ASK reaches the client; an
    EXEC is nil (a watched key changed or migrated) or EXECABORT (its slot
    left the watching node) and is retried; every counter ends at the
    number of EXECs that succeeded."""
    masters = cluster.masters()
    src, dst = masters[0].port, masters[1].port
    moving = set(_first_slots(cluster, src, 300))
    keys, i = [], 0
    while len(keys) < 6:
        k = "ctr:%d" % i
        if keyslot(k) in moving:
            keys.append(k)
        i += 1
    for k in keys:
        v(kup.port, "DEL", k)
    stop = threading.Event()
    done = {k: 0 for k in keys}
    bad = []

    def worker(key):
        with RawConn(kup.port, timeout=20) as c:
            while not stop.is_set():
                r = c.call("WATCH", key)
                if r != b"+OK\r\n":
                    bad.append(("WATCH", r))
                    continue
                cur = parse_one(c.call("GET", key))[0]
                if cur is not None and not isinstance(cur, bytes):
                    bad.append(("GET", cur))
                    cur = None
                n = int(cur) if cur else 0
                r = c.call("MULTI")
                if r != b"+OK\r\n":
                    bad.append(("MULTI", r))
                r = c.call("SET", key, str(n + 1))
                if r != b"+QUEUED\r\n":
                    bad.append(("SET", r))
                r = c.call("EXEC")
                if r == b"*1\r\n+OK\r\n":
                    done[key] += 1
                elif r not in (b"*-1\r\n", b"-EXECABORT Transaction discarded because of "
                                           b"previous errors.\r\n"):
                    bad.append(("EXEC", r))
    ts = [threading.Thread(target=worker, args=(k,)) for k in keys]
    for t in ts:
        t.start()
    time.sleep(0.3)
    subprocess.run(["redis-cli", "--cluster", "reshard", "127.0.0.1:%d" % dst,
                    "--cluster-from", cluster.node_id(src), "--cluster-to",
                    cluster.node_id(dst), "--cluster-slots", "300", "--cluster-yes"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=120)
    time.sleep(0.3)
    stop.set()
    for t in ts:
        t.join(30)
    assert not bad, bad[:5]
    for k in keys:
        assert cluster.slot_owner(keyslot(k)) == dst
        assert int(v(dst, "GET", k) or 0) == done[k], k
        assert done[k] > 0
    _settle(cluster)


# ------------------------------------------------- observability

def _commandstats(port):
    info = v(port, "INFO", "commandstats").decode()
    out = {}
    for line in info.split("\r\n"):
        if line.startswith("cmdstat_"):
            name, rest = line[8:].split(":", 1)
            out[name] = dict(kv.split("=") for kv in rest.split(","))
    return out


def test_forwarded_commands_in_slowlog(kup, cluster):
    with RawConn(kup.port) as c:
        assert c.call("CONFIG", "SET", "slowlog-log-slower-than", "0") == b"+OK\r\n"
        try:
            assert c.call("SLOWLOG", "RESET") == b"+OK\r\n"
            assert c.call("CLIENT", "SETNAME", "slowpoke") == b"+OK\r\n"
            assert c.call("SET", "slow:key", "v1") == b"+OK\r\n"
            assert c.call("GET", "slow:key") == b"$2\r\nv1\r\n"
            for i in range(30):
                c.call("SET", "slow:scan:%d" % i, "x")
            cur = parse_one(c.call("SCAN", "0", "COUNT", "1"))[0][0]
            assert cur != b"0"
            c.call("SCAN", cur, "COUNT", "1")
            log = parse_one(c.call("SLOWLOG", "GET", "100"))[0]
        finally:
            c.call("CONFIG", "SET", "slowlog-log-slower-than", "10000")
    byargs = {tuple(e[3]): e for e in log}
    assert (b"GET", b"slow:key") in byargs, log
    assert (b"SET", b"slow:key", b"v1") in byargs, log
    # SCAN as the client sent it (its composite cursor, not the node's)
    assert (b"SCAN", cur, b"COUNT", b"1") in byargs, log
    e = byargs[(b"GET", b"slow:key")]
    # id, time, duration (forward to reply: more than nothing), args, addr, name
    assert e[2] > 0 and e[5] == b"slowpoke"
    assert e[4].startswith(b"127.0.0.1:")


def test_forwarded_commands_in_monitor(kup, cluster):
    with RawConn(kup.port, timeout=5) as mon, RawConn(kup.port) as c:
        assert mon.call("MONITOR") == b"+OK\r\n"
        assert c.call("SET", "mon:key", "x") == b"+OK\r\n"
        assert c.call("GET", "mon:key") == b"$1\r\nx\r\n"
        lines = [mon.read_reply(), mon.read_reply()]
    assert b'"SET" "mon:key" "x"' in lines[0], lines
    assert b'"GET" "mon:key"' in lines[1], lines
    assert b"[0 127.0.0.1:" in lines[1]


def test_forwarded_commands_in_commandstats_and_errorstats(kup, cluster):
    with RawConn(kup.port) as c:
        assert c.call("CONFIG", "RESETSTAT") == b"+OK\r\n"
        for i in range(5):
            c.call("GET", "cs:%d" % i)
        # a pipelined burst is counted too
        c.send(b"".join(b"*2\r\n$3\r\nGET\r\n$4\r\ncs:%d\r\n" % i for i in range(10)))
        c.read_replies(10)
        assert c.call("SET", "cs:str", "x") == b"+OK\r\n"
        assert c.call("LPUSH", "cs:str", "y").startswith(b"-WRONGTYPE")
        assert c.call("DBSIZE").startswith(b":")
        assert c.call("MGET", "a", "b").startswith(b"-CROSSSLOT")
        assert c.call("MULTI") == b"+OK\r\n"
        assert c.call("INCR", "{cs}n") == b"+QUEUED\r\n"
        assert c.call("EXEC") == b"*1\r\n:1\r\n"
        st = _commandstats(kup.port)
        err = v(kup.port, "INFO", "errorstats").decode()
        hist = parse_one(c.call("LATENCY", "HISTOGRAM", "get"))[0]
    assert st["get"]["calls"] == "15", st["get"]
    assert int(st["get"]["usec"]) > 0
    assert st["lpush"]["calls"] == "1" and st["lpush"]["failed_calls"] == "1"
    assert st["dbsize"]["calls"] == "1"
    assert st["exec"]["calls"] == "1" and st["multi"]["calls"] == "1"
    assert "errorstat_WRONGTYPE:count=1" in err
    # CROSSSLOT: refused before it ran (rejected, as Redis's redirections)
    assert st["mget"]["calls"] == "0" and st["mget"]["rejected_calls"] == "1"
    assert "errorstat_CROSSSLOT:count=1" in err
    # LATENCY HISTOGRAM: the forwarded GETs in the histogram
    assert hist[0] == b"get" and hist[1][1] == 15, hist


# ------------------------------------------------- shard channels resharded

@pytest.mark.parametrize("resp3", [False, True], ids=["resp2", "resp3"])
def test_shard_channel_survives_reshard(kup, cluster, resp3):
    """The slot of a shard channel Keel's client subscribed to moves: the
    old owner unsubscribes Keel's relay (Redis 7.0 pushes sunsubscribe),
    Keel subscribes on the new owner, and its client, still subscribed
    and told nothing, gets what is published there."""
    import harness
    ch = "shr:chan:%d" % resp3
    with RawConn(kup.port, timeout=5) as sub:
        if resp3:
            sub.call("HELLO", "3")
        assert parse_one(sub.call("SSUBSCRIBE", ch))[0] == [b"ssubscribe", ch.encode(), 1]
        time.sleep(0.4)
        assert v(kup.port, "SPUBLISH", ch, "before") == 1
        assert parse_one(sub.read_reply())[0] == [b"smessage", ch.encode(), b"before"]
        src, dst, _ = _move_slot(cluster, keyslot(ch), [])
        assert cluster.slot_owner(keyslot(ch)) == dst
        # nothing reaches the client: no sunsubscribe push
        with pytest.raises(harness.ReplyTimeout):
            sub.read_reply(timeout=0.5)
        # published on the new owner directly, then through Keel
        assert call(dst, "SPUBLISH", ch, "direct") == b":1\r\n"
        assert parse_one(sub.read_reply())[0] == [b"smessage", ch.encode(), b"direct"]
        assert v(kup.port, "SPUBLISH", ch, "via-keel") == 1
        assert parse_one(sub.read_reply())[0] == [b"smessage", ch.encode(), b"via-keel"]
        # still subscribed: one channel
        r = parse_one(sub.call("SUNSUBSCRIBE", ch))[0]
        assert r == [b"sunsubscribe", ch.encode(), 0]
    _settle(cluster)


def test_shard_channels_follow_redis_cli_reshard(kup, cluster):
    """redis-cli --cluster reshard moves the slots of several subscribed
    shard channels; each keeps delivering afterwards."""
    masters = cluster.masters()
    src, dst = masters[0].port, masters[1].port
    moving = set(_first_slots(cluster, src, 100))
    chans, i = [], 0
    while len(chans) < 4:
        ch = "shc:%d" % i
        if keyslot(ch) in moving:
            chans.append(ch)
        i += 1
    with RawConn(kup.port, timeout=5) as sub:
        for ch in chans:
            assert parse_one(sub.call("SSUBSCRIBE", ch))[0][0] == b"ssubscribe"
        time.sleep(0.4)
        subprocess.run(["redis-cli", "--cluster", "reshard", "127.0.0.1:%d" % dst,
                        "--cluster-from", cluster.node_id(src), "--cluster-to",
                        cluster.node_id(dst), "--cluster-slots", "100", "--cluster-yes"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=120)
        time.sleep(0.5)
        for ch in chans:
            assert cluster.slot_owner(keyslot(ch)) == dst
            assert call(dst, "SPUBLISH", ch, "m-" + ch) == b":1\r\n"
            assert parse_one(sub.read_reply())[0] == [b"smessage", ch.encode(),
                                                      ("m-" + ch).encode()]
    _settle(cluster)


# ------------------------------------------------- JSON requests pipelined

def _ws(kup):
    return websocket.create_connection("ws://127.0.0.1:%d/" % kup.http, timeout=10)


def _inflight_peak(kup, stop, out):
    """The most requests INFO upstream saw waiting on the cluster at once."""
    peak = 0
    with RawConn(kup.port) as c:
        while not stop.is_set():
            info = parse_one(c.call("INFO", "upstream"))[0].decode()
            for line in info.split("\r\n"):
                if line.startswith("upstream_inflight:"):
                    peak = max(peak, int(line.split(":")[1]))
    out.append(peak)


@pytest.mark.skipif(websocket is None, reason="python3-websocket missing")
def test_ws_requests_in_flight_in_order(kup, cluster):
    """Many JSON requests sent without waiting, over keys on every master:
    forwarded together (several out at once), answered in request order,
    each frame its own request's (ids, names, values)."""
    n = 600
    keys = ["wsp:%d" % i for i in range(n)]
    assert len({cluster.slot_owner(keyslot(k)) for k in keys[:50]}) == 3
    ws = _ws(kup)
    try:
        msgs = []
        for i, k in enumerate(keys):
            msgs.append(json.dumps({"id": i, "cmd": ["SET", k, "v%d" % i]}))
        ws.send(json.dumps(["SET", "wsp:plain", "p"]))  # no id: named by its command
        for m in msgs:
            ws.send(m)
        assert json.loads(ws.recv()) == {"SET": [True, "OK"]}
        for i in range(n):
            assert json.loads(ws.recv()) == {"id": i, "reply": [True, "OK"]}
        # GETs interleaved with a command answered by Keel (PING) and a
        # malformed one: still in order
        for i, k in enumerate(keys):
            ws.send(json.dumps({"id": "g%d" % i, "cmd": ["GET", k]}))
            if i == 300:
                ws.send(json.dumps({"id": "ping", "cmd": ["PING"]}))
                ws.send(json.dumps({"id": "bad", "cmd": ["GET"]}))
        for i in range(n):
            assert json.loads(ws.recv()) == {"id": "g%d" % i, "reply": "v%d" % i}
            if i == 300:
                assert json.loads(ws.recv()) == {"id": "ping", "reply": [True, "PONG"]}
                r = json.loads(ws.recv())
                assert r["id"] == "bad" and "wrong number of arguments" in json.dumps(r)
    finally:
        ws.close()


@pytest.mark.skipif(websocket is None, reason="python3-websocket missing")
def test_ws_pipelining_overlaps_requests(kup, cluster):
    """While one connection's requests are pipelined, the cluster has
    several of them at once (INFO upstream_inflight), where one at a time
    never exceeds one per connection."""
    stop, out = threading.Event(), []
    t = threading.Thread(target=_inflight_peak, args=(kup, stop, out))
    ws = _ws(kup)
    try:
        t.start()
        for rnd in range(20):
            for i in range(300):
                ws.send(json.dumps({"id": i, "cmd": ["INCR", "wso:%d" % (i % 50)]}))
            for i in range(300):
                assert json.loads(ws.recv())["id"] == i
    finally:
        stop.set()
        t.join()
        ws.close()
    assert out[0] > 1, out


@pytest.mark.skipif(websocket is None, reason="python3-websocket missing")
def test_ws_batches_pipelined(kup, cluster):
    """A batch's commands go together; its frame lists them in order, and
    requests before and after it keep their places."""
    keys = ["wsb:%d" % i for i in range(60)]
    ws = _ws(kup)
    try:
        ws.send(json.dumps({"id": "first", "cmd": ["SET", "wsb:x", "1"]}))
        ws.send(json.dumps({"id": "b", "batch": [["SET", k, k] for k in keys]}))
        ws.send(json.dumps([["GET", k] for k in keys] + [["PING"], ["GET", "wsb:x"]]))
        ws.send(json.dumps({"id": "after", "cmd": ["GET", "wsb:x"]}))
        ws.send(json.dumps({"batch": [["INCR", "{wsb}n"], ["INCR", "{wsb}n"]],
                            "atomic": True}))
        assert json.loads(ws.recv()) == {"id": "first", "reply": [True, "OK"]}
        assert json.loads(ws.recv()) == {"id": "b", "reply": [{"SET": [True, "OK"]}] * 60}
        assert json.loads(ws.recv()) == [{"GET": k} for k in keys] + [
            {"PING": [True, "PONG"]}, {"GET": "1"}]
        assert json.loads(ws.recv()) == {"id": "after", "reply": "1"}
        assert json.loads(ws.recv()) == [{"INCR": 1}, {"INCR": 2}]
    finally:
        ws.close()


def test_http_batches_pipelined_in_order(kup, cluster):
    """A JSON batch and an Upstash pipeline over keys on every master: the
    commands are forwarded together (the cluster sees several at once),
    the response lists the replies in request order, with their names;
    an atomic batch and /multi-exec stay one MULTI...EXEC block."""
    from test_http_helpers import post_json
    n = 400
    keys = ["hb:%d" % i for i in range(n)]
    stop, out = threading.Event(), []
    t = threading.Thread(target=_inflight_peak, args=(kup, stop, out))
    t.start()
    try:
        for _ in range(5):
            r = post_json(kup.http, [["SET", k, "v" + k] for k in keys])
            assert r.status == 200 and r.json() == [{"SET": [True, "OK"]}] * n
        r = post_json(kup.http, [["GET", k] for k in keys] + [["PING"], ["GET"], ["GET", keys[0]]])
        assert r.json()[:n] == [{"GET": "v" + k} for k in keys]
        assert r.json()[n] == {"PING": [True, "PONG"]}
        assert r.json()[n + 1]["GET"][0] is False
        assert r.json()[n + 2] == {"GET": "v" + keys[0]}
        for _ in range(5):
            r = post_json(kup.http, [["GET", k] for k in keys], "/_upstash/pipeline")
            assert r.json() == [{"result": "v" + k} for k in keys]
    finally:
        stop.set()
        t.join()
    assert out[0] > 1, out
    r = post_json(kup.http, [["INCR", "{hb}n"], ["INCR", "{hb}n"]], "/_upstash/multi-exec")
    assert r.json() == [{"result": 1}, {"result": 2}]
    r = post_json(kup.http, [["INCR", "{hb}n"], ["GET", "{hb}n"]], "/?atomic=1")
    assert r.json() == [{"INCR": 3}, {"GET": "3"}]


@pytest.mark.skipif(websocket is None, reason="python3-websocket missing")
def test_ws_errors_keep_their_place(kup, cluster):
    """Frames the adapter writes itself (a malformed request's error, an
    atomic batch refused) wait for the replies still upstream."""
    ws = _ws(kup)
    try:
        for rnd in range(5):
            for i in range(100):
                ws.send(json.dumps({"id": i, "cmd": ["SET", "wse:%d" % i, "x"]}))
            ws.send('{"id": "broken", "cmd": ')
            ws.send(json.dumps({"id": "atomic", "batch": [["MULTI"]], "atomic": True}))
            ws.send(json.dumps({"id": "last", "cmd": ["GET", "wse:0"]}))
            for i in range(100):
                assert json.loads(ws.recv()) == {"id": i, "reply": [True, "OK"]}
            r = json.loads(ws.recv())
            assert "error" in r, r
            r = json.loads(ws.recv())
            assert r.get("id") == "atomic" and "error" in r, r
            assert json.loads(ws.recv()) == {"id": "last", "reply": "x"}
    finally:
        ws.close()


def test_clients_leaving_with_pipelined_json_requests(kup, cluster):
    """WebSocket and HTTP clients gone while their pipelined requests are
    upstream: nothing is written for them, nothing leaks or crashes (the
    fixture checks the sanitizers), and the server serves the next."""
    from test_http_helpers import post_json
    for rnd in range(5):
        if websocket is not None:
            ws = _ws(kup)
            for i in range(300):
                ws.send(json.dumps({"id": i, "cmd": ["SET", "gone:%d" % i, "x"]}))
            ws.send(json.dumps({"batch": [["GET", "gone:%d" % i] for i in range(100)]}))
            ws.close()
        body = json.dumps([["GET", "gone:%d" % i] for i in range(300)]).encode()
        import socket
        s = socket.create_connection(("127.0.0.1", kup.http))
        s.sendall(b"POST /_upstash/pipeline HTTP/1.1\r\nHost: x\r\nContent-Type: "
                  b"application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        s.close()
    time.sleep(0.5)
    r = post_json(kup.http, [["SET", "gone:after", "1"], ["GET", "gone:after"]])
    assert r.json() == [{"SET": [True, "OK"]}, {"GET": "1"}]
