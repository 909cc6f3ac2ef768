/* client_info.c — one client described as CLIENT LIST / CLIENT INFO show
 * it (client_info.h): it reads the state of the modules above the client
 * (pub/sub counts, MULTI's queue, tracking), so it sits above them rather
 * than in client.c. */
#include "client_info.h"

#include <stdio.h>

#include "acl.h"
#include "client.h"
#include "multi.h"
#include "pubsub.h"
#include "tracking.h"
#include "util.h"

size_t client_info_line(struct client *c, char *buf, size_t len)
{
    char addr[128] = "", laddr[128] = "";
    int fd = -1;
    size_t qbuf = 0, qfree = 0, obl = 0, oll = 0, omem = 0;
    long long now = util_mstime();
    char flags[24];
    int nf = 0;
    int n;
    long sub = pubsub_client_count(c, PS_CHANNEL), psub = pubsub_client_count(c, PS_PATTERN),
         ssub = pubsub_client_count(c, PS_SHARD);
    if (c->adapter && c->adapter->describe)
        c->adapter->describe(c, addr, sizeof(addr), laddr, sizeof(laddr), &fd);
    if (c->adapter && c->adapter->buffers) c->adapter->buffers(c, &qbuf, &qfree, &obl, &oll, &omem);
    {
        unsigned tf = (c->flags & CF_TRACKING) ? tracking_flags(c) : 0;
        if (c->nsubs > 0) flags[nf++] = 'P';
        if (c->flags & CF_MULTI) flags[nf++] = 'x';
        if (c->flags & CF_BLOCKED) flags[nf++] = 'b';
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
                 "sub=%ld psub=%ld ssub=%ld multi=%d qbuf=%zu qbuf-free=%zu argv-mem=0 "
                 "multi-mem=0 rbs=%zu rbp=%zu obl=%zu oll=%zu omem=%zu tot-mem=%zu events=r cmd=%s "
                 "user=%s redir=%lld resp=%d lib-name=%s lib-ver=%s",
                 (unsigned long long)c->id, addr, laddr, fd, c->name ? c->name : "",
                 (now - c->ctime_ms) / 1000, (now - c->last_interaction_ms) / 1000, flags, c->dbid,
                 sub, psub, ssub, multi_queued(c), qbuf, qfree, qbuf + qfree, qbuf, obl, oll, omem,
                 qbuf + qfree + omem + 1024, c->last_cmd, acl_client_user(c)->name,
                 (c->flags & CF_TRACKING) ? tracking_redirect(c) : -1LL, c->resp,
                 c->lib_name ? c->lib_name : "", c->lib_ver ? c->lib_ver : "");
    if (n < 0) n = 0;
    if ((size_t)n >= len) n = (int)len - 1;
    return (size_t)n;
}
