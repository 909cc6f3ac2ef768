"""Today's Webdis (0.1.23) HTTP features that Debian's 0.1.9 lacks, so
checked against the behaviour its source documents rather than a running
webdis: INFO as an object of fields in JSON, ?filename= as
Content-Disposition, .bin as binary/octet-stream, /crossdomain.xml,
SUBSCRIBE streamed on .raw as RESP chunks, default_root
(http-default-root)."""

from http_servers import *  # noqa: F401,F403 (fixtures and helpers)
from test_http_helpers import HttpConn

_sr, kroot = server_fixtures("kroot", ["--http-default-root", "/GET/index.html"])


def test_info_as_object(kh):
    r = get(kh.http, "/INFO")
    body = J(r)
    info = body["INFO"]
    assert isinstance(info, dict)
    text = kh.resp("INFO").decode()
    want = {}
    for line in text.split("\r\n"):
        if line and not line.startswith("#") and ":" in line:
            k, _, v = line.partition(":")
            want[k] = v
    # Volatile fields aside, the same fields and values.
    for k in ("uptime_in_seconds", "uptime_in_days", "used_memory", "used_memory_human",
              "used_memory_rss", "used_memory_rss_human", "used_memory_peak",
              "used_memory_peak_human", "total_connections_received",
              "total_commands_processed", "instantaneous_ops_per_sec", "connected_clients",
              "used_cpu_sys", "used_cpu_user", "used_cpu_sys_children", "used_cpu_user_children",
              "total_net_input_bytes", "total_net_output_bytes", "lru_clock", "server_time_usec",
              "instantaneous_input_kbps", "instantaneous_output_kbps", "used_memory_dataset",
              "used_memory_overhead", "used_memory_startup", "allocator_allocated",
              "allocator_active", "allocator_resident", "mem_fragmentation_ratio",
              "mem_fragmentation_bytes", "rss_overhead_bytes", "allocator_frag_bytes",
              "allocator_rss_bytes", "used_memory_dataset_perc", "used_memory_peak_perc",
              "total_reads_processed", "total_writes_processed", "errorstat_ERR",
              "total_error_replies", "client_recent_max_output_buffer",
              "client_recent_max_input_buffer", "keyspace_misses", "keyspace_hits"):
        info.pop(k, None)
        want.pop(k, None)
    assert set(info) == set(want)
    assert info["redis_version"] == want["redis_version"]
    assert all(isinstance(v, str) for v in info.values())
    assert not any(k.startswith("#") for k in info)
    # A section, and the other formats keep the text.
    srv = J(get(kh.http, "/INFO/server"))["INFO"]
    assert "redis_version" in srv and "used_memory" not in srv
    assert get(kh.http, "/INFO.txt").body.startswith(b"# Server\r\n")
    # In a batch INFO stays a string (the object is the single-command form).
    r = post_json(kh.http, [["INFO", "server"], ["PING"]])
    assert isinstance(J(r)[0]["INFO"], str)


def test_filename_content_disposition(kh):
    kh.resp("SET", "doc", "hello")
    r = get(kh.http, "/GET/doc.txt?filename=report.txt")
    assert r.status == 200 and r.body == b"hello"
    assert r.header("content-disposition") == 'attachment; filename="report.txt"'
    r = get(kh.http, "/GET/doc?filename=a%20b.json")
    assert r.header("content-disposition") == 'attachment; filename="a b.json"'
    assert get(kh.http, "/GET/doc").header("content-disposition") is None
    for bad in ("a%22b", "x%0D%0AInjected:%201", ""):
        r = get(kh.http, "/GET/doc?filename=" + bad)
        if bad:
            assert_json_error(r, 400)
        else:
            assert r.status == 200 and r.header("content-disposition") is None


def test_bin_type(kh):
    kh.resp("SET", "b", b"\x00\xff")
    r = get(kh.http, "/GET/b.bin")
    assert r.status == 200 and r.body == b"\x00\xff"
    assert ctype(r) == "binary/octet-stream"


def test_crossdomain_xml(kh):
    r = get(kh.http, "/crossdomain.xml")
    assert r.status == 200 and ctype(r) == "application/xml"
    assert b"<cross-domain-policy>" in r.body and b'<allow-access-from domain="*" />' in r.body


