"""kill -9 under appendfsync always: nothing acknowledged is lost.

Clients write (SET, RPUSH, INCR, a MULTI/EXEC pair) and record every write
the server acknowledged; the server is killed with SIGKILL at a random
moment, restarted on the same directory, and every acknowledged write must
be there (the log may hold a little more: writes done but not yet
answered). Repeated CYCLES times.
"""

import random
import threading
import time

import pytest

from test_aof import Server  # noqa: F401  (the shared server helper)
import test_aof

redis = pytest.importorskip("redis")

CYCLES = 20
WRITERS = 3


def writer(port, wid, start, acked, stop):
    """Writes from index `start` on until the connection dies."""
    try:
        c = redis.Redis(host="127.0.0.1", port=port, socket_timeout=5)
        i = start
        while not stop.is_set():
            c.set("w%d:k%d" % (wid, i), i)
            acked["set"] = i
            c.rpush("w%d:list" % wid, i)
            acked["rpush"] = i
            n = c.incr("w%d:counter" % wid)
            acked["incr"] = n
            p = c.pipeline(transaction=True)
            p.hset("w%d:h" % wid, "f%d" % i, i)
            p.sadd("w%d:s" % wid, i)
            p.execute()
            acked["multi"] = i
            i += 1
    except (redis.ConnectionError, redis.TimeoutError, ConnectionResetError, OSError):
        pass


def verify(c, wid, acked, start=0):
    """Every write acknowledged from index `start` on is present."""
    if "set" in acked:
        last = acked["set"]
        got = c.mget(["w%d:k%d" % (wid, j) for j in range(start, last + 1)])
        missing = [start + j for j, v in enumerate(got) if v != str(start + j).encode()]
        assert not missing, "writer %d: lost SETs %s" % (wid, missing[:10])
    if "rpush" in acked:
        lst = [int(x) for x in c.lrange("w%d:list" % wid, 0, -1)]
        want = list(range(start, acked["rpush"] + 1))
        assert [x for x in lst if x >= start][:len(want)] == want, "writer %d: RPUSH lost" % wid
    if "incr" in acked:
        assert int(c.get("w%d:counter" % wid)) >= acked["incr"]
    if "multi" in acked:
        h = c.hgetall("w%d:h" % wid)
        s = c.smembers("w%d:s" % wid)
        for j in range(start, acked["multi"] + 1):
            assert h.get(b"f%d" % j) == str(j).encode(), "writer %d: MULTI lost" % wid
            assert str(j).encode() in s
        # a transaction is all or nothing
        assert len(h) == len(s)


def test_kill9_loses_no_acknowledged_write(tmp_path):
    srv = test_aof.Server("keel", ["--appendonly", "yes", "--appendfsync", "always"],
                          workdir=str(tmp_path))
    rng = random.Random(7)
    next_idx = [0] * WRITERS
    total_acked = 0
    t0 = time.monotonic()
    try:
        srv.start()
        for cycle in range(CYCLES):
            stop = threading.Event()
            acks = [dict() for _ in range(WRITERS)]
            threads = [threading.Thread(target=writer,
                                        args=(srv.port, w, next_idx[w], acks[w], stop))
                       for w in range(WRITERS)]
            for t in threads:
                t.start()
            time.sleep(rng.uniform(0.1, 0.8))
            srv.kill9()
            stop.set()
            for t in threads:
                t.join(10)
            srv.start()
            c = srv.client()
            for w in range(WRITERS):
                # what an earlier cycle acknowledged must still be there too
                verify(c, w, acks[w], next_idx[w])
                if "set" in acks[w]:
                    total_acked += acks[w]["set"] - next_idx[w] + 1
                    next_idx[w] = acks[w]["set"] + 1
                # the next cycle continues after what the log holds
                while c.exists("w%d:k%d" % (w, next_idx[w])):
                    next_idx[w] += 1
            # the whole history of every writer, once more
            for w in range(WRITERS):
                if next_idx[w]:
                    verify(c, w, {"set": next_idx[w] - 1})
        assert total_acked > CYCLES, "too few writes were acknowledged to mean anything"
        assert time.monotonic() - t0 < 120
    finally:
        srv.kill9()
        assert not srv.sanitizer_report(), srv.tail()
