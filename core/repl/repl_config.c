/* repl_config.c — the replication settings the primary side acts on
 * (repl.h's g_repl_cfg): backlog size and TTL, disk or diskless full
 * syncs, pings and timeouts, min-replicas-to-write. server/main.c adds
 * this table before the compat table, whose stored-only twins of these
 * names are then left out (config.c). */
#include <limits.h>

#include "config.h"
#include "repl.h"
#include "repl_primary.h"

#define HELP "Replication (core/repl)"

/* repl-backlog-size: as Redis, at least 16 KB; the backlog keeps its
 * newest bytes when resized. */
static const char *apply_backlog(const struct config_entry *e, const char *v)
{
    long long *size = e->ptr;
    (void)v;
    if (*size < 16 * 1024) *size = 16 * 1024;
    repl_primary_flush(); /* replicas take their unsent bytes from the old ring */
    repl_backlog_resize();
    return NULL;
}

static const char *const enum_diskless_load[] = {"disabled", "on-empty-db", "swapdb", NULL};

static const struct config_entry table[] = {
    {"min-replicas-max-lag", "min-slaves-max-lag", CT_INT, &g_repl_cfg.min_replicas_max_lag, "10",
     0, INT_MAX, true, HELP, NULL, NULL},
    {"min-replicas-to-write", "min-slaves-to-write", CT_INT, &g_repl_cfg.min_replicas_to_write, "0",
     0, INT_MAX, true, HELP, NULL, NULL},
    {"repl-backlog-size", NULL, CT_MEMORY, &g_repl_cfg.backlog_size, "1048576", 1, LLONG_MAX, true,
     HELP, NULL, apply_backlog},
    {"repl-backlog-ttl", NULL, CT_LL, &g_repl_cfg.backlog_ttl, "3600", 0, LLONG_MAX, true, HELP,
     NULL, NULL},
    {"repl-diskless-sync", NULL, CT_BOOL, &g_repl_cfg.diskless_sync, "yes", 0, 1, true, HELP, NULL,
     NULL},
    {"repl-diskless-sync-delay", NULL, CT_INT, &g_repl_cfg.diskless_sync_delay, "5", 0, INT_MAX,
     true, HELP, NULL, NULL},
    {"repl-diskless-load", NULL, CT_ENUM, &g_repl_cfg.diskless_load, "disabled", 0, 0, true,
     "Replication (core/repl): the primary's RDB kept in memory and loaded from there "
     "(on-empty-db: when the dataset is empty; swapdb: the old dataset kept until the new one "
     "loaded)",
     enum_diskless_load, NULL},
    {"repl-diskless-sync-max-replicas", NULL, CT_INT, &g_repl_cfg.diskless_sync_max_replicas, "0",
     0, INT_MAX, true, HELP, NULL, NULL},
    {"repl-ping-replica-period", "repl-ping-slave-period", CT_INT, &g_repl_cfg.ping_replica_period,
     "10", 1, INT_MAX, true, HELP, NULL, NULL},
    {"repl-timeout", NULL, CT_INT, &g_repl_cfg.timeout, "60", 1, INT_MAX, true, HELP, NULL, NULL},
    {NULL, NULL, 0, NULL, NULL, 0, 0, false, NULL, NULL, NULL},
};

const struct config_entry *const repl_config_table = table;
