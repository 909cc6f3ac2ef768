/* repl_replica.c — the replica side of replication (repl_replica.h), as
 * Redis 7.0 does it: REPLICAOF / SLAVEOF and their replies, the replica's
 * configuration entries, becoming a replica (the cached master is
 * ourselves, so a PSYNC can continue a stream we served) and a primary
 * again (REPLICAOF NO ONE: the id is shifted, the data kept), the full
 * sync's load, and the master client: the primary's stream applied
 * through the kernel by a client that gets no replies and that the
 * replica's refusals (-READONLY, -MASTERDOWN, maxmemory) never stop. The
 * bytes of each applied command go on to repl_feed_stream (the offset, the
 * backlog, our own replicas); a transaction counts once its EXEC is
 * applied. The socket to the primary is repl_link.c's. */
#include "repl_replica.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aof.h"
#include "commands_gen.h"
#include "config.h"
#include "kernel.h"
#include "lazyfree.h"
#include "loading.h"
#include "log.h"
#include "oom_score.h"
#include "multi.h"
#include "rdb.h"
#include "rdb_stream.h"
#include "repl.h"
#include "repl_link.h"
#include "resp_parse.h"
#include "store.h"
#include "util.h"

struct repl_replica_config g_repl_replica_cfg;

/* ==================== configuration ==================== */

/* replicaof "host port" (or "no one"): read at start-up (the entry is
 * immutable, as Redis's), shown by CONFIG GET as the current primary. */
static const char *set_replicaof(const struct config_entry *e, const char *v)
{
    char host[256];
    long long port;
    const char *sp;
    char **p = e->ptr;
    while (*v == ' ')
        v++;
    if (!*v || !strcasecmp(v, "no one")) {
        free(*p);
        *p = xstrdup("");
        return NULL;
    }
    sp = strchr(v, ' ');
    if (!sp || (size_t)(sp - v) >= sizeof(host)) return "wrong number of arguments";
    memcpy(host, v, (size_t)(sp - v));
    host[sp - v] = 0;
    while (*sp == ' ')
        sp++;
    if (strchr(sp, ' ')) return "wrong number of arguments";
    if (!util_str2ll(sp, strlen(sp), &port) || port < 0 || port > 65535)
        return "Invalid master port";
    {
        char out[300];
        snprintf(out, sizeof(out), "%s %lld", host, port);
        free(*p);
        *p = xstrdup(out);
    }
    return NULL;
}

#define R_HELP "Replication, replica side (core/repl/repl_replica.c)"
static const struct config_entry table[] = {
    {"replicaof", "slaveof", CT_SPECIAL, &g_repl_replica_cfg.replicaof, "", 0, 0, false,
     "The primary this server replicates from at start-up (\"host port\")", NULL, set_replicaof},
    {"masterauth", NULL, CT_STRING, &g_repl_replica_cfg.masterauth, "", 0, 0, true,
     "The password the replica gives its primary (AUTH)", NULL, NULL},
    {"masteruser", NULL, CT_STRING, &g_repl_replica_cfg.masteruser, "", 0, 0, true,
     "The ACL user the replica logs in as on its primary", NULL, NULL},
    {"replica-read-only", "slave-read-only", CT_BOOL, &g_repl_replica_cfg.read_only, "yes", 0, 1,
     true, "A replica refuses clients' writes (-READONLY)", NULL, NULL},
    {"replica-serve-stale-data", "slave-serve-stale-data", CT_BOOL,
     &g_repl_replica_cfg.serve_stale_data, "yes", 0, 1, true,
     "no: while the link is down, commands not flagged stale get -MASTERDOWN", NULL, NULL},
    {"replica-announce-ip", "slave-announce-ip", CT_STRING, &g_repl_replica_cfg.announce_ip, "", 0,
     0, true, "The address the replica announces to its primary (REPLCONF ip-address)", NULL, NULL},
    {"replica-announce-port", "slave-announce-port", CT_INT, &g_repl_replica_cfg.announce_port, "0",
     0, 65535, true, "The port the replica announces (0: its own port)", NULL, NULL},
    {"replica-announced", NULL, CT_BOOL, &g_repl_replica_cfg.announced, "yes", 0, 1, true,
     "Whether Sentinel lists this replica (INFO replication)", NULL, NULL},
    {"replica-priority", "slave-priority", CT_INT, &g_repl_replica_cfg.priority, "100", 0, INT_MAX,
     true, "The replica's rank for promotion (INFO slave_priority)", NULL, NULL},
    {NULL, NULL, CT_BOOL, NULL, NULL, 0, 0, false, NULL, NULL, NULL},
};
const struct config_entry *const repl_replica_config = table;

