"""oom-score-adj and oom-score-adj-values applied to the process, as Redis
7.0 does (its oom-score-adj.tcl's cases): every step runs on a Keel and a
redis-server of their own; the replies must be the same bytes and each
process's /proc/<pid>/oom_score_adj (relative to what it was at start) the
same, for the primary, replica and background-child classes."""

import os
import time

import pytest

import harness
from harness import RawConn, ServerProcess


def score(pid):
    with open("/proc/%d/oom_score_adj" % pid) as f:
        return int(f.read())


def set_score(pid, v):
    with open("/proc/%d/oom_score_adj" % pid, "w") as f:
        f.write("%d\n" % v)


def children(pid):
    out = []
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/children" % (pid, tid)) as f:
                out += [int(p) for p in f.read().split()]
        except OSError:
            pass
    return out


@pytest.fixture
def pair():
    srvs = [ServerProcess("oom-keel", harness.keel_argv).start(),
            ServerProcess("oom-redis", harness.oracle_argv).start()]
    conns = [RawConn(s.port) for s in srvs]
    yield list(zip(srvs, conns))
    for c in conns:
        c.close()
    for s in srvs:
        s.stop()
        s.cleanup()


def step(pair, *cmd):
    """cmd on both: the same reply; returns (reply, [score delta of each])."""
    replies = [c.call(*cmd) for _, c in pair]
    assert replies[0] == replies[1], (cmd, replies)
    return replies[0]


def scores(pair, base):
    return [score(s.proc.pid) - b for (s, _), b in zip(pair, base)]


def test_classes_follow_the_values(pair):
    base = [score(s.proc.pid) for s, _ in pair]
    step(pair, "CONFIG", "SET", "oom-score-adj-values", "10 20 30")
    step(pair, "CONFIG", "SET", "oom-score-adj", "yes")
    assert scores(pair, base) == [10, 10]
    step(pair, "CONFIG", "SET", "oom-score-adj-values", "15 20 30")
    assert scores(pair, base) == [15, 15]
    step(pair, "REPLICAOF", "localhost", "1")
    assert scores(pair, base) == [20, 20]
    step(pair, "REPLICAOF", "NO", "ONE")
    assert scores(pair, base) == [15, 15]
    # a background save's child takes the third value
    step(pair, "SET", "key-a", "value-a")
    step(pair, "CONFIG", "SET", "rdb-key-save-delay", "1000000")
    step(pair, "BGSAVE")
    for (s, _), b in zip(pair, base):
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            kids = children(s.proc.pid)
            if kids and score(kids[0]) == b + 30:
                break
            time.sleep(0.01)
        assert kids and score(kids[0]) == b + 30, s.name
    step(pair, "CONFIG", "SET", "rdb-key-save-delay", "0")
    step(pair, "CONFIG", "SET", "oom-score-adj", "no")
    assert scores(pair, base) == [0, 0]


def test_failures_keep_the_previous_values(pair):
    # lowering the score below what the process may set fails (a process
    # without CAP_SYS_RESOURCE; as root with it the writes succeed alike)
    base = [score(s.proc.pid) for s, _ in pair]
    step(pair, "CONFIG", "SET", "oom-score-adj", "no")
    step(pair, "CONFIG", "SET", "oom-score-adj-values", "-1000 -1000 -1000")
    step(pair, "CONFIG", "SET", "oom-score-adj", "yes")
    step(pair, "CONFIG", "GET", "oom-score-adj")
    step(pair, "CONFIG", "SET", "oom-score-adj-values", "0 100 100")
    step(pair, "CONFIG", "SET", "oom-score-adj", "yes")
    step(pair, "CONFIG", "SET", "oom-score-adj-values", "-1000 -1000 -1000")
    step(pair, "CONFIG", "GET", "oom-score-adj-values")
    step(pair, "CONFIG", "SET", "oom-score-adj-values", "-500 0 0", "oom-score-adj", "absolute")
    step(pair, "CONFIG", "GET", "oom-score-adj")
    step(pair, "CONFIG", "SET", "oom-score-adj", "no")
    assert scores(pair, base) == [0, 0]


def test_disabled_leaves_the_score_alone_and_restores_it(pair):
    step(pair, "CONFIG", "SET", "oom-score-adj", "no")
    for s, _ in pair:
        set_score(s.proc.pid, score(s.proc.pid) + 2)
    custom = [score(s.proc.pid) for s, _ in pair]
    step(pair, "CONFIG", "SET", "oom-score-adj-values", "1 1 1")
    assert [score(s.proc.pid) for s, _ in pair] == custom
    step(pair, "CONFIG", "SET", "oom-score-adj-values", "9 9 9", "oom-score-adj", "yes")
    assert scores(pair, custom) == [9, 9]
    step(pair, "CONFIG", "SET", "oom-score-adj", "no")
    assert scores(pair, custom) == [0, 0]
    # relative and absolute
    step(pair, "CONFIG", "SET", "oom-score-adj-values", "7 7 7", "oom-score-adj", "relative")
    assert scores(pair, custom) == [7, 7]
    step(pair, "CONFIG", "SET", "oom-score-adj-values", "5 5 5", "oom-score-adj", "absolute")
    assert [score(s.proc.pid) for s, _ in pair] == [5, 5]
    step(pair, "CONFIG", "SET", "oom-score-adj", "no")
    assert scores(pair, custom) == [0, 0]
    step(pair, "CONFIG", "SET", "oom-score-adj-values", "-2001 -2001 -2001")
    step(pair, "CONFIG", "SET", "oom-score-adj-values", "2001 2001 2001")
