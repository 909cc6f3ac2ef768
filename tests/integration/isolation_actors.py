"""isolation_actors.py — the actors of test_isolation.py: one connection
each, driven by its own thread with a seeded random script of stateful
commands, every reply checked against what that connection's own sequence
implies.

Holds no tests (pytest does not collect it). What is here:

- a model of one connection's keys (strings and lists, per database): each
  actor owns its keys (`iso:<actor>:...`), so a model per connection is exact;
- abstract replies (St status, E error, int, bytes, None, NULLARR, list,
  Push) and their RESP2/RESP3 bytes, Webdis JSON and Upstash shapes;
- RespActor (raw RESP over TCP, or over a WebSocket in RESP mode: the same
  script, other transports), HttpActor (keep-alive, pipelined Webdis and
  Upstash requests), WsJsonActor (Keel's JSON protocol on "/"), PyActor
  (redis-py);
- each actor has a helper: its own second RESP connection that makes the
  conflicting writes, the publishes and the pushes that wake a BLPOP.

A failure stops that actor (its connection's state is unknown afterwards)
and is recorded with the seed and the step; the test reports them all.
"""

import base64
import json
import random
import re
import socket
import struct
import time

import websocket

from harness import Incomplete, RawConn, encode, parse_one, reply_end
from test_http_helpers import Incomplete as HttpIncomplete, HttpConn, build_request, parse_response

NDB = 16
PW = "pw-%s"          # the password of actor a's ACL user u-<a>
RO_TOKEN = "iso-readonly-token"   # the server's http-readonly-token
TIMEOUT = 20.0        # a reply that takes longer is a failure (ASan, 2 shared cores)


def user_rules(a):
    """ACL SETUSER arguments for actor a's user: its own keys only, every
    command but INCR, every channel."""
    return ["u-%s" % a, "on", ">" + PW % a, "~iso:%s:*" % a, "allchannels", "+@all", "-incr"]


# --------------------------------------------------------------------------
# abstract replies

class St(str):
    """A status reply."""


class E(str):
    """An error reply (full text, with its code)."""


class Dbl(float):
    """A double reply (RESP2 a bulk string, RESP3 ',')."""

    def text(self):
        return ("%.17g" % self).encode()


class _NullArr:
    def __repr__(self):
        return "NULLARR"


NULLARR = _NullArr()   # RESP2 *-1, RESP3 _


class Push(list):
    """A push (RESP3 '>'; RESP2 an array)."""


E_INT = E("ERR value is not an integer or out of range")
E_WRONGTYPE = E("WRONGTYPE Operation against a key holding the wrong kind of value")
E_NOPERM_KEY = E("NOPERM this user has no permissions to access one of the keys used as arguments")
E_EXECABORT = E("EXECABORT Transaction discarded because of previous errors.")
E_REPLY_OFF = E("ERR CLIENT REPLY OFF and SKIP are not available on this connection: every "
                "request gets its reply")
OK = St("OK")
QUEUED = St("QUEUED")


def e_noperm_cmd(name):
    return E("NOPERM this user has no permissions to run the '%s' command" % name)


def to_resp(v, proto):
    if v is None or v is NULLARR:
        return b"_\r\n" if proto == 3 else (b"$-1\r\n" if v is None else b"*-1\r\n")
    if isinstance(v, St):
        return b"+%s\r\n" % v.encode()
    if isinstance(v, E):
        return b"-%s\r\n" % v.encode()
    if isinstance(v, Dbl):
        return b",%s\r\n" % v.text() if proto == 3 else to_resp(v.text(), 2)
    if isinstance(v, int):
        return b":%d\r\n" % v
    if isinstance(v, str):
        v = v.encode()
    if isinstance(v, bytes):
        return b"$%d\r\n%s\r\n" % (len(v), v)
    if isinstance(v, list):
        head = b">" if isinstance(v, Push) and proto == 3 else b"*"
        return head + b"%d\r\n" % len(v) + b"".join(to_resp(x, proto) for x in v)
    raise TypeError(v)


def to_json(v, proto=2):
    """Webdis's JSON (RESP2: a double is a string) and Keel's WebSocket JSON
    (RESP3 unless HELLO 2: a double is a number)."""
    if v is None or v is NULLARR:
        return None
    if isinstance(v, Dbl):
        return float(v) if proto == 3 else v.text().decode()
    if isinstance(v, St):
        return [True, str(v)]
    if isinstance(v, E):
        return [False, str(v)]
    if isinstance(v, int):
        return v
    if isinstance(v, bytes):
        return v.decode()
    if isinstance(v, list):
        return [to_json(x, proto) for x in v]
    return v


def to_upstash(v):
    """One Upstash entry: {"result": ...} or {"error": ...}."""
    if isinstance(v, E):
        return {"error": str(v)}

    def val(x):
        if x is None or x is NULLARR:
            return None
        if isinstance(x, St):
            return str(x)
        if isinstance(x, Dbl):
            return x.text().decode()
        if isinstance(x, bytes):
            return x.decode()
        if isinstance(x, list):
            return [val(y) for y in x]
        return x
    return {"result": val(v)}


# --------------------------------------------------------------------------
# the model of one connection's keys

_INT = re.compile(rb"^(0|-?[1-9][0-9]{0,17})$")


class Model:
    """The actor's keys: (db, key) -> bytes or list of bytes."""

    def __init__(self):
        self.data = {}

    @staticmethod
    def refusal(cmd, user):
        """The ACL refusal of cmd for actor user's ACL user (None: default,
        who may do anything), or None."""
        if user is None:
            return None
        if cmd[0].upper() == "INCR":
            return e_noperm_cmd("incr")
        mine = "iso:%s:" % user
        if any(str(a).startswith("iso:") and not str(a).startswith(mine) for a in cmd[1:]):
            return E_NOPERM_KEY
        return None

    def apply(self, db, cmd, user=None):
        """The reply of cmd (a list of str) run in db as user (None: default),
        applying its effect."""
        name = cmd[0].upper()
        args = [a.encode() if isinstance(a, str) else a for a in cmd[1:]]
        refused = self.refusal(cmd, user)
        if refused:
            return refused
        d = self.data
        k = (db, args[0]) if args else None
        cur = d.get(k)
        if name == "SET":
            d[k] = args[1]
            return OK
        if name == "GET":
            if isinstance(cur, list):
                return E_WRONGTYPE
            return cur
        if name == "STRLEN":
            if isinstance(cur, list):
                return E_WRONGTYPE
            return len(cur or b"")
        if name == "APPEND":
            if isinstance(cur, list):
                return E_WRONGTYPE
            d[k] = (cur or b"") + args[1]
            return len(d[k])
        if name == "INCR":
            if isinstance(cur, list):
                return E_WRONGTYPE
            if cur is not None and not _INT.match(cur):
                return E_INT
            n = int(cur or b"0") + 1
            d[k] = str(n).encode()
            return n
        if name == "DEL":
            n = 0
            for a in args:
                if d.pop((db, a), None) is not None:
                    n += 1
            return n
        if name == "EXISTS":
            return sum(1 for a in args if (db, a) in d)
        if name == "RPUSH":
            if cur is not None and not isinstance(cur, list):
                return E_WRONGTYPE
            d[k] = (cur or []) + list(args[1:])
            return len(d[k])
        if name == "LPOP":
            if cur is not None and not isinstance(cur, list):
                return E_WRONGTYPE
            if not cur:
                return None
            v = cur.pop(0)
            if not cur:
                del d[k]
            return v
        if name in ("ZADD", "ZINCRBY", "ZSCORE"):
            if cur is not None and not isinstance(cur, dict):
                return E_WRONGTYPE
            z = d.setdefault(k, {}) if name != "ZSCORE" else (cur or {})
            if name == "ZSCORE":
                return Dbl(z[args[1]]) if args[1] in z else None
            if name == "ZADD":
                new = args[2] not in z
                z[args[2]] = float(args[1])
                return int(new)
            z[args[2]] = z.get(args[2], 0.0) + float(args[1])
            return Dbl(z[args[2]])
        if name == "LRANGE":
            if cur is not None and not isinstance(cur, list):
                return E_WRONGTYPE
            return list(cur or [])
        raise ValueError(name)


def random_cmd(rnd, a, pipeline_safe=True):
    """A data command on actor a's own keys (and, rarely, a key of nobody's,
    which only the default user may touch)."""
    s = "iso:%s:s%d" % (a, rnd.randrange(4))
    lst = "iso:%s:l%d" % (a, rnd.randrange(2))
    v = rnd.choice(["%d" % rnd.randrange(-50, 1000), "v%d" % rnd.randrange(1000), "x"])
    pick = rnd.randrange(15)
    if pick == 0:
        return ["EXISTS", "iso:nobody:%s" % a]
    if pick >= 12:   # doubles: their shape depends on the connection's protocol
        z, m, sc = "iso:%s:z" % a, rnd.choice("ab"), "%g" % (rnd.randrange(-20, 20) * 0.25)
        return [["ZADD", z, sc, m], ["ZSCORE", z, m], ["ZINCRBY", z, sc, m]][pick - 12]
    return [["SET", s, v], ["GET", s], ["INCR", s], ["APPEND", s, v], ["DEL", s],
            ["STRLEN", s], ["RPUSH", lst, v, v + "b"], ["LPOP", lst], ["LRANGE", lst, "0", "-1"],
            ["EXISTS", s, lst], ["GET", s]][pick - 1]


