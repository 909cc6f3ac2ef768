/* repl_link.c — the replica's connection to its primary (repl_link.h), as
 * Redis 7.0's replica drives it, without blocking the event loop: a
 * nonblocking connect; PING; AUTH [masteruser] masterauth, REPLCONF
 * listening-port, REPLCONF ip-address (replica-announce-ip) and REPLCONF
 * capa eof capa psync2 written together and their replies read in turn;
 * PSYNC <replid> <offset+1> (our cached master) or PSYNC ? -1 (an error
 * other than -NOMASTERLINK/-LOADING: SYNC, as Redis 7.0); then either
 * +CONTINUE (the stream goes on) or +FULLRESYNC <replid> <offset> and the
 * RDB, in its disk form ($<len>) or its diskless form ($EOF:<40-byte
 * mark>, the data ends with the mark), written to temp-<time>.<pid>.rdb,
 * renamed over dbfilename and loaded by repl_replica.c, or with
 * repl-diskless-load (swapdb, on-empty-db) read straight into the loader
 * as it arrives (rdb_stream.c: the socket read here, waiting up to
 * repl-timeout, clients served meanwhile); then the stream.
 * A 1 s timer sends REPLCONF ACK <offset>, applies repl-timeout to every
 * state, and reconnects a link that is down. The socket, its buffers and
 * this state machine are this file's; what the bytes mean once the link is
 * up (the master client, the load) is repl_replica.c's. */
#include "repl_link.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "kernel.h"
#include "log.h"
#include "rdb_stream.h"
#include "repl.h"
#include "server.h"
#include "util.h"

#define READ_CHUNK (64 * 1024)
#define LINE_MAX_BYTES (64 * 1024)
#define EOF_MARK_LEN 40

/* Where the handshake is (Redis's REPL_STATE_RECEIVE_* steps). */
enum hs {
    HS_NONE = 0,
    HS_CONNECTING,
    HS_TLS, /* tls-replication: the TLS handshake */
    HS_PING,
    HS_AUTH,
    HS_PORT,
    HS_IP,
    HS_CAPA,
    HS_PSYNC,
    HS_BULKHDR,
    HS_BULK,
    HS_LOADING, /* repl-diskless-load: the payload is loaded as it arrives */
    HS_STREAM,
};

static struct {
    int fd;
    enum hs hs;
    struct event *rev, *wev, *timer, *drop_ev;
    char *in;
    size_t inlen, incap;
    char *out;
    size_t outlen, outcap, outsent;
    long long start_ms; /* connect() began */
    bool cached;        /* PSYNC names our replid/offset */
    bool want_ip;       /* REPLCONF ip-address was sent */
    bool pre_psync;     /* synced with SYNC: the primary takes no REPLCONF ACK */
    bool ack_to_start;  /* SYNC + $EOF: ACKs until the stream starts (the
                           primary starts it on an ACK once the replica is
                           online: ours may have come too early) */
    void *tls;          /* the transport's handle (tls-replication), or NULL */
    /* the full sync */
    char psync_replid[REPL_ID_LEN + 1];
    long long psync_offset;
    char tmpfile[256];
    int tfd;
    bool to_memory;  /* repl-diskless-load: the RDB goes to the loader, not a file */
    bool abort_load; /* the link was cancelled while the load waits for bytes */
    bool eof_mode;
    char eofmark[EOF_MARK_LEN];
    bool drop_pending;
} L = {.fd = -1, .tfd = -1};

static void on_read(evutil_socket_t fd, short what, void *arg);
static void on_write(evutil_socket_t fd, short what, void *arg);
static void tls_step(void);

static const struct repl_link_transport *transport;

void repl_link_set_transport(const struct repl_link_transport *t)
{
    transport = t;
}

static ssize_t link_read(void *buf, size_t n)
{
    if (L.tls) return (ssize_t)transport->read(L.tls, buf, n);
    return read(L.fd, buf, n);
}

