/* cmd_persist.c — the snapshot commands (SAVE, BGSAVE, LASTSAVE, DUMP,
 * RESTORE), DEBUG RELOAD's work, the BGSAVE child and the `save` rules run
 * from the server cron, MISCONF (stop-writes-on-bgsave-error), SHUTDOWN's
 * save step, the load at start-up and the removal of the temporary files a
 * killed save or rewrite left. The format itself is core/persist/rdb.c. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "evict.h"
#include "config.h"
#include "aof.h"
#include "commands_gen.h"
#include "kernel.h"
#include "latency.h"
#include "log.h"
#include "oom_score.h"
#include "multi.h"
#include "propagate.h"
#include "rdb.h"
#include "server.h"
#include "store.h"
#include "util.h"

#define BGSAVE_RETRY_DELAY 5 /* seconds, as Redis's CONFIG_BGSAVE_RETRY_DELAY */

static const char misconf_text[] =
    "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to "
    "disk. Commands that may modify the data set are disabled, because this instance is "
    "configured to report errors during writes if RDB snapshotting fails "
    "(stop-writes-on-bgsave-error option). Please check the Redis logs for details about the "
    "RDB error.";

static long long now_s(void)
{
    return (long long)time(NULL);
}

/* The `save` rules as (seconds, changes) pairs; returns how many. */
static int save_rules(long long (*out)[2], int max)
{
    const char *s = g_config.save ? g_config.save : "";
    int n = 0;
    while (*s && n < max) {
        char *end;
        long long secs = strtoll(s, &end, 10), changes;
        if (end == s) break;
        s = end;
        changes = strtoll(s, &end, 10);
        if (end == s) break;
        s = end;
        out[n][0] = secs;
        out[n][1] = changes;
        n++;
    }
    return n;
}

static bool have_save_rules(void)
{
    long long r[1][2];
    return save_rules(r, 1) > 0;
}

/* ---- synchronous save ---- */

bool rdb_save_now(char *err, size_t errlen)
{
    if (!rdb_save_file(g_config.dbfilename, err, errlen)) {
        log_warning("%s", err);
        return false;
    }
    log_notice("DB saved on disk");
    g_store.stats.dirty = 0;
    g_server.lastsave = now_s();
    g_server.lastbgsave_failed = false;
    return true;
}

/* ---- the background child ---- */

int persist_fork(int child_type)
{
    long long start = util_ustime();
    pid_t pid, parent = getpid();
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid == 0) {
        log_set_role('C');
        oom_score_update(OOM_BGCHILD);
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        signal(SIGUSR1, SIG_DFL);
        /* A child outliving a killed server would write on for nobody and
         * keep its temp file alive past the next start's clean-up: it dies
         * with its parent. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(1);
        return 0;
    }
    if (pid < 0) return -1;
    g_server.stat_fork_time_us = util_ustime() - start;
    latency_add_sample_if_needed("fork", g_server.stat_fork_time_us / 1000); /* LATENCY */
    g_server.stat_total_forks++;
    g_server.child_pid = pid;
    g_server.child_type = child_type;
    g_server.child_start_ms = util_mstime();
    return (int)pid;
}

bool rdb_bgsave_start(char *err, size_t errlen)
{
    pid_t pid;
    if (g_server.child_pid > 0) {
        snprintf(err, errlen, "a child process is active");
        return false;
    }
    g_server.rdb_saves++;
    g_server.dirty_before_bgsave = g_store.stats.dirty;
    g_server.lastbgsave_try = now_s();
    pid = persist_fork(CHILD_RDB);
    if (pid == 0) {
        char e[512];
        bool ok;
        ok = rdb_save_file(g_config.dbfilename, e, sizeof(e));
        if (!ok)
            log_warning("%s", e);
        else
            log_notice("DB saved on disk");
        _exit(ok ? 0 : 1);
    }
    if (pid < 0) {
        g_server.lastbgsave_failed = true;
        snprintf(err, errlen, "Can't save in background: fork: %s", strerror(errno));
        log_warning("%s", err);
        return false;
    }
    g_server.rdb_save_time_start = g_server.child_start_ms;
    log_notice("Background saving started by pid %ld", (long)pid);
    return true;
}

static void remove_temp_file(pid_t pid)
{
    char tmp[PATH_MAX];
    const char *path = g_config.dbfilename, *slash = strrchr(path, '/');
    if (slash)
        snprintf(tmp, sizeof(tmp), "%.*s/temp-%d.rdb", (int)(slash - path), path, (int)pid);
    else
        snprintf(tmp, sizeof(tmp), "temp-%d.rdb", (int)pid);
    unlink(tmp);
}

