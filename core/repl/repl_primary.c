/* repl_primary.c — the primary side of replication (repl_primary.h): the
 * clients that became replicas (PSYNC/SYNC), partial resyncs from the
 * backlog, full syncs (a BGSAVE sent from disk as $<len>, or a diskless
 * child writing $EOF:<mark> straight to the sockets, or through a pipe the
 * parent relays to TLS replicas: repl_pipe.c) with the stream held
 * meanwhile, the stream sent to online replicas, their acknowledged
 * offsets (REPLCONF ACK: WAIT, min-replicas-to-write, lag), pings,
 * timeouts, output limits and the backlog's TTL. A replica is a kernel
 * client with CF_REPLICA: it gets no replies, only bytes written through
 * its adapter's raw hook. */
#include "repl_primary.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client.h"
#include "client_info.h"
#include "client_limits.h"
#include "config.h"
#include "kernel.h"
#include "log.h"
#include "multi.h"
#include "rdb.h"
#include "registry.h"
#include "repl.h"
#include "repl_pipe.h"
#include "server.h"
#include "util.h"

struct replica {
    struct client *c;
    enum repl_rstate state;
    bool capa_eof, capa_psync2;
    bool diskless;  /* this full sync is diskless */
    bool via_pipe;  /* ... relayed by the parent (repl_pipe.c: TLS) */
    bool pre_psync; /* came with SYNC: no ACKs, no GETACK */
    bool rdb_only;  /* REPLCONF rdb-only 1: closed after the RDB */
    bool wait_ack;  /* ONLINE after a diskless sync: the stream (held until
                     * then) starts at its first REPLCONF ACK */
    int listening_port;
    char ip[256];              /* REPLCONF ip-address ("" : the peer's) */
    long long ack_off, ack_ms; /* last REPLCONF ACK */
    long long sync_offset;     /* the offset +FULLRESYNC named */
    long long sent_off;        /* ONLINE: the stream up to here is in its output */
    struct sbuf held;          /* the stream while not online */
    long long held_soft_since; /* output limit clock for held */
    int rdb_fd;                /* SEND_BULK: the file being sent */
    long long rdb_off, rdb_size;
    long long wait_start_ms; /* WAIT_BGSAVE_START since */
    int child_slot;          /* its bit in the diskless child's exit status */
    struct replica *next;
};

static struct replica *replicas;
static int nreplicas;

/* The stream offset up to which repl_feed_stream may skip
 * repl_primary_feed (repl.h's feed gate): every online replica's unsent
 * bytes still fit in the backlog, and no replica holds the stream. Any
 * change of a replica's state, and a new replica, open the gate at once;
 * repl_primary_feed and repl_primary_flush set it again. */
static void regate(void)
{
    long long gate = LLONG_MAX;
    long long size = repl_backlog_exists() ? (long long)repl_backlog_size() : 0;
    struct replica *r;
    for (r = replicas; r; r = r->next) {
        if (r->state == REPL_R_ONLINE && !r->wait_ack) {
            if (r->sent_off + size < gate) gate = r->sent_off + size;
        } else if (r->state != REPL_R_WAIT_BGSAVE_START) {
            gate = LLONG_MIN;
            break;
        }
    }
    repl_set_feed_gate(gate);
}

static void set_state(struct replica *r, enum repl_rstate st)
{
    r->state = st;
    repl_set_feed_gate(LLONG_MIN);
}
static long long no_replicas_since_ms; /* for repl-backlog-ttl */

/* The full-sync child. */
static struct {
    int pid; /* 0: none */
    bool diskless;
    long long off; /* g_repl.offset at the fork */
    /* the pipe's part of a diskless sync (repl_pipe.c): its slot in the
     * child's exit status (-1: no pipe), and how the child and the relay
     * ended (-1: not yet, 0: failed, 1: done) */
    int pipe_slot, pipe_child, pipe_relay;
} child = {.pipe_slot = -1, .pipe_child = -1, .pipe_relay = -1};

/* WAIT callers parked until enough replicas acknowledge. */
struct waiter {
    struct client *c;
    const struct command *cmd; /* WAIT: CLIENT UNBLOCK counts it */
    long long offset, deadline_ms;
    int numreplicas;
    struct waiter *next;
};
static struct waiter *waiters;
static bool getack_pending; /* send REPLCONF GETACK at the next tick */

/* Shutdown: SHUTDOWN NOW, and the end of the wait for lagging replicas. */
static bool shutdown_now;
static long long shutdown_deadline; /* 0: not waiting */

/* ==================== replicas ==================== */

static void send_raw(struct replica *r, const void *p, size_t n)
{
    if (r->c->adapter->raw) r->c->adapter->raw(r->c, p, n);
    g_repl_stats.net_repl_output_bytes += (long long)n;
}

static size_t out_pending(struct client *c)
{
    size_t qb = 0, qf = 0, obl = 0, oll = 0, omem = 0;
    if (c->adapter->buffers) c->adapter->buffers(c, &qb, &qf, &obl, &oll, &omem);
    return obl;
}

