/* aof.c — the append-only log (aof.h): the manifest's files on disk (its
 * text is aof_manifest.c's), writer (buffer, write
 * before replies, fsync policies, a background fsync thread for everysec),
 * loading, BGREWRITEAOF in a forked child, automatic rewrites, write errors
 * (MISCONF), INFO aof_* fields. Redis 7.0's file names, manifest format,
 * state machine (OFF / WAIT_REWRITE / ON) and log wording. */
#include "aof.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "aof_bio.h"
#include "client.h"
#include "kernel.h"
#include "latency.h"
#include "loading.h"
#include "log.h"
#include "multi.h"
#include "propagate.h"
#include "resp_parse.h"
#include "rdb.h"
#include "server.h"
#include "store.h"
#include "util.h"

enum { FSYNC_EVERYSEC = 0, FSYNC_ALWAYS = 1, FSYNC_NO = 2 }; /* config_table.c's order (Redis's) */

static enum aof_state state;
static int aof_fd = -1;
static struct sbuf abuf;
static int selected_db = -1;
static struct aof_manifest man;
static long long current_size, base_size, last_incr_size;
static bool last_write_ok = true;
static int last_write_errno;
static bool last_bgrewrite_ok = true;
static long long rewrites, last_rewrite_time = -1, rewrite_start_ms;
static long long delayed_fsync, last_fsync_ms;
static bool started;
static int child_pid_aof; /* the rewrite child we started (also in g_server.child_pid) */
bool g_aof_rewrite_scheduled;
long long g_aofrw_consecutive_failures;

static void alog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void alog(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_notice("%s", msg);
}

/* ==================== paths and files ==================== */

static void dir_path(char *out, size_t n, const char *name)
{
    int r = snprintf(out, n, "%s/%s", g_config.appenddirname, name);
    if (r < 0 || (size_t)r >= n) out[n - 1] = 0; /* a path longer than PATH_MAX fails to open */
}

static void new_base_name(struct aof_manifest *m, char *out, size_t n, bool rdb)
{
    /* The previous base becomes history. */
    if (m->base) {
        aof_manifest_add(&m->hist, &m->nhist, m->base->name, m->base->seq, 'h');
        free(m->base->name);
        free(m->base);
        m->base = NULL;
    }
    m->base_seq++;
    snprintf(out, n, "%s.%lld.base.%s", g_config.appendfilename, m->base_seq, rdb ? "rdb" : "aof");
    m->base = xmalloc(sizeof(*m->base));
    aof_file_set(m->base, out, m->base_seq, 'b');
}

static void new_incr_name(struct aof_manifest *m, char *out, size_t n)
{
    m->incr_seq++;
    snprintf(out, n, "%s.%lld.incr.aof", g_config.appendfilename, m->incr_seq);
    aof_manifest_add(&m->incr, &m->nincr, out, m->incr_seq, 'i');
}

static void temp_incr_name(char *out, size_t n)
{
    snprintf(out, n, "temp-%s.incr", g_config.appendfilename);
}

/* All incremental files but the last (the one being written) become history. */
static void mark_rewritten_incr_as_history(struct aof_manifest *m, bool keep_last)
{
    int i, keep = keep_last && m->nincr > 0 ? 1 : 0;
    for (i = 0; i < m->nincr - keep; i++) {
        aof_manifest_add(&m->hist, &m->nhist, m->incr[i].name, m->incr[i].seq, 'h');
        free(m->incr[i].name);
    }
    if (keep) {
        m->incr[0] = m->incr[m->nincr - 1];
        m->nincr = 1;
    } else {
        m->nincr = 0;
    }
}

static void fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY);
    if (fd == -1) return;
    fsync(fd);
    close(fd);
}

static bool persist_manifest(const struct aof_manifest *m)
{
    char tmp[PATH_MAX], path[PATH_MAX], name[PATH_MAX];
    size_t len;
    char *text = aof_manifest_format(m, &len);
    int fd;
    ssize_t w;
    bool ok = false;
    snprintf(name, sizeof(name), "temp-%s.manifest", g_config.appendfilename);
    dir_path(tmp, sizeof(tmp), name);
    snprintf(name, sizeof(name), "%s.manifest", g_config.appendfilename);
    dir_path(path, sizeof(path), name);
    fd = open(tmp, O_WRONLY | O_TRUNC | O_CREAT, 0644);
    if (fd == -1) {
        alog("Can't open the AOF manifest file %s: %s", tmp, strerror(errno));
        free(text);
        return false;
    }
    w = write(fd, text, len);
    if (w != (ssize_t)len) {
        alog("Error trying to write the temporary AOF manifest file %s: %s", tmp,
             w < 0 ? strerror(errno) : "short write");
    } else if (fsync(fd) == -1) {
        alog("Fail to fsync the temp AOF file %s: %s.", tmp, strerror(errno));
    } else if (rename(tmp, path) == -1) {
        alog("Error trying to rename the temporary AOF manifest file %s into %s: %s", tmp, path,
             strerror(errno));
    } else {
        ok = true;
    }
    close(fd);
    if (!ok)
        unlink(tmp);
    else
        fsync_dir(g_config.appenddirname);
    free(text);
    return ok;
}

