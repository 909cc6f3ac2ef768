/* config_table_compat.c — the redis.conf 7.0 parameters whose feature Keel
 * does not have (replication, cluster, TLS, active defragmentation, ACL
 * files, process and logging knobs, test-only hidden ones): each with
 * Redis's name, alias, type, default, bounds, mutability and error texts,
 * accepted, stored and reported as a Redis server where they have no effect
 * would. Entries Keel acts on live in config_table.c; this table is added
 * to the machinery (config.c) by server/main.c with config_add_table(). */
#include <ctype.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "oom_score.h"
#include "util.h"

static int acl_pubsub_default;
static char *aclfile;
static long long acllog_max_len;
static int active_defrag_cycle_max;
static int active_defrag_cycle_min;
static long long active_defrag_ignore_bytes;
static long long active_defrag_max_scan_fields;
static int active_defrag_threshold_lower;
static int active_defrag_threshold_upper;
static int active_expire_effort;
static int activedefrag;
static int activerehashing;
static int always_show_logo;
static int aof_disable_auto_gc;
static char *aof_rewrite_cpulist;
static char *bgsave_cpulist;
static char *bind_source_addr;
static char *bio_cpulist;
static int cluster_allow_pubsubshard_when_down;
static int cluster_allow_reads_when_down;
static int cluster_allow_replica_migration;
static int cluster_announce_bus_port;
static char *cluster_announce_hostname;
static char *cluster_announce_ip;
static int cluster_announce_port;
static int cluster_announce_tls_port;
static char *cluster_config_file;
static int cluster_enabled;
static long long cluster_link_sendbuf_limit;
static int cluster_migration_barrier;
static long long cluster_node_timeout;
static int cluster_port;
static int cluster_preferred_endpoint_type;
static int cluster_replica_no_failover;
static int cluster_replica_validity_factor;
static int cluster_require_full_coverage;
static int crash_log_enabled;
static int crash_memcheck_enabled;
static int daemonize;
static int disable_thp;
static int dynamic_hz;
static int enable_module_command;
static int enable_protected_configs;
static char *ignore_warnings;
static int io_threads_do_reads;
static int jemalloc_bg_thread;
static char *masterauth;
static char *masteruser;
static int min_replicas_max_lag;
static int min_replicas_to_write;
static int oom_score_adj;
static char *oom_score_adj_values;
static char *proc_title_template;
static int propagation_error_behavior;
static int rdb_del_sync_files;
static int rdb_save_incremental_fsync;
static long long repl_backlog_size;
static long long repl_backlog_ttl;
static int repl_disable_tcp_nodelay;
static int repl_diskless_load;
static int repl_diskless_sync;
static int repl_diskless_sync_delay;
static int repl_diskless_sync_max_replicas;
static int repl_ping_replica_period;
static int repl_timeout;
static char *replica_announce_ip;
static int replica_announce_port;
static int replica_announced;
static int replica_ignore_disk_write_errors;
static int replica_priority;
static int replica_read_only;
static int replica_serve_stale_data;
static char *replicaof;
static int sanitize_dump_payload;
static char *server_cpulist;
static int set_proc_title;
static int shutdown_on_sigint;
static int shutdown_on_sigterm;
static int shutdown_timeout;
static long long socket_mark_id;
static int supervised;
static int syslog_enabled;
static int syslog_facility;
static char *syslog_ident;
static int tls_cluster;
static char *tls_dh_params_file;
static char *unixsocket;
static char *unixsocketperm;
static int loading_process_events_interval_bytes;
static int lua_enable_deprecated_api;
static int use_exit_on_panic;
static int watchdog_period;

static const char *const enum_acl_pubsub_default[] = {"allchannels", "resetchannels", NULL};
static const char *const enum_cluster_preferred_endpoint_type[] = {"ip", "hostname",
                                                                   "unknown-endpoint", NULL};
