"""Client-side caching: CLIENT TRACKING / CACHING / GETREDIR / TRACKINGINFO.

Most tests are scenarios with two or three raw connections interleaving
(RESP3 pushes, RESP2 redirection to a `__redis__:invalidate` subscriber,
BCAST, OPTIN/OPTOUT, NOLOOP, MULTI, flushes). Each scenario runs against
Keel and the Redis 7.0 oracle and the transcripts (every reply and push, raw
bytes, client ids masked) must be identical. Pushes are collected with a
PING barrier: whatever a connection receives before its PONG.
"""

import time

import pytest

from harness import RawConn, encode, parse_one

CH = b"__redis__:invalidate"


class Client:
    """A raw connection that records what it reads into a shared transcript."""

    def __init__(self, port, log, name, resp3=False):
        self.conn = RawConn(port)
        self.log = log
        self.name = name
        self.resp3 = resp3
        self.subscribed = False
        if resp3:
            self.conn.send(encode(["HELLO", "3"]))
            self.conn.read_reply()
        self.conn.send(encode(["CLIENT", "ID"]))
        self.id = int(self.conn.read_reply()[1:-2])
        log.ids[self.id] = name

    def call(self, *cmd):
        self.conn.send(encode(cmd))
        rep = self.conn.read_reply()
        self.log.add(self.name, " ".join(str(a) for a in cmd), rep)
        return rep

    def send(self, *cmds):
        """Pipeline several commands; record their replies (and any push)
        up to the PING barrier."""
        data = b"".join(encode(c) for c in cmds)
        self.conn.send(data)
        return self.pushes(label="pipeline")

    def pushes(self, label="pushes"):
        """Everything received before the reply of a PING sent now."""
        self.conn.send(encode(["PING"]))
        got = []
        while True:
            rep = self.conn.read_reply()
            if rep in (b"+PONG\r\n", b"*2\r\n$4\r\npong\r\n$0\r\n\r\n"):
                break
            got.append(rep)
        self.log.add(self.name, label, got)
        return got

    def close(self):
        self.conn.close()


class Log:
    def __init__(self):
        self.entries = []
        self.ids = {}

    def add(self, who, what, rep):
        self.entries.append((who, what, rep))

    def masked(self):
        """Entries with client ids replaced by client names (ids differ
        between servers)."""
        out = []
        for who, what, rep in self.entries:
            for cid, name in self.ids.items():
                tok = str(cid)
                what = " ".join(name if w == tok else w for w in what.split(" "))
                if isinstance(rep, bytes):
                    rep = rep.replace(b":%d\r\n" % cid, b":<%s>\r\n" % name.encode())
                else:
                    rep = [r.replace(b":%d\r\n" % cid, b":<%s>\r\n" % name.encode()) for r in rep]
            out.append((who, what, rep))
        return out


def run(port, scenario):
    log = Log()
    clients = []

    def client(name, resp3=False):
        c = Client(port, log, name, resp3)
        clients.append(c)
        return c

    w = Client(port, Log(), "flusher")
    w.call("FLUSHALL")
    w.close()
    try:
        scenario(client)
    finally:
        for c in clients:
            c.close()
    return log.masked()


def differential(keel, oracle, scenario):
    k = run(keel.port, scenario)
    r = run(oracle.port, scenario)
    for i, (a, b) in enumerate(zip(k, r)):
        assert a == b, "step %d differs:\n  keel:  %r\n  redis: %r" % (i, a, b)
    assert len(k) == len(r)
    return r


# ---------------------------------------------------------------- scenarios