READS = ("GET", "STRLEN", "EXISTS", "LRANGE", "ZSCORE")


def random_write(rnd, a):
    """A data command that reads no key: run while CLIENT TRACKING is on, it
    leaves nothing tracked (a key read then stays in the server's table
    after TRACKING off, as in Redis, and a later write to it would be
    invalidated to this connection in its next tracking window)."""
    while True:
        c = random_cmd(rnd, a)
        if c[0] not in READS:
            return c


class Failure(Exception):
    pass


SCRIPT = ("if ARGV[1] ~= '-1' then redis.call('SELECT', ARGV[1]) end "
          "redis.call('SET', KEYS[1], ARGV[2]) "
          "local r = redis.pcall('INCR', KEYS[2]) "
          "if type(r) == 'table' then r = 'E' end "
          "return {redis.call('GET', KEYS[1]), r}")


def eval_cmd(rnd, model, a, db, user):
    """EVAL of SCRIPT: it starts in the caller's db, may SELECT another for
    itself, and runs as the caller's user (INCR refused for actor users).
    Returns (command, expected reply); the caller's db is unchanged."""
    sdb = rnd.choice([-1, rnd.randrange(NDB)])
    k1, k2 = "iso:%s:s%d" % (a, rnd.randrange(4)), "iso:%s:s%d" % (a, rnd.randrange(4))
    v = "e%d" % rnd.randrange(100)
    d = db if sdb < 0 else sdb
    model.apply(d, ["SET", k1, v])
    r = model.apply(d, ["INCR", k2], user)
    got = model.apply(d, ["GET", k1])
    return (["EVAL", SCRIPT, "2", k1, k2, str(sdb), v], [got, b"E" if isinstance(r, E) else r])


# --------------------------------------------------------------------------
# the helper: the actor's own second connection

class Helper:
    def __init__(self, port):
        self.c = RawConn(port, timeout=TIMEOUT)
        self.db = 0

    def call(self, db, *cmd):
        out = b""
        if db != self.db:
            self.c.send(encode(["SELECT", db]))
            assert self.c.read_reply() == b"+OK\r\n"
            self.db = db
        self.c.send(encode(cmd))
        out = self.c.read_reply()
        return parse_one(out)[0]

    def wake(self, rnd, db, key, v):
        """Make v the one element of list key in db, waking a client parked
        on it there. A decoy first: the same key in another db, pushed and
        deleted (it must wake no one), then a push by RPUSH, by MULTI/EXEC or
        by a script."""
        if rnd.random() < 0.5:
            other = (db + 1 + rnd.randrange(NDB - 1)) % NDB
            assert self.call(other, "RPUSH", key, "decoy") == 1
            assert self.call(other, "DEL", key) == 1
        how = rnd.randrange(3)
        if how == 0:
            n = self.call(db, "RPUSH", key, v)
        elif how == 1:
            self.call(db, "PING")
            self.c.send(encode(["MULTI"]) + encode(["RPUSH", key, v]) + encode(["EXEC"]))
            rep = self.c.read_replies(3)
            n = parse_one(rep[2])[0][0]
        else:
            n = self.call(db, "EVAL", "return redis.call('RPUSH', KEYS[1], ARGV[1])", "1", key, v)
        assert n == 1, n

    def fields(self, cid):
        """Client cid's CLIENT LIST fields, as another connection sees them."""
        line = self.call(0, "CLIENT", "LIST", "ID", cid).decode().strip()
        return dict(kv.split("=", 1) for kv in line.split(" ")) if line else {}

    def unblock(self, cid, how):
        """CLIENT UNBLOCK cid once it is parked (0 until then)."""
        deadline = time.monotonic() + TIMEOUT
        while self.call(0, "CLIENT", "UNBLOCK", cid, how) != 1:
            if time.monotonic() > deadline:
                raise AssertionError("client %d never blocked" % cid)
            time.sleep(0.005)

    def close(self):
        self.c.close()


E_UNBLOCKED = E("UNBLOCKED client unblocked via CLIENT UNBLOCK")


def seen_check(actor, name, db):
    """Another connection's view of the actor's client (CLIENT LIST ID):
    its name and db are the ones it set, on its own id."""
    f = actor.helper.fields(actor.id)
    got = (f.get("id"), f.get("name"), f.get("db"))
    if got != (str(actor.id), name, str(db)):
        actor.fail("CLIENT LIST ID %d from another connection: %r, expected %r" % (
            actor.id, got, (str(actor.id), name, str(db))))


# --------------------------------------------------------------------------
# base actor

class Actor:
    kind = "?"
    steps = None    # the test's number of ops, unless an actor has its own

    def __init__(self, srv, name, seed):
        self.srv = srv
        self.name = name
        self.seed = seed
        self.rnd = random.Random("%s/%s" % (seed, name))
        self.model = Model()
        self.db = 0
        self.user = None        # None: default
        self.step = 0
        self.what = ""
        self.failure = None
        self.ops_done = 0
        self.helper = None

    def key(self, n):
        return "iso:%s:%s" % (self.name, n)

    def fail(self, msg):
        raise Failure("%s %s (seed %s, step %d, %s): %s" % (
            self.kind, self.name, self.seed, self.step, self.what, msg))

    def check(self, got, want, what):
        if got != want:
            self.fail("%s: expected %r, got %r" % (what, want, got))

    def run(self, steps, deadline):
        try:
            self.helper = Helper(self.srv.port)
            self.connect()
            for self.step in range(steps):
                if time.monotonic() > deadline:
                    break
                op = self.rnd.choices(self.ops, weights=[w for _, w in self.ops])[0][0]
                self.what = op
                getattr(self, "op_" + op)()
                self.ops_done += 1
        except Failure as e:
            self.failure = str(e)
        except Exception as e:  # a timeout, a closed socket: the server did not answer
            self.failure = "%s %s (seed %s, step %d, %s): %s: %s" % (
                self.kind, self.name, self.seed, self.step, self.what, type(e).__name__, e)
        finally:
            try:
                self.close()
            except Exception:
                pass
            if self.helper:
                self.helper.close()


# --------------------------------------------------------------------------
# RESP actors (TCP or WebSocket RESP mode)

class TcpTransport:
    can_reply_off = True

    def __init__(self, port):
        self.c = RawConn(port, timeout=TIMEOUT)

    def send(self, data):
        self.c.send(data)

    def read(self, n):
        return self.c.read_replies(n, TIMEOUT)

    def close(self):
        self.c.close()


class WsRespTransport:
    """RESP in binary frames (subprotocol resp2/resp3), or in text frames on
    Webdis's /.raw (proto None)."""
    can_reply_off = False   # CLIENT REPLY OFF/SKIP is refused over WebSocket

    def __init__(self, http_port, proto):
        self.text = proto is None
        if self.text:
            self.ws = websocket.create_connection("ws://127.0.0.1:%d/.raw" % http_port,
                                                  timeout=TIMEOUT)
        else:
            self.ws = websocket.create_connection("ws://127.0.0.1:%d/" % http_port,
                                                  timeout=TIMEOUT, subprotocols=["resp%d" % proto])
        self.buf = b""

    def send(self, data):
        if self.text:
            self.ws.send(data.decode())
        else:
            self.ws.send_binary(data)

    def read(self, n):
        out = []
        pos = 0
        while len(out) < n:
            try:
                end = reply_end(self.buf, pos)
                out.append(self.buf[pos:end])
                pos = end
                continue
            except Incomplete:
                pass
            d = self.ws.recv()
            self.buf += d if isinstance(d, bytes) else d.encode()
        self.buf = self.buf[pos:]
        return out

    def close(self):
        self.ws.close()


def client_info_fields(raw):
    v, _ = parse_one(raw)
    text = bytes(v).decode().strip()
    return dict(kv.split("=", 1) for kv in text.split(" "))


