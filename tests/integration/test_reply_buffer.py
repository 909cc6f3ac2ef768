"""Reply buffer resizing (Redis 7.0's clientsCronResizeOutputBuffer): each
client's reply buffer grows when its peak use filled it (to 16 KB at most)
and shrinks when the peak stayed under half (to 1 KB at least), the peak
being reset every DEBUG REPLYBUFFER PEAK-RESET-TIME ms; RESIZING 0 stops
it. CLIENT LIST shows the size (rbs) and peak (rbp); INFO stats counts
reply_buffer_shrinks and reply_buffer_expands. The same scenario runs
against Keel and redis-server 7.0 (with DEBUG enabled) and must see the
same sizes."""
import time

import pytest

import harness
from harness import RawConn, ServerProcess, parse_one


@pytest.fixture(scope="module")
def debug_oracle():
    def argv(port):
        return harness.oracle_argv(port) + ["--enable-debug-command", "yes"]
    srv = ServerProcess("redis-oracle-debug", argv)
    srv.start()
    yield srv
    srv.stop()
    srv.cleanup()


def fields(admin, name):
    listing = parse_one(admin.call("CLIENT", "LIST"))[0].decode()
    for line in listing.splitlines():
        f = dict(kv.split("=", 1) for kv in line.split())
        if f["name"] == name:
            return int(f["rbs"]), int(f["rbp"])
    raise AssertionError("no client " + name)


def stats(admin):
    text = parse_one(admin.call("INFO", "stats"))[0].decode()
    st = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    return int(st["reply_buffer_shrinks"]), int(st["reply_buffer_expands"])


