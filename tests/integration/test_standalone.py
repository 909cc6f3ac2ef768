"""The cluster and module commands, answered as a standalone Redis 7.0
server with no modules answers them (core/commands/cmd_standalone.c).

Cluster clients (redis-py's RedisCluster, ioredis's Cluster) probe with
CLUSTER SLOTS/SHARDS/INFO and stop on redis-server's "cluster support
disabled" error; tools that look for modules send MODULE LIST. Before these
commands existed Keel answered "unknown command". Compared byte for byte
with redis-server (started without cluster-enabled); MODULE LOAD/LOADEX/
UNLOAD are not registered (Keel loads no Redis modules) and differ on
purpose, as does MODULE HELP, which lists only what Keel has.
"""

import subprocess

import pytest

import harness
from harness import RawConn, cmds, parse_one

CLUSTER_SUBS = [
    "ADDSLOTS 1", "ADDSLOTSRANGE 1 2", "BUMPEPOCH", "COUNT-FAILURE-REPORTS x",
    "COUNTKEYSINSLOT 1", "DELSLOTS 1", "DELSLOTSRANGE 1 2", "FAILOVER", "FAILOVER FORCE",
    "FLUSHSLOTS", "FORGET x", "GETKEYSINSLOT 1 1", "INFO", "KEYSLOT foo", "LINKS",
    "MEET 127.0.0.1 7000", "MYID", "NODES", "REPLICAS x", "REPLICATE x", "RESET", "RESET HARD",
    "SAVECONFIG", "SET-CONFIG-EPOCH 1", "SETSLOT 1 STABLE", "SETSLOT x y z", "SHARDS",
    "SLAVES x", "SLOTS", "HELP",
]

CASES = {
    "cluster_subcommands": ["CLUSTER " + s for s in CLUSTER_SUBS],
    "cluster_lowercase_and_garbage_args": ["cluster info", "cluster keyslot", "cluster slots x",
                                           "CLUSTER KEYSLOT a b", "CLUSTER", "CLUSTER NOSUCH",
                                           "cluster nosuch a b", "CLUSTER ''"],
    "readonly_readwrite_asking": ["READONLY", "READWRITE", "ASKING", "READONLY x",
                                  "READWRITE x", "ASKING x", "readonly", "SET k v", "GET k"],
    "module": ["MODULE LIST", "module list", "MODULE LIST x", "MODULE", "MODULE NOSUCH",
               "MODULE HELP x"],
    "in_multi": ["MULTI", "CLUSTER INFO", "READONLY", "MODULE LIST", "SET k v", "EXEC",
                 "GET k"],
    "in_script": ["EVAL \"return redis.pcall('CLUSTER','INFO')\" 0",
                  "EVAL \"return redis.pcall('READONLY')\" 0",
                  "EVAL \"return redis.pcall('MODULE','LIST')\" 0"],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_as_redis_standalone(diff, name):
    diff(cmds(*CASES[name]))


@pytest.mark.parametrize("name", ["cluster_subcommands", "module", "readonly_readwrite_asking"])
def test_as_redis_standalone_resp3(diff, name):
    diff.resp3(cmds(*CASES[name]))


def test_command_info_and_docs_as_redis(diff):
    """COMMAND INFO of single subcommands (the containers' are compared, with
    their subcommands sorted, in test_diff_server.py) and COMMAND GETKEYS."""
    diff(cmds("COMMAND INFO cluster|slots cluster|setslot cluster|help module|list",
              "COMMAND GETKEYS CLUSTER INFO", "COMMAND GETKEYS READONLY"))


def test_module_help_lists_what_keel_has(keel):
    with RawConn(keel.port) as c:
        lines = parse_one(c.call("MODULE", "HELP"))[0]
        assert lines == [b"MODULE <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                         b"LIST", b"    Return a list of loaded modules.",
                         b"HELP", b"    Prints this help."]
        for sub in ("LOAD", "LOADEX", "UNLOAD"):
            assert c.call("MODULE", sub, "/x.so") == (
                "-ERR unknown subcommand '%s'. Try MODULE HELP.\r\n" % sub).encode()


def test_cluster_clients_see_a_standalone_server(keel):
    """redis-py's RedisCluster recognises Redis's "cluster support disabled"
    and says what is wrong (on "unknown command" it failed otherwise)."""
    import redis
    from redis.cluster import RedisCluster
    with pytest.raises(redis.exceptions.RedisClusterException) as e:
        RedisCluster(host="127.0.0.1", port=keel.port, socket_timeout=5)
    assert "Cluster mode is not enabled on this node" in str(e.value)


def test_cluster_enabled_yes_is_refused(tmp_path):
    """A node that silently stayed standalone under cluster-enabled yes would
    look healthy to whoever meant to build a cluster: Keel refuses to start."""
    conf = tmp_path / "c.conf"
    conf.write_text("cluster-enabled yes\n")
    for args in (["--cluster-enabled", "yes"], [str(conf)]):
        argv = [harness.keel_bin()] + args + ["--port", "0", "--http-port", "0"]
        p = subprocess.run(argv, capture_output=True, text=True, timeout=20, cwd=tmp_path)
        assert p.returncode != 0, p.stderr
        assert "'cluster-enabled': Keel does not run Redis Cluster" in p.stderr


def test_cluster_enabled_no_is_accepted(keel):
    with RawConn(keel.port) as c:
        assert parse_one(c.call("CONFIG", "GET", "cluster-enabled"))[0] == [
            b"cluster-enabled", b"no"]
