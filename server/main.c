/* main.c — the process entry: configuration, the event loop, listeners,
 * cron, signals and orderly shutdown. */
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "script_ldb.h"
#include "acl.h"
#include "adapters.h"
#include "conn.h"
#include "loop.h"
#include "tls.h"
#include "uring.h"
#include "upstream.h"
#include "net.h"
#include "config.h"
#include "registry.h"
#include "aof.h"
#include "migrate.h"
#include "latency.h"
#include "core_init.h"
#include "kernel.h"
#include "client_mem.h"
#include "reply_buffer.h"
#include "log.h"
#include "oom_score.h"
#include "rdb.h"
#include "repl.h"
#include "repl_link.h"
#include "repl_primary.h"
#include "repl_replica.h"
#include "server.h"
#include "siphash.h"
#include "stats.h"
#include "store.h"
#include "util.h"

static struct event *cron_ev, *tick_ev, *sigterm_ev, *sigint_ev, *sigchld_ev;

static void shutdown_on_signal(void);

static void on_cron(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
    if (kernel_pumping()) return;     /* a busy script owns the dataset */
    if (g_server.cron_paused) return; /* DEBUG PAUSE-CRON 1 */
    if (g_server.shutdown_signal) shutdown_on_signal();
    g_server.cron_loops++;
    g_store.active_expire = g_config.active_expire != 0;
    /* A quarter of each cron period at most goes to expiry and rehashing. */
    {
        long long before = g_store.stats.expire_cycle_us;
        store_cron(1000000 / g_config.hz / 4);
        /* LATENCY's expire-cycle event (core/events/latency.c). */
        latency_add_sample_if_needed("expire-cycle",
                                     (g_store.stats.expire_cycle_us - before) / 1000);
    }
    kernel_cron();
    client_mem_cron(g_config.hz); /* maxmemory-clients: a share refreshed, eviction */
    reply_buffer_cron(g_config.hz, util_mstime()); /* reply buffers resized by their peak */
    persist_cron(); /* reap BGSAVE/AOF children, `save` rules (core/persist/cmd_persist.c) */
    ldb_reap();     /* forked Lua debugging sessions that ended (core/script/script_ldb.c) */
    aof_cron();     /* AOF: fsync everysec, retry failed writes, rewrites (core/persist/aof.c) */
    migrate_cron(); /* MIGRATE's idle cached connections (core/persist/migrate.c) */
    kernel_after_events();
}

/* A child ended: reaped now rather than at the next cron, so a full sync
 * sends its RDB (and BGSAVE reports) without waiting up to 1/hz s. */
static void on_sigchld(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
    if (kernel_pumping()) return; /* the cron reaps it after the script */
    persist_cron();
    ldb_reap();
    kernel_after_events();
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
    kernel_after_events();
}

/* Redis's whileBlockedCron: while a busy script keeps the loop from
 * running the cron, its periods are counted (cron_loops, at most hz times
 * a second) and what may run with the dataset still is done: the memory
 * peak. Its duration is LATENCY's while-blocked-cron event. */
static long long blocked_last_cron_ms;

static void while_blocked_cron(void)
{
    long long now = util_mstime(), hz_ms = 1000 / (g_config.hz > 0 ? g_config.hz : 10);
    if (blocked_last_cron_ms == 0 || now - blocked_last_cron_ms > 1000) blocked_last_cron_ms = now;
    if (blocked_last_cron_ms >= now) return; /* called again too soon */
    while (blocked_last_cron_ms < now) {
        blocked_last_cron_ms += hz_ms;
        g_server.cron_loops++;
    }
    stats_note_peak();
    latency_add_sample_if_needed("while-blocked-cron", util_mstime() - now);
}

/* What a busy script runs between its instructions (kernel_pump_events):
 * one pass over the connections with input, without waiting (libevent's
 * loop is the one running the script and cannot be entered again). */
static void pump_events(void)
{
    int pass;
    while_blocked_cron();
    /* Up to 4 passes while one finds work, as Redis's
     * processEventsWhileBlocked: a connection accepted in one pass is read
     * in the next (on the ring its receive is submitted by the flush). */
    for (pass = 0; pass < 4; pass++) {
        bool any = net_pump_accept() > 0;
        any |= conn_pump();
        conn_flush_pending(); /* the BUSY replies go out while the script runs */
        if (g_server.shutdown_asap) {
            /* SHUTDOWN NOSAVE while the script runs: exit now, as Redis. */
            aof_shutdown();
            if (g_config.pidfile && g_config.pidfile[0]) unlink(g_config.pidfile);
            log_warning("Keel is now ready to exit, bye bye...");
            exit(g_server.exit_code);
        }
        if (!any) break;
    }
}

