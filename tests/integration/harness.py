"""Integration-test plumbing: server processes, RESP encoding/framing, raw sockets.

Imported by conftest.py (fixtures) and by tests that need the helpers directly.
Nothing here depends on redis-py: replies are compared as raw bytes, and parsed
with the small RESP2/RESP3 parser below only where a test must mask fields.
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SANITIZER_MARKERS = (
    b"ERROR: AddressSanitizer",
    b"ERROR: LeakSanitizer",
    b"runtime error:",  # UBSan
)

DEFAULT_SAN_ENV = {
    "ASAN_OPTIONS": "halt_on_error=1:abort_on_error=1:detect_leaks=1",
    "UBSAN_OPTIONS": "halt_on_error=1:abort_on_error=1:print_stacktrace=1",
}


# --------------------------------------------------------------------------
# Ports and binaries

def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago (bind 0, close)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def keel_bin():
    """$KEEL_BIN (relative paths are taken from the repo root), else
    build-test/keel, else build/keel."""
    env = os.environ.get("KEEL_BIN")
    if env:
        if os.sep in env or os.path.exists(os.path.join(REPO, env)):
            path = env if os.path.isabs(env) else os.path.join(REPO, env)
            return os.path.abspath(path)
        found = shutil.which(env)
        return found or env
    for cand in ("build-test/keel", "build/keel"):
        p = os.path.join(REPO, cand)
        if os.access(p, os.X_OK):
            return p
    raise RuntimeError("no Keel binary: set KEEL_BIN or build build-test/keel or build/keel")


def oracle_bin():
    return os.environ.get("REDIS_ORACLE_BIN", "redis-server")


def is_redis_server(path):
    return os.path.basename(path).startswith("redis-server")


# --------------------------------------------------------------------------
# RESP encoding

def _b(x):
    if isinstance(x, bytes):
        return x
    if isinstance(x, (bytearray, memoryview)):
        return bytes(x)
    return str(x).encode()


def encode(cmd):
    """One command (list of str/bytes/int) as a RESP multibulk."""
    parts = [b"*%d\r\n" % len(cmd)]
    for a in cmd:
        a = _b(a)
        parts.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(parts)


def encode_many(cmds):
    return b"".join(encode(c) for c in cmds)


def show_cmd(cmd):
    if isinstance(cmd, (bytes, str)):
        t = repr(_b(cmd))
        return t if len(t) <= 200 else t[:180] + "...(%d bytes)" % len(_b(cmd))
    def one(a):
        t = repr(_b(a))[1:] if isinstance(a, bytes) else repr(str(a))
        return t if len(t) <= 80 else t[:60] + "...(%d bytes)" % len(_b(a))
    return " ".join(one(a) for a in cmd)


# --------------------------------------------------------------------------
# RESP parsing / framing

class Incomplete(Exception):
    pass


class ProtocolMismatch(Exception):
    pass


class Err:
    """An error reply (simple '-' or blob '!')."""

    def __init__(self, msg):
        self.msg = msg

    def __eq__(self, other):
        return isinstance(other, Err) and other.msg == self.msg

    def __hash__(self):
        return hash(("Err", self.msg))

    def __repr__(self):
        return "Err(%r)" % (self.msg,)


class Push(list):
    """A RESP3 push ('>')."""


class Verbatim(bytes):
    """A RESP3 verbatim string ('='); the 'txt:' prefix is kept in .fmt."""

    fmt = b""


def _line(buf, pos):
    end = buf.find(b"\r\n", pos)
    if end < 0:
        raise Incomplete()
    return buf[pos:end], end + 2


def parse_one(buf, pos=0):
    """Parse one RESP2/RESP3 value at buf[pos:]. Returns (value, newpos).
    Raises Incomplete if more bytes are needed, ProtocolMismatch on garbage.

    Mapping: + -> str-ish bytes, - and ! -> Err, : and ( -> int,
    $ -> bytes or None, * -> list or None, _ -> None, , -> float,
    # -> bool, = -> Verbatim, % -> dict (list of pairs if unhashable keys),
    ~ -> set-like list (kept as list, order preserved), > -> Push,
    | attributes are parsed and dropped (the following value is returned)."""
    if pos >= len(buf):
        raise Incomplete()
    t = buf[pos:pos + 1]
    line, nxt = _line(buf, pos + 1)
    if t == b"+":
        return line, nxt
    if t == b"-":
        return Err(line), nxt
    if t == b":":
        return int(line), nxt
    if t == b"(":
        return int(line), nxt
    if t == b",":
        s = line.decode()
        return float(s), nxt
    if t == b"#":
        if line not in (b"t", b"f"):
            raise ProtocolMismatch("bad boolean %r" % line)
        return line == b"t", nxt
    if t == b"_":
        return None, nxt
    if t in (b"$", b"!", b"="):
        n = int(line)
        if n < 0:
            return None, nxt
        if len(buf) < nxt + n + 2:
            raise Incomplete()
        if buf[nxt + n:nxt + n + 2] != b"\r\n":
            raise ProtocolMismatch("bulk not terminated by CRLF")
        data = buf[nxt:nxt + n]
        if t == b"!":
            return Err(data), nxt + n + 2
        if t == b"=":
            v = Verbatim(data[4:])
            v.fmt = data[:3]
            return v, nxt + n + 2
        return data, nxt + n + 2
    if t in (b"*", b"~", b">"):
        n = int(line)
        if n < 0:
            return None, nxt
        out = Push() if t == b">" else []
        p = nxt
        for _ in range(n):
            v, p = parse_one(buf, p)
            out.append(v)
        return out, p
    if t == b"%" or t == b"|":
        n = int(line)
        pairs = []
        p = nxt
        for _ in range(n):
            k, p = parse_one(buf, p)
            v, p = parse_one(buf, p)
            pairs.append((k, v))
        if t == b"|":
            # attribute: metadata for the reply that follows
            return parse_one(buf, p)
        try:
            return dict(pairs), p
        except TypeError:
            return pairs, p
    raise ProtocolMismatch("unknown RESP type byte %r at %d" % (t, pos))


def reply_end(buf, pos=0):
    """Framing only: the offset just past the complete reply at buf[pos:]
    (bytes or bytearray). Raises Incomplete / ProtocolMismatch."""
    if pos >= len(buf):
        raise Incomplete()
    t = buf[pos]
    end = buf.find(b"\r\n", pos + 1)
    if end < 0:
        raise Incomplete()
    nxt = end + 2
    if t in b"+-:(,#_":
        return nxt
    n = int(buf[pos + 1:end])
    if t in b"$!=":
        if n < 0:
            return nxt
        if len(buf) < nxt + n + 2:
            raise Incomplete()
        return nxt + n + 2
    if t in b"*~>":
        p = nxt
        for _ in range(max(n, 0)):
            p = reply_end(buf, p)
        return p
    if t in b"%|":
        p = nxt
        for _ in range(2 * n):
            p = reply_end(buf, p)
        if t == ord("|"):
            return reply_end(buf, p)   # the attribute belongs to the next reply
        return p
    raise ProtocolMismatch("unknown RESP type byte %r at %d" % (bytes([t]), pos))


def split_replies(buf, n=None):
    """Split buf into complete top-level replies (raw bytes each).
    Returns (list_of_raw_replies, rest_bytes)."""
    out = []
    pos = 0
    while n is None or len(out) < n:
        try:
            p = reply_end(buf, pos)
        except Incomplete:
            break
        out.append(buf[pos:p])
        pos = p
    return out, buf[pos:]


def count_replies(buf):
    return len(split_replies(buf)[0])


def parse_all(buf):
    vals = []
    pos = 0
    while pos < len(buf):
        v, pos = parse_one(buf, pos)
        vals.append(v)
    return vals


# --------------------------------------------------------------------------
# Raw connections

class ReplyTimeout(AssertionError):
    pass


class RawConn:
    """A plain TCP connection that reads exactly the replies asked for."""

    def __init__(self, port, host="127.0.0.1", timeout=5.0, source=None):
        """source: the local address to connect from (e.g. "127.0.0.2": a
        peer that is not 127.0.0.1, for enable-debug-command local)."""
        self.port = port
        self.timeout = timeout
        self.sock = socket.create_connection((host, port), timeout=timeout,
                                             source_address=(source, 0) if source else None)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.closed = False

    def send(self, data):
        self.sock.sendall(_b(data))

    def read_replies(self, n=1, timeout=None):
        """Read until n complete top-level replies arrived; return their raw
        bytes as a list. Raises ReplyTimeout (with what arrived) otherwise."""
        deadline = time.monotonic() + (timeout or self.timeout)
        got = []
        pos = 0
        buf = bytearray(self.buf)
        self.buf = b""
        try:
            while True:
                while len(got) < n:
                    try:
                        end = reply_end(buf, pos)
                    except Incomplete:
                        break
                    got.append(bytes(buf[pos:end]))
                    pos = end
                if len(got) >= n:
                    return got
                if self.closed:
                    raise ReplyTimeout("connection closed after %d/%d replies; got %r"
                                       % (len(got), n, bytes(buf[pos:pos + 500])))
                try:
                    d = self._recv(deadline)
                except (socket.timeout, TimeoutError):
                    raise ReplyTimeout("timed out after %d/%d replies; got %r"
                                       % (len(got), n, bytes(buf[pos:pos + 500])))
                if d:
                    buf += d
        finally:
            self.buf = bytes(buf[pos:])

    def _recv(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise socket.timeout()
        self.sock.settimeout(remaining)
        try:
            d = self.sock.recv(1 << 18)
        except ConnectionResetError:
            d = b""
        if not d:
            self.closed = True
        return d

    def read_reply(self, timeout=None):
        return self.read_replies(1, timeout)[0]

    def call(self, *cmd):
        self.send(encode(cmd))
        return self.read_reply()

    def read_until_close(self, timeout=2.0):
        """Read everything until the peer closes or timeout passes.
        Returns (bytes, closed)."""
        deadline = time.monotonic() + timeout
        buf = bytearray(self.buf)
        try:
            while not self.closed:
                buf += self._recv(deadline)
        except (socket.timeout, TimeoutError):
            pass
        self.buf = b""
        return bytes(buf), self.closed

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


def raw(port, data, n=1, timeout=5.0):
    """Send bytes on a fresh connection and return the raw bytes of the first
    n complete replies (concatenated)."""
    with RawConn(port, timeout=timeout) as c:
        c.send(data)
        return b"".join(c.read_replies(n, timeout))


def ping_ok(port, timeout=1.0):
    try:
        with RawConn(port, timeout=timeout) as c:
            c.send(b"*1\r\n$4\r\nPING\r\n")
            return c.read_reply(timeout) == b"+PONG\r\n"
    except (OSError, ReplyTimeout, ProtocolMismatch, ValueError):
        return False


# --------------------------------------------------------------------------
# Server processes

class ServerProcess:
    """A spawned server on 127.0.0.1:<free port>, stderr captured to a file.

    health() reports sanitizer output and abnormal exits since the last call,
    so a test can be blamed for the crash it caused."""

    def __init__(self, name, argv_fn, env=None):
        self.name = name
        self.argv_fn = argv_fn          # port -> argv
        self.env = env
        self.proc = None
        self.port = None
        self.workdir = tempfile.mkdtemp(prefix="keel-it-%s-" % name)
        self.stderr_path = os.path.join(self.workdir, "stderr.log")
        self.stdout_path = os.path.join(self.workdir, "stdout.log")
        self._err_seen = 0
        self.restarts = 0

    # -- life

    def start(self, timeout=10.0):
        last = None
        for _attempt in range(3):   # a port race with another process is possible
            self.port = free_port()
            argv = self.argv_fn(self.port)
            env = dict(os.environ)
            for k, v in DEFAULT_SAN_ENV.items():
                env.setdefault(k, v)
            if self.env:
                env.update(self.env)
            self._err_seen = self._stderr_size()
            self.proc = subprocess.Popen(
                argv, cwd=self.workdir, env=env, stdin=subprocess.DEVNULL,
                stdout=open(self.stdout_path, "ab"), stderr=open(self.stderr_path, "ab"))
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                if ping_ok(self.port, 0.5):
                    return self
                time.sleep(0.05)
            rc = self.proc.poll()
            last = "%s %s did not answer PING within %.0fs (exit=%r); stderr tail:\n%s" % (
                self.name, " ".join(argv), timeout, rc, self.stderr_tail())
            self._kill()
            if rc is None:
                break   # alive but mute: retrying won't help
        raise RuntimeError(last)

    def _kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self, grace=5.0):
        """SIGTERM, SIGKILL after `grace` s. Returns a problem string or None."""
        if self.proc is None:
            return None
        problems = []
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                problems.append("%s ignored SIGTERM for %.0fs; killed" % (self.name, grace))
        rc = self.proc.returncode
        if rc != 0 and not problems:
            problems.append("%s exited with status %r" % (self.name, rc))
        san = self.new_sanitizer_output()
        if san:
            problems.append("%s sanitizer report:\n%s" % (self.name, san))
        self.proc = None
        return "\n".join(problems) or None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def ensure_running(self):
        if not self.alive():
            self.restarts += 1
            self.start()

    # -- stderr

    def _stderr_size(self):
        try:
            return os.path.getsize(self.stderr_path)
        except OSError:
            return 0

    def log_text(self):
        """The server's log: standard output (Keel's logfile "" as Redis's),
        then standard error (sanitizers, fatal start-up errors)."""
        data = b""
        for path in (self.stdout_path, self.stderr_path):
            try:
                with open(path, "rb") as f:
                    data += f.read()
            except OSError:
                pass
        return data

    def stderr_tail(self, n=4000):
        out = []
        for label, path in (("stderr", self.stderr_path), ("stdout", self.stdout_path)):
            try:
                with open(path, "rb") as f:
                    data = f.read()
            except OSError:
                continue
            if data:
                out.append("--- %s (tail) ---\n%s" % (label, data[-n:].decode("utf-8", "replace")))
        return "\n".join(out)

    def new_sanitizer_output(self):
        """Sanitizer text written to stderr since the last call ('' if none)."""
        try:
            with open(self.stderr_path, "rb") as f:
                f.seek(self._err_seen)
                data = f.read()
        except OSError:
            return ""
        self._err_seen += len(data)
        if any(m in data for m in SANITIZER_MARKERS):
            return data[-8000:].decode("utf-8", "replace")
        return ""

    def health(self, probe=False):
        """Problems since the last check, or None. With probe, a server that is
        alive but does not answer PING is given 3 s to exit, then killed."""
        problems = []
        if probe and self.alive() and not ping_ok(self.port, 2.0):
            try:
                self.proc.wait(3.0)
            except subprocess.TimeoutExpired:
                problems.append("%s stopped answering PING; killed" % self.name)
                self._kill()
        if self.proc is not None and self.proc.poll() is not None:
            problems.append("%s died (exit status %r)" % (self.name, self.proc.returncode))
        san = self.new_sanitizer_output()
        if san:
            problems.append("%s sanitizer report:\n%s" % (self.name, san))
        elif problems:
            problems.append("stderr tail:\n" + self.stderr_tail())
        return "\n".join(problems) or None

    def cleanup(self):
        shutil.rmtree(self.workdir, ignore_errors=True)


def keel_argv(port):
    b = keel_bin()
    # The tests use DEBUG (SLEEP, OBJECT, RELOAD, SET-ACTIVE-EXPIRE...): Redis
    # 7.0 and Keel refuse it unless enable-debug-command allows it.
    argv = [b, "--port", str(port), "--bind", "127.0.0.1", "--enable-debug-command", "yes"]
    if is_redis_server(b):
        # validating the harness against Redis itself: no dump.rdb on exit
        argv += ["--save", "", "--appendonly", "no"]
    else:
        # Tests run many servers at once: no HTTP listener unless asked for.
        argv += ["--http-port", "0"]
        # scripts/test runs the suite once per connection I/O path.
        backend = os.environ.get("KEEL_IO_BACKEND")
        if backend:
            argv += ["--io-backend", backend]
    extra = os.environ.get("KEEL_ARGS")
    if extra:
        argv += extra.split()
    return argv


def oracle_argv(port):
    return [oracle_bin(), "--port", str(port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no"]


# --------------------------------------------------------------------------
# Differential comparison

class Cmd:
    """A command with a non-byte-exact comparison rule (see Approx/Sorted/Masked)."""

    def __init__(self, cmd):
        self.cmd = list(cmd)

    def same(self, a, b):
        return a == b

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__, show_cmd(self.cmd))


class Approx(Cmd):
    """Integer replies equal within `tol` (TTL, PTTL, EXPIRETIME...)."""

    def __init__(self, cmd, tol=1):
        super().__init__(cmd)
        self.tol = tol

    def same(self, a, b):
        if a == b:
            return True
        try:
            va, vb = parse_one(a)[0], parse_one(b)[0]
        except Exception:
            return False
        return isinstance(va, int) and isinstance(vb, int) and abs(va - vb) <= self.tol


class Sorted(Cmd):
    """Array replies equal as multisets (KEYS, SMEMBERS...). Errors must be equal bytes."""

    def same(self, a, b):
        if a == b:
            return True
        try:
            va, vb = parse_one(a)[0], parse_one(b)[0]
        except Exception:
            return False
        if not isinstance(va, list) or not isinstance(vb, list) or a[:1] != b[:1]:
            return False
        return sorted(map(repr, va)) == sorted(map(repr, vb))


class Parsed(Cmd):
    """Compare fn(parsed reply) for both (for masking variable fields)."""

    def __init__(self, cmd, fn):
        super().__init__(cmd)
        self.fn = fn

    def same(self, a, b):
        if a == b:
            return True
        try:
            return self.fn(parse_one(a)[0]) == self.fn(parse_one(b)[0])
        except Exception:
            return False


def _short(v, limit=1500):
    t = repr(v)
    return t if len(t) <= limit else t[:limit] + "...(%d bytes)" % len(v)


class Differ:
    """Runs the same commands against Keel and the Redis oracle and compares
    raw reply bytes. Each run uses fresh connections after FLUSHALL on both."""

    def __init__(self, keel_port, oracle_port, timeout=5.0):
        self.ports = {"keel": keel_port, "redis": oracle_port}
        self.timeout = timeout

    def flush(self):
        for name, port in self.ports.items():
            with RawConn(port, timeout=self.timeout) as c:
                c.send(b"*1\r\n$8\r\nFLUSHALL\r\n")
                rep = c.read_reply()
                assert rep == b"+OK\r\n", "FLUSHALL on %s answered %r" % (name, rep)

    def replies(self, cmds, resp3=False, inline=False, flush=True):
        """Send cmds one at a time to both; return {'keel': [...], 'redis': [...]}
        of raw replies. A missing reply is recorded as a string '<...>'."""
        if flush:
            self.flush()
        out = {}
        for name, port in self.ports.items():
            got = []
            with RawConn(port, timeout=self.timeout) as c:
                if resp3:
                    c.send(encode(["HELLO", "3"]))
                    c.read_reply()
                for cmd in cmds:
                    raw_cmd = cmd.cmd if isinstance(cmd, Cmd) else cmd
                    if c.closed:
                        got.append("<connection closed>")
                        continue
                    try:
                        if inline:
                            line = _b(raw_cmd)
                            c.send(line if line.endswith(b"\n") else line + b"\r\n")
                        else:
                            c.send(encode(raw_cmd))
                        got.append(c.read_reply())
                    except ReplyTimeout as e:
                        got.append("<%s>" % e)
                    except OSError as e:
                        c.closed = True
                        got.append("<socket error %s>" % e)
            out[name] = got
        return out

    def __call__(self, cmds, resp3=False, inline=False):
        res = self.replies(cmds, resp3=resp3, inline=inline)
        bad = []
        for i, cmd in enumerate(cmds):
            k, r = res["keel"][i], res["redis"][i]
            same = (cmd.same(k, r) if isinstance(cmd, Cmd) and isinstance(k, bytes)
                    and isinstance(r, bytes) else k == r)
            if not same:
                bad.append("#%d %s\n    keel:  %s\n    redis: %s" % (
                    i, cmd if isinstance(cmd, Cmd) else show_cmd(cmd), _short(k), _short(r)))
        if bad:
            mode = "RESP3" if resp3 else ("inline" if inline else "RESP2")
            raise AssertionError("%d/%d replies differ (%s):\n%s" % (
                len(bad), len(cmds), mode, "\n".join(bad[:15])))
        return res["redis"]

    def inline(self, lines):
        return self(lines, inline=True)

    def resp3(self, cmds):
        return self(cmds, resp3=True)

    def both(self, cmds):
        """RESP2 and RESP3."""
        self(cmds)
        self(cmds, resp3=True)


def C(line):
    """'SET k "a b" EX 10' -> ['SET', 'k', 'a b', 'EX', '10'] (shell-like quoting)."""
    import shlex
    return shlex.split(line)


def assert_same_bytes(keel, redis, what="reply"):
    """assert keel == redis for (possibly huge) bytes or (bytes, closed) pairs,
    with a short message (pytest's own diff of megabyte strings takes forever)."""
    if keel == redis:
        return
    if isinstance(keel, tuple) and isinstance(redis, tuple):
        if keel[1:] != redis[1:]:
            raise AssertionError("%s: connection closed: keel %r, redis %r; data keel %r redis %r"
                                 % (what, keel[1:], redis[1:], keel[0][:300], redis[0][:300]))
        keel, redis = keel[0], redis[0]
    n = min(len(keel), len(redis))
    i = next((j for j in range(n) if keel[j] != redis[j]), n)
    lo = max(0, i - 60)
    raise AssertionError(
        "%s differs at byte %d (keel %d bytes, redis %d bytes)\n  keel:  ...%r\n  redis: ...%r"
        % (what, i, len(keel), len(redis), keel[lo:i + 200], redis[lo:i + 200]))


def cmds(*lines):
    """Several commands: each a string for C() or an explicit list / Cmd."""
    return [C(x) if isinstance(x, str) else x for x in lines]
