"""Edge cases of scripting and server behaviour that Redis's own test suite
exercises (scripting, functions, MULTI, pub/sub, tracking, ACL, introspection),
each written afresh as a command sequence and compared byte for byte with
redis-server 7.0. Add a case = add a line."""

import pytest

from harness import cmds

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
    "multi_xread_block": ["XADD s 1-1 a b", "MULTI", "XREAD BLOCK 0 STREAMS s $",
                          "XREAD BLOCK 0 STREAMS s 0", "EXEC"],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_redis_suite_server(diff, name):
    diff(cmds(*CASES[name]))
