"""Edge cases of scripting and server behaviour that Redis's own test suite
exercises (scripting, functions, MULTI, pub/sub, tracking, ACL, introspection),
each written afresh as a command sequence and compared byte for byte with
redis-server 7.0. Add a case = add a line."""

import time

import pytest

from harness import RawConn, cmds

SORTING = "SADD s a b c d e f g h i l m n o p q r s t u v z aa aaa azz"

CASES = {
    # ------------------------------------------------------------ scripting
    # A set sorted BY a constant (no sort) comes back ALPHA-sorted to a
    # script, as it is when STOREd: the result must not hang on the table.
    "script_sort_by_constant": [
        SORTING, "EVAL \"return redis.call('sort',KEYS[1],'by','_')\" 1 s",
        "EVAL \"return redis.call('sort',KEYS[1],'by','_','get','#','get','_:*')\" 1 s",
        "EVAL \"return redis.call('sort',KEYS[1],'by','_','limit',0,2)\" 1 s",
        "EVAL \"return redis.call('sort_ro',KEYS[1],'by','nosort')\" 1 s",
        "SADD n 10 2 3", "EVAL \"return redis.call('sort',KEYS[1],'by','_','desc')\" 1 n",
        "EVAL \"return redis.call('sort',KEYS[1],'desc')\" 1 n",
        "RPUSH l c a b", "EVAL \"return redis.call('sort',KEYS[1],'by','_')\" 1 l",
        "ZADD z 1 b 2 a", "EVAL \"return redis.call('sort',KEYS[1],'by','_')\" 1 z"],
    "sort_by_constant_store": [SORTING, "SORT s BY _ STORE d", "LRANGE d 0 -1",
                               "SORT s BY _ LIMIT 0 3 DESC STORE d", "LRANGE d 0 -1"],
    # XREAD / XREADGROUP BLOCK from a script: an error naming the command as
    # the script wrote it (no silent empty reply).
    "script_xread_block": [
        "XGROUP CREATE s g $ MKSTREAM",
        "EVAL \"return redis.pcall('xread','STREAMS','s','$')\" 1 s",
        "EVAL \"return redis.pcall('xread','BLOCK',0,'STREAMS','s','$')\" 1 s",
        "EVAL \"return redis.pcall('XREAD','COUNT',2,'BLOCK',10,'STREAMS','s','0')\" 1 s",
        "EVAL \"return redis.pcall('XREAD','COUNT','x','BLOCK',0,'STREAMS','s','$')\" 1 s",
        "EVAL \"return redis.pcall('xreadgroup','group','g','c','STREAMS','s','>')\" 1 s",
        "EVAL \"return redis.pcall('xreadgroup','group','g','c','BLOCK',0,'STREAMS','s','>')\" 1 s",
        "EVAL \"return redis.call('XReadGroup','group','g','c','BLOCK',0,'STREAMS','s','>')\" 1 s",
        "EVAL \"return redis.pcall('XREADGROUP','BLOCK',0,'group','g','c','STREAMS','x','>')\" 1 s",
        "XADD s 1-1 f v",
        "EVAL \"return redis.pcall('xread','BLOCK',0,'STREAMS','s','0')\" 1 s",
        "FUNCTION LOAD \"#!lua name=lib\nredis.register_function('rd', "
        "function(k) return redis.call('xread','BLOCK',0,'STREAMS',k[1],'0') end)\"",
        "FCALL rd 1 s", "FUNCTION FLUSH"],
    # The globals are read-only: no script can reassign one (an existing
    # global included) and so break the scripts that run after it; rawget,
    # next and pairs still see them, getmetatable(_G) is a read-only table.
    "script_globals_readonly": [
        "EVAL \"redis = function() return 1 end\" 0", "EVAL \"_G = {}\" 0", "EVAL \"KEYS = 1\" 0",
        "EVAL \"ARGV = nil\" 0", "EVAL \"_G.redis = 1\" 0", "EVAL \"_G.newone = 1\" 0",
        "EVAL \"__redis__err__handler = 1\" 0", "EVAL \"rawset(_G, 'redis', 1)\" 0",
        "EVAL \"setmetatable(_G, {})\" 0", "EVAL \"local g = getmetatable(_G) g.__index = {}\" 0",
        "EVAL \"table.insert(_G, 1)\" 0", "EVAL \"table.insert(redis, 1)\" 0",
        "EVAL \"loadstring('redis = 1')()\" 0",
        "EVAL \"return {coroutine.resume(coroutine.create(function() cjson = 1 end))}\" 0",
        "EVAL \"return redis.call('ping')\" 0", "EVAL \"return cjson.encode({1})\" 0",
        "EVAL \"return KEYS[1]\" 1 k", "EVAL \"KEYS[1] = 'x' return KEYS[1]\" 1 k",
        "EVAL \"return {type(rawget(_G, 'redis')), rawget(_G, 'nosuch'), #_G}\" 0",
        "EVAL \"return {_G == _G._G, rawequal(_G, rawget(_G, '_G')), _G.redis == redis}\" 0",
        "EVAL \"local n = 0 for k in pairs(_G) do n = n + 1 end return n > 20\" 0",
        "EVAL \"local t = {} for k in pairs(redis) do t[#t+1] = k end table.sort(t) return t\" 0",
        "EVAL \"local t = {} for k, v in pairs(getmetatable(_G)) do t[#t+1] = k .. type(v) end "
        "return t\" 0",
        "EVAL \"return getmetatable(getmetatable(_G)) == nil\" 0",
        "EVAL \"return getmetatable(_G).__index(_G, 'zz')\" 0",
        "EVAL \"return {next({5})}\" 0", "EVAL \"table.insert(nil, 1)\" 0",
        "EVAL \"local t = {} table.insert(t, 'a') table.insert(t, 1, 'b') return t\" 0",
        "FUNCTION LOAD \"#!lua name=g\nredis.register_function('g', function() redis = 1 end)\"",
        "FCALL g 0", "FUNCTION LOAD \"#!lua name=h\nredis.register_function('h', function() "
        "return {rawget(_G, 'redis') ~= nil, _G == _G._G} end)\"", "FCALL h 0",
        "FUNCTION FLUSH", "EVAL \"return redis.call('ping')\" 0"],
    # loadstring / load parse a precompiled chunk as text (a syntax error at
    # its escape byte), as Redis's Lua does.
    "script_loadstring_binary": [
        "EVAL \"return loadstring(string.dump(function() return 1 end))()\" 0",
        "EVAL \"return {loadstring(string.dump(function() return 1 end), 'nm')}\" 0",
        "EVAL \"return {loadstring(string.dump(function() return 1 end), '=nm')}\" 0",
        "EVAL \"local d = string.dump(function() return 1 end) local i = 0 "
        "return {load(function() i = i + 1 if i == 1 then return d end end)}\" 0",
        "EVAL \"return {loadstring('\\27')}\" 0", "EVAL \"return loadstring('return 7')()\" 0",
        "EVAL \"return {loadstring('x = ', '=n')}\" 0", "EVAL \"return loadstring()\" 0",
        "EVAL \"return {load(function() return {} end)}\" 0", "EVAL \"return load(1)\" 0",
        "EVAL \"local i = 0 return load(function() i = i + 1 if i == 1 then return 'return 5' "
        "end end)()\" 0"],
    # Keys expire against the time the outermost command began: a key alive
    # then stays alive to the end of the script or the transaction (PTTL,
    # from the clock, says 0).
    "script_time_fixed_for_expiry": [
        "EVAL \"redis.call('SET', 'k', 'v', 'PX', 1) for i = 1, 4000000 do end "
        "return {redis.call('EXISTS', 'k'), redis.call('GET', 'k'), redis.call('PTTL', 'k')}\" 1 k",
        "EXISTS k"],
    "multi_time_fixed_for_expiry": ["MULTI", "SET k v PX 1", "EVAL \"for i = 1, 4000000 do end\" 0",
                                    "EXISTS k", "GET k", "PTTL k", "EXEC", "EXISTS k"],
    # EXEC refused before it runs (a wrong arity, ACL, subscribed mode) is
    # aborted as Redis's rejectCommand: EXECABORT naming the refusal, the
    # transaction discarded and the keys unwatched, in MULTI or not.
    "exec_refused_arity": ["EXEC x", "MULTI", "SET a b", "EXEC x", "PING", "GET a", "EXEC",
                           "WATCH a", "EXEC x", "SET a c", "MULTI", "GET a", "EXEC"],
    "exec_refused_acl": ["ACL SETUSER noexec on nopass +@all -exec ~*", "AUTH noexec x", "MULTI",
                         "SET a 1", "EXEC", "PING", "GET a", "AUTH default x",
                         "ACL DELUSER noexec"],
    "exec_refused_subscribed": ["SUBSCRIBE c", "EXEC", "MULTI", "EXEC", "PING"],
    # ACL SETUSER: a user name with white space or a NUL is refused.
    "acl_setuser_name_spaces": ["ACL SETUSER \"a b\"", ["ACL", "SETUSER", "a\tb"],
                                ["ACL", "SETUSER", "a\nb"], ["ACL", "SETUSER", "a\x00b"],
                                ["ACL", "SETUSER", "a\x0bb", "on"], "ACL USERS"],
    # redis.register_function{...}: keys in any case, a number taken as a
    # description, and Redis's error for each argument of the wrong type.
    "register_function_named_args": [
        "FUNCTION LOAD \"#!lua name=b1\nredis.register_function{function_name='x', "
        "callback=function() end, description=1}\"",
        "FUNCTION LOAD \"#!lua name=b2\nredis.register_function{FUNCTION_NAME='x2', "
        "Callback=function() end, DESCRIPTION='d', Flags={'no-writes'}}\"",
        "FUNCTION LOAD \"#!lua name=b3\nredis.register_function{function_name={}, "
        "callback=function() end}\"",
        "FUNCTION LOAD \"#!lua name=b3\nredis.register_function{function_name='x3', callback=1}\"",
        "FUNCTION LOAD \"#!lua name=b3\nredis.register_function{function_name='x3', "
        "callback=function() end, flags=1}\"",
        "FUNCTION LOAD \"#!lua name=b3\nredis.register_function{function_name='x3', "
        "callback=function() end, description={}}\"",
        "FUNCTION LOAD \"#!lua name=b3\nredis.register_function{function_name='x3', "
        "callback=function() end, [1]=2}\"",
        "FUNCTION LIST LIBRARYNAME b2", "FUNCTION LIST LIBRARYNAME b1", "FCALL x2 0",
        "FUNCTION FLUSH"],
    # FCALL's numkeys, judged once the function is found: not a number is
    # "Bad number of keys provided".
    "fcall_numkeys": [
        "FUNCTION LOAD \"#!lua name=t\nredis.register_function('test', function(k, a) return #k end) "
        "redis.register_function{function_name='tro', callback=function(k, a) return #k end, "
        "flags={'no-writes'}}\"",
        "FCALL test abc", "FCALL test 1.5", "FCALL test 99999999999999999999", "FCALL test -1",
        "FCALL test 3 a", "FCALL test 1 a", "FCALL_RO tro abc", "FCALL_RO tro 2 a",
        "FCALL nosuch abc", "FCALL test \"\"", "FUNCTION FLUSH"],
    "multi_xread_block": ["XADD s 1-1 a b", "MULTI", "XREAD BLOCK 0 STREAMS s $",
                          "XREAD BLOCK 0 STREAMS s 0", "EXEC"],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_redis_suite_server(diff, name):
    diff(cmds(*CASES[name]))


def test_script_body_precompiled(diff, ro):
    """EVAL, SCRIPT LOAD and FUNCTION LOAD of a precompiled chunk: a
    compile error (the stock interpreter would run the bytecode)."""
    code = ro.eval("return string.dump(function() return 42 end)", 0)
    diff([["EVAL", code, "0"], ["SCRIPT", "LOAD", code], ["EVAL", b"\x1b", "0"],
          ["EVAL", b"\x1b\nreturn 1", "0"], ["FUNCTION", "LOAD", b"#!lua name=x\n" + code],
          ["EVAL", "return {loadstring(ARGV[1])}", "0", code]])


# min-replicas-to-write 1 and no replica: a script that declares it may
# write (a shebang without no-writes, a function without it) is refused
# before it runs, queued in MULTI too (EXECABORT); an EVAL without shebang
# runs, its first write refused; EXEC of reads only (an EVAL without
# shebang only MAY_REPLICATE) runs.
NOREPLICAS = [
    "SET x v", "EVAL \"#!lua flags=no-writes\nreturn redis.call('get','x')\" 1 x",
    "EVAL \"return redis.call('get','x')\" 1 x", "EVAL \"#!lua\nreturn redis.call('get','x')\" 1 x",
    "EVAL \"return redis.call('set','x', 1)\" 1 x", "EVAL \"return redis.pcall('set','x', 1)\" 1 x",
    "EVAL \"redis.call('get','x') return redis.pcall('set','x', 1)\" 1 x",
    "MULTI", "GET x", "EVAL \"return 1\" 0", "PUBLISH c m", "EXEC",
    "MULTI", "EVAL \"#!lua\nreturn 1\" 0", "EXEC", "PING",
    "FUNCTION LOAD \"#!lua name=nr\nredis.register_function('w', function() return 1 end) "
    "redis.register_function{function_name='r', callback=function() return redis.pcall('set',"
    "'x','1') end, flags={'no-writes'}}\"",
    "FCALL w 0", "FCALL r 0", "FCALL_RO r 0", "FUNCTION FLUSH", "GET x"]


def test_scripts_min_replicas(diff):
    try:
        diff(cmds("SET x v", "CONFIG SET min-replicas-to-write 1", *NOREPLICAS[1:],
                  "CONFIG SET min-replicas-to-write 0"))
    finally:
        for port in diff.ports.values():
            with RawConn(port) as c:
                c.call("CONFIG", "SET", "min-replicas-to-write", "0")
                c.call("FUNCTION", "FLUSH")


def test_exec_refused_is_aborted(keel, oracle):
    """EXEC refused by a check of the server's state (NOREPLICAS, OOM) is
    aborted: EXECABORT naming the error, the transaction discarded (the
    client is no longer in MULTI)."""
    out = {}
    for name, port in (("keel", keel.port), ("redis", oracle.port)):
        a, b = RawConn(port), RawConn(port)
        got = []
        try:
            for setting, on, off in (("min-replicas-to-write", "1", "0"), ("maxmemory", "1", "0")):
                a.call("FLUSHALL")
                got += [a.call("MULTI"), a.call("SET", "x", "1")]
                b.call("CONFIG", "SET", setting, on)
                try:
                    got += [a.call("EXEC"), a.call("PING"), a.call("EXISTS", "x")]
                finally:
                    b.call("CONFIG", "SET", setting, off)
        finally:
            a.close()
            b.close()
        out[name] = got
    assert out["keel"] == out["redis"]


# replica-serve-stale-data no on a replica whose primary is unreachable: a
# script not flagged allow-stale (an EVAL without shebang too, queued in
# MULTI too) does not start (MASTERDOWN); in an allow-stale script, commands
# not flagged STALE are refused.
STALE = [
    "SET x z",
    "FUNCTION LOAD \"#!lua name=st\nredis.register_function('p', function() return 1 end) "
    "redis.register_function{function_name='q', callback=function() return redis.pcall('get','x') "
    "end, flags={'allow-stale','no-writes'}}\"",
    "CONFIG SET replica-serve-stale-data no", "REPLICAOF 127.0.0.1 1",
    "EVAL \"return 1\" 0", "EVAL_RO \"return 1\" 0", "EVAL \"#!lua flags=no-writes\nreturn 1\" 0",
    "EVAL \"#!lua flags=allow-stale,no-writes\nreturn redis.call('echo','foobar')\" 0",
    "EVAL \"#!lua flags=allow-stale,no-writes\nreturn redis.pcall('get','x')\" 0",
    "EVAL \"#!lua flags=allow-stale,no-writes\nreturn redis.call('get','x')\" 0",
    "EVAL \"#!lua flags=allow-stale\nreturn 1\" 0", "FCALL p 0", "FCALL q 0", "FCALL_RO q 0",
    "MULTI", "EVAL \"return 1\" 0", "EXEC"]


def test_scripts_stale_replica(diff):
    try:
        diff(cmds(*STALE))
    finally:
        for port in diff.ports.values():
            with RawConn(port) as c:
                c.call("REPLICAOF", "NO", "ONE")
                c.call("CONFIG", "SET", "replica-serve-stale-data", "yes")
                c.call("FUNCTION", "FLUSH")


def test_exec_during_busy_script(keel, oracle):
    """EXEC sent while another client's script is busy: EXECABORT naming
    BUSY, and the client has left MULTI (no half transaction later)."""
    out = {}
    for name, port in (("keel", keel.port), ("redis", oracle.port)):
        a, b, c = (RawConn(port, timeout=10) for _ in range(3))
        try:
            c.call("CONFIG", "SET", "busy-reply-threshold", "10")
            c.call("SET", "xx", "1")
            got = [b.call("MULTI"), b.call("INCR", "xx")]
            a.send(b"*3\r\n$4\r\nEVAL\r\n$17\r\nwhile true do end\r\n$1\r\n0\r\n")
            time.sleep(0.3)
            got += [b.call("INCR", "xx"), b.call("EXEC"), c.call("SCRIPT", "KILL")]
            a.read_replies(1)
            got += [b.call("PING", "asdf"), c.call("GET", "xx")]
        finally:
            c.call("CONFIG", "SET", "busy-reply-threshold", "5000")
            for conn in (a, b, c):
                conn.close()
        out[name] = got
    assert out["keel"] == out["redis"]


def test_reset_reply_modes(keel, oracle):
    """RESET answers under CLIENT REPLY OFF (it turns replies back on before
    it answers), stays silent after CLIENT REPLY SKIP, and keeps CLIENT
    NO-EVICT (Redis 7.0)."""
    out = {}
    for name, port in (("keel", keel.port), ("redis", oracle.port)):
        with RawConn(port) as c:
            c.send(b"CLIENT REPLY SKIP\r\nRESET\r\nPING a\r\nCLIENT REPLY OFF\r\n"
                   b"CLIENT REPLY SKIP\r\nRESET\r\nPING b\r\nCLIENT NO-EVICT on\r\nRESET\r\n"
                   b"CLIENT INFO\r\nCLIENT NO-EVICT off\r\nPING c\r\n")
            got = c.read_replies(8, timeout=5)
            got[5] = got[5].split(b" flags=")[1].split(b" ")[0]  # CLIENT INFO: its flags
            out[name] = got
    assert out["keel"] == out["redis"]
