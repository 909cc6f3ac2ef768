"""Redis 7.0 functions (FUNCTION LOAD/DELETE/LIST/DUMP/RESTORE/FLUSH/STATS/
HELP, FCALL, FCALL_RO): Keel vs redis-server 7.0, raw reply bytes; FUNCTION
LIST compared with each library's functions sorted by name (Redis lists
them in its hash table's order). Payloads of FUNCTION DUMP restore in both
directions; libraries survive SAVE/restart and AOF rewrites."""

import os
import shutil
import tempfile
import time

import pytest

import harness
from harness import Parsed, RawConn, ServerProcess, keel_argv, parse_one
from test_aof import servers  # noqa: F401 (fixture)

LIB = ("#!lua name=lib\n"
       "redis.register_function('f1', function(keys, args) return {keys, args} end)\n"
       "redis.register_function{function_name='f2', callback=function(keys, args) "
       "return redis.call('set', keys[1], args[1]) end, flags={'no-writes'}, description='desc'}\n"
       "redis.register_function{function_name='f3', callback=function(keys, args) "
       "return redis.call('incr', keys[1]) end, flags={'allow-oom', 'allow-stale'}}\n")
LIB2 = ("#!lua name=lib2\n"
        "local function helper(x) return x * 2 end\n"
        "redis.register_function('double', function(keys, args) return helper(tonumber(args[1])) end)\n"
        "redis.register_function{function_name='ro', callback=function(keys) "
        "return redis.call('get', keys[1]) end, flags={'no-writes'}}\n")


def L(code, replace=False):
    return ["FUNCTION", "LOAD"] + (["REPLACE"] if replace else []) + [code]


def _norm(v):
    """FUNCTION LIST: libraries by name, functions by name."""
    if not isinstance(v, list):
        return v
    libs = []
    for lib in v:
        lib = list(lib) if not isinstance(lib, dict) else [x for kv in lib.items() for x in kv]
        d = dict(zip(lib[0::2], lib[1::2]))
        fns = d.get(b"functions")
        if isinstance(fns, list):
            d[b"functions"] = sorted(repr(f) for f in fns)
        libs.append(repr(sorted(d.items(), key=lambda kv: repr(kv[0]))))
    return sorted(libs)


def LIST(*args):
    return Parsed(["FUNCTION", "LIST"] + list(args), _norm)


FLUSH = ["FUNCTION", "FLUSH"]