static struct replica *replica_of(struct client *c)
{
    struct replica *r;
    for (r = replicas; r; r = r->next)
        if (r->c == c) return r;
    return NULL;
}

static void drop(struct replica *r);
static void start_stream(struct replica *r);

static void send_backlog_chunk(void *arg, const void *p, size_t n)
{
    send_raw(arg, p, n);
}

/* Move the stream an online replica has not got yet from the backlog to
 * its output (one copy per replica per loop iteration, not per command).
 * False: the replica was dropped (its bytes had left the backlog, which
 * the drain in repl_primary_feed prevents). */
static bool move_stream(struct replica *r)
{
    if (r->sent_off >= g_repl.offset) return true;
    if (repl_backlog_read(r->sent_off + 1, send_backlog_chunk, r) < 0) {
        log_warning("Replica lost its place in the backlog: disconnecting it");
        drop(r);
        return false;
    }
    r->sent_off = g_repl.offset;
    return true;
}

static void send_bulk(struct replica *r);

void repl_primary_flush(void)
{
    struct replica *r, *next;
    repl_pipe_flush();
    for (r = replicas; r; r = next) {
        next = r->next;
        if (r->state == REPL_R_ONLINE) {
            if (!r->wait_ack) move_stream(r);
        } else if (r->state == REPL_R_SEND_BULK) {
            send_bulk(r);
        }
    }
    regate();
}

bool repl_primary_sending(void)
{
    struct replica *r;
    for (r = replicas; r; r = r->next)
        if (r->state == REPL_R_SEND_BULK && out_pending(r->c) == 0) return true;
    return repl_pipe_busy();
}

/* Called by repl_feed_stream before the n bytes enter the backlog (the
 * offset is still the one before them). Online replicas take them from
 * the backlog at repl_primary_flush; one whose unsent bytes plus these
 * would no longer fit in the ring takes its share now, and bytes larger
 * than the ring itself (or with no backlog) go to it directly. */
void repl_primary_feed(const void *p, size_t n)
{
    struct replica *r, *next;
    size_t size = repl_backlog_exists() ? repl_backlog_size() : 0;
    for (r = replicas; r; r = next) {
        next = r->next;
        if (r->state == REPL_R_ONLINE && !r->wait_ack) {
            if ((size_t)(g_repl.offset - r->sent_off) + n <= size) continue;
            if (!move_stream(r)) continue;
            if (n > size) {
                send_raw(r, p, n);
                r->sent_off = g_repl.offset + (long long)n;
            }
        } else if (r->state != REPL_R_WAIT_BGSAVE_START) {
            sbuf_append(&r->held, p, n);
        }
    }
    regate();
}

int repl_primary_count(void)
{
    return nreplicas;
}

int repl_replicas_online(void)
{
    struct replica *r;
    int n = 0;
    for (r = replicas; r; r = r->next)
        if (r->state == REPL_R_ONLINE) n++;
    return n;
}

static void peer_ip(struct client *c, char *ip, size_t n)
{
    char addr[128], laddr[128], *colon;
    int fd = -1;
    addr[0] = 0;
    if (c->adapter->describe)
        c->adapter->describe(c, addr, sizeof(addr), laddr, sizeof(laddr), &fd);
    colon = strrchr(addr, ':');
    if (colon) *colon = 0;
    snprintf(ip, n, "%s", addr[0] ? addr : "?");
}

/* The socket a diskless child may write to: plain TCP only (a TLS
 * replica's bytes must go through its transport: the parent relays them
 * from a pipe, repl_pipe.c). */
static int client_fd(struct client *c)
{
    return c->adapter->raw_fd ? c->adapter->raw_fd(c) : -1;
}

/* "<ip>:<port>" as Redis names a replica in its log lines. */
static const char *replica_name(struct replica *r, char *buf, size_t n)
{
    char ip[64];
    if (r->ip[0]) {
        snprintf(buf, n, "%.200s:%d", r->ip, r->listening_port);
        return buf;
    }
    peer_ip(r->c, ip, sizeof(ip));
    snprintf(buf, n, "%s:%d", ip, r->listening_port);
    return buf;
}

static void replica_free(struct replica *r)
{
    sbuf_free(&r->held);
    if (r->rdb_fd >= 0) close(r->rdb_fd);
    free(r);
}

static void on_client_free(struct client *c)
{
    struct replica **pp, *r;
    struct waiter **wp, *w;
    for (wp = &waiters; (w = *wp);) {
        if (w->c == c) {
            *wp = w->next;
            free(w);
        } else {
            wp = &w->next;
        }
    }
    for (pp = &replicas; (r = *pp); pp = &r->next) {
        if (r->c == c) {
            char name[300];
            *pp = r->next;
            if (r->via_pipe) repl_pipe_forget(c);
            if (r->state == REPL_R_ONLINE)
                log_notice("Connection with replica %s lost.", replica_name(r, name, sizeof(name)));
            replica_free(r);
            nreplicas--;
            if (nreplicas == 0) no_replicas_since_ms = util_mstime();
            return;
        }
    }
}

