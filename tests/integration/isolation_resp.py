"""isolation_resp.py — the RESP actor of test_isolation.py (raw RESP2/RESP3
over TCP, and the same script over a WebSocket in RESP mode or on Webdis's
/.raw) and its transports."""

import time

import websocket

from harness import Incomplete, RawConn, encode, parse_one, reply_end
from test_http_helpers import HttpConn
from isolation_model import *  # noqa: F401,F403 (replies, model, helper, base actor)


# --------------------------------------------------------------------------
# RESP actors (TCP or WebSocket RESP mode)

class TcpTransport:
    can_reply_off = True

    def __init__(self, port):
        self.c = RawConn(port, timeout=TIMEOUT)

    def send(self, data):
        self.c.send(data)

    def read(self, n):
        return self.c.read_replies(n, TIMEOUT)

    def close(self):
        self.c.close()


class WsRespTransport:
    """RESP in binary frames (subprotocol resp2/resp3), or in text frames on
    Webdis's /.raw (proto None)."""
    can_reply_off = False   # CLIENT REPLY OFF/SKIP is refused over WebSocket

    def __init__(self, http_port, proto):
        self.text = proto is None
        if self.text:
            self.ws = websocket.create_connection("ws://127.0.0.1:%d/.raw" % http_port,
                                                  timeout=TIMEOUT)
        else:
            self.ws = websocket.create_connection("ws://127.0.0.1:%d/" % http_port,
                                                  timeout=TIMEOUT, subprotocols=["resp%d" % proto])
        self.buf = b""

    def send(self, data):
        if self.text:
            self.ws.send(data.decode())
        else:
            self.ws.send_binary(data)

    def read(self, n):
        out = []
        pos = 0
        while len(out) < n:
            try:
                end = reply_end(self.buf, pos)
                out.append(self.buf[pos:end])
                pos = end
                continue
            except Incomplete:
                pass
            d = self.ws.recv()
            self.buf += d if isinstance(d, bytes) else d.encode()
        self.buf = self.buf[pos:]
        return out

    def close(self):
        self.ws.close()


def client_info_fields(raw):
    v, _ = parse_one(raw)
    text = bytes(v).decode().strip()
    return dict(kv.split("=", 1) for kv in text.split(" "))