/* The temp RDB of this process's final save (the path is made before the
 * handler may need it: nothing is formatted in the handler). */
static char insist_tmp[4096];

static void set_insist_path(void)
{
    const char *path = g_config.dbfilename, *slash = strrchr(path, '/');
    if (slash)
        snprintf(insist_tmp, sizeof(insist_tmp), "%.*s/temp-%d.rdb", (int)(slash - path), path,
                 (int)getpid());
    else
        snprintf(insist_tmp, sizeof(insist_tmp), "temp-%d.rdb", (int)getpid());
}

/* SIGINT again while the final save of a signal runs: Redis's
 * sigShutdownHandler exits at once, without a clean shutdown (exit code 1),
 * and removes the temp RDB being written. */
static void on_insist(int sig)
{
    (void)sig;
    log_from_handler("You insist... exiting now.");
    unlink(insist_tmp);
    _exit(1);
}

static bool repl_is_replica_now(void)
{
    return repl_is_replica();
}

/* A SIGTERM / SIGINT: the next cron acts on it (shutdown_on_signal), as
 * Redis's handler sets shutdown_asap for serverCron; SHUTDOWN ABORT can
 * still cancel it meanwhile. A SIGINT while one is pending ends the server
 * at once. */
static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what, (void)arg;
    if (sig == SIGINT && g_server.shutdown_signal) {
        set_insist_path();
        on_insist(SIGINT);
    }
    log_warning("Received %s scheduling shutdown...", sig == SIGINT ? "SIGINT" : "SIGTERM");
    g_server.shutdown_signal = (int)sig;
}

static void shutdown_on_signal(void)
{
    struct sigaction insist, prev;
    bool saved;
    log_warning("User requested shutdown...");
    /* As Redis: save first when there are save rules; a failed save keeps
     * the server running. A SIGINT during that save ends the server (the
     * save runs inside the cron: libevent would only queue the signal). */
    set_insist_path();
    memset(&insist, 0, sizeof(insist));
    insist.sa_handler = on_insist;
    sigemptyset(&insist.sa_mask);
    sigaction(SIGINT, &insist, &prev);
    saved = persist_prepare_shutdown(0);
    sigaction(SIGINT, &prev, NULL);
    g_server.shutdown_signal = 0;
    if (!saved) {
        log_warning("SIGTERM received but errors trying to shut down the server, check the logs "
                    "for more information");
        return;
    }
    server_request_shutdown(0);
}

/* tls-auth-clients-user CN: a verified client certificate logs its
 * connection in as the ACL user its CN names (adapters/tls calls this once
 * the handshake is done, before any command). */
static void tls_cert_user(struct conn *c, const char *cn)
{
    if (g_tls_auth_clients_user && c->client) acl_login_as(c->client, cn, strlen(cn));
}

static void make_run_id(void)
{
    unsigned char b[20];
    int i;
    util_random_bytes(b, sizeof(b));
    for (i = 0; i < 20; i++)
        sprintf(g_server.run_id + 2 * i, "%02x", b[i]);
}

