/* repl.c — the replication state both sides share (repl.h): the
 * replication id pair and offset, the backlog ring (the last
 * repl-backlog-size bytes of the stream), Redis 7.0's rule for whether a
 * PSYNC can continue, and feeding the stream (a primary's own propagated
 * commands, with SELECT when the database changes; a replica's applied
 * bytes verbatim) into the backlog and to the replicas repl_primary.c
 * keeps. The link to a primary (g_repl_master) is defined here and filled
 * by the replica side. */
#include "repl.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client.h"
#include "kernel.h"
#include "propagate.h"
#include "rdb.h" /* struct sbuf */
#include "util.h"

struct repl_info g_repl;
struct repl_master_link g_repl_master;
struct repl_config g_repl_cfg = {
    .backlog_size = 1024 * 1024,
    .backlog_ttl = 3600,
    .diskless_sync = 1,
    .diskless_sync_delay = 5,
    .ping_replica_period = 10,
    .timeout = 60,
    .min_replicas_max_lag = 10,
};
struct repl_stats g_repl_stats;

/* repl.h's gate: while g_repl.offset + n <= feed_gate, the replicas' feed
 * has nothing to do with n new bytes. */
static long long feed_gate = LLONG_MIN;

/* The ring: `size` bytes, the next byte goes to buf[idx], the last
 * `histlen` bytes before idx are valid; the first of them is stream offset
 * `first_off` (Redis's repl_backlog_first_byte_offset). */
static struct {
    char *buf;
    size_t size, idx, histlen;
    long long first_off;
} bl;

/* The replicas (repl_primary.c, wired by core_init). */
static void (*replica_feed)(const void *p, size_t n);
static int (*replica_count)(void);

void repl_set_replica_feed(void (*feed)(const void *p, size_t n), int (*count)(void))
{
    replica_feed = feed;
    replica_count = count;
    feed_gate = LLONG_MIN; /* a new feed has not said where it stands */
}

void repl_set_feed_gate(long long gate)
{
    feed_gate = gate;
}

/* The database the stream's last SELECT chose (-1: none yet). */
static int selected_db = -1;

static void random_id(char *out)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[REPL_ID_LEN / 2];
    int i;
    util_random_bytes(raw, sizeof(raw));
    for (i = 0; i < REPL_ID_LEN / 2; i++) {
        out[i * 2] = hex[raw[i] >> 4];
        out[i * 2 + 1] = hex[raw[i] & 15];
    }
    out[REPL_ID_LEN] = 0;
}

static void clear_replid2(void)
{
    memset(g_repl.replid2, '0', REPL_ID_LEN);
    g_repl.replid2[REPL_ID_LEN] = 0;
    g_repl.second_replid_offset = -1;
}

void repl_init(void)
{
    random_id(g_repl.replid);
    clear_replid2();
    g_repl.offset = 0;
    feed_gate = LLONG_MIN;
    selected_db = -1;
}

void repl_new_replid(void)
{
    random_id(g_repl.replid);
    clear_replid2();
}

void repl_shift_replid(void)
{
    memcpy(g_repl.replid2, g_repl.replid, REPL_ID_LEN + 1);
    /* The replica accepts offsets up to ours + 1: the next byte it wants. */
    g_repl.second_replid_offset = g_repl.offset + 1;
    random_id(g_repl.replid);
}

void repl_set_replid(const char *replid, long long offset)
{
    memcpy(g_repl.replid, replid, REPL_ID_LEN);
    g_repl.replid[REPL_ID_LEN] = 0;
    g_repl.offset = offset;
    feed_gate = LLONG_MIN; /* the gate is an offset */
}

/* ==================== the backlog ==================== */

static size_t cfg_size(void)
{
    long long s = g_repl_cfg.backlog_size;
    return s < 16 * 1024 ? 16 * 1024 : (size_t)s;
}

bool repl_backlog_exists(void)
{
    return bl.buf != NULL;
}

void repl_backlog_ensure(void)
{
    if (bl.buf) return;
    bl.size = cfg_size();
    bl.buf = xmalloc(bl.size);
    bl.idx = bl.histlen = 0;
    /* As Redis: the first byte the backlog will hold is the next one. */
    bl.first_off = g_repl.offset + 1;
    selected_db = -1;
    feed_gate = LLONG_MIN;
    propagate_set_consumer(PROPAGATE_REPL, true);
}

void repl_backlog_free(void)
{
    free(bl.buf);
    memset(&bl, 0, sizeof(bl));
    feed_gate = LLONG_MIN;
    propagate_set_consumer(PROPAGATE_REPL, false);
}

