"""Keyspace notifications: `notify-keyspace-events`, the `__keyspace@N__:key`
and `__keyevent@N__:event` channels and Redis's event name for every command.

Each case is a script played on Keel and on redis-server with two clients
(see test_pubsub.run_scenario): a subscriber (`sub`, PSUBSCRIBE '__key*__:*'
unless the case subscribes itself) and a writer (`w`). The subscriber's whole
stream of pmessages — the exact sequence of notifications — and the writer's
replies must be byte-identical. Expiry cases wait (lazy: the next access
expires the key; active: the server's cron does).
"""

import pytest

import harness
from harness import RawConn, ServerProcess, encode, parse_one
from test_pubsub import SLEEP, Unordered, run_scenario

ALL = "KEA"


def script(body, flags=ALL, sub="PSUBSCRIBE __key*__:*"):
    """A notification script: set the flags, subscribe, run body, reset."""
    steps = [("w", "CONFIG SET notify-keyspace-events %s" % flags)]
    if sub:
        steps.append(("sub", sub))
    steps += [("w", c) if isinstance(c, str) else c for c in body]
    steps.append(("w", "CONFIG SET notify-keyspace-events \"\""))
    return steps


CASES = {
    "strings": script([
        "SET k v", "SET k v2 KEEPTTL", "SETNX k x", "SETNX k2 x", "SET k3 v NX", "SET k3 v XX",
        "SET k4 v XX", "GETSET k v3", "MSET a 1 b 2", "MSETNX c 3 d 4", "MSETNX a 1 z 9",
        "APPEND k more", "APPEND newk x", "SETRANGE k 1 zz", "SETRANGE k 0 \"\"",
        "SETRANGE sr 3 x", "INCR n", "INCRBY n 5", "DECR n", "DECRBY n 2", "INCRBYFLOAT n 1.5",
        "INCR k", "GETDEL a", "GETDEL missing", "GET b", "STRLEN b",
    ]),
    "set_with_expire": script([
        "SET k v EX 100", "SET k v PX 100000", "SETEX k2 100 v", "PSETEX k3 100000 v",
        "SET k v KEEPTTL", "SET k v GET", "SET k4 v EXAT 4102444800",
        "GETEX k EX 200", "GETEX k PERSIST", "GETEX k", "GETEX missing EX 10",
    ]),
    "expire_persist": script([
        "SET k v", "EXPIRE k 100", "PEXPIRE k 100000", "EXPIREAT k 4102444800",
        "PEXPIREAT k 4102444800000", "EXPIRE k 100 NX", "EXPIRE k 50 LT", "PERSIST k",
        "PERSIST k", "EXPIRE missing 100", "SET d v", "EXPIRE d -1", "EXISTS d",
        "SET d2 v", "PEXPIREAT d2 1", "SET d3 v", "EXPIRE d3 0",
    ]),
    "del_unlink": script([
        "MSET a 1 b 2 c 3", "DEL a", "DEL a", "DEL b c missing", "SET u 1", "UNLINK u missing",
    ]),
    "rename": script([
        "SET a 1", "RENAME a b", "RENAME b b", "SET c 2", "RENAME c b", "RENAMENX b c",
        "SET d 4", "RENAMENX b d", "RENAME missing x", "SET e 5 EX 100", "RENAME e f",
    ]),
    "move_copy": script([
        "SET a 1", "MOVE a 1", "MOVE a 1", "SELECT 1", "MOVE a 0", "SELECT 0",
        "COPY a b", "COPY a b", "COPY a b REPLACE", "COPY a c DB 2", "COPY missing x",
        "SET t v EX 100", "COPY t t2",
    ]),
    "other_db_channels": script([
        "SELECT 3", "SET k v", "DEL k", "SELECT 15", "SET k v", "EXPIRE k 100", "SELECT 0",
    ]),
    "flush_and_swapdb_send_nothing": script([
        "MSET a 1 b 2", "FLUSHDB", "SET c 3", "FLUSHALL", "SET d 4", "SWAPDB 0 1",
        "SELECT 1", "DEL d", "FLUSHDB ASYNC", "FLUSHALL ASYNC", "SET e 1",
    ]),
    "lazy_expiry": script([
        "DEBUG SET-ACTIVE-EXPIRE 0",
        "SET k v PX 100", "SET k2 v PX 100", "SET k3 v PX 100", "SET k4 v PX 100",
        "SET k5 v PX 100", "SET k6 v PX 100",
        (SLEEP, 0.3),
        "GET k", "EXISTS k2", "TTL k3", "GET k", "SET k new", "APPEND k4 x", "DEL k5",
        "INCR k6",
        "DEBUG SET-ACTIVE-EXPIRE 1",
    ], flags="KEA"),
    "active_expiry": script([
        "CONFIG SET hz 100",
        "SET k v PX 50", "SELECT 2", "SET k3 v PX 500", "SELECT 0",
        (SLEEP, 1.5),
        "DBSIZE", "CONFIG SET hz 10",
    ], flags="Ex"),
    "flags_keyspace_generic_only": script([
        "SET k v", "EXPIRE k 100", "DEL k", "SET k v", "RENAME k k2", "INCR n",
    ], flags="Kg"),
    "flags_keyevent_strings_only": script([
        "SET k v", "APPEND k x", "EXPIRE k 100", "DEL k", "INCRBYFLOAT f 1",
    ], flags="E$"),
    "flags_expired_only": script([
        "SET k v PX 50", "SET k2 v", "DEL k2", (SLEEP, 0.3), "GET k",
    ], flags="Kx"),
    "flags_without_K_or_E_send_nothing": script([
        "SET k v", "DEL k", "SET k v PX 50", (SLEEP, 0.2), "GET k",
    ], flags="A"),
    "flags_off_sends_nothing": script([
        "SET k v", "DEL k",
    ], flags='""'),
    "subscribe_one_key_channel": script([
        "SET watched 1", "SET other 1", "INCR watched", "DEL watched other",
    ], sub="SUBSCRIBE __keyspace@0__:watched"),
    "subscribe_one_event_channel": script([
        "SET a 1", "SET b 2", "DEL a", "EXPIRE b 100", "DEL b",
    ], sub="SUBSCRIBE __keyevent@0__:del"),
    "binary_keys": script([
        ["SET", b"k\x00\r\ney", "v"], ["DEL", b"k\x00\r\ney"], ["SET", b"", "empty"],
        ["DEL", b""],
    ]),
    "inside_multi": script([
        "MULTI", "SET a 1", "INCR a", "DEL a", "EXEC",
    ]),
    "resp3_subscriber": script([
        "SET k v", "EXPIRE k 10", "DEL k",
    ]),
}

