/* rdb.h — snapshots in Redis 7.0's RDB format (version 10): save the whole
 * keyspace to a file or an fd, load an RDB image (Redis 7.0's encodings and
 * the older ones it still reads), and the single-value serialisation DUMP /
 * RESTORE use. Also the process-level snapshot state (SAVE, BGSAVE child,
 * save rules) that core/persist/cmd_persist.c and the server cron drive. */
#ifndef KEEL_RDB_H
#define KEEL_RDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kv;
struct client;
struct command;
struct reply;

#define RDB_VERSION 10

/* A growable byte buffer (DUMP payloads, save buffering). */
struct sbuf {
    unsigned char *p;
    size_t len, cap;
};
void sbuf_init(struct sbuf *b);
void sbuf_free(struct sbuf *b);
void sbuf_reserve(struct sbuf *b, size_t extra);
void sbuf_append(struct sbuf *b, const void *p, size_t n);

/* Whole dataset to path: written to a temporary file in the same directory,
 * fsynced, then renamed over path. False with a message in err on failure. */
bool rdb_save_file(const char *path, char *err, size_t errlen);
/* Whole dataset, RDB format, to an open fd (the AOF base file when
 * aof-use-rdb-preamble is yes). aof_base: the "aof-base" aux field is 1. */
bool rdb_save_fd(int fd, char *err, size_t errlen);
bool rdb_save_fd_ex(int fd, bool aof_base, char *err, size_t errlen);
/* Load an RDB file into the store (keys already present are replaced).
 * Expired keys are skipped. False with a message in err on a missing file,
 * a read error or a corrupt image (the store then holds what was loaded
 * before the error: the caller decides to exit or flush). */
bool rdb_load_file(const char *path, char *err, size_t errlen);
/* merge: a key already present is replaced instead of failing the load
 * (DEBUG RELOAD MERGE). */
bool rdb_load_file_ex(const char *path, bool merge, char *err, size_t errlen);
/* Figures of the last load (INFO rdb_last_load_keys_*). */
extern long long rdb_last_load_keys_loaded, rdb_last_load_keys_expired;
/* An RDB image at the start of buffer p (an AOF base file that begins with
 * "REDIS"); *used = bytes consumed (through the CRC64 trailer). */
bool rdb_load_buffer(const unsigned char *p, size_t n, size_t *used, char *err, size_t errlen);
/* A side set of databases (store.h's store_side_new: a replica's
 * repl-diskless-load swapdb, the old data served meanwhile) that
 * rdb_load_stream (rdb_stream.h) can load into; the image's function
 * libraries are kept in fn (the caller loads them when it swaps the set
 * in, then frees them with rdb_side_functions_free). */
struct db;
struct rdb_side {
    struct db *dbs;
    struct rdb_side_fn {
        char *p;
        size_t n;
    } * fn;
    size_t nfn;
};
void rdb_side_functions_free(struct rdb_side *s);

/* Replication info in RDB files (aux fields repl-stream-db, repl-id,
 * repl-offset, as Redis 7.0 saves them): a snapshot asks the provider
 * core_init sets (core/repl: a replica's primary id and applied offset;
 * false: none are written); a load keeps the last file's in
 * rdb_loaded_repl (valid false when it had none). A replica restarted
 * from such a file continues its stream with a partial resync. */
struct rdb_repl_info {
    bool valid;
    char id[41];
    long long offset;
    int stream_db;
};
void rdb_set_repl_info(bool (*fn)(struct rdb_repl_info *out));
extern struct rdb_repl_info rdb_loaded_repl;

/* DUMP: the value of e in RDB encoding (type byte + value) followed by the
 * 2-byte RDB version (little endian) and a CRC64 of everything before it.
 * Appends to out; returns the number of bytes appended. */
size_t rdb_serialize_value(const struct kv *e, struct sbuf *out);
/* DEBUG SET-SKIP-CHECKSUM-VALIDATION: RESTORE payloads and RDB files are
 * loaded without checking their CRC64 (Redis's skip_checksum_validation). */
extern int rdb_skip_checksum_validation;
/* RESTORE: check a DUMP payload's footer (version <= RDB_VERSION, CRC64
 * unless 0) — false: "ERR DUMP payload version or checksum are wrong". */
/* Function libraries in RDB files (opcode FUNCTION2, after the aux
 * fields) and in FUNCTION DUMP payloads: core/script provides them
 * (core_init wires rdb_set_functions). each() calls emit once per library
 * with its code; load() creates a library from its code (replace: an
 * existing one of that name is replaced, else it is an error). */
