"""INFO errorstats / total_error_replies / commandstats after scripts whose
redis.call or redis.pcall meets an error, against redis-server 7.0. An
error found before the command runs (unknown command, wrong arity, a
command scripts may not call, ACL NOPERM, -OOM, a write in a read-only
script) is counted when it happens (its code in errorstats, the command's
rejected_calls); the error table handed to Lua is marked so that the script
raising or returning it does not count it a second time (EVAL is then a
failed call). Errors the lib finds in its own arguments, error_reply
tables and Lua runtime errors are counted once, as the script's reply.
Each script runs after CONFIG RESETSTAT; the reply and the three sections'
counts (times masked) must be Redis's."""

import re

import pytest

from harness import RawConn, encode, parse_one

RAISE, PCALL_RET, PCALL_SWALLOW = ("return redis.call(%s)", "return redis.pcall(%s)",
                                   "redis.pcall(%s) return 'swallowed'")
CALLS = ["'nosuch'", "'get'", "'multi'", "'set','k','v'", "'incr','str'", "'get','str'",
         "'set','k','v','xx','nx'", "", "{}", "'get',{}", "'subscribe','c'",
         "'config','nosub'", "'config'", "'client','pause'"]
SCRIPTS = ([(f % c, None) for f in (RAISE, PCALL_RET, PCALL_SWALLOW) for c in CALLS] + [
    ("return redis.error_reply('MY custom')", None), ("return redis.error_reply('plain')", None),
    ("return {err='-LEAD dash'}", None), ("return {err='nospace'}", None),
    ("return nosuchfn()", None), ("error('boom')", None), ("error({err='CUSTOM x'})", None),
    ("local e = redis.pcall('nosuch') return {err=e.err}", None),
    ("local e = redis.pcall('get') error(e)", None),
    ("local ok, e = pcall(redis.call, 'nosuch') return e", None),
    ("local ok, e = pcall(redis.call, 'incr', 'str') error(e)", None),
    ("redis.call('get','str') return redis.call('nosuch')", None),
    ("return redis.call('set','k','v')", "ro"), ("return redis.pcall('set','k','v')", "ro"),
    ("redis.pcall('set','k','v') return 1", "ro"), ("return redis.call('get','str')", "ro"),
    ("return redis.call('set','k','v')", "acl"), ("return redis.pcall('set','k','v')", "acl"),
    ("redis.pcall('set','k','v') return 1", "acl"), ("return redis.call('nosuch')", "acl"),
    ("return redis.call('set','k','v')", "oom"), ("return redis.pcall('set','k','v')", "oom"),
    ("redis.pcall('set','k','v') return 1", "oom"), ("return redis.call('get','str')", "oom"),
    ("return redis.call('set','k','v')", "noshebang-ro"),
])


def section(c, name):
    text = parse_one(c.call("INFO", name))[0].decode()
    return dict(line.split(":", 1) for line in text.split("\r\n")[1:] if line)


def run(port, script, mode):
    with RawConn(port, timeout=10) as c:
        c.call("FLUSHALL")
        c.call("SET", "str", "abc")
        c.call("ACL", "SETUSER", "limited", "on", "nopass", "+@all", "-set", "~*", "&*")
        if mode == "oom":
            c.call("CONFIG", "SET", "maxmemory", "1")
        c.call("CONFIG", "RESETSTAT")
        if mode == "acl":
            c.call("AUTH", "limited", "x")
        if mode == "ro":
            reply = c.call("EVAL_RO", script, "0")
        elif mode == "noshebang-ro":
            reply = c.call("EVAL", "#!lua flags=no-writes\n" + script, "0")
        else:
            reply = c.call("EVAL", script, "0")
        if mode == "acl":
            c.call("AUTH", "default", "x")
        if mode == "oom":
            c.call("CONFIG", "SET", "maxmemory", "0")
        cs = {k: re.sub(r"usec=\d+,usec_per_call=[\d.]+,", "", v)
              for k, v in section(c, "commandstats").items()
              if k not in ("cmdstat_info", "cmdstat_auth", "cmdstat_config|set",
                           "cmdstat_config|resetstat")}
        es = section(c, "errorstats")
        total = section(c, "stats")["total_error_replies"]
        c.call("ACL", "DELUSER", "limited")
    # errors name the script by its sha: equal on both servers
    return reply, cs, es, total


@pytest.mark.parametrize("script,mode", SCRIPTS)
def test_script_error_stats_as_redis(keel, oracle, script, mode):
    got, want = run(keel.port, script, mode), run(oracle.port, script, mode)
    assert got == want