class RespActor(Actor):
    """Raw RESP: pipelined commands, every reply compared byte for byte."""

    ops = [("kv", 30), ("select", 8), ("multi", 10), ("watch", 8), ("name", 6), ("hello", 4),
           ("tracking", 5), ("pubsub", 5), ("auth", 4), ("reply", 4), ("blpop", 5),
           ("big", 3), ("churn", 4), ("parked_push", 3), ("eval", 5), ("reset", 2),
           ("notify", 3)]

    def __init__(self, srv, name, seed, proto=2, ws=False, webdis_raw=False):
        super().__init__(srv, name, seed)
        self.proto = proto
        self.ws = ws or webdis_raw
        self.webdis_raw = webdis_raw
        self.kind = "WS-/.raw" if webdis_raw else ("WS-RESP%d" if ws else "RESP%d") % proto
        self.cname = None

    def connect(self):
        if self.ws:
            self.t = WsRespTransport(self.srv.http, None if self.webdis_raw else self.proto)
        else:
            self.t = TcpTransport(self.srv.port)
            if self.proto == 3:
                self.t.send(encode(["HELLO", "3"]))
                self.t.read(1)
        self.t.send(encode(["CLIENT", "ID"]))
        self.id = parse_one(self.t.read(1)[0])[0]

    def close(self):
        self.t.close()

    def exchange(self, plan):
        """plan: [(cmd or None, expected bytes or a checker or None)]: send
        every command at once, then read one reply per expectation that is
        not None (None: a command without a reply; a None command: a reply
        that comes without one, a push)."""
        data = b"".join(encode(c) for c, _ in plan if c is not None)
        if data:
            self.t.send(data)
        want = [(c, w) for c, w in plan if w is not None]
        got = self.t.read(len(want)) if want else []
        for (c, w), g in zip(want, got):
            if callable(w):
                msg = w(g)
                if msg:
                    self.fail("%r: %s; got %r" % (c, msg, g))
            elif g != w:
                self.fail("%r: expected %r, got %r" % (c, w, g))

    def r(self, v):
        return to_resp(v, self.proto)

    def data_plan(self, n):
        plan = []
        for _ in range(n):
            cmd = random_cmd(self.rnd, self.name)
            plan.append((cmd, self.r(self.model.apply(self.db, cmd, self.user))))
        return plan

    def op_kv(self):
        self.exchange(self.data_plan(self.rnd.randint(1, 8)))

    def op_select(self):
        self.db = self.rnd.randrange(NDB)
        self.exchange([(["SELECT", self.db], self.r(OK))] + self.data_plan(2))

    def op_multi(self):
        plan = [(["MULTI"], self.r(OK))]
        cmds = [random_cmd(self.rnd, self.name) for _ in range(self.rnd.randint(1, 5))]
        bad = self.rnd.random() < 0.15
        aborted = bad
        for c in cmds:
            refused = self.model.refusal(c, self.user)
            aborted = aborted or refused is not None
            plan.append((c, self.r(refused or QUEUED)))
        if bad:
            plan.append((["GET"], self.r(E("ERR wrong number of arguments for 'get' command"))))
        if self.rnd.random() < 0.3:
            plan.append((["DISCARD"], self.r(OK)))
        elif aborted:
            plan.append((["EXEC"], self.r(E_EXECABORT)))
        else:
            res = [self.model.apply(self.db, c, self.user) for c in cmds]
            plan.append((["EXEC"], self.r(res)))
        self.exchange(plan)

    def op_watch(self):
        w = self.key("w")
        self.exchange([(["WATCH", w], self.r(OK))])
        how = self.rnd.randrange(4)
        if how == 0:     # the same key in the same db: the watcher's EXEC aborts
            self.helper.call(self.db, "SET", w, "conflict")
            self.model.data[(self.db, w.encode())] = b"conflict"
        elif how == 1:   # the same key in another db: no conflict
            other = (self.db + 1) % NDB
            self.helper.call(other, "SET", w, "elsewhere")
            self.model.data[(other, w.encode())] = b"elsewhere"
        elif how == 2:   # another of its keys
            self.helper.call(self.db, "SET", self.key("w2"), "other")
            self.model.data[(self.db, self.key("w2").encode())] = b"other"
        cmds = [["SET", w, "mine%d" % self.step], ["GET", w]]
        plan = [(["MULTI"], self.r(OK))] + [(c, self.r(QUEUED)) for c in cmds]
        if how == 0:
            plan.append((["EXEC"], self.r(NULLARR)))
        else:
            plan.append((["EXEC"], self.r([self.model.apply(self.db, c, self.user) for c in cmds])))
        self.exchange(plan)

    def check_info(self, raw):
        f = client_info_fields(raw)
        want = {"id": str(self.id), "name": self.cname or "", "db": str(self.db),
                "user": "u-%s" % self.name if self.user else "default",
                "resp": str(self.proto), "sub": "0", "psub": "0", "multi": "-1"}
        got = {k: f.get(k) for k in want}
        return None if got == want else "CLIENT INFO %r, expected %r" % (got, want)

    def op_name(self):
        self.cname = "n-%s-%d" % (self.name, self.step)
        self.exchange([(["CLIENT", "SETNAME", self.cname], self.r(OK)),
                       (["CLIENT", "GETNAME"], self.r(self.cname.encode())),
                       (["CLIENT", "ID"], self.r(self.id)),
                       (["CLIENT", "INFO"], self.check_info)])
        seen_check(self, self.cname, self.db)

    def op_hello(self):
        self.proto = self.rnd.choice([2, 3])

        def check(raw):
            v, _ = parse_one(raw)
            d = v if isinstance(v, dict) else dict(zip(v[::2], v[1::2]))
            if raw[:1] != (b"%" if self.proto == 3 else b"*"):
                return "HELLO %d answered in the wrong protocol" % self.proto
            if d.get(b"proto") != self.proto or d.get(b"id") != self.id:
                return "HELLO: proto %r id %r, expected %r %r" % (
                    d.get(b"proto"), d.get(b"id"), self.proto, self.id)
            return None
        cmd = ["HELLO", self.proto]
        if self.rnd.random() < 0.4:
            if self.user is None:
                self.user = self.name
                cmd += ["AUTH", "u-%s" % self.name, PW % self.name]
            else:
                self.user = None
                cmd += ["AUTH", "default", "x"]
        if self.rnd.random() < 0.4:
            self.cname = "hello-%s-%d" % (self.name, self.step)
            cmd += ["SETNAME", self.cname]
        self.exchange([(cmd, check)] + self.data_plan(2) + [(["CLIENT", "INFO"], self.check_info)])

    def op_tracking(self):
        if self.rnd.random() < 0.3:
            return self.tracking_redirect()
        if self.proto != 3:
            return self.op_kv()
        how = self.rnd.randrange(3)
        if how == 1:
            return self.tracking_bcast()
        if how == 2:
            return self.tracking_optin()
        k = self.key("s%d" % self.rnd.randrange(4))
        if isinstance(self.model.data.get((self.db, k.encode())), list):
            return
        self.exchange([(["CLIENT", "TRACKING", "on"], self.r(OK)),
                       (["GET", k], self.r(self.model.apply(self.db, ["GET", k], self.user)))])
        self.helper.call(self.db, "SET", k, "t%d" % self.step)
        self.model.data[(self.db, k.encode())] = b"t%d" % self.step
        self.exchange([(None, self.r(Push([b"invalidate", [k.encode()]]))),
                       (["CLIENT", "TRACKING", "off"], self.r(OK))])

    def tracking_redirect(self):
        """REDIRECT to a connection of its own subscribed to
        __redis__:invalidate: the invalidation reaches that one only (every
        actor has such a subscriber now and then: none gets another's)."""
        k = self.key("s%d" % self.rnd.randrange(4))
        with RawConn(self.srv.port, timeout=TIMEOUT) as t:
            tid = parse_one(t.call("CLIENT", "ID"))[0]
            t.send(encode(["SUBSCRIBE", "__redis__:invalidate"]))
            t.read_reply()
            self.exchange([(["CLIENT", "TRACKING", "on", "REDIRECT", tid], self.r(OK)),
                           (["GET", k], self.r(self.model.apply(self.db, ["GET", k], self.user)))])
            self.helper.call(self.db, "SET", k, "r%d" % self.step)
            self.model.data[(self.db, k.encode())] = b"r%d" % self.step
            got = t.read_reply()
            want = to_resp([b"message", b"__redis__:invalidate", [k.encode()]], 2)
            if got != want:
                self.fail("the redirect target got %r, expected %r" % (got, want))
        self.exchange([(["CLIENT", "TRACKING", "off"], self.r(OK))])

    def tracking_bcast(self):
        """BCAST with this actor's prefix (the prefix table is the server's):
        invalidations for its own keys only, none for its own writes under
        NOLOOP."""
        prefix = self.key("t")
        noloop = self.rnd.random() < 0.5
        cmd = ["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", prefix] + (["NOLOOP"] if noloop else [])
        self.exchange([(cmd, self.r(OK))])
        for i in range(self.rnd.randint(1, 3)):
            k = self.key("t%d" % i)
            if noloop:   # its own write: no invalidation
                self.exchange([(["SET", k, "own"], self.r(OK))])
            self.helper.call(self.rnd.randrange(NDB), "SET", k, "x")
            self.exchange([(None, self.r(Push([b"invalidate", [k.encode()]])))])
        self.exchange([(["CLIENT", "TRACKING", "off"], self.r(OK))])
        for i in range(3):
            for d in range(NDB):
                self.helper.call(d, "DEL", self.key("t%d" % i))

    def tracking_optin(self):
        """OPTIN: only the read after CLIENT CACHING yes is tracked."""
        k1, k2 = self.key("o1"), self.key("o2")
        self.exchange([(["CLIENT", "TRACKING", "on", "OPTIN"], self.r(OK)),
                       (["GET", k1], self.r(None)),
                       (["CLIENT", "CACHING", "yes"], self.r(OK)),
                       (["GET", k2], self.r(None))])
        self.helper.call(self.db, "SET", k1, "x")
        self.helper.call(self.db, "SET", k2, "x")
        self.exchange([(None, self.r(Push([b"invalidate", [k2.encode()]]))),
                       (["CLIENT", "TRACKING", "off"], self.r(OK))])
        self.helper.call(self.db, "DEL", k1, k2)

    def op_pubsub(self):
        ch, pat = self.key("ch"), self.key("p.*")
        P = Push
        self.exchange([(["SUBSCRIBE", ch], self.r(P([b"subscribe", ch.encode(), 1]))),
                       (["PSUBSCRIBE", pat], self.r(P([b"psubscribe", pat.encode(), 2])))])
        plan = []
        for i in range(self.rnd.randint(1, 6)):
            m = "m%d-%d" % (self.step, i)
            if i % 2:
                target = self.key("p.%d" % i)
                msg = P([b"pmessage", pat.encode(), target.encode(), m.encode()])
            else:
                target = ch
                msg = P([b"message", ch.encode(), m.encode()])
            n = self.helper.call(self.rnd.randrange(NDB), "PUBLISH", target, m)
            if n != 1:
                self.fail("PUBLISH %s reached %r subscribers, expected 1" % (target, n))
            plan.append((None, self.r(msg)))
        plan += [(["UNSUBSCRIBE", ch], self.r(P([b"unsubscribe", ch.encode(), 1]))),
                 (["PUNSUBSCRIBE", pat], self.r(P([b"punsubscribe", pat.encode(), 0])))]
        self.exchange(plan)

    def op_auth(self):
        if self.user is None:
            self.user = self.name
            plan = [(["AUTH", "u-%s" % self.name, PW % self.name], self.r(OK))]
        else:
            self.user = None
            plan = [(["AUTH", "default", "anything"], self.r(OK))]
        probe = ["EXISTS", "iso:nobody:%s" % self.name]
        plan += [(probe, self.r(self.model.apply(self.db, probe, self.user))),
                 (["CLIENT", "INFO"], self.check_info)] + self.data_plan(3)
        self.exchange(plan)

    def op_reply(self):
        if not self.t.can_reply_off:
            return self.exchange([(["CLIENT", "REPLY", "OFF"], self.r(E_REPLY_OFF))] +
                                 self.data_plan(1))
        if self.rnd.random() < 0.3:
            # a silenced BLPOP: its reply stays silent when another
            # connection's write serves it (or it times out)
            b = self.key("b")
            mode = self.rnd.choice(["SKIP", "OFF"])
            self.t.send(encode(["CLIENT", "REPLY", mode]) + encode(["BLPOP", b, "10"]))
            time.sleep(0.01)
            self.helper.wake(self.rnd, self.db, b, "silent%d" % self.step)
            tail = [(["CLIENT", "REPLY", "ON"], self.r(OK))] if mode == "OFF" else []
            return self.exchange(tail + [(["PING"], self.r(St("PONG")))] + self.data_plan(1))
        plan = [(["CLIENT", "REPLY", "SKIP"], None)]
        c = random_cmd(self.rnd, self.name)
        self.model.apply(self.db, c, self.user)
        plan.append((c, None))
        plan.append((["PING"], self.r(St("PONG"))))
        plan.append((["CLIENT", "REPLY", "OFF"], None))
        for _ in range(self.rnd.randint(0, 3)):
            c = random_cmd(self.rnd, self.name)
            self.model.apply(self.db, c, self.user)
            plan.append((c, None))
        plan.append((["CLIENT", "REPLY", "ON"], self.r(OK)))
        self.exchange(plan + self.data_plan(1))

    def op_eval(self):
        c, want = eval_cmd(self.rnd, self.model, self.name, self.db, self.user)
        self.exchange([(c, self.r(want))] + self.data_plan(2))

    def op_reset(self):
        """RESET: db 0, the default user, no name, RESP2, out of MULTI."""
        plan = []
        if self.rnd.random() < 0.5:
            plan += [(["MULTI"], self.r(OK)), (["SET", self.key("s0"), "lost"], self.r(QUEUED))]
        plan.append((["RESET"], self.r(St("RESET"))))
        self.db, self.user, self.cname, self.proto = 0, None, None, 2
        self.exchange(plan + [(["CLIENT", "INFO"], self.check_info)] + self.data_plan(2))

    def op_notify(self):
        """Keyspace events name the db of the write that made them (the
        server runs with notify-keyspace-events K$g)."""
        k = self.key("n")
        pat = "__keyspace@*__:" + k
        self.exchange([(["PSUBSCRIBE", pat], self.r(Push([b"psubscribe", pat.encode(), 1])))])
        plan = []
        for _ in range(self.rnd.randint(1, 5)):
            d = self.rnd.randrange(NDB)
            ev = self.rnd.choice(["set", "del"])
            if ev == "set":
                self.helper.call(d, "SET", k, "x")
            elif self.helper.call(d, "DEL", k) == 0:
                continue
            plan.append((None, self.r(Push([b"pmessage", pat.encode(),
                                            ("__keyspace@%d__:%s" % (d, k)).encode(),
                                            ev.encode()]))))
        plan.append((["PUNSUBSCRIBE", pat], self.r(Push([b"punsubscribe", pat.encode(), 0]))))
        self.exchange(plan)
        for d in range(NDB):
            self.helper.call(d, "DEL", k)

    def op_big(self):
        """Large values: replies written in pieces, receives in several parts."""
        k = self.key("s%d" % self.rnd.randrange(4))
        v = (self.name * 7 + "%d." % self.step).encode() * self.rnd.randint(2000, 40000)
        plan = [(["SET", k, v], self.r(self.model.apply(self.db, ["SET", k, v], self.user)))]
        plan += self.data_plan(2)
        for _ in range(self.rnd.choice([1, 1, 8])):
            plan.append((["GET", k], self.r(self.model.apply(self.db, ["GET", k], self.user))))
        if self.rnd.random() < 0.3:
            # a slow reader: megabytes wait in its output while others go on
            data = b"".join(encode(c) for c, _ in plan)
            self.t.send(data)
            time.sleep(0.3)
            got = self.t.read(len(plan))
            for (c, w), g in zip(plan, got):
                if g != w:
                    self.fail("%r read late: expected %r..., got %r..." % (c[:2], w[:60], g[:60]))
            return
        self.exchange(plan)

    def op_churn(self):
        """A short-lived connection of its own (TCP): a pipeline in a db of its
        choosing, read whole, or dropped half-read; the actor's own
        connection is unaffected."""
        k = self.key("c%d" % self.step)
        db = self.rnd.randrange(NDB)
        n = self.rnd.randint(1, 60)
        vals = [("%s-%d-%d" % (self.name, self.step, i)).encode() * self.rnd.choice([1, 1, 50, 3000])
                for i in range(n)]
        if self.rnd.random() < 0.2:
            self.garbage()
        with RawConn(self.srv.port, timeout=TIMEOUT) as c:
            data = encode(["SELECT", db])
            for v in vals:
                data += encode(["SET", k, v]) + encode(["GET", k])
            c.send(data)
            if self.rnd.random() < 0.3:
                c.read_replies(self.rnd.randint(1, n))
                return      # closed with replies unread
            got = c.read_replies(1 + 2 * n)
        want = [b"+OK\r\n"]
        for v in vals:
            want += [b"+OK\r\n", to_resp(v, 2)]
        if got != want:
            self.fail("a fresh connection's pipeline: %d replies differ" %
                      sum(1 for g, w in zip(got, want) if g != w))
        self.helper.call(db, "DEL", k)
        self.exchange(self.data_plan(1))

    def garbage(self):
        """A bad client beside the good ones: a protocol error, a request cut
        short, an HTTP request on the RESP port, a bad WebSocket frame."""
        how = self.rnd.randrange(4)
        if how == 3:
            with HttpConn(self.srv.http, timeout=TIMEOUT) as h:
                h.send(b"GET /SET/" + self.key("g").encode() + b" HTTP/1.1\r\nHost: x\r\n"
                       b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "
                       b"dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
                       b"\x81\x05hello")   # unmasked: a protocol error
                h.wait_closed(TIMEOUT)
            return
        with RawConn(self.srv.port if how < 2 else self.srv.http, timeout=TIMEOUT) as c:
            if how == 0:
                c.send(b"*2\r\n$3\r\nGET\r\n$x\r\n")
                got = c.read_reply()
                if not got.startswith(b"-ERR Protocol error"):
                    self.fail("a protocol error answered %r" % got)
            elif how == 1:
                c.send(encode(["SET", self.key("g"), "v" * 1000])[:-500])
            else:
                c.send(b"POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\nshort")

    def op_parked_push(self):
        """RESP3: a tracking invalidation that arrives while BLPOP is parked
        comes before BLPOP's reply; the command after it waits its turn."""
        if self.proto != 3:
            return self.op_blpop()
        k, b = self.key("s%d" % self.rnd.randrange(4)), self.key("b")
        self.exchange([(["CLIENT", "TRACKING", "on"], self.r(OK)),
                       (["GET", k], self.r(self.model.apply(self.db, ["GET", k], self.user)))])
        after = random_write(self.rnd, self.name)
        self.t.send(encode(["BLPOP", b, "10"]) + encode(after))
        time.sleep(0.02)
        self.helper.call(self.db, "SET", k, "pp%d" % self.step)
        self.model.data[(self.db, k.encode())] = b"pp%d" % self.step
        v = "pushed%d" % self.step
        self.helper.wake(self.rnd, self.db, b, v)
        self.exchange([(None, self.r(Push([b"invalidate", [k.encode()]]))),
                       (None, self.r([b.encode(), v.encode()])),
                       (None, self.r(self.model.apply(self.db, after, self.user))),
                       (["CLIENT", "TRACKING", "off"], self.r(OK))])

    def op_blpop(self):
        b = self.key("b")
        if self.rnd.random() < 0.3:
            return self.exchange([(["BLPOP", b, "0.05"], self.r(NULLARR))])
        behind = self.data_plan(self.rnd.randint(0, 3))   # run after BLPOP returns
        self.t.send(encode(["BLPOP", b, "10"]) + b"".join(encode(c) for c, _ in behind))
        if self.rnd.random() < 0.25:   # CLIENT UNBLOCK by id, from another connection
            how = self.rnd.choice(["TIMEOUT", "ERROR"])
            self.helper.unblock(self.id, how)
            first = NULLARR if how == "TIMEOUT" else E_UNBLOCKED
        else:
            time.sleep(self.rnd.choice([0, 0.01, 0.05]))
            v = "pushed%d" % self.step
            self.helper.wake(self.rnd, self.db, b, v)
            first = [b.encode(), v.encode()]
        self.exchange([(None, self.r(first))] + [(None, w) for _, w in behind])