static void drop(struct replica *r)
{
    r->c->adapter->close(r->c, false);
}

void repl_disconnect_replicas(void)
{
    struct replica *r, *next;
    for (r = replicas; r; r = next) {
        next = r->next;
        drop(r);
    }
}

/* A client whose handshake is not finished yet keeps its REPLCONF
 * settings here until PSYNC makes it a replica. */
struct pre {
    struct client *c;
    int listening_port;
    char ip[256];
    bool capa_eof, capa_psync2, rdb_only;
    struct pre *next;
};
static struct pre *pres;

static struct pre *pre_of(struct client *c, bool create)
{
    struct pre *p;
    for (p = pres; p; p = p->next)
        if (p->c == c) return p;
    if (!create) return NULL;
    p = xcalloc(1, sizeof(*p));
    p->c = c;
    p->next = pres;
    pres = p;
    return p;
}

static void pre_forget(struct client *c)
{
    struct pre **pp, *p;
    for (pp = &pres; (p = *pp); pp = &p->next) {
        if (p->c == c) {
            *pp = p->next;
            free(p);
            return;
        }
    }
}

static void on_client_free_all(struct client *c)
{
    pre_forget(c);
    on_client_free(c);
}

void repl_primary_init(void)
{
    client_on_free(on_client_free_all);
    no_replicas_since_ms = util_mstime();
}

/* ==================== REPLCONF ==================== */

void repl_primary_set_listening_port(struct client *c, int port)
{
    struct replica *r = replica_of(c);
    if (r)
        r->listening_port = port;
    else
        pre_of(c, true)->listening_port = port;
}

void repl_primary_set_ip(struct client *c, const char *ip, size_t n)
{
    struct replica *r = replica_of(c);
    char *dst = r ? r->ip : pre_of(c, true)->ip;
    if (n >= 256) n = 255;
    memcpy(dst, ip, n);
    dst[n] = 0;
}

void repl_primary_set_capa(struct client *c, bool eof, bool psync2)
{
    struct replica *r = replica_of(c);
    if (r) {
        r->capa_eof |= eof;
        r->capa_psync2 |= psync2;
    } else {
        struct pre *p = pre_of(c, true);
        p->capa_eof |= eof;
        p->capa_psync2 |= psync2;
    }
}

void repl_primary_set_rdb_only(struct client *c, bool on)
{
    struct replica *r = replica_of(c);
    if (r)
        r->rdb_only = on;
    else
        pre_of(c, true)->rdb_only = on;
}

static void waiters_check(void);

void repl_primary_ack(struct client *c, long long offset)
{
    struct replica *r = replica_of(c);
    if (!r) return;
    if (offset > r->ack_off) r->ack_off = offset;
    r->ack_ms = util_mstime();
    if (r->wait_ack && r->state == REPL_R_ONLINE) start_stream(r);
    if (waiters) waiters_check();
}

/* ==================== PSYNC / SYNC ==================== */

static struct replica *attach(struct client *c, bool pre_psync)
{
    struct replica *r = xcalloc(1, sizeof(*r));
    struct pre *p = pre_of(c, false);
    r->c = c;
    r->rdb_fd = -1;
    r->pre_psync = pre_psync;
    r->ack_ms = util_mstime();
    sbuf_init(&r->held);
    if (p) {
        r->listening_port = p->listening_port;
        memcpy(r->ip, p->ip, sizeof(r->ip));
        r->capa_eof = p->capa_eof;
        r->capa_psync2 = p->capa_psync2;
        r->rdb_only = p->rdb_only;
        pre_forget(c);
    }
    {
        /* appended: INFO's slaveN numbers replicas in attach order */
        struct replica **tail = &replicas;
        while (*tail)
            tail = &(*tail)->next;
        *tail = r;
    }
    nreplicas++;
    repl_set_feed_gate(LLONG_MIN);
    c->flags |= CF_REPLICA;
    return r;
}

/* A disk sync's BGSAVE is running for another replica: this one takes the
 * same RDB and a copy of the stream held since the fork (as Redis). */
static bool join_disk_sync(struct replica *r)
{
    struct replica *o;
    char line[96], name[300];
    int len;
    if (!child.pid || child.diskless) return false;
    for (o = replicas; o; o = o->next)
        if (o != r && o->state == REPL_R_WAIT_BGSAVE_END && !o->diskless) break;
    if (!o) return false;
    set_state(r, REPL_R_WAIT_BGSAVE_END);
    r->sync_offset = o->sync_offset;
    sbuf_append(&r->held, o->held.p, o->held.len);
    if (!r->pre_psync) {
        len =
            snprintf(line, sizeof(line), "+FULLRESYNC %s %lld\r\n", g_repl.replid, r->sync_offset);
        send_raw(r, line, (size_t)len);
    }
    log_notice("Waiting for end of BGSAVE for SYNC (%s)", replica_name(r, name, sizeof(name)));
    return true;
}