def sc_resp3_basic(client):
    a = client("a", resp3=True)
    w = client("w")
    a.call("CLIENT", "TRACKING", "on")
    a.call("GET", "k")
    w.call("SET", "k", "1")
    a.pushes()                      # invalidate [k]
    w.call("SET", "k", "2")
    a.pushes()                      # nothing: no longer tracked
    a.call("GET", "k")
    a.call("MGET", "k", "j", "k")
    w.call("DEL", "j")              # no such key: nothing changes
    a.pushes()
    w.call("MSET", "k", "3", "j", "4")
    a.pushes()                      # two invalidations, in MSET's order
    a.call("GET", "k")
    a.call("SET", "k", "own")       # its own write: push after the reply
    a.pushes()
    a.call("GET", "k")
    a.call("CLIENT", "TRACKING", "off")
    w.call("SET", "k", "x")
    a.pushes()                      # nothing after OFF
    a.call("CLIENT", "TRACKING", "on")
    w.call("SET", "k", "y")
    a.pushes()                      # the key read before OFF is still remembered


def sc_read_commands(client):
    a = client("a", resp3=True)
    w = client("w")
    a.call("CLIENT", "TRACKING", "on")
    a.call("INCR", "cnt")           # a write: not remembered
    a.call("LPUSH", "l", "1")
    a.call("LRANGE", "l", "0", "-1")
    a.call("EXISTS", "e1", "e2")
    a.call("TYPE", "t1")
    a.call("TTL", "t2")
    a.call("STRLEN", "s1")
    a.call("HGET", "h", "f")
    a.call("GET", "wrongtype-later")
    w.call("MSET", "cnt", "1", "e1", "1", "e2", "1", "t1", "1", "t2", "1", "s1", "1")
    w.call("DEL", "l", "h", "wrongtype-later")
    a.pushes()


def sc_other_db(client):
    a = client("a", resp3=True)
    w = client("w")
    a.call("CLIENT", "TRACKING", "on")
    a.call("GET", "d")
    w.call("SELECT", "1")
    w.call("SET", "d", "1")         # the table is global: db 1 invalidates
    a.pushes()
    a.call("GET", "d")
    w.call("SWAPDB", "0", "1")      # Redis 7.0 sends nothing for SWAPDB
    a.pushes()


def sc_flush(client):
    a = client("a", resp3=True)
    b = client("b", resp3=True)
    w = client("w")
    a.call("CLIENT", "TRACKING", "on")
    b.call("CLIENT", "TRACKING", "on", "BCAST")
    a.call("GET", "k")
    w.call("FLUSHALL")              # one nil invalidation for all databases
    a.pushes()
    b.pushes()
    w.call("FLUSHALL")              # even when nothing was tracked
    a.pushes()
    w.call("SET", "k", "1")
    a.pushes()                      # FLUSHALL forgot every tracked key
    b.pushes()
    a.call("GET", "k")
    w.call("SELECT", "5")
    w.call("FLUSHDB")
    a.pushes()
    b.pushes()
    w.call("SET", "k", "2")
    a.pushes()                      # any flush empties the (global) table
    a.call("FLUSHALL")              # its own flush: after the reply
    a.pushes()
    a.call("FLUSHDB", "ASYNC")
    a.pushes()
    b.pushes()


def sc_redirect_resp2(client):
    s = client("s")
    t = client("t")
    w = client("w")
    s.call("SUBSCRIBE", "__redis__:invalidate")
    t.call("CLIENT", "TRACKING", "on", "REDIRECT", str(s.id))
    t.call("CLIENT", "GETREDIR")
    t.call("GET", "k")
    t.call("MGET", "k", "j")
    w.call("SET", "k", "1")
    s.pushes()                      # ["message", "__redis__:invalidate", ["k"]]
    t.pushes()
    w.call("SET", "j", "1")
    s.pushes()
    t.call("GET", "k")
    w.call("FLUSHALL")
    s.pushes()                      # nil payload ($-1: t speaks RESP2)
    t.call("CLIENT", "TRACKINGINFO")


def sc_redirect_any_channel(client):
    s = client("s")
    t = client("t")
    w = client("w")
    s.call("SUBSCRIBE", "some-other-channel")   # any subscribed mode will do
    t.call("CLIENT", "TRACKING", "on", "REDIRECT", str(s.id))
    t.call("GET", "k")
    w.call("SET", "k", "1")
    s.pushes()