int main(int argc, char **argv)
{
    uint8_t seed[16];
    struct timeval cron_tv, tick_tv = {0, 10000};
    const struct adapter_def *const *a;
    int n;

    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: keel [config-file] [--name value ...]\n"
               "Options use the names of config/keel.conf (e.g. --port 6380 --bind 127.0.0.1).\n");
        return 0;
    }
    if (argc >= 2 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-v"))) {
        printf("keel 0.1.0 (redis_version 7.0.15 compatible)\n");
        return 0;
    }
    signal(SIGPIPE, SIG_IGN);
    g_server.executable = argv[0];
    g_server.start_ms = util_mstime();
    make_run_id();
    /* Explicit wiring: the adapters' checks of their config entries. */
    net_register_config();
    tls_register_config();
    config_register_commit(oom_score_commit);
    oom_score_set_replica_fn(repl_is_replica_now);
    repl_link_set_transport(&tls_repl_transport); /* tls-replication (adapters/tls) */
    tls_set_peer_hook(tls_cert_user);
    for (a = adapters; *a; a++) {
        net_register_protocol((*a)->name);
        if ((*a)->register_config) (*a)->register_config();
    }
    config_init(config_table);
    config_add_table(tls_config_table); /* before the compat table's stored-only twins */
    config_add_table(upstream_config_table);
    config_add_table(repl_config_table);   /* core/repl: before the compat twins too */
    config_add_table(repl_replica_config); /* core/repl: the replica's entries */
    config_add_table(config_table_compat);
    config_add_flags(config_table_flags);
    config_add_flags(tls_config_flags);
    config_add_flags(config_table_compat_flags);
    if (!config_load(argc, argv)) return 1;
    /* As Redis: room for maxclients descriptors, or fewer clients (adapters/net.c). */
    if (!net_adjust_open_files()) return 1;
    util_random_bytes(seed, sizeof(seed));
    siphash_set_seed(seed);
    core_init(g_config.databases);
    kernel_set_event_pump(pump_events);
    g_server.base = event_base_new();
    if (!g_server.base) {
        log_warning("Failed creating the event loop.");
        return 1;
    }
    /* The connection I/O path: io_uring or libevent (adapters/uring.c). */
    uring_start(g_server.base, &conn_uring_handlers);
    loop_start(g_server.base); /* where the process waits (adapters/loop.c) */
    /* each iteration hands the replication stream to the replicas before
     * its output is written, and does not sleep while a full sync's
     * payload is going out (core/repl) */
    loop_set_hooks(repl_primary_flush, repl_primary_sending);
    /* Upstream mode: the data lives in a Redis Cluster (adapters/upstream). */
    if (upstream_enabled() && !upstream_start(g_server.base)) return 1;
    for (a = adapters; *a; a++)
        if ((*a)->listen && !(*a)->listen(g_server.base)) return 1;
    if (g_config.pidfile && g_config.pidfile[0]) {
        FILE *f = fopen(g_config.pidfile, "w");
        if (f) {
            fprintf(f, "%d\n", (int)getpid());
            fclose(f);
        }
    }
    /* The listeners are open (as Redis 7.0): while the dataset loads,
     * clients are served between keys with -LOADING for commands not
     * flagged LOADING (core/persist/loading.c, through pump_events).
     * Temporary files of a save or rewrite killed with a previous run go
     * first (core/persist/cmd_persist.c). Then load the dataset: the AOF when
     * appendonly is on and it exists, else the RDB snapshot dir/dbfilename
     * if present; then open the AOF (core/persist/aof.c). */
    {
        /* oom-score-adj from the configuration (Redis's setOOMScoreAdj at
         * start-up: a failure is logged, the server starts) */
        const char *ignored;
        oom_score_commit(&ignored);
    }
    persist_remove_temp_files();
    repl_replica_preload(); /* a replica's load keeps expired keys */
    if (!aof_startup()) return 1;
    cron_tv.tv_sec = 0;
    cron_tv.tv_usec = 1000000 / g_config.hz;
    cron_ev = event_new(g_server.base, -1, EV_PERSIST, on_cron, NULL);
    event_add(cron_ev, &cron_tv);
    tick_ev = event_new(g_server.base, -1, EV_PERSIST, on_tick, NULL);
    event_add(tick_ev, &tick_tv);
    sigterm_ev = evsignal_new(g_server.base, SIGTERM, on_signal, NULL);
    sigint_ev = evsignal_new(g_server.base, SIGINT, on_signal, NULL);
    event_add(sigterm_ev, NULL);
    sigchld_ev = evsignal_new(g_server.base, SIGCHLD, on_sigchld, NULL);
    event_add(sigchld_ev, NULL);
    event_add(sigint_ev, NULL);

    repl_replica_startup(); /* `replicaof` in the configuration: connect */
    log_notice("Ready to accept connections: RESP on %s port %d, HTTP on %s port %d (pid %d)",
               g_config.bind, g_config.port, g_config.http_bind, g_config.http_port, (int)getpid());
    /* The loop, one iteration at a time (adapters/loop.c): before it
     * sleeps again, every reply and push of the iteration is written or
     * submitted, one write or send per connection (adapters/conn.c). */
    while (loop_once()) {
    }
    repl_primary_flush();
    conn_flush_pending();
    /* Lagging replicas get shutdown-timeout seconds to catch up (core/repl).
     * A libevent pass without waiting clears the loop's break first. */
    if (g_server.shutdown_asap) event_base_loop(g_server.base, EVLOOP_NONBLOCK);
    while (g_server.shutdown_asap && repl_shutdown_wait())
        loop_once();
    conn_flush_pending();
    aof_shutdown(); /* write and fsync the AOF's buffer (core/persist/aof.c) */

    for (n = 0; adapters[n]; n++) {
    }
    while (n-- > 0)
        if (adapters[n]->shutdown) adapters[n]->shutdown();
    net_shutdown();
    tls_shutdown();
    loop_stop();
    uring_stop();
    upstream_shutdown();
    event_free(cron_ev);
    event_free(tick_ev);
    event_free(sigterm_ev);
    event_free(sigint_ev);
    event_free(sigchld_ev);
    event_base_free(g_server.base);
    store_shutdown();
    if (g_config.pidfile && g_config.pidfile[0]) unlink(g_config.pidfile);
    log_warning("Keel is now ready to exit, bye bye...");
    return g_server.exit_code;
}
