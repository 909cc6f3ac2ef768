"""EXEC while the data loads, differential against redis-server 7.0: a
transaction queued before a replica's load began and EXECed during it is
judged by what it would run, as Redis's processCommand does (the queue's
flags): during an async load (repl-diskless-load swapdb, the same history)
a queue holding a no-async-loading command (BGSAVE) is refused with
"-EXECABORT Transaction discarded because of: LOADING ..." and discarded,
one without runs on the old data; during a plain load (repl-diskless-load
disabled) a queue holding a command not allowed while loading (GET) is
refused the same way, one of loading-allowed commands runs. Replies are
compared byte for byte, Keel replica beside redis-server replica, each of
its own redis-server primary (held in the load by key-load-delay)."""

import pytest

from harness import RawConn, encode
from repl_helpers import cli, stop, wait_for
from test_repl_async_load import DELAY_US, NKEYS, OLDLIB, VALSIZE, force_full_sync, info, start


def queue(c, *cmds):
    c.send(encode(["MULTI"]) + b"".join(encode(x) for x in cmds))
    return c.read_replies(1 + len(cmds))


def scenario(kind, load):
    primary = start("redis", "--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0",
                    "--rdbcompression", "no")
    rep = None
    conns = []
    try:
        p = cli(primary)
        p.execute_command("DEBUG", "POPULATE", NKEYS, "key", VALSIZE)
        p.set("mykey", "old")
        p.execute_command("FUNCTION", "LOAD", OLDLIB)  # force_full_sync replaces it
        rep = start(kind, "--repl-diskless-load", load)
        r = cli(rep)
        r.replicaof("127.0.0.1", primary.port)
        wait_for(lambda: r.info("replication")["master_link_status"] == "up", 60, kind)
        wait_for(lambda: r.get("mykey") == b"old", 10, kind)
        r.config_set("key-load-delay", DELAY_US)
        a, b = RawConn(rep.port, timeout=10), RawConn(rep.port, timeout=10)
        conns += [a, b]
        seen = {}
        if load == "swapdb":
            seen["queued"] = (queue(a, ["GET", "mykey"], ["BGSAVE"]),
                              queue(b, ["GET", "mykey"], ["EXISTS", "key:0"]))
        else:
            seen["queued"] = (queue(a, ["CONFIG", "GET", "maxmemory"], ["GET", "mykey"]),
                              queue(b, ["CONFIG", "GET", "maxmemory"]))
        force_full_sync(p)
        flag = "async_loading" if load == "swapdb" else "loading"
        wait_for(lambda: info(rep.port, "persistence").get(flag) == "1", 60, kind + " " + flag)
        a.send(encode(["EXEC"]))
        b.send(encode(["EXEC"]))
        seen["exec"] = (a.read_reply(), b.read_reply())
        # a's transaction is gone: EXEC again has no MULTI; the link serves
        a.send(encode(["EXEC"]) + encode(["MULTI"]) + encode(["DISCARD"]))
        seen["after"] = a.read_replies(3)
        seen["still_loading"] = info(rep.port, "persistence").get(flag)
        wait_for(lambda: info(rep.port, "persistence").get("loading") == "0" and
                 info(rep.port, "persistence").get("async_loading") == "0", 90, kind + " done")
        wait_for(lambda: r.get("mykey") == b"new", 10, kind)
        return seen
    finally:
        for c in conns + [rep, primary]:
            if isinstance(c, RawConn):
                c.close()
            elif c:
                stop(c)


EXECABORT = b"-EXECABORT Transaction discarded because of: LOADING Redis is loading the " \
            b"dataset in memory\r\n"


@pytest.mark.parametrize("load", ["swapdb", "disabled"])
def test_exec_of_a_queue_refused_while_loading(load):
    seen = {kind: scenario(kind, load) for kind in ("keel", "redis")}
    assert seen["keel"] == seen["redis"], seen
    s = seen["keel"]
    assert s["still_loading"] == "1"  # the EXECs ran during the load
    assert s["exec"][0] == EXECABORT
    assert s["after"][0] == b"-ERR EXEC without MULTI\r\n"
    if load == "swapdb":
        assert s["exec"][1] == b"*2\r\n$3\r\nold\r\n:1\r\n"
    else:
        assert s["exec"][1] == b"*1\r\n*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n"
