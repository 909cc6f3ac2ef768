/* aof.h — the append-only log in Redis 7.0's multi-part layout: a directory
 * `appenddirname` holding a manifest (appendonly.aof.manifest), one base
 * file (appendonly.aof.<n>.base.rdb, or .base.aof when aof-use-rdb-preamble
 * is no) and incremental files (appendonly.aof.<n>.incr.aof) in RESP.
 * Owns: the write buffer (filled by propagate.c, written before replies go
 * out, fsynced per appendfsync), loading at start-up, BGREWRITEAOF (a
 * forked child writes the new base while the parent appends to a new incr
 * file), automatic rewrites, write-error handling (MISCONF) and the INFO
 * aof_* fields. The manifest parser is pure and unit-tested. */
#ifndef KEEL_AOF_H
#define KEEL_AOF_H

#include <stdbool.h>
#include <stddef.h>

struct client;
struct command;
struct reply;
struct config_entry;

enum aof_state { AOF_OFF = 0, AOF_ON, AOF_WAIT_REWRITE };

/* ---- the manifest (pure: no I/O) ---- */
struct aof_file {
    char *name;
    long long seq;
    char type; /* 'b' base, 'h' history, 'i' incremental */
};
struct aof_manifest {
    struct aof_file *base; /* NULL when none */
    struct aof_file *incr, *hist;
    int nincr, nhist;
    long long base_seq, incr_seq; /* current sequence numbers */
};
/* Parse manifest text (Redis's format). False with Redis's message in err. */
bool aof_manifest_parse(const char *text, size_t len, struct aof_manifest *m, char *err,
                        size_t errlen);
/* The manifest as Redis writes it (malloc'd, NUL-terminated). */
char *aof_manifest_format(const struct aof_manifest *m, size_t *len);
void aof_manifest_free(struct aof_manifest *m);
/* Name f as a file of the log (type 'b' base, 'i' incr, 'h' history). */
void aof_file_set(struct aof_file *f, const char *name, long long seq, char type);
/* Append a file to a list of the manifest (*v grows, *n counts). */
void aof_manifest_add(struct aof_file **v, int *n, const char *name, long long seq, char type);
/* A deep copy of src into dst. */
void aof_manifest_dup(struct aof_manifest *dst, const struct aof_manifest *src);

/* ---- process life ---- */
void aof_init(void);
/* Start-up: load the AOF when appendonly is on and it exists, else the RDB
 * snapshot; then open the log for appending. False: the server must exit. */
bool aof_startup(void);
/* Shutdown: write and fsync what is buffered; stop a rewrite child. */
void aof_shutdown(void);
/* Server cron: retry failed writes, everysec fsync, auto rewrite, scheduled rewrite. */
void aof_cron(void);

/* Append a propagated command (RESP bytes) for database dbid (-1: no
 * SELECT needed). */
void aof_feed(int dbid, const void *p, size_t n);
/* Write (and, for appendfsync always, fsync) what is buffered: called
 * before replies are written to clients. */
void aof_flush_before_reply(void);

/* MISCONF: refuse writes (and PING) while the log cannot be written. */
bool aof_reject(struct client *c, const struct command *cmd, struct reply *r);

/* CONFIG SET appendonly yes|no (config.c's set hook). */
const char *aof_config_appendonly(const struct config_entry *e, const char *v);

/* DEBUG LOADAOF: reload the dataset from the log (exits if it cannot). */
void aof_debug_loadaof(void);
/* BGREWRITEAOF: start a rewrite now. False with a reason in err. */
bool aof_rewrite_start(char *err, size_t errlen);
extern bool g_aof_rewrite_scheduled;
extern long long g_aofrw_consecutive_failures;
/* Child exit (persist_cron in cmd_persist.c calls it). */
void aof_child_done(int exitcode, int bysignal);

/* INFO persistence aof_* lines into buf. */
size_t aof_info_text(char *buf, size_t len);
/* INFO memory mem_aof_buffer. */
size_t aof_buffer_size(void);

#endif