static void bgsave_done(int exitcode, int bysignal)
{
    if (!bysignal && exitcode == 0) {
        log_notice("Background saving terminated with success");
        g_store.stats.dirty -= g_server.dirty_before_bgsave;
        if (g_store.stats.dirty < 0) g_store.stats.dirty = 0;
        g_server.lastsave = now_s();
        g_server.lastbgsave_failed = false;
    } else if (!bysignal) {
        log_warning("Background saving error");
        g_server.lastbgsave_failed = true;
    } else {
        log_warning("Background saving terminated by signal %d", bysignal);
        remove_temp_file(g_server.child_pid);
        if (bysignal != SIGUSR1) g_server.lastbgsave_failed = true;
    }
    g_server.rdb_save_time_last = (util_mstime() - g_server.rdb_save_time_start) / 1000;
}

void rdb_kill_child(void)
{
    int st;
    if (g_server.child_pid <= 0 || g_server.child_type != CHILD_RDB) return;
    kill(g_server.child_pid, SIGUSR1);
    waitpid(g_server.child_pid, &st, 0);
    remove_temp_file(g_server.child_pid);
    g_server.child_pid = 0;
    g_server.child_type = CHILD_NONE;
}

static void (*child_done_hook)(int type, int pid, int exitcode, int bysignal);

void persist_set_child_done(void (*fn)(int type, int pid, int exitcode, int bysignal))
{
    child_done_hook = fn;
}

/* Reap a finished child; start scheduled or rule-triggered saves. */
void persist_cron(void)
{
    if (g_server.child_pid > 0) {
        int st;
        pid_t pid = waitpid(g_server.child_pid, &st, WNOHANG);
        if (pid == g_server.child_pid) {
            int exitcode = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
            int bysignal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
            int type = g_server.child_type;
            if (type == CHILD_RDB)
                bgsave_done(exitcode, bysignal);
            else if (type == CHILD_AOF)
                aof_child_done(exitcode, bysignal);
            g_server.child_pid = 0;
            g_server.child_type = CHILD_NONE;
            if (child_done_hook) child_done_hook(type, (int)pid, exitcode, bysignal);
        }
        return;
    }
    if (g_server.bgsave_scheduled) {
        char err[256];
        if (rdb_bgsave_start(err, sizeof(err))) g_server.bgsave_scheduled = false;
        return;
    }
    {
        long long rules[64][2];
        int n = save_rules(rules, 64), i;
        long long now = now_s();
        for (i = 0; i < n; i++) {
            if (g_store.stats.dirty >= rules[i][1] && now - g_server.lastsave > rules[i][0] &&
                (now - g_server.lastbgsave_try > BGSAVE_RETRY_DELAY ||
                 !g_server.lastbgsave_failed)) {
                char err[256];
                log_notice("%lld changes in %lld seconds. Saving...", rules[i][1], rules[i][0]);
                rdb_bgsave_start(err, sizeof(err));
                break;
            }
        }
    }
}

/* ---- MISCONF: called by the kernel before a command runs ---- */

bool persist_reject(struct client *c, const struct command *cmd, struct reply *r)
{
    bool is_write;
    if (!g_server.lastbgsave_failed || !g_config.stop_writes_on_bgsave_error) return false;
    if (!have_save_rules()) return false;
    is_write = multi_exec_is_write(c, cmd);
    if (!is_write && strcmp(cmd->name, "ping") != 0) return false;
    multi_refuse(c, cmd, r, misconf_text);
    return true;
}

/* ---- start-up and shutdown ---- */

bool rdb_load_at_startup(void)
{
    char err[512];
    struct stat st;
    long long start = util_ustime();
    g_server.lastsave = now_s();
    g_server.rdb_save_time_last = -1;
    if (stat(g_config.dbfilename, &st) == -1) return true; /* nothing to load */
    if (!rdb_load_file(g_config.dbfilename, err, sizeof(err))) {
        log_warning("%s", err);
        return false;
    }
    log_notice("DB loaded from disk: %.3f seconds (%lld keys, %lld expired skipped)",
               (double)(util_ustime() - start) / 1e6, rdb_last_load_keys_loaded,
               rdb_last_load_keys_expired);
    g_store.stats.dirty = 0;
    return true;
}

/* temp-<digits><suffix> with the digits a pid (> 0); *pid set. */
static bool temp_pid_name(const char *name, const char *prefix, const char *suffix, long *pid)
{
    size_t pl = strlen(prefix), sl = strlen(suffix), n = strlen(name), i;
    long v = 0;
    if (n <= pl + sl || strncmp(name, prefix, pl) != 0 || strcmp(name + n - sl, suffix) != 0)
        return false;
    for (i = pl; i < n - sl; i++) {
        if (name[i] < '0' || name[i] > '9' || v > 100000000L) return false;
        v = v * 10 + (name[i] - '0');
    }
    *pid = v;
    return v > 0;
}

