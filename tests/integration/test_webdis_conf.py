"""webdis.json as Keel's configuration file (adapters/web/webdis_conf.h):
a Webdis user starts Keel with the file they have and changes nothing
else: http_port/http_host, redis_port (Keel's RESP port), database,
default_root, acl rules, websockets, http_max_request_size; unknown keys
warned about; CONFIG REWRITE refuses to write such a file."""

import base64
import json
import os

import pytest

import harness
from harness import ServerProcess, free_port, RawConn, encode, parse_one
from test_http_helpers import get, post_json, request

HOST = "127.0.0.1"


def start(conf_extra):
    """Keel started as `keel <dir>/webdis.json`; returns (server, http port)."""
    state = {}

    def argv(port):
        state["http"] = free_port()
        conf = {"redis_host": "127.0.0.1", "redis_port": port, "http_host": "127.0.0.1",
                "http_port": state["http"], "threads": 4, "pool_size_per_thread": 2,
                "daemonize": False, "verbosity": 4}
        conf.update(conf_extra)
        path = os.path.join(srv.workdir, "webdis.json")
        with open(path, "w") as f:
            json.dump(conf, f)
        return [harness.keel_bin(), path]

    srv = ServerProcess("keel-webdis-json", argv)
    srv.start()
    return srv, state["http"]


def resp(port, *cmd):
    with RawConn(port) as c:
        c.send(encode(cmd))
        return parse_one(c.read_reply())[0]


@pytest.fixture(scope="module")
def keel():
    if harness.is_redis_server(harness.keel_bin()):
        pytest.skip("Keel only")
    srv, http = start({
        "database": 3, "default_root": "/GET/index.html", "websockets": False,
        "http_max_request_size": 2048, "a_key_webdis_does_not_know": 1,
        "acl": [
            {"disabled": ["DEBUG", "FLUSHDB", "FLUSHALL", "KEYS", "HDEL"]},
            {"enabled": ["KEYS"]},
            {"http_basic_auth": "user:password", "enabled": ["DEBUG", "HDEL"]},
            {"ip": "192.168.10.0/24", "disabled": ["SET"]},
            {"ip": "127.0.0.0/8", "disabled": ["APPEND"]},
        ]})
    srv.http = http
    yield srv
    problem = srv.stop()
    srv.cleanup()
    assert not problem, problem


def test_ports_and_database(keel):
    assert resp(keel.port, "PING") == b"PONG"
    r = post_json(keel.http, ["HSET", "h", "f", "v"])
    assert r.status == 200 and r.json() == {"HSET": 1}
    assert resp(keel.port, "EXISTS", "h") == 0          # RESP clients: db 0
    assert resp(keel.port, "SELECT", "3") == b"OK"
    with RawConn(keel.port) as c:
        c.send(encode(["SELECT", "3"]) + encode(["HGET", "h", "f"]))
        assert c.read_replies(2)[1] == b"$1\r\nv\r\n"
    # /7/ still picks another database, for that request
    assert get(keel.http, "/7/HSET/x/f/1").json() == {"HSET": 1}
    assert get(keel.http, "/EXISTS/x").json() == {"EXISTS": 0}


def test_default_root(keel):
    with RawConn(keel.port) as c:
        c.send(encode(["SELECT", "3"]) + encode(["SET", "index", "<p>home</p>"]))
        c.read_replies(2)
    r = get(keel.http, "/")
    assert r.status == 200 and r.body == b"<p>home</p>"


def test_acl(keel):
    """Webdis's rules per client: later rules over earlier, by Basic auth
    and IPv4 network; Keel's default refusals give way to the file's."""
    for cmd in ("FLUSHDB", "FLUSHALL", "DEBUG/SLEEP/0", "HDEL/h/f", "APPEND/k/x"):
        r = get(keel.http, "/" + cmd)
        assert r.status == 403, (cmd, r)
    # KEYS: disabled, then enabled by a rule for everyone; CONFIG (refused
    # by Keel's default list) is allowed since the file does not disable it.
    assert get(keel.http, "/KEYS/nomatch*").json() == {"KEYS": []}
    assert get(keel.http, "/CONFIG/GET/hz").status == 200
    # SET: disabled only for 192.168.10.0/24.
    assert get(keel.http, "/SET/k/v").json() == {"SET": [True, "OK"]}
    # The Basic-auth rule enables HDEL and DEBUG for that user only.
    good = "Basic " + base64.b64encode(b"user:password").decode()
    bad = "Basic " + base64.b64encode(b"user:wrong").decode()
    assert get(keel.http, "/HDEL/nohash/f", {"Authorization": good}).json() == {"HDEL": 0}
    assert get(keel.http, "/HDEL/h/f", {"Authorization": bad}).status == 403
    # Inside a batch: that command's error entry.
    r = post_json(keel.http, [["GET", "k"], ["APPEND", "k", "x"]])
    assert r.json()[1]["APPEND"][0] is False


def test_acl_over_websocket():
    """The same rules for WebSocket commands, with the upgrade's Authorization."""
    import websocket
    good = "Basic " + base64.b64encode(b"user:password").decode()
    srv, http = start({"websockets": True, "acl": [
        {"disabled": ["HDEL"]}, {"http_basic_auth": "user:password", "enabled": ["HDEL"]}]})
    try:
        for hdr, want in (([], {"error": True, "message": "Forbidden", "http_status": 403}),
                          (["Authorization: " + good], {"HDEL": 0})):
            ws = websocket.create_connection("ws://%s:%d/.json" % (HOST, http), timeout=5,
                                             header=hdr)
            ws.send(json.dumps(["HDEL", "nohash", "f"]))
            assert json.loads(ws.recv()) == want
            ws.close()
        ws = websocket.create_connection("ws://%s:%d/.raw" % (HOST, http), timeout=5)
        ws.send(encode(["HDEL", "nohash", "f"]).decode())
        assert ws.recv() == "-ERR Forbidden\r\n"
        ws.close()
    finally:
        problem = srv.stop()
        srv.cleanup()
    assert not problem, problem


def test_websockets_off_and_body_limit(keel):
    r = request(keel.http, "GET", "/.json", {
        "Upgrade": "websocket", "Connection": "Upgrade",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13"})
    assert r.status == 404
    r = request(keel.http, "PUT", "/HSET/h/big", {}, b"x" * 4096)
    assert r.status == 413


def test_warnings_and_rewrite(keel):
    err = open(keel.stderr_path, "rb").read().decode("utf-8", "replace")
    assert "'a_key_webdis_does_not_know' is an unknown key: ignored" in err
    assert "'threads' configures what Keel does not have" in err
    r = resp(keel.port, "CONFIG", "REWRITE")
    assert isinstance(r, harness.Err) and "webdis.json" in repr(r)
    assert resp(keel.port, "CONFIG", "GET", "http-database") == [b"http-database", b"3"]
    assert resp(keel.port, "CONFIG", "GET", "loglevel") == [b"loglevel", b"notice"]


def test_bad_file_refused(tmp_path):
    p = tmp_path / "webdis.json"
    p.write_text('{"http_port": "not a port"}')
    import subprocess
    out = subprocess.run([harness.keel_bin(), str(p)], capture_output=True, timeout=10)
    assert out.returncode != 0 and b"http_port" in out.stderr
    p.write_text('{"http_port": ')
    out = subprocess.run([harness.keel_bin(), str(p)], capture_output=True, timeout=10)
    assert out.returncode != 0 and b"not a webdis.json object" in out.stderr
