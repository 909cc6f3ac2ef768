"""Pub/sub: SUBSCRIBE UNSUBSCRIBE PSUBSCRIBE PUNSUBSCRIBE PUBLISH SSUBSCRIBE
SUNSUBSCRIBE SPUBLISH PUBSUB, Keel vs redis-server with several real clients
interleaving.

A scenario is a script of steps `(client, command)` played against both
servers on one connection per named client (a step `(SLEEP, seconds)` waits,
for expiry). Each client's whole transcript
(every reply and every push it received, raw bytes) is compared. How many
replies each client gets after a step is learned from the oracle (it is
given time to deliver everything), then awaited on Keel; at the end no
client may have anything extra. Orders that are hash-table order in Redis
(PUBSUB CHANNELS, UNSUBSCRIBE of several channels at once) are compared as
multisets with the `Unordered` marker.

Keel-only tests cover what Redis leaves to its hash order (Keel: the order of
subscription) and redis-py's PubSub object.
"""

import socket
import time

import pytest

from harness import RawConn, ReplyTimeout, cmds, encode, parse_one, split_replies

try:
    import redis
except ImportError:  # pragma: no cover
    redis = None

SETTLE = 0.05   # seconds the oracle gets to deliver a step's pushes
SLEEP = "-"     # a step (SLEEP, seconds): wait, then collect what arrived


class Unordered:
    """A step whose replies (on every client) are compared as a multiset,
    the last integer of each confirmation set aside (counts follow order),
    and the elements of a plain array as a multiset."""

    def __init__(self, cmd):
        self.cmd = cmd


def _norm_unordered(raws):
    out = []
    for raw in raws:
        v = parse_one(raw)[0]
        if isinstance(v, list) and v and isinstance(v[-1], int):
            v = v[:-1]          # a confirmation: its count follows the order
        elif isinstance(v, list):
            v = sorted(v, key=repr)   # a listing (PUBSUB CHANNELS)
        out.append(repr(v))
    return sorted(out)


def _words(cmd):
    if isinstance(cmd, str):
        return cmds(cmd)[0]
    return list(cmd)


class Scenario:
    """Plays steps on one server. resp3: clients to switch to RESP3 first."""

    def __init__(self, port, clients, resp3=()):
        self.conns = {}
        for name in clients:
            c = RawConn(port, timeout=5.0)
            c.send(encode(["CLIENT", "SETNAME", name]))
            assert c.read_reply() == b"+OK\r\n"
            if name in resp3:
                c.send(encode(["HELLO", "3"]))
                c.read_reply()
            self.conns[name] = c
        self.transcripts = {name: [] for name in clients}   # [(step, raw)]

    def drain(self, name, settle):
        """Every complete reply available on name within `settle` seconds."""
        c = self.conns[name]
        got = []
        deadline = time.monotonic() + settle
        while True:
            replies, rest = split_replies(c.buf)
            if replies:
                got += [bytes(r) for r in replies]
                c.buf = bytes(rest)
            remaining = deadline - time.monotonic()
            if remaining <= 0 or c.closed:
                return got
            c.sock.settimeout(remaining)
            try:
                d = c.sock.recv(1 << 18)
            except (socket.timeout, TimeoutError):
                continue
            except ConnectionResetError:
                d = b""
            if not d:
                c.closed = True
            c.buf += d

    def play_learn(self, steps):
        """On the oracle: returns the number of replies per client per step."""
        counts = []
        for i, (name, cmd) in enumerate(steps):
            got = {}
            if name == SLEEP:
                time.sleep(cmd)
            else:
                words = _words(cmd.cmd if isinstance(cmd, Unordered) else cmd)
                self.conns[name].send(encode(words))
                # the acting client answers at least once (unless its replies
                # are off: then a second of silence is its answer)
                try:
                    got[name] = [self.conns[name].read_reply(timeout=1.0)]
                except ReplyTimeout:
                    got[name] = []
            time.sleep(SETTLE)
            n = {}
            for other in self.conns:
                more = self.drain(other, 0.01)
                got.setdefault(other, [])
                got[other] += more
                n[other] = len(got[other])
                self.transcripts[other] += [(i, r) for r in got[other]]
            counts.append(n)
        return counts

    def play_expect(self, steps, counts, timeout=5.0):
        for i, (name, cmd) in enumerate(steps):
            if name == SLEEP:
                time.sleep(cmd)
            else:
                words = _words(cmd.cmd if isinstance(cmd, Unordered) else cmd)
                self.conns[name].send(encode(words))
            for other, n in counts[i].items():
                if n == 0:
                    continue
                c = self.conns[other]
                try:
                    got = c.read_replies(n, timeout=timeout)
                except ReplyTimeout as e:
                    got = ["<step %d: %s>" % (i, e)]
                self.transcripts[other] += [(i, r) for r in got]
        for other in self.conns:
            extra = self.drain(other, SETTLE)
            self.transcripts[other] += [(len(steps), r) for r in extra]

    def close(self):
        for c in self.conns.values():
            c.close()


