"""Lua scripting (EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, SCRIPT): Keel vs
redis-server 7.0, raw reply bytes, in RESP2 and RESP3.

A corpus of scripts: conversions both ways (RESP2 and RESP3 tables),
nested tables, pcall error tables, errors inside redis.call, cjson and bit
round trips, sandbox escapes tried and refused, math.random sequences,
shebang flags and read-only variants, SCRIPT subcommands. Plus redis-py's
register_script, keyspace events and WATCH seeing a script's writes.
"""

import pytest

from harness import ServerProcess, Differ, keel_argv, oracle_argv, RawConn, parse_one
from helpers import key_events


def E(script, *keys_and_args, numkeys=None):
    keys = list(keys_and_args)
    n = numkeys if numkeys is not None else 0
    return ["EVAL", script, str(n)] + keys


def EK(script, keys, args=()):
    return ["EVAL", script, str(len(keys))] + list(keys) + list(args)


CASES = {
    # ---------------------------------------------------- Lua -> reply
    "ret_int": [E("return 1"), E("return -7"), E("return 3.99"), E("return -3.99"),
                E("return 1e20"), E("return -1e20"), E("return 0/0 ~= 0/0")],
    "ret_string": [E("return 'hello'"), E("return ''"), E("return 'a\\0b'"),
                   E("return string.rep('x', 1000)")],
    "ret_bool_nil": [E("return true"), E("return false"), E("return nil"), E("return"),
                     E("return {true, false, 1}")],
    "ret_tables": [E("return {1,2,{3,'x'},nil,5}"), E("return {}"),
                   E("return {1, {2, {3, {4, {5}}}}}"), E("return {a=1, 1, 2}"),
                   E("return {'a', {}, {{}}}")],
    "ret_status_error": [E("return {ok='fine'}"), E("return {err='boom'}"),
                         E("return {err='MYCODE boom'}"), E("return {ok='a\\r\\nb'}"),
                         E("return {err='a\\nb'}"), E("return redis.status_reply('x')"),
                         E("return redis.error_reply('x')"), E("return redis.error_reply('-x y')"),
                         E("return redis.error_reply('x y')"), E("return redis.status_reply(1)"),
                         E("return redis.error_reply()")],
    "ret_resp3_types": [E("return {double=3.5}"), E("return {double=-0.25}"),
                        E("return {map={a=1}}"), E("return {set={a=true}}"),
                        E("return {big_number='123456789012345678901234567890'}"),
                        E("return {verbatim_string={format='txt',string='hi'}}"),
                        E("return {map={}}"), E("return {set={}}")],
    # ---------------------------------------------------- reply -> Lua
    "call_types_resp2": [
        E("return redis.call('set','k',3.1)"), E("return redis.call('get','k')"),
        E("return redis.call('get','nokey')"), E("return {redis.call('get','nokey')}"),
        E("return type(redis.call('get','nokey'))"),
        E("return redis.call('ping')"), E("return redis.call('ping')['ok']"),
        E("return type(redis.call('ping'))"),
        E("return redis.call('hset','h','a','1','b','2')"), E("return redis.call('hgetall','h')"),
        E("return redis.call('zadd','z',1.5,'a',2,'b')"),
        E("return redis.call('zrange','z',0,-1,'withscores')"),
        E("return redis.call('zscore','z','a')"), E("return redis.call('lrange','nol',0,-1)"),
        E("return redis.call('incrbyfloat','f','1.5')"), E("return redis.call('exists','k','h')"),
    ],
    "call_types_resp3": [
        E("redis.setresp(3) return redis.call('get','nokey')"),
        E("redis.setresp(3) return {redis.call('get','nokey')}"),
        E("redis.setresp(3) return redis.call('hset','h','a','1')"),
        E("redis.setresp(3) return redis.call('hgetall','h')"),
        E("redis.setresp(3) local t = redis.call('hgetall','h') return t['map']['a']"),
        E("redis.setresp(3) return redis.call('zadd','z',1.5,'a')"),
        E("redis.setresp(3) return redis.call('zscore','z','a')"),
        E("redis.setresp(3) return redis.call('zscore','z','a')['double']"),
        E("redis.setresp(3) return redis.call('zrange','z',0,-1,'withscores')"),
        E("redis.setresp(3) return redis.call('sadd','s','x')"),
        E("redis.setresp(3) return redis.call('smembers','s')"),
        E("redis.setresp(3) return redis.call('smembers','nos')"),
        E("redis.setresp(3) return type(redis.call('get','nokey'))"),
        E("redis.setresp(3) return true"), E("redis.setresp(3) return false"),
        E("redis.setresp(2) return false"),
    ],
    # ---------------------------------------------------- errors
    "errors_runtime": [E("error('x')"), E("error({err='My Error'})"), E("error()"),
                       E("return 'a' .. nil"), E("return nil + 1"), E("local t = nil; t.x = 1"),
                       E("return x("), E("return 1 +"), E("error('x', 0)")],
    "errors_call": [
        E("return redis.call('foo')"), E("return redis.call('get')"), E("return redis.call()"),
        E("return redis.call('set','a',{})"), E("return redis.call('set','a',nil)"),
        E("return redis.call('eval','return 1',0)"), E("return redis.call('multi')"),
        E("return redis.call('script','load','return 1')"), E("return redis.call('subscribe','c')"),
        ["SET", "s", "abc"], E("return redis.call('incr','s')"),
        E("return redis.call('lpush','s','x')"), E("return redis.call('set','k','v','ex','abc')"),
    ],
    "errors_pcall": [
        ["SET", "s", "abc"], E("return redis.pcall('incr','s')"),
        E("return redis.pcall('incr','s')['err']"), E("return redis.pcall('foo')"),
        E("return redis.pcall()"), E("return redis.pcall('get')"),
        E("return {pcall(function() error('x') end)}"),
        E("return {pcall(function() redis.call('nocmd') end)}"),
        E("local ok, e = pcall(function() redis.call('incr','s') end) return e['err']"),
        E("local r = redis.pcall('lpush','s','x') return type(r)"),
    ],
    "redis_api": [
        E("return redis.sha1hex('')"), E("return redis.sha1hex('abc')"),
        E("return redis.sha1hex()"),
        E("return {redis.REPL_ALL,redis.REPL_AOF,redis.REPL_REPLICA,redis.REPL_SLAVE,"
          "redis.REPL_NONE,redis.LOG_DEBUG,redis.LOG_VERBOSE,redis.LOG_NOTICE,redis.LOG_WARNING}"),
        E("return redis.REDIS_VERSION_NUM"), E("return redis.replicate_commands()"),
        E("return redis.set_repl(99)"), E("return redis.set_repl()"),
        E("redis.set_repl(redis.REPL_ALL) return 1"), E("return redis.setresp(4)"),
        E("return redis.setresp()"), E("return type(redis.breakpoint())"),
        E("return redis.debug('x')"), E("redis.log(redis.LOG_DEBUG, 'x') return 1"),
        E("return redis.log(99, 'x')"), E("return redis.log(1)"), E("return redis.log('a','b')"),
    ],
    # ---------------------------------------------------- KEYS / ARGV / numkeys
    "keys_argv": [
        EK("return {KEYS[1], KEYS[2], ARGV[1], ARGV[2]}", ["a", "b"], ["x", "y"]),
        EK("return {#KEYS, #ARGV}", [], ["x"]), EK("return #KEYS", ["k"]),
        EK("KEYS[1]='z' return KEYS[1]", ["a"]),
        ["EVAL", "return 1", "-1"], ["EVAL", "return 1", "2", "a"], ["EVAL", "return 1", "x"],
        ["EVAL", "return 1", "99999999999999999999"], ["EVAL", "return 1"], ["EVAL"],
        EK("return redis.call('set', KEYS[1], ARGV[1])", ["k"], ["v"]), ["GET", "k"],
    ],
    # ---------------------------------------------------- sandbox
    "sandbox_globals": [
        E("a=5"), E("return a"), E("_G.x=1"), E("rawset(_G,'x',1) return x"),
        E("setmetatable(_G,nil)"), E("local f=function() y=1 end f()"),
        E("return getmetatable(_G)"), E("return _G.undefinedvar"), E("return rawget(_G,'os')"),
    ],
    "sandbox_libs": [
        E("return os"), E("return io"), E("return loadfile"), E("return dofile"),
        E("return print"), E("return require"), E("return package"), E("return debug"),
        E("return getfenv"), E("return setfenv"), E("return module"), E("return newproxy"),
        E("return type(loadstring)"), E("return loadstring('return 1')()"),
        E("return type(load)"), E("return type(coroutine)"), E("return type(gcinfo)"),
        E("return _VERSION"), E("return type(__redis__err__handler)"),
    ],
    "sandbox_readonly": [
        E("string.x=1"), E("redis.call=nil"), E("cjson.x=1"), E("math.x=1"), E("bit.x=1"),
        E("table.insert=nil"), E("getmetatable('').__index = nil"),
        E("return getmetatable('').__index == string"), E("return ('abc'):upper()"),
        E("local t={} t.x=1 return t.x"), E("local s = string; s.y = 2"),
    ],
    # ---------------------------------------------------- libraries
    "lib_cjson": [
        E("return cjson.encode({1,2,{a=1}})"), E("return cjson.encode({})"),
        E("return cjson.encode('a\\nb')"), E("return cjson.encode(1/3)"),
        E("return cjson.decode('[1,2,{\"a\":[true,null]}]')"),
        E("return cjson.encode(cjson.decode('{\"a\":1.5,\"b\":\"x\"}'))"),
        E("return cjson.decode('{')"), E("return cjson.encode(cjson.decode('[1,\"2\",[3]]'))"),
        E("return type(cjson.null)"),
    ],
    "lib_struct_cmsgpack": [
        E("return {struct.pack('>I2', 513), struct.unpack('<h', 'AB'), struct.size('>iHd')}"),
        E("return cmsgpack.pack({1, 2, 'a', {x=1}})"),
        E("return cmsgpack.unpack(cmsgpack.pack({1, 2, 'a'}))"),
        E("return #cmsgpack.pack(1.5)"), E("return cmsgpack.pack = nil"),
        E("struct.x = 1"), E("return struct.pack('>q', 1, 2)"),
        E("return cmsgpack.unpack('\\193')"),
    ],
    "lib_bit": [
        E("return bit.band(0xff,0x0f)"), E("return bit.bor(1,2,4)"), E("return bit.bxor(5,3)"),
        E("return {bit.lshift(1,31), bit.rshift(-1,1), bit.arshift(-8,1), bit.bnot(0)}"),
        E("return bit.tohex(65535)"), E("return bit.tohex(-1, -4)"), E("return bit.tobit(2^32+5)"),
        E("return bit.rol(1, 33)"), E("return bit.bswap(0x12345678)"),
    ],
    "lib_string_math_table": [
        E("return string.format('%d %s %5.2f', 3, 'x', 1.5)"),
        E("return table.concat({1,2,3},',')"), E("return {unpack({1,2})}"),
        E("return string.len(string.rep('ab', 3))"), E("return {string.byte('AB', 1, 2)}"),
        E("return math.floor(3.7)"), E("return math.max(1, 9, 3)"), E("return tonumber('0x10')"),
        E("local t = {3,1,2} table.sort(t) return t"), E("return tostring(1/0)"),
    ],
    "math_random_seeded": [
        E("math.randomseed(7) return {math.random(100), math.random(100), math.random(1,1000)}"),
        E("math.randomseed(42) return math.random() * 1000000"),
        E("math.randomseed(0) return {math.random(5, 10), math.random(1)}"),
        E("return math.random(0)"), E("return math.random(3, 1)"), E("return math.random(1,2,3)"),
    ],
    # ---------------------------------------------------- shebang and _RO
    "shebang": [
        E("#!lua\nreturn 1"), E("#!lua flags=no-writes\nreturn 1"),
        E("#!lua flags=no-writes,allow-oom\nreturn 1"), E("#!lua flags=\nreturn 2"),
        E("#!lua flags=no-writes,foo\nreturn 1"), E("#!luax\nreturn 1"),
        E("#!lua bar=1\nreturn 1"), E("#!lua"), E("#!lua\nreturn x("),
        E("#!lua flags=no-writes\nreturn redis.call('set','a','b')"),
        E("#!lua\nreturn redis.call('set','x',1)"), E("#!lua\nerror('on line 2')"),
    ],
    "read_only": [
        ["EVAL_RO", "return redis.call('get','a')", "0"],
        ["EVAL_RO", "return redis.call('set','a','b')", "0"],
        ["EVAL_RO", "#!lua\nreturn 1", "0"], ["EVAL_RO", "#!lua flags=no-writes\nreturn 1", "0"],
        ["EVAL_RO", "return redis.call('publish','c','m')", "0"],
        ["EVAL_RO", "return redis.pcall('del','a')", "0"], ["GET", "a"],
    ],
    # ---------------------------------------------------- EVALSHA / SCRIPT
    "evalsha": [
        ["SCRIPT", "LOAD", "return 'loaded'"],
        ["EVALSHA", "e1b9ba7f7a2b4d4fa11e69c3a4d9e8bd2bcd4f5a", "0"],
        ["EVALSHA", "abc", "0"], ["EVALSHA_RO", "ABCD", "0"],
        ["SCRIPT", "EXISTS", "e1b9ba7f7a2b4d4fa11e69c3a4d9e8bd2bcd4f5a", "nope"],
        E("return 'via eval'"), ["EVALSHA", "9f9a1b0ab4c1e6bd0c5c2cc2d0ab2a8e6bde9e37", "0"],
    ],
    "script_cmds": [
        ["SCRIPT", "LOAD", "return 1"],
        ["SCRIPT", "EXISTS", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db",
         "E0E1F9FABFC9D4800C877A703B823AC0578FF8DB", "x"],
        ["EVALSHA", "E0E1F9FABFC9D4800C877A703B823AC0578FF8DB", "0"],
        ["EVALSHA_RO", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"],
        ["SCRIPT", "LOAD", "return x("], ["SCRIPT", "LOAD", "#!lua flags=foo\nreturn 1"],
        ["SCRIPT", "FLUSH"],
        ["SCRIPT", "EXISTS", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db"],
        ["SCRIPT", "FLUSH", "ASYNC"], ["SCRIPT", "FLUSH", "SYNC"], ["SCRIPT", "FLUSH", "foo"],
        ["SCRIPT", "FLUSH", "a", "b"], ["SCRIPT", "EXISTS"], ["SCRIPT", "KILL"],
        ["SCRIPT", "DEBUG", "foo"], ["SCRIPT", "DEBUG", "no"], ["SCRIPT", "HELP"],
        ["SCRIPT", "FOO"], ["SCRIPT"],
    ],
    "select_inside": [
        E("redis.call('select', 1) return redis.call('set','dbk','1')"),
        ["GET", "dbk"], ["SELECT", "1"], ["GET", "dbk"],
        E("return redis.call('get','dbk')"), ["SELECT", "0"],
    ],
    "blocking_inside": [
        E("return redis.call('blpop','nolist',0)"),
        E("redis.call('rpush','l','a') return redis.call('blpop','l',0)"),
    ],
    "multi_exec_eval": [
        ["MULTI"], E("return redis.call('incr','n')"), E("return redis.call('incr','n')"),
        ["EXEC"], ["GET", "n"],
    ],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_scripting(diff, name):
    diff(CASES[name])


RESP3_CASES = ["ret_tables", "ret_bool_nil", "ret_resp3_types", "call_types_resp3",
               "call_types_resp2", "ret_status_error", "errors_pcall"]


@pytest.mark.parametrize("name", RESP3_CASES)
def test_scripting_resp3(diff, name):
    diff.resp3(CASES[name])


def test_math_random_stream_from_start():
    """Unseeded math.random: one stream per server from start-up, the same
    numbers as redis-server 7.0 (not reseeded before each EVAL)."""
    k = ServerProcess("keel-rand", keel_argv).start()
    o = ServerProcess("redis-rand", oracle_argv).start()
    try:
        seq = [E("return {math.random(100), math.random(100), math.random(1, 1000)}"),
               E("return math.random() * 1000000"),
               E("return {math.random(100), math.random(100)}")]
        Differ(k.port, o.port)(seq)
    finally:
        for s in (k, o):
            s.stop()
            s.cleanup()


def test_register_script(r):
    """redis-py's register_script (EVALSHA, falling back to EVAL on NOSCRIPT)."""
    incr_by = r.register_script("return redis.call('INCRBY', KEYS[1], ARGV[1])")
    assert incr_by(keys=["counter"], args=[5]) == 5
    assert incr_by(keys=["counter"], args=[2]) == 7
    r.script_flush()
    assert incr_by(keys=["counter"], args=[1]) == 8
    assert r.script_exists(incr_by.sha) == [True]


def test_script_writes_are_events(keel, oracle):
    """Keyspace notifications see a script's writes as the commands it ran."""
    seq = [E("redis.call('set','a','1') redis.call('lpush','l','x') redis.call('del','a')")]
    assert key_events(keel.port, seq) == key_events(oracle.port, seq)


def test_script_write_breaks_watch(keel):
    with RawConn(keel.port) as w, RawConn(keel.port) as s:
        w.call("FLUSHALL")
        assert w.call("WATCH", "wk") == b"+OK\r\n"
        assert s.call("EVAL", "return redis.call('set', KEYS[1], 'x')", "1", "wk") == b"+OK\r\n"
        assert w.call("MULTI") == b"+OK\r\n"
        assert w.call("GET", "wk") == b"+QUEUED\r\n"
        assert w.call("EXEC") == b"*-1\r\n"


def test_getkeys(diff):
    diff([["COMMAND", "GETKEYS", "EVAL", "return 1", "2", "a", "b", "c"],
          ["COMMAND", "GETKEYS", "EVAL", "return 1", "0"],
          ["COMMAND", "GETKEYS", "EVALSHA_RO", "x", "1", "k"],
          ["COMMAND", "GETKEYSANDFLAGS", "EVAL_RO", "return 1", "1", "k", "a"],
          ["COMMAND", "INFO", "EVAL", "EVAL_RO", "SCRIPT|LOAD", "SCRIPT|KILL"], ["COMMAND", "DOCS", "EVAL"]])


def test_tracking_sees_script_reads_and_writes(keel, oracle):
    """As redis-server 7.0: keys a script reads are not remembered for its
    tracking caller; a script's write invalidates other clients' keys."""

    def push_or_none(conn):
        try:
            return conn.read_reply(timeout=0.5)
        except Exception:
            return None

    out = {}
    for name, port in (("keel", keel.port), ("redis", oracle.port)):
        with RawConn(port) as a, RawConn(port) as b:
            a.call("FLUSHALL")
            a.call("HELLO", "3")
            assert a.call("CLIENT", "TRACKING", "ON") == b"+OK\r\n"
            got = [a.call("EVAL", "return redis.call('get', 'tk')", "0")]
            b.call("SET", "tk", "1")
            got.append(push_or_none(a))
            got.append(a.call("GET", "tk2"))
            b.call("EVAL", "return redis.call('set', 'tk2', 'x')", "0")
            got.append(push_or_none(a))
            out[name] = got
    assert out["keel"] == out["redis"]


def test_slowlog_logs_script_commands(diff):
    """The commands a script runs are logged too, from "?:0", before the script."""
    def shape(v):
        return [[e[3], e[4] if e[4] == b"?:0" else "a client"] for e in v] \
            if isinstance(v, list) else v
    from harness import Parsed
    diff([["CONFIG", "SET", "slowlog-log-slower-than", "0"], ["SLOWLOG", "RESET"],
          E("redis.call('set','a','b') return 1"),
          Parsed(["SLOWLOG", "GET", "10"], shape),
          ["CONFIG", "SET", "slowlog-log-slower-than", "10000"], ["SLOWLOG", "RESET"]])


def test_error_stats_count_command_errors_once(diff):
    """INFO errorstats counts a command's error inside a script once (not
    again when the script raises or returns it)."""
    def stats(v):
        return sorted(l for l in v.split(b"\r\n") if l.startswith(b"errorstat_"))
    from harness import Parsed
    diff([["CONFIG", "RESETSTAT"], ["SET", "s", "abc"],
          E("return redis.call('incr','s')"), E("return redis.pcall('incr','s')"),
          E("error('x')"), E("return {err='MY x'}"), E("return redis.call('nocmd')"),
          Parsed(["INFO", "errorstats"], stats)])


def test_info_memory_scripting_fields(diff):
    """INFO memory has Redis 7.0's scripting lines; the counts agree."""
    from harness import Parsed
    names = [b"used_memory_lua", b"used_memory_vm_eval", b"used_memory_lua_human",
             b"used_memory_scripts_eval", b"number_of_cached_scripts", b"number_of_functions",
             b"number_of_libraries", b"used_memory_vm_functions", b"used_memory_vm_total",
             b"used_memory_vm_total_human", b"used_memory_functions", b"used_memory_scripts",
             b"used_memory_scripts_human"]

    def fields(v):
        lines = [l.split(b":", 1) for l in v.split(b"\r\n") if b":" in l]
        got = [l for l in lines if l[0] in names]
        counts = {l[0]: l[1] for l in got if l[0].startswith(b"number_of")}
        return [l[0] for l in got], counts
    diff([["SCRIPT", "FLUSH"], ["FUNCTION", "FLUSH"], E("return 1"), E("return 2"),
          ["SCRIPT", "LOAD", "return 3"], E("return 1"),
          ["FUNCTION", "LOAD", "#!lua name=im\nredis.register_function('a', function() end)\n"
                               "redis.register_function('b', function() end)"],
          Parsed(["INFO", "memory"], fields), ["SCRIPT", "FLUSH"], ["FUNCTION", "FLUSH"],
          Parsed(["INFO", "memory"], fields)])


def test_self_referencing_table_hits_the_stack_limit(keel, oracle):
    """A table that contains itself: nested arrays down to Lua's stack limit,
    then "reached lua stack limit", byte for byte as Redis (read raw: the
    nesting is too deep for the harness's parser)."""
    import socket
    from harness import encode

    def raw_reply(port, script):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(encode(["EVAL", script, "0"]))
        buf = b""
        s.settimeout(1.0)
        try:
            while not buf.endswith(b"reached lua stack limit\r\n"):
                d = s.recv(1 << 16)
                if not d:
                    break
                buf += d
        except socket.timeout:
            pass
        s.close()
        return buf
    for script in ("local t = {} t[1] = t return t", "local t = {} t.map = t return t"):
        k, r = raw_reply(keel.port, script), raw_reply(oracle.port, script)
        assert k == r, (len(k), len(r), k[-80:], r[-80:])


def test_upstash_allow_key_locking_flag(keel):
    """Upstash's shebang flag (@upstash/ratelimit's scripts) is accepted
    without effect; other unknown flags keep Redis's error, and functions
    do not take it."""
    import redis
    c = redis.Redis(port=keel.port)
    assert c.eval("#!lua flags=allow-key-locking\nreturn redis.call('INCR', KEYS[1])", 1, "lk") == 1
    with pytest.raises(redis.ResponseError, match="Unexpected flag in script shebang: bogus"):
        c.eval("#!lua flags=allow-key-locking,bogus\nreturn 1", 0)
    with pytest.raises(redis.ResponseError, match="unknown flag given"):
        c.function_load("#!lua name=lk\nredis.register_function{function_name='f', "
                        "callback=function() return 1 end, flags={'allow-key-locking'}}", replace=True)


def test_scripts_past_maxmemory(diff, keel, oracle):
    """Past maxmemory (noeviction), as Redis 7.0: a script without a shebang
    runs until its first DENYOOM command, which fails (not after a write);
    a flagged script that may write does not start unless allow-oom;
    no-writes and allow-oom scripts run; FCALL follows its flags."""
    import redis
    lib = ("#!lua name=oomlib\n"
           "redis.register_function('w', function(k) return redis.call('SET', k[1], 'v') end)\n"
           "redis.register_function{function_name='wo', flags={'allow-oom'}, "
           "callback=function(k) return redis.call('SET', k[1], 'v') end}\n"
           "redis.register_function{function_name='r', flags={'no-writes'}, "
           "callback=function(k) return redis.call('GET', k[1]) end}")
    for srv in (keel, oracle):
        c = redis.Redis(port=srv.port)
        c.function_load(lib, replace=True)
        c.config_set("maxmemory-policy", "noeviction")
    try:
        diff([
            ["SET", "k", "1"],
            ["CONFIG", "SET", "maxmemory", "1"],
            E("return redis.call('GET', KEYS[1])", "k"),
            E("return redis.call('SET', KEYS[1], 'x')", "k"),
            E("return redis.pcall('SET', KEYS[1], 'x')", "k"),
            E("redis.call('DEL', KEYS[1]); return redis.call('SET', KEYS[1], 'y')", "k"),
            E("#!lua\nreturn 1"),
            E("#!lua flags=no-writes\nreturn redis.call('GET', KEYS[1])", "k"),
            E("#!lua flags=allow-oom\nreturn redis.call('SET', KEYS[1], 'z')", "k"),
            ["FCALL", "w", "1", "k"], ["FCALL", "wo", "1", "k"], ["FCALL_RO", "r", "1", "k"],
            ["CONFIG", "SET", "maxmemory", "0"],
            ["GET", "k"],
        ])
    finally:
        for srv in (keel, oracle):
            c = redis.Redis(port=srv.port)
            c.config_set("maxmemory", 0)
            c.function_delete("oomlib")


@pytest.mark.parametrize("kind", ["keel", "redis"])
def test_client_pause_write_judges_scripts_by_their_flags(keel, oracle, kind):
    """Under CLIENT PAUSE WRITE, as Redis 7.0's getCommandFlags: EVAL/EVALSHA/
    FCALL of a no-writes script run at once; a script that may write (a
    shebang without no-writes, or none: EVAL's compatible mode) waits."""
    import redis
    srv = keel if kind == "keel" else oracle
    admin = redis.Redis(port=srv.port)
    admin.function_load("#!lua name=plib\nredis.register_function{function_name='pr', "
                        "flags={'no-writes'}, callback=function() return 'r' end}\n"
                        "redis.register_function('pw', function() return 'w' end)", replace=True)
    ro = "#!lua flags=no-writes\nreturn 'ro'"
    sha = admin.script_load(ro)
    c = redis.Redis(port=srv.port, socket_timeout=0.5)
    admin.execute_command("CLIENT", "PAUSE", "3000", "WRITE")
    try:
        assert c.eval(ro, 0) == b"ro"
        assert c.evalsha(sha, 0) == b"ro"
        assert c.fcall("pr", 0) == b"r"
        for call in (lambda: c.eval("#!lua\nreturn 1", 0), lambda: c.eval("return 1", 0),
                     lambda: c.fcall("pw", 0)):
            with pytest.raises(redis.TimeoutError):
                call()
            c = redis.Redis(port=srv.port, socket_timeout=0.5)
    finally:
        admin.execute_command("CLIENT", "UNPAUSE")
        admin.function_delete("plib")


def test_scripts_run_as_their_callers_acl_user(keel, oracle):
    """A script's commands are checked against the caller's ACL user (Redis
    7.0's scriptVerifyACL: its error texts, an ACL LOG entry with context
    lua); redis.acl_check_cmd answers without running anything."""
    got = {}
    for name, srv in (("keel", keel), ("redis", oracle)):
        with RawConn(srv.port) as admin:
            admin.call("ACL", "SETUSER", "scr", "on", "nopass", "+eval", "+get", "~a*", "&c1")
            admin.call("ACL", "LOG", "RESET")
        with RawConn(srv.port) as c:
            c.call("AUTH", "scr", "x")
            out = [c.call("EVAL", s, "0") for s in (
                "return redis.call('set','a','1')",
                "return redis.call('get','b')",
                "return redis.pcall('get','b')",
                "return redis.call('publish','c2','m')",
                "return {redis.acl_check_cmd('get','a'), redis.acl_check_cmd('get','b'),"
                " redis.acl_check_cmd('set','a','1'), redis.acl_check_cmd('get')}",
                "return redis.acl_check_cmd('nosuch')",
                "return redis.acl_check_cmd()",
                "return redis.call('get','a')",
            )]
        with RawConn(srv.port) as admin:
            log = parse_one(admin.call("ACL", "LOG"))[0]
            admin.call("ACL", "DELUSER", "scr")
        fields = [dict(zip(e[0::2], e[1::2])) for e in log]
        out.append([(f[b"reason"], f[b"context"], f[b"object"], f[b"username"]) for f in fields])
        got[name] = out
    assert got["keel"] == got["redis"]
    assert b"can't run this command" in got["keel"][0]
