/* registry.h — the command table, built from schemas/commands/<name>.json by
 * scripts/gen_commands.py at build time, and the one matcher that turns an
 * argument vector into typed arguments (struct argval per schema slot) or
 * into the exact error Redis gives. COMMAND, COMMAND INFO/DOCS/GETKEYS and
 * (later) the HTTP schema endpoint and cluster routing read this table. */
#ifndef KEEL_REGISTRY_H
#define KEEL_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct exec;
struct reply;
typedef void (*cmd_fn)(struct exec *x);

enum arg_type {
    ARG_KEY,
    ARG_STRING,
    ARG_INTEGER,
    ARG_DOUBLE,
    ARG_UNIX_TIME,
    ARG_PATTERN,
    ARG_PURE_TOKEN,
    ARG_ONEOF,
    ARG_BLOCK,
};

/* Argument flags: Redis's own, then the keel_* extensions (documented at
 * the top of scripts/gen_commands.py). */
enum {
    AF_OPTIONAL = 1,
    AF_MULTIPLE = 2,
    AF_MULTIPLE_TOKEN = 4,
    AF_MULTI_CHOICE = 8,       /* keel_multi_choice: several children of a oneof */
    AF_DEFER_ERROR = 16,       /* keel_deferred_error: a bad value is reported by the handler */
    AF_LONG_DOUBLE = 32,       /* keel_long_double: a double parsed as long double (INCRBYFLOAT) */
    AF_NUMKEYS = 64,           /* keel_numkeys: this count fixes the next multiple's repetitions */
    AF_ONCE = 128,             /* keel_once: a second occurrence is an error */
    AF_RANGE_MIN = 256,        /* keel_min: an integer's lowest value */
    AF_RANGE_MAX = 512,        /* keel_max: an integer's highest value */
    AF_NONZERO = 1024,         /* keel_nonzero: an integer that may not be 0 */
    AF_HIDDEN = 2048,          /* keel_hidden: matched, not shown by COMMAND DOCS */
    AF_KEEP_ALL = 4096,        /* keel_keep_all: every occurrence listed */
    AF_NUMKEYS_REPEAT = 8192,  /* keel_numkeys_repeat: token + keel_numkeys values */
    AF_DEFER_FROM = 16384,     /* keel_defer: errors after this option are the handler's */
    AF_HALF = 32768,           /* keel_half: a multiple taking half of the words left */
    AF_STOP_AT_TOKENS = 65536, /* keel_stop_at_tokens: a multiple ends at a later option's token */
    AF_FIT = 131072,           /* keel_fit: an option only when all its words are there */
    AF_IN_PLACE = 262144,      /* keel_in_place: an optional token matched where it stands */
};

struct argv_ref;
struct argval;
/* keel_check: a value's own check (error text, or NULL); prev is the
 * previous sibling argument's value. */
typedef const char *(*arg_check_fn)(const struct argv_ref *w, struct argval *v,
                                    const struct argval *prev);

struct arg_spec {
    const char *name;
    enum arg_type type;
    enum arg_type conv; /* what the value is parsed as (keel_type, else type) */
    const char *token;
    int flags;
    int key_spec_index;
    const char *since;
    const char *deprecated_since;
    const char *display;
    int slot; /* index in exec.args */
    int nchildren;
    const struct arg_spec *children;
    const char *parse_error;    /* keel_error: text when the value does not parse */
    const char *numkeys_error;  /* keel_numkeys_error: the count exceeds the words left */
    long long min, max;         /* keel_min / keel_max (AF_RANGE_MIN / AF_RANGE_MAX) */
    const char *range_error;    /* keel_range_error: the value is out of range */
    const char *once_error;     /* keel_once_error: the option was given twice */
    const char *const *choices; /* keel_choices: the words a string may be */
    int nchoices;
    const int *excludes; /* keel_excludes: slots of options that rule this one out */
    int nexcludes;
    arg_check_fn check; /* keel_check */
    int prev_slot;      /* the previous sibling's slot, or -1 */
    int only_words;     /* keel_only_words: matched only in a command this long */
};