static const char *const enum_enable_module_command[] = {"no", "yes", "local", NULL};
static const char *const enum_oom_score_adj[] = {"no", "yes", "relative", "absolute", NULL};
static const char *const enum_propagation_error_behavior[] = {"ignore", "panic",
                                                              "panic-on-replicas", NULL};
static const char *const enum_repl_diskless_load[] = {"disabled", "on-empty-db", "swapdb", NULL};
static const char *const enum_sanitize_dump_payload[] = {"no", "yes", "clients", NULL};
static const char *const enum_shutdown_on_sigint[] = {"default", "save",  "nosave",
                                                      "now",     "force", NULL};
static const char *const enum_supervised[] = {"upstart", "systemd", "auto", "no", NULL};
static const char *const enum_syslog_facility[] = {"user",   "local0", "local1", "local2", "local3",
                                                   "local4", "local5", "local6", "local7", NULL};

static const char *set_replicaof(const struct config_entry *e, const char *v);
static const char *set_oom_values(const struct config_entry *e, const char *v);
static const char *set_oom_mode(const struct config_entry *e, const char *v);
static const char *set_octal_perm(const struct config_entry *e, const char *v);
static const char *set_activedefrag(const struct config_entry *e, const char *v);
static const char *check_proc_title(const struct config_entry *e, const char *v);
static const char *set_hostname(const struct config_entry *e, const char *v);
static const char *refuse_cluster(const struct config_entry *e, const char *v);
static const char *apply_backlog(const struct config_entry *e, const char *v);
static const char *apply_watchdog(const struct config_entry *e, const char *v);
static const char *apply_tls(const struct config_entry *e, const char *v);