static bool dir_create_if_missing(void)
{
    if (mkdir(g_config.appenddirname, 0755) == -1 && errno != EEXIST) {
        alog("Can't open or create append-only dir %s: %s", g_config.appenddirname,
             strerror(errno));
        return false;
    }
    return true;
}

/* An AOF file's size (Redis's getAppendOnlyFileSize: at load and after a
 * rewrite), timed as LATENCY's aof-fstat. */
static long long file_size(const char *name)
{
    char path[PATH_MAX];
    struct stat st;
    long long start = util_mstime(), size;
    dir_path(path, sizeof(path), name);
    size = stat(path, &st) == 0 ? (long long)st.st_size : 0;
    latency_add_sample_if_needed("aof-fstat", util_mstime() - start);
    return size;
}

static void del_history_files(void)
{
    int i;
    for (i = 0; i < man.nhist; i++) {
        char path[PATH_MAX];
        dir_path(path, sizeof(path), man.hist[i].name);
        alog("Removing the history file %s in the background", man.hist[i].name);
        unlink(path);
        free(man.hist[i].name);
    }
    man.nhist = 0;
    if (persist_manifest(&man)) return;
}

/* ==================== the writer ==================== */

void aof_feed(int dbid, const void *p, size_t n)
{
    if (state == AOF_OFF) return;
    /* Waiting for a rewrite that has not started: its base will hold this. */
    if (state == AOF_WAIT_REWRITE && aof_fd == -1) return;
    if (dbid >= 0 && dbid != selected_db) {
        char num[24];
        struct argv_ref sel[2] = {{"SELECT", 6}, {num, 0}};
        sel[1].n = (size_t)util_ll2str(num, dbid);
        propagate_format(&abuf, 2, sel);
        selected_db = dbid;
    }
    sbuf_append(&abuf, p, n);
}

size_t aof_buffer_size(void)
{
    return abuf.cap;
}

/* Write the buffer. force: as Redis's flushAppendOnlyFile(force). */
static void aof_flush(bool force)
{
    size_t off = 0;
    ssize_t nw = 0;
    long long write_start, write_ms;
    (void)force;
    if (aof_fd == -1) return;
    if (abuf.len == 0) return;
    write_start = util_mstime();
    while (off < abuf.len) {
        nw = write(aof_fd, abuf.p + off, abuf.len - off);
        if (nw > 0) {
            off += (size_t)nw;
            continue;
        }
        if (nw < 0 && errno == EINTR) continue;
        break;
    }
    /* The latency monitor's events, as Redis's flushAppendOnlyFile names them. */
    write_ms = util_mstime() - write_start;
    latency_add_sample_if_needed(aof_bio_pending()        ? "aof-write-pending-fsync"
                                 : g_server.child_pid > 0 ? "aof-write-active-child"
                                                          : "aof-write-alone",
                                 write_ms);
    latency_add_sample_if_needed("aof-write", write_ms);
    if (off < abuf.len) {
        int err = nw < 0 ? errno : ENOSPC;
        static long long last_log_ms;
        if (util_mstime() - last_log_ms > 30000) {
            if (nw < 0)
                alog("Error writing to the AOF file: %s", strerror(err));
            else
                alog("Short write while writing to the AOF file: (nwritten=%zu, expected=%zu)", off,
                     abuf.len);
            last_log_ms = util_mstime();
        }
        /* Remove a partial command: the log must end on a command boundary. */
        if (off > 0) {
            if (ftruncate(aof_fd, (off_t)last_incr_size) == -1) {
                alog("Could not remove short write from the append-only file.  Redis may "
                     "refuse to load the AOF the next time it starts.  ftruncate: %s",
                     strerror(errno));
                /* What was written stays: drop it from the buffer. */
                current_size += (long long)off;
                last_incr_size += (long long)off;
                memmove(abuf.p, abuf.p + off, abuf.len - off);
                abuf.len -= off;
            } else {
                lseek(aof_fd, 0, SEEK_END);
            }
        }
        if (g_config.appendfsync == FSYNC_ALWAYS) {
            alog("Can't recover from AOF write error when the AOF fsync policy is 'always'. "
                 "Exiting...");
            _exit(1);
        }
        last_write_ok = false;
        last_write_errno = err;
        return;
    }
    current_size += (long long)abuf.len;
    last_incr_size += (long long)abuf.len;
    if (!last_write_ok) {
        alog("AOF write error looks solved, Redis can write again.");
        last_write_ok = true;
    }
    abuf.len = 0;
    if (abuf.cap > 4 * 1024 * 1024) {
        sbuf_free(&abuf);
        sbuf_init(&abuf);
    }
    if (g_config.appendfsync == FSYNC_ALWAYS) {
        long long fsync_start = util_mstime();
        int rc = fdatasync(aof_fd);
        latency_add_sample_if_needed("aof-fsync-always", util_mstime() - fsync_start);
        if (rc == -1) {
            alog("Can't persist AOF for fsync error when the AOF fsync policy is 'always': %s. "
                 "Exiting...",
                 strerror(errno));
            _exit(1);
        }
        last_fsync_ms = util_mstime();
    } else if (g_config.appendfsync == FSYNC_EVERYSEC) {
        long long now = util_mstime();
        if (now - last_fsync_ms >= 1000) {
            if (!aof_bio_pending()) {
                aof_bio_submit(aof_fd, false);
                last_fsync_ms = now;
            } else {
                delayed_fsync++;
            }
        }
    }
}