void repl_backlog_resize(void)
{
    size_t ns, keep, i;
    char *nb;
    if (!bl.buf) return;
    ns = cfg_size();
    if (ns == bl.size) return;
    feed_gate = LLONG_MIN;
    nb = xmalloc(ns);
    keep = bl.histlen < ns ? bl.histlen : ns;
    /* copy the newest `keep` bytes, oldest first */
    for (i = 0; i < keep; i++)
        nb[i] = bl.buf[(bl.idx + bl.size - keep + i) % bl.size];
    bl.first_off += (long long)(bl.histlen - keep);
    free(bl.buf);
    bl.buf = nb;
    bl.size = ns;
    bl.histlen = keep;
    bl.idx = keep % ns;
}

/* Bytes that reach the ring's end: written in pieces around it. */
__attribute__((noinline)) static void backlog_append_wrap(const char *p, size_t n)
{
    while (n > 0) {
        size_t room = bl.size - bl.idx, k = n < room ? n : room;
        memcpy(bl.buf + bl.idx, p, k);
        bl.idx += k;
        if (bl.idx == bl.size) bl.idx = 0;
        bl.histlen += k;
        p += k;
        n -= k;
    }
    if (bl.histlen > bl.size) {
        bl.first_off += (long long)(bl.histlen - bl.size);
        bl.histlen = bl.size;
    }
}

static inline void backlog_append(const char *p, size_t n)
{
    if (n >= bl.size - bl.idx) {
        backlog_append_wrap(p, n);
        return;
    }
    /* the usual case: the bytes fit before the ring's end */
    memcpy(bl.buf + bl.idx, p, n);
    bl.idx += n;
    bl.histlen += n;
    if (bl.histlen > bl.size) {
        bl.first_off += (long long)(bl.histlen - bl.size);
        bl.histlen = bl.size;
    }
}

size_t repl_backlog_size(void)
{
    return bl.buf ? bl.size : cfg_size();
}

size_t repl_backlog_histlen(void)
{
    return bl.histlen;
}

long long repl_backlog_first_offset(void)
{
    return bl.buf ? bl.first_off : 0;
}

long long repl_backlog_read(long long from, repl_bytes_fn fn, void *arg)
{
    size_t skip, len, start, k;
    if (!bl.buf || from < bl.first_off || from > bl.first_off + (long long)bl.histlen) return -1;
    skip = (size_t)(from - bl.first_off);
    len = bl.histlen - skip;
    start = (bl.idx + bl.size - bl.histlen + skip) % bl.size;
    k = len < bl.size - start ? len : bl.size - start;
    if (k) fn(arg, bl.buf + start, k);
    if (len > k) fn(arg, bl.buf, len - k);
    return (long long)len;
}

bool repl_can_continue(const char *replid, long long offset)
{
    if (strcasecmp(replid, g_repl.replid) != 0 &&
        (strcasecmp(replid, g_repl.replid2) != 0 || offset > g_repl.second_replid_offset))
        return false;
    if (!bl.buf || offset < bl.first_off || offset > bl.first_off + (long long)bl.histlen)
        return false;
    return true;
}

/* ==================== the stream ==================== */

static inline void feed_stream(const void *p, size_t n)
{
    if (n == 0) return;
    /* the replicas first: they see the offset before these bytes and may
     * need the backlog's older bytes before the ring overwrites them */
    if (replica_feed && g_repl.offset + (long long)n > feed_gate) replica_feed(p, n);
    if (bl.buf) backlog_append(p, n);
    g_repl.offset += (long long)n;
}

void repl_feed_stream(const void *p, size_t n)
{
    feed_stream(p, n);
}

/* SELECT dbid into the stream (kept out of the per-write path). */
__attribute__((noinline)) static void feed_select(int dbid)
{
    char num[24];
    struct argv_ref sel[2] = {{"SELECT", 6}, {num, 0}};
    struct sbuf b;
    sel[1].n = (size_t)util_ll2str(num, dbid);
    sbuf_init(&b);
    propagate_format(&b, 2, sel);
    feed_stream(b.p, b.len);
    sbuf_free(&b);
    selected_db = dbid;
}

/* feed_stream for all but the usual case (out of the per-write path). */
__attribute__((noinline)) static void feed_stream_slow(const void *p, size_t n)
{
    feed_stream(p, n);
}

void repl_feed_command(int dbid, const void *p, size_t n)
{
    struct client *cur;
    if (repl_is_replica()) return;
    if (!bl.buf && (!replica_count || replica_count() == 0)) return;
    if (dbid >= 0 && dbid != selected_db) feed_select(dbid);
    if (n > 0 && bl.buf && n < bl.size - bl.idx && g_repl.offset + (long long)n <= feed_gate) {
        /* the usual case: no replica needs these bytes now (the gate),
         * and they fit before the ring's end */
        backlog_append(p, n);
        g_repl.offset += (long long)n;
    } else {
        feed_stream_slow(p, n);
    }
    /* WAIT waits for this client's own writes (Redis's c->woff). */
    if ((cur = kernel_current()) != NULL) cur->woff = g_repl.offset;
}

void repl_reset_selected_db(void)
{
    selected_db = -1;
}