static ssize_t link_write(const void *buf, size_t n)
{
    if (L.tls) return (ssize_t)transport->write(L.tls, buf, n);
    return write(L.fd, buf, n);
}

static const struct repl_link_ops *ops;

void repl_link_set_ops(const struct repl_link_ops *o)
{
    ops = o;
}

/* ---- output ---- */

static void out_append(const char *p, size_t n)
{
    if (L.outcap - L.outlen < n) {
        L.outcap = (L.outlen + n) * 2;
        L.out = xrealloc(L.out, L.outcap);
    }
    memcpy(L.out + L.outlen, p, n);
    L.outlen += n;
}

/* One command in RESP, as the primary reads any client's. */
static void out_command(int argc, const char *const *argv)
{
    char hdr[32];
    int i;
    out_append(hdr, (size_t)snprintf(hdr, sizeof(hdr), "*%d\r\n", argc));
    for (i = 0; i < argc; i++) {
        size_t n = strlen(argv[i]);
        out_append(hdr, (size_t)snprintf(hdr, sizeof(hdr), "$%zu\r\n", n));
        out_append(argv[i], n);
        out_append("\r\n", 2);
    }
}

static void out_flush(void)
{
    while (L.fd >= 0 && L.outsent < L.outlen) {
        ssize_t w = link_write(L.out + L.outsent, L.outlen - L.outsent);
        if (w > 0) {
            L.outsent += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            event_add(L.wev, NULL);
            return;
        }
        return; /* the read side sees the error */
    }
    L.outlen = L.outsent = 0;
}

/* ---- closing ---- */

static void close_tmpfile(bool remove)
{
    if (L.tfd >= 0) close(L.tfd);
    L.tfd = -1;
    if (remove && L.tmpfile[0]) unlink(L.tmpfile);
    L.tmpfile[0] = 0;
}

void repl_link_cancel(void)
{
    bool was_streaming = L.hs == HS_STREAM;
    bool was_up = g_repl_master.state == REPL_LINK_CONNECTED;
    if (L.hs == HS_LOADING) {
        /* a command served while the load waits: the load fails at its
         * next read and closes the link then */
        L.abort_load = true;
        return;
    }
    if (L.rev) event_free(L.rev);
    if (L.wev) event_free(L.wev);
    L.rev = L.wev = NULL;
    if (L.tls) transport->free(L.tls);
    L.tls = NULL;
    if (L.fd >= 0) close(L.fd);
    L.fd = -1;
    close_tmpfile(true);
    L.inlen = L.outlen = L.outsent = 0;
    if (was_streaming) L.cached = true; /* what was applied is where we continue */
    L.hs = HS_NONE;
    if (ops) ops->lost();
    if (was_up) g_repl_master.down_since_ms = util_mstime();
    g_repl_master.sync_in_progress = false;
    g_repl_master.transfer_size = -1;
    g_repl_master.transfer_read = 0;
    if (repl_is_replica()) g_repl_master.state = REPL_LINK_CONNECT;
}

static void drop_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    L.drop_pending = false;
    if (L.fd >= 0) {
        log_notice("Connection with master lost.");
        repl_link_cancel();
    }
    kernel_after_events();
}

void repl_link_drop_later(void)
{
    if (L.drop_pending || !g_server.base) return;
    if (!L.drop_ev) L.drop_ev = event_new(g_server.base, -1, 0, drop_cb, NULL);
    L.drop_pending = true;
    event_active(L.drop_ev, EV_TIMEOUT, 0);
}

void repl_link_set_cached(bool cached)
{
    L.cached = cached;
}

/* ---- the handshake ---- */

static bool stream_transfer(void);
static bool transfer_loaded(void);

static void fail(const char *why)
{
    if (why) log_warning("%s", why);
    repl_link_cancel();
}

void repl_link_send_ack(void)
{
    char off[24];
    const char *argv[3] = {"REPLCONF", "ACK", off};
    if (L.fd < 0 || L.hs != HS_STREAM || (L.pre_psync && !L.ack_to_start)) return;
    snprintf(off, sizeof(off), "%lld", g_repl.offset);
    out_command(3, argv);
    out_flush();
}

