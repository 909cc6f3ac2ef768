/* client_info.c — one client described as CLIENT LIST / CLIENT INFO show
 * it (client_info.h), with Redis 7.0's fields in its order: it reads the
 * state of the modules above the client (pub/sub counts, MULTI's queue,
 * tracking, blocking, MONITOR), so it sits above them rather than in
 * client.c. Keel's one output buffer is shown in Redis's terms: its first
 * rbs bytes are the reply buffer (core/kernel/reply_buffer.c sizes it), obl
 * what waits in them, oll the 16 KB blocks past them, omem the memory the
 * buffer holds past them. */
#include "client_info.h"

#include <stdio.h>

#include "blocking.h"
#include "acl.h"
#include "client.h"
#include "kernel.h"
#include "monitor.h"
#include "multi.h"
#include "pubsub.h"
#include "tracking.h"
#include "util.h"

#define STATIC_REPLY_BYTES 16384 /* Redis's PROTO_REPLY_CHUNK_BYTES */

/* A Redis dict of n entries (24 bytes each) and its slots (8 bytes each:
 * 4 at first, doubled when full) */
static size_t dict_mem(size_t n)
{
    size_t slots = 4;
    if (!n) return 0;
    while (slots < n)
        slots *= 2;
    return n * 24 + slots * 8;
}

size_t client_info_mem(struct client *c)
{
    size_t m = kernel_argv_mem(c) + blocking_argv_mem(c) + multi_mem(c);
    m += multi_watch_count(c) * (24 + 32);
    m += dict_mem((size_t)pubsub_client_count(c, PS_CHANNEL));
    m += dict_mem((size_t)pubsub_client_count(c, PS_SHARD));
    m += (size_t)pubsub_client_count(c, PS_PATTERN) * 24;
    m += tracking_prefix_count(c) * 2 * 32;
    return m;
}

size_t client_info_line(struct client *c, char *buf, size_t len)
{
    char addr[128] = "", laddr[128] = "";
    int fd = -1;
    size_t qbuf = 0, qfree = 0, obl = 0, oll = 0, omem = 0, pending, allocated, argv_mem, mmem;
    long long now = util_mstime();
    char flags[24], events[3] = "r";
    int nf = 0;
    int n;
    long sub = pubsub_client_count(c, PS_CHANNEL), psub = pubsub_client_count(c, PS_PATTERN),
         ssub = pubsub_client_count(c, PS_SHARD);
    if (c->adapter && c->adapter->describe)
        c->adapter->describe(c, addr, sizeof(addr), laddr, sizeof(laddr), &fd);
    if (c->adapter && c->adapter->buffers) c->adapter->buffers(c, &qbuf, &qfree, &obl, &oll, &omem);
    /* The adapter reports pending output bytes (obl) and the buffer's
     * allocation (omem). */
    pending = obl;
    allocated = omem;
    obl = pending < c->rb_size ? pending : c->rb_size;
    oll = pending > c->rb_size
              ? (pending - c->rb_size + STATIC_REPLY_BYTES - 1) / STATIC_REPLY_BYTES
              : 0;
    omem = omem > c->rb_size ? omem - c->rb_size : 0;
    /* Another client's output still waiting: Redis's writable handler. */
    if (pending > 0 && c != kernel_current()) events[1] = 'w';
    argv_mem = kernel_argv_mem(c) + blocking_argv_mem(c);
    mmem = multi_mem(c);
    {
        unsigned tf = (c->flags & CF_TRACKING) ? tracking_flags(c) : 0;
        if (c->flags & CF_MASTER) flags[nf++] = 'M';
        if (c->flags & CF_REPLICA) flags[nf++] = 'S';
        if (monitor_is(c)) flags[nf++] = 'O';
        if (c->nsubs > 0) flags[nf++] = 'P';
        if (c->flags & (CF_MULTI | CF_IN_EXEC)) flags[nf++] = 'x';
        /* A client parked by CLIENT PAUSE is blocked too in Redis (postponed). */
        if (c->flags & (CF_BLOCKED | CF_PAUSED)) flags[nf++] = 'b';
        if (c->flags & CF_TRACKING) flags[nf++] = 't';
        if (tf & TRK_BROKEN_REDIR) flags[nf++] = 'R';
        if (tf & TRK_BCAST) flags[nf++] = 'B';
        if (c->flags & CF_DIRTY_CAS) flags[nf++] = 'd';
        if (c->flags & CF_CLOSE_AFTER_REPLY) flags[nf++] = 'c';
    }
    if (c->flags & CF_NO_EVICT) flags[nf++] = 'e';
    if (nf == 0) flags[nf++] = 'N';
    flags[nf] = 0;
    n = snprintf(buf, len,
                 "id=%llu addr=%s laddr=%s fd=%d name=%s age=%lld idle=%lld flags=%s db=%d "
                 "sub=%ld psub=%ld ssub=%ld multi=%d qbuf=%zu qbuf-free=%zu argv-mem=%zu "
                 "multi-mem=%zu rbs=%zu rbp=%zu obl=%zu oll=%zu omem=%zu tot-mem=%zu events=%s "
                 "cmd=%s user=%s redir=%lld resp=%d lib-name=%s lib-ver=%s",
                 (unsigned long long)c->id, addr, laddr, fd, c->name ? c->name : "",
                 (now - c->ctime_ms) / 1000, (now - c->last_interaction_ms) / 1000, flags, c->dbid,
                 sub, psub, ssub, multi_queued(c), qbuf, qfree, argv_mem, mmem, c->rb_size,
                 c->rb_peak, obl, oll, omem, qbuf + qfree + allocated + client_info_mem(c) + 1024,
                 events, c->last_cmd, acl_client_user(c)->name,
                 (c->flags & CF_TRACKING) ? tracking_redirect(c) : -1LL, c->resp,
                 c->lib_name ? c->lib_name : "", c->lib_ver ? c->lib_ver : "");
    if (n < 0) n = 0;
    if ((size_t)n >= len) n = (int)len - 1;
    return (size_t)n;
}