/* ==================== the master client ==================== */

static struct client *master;
static struct resp_parser parser;
static bool parser_ready;
/* Bytes of commands applied inside MULTI: fed to the stream with EXEC. */
static struct sbuf pending;
/* The database the stream selected last: a continued stream (PSYNC
 * +CONTINUE) does not select it again, so the next master client starts
 * there (Redis keeps its cached master client for this). */
static int stream_db;

static void master_describe(struct client *c, char *addr, size_t alen, char *laddr, size_t llen,
                            int *fd)
{
    (void)c;
    repl_link_describe(addr, alen, laddr, llen, fd);
}

/* CLIENT KILL TYPE master (and any other close): the link goes down after
 * the current command; the next attempt continues from what was applied. */
static void master_close(struct client *c, bool after_reply)
{
    (void)c;
    (void)after_reply;
    repl_link_drop_later();
}

static const struct client_adapter master_adapter = {
    .name = "master",
    .close = master_close,
    .describe = master_describe,
};

size_t repl_replica_pending(void)
{
    return pending.len;
}

struct client *repl_replica_master_client(void)
{
    return master;
}

static void master_create(void)
{
    if (master) return;
    master = client_new(&master_adapter, NULL, reply_discard.ops);
    master->reply = reply_discard;
    master->authenticated = true;
    master->flags |= CF_MASTER;
    if (!parser_ready) {
        resp_parser_init(&parser, LLONG_MAX / 4, INT_MAX);
        parser_ready = true;
    }
    parser.authenticated = true;
    pending.len = 0;
    client_select(master, stream_db);
}

static void master_free(void)
{
    if (!master) return;
    if (master->flags & CF_MULTI) multi_discard(master);
    stream_db = master->dbid;
    client_free(master);
    master = NULL;
    if (parser_ready) {
        resp_parser_free(&parser);
        parser_ready = false;
    }
    pending.len = 0;
}

void repl_replica_link_lost(void)
{
    master_free();
}

static bool word_is(const struct argv_ref *a, const char *w)
{
    size_t n = strlen(w);
    return a->n == n && strncasecmp(a->p, w, n) == 0;
}

long long repl_replica_apply(const char *buf, size_t len)
{
    size_t off = 0;
    if (!master) return 0;
    while (off < len && master) {
        int argc;
        struct argv_ref *argv;
        size_t used = 0;
        enum resp_result r = resp_parse(&parser, buf + off, len - off, &argc, &argv, &used);
        if (r == RESP_MORE) break;
        if (r == RESP_ERROR) {
            log_warning("Protocol error from MASTER: %s", parser.err);
            return -1;
        }
        if (r == RESP_CMD) {
            if (argc == 3 && word_is(&argv[0], "replconf") && word_is(&argv[1], "getack")) {
                /* answered with the offset before this command, as Redis */
                repl_link_send_ack();
            } else {
                g_store.obey_master = true; /* expired keys are live to it */
                kernel_submit(master, argc, argv);
                g_store.obey_master = false;
            }
        }
        /* Only what a command completed counts; inside MULTI the bytes wait
         * for EXEC (a link lost before it resends the whole transaction). */
        if (master && (master->flags & CF_MULTI)) {
            sbuf_append(&pending, buf + off, used);
        } else {
            if (pending.len) {
                repl_feed_stream(pending.p, pending.len);
                pending.len = 0;
            }
            repl_feed_stream(buf + off, used);
        }
        off += used;
    }
    return (long long)off;
}

