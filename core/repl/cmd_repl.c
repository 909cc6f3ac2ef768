/* cmd_repl.c — the replication commands of the primary side (REPLCONF,
 * PSYNC, SYNC, WAIT, ROLE) and INFO's replication section for both roles
 * (repl_info_text: the primary's ids, offsets, backlog and replicas, and
 * the link to our own primary from g_repl_master). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "commands_gen.h"
#include "config.h"
#include "kernel.h"
#include "rdb.h" /* struct sbuf */
#include "repl.h"
#include "repl_link.h"
#include "repl_primary.h"
#include "util.h"

/* ==================== REPLCONF ==================== */

static void (*getack_hook)(void);

void repl_set_getack_hook(void (*fn)(void))
{
    getack_hook = fn;
}

/* REPLCONF <option> <value> [<option> <value> ...] */
void cmd_replconf(struct exec *x)
{
    const struct argval *ov = ARG(x, A_REPLCONF_option_value);
    int i;
    for (i = 0; HAS(x, A_REPLCONF_option_value) && i < ov->count; i++) {
        const struct argv_ref *opt = &x->argv[ov->list[i]], *val = opt + 1;
        long long v;
        if (util_eqci(opt->p, opt->n, "listening-port")) {
            if (!util_str2ll(val->p, val->n, &v) || v < -2147483648LL || v > 2147483647LL) {
                reply_error(x->r, "ERR value is not an integer or out of range");
                return;
            }
            repl_primary_set_listening_port(x->c, (int)v);
        } else if (util_eqci(opt->p, opt->n, "ip-address")) {
            if (val->n >= 256) {
                reply_errorf(x->r,
                             "ERR REPLCONF ip-address provided by replica instance is too long: "
                             "%zu bytes",
                             val->n);
                return;
            }
            repl_primary_set_ip(x->c, val->p, val->n);
        } else if (util_eqci(opt->p, opt->n, "capa")) {
            repl_primary_set_capa(x->c, util_eqci(val->p, val->n, "eof"),
                                  util_eqci(val->p, val->n, "psync2"));
        } else if (util_eqci(opt->p, opt->n, "ack")) {
            /* From a replica only, and never answered. */
            if ((x->c->flags & CF_REPLICA) && util_str2ll(val->p, val->n, &v))
                repl_primary_ack(x->c, v);
            return;
        } else if (util_eqci(opt->p, opt->n, "getack")) {
            /* Our primary asks for our offset (the replica side answers). */
            if (repl_is_replica() && getack_hook) getack_hook();
            return;
        } else if (util_eqci(opt->p, opt->n, "rdb-only")) {
            if (!util_str2ll(val->p, val->n, &v)) {
                reply_error(x->r, "ERR value is not an integer or out of range");
                return;
            }
            if (v < 0 || v > 1) {
                reply_error(x->r, "ERR value is out of range, value must between 0 and 1");
                return;
            }
            repl_primary_set_rdb_only(x->c, v == 1);
        } else {
            reply_errorf(x->r, "ERR Unrecognized REPLCONF option: %.*s", (int)opt->n, opt->p);
            return;
        }
    }
    reply_ok(x->r);
}

/* ==================== PSYNC / SYNC ==================== */

static bool sync_refused(struct exec *x)
{
    if (x->c->flags & CF_REPLICA) return true; /* already a replica: ignored */
    if (!x->c->adapter->raw) {
        reply_error(x->r, "ERR SYNC and PSYNC are not available over this protocol");
        return true;
    }
    if (g_failover_state != FAILOVER_NONE) {
        reply_error(x->r, "NOMASTERLINK Can't SYNC while failing over");
        return true;
    }
    if (repl_is_replica() && g_repl_master.state != REPL_LINK_CONNECTED) {
        reply_error(x->r, "NOMASTERLINK Can't SYNC while not connected with my master");
        return true;
    }
    return false;
}

/* PSYNC replicationid offset [FAILOVER] */
void cmd_psync(struct exec *x)
{
    char id[REPL_ID_LEN + 1];
    size_t n = ARGN(x, A_PSYNC_replicationid);
    if (x->c->flags & CF_REPLICA) return;
    if (n > REPL_ID_LEN) n = REPL_ID_LEN;
    memcpy(id, ARGP(x, A_PSYNC_replicationid), n);
    id[n] = 0;
    /* Our primary hands over (its FAILOVER): we become the primary, then
     * answer its PSYNC as any other. */
    if (HAS(x, A_PSYNC_failover)) {
        const char *err = repl_failover_accept(id);
        if (err) {
            reply_error(x->r, err);
            return;
        }
    }
    if (sync_refused(x)) return;
    repl_primary_sync(x->c, id, ARGI(x, A_PSYNC_offset), ARG(x, A_PSYNC_offset)->err == NULL);
}

/* SYNC */
void cmd_sync(struct exec *x)
{
    if (sync_refused(x)) return;
    repl_primary_sync(x->c, NULL, 0, false);
}

/* ==================== WAIT ==================== */

/* WAIT numreplicas timeout */
void cmd_wait(struct exec *x)
{
    int now;
    if (repl_is_replica()) {
        reply_error(x->r, "ERR WAIT cannot be used with replica instances. Please also note that "
                          "since Redis 4.0 if a replica is configured to be writable (which is not "
                          "the default) writes to replicas are just local and are not propagated.");
        return;
    }
    if (!arg_ok(x, A_WAIT_numreplicas) || !arg_ok(x, A_WAIT_timeout)) return;
    {
        long long want = ARGI(x, A_WAIT_numreplicas);
        if (want > 1000000) want = 1000000;
        if (want < -1000000) want = -1000000;
        if (!repl_primary_wait(x->c, x->cmd, (int)want, ARGI(x, A_WAIT_timeout), &now))
            reply_int(x->r, now);
    }
}