def run_scenario(keel, oracle, steps, clients=None, resp3=(), timeout=5.0):
    """Play steps on both servers; assert identical per-client transcripts.
    Returns the oracle's transcripts. timeout: how long Keel gets for the
    replies of one step."""
    steps = [(s[0], s[1]) for s in steps]
    clients = clients or sorted({s[0] for s in steps if s[0] != SLEEP})
    for port in (keel.port, oracle.port):
        with RawConn(port) as c:
            c.send(encode(["FLUSHALL"]))
            c.read_reply()
    o = Scenario(oracle.port, clients, resp3)
    try:
        counts = o.play_learn(steps)
    finally:
        o.close()
    k = Scenario(keel.port, clients, resp3)
    try:
        k.play_expect(steps, counts, timeout)
    finally:
        k.close()
    bad = []
    for name in clients:
        ot, kt = o.transcripts[name], k.transcripts[name]
        for i, (who, cmd) in enumerate(steps):
            orr = [r for s, r in ot if s == i]
            krr = [r for s, r in kt if s == i]
            if isinstance(cmd, Unordered):
                same = (all(isinstance(r, bytes) for r in krr)
                        and _norm_unordered(orr) == _norm_unordered(krr))
            else:
                same = orr == krr
            if not same:
                bad.append("step %d (%s: %s) seen by %s\n    keel:  %r\n    redis: %r"
                           % (i, who, cmd.cmd if isinstance(cmd, Unordered) else cmd, name,
                              krr, orr))
        extra = [r for s, r in kt if s == len(steps)]
        if extra:
            bad.append("%s got extra replies at the end: %r" % (name, extra))
    assert not bad, "\n".join(bad[:12])
    return o.transcripts


# ---------------------------------------------------------------- scenarios

U = Unordered