def sc_redirect_mixed_protocols(client):
    s2 = client("s2")
    s3 = client("s3", resp3=True)
    t3 = client("t3", resp3=True)
    t2 = client("t2")
    w = client("w")
    s2.call("SUBSCRIBE", "__redis__:invalidate")
    s3.call("SUBSCRIBE", "__redis__:invalidate")
    t3.call("CLIENT", "TRACKING", "on", "REDIRECT", str(s2.id))
    t2.call("CLIENT", "TRACKING", "on", "REDIRECT", str(s3.id))
    t3.call("GET", "a")
    t2.call("GET", "b")
    w.call("MSET", "a", "1", "b", "2")
    s2.pushes()
    s3.pushes()                     # RESP3 receiver: an invalidate push
    t3.call("GET", "a")
    t2.call("GET", "b")
    w.call("FLUSHALL")              # Redis writes the tracking client's null
    s2.pushes()
    s3.pushes()


def sc_redirect_unsubscribed(client):
    r3 = client("r3", resp3=True)
    r2 = client("r2")
    t2 = client("t2")
    t3 = client("t3", resp3=True)
    w = client("w")
    t2.call("CLIENT", "TRACKING", "on", "REDIRECT", str(r3.id))
    t3.call("CLIENT", "TRACKING", "on", "REDIRECT", str(r2.id))
    t2.call("GET", "q")
    t3.call("GET", "q")
    w.call("SET", "q", "1")
    r3.pushes()                     # RESP3: a push even without SUBSCRIBE
    r2.pushes()                     # RESP2 not subscribed: nothing
    t3.pushes()
    t4 = client("t4")               # RESP2 without redirect: nothing at all
    t4.call("CLIENT", "TRACKING", "on")
    t4.call("GET", "q")
    w.call("SET", "q", "2")
    t4.pushes()


def sc_redirect_broken(client):
    r = client("r")
    t = client("t", resp3=True)
    t2 = client("t2")
    w = client("w")
    t.call("CLIENT", "TRACKING", "on", "REDIRECT", str(r.id))
    t2.call("CLIENT", "TRACKING", "on", "REDIRECT", str(r.id))
    t.call("GET", "q")
    t2.call("GET", "q")
    r.close()
    time.sleep(0.1)
    t.call("CLIENT", "TRACKINGINFO")
    w.call("SET", "q", "1")
    t.pushes()                      # tracking-redir-broken
    t2.pushes()                     # RESP2: nothing to say it with
    t.call("CLIENT", "TRACKINGINFO")
    t2.call("CLIENT", "TRACKINGINFO")
    t.call("CLIENT", "GETREDIR")
    t.call("GET", "q")
    w.call("FLUSHALL")
    t.pushes()                      # each time
    t.call("CLIENT", "TRACKING", "on", "REDIRECT", str(r.id))
    t.call("CLIENT", "TRACKING", "on")
    t.call("CLIENT", "TRACKINGINFO")


def sc_redirect_self(client):
    u = client("u", resp3=True)
    u.call("CLIENT", "TRACKING", "on", "REDIRECT", str(u.id))
    u.call("GET", "m")
    u.call("SET", "m", "1")
    u.pushes()


def sc_redirect_to_writer(client):
    r3 = client("r3", resp3=True)
    t = client("t")
    t.call("CLIENT", "TRACKING", "on", "REDIRECT", str(r3.id))
    t.call("GET", "k")
    r3.send(["SET", "k", "1"])      # the push lands in the writer's own reply stream


def sc_empty_key(client):
    a = client("a", resp3=True)
    b = client("b", resp3=True)
    w = client("w")
    a.call("CLIENT", "TRACKING", "on")
    b.call("CLIENT", "TRACKING", "on", "BCAST")
    a.call("GET", "")
    w.call("SET", "", "1")
    a.pushes()
    b.pushes()