void aof_flush_before_reply(void)
{
    if (abuf.len) aof_flush(false);
}

bool aof_reject(struct client *c, const struct command *cmd, struct reply *r)
{
    bool is_write;
    int err;
    if (state == AOF_OFF) return false;
    if (last_write_ok && !aof_bio_error()) return false;
    err = last_write_ok ? aof_bio_error() : last_write_errno;
    char text[256];
    is_write = multi_exec_is_write(c, cmd);
    if (!is_write && strcmp(cmd->name, "ping") != 0) return false;
    snprintf(text, sizeof(text), "MISCONF Errors writing to the AOF file: %s", strerror(err));
    multi_refuse(c, cmd, r, text);
    return true;
}

/* ==================== rewrite: the child's work ==================== */

struct rw_ctx {
    int fd;
    struct sbuf b;
    bool failed;
    int dbid;
    bool selected;
};

static void rw_flush(struct rw_ctx *w, bool all)
{
    size_t off = 0;
    if (w->failed) {
        w->b.len = 0;
        return;
    }
    if (!all && w->b.len < 64 * 1024) return;
    while (off < w->b.len) {
        ssize_t n = write(w->fd, w->b.p + off, w->b.len - off);
        if (n > 0) {
            off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        w->failed = true;
        break;
    }
    w->b.len = 0;
}

static void rw_key(void *priv, struct dnode *n)
{
    struct rw_ctx *w = priv;
    struct kv *e = (struct kv *)n;
    long long when = kv_expire(e);
    if (w->failed) return;
    if (when != -1 && when <= util_mstime()) return; /* already expired */
    if (!w->selected) {
        char num[24];
        struct argv_ref s[2] = {{"SELECT", 6}, {num, 0}};
        s[1].n = (size_t)snprintf(num, sizeof(num), "%d", w->dbid);
        propagate_format(&w->b, 2, s);
        w->selected = true;
    }
    if (e->type == OBJ_STRING) {
        struct strview sv;
        struct argv_ref s[3] = {{"SET", 3}, {kv_key(e), e->klen}, {NULL, 0}};
        kv_string_view(e, &sv);
        s[2].p = sv.p;
        s[2].n = sv.n;
        propagate_format(&w->b, 3, s);
    } else {
        /* Aggregates as RESTORE of their DUMP payload: any Redis 7.0 loads it. */
        struct sbuf d;
        struct argv_ref s[4] = {{"RESTORE", 7}, {kv_key(e), e->klen}, {"0", 1}, {NULL, 0}};
        sbuf_init(&d);
        rdb_serialize_value(e, &d);
        s[3].p = (const char *)d.p;
        s[3].n = d.len;
        propagate_format(&w->b, 4, s);
        sbuf_free(&d);
    }
    if (when != -1) {
        char num[24];
        struct argv_ref s[3] = {{"PEXPIREAT", 9}, {kv_key(e), e->klen}, {num, 0}};
        s[2].n = (size_t)snprintf(num, sizeof(num), "%lld", when);
        propagate_format(&w->b, 3, s);
    }
    rw_flush(w, false);
}

/* A function library in a command base file: FUNCTION LOAD <code>. */
static void rw_function(void *ctx, const char *code, size_t n)
{
    struct rw_ctx *w = ctx;
    char hdr[48];
    int l = snprintf(hdr, sizeof(hdr), "*3\r\n$8\r\nFUNCTION\r\n$4\r\nLOAD\r\n$%zu\r\n", n);
    sbuf_append(&w->b, hdr, (size_t)l);
    sbuf_append(&w->b, code, n);
    sbuf_append(&w->b, "\r\n", 2);
}

/* Write the whole dataset as a base file to path (RDB preamble or commands). */
static bool write_base(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_TRUNC | O_CREAT, 0644);
    bool ok;
    if (fd == -1) {
        snprintf(err, errlen,
                 "Opening the temp file for AOF rewrite in rewriteAppendOnlyFile(): %s",
                 strerror(errno));
        return false;
    }
    if (g_config.aof_use_rdb_preamble) {
        ok = rdb_save_fd_ex(fd, true, err, errlen);
    } else {
        struct rw_ctx w;
        int i;
        memset(&w, 0, sizeof(w));
        w.fd = fd;
        sbuf_init(&w.b);
        rdb_functions_each(rw_function, &w); /* the libraries first, as Redis */
        for (i = 0; i < g_store.ndb && !w.failed; i++) {
            w.dbid = i;
            w.selected = false;
            dict_foreach(&g_store.dbs[i].keys, rw_key, &w);
            rw_flush(&w, true);
        }
        sbuf_free(&w.b);
        ok = !w.failed;
        if (!ok)
            snprintf(err, errlen, "Write error writing append only file on disk: %s",
                     strerror(errno));
    }
    if (ok && fsync(fd) == -1) {
        snprintf(err, errlen, "fsync of the AOF base: %s", strerror(errno));
        ok = false;
    }
    if (close(fd) == -1 && ok) {
        snprintf(err, errlen, "close of the AOF base: %s", strerror(errno));
        ok = false;
    }
    if (!ok) unlink(path);
    return ok;
}

