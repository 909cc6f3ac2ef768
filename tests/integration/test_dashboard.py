"""The dashboard's server side (issue 17): the files of web/dashboard/
compiled into the binary and served at /_dashboard, /_dashboard/<file>,
/_keel.js and, for a browser (Accept: text/html), at / unless
http-default-root gives / a Webdis URL; their Content-Security-Policy;
http-assets-dir; served before the password check; the {"stats":1}
WebSocket push. The page itself is tested in headless Chromium
(tests/browser/dashboard.test.mjs)."""
import json
import os
import socket
import time
import urllib.error
import urllib.request

import pytest
import websocket

from harness import RawConn, encode, parse_one
from test_http_helpers import check_health, keel_http_fixture

HOST = "127.0.0.1"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WEB = os.path.join(ROOT, "web", "dashboard")


@pytest.fixture(scope="module")
def srv():
    yield from keel_http_fixture(name="keel-dashboard")


@pytest.fixture(autouse=True)
def _health(srv):
    srv.ensure_running()
    srv.flushall()
    yield
    srv.resp("CONFIG", "SET", "http-default-root", "")
    srv.resp("CONFIG", "SET", "http-assets-dir", "")
    srv.resp("CONFIG", "SET", "requirepass", "")
    check_health(srv)


def get(srv, path, headers=None):
    req = urllib.request.Request("http://%s:%d%s" % (HOST, srv.http, path), headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def raw_get(srv, path):
    """A request line sent as is (no client-side path normalisation)."""
    s = socket.create_connection((HOST, srv.http), timeout=5)
    s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path).encode())
    b = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        b += d
    s.close()
    return int(b.split(b" ", 2)[1])