static void send_handshake(void)
{
    char port[16];
    const char *a[6];
    const char *user = NULL, *pass = NULL, *ip = NULL;
    int p = 0;
    if (ops) ops->handshake(&user, &pass, &ip, &p);
    if (!p) p = g_config.port;
    if (pass && *pass) {
        a[0] = "AUTH";
        if (user && *user) {
            a[1] = user;
            a[2] = pass;
            out_command(3, a);
        } else {
            a[1] = pass;
            out_command(2, a);
        }
    }
    snprintf(port, sizeof(port), "%d", p);
    a[0] = "REPLCONF";
    a[1] = "listening-port";
    a[2] = port;
    out_command(3, a);
    L.want_ip = ip && *ip;
    if (L.want_ip) {
        a[1] = "ip-address";
        a[2] = ip;
        out_command(3, a);
    }
    a[1] = "capa";
    a[2] = "eof";
    a[3] = "capa";
    a[4] = "psync2";
    out_command(5, a);
    out_flush();
    L.hs = (pass && *pass) ? HS_AUTH : HS_PORT;
}

static void send_psync(void)
{
    char off[24];
    const char *a[4] = {"PSYNC", "?", "-1", "FAILOVER"};
    if (L.cached) {
        a[1] = g_repl.replid;
        snprintf(off, sizeof(off), "%lld", g_repl.offset + 1);
        a[2] = off;
        log_notice("Trying a partial resynchronization (request %s:%s).", a[1], off);
    } else {
        log_notice("Partial resynchronization not possible (no cached master)");
    }
    /* Our FAILOVER hands over to this primary (repl_failover.c). */
    out_command(repl_failover_in_progress() ? 4 : 3, a);
    out_flush();
    L.hs = HS_PSYNC;
    L.pre_psync = L.ack_to_start = false;
}

static bool open_tmpfile(void)
{
    snprintf(L.tmpfile, sizeof(L.tmpfile), "temp-%lld.%ld.rdb", (long long)time(NULL),
             (long)getpid());
    L.tfd = open(L.tmpfile, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);
    if (L.tfd < 0) {
        log_warning("Opening the temp file needed for MASTER <-> REPLICA synchronization: %s",
                    strerror(errno));
        L.tmpfile[0] = 0;
        return false;
    }
    return true;
}

/* +FULLRESYNC (or SYNC sent): the RDB comes next, into a temp file. False:
 * the link was closed. */
static bool begin_transfer(void)
{
    L.cached = false; /* as Redis: the cached master is discarded */
    L.to_memory = ops->use_memory && ops->use_memory();
    if (!L.to_memory && !open_tmpfile()) {
        fail(NULL);
        return false;
    }
    L.hs = HS_BULKHDR;
    g_repl_master.state = REPL_LINK_TRANSFER;
    g_repl_master.sync_in_progress = true;
    g_repl_master.transfer_size = -1;
    g_repl_master.transfer_read = 0;
    g_repl_master.transfer_last_io_ms = util_mstime();
    return true;
}

/* A reply line of the handshake (without its CRLF). False: the link was
 * closed. */