def wait_for(fn, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if fn():
            return True
        time.sleep(0.05)
    return False


def scenario(port):
    out = {}
    admin, tc = RawConn(port), RawConn(port)
    try:
        shrinks0, expands0 = stats(admin)
        assert admin.call("DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "100") == b"+OK\r\n"
        assert tc.call("CLIENT", "SETNAME", "tc") == b"+OK\r\n"
        # idle: the peak is reset, the buffer shrinks to 1 KB at once
        out["idle_shrinks"] = wait_for(lambda: fields(admin, "tc") == (1024, 0))
        admin.call("SET", "bigval", "x" * 32768)
        assert admin.call("DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "never") == b"+OK\r\n"
        # every cron visit after a full buffer doubles it, up to 16 KB
        seen = []
        for _ in range(100):
            assert len(tc.call("GET", "bigval")) > 32768
            rbs, rbp = fields(admin, "tc")
            if not seen or seen[-1] != rbs:
                seen.append(rbs)
            if rbs == 16384:
                break
            time.sleep(0.03)
        out["growth"] = seen
        out["peak_after_big_reply"] = fields(admin, "tc")
        # the peak is never reset: it stays
        time.sleep(0.5)
        out["kept_without_reset"] = fields(admin, "tc")
        # resizing off: nothing moves, even with the peak reset
        assert admin.call("DEBUG", "REPLYBUFFER", "RESIZING", "0") == b"+OK\r\n"
        assert admin.call("DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "100") == b"+OK\r\n"
        time.sleep(0.5)
        out["kept_without_resizing"] = fields(admin, "tc")[0]
        assert admin.call("DEBUG", "REPLYBUFFER", "RESIZING", "1") == b"+OK\r\n"
        out["shrinks_again"] = wait_for(lambda: fields(admin, "tc") == (1024, 0))
        # a 1500-byte reply fills the 1 KB buffer: it grows
        admin.call("SET", "mid", "y" * 1500)
        assert admin.call("DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "never") == b"+OK\r\n"
        tc.call("GET", "mid")
        out["mid_peak"] = fields(admin, "tc")
        out["mid_grows"] = wait_for(lambda: fields(admin, "tc")[0] == 2048)
        shrinks, expands = stats(admin)
        out["counted"] = (shrinks - shrinks0 >= 2, expands - expands0 >= 5)
    finally:
        admin.call("DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "reset")
        admin.call("DEBUG", "REPLYBUFFER", "RESIZING", "1")
        admin.call("DEL", "bigval", "mid")
        admin.close()
        tc.close()
    return out


def test_reply_buffer_resizing_matches_redis(keel, debug_oracle):
    got = {name: scenario(srv.port) for name, srv in (("keel", keel), ("redis", debug_oracle))}
    assert got["keel"] == got["redis"]
    k = got["keel"]
    assert k["idle_shrinks"] and k["shrinks_again"] and k["mid_grows"]
    assert k["growth"] == [1024, 2048, 4096, 8192, 16384]
    assert k["peak_after_big_reply"] == (16384, 16384)
    assert k["kept_without_reset"] == (16384, 16384)
    assert k["kept_without_resizing"] == 16384
    assert k["mid_peak"] == (1024, 1024)
    assert k["counted"] == (True, True)


def test_info_and_resetstat(keel):
    with RawConn(keel.port) as c:
        assert stats(c) is not None
        assert c.call("CONFIG", "RESETSTAT") == b"+OK\r\n"
        assert stats(c) == (0, 0)


def test_big_reply_buffer_goes_back_to_its_size(keel):
    """A 3 MB reply grows the output buffer; once written it is released
    (omem 0), the reply buffer keeps its size."""
    with RawConn(keel.port) as admin, RawConn(keel.port) as c:
        c.call("CLIENT", "SETNAME", "big")
        c.call("SET", "big", "x" * 3000000)
        assert len(c.call("GET", "big")) > 3000000
        listing = parse_one(admin.call("CLIENT", "LIST"))[0].decode()
        line = [x for x in listing.splitlines() if "name=big " in x][0]
        f = dict(kv.split("=", 1) for kv in line.split())
        assert f["omem"] == "0" and f["obl"] == "0" and f["oll"] == "0"
        assert int(f["rbs"]) <= 16384
        c.call("DEL", "big")


@pytest.mark.parametrize("server", ["keel", "oracle"])
def test_reply_past_the_buffer_is_released_once_written(request, server):
    """A reply larger than the reply buffer but under a megabyte (COMMAND
    DOCS, ~240 KB) is released once written, as Redis frees its reply
    list: CLIENT LIST's omem is 0 again and tot-mem is back near the
    buffers' size."""
    srv = request.getfixturevalue(server)
    with RawConn(srv.port) as admin, RawConn(srv.port) as c:
        c.call("CLIENT", "SETNAME", "docs")
        assert len(c.call("COMMAND", "DOCS")) > 100000
        listing = parse_one(admin.call("CLIENT", "LIST"))[0].decode()
        line = [x for x in listing.splitlines() if "name=docs " in x][0]
        f = dict(kv.split("=", 1) for kv in line.split())
        assert f["omem"] == "0", line
        assert int(f["tot-mem"]) < 64 * 1024, line


@pytest.mark.parametrize("server", ["keel", "oracle"])
def test_big_reply_does_not_count_against_maxmemory_once_written(request, server):
    """With maxmemory 100 KB above what the server uses, a client that got
    a 240 KB reply may still write (Redis: OK; Keel answered -OOM while it
    kept the written reply's buffer)."""
    srv = request.getfixturevalue(server)
    with RawConn(srv.port) as c:
        c.call("FLUSHALL")
        info = parse_one(c.call("INFO", "memory"))[0].decode()
        used = int([x for x in info.splitlines() if x.startswith("used_memory:")][0].split(":")[1])
        try:
            assert c.call("CONFIG", "SET", "maxmemory", str(used + 100000)) == b"+OK\r\n"
            assert len(c.call("COMMAND", "DOCS")) > 100000
            assert c.call("SET", "after-docs", "v" * 100) == b"+OK\r\n"
        finally:
            c.call("CONFIG", "SET", "maxmemory", "0")
            c.call("DEL", "after-docs")