/* ==================== rewrite: the parent ==================== */

static void rw_tmpfile(char *out, size_t n, int pid)
{
    snprintf(out, n, "temp-rewriteaof-bg-%d.aof", pid);
}

/* Open a new incremental file for the writes made while the child works. */
static bool open_new_incr(void)
{
    char name[PATH_MAX], path[PATH_MAX];
    struct aof_manifest tmp;
    int fd;
    bool have_tmp = false;
    if (state == AOF_OFF) return true;
    if (state == AOF_WAIT_REWRITE) {
        temp_incr_name(name, sizeof(name));
    } else {
        aof_manifest_dup(&tmp, &man);
        have_tmp = true;
        new_incr_name(&tmp, name, sizeof(name));
    }
    dir_path(path, sizeof(path), name);
    fd = open(path, O_WRONLY | O_TRUNC | O_CREAT, 0644);
    if (fd == -1) {
        alog("Can't open the append-only file %s: %s", name, strerror(errno));
        if (have_tmp) aof_manifest_free(&tmp);
        return false;
    }
    if (have_tmp && !persist_manifest(&tmp)) {
        close(fd);
        unlink(path);
        aof_manifest_free(&tmp);
        return false;
    }
    if (aof_fd != -1) {
        if (g_config.appendfsync == FSYNC_NO)
            close(aof_fd);
        else
            aof_bio_submit(aof_fd, true);
    }
    aof_fd = fd;
    last_incr_size = 0;
    selected_db = -1;
    if (have_tmp) {
        aof_manifest_free(&man);
        man = tmp;
    }
    return true;
}

bool aof_rewrite_start(char *err, size_t errlen)
{
    pid_t pid;
    if (g_server.child_pid > 0) {
        snprintf(err, errlen, "a child process is active");
        return false;
    }
    if (!dir_create_if_missing()) {
        snprintf(err, errlen, "Can't open or create append-only dir %s: %s", g_config.appenddirname,
                 strerror(errno));
        last_bgrewrite_ok = false;
        return false;
    }
    /* The next command written issues a SELECT. */
    selected_db = -1;
    aof_flush(true);
    if (!open_new_incr()) {
        snprintf(err, errlen, "can't open a new incremental AOF file");
        last_bgrewrite_ok = false;
        return false;
    }
    rewrites++;
    pid = persist_fork(CHILD_AOF);
    if (pid == 0) {
        char tmp[PATH_MAX], e[512];
        if (aof_fd != -1) close(aof_fd);
        rw_tmpfile(tmp, sizeof(tmp), (int)getpid());
        if (write_base(tmp, e, sizeof(e))) {
            alog("Successfully created the temporary AOF base file %s", tmp);
            _exit(0);
        }
        alog("%s", e);
        _exit(1);
    }
    if (pid < 0) {
        snprintf(err, errlen, "Can't rewrite append only file in background: fork: %s",
                 strerror(errno));
        alog("%s", err);
        last_bgrewrite_ok = false;
        return false;
    }
    child_pid_aof = pid;
    rewrite_start_ms = util_mstime();
    g_aof_rewrite_scheduled = false;
    alog("Background append only file rewriting started by pid %ld", (long)pid);
    return true;
}

static void rewrite_failed(void)
{
    last_bgrewrite_ok = false;
    g_aofrw_consecutive_failures++;
    /* A log waiting for its first base tries again (cron). */
    if (state == AOF_WAIT_REWRITE) g_aof_rewrite_scheduled = true;
}

