"""Who may connect (adapters/net.c), on every port: RESP, HTTP and WebSocket
upgrades.

- The open-files limit and maxclients, as Redis 7.0: at start the soft
  RLIMIT_NOFILE is raised toward maxclients + 32; when the hard limit is lower,
  maxclients shrinks to fit (Redis's three log lines). Past maxclients a RESP
  client gets `-ERR max number of clients reached`, an HTTP client a 503, and
  the server neither spins nor floods its log. accept() errors (EMFILE) pause
  the listeners instead of spinning on a level-triggered socket.
- Protected mode (`protected-mode yes`, the default): with no password set, a
  client from a non-loopback address gets Redis's -DENIED text (RESP) or a 403
  (HTTP, WebSocket upgrade) and is closed, whatever the bind addresses.

Servers run under `prlimit --nofile=N:N` (the soft and hard limit of the
process); protected mode is reached through this machine's own non-loopback
IPv4 address (skipped when it has none).
"""

import os
import re
import resource
import shutil
import socket
import subprocess
import time

import pytest

import harness
from harness import RawConn, ServerProcess, encode, free_port, parse_one
from test_http_helpers import HttpConn, KeelHttp, check_health

MAXCLIENTS_FULL = b"-ERR max number of clients reached\r\n"
# Redis 7.0's text (networking.c, clientAcceptHandler), byte for byte.
DENIED = (
    b"-DENIED Redis is running in protected mode because protected mode is enabled and no "
    b"password is set for the default user. In this mode connections are only accepted from the "
    b"loopback interface. If you want to connect from external computers to Redis you may adopt "
    b"one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG "
    b"SET protected-mode no' from the loopback interface by connecting to Redis from the same "
    b"host the server is running, however MAKE SURE Redis is not publicly accessible from "
    b"internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively "
    b"you can just disable the protected mode by editing the Redis configuration file, and "
    b"setting the protected mode option to 'no', and then restarting the server. 3) If you "
    b"started the server manually just for testing, restart it with the '--protected-mode no' "
    b"option. 4) Setup a an authentication password for the default user. NOTE: You only need "
    b"to do one of the above things in order for the server to start accepting connections from "
    b"the outside.\r\n")
NOFILE = 64               # the limit the maxclients tests run under
REDUCED = NOFILE - 32     # maxclients that fits (Redis's CONFIG_MIN_RESERVED_FDS)
WS_HEADERS = {"Upgrade": "websocket", "Connection": "Upgrade",
              "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version": "13"}


# --------------------------------------------------------------------------
# helpers