class RespActor(Actor):
    """Raw RESP: pipelined commands, every reply compared byte for byte."""

    ops = [("kv", 30), ("select", 8), ("multi", 10), ("watch", 8), ("name", 6), ("hello", 4),
           ("tracking", 5), ("pubsub", 5), ("auth", 4), ("reply", 4), ("blpop", 5),
           ("big", 3), ("churn", 4), ("parked_push", 3), ("eval", 5), ("reset", 2),
           ("notify", 3)]

    def __init__(self, srv, name, seed, proto=2, ws=False, webdis_raw=False):
        super().__init__(srv, name, seed)
        self.proto = proto
        self.ws = ws or webdis_raw
        self.webdis_raw = webdis_raw
        self.kind = "WS-/.raw" if webdis_raw else ("WS-RESP%d" if ws else "RESP%d") % proto
        self.cname = None

    def connect(self):
        if self.ws:
            self.t = WsRespTransport(self.srv.http, None if self.webdis_raw else self.proto)
        else:
            self.t = TcpTransport(self.srv.port)
            if self.proto == 3:
                self.t.send(encode(["HELLO", "3"]))
                self.t.read(1)
        self.t.send(encode(["CLIENT", "ID"]))
        self.id = parse_one(self.t.read(1)[0])[0]

    def close(self):
        self.t.close()

    def exchange(self, plan):
        """plan: [(cmd or None, expected bytes or a checker or None)]: send
        every command at once, then read one reply per expectation that is
        not None (None: a command without a reply; a None command: a reply
        that comes without one, a push)."""
        data = b"".join(encode(c) for c, _ in plan if c is not None)
        if data:
            self.t.send(data)
        want = [(c, w) for c, w in plan if w is not None]
        got = self.t.read(len(want)) if want else []
        for (c, w), g in zip(want, got):
            if callable(w):
                msg = w(g)
                if msg:
                    self.fail("%r: %s; got %r" % (c, msg, g))
            elif g != w:
                self.fail("%r: expected %r, got %r" % (c, w, g))

    def r(self, v):
        return to_resp(v, self.proto)

    def data_plan(self, n):
        plan = []
        for _ in range(n):
            cmd = random_cmd(self.rnd, self.name)
            plan.append((cmd, self.r(self.model.apply(self.db, cmd, self.user))))
        return plan

    def op_kv(self):
        self.exchange(self.data_plan(self.rnd.randint(1, 8)))

    def op_select(self):
        self.db = self.rnd.randrange(NDB)
        self.exchange([(["SELECT", self.db], self.r(OK))] + self.data_plan(2))

    def op_multi(self):
        plan = [(["MULTI"], self.r(OK))]
        cmds = [random_cmd(self.rnd, self.name) for _ in range(self.rnd.randint(1, 5))]
        bad = self.rnd.random() < 0.15
        aborted = bad
        for c in cmds:
            refused = self.model.refusal(c, self.user)
            aborted = aborted or refused is not None
            plan.append((c, self.r(refused or QUEUED)))
        if bad:
            plan.append((["GET"], self.r(E("ERR wrong number of arguments for 'get' command"))))
        if self.rnd.random() < 0.3:
            plan.append((["DISCARD"], self.r(OK)))
        elif aborted:
            plan.append((["EXEC"], self.r(E_EXECABORT)))
        else:
            res = [self.model.apply(self.db, c, self.user) for c in cmds]
            plan.append((["EXEC"], self.r(res)))
        self.exchange(plan)

    def op_watch(self):
        w = self.key("w")
        self.exchange([(["WATCH", w], self.r(OK))])
        how = self.rnd.randrange(4)
        if how == 0:     # the same key in the same db: the watcher's EXEC aborts
            self.helper.call(self.db, "SET", w, "conflict")
            self.model.data[(self.db, w.encode())] = b"conflict"
        elif how == 1:   # the same key in another db: no conflict
            other = (self.db + 1) % NDB
            self.helper.call(other, "SET", w, "elsewhere")
            self.model.data[(other, w.encode())] = b"elsewhere"
        elif how == 2:   # another of its keys
            self.helper.call(self.db, "SET", self.key("w2"), "other")
            self.model.data[(self.db, self.key("w2").encode())] = b"other"
        cmds = [["SET", w, "mine%d" % self.step], ["GET", w]]
        plan = [(["MULTI"], self.r(OK))] + [(c, self.r(QUEUED)) for c in cmds]
        if how == 0:
            plan.append((["EXEC"], self.r(NULLARR)))
        else:
            plan.append((["EXEC"], self.r([self.model.apply(self.db, c, self.user) for c in cmds])))
        self.exchange(plan)

    def check_info(self, raw):
        f = client_info_fields(raw)
        want = {"id": str(self.id), "name": self.cname or "", "db": str(self.db),
                "user": "u-%s" % self.name if self.user else "default",
                "resp": str(self.proto), "sub": "0", "psub": "0", "multi": "-1"}
        got = {k: f.get(k) for k in want}
        return None if got == want else "CLIENT INFO %r, expected %r" % (got, want)

    def op_name(self):
        self.cname = "n-%s-%d" % (self.name, self.step)
        self.exchange([(["CLIENT", "SETNAME", self.cname], self.r(OK)),
                       (["CLIENT", "GETNAME"], self.r(self.cname.encode())),
                       (["CLIENT", "ID"], self.r(self.id)),
                       (["CLIENT", "INFO"], self.check_info)])
        seen_check(self, self.cname, self.db)

    def op_hello(self):
        self.proto = self.rnd.choice([2, 3])

        def check(raw):
            v, _ = parse_one(raw)
            d = v if isinstance(v, dict) else dict(zip(v[::2], v[1::2]))
            if raw[:1] != (b"%" if self.proto == 3 else b"*"):
                return "HELLO %d answered in the wrong protocol" % self.proto
            if d.get(b"proto") != self.proto or d.get(b"id") != self.id:
                return "HELLO: proto %r id %r, expected %r %r" % (
                    d.get(b"proto"), d.get(b"id"), self.proto, self.id)
            return None
        cmd = ["HELLO", self.proto]
        if self.rnd.random() < 0.4:
            if self.user is None:
                self.user = self.name
                cmd += ["AUTH", "u-%s" % self.name, PW % self.name]
            else:
                self.user = None
                cmd += ["AUTH", "default", "x"]
        if self.rnd.random() < 0.4:
            self.cname = "hello-%s-%d" % (self.name, self.step)
            cmd += ["SETNAME", self.cname]
        self.exchange([(cmd, check)] + self.data_plan(2) + [(["CLIENT", "INFO"], self.check_info)])

    def op_tracking(self):
        if self.rnd.random() < 0.3:
            return self.tracking_redirect()
        if self.proto != 3:
            return self.op_kv()
        how = self.rnd.randrange(3)
        if how == 1:
            return self.tracking_bcast()
        if how == 2:
            return self.tracking_optin()
        k = self.key("s%d" % self.rnd.randrange(4))
        if isinstance(self.model.data.get((self.db, k.encode())), list):
            return
        self.exchange([(["CLIENT", "TRACKING", "on"], self.r(OK)),
                       (["GET", k], self.r(self.model.apply(self.db, ["GET", k], self.user)))])
        self.helper.call(self.db, "SET", k, "t%d" % self.step)
        self.model.data[(self.db, k.encode())] = b"t%d" % self.step
        self.exchange([(None, self.r(Push([b"invalidate", [k.encode()]]))),
                       (["CLIENT", "TRACKING", "off"], self.r(OK))])

    def tracking_redirect(self):
        """REDIRECT to a connection of its own subscribed to
        __redis__:invalidate: the invalidation reaches that one only (every
        actor has such a subscriber now and then: none gets another's)."""
        k = self.key("s%d" % self.rnd.randrange(4))
        with RawConn(self.srv.port, timeout=TIMEOUT) as t:
            tid = parse_one(t.call("CLIENT", "ID"))[0]
            t.send(encode(["SUBSCRIBE", "__redis__:invalidate"]))
            t.read_reply()
            self.exchange([(["CLIENT", "TRACKING", "on", "REDIRECT", tid], self.r(OK)),
                           (["GET", k], self.r(self.model.apply(self.db, ["GET", k], self.user)))])
            self.helper.call(self.db, "SET", k, "r%d" % self.step)
            self.model.data[(self.db, k.encode())] = b"r%d" % self.step
            got = t.read_reply()
            want = to_resp([b"message", b"__redis__:invalidate", [k.encode()]], 2)
            if got != want:
                self.fail("the redirect target got %r, expected %r" % (got, want))
        self.exchange([(["CLIENT", "TRACKING", "off"], self.r(OK))])

    def tracking_bcast(self):
        """BCAST with this actor's prefix (the prefix table is the server's):
        invalidations for its own keys only, none for its own writes under
        NOLOOP."""
        prefix = self.key("t")
        noloop = self.rnd.random() < 0.5
        cmd = ["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", prefix] + (["NOLOOP"] if noloop else [])
        self.exchange([(cmd, self.r(OK))])
        for i in range(self.rnd.randint(1, 3)):
            k = self.key("t%d" % i)
            if noloop:   # its own write: no invalidation
                self.exchange([(["SET", k, "own"], self.r(OK))])
            self.helper.call(self.rnd.randrange(NDB), "SET", k, "x")
            self.exchange([(None, self.r(Push([b"invalidate", [k.encode()]])))])
        self.exchange([(["CLIENT", "TRACKING", "off"], self.r(OK))])
        for i in range(3):
            for d in range(NDB):
                self.helper.call(d, "DEL", self.key("t%d" % i))

    def tracking_optin(self):
        """OPTIN: only the read after CLIENT CACHING yes is tracked."""
        k1, k2 = self.key("o1"), self.key("o2")
        self.exchange([(["CLIENT", "TRACKING", "on", "OPTIN"], self.r(OK)),
                       (["GET", k1], self.r(None)),
                       (["CLIENT", "CACHING", "yes"], self.r(OK)),
                       (["GET", k2], self.r(None))])
        self.helper.call(self.db, "SET", k1, "x")
        self.helper.call(self.db, "SET", k2, "x")
        self.exchange([(None, self.r(Push([b"invalidate", [k2.encode()]]))),
                       (["CLIENT", "TRACKING", "off"], self.r(OK))])
        self.helper.call(self.db, "DEL", k1, k2)

    def op_pubsub(self):
        ch, pat = self.key("ch"), self.key("p.*")
        P = Push
        self.exchange([(["SUBSCRIBE", ch], self.r(P([b"subscribe", ch.encode(), 1]))),
                       (["PSUBSCRIBE", pat], self.r(P([b"psubscribe", pat.encode(), 2])))])
        plan = []
        for i in range(self.rnd.randint(1, 6)):
            m = "m%d-%d" % (self.step, i)
            if i % 2:
                target = self.key("p.%d" % i)
                msg = P([b"pmessage", pat.encode(), target.encode(), m.encode()])
            else:
                target = ch
                msg = P([b"message", ch.encode(), m.encode()])
            n = self.helper.call(self.rnd.randrange(NDB), "PUBLISH", target, m)
            if n != 1:
                self.fail("PUBLISH %s reached %r subscribers, expected 1" % (target, n))
            plan.append((None, self.r(msg)))
        plan += [(["UNSUBSCRIBE", ch], self.r(P([b"unsubscribe", ch.encode(), 1]))),
                 (["PUNSUBSCRIBE", pat], self.r(P([b"punsubscribe", pat.encode(), 0])))]
        self.exchange(plan)

    def op_auth(self):
        if self.user is None:
            self.user = self.name
            plan = [(["AUTH", "u-%s" % self.name, PW % self.name], self.r(OK))]
        else:
            self.user = None
            plan = [(["AUTH", "default", "anything"], self.r(OK))]
        probe = ["EXISTS", "iso:nobody:%s" % self.name]
        plan += [(probe, self.r(self.model.apply(self.db, probe, self.user))),
                 (["CLIENT", "INFO"], self.check_info)] + self.data_plan(3)
        self.exchange(plan)

    def op_reply(self):
        if not self.t.can_reply_off:
            return self.exchange([(["CLIENT", "REPLY", "OFF"], self.r(E_REPLY_OFF))] +
                                 self.data_plan(1))
        if self.rnd.random() < 0.3:
            # a silenced BLPOP: its reply stays silent when another
            # connection's write serves it (or it times out)
            b = self.key("b")
            mode = self.rnd.choice(["SKIP", "OFF"])
            self.t.send(encode(["CLIENT", "REPLY", mode]) + encode(["BLPOP", b, "10"]))
            time.sleep(0.01)
            self.helper.wake(self.rnd, self.db, b, "silent%d" % self.step)
            tail = [(["CLIENT", "REPLY", "ON"], self.r(OK))] if mode == "OFF" else []
            return self.exchange(tail + [(["PING"], self.r(St("PONG")))] + self.data_plan(1))
        plan = [(["CLIENT", "REPLY", "SKIP"], None)]
        c = random_cmd(self.rnd, self.name)
        self.model.apply(self.db, c, self.user)
        plan.append((c, None))
        plan.append((["PING"], self.r(St("PONG"))))
        plan.append((["CLIENT", "REPLY", "OFF"], None))
        for _ in range(self.rnd.randint(0, 3)):
            c = random_cmd(self.rnd, self.name)
            self.model.apply(self.db, c, self.user)
            plan.append((c, None))
        plan.append((["CLIENT", "REPLY", "ON"], self.r(OK)))
        self.exchange(plan + self.data_plan(1))

    def op_eval(self):
        c, want = eval_cmd(self.rnd, self.model, self.name, self.db, self.user)
        self.exchange([(c, self.r(want))] + self.data_plan(2))

    def op_reset(self):
        """RESET: db 0, the default user, no name, RESP2, out of MULTI."""
        plan = []
        if self.rnd.random() < 0.5:
            plan += [(["MULTI"], self.r(OK)), (["SET", self.key("s0"), "lost"], self.r(QUEUED))]
        plan.append((["RESET"], self.r(St("RESET"))))
        self.db, self.user, self.cname, self.proto = 0, None, None, 2
        self.exchange(plan + [(["CLIENT", "INFO"], self.check_info)] + self.data_plan(2))

    def op_notify(self):
        """Keyspace events name the db of the write that made them (the
        server runs with notify-keyspace-events K$g)."""
        k = self.key("n")
        pat = "__keyspace@*__:" + k
        self.exchange([(["PSUBSCRIBE", pat], self.r(Push([b"psubscribe", pat.encode(), 1])))])
        plan = []
        for _ in range(self.rnd.randint(1, 5)):
            d = self.rnd.randrange(NDB)
            ev = self.rnd.choice(["set", "del"])
            if ev == "set":
                self.helper.call(d, "SET", k, "x")
            elif self.helper.call(d, "DEL", k) == 0:
                continue
            plan.append((None, self.r(Push([b"pmessage", pat.encode(),
                                            ("__keyspace@%d__:%s" % (d, k)).encode(),
                                            ev.encode()]))))
        plan.append((["PUNSUBSCRIBE", pat], self.r(Push([b"punsubscribe", pat.encode(), 0]))))
        self.exchange(plan)
        for d in range(NDB):
            self.helper.call(d, "DEL", k)

    def op_big(self):
        """Large values: replies written in pieces, receives in several parts."""
        k = self.key("s%d" % self.rnd.randrange(4))
        v = (self.name * 7 + "%d." % self.step).encode() * self.rnd.randint(2000, 40000)
        plan = [(["SET", k, v], self.r(self.model.apply(self.db, ["SET", k, v], self.user)))]
        plan += self.data_plan(2)
        for _ in range(self.rnd.choice([1, 1, 8])):
            plan.append((["GET", k], self.r(self.model.apply(self.db, ["GET", k], self.user))))
        if self.rnd.random() < 0.3:
            # a slow reader: megabytes wait in its output while others go on
            data = b"".join(encode(c) for c, _ in plan)
            self.t.send(data)
            time.sleep(0.3)
            got = self.t.read(len(plan))
            for (c, w), g in zip(plan, got):
                if g != w:
                    self.fail("%r read late: expected %r..., got %r..." % (c[:2], w[:60], g[:60]))
            return
        self.exchange(plan)

    def op_churn(self):
        """A short-lived connection of its own (TCP): a pipeline in a db of its
        choosing, read whole, or dropped half-read; the actor's own
        connection is unaffected."""
        k = self.key("c%d" % self.step)
        db = self.rnd.randrange(NDB)
        n = self.rnd.randint(1, 60)
        vals = [("%s-%d-%d" % (self.name, self.step, i)).encode() * self.rnd.choice([1, 1, 50, 3000])
                for i in range(n)]
        if self.rnd.random() < 0.2:
            self.garbage()
        with RawConn(self.srv.port, timeout=TIMEOUT) as c:
            data = encode(["SELECT", db])
            for v in vals:
                data += encode(["SET", k, v]) + encode(["GET", k])
            c.send(data)
            if self.rnd.random() < 0.3:
                c.read_replies(self.rnd.randint(1, n))
                return      # closed with replies unread
            got = c.read_replies(1 + 2 * n)
        want = [b"+OK\r\n"]
        for v in vals:
            want += [b"+OK\r\n", to_resp(v, 2)]
        if got != want:
            self.fail("a fresh connection's pipeline: %d replies differ" %
                      sum(1 for g, w in zip(got, want) if g != w))
        self.helper.call(db, "DEL", k)
        self.exchange(self.data_plan(1))

    def garbage(self):
        """A bad client beside the good ones: a protocol error, a request cut
        short, an HTTP request on the RESP port, a bad WebSocket frame."""
        how = self.rnd.randrange(4)
        if how == 3:
            with HttpConn(self.srv.http, timeout=TIMEOUT) as h:
                h.send(b"GET /SET/" + self.key("g").encode() + b" HTTP/1.1\r\nHost: x\r\n"
                       b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "
                       b"dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
                       b"\x81\x05hello")   # unmasked: a protocol error
                h.wait_closed(TIMEOUT)
            return
        with RawConn(self.srv.port if how < 2 else self.srv.http, timeout=TIMEOUT) as c:
            if how == 0:
                c.send(b"*2\r\n$3\r\nGET\r\n$x\r\n")
                got = c.read_reply()
                if not got.startswith(b"-ERR Protocol error"):
                    self.fail("a protocol error answered %r" % got)
            elif how == 1:
                c.send(encode(["SET", self.key("g"), "v" * 1000])[:-500])
            else:
                c.send(b"POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\nshort")

    def op_parked_push(self):
        """RESP3: a tracking invalidation that arrives while BLPOP is parked
        comes before BLPOP's reply; the command after it waits its turn."""
        if self.proto != 3:
            return self.op_blpop()
        k, b = self.key("s%d" % self.rnd.randrange(4)), self.key("b")
        self.exchange([(["CLIENT", "TRACKING", "on"], self.r(OK)),
                       (["GET", k], self.r(self.model.apply(self.db, ["GET", k], self.user)))])
        after = random_write(self.rnd, self.name)
        self.t.send(encode(["BLPOP", b, "10"]) + encode(after))
        time.sleep(0.02)
        self.helper.call(self.db, "SET", k, "pp%d" % self.step)
        self.model.data[(self.db, k.encode())] = b"pp%d" % self.step
        v = "pushed%d" % self.step
        self.helper.wake(self.rnd, self.db, b, v)
        self.exchange([(None, self.r(Push([b"invalidate", [k.encode()]]))),
                       (None, self.r([b.encode(), v.encode()])),
                       (None, self.r(self.model.apply(self.db, after, self.user))),
                       (["CLIENT", "TRACKING", "off"], self.r(OK))])

    def op_blpop(self):
        b = self.key("b")
        if self.rnd.random() < 0.3:
            return self.exchange([(["BLPOP", b, "0.05"], self.r(NULLARR))])
        behind = self.data_plan(self.rnd.randint(0, 3))   # run after BLPOP returns
        self.t.send(encode(["BLPOP", b, "10"]) + b"".join(encode(c) for c, _ in behind))
        if self.rnd.random() < 0.25:   # CLIENT UNBLOCK by id, from another connection
            how = self.rnd.choice(["TIMEOUT", "ERROR"])
            self.helper.unblock(self.id, how)
            first = NULLARR if how == "TIMEOUT" else E_UNBLOCKED
        else:
            time.sleep(self.rnd.choice([0, 0.01, 0.05]))
            v = "pushed%d" % self.step
            self.helper.wake(self.rnd, self.db, b, v)
            first = [b.encode(), v.encode()]
        self.exchange([(None, self.r(first))] + [(None, w) for _, w in behind])