static bool handle_line(char *line)
{
    switch (L.hs) {
    case HS_PING:
        if (line[0] == '-' && strncmp(line, "-NOAUTH", 7) != 0 &&
            strncmp(line, "-NOPERM", 7) != 0 &&
            strncmp(line, "-ERR operation not permitted", 28) != 0) {
            log_warning("Error reply to PING from master: '%s'", line);
            fail(NULL);
            return false;
        }
        log_notice("Master replied to PING, replication can continue...");
        send_handshake();
        return true;
    case HS_AUTH:
        if (line[0] == '-') {
            log_warning("Unable to AUTH to MASTER: %s", line);
            fail(NULL);
            return false;
        }
        L.hs = HS_PORT;
        return true;
    case HS_PORT:
        if (line[0] == '-')
            log_notice("(Non critical) Master does not understand REPLCONF listening-port: %s",
                       line);
        L.hs = L.want_ip ? HS_IP : HS_CAPA;
        return true;
    case HS_IP:
        if (line[0] == '-')
            log_notice("(Non critical) Master does not understand REPLCONF ip-address: %s", line);
        L.hs = HS_CAPA;
        return true;
    case HS_CAPA:
        if (line[0] == '-')
            log_notice("(Non critical) Master does not understand REPLCONF capa: %s", line);
        send_psync();
        return true;
    case HS_PSYNC:
        if (line[0] == 0) return true; /* a newline keeping the link alive */
        if (!strncmp(line, "+FULLRESYNC", 11)) {
            char *id = line + 11, *sp;
            while (*id == ' ')
                id++;
            sp = strchr(id, ' ');
            if (!sp || sp - id != REPL_ID_LEN) {
                log_warning("Master replied with wrong +FULLRESYNC syntax.");
                memset(L.psync_replid, 0, sizeof(L.psync_replid));
                L.psync_offset = -1;
            } else {
                memcpy(L.psync_replid, id, REPL_ID_LEN);
                L.psync_replid[REPL_ID_LEN] = 0;
                L.psync_offset = strtoll(sp + 1, NULL, 10);
            }
            log_notice("Full resync from master: %s:%lld", L.psync_replid, L.psync_offset);
            repl_failover_psync_done(true);
            return begin_transfer();
        }
        if (!strncmp(line, "+CONTINUE", 9)) {
            char *id = line + 9;
            while (*id == ' ')
                id++;
            log_notice("Successful partial resynchronization with master.");
            repl_failover_psync_done(true);
            if (strlen(id) >= REPL_ID_LEN) {
                id[REPL_ID_LEN] = 0;
                if (strcmp(id, g_repl.replid) != 0)
                    log_notice("Master replication ID changed to %s", id);
            } else {
                id = NULL;
            }
            ops->cont(id);
            L.hs = HS_STREAM;
            g_repl_master.state = REPL_LINK_CONNECTED;
            g_repl_master.down_since_ms = 0;
            log_notice("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.");
            return true;
        }
        if (repl_failover_in_progress()) {
            /* our FAILOVER's target refused: the failover is aborted */
            repl_failover_psync_done(false);
            fail(NULL);
            return false;
        }
        if (!strncmp(line, "-NOMASTERLINK", 13) || !strncmp(line, "-LOADING", 8)) {
            log_notice("Master is currently unable to PSYNC but should be in the future: %s", line);
            fail(NULL);
            return false;
        }
        /* As Redis 7.0: any other answer (an -ERR of a primary without
         * PSYNC, a -NOPERM of a user that may not run it) falls back to
         * SYNC, whose reply is the RDB payload with no +FULLRESYNC line. */
        if (strncmp(line, "-ERR", 4) != 0)
            log_warning("Unexpected reply to PSYNC from master: %s", line);
        else
            log_notice("Master does not support PSYNC or is in error state (reply: %s)", line);
        log_notice("Retrying with SYNC...");
        out_append("SYNC\r\n", 6); /* inline, as Redis writes it */
        out_flush();
        /* The primary names no history: a new id of our own, offset 0 (no
         * replica of ours can continue across this load). */
        repl_new_replid();
        memcpy(L.psync_replid, g_repl.replid, REPL_ID_LEN + 1);
        L.psync_offset = 0;
        L.pre_psync = true;
        return begin_transfer();
    case HS_BULKHDR:
        if (line[0] == 0) return true; /* the primary is still preparing the RDB */
        if (line[0] == '-') {
            log_warning("MASTER aborted replication with an error: %s", line + 1);
            fail(NULL);
            return false;
        }
        if (line[0] != '$') {
            log_warning("Bad protocol from MASTER, the first byte is not '$' (we received '%s'), "
                        "are you sure the host and port are right?",
                        line);
            fail(NULL);
            return false;
        }
        if (!strncmp(line + 1, "EOF:", 4) && strlen(line + 5) >= EOF_MARK_LEN) {
            L.eof_mode = true;
            memcpy(L.eofmark, line + 5, EOF_MARK_LEN);
            g_repl_master.transfer_size = -1;
            log_notice("MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF %s",
                       L.to_memory ? "to parser" : "to disk");
        } else {
            L.eof_mode = false;
            g_repl_master.transfer_size = strtoll(line + 1, NULL, 10);
            log_notice("MASTER <-> REPLICA sync: receiving %lld bytes from master %s",
                       g_repl_master.transfer_size, L.to_memory ? "to parser" : "to disk");
        }
        if (L.to_memory) return stream_transfer();
        L.hs = HS_BULK;
        return true;
    default:
        return true;
    }
}