# Classes the store itself emits (core/store/store.c): "keymiss" (m) on a read
# that finds no key, and "new" (n) when a key is created.
STORE_EVENT_CASES = {
    "flags_keymiss": script([
        "GET missing", "SET k v", "GET k", "EXISTS missing", "MGET a k b", "STRLEN nokey",
    ], flags="Em"),
    "flags_new": script([
        "SET k v", "SET k v2", "DEL k", "SET k v", "RPUSH l a", "RPUSH l b", "HSET h f v",
        "INCR n", "INCR n",
    ], flags="KEn"),
}

# Data-type commands: the event names come from each type's code.
TYPE_CASES = {
    "lists": script([
        "RPUSH l a b c", "LPUSH l z", "RPUSHX l d", "LPUSHX nol x", "LPOP l", "RPOP l",
        "LSET l 0 q", "LINSERT l BEFORE q p", "LREM l 1 p", "LTRIM l 0 0",
        "RPOPLPUSH l l2", "LMOVE l2 l LEFT RIGHT", "LPOP l 5", "RPUSH l a", "LPOP l",
    ]),
    "hashes": script([
        "HSET h a 1 b 2", "HSETNX h a 9", "HSETNX h c 3", "HINCRBY h a 5",
        "HINCRBYFLOAT h a 1.5", "HDEL h a", "HDEL h b c", "HMSET h2 x 1",
    ]),
    "sets": script([
        "SADD s a b c", "SADD s a", "SREM s a", "SMOVE s s2 b", "SPOP s", "SADD s x y",
        "SINTERSTORE d s s2", "SUNIONSTORE d s s2", "SDIFFSTORE d s s2", ("w", Unordered("SPOP s 5")),
    ]),
}