static void handshake_args(const char **user, const char **pass, const char **announce_ip,
                           int *announce_port)
{
    *user = g_repl_replica_cfg.masteruser;
    *pass = g_repl_replica_cfg.masterauth;
    *announce_ip = g_repl_replica_cfg.announce_ip;
    *announce_port = g_repl_replica_cfg.announce_port;
}

static bool use_memory(void);
static bool load_stream(const struct rdb_stream_src *src, const char *replid, long long offset,
                        unsigned char **rest, size_t *nrest);

static const struct repl_link_ops link_ops = {
    .handshake = handshake_args,
    .load = repl_replica_load_sync,
    .use_memory = use_memory,
    .load_stream = load_stream,
    .cont = repl_replica_continue,
    .apply = repl_replica_apply,
    .lost = repl_replica_link_lost,
    .pending = repl_replica_pending,
};

void repl_replica_init(void)
{
    repl_link_set_ops(&link_ops);
}

/* ==================== becoming a replica, and a primary ==================== */

static void keep_replicaof_text(void)
{
    char out[300] = "";
    if (repl_is_replica())
        snprintf(out, sizeof(out), "%s %d", g_repl_master.host, g_repl_master.port);
    free(g_repl_replica_cfg.replicaof);
    g_repl_replica_cfg.replicaof = xstrdup(out);
}

void repl_replica_start(const char *host, int port)
{
    bool was_primary = !repl_is_replica();
    repl_link_cancel(); /* frees the master client: what was applied is the cached master */
    snprintf(g_repl_master.host, sizeof(g_repl_master.host), "%s", host);
    oom_score_update(-1); /* the replica's class */
    g_repl_master.port = port;
    /* a primary turning replica has no link that went down (INFO: -1); a
     * replica changing primary keeps the time its link was lost */
    if (was_primary) g_repl_master.down_since_ms = 0;
    g_store.replica = true;
    log_set_role('S');
    if (was_primary) {
        /* As Redis's replicationCacheMasterUsingMyself: our own id and
         * offset name where we are, so a primary that was our replica
         * (FAILOVER) can continue from there. */
        repl_link_set_cached(true);
        log_notice("Before turning into a replica, using my own master parameters to synthesize "
                   "a cached master: I may be able to synchronize with the new master with just "
                   "a partial transfer.");
    }
    keep_replicaof_text();
    log_notice("Connecting to MASTER %s:%d", host, port);
    repl_link_connect();
}

void repl_replica_stop(void)
{
    if (!repl_is_replica()) return;
    repl_link_cancel();
    repl_link_stop_timer();
    g_repl_master.host[0] = 0;
    oom_score_update(-1); /* the primary's class */
    g_repl_master.port = 0;
    g_repl_master.state = REPL_LINK_NONE;
    g_repl_master.sync_in_progress = false;
    g_store.replica = false;
    log_set_role('M');
    /* A new history starts here: our replicas learn the new id (and may
     * continue with replid2) when they reconnect. */
    repl_shift_replid();
    repl_disconnect_replicas();
    repl_backlog_ensure();
    repl_reset_selected_db();
    keep_replicaof_text();
}

bool repl_replica_save_info(struct rdb_repl_info *out)
{
    /* As Redis's rdbPopulateSaveInfo for a replica: where the primary's
     * stream is (applied), and the database it selected last. */
    if (!repl_is_replica()) return false;
    memset(out, 0, sizeof(*out));
    out->valid = true;
    memcpy(out->id, g_repl.replid, REPL_ID_LEN + 1);
    out->offset = g_repl.offset;
    out->stream_db = master ? master->dbid : stream_db;
    return true;
}

void repl_replica_preload(void)
{
    const char *v = g_repl_replica_cfg.replicaof;
    if (v && *v) g_store.replica = true; /* keys expired in the file are kept */
}

