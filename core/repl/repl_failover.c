/* repl_failover.c — FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT ms]
 * as Redis 7.0 coordinates it from the primary: writes paused (CLIENT
 * PAUSE WRITE), wait until a replica (the target, or any) has
 * acknowledged the whole stream, then become a replica of it and ask it,
 * with PSYNC <replid> <offset> FAILOVER, to take over; an answer to that
 * PSYNC ends the failover (unpause), a refusal or the timeout aborts it
 * (back to primary). Becoming a replica and a primary again are the
 * replica side's (repl_set_failover_hooks: core_init wires
 * repl_replica_start and repl_replica_stop); its handshake asks
 * repl_failover_in_progress() whether to add FAILOVER to PSYNC and
 * reports the answer with repl_failover_psync_done(). The target side of
 * PSYNC ... FAILOVER is repl_failover_accept(), called by PSYNC. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "commands_gen.h"
#include "kernel.h"
#include "log.h"
#include "repl.h"
#include "repl_primary.h"
#include "util.h"

static void (*become_replica)(const char *host, int port);
static void (*become_primary)(void);

static struct {
    char host[256];
    int port; /* target (0: any replica) */
    bool force;
    long long end_ms; /* 0: no timeout */
    bool rejected;    /* the target refused our PSYNC ... FAILOVER */
    bool accepted;    /* ... or answered it */
} fo;

void repl_set_failover_hooks(void (*start)(const char *host, int port), void (*stop)(void))
{
    become_replica = start;
    become_primary = stop;
}

bool repl_failover_in_progress(void)
{
    return g_failover_state == FAILOVER_IN_PROGRESS;
}

static void clear_state(void)
{
    g_failover_state = FAILOVER_NONE;
    fo.host[0] = 0;
    fo.port = 0;
    fo.force = false;
    fo.end_ms = 0;
    fo.rejected = fo.accepted = false;
    kernel_unpause();
}

static void abort_failover(const char *why)
{
    if (g_failover_state == FAILOVER_NONE) return;
    if (fo.host[0])
        log_notice("FAILOVER to %s:%d aborted: %s", fo.host, fo.port, why);
    else
        log_notice("FAILOVER to any replica aborted: %s", why);
    if (g_failover_state == FAILOVER_IN_PROGRESS && become_primary) become_primary();
    clear_state();
}

/* From the replica handshake: only noted here, handled at the next tick
 * (outside the link's own callbacks). */
void repl_failover_psync_done(bool accepted)
{
    if (g_failover_state != FAILOVER_IN_PROGRESS) return;
    if (accepted)
        fo.accepted = true;
    else
        fo.rejected = true;
}

/* The target of a PSYNC ... FAILOVER (a replica of the asking primary):
 * promote ourselves when the replid is our primary's. NULL: accepted. */
const char *repl_failover_accept(const char *replid)
{
    if (!repl_is_replica() || strcasecmp(replid, g_repl.replid) != 0)
        return "ERR PSYNC FAILOVER replid must match my replid.";
    if (!become_primary) return "ERR PSYNC FAILOVER is not available";
    log_notice("Failover request received for replid %s.", replid);
    become_primary();
    return NULL;
}

/* Every tick while a failover waits: the first replica that acknowledged
 * everything (the target if one was named) takes over. While writes are
 * paused no PING or GETACK moves the offset, so the replicas' ACKs of
 * every second catch up with it. */