/* PSYNC replid offset (offset_ok: it parsed) and SYNC (replid NULL). */
void repl_primary_sync(struct client *c, const char *replid, long long offset, bool offset_ok)
{
    struct replica *r;
    char name[300];
    if (replid && offset_ok && repl_can_continue(replid, offset)) {
        char line[80];
        long long n;
        int len;
        r = attach(c, false);
        set_state(r, REPL_R_ONLINE);
        r->ack_off = offset - 1;
        if (r->capa_psync2)
            len = snprintf(line, sizeof(line), "+CONTINUE %s\r\n", g_repl.replid);
        else
            len = snprintf(line, sizeof(line), "+CONTINUE\r\n");
        send_raw(r, line, (size_t)len);
        n = repl_backlog_read(offset, send_backlog_chunk, r);
        r->sent_off = g_repl.offset;
        g_repl_stats.sync_partial_ok++;
        log_notice("Partial resynchronization request from %s accepted. Sending %lld bytes of "
                   "backlog starting from offset %lld.",
                   replica_name(r, name, sizeof(name)), n, offset);
        return;
    }
    r = attach(c, replid == NULL);
    if (replid) {
        if (strcmp(replid, "?") != 0) {
            if (strcasecmp(replid, g_repl.replid) && strcasecmp(replid, g_repl.replid2))
                log_notice("Partial resynchronization not accepted: Replication ID mismatch "
                           "(Replica asked for '%s', my replication IDs are '%s' and '%s')",
                           replid, g_repl.replid, g_repl.replid2);
            else
                log_notice("Unable to partial resync with replica %s for lack of backlog "
                           "(Replica request was: %lld).",
                           replica_name(r, name, sizeof(name)), offset);
            g_repl_stats.sync_partial_err++;
        } else {
            log_notice("Full resync requested by replica %s", replica_name(r, name, sizeof(name)));
        }
    } else {
        log_notice("Replica %s asks for synchronization", replica_name(r, name, sizeof(name)));
    }
    g_repl_stats.sync_full++;
    /* The first replica with no backlog: a new history starts. */
    if (!repl_backlog_exists()) {
        repl_new_replid();
        repl_backlog_ensure();
        log_notice("Replication backlog created, my new replication IDs are '%s' and '%s'",
                   g_repl.replid, g_repl.replid2);
    }
    set_state(r, REPL_R_WAIT_BGSAVE_START);
    r->wait_start_ms = util_mstime();
    /* As Redis: diskless when configured (or for an rdb-only snapshot) and
     * the replica reads the $EOF: form, SYNC included. */
    r->diskless = (g_repl_cfg.diskless_sync || r->rdb_only) && r->capa_eof &&
                  (client_fd(c) >= 0 || c->adapter->raw);
    if (!r->diskless && join_disk_sync(r)) return;
    repl_primary_tick();
}

/* ==================== full syncs ==================== */

static void random_mark(char *out)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[REPL_ID_LEN];
    int i;
    util_random_bytes(raw, sizeof(raw));
    for (i = 0; i < REPL_ID_LEN; i++)
        out[i] = hex[raw[i] & 15];
    out[REPL_ID_LEN] = 0;
}

static bool write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                /* the replica reads slowly: wait, at most repl-timeout */
                struct pollfd pfd = {fd, POLLOUT, 0};
                if (poll(&pfd, 1, rdb_write_wait_ms) > 0) continue;
            }
            return false;
        }
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* The diskless child: for each socket, +FULLRESYNC, $EOF:<mark>, the
 * RDB, the mark. Exit status: bit i set when replica i did not get it. */
#define DISKLESS_MAX 8
static void diskless_child(const int *fds, const bool *pre_psync, int n, const char *replid,
                           long long off)
{
    int i, failed = 0;
    rdb_write_wait_ms = g_repl_cfg.timeout * 1000;
    for (i = 0; i < n; i++) {
        char head[160], mark[REPL_ID_LEN + 1], err[256];
        int len;
        random_mark(mark);
        /* SYNC (pre-PSYNC) gets no +FULLRESYNC line */
        if (pre_psync[i])
            len = snprintf(head, sizeof(head), "$EOF:%s\r\n", mark);
        else
            len = snprintf(head, sizeof(head), "+FULLRESYNC %s %lld\r\n$EOF:%s\r\n", replid, off,
                           mark);
        if (fds[i] < 0 || !write_all(fds[i], head, (size_t)len) ||
            !rdb_save_fd(fds[i], err, sizeof(err)) || !write_all(fds[i], mark, REPL_ID_LEN))
            failed |= 1 << i;
    }
    _exit(failed);
}

static void pipe_relay_done(bool ok);

