"""No state shared between connections, proved under load: one Keel
process, many concurrent connections of every kind at once — RESP2 and
RESP3 (raw sockets, pipelined; redis-py), HTTP keep-alive (pipelined
Webdis-style and Upstash requests), WebSocket in JSON mode and in RESP
mode — each driven by its own thread with a seeded random script of
stateful commands (SELECT, MULTI/EXEC/DISCARD, WATCH with conflicting
writes from another connection, CLIENT SETNAME/GETNAME/ID/INFO, HELLO 2/3,
CLIENT TRACKING, (P)SUBSCRIBE, AUTH as per-actor ACL users, CLIENT REPLY
OFF/SKIP, BLPOP parked while others write, per-request HTTP options).
Every reply must be exactly what that connection's own sequence implies
(isolation_model.py and the actors' files: each actor owns its keys, so a model per connection
is exact), and every request must be answered.

scripts/test runs this file on both I/O paths (KEEL_IO_BACKEND, honoured by
harness.keel_argv). KEEL_ISOLATION_SEEDS="7 8 9" runs other seeds.
"""

import os
import threading
import time

import pytest

from harness import RawConn, encode, parse_one
from isolation_model import RO_TOKEN, user_rules
from isolation_others import Churner, Pauser, PyActor
from isolation_resp import RespActor
from isolation_web import HttpActor, WsJsonActor
from test_http_helpers import check_health, keel_http_fixture

STEPS = 300         # ops per actor
BUDGET = 40.0       # seconds per run: an actor still going then stops (reported, not failed)

SEEDS = [int(s) for s in os.environ.get("KEEL_ISOLATION_SEEDS", "1 2 3").split()]


def make_actors(srv, seed):
    return ([RespActor(srv, "r2%d" % i, seed, proto=2) for i in range(3)] +
            [RespActor(srv, "r3%d" % i, seed, proto=3) for i in range(3)] +
            [RespActor(srv, "w2%d" % i, seed, proto=2, ws=True) for i in range(2)] +
            [RespActor(srv, "w3%d" % i, seed, proto=3, ws=True) for i in range(2)] +
            [HttpActor(srv, "h%d" % i, seed) for i in range(4)] +
            [WsJsonActor(srv, "j%d" % i, seed) for i in range(3)] +
            [WsJsonActor(srv, "wj%d" % i, seed, webdis=True) for i in range(2)] +
            [RespActor(srv, "wr%d" % i, seed, webdis_raw=True) for i in range(2)] +
            [PyActor(srv, "p%d" % i, seed) for i in range(2)] +
            [Churner(srv, "c%d" % i, seed) for i in range(2)] +
            [Pauser(srv, "pz", seed)])


@pytest.fixture(scope="module")
def _srv():
    yield from keel_http_fixture(["--http-readonly-token", RO_TOKEN,
                                  "--notify-keyspace-events", "K$g"], name="isolation")


@pytest.fixture
def srv(_srv):
    _srv.ensure_running()
    _srv.flushall()
    yield _srv
    check_health(_srv)


def run_actors(srv, actors, steps=STEPS, budget=BUDGET):
    with RawConn(srv.port) as c:
        for a in actors:
            c.send(encode(["ACL", "SETUSER"] + user_rules(a.name)))
            assert c.read_reply() == b"+OK\r\n"
    deadline = time.monotonic() + budget
    threads = [threading.Thread(target=a.run, args=(a.steps or steps, deadline), daemon=True)
               for a in actors]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(budget + 60)
    elapsed = time.monotonic() - t0
    stuck = [a.name for a, t in zip(actors, threads) if t.is_alive()]
    failures = [a.failure for a in actors if a.failure]
    done = sum(a.ops_done for a in actors)
    return failures, stuck, done, elapsed


def clients_snapshot(srv):
    """INFO's connected_clients and CLIENT LIST, taken together (one
    MULTI/EXEC on a fresh connection, which counts itself)."""
    with RawConn(srv.port) as c:
        c.send(encode(["MULTI"]) + encode(["INFO", "clients"]) + encode(["CLIENT", "LIST"]) +
               encode(["EXEC"]))
        info, lst = parse_one(c.read_replies(4)[3])[0]
    n = int(info.decode().split("connected_clients:")[1].split()[0])
    return n, info.decode() + "\n" + lst.decode()


@pytest.mark.parametrize("seed", SEEDS)
def test_isolation_under_load(srv, seed):
    before = clients_snapshot(srv)[0]
    actors = make_actors(srv, seed)
    failures, stuck, done, elapsed = run_actors(srv, actors)
    assert not stuck, "actors still running after the budget: %s" % stuck
    assert not failures, "%d of %d actors saw foreign state or no answer:\n%s" % (
        len(failures), len(actors), "\n".join(failures))
    # every actor got through a fair share of its script
    short = [(a.name, a.ops_done) for a in actors if a.ops_done < (a.steps or STEPS) // 4]
    assert not short, "actors that did little before the budget ran out: %s" % short
    # and every connection the actors opened is gone again
    deadline = time.monotonic() + 15   # a closing WebSocket may linger 5 s
    n, snap = clients_snapshot(srv)
    while n > before and time.monotonic() < deadline:
        time.sleep(0.05)
        n, snap = clients_snapshot(srv)
    assert n <= before, "connections left after the actors closed theirs:\n" + snap
    print("seed %d: %d ops by %d actors in %.1f s" % (seed, done, len(actors), elapsed))