const struct config_entry config_table_compat[] = {
    {"acl-pubsub-default", NULL, CT_ENUM, &acl_pubsub_default, "resetchannels", 0, 0, true,
     "ACL users (core/acl)", enum_acl_pubsub_default, NULL},
    {"aclfile", NULL, CT_STRING, &aclfile, "", 0, 0, false, "ACL users (core/acl)", NULL, NULL},
    {"acllog-max-len", NULL, CT_LL, &acllog_max_len, "128", 0, LLONG_MAX, true,
     "ACL users (core/acl)", NULL, NULL},
    {"active-defrag-cycle-max", NULL, CT_INT, &active_defrag_cycle_max, "25", 1, 99, true,
     "Active defragmentation (stored; Keel does not defragment)", NULL, NULL},
    {"active-defrag-cycle-min", NULL, CT_INT, &active_defrag_cycle_min, "1", 1, 99, true,
     "Active defragmentation (stored; Keel does not defragment)", NULL, NULL},
    {"active-defrag-ignore-bytes", NULL, CT_MEMORY, &active_defrag_ignore_bytes, "104857600", 1,
     LLONG_MAX, true, "Active defragmentation (stored; Keel does not defragment)", NULL, NULL},
    {"active-defrag-max-scan-fields", NULL, CT_LL, &active_defrag_max_scan_fields, "1000", 1,
     LLONG_MAX, true, "Active defragmentation (stored; Keel does not defragment)", NULL, NULL},
    {"active-defrag-threshold-lower", NULL, CT_INT, &active_defrag_threshold_lower, "10", 0, 1000,
     true, "Active defragmentation (stored; Keel does not defragment)", NULL, NULL},
    {"active-defrag-threshold-upper", NULL, CT_INT, &active_defrag_threshold_upper, "100", 0, 1000,
     true, "Active defragmentation (stored; Keel does not defragment)", NULL, NULL},
    {"active-expire-effort", NULL, CT_INT, &active_expire_effort, "1", 1, 10, true,
     "Stored for compatibility with Redis 7.0 (no effect in Keel)", NULL, NULL},
    {"activedefrag", NULL, CT_BOOL, &activedefrag, "no", 0, 1, true,
     "Active defragmentation (stored; Keel does not defragment)", NULL, set_activedefrag},
    {"activerehashing", NULL, CT_BOOL, &activerehashing, "yes", 0, 1, true,
     "Stored for compatibility with Redis 7.0 (no effect in Keel)", NULL, NULL},
    {"always-show-logo", NULL, CT_BOOL, &always_show_logo, "no", 0, 1, false,
     "Process setting (stored; no effect in Keel)", NULL, NULL},
    {"aof-disable-auto-gc", NULL, CT_BOOL, &aof_disable_auto_gc, "no", 0, 1, true,
     "Stored for compatibility with Redis 7.0 (no effect in Keel)", NULL, NULL},
    {"aof_rewrite_cpulist", NULL, CT_STRING, &aof_rewrite_cpulist, "", 0, 0, false,
     "CPU affinity (stored; not applied)", NULL, NULL},
    {"bgsave_cpulist", NULL, CT_STRING, &bgsave_cpulist, "", 0, 0, false,
     "CPU affinity (stored; not applied)", NULL, NULL},
    {"bind-source-addr", NULL, CT_STRING, &bind_source_addr, "", 0, 0, true,
     "Process setting (stored; no effect in Keel)", NULL, NULL},
    {"bio_cpulist", NULL, CT_STRING, &bio_cpulist, "", 0, 0, false,
     "CPU affinity (stored; not applied)", NULL, NULL},
    {"cluster-allow-pubsubshard-when-down", NULL, CT_BOOL, &cluster_allow_pubsubshard_when_down,
     "yes", 0, 1, true, "Cluster (stored; Keel runs no cluster)", NULL, NULL},
    {"cluster-allow-reads-when-down", NULL, CT_BOOL, &cluster_allow_reads_when_down, "no", 0, 1,
     true, "Cluster (stored; Keel runs no cluster)", NULL, NULL},
    {"cluster-allow-replica-migration", NULL, CT_BOOL, &cluster_allow_replica_migration, "yes", 0,
     1, true, "Cluster (stored; Keel runs no cluster)", NULL, NULL},
    {"cluster-announce-bus-port", NULL, CT_INT, &cluster_announce_bus_port, "0", 0, 65535, true,
     "Cluster (stored; Keel runs no cluster)", NULL, NULL},
    {"cluster-announce-hostname", NULL, CT_SPECIAL, &cluster_announce_hostname, "", 0, 0, true,
     "Cluster (stored; Keel runs no cluster)", NULL, set_hostname},
    {"cluster-announce-ip", NULL, CT_STRING, &cluster_announce_ip, "", 0, 0, true,
     "Cluster (stored; Keel runs no cluster)", NULL, NULL},
    {"cluster-announce-port", NULL, CT_INT, &cluster_announce_port, "0", 0, 65535, true,
     "Cluster (stored; Keel runs no cluster)", NULL, NULL},
    {"cluster-announce-tls-port", NULL, CT_INT, &cluster_announce_tls_port, "0", 0, 65535, true,
     "Cluster (stored; Keel runs no cluster)", NULL, NULL},
    {"cluster-config-file", NULL, CT_STRING, &cluster_config_file, "nodes.conf", 0, 0, false,
     "Cluster (stored; Keel runs no cluster)", NULL, NULL},
    {"cluster-enabled", NULL, CT_BOOL, &cluster_enabled, "no", 0, 1, false,
     "Cluster (Keel runs no cluster: only no)", NULL, refuse_cluster},
    {"cluster-link-sendbuf-limit", NULL, CT_MEMORY, &cluster_link_sendbuf_limit, "0", 0, LLONG_MAX,
     true, "Cluster (stored; Keel runs no cluster)", NULL, NULL},
    {"cluster-migration-barrier", NULL, CT_INT, &cluster_migration_barrier, "1", 0, INT_MAX, true,
     "Cluster (stored; Keel runs no cluster)", NULL, NULL},
    {"cluster-node-timeout", NULL, CT_LL, &cluster_node_timeout, "15000", 0, LLONG_MAX, true,
     "Cluster (stored; Keel runs no cluster)", NULL, NULL},
    {"cluster-port", NULL, CT_INT, &cluster_port, "0", 0, 65535, false,
     "Cluster (stored; Keel runs no cluster)", NULL, NULL},
    {"cluster-preferred-endpoint-type", NULL, CT_ENUM, &cluster_preferred_endpoint_type, "ip", 0, 0,
     true, "Cluster (stored; Keel runs no cluster)", enum_cluster_preferred_endpoint_type, NULL},
    {"cluster-replica-no-failover", "cluster-slave-no-failover", CT_BOOL,
     &cluster_replica_no_failover, "no", 0, 1, true, "Cluster (stored; Keel runs no cluster)", NULL,
     NULL},
    {"cluster-replica-validity-factor", "cluster-slave-validity-factor", CT_INT,
     &cluster_replica_validity_factor, "10", 0, INT_MAX, true,
     "Cluster (stored; Keel runs no cluster)", NULL, NULL},
    {"cluster-require-full-coverage", NULL, CT_BOOL, &cluster_require_full_coverage, "yes", 0, 1,
     true, "Cluster (stored; Keel runs no cluster)", NULL, NULL},
    {"crash-log-enabled", NULL, CT_BOOL, &crash_log_enabled, "yes", 0, 1, true,
     "Process setting (stored; no effect in Keel)", NULL, NULL},
    {"crash-memcheck-enabled", NULL, CT_BOOL, &crash_memcheck_enabled, "yes", 0, 1, true,
     "Process setting (stored; no effect in Keel)", NULL, NULL},
    {"daemonize", NULL, CT_BOOL, &daemonize, "no", 0, 1, false,
     "Process setting (stored; no effect in Keel)", NULL, NULL},
    {"disable-thp", NULL, CT_BOOL, &disable_thp, "yes", 0, 1, false,
     "Process setting (stored; no effect in Keel)", NULL, NULL},
    {"dynamic-hz", NULL, CT_BOOL, &dynamic_hz, "yes", 0, 1, true,
     "Stored for compatibility with Redis 7.0 (no effect in Keel)", NULL, NULL},
    {"enable-module-command", NULL, CT_ENUM, &enable_module_command, "no", 0, 0, false,
     "Stored for compatibility with Redis 7.0 (no effect in Keel)", enum_enable_module_command,
     NULL},
    {"enable-protected-configs", NULL, CT_ENUM, &enable_protected_configs, "no", 0, 0, false,
     "Stored for compatibility with Redis 7.0 (no effect in Keel)", enum_enable_module_command,
     NULL},
    {"ignore-warnings", NULL, CT_STRING, &ignore_warnings, "", 0, 0, true,
     "Process setting (stored; no effect in Keel)", NULL, NULL},
    {"io-threads-do-reads", NULL, CT_BOOL, &io_threads_do_reads, "no", 0, 1, false,
     "Stored for compatibility with Redis 7.0 (no effect in Keel)", NULL, NULL},
    {"jemalloc-bg-thread", NULL, CT_BOOL, &jemalloc_bg_thread, "yes", 0, 1, true,
     "Process setting (stored; no effect in Keel)", NULL, NULL},
    {"masterauth", NULL, CT_STRING, &masterauth, "", 0, 0, true,
     "Replication (stored; Keel has no replication)", NULL, NULL},
    {"masteruser", NULL, CT_STRING, &masteruser, "", 0, 0, true,
     "Replication (stored; Keel has no replication)", NULL, NULL},
    {"min-replicas-max-lag", "min-slaves-max-lag", CT_INT, &min_replicas_max_lag, "10", 0, INT_MAX,
     true, "Replication (stored; Keel has no replication)", NULL, NULL},
    {"min-replicas-to-write", "min-slaves-to-write", CT_INT, &min_replicas_to_write, "0", 0,
     INT_MAX, true, "Replication (stored; Keel has no replication)", NULL, NULL},
    {"oom-score-adj", NULL, CT_ENUM, &oom_score_adj, "no", 0, 0, true,
     "The process's oom_score_adj (core/lib/oom_score.c): no, yes/relative, absolute",
     enum_oom_score_adj, set_oom_mode},
    {"oom-score-adj-values", NULL, CT_SPECIAL, &oom_score_adj_values, "0 200 800", 0, 0, true,
     "oom-score-adj's values: primary, replica, background child (core/lib/oom_score.c)", NULL,
     set_oom_values},
    {"proc-title-template", NULL, CT_SPECIAL, &proc_title_template,
     "{title} {listen-addr} {server-mode}", 0, 0, true,
     "Process setting (stored; no effect in Keel)", NULL, check_proc_title},
    {"propagation-error-behavior", NULL, CT_ENUM, &propagation_error_behavior, "ignore", 0, 0, true,
     "Stored for compatibility with Redis 7.0 (no effect in Keel)", enum_propagation_error_behavior,
     NULL},
    {"rdb-del-sync-files", NULL, CT_BOOL, &rdb_del_sync_files, "no", 0, 1, true,
     "Stored for compatibility with Redis 7.0 (no effect in Keel)", NULL, NULL},
    {"rdb-save-incremental-fsync", NULL, CT_BOOL, &rdb_save_incremental_fsync, "yes", 0, 1, true,
     "Stored for compatibility with Redis 7.0 (no effect in Keel)", NULL, NULL},
    {"repl-backlog-size", NULL, CT_MEMORY, &repl_backlog_size, "1048576", 1, LLONG_MAX, true,
     "Replication (stored; Keel has no replication)", NULL, apply_backlog},
    {"repl-backlog-ttl", NULL, CT_LL, &repl_backlog_ttl, "3600", 0, LLONG_MAX, true,
     "Replication (stored; Keel has no replication)", NULL, NULL},
    {"repl-disable-tcp-nodelay", NULL, CT_BOOL, &repl_disable_tcp_nodelay, "no", 0, 1, true,
     "Replication (stored; Keel has no replication)", NULL, NULL},
    {"repl-diskless-load", NULL, CT_ENUM, &repl_diskless_load, "disabled", 0, 0, true,
     "Replication (stored; Keel has no replication)", enum_repl_diskless_load, NULL},
    {"repl-diskless-sync", NULL, CT_BOOL, &repl_diskless_sync, "yes", 0, 1, true,
     "Replication (stored; Keel has no replication)", NULL, NULL},
    {"repl-diskless-sync-delay", NULL, CT_INT, &repl_diskless_sync_delay, "5", 0, INT_MAX, true,
     "Replication (stored; Keel has no replication)", NULL, NULL},
    {"repl-diskless-sync-max-replicas", NULL, CT_INT, &repl_diskless_sync_max_replicas, "0", 0,
     INT_MAX, true, "Replication (stored; Keel has no replication)", NULL, NULL},
    {"repl-ping-replica-period", "repl-ping-slave-period", CT_INT, &repl_ping_replica_period, "10",
     1, INT_MAX, true, "Replication (stored; Keel has no replication)", NULL, NULL},
    {"repl-timeout", NULL, CT_INT, &repl_timeout, "60", 1, INT_MAX, true,
     "Replication (stored; Keel has no replication)", NULL, NULL},
    {"replica-announce-ip", "slave-announce-ip", CT_STRING, &replica_announce_ip, "", 0, 0, true,
     "Replication (stored; Keel has no replication)", NULL, NULL},
    {"replica-announce-port", "slave-announce-port", CT_INT, &replica_announce_port, "0", 0, 65535,
     true, "Replication (stored; Keel has no replication)", NULL, NULL},
    {"replica-announced", NULL, CT_BOOL, &replica_announced, "yes", 0, 1, true,
     "Replication (stored; Keel has no replication)", NULL, NULL},
    {"replica-ignore-disk-write-errors", NULL, CT_BOOL, &replica_ignore_disk_write_errors, "no", 0,
     1, true, "Replication (stored; Keel has no replication)", NULL, NULL},
    {"replica-priority", "slave-priority", CT_INT, &replica_priority, "100", 0, INT_MAX, true,
     "Replication (stored; Keel has no replication)", NULL, NULL},
    {"replica-read-only", "slave-read-only", CT_BOOL, &replica_read_only, "yes", 0, 1, true,
     "Replication (stored; Keel has no replication)", NULL, NULL},
    {"replica-serve-stale-data", "slave-serve-stale-data", CT_BOOL, &replica_serve_stale_data,
     "yes", 0, 1, true, "Replication (stored; Keel has no replication)", NULL, NULL},
    {"replicaof", "slaveof", CT_SPECIAL, &replicaof, "", 0, 0, false,
     "Replication (stored; Keel has no replication)", NULL, set_replicaof},
    {"sanitize-dump-payload", NULL, CT_ENUM, &sanitize_dump_payload, "no", 0, 0, true,
     "Stored for compatibility with Redis 7.0 (no effect in Keel)", enum_sanitize_dump_payload,
     NULL},
    {"server_cpulist", NULL, CT_STRING, &server_cpulist, "", 0, 0, false,
     "CPU affinity (stored; not applied)", NULL, NULL},
    {"set-proc-title", NULL, CT_BOOL, &set_proc_title, "yes", 0, 1, false,
     "Process setting (stored; no effect in Keel)", NULL, NULL},
    {"shutdown-on-sigint", NULL, CT_ENUM, &shutdown_on_sigint, "default", 0, 0, true,
     "Process setting (stored; no effect in Keel)", enum_shutdown_on_sigint, NULL},
    {"shutdown-on-sigterm", NULL, CT_ENUM, &shutdown_on_sigterm, "default", 0, 0, true,
     "Process setting (stored; no effect in Keel)", enum_shutdown_on_sigint, NULL},
    {"shutdown-timeout", NULL, CT_INT, &shutdown_timeout, "10", 0, INT_MAX, true,
     "Seconds lagging replicas may catch up at shutdown (read by core/repl)", NULL, NULL},
    {"socket-mark-id", NULL, CT_LL, &socket_mark_id, "0", 0, 4294967295LL, false,
     "Process setting (stored; no effect in Keel)", NULL, NULL},
    {"supervised", NULL, CT_ENUM, &supervised, "no", 0, 0, false,
     "Process setting (stored; no effect in Keel)", enum_supervised, NULL},
    {"syslog-enabled", NULL, CT_BOOL, &syslog_enabled, "no", 0, 1, false,
     "Process setting (stored; no effect in Keel)", NULL, NULL},
    {"syslog-facility", NULL, CT_ENUM, &syslog_facility, "local0", 0, 0, false,
     "Process setting (stored; no effect in Keel)", enum_syslog_facility, NULL},
    {"syslog-ident", NULL, CT_STRING, &syslog_ident, "redis", 0, 0, false,
     "Process setting (stored; no effect in Keel)", NULL, NULL},
    {"tls-cluster", NULL, CT_BOOL, &tls_cluster, "no", 0, 1, true,
     "TLS of replication and cluster links (stored; Keel has neither)", NULL, apply_tls},
    {"tls-dh-params-file", NULL, CT_STRING, &tls_dh_params_file, "", 0, 0, true,
     "TLS of replication and cluster links (stored; Keel has neither)", NULL, NULL},
    {"unixsocket", NULL, CT_STRING, &unixsocket, "", 0, 0, false,
     "Process setting (stored; no effect in Keel)", NULL, NULL},
    {"unixsocketperm", NULL, CT_SPECIAL, &unixsocketperm, "0", 0, 0, false,
     "Process setting (stored; no effect in Keel)", NULL, set_octal_perm},
    {"key-load-delay", NULL, CT_INT, &g_config.key_load_delay, "0", INT_MIN, INT_MAX, true,
     "Stored for compatibility with Redis 7.0 (no effect in Keel)", NULL, NULL},
    {"loading-process-events-interval-bytes", NULL, CT_INT, &loading_process_events_interval_bytes,
     "2097152", 1024, INT_MAX, true, "Stored for compatibility with Redis 7.0 (no effect in Keel)",
     NULL, NULL},
    {"lua-enable-deprecated-api", NULL, CT_BOOL, &lua_enable_deprecated_api, "no", 0, 1, false,
     "Stored for compatibility with Redis 7.0 (no effect in Keel)", NULL, NULL},
    {"use-exit-on-panic", NULL, CT_BOOL, &use_exit_on_panic, "no", 0, 1, true,
     "Process setting (stored; no effect in Keel)", NULL, NULL},
    {"watchdog-period", NULL, CT_INT, &watchdog_period, "0", 0, INT_MAX, true,
     "Process setting (stored; no effect in Keel)", NULL, apply_watchdog},
    {NULL, NULL, 0, NULL, NULL, 0, 0, false, NULL, NULL, NULL},
};