static bool start_diskless(void)
{
    struct replica *r, *batch[DISKLESS_MAX];
    struct client *piped[DISKLESS_MAX];
    int fds[DISKLESS_MAX], slot[DISKLESS_MAX], n = 0, nfds = 0, npiped = 0, pid, i, wfd = -1;
    bool pre[DISKLESS_MAX];
    for (r = replicas; r && n < DISKLESS_MAX; r = r->next) {
        if (r->state != REPL_R_WAIT_BGSAVE_START || !r->diskless) continue;
        if (out_pending(r->c) > 0) return false; /* earlier replies still leaving */
        /* the pipe takes one of the child's slots: who does not fit waits
         * for the next round */
        if (client_fd(r->c) >= 0 ? nfds + (npiped ? 1 : 0) >= DISKLESS_MAX
                                 : (!npiped && nfds >= DISKLESS_MAX) || repl_pipe_active())
            continue;
        batch[n++] = r;
        if (client_fd(r->c) >= 0) {
            slot[n - 1] = nfds;
            pre[nfds] = r->pre_psync;
            fds[nfds++] = client_fd(r->c);
        } else {
            slot[n - 1] = -1;
            piped[npiped++] = r->c;
        }
    }
    if (n == 0) return false;
    child.pipe_slot = -1;
    if (npiped) {
        if (!repl_pipe_create(&wfd)) return false;
        /* the parent writes +FULLRESYNC to these itself */
        child.pipe_slot = nfds;
        pre[nfds] = true;
        fds[nfds++] = wfd;
    }
    repl_reset_selected_db();
    child.off = g_repl.offset;
    pid = persist_fork(CHILD_REPL);
    if (pid == 0) {
        repl_pipe_child();
        diskless_child(fds, pre, nfds, g_repl.replid, child.off);
    }
    if (pid < 0) {
        log_warning("Can't save in background: fork: %s", strerror(errno));
        repl_pipe_abort();
        return false;
    }
    child.pid = pid;
    child.diskless = true;
    child.pipe_child = child.pipe_relay = -1;
    log_notice("Starting BGSAVE for SYNC with target: replicas sockets");
    log_notice("Background RDB transfer started by pid %d", pid);
    for (i = 0; i < n; i++) {
        r = batch[i];
        set_state(r, REPL_R_WAIT_BGSAVE_END);
        r->sync_offset = child.off;
        r->via_pipe = slot[i] < 0;
        r->child_slot = r->via_pipe ? child.pipe_slot : slot[i];
        r->held.len = 0;
        if (r->via_pipe && !r->pre_psync) {
            char line[96];
            int len =
                snprintf(line, sizeof(line), "+FULLRESYNC %s %lld\r\n", g_repl.replid, child.off);
            send_raw(r, line, (size_t)len);
        }
    }
    if (npiped) repl_pipe_start(piped, npiped, pipe_relay_done);
    return true;
}

static bool start_disk(void)
{
    struct replica *r;
    char err[256];
    bool any = false;
    for (r = replicas; r; r = r->next)
        if (r->state == REPL_R_WAIT_BGSAVE_START && !r->diskless) any = true;
    if (!any) return false;
    repl_reset_selected_db();
    child.off = g_repl.offset;
    if (!rdb_bgsave_start(err, sizeof(err))) {
        log_warning("BGSAVE for replication failed: %s", err);
        for (r = replicas; r; r = r->next)
            if (r->state == REPL_R_WAIT_BGSAVE_START && !r->diskless) drop(r);
        return false;
    }
    child.pid = g_server.child_pid;
    child.diskless = false;
    log_notice("Starting BGSAVE for SYNC with target: disk");
    for (r = replicas; r; r = r->next) {
        char line[96];
        int len;
        if (r->state != REPL_R_WAIT_BGSAVE_START || r->diskless) continue;
        set_state(r, REPL_R_WAIT_BGSAVE_END);
        r->sync_offset = child.off;
        r->held.len = 0;
        if (!r->pre_psync) {
            len = snprintf(line, sizeof(line), "+FULLRESYNC %s %lld\r\n", g_repl.replid, child.off);
            send_raw(r, line, (size_t)len);
        }
    }
    return true;
}

/* The stream held since the fork goes out, then the backlog feeds it. */
static void start_stream(struct replica *r)
{
    r->wait_ack = false;
    if (r->held.len) send_raw(r, r->held.p, r->held.len);
    r->sent_off = g_repl.offset; /* held was the stream since the fork */
    sbuf_free(&r->held);
    sbuf_init(&r->held);
    repl_set_feed_gate(LLONG_MIN);
}

/* The RDB is sent. After a diskless sync ($EOF:<mark> form) the stream
 * starts only at the replica's first REPLCONF ACK, as Redis's
 * repl_start_cmd_stream_on_ack: the replica finds the end of the payload
 * by its last 40 bytes, which stream bytes glued behind the mark in one
 * read would hide (the replica would wait for repl-timeout). */
static void put_online(struct replica *r, bool diskless)
{
    char name[300];
    if (r->rdb_only) {
        /* Only the snapshot was asked for: close once it is written. */
        r->c->adapter->close(r->c, true);
        return;
    }
    set_state(r, REPL_R_ONLINE);
    r->ack_ms = util_mstime();
    if (diskless && !r->pre_psync)
        r->wait_ack = true;
    else
        start_stream(r);
    log_notice("Synchronization with replica %s succeeded", replica_name(r, name, sizeof(name)));
}