# --------------------------------------------------------------------------
# HTTP: one keep-alive connection, pipelined requests

def basic(user, pw):
    return {"Authorization": "Basic " + base64.b64encode(("%s:%s" % (user, pw)).encode()).decode()}


class HttpActor(Actor):
    """Webdis-style requests (GET /CMD/args, per-request /db/, .txt ?sep=,
    .raw, ?type=, POST bodies, JSON batches) and Upstash's (/_upstash,
    /pipeline, /multi-exec) on one keep-alive connection, pipelined; the
    connection's own state (SELECT, MULTI, WATCH, CLIENT SETNAME) across
    requests; per-request ACL users (Basic) alternating with the default."""

    kind = "HTTP"
    ops = [("kv", 30), ("select", 6), ("batch", 8), ("multi", 8), ("watch", 6), ("name", 5),
           ("auth", 6), ("upstash", 10), ("blpop", 5), ("subscribe", 3), ("eval", 4)]

    def connect(self):
        self.c = HttpConn(self.srv.http, timeout=TIMEOUT)
        self.id = self.c.roundtrip("GET", "/CLIENT/ID").json()["CLIENT"]

    def close(self):
        self.c.close()

    def exchange(self, plan):
        """plan: [(method, path, headers, body, checker(Response) -> msg)]."""
        self.c.send(b"".join(build_request(m, p, h, b) for m, p, h, b, _ in plan))
        for m, p, h, b, chk in plan:
            r = self.c.read_response(TIMEOUT)
            msg = chk(r)
            if msg:
                self.fail("%s %s %r: %s; got %r" % (m, p, b, msg, r))

    @staticmethod
    def json_is(want, status=200):
        def chk(r):
            if r.status != status:
                return "status %d, expected %d (want %r)" % (r.status, status, want)
            try:
                got = r.json()
            except ValueError:
                return "not JSON"
            return None if got == want else "expected %r" % (want,)
        return chk

    def get(self, cmd, want, db=None, headers=None):
        path = ("/%d" % db if db is not None else "") + "/" + "/".join(str(a) for a in cmd)
        return ("GET", path, headers, None, self.json_is({cmd[0]: to_json(want)}))

    def one_kv(self):
        cmd = random_cmd(self.rnd, self.name)
        form = self.rnd.randrange(6)
        db = self.db
        if form == 1:
            db = self.rnd.randrange(NDB)
        v = self.model.apply(db, cmd)
        if form == 1:
            return self.get(cmd, v, db=db)
        path = "/" + "/".join(str(a) for a in cmd)
        if form == 2 and isinstance(v, (bytes, list)) or v is None and form == 2:
            sep = "~%s~%d~" % (self.name, self.step)
            want = sep.encode().join(v) if isinstance(v, list) else v

            def chk(r, want=want):
                if want is None:
                    return None if r.status == 404 else "status %d, expected 404" % r.status
                return None if (r.status, r.body) == (200, want) else "expected %r" % (want,)
            return ("GET", path + ".txt?sep=" + sep, None, None, chk)
        if form == 3:
            want = to_resp(v, 2)
            return ("GET", path + ".raw", None, None,
                    lambda r: None if (r.status, r.body) == (200, want) else "expected %r" % want)
        if form == 4 and isinstance(v, bytes):
            ctype = "text/x-%s-%d" % (self.name, self.step)
            return ("GET", path + "?type=" + ctype, None, None,
                    lambda r: None if (r.status, r.body, r.header("content-type")) ==
                    (200, v, ctype) else "expected %r as %s" % (v, ctype))
        if form == 5:
            return ("POST", "/", {"Content-Type": "text/plain"}, path[1:],
                    self.json_is({cmd[0]: to_json(v)}))
        return ("GET", path, None, None, self.json_is({cmd[0]: to_json(v)}))

    def op_kv(self):
        self.exchange([self.one_kv() for _ in range(self.rnd.randint(1, 8))])

    def op_select(self):
        self.db = self.rnd.randrange(NDB)
        self.exchange([self.get(["SELECT", self.db], OK)] + [self.one_kv() for _ in range(2)])

    def op_batch(self):
        cmds = [random_cmd(self.rnd, self.name) for _ in range(self.rnd.randint(1, 5))]
        atomic = self.rnd.random() < 0.5
        want = [{c[0]: to_json(self.model.apply(self.db, c))} for c in cmds]
        body = json.dumps(cmds)
        self.exchange([("POST", "/?atomic=1" if atomic else "/",
                        {"Content-Type": "application/json"}, body, self.json_is(want))])

    def op_multi(self):
        cmds = [random_cmd(self.rnd, self.name) for _ in range(self.rnd.randint(1, 4))]
        plan = [self.get(["MULTI"], OK)] + [self.get(c, QUEUED) for c in cmds]
        if self.rnd.random() < 0.3:
            plan.append(self.get(["DISCARD"], OK))
        else:
            plan.append(self.get(["EXEC"], [self.model.apply(self.db, c) for c in cmds]))
        self.exchange(plan)

    def op_watch(self):
        w = self.key("w")
        self.exchange([self.get(["WATCH", w], OK)])
        conflict = self.rnd.random() < 0.5
        if conflict:
            self.helper.call(self.db, "SET", w, "conflict")
            self.model.data[(self.db, w.encode())] = b"conflict"
        cmd = ["SET", w, "mine%d" % self.step]
        plan = [self.get(["MULTI"], OK), self.get(cmd, QUEUED)]
        plan.append(self.get(["EXEC"], NULLARR if conflict else [self.model.apply(self.db, cmd)]))
        self.exchange(plan)

    def op_name(self):
        n = "h-%s-%d" % (self.name, self.step)
        self.exchange([self.get(["CLIENT", "SETNAME", n], OK),
                       self.get(["CLIENT", "GETNAME"], n.encode()),
                       self.get(["CLIENT", "ID"], self.id)])
        seen_check(self, n, self.db)

    def op_eval(self):
        c, want = eval_cmd(self.rnd, self.model, self.name, self.db, None)
        self.exchange([("POST", "/", {"Content-Type": "application/json"}, json.dumps(c),
                        self.json_is({"EVAL": to_json(want)}))])

    def op_auth(self):
        """Each request as its own user: an actor's ACL user (Basic), the
        read-only token (?token=), or none (default)."""
        plan = []
        for _ in range(self.rnd.randint(2, 6)):
            how = self.rnd.randrange(3)
            cmd = self.rnd.choice([["EXISTS", "iso:nobody:%s" % self.name],
                                   ["INCR", self.key("s0")], random_cmd(self.rnd, self.name)])
            if how == 2:
                name = cmd[0].lower()
                if name in ("get", "strlen", "exists", "lrange", "zscore"):
                    plan.append(("GET", "/" + "/".join(cmd) + "?token=" + RO_TOKEN, None, None,
                                 self.json_is({cmd[0]: to_json(self.model.apply(self.db, cmd))})))
                else:
                    want = {"error": "NOPERM this user has no permissions to run the '%s' "
                                     "command" % name}
                    plan.append(("GET", "/" + "/".join(cmd) + "?token=" + RO_TOKEN, None, None,
                                 self.json_is(want, 403)))
                continue
            user = self.name if how == 1 else None
            hdr = basic("u-%s" % self.name, PW % self.name) if how == 1 else None
            plan.append(self.get(cmd, self.model.apply(self.db, cmd, user), headers=hdr))
        self.exchange(plan)

    def op_upstash(self):
        form = self.rnd.randrange(5)
        if form == 4:   # base64 strings, asked for by this request only
            k = self.key("s%d" % self.rnd.randrange(4))
            v = self.model.apply(self.db, ["GET", k])
            want = {"result": None if v is None else base64.b64encode(v).decode()}
            return self.exchange([("POST", "/_upstash", {"Upstash-Encoding": "base64"},
                                   json.dumps(["GET", k]), self.json_is(want))])
        if form == 0:
            cmd = random_cmd(self.rnd, self.name)
            v = self.model.apply(self.db, cmd)
            want = to_upstash(v)
            plan = [("POST", "/_upstash", None, json.dumps(cmd),
                     self.json_is(want, 400 if "error" in want else 200))]
        elif form == 1:
            k = self.key("s%d" % self.rnd.randrange(4))
            v = self.model.apply(self.db, ["GET", k])
            want = to_upstash(v)
            plan = [("GET", "/_upstash/get/" + k, None, None,
                     self.json_is(want, 400 if "error" in want else 200))]
        else:
            cmds = [random_cmd(self.rnd, self.name) for _ in range(self.rnd.randint(1, 5))]
            want = [to_upstash(self.model.apply(self.db, c)) for c in cmds]
            path = "/_upstash/pipeline" if form == 2 else "/_upstash/multi-exec"
            plan = [("POST", path, None, json.dumps(cmds), self.json_is(want))]
        self.exchange(plan)

    def op_blpop(self):
        b = self.key("b")
        if self.rnd.random() < 0.3:
            return self.exchange([self.get(["BLPOP", b, "0.05"], NULLARR)])
        # in the connection's db, or a request's own /db/; requests
        # pipelined behind the parked one run after it, in the connection's db
        # answered as JSON or as text joined by the request's own ?sep=
        db = self.rnd.choice([None, self.rnd.randrange(NDB)])
        after = [self.one_kv() for _ in range(self.rnd.randint(0, 3))]
        sep = "~%s~%d~" % (self.name, self.step) if self.rnd.random() < 0.5 else None
        path = ("" if db is None else "/%d" % db) + "/BLPOP/%s/10" % b
        if sep:
            path += ".txt?sep=" + sep
        self.c.send(build_request("GET", path) +
                    b"".join(build_request(m, p, h, body) for m, p, h, body, _ in after))
        unblock = self.rnd.random() < 0.25
        if unblock:   # CLIENT UNBLOCK by id, from another connection
            how = self.rnd.choice(["TIMEOUT", "ERROR"])
            self.helper.unblock(self.id, how)
        else:
            time.sleep(self.rnd.choice([0, 0.01, 0.05]))
            v = "pushed%d" % self.step
            self.helper.wake(self.rnd, self.db if db is None else db, b, v)
        r = self.c.read_response(TIMEOUT)
        if unblock:
            if sep and how == "TIMEOUT":
                msg = None if r.status == 404 else "status %d, expected 404" % r.status
            elif sep:
                want = ("-" + E_UNBLOCKED).encode()
                msg = None if (r.status, r.body) == (200, want) else "expected %r" % want
            else:
                msg = self.json_is({"BLPOP": to_json(NULLARR if how == "TIMEOUT"
                                                     else E_UNBLOCKED)})(r)
        elif sep:
            want = (b + sep + v).encode()
            msg = None if (r.status, r.body) == (200, want) else "expected %r" % want
        else:
            msg = self.json_is({"BLPOP": [b, v]})(r)
        if msg:
            self.fail("BLPOP: %s; got %r" % (msg, r))
        for m, p, h, body, chk in after:
            r = self.c.read_response(TIMEOUT)
            msg = chk(r)
            if msg:
                self.fail("%s %s %r after a parked BLPOP: %s; got %r" % (m, p, body, msg, r))

    def op_subscribe(self):
        ch = self.key("hch")
        with HttpConn(self.srv.http, timeout=TIMEOUT) as s:
            s.request("GET", "/SUBSCRIBE/" + ch)
            head = s.read_stream_head(TIMEOUT)
            self.check(head.status, 200, "SUBSCRIBE status")
            first = json.loads(s.read_chunk(TIMEOUT))
            self.check(first, {"SUBSCRIBE": ["subscribe", ch, 1]}, "SUBSCRIBE confirmation")
            msgs = ["hm%d-%d" % (self.step, i) for i in range(self.rnd.randint(1, 5))]
            for m in msgs:
                n = self.helper.call(self.db, "PUBLISH", ch, m)
                self.check(n, 1, "PUBLISH %s subscribers" % ch)
            for m in msgs:
                got = json.loads(s.read_chunk(TIMEOUT))
                self.check(got, {"SUBSCRIBE": ["message", ch, m]}, "message")