SCENARIOS = {
    "subscribe_publish_basic": [
        ("sub", "SUBSCRIBE news"),
        ("pub", "PUBLISH news hello"),
        ("pub", "PUBLISH other nobody"),
        ("sub", "SUBSCRIBE sport weather"),
        ("pub", "PUBLISH weather sunny"),
        ("pub", "PUBLISH sport goal"),
        ("sub", "UNSUBSCRIBE news"),
        ("pub", "PUBLISH news gone"),
        ("sub", "UNSUBSCRIBE sport"),
        ("sub", "UNSUBSCRIBE weather"),
        ("sub", "UNSUBSCRIBE"),
        ("sub", "PING"),
    ],
    "two_subscribers_one_channel": [
        ("s1", "SUBSCRIBE ch"),
        ("s2", "SUBSCRIBE ch"),
        ("pub", "PUBLISH ch m1"),
        ("pub", "PUBLISH ch m2"),
        ("s1", "UNSUBSCRIBE ch"),
        ("pub", "PUBLISH ch m3"),
        ("s2", "UNSUBSCRIBE ch"),
        ("pub", "PUBLISH ch m4"),
    ],
    "subscribe_twice_same_channel": [
        ("sub", "SUBSCRIBE a"),
        ("sub", "SUBSCRIBE a"),
        ("sub", "SUBSCRIBE a a b"),
        ("pub", "PUBLISH a once"),
        ("pub", "PUBSUB NUMSUB a b c"),
        ("sub", "UNSUBSCRIBE a"),
        ("sub", "UNSUBSCRIBE a"),
        ("sub", "UNSUBSCRIBE nothere"),
        ("sub", "UNSUBSCRIBE b"),
    ],
    "unsubscribe_none": [
        ("c", "UNSUBSCRIBE"),
        ("c", "PUNSUBSCRIBE"),
        ("c", "SUNSUBSCRIBE"),
        ("c", "UNSUBSCRIBE x y"),
        ("c", "PUNSUBSCRIBE x*"),
        ("c", "SUNSUBSCRIBE s"),
        ("c", "PING"),
        ("c", "GET k"),
    ],
    "patterns": [
        ("sub", "PSUBSCRIBE news.*"),
        ("pub", "PUBLISH news.art picasso"),
        ("pub", "PUBLISH news music"),
        ("pub", "PUBLISH news.music.jazz x"),
        ("sub", "PSUBSCRIBE h?llo h[ae]y"),
        ("pub", "PUBLISH hello w"),
        ("pub", "PUBLISH hay w2"),
        ("pub", "PUBLISH hoy w3"),
        ("pub", "PUBSUB NUMPAT"),
        ("sub", "PUNSUBSCRIBE news.*"),
        ("pub", "PUBLISH news.art gone"),
        ("sub", "PUNSUBSCRIBE nothere"),
        ("sub", "PUNSUBSCRIBE h?llo"),
        ("sub", "PUNSUBSCRIBE"),
        ("pub", "PUBSUB NUMPAT"),
    ],
    "channel_and_pattern_same_client": [
        ("sub", "SUBSCRIBE a.b"),
        ("sub", "PSUBSCRIBE a.*"),
        ("pub", "PUBLISH a.b both"),
        ("pub", "PUBLISH a.c pattern-only"),
        ("sub", "UNSUBSCRIBE"),
        ("pub", "PUBLISH a.b pattern-left"),
        ("sub", "PUNSUBSCRIBE"),
        ("sub", "PING x"),
    ],
    "patterns_two_clients_count_receivers": [
        ("s1", "PSUBSCRIBE *"),
        ("s2", "PSUBSCRIBE *"),
        ("s2", "SUBSCRIBE x"),
        ("s3", "SUBSCRIBE x"),
        ("pub", "PUBLISH x hi"),
        ("pub", "PUBLISH y hi"),
        ("pub", "PUBSUB NUMPAT"),
        ("pub", "PUBSUB NUMSUB x y"),
    ],
    "pattern_escapes_and_classes": [
        ("sub", r"PSUBSCRIBE a\*b [^x]y [a-c]z"),
        ("pub", "PUBLISH a*b 1"),
        ("pub", "PUBLISH aXb 2"),
        ("pub", "PUBLISH qy 3"),
        ("pub", "PUBLISH xy 4"),
        ("pub", "PUBLISH bz 5"),
        ("pub", "PUBLISH dz 6"),
    ],
    "shard_channels": [
        ("sub", "SSUBSCRIBE s1"),
        ("sub", "SUBSCRIBE c1"),
        ("sub", "SSUBSCRIBE s2 s1"),
        ("sub", "PSUBSCRIBE s*"),
        ("pub", "SPUBLISH s1 shard"),
        ("pub", "PUBLISH s1 global"),
        ("pub", "SPUBLISH c1 nobody"),
        ("pub", "PUBSUB SHARDNUMSUB s1 s2 s3"),
        ("pub", "PUBSUB NUMSUB s1 c1"),
        ("pub", "PUBSUB SHARDCHANNELS s1"),
        ("sub", "SUNSUBSCRIBE s1"),
        ("sub", "SUNSUBSCRIBE s2"),
        ("sub", "SUNSUBSCRIBE"),
        ("sub", "UNSUBSCRIBE c1"),
        ("sub", "PUNSUBSCRIBE s*"),
        ("sub", "GET k"),
    ],
    "subscribed_mode_restrictions_resp2": [
        ("c", "SUBSCRIBE a"),
        ("c", "GET k"),
        ("c", "SET k v"),
        ("c", "PING"),
        ("c", "PING hello"),
        ("c", "ECHO x"),
        ("c", "PUBLISH a self"),
        ("c", "PSUBSCRIBE p*"),
        ("c", "SSUBSCRIBE s"),
        ("c", "UNSUBSCRIBE a"),
        ("c", "PING"),
        ("c", "PUNSUBSCRIBE"),
        ("c", "PING"),
        ("c", "SUNSUBSCRIBE s"),
        ("c", "PING"),
        ("c", "GET k"),
    ],
    "shard_only_is_subscribed_mode": [
        ("c", "SSUBSCRIBE s"),
        ("c", "GET k"),
        ("c", "PING"),
        ("c", "SUNSUBSCRIBE"),
        ("c", "GET k"),
    ],
    "unsubscribe_all_one_channel": [
        ("c", "SUBSCRIBE only"),
        ("c", "UNSUBSCRIBE"),
        ("c", "PSUBSCRIBE only*"),
        ("c", "PUNSUBSCRIBE"),
        ("c", "SSUBSCRIBE sonly"),
        ("c", "SUNSUBSCRIBE"),
    ],
    "unsubscribe_all_many_unordered": [
        ("c", "SUBSCRIBE a b c d e"),
        ("c", U("UNSUBSCRIBE")),
        ("c", "SSUBSCRIBE a b c"),
        ("c", U("SUNSUBSCRIBE")),
        ("c", "PING"),
    ],
    "pubsub_introspection": [
        ("s1", "SUBSCRIBE ch1 ch2 other"),
        ("s2", "SUBSCRIBE ch1"),
        ("s2", "PSUBSCRIBE ch* x"),
        ("s1", "PSUBSCRIBE ch*"),
        ("q", U("PUBSUB CHANNELS")),
        ("q", U("PUBSUB CHANNELS ch*")),
        ("q", "PUBSUB CHANNELS nomatch*"),
        ("q", "PUBSUB NUMSUB"),
        ("q", "PUBSUB NUMSUB ch1 ch2 other nope ch1"),
        ("q", "PUBSUB NUMPAT"),
        ("q", "PUBSUB SHARDCHANNELS"),
        ("q", "PUBSUB SHARDNUMSUB"),
        ("q", "PUBSUB SHARDNUMSUB a"),
        ("s1", "UNSUBSCRIBE ch2"),
        ("q", U("PUBSUB CHANNELS")),
        ("s2", "PUNSUBSCRIBE x"),
        ("q", "PUBSUB NUMPAT"),
    ],
    "pubsub_errors": [
        ("q", "PUBSUB"),
        ("q", "PUBSUB foo"),
        ("q", "PUBSUB HELP"),
        ("q", "pubsub help"),
        ("q", "PUBSUB HELP x"),
        ("q", "PUBSUB CHANNELS a b"),
        ("q", "PUBSUB SHARDCHANNELS a b"),
        ("q", "PUBSUB NUMPAT x"),
        ("q", "PUBLISH"),
        ("q", "PUBLISH a"),
        ("q", "PUBLISH a b c"),
        ("q", "SPUBLISH a"),
        ("q", "SUBSCRIBE"),
        ("q", "PSUBSCRIBE"),
        ("q", "SSUBSCRIBE"),
    ],
    "command_introspection": [
        ("q", "COMMAND GETKEYS SSUBSCRIBE a b"),
        ("q", "COMMAND GETKEYS SPUBLISH a b"),
        ("q", "COMMAND GETKEYS PUBLISH a b"),
        ("q", "COMMAND GETKEYSANDFLAGS SUNSUBSCRIBE a"),
        ("q", "COMMAND INFO subscribe unsubscribe psubscribe punsubscribe publish"),
        ("q", "COMMAND INFO ssubscribe sunsubscribe spublish"),
        ("q", "COMMAND INFO pubsub|channels pubsub|numsub pubsub|numpat pubsub|help"),
        ("q", "COMMAND INFO pubsub|shardchannels pubsub|shardnumsub"),
    ],
    "binary_and_empty": [
        ("sub", ["SUBSCRIBE", b"bin\x00\r\nchan", b""]),
        ("pub", ["PUBLISH", b"bin\x00\r\nchan", b"\x00\xff\r\n"]),
        ("pub", ["PUBLISH", b"", b""]),
        ("sub", ["PSUBSCRIBE", b"bin\x00*"]),
        ("pub", ["PUBLISH", b"bin\x00\r\nchan", b"both"]),
        ("pub", ["PUBLISH", b"bin\x00", b"p"]),
        ("sub", ["UNSUBSCRIBE", b""]),
    ],
    "large_message": [
        ("sub", "SUBSCRIBE big"),
        ("pub", ["PUBLISH", "big", b"x" * 300000]),
        ("pub", ["PUBLISH", "big", b"y" * 70000]),
    ],
    "reset_leaves_everything": [
        ("sub", "SUBSCRIBE a b"),
        ("sub", "PSUBSCRIBE p*"),
        ("sub", "SSUBSCRIBE s"),
        ("sub", "RESET"),
        ("pub", "PUBLISH a x"),
        ("pub", "PUBLISH pq x"),
        ("pub", "SPUBLISH s x"),
        ("pub", "PUBSUB NUMPAT"),
        ("pub", "PUBSUB NUMSUB a b"),
        ("sub", "GET k"),
        ("sub", "UNSUBSCRIBE"),
    ],
    "quit_while_subscribed": [
        ("sub", "SUBSCRIBE a"),
        ("sub", "PSUBSCRIBE *"),
        ("sub", "SSUBSCRIBE s"),
        ("sub", "QUIT"),
        ("pub", "PUBLISH a x"),
        ("pub", "SPUBLISH s x"),
        ("pub", "PUBSUB NUMSUB a"),
        ("pub", "PUBSUB NUMPAT"),
        ("pub", "PUBSUB SHARDNUMSUB s"),
    ],
    "multi_subscribe": [
        ("c", "MULTI"),
        ("c", "SUBSCRIBE a"),
        ("c", "PSUBSCRIBE p*"),
        ("c", "SSUBSCRIBE s"),
        ("c", "EXEC"),
        ("pub", "PUBLISH a m"),
        ("pub", "PUBLISH pz m"),
        ("c", "PING"),
        ("c", "UNSUBSCRIBE a"),
        ("c", "PUNSUBSCRIBE"),
        ("c", "PING"),
    ],
    "publish_inside_multi": [
        ("sub", "SUBSCRIBE a"),
        ("pub", "MULTI"),
        ("pub", "PUBLISH a 1"),
        ("pub", "PUBLISH a 2"),
        ("pub", "EXEC"),
        ("pub", "PUBLISH a 3"),
    ],
    "client_reply_off_still_confirms": [
        ("c", "CLIENT REPLY OFF"),
        ("c", "SUBSCRIBE a"),
        ("pub", "PUBLISH a x"),
        ("c", "PING"),
        ("c", "CLIENT REPLY ON"),
        ("c", "UNSUBSCRIBE"),
        ("c", "CLIENT REPLY SKIP"),
        ("c", "PSUBSCRIBE b*"),
        ("pub", "PUBLISH bb y"),
        ("c", "PING"),
        ("c", "PUNSUBSCRIBE"),
        ("c", "CLIENT REPLY ON"),
        ("c", "PING"),
    ],
    "many_subscribers": (
        [("s%02d" % i, "SUBSCRIBE fan") for i in range(20)]
        + [("pub", "PUBLISH fan one"), ("pub", "PUBLISH fan two"),
           ("pub", "PUBSUB NUMSUB fan")]
        + [("s%02d" % i, "UNSUBSCRIBE fan") for i in range(0, 20, 2)]
        + [("pub", "PUBLISH fan three")]
    ),
}