void repl_replica_startup(void)
{
    char host[256];
    int port;
    const char *v = g_repl_replica_cfg.replicaof, *sp;
    if (!v || !*v) return;
    sp = strrchr(v, ' ');
    if (!sp || (size_t)(sp - v) >= sizeof(host)) return;
    memcpy(host, v, (size_t)(sp - v));
    host[sp - v] = 0;
    port = atoi(sp + 1);
    g_store.replica = true;
    repl_replica_start(host, port);
    /* The file we loaded names where our primary's stream was (Redis 7.0's
     * rsi): continue from there; otherwise the first PSYNC is "? -1". */
    if (rdb_loaded_repl.valid) {
        repl_set_replid(rdb_loaded_repl.id, rdb_loaded_repl.offset);
        stream_db = rdb_loaded_repl.stream_db;
        repl_link_set_cached(true);
        log_notice("Using the replication ID and offset of the RDB file (%s:%lld) to continue "
                   "the stream",
                   rdb_loaded_repl.id, rdb_loaded_repl.offset);
    } else {
        repl_link_set_cached(false);
    }
}

/* ==================== syncs ==================== */

/* repl-diskless-load: the RDB of this sync is loaded from the socket as
 * it arrives (swapdb; or on-empty-db with no key), not written to
 * dbfilename. */
static bool use_memory(void)
{
    int i;
    if (g_repl_cfg.diskless_load == REPL_LOAD_SWAPDB) return true;
    if (g_repl_cfg.diskless_load != REPL_LOAD_ON_EMPTY_DB) return false;
    for (i = 0; i < g_store.ndb; i++)
        if (dict_size(&store_db(i)->keys) > 0) return false;
    return true;
}

/* A diskless load: the payload src delivers, and what followed it. */
struct sync_src {
    const struct rdb_stream_src *src;
    unsigned char **rest;
    size_t *nrest;
};

static bool load_sync(const char *path, const struct sync_src *in, const char *replid,
                      long long offset);

bool repl_replica_load_sync(const char *path, const char *replid, long long offset)
{
    return load_sync(path, NULL, replid, offset);
}

static bool load_stream(const struct rdb_stream_src *src, const char *replid, long long offset,
                        unsigned char **rest, size_t *nrest)
{
    struct sync_src in = {src, rest, nrest};
    return load_sync(NULL, &in, replid, offset);
}

/* The new dataset is in place: adopt the primary's id and offset, start a
 * new history (backlog, master client), restart the AOF. */
static void sync_done(const char *replid, long long offset)
{
    char err[512];
    repl_set_replid(replid, offset);
    memset(g_repl.replid2, '0', REPL_ID_LEN);
    g_repl.replid2[REPL_ID_LEN] = 0;
    g_repl.second_replid_offset = -1;
    repl_backlog_ensure();
    repl_reset_selected_db();
    stream_db = 0; /* the primary selects the database first after a full sync */
    master_create();
    log_notice("MASTER <-> REPLICA sync: Finished with success");
    /* The AOF, if on, starts again from this dataset (Redis restarts it). */
    if (g_config.appendonly) {
        if (!aof_rewrite_start(err, sizeof(err)))
            log_warning("Background append only file rewriting after the sync failed: %s", err);
    }
}

/* repl-diskless-load swapdb, as Redis 7.0: the RDB loads into a side set
 * of databases while the old data stays where clients read it; the side
 * set is swapped in once loaded (store_swap_main: WATCH, tracking and
 * blocked clients see it), or dropped if the load fails (the old data
 * stays, our own replicas stay attached). When the sync continues the
 * history our data belongs to (our replid is the one +FULLRESYNC named)
 * the load is async: clients are served from the old data meanwhile
 * (INFO async_loading:1); otherwise they get -LOADING. */