/* Command flags (Redis's CMD_*), bit order = COMMAND INFO's order. */
enum {
    CMD_WRITE = 1 << 0,
    CMD_READONLY = 1 << 1,
    CMD_DENYOOM = 1 << 2,
    CMD_MODULE = 1 << 3,
    CMD_ADMIN = 1 << 4,
    CMD_PUBSUB = 1 << 5,
    CMD_NOSCRIPT = 1 << 6,
    CMD_BLOCKING = 1 << 7,
    CMD_LOADING = 1 << 8,
    CMD_STALE = 1 << 9,
    CMD_SKIP_MONITOR = 1 << 10,
    CMD_SKIP_SLOWLOG = 1 << 11,
    CMD_ASKING = 1 << 12,
    CMD_FAST = 1 << 13,
    CMD_NO_AUTH = 1 << 14,
    CMD_MAY_REPLICATE = 1 << 15,
    CMD_SENTINEL = 1 << 16,
    CMD_ONLY_SENTINEL = 1 << 17,
    CMD_NO_MANDATORY_KEYS = 1 << 18,
    CMD_PROTECTED = 1 << 19,
    CMD_NO_ASYNC_LOADING = 1 << 20,
    CMD_NO_MULTI = 1 << 21,
    CMD_MOVABLE_KEYS = 1 << 22,
    CMD_ALLOW_BUSY = 1 << 23,
};

enum { KS_BS_INVALID = 0, KS_BS_INDEX, KS_BS_KEYWORD, KS_BS_UNKNOWN };
enum { KS_FK_INVALID = 0, KS_FK_RANGE, KS_FK_KEYNUM, KS_FK_UNKNOWN };

struct key_spec {
    const char *notes;
    int flags; /* bit i = name i of registry_keyspec_flag_names */
    int bs_type;
    int bs_index;
    const char *bs_keyword;
    int bs_startfrom;
    int fk_type;
    int fk_lastkey, fk_keystep, fk_limit;    /* range */
    int fk_keynumidx, fk_firstkey, fk_kstep; /* keynum */
};

struct command {
    const char *name;     /* lower case: "get", "encoding" */
    const char *fullname; /* "get", "object|encoding" */
    const char *container;
    const char *summary, *complexity, *since, *group;
    const char *deprecated_since, *replaced_by;
    int doc_deprecated;
    int arity;
    uint32_t flags;
    uint32_t acl; /* bit i = registry_acl_names[i] */
    int ntips;
    const char *const *tips;
    int nhistory;
    const char *const *history; /* pairs: version, text */
    int nkey_specs;
    const struct key_spec *key_specs;
    int nargs;
    const struct arg_spec *args;
    int ndoc_args; /* what COMMAND DOCS shows (keel_grammar: not args) */
    const struct arg_spec *doc_args;
    int nslots;
    int args_hidden;             /* keel_arguments: matched, but not shown by COMMAND DOCS */
    const char *syntax_error;    /* keel_syntax_error: format with %s = the offending word */
    int in_order;                /* keel_parse_in_order: values convert as they are met */
    int raw_args;                /* keel_raw_arguments: no matching, the handler reads argv */
    int arbitrary_keys;          /* keel_touches_arbitrary_keys: Redis's internal flag */
    int max_words;               /* keel_max_words: more words than this is a syntax error */
    const char *max_words_error; /* keel_max_words_error: its text then */
    uint32_t word_counts;        /* keel_word_counts: bit n = n words allowed (0: any) */
    int defer_at;                /* keel_deferred_from: 1 + index of the first deferred argument */
    int defer_slot;              /* the slot whose .err holds a deferred error */
    cmd_fn fn;
    int nsub;
    struct command **subs;
    struct command *parent;
    int first_key, last_key, key_step; /* legacy range, from key specs */
    int id;
    /* registry_init: n > 0 when n words that are exactly the leading plain
     * arguments (no token, repetition or keel_* word rule) match the
     * command whole, every later argument being optional (SET k v). */
    int plain_words;
    /* statistics (INFO commandstats) */
    long long calls, usec, rejected_calls, failed_calls;
};

