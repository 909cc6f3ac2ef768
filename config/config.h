/* config.h — the configuration table: every tunable is one entry (name,
 * type, default, bounds, mutable at runtime, one-line help) backed by a
 * field of g_config. The same table parses keel.conf (redis.conf syntax),
 * the command line (`keel [file] --port 6380`), and serves CONFIG GET /
 * SET / RESETSTAT / REWRITE. */
#ifndef KEEL_CONFIG_H
#define KEEL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

struct keel_config {
    char *bind;
    int port;
    int tcp_backlog;
    int timeout;
    int tcp_keepalive;
    int databases;
    int hz;
    int maxclients;
    char *requirepass;
    int protected_mode;
    long long client_query_buffer_limit;
    long long proto_max_bulk_len;
    long long maxmemory;
    int maxmemory_policy;
    /* eviction (core/store/evict.c) */
    int maxmemory_samples;
    int maxmemory_eviction_tenacity;
    int lfu_log_factor;
    int lfu_decay_time;
    long long maxmemory_clients; /* bytes, or -percent of maxmemory */
    char *maxmemory_clients_text;
    int lazyfree_lazy_eviction;
    int replica_ignore_maxmemory;
    int loglevel;
    char *logfile;
    char *dir;
    char *save;
    int appendonly;
    /* append-only log (core/persist/aof.c) */
    int appendfsync; /* 0 everysec, 1 always, 2 no (Redis's order) */
    char *appenddirname;
    char *appendfilename;
    int aof_load_truncated;
    int aof_use_rdb_preamble;
    int auto_aof_rewrite_percentage;
    long long auto_aof_rewrite_min_size;
    int aof_timestamp_enabled;
    int aof_rewrite_incremental_fsync;
    int no_appendfsync_on_rewrite;
    char *dbfilename;
    /* snapshots (core/persist/rdb.c, core/persist/cmd_persist.c) */
    int rdbcompression;
    int rdbchecksum;
    int stop_writes_on_bgsave_error;
    long long rdb_key_save_delay; /* microseconds slept per saved key (tests) */
    int key_load_delay;           /* microseconds slept per loaded key (core/persist/loading.c) */
    char *pidfile;
    int active_expire;    /* keel: active expiry cycle on/off */
    int enable_debug_cmd; /* DEBUG allowed: 0 no, 1 yes, 2 local (PROTECTED_ACTION_ALLOWED_*) */
    long long max_multibulk_len;       /* keel: most arguments one command may have */
    long long slowlog_log_slower_than; /* microseconds; negative: off */
    long long slowlog_max_len;
    long long busy_reply_threshold; /* ms a script runs before others get -BUSY */
    int io_threads;
    /* the connection I/O path (adapters/uring.c): 0 auto, 1 uring, 2 libevent */
    int io_backend;
    int io_uring_test_fail; /* hidden: io_uring setup fails, as where it is unavailable */
    /* compact encodings of small aggregates (Redis's names and defaults) */
    long long hash_max_listpack_entries;
    long long hash_max_listpack_value;
    long long set_max_intset_entries;
    long long zset_max_listpack_entries;
    long long zset_max_listpack_value;
    int list_max_listpack_size;
    long long stream_node_max_bytes;   /* streams: a node's listpack bytes (0: no limit) */
    long long stream_node_max_entries; /* ... and entries (0: no limit) */
    int list_compress_depth;
    /* HTTP and WebSocket adapters */
    int http_port;
    char *http_bind;
    char *http_allow_networks;
    char *http_allowed_origins;
    char *http_disabled_commands;
    char *http_readonly_token;
    char *http_default_root;
    char *http_assets_dir; /* the dashboard served from this folder ("": built in) */
    int http_database;
    int http_websockets;
    char *http_tokens; /* "<token> <user> ..." (adapters/web/http_access.c) */
    long long http_max_url, http_max_header, http_max_body;
    int http_header_timeout, http_idle_timeout, http_sse_heartbeat;
    long long ws_max_message;
};

extern struct keel_config g_config;
/* Changes whenever any entry is set (modules that cache a parsed value
 * compare it instead of re-reading the text). */
extern unsigned long g_config_version;
extern char *g_config_file; /* absolute path, or NULL */
/* The `user ...` lines of the configuration, for core/acl. */
extern char **g_config_users;
extern int g_config_nusers;

enum config_type { CT_BOOL, CT_INT, CT_LL, CT_MEMORY, CT_STRING, CT_ENUM, CT_SPECIAL };