/* ==================== ROLE ==================== */

static const char *link_state_name(enum repl_link_state s)
{
    switch (s) {
    case REPL_LINK_NONE:
        return "none";
    case REPL_LINK_CONNECT:
        return "connect";
    case REPL_LINK_CONNECTING:
        return "connecting";
    case REPL_LINK_HANDSHAKE:
        return "handshake";
    case REPL_LINK_TRANSFER:
        return "sync";
    case REPL_LINK_CONNECTED:
        return "connected";
    }
    return "unknown";
}

/* ROLE */
void cmd_role(struct exec *x)
{
    if (repl_is_replica()) {
        reply_array(x->r, 5);
        reply_bulk(x->r, "slave", 5);
        reply_cstr(x->r, g_repl_master.host);
        reply_int(x->r, g_repl_master.port);
        reply_cstr(x->r, link_state_name(g_repl_master.state));
        reply_int(x->r, g_repl_master.state == REPL_LINK_CONNECTED ? g_repl.offset : -1);
        return;
    }
    {
        struct repl_replica_view v[64];
        size_t n = repl_primary_list(v, 64), i, online = 0;
        for (i = 0; i < n; i++)
            if (v[i].state == REPL_R_ONLINE) online++;
        reply_array(x->r, 3);
        reply_bulk(x->r, "master", 6);
        reply_int(x->r, g_repl.offset);
        reply_array(x->r, (long long)online);
        for (i = 0; i < n; i++) {
            if (v[i].state != REPL_R_ONLINE) continue;
            reply_array(x->r, 3);
            reply_cstr(x->r, v[i].ip);
            reply_bulk_ll(x->r, v[i].port);
            reply_bulk_ll(x->r, v[i].offset);
        }
    }
}

/* ==================== INFO replication ==================== */

static void catf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void catf(struct sbuf *b, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n > 0) sbuf_append(b, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/* An int setting by name (the replica side's entries). */
static int config_int(const char *name, int dflt)
{
    const struct config_row *row = config_find_row(name, strlen(name));
    if (!row || !row->e->ptr) return dflt;
    return *(const int *)row->e->ptr;
}

static const char *rstate_name(enum repl_rstate s)
{
    switch (s) {
    case REPL_R_WAIT_BGSAVE_START:
    case REPL_R_WAIT_BGSAVE_END:
        return "wait_bgsave";
    case REPL_R_SEND_BULK:
        return "send_bulk";
    case REPL_R_ONLINE:
        return "online";
    }
    return "unknown";
}

void repl_info_text(struct sbuf *b)
{
    long long now = util_mstime();
    struct repl_replica_view v[64];
    size_t n, i;
    if (!repl_is_replica()) {
        catf(b, "role:master\r\n");
    } else {
        const struct repl_master_link *m = &g_repl_master;
        bool up = m->state == REPL_LINK_CONNECTED;
        long long off = up || g_repl.offset > 0 ? g_repl.offset : 1;
        catf(b,
             "role:slave\r\n"
             "master_host:%s\r\n"
             "master_port:%d\r\n"
             "master_link_status:%s\r\n"
             "master_last_io_seconds_ago:%d\r\n"
             "master_sync_in_progress:%d\r\n"
             "slave_read_repl_offset:%lld\r\n"
             "slave_repl_offset:%lld\r\n",
             m->host, m->port, up ? "up" : "down", up ? (int)((now - m->last_io_ms) / 1000) : -1,
             m->state == REPL_LINK_TRANSFER, up ? repl_link_read_offset() : off, off);
        if (m->state == REPL_LINK_TRANSFER) {
            double perc = m->transfer_size > 0
                              ? ((double)m->transfer_read / (double)m->transfer_size) * 100
                              : 0;
            catf(b,
                 "master_sync_total_bytes:%lld\r\n"
                 "master_sync_read_bytes:%lld\r\n"
                 "master_sync_left_bytes:%lld\r\n"
                 "master_sync_perc:%.2f\r\n"
                 "master_sync_last_io_seconds_ago:%d\r\n",
                 m->transfer_size, m->transfer_read, m->transfer_size - m->transfer_read, perc,
                 (int)((now - m->transfer_last_io_ms) / 1000));
        }
        if (!up)
            catf(b, "master_link_down_since_seconds:%lld\r\n",
                 m->down_since_ms ? (now - m->down_since_ms) / 1000 : -1LL);
        catf(b,
             "slave_priority:%d\r\n"
             "slave_read_only:%d\r\n"
             "replica_announced:%d\r\n",
             config_int("replica-priority", 100), config_int("replica-read-only", 1),
             config_int("replica-announced", 1));
    }
    n = repl_primary_list(v, 64);
    catf(b, "connected_slaves:%zu\r\n", n);
    for (i = 0; i < n; i++)
        catf(b, "slave%zu:ip=%s,port=%d,state=%s,offset=%lld,lag=%lld\r\n", i, v[i].ip, v[i].port,
             rstate_name(v[i].state), v[i].offset, v[i].lag);
    catf(b,
         "master_failover_state:%s\r\n"
         "master_replid:%s\r\n"
         "master_replid2:%s\r\n"
         "master_repl_offset:%lld\r\n"
         "second_repl_offset:%lld\r\n"
         "repl_backlog_active:%d\r\n"
         "repl_backlog_size:%zu\r\n"
         "repl_backlog_first_byte_offset:%lld\r\n"
         "repl_backlog_histlen:%zu\r\n",
         repl_failover_state_name(), g_repl.replid, g_repl.replid2, g_repl.offset,
         g_repl.second_replid_offset, repl_backlog_exists() ? 1 : 0, repl_backlog_size(),
         repl_backlog_first_offset(), repl_backlog_histlen());
}