static bool write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* Payload bytes into the temp file. */
static bool sink_write(const char *p, size_t n)
{
    return write_all(L.tfd, p, n);
}

/* The RDB is in the file: load it. False: the link was closed. */
static bool finish_transfer(void)
{
    const char *dest = g_config.dbfilename;
    if (fsync(L.tfd) == -1) {
        /* not fatal: the data is loaded from the file right away */
    }
    close(L.tfd);
    L.tfd = -1;
    if (rename(L.tmpfile, dest) == -1) {
        log_warning("Failed trying to rename the temp DB into %s in MASTER <-> REPLICA "
                    "synchronization: %s",
                    dest, strerror(errno));
        fail(NULL);
        return false;
    }
    L.tmpfile[0] = 0;
    g_repl_master.sync_in_progress = false;
    if (!ops->load(dest, L.psync_replid, L.psync_offset)) {
        fail(NULL);
        return false;
    }
    return transfer_loaded();
}

/* The payload is loaded: the stream comes next. */
static bool transfer_loaded(void)
{
    L.hs = HS_STREAM;
    g_repl_master.state = REPL_LINK_CONNECTED;
    g_repl_master.down_since_ms = 0;
    g_repl_master.last_io_ms = util_mstime();
    /* a diskless primary starts the stream after our first ACK (Redis
     * sends it after an $EOF: transfer even to a primary it SYNCed with) */
    L.ack_to_start = L.pre_psync && L.eof_mode;
    repl_link_send_ack();
    return true;
}

/* ---- repl-diskless-load: the payload loaded as it arrives ---- */

#define WAIT_SLICE_MS 100

/* rdb_stream's read: the socket (TLS or not), waiting for it up to
 * repl-timeout with clients served every WAIT_SLICE_MS meanwhile (the
 * load pumps between keys too, loading.c). */
static long stream_read(void *ctx, void *buf, size_t n)
{
    long long timeout = (long long)g_repl_cfg.timeout * 1000, since = util_mstime();
    (void)ctx;
    for (;;) {
        ssize_t k;
        long long now;
        if (L.abort_load || L.fd < 0) return -1;
        k = link_read(buf, n);
        if (k > 0) {
            now = util_mstime();
            g_repl_master.last_io_ms = g_repl_master.transfer_last_io_ms = now;
            g_repl_master.transfer_read += k;
            g_repl_stats.net_repl_input_bytes += k;
            g_server.net_input_bytes += k;
            return (long)k;
        }
        if (k == 0) {
            log_warning("I/O error trying to sync with MASTER: connection lost");
            return 0;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            log_warning("I/O error trying to sync with MASTER: %s", strerror(errno));
            return -1;
        }
        now = util_mstime();
        if (now - since > timeout) {
            log_warning("Timeout receiving bulk data from MASTER... If the problem persists try "
                        "to set the 'repl-timeout' parameter in redis.conf to a larger value.");
            return -1;
        }
        if (L.tls && transport->pending(L.tls) > 0) continue;
        {
            struct pollfd pfd = {.fd = L.fd, .events = POLLIN, .revents = 0};
            if (poll(&pfd, 1, WAIT_SLICE_MS) == 0) kernel_pump_events();
        }
    }
}