void aof_child_done(int exitcode, int bysignal)
{
    char tmp[PATH_MAX], name[PATH_MAX], path[PATH_MAX];
    long long rename_start;
    int renamed;
    struct aof_manifest t;
    rw_tmpfile(tmp, sizeof(tmp), child_pid_aof);
    last_rewrite_time = (util_mstime() - rewrite_start_ms) / 1000;
    rewrite_start_ms = 0;
    if (bysignal || exitcode != 0) {
        if (bysignal)
            alog("Background AOF rewrite terminated by signal %d", bysignal);
        else
            alog("Background AOF rewrite terminated with error");
        unlink(tmp);
        if (bysignal != SIGUSR1) rewrite_failed();
        return;
    }
    alog("Background AOF rewrite terminated with success");
    aof_manifest_dup(&t, &man);
    new_base_name(&t, name, sizeof(name), g_config.aof_use_rdb_preamble != 0);
    dir_path(path, sizeof(path), name);
    rename_start = util_mstime();
    renamed = rename(tmp, path);
    latency_add_sample_if_needed("aof-rename", util_mstime() - rename_start); /* LATENCY */
    if (renamed == -1) {
        alog("Error trying to rename the temporary AOF file %s into %s: %s", tmp, name,
             strerror(errno));
        unlink(tmp);
        aof_manifest_free(&t);
        rewrite_failed();
        return;
    }
    if (state == AOF_WAIT_REWRITE) {
        char tname[PATH_MAX], tpath[PATH_MAX], iname[PATH_MAX], ipath[PATH_MAX];
        temp_incr_name(tname, sizeof(tname));
        dir_path(tpath, sizeof(tpath), tname);
        /* Earlier incremental files (if any) are superseded by the new base. */
        mark_rewritten_incr_as_history(&t, false);
        new_incr_name(&t, iname, sizeof(iname));
        dir_path(ipath, sizeof(ipath), iname);
        if (rename(tpath, ipath) == -1) {
            alog("Error trying to rename the temporary AOF incr file %s into %s: %s", tname, iname,
                 strerror(errno));
            unlink(path);
            aof_manifest_free(&t);
            rewrite_failed();
            return;
        }
    } else {
        mark_rewritten_incr_as_history(&t, aof_fd != -1);
    }
    if (!persist_manifest(&t)) {
        aof_manifest_free(&t);
        rewrite_failed();
        return;
    }
    fsync_dir(g_config.appenddirname);
    aof_manifest_free(&man);
    man = t;
    if (aof_fd != -1) {
        current_size = file_size(name) + last_incr_size;
        base_size = current_size;
    }
    del_history_files();
    last_bgrewrite_ok = true;
    g_aofrw_consecutive_failures = 0;
    alog("Background AOF rewrite finished successfully");
    if (state == AOF_WAIT_REWRITE) {
        state = AOF_ON;
        aof_bio_start();
        alog("AOF rewrite done, AOF enabled");
    }
}

static void kill_rewrite_child(void)
{
    int st;
    char tmp[PATH_MAX];
    if (g_server.child_pid <= 0 || g_server.child_type != CHILD_AOF) return;
    alog("Killing running AOF rewrite child: %ld", (long)g_server.child_pid);
    kill(g_server.child_pid, SIGUSR1);
    waitpid(g_server.child_pid, &st, 0);
    rw_tmpfile(tmp, sizeof(tmp), g_server.child_pid);
    unlink(tmp);
    g_server.child_pid = 0;
    g_server.child_type = CHILD_NONE;
    rewrite_start_ms = 0;
}

/* ==================== start / stop ==================== */

static void set_on(enum aof_state s)
{
    state = s;
    propagate_set_consumer(PROPAGATE_AOF, s != AOF_OFF);
}

/* CONFIG SET appendonly yes: a rewrite creates the base, writes go to a
 * temporary incremental file meanwhile (Redis's startAppendOnly). */
static bool aof_start(void)
{
    char err[512];
    if (!dir_create_if_missing()) return false;
    set_on(AOF_WAIT_REWRITE);
    if (g_server.child_pid > 0 && g_server.child_type != CHILD_AOF) {
        /* Another child works: rewrite when it is done (cron). */
        g_aof_rewrite_scheduled = true;
        alog("AOF was enabled but there is already another background operation. An AOF "
             "background was scheduled to start when possible.");
        return true;
    }
    if (g_server.child_pid > 0 && g_server.child_type == CHILD_AOF) kill_rewrite_child();
    if (!aof_rewrite_start(err, sizeof(err))) {
        alog("Redis needs to enable the AOF but can't trigger a background AOF rewrite "
             "operation. Check the above logs for more info about the error.");
        if (aof_fd != -1) {
            close(aof_fd);
            aof_fd = -1;
        }
        set_on(AOF_OFF);
        return false;
    }
    last_fsync_ms = util_mstime();
    return true;
}

static void aof_stop(void)
{
    aof_flush(true);
    if (aof_fd != -1) {
        fsync(aof_fd);
        close(aof_fd);
        aof_fd = -1;
    }
    kill_rewrite_child();
    if (state == AOF_WAIT_REWRITE) {
        char tname[PATH_MAX], tpath[PATH_MAX];
        temp_incr_name(tname, sizeof(tname));
        dir_path(tpath, sizeof(tpath), tname);
        unlink(tpath);
    }
    g_aof_rewrite_scheduled = false;
    selected_db = -1;
    abuf.len = 0;
    set_on(AOF_OFF);
}

const char *aof_config_appendonly(const struct config_entry *e, const char *v)
{
    (void)e, (void)v;
    if (!started) return NULL;
    if (g_config.appendonly && state == AOF_OFF) {
        if (!aof_start()) {
            g_config.appendonly = 0;
            return "Unable to turn on AOF. Check server logs.";
        }
    } else if (!g_config.appendonly && state != AOF_OFF) {
        aof_stop();
    }
    return NULL;
}

/* ==================== loading ==================== */

static const struct client_adapter fake_adapter = {.name = "aof"};

enum { LOAD_OK = 0, LOAD_TRUNCATED, LOAD_FAILED, LOAD_EMPTY };