def cpu_seconds(pid):
    """User + system CPU time of a process (/proc/<pid>/stat)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def open_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def log_lines(srv):
    return srv.srv.log_text().decode("utf-8", "replace").splitlines()


def read_to_close(sock, timeout=3.0):
    """Everything the peer sends until it closes: (bytes, closed)."""
    sock.settimeout(timeout)
    data = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            d = sock.recv(65536)
        except ConnectionResetError:
            return data, True
        except (socket.timeout, TimeoutError):
            return data, False
        if not d:
            return data, True
        data += d
    return data, False


def resp_call(sock, *cmd, timeout=3.0):
    """Send one command on a connected socket and read one raw reply."""
    sock.sendall(encode(cmd))
    sock.settimeout(timeout)
    buf = b""
    while True:
        try:
            harness.reply_end(buf)
            return buf
        except harness.Incomplete:
            d = sock.recv(65536)
            if not d:
                return buf
            buf += d


def info_field(conn, name):
    """One INFO field, asked on conn (a RawConn) or on a new connection to conn (a port)."""
    if isinstance(conn, int):
        with RawConn(conn) as c:
            return info_field(c, name)
    text = parse_one(conn.call("INFO", "everything"))[0].decode()
    m = re.search(r"^%s:(.*)\r?$" % re.escape(name), text, re.M)
    return m.group(1).strip() if m else None


def wait_clients(conn, n, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if info_field(conn, "connected_clients") == str(n):
            return True
        time.sleep(0.05)
    return False


def http_get(port, path="/PING", host="127.0.0.1", headers=None):
    with HttpConn(port, host=host) as c:
        c.request("GET", path, headers)
        r = c.read_response()
        return r, c.wait_closed(2)


class LimitedKeel(KeelHttp):
    """KeelHttp started by `prlimit --nofile=N:N`."""

    def __init__(self, nofile, args=(), name="keel-nofile"):
        self.nofile = nofile
        super().__init__(args, name=name)

    def _argv(self, port):
        return (["prlimit", "--nofile=%d:%d" % (self.nofile, self.nofile), "--"]
                + super()._argv(port))


@pytest.fixture
def lowfd():
    if not shutil.which("prlimit"):
        pytest.skip("prlimit (util-linux) missing")
    srv = LimitedKeel(NOFILE)
    srv.start()
    yield srv
    check_health(srv)
    problem = srv.stop()
    if problem:
        pytest.fail("at shutdown: " + problem, pytrace=False)


# --------------------------------------------------------------------------
# the open-files limit and maxclients

def test_low_nofile_limit_lowers_maxclients(lowfd):
    assert lowfd.resp("CONFIG", "GET", "maxclients") == [b"maxclients", str(REDUCED).encode()]
    assert info_field(lowfd.port, "maxclients") == str(REDUCED)
    log = log_lines(lowfd)
    for line in (
            "You requested maxclients of 10000 requiring at least 10032 max file descriptors.",
            "Server can't set maximum open files to 10032 because of OS error: "
            "Operation not permitted.",
            "Current maximum open files is %d. maxclients has been reduced to %d to compensate "
            "for low ulimit. If you need higher maxclients increase 'ulimit -n'." % (
                NOFILE, REDUCED)):
        assert sum(line in x for x in log) == 1, (line, log)


def test_config_set_maxclients_beyond_nofile_limit(lowfd):
    """As Redis 7.0's updateMaxclients: a value the limit cannot hold is an
    error naming what would fit, and the old value stays; smaller ones are set."""
    err = (b"ERR CONFIG SET failed (possibly related to argument 'maxclients') - The operating "
           b"system is not able to handle the specified number of clients, try with %d" % REDUCED)
    got = lowfd.resp("CONFIG", "SET", "maxclients", "100")
    assert isinstance(got, harness.Err) and got.msg == err, got
    assert lowfd.resp("CONFIG", "GET", "maxclients") == [b"maxclients", str(REDUCED).encode()]
    assert lowfd.resp("CONFIG", "SET", "maxclients", "5") == b"OK"
    assert lowfd.resp("CONFIG", "GET", "maxclients") == [b"maxclients", b"5"]
    assert lowfd.resp("CONFIG", "SET", "maxclients", str(REDUCED)) == b"OK"
    # the same replies from Redis itself under the same limit
    if shutil.which(harness.oracle_bin()):
        oracle = ServerProcess("redis-nofile", lambda p: [
            "prlimit", "--nofile=%d:%d" % (NOFILE, NOFILE), "--"] + harness.oracle_argv(p))
        oracle.start()
        try:
            with RawConn(oracle.port) as c:
                assert parse_one(c.call("CONFIG", "SET", "maxclients", "100"))[0] == \
                    harness.Err(err)
                assert parse_one(c.call("CONFIG", "GET", "maxclients"))[0] == [
                    b"maxclients", str(REDUCED).encode()]
        finally:
            oracle.stop()
            oracle.cleanup()


def test_surplus_clients_refused_without_spinning(lowfd):
    """maxclients reached: every further RESP client gets the error and is
    closed, HTTP clients and WebSocket upgrades a 503; the server stays idle
    while they keep coming, does not flood its log, and serves again once
    clients leave."""
    pid = lowfd.srv.proc.pid
    ctl = RawConn(lowfd.port)
    held, refused = [], []
    try:
        assert wait_clients(ctl, 1)
        rejected0 = int(info_field(ctl, "rejected_connections"))
        for _ in range(REDUCED + 10):
            s = socket.create_connection(("127.0.0.1", lowfd.port), timeout=5)
            reply = resp_call(s, "PING")
            if reply == b"+PONG\r\n":
                assert not refused, "a client was admitted after one was refused"
                held.append(s)
            else:
                assert reply == MAXCLIENTS_FULL, reply
                assert read_to_close(s)[1], "a refused client must be closed"
                refused.append(s)
        assert len(held) == REDUCED - 1 and len(refused) == 11  # ctl is the 32nd client
        r, closed = http_get(lowfd.http)
        assert r.status == 503 and r.json() == {"error": "max number of clients reached"}, r
        assert closed
        r, closed = http_get(lowfd.http, "/", headers=WS_HEADERS)
        assert r.status == 503 and closed, r
        # more and more surplus clients, left open: the server stays idle
        pending = [socket.create_connection(("127.0.0.1", p), timeout=5)
                   for _ in range(20) for p in (lowfd.port, lowfd.http)]
        cpu0 = cpu_seconds(pid)
        time.sleep(2.0)
        used = cpu_seconds(pid) - cpu0
        assert used < 0.3, "the server used %.2f s of CPU in 2 s with clients waiting" % used
        for s in pending:
            data, closed = read_to_close(s, 2.0)
            assert closed and (data == MAXCLIENTS_FULL or data.startswith(b"HTTP/1.1 503 ")), \
                data
            s.close()
        # rejected ones are counted as Redis counts them, not as connections received
        assert int(info_field(ctl, "rejected_connections")) - rejected0 == 11 + 2 + 40
        assert len(log_lines(lowfd)) < 15, "the log was flooded:\n" + "\n".join(
            log_lines(lowfd)[:40])
        # clients leave: the server serves again
        for s in held:
            s.close()
        held = []
        assert wait_clients(ctl, 1)
        with socket.create_connection(("127.0.0.1", lowfd.port), timeout=5) as s:
            assert resp_call(s, "PING") == b"+PONG\r\n"
        r, _ = http_get(lowfd.http)
        assert r.status == 200 and r.json() == {"PING": [True, "PONG"]}, r
    finally:
        ctl.close()
        for s in held + refused:
            s.close()


def test_accept_emfile_pauses_instead_of_spinning(lowfd):
    """The process runs out of descriptors (its limit lowered under it):
    accept() fails with EMFILE while connections wait in the backlog. The
    listeners pause (no busy loop, one log line), and the waiting clients are
    served once descriptors are available again."""
    pid = lowfd.srv.proc.pid
    held = [socket.create_connection(("127.0.0.1", lowfd.port), timeout=5) for _ in range(3)]
    waiting = []
    try:
        for s in held:
            assert resp_call(s, "PING") == b"+PONG\r\n"
        time.sleep(0.2)
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (open_fds(pid), NOFILE))
        waiting = [socket.create_connection(("127.0.0.1", p), timeout=5)
                   for _ in range(10) for p in (lowfd.port, lowfd.http)]
        cpu0 = cpu_seconds(pid)
        time.sleep(2.0)
        used = cpu_seconds(pid) - cpu0
        assert used < 0.3, "the server used %.2f s of CPU in 2 s on EMFILE" % used
        errors = [x for x in log_lines(lowfd) if "Accepting client connection" in x]
        assert 1 <= len(errors) <= 2, errors
        assert "Too many open files" in errors[0], errors
        # descriptors again: the waiting clients are accepted and served
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (NOFILE, NOFILE))
        for s in waiting:
            if s.getpeername()[1] == lowfd.port:
                assert resp_call(s, "PING", timeout=5) == b"+PONG\r\n"
            else:
                s.sendall(b"GET /PING HTTP/1.1\r\nHost: x\r\n\r\n")
                s.settimeout(5)
                assert s.recv(65536).startswith(b"HTTP/1.1 200 ")
        assert len(log_lines(lowfd)) < 15, log_lines(lowfd)[:40]
    finally:
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (NOFILE, NOFILE))
        for s in held + waiting:
            s.close()


def test_nofile_limit_too_low_to_start():
    if not shutil.which("prlimit"):
        pytest.skip("prlimit (util-linux) missing")
    port = free_port()
    p = subprocess.run(["prlimit", "--nofile=30:30", "--", harness.keel_bin(), "--port",
                        str(port), "--http-port", "0"], capture_output=True, timeout=30,
                       env=dict(os.environ, **harness.DEFAULT_SAN_ENV))
    out = p.stdout + p.stderr  # the log is standard output (logfile "")
    assert p.returncode == 1, (p.returncode, out[-2000:])
    assert (b"Your current 'ulimit -n' of 30 is not enough for the server to start. Please "
            b"increase your open file limit to at least 10032. Exiting.") in out, out


# --------------------------------------------------------------------------
# protected mode

def _own_ipv4():
    """This machine's first non-loopback IPv4 address, or None."""
    try:
        out = subprocess.run(["ip", "-o", "-4", "addr", "show"], capture_output=True,
                             text=True, timeout=5).stdout
        for m in re.finditer(r"\sinet (\d+\.\d+\.\d+\.\d+)/", out):
            if not m.group(1).startswith("127."):
                return m.group(1)
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))
            ip = s.getsockname()[0]
            return None if ip.startswith("127.") else ip
    except OSError:
        return None