/* Hidden in Redis 7.0 (test and debugging knobs): gettable by exact name only. */
const struct config_flag config_table_compat_flags[] = {
    {"key-load-delay", CF_HIDDEN},
    {"loading-process-events-interval-bytes", CF_HIDDEN},
    {"lua-enable-deprecated-api", CF_HIDDEN},
    {"use-exit-on-panic", CF_HIDDEN},
    {"watchdog-period", CF_HIDDEN},
    {NULL, 0},
};

/* Split v on single spaces into at most max words (copied into buf). */
static int split_words(const char *v, char *buf, size_t cap, char **words, int max)
{
    int n = 0;
    char *p;
    snprintf(buf, cap, "%s", v);
    if (*buf == 0) return 0;
    p = buf;
    for (;;) {
        char *sp = strchr(p, ' ');
        if (n == max) return max + 1;
        words[n++] = p;
        if (!sp) break;
        *sp = 0;
        p = sp + 1;
    }
    return n;
}

static void keep_text(const struct config_entry *e, const char *v)
{
    char **p = e->ptr;
    free(*p);
    *p = xstrdup(v);
}

/* replicaof (slaveof): "no one", or "host port" as Redis checks them at
 * start-up (it is immutable); Keel replicates from nobody, the text is
 * kept for CONFIG GET and REWRITE. */