/* The replicas fed through the pipe: online once both the child and the
 * relay ended well, dropped as soon as one failed. */
static void pipe_settle(void)
{
    struct replica *r, *next;
    bool ok;
    if (child.pipe_slot < 0) return;
    if (child.pipe_child != 0 && child.pipe_relay != 0 &&
        (child.pipe_child < 0 || child.pipe_relay < 0))
        return; /* the other end is still running */
    ok = child.pipe_child == 1 && child.pipe_relay == 1;
    child.pipe_slot = -1;
    if (!ok) repl_pipe_abort();
    for (r = replicas; r; r = next) {
        next = r->next;
        if (r->state != REPL_R_WAIT_BGSAVE_END || !r->via_pipe) continue;
        r->via_pipe = false;
        if (ok)
            put_online(r, true);
        else
            drop(r);
    }
}

static void pipe_relay_done(bool ok)
{
    child.pipe_relay = ok ? 1 : 0;
    pipe_settle();
}

/* The diskless child ended (persist_cron), or vanished (exitcode -1). */
static void diskless_done(int exitcode, int bysignal)
{
    struct replica *r, *next;
    bool all_ok = !bysignal && exitcode >= 0;
    child.pid = 0;
    if (!bysignal && exitcode == 0)
        log_notice("Background RDB transfer terminated with success");
    else if (bysignal)
        log_warning("Background RDB transfer terminated by signal %d", bysignal);
    else
        log_warning("Background RDB transfer error");
    for (r = replicas; r; r = next) {
        next = r->next;
        if (r->state != REPL_R_WAIT_BGSAVE_END || !r->diskless || r->via_pipe) continue;
        if (all_ok && !(exitcode & (1 << r->child_slot)))
            put_online(r, true);
        else
            drop(r);
    }
    if (child.pipe_slot >= 0) {
        child.pipe_child = all_ok && !(exitcode & (1 << child.pipe_slot)) ? 1 : 0;
        pipe_settle();
    }
}

static void disk_done(bool ok)
{
    struct replica *r, *next;
    child.pid = 0;
    for (r = replicas; r; r = next) {
        struct stat st;
        char line[32];
        int len;
        next = r->next;
        if (r->state != REPL_R_WAIT_BGSAVE_END || r->diskless) continue;
        if (!ok) {
            log_warning("SYNC failed. BGSAVE child returned an error");
            drop(r);
            continue;
        }
        r->rdb_fd = open(g_config.dbfilename, O_RDONLY);
        if (r->rdb_fd < 0 || fstat(r->rdb_fd, &st) < 0) {
            log_warning("SYNC failed. Can't open/stat DB after BGSAVE: %s", strerror(errno));
            drop(r);
            continue;
        }
        r->rdb_off = 0;
        r->rdb_size = st.st_size;
        len = snprintf(line, sizeof(line), "$%lld\r\n", (long long)st.st_size);
        send_raw(r, line, (size_t)len);
        set_state(r, REPL_R_SEND_BULK);
    }
}

/* Move the RDB file to the replica's output as the socket drains. */
static void send_bulk(struct replica *r)
{
    char buf[256 * 1024];
    while (out_pending(r->c) < 4 * sizeof(buf) && r->rdb_off < r->rdb_size) {
        ssize_t n = read(r->rdb_fd, buf, sizeof(buf));
        if (n <= 0) {
            log_warning("Read error sending DB to replica: %s",
                        n < 0 ? strerror(errno) : "premature EOF");
            drop(r);
            return;
        }
        send_raw(r, buf, (size_t)n);
        r->rdb_off += n;
    }
    if (r->rdb_off >= r->rdb_size) {
        close(r->rdb_fd);
        r->rdb_fd = -1;
        put_online(r, false);
    }
}

void repl_primary_child_exit(int type, int pid, int exitcode, int bysignal)
{
    if (!child.pid || pid != child.pid) return;
    if (type == CHILD_REPL)
        diskless_done(exitcode, bysignal);
    else if (type == CHILD_RDB)
        disk_done(!bysignal && exitcode == 0);
}

static bool diskless_ready(void)
{
    struct replica *r;
    long long oldest = 0;
    int n = 0;
    for (r = replicas; r; r = r->next) {
        if (r->state != REPL_R_WAIT_BGSAVE_START || !r->diskless) continue;
        n++;
        if (!oldest || r->wait_start_ms < oldest) oldest = r->wait_start_ms;
    }
    if (n == 0) return false;
    if (g_repl_cfg.diskless_sync_max_replicas > 0 && n >= g_repl_cfg.diskless_sync_max_replicas)
        return true;
    return util_mstime() - oldest >= (long long)g_repl_cfg.diskless_sync_delay * 1000;
}