RESP3_SCENARIOS = {
    "resp3_pushes": [
        ("sub", "SUBSCRIBE a"),
        ("sub", "PSUBSCRIBE a*"),
        ("sub", "SSUBSCRIBE s"),
        ("pub", "PUBLISH a hi"),
        ("pub", "SPUBLISH s hi"),
        ("sub", "GET k"),
        ("sub", "SET k v"),
        ("sub", "PING"),
        ("sub", "PING x"),
        ("sub", "PUBLISH a self"),
        ("sub", "SPUBLISH s self"),
        ("sub", "UNSUBSCRIBE"),
        ("sub", "PUNSUBSCRIBE"),
        ("sub", "SUNSUBSCRIBE"),
        ("sub", "UNSUBSCRIBE"),
    ],
    "resp3_and_resp2_subscribers": [
        ("r3", "SUBSCRIBE ch"),
        ("r2", "SUBSCRIBE ch"),
        ("r3", "PSUBSCRIBE c?"),
        ("r2", "PSUBSCRIBE c?"),
        ("pub", "PUBLISH ch m"),
        ("r3", "RESET"),
        ("pub", "PUBLISH ch m2"),
        ("r3", "GET x"),
    ],
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario(keel, oracle, name):
    run_scenario(keel, oracle, SCENARIOS[name])


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_resp3_subscribers(keel, oracle, name):
    """The same scripts with every client speaking RESP3 (pushes, no restrictions)."""
    steps = SCENARIOS[name]
    clients = sorted({s[0] for s in steps})
    run_scenario(keel, oracle, steps, clients=clients, resp3=clients)


@pytest.mark.parametrize("name", sorted(RESP3_SCENARIOS))
def test_resp3_scenario(keel, oracle, name):
    steps = RESP3_SCENARIOS[name]
    clients = sorted({s[0] for s in steps})
    resp3 = [c for c in clients if c != "r2"]
    run_scenario(keel, oracle, steps, clients=clients, resp3=resp3)


# ---------------------------------------------------------------- Keel only


def _conn(keel):
    return RawConn(keel.port, timeout=5.0)


def test_unsubscribe_all_in_subscription_order(keel):
    """Redis visits its hash table; Keel leaves channels in the order they
    were subscribed (and patterns too, which is Redis 7.0's order)."""
    with _conn(keel) as c:
        c.send(encode(["SUBSCRIBE", "c3", "c1", "c2"]))
        c.read_replies(3)
        c.send(encode(["UNSUBSCRIBE"]))
        got = [parse_one(r)[0] for r in c.read_replies(3)]
        assert got == [[b"unsubscribe", b"c3", 2], [b"unsubscribe", b"c1", 1],
                       [b"unsubscribe", b"c2", 0]]
        c.send(encode(["PSUBSCRIBE", "p2*", "p1*", "p3*"]))
        c.read_replies(3)
        c.send(encode(["PUNSUBSCRIBE"]))
        got = [parse_one(r)[0] for r in c.read_replies(3)]
        assert [g[1] for g in got] == [b"p2*", b"p1*", b"p3*"]


def test_fifo_delivery_order(keel):
    """Subscribers receive a message in the order they subscribed: the
    first subscriber's copy is written first. Observed through a client that
    is subscribed and, from another connection, publishes: the write order
    to sockets is the subscription order, so a subscriber that subscribed
    first is never behind a later one on the same batch."""
    subs = [_conn(keel) for _ in range(5)]
    try:
        for i, s in enumerate(subs):
            s.send(encode(["SUBSCRIBE", "fifo"]))
            assert parse_one(s.read_reply())[0] == [b"subscribe", b"fifo", 1]
        with _conn(keel) as p:
            p.send(encode(["PUBSUB", "NUMSUB", "fifo"]))
            assert parse_one(p.read_reply())[0] == [b"fifo", 5]
            for n in range(100):
                p.send(encode(["PUBLISH", "fifo", str(n)]))
            got = [parse_one(r)[0] for r in p.read_replies(100)]
            assert got == [5] * 100
        for s in subs:
            msgs = [parse_one(r)[0] for r in s.read_replies(100)]
            assert [m[2] for m in msgs] == [str(n).encode() for n in range(100)]
    finally:
        for s in subs:
            s.close()


def test_disconnect_cleans_up(keel):
    with _conn(keel) as q:
        for _ in range(3):
            s = _conn(keel)
            s.send(encode(["SUBSCRIBE", "gone", "gone2"]))
            s.send(encode(["PSUBSCRIBE", "gone*"]))
            s.send(encode(["SSUBSCRIBE", "sgone"]))
            s.read_replies(4)
            s.close()
        deadline = time.monotonic() + 5
        while True:
            q.send(encode(["PUBSUB", "NUMSUB", "gone", "gone2"]))
            numsub = parse_one(q.read_reply())[0]
            q.send(encode(["PUBSUB", "NUMPAT"]))
            numpat = parse_one(q.read_reply())[0]
            q.send(encode(["PUBSUB", "SHARDNUMSUB", "sgone"]))
            snum = parse_one(q.read_reply())[0]
            if numsub == [b"gone", 0, b"gone2", 0] and numpat == 0 and snum == [b"sgone", 0]:
                break
            assert time.monotonic() < deadline, (numsub, numpat, snum)
            time.sleep(0.05)
        q.send(encode(["PUBLISH", "gone", "x"]))
        assert q.read_reply() == b":0\r\n"
        q.send(encode(["PUBSUB", "CHANNELS"]))
        assert q.read_reply() == b"*0\r\n"


def test_many_channels_one_client(keel):
    """Thousands of subscriptions: subscribe, publish to each, leave them all."""
    n = 3000
    names = ["ch:%d" % i for i in range(n)]
    with _conn(keel) as s, _conn(keel) as p:
        s.send(encode(["SUBSCRIBE"] + names))
        confirms = [parse_one(r)[0] for r in s.read_replies(n, timeout=20)]
        assert confirms[-1] == [b"subscribe", names[-1].encode(), n]
        p.send(b"".join(encode(["PUBLISH", ch, "m"]) for ch in names))
        assert p.read_replies(n, timeout=20) == [b":1\r\n"] * n
        msgs = s.read_replies(n, timeout=20)
        assert len(msgs) == n
        s.send(encode(["UNSUBSCRIBE"]))
        gone = [parse_one(r)[0] for r in s.read_replies(n, timeout=20)]
        assert gone[-1][2] == 0 and sorted(g[1] for g in gone) == sorted(x.encode() for x in names)
        p.send(encode(["PUBSUB", "NUMSUB", "ch:0"]))
        assert parse_one(p.read_reply())[0] == [b"ch:0", 0]


@pytest.mark.skipif(redis is None, reason="redis-py missing")
def test_redis_py_pubsub(keel):
    """redis-py's PubSub object against Keel: subscribe, get_message, patterns."""
    r = redis.Redis(host="127.0.0.1", port=keel.port, socket_timeout=5)
    ps = r.pubsub()
    try:
        ps.subscribe("news")
        ps.psubscribe("ne*")
        assert ps.get_message(timeout=2)["type"] == "subscribe"
        assert ps.get_message(timeout=2)["type"] == "psubscribe"
        assert r.publish("news", "hello") == 2
        m1 = ps.get_message(timeout=2)
        m2 = ps.get_message(timeout=2)
        assert (m1["type"], m1["channel"], m1["data"]) == ("message", b"news", b"hello")
        assert (m2["type"], m2["pattern"], m2["data"]) == ("pmessage", b"ne*", b"hello")
        assert r.pubsub_numsub("news") == [(b"news", 1)]
        assert r.pubsub_numpat() == 1
        assert r.pubsub_channels() == [b"news"]
        ps.unsubscribe("news")
        ps.punsubscribe()
        assert ps.get_message(timeout=2)["type"] == "unsubscribe"
        assert ps.get_message(timeout=2)["type"] == "punsubscribe"
        assert r.publish("news", "x") == 0
    finally:
        ps.close()
        r.close()


@pytest.mark.skipif(redis is None, reason="redis-py missing")
def test_redis_py_resp3_pubsub(keel):
    """redis-py with protocol=3 receives pushes."""
    try:
        r = redis.Redis(host="127.0.0.1", port=keel.port, socket_timeout=5, protocol=3)
        r.ping()
    except (TypeError, redis.exceptions.ResponseError):
        pytest.skip("this redis-py has no RESP3")
    ps = r.pubsub()
    try:
        ps.subscribe("c3")
        assert ps.get_message(timeout=2)["type"] == "subscribe"
        assert r.publish("c3", "v") == 1
        m = ps.get_message(timeout=2)
        assert (m["type"], m["data"]) == ("message", b"v")
    finally:
        ps.close()
        r.close()


def test_redis_cli_subscriber(keel):
    """redis-cli in subscribe mode prints what a publisher sends."""
    import shutil
    import subprocess
    cli = shutil.which("redis-cli")
    if not cli:
        pytest.skip("redis-cli missing")
    proc = subprocess.Popen([cli, "-p", str(keel.port), "SUBSCRIBE", "clich"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        with _conn(keel) as p:
            deadline = time.monotonic() + 5
            while True:
                p.send(encode(["PUBSUB", "NUMSUB", "clich"]))
                if parse_one(p.read_reply())[0] == [b"clich", 1]:
                    break
                assert time.monotonic() < deadline
                time.sleep(0.05)
            p.send(encode(["PUBLISH", "clich", "from-publisher"]))
            assert p.read_reply() == b":1\r\n"
        time.sleep(0.3)
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=5)
    assert b"from-publisher" in out and b"clich" in out