OWN_IP = _own_ipv4()
needs_ip = pytest.mark.skipif(OWN_IP is None,
                              reason="no non-loopback IPv4 address on this machine to connect "
                                     "from (protected mode needs a non-loopback peer)")


@pytest.fixture(scope="module")
def _pm_server():
    srv = KeelHttp(["--bind", "0.0.0.0", "--http-bind", "0.0.0.0"], name="keel-protected")
    srv.start()
    yield srv
    problem = srv.stop()
    if problem:
        pytest.fail("at shutdown: " + problem, pytrace=False)


@pytest.fixture
def pm(_pm_server):
    _pm_server.ensure_running()
    _pm_server.health()
    yield _pm_server
    try:
        with RawConn(_pm_server.port) as c:
            c.call("AUTH", "secret")  # an error when no password is set
            assert c.call("CONFIG", "SET", "protected-mode", "yes", "requirepass", "") == \
                b"+OK\r\n"
    finally:
        check_health(_pm_server)


def remote(port):
    """A connection from this machine's non-loopback address."""
    s = socket.create_connection((OWN_IP, port), timeout=5)
    if s.getsockname()[0].startswith("127."):
        s.close()
        pytest.skip("connections to %s come from a loopback address" % OWN_IP)
    return s


@needs_ip
def test_protected_mode_denies_remote_resp(pm):
    with remote(pm.port) as s:
        data, closed = read_to_close(s)
    assert data == DENIED and closed
    # Redis 7.0 sends the same bytes
    if shutil.which(harness.oracle_bin()):
        oracle = ServerProcess("redis-protected", lambda p: harness.oracle_argv(p) + [
            "--bind", "127.0.0.1 " + OWN_IP])
        oracle.start()
        try:
            with remote(oracle.port) as s:
                assert read_to_close(s) == (DENIED, True)
        finally:
            oracle.stop()
            oracle.cleanup()