def sc_bcast(client):
    b = client("b", resp3=True)
    w = client("w")
    b.call("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a", "PREFIX", "b")
    w.call("MSET", "b2", "1", "a2", "1", "a1", "1", "c1", "1", "b1", "1")
    b.pushes()                      # one message per prefix, keys sorted
    w.send(["SET", "a9", "1"], ["SET", "a3", "1"], ["DEL", "a9"], ["SET", "a3", "2"])
    b.pushes()                      # one batch per event-loop iteration, each key once
    b.call("SET", "a5", "x")        # its own writes too (no NOLOOP)
    b.pushes()
    w.call("SET", "zz", "1")
    b.pushes()                      # matches no prefix
    b.call("CLIENT", "TRACKINGINFO")
    b.call("GET", "a5")             # BCAST remembers nothing
    b.call("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "c")
    w.call("SET", "c7", "1")
    b.pushes()
    b.call("CLIENT", "TRACKING", "on", "BCAST")   # adds the empty prefix
    b.call("CLIENT", "TRACKINGINFO")
    w.call("SET", "zz", "2")
    b.pushes()


def sc_bcast_noloop(client):
    b = client("b", resp3=True)
    c = client("c", resp3=True)
    w = client("w")
    b.call("CLIENT", "TRACKING", "on", "BCAST", "NOLOOP")
    c.call("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "x")
    b.send(["SET", "x1", "1"], ["SET", "x2", "2"])
    b.pushes()                      # its own changes: nothing
    c.pushes()
    w.call("SET", "x1", "1")
    b.pushes()
    c.pushes()
    b.call("CLIENT", "TRACKING", "off")
    w.call("SET", "x1", "2")
    b.pushes()
    c.pushes()
    c.call("CLIENT", "TRACKINGINFO")


def sc_bcast_redirect_resp2(client):
    s = client("s")
    t = client("t")
    w = client("w")
    s.call("SUBSCRIBE", "__redis__:invalidate")
    t.call("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "user:", "REDIRECT", str(s.id))
    w.call("MSET", "user:2", "x", "user:1", "y", "other", "z")
    s.pushes()


def sc_noloop(client):
    n = client("n", resp3=True)
    w = client("w")
    n.call("CLIENT", "TRACKING", "on", "NOLOOP")
    n.call("GET", "k")
    n.call("SET", "k", "1")
    n.pushes()                      # own write: nothing
    n.call("GET", "k")
    w.call("SET", "k", "2")
    n.pushes()                      # others' writes still invalidate
    n.call("CLIENT", "TRACKINGINFO")


def sc_optin(client):
    o = client("o", resp3=True)
    w = client("w")
    o.call("CLIENT", "TRACKING", "on", "OPTIN")
    o.call("GET", "o1")             # not cached: no CACHING yes
    o.call("CLIENT", "CACHING", "yes")
    o.call("CLIENT", "TRACKINGINFO")
    o.call("CLIENT", "ID")          # CLIENT subcommands keep the flag
    o.call("GET", "o2")             # tracked
    o.call("GET", "o3")             # flag used up
    w.call("MSET", "o1", "1", "o2", "1", "o3", "1")
    o.pushes()
    o.call("CLIENT", "TRACKINGINFO")
    o.call("CLIENT", "CACHING", "yes")
    o.call("SET", "o1", "x", "BADOPT")   # a failed command still uses the flag up
    o.call("GET", "o1")
    w.call("SET", "o1", "2")
    o.pushes()
    o.call("CLIENT", "CACHING", "no")
    o.call("CLIENT", "CACHING", "maybe")


def sc_optin_multi(client):
    o = client("o", resp3=True)
    w = client("w")
    o.call("CLIENT", "TRACKING", "on", "OPTIN")
    o.send(["CLIENT", "CACHING", "yes"], ["MULTI"], ["GET", "o1"], ["GET", "o2"], ["EXEC"])
    w.call("MSET", "o1", "1", "o2", "2")
    o.pushes()                      # both: the flag lasts for the transaction
    o.send(["MULTI"], ["GET", "o1"], ["CLIENT", "CACHING", "yes"], ["GET", "o2"], ["EXEC"])
    w.call("MSET", "o1", "1", "o2", "2")
    o.pushes()                      # only o2
    o.call("GET", "o1")
    w.call("SET", "o1", "3")
    o.pushes()                      # EXEC used the flag up


def sc_optout(client):
    o = client("o", resp3=True)
    w = client("w")
    o.call("CLIENT", "TRACKING", "on", "OPTOUT")
    o.call("GET", "p1")
    o.call("CLIENT", "CACHING", "no")
    o.call("CLIENT", "TRACKINGINFO")
    o.call("GET", "p2")             # not tracked
    o.call("GET", "p3")
    w.call("MSET", "p1", "1", "p2", "1", "p3", "1")
    o.pushes()
    o.call("CLIENT", "CACHING", "yes")


def sc_multi(client):
    a = client("a", resp3=True)
    a.call("CLIENT", "TRACKING", "on")
    a.call("GET", "k")
    # Invalidations of its own writes come after EXEC's reply, one per change.
    a.send(["MULTI"], ["SET", "k", "1"], ["GET", "k"], ["SET", "k", "2"], ["EXEC"])
    a.send(["MULTI"], ["GET", "k"], ["FLUSHALL"], ["EXEC"])


def sc_expiry(client):
    a = client("a", resp3=True)
    n = client("n", resp3=True)
    w = client("w")
    a.call("CLIENT", "TRACKING", "on")
    n.call("CLIENT", "TRACKING", "on", "NOLOOP")
    w.call("SET", "e", "1", "PX", "100")
    a.call("GET", "e")
    n.call("GET", "e")
    time.sleep(1.0)                 # active expiry (no author: NOLOOP sends it); slack for a loaded machine
    a.pushes()
    n.pushes()
    a.call("GET", "e")
    w.call("PEXPIRE", "e", "10")    # no such key
    a.pushes()
    w.call("SET", "e", "1")
    a.pushes()                      # the SET's invalidation, before GET's reply is read
    a.call("GET", "e")
    w.call("PEXPIRE", "e", "100000")
    a.pushes()


def sc_info_shapes(client):
    for resp3 in (False, True):
        c = client("c%d" % resp3, resp3=resp3)
        c.call("CLIENT", "TRACKINGINFO")
        c.call("CLIENT", "GETREDIR")
        c.call("CLIENT", "TRACKING", "on", "OPTIN", "NOLOOP")
        c.call("CLIENT", "CACHING", "yes")
        c.call("CLIENT", "TRACKINGINFO")
        c.call("CLIENT", "GETREDIR")
        c.call("CLIENT", "TRACKING", "off")
        c.call("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "b", "PREFIX", "a",
               "PREFIX", "ca")
        c.call("CLIENT", "TRACKINGINFO")
        c.call("CLIENT", "TRACKING", "off")
        c.call("CLIENT", "TRACKINGINFO")
        c.call("CLIENT", "GETREDIR")


def sc_errors(client):
    c = client("c")
    x = client("x")
    for args in (["on", "PREFIX", "a"], ["on", "BCAST", "OPTIN"], ["on", "OPTIN", "OPTOUT"],
                 ["on", "OPTOUT", "OPTIN", "BCAST"], ["on", "PREFIX", "a", "OPTIN", "OPTOUT"],
                 ["on", "REDIRECT", "abc"], ["on", "REDIRECT", "999999"],
                 ["on", "REDIRECT", "0"], ["on", "REDIRECT", "-1"],
                 ["on", "REDIRECT", "99999999999999999999"],
                 ["on", "REDIRECT", str(x.id), "REDIRECT", str(x.id)],
                 ["on", "REDIRECT", str(x.id), "REDIRECT", "abc"],
                 ["on", "REDIRECT", "abc", "REDIRECT", str(x.id)],
                 ["maybe"], ["on", "PREFIX"], ["on", "REDIRECT"], ["on", "foo"], ["off", "foo"],
                 ["off", "REDIRECT", "999999"], ["off", "PREFIX", "x"], ["off", "OPTIN", "OPTOUT"],
                 ["on", "prefix", "x", "prefix"],
                 ["on", "BCAST", "PREFIX", "a", "PREFIX", "ab"],
                 ["on", "BCAST", "PREFIX", "ab", "PREFIX", "a"],
                 ["on", "BCAST", "PREFIX", "a", "PREFIX", "a"],
                 ["on", "BCAST", "PREFIX", "", "PREFIX", "a"]):
        c.call("CLIENT", "TRACKING", *args)
        c.call("CLIENT", "TRACKING", "off")
    c.call("CLIENT", "TRACKING", "on", "redirect", str(x.id), "bcast", "bcast", "noloop")
    c.call("CLIENT", "TRACKINGINFO")
    c.call("CLIENT", "TRACKING", "on")                       # can't leave BCAST
    c.call("CLIENT", "TRACKING", "off")
    c.call("CLIENT", "TRACKING", "ON", "OPTIN", "OPTIN")
    c.call("CLIENT", "TRACKING", "on", "OPTOUT")             # can't switch OPTIN/OPTOUT
    c.call("CLIENT", "TRACKING", "on", "BCAST")
    c.call("CLIENT", "TRACKING", "on")                       # drops OPTIN
    c.call("CLIENT", "TRACKINGINFO")
    for args in (["yes"], ["no"], ["YES", "x"]):
        c.call("CLIENT", "CACHING", *args)
    c.call("CLIENT", "TRACKING", "off")
    # With tracking off Redis names the missing tracking mode before a bad
    # YES|NO (keel_deferred_error).
    for args in (["yes"], ["no"], ["maybe"], []):
        c.call("CLIENT", "CACHING", *args)
    c.call("CLIENT", "GETREDIR", "x")
    c.call("CLIENT", "TRACKINGINFO", "x")
    c.call("CLIENT", "TRACKING")


def sc_prefix_overlaps(client):
    c = client("c")
    c.call("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a")
    c.call("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "ab")   # overlaps 'a'
    c.call("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "b")
    c.call("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "b")
    c.call("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "")     # overlaps everything
    c.call("CLIENT", "TRACKINGINFO")
    c.call("CLIENT", "TRACKING", "off")
    # Redis 7.0's quirk: an overlap between two new prefixes other than the
    # first is reported, and tracking is enabled anyway (+OK follows).
    d = client("d")
    d.send(["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a", "PREFIX", "b", "PREFIX", "bc"])
    d.call("CLIENT", "TRACKINGINFO")


def sc_hello2(client):
    v = client("v", resp3=True)
    w = client("w")
    v.call("CLIENT", "TRACKING", "on")
    v.call("GET", "h")
    v.conn.send(encode(["HELLO", "2"]))
    v.conn.read_reply()             # masked: server details
    w.call("SET", "h", "1")
    v.pushes()                      # RESP2 now: nothing


def sc_disconnect(client):
    a = client("a", resp3=True)
    b = client("b", resp3=True)
    w = client("w")
    a.call("CLIENT", "TRACKING", "on")
    b.call("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "k")
    a.call("GET", "k")
    a.close()
    b.close()
    time.sleep(0.1)
    w.call("SET", "k", "1")         # nobody left to tell
    w.call("FLUSHALL")
    w.call("PING")


SCENARIOS = {name[3:]: fn for name, fn in sorted(globals().items()) if name.startswith("sc_")}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_tracking_scenario(keel, oracle, name):
    differential(keel, oracle, SCENARIOS[name])


# ------------------------------------------------------------ non-differential

def test_scenarios_see_invalidations(keel):
    """Guard against a differential test passing because nothing happens."""
    log = run(keel.port, sc_resp3_basic)
    pushes = [rep for who, what, rep in log if what == "pushes"]
    assert pushes[0] == [b">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n"]
    log = run(keel.port, sc_redirect_resp2)
    assert (b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*1\r\n$1\r\nk\r\n"
            in [r for who, what, reps in log if who == "s" and what == "pushes" for r in reps])


@pytest.fixture
def small_table(keel, oracle):
    ports = (keel.port, oracle.port)
    for p in ports:
        with RawConn(p) as c:
            assert c.call("CONFIG", "SET", "tracking-table-max-keys", "3") == b"+OK\r\n"
    yield ports
    for p in ports:
        with RawConn(p) as c:
            c.call("CONFIG", "SET", "tracking-table-max-keys", "1000000")


def evict_run(port):
    log = Log()
    a = Client(port, log, "a", resp3=True)
    w = Client(port, Log(), "w")
    w.call("FLUSHALL")
    keys = ["k%d" % i for i in range(10)]
    a.call("CLIENT", "TRACKING", "on")
    a.call("MGET", *keys)
    deadline = time.time() + 3
    got = []
    while time.time() < deadline:
        got += a.pushes()
        if len(got) >= 7:
            break
        time.sleep(0.05)
    invalidated = [parse_one(p)[0][1][0].decode() for p in got]
    # The keys still tracked are exactly those not evicted.
    w.call("MSET", *[x for k in keys for x in (k, "v")])
    rest = []
    deadline = time.time() + 3
    while time.time() < deadline and len(rest) < 3:
        rest += [parse_one(p)[0][1][0].decode() for p in a.pushes()]
    a.close()
    w.close()
    return invalidated, rest


def test_tracking_table_max_keys_eviction(small_table):
    for port in small_table:
        invalidated, rest = evict_run(port)
        assert len(invalidated) == 7, (port, invalidated)
        assert len(set(invalidated)) == 7
        assert sorted(invalidated + rest) == sorted("k%d" % i for i in range(10)), (port, rest)


def test_tracking_table_max_keys_config(diff):
    diff(["CONFIG GET tracking-table-max-keys",
          "CONFIG SET tracking-table-max-keys 10",
          "CONFIG GET tracking-table-max-keys",
          "CONFIG SET tracking-table-max-keys 0",
          "CONFIG GET tracking-table-max-keys",
          "CONFIG SET tracking-table-max-keys -1",
          "CONFIG SET tracking-table-max-keys abc",
          "CONFIG SET tracking-table-max-keys 1.5",
          "CONFIG SET tracking-table-max-keys 9223372036854775807",
          "CONFIG GET tracking-table-max-keys",
          "CONFIG SET tracking-table-max-keys 1000000",
          "CONFIG GET tracking-table-max-keys"])


def test_many_clients_and_keys(keel):
    """A load shape: 20 tracking clients over 200 keys, one writer; every
    client gets exactly the invalidations of the keys it read."""
    log = Log()
    clients = [Client(keel.port, log, "c%d" % i, resp3=True) for i in range(20)]
    w = Client(keel.port, log, "w")
    w.call("FLUSHALL")
    for i, c in enumerate(clients):
        c.call("CLIENT", "TRACKING", "on")
        c.call("MGET", *["key:%d" % k for k in range(200) if k % 20 == i or k % 7 == 0])
    w.call("MSET", *[x for k in range(200) for x in ("key:%d" % k, "v")])
    for i, c in enumerate(clients):
        want = sorted("key:%d" % k for k in range(200) if k % 20 == i or k % 7 == 0)
        got = []
        deadline = time.time() + 3
        while len(got) < len(want) and time.time() < deadline:
            got += [parse_one(p)[0][1][0].decode() for p in c.pushes()]
        assert sorted(got) == want
        c.close()
    w.close()
