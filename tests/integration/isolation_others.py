"""isolation_others.py — the redis-py actor, the churners and the pauser
of test_isolation.py."""

import json
import socket
import struct
import time

import websocket

from harness import RawConn, encode
from test_http_helpers import HttpConn, build_request
from isolation_model import *  # noqa: F401,F403 (replies, model, helper, base actor)


# --------------------------------------------------------------------------
# redis-py (RESP2)

class PyActor(Actor):
    kind = "redis-py"
    ops = [("kv", 30), ("select", 6), ("multi", 8), ("watch", 6), ("name", 5), ("pubsub", 4)]

    def connect(self):
        import redis
        self.redis = redis
        # one connection for everything (pipelines too), so SELECT holds
        self.pool = redis.BlockingConnectionPool(host="127.0.0.1", port=self.srv.port,
                                                 max_connections=1, timeout=TIMEOUT,
                                                 socket_timeout=TIMEOUT)
        self.r = redis.Redis(connection_pool=self.pool)
        self.r.response_callbacks = {}
        self.id = self.r.execute_command("CLIENT", "ID")

    def close(self):
        self.pool.disconnect()

    def same(self, got, want):
        if isinstance(want, E):
            return isinstance(got, self.redis.ResponseError) and want.endswith(str(got))
        if want is NULLARR:
            return got is None
        if isinstance(want, Dbl):
            return got == want.text()
        if isinstance(want, St):
            return got == want.encode()
        if isinstance(want, list):
            return isinstance(got, list) and len(got) == len(want) and all(
                self.same(g, w) for g, w in zip(got, want))
        return got == want

    def run_pipe(self, cmds, transaction):
        p = self.r.pipeline(transaction=transaction)
        for c in cmds:
            p.execute_command(*c)
        return p.execute(raise_on_error=False)

    def op_kv(self):
        cmds = [random_cmd(self.rnd, self.name) for _ in range(self.rnd.randint(1, 8))]
        want = [self.model.apply(self.db, c) for c in cmds]
        got = self.run_pipe(cmds, False)
        if not self.same(got, want):
            self.fail("%r: expected %r, got %r" % (cmds, want, got))

    def op_select(self):
        self.db = self.rnd.randrange(NDB)
        self.check(self.r.execute_command("SELECT", self.db), b"OK", "SELECT")
        c = random_cmd(self.rnd, self.name)
        want = self.model.apply(self.db, c)
        try:
            got = self.r.execute_command(*c)
        except self.redis.ResponseError as e:
            got = e
        if not self.same(got, want):
            self.fail("%r: expected %r, got %r" % (c, want, got))

    def op_multi(self):
        cmds = [random_cmd(self.rnd, self.name) for _ in range(self.rnd.randint(1, 5))]
        want = [self.model.apply(self.db, c) for c in cmds]
        got = self.run_pipe(cmds, True)
        if not self.same(got, want):
            self.fail("MULTI %r: expected %r, got %r" % (cmds, want, got))

    def op_watch(self):
        w = self.key("w")
        conflict = self.rnd.random() < 0.5
        p = self.r.pipeline(transaction=True)
        p.watch(w)
        if conflict:
            self.helper.call(self.db, "SET", w, "conflict")
            self.model.data[(self.db, w.encode())] = b"conflict"
        p.multi()
        cmd = ["SET", w, "mine%d" % self.step]
        p.execute_command(*cmd)
        try:
            got = p.execute()
        except self.redis.WatchError:
            got = "aborted"
        want = "aborted" if conflict else [self.model.apply(self.db, cmd)]
        if not self.same(got, want):
            self.fail("WATCH/EXEC: expected %r, got %r" % (want, got))

    def op_name(self):
        n = "py-%s-%d" % (self.name, self.step)
        self.check(self.r.execute_command("CLIENT", "SETNAME", n), b"OK", "SETNAME")
        self.check(self.r.execute_command("CLIENT", "GETNAME"), n.encode(), "GETNAME")
        self.check(self.r.execute_command("CLIENT", "ID"), self.id, "CLIENT ID")

    def op_pubsub(self):
        ch = self.key("pch")
        sub = self.redis.Redis(host="127.0.0.1", port=self.srv.port, socket_timeout=TIMEOUT)
        ps = sub.pubsub()
        try:
            ps.subscribe(ch)
            first = ps.get_message(timeout=TIMEOUT)
            self.check(first and first["type"], "subscribe", "subscribe confirmation")
            msgs = [b"pm%d-%d" % (self.step, i) for i in range(self.rnd.randint(1, 5))]
            for m in msgs:
                self.check(self.helper.call(self.db, "PUBLISH", ch, m), 1, "PUBLISH subscribers")
            for m in msgs:
                got = ps.get_message(timeout=TIMEOUT)
                self.check(got and (got["type"], got["channel"], got["data"]),
                           ("message", ch.encode(), m), "message")
        finally:
            ps.close()
            sub.close()


# --------------------------------------------------------------------------
# connection churn