@needs_ip
def test_protected_mode_denies_remote_http_and_ws(pm):
    for headers in (None, WS_HEADERS):
        with HttpConn(pm.http, host=OWN_IP) as c:
            c.request("GET", "/PING" if headers is None else "/", headers)
            r = c.read_response()
            assert r.status == 403, r
            assert r.header("content-type") == "application/json"
            assert "protected mode" in r.json()["error"], r
            assert c.wait_closed(2), "a refused client must be closed"


@needs_ip
def test_protected_mode_stats(pm):
    with RawConn(pm.port) as ctl:
        total0 = int(info_field(ctl, "total_connections_received"))
        rejected0 = int(info_field(ctl, "rejected_connections"))
        with remote(pm.port) as s:
            read_to_close(s)
        http_get(pm.http, host=OWN_IP)
        # as Redis counts them: rejected, not received
        assert int(info_field(ctl, "rejected_connections")) - rejected0 == 2
        assert int(info_field(ctl, "total_connections_received")) == total0


def test_protected_mode_loopback_served(pm):
    with socket.create_connection(("127.0.0.1", pm.port), timeout=5) as s:
        assert resp_call(s, "PING") == b"+PONG\r\n"
    r, _ = http_get(pm.http)
    assert r.status == 200 and r.json() == {"PING": [True, "PONG"]}
    with HttpConn(pm.http) as c:
        c.request("GET", "/", WS_HEADERS)
        assert c.read_stream_head().status == 101


@needs_ip
def test_protected_mode_password_lets_remote_in(pm):
    assert pm.resp("CONFIG", "SET", "requirepass", "secret") == b"OK"
    with remote(pm.port) as s:
        assert resp_call(s, "PING") == b"-NOAUTH Authentication required.\r\n"
        assert resp_call(s, "AUTH", "secret") == b"+OK\r\n"
        assert resp_call(s, "PING") == b"+PONG\r\n"
    with HttpConn(pm.http, host=OWN_IP) as c:
        assert c.get("/PING").status == 401
    with HttpConn(pm.http, host=OWN_IP) as c:
        r = c.get("/PING?token=secret")
        assert r.status == 200 and r.json() == {"PING": [True, "PONG"]}, r
    with HttpConn(pm.http, host=OWN_IP) as c:
        c.request("GET", "/?token=secret", WS_HEADERS)
        assert c.read_stream_head().status == 101


@needs_ip
def test_protected_mode_off_lets_remote_in(pm):
    assert pm.resp("CONFIG", "GET", "protected-mode") == [b"protected-mode", b"yes"]
    assert pm.resp("CONFIG", "SET", "protected-mode", "no") == b"OK"
    assert pm.resp("CONFIG", "GET", "protected-mode") == [b"protected-mode", b"no"]
    with remote(pm.port) as s:
        assert resp_call(s, "PING") == b"+PONG\r\n"
    r, _ = http_get(pm.http, host=OWN_IP)
    assert r.status == 200 and r.json() == {"PING": [True, "PONG"]}, r
    with HttpConn(pm.http, host=OWN_IP) as c:
        c.request("GET", "/", WS_HEADERS)
        assert c.read_stream_head().status == 101
    # and back on, at runtime
    assert pm.resp("CONFIG", "SET", "protected-mode", "yes") == b"OK"
    with remote(pm.port) as s:
        assert read_to_close(s) == (DENIED, True)


def test_protected_mode_warning_on_all_interfaces(pm):
    """Binding every interface without a password is logged at start (a
    server bound to 127.0.0.1, as the harness's, logs nothing of the kind)."""
    log = log_lines(pm)
    warnings = [x for x in log if "WARNING" in x and "every interface" in x]
    assert len(warnings) == 2, log  # the RESP and the HTTP port
    assert all("protected mode is on" in x for x in warnings), warnings
    other = KeelHttp(name="keel-loopback-only")
    other.start()
    try:
        assert not [x for x in log_lines(other) if "every interface" in x]
    finally:
        other.stop()