static int load_one(const char *name, bool last, struct client *fake)
{
    char path[PATH_MAX];
    unsigned char *p = NULL;
    size_t n = 0, off = 0, cap;
    long long valid_up_to = 0, valid_before_multi = 0;
    struct argv_ref *argv = NULL;
    struct resp_parser rp;
    int fd;
    struct stat st;
    int ret = LOAD_OK;
    bool fmterr = false;
    long long err_off = 0;
    long long file_base = loading_loaded_bytes(); /* the files before this one */

    dir_path(path, sizeof(path), name);
    fd = open(path, O_RDONLY);
    if (fd == -1) {
        alog("Fatal error: can't open the append log file %s for reading: %s", name,
             strerror(errno));
        return LOAD_FAILED;
    }
    if (fstat(fd, &st) == -1) {
        close(fd);
        return LOAD_FAILED;
    }
    if (st.st_size == 0) {
        close(fd);
        return LOAD_EMPTY;
    }
    cap = (size_t)st.st_size;
    p = xmalloc(cap + 1);
    while (n < cap) {
        ssize_t r = read(fd, p + n, cap - n);
        if (r > 0)
            n += (size_t)r;
        else if (r < 0 && errno == EINTR)
            continue;
        else
            break;
    }
    close(fd);
    if (n >= 5 && memcmp(p, "REDIS", 5) == 0) {
        char err[512];
        size_t used = 0;
        alog("Reading RDB base file on AOF loading...");
        if (!rdb_load_buffer(p, n, &used, err, sizeof(err))) {
            alog("Error reading the RDB base file %s, AOF loading aborted (%s)", name, err);
            free(p);
            return LOAD_FAILED;
        }
        alog("Reading the remaining AOF tail...");
        off = used;
        valid_up_to = (long long)off;
    }
    resp_parser_init(&rp, LLONG_MAX, INT_MAX);
    rp.authenticated = true;
    while (off < n) {
        size_t start = off;
        int argc;
        size_t used = 0;
        enum resp_result r;
        const struct command *cmd;
        if (p[off] == '#') { /* annotation (#TS:...) */
            unsigned char *nl = memchr(p + off, '\n', n - off);
            if (!nl) goto uxeof;
            off = (size_t)(nl - p) + 1;
            valid_up_to = (long long)off;
            continue;
        }
        /* The log is RESP multibulk commands (no inline ones), read with
         * the RESP adapter's parser; its limits do not apply to the log. */
        if (p[off] != '*') {
            err_off = (long long)off;
            fmterr = true;
            break;
        }
        r = resp_parse(&rp, (const char *)p + off, n - off, &argc, &argv, &used);
        if (r == RESP_MORE) goto uxeof;
        if (r != RESP_CMD) {
            err_off = (long long)start;
            fmterr = true;
            break;
        }
        off += used;
        cmd = registry_resolve(argc, argv, &reply_discard);
        if (!cmd) {
            alog("Unknown command '%.*s' reading the append only file %s", (int)argv[0].n,
                 argv[0].p, name);
            free(p);
            resp_parser_free(&rp);
            return LOAD_FAILED;
        }
        if (!strcmp(cmd->name, "multi")) valid_before_multi = (long long)start;
        kernel_submit(fake, argc, argv);
        valid_up_to = (long long)off;
        loading_progress(file_base + (long long)off); /* clients served now and then */
    }
    if (fmterr) {
        alog("Bad file format reading the append only file %s at offset %lld: make a backup of "
             "your AOF file, then use ./redis-check-aof --fix <filename.manifest>",
             name, err_off);
        ret = LOAD_FAILED;
        goto done;
    }
    if (fake->flags & CF_MULTI) {
        alog("Revert incomplete MULTI/EXEC transaction in AOF file %s", name);
        valid_up_to = valid_before_multi;
        goto uxeof;
    }
    goto done;

uxeof:
    if (fake->flags & CF_MULTI) {
        valid_up_to = valid_before_multi;
        multi_discard(fake);
    }
    if (g_config.aof_load_truncated) {
        alog("!!! Warning: short read while loading the AOF file %s!!!", name);
        alog("!!! Truncating the AOF %s at offset %llu !!!", name, (unsigned long long)valid_up_to);
        if (!last) {
            alog("Fatal error: the truncated file is not the last file");
            ret = LOAD_FAILED;
            goto done;
        }
        if (truncate(path, (off_t)valid_up_to) == -1) {
            alog("Error truncating the AOF file %s: %s", name, strerror(errno));
        } else {
            alog("AOF %s loaded anyway because aof-load-truncated is enabled", name);
            ret = LOAD_TRUNCATED;
            goto done;
        }
    }
    alog("Unexpected end of file reading the append only file %s (at offset %lld). You can: "
         "1) Make a backup of your AOF file, then use ./redis-check-aof --fix "
         "<filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' "
         "configuration option to yes and restart the server.",
         name, valid_up_to);
    ret = LOAD_FAILED;
done:
    g_server.loading_loaded_bytes = file_base + (long long)n;
    free(p);
    resp_parser_free(&rp);
    return ret;
}