def _clients(steps):
    return sorted({s[0] for s in steps if s[0] != SLEEP})


@pytest.fixture(scope="module")
def oracle(request):
    """This module's oracle allows DEBUG (SET-ACTIVE-EXPIRE for lazy expiry)."""
    def argv(port):
        return harness.oracle_argv(port) + ["--enable-debug-command", "yes"]
    srv = ServerProcess("redis-oracle-debug", argv)
    srv.start()
    yield srv
    srv.stop()
    srv.cleanup()


@pytest.fixture
def notify_off(keel, oracle):
    yield
    for port in (keel.port, oracle.port):
        with RawConn(port) as c:
            c.send(encode(["CONFIG", "SET", "notify-keyspace-events", ""]))
            c.read_reply()
            c.send(encode(["CONFIG", "SET", "hz", "10"]))
            c.read_reply()


@pytest.mark.parametrize("name", sorted(CASES))
def test_notifications(keel, oracle, notify_off, name):
    steps = CASES[name]
    resp3 = ["sub"] if name == "resp3_subscriber" else []
    tr = run_scenario(keel, oracle, steps, clients=_clients(steps), resp3=resp3)
    if name in ("strings", "lazy_expiry", "active_expiry", "move_copy", "rename"):
        # the script really produced notifications (it is not vacuous)
        assert len(tr["sub"]) >= 3


@pytest.mark.parametrize("name", sorted(TYPE_CASES))
def test_notifications_types(keel, oracle, notify_off, name):
    steps = TYPE_CASES[name]
    run_scenario(keel, oracle, steps, clients=_clients(steps))


# ------------------------------------------------------- the config itself

CONFIG_VALUES = ["", "KEA", "AKEn", "Kg", "E$lshzxetd", "x", "nm", "KEAm", "KKEE",
                 "g$lshzxetdK", "Ag", "Klm", "Ed", "Ee", "Et", "n"]
CONFIG_BAD = ["Q", "A ", "KEA!", "k", "a", " "]


def test_config_normalisation(diff, notify_off):
    cmds = []
    for v in CONFIG_VALUES:
        cmds.append(["CONFIG", "SET", "notify-keyspace-events", v])
        cmds.append(["CONFIG", "GET", "notify-keyspace-events"])
    for v in CONFIG_BAD:
        cmds.append(["CONFIG", "SET", "notify-keyspace-events", v])
        cmds.append(["CONFIG", "GET", "notify-keyspace-events"])
    cmds.append(["CONFIG", "SET", "notify-keyspace-events", ""])
    diff(cmds)


def test_keel_only_event_payload(keel, notify_off):
    """Shapes in detail: pmessage [pattern, channel, payload] for both channels."""
    with RawConn(keel.port) as w, RawConn(keel.port) as s:
        w.send(encode(["CONFIG", "SET", "notify-keyspace-events", "KEA"]))
        assert w.read_reply() == b"+OK\r\n"
        s.send(encode(["PSUBSCRIBE", "__key*__:*"]))
        s.read_reply()
        w.send(encode(["SELECT", "7"]))
        w.read_reply()
        w.send(encode(["SET", "mykey", "v"]))
        assert w.read_reply() == b"+OK\r\n"
        got = [parse_one(r)[0] for r in s.read_replies(2)]
        assert got == [[b"pmessage", b"__key*__:*", b"__keyspace@7__:mykey", b"set"],
                       [b"pmessage", b"__key*__:*", b"__keyevent@7__:set", b"mykey"]]


@pytest.mark.parametrize("name", sorted(STORE_EVENT_CASES))
def test_notifications_store_events(keel, oracle, notify_off, name):
    steps = STORE_EVENT_CASES[name]
    run_scenario(keel, oracle, steps, clients=_clients(steps), timeout=0.5)