class Churner(Actor):
    """Short-lived connections, one after another, each a pipeline in a db
    of its own choosing (RESP, HTTP or WebSocket): read whole and checked,
    read in part, or reset (SO_LINGER 0) with replies still being written.
    The long-lived actors beside it must not notice."""

    kind = "churn"
    ops = [("resp", 5), ("http", 3), ("ws", 2)]

    def connect(self):
        pass

    def close(self):
        pass

    @staticmethod
    def drop(sock, reset):
        if reset:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()

    def op_resp(self):
        k = self.key("c%d" % self.step)
        db = self.rnd.randrange(NDB)
        vals = [("%s-%d-%d" % (self.name, self.step, i)).encode() * self.rnd.choice([1, 40, 4000])
                for i in range(self.rnd.randint(1, 40))]
        c = RawConn(self.srv.port, timeout=TIMEOUT)
        data = encode(["SELECT", db]) + b"".join(encode(["SET", k, v]) + encode(["GET", k])
                                                 for v in vals)
        end = self.rnd.random()
        try:
            if end < 0.3:   # cut mid-command, reset
                c.send(data[:self.rnd.randrange(1, len(data))])
                return self.drop(c.sock, True)
            c.send(data)
            if end < 0.6:
                c.read_replies(self.rnd.randint(1, len(vals)))
                return self.drop(c.sock, self.rnd.random() < 0.5)
            got = c.read_replies(1 + 2 * len(vals))
        finally:
            c.close()
        want = [b"+OK\r\n"]
        for v in vals:
            want += [b"+OK\r\n", to_resp(v, 2)]
        if got != want:
            self.fail("a fresh RESP connection's pipeline: %d replies differ" %
                      sum(1 for g, w in zip(got, want) if g != w))
        self.helper.call(db, "DEL", k)

    def op_http(self):
        k = self.key("h%d" % self.step)
        db = self.rnd.randrange(NDB)
        vals = ["%s-%d-%d" % (self.name, self.step, i) for i in range(self.rnd.randint(1, 20))]
        reqs = b"".join(build_request("GET", "/%d/SET/%s/%s" % (db, k, v)) +
                        build_request("GET", "/%d/GET/%s.txt" % (db, k)) for v in vals)
        h = HttpConn(self.srv.http, timeout=TIMEOUT)
        try:
            if self.rnd.random() < 0.4:
                h.send(reqs[:self.rnd.randrange(1, len(reqs))])
                return self.drop(h.sock, self.rnd.random() < 0.5)
            h.send(reqs)
            for v in vals:
                r1, r2 = h.read_response(TIMEOUT), h.read_response(TIMEOUT)
                if r1.json() != {"SET": [True, "OK"]} or r2.body != v.encode():
                    self.fail("a fresh HTTP connection: %r %r for %s" % (r1.body, r2.body, v))
        finally:
            h.close()
        self.helper.call(db, "DEL", k)

    def op_ws(self):
        k = self.key("w%d" % self.step)
        ws = websocket.create_connection("ws://127.0.0.1:%d/" % self.srv.http, timeout=TIMEOUT)
        if self.rnd.random() < 0.2:
            # the stats push (one server-wide timer over its subscribers):
            # asked for, then the connection dropped with it on
            ws.send(json.dumps({"stats": 1}))
            if "stats" not in json.loads(ws.recv()):
                self.fail("{\"stats\":1} answered without stats")
            return self.drop(ws.sock, self.rnd.random() < 0.5)
        try:
            vals = ["%s-%d-%d" % (self.name, self.step, i) for i in range(self.rnd.randint(1, 20))]
            for v in vals:
                ws.send(json.dumps([["SET", k, v], ["GET", k]]))
            if self.rnd.random() < 0.4:
                return self.drop(ws.sock, True)
            for v in vals:
                got = json.loads(ws.recv())
                if got != [{"SET": [True, "OK"]}, {"GET": v}]:
                    self.fail("a fresh WebSocket: %r for %s" % (got, v))
        finally:
            ws.close()
        self.helper.call(0, "DEL", k)


# --------------------------------------------------------------------------
# CLIENT PAUSE

class Pauser(Actor):
    """Short CLIENT PAUSE WRITE / ALL, and DEBUG SLEEP, now and then: every
    connection's commands park and resume with their own held input, in
    order."""

    kind = "pause"
    steps = 40
    ops = [("write", 3), ("all", 1), ("stall", 2)]

    def connect(self):
        pass

    def close(self):
        pass

    def pause(self, mode):
        time.sleep(self.rnd.uniform(0.1, 0.4))
        n = self.rnd.randint(10, 60)
        self.check(self.helper.call(0, "CLIENT", "PAUSE", n, mode), b"OK", "CLIENT PAUSE")

    def op_write(self):
        self.pause("WRITE")

    def op_all(self):
        self.pause("ALL")

    def op_stall(self):
        """The server busy for a moment (DEBUG SLEEP): input from every
        connection piles up and is read in one loop iteration."""
        time.sleep(self.rnd.uniform(0.1, 0.3))
        self.check(self.helper.call(0, "DEBUG", "SLEEP", "0.05"), b"OK", "DEBUG SLEEP")