/* The header named a diskless load's payload: load it from the socket
 * now (the bytes after the header are in L.in); what follows it stays in
 * L.in for the stream. False: the link was closed. */
static bool stream_transfer(void)
{
    struct rdb_stream_src src;
    unsigned char *rest = NULL;
    size_t nrest = 0;
    bool ok;
    memset(&src, 0, sizeof(src));
    src.read = stream_read;
    src.pre = (const unsigned char *)L.in;
    src.npre = L.inlen;
    src.len = L.eof_mode ? -1 : g_repl_master.transfer_size;
    src.mark = L.eofmark;
    g_repl_master.transfer_read = (long long)L.inlen;
    L.hs = HS_LOADING;
    L.abort_load = false;
    event_del(L.rev); /* the load reads the socket itself */
    ok = ops->load_stream(&src, L.psync_replid, L.psync_offset, &rest, &nrest);
    L.hs = HS_BULK;
    g_repl_master.sync_in_progress = false;
    if (L.fd >= 0 && L.rev) event_add(L.rev, NULL);
    if (!ok || L.abort_load) {
        free(rest);
        fail(NULL);
        return false;
    }
    L.inlen = 0;
    if (nrest) {
        if (L.incap < nrest) {
            L.incap = nrest + READ_CHUNK;
            L.in = xrealloc(L.in, L.incap);
        }
        memcpy(L.in, rest, nrest);
        L.inlen = nrest;
    }
    free(rest);
    return transfer_loaded();
}

/* Bulk data in L.in: returns bytes consumed, -1 when the link closed. */
static long long take_bulk(void)
{
    size_t take;
    if (!L.eof_mode) {
        long long left = g_repl_master.transfer_size - g_repl_master.transfer_read;
        take = L.inlen < (size_t)left ? L.inlen : (size_t)left;
        if (take && !sink_write(L.in, take)) goto werr;
        g_repl_master.transfer_read += (long long)take;
        if (g_repl_master.transfer_read == g_repl_master.transfer_size) {
            /* consume first: finish_transfer may apply what follows */
            return finish_transfer() ? (long long)take : -1;
        }
        return (long long)take;
    } else {
        char *m = memmem(L.in, L.inlen, L.eofmark, EOF_MARK_LEN);
        if (m) {
            take = (size_t)(m - L.in);
            if (take && !sink_write(L.in, take)) goto werr;
            g_repl_master.transfer_read += (long long)take;
            return finish_transfer() ? (long long)(take + EOF_MARK_LEN) : -1;
        }
        /* keep what could be the start of the mark */
        take = L.inlen > EOF_MARK_LEN - 1 ? L.inlen - (EOF_MARK_LEN - 1) : 0;
        if (take && !sink_write(L.in, take)) goto werr;
        g_repl_master.transfer_read += (long long)take;
        return (long long)take;
    }
werr:
    log_warning("Write error or short write writing to the DB dump file needed for MASTER <-> "
                "REPLICA synchronization: %s",
                strerror(errno));
    fail(NULL);
    return -1;
}

static void consume(size_t n)
{
    if (n == 0) return;
    memmove(L.in, L.in + n, L.inlen - n);
    L.inlen -= n;
}