typedef void (*rdb_emit_fn)(void *ctx, const char *code, size_t n);
typedef void (*rdb_functions_each_fn)(rdb_emit_fn emit, void *ctx);
typedef bool (*rdb_function_load_fn)(const char *code, size_t n, bool replace, char *err,
                                     size_t errlen);
void rdb_set_functions(rdb_functions_each_fn each, rdb_function_load_fn load);
/* Every function library removed (a replica's full sync replaces them
 * all, as Redis 7.0 clears or swaps its functions context); core_init
 * wires core/script's function_flush. NULL: none. */
void rdb_set_functions_flush(void (*flush)(void));
extern void (*rdb_functions_flush)(void);
extern rdb_function_load_fn rdb_function_load;
/* Every library's code (the AOF rewrite without an RDB preamble). */
void rdb_functions_each(rdb_emit_fn emit, void *ctx);
/* FUNCTION DUMP: every library, then the DUMP footer (version, CRC64). */
void rdb_serialize_functions(struct sbuf *out);
/* FUNCTION RESTORE: the libraries of a verified payload, one by one. */
bool rdb_each_function_in_payload(const unsigned char *p, size_t n,
                                  bool (*fn)(void *ctx, const char *code, size_t n), void *ctx,
                                  char *err, size_t errlen);
bool rdb_verify_dump_payload(const unsigned char *p, size_t n);
/* RESTORE: decode a verified payload into a new entry for key (NULL when
 * the payload is malformed: "ERR Bad data format"). */
struct kv *rdb_deserialize_value(const unsigned char *p, size_t n, const char *key, size_t klen);

/* ---- snapshot state and background saves (cmd_persist.c, server cron) ---- */

enum { CHILD_NONE = 0, CHILD_RDB = 1, CHILD_AOF = 2, CHILD_REPL = 3 };
/* CHILD_REPL: a diskless full sync writing the RDB to replicas' sockets
 * (core/repl). persist_cron tells this hook (core_init wires core/repl's)
 * about every child it reaps, after its own handling: the type, pid and
 * how it ended. A child killed otherwise (FLUSHALL, SHUTDOWN) is not
 * reported. */
void persist_set_child_done(void (*fn)(int type, int pid, int exitcode, int bysignal));
/* Writing an RDB to a nonblocking socket (a diskless sync): how long a
 * write may wait for the socket to take more (ms) before it fails. */
extern int rdb_write_wait_ms;

/* Redis's lastbgsave_status etc. live in g_server (core/kernel/server.h). */

/* Synchronous SAVE of the dataset to dir/dbfilename (updates lastsave,
 * dirty, last status). */
bool rdb_save_now(char *err, size_t errlen);
/* Fork a child that writes dir/dbfilename; false when fork failed. */
bool rdb_bgsave_start(char *err, size_t errlen);
/* Server cron hook: reap a finished child (RDB or AOF rewrite via the AOF
 * engineer's hook), start a scheduled BGSAVE, apply the `save` rules. */
void persist_cron(void);
/* Fork the persistence child (one at a time). Returns 0 in the child (with
 * default signal dispositions), the pid in the parent (recorded in
 * g_server with the fork figures), or -1 with errno set. */
int persist_fork(int child_type);
/* A child that is not an RDB child exits: persist_cron hands it to
 * aof_child_done (core/persist/aof.h). */
/* MISCONF: refuse a write while the last background save failed (the
 * kernel asks before running a command). */
bool persist_reject(struct client *c, const struct command *cmd, struct reply *r);
/* Kill a running RDB child (SHUTDOWN, FLUSHALL) and remove its temp file. */
void rdb_kill_child(void);
/* SHUTDOWN / SIGTERM: kill an RDB child, then save when how is 1 (SAVE) or
 * 0 with save rules configured (-1: NOSAVE). False when the save failed. */
bool persist_prepare_shutdown(int how);
/* FLUSHALL: kill an RDB child; save the (empty) dataset when there are
 * save rules. */
void persist_after_flushall(void);
/* DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE] (replies itself). */
struct exec;
void persist_debug_reload(struct exec *x, bool merge, bool flush, bool save);
/* Load dir/dbfilename at start-up if it exists (log lines as Redis). Returns
 * false only on a corrupt/unreadable file (the server exits). */
bool rdb_load_at_startup(void);
/* Start-up, before loading: remove the temporary files a killed save or AOF
 * rewrite left (temp-<pid>.rdb, temp-rewriteaof-bg-<pid>.aof,
 * temp-rewriteaof-<pid>.aof of a process no longer alive, in dir and in the
 * AOF directory; temp-<appendfilename>.incr / .manifest in the AOF
 * directory). */
void persist_remove_temp_files(void);

#endif