static bool load_swapdb(const struct sync_src *in, const char *replid, long long offset)
{
    char err[512];
    long long dirty = g_store.stats.dirty;
    bool async = strcmp(g_repl.replid, replid) == 0, ok;
    struct rdb_side side;
    size_t i;
    memset(&side, 0, sizeof(side));
    rdb_kill_child(); /* a save in progress would write the data we drop */
    side.dbs = store_side_new();
    log_notice("MASTER <-> REPLICA sync: Loading DB in memory%s",
               async ? " (async loading: the old data is served meanwhile)" : "");
    loading_start_async(in->src->len > 0 ? in->src->len : 0, async);
    ok = rdb_load_stream(in->src, &side, in->rest, in->nrest, err, sizeof(err));
    loading_end();
    g_store.stats.dirty = dirty;
    if (!ok) {
        log_warning("Failed trying to load the MASTER synchronization DB from socket: %s", err);
        store_side_free(side.dbs, true);
        rdb_side_functions_free(&side);
        log_notice("MASTER <-> REPLICA sync: Discarding temporary DB in background");
        return false;
    }
    /* As Redis's replicationAttachToNewMaster, once the load succeeded:
     * our replicas must resync with us, the old backlog describes a
     * history we no longer have. */
    repl_disconnect_replicas();
    repl_backlog_free();
    log_notice("MASTER <-> REPLICA sync: Swapping active DB with loaded DB");
    store_swap_main(side.dbs);
    /* the image's libraries replace ours (Redis swaps the contexts) */
    if (rdb_functions_flush) rdb_functions_flush();
    for (i = 0; i < side.nfn; i++) {
        if (rdb_function_load &&
            !rdb_function_load(side.fn[i].p, side.fn[i].n, true, err, sizeof(err)))
            log_warning("MASTER <-> REPLICA sync: a function library failed to load: %s", err);
    }
    rdb_side_functions_free(&side);
    store_side_free(side.dbs, true);
    log_notice("MASTER <-> REPLICA sync: Discarding old DB in background");
    /* As Redis: a diskless load saved nothing, so it is one change */
    g_store.stats.dirty = dirty + 1;
    sync_done(replid, offset);
    return true;
}

static bool load_sync(const char *path, const struct sync_src *in, const char *replid,
                      long long offset)
{
    char err[512];
    int i;
    long long dirty = g_store.stats.dirty;
    bool ok;
    if (in && g_repl_cfg.diskless_load == REPL_LOAD_SWAPDB) return load_swapdb(in, replid, offset);
    /* As Redis's readSyncBulkPayload: our replicas must resync with us,
     * the old backlog describes a history we no longer have, and a save
     * in progress would write the data we are about to drop. */
    repl_disconnect_replicas();
    repl_backlog_free();
    rdb_kill_child();
    log_notice("MASTER <-> REPLICA sync: Flushing old data");
    for (i = 0; i < g_store.ndb; i++) /* replica-lazy-flush: on the lazy-free thread */
        store_flushdb(store_db(i), lazyfree_replica_flush != 0);
    if (rdb_functions_flush) rdb_functions_flush(); /* as Redis's emptyData */
    log_notice("MASTER <-> REPLICA sync: Loading DB in memory");
    if (in) {
        loading_start(in->src->len > 0 ? in->src->len : 0);
        ok = rdb_load_stream(in->src, NULL, in->rest, in->nrest, err, sizeof(err));
        loading_end();
    } else {
        ok = rdb_load_file(path, err, sizeof(err));
    }
    if (!ok) {
        log_warning("Failed trying to load the MASTER synchronization DB from %s: %s",
                    in ? "socket" : "disk", err);
        for (i = 0; i < g_store.ndb; i++)
            store_flushdb(store_db(i), false);
        g_store.stats.dirty = dirty; /* dropping the half-loaded data is no change */
        return false;
    }
    /* Loading is no change, but a diskless load saved nothing: one (as
     * Redis's readSyncBulkPayload); a load from disk leaves the count. */
    g_store.stats.dirty = in ? dirty + 1 : dirty;
    sync_done(replid, offset);
    return true;
}

void repl_replica_continue(const char *replid)
{
    if (replid && *replid && strcmp(replid, g_repl.replid) != 0) {
        /* The primary's history has a new name from here on (it was
         * promoted): the old one stays valid up to here for our replicas. */
        memcpy(g_repl.replid2, g_repl.replid, REPL_ID_LEN + 1);
        g_repl.second_replid_offset = g_repl.offset + 1;
        memcpy(g_repl.replid, replid, REPL_ID_LEN);
        g_repl.replid[REPL_ID_LEN] = 0;
        repl_disconnect_replicas();
    }
    repl_backlog_ensure();
    master_create();
}