/* Everything the input buffer holds, as far as it goes. */
static void process(void)
{
    for (;;) {
        if (L.fd < 0) return;
        if (L.hs == HS_STREAM) {
            long long used;
            if (L.inlen > 0) L.ack_to_start = false; /* the stream has started */
            used = ops->apply(L.in, L.inlen);
            if (used < 0) {
                fail("Dropping the link with the master after a protocol error.");
                return;
            }
            consume((size_t)used);
            return;
        }
        if (L.hs == HS_BULK) {
            long long used;
            size_t before = L.inlen;
            if (L.inlen == 0) return;
            used = take_bulk();
            if (used < 0) return;
            consume((size_t)used);
            if (L.hs == HS_BULK && ((size_t)used == 0 || L.inlen == before)) return;
            continue;
        }
        {
            char *nl = memchr(L.in, '\n', L.inlen);
            size_t n;
            if (!nl) {
                if (L.inlen > LINE_MAX_BYTES) fail("The master sent an over-long reply line.");
                return;
            }
            n = (size_t)(nl - L.in) + 1;
            *nl = 0;
            if (nl > L.in && nl[-1] == '\r') nl[-1] = 0;
            {
                char line[LINE_MAX_BYTES + 1];
                memcpy(line, L.in, n);
                consume(n);
                if (!handle_line(line)) return;
            }
        }
    }
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
    ssize_t n;
    (void)what;
    (void)arg;
    if (L.incap - L.inlen < READ_CHUNK) {
        /* geometric: a big value in the stream is not copied once a read */
        size_t want = L.inlen + READ_CHUNK;
        L.incap = L.incap * 2 > want ? L.incap * 2 : want * 2;
        L.in = xrealloc(L.in, L.incap);
    }
    if (L.hs == HS_TLS) {
        tls_step();
        return;
    }
    n = link_read(L.in + L.inlen, L.incap - L.inlen);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    if (n <= 0) {
        if (n == 0)
            log_notice("Connection with master lost.");
        else
            log_warning("Error reading from MASTER: %s", strerror(errno));
        repl_link_cancel();
        kernel_after_events();
        return;
    }
    L.inlen += (size_t)n;
    g_repl_master.last_io_ms = util_mstime();
    /* the primary's newlines while it prepares the RDB count too */
    if (L.hs == HS_BULK || L.hs == HS_BULKHDR)
        g_repl_master.transfer_last_io_ms = g_repl_master.last_io_ms;
    g_repl_stats.net_repl_input_bytes += n;
    g_server.net_input_bytes += n;
    process();
    /* a buffer grown by a big command is given back once drained */
    if (L.inlen == 0 && L.incap > 4 * 1024 * 1024) {
        free(L.in);
        L.in = NULL;
        L.incap = 0;
    }
    /* TLS: records already decrypted are read now, the socket may stay quiet */
    if (L.tls && L.rev && transport->pending(L.tls) > 0) event_active(L.rev, EV_READ, 0);
    kernel_after_events(); /* clients our writes woke or touched */
}

/* The socket is connected (and TLS set up): the handshake's PING. */
static void start_ping(void)
{
    const char *ping[1] = {"PING"};
    log_notice("Non blocking connect for SYNC fired the event.");
    L.hs = HS_PING;
    g_repl_master.state = REPL_LINK_HANDSHAKE;
    out_command(1, ping);
    out_flush();
}

/* The TLS handshake goes one step further (its socket was ready). */
static void tls_step(void)
{
    bool want_write = false;
    int r = transport->handshake(L.tls, &want_write);
    if (r < 0) {
        repl_link_cancel();
        return;
    }
    if (r == 0) {
        if (want_write) event_add(L.wev, NULL);
        return;
    }
    start_ping();
}