void repl_failover_tick(void)
{
    struct repl_replica_view v[64];
    long long now = util_mstime();
    size_t n, i;
    if (g_failover_state == FAILOVER_IN_PROGRESS) {
        if (fo.accepted) {
            log_notice("Failover target %s:%d is now the primary.", fo.host, fo.port);
            clear_state();
        } else if (fo.rejected) {
            abort_failover("Failover target rejected psync request");
        } else if (fo.end_ms && now >= fo.end_ms) {
            abort_failover("Failover target never accepted the psync");
        }
        return;
    }
    if (g_failover_state != FAILOVER_WAIT_FOR_SYNC) return;
    if (fo.end_ms && now >= fo.end_ms) {
        if (!fo.force) {
            abort_failover("Replica never caught up before timeout");
            return;
        }
        log_notice("FAILOVER to %s:%d time out exceeded, failing over.", fo.host, fo.port);
    } else {
        n = repl_primary_list(v, 64);
        for (i = 0; i < n; i++) {
            if (v[i].state != REPL_R_ONLINE || v[i].offset != g_repl.offset) continue;
            if (fo.host[0] && (strcmp(v[i].ip, fo.host) != 0 || v[i].port != fo.port)) continue;
            break;
        }
        if (i == n) return;
        snprintf(fo.host, sizeof(fo.host), "%s", v[i].ip);
        fo.port = v[i].port;
        log_notice("Failover target %s:%d is synced, failing over.", fo.host, fo.port);
    }
    g_failover_state = FAILOVER_IN_PROGRESS;
    fo.end_ms = now + 10000; /* the PSYNC FAILOVER exchange's own limit */
    become_replica(fo.host, fo.port);
}

/* FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT milliseconds] */
void cmd_failover(struct exec *x)
{
    bool to = HAS(x, A_FAILOVER_target), abort_ = HAS(x, A_FAILOVER_abort);
    bool force = HAS(x, A_FAILOVER_target_force);
    long long timeout = HAS(x, A_FAILOVER_milliseconds) ? ARGI(x, A_FAILOVER_milliseconds) : 0;
    struct repl_replica_view v[64];
    size_t n, i;
    if (abort_ && x->argc == 2) {
        if (g_failover_state == FAILOVER_NONE) {
            reply_error(x->r, "ERR No failover in progress.");
            return;
        }
        abort_failover("Failover manually aborted");
        reply_ok(x->r);
        return;
    }
    if (abort_) {
        reply_err(x->r, E_SYNTAX);
        return;
    }
    if (HAS(x, A_FAILOVER_milliseconds) && timeout <= 0) {
        reply_error(x->r, "ERR FAILOVER timeout must be greater than 0");
        return;
    }
    if (g_failover_state != FAILOVER_NONE) {
        reply_error(x->r, "ERR FAILOVER already in progress.");
        return;
    }
    if (repl_is_replica()) {
        reply_error(x->r, "ERR FAILOVER is not valid when server is a replica.");
        return;
    }
    if (repl_primary_count() == 0) {
        reply_error(x->r, "ERR FAILOVER requires connected replicas.");
        return;
    }
    if (force && (!timeout || !to)) {
        reply_error(
            x->r, "ERR FAILOVER with force option requires both a timeout and target HOST and IP.");
        return;
    }
    fo.host[0] = 0;
    fo.port = 0;
    if (to) {
        size_t hl = ARGN(x, A_FAILOVER_target_host);
        long long port = ARGI(x, A_FAILOVER_target_port);
        if (hl >= sizeof(fo.host)) hl = sizeof(fo.host) - 1;
        n = repl_primary_list(v, 64);
        for (i = 0; i < n; i++)
            if (strlen(v[i].ip) == hl && !memcmp(v[i].ip, ARGP(x, A_FAILOVER_target_host), hl) &&
                v[i].port == port)
                break;
        if (i == n) {
            reply_error(x->r, "ERR FAILOVER target HOST and PORT is not a replica.");
            return;
        }
        if (v[i].state != REPL_R_ONLINE) {
            reply_error(x->r, "ERR FAILOVER target replica is not online.");
            return;
        }
        memcpy(fo.host, ARGP(x, A_FAILOVER_target_host), hl);
        fo.host[hl] = 0;
        fo.port = (int)port;
        log_notice("FAILOVER requested to %s:%d.", fo.host, fo.port);
    } else {
        log_notice("FAILOVER requested to any replica.");
    }
    fo.end_ms = 0;
    if (timeout) { /* past the end of time: never */
        long long now = util_mstime();
        fo.end_ms = timeout > LLONG_MAX - now ? LLONG_MAX : now + timeout;
    }
    fo.force = force;
    g_failover_state = FAILOVER_WAIT_FOR_SYNC;
    kernel_pause(LLONG_MAX, true);
    reply_ok(x->r);
}
