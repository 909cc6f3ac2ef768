"""repl_helpers.py — what the replication test files share: stopping a
server started for one test (blaming sanitizer reports), a redis-py client
on it, and waiting for a condition."""

import time

import redis


def stop(srv):
    problem = srv.stop()
    srv.cleanup()
    assert problem is None, problem


def cli(srv):
    return redis.Redis(host="127.0.0.1", port=srv.port, socket_timeout=30)


def wait_for(cond, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)
