"""Scripts and the append-only log: a script's writes reach the AOF as the
commands it ran (wrapped in MULTI/EXEC when more than one, SELECT when it
changes database, nothing after redis.set_repl(REPL_NONE)), exactly as
redis-server 7.0 writes them; replaying the log (Keel's or redis-server's)
rebuilds the data."""

import os
import shutil
import subprocess
import tempfile
import time

from test_aof import incr_commands, mask, servers, snapshot  # noqa: F401 (fixture)
import harness

SCRIPTS = [
    ["EVAL", "redis.call('set','a','1') redis.call('incr','a') return 1", "0"],
    ["EVAL", "return redis.call('set', KEYS[1], ARGV[1])", "1", "b", "x"],
    ["EVAL", "return redis.call('get','a')", "0"],
    ["EVAL", "redis.call('select', 3) redis.call('set','d','1') redis.call('lpush','l','x') "
             "return 1", "0"],
    ["EVAL", "redis.set_repl(redis.REPL_NONE) redis.call('set','norepl','1') return 1", "0"],
    ["EVAL", "redis.call('set','p','1') redis.set_repl(redis.REPL_NONE) "
             "redis.call('set','q','1') redis.set_repl(redis.REPL_ALL) redis.call('set','r','1')",
     "0"],
    ["EVAL", "redis.call('set','e','1') redis.call('incr','s') return 1", "0"],
    ["SET", "s", "str"],
    ["EVAL", "redis.call('set','f','1') return redis.pcall('incr','s')", "0"],
    ["EVAL", "return redis.call('expire','a',100)", "0"],
    ["EVAL", "return redis.call('del','nothing')", "0"],
    ["SCRIPT", "LOAD", "return redis.call('incr', KEYS[1])"],
    ["EVALSHA", "2bab3b661081db58bd2341920e0ba7cf5dc77b25", "1", "cnt"],
    ["EVAL", "return redis.call('hset','h','a','1','b','2')", "0"],
]


NOT_LOGGED = {(0, b"norepl"), (0, b"q")}  # written under REPL_NONE


def logged(snap):
    return {k: v for k, v in snap.items() if k not in NOT_LOGGED}


def run(srv):
    with harness.RawConn(srv.port) as conn:
        for cmd in SCRIPTS:
            conn.call(*cmd)


def test_script_effects_in_aof_match_redis(servers):  # noqa: F811
    k = servers("keel", "--appendonly", "yes").start()
    r = servers("redis", "--appendonly", "yes").start()
    run(k)
    run(r)
    time.sleep(0.2)
    assert mask(incr_commands(k)) == mask(incr_commands(r))


def test_aof_replay_rebuilds_script_writes(servers):  # noqa: F811
    k = servers("keel", "--appendonly", "yes").start()
    run(k)
    before = logged(snapshot(k))
    assert before
    k.stop()
    k.start()
    assert snapshot(k) == before


def test_redis_loads_keel_aof_with_scripts(servers):  # noqa: F811
    k = servers("keel", "--appendonly", "yes").start()
    run(k)
    before = logged(snapshot(k))
    k.stop()
    check = subprocess.run(["redis-check-aof", os.path.join(k.aofdir, "appendonly.aof.manifest")],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    rdir = tempfile.mkdtemp(prefix="keel-aof-lua-")
    shutil.copytree(k.aofdir, os.path.join(rdir, "appendonlydir"))
    r = servers("redis", "--appendonly", "yes", workdir=rdir).start()
    try:
        assert snapshot(r) == before
    finally:
        r.cleanup()
        shutil.rmtree(rdir, ignore_errors=True)