struct config_entry {
    const char *name;
    const char *alias;
    enum config_type type;
    void *ptr;
    const char *deflt;
    long long min, max;
    bool mutable_;
    const char *help;
    const char *const *enum_names; /* CT_ENUM: names, NULL-terminated */
    /* optional: validate and apply a string value; returns error text or NULL */
    const char *(*set)(const struct config_entry *e, const char *v);
};

/* Redis's HIDDEN_CONFIG: left out of CONFIG GET patterns, gettable by its
 * exact name. PROTECTED_CONFIG: CONFIG SET refuses it unless
 * enable-protected-configs allows (yes, or local from a loopback client). */
#define CF_HIDDEN 1u
#define CF_PROTECTED 2u
struct config_flag {
    const char *name;
    unsigned flags;
};
/* The flags of config_table's entries (config_table.c) and of
 * config_table_compat's (config_table_compat.c), {NULL, 0}-terminated. */
extern const struct config_flag config_table_flags[], config_table_compat_flags[];
/* Add a list of flags (server/main.c, with the tables). */
void config_add_flags(const struct config_flag *list);
/* An entry's CF_* flags. */
unsigned config_flags(const struct config_entry *e);

/* One name CONFIG knows: an entry's name, or its alias, which Redis 7.0
 * lists, gets and sets as a parameter of its own sharing the value. */
struct config_row {
    const struct config_entry *e;
    const char *name;
};

/* The table (config_table.c); config_init hands it to the machinery here,
 * once, before config_load. */
extern const struct config_entry config_table[];
void config_init(const struct config_entry *table);
/* Parameters Redis 7.0 has whose feature Keel lacks, accepted, stored and
 * reported as Redis does (config_table_compat.c); server/main.c adds it. */
extern const struct config_entry config_table_compat[];
/* Add one more table after config_init (at most a few; before config_load). */
void config_add_table(const struct config_entry *table);
/* Every entry of every table, by index 0..config_count()-1. */
size_t config_count(void);
const struct config_entry *config_at(size_t i);
size_t config_index(const struct config_entry *e);
/* Every name (entries and aliases) in table order; *rows stays valid. */
size_t config_rows(const struct config_row **rows);
/* The row named name (any case), or NULL. */
const struct config_row *config_find_row(const char *name, size_t len);

/* A check an adapter registers for one of its entries: NULL accepts the
 * value (which may be applied by then), else the error text. Registered by
 * server/main.c before config_load (explicit wiring, no adapter headers here). */
typedef const char *(*config_check_fn)(const char *value);
void config_register_check(const char *name, config_check_fn fn);
/* A loader for a configuration file in another format: Webdis's
 * webdis.json (adapters/web/webdis_conf.c, registered with the HTTP
 * adapter's checks). A file whose first non-blank byte is '{' is handed to
 * it; it applies values with config_set and returns false on an error (it
 * has printed why). CONFIG REWRITE does not rewrite such a file. */
typedef bool (*config_json_loader_fn)(const char *path);
void config_register_json_loader(config_json_loader_fn fn);
/* A commit a module registers (server/main.c, with the checks): run by
 * CONFIG SET after every value of the command is set, to apply them
 * together (Redis's apply functions, e.g. TLS: a certificate and its key
 * in one command). NULL accepts; else the error text, with *name the
 * parameter it concerns; CONFIG SET then puts every value back and runs
 * the commits again. */
typedef const char *(*config_commit_fn)(const char **name);
void config_register_commit(config_commit_fn fn);
/* Run every registered commit; the first error. */
const char *config_commit(const char **name);
/* Redis's memtoull: digits with an optional b/k/kb/m/mb/g/gb unit (any
 * case); "" and a bare unit are 0, a sign is refused, the product wraps. */
bool config_parse_memory(const char *v, unsigned long long *out);
/* Run the checks registered for e on value (config_table.c's setters). */
const char *config_run_checks(const struct config_entry *e, const char *value);

/* Load defaults, then the file (if any), then argv options. On error prints
 * a message and returns false. */
bool config_load(int argc, char **argv);
/* Set name to value (string form). Returns NULL on success or an error. */
const char *config_set(const char *name, const char *value, bool startup);
/* Current value as text into buf. */
size_t config_get_text(const struct config_entry *e, char *buf, size_t len);
const struct config_entry *config_find(const char *name, size_t len);
/* Rewrite the config file with the current values. Returns NULL or error. */
const char *config_rewrite(void);

#endif