@pytest.mark.parametrize("path,name,ctype", [
    ("/_dashboard", "index.html", "text/html"),
    ("/_dashboard/", "index.html", "text/html"),
    ("/_dashboard/app.js", "app.js", "text/javascript"),
    ("/_dashboard/keys.js", "keys.js", "text/javascript"),
    ("/_dashboard/panels.js", "panels.js", "text/javascript"),
    ("/_dashboard/style.css", "style.css", "text/css"),
    ("/_keel.js", "keel.js", "text/javascript"),
])
def test_assets_are_the_files_byte_for_byte(srv, path, name, ctype):
    st, h, body = get(srv, path)
    assert st == 200
    assert h["Content-Type"].startswith(ctype)
    with open(os.path.join(WEB, name), "rb") as f:
        assert body == f.read()
    csp = h["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "default-src 'self'" in csp
    assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert h["X-Content-Type-Options"] == "nosniff"


def test_unknown_and_traversal_paths_are_404(srv):
    assert get(srv, "/_dashboard/nope.js")[0] == 404
    assert raw_get(srv, "/_dashboard/../keel.js") == 404
    assert raw_get(srv, "/_dashboard/%2e%2e/x") == 404
    assert raw_get(srv, "/_dashboard//app.js") == 404


def test_root_is_the_dashboard_for_a_browser_only(srv):
    st, h, body = get(srv, "/", {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert st == 200 and b"<title>Keel dashboard</title>" in body
    assert "Content-Security-Policy" in h
    # curl, Webdis clients: Webdis's answer, unchanged, without a CSP
    st, h, body = get(srv, "/")
    assert (st, json.loads(body)) == (403, {"error": "empty command"})
    assert "Content-Security-Policy" not in h
    # a command path stays a command, whatever the Accept header
    srv.resp("SET", "k", "v")
    st, _, body = get(srv, "/GET/k", {"Accept": "text/html"})
    assert (st, json.loads(body)) == (200, {"GET": "v"})


def test_http_default_root_keeps_root(srv):
    srv.resp("SET", "index", "home")
    srv.resp("CONFIG", "SET", "http-default-root", "/GET/index")
    st, _, body = get(srv, "/", {"Accept": "text/html"})
    assert (st, json.loads(body)) == (200, {"GET": "home"})
    assert get(srv, "/_dashboard")[0] == 200


def test_assets_dir_serves_from_a_folder(srv, tmp_path):
    (tmp_path / "index.html").write_bytes(b"<!DOCTYPE html><title>dev copy</title>")
    srv.resp("CONFIG", "SET", "http-assets-dir", str(tmp_path))
    st, h, body = get(srv, "/_dashboard")
    assert (st, body) == (200, b"<!DOCTYPE html><title>dev copy</title>")
    assert "Content-Security-Policy" in h
    # only the names the dashboard has; a missing one is 404
    (tmp_path / "secret.txt").write_bytes(b"no")
    assert get(srv, "/_dashboard/secret.txt")[0] == 404
    assert get(srv, "/_dashboard/app.js")[0] == 404
    srv.resp("CONFIG", "SET", "http-assets-dir", "")
    st, _, body = get(srv, "/_dashboard")
    assert b"Keel dashboard" in body


def test_assets_need_no_password_but_data_does(srv):
    srv.resp("CONFIG", "SET", "requirepass", "pw")
    try:
        assert get(srv, "/_dashboard")[0] == 200
        assert get(srv, "/_keel.js")[0] == 200
        assert get(srv, "/_health")[0] == 401  # the page's check before it asks for a token
        assert get(srv, "/GET/k")[0] == 401
        assert get(srv, "/_health?token=pw")[0] == 200
    finally:
        with RawConn(srv.port) as c:
            c.send(encode(("AUTH", "pw")) + encode(("CONFIG", "SET", "requirepass", "")))
            c.read_reply()
            assert parse_one(c.read_reply())[0] == b"OK"


def ws_conn(srv):
    return websocket.create_connection("ws://%s:%d/" % (HOST, srv.http), timeout=5,
                                       subprotocols=["json"])


def test_stats_push(srv):
    srv.resp("SET", "a", "1")
    srv.resp("SELECT", "0")
    ws = ws_conn(srv)
    try:
        ws.send(json.dumps({"stats": 1}))
        first = json.loads(ws.recv())["stats"]
        assert set(first) == {"uptime", "ops_per_sec", "commands", "commands_by", "errors",
                              "clients", "memory", "net", "hits", "misses", "expired", "evicted",
                              "keys"}
        assert first["commands_by"]["resp"] >= 2  # the SET and SELECT above
        assert first["keys"] == [[0, 1, 0]]
        assert first["clients"]["ws"] >= 1 and first["clients"]["total"] >= 1
        assert first["memory"]["used"] > 0
        # commands on the same connection still answer between pushes
        ws.send(json.dumps({"id": 1, "cmd": ["GET", "a"]}))
        t0 = time.time()
        got = []
        while len([m for m in got if "stats" in m]) < 2:
            got.append(json.loads(ws.recv()))
        assert {"id": 1, "reply": "1"} in got
        assert 0.5 < time.time() - t0 < 4
        later = [m for m in got if "stats" in m][-1]["stats"]
        assert later["commands"] > first["commands"]
        assert later["commands_by"]["ws"] > first["commands_by"]["ws"]  # the GET
        ws.send(json.dumps({"stats": 0}))
        while json.loads(ws.recv()) != {"stats": False}:
            pass
        ws.settimeout(1.5)
        with pytest.raises(websocket.WebSocketTimeoutException):
            ws.recv()
    finally:
        ws.close()


def test_stats_subscriber_that_goes_away(srv):
    # many subscribers, some closing abruptly: the others keep receiving
    socks = [ws_conn(srv) for _ in range(5)]
    for s in socks:
        s.send(json.dumps({"stats": True}))
        assert "stats" in json.loads(s.recv())
    for s in socks[:3]:
        s.sock.close()
    for s in socks[3:]:
        assert "stats" in json.loads(s.recv())
        assert "stats" in json.loads(s.recv())
        s.close()


@pytest.mark.parametrize("msg", ['{"stats":"yes"}', '{"stats":1,"id":2}', '{"stats":null}'])
def test_other_stats_shapes_are_ordinary_requests(srv, msg):
    ws = ws_conn(srv)
    try:
        ws.send(msg)
        r = json.loads(ws.recv())
        assert "error" in r and "stats" not in r
    finally:
        ws.close()