/* One parsed argument. For a scalar, `pos` is its argv index; for a
 * multiple, `pos` is the first repetition's argv index and `count` the
 * number of repetitions (each repetition is `width` argv entries wide,
 * token included for multiple_token); for a oneof, `choice` is the index of
 * the chosen child (and `mask` every chosen child for AF_MULTI_CHOICE); for
 * a keel_choices string, `choice` is the word's index. AF_KEEP_ALL lists
 * every occurrence of a scalar option in `list`/`count`, `pos` the last. */
struct argval {
    bool present;
    int *list; /* multiple: argv index of each repetition's first word */
    int pos;
    int count;
    int width;
    int choice;
    unsigned mask;
    long long i;
    double d;
    long double ld;  /* AF_LONG_DOUBLE */
    const char *err; /* AF_DEFER_ERROR: the error its value gave, for the handler */
    int listoff;     /* matcher-internal: the list's offset in the pool */
};

/* Storage for the repetition lists of one match, alive until the handler
 * has run (kernel_run keeps it on its stack; large lists go to the heap). */
struct match_pool {
    int inl[128];
    int *heap;
    char err[320]; /* a keel_deferred_from error, for the handler */
};

#define MAX_SLOTS 64

extern struct command *registry_commands[]; /* top-level, NULL-terminated */
/* false: registry_match_pool always walks the grammar (tests compare the
 * short way for plain_words commands with the walk). */
extern bool registry_short_way;
extern const int registry_ncommands;
extern const char *const registry_acl_names[];
extern const char *const registry_flag_names[];
extern const char *const registry_keyspec_flag_names[];

void registry_init(void);
/* Find a top-level command by name (any case). */
struct command *registry_lookup(const char *name, size_t len);
struct command *registry_lookup_sub(struct command *parent, const char *name, size_t len);
/* Resolve argv to the command to run (subcommand included); on failure
 * writes Redis's error to r and returns NULL. */
struct argv_ref {
    const char *p;
    size_t n;
};
struct command *registry_resolve(int argc, const struct argv_ref *argv, struct reply *r);
/* After registry_resolve failed on arity: the command it found (its
 * rejected_calls count it), else NULL. */
extern struct command *registry_rejected;
/* Match argv against cmd's grammar, filling args[cmd->nslots]; on failure
 * writes Redis's error to r and returns false. */
bool registry_match(const struct command *cmd, int argc, const struct argv_ref *argv,
                    struct argval *args, struct reply *r);
/* The same with caller-owned list storage; call registry_match_done after. */
bool registry_match_pool(const struct command *cmd, int argc, const struct argv_ref *argv,
                         struct argval *args, struct reply *r, struct match_pool *mp);
void registry_match_done(struct match_pool *mp);
/* Keys of a command invocation, from its key specs (COMMAND GETKEYS,
 * routing), as Redis's getKeysFromCommandWithSpecs. Returns the number of
 * keys (argv indexes in out, at most max written; the count may exceed
 * max), or -1 when the arguments do not fit the key specs. */
int registry_getkeys(const struct command *cmd, int argc, const struct argv_ref *argv, int *out,
                     int max);
/* The same with each key's key-spec flags (bits of registry_keyspec_flag_names)
 * in flags (may be NULL): COMMAND GETKEYSANDFLAGS. */
int registry_getkeys_flags(const struct command *cmd, int argc, const struct argv_ref *argv,
                           int *pos, int *flags, int max);
/* Whether cmd declares keys (a key spec not marked NOT_KEY). */
bool registry_has_keys(const struct command *cmd);

/* COMMAND INFO / DOCS replies for one command. */
void registry_reply_info(struct reply *r, const struct command *cmd);
void registry_reply_docs(struct reply *r, const struct command *cmd);
/* COMMAND DOCS's map with COMMAND INFO's arity, flags, acl_categories and
 * key_specs added (subcommands too): the HTTP schema endpoint. */
void registry_reply_describe(struct reply *r, const struct command *cmd);
/* Commands in the table (COMMAND COUNT). */
int registry_count(void);

#endif