CASES = {
    "load_errors": [
        FLUSH, L("return 1"), L("#!lua\nreturn 1"), L("#!lua name=1x\nreturn 1"),
        L("#!foo name=x\nreturn 1"), L("#!lua name=x foo=bar\nreturn 1"), L("#!lua name=x"),
        L("#!lua name=a-b\nredis.register_function('f', function() end)"),
        L("#!lua name=lib3\nredis.call('ping')"),
        L("#!lua name=lib3\nredis.register_function('bad name', function() return 1 end)"),
        L("#!lua name=lib3\nredis.register_function('g', 5)"),
        L("#!lua name=lib3\nredis.register_function(5, function() end)"),
        L("#!lua name=lib3\nredis.register_function{function_name='g', callback=function() end, "
          "flags={'bad'}}"),
        L("#!lua name=lib3\nredis.register_function{function_name='g', callback=function() end, "
          "foo=1}"),
        L("#!lua name=lib3\nx("), L("#!lua name=lib3\nerror('boom')"),
        L("#!lua name=lib3\nlocal a = 1"), L("#!lua name=lib3\nreturn KEYS"),
        L("#!lua name=lib3\nlocal t = string"), L("#!lua name=lib3\nredis.register_function()"),
        L("#!lua name=lib3\nredis.register_function{callback=function() end}"),
        L("#!lua name=lib3\nredis.register_function{function_name='x'}"),
        L("#!lua name=lib3\nredis.register_function('a', function() end) "
          "redis.register_function('a', function() end)"),
        L("#!lua name=lib3\nredis.log(redis.LOG_DEBUG, 'x') local v = redis.REDIS_VERSION "
          "redis.register_function('ok', function() return v end)"),
        ["FCALL", "ok", "0"], LIST(),
    ],
    "load_replace_collide": [
        FLUSH, L(LIB), L(LIB), L(LIB, True),
        L("#!lua name=other\nredis.register_function('f1', function() return 1 end)"),
        L("#!lua name=lib\nredis.register_function('new', function() return 'new' end)", True),
        ["FCALL", "f1", "0"], ["FCALL", "new", "0"], LIST(),
    ],
    "fcall": [
        FLUSH, L(LIB), L(LIB2),
        ["FCALL", "f1", "2", "a", "b", "c", "d"], ["FCALL", "f1", "0"],
        ["FCALL", "f2", "1", "k", "v"], ["FCALL_RO", "f2", "1", "k", "v"],
        ["FCALL", "f3", "1", "n"], ["FCALL_RO", "f3", "1", "n"], ["FCALL_RO", "f1", "0"],
        ["FCALL", "nof", "0"], ["FCALL", "f1", "-1"], ["FCALL", "f1", "3", "a"],
        ["FCALL", "double", "0", "21"], ["SET", "rk", "rv"], ["FCALL_RO", "ro", "1", "rk"],
        ["FCALL", "F1", "0"], ["FCALL"], ["FCALL", "f1"],
    ],
    "fcall_errors": [
        FLUSH,
        L("#!lua name=e\n"
          "redis.register_function('boom', function() error('boom') end)\n"
          "redis.register_function('tbl', function() error({err='MY error'}) end)\n"
          "redis.register_function('callerr', function() return redis.call('nocmd') end)\n"
          "redis.register_function('keys', function() return KEYS end)\n"
          "redis.register_function('glob', function() x = 1 end)\n"
          "redis.register_function('pc', function() return redis.pcall('incr', 'str') end)\n"),
        ["SET", "str", "abc"],
        ["FCALL", "boom", "0"], ["FCALL", "tbl", "0"], ["FCALL", "callerr", "0"],
        ["FCALL", "keys", "0"], ["FCALL", "glob", "0"], ["FCALL", "pc", "0"],
    ],
    "list_delete_stats": [
        FLUSH, L(LIB), L(LIB2), LIST(), LIST("WITHCODE"), LIST("LIBRARYNAME", "lib"),
        LIST("LIBRARYNAME", "lib*", "WITHCODE"), LIST("LIBRARYNAME", "nomatch"),
        LIST("foo"), LIST("LIBRARYNAME", "a", "LIBRARYNAME", "b"), LIST("WITHCODE", "WITHCODE"),
        ["FUNCTION", "STATS"], ["FUNCTION", "DELETE", "nolib"], ["FUNCTION", "DELETE", "lib2"],
        ["FUNCTION", "STATS"], ["FCALL", "double", "0", "1"], ["FUNCTION", "DELETE"],
        ["FUNCTION", "STATS", "x"], ["FUNCTION", "KILL"],
        ["FUNCTION", "FLUSH", "foo"], ["FUNCTION", "FLUSH", "ASYNC"], ["FUNCTION", "FLUSH", "SYNC"],
        LIST(), ["FUNCTION", "HELP"], ["FUNCTION", "NOPE"],
    ],
    "dump_restore": [
        FLUSH, ["FUNCTION", "DUMP"], L(LIB), ["FUNCTION", "DUMP"],
        ["FUNCTION", "RESTORE", "abc"], ["FUNCTION", "RESTORE", "abc", "foo"],
    ],
    "eval_cannot_call_functions": [
        FLUSH, L(LIB), ["EVAL", "return redis.call('fcall', 'f1', 0)", "0"],
        ["EVAL", "return redis.call('function', 'list')", "0"],
    ],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_functions(diff, name):
    diff(CASES[name])


@pytest.mark.parametrize("name", ["fcall", "list_delete_stats"])
def test_functions_resp3(diff, name):
    diff.resp3(CASES[name])


def _call(port, *cmd):
    with RawConn(port) as c:
        return c.call(*cmd)


def test_dump_restores_in_redis_and_back(keel, oracle):
    for port in (keel.port, oracle.port):
        _call(port, "FUNCTION", "FLUSH")
    _call(keel.port, "FUNCTION", "LOAD", LIB)
    _call(keel.port, "FUNCTION", "LOAD", LIB2)
    payload = parse_one(_call(keel.port, "FUNCTION", "DUMP"))[0]
    assert _call(oracle.port, "FUNCTION", "RESTORE", payload) == b"+OK\r\n"
    assert _call(oracle.port, "FCALL", "double", "0", "4") == b":8\r\n"
    # APPEND (the default) refuses a library that exists; REPLACE takes it.
    assert _call(oracle.port, "FUNCTION", "RESTORE", payload).startswith(b"-")
    assert _call(oracle.port, "FUNCTION", "RESTORE", payload, "REPLACE") == b"+OK\r\n"
    back = parse_one(_call(oracle.port, "FUNCTION", "DUMP"))[0]
    _call(keel.port, "FUNCTION", "FLUSH")
    assert _call(keel.port, "FUNCTION", "RESTORE", back) == b"+OK\r\n"
    assert _call(keel.port, "FCALL", "double", "0", "5") == b":10\r\n"
    assert _call(keel.port, "FUNCTION", "RESTORE", back).startswith(b"-")
    assert _call(keel.port, "FCALL", "f1", "1", "k") == b"*2\r\n*1\r\n$1\r\nk\r\n*0\r\n"
    assert _call(keel.port, "FUNCTION", "RESTORE", back, "FLUSH") == b"+OK\r\n"
    for port in (keel.port, oracle.port):
        _call(port, "FUNCTION", "FLUSH")


def test_restore_collision_errors_match(diff, keel, oracle):
    for port in (keel.port, oracle.port):
        _call(port, "FUNCTION", "FLUSH")
        _call(port, "FUNCTION", "LOAD", LIB)
    payload = parse_one(_call(oracle.port, "FUNCTION", "DUMP"))[0]
    _call(oracle.port, "FUNCTION", "FLUSH")
    _call(keel.port, "FUNCTION", "FLUSH")
    diff([L("#!lua name=x\nredis.register_function('f1', function() return 1 end)"),
          ["FUNCTION", "RESTORE", payload], ["FUNCTION", "RESTORE", payload, "REPLACE"],
          LIST(), ["FUNCTION", "RESTORE", payload, "FLUSH"], LIST(), FLUSH])


def test_functions_survive_save_and_restart(tmp_path):
    k = ServerProcess("keel-fn-rdb", keel_argv).start()
    try:
        _call(k.port, "FUNCTION", "LOAD", LIB)
        _call(k.port, "FUNCTION", "LOAD", LIB2)
        _call(k.port, "SET", "key", "v")
        assert _call(k.port, "SAVE") == b"+OK\r\n"
        k.stop()
        k.start()
        assert _call(k.port, "FCALL", "double", "0", "3") == b":6\r\n"
        assert _call(k.port, "GET", "key") == b"$1\r\nv\r\n"
        # redis-server loads Keel's dump.rdb with its functions
        rdir = tempfile.mkdtemp(prefix="keel-fn-r-")
        shutil.copy(os.path.join(k.workdir, "dump.rdb"), rdir)
        r = ServerProcess("redis-fn-rdb", lambda p: [
            harness.oracle_bin(), "--port", str(p), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", rdir]).start()
        try:
            assert _call(r.port, "FCALL", "double", "0", "3") == b":6\r\n"
        finally:
            r.stop()
            r.cleanup()
            shutil.rmtree(rdir, ignore_errors=True)
    finally:
        k.stop()
        k.cleanup()


@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_functions_in_aof(servers, preamble):  # noqa: F811
    k = servers("keel", "--appendonly", "yes", "--aof-use-rdb-preamble", preamble).start()
    c = k.client()
    c.execute_command("FUNCTION", "LOAD", LIB)
    c.execute_command("FCALL", "f3", "1", "n")
    k.stop()
    k.start()
    c = k.client()
    assert c.execute_command("FCALL", "f3", "1", "n") == 2
    c.bgrewriteaof()
    k.wait_rewrite()
    c.execute_command("FUNCTION", "LOAD", LIB2)
    k.stop()
    k.start()
    c = k.client()
    assert c.execute_command("FCALL", "f3", "1", "n") == 3
    assert c.execute_command("FCALL", "double", "0", "2") == 4


def test_keel_loads_redis_rdb_and_aof_with_functions(servers):  # noqa: F811
    """redis-server's dump.rdb (FUNCTION2 opcode) and appendonlydir (FUNCTION
    LOAD in the incr file) give Keel the same libraries."""
    r = servers("redis", "--appendonly", "yes").start()
    c = r.client()
    c.execute_command("FUNCTION", "LOAD", LIB)
    c.execute_command("FCALL", "f3", "1", "n")
    c.save()
    c.execute_command("FUNCTION", "LOAD", LIB2)
    r.stop()
    # the RDB alone (one library), then the AOF (both)
    kdir = tempfile.mkdtemp(prefix="keel-fn-from-redis-")
    try:
        shutil.copy(os.path.join(r.dir, "dump.rdb"), kdir)
        k = servers("keel", workdir=kdir).start()
        kc = k.client()
        assert kc.execute_command("FCALL", "f3", "1", "n") == 2
        assert kc.execute_command("FUNCTION", "LIST", "LIBRARYNAME", "lib2") == []
        k.stop()
        shutil.copytree(os.path.join(r.dir, "appendonlydir"), os.path.join(kdir, "appendonlydir"))
        k2 = servers("keel", "--appendonly", "yes", workdir=kdir).start()
        kc = k2.client()
        assert kc.execute_command("FCALL", "double", "0", "8") == 16
        assert kc.execute_command("FCALL", "f3", "1", "n") == 2
    finally:
        shutil.rmtree(kdir, ignore_errors=True)