static const char *set_replicaof(const struct config_entry *e, const char *v)
{
    char buf[512], out[600], *w[3];
    long long port;
    int n = split_words(v, buf, sizeof(buf), w, 2);
    if (n == 0) { /* the default: not a replica */
        keep_text(e, "");
        return NULL;
    }
    if (n != 2) return "wrong number of arguments";
    if (!strcasecmp(w[0], "no") && !strcasecmp(w[1], "one")) {
        keep_text(e, "");
        return NULL;
    }
    if (!util_str2ll(w[1], strlen(w[1]), &port) || port < 0 || port > 65535)
        return "Invalid master port";
    snprintf(out, sizeof(out), "%s %lld", w[0], port);
    keep_text(e, out);
    return NULL;
}

/* oom-score-adj-values: three integers between -2000 and 2000. */
static const char *set_oom_values(const struct config_entry *e, const char *v)
{
    char buf[256], *w[4], out[64];
    long long x[3];
    int n = split_words(v, buf, sizeof(buf), w, 3), i;
    if (n != 3) return "wrong number of arguments";
    for (i = 0; i < 3; i++) {
        if (!util_str2ll(w[i], strlen(w[i]), &x[i]) || x[i] < -2000 || x[i] > 2000)
            return "Invalid oom-score-adj-values, elements must be between -2000 and 2000.";
    }
    snprintf(out, sizeof(out), "%lld %lld %lld", x[0], x[1], x[2]);
    keep_text(e, out);
    oom_score_mark(e->name);
    return NULL;
}