def test_default_root(kroot, kh):
    kroot.resp("SET", "index", "<h1>hi</h1>")  # .html is the format, as Webdis reads it
    r = get(kroot.http, "/")
    assert r.status == 200 and r.body == b"<h1>hi</h1>" and ctype(r) == "text/html"
    assert J(get(kroot.http, "/PING")) == {"PING": [True, "PONG"]}
    # Without it, "/" is an empty command, as before.
    assert get(kh.http, "/").status == 403


def test_subscribe_raw_stream(kh):
    c = HttpConn(kh.http)
    c.sock.sendall(build_request("GET", "/SUBSCRIBE/rch.raw"))
    _wait_numsub(kh, "rch", 1)
    kh.resp("PUBLISH", "rch", "hello")
    buf = b""
    deadline = time.monotonic() + 5
    want = (b"*3\r\n$9\r\nsubscribe\r\n$3\r\nrch\r\n:1\r\n",
            b"*3\r\n$7\r\nmessage\r\n$3\r\nrch\r\n$5\r\nhello\r\n")
    while time.monotonic() < deadline and b"hello\r\n\r\n" not in buf:
        c.sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            d = c.sock.recv(65536)
        except socket.timeout:
            break
        if not d:
            break
        buf += d
    c.close()
    head, _, body = buf.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ")
    assert b"Transfer-Encoding: chunked" in head and b"Content-Type: binary/octet-stream" in head
    # One chunk per message: its RESP.
    chunks = []
    while body:
        size, _, rest = body.partition(b"\r\n")
        n = int(size, 16)
        chunks.append(rest[:n])
        body = rest[n + 2:]
    assert tuple(chunks) == want


# --------------------------------------------------------------------------
# .msg: MessagePack (python3-msgpack decodes what Keel packs)

def test_msgpack_format(kh):
    msgpack = pytest.importorskip("msgpack")
    kh.resp("SET", "k", "v")
    kh.resp("SET", "bin", b"\xff\x00")
    kh.resp("RPUSH", "l", "a", "b", "c")
    kh.resp("HSET", "h", "f1", "1", "f2", "two")
    kh.resp("ZADD", "z", "1.5", "m")

    def mp(path):
        r = get(kh.http, path)
        assert r.status == 200 and ctype(r) == "application/x-msgpack", r
        return msgpack.unpackb(r.body, raw=True, strict_map_key=False)

    assert mp("/GET/k.msg") == {b"GET": b"v"}
    assert mp("/GET/bin.msg") == {b"GET": b"\xff\x00"}
    assert mp("/GET/nokey.msg") == {b"GET": None}
    assert mp("/SET/k/w.msg") == {b"SET": [True, b"OK"]}
    assert mp("/INCR/k.msg") == {b"INCR": [False, b"ERR value is not an integer or out of range"]}
    for v in (0, 127, 128, 255, 256, 65535, 65536, 2**32, -1, -32, -33, -128, -129, -32768,
              -32769, -2**31, -2**31 - 1, 2**63 - 1, -2**63):
        kh.resp("SET", "n", str(v))
        assert mp("/INCRBY/n/0.msg") == {b"INCRBY": v}, v
    assert mp("/LRANGE/l/0/-1.msg") == {b"LRANGE": [b"a", b"b", b"c"]}
    assert mp("/HGETALL/h.msg") == {b"HGETALL": {b"f1": b"1", b"f2": b"two"}}
    assert mp("/ZSCORE/z/m.msg") == {b"ZSCORE": b"1.5"}
    assert mp("/GetRange/k/0/0.msg") == {b"GetRange": b"w"}
    info = mp("/INFO/server.msg")[b"INFO"]
    assert isinstance(info, dict) and b"redis_version" in info
    big = "x" * 70000
    kh.resp("SET", "big", big)
    assert mp("/GET/big.msg") == {b"GET": big.encode()}
    kh.resp("DEL", "l")
    for i in range(20):
        kh.resp("RPUSH", "l", str(i))
    assert mp("/LRANGE/l/0/-1.msg") == {b"LRANGE": [str(i).encode() for i in range(20)]}
    # A batch, and a deferred length (SCAN's keys).
    r = post_json(kh.http, [["GET", "k"], ["PING"]], path="/.msg")
    assert msgpack.unpackb(r.body, raw=True) == [{b"GET": b"w"}, {b"PING": [True, b"PONG"]}]
    scan = mp("/SCAN/0/MATCH/l*/COUNT/100.msg")[b"SCAN"]
    assert scan[0] == b"0" and scan[1] == [b"l"]