void repl_primary_tick(void)
{
    struct replica *r, *next;
    if (g_failover_state != FAILOVER_NONE) repl_failover_tick();
    if (!replicas) return;
    /* Our child is gone without persist_cron's report (killed by FLUSHALL
     * or SHUTDOWN): its replicas failed. */
    if (child.pid && g_server.child_pid != child.pid) {
        if (child.diskless)
            diskless_done(-1, 0);
        else
            disk_done(false);
    }
    /* Every replica online with nothing held, no GETACK due (the usual
     * loop iteration): nothing below has work. */
    for (r = replicas; r; r = r->next)
        if (r->state != REPL_R_ONLINE || r->held.len > 0) break;
    if (!r && !getack_pending) return;
    /* (a relay still draining the pipe holds the next diskless sync) */
    if (g_server.child_pid == 0 && !child.pid && child.pipe_slot < 0) {
        if (!start_disk() && diskless_ready()) start_diskless();
    }
    for (r = replicas; r; r = next) {
        next = r->next;
        if (r->state == REPL_R_SEND_BULK) {
            send_bulk(r);
        } else if (r->held.len > 0 &&
                   obuf_limit_reached(r->c, r->held.len + out_pending(r->c), &r->held_soft_since)) {
            drop(r);
        }
    }
    if (getack_pending) {
        static const char getack[] = "*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n";
        getack_pending = false;
        repl_feed_stream(getack, sizeof(getack) - 1);
    }
}

/* ==================== WAIT ==================== */

static int acked(long long offset)
{
    struct replica *r;
    int n = 0;
    for (r = replicas; r; r = r->next)
        if (r->state == REPL_R_ONLINE && r->ack_off >= offset) n++;
    return n;
}

static void waiter_reply(struct waiter *w, int n)
{
    struct reply quiet;
    reply_int(kernel_parked_reply(w->c, &quiet), n);
    kernel_touch(w->c);
    kernel_resume(w->c);
}

static void waiters_check(void)
{
    struct waiter **wp, *w;
    long long now = util_mstime();
    for (wp = &waiters; (w = *wp);) {
        int n = acked(w->offset);
        if (n >= w->numreplicas || (w->deadline_ms && now >= w->deadline_ms)) {
            *wp = w->next;
            waiter_reply(w, n);
            free(w);
        } else {
            wp = &w->next;
        }
    }
}

bool repl_primary_unblock_wait(struct client *c, bool with_error)
{
    struct waiter **wp, *w;
    for (wp = &waiters; (w = *wp); wp = &w->next) {
        if (w->c != c) continue;
        *wp = w->next;
        if (with_error) {
            struct reply quiet;
            reply_error(kernel_parked_reply(c, &quiet),
                        "UNBLOCKED client unblocked via CLIENT UNBLOCK");
            kernel_touch(c);
            kernel_resume(c);
        } else {
            waiter_reply(w, acked(w->offset));
        }
        /* Counted as Redis 7.0 counts it: failed, either way. */
        kernel_count_unblocked(c, w->cmd);
        free(w);
        return true;
    }
    return false;
}

bool repl_primary_wait(struct client *c, const struct command *cmd, int numreplicas,
                       long long timeout_ms, int *now_acked)
{
    struct waiter *w;
    long long offset = c->woff; /* its own last write, as Redis */
    *now_acked = acked(offset);
    if (*now_acked >= numreplicas || (c->flags & (CF_IN_EXEC | CF_MULTI))) return false;
    w = xcalloc(1, sizeof(*w));
    w->c = c;
    w->cmd = cmd;
    w->offset = offset;
    w->numreplicas = numreplicas;
    /* a deadline past the end of time is never reached (as Redis, whose
     * sum wraps into a timeout that never comes) */
    if (timeout_ms > 0) {
        long long now = util_mstime();
        w->deadline_ms = timeout_ms > LLONG_MAX - now ? LLONG_MAX : now + timeout_ms;
    }
    w->next = waiters;
    waiters = w;
    kernel_park(c, NULL);
    getack_pending = true;
    return true;
}

/* ==================== min-replicas-to-write ==================== */

int repl_primary_good_replicas(void)
{
    struct replica *r;
    long long now = util_mstime();
    int n = 0;
    for (r = replicas; r; r = r->next)
        if (r->state == REPL_R_ONLINE &&
            (now - r->ack_ms) / 1000 <= g_repl_cfg.min_replicas_max_lag)
            n++;
    return n;
}

bool repl_primary_refuse(struct client *c, const struct command *cmd, struct reply *rep)
{
    if (!g_repl_cfg.min_replicas_to_write || !g_repl_cfg.min_replicas_max_lag) return false;
    if (repl_is_replica()) return false;
    if (!multi_exec_is_write(c, cmd)) return false;
    if (repl_primary_good_replicas() >= g_repl_cfg.min_replicas_to_write) return false;
    multi_refuse(c, cmd, rep, "NOREPLICAS Not enough good replicas to write.");
    return true;
}

/* ==================== cron ==================== */

/* A TLS replica of the pipe took nothing for repl-timeout. */
static void pipe_timedout(struct client *c)
{
    struct replica *r = replica_of(c);
    char name[300];
    if (!r) return;
    log_warning("Disconnecting timedout replica (full sync): %s",
                replica_name(r, name, sizeof(name)));
    drop(r);
}