# --------------------------------------------------------------------------
# WebSocket, Keel's JSON protocol on "/"

class WsJsonActor(Actor):
    kind = "WS-JSON"
    ops = [("kv", 30), ("select", 6), ("batch", 8), ("multi", 8), ("watch", 6), ("name", 5),
           ("hello", 4), ("tracking", 5), ("pubsub", 5), ("auth", 4), ("blpop", 5),
           ("parked_push", 3), ("eval", 4)]

    def __init__(self, srv, name, seed, webdis=False):
        super().__init__(srv, name, seed)
        self.webdis = webdis
        if webdis:   # Webdis's /.json: RESP2 shapes, pushes named by the subscribing command
            self.kind = "WS-/.json"
            self.ops = [(o, w) for o, w in self.ops if o not in ("batch", "hello", "tracking",
                                                                 "parked_push")]

    def connect(self):
        self.ws = websocket.create_connection("ws://127.0.0.1:%d/%s" % (
            self.srv.http, ".json" if self.webdis else ""), timeout=TIMEOUT)
        self.proto = 2 if self.webdis else 3
        self.id = self.call(["CLIENT", "ID"])["CLIENT"]

    def close(self):
        self.ws.close()

    def call(self, msg):
        self.ws.send(json.dumps(msg))
        return json.loads(self.ws.recv())

    def exchange(self, plan):
        """plan: [(message or None, expected frame as JSON or checker)]."""
        for m, _ in plan:
            if m is not None:
                self.ws.send(json.dumps(m))
        for m, want in plan:
            got = json.loads(self.ws.recv())
            if callable(want):
                msg = want(got)
                if msg:
                    self.fail("%r: %s; got %r" % (m, msg, got))
            elif got != want:
                self.fail("%r: expected %r, got %r" % (m, want, got))

    def one(self, cmd, v, ident=None):
        if ident is not None:
            return ({"id": ident, "cmd": cmd}, {"id": ident, "reply": to_json(v, self.proto)})
        return (cmd, {cmd[0]: to_json(v, self.proto)})

    def data_plan(self, n):
        out = []
        for i in range(n):
            c = random_cmd(self.rnd, self.name)
            ident = ("%s-%d-%d" % (self.name, self.step, i)
                     if not self.webdis and self.rnd.random() < 0.5 else None)
            out.append(self.one(c, self.model.apply(self.db, c, self.user), ident))
        return out

    def op_kv(self):
        self.exchange(self.data_plan(self.rnd.randint(1, 8)))

    def op_select(self):
        self.db = self.rnd.randrange(NDB)
        self.exchange([self.one(["SELECT", self.db], OK)] + self.data_plan(2))

    def op_batch(self):
        cmds = [random_cmd(self.rnd, self.name) for _ in range(self.rnd.randint(1, 5))]
        if self.rnd.random() < 0.5:
            refused = [self.model.refusal(c, self.user) for c in cmds]
            if any(refused):
                want = {"EXEC": to_json(E_EXECABORT, self.proto)}
            else:
                want = [{c[0]: to_json(self.model.apply(self.db, c, self.user), self.proto)} for c in cmds]
            return self.exchange([({"batch": cmds, "atomic": True}, want)])
        want = [{c[0]: to_json(self.model.apply(self.db, c, self.user), self.proto)} for c in cmds]
        self.exchange([(cmds, want)])

    def op_multi(self):
        cmds = [random_cmd(self.rnd, self.name) for _ in range(self.rnd.randint(1, 4))]
        plan = [self.one(["MULTI"], OK)]
        aborted = False
        for c in cmds:
            refused = self.model.refusal(c, self.user)
            aborted = aborted or refused is not None
            plan.append(self.one(c, refused or QUEUED))
        if self.rnd.random() < 0.3:
            plan.append(self.one(["DISCARD"], OK))
        elif aborted:
            plan.append(self.one(["EXEC"], E_EXECABORT))
        else:
            plan.append(self.one(["EXEC"], [self.model.apply(self.db, c, self.user) for c in cmds]))
        self.exchange(plan)

    def op_watch(self):
        w = self.key("w")
        self.exchange([self.one(["WATCH", w], OK)])
        conflict = self.rnd.random() < 0.5
        if conflict:
            self.helper.call(self.db, "SET", w, "conflict")
            self.model.data[(self.db, w.encode())] = b"conflict"
        cmd = ["SET", w, "mine%d" % self.step]
        self.exchange([self.one(["MULTI"], OK), self.one(cmd, QUEUED),
                       self.one(["EXEC"], NULLARR if conflict else
                                [self.model.apply(self.db, cmd, self.user)])])

    def op_name(self):
        n = "w-%s-%d" % (self.name, self.step)
        self.exchange([self.one(["CLIENT", "SETNAME", n], OK),
                       self.one(["CLIENT", "GETNAME"], n.encode()),
                       self.one(["CLIENT", "ID"], self.id)])
        seen_check(self, n, self.db)

    def op_hello(self):
        self.proto = self.rnd.choice([2, 3])

        def check(got):
            # maps are objects in JSON whatever the protocol
            h = got.get("HELLO")
            ok = isinstance(h, dict) and h.get("proto") == self.proto and h.get("id") == self.id
            return None if ok else "HELLO %d" % self.proto
        self.exchange([(["HELLO", self.proto], check)] + self.data_plan(2))

    def op_tracking(self):
        if self.proto != 3:
            return self.op_kv()
        how = self.rnd.randrange(3)
        if how == 1:
            return self.tracking_bcast()
        if how == 2:
            return self.tracking_optin()
        k = self.key("s%d" % self.rnd.randrange(4))
        self.exchange([self.one(["CLIENT", "TRACKING", "on"], OK),
                       self.one(["GET", k], self.model.apply(self.db, ["GET", k], self.user))])
        self.helper.call(self.db, "SET", k, "t%d" % self.step)
        self.model.data[(self.db, k.encode())] = b"t%d" % self.step
        self.exchange([(None, {"push": ["invalidate", [k]]}),
                       self.one(["CLIENT", "TRACKING", "off"], OK)])

    def tracking_bcast(self):
        prefix = self.key("t")
        noloop = self.rnd.random() < 0.5
        cmd = ["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", prefix] + (["NOLOOP"] if noloop else [])
        self.exchange([self.one(cmd, OK)])
        for i in range(self.rnd.randint(1, 3)):
            k = self.key("t%d" % i)
            if noloop:
                self.exchange([self.one(["SET", k, "own"], OK)])
            self.helper.call(self.rnd.randrange(NDB), "SET", k, "x")
            self.exchange([(None, {"push": ["invalidate", [k]]})])
        self.exchange([self.one(["CLIENT", "TRACKING", "off"], OK)])
        for i in range(3):
            for d in range(NDB):
                self.helper.call(d, "DEL", self.key("t%d" % i))

    def tracking_optin(self):
        k1, k2 = self.key("o1"), self.key("o2")
        self.exchange([self.one(["CLIENT", "TRACKING", "on", "OPTIN"], OK),
                       self.one(["GET", k1], None), self.one(["CLIENT", "CACHING", "yes"], OK),
                       self.one(["GET", k2], None)])
        self.helper.call(self.db, "SET", k1, "x")
        self.helper.call(self.db, "SET", k2, "x")
        self.exchange([(None, {"push": ["invalidate", [k2]]}),
                       self.one(["CLIENT", "TRACKING", "off"], OK)])
        self.helper.call(self.db, "DEL", k1, k2)

    def op_pubsub(self):
        if self.webdis:
            return self.op_webdis_pubsub()
        if self.proto != 3:
            return self.op_kv()
        ch, pat = self.key("wch"), self.key("wp.*")
        self.exchange([(["SUBSCRIBE", ch], {"SUBSCRIBE": ["subscribe", ch, 1]}),
                       (["PSUBSCRIBE", pat], {"PSUBSCRIBE": ["psubscribe", pat, 2]})])
        plan = []
        for i in range(self.rnd.randint(1, 6)):
            m = "m%d-%d" % (self.step, i)
            if i % 2:
                target = self.key("wp.%d" % i)
                push = {"push": ["pmessage", pat, target, m]}
            else:
                target, push = ch, {"push": ["message", ch, m]}
            n = self.helper.call(self.rnd.randrange(NDB), "PUBLISH", target, m)
            if n != 1:
                self.fail("PUBLISH %s reached %r subscribers, expected 1" % (target, n))
            plan.append((None, push))
        plan += [(["UNSUBSCRIBE", ch], {"UNSUBSCRIBE": ["unsubscribe", ch, 1]}),
                 (["PUNSUBSCRIBE", pat], {"PUNSUBSCRIBE": ["punsubscribe", pat, 0]})]
        self.exchange(plan)

    def op_webdis_pubsub(self):
        """/.json: every message is named by the connection's first
        subscribing command, as typed (ws_webdis.c: kept for the
        connection's life, not only while it stays subscribed)."""
        ch, pat = self.key("wch"), self.key("wp.*")
        first = self.rnd.choice(["SUBSCRIBE", "subscribe", "PSUBSCRIBE", "psubscribe"])
        if not getattr(self, "subname", None):
            self.subname = first
        if first.upper() == "SUBSCRIBE":
            plan = [([first, ch], {first: ["subscribe", ch, 1]}),
                    (["PSUBSCRIBE", pat], {"PSUBSCRIBE": ["psubscribe", pat, 2]})]
        else:
            plan = [([first, pat], {first: ["psubscribe", pat, 1]}),
                    (["SUBSCRIBE", ch], {"SUBSCRIBE": ["subscribe", ch, 2]})]
        self.exchange(plan)
        plan = []
        for i in range(self.rnd.randint(1, 6)):
            m = "m%d-%d" % (self.step, i)
            if i % 2:
                target = self.key("wp.%d" % i)
                push = {self.subname: ["pmessage", pat, target, m]}
            else:
                target, push = ch, {self.subname: ["message", ch, m]}
            n = self.helper.call(self.rnd.randrange(NDB), "PUBLISH", target, m)
            if n != 1:
                self.fail("PUBLISH %s reached %r subscribers, expected 1" % (target, n))
            plan.append((None, push))
        plan += [(["UNSUBSCRIBE", ch], {"UNSUBSCRIBE": ["unsubscribe", ch, 1]}),
                 (["PUNSUBSCRIBE", pat], {"PUNSUBSCRIBE": ["punsubscribe", pat, 0]})]
        self.exchange(plan)

    def op_auth(self):
        if self.user is None:
            self.user = self.name
            plan = [self.one(["AUTH", "u-%s" % self.name, PW % self.name], OK)]
        else:
            self.user = None
            plan = [self.one(["AUTH", "default", "anything"], OK)]
        probe = ["EXISTS", "iso:nobody:%s" % self.name]
        self.exchange(plan + [self.one(probe, self.model.apply(self.db, probe, self.user))] +
                      self.data_plan(3))

    def op_blpop(self):
        b = self.key("b")
        if self.rnd.random() < 0.3:
            return self.exchange([self.one(["BLPOP", b, "0.05"], NULLARR)])
        behind = self.data_plan(self.rnd.randint(0, 3))   # held until BLPOP returns
        self.ws.send(json.dumps(["BLPOP", b, "10"]) )
        for m, _ in behind:
            self.ws.send(json.dumps(m))
        if self.rnd.random() < 0.25:   # CLIENT UNBLOCK by id, from another connection
            how = self.rnd.choice(["TIMEOUT", "ERROR"])
            self.helper.unblock(self.id, how)
            first = {"BLPOP": to_json(NULLARR if how == "TIMEOUT" else E_UNBLOCKED)}
        else:
            time.sleep(self.rnd.choice([0, 0.01, 0.05]))
            v = "pushed%d" % self.step
            self.helper.wake(self.rnd, self.db, b, v)
            first = {"BLPOP": [b, v]}
        self.exchange([(None, first)] + [(None, w) for _, w in behind])

    def op_eval(self):
        c, want = eval_cmd(self.rnd, self.model, self.name, self.db, self.user)
        self.exchange([self.one(c, want)] + self.data_plan(2))

    def op_parked_push(self):
        """A batch parked on BLPOP: a tracking push meanwhile is its own
        frame, before the batch's."""
        if self.proto != 3:
            return self.op_blpop()
        k, b = self.key("s%d" % self.rnd.randrange(4)), self.key("b")
        self.exchange([self.one(["CLIENT", "TRACKING", "on"], OK),
                       self.one(["GET", k], self.model.apply(self.db, ["GET", k], self.user))])
        after = random_write(self.rnd, self.name)
        self.ws.send(json.dumps([["BLPOP", b, "10"], after]))
        time.sleep(0.02)
        self.helper.call(self.db, "SET", k, "pp%d" % self.step)
        self.model.data[(self.db, k.encode())] = b"pp%d" % self.step
        v = "pushed%d" % self.step
        self.helper.wake(self.rnd, self.db, b, v)
        self.exchange([(None, {"push": ["invalidate", [k]]}),
                       (None, [{"BLPOP": [b, v]},
                               {after[0]: to_json(self.model.apply(self.db, after, self.user), self.proto)}]),
                       self.one(["CLIENT", "TRACKING", "off"], OK)])