static void remove_temp(const char *dir, const char *name)
{
    char path[PATH_MAX];
    int r = snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (r < 0 || (size_t)r >= sizeof(path)) return;
    if (unlink(path) == 0)
        log_notice("Removing the temporary file %s left by a previous run", path);
    else if (errno != ENOENT)
        log_warning("Can't remove the temporary file %s: %s", path, strerror(errno));
}

/* The pid-named temp files of core/persist/rdb.c (rdb_save_file: temp-<pid>.rdb)
 * and core/persist/aof.c (rw_tmpfile: temp-rewriteaof-bg-<pid>.aof; the base
 * written at start-up: temp-rewriteaof-<pid>.aof) in one directory. A file
 * whose process is still alive is left alone: another server sharing the
 * directory may be writing it. */
static void remove_pid_temps(const char *dir)
{
    static const char *const forms[][2] = {
        {"temp-", ".rdb"}, {"temp-rewriteaof-bg-", ".aof"}, {"temp-rewriteaof-", ".aof"}};
    DIR *d = opendir(dir);
    struct dirent *de;
    if (!d) return;
    while ((de = readdir(d)) != NULL) {
        size_t i;
        long pid;
        for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
            if (!temp_pid_name(de->d_name, forms[i][0], forms[i][1], &pid)) continue;
            if (pid != (long)getpid() && kill((pid_t)pid, 0) == -1 && errno == ESRCH)
                remove_temp(dir, de->d_name);
            break;
        }
    }
    closedir(d);
}

void persist_remove_temp_files(void)
{
    char name[PATH_MAX];
    struct stat st;
    remove_pid_temps(".");
    if (!g_config.appenddirname || stat(g_config.appenddirname, &st) == -1 || !S_ISDIR(st.st_mode))
        return;
    remove_pid_temps(g_config.appenddirname);
    /* core/persist/aof.c's temp_incr_name and persist_manifest's temporary manifest. */
    snprintf(name, sizeof(name), "temp-%s.incr", g_config.appendfilename);
    remove_temp(g_config.appenddirname, name);
    snprintf(name, sizeof(name), "temp-%s.manifest", g_config.appendfilename);
    remove_temp(g_config.appenddirname, name);
}

/* SHUTDOWN's save step (and SIGTERM's). how: 0 default (save if there are
 * save rules), 1 SAVE, -1 NOSAVE. False when the save failed. */
bool persist_prepare_shutdown(int how)
{
    char err[512];
    if (g_server.child_pid > 0 && g_server.child_type == CHILD_RDB) {
        log_warning("There is a child saving an .rdb. Killing it!");
        rdb_kill_child();
    }
    if (how < 0 || (how == 0 && !have_save_rules())) return true;
    log_notice("Saving the final RDB snapshot before exiting.");
    if (!rdb_save_now(err, sizeof(err))) {
        log_warning("Error trying to save the DB, can't exit.");
        return false;
    }
    return true;
}

void persist_after_flushall(void)
{
    char err[512];
    if (g_server.child_pid > 0 && g_server.child_type == CHILD_RDB) rdb_kill_child();
    if (have_save_rules()) rdb_save_now(err, sizeof(err));
}

/* ---- commands ---- */

/* SAVE */
void cmd_save(struct exec *x)
{
    char err[512];
    if (g_server.child_pid > 0 && g_server.child_type == CHILD_RDB) {
        reply_error(x->r, "ERR Background save already in progress");
        return;
    }
    g_server.rdb_saves++;
    if (rdb_save_now(err, sizeof(err)))
        reply_ok(x->r);
    else
        reply_error(x->r, "ERR");
}

/* BGSAVE [SCHEDULE] */
void cmd_bgsave(struct exec *x)
{
    char err[512];
    bool schedule = HAS(x, A_BGSAVE_schedule);
    if (x->argc > 2) {
        reply_err(x->r, E_SYNTAX);
        return;
    }
    if (g_server.child_pid > 0 && g_server.child_type == CHILD_RDB) {
        reply_error(x->r, "ERR Background save already in progress");
    } else if (g_server.child_pid > 0 || (x->c->flags & CF_IN_EXEC)) {
        if (schedule || (x->c->flags & CF_IN_EXEC)) {
            g_server.bgsave_scheduled = true;
            reply_status(x->r, "Background saving scheduled");
        } else {
            reply_error(x->r, "ERR Another child process is active (AOF?): can't BGSAVE right "
                              "now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever "
                              "possible.");
        }
    } else if (rdb_bgsave_start(err, sizeof(err))) {
        reply_status(x->r, "Background saving started");
    } else {
        reply_error(x->r, "ERR");
    }
}

/* LASTSAVE */
void cmd_lastsave(struct exec *x)
{
    reply_int(x->r, g_server.lastsave ? g_server.lastsave : g_server.start_ms / 1000);
}

