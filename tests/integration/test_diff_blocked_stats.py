"""How a blocking command is counted, against redis-server 7.0: served at
once, blocked then served, timed out, or ended by CLIENT UNBLOCK (TIMEOUT
or ERROR). INFO commandstats (calls, failed_calls, rejected_calls),
total_commands_processed, errorstats, whether latencystats has the
command, and the slow log's command lines must be the same. Redis counts
a blocked command's call once (Keel counted a served one twice: it runs
again when its key is ready), counts CLIENT UNBLOCK as a failed call with
one latency sample, and logs that one in the slow log with no arguments."""
import contextlib
import threading
import time

import pytest
import redis

COMMANDS = {
    # name: (prepare the key so the command is served, the blocking call)
    "blpop": (lambda a, k: a.rpush(k, "v"), lambda c, k, t: c.blpop(k, t)),
    "blmove": (lambda a, k: a.rpush(k, "v"),
               lambda c, k, t: c.blmove(k, k + ":dst", t, "LEFT", "RIGHT")),
    "bzpopmin": (lambda a, k: a.zadd(k, {"m": 1}), lambda c, k, t: c.bzpopmin(k, t)),
    "xread": (lambda a, k: a.xadd(k, {"f": "v"}),
              lambda c, k, t: c.xread({k: "$"}, block=int(t * 1000))),
}


def figures(a, name):
    cs = a.info("commandstats").get("cmdstat_" + name, {})
    lat = a.execute_command("INFO", "latencystats")
    slow = [[bytes(w).decode() for w in e[3]] for e in a.execute_command("SLOWLOG", "GET", 20)]
    slow = [line for line in slow if not line or line[0].lower() == name]
    return {
        "calls": cs.get("calls"),
        "failed": cs.get("failed_calls"),
        "rejected": cs.get("rejected_calls"),
        "errors": dict(a.info("errorstats")),
        "latency": ("latency_percentiles_usec_" + name) in lat,
        "slowlog": slow,
    }


@contextlib.contextmanager
def measured(port):
    """An admin connection a and a client c, every command in the slow log,
    the slow log and the statistics cleared; the threshold put back."""
    a = redis.Redis(port=port)
    c = redis.Redis(port=port)
    a.config_set("slowlog-log-slower-than", 0)
    try:
        a.slowlog_reset()
        a.config_resetstat()
        yield a, c
    finally:
        a.config_set("slowlog-log-slower-than", 10000)
        a.close()
        c.close()


def scenario(port, name, how):
    prepare, call = COMMANDS[name]
    key = "blk:" + name
    with measured(port) as (a, c):
        a.delete(key, key + ":dst")
        before = a.info("stats")["total_commands_processed"]
        if how == "immediate":
            prepare(a, key)
            if name == "xread":  # $ means "new entries": serve it from 0 instead
                c.xread({key: "0"}, block=1000)
            else:
                call(c, key, 1)
        elif how == "served":
            t = threading.Timer(0.2, prepare, (a, key))
            t.start()
            call(c, key, 3)
            t.join()
        elif how == "timeout":
            call(c, key, 0.1)
        else:
            cid = c.client_id()
            t = threading.Timer(0.2, lambda: a.client_unblock(cid, error=(how == "unblock-error")))
            t.start()
            try:
                call(c, key, 3)
            except redis.ResponseError as e:
                assert "UNBLOCKED" in str(e)
            t.join()
        time.sleep(0.05)
        got = figures(a, name)
        # this scenario's own commands: the helpers' are the same on both
        got["total"] = a.info("stats")["total_commands_processed"] - before
        a.delete(key, key + ":dst")
        return got


@pytest.mark.parametrize("how", ["immediate", "served", "timeout", "unblock-timeout",
                                 "unblock-error"])
@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_blocked_command_counted_as_redis(keel, oracle, name, how):
    want = scenario(oracle.port, name, how)
    got = scenario(keel.port, name, how)
    assert got == want


def wait_scenario(port):
    """WAIT answered at once, then a WAIT that waits for a replica and
    times out: both are calls; only the first is in the slow log and the
    latency histogram (Redis 7.0 never logs a WAIT that waited)."""
    with measured(port) as (a, c):
        assert c.execute_command("WAIT", 0, 0) == 0
        assert c.execute_command("WAIT", 1, 100) == 0
        got = figures(a, "wait")
        got["histogram"] = a.execute_command("INFO", "latencystats").get(
            "latency_percentiles_usec_wait") is not None
        return got


def test_wait_counted_as_redis(keel, oracle):
    want = wait_scenario(oracle.port)
    assert want["slowlog"] == [["WAIT", "0", "0"]]
    assert wait_scenario(keel.port) == want


def wait_unblock_scenario(port, error):
    """A WAIT for a replica ended by CLIENT UNBLOCK: a failed call, one
    latency sample, a slow log entry with no arguments (as a BLPOP)."""
    with measured(port) as (a, c):
        cid = c.client_id()
        t = threading.Timer(0.2, lambda: a.client_unblock(cid, error=error))
        t.start()
        try:
            reply = c.execute_command("WAIT", 1, 0)
        except redis.ResponseError as e:
            reply = str(e)
        t.join()
        got = figures(a, "wait")
        got["reply"] = reply
        return got


@pytest.mark.parametrize("error", [False, True])
def test_wait_unblocked_counted_as_redis(keel, oracle, error):
    want = wait_unblock_scenario(oracle.port, error)
    assert want["slowlog"] == [[]] and want["failed"] == 1
    assert wait_unblock_scenario(keel.port, error) == want