# --------------------------------------------------------------------------
# redis-py (RESP2)

class PyActor(Actor):
    kind = "redis-py"
    ops = [("kv", 30), ("select", 6), ("multi", 8), ("watch", 6), ("name", 5), ("pubsub", 4)]

    def connect(self):
        import redis
        self.redis = redis
        # one connection for everything (pipelines too), so SELECT holds
        self.pool = redis.BlockingConnectionPool(host="127.0.0.1", port=self.srv.port,
                                                 max_connections=1, timeout=TIMEOUT,
                                                 socket_timeout=TIMEOUT)
        self.r = redis.Redis(connection_pool=self.pool)
        self.r.response_callbacks = {}
        self.id = self.r.execute_command("CLIENT", "ID")

    def close(self):
        self.pool.disconnect()

    def same(self, got, want):
        if isinstance(want, E):
            return isinstance(got, self.redis.ResponseError) and want.endswith(str(got))
        if want is NULLARR:
            return got is None
        if isinstance(want, Dbl):
            return got == want.text()
        if isinstance(want, St):
            return got == want.encode()
        if isinstance(want, list):
            return isinstance(got, list) and len(got) == len(want) and all(
                self.same(g, w) for g, w in zip(got, want))
        return got == want

    def run_pipe(self, cmds, transaction):
        p = self.r.pipeline(transaction=transaction)
        for c in cmds:
            p.execute_command(*c)
        return p.execute(raise_on_error=False)

    def op_kv(self):
        cmds = [random_cmd(self.rnd, self.name) for _ in range(self.rnd.randint(1, 8))]
        want = [self.model.apply(self.db, c) for c in cmds]
        got = self.run_pipe(cmds, False)
        if not self.same(got, want):
            self.fail("%r: expected %r, got %r" % (cmds, want, got))

    def op_select(self):
        self.db = self.rnd.randrange(NDB)
        self.check(self.r.execute_command("SELECT", self.db), b"OK", "SELECT")
        c = random_cmd(self.rnd, self.name)
        want = self.model.apply(self.db, c)
        try:
            got = self.r.execute_command(*c)
        except self.redis.ResponseError as e:
            got = e
        if not self.same(got, want):
            self.fail("%r: expected %r, got %r" % (c, want, got))

    def op_multi(self):
        cmds = [random_cmd(self.rnd, self.name) for _ in range(self.rnd.randint(1, 5))]
        want = [self.model.apply(self.db, c) for c in cmds]
        got = self.run_pipe(cmds, True)
        if not self.same(got, want):
            self.fail("MULTI %r: expected %r, got %r" % (cmds, want, got))

    def op_watch(self):
        w = self.key("w")
        conflict = self.rnd.random() < 0.5
        p = self.r.pipeline(transaction=True)
        p.watch(w)
        if conflict:
            self.helper.call(self.db, "SET", w, "conflict")
            self.model.data[(self.db, w.encode())] = b"conflict"
        p.multi()
        cmd = ["SET", w, "mine%d" % self.step]
        p.execute_command(*cmd)
        try:
            got = p.execute()
        except self.redis.WatchError:
            got = "aborted"
        want = "aborted" if conflict else [self.model.apply(self.db, cmd)]
        if not self.same(got, want):
            self.fail("WATCH/EXEC: expected %r, got %r" % (want, got))

    def op_name(self):
        n = "py-%s-%d" % (self.name, self.step)
        self.check(self.r.execute_command("CLIENT", "SETNAME", n), b"OK", "SETNAME")
        self.check(self.r.execute_command("CLIENT", "GETNAME"), n.encode(), "GETNAME")
        self.check(self.r.execute_command("CLIENT", "ID"), self.id, "CLIENT ID")

    def op_pubsub(self):
        ch = self.key("pch")
        sub = self.redis.Redis(host="127.0.0.1", port=self.srv.port, socket_timeout=TIMEOUT)
        ps = sub.pubsub()
        try:
            ps.subscribe(ch)
            first = ps.get_message(timeout=TIMEOUT)
            self.check(first and first["type"], "subscribe", "subscribe confirmation")
            msgs = [b"pm%d-%d" % (self.step, i) for i in range(self.rnd.randint(1, 5))]
            for m in msgs:
                self.check(self.helper.call(self.db, "PUBLISH", ch, m), 1, "PUBLISH subscribers")
            for m in msgs:
                got = ps.get_message(timeout=TIMEOUT)
                self.check(got and (got["type"], got["channel"], got["data"]),
                           ("message", ch.encode(), m), "message")
        finally:
            ps.close()
            sub.close()