/* oom-score-adj: applied with the values by the commit (oom_score.c). */
static const char *set_oom_mode(const struct config_entry *e, const char *v)
{
    (void)v;
    oom_score_mark(e->name);
    return NULL;
}

/* unixsocketperm: an octal number up to 777, shown in octal. */
static const char *set_octal_perm(const struct config_entry *e, const char *v)
{
    char *end, out[16];
    long long n;
    if (*v == 0) return "argument couldn't be parsed as an octal number";
    n = strtoll(v, &end, 8);
    if (*end != 0 || n < 0) return "argument couldn't be parsed as an octal number";
    if (n > 0777) return "argument must be between 0 and 777 inclusive";
    snprintf(out, sizeof(out), "%llo", (unsigned long long)n);
    keep_text(e, out);
    return NULL;
}

/* activedefrag: as a Redis built without its own jemalloc (Debian's), which
 * cannot defragment: "yes" is refused with Redis's text. */
static const char *set_activedefrag(const struct config_entry *e, const char *v)
{
    int *on = e->ptr;
    (void)v;
    if (!*on) return NULL;
    *on = 0;
    return "Active defragmentation cannot be enabled: it requires a Redis server compiled with a "
           "modified Jemalloc like the one shipped by default with the Redis source distribution";
}

/* proc-title-template: Redis's template syntax ({{ and }} are braces,
 * {name} one of its variables) whose expansion, with an empty title, must
 * not be blank. Keel keeps its process title; the text is stored. */