static bool manifest_load_from_disk(bool *exists)
{
    char name[PATH_MAX], path[PATH_MAX], err[256];
    struct stat st;
    FILE *f;
    char *text;
    size_t len;
    *exists = false;
    snprintf(name, sizeof(name), "%s.manifest", g_config.appendfilename);
    dir_path(path, sizeof(path), name);
    if (stat(g_config.appenddirname, &st) == -1 || stat(path, &st) == -1) return true;
    f = fopen(path, "r");
    if (!f) {
        alog("Fatal error: can't open the AOF manifest %s for reading: %s", name, strerror(errno));
        return false;
    }
    text = xmalloc((size_t)st.st_size + 1);
    len = fread(text, 1, (size_t)st.st_size, f);
    fclose(f);
    if (!aof_manifest_parse(text, len, &man, err, sizeof(err))) {
        alog("%s", err);
        free(text);
        return false;
    }
    free(text);
    *exists = true;
    return true;
}

/* 1 loaded, 0 nothing to load, -1 fatal. */
static int load_all(void)
{
    struct client *fake;
    int i, total = (man.base ? 1 : 0) + man.nincr, idx = 0, ret;
    long long start = util_ustime();
    if (total == 0) return 0;
    fake = client_new(&fake_adapter, NULL, reply_discard.ops);
    fake->authenticated = true;
    {
        /* INFO's loading_total_bytes: every file of the manifest */
        long long total = 0;
        char path[PATH_MAX];
        struct stat st;
        if (man.base) {
            dir_path(path, sizeof(path), man.base->name);
            if (stat(path, &st) == 0) total += (long long)st.st_size;
        }
        for (i = 0; i < man.nincr; i++) {
            dir_path(path, sizeof(path), man.incr[i].name);
            if (stat(path, &st) == 0) total += (long long)st.st_size;
        }
        loading_start(total);
    }
    loading_set_loader(fake); /* its commands are not refused with -LOADING */
    if (man.base) {
        alog("Loading the base file %s", man.base->name);
        ret = load_one(man.base->name, ++idx == total, fake);
        if (ret == LOAD_FAILED) goto fail;
        if (ret != LOAD_EMPTY) alog("DB loaded from base file %s", man.base->name);
    }
    for (i = 0; i < man.nincr; i++) {
        ret = load_one(man.incr[i].name, ++idx == total, fake);
        if (ret == LOAD_FAILED) goto fail;
        if (ret != LOAD_EMPTY) alog("DB loaded from incr file %s", man.incr[i].name);
    }
    client_free(fake);
    loading_end();
    alog("DB loaded from append only file: %.3f seconds", (double)(util_ustime() - start) / 1e6);
    return 1;
fail:
    client_free(fake);
    loading_end();
    return -1;
}

/* DEBUG LOADAOF: write what is buffered, empty the dataset and replay the
 * log's files (not propagated again). Like Redis, a log that cannot be
 * loaded (or none at all) ends the process. */
void aof_debug_loadaof(void)
{
    int i, r;
    bool prop = g_propagate_on;
    if (state == AOF_ON) aof_flush(true);
    for (i = 0; i < g_store.ndb; i++)
        store_flushdb(store_db(i), false);
    del_history_files();
    g_propagate_on = false;
    r = load_all();
    g_propagate_on = prop;
    if (r <= 0) {
        log_warning("DEBUG LOADAOF: the append only file could not be loaded, exiting");
        exit(1);
    }
    g_store.stats.dirty = 0;
    log_warning("Append Only File loaded by DEBUG LOADAOF");
}

/* Open the log for appending at start-up (Redis's aofOpenIfNeededOnServerStart). */
static bool open_at_startup(bool loaded)
{
    char name[PATH_MAX], path[PATH_MAX], err[512];
    int i;
    if (!dir_create_if_missing()) return false;
    set_on(AOF_ON);
    if (!man.base && man.nincr == 0) {
        /* No log yet: write a base of the current dataset synchronously. */
        char tmp[PATH_MAX];
        snprintf(tmp, sizeof(tmp), "temp-rewriteaof-%d.aof", (int)getpid());
        if (!write_base(tmp, err, sizeof(err))) {
            alog("%s", err);
            return false;
        }
        new_base_name(&man, name, sizeof(name), g_config.aof_use_rdb_preamble != 0);
        dir_path(path, sizeof(path), name);
        if (rename(tmp, path) == -1) {
            alog("Error trying to rename the temporary AOF file %s into %s: %s", tmp, name,
                 strerror(errno));
            unlink(tmp);
            return false;
        }
        alog("Creating AOF base file %s on server start", name);
    }
    if (man.nincr == 0) {
        new_incr_name(&man, name, sizeof(name));
        alog("Creating AOF incr file %s on server start", name);
    } else {
        snprintf(name, sizeof(name), "%s", man.incr[man.nincr - 1].name);
    }
    dir_path(path, sizeof(path), name);
    aof_fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);
    if (aof_fd == -1) {
        alog("Can't open the append-only file %s: %s", name, strerror(errno));
        return false;
    }
    if (!persist_manifest(&man)) return false;
    /* As Redis: the sizes of the files loaded (0 for files just created). */
    current_size = base_size = 0;
    if (loaded) {
        if (man.base) current_size = base_size = file_size(man.base->name);
        for (i = 0; i < man.nincr; i++)
            current_size += file_size(man.incr[i].name);
    }
    last_incr_size = file_size(name);
    last_fsync_ms = util_mstime();
    selected_db = -1;
    del_history_files();
    return true;
}