# --------------------------------------------------------------------------
# connection churn

class Churner(Actor):
    """Short-lived connections, one after another, each a pipeline in a db
    of its own choosing (RESP, HTTP or WebSocket): read whole and checked,
    read in part, or reset (SO_LINGER 0) with replies still being written.
    The long-lived actors beside it must not notice."""

    kind = "churn"
    ops = [("resp", 5), ("http", 3), ("ws", 2)]

    def connect(self):
        pass

    def close(self):
        pass

    @staticmethod
    def drop(sock, reset):
        if reset:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()

    def op_resp(self):
        k = self.key("c%d" % self.step)
        db = self.rnd.randrange(NDB)
        vals = [("%s-%d-%d" % (self.name, self.step, i)).encode() * self.rnd.choice([1, 40, 4000])
                for i in range(self.rnd.randint(1, 40))]
        c = RawConn(self.srv.port, timeout=TIMEOUT)
        data = encode(["SELECT", db]) + b"".join(encode(["SET", k, v]) + encode(["GET", k])
                                                 for v in vals)
        end = self.rnd.random()
        try:
            if end < 0.3:   # cut mid-command, reset
                c.send(data[:self.rnd.randrange(1, len(data))])
                return self.drop(c.sock, True)
            c.send(data)
            if end < 0.6:
                c.read_replies(self.rnd.randint(1, len(vals)))
                return self.drop(c.sock, self.rnd.random() < 0.5)
            got = c.read_replies(1 + 2 * len(vals))
        finally:
            c.close()
        want = [b"+OK\r\n"]
        for v in vals:
            want += [b"+OK\r\n", to_resp(v, 2)]
        if got != want:
            self.fail("a fresh RESP connection's pipeline: %d replies differ" %
                      sum(1 for g, w in zip(got, want) if g != w))
        self.helper.call(db, "DEL", k)

    def op_http(self):
        k = self.key("h%d" % self.step)
        db = self.rnd.randrange(NDB)
        vals = ["%s-%d-%d" % (self.name, self.step, i) for i in range(self.rnd.randint(1, 20))]
        reqs = b"".join(build_request("GET", "/%d/SET/%s/%s" % (db, k, v)) +
                        build_request("GET", "/%d/GET/%s.txt" % (db, k)) for v in vals)
        h = HttpConn(self.srv.http, timeout=TIMEOUT)
        try:
            if self.rnd.random() < 0.4:
                h.send(reqs[:self.rnd.randrange(1, len(reqs))])
                return self.drop(h.sock, self.rnd.random() < 0.5)
            h.send(reqs)
            for v in vals:
                r1, r2 = h.read_response(TIMEOUT), h.read_response(TIMEOUT)
                if r1.json() != {"SET": [True, "OK"]} or r2.body != v.encode():
                    self.fail("a fresh HTTP connection: %r %r for %s" % (r1.body, r2.body, v))
        finally:
            h.close()
        self.helper.call(db, "DEL", k)

    def op_ws(self):
        k = self.key("w%d" % self.step)
        ws = websocket.create_connection("ws://127.0.0.1:%d/" % self.srv.http, timeout=TIMEOUT)
        if self.rnd.random() < 0.2:
            # the stats push (one server-wide timer over its subscribers):
            # asked for, then the connection dropped with it on
            ws.send(json.dumps({"stats": 1}))
            if "stats" not in json.loads(ws.recv()):
                self.fail("{\"stats\":1} answered without stats")
            return self.drop(ws.sock, self.rnd.random() < 0.5)
        try:
            vals = ["%s-%d-%d" % (self.name, self.step, i) for i in range(self.rnd.randint(1, 20))]
            for v in vals:
                ws.send(json.dumps([["SET", k, v], ["GET", k]]))
            if self.rnd.random() < 0.4:
                return self.drop(ws.sock, True)
            for v in vals:
                got = json.loads(ws.recv())
                if got != [{"SET": [True, "OK"]}, {"GET": v}]:
                    self.fail("a fresh WebSocket: %r for %s" % (got, v))
        finally:
            ws.close()
        self.helper.call(0, "DEL", k)


# --------------------------------------------------------------------------
# CLIENT PAUSE

class Pauser(Actor):
    """Short CLIENT PAUSE WRITE / ALL, and DEBUG SLEEP, now and then: every
    connection's commands park and resume with their own held input, in
    order."""

    kind = "pause"
    steps = 40
    ops = [("write", 3), ("all", 1), ("stall", 2)]

    def connect(self):
        pass

    def close(self):
        pass

    def pause(self, mode):
        time.sleep(self.rnd.uniform(0.1, 0.4))
        n = self.rnd.randint(10, 60)
        self.check(self.helper.call(0, "CLIENT", "PAUSE", n, mode), b"OK", "CLIENT PAUSE")

    def op_write(self):
        self.pause("WRITE")

    def op_all(self):
        self.pause("ALL")

    def op_stall(self):
        """The server busy for a moment (DEBUG SLEEP): input from every
        connection piles up and is read in one loop iteration."""
        time.sleep(self.rnd.uniform(0.1, 0.3))
        self.check(self.helper.call(0, "DEBUG", "SLEEP", "0.05"), b"OK", "DEBUG SLEEP")