/* DUMP key */
void cmd_dump(struct exec *x)
{
    struct kv *e = store_lookup_read(x->db, ARGP(x, A_DUMP_key), ARGN(x, A_DUMP_key));
    struct sbuf b;
    if (!e) {
        reply_null(x->r);
        return;
    }
    sbuf_init(&b);
    rdb_serialize_value(e, &b);
    reply_bulk(x->r, (const char *)b.p, b.len);
    sbuf_free(&b);
}

/* RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]
 * The matcher reads the options as Redis's loop does (IDLETIME and FREQ
 * range-checked as met, each keel_excludes the other); the TTL is parsed
 * after the BUSYKEY check (keel_deferred_error). */
void cmd_restore(struct exec *x)
{
    bool replace = HAS(x, A_RESTORE_replace), absttl = HAS(x, A_RESTORE_absttl), deleted = false;
    long long ttl = ARGI(x, A_RESTORE_ttl);
    long long lru_idle = HAS(x, A_RESTORE_seconds) ? ARGI(x, A_RESTORE_seconds) : -1;
    const char *key = ARGP(x, A_RESTORE_key);
    size_t klen = ARGN(x, A_RESTORE_key);
    const unsigned char *payload = (const unsigned char *)ARGP(x, A_RESTORE_serialized_value);
    size_t plen = ARGN(x, A_RESTORE_serialized_value);
    long long freq = HAS(x, A_RESTORE_frequency) ? ARGI(x, A_RESTORE_frequency) : -1;
    struct kv *e;
    int j;
    if (!replace && store_lookup_write(x->db, key, klen)) {
        reply_error(x->r, "BUSYKEY Target key name already exists.");
        return;
    }
    if (!arg_ok(x, A_RESTORE_ttl)) return;
    if (ttl < 0) {
        reply_error(x->r, "ERR Invalid TTL value, must be >= 0");
        return;
    }
    if (!rdb_verify_dump_payload(payload, plen)) {
        reply_error(x->r, "ERR DUMP payload version or checksum are wrong");
        return;
    }
    e = rdb_deserialize_value(payload, plen, key, klen);
    if (!e) {
        reply_error(x->r, "ERR Bad data format");
        return;
    }
    if (replace) deleted = store_delete(x->db, key, klen, NULL, 0);
    if (ttl && !absttl) ttl += util_mstime();
    if (ttl && ttl <= util_mstime()) {
        /* already expired: only the deletion happens */
        if (deleted) store_emit(x->db, key, klen, "del", NOTIFY_GENERIC);
        if (deleted) propagate_rewritev(x, 2, "DEL", (size_t)3, key, klen); /* AOF (propagate.c) */
        kv_free(e);
        reply_ok(x->r);
        return;
    }
    if (deleted) g_store.stats.dirty--; /* the delete and the add count as one change */
    e = store_add_expire(x->db, e, ttl ? ttl : -1, "restore", NOTIFY_GENERIC);
    /* IDLETIME under an LRU policy, FREQ under LFU (core/store/evict.c) */
    evict_set_lru_or_lfu(e, freq, lru_idle);
    reply_ok(x->r);
    if (ttl && !absttl && propagating() && x->argc < 15) {
        /* AOF: a relative TTL is propagated as an absolute one + ABSTTL (core/persist/propagate.c)
         */
        struct argv_ref v[16];
        char num[24];
        for (j = 0; j < x->argc; j++)
            v[j] = x->argv[j];
        v[2].p = num;
        v[2].n = (size_t)util_ll2str(num, ttl);
        v[j].p = "ABSTTL";
        v[j].n = 6;
        propagate_rewrite(x, x->argc + 1, v);
    }
}

/* RESTORE-ASKING: RESTORE for a cluster slot being imported; without a
 * cluster it is RESTORE (the same slots: keel_family "restore"). */
void cmd_restore_asking(struct exec *x)
{
    cmd_restore(x);
}

/* DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: the work behind it (cmd_debug.c
 * parses the words). Replies itself. */
void persist_debug_reload(struct exec *x, bool merge, bool flush, bool save)
{
    char err[512];
    int i;
    long long dirty;
    if (save) {
        if (!rdb_save_now(err, sizeof(err))) {
            reply_error(x->r, "ERR");
            return;
        }
    }
    dirty = g_store.stats.dirty; /* emptying and loading are not changes to save */
    if (flush)
        for (i = 0; i < g_store.ndb; i++)
            store_flushdb(store_db(i), false);
    if (!rdb_load_file_ex(g_config.dbfilename, merge, err, sizeof(err))) {
        log_warning("%s", err);
        g_store.stats.dirty = dirty; /* as Redis: a failed load leaves it too */
        reply_error(x->r, "ERR Error trying to load the RDB dump");
        return;
    }
    g_store.stats.dirty = dirty;
    log_notice("DB reloaded by DEBUG RELOAD");
    reply_ok(x->r);
}