void aof_init(void)
{
    static bool done;
    if (done) return;
    done = true;
    sbuf_init(&abuf);
    store_observe(propagate_observer, NULL);
}

bool aof_startup(void)
{
    if (g_config.appendonly) aof_bio_start(); /* before any rewrite can fork */
    bool exists = false, loaded = false;
    aof_init();
    if (g_config.appendonly && !manifest_load_from_disk(&exists)) return false;
    if (g_config.appendonly && exists && (man.base || man.nincr)) {
        int r;
        g_server.lastsave = util_mstime() / 1000;
        g_server.rdb_save_time_last = -1;
        r = load_all();
        if (r < 0) return false;
        g_store.stats.dirty = 0;
        loaded = true;
    } else {
        if (!rdb_load_at_startup()) return false;
    }
    if (g_config.appendonly && !open_at_startup(loaded)) return false;
    started = true;
    return true;
}

void aof_shutdown(void)
{
    kill_rewrite_child();
    if (state == AOF_OFF) return;
    aof_flush(true);
    if (aof_fd != -1) {
        fsync(aof_fd);
        close(aof_fd);
        aof_fd = -1;
    }
}

void aof_cron(void)
{
    long long now = util_mstime();
    static long long last_retry;
    /* A failed write is retried (at most once a second). */
    if (state != AOF_OFF && !last_write_ok && now - last_retry >= 1000) {
        last_retry = now;
        aof_flush(true);
    }
    if (state != AOF_OFF) aof_flush(false);
    /* everysec: fsync what was written since the last fsync. */
    if (state != AOF_OFF && aof_fd != -1 && g_config.appendfsync == FSYNC_EVERYSEC &&
        now - last_fsync_ms >= 1000 && !aof_bio_pending()) {
        aof_bio_submit(aof_fd, false);
        last_fsync_ms = now;
    }
    if (g_server.child_pid > 0) return;
    if (g_aof_rewrite_scheduled) {
        char err[256];
        aof_rewrite_start(err, sizeof(err));
        return;
    }
    if (state == AOF_ON && g_config.auto_aof_rewrite_percentage &&
        current_size > g_config.auto_aof_rewrite_min_size) {
        long long base = base_size ? base_size : 1;
        long long growth = (current_size * 100 / base) - 100;
        if (growth >= g_config.auto_aof_rewrite_percentage) {
            char err[256];
            alog("Starting automatic rewriting of AOF on %lld%% growth", growth);
            aof_rewrite_start(err, sizeof(err));
        }
    }
}

size_t aof_info_text(char *buf, size_t len)
{
    bool child = g_server.child_pid > 0 && g_server.child_type == CHILD_AOF;
    int n = snprintf(buf, len,
                     "aof_enabled:%d\r\n"
                     "aof_rewrite_in_progress:%d\r\n"
                     "aof_rewrite_scheduled:%d\r\n"
                     "aof_last_rewrite_time_sec:%lld\r\n"
                     "aof_current_rewrite_time_sec:%lld\r\n"
                     "aof_last_bgrewrite_status:%s\r\n"
                     "aof_rewrites:%lld\r\n"
                     "aof_rewrites_consecutive_failures:%lld\r\n"
                     "aof_last_write_status:%s\r\n"
                     "aof_last_cow_size:0\r\n"
                     "module_fork_in_progress:0\r\n"
                     "module_fork_last_cow_size:0\r\n",
                     state != AOF_OFF ? 1 : 0, child ? 1 : 0, g_aof_rewrite_scheduled ? 1 : 0,
                     last_rewrite_time, child ? (util_mstime() - rewrite_start_ms) / 1000 : -1LL,
                     last_bgrewrite_ok ? "ok" : "err", rewrites, g_aofrw_consecutive_failures,
                     last_write_ok && !aof_bio_error() ? "ok" : "err");
    if (n < 0 || (size_t)n >= len) return len ? len - 1 : 0;
    if (state != AOF_OFF) {
        int m = snprintf(buf + n, len - (size_t)n,
                         "aof_current_size:%lld\r\n"
                         "aof_base_size:%lld\r\n"
                         "aof_pending_rewrite:%d\r\n"
                         "aof_buffer_length:%zu\r\n"
                         "aof_pending_bio_fsync:%d\r\n"
                         "aof_delayed_fsync:%lld\r\n",
                         current_size, base_size, g_aof_rewrite_scheduled ? 1 : 0, abuf.len,
                         aof_bio_pending() ? 1 : 0, delayed_fsync);
        if (m > 0 && (size_t)(n + m) < len) n += m;
    }
    return (size_t)n;
}