static void on_write(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    if (L.hs == HS_TLS) {
        tls_step();
        return;
    }
    if (L.hs == HS_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof(err);
        if (getsockopt(L.fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1) err = errno;
        if (err) {
            log_warning("Error condition on socket for SYNC: %s", strerror(err));
            repl_link_cancel();
            return;
        }
        log_notice("MASTER <-> REPLICA sync started");
        event_add(L.rev, NULL);
        if (transport && transport->enabled()) {
            /* tls-replication: the handshake first, then PING */
            if (!(L.tls = transport->wrap(L.fd))) {
                repl_link_cancel();
                return;
            }
            L.hs = HS_TLS;
            g_repl_master.state = REPL_LINK_HANDSHAKE;
            tls_step();
            return;
        }
        start_ping();
    }
    out_flush();
}

/* ---- connecting ---- */

static int tcp_connect(const char *host, int port)
{
    struct addrinfo hints, *res, *ai;
    char portbuf[16];
    int fd = -1, one = 1;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(portbuf, sizeof(portbuf), "%d", port);
    if (getaddrinfo(host, portbuf, &hints, &res) != 0) return -1;
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
        if (fd == -1) continue;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 || errno == EINPROGRESS) break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

static void on_timer(evutil_socket_t fd, short what, void *arg);

static void ensure_timer(void)
{
    struct timeval tv = {1, 0};
    if (L.timer || !g_server.base) return;
    L.timer = event_new(g_server.base, -1, EV_PERSIST, on_timer, NULL);
    event_add(L.timer, &tv);
}

void repl_link_stop_timer(void)
{
    if (L.timer) event_free(L.timer);
    L.timer = NULL;
}

void repl_link_connect(void)
{
    ensure_timer();
    if (L.fd >= 0 || !repl_is_replica() || !g_server.base) return;
    L.fd = tcp_connect(g_repl_master.host, g_repl_master.port);
    if (L.fd < 0) {
        log_warning("Unable to connect to MASTER: %s", strerror(errno));
        g_repl_master.state = REPL_LINK_CONNECT;
        return;
    }
    L.rev = event_new(g_server.base, L.fd, EV_READ | EV_PERSIST, on_read, NULL);
    L.wev = event_new(g_server.base, L.fd, EV_WRITE, on_write, NULL);
    event_add(L.wev, NULL);
    L.hs = HS_CONNECTING;
    L.start_ms = util_mstime();
    g_repl_master.state = REPL_LINK_CONNECTING;
    g_repl_master.transfer_size = -1;
    g_repl_master.transfer_read = 0;
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    long long now = util_mstime(), timeout = (long long)g_repl_cfg.timeout * 1000;
    (void)fd;
    (void)what;
    (void)arg;
    if (!repl_is_replica()) return;
    if (L.hs >= HS_CONNECTING && L.hs <= HS_PSYNC && now - L.start_ms > timeout) {
        log_warning("Timeout connecting to the MASTER...");
        repl_link_cancel();
    } else if ((L.hs == HS_BULKHDR || L.hs == HS_BULK) &&
               now - g_repl_master.transfer_last_io_ms > timeout) {
        log_warning("Timeout receiving bulk data from MASTER... If the problem persists try to "
                    "set the 'repl-timeout' parameter in redis.conf to a larger value.");
        repl_link_cancel();
    } else if (L.hs == HS_STREAM && now - g_repl_master.last_io_ms > timeout) {
        log_warning("MASTER timeout: no data nor PING received...");
        repl_link_cancel();
    }
    if (L.fd < 0) {
        if (g_repl_master.state == REPL_LINK_CONNECT)
            log_notice("Connecting to MASTER %s:%d", g_repl_master.host, g_repl_master.port);
        repl_link_connect();
    } else if (L.hs == HS_STREAM) {
        repl_link_send_ack();
    }
    kernel_after_events();
}

long long repl_link_read_offset(void)
{
    if (L.hs != HS_STREAM || !ops) return g_repl.offset;
    return g_repl.offset + (long long)ops->pending() + (long long)L.inlen;
}

/* ---- CLIENT LIST ---- */

static void fmt_addr(const struct sockaddr_storage *ss, char *buf, size_t len)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &s->sin_addr, ip, sizeof(ip));
        port = ntohs(s->sin_port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof(ip));
        port = ntohs(s->sin6_port);
    }
    snprintf(buf, len, "%s:%d", ip, port);
}

void repl_link_describe(char *addr, size_t alen, char *laddr, size_t llen, int *fd)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    *fd = L.fd;
    if (L.fd < 0) return;
    if (getpeername(L.fd, (struct sockaddr *)&ss, &sl) == 0) fmt_addr(&ss, addr, alen);
    sl = sizeof(ss);
    if (getsockname(L.fd, (struct sockaddr *)&ss, &sl) == 0) fmt_addr(&ss, laddr, llen);
}