/* ==================== the refusals ==================== */

bool repl_replica_stale(void)
{
    return repl_is_replica() && g_repl_master.state != REPL_LINK_CONNECTED &&
           !g_repl_replica_cfg.serve_stale_data;
}

bool repl_replica_refuse_write(struct client *c, const struct command *cmd, struct reply *r)
{
    if (!repl_is_replica() || (c->flags & CF_MASTER) || !g_repl_replica_cfg.read_only ||
        !(cmd->flags & CMD_WRITE))
        return false;
    reply_error(r, "READONLY You can't write against a read only replica.");
    return true;
}

bool repl_replica_refuse(struct client *c, const struct command *cmd, struct reply *r)
{
    const struct command *top = cmd->parent ? cmd->parent : cmd;
    bool exec = (c->flags & CF_MULTI) && cmd->fn == cmd_exec;
    if (!repl_is_replica() || (c->flags & CF_MASTER)) return false;
    if (g_repl_replica_cfg.read_only && multi_exec_is_write(c, cmd)) {
        multi_refuse(c, cmd, r, "READONLY You can't write against a read only replica.");
        return true;
    }
    if (g_repl_master.state != REPL_LINK_CONNECTED && !g_repl_replica_cfg.serve_stale_data &&
        ((!(cmd->flags & CMD_STALE) && !(top->flags & CMD_STALE)) ||
         (exec && multi_any_lacks(c, CMD_STALE)))) {
        multi_refuse(c, cmd, r,
                     "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set "
                     "to 'no'.");
        return true;
    }
    return false;
}

/* ==================== REPLICAOF ==================== */

/* keel_check replicaof_host (schemas/commands/replicaof.json): whether the
 * host is the word NO (then "ONE" is not a port). */
const char *keel_check_replicaof_host(const struct argv_ref *w, struct argval *v,
                                      const struct argval *prev)
{
    (void)prev;
    v->i = word_is(w, "no") ? 1 : 0;
    return NULL;
}

/* keel_check replicaof_port: NO ONE (i = -1), or a port 0..65535. */
const char *keel_check_replicaof_port(const struct argv_ref *w, struct argval *v,
                                      const struct argval *prev)
{
    long long port;
    if (prev && prev->i == 1 && word_is(w, "one")) {
        v->i = -1;
        return NULL;
    }
    if (!util_str2ll(w->p, w->n, &port) || port < 0 || port > 65535)
        return "ERR Invalid master port";
    v->i = port;
    return NULL;
}

/* REPLICAOF host port | NO ONE (SLAVEOF: the same) */
void cmd_replicaof(struct exec *x)
{
    long long port = ARGI(x, A_REPLICAOF_port);
    char host[256];
    size_t hn = ARGN(x, A_REPLICAOF_host);
    if (port < 0) {
        if (repl_is_replica()) {
            repl_replica_stop();
            log_notice("MASTER MODE enabled (user request)");
        }
        reply_ok(x->r);
        return;
    }
    if (hn >= sizeof(host)) hn = sizeof(host) - 1;
    memcpy(host, ARGP(x, A_REPLICAOF_host), hn);
    host[hn] = 0;
    if (repl_is_replica() && !strcasecmp(g_repl_master.host, host) && g_repl_master.port == port) {
        log_notice("REPLICAOF would result into synchronization with the master we are already "
                   "connected with. No operation performed.");
        reply_status(x->r, "OK Already connected to specified master");
        return;
    }
    repl_replica_start(host, (int)port);
    log_notice("REPLICAOF %s:%d enabled (user request)", host, (int)port);
    reply_ok(x->r);
}

/* SLAVEOF host port | NO ONE: REPLICAOF's old name (keel_family "replicaof"). */
void cmd_slaveof(struct exec *x)
{
    cmd_replicaof(x);
}