static const char *check_proc_title(const struct config_entry *e, const char *v)
{
    static const char *const vars[] = {"title",    "listen-addr", "server-mode", "port",
                                       "tls-port", "unixsocket",  "config-file", NULL};
    static const char *const never_empty[] = {"listen-addr", "port", "tls-port", NULL};
    const char *p = v, *bad = "template format is invalid or contains unknown variables";
    bool shown = false;
    int i;
    while (*p) {
        if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
            shown = true;
            p += 2;
        } else if (*p == '}') {
            return bad;
        } else if (*p == '{') {
            const char *end = strchr(p, '}');
            size_t n;
            if (!end) return bad;
            n = (size_t)(end - p - 1);
            for (i = 0; vars[i]; i++)
                if (strlen(vars[i]) == n && !memcmp(p + 1, vars[i], n)) break;
            if (!vars[i]) return bad;
            for (i = 0; never_empty[i]; i++)
                if (strlen(never_empty[i]) == n && !memcmp(p + 1, never_empty[i], n)) shown = true;
            p = end + 1;
        } else {
            if (*p != ' ') shown = true;
            p++;
        }
    }
    if (!shown) return bad;
    keep_text(e, v);
    return NULL;
}

/* cluster-announce-hostname: letters, digits, hyphens and dots. */
static const char *set_hostname(const struct config_entry *e, const char *v)
{
    const char *p;
    for (p = v; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.')
            return "Hostnames may only contain alphanumeric characters, hyphens or dots";
    keep_text(e, v);
    return NULL;
}

/* cluster-enabled: Keel is no Redis Cluster node, so `yes` is refused at
 * start rather than ignored (a node that silently stays standalone would
 * look healthy to whoever built the cluster). */
static const char *refuse_cluster(const struct config_entry *e, const char *v)
{
    if (*(int *)e->ptr == 0) return NULL;
    *(int *)e->ptr = 0;
    (void)v;
    return "Keel does not run Redis Cluster (its upstream mode fronts one)";
}

/* repl-backlog-size: as Redis, never below 16 KB. */
static const char *apply_backlog(const struct config_entry *e, const char *v)
{
    long long *size = e->ptr;
    (void)v;
    if (*size < 16 * 1024) *size = 16 * 1024;
    return NULL;
}

/* watchdog-period: as Redis, a period is at least two cron ticks. */
static const char *apply_watchdog(const struct config_entry *e, const char *v)
{
    int *ms = e->ptr, min = (1000 / (g_config.hz > 0 ? g_config.hz : 10)) * 2;
    (void)v;
    if (*ms && *ms < min) *ms = min;
    return NULL;
}

/* tls-cluster: Keel has no cluster, so turning TLS on fails as it does on a
 * Redis that cannot load its certificates. (tls-replication and tls-client-*
 * are adapters/tls's.) */
static const char *apply_tls(const struct config_entry *e, const char *v)
{
    int *on = e->ptr;
    (void)v;
    if (!*on) return NULL;
    *on = 0;
    return "Unable to update TLS configuration. Check server logs.";
}
