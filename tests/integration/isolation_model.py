"""isolation_model.py — what the actors of test_isolation.py share: one
connection each, driven by its own thread with a seeded random script of
stateful commands, every reply checked against what that connection's own
sequence implies. The actors are in isolation_resp.py, isolation_web.py
and isolation_others.py.

Holds no tests (pytest does not collect it). What is here:

- a model of one connection's keys (strings, lists, sorted sets, per
  database): each actor owns its keys (`iso:<actor>:...`), so a model per
  connection is exact;
- abstract replies (St status, E error, int, Dbl, bytes, None, NULLARR,
  list, Push) and their RESP2/RESP3 bytes, Webdis JSON and Upstash shapes;
- the helper every actor has: its own second RESP connection that makes
  the conflicting writes, the publishes and the pushes that wake a BLPOP;
- Actor, the base: a seeded random choice of its ops, run until its steps
  or the budget are spent.

A failure stops that actor (its connection's state is unknown afterwards)
and is recorded with the seed and the step; the test reports them all.
"""

import random
import re
import time

from harness import RawConn, encode, parse_one

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
