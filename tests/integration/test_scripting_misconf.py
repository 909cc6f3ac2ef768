"""A script's first write is refused with MISCONF while snapshots fail,
as redis-server 7.0 refuses it (inside the script, raised by redis.call)."""

import os
import time

import harness
from test_rdb import servers, tmpdir_rdb  # noqa: F401 (fixtures)


def test_script_write_refused_on_misconf(tmpdir_rdb, servers):  # noqa: F811
    replies = {}
    for kind in ("redis", "keel"):
        gone = os.path.join(tmpdir_rdb, kind)
        os.makedirs(gone)
        s = servers(kind, gone, ["--save", "3600 1"])
        c = s.client()
        os.rmdir(gone)  # no temp file can be created: BGSAVE fails
        c.set("k", "v")
        c.execute_command("BGSAVE")
        deadline = time.time() + 10
        while c.info("persistence")["rdb_bgsave_in_progress"] and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        got = []
        for cmd in (["EVAL", "return redis.call('set', 'a', '1')", "0"],
                    ["EVAL", "return redis.pcall('set', 'a', '1')", "0"],
                    ["EVAL", "return redis.call('get', 'k')", "0"],
                    ["EVAL", "#!lua flags=no-writes\nreturn redis.call('get', 'k')", "0"],
                    ["EVAL", "#!lua\nreturn redis.call('get', 'k')", "0"]):
            got.append(harness.raw(s.port, harness.encode(cmd)))
        c.config_set("save", "")
        got.append(harness.raw(s.port, harness.encode(
            ["EVAL", "return redis.call('set', 'a', '1')", "0"])))
        replies[kind] = got
        s.stop()
    assert replies["keel"] == replies["redis"]
    assert replies["keel"][0].startswith(b"-MISCONF")
