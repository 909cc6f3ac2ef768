"""Who may connect (adapters/net.c), on every port: RESP, HTTP and WebSocket
upgrades.

- The open-files limit and maxclients, as Redis 7.0: at start the soft
  RLIMIT_NOFILE is raised toward maxclients + 32; when the hard limit is lower,
  maxclients shrinks to fit (Redis's three log lines). Past maxclients a RESP
  client gets `-ERR max number of clients reached`, an HTTP client a 503, and
  the server neither spins nor floods its log. accept() errors (EMFILE) pause
  the listeners instead of spinning on a level-triggered socket.

Servers run under `prlimit --nofile=N:N` (the soft and hard limit of the
process).
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
    with open(srv.srv.stderr_path, "rb") as f:
        return f.read().decode("utf-8", "replace").splitlines()


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
    assert p.returncode == 1, (p.returncode, p.stderr[-2000:])
    assert (b"Your current 'ulimit -n' of 30 is not enough for the server to start. Please "
            b"increase your open file limit to at least 10032. Exiting.") in p.stderr, p.stderr