void repl_primary_cron(void)
{
    static long long last_ping_ms, last_run_ms;
    struct replica *r, *next;
    long long now = util_mstime();
    if (now - last_run_ms < 1000) return; /* once a second, as Redis's replicationCron */
    last_run_ms = now;
    /* Newlines keep replicas waiting for a disk BGSAVE from timing out. */
    for (r = replicas; r; r = next) {
        next = r->next;
        if (r->state == REPL_R_WAIT_BGSAVE_START ||
            (r->state == REPL_R_WAIT_BGSAVE_END && !r->diskless))
            send_raw(r, "\n", 1);
        /* An online replica that stopped acknowledging. */
        if (r->state == REPL_R_ONLINE && !r->pre_psync &&
            (now - r->ack_ms) / 1000 > g_repl_cfg.timeout) {
            char name[300];
            log_warning("Disconnecting timedout replica (streaming sync): %s",
                        replica_name(r, name, sizeof(name)));
            drop(r);
        }
    }
    /* TLS replicas of a diskless sync that take nothing (repl_pipe.c) */
    repl_pipe_cron((long long)g_repl_cfg.timeout * 1000, pipe_timedout);
    /* PING in the stream every repl-ping-replica-period seconds. */
    if (!replicas) last_ping_ms = now; /* the first ping a period after a replica came */
    if (replicas && now - last_ping_ms >= (long long)g_repl_cfg.ping_replica_period * 1000) {
        static const char ping[] = "*1\r\n$4\r\nPING\r\n";
        last_ping_ms = now;
        /* not while a FAILOVER waits for a replica to catch up */
        if (!repl_is_replica() && g_failover_state == FAILOVER_NONE && !shutdown_deadline)
            repl_feed_stream(ping, sizeof(ping) - 1);
    }
    /* The backlog goes after repl-backlog-ttl seconds with no replica
     * (never on a replica: it may be promoted). */
    if (!replicas && repl_backlog_exists() && !repl_is_replica() && g_repl_cfg.backlog_ttl > 0 &&
        (now - no_replicas_since_ms) / 1000 > g_repl_cfg.backlog_ttl) {
        repl_new_replid();
        repl_backlog_free();
        log_notice("Replication backlog freed after %lld seconds without connected replicas.",
                   g_repl_cfg.backlog_ttl);
    }
    if (waiters) waiters_check();
}

/* ==================== shutdown ==================== */

void repl_shutdown_now(void)
{
    shutdown_now = true;
}

static bool replicas_in_sync(void)
{
    struct replica *r;
    for (r = replicas; r; r = r->next)
        if (r->ack_off != g_repl.offset) return false;
    return true;
}

bool repl_shutdown_wait(void)
{
    long long now = util_mstime();
    struct replica *r;
    if (shutdown_now) return false;
    if (!shutdown_deadline) {
        const struct config_row *row = config_find_row("shutdown-timeout", 16);
        int secs = row && row->e->ptr ? *(const int *)row->e->ptr : 10;
        if (secs <= 0 || repl_is_replica() || replicas_in_sync()) return false;
        shutdown_deadline = now + (long long)secs * 1000;
        kernel_pause(LLONG_MAX, true);
        getack_pending = true;
        log_notice("Waiting for replicas before shutting down.");
        return true;
    }
    if (replicas_in_sync()) {
        log_notice("Replicas are in sync: shutting down.");
        return false;
    }
    if (now < shutdown_deadline) return true;
    for (r = replicas; r; r = r->next) {
        char name[300];
        if (r->ack_off == g_repl.offset) continue;
        log_warning("Lagging replica %s reported offset %lld behind master, lag=%lld, state=%s.",
                    replica_name(r, name, sizeof(name)), g_repl.offset - r->ack_off,
                    (now - r->ack_ms) / 1000, r->state == REPL_R_ONLINE ? "online" : "syncing");
    }
    return false;
}

/* ==================== INFO and ROLE ==================== */

enum failover_state g_failover_state;

const char *repl_failover_state_name(void)
{
    switch (g_failover_state) {
    case FAILOVER_WAIT_FOR_SYNC:
        return "waiting-for-sync";
    case FAILOVER_IN_PROGRESS:
        return "failover-in-progress";
    default:
        return "no-failover";
    }
}

size_t repl_primary_list(struct repl_replica_view *out, size_t max)
{
    struct replica *r;
    size_t n = 0;
    long long now = util_mstime();
    for (r = replicas; r && n < max; r = r->next) {
        struct repl_replica_view *v = &out[n++];
        if (r->ip[0])
            snprintf(v->ip, sizeof(v->ip), "%s", r->ip);
        else
            peer_ip(r->c, v->ip, sizeof(v->ip));
        v->port = r->listening_port;
        v->state = r->state;
        v->offset = r->ack_off;
        v->lag = (now - r->ack_ms) / 1000;
    }
    return n;
}
