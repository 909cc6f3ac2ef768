/* acl.h — ACL users (Redis 7.0's model): the user table, each user's
 * flags, SHA-256 password hashes and selectors (command bitmap by command
 * id, key patterns with read/write flags, channel patterns), the rule
 * language of ACL SETUSER and `user` config lines, the text forms ACL LIST
 * and GETUSER show, authentication, the per-command permission check the
 * kernel's refusal hook runs, and the ACL LOG. Protocol-free: replies go
 * through the reply sink. */
#ifndef KEEL_ACL_H
#define KEEL_ACL_H

#include <stdbool.h>
#include <stddef.h>

#include "registry.h"

struct client;
struct reply;

enum { ACL_KEY_READ = 1, ACL_KEY_WRITE = 2 };

enum { ACL_PAT_GLOB = 0, ACL_PAT_EXACT, ACL_PAT_PREFIX }; /* "a[b]*", "abc", "abc*" */

struct acl_keypat {
    char *p;
    size_t n;
    int flags; /* ACL_KEY_READ | ACL_KEY_WRITE */
    int kind;  /* ACL_PAT_*: a literal or a literal prefix skips the glob */
    /* A prefix pattern of 1-8 literal bytes ("key:*"): its bytes and a
     * mask over the first 8 of a key, compared as one word (plen 0: not
     * that form). */
    unsigned long long word, mask;
    int plen;
};

/* A first-argument rule, +select|0: the command (one without subcommands)
 * is allowed when its first argument is this one (compared ignoring case),
 * while its bit is off. */
struct acl_firstarg {
    int id;
    char *p;
    size_t n;
};

struct acl_selector {
    unsigned long long *cmds; /* bit per command id (subcommands included) */
    bool allcommands;         /* +@all: commands added later are allowed too */
    bool allkeys, allchannels;
    struct acl_keypat *keys;
    int nkeys;
    int hint;                   /* the key pattern that matched last: tried first (a cache) */
    struct acl_firstarg *fargs; /* in the order given, no duplicates */
    int nfargs;
    char **chans;
    size_t *chanlen;
    int nchans;
};

struct acl_user {
    char *name;
    size_t namelen;
    bool on, nopass;
    int sanitize; /* 0: none, 1: sanitize-payload, 2: skip-sanitize-payload */
    unsigned char (*pw)[32];
    int npw;
    struct acl_selector *sel; /* sel[0]: the root selector */
    int nsel;
    struct acl_user *next;
};

/* Errors of ACL_DENIED_*: which check refused. */
enum { ACL_OK = 0, ACL_DENIED_CMD, ACL_DENIED_KEY, ACL_DENIED_AUTH, ACL_DENIED_CHANNEL };

void acl_init(void);
/* What the check precomputes per command id (acl_check.c; from acl_init). */
void acl_check_init(void);
/* A key pattern's ACL_PAT_* kind. */
int acl_pattern_kind(const char *p, size_t n);
/* Fill k->kind and the prefix word of k->p (acl_check.c). */
void acl_keypat_prepare(struct acl_keypat *k);
/* `user` config lines and the aclfile at start-up (acl_init). */
void acl_load_startup(void);
/* ACL LOAD: the aclfile's users replace the table, all or nothing; NULL on
 * success, else err (core/commands/cmd_acl.c). */
const char *acl_load_file(const char *path, char *err, size_t errlen);
struct acl_user *acl_default_user(void);
struct acl_user *acl_find(const char *name, size_t n);
/* Iterate users (sorted by name, as Redis's rax). */
struct acl_user *acl_first(void);

/* Apply one rule to u (creating nothing). NULL on success, else the
 * reason text ("Syntax error", ...). */
const char *acl_apply_rule(struct acl_user *u, const char *r, size_t n);
/* ACL SETUSER: rules applied to a copy, committed only if all succeed.
 * On error writes Redis's error to r and returns false. ctx names the
 * source in errors ("ACL SETUSER"). */
bool acl_setuser(const char *name, size_t nlen, int nrules, const char *const *rules,
                 const size_t *rlens, char *err, size_t errlen);
bool acl_deluser(const char *name, size_t n); /* false: not found (or default) */
/* The user's rules as ACL LIST shows them ("on nopass ~* &* +@all"). */
char *acl_describe(const struct acl_user *u);
char *acl_describe_selector(const struct acl_selector *s, bool root);
char *acl_describe_commands(const struct acl_selector *s);
char *acl_describe_keys(const struct acl_selector *s);
char *acl_describe_channels(const struct acl_selector *s);
void acl_user_free(struct acl_user *u);
struct acl_user *acl_user_new(const char *name, size_t n);
struct acl_user *acl_user_dup(const struct acl_user *u);
/* Replace the whole user table by `users` (ACL LOAD); default created if absent. */
void acl_replace_all(struct acl_user *users);
/* A valid user name line in an ACL file: parse "user <name> rules..." */
const char *acl_parse_user_line(char *line, struct acl_user **out);

/* Authentication: constant-time; logs a failure (reason auth). */
bool acl_check_password(const struct acl_user *u, const char *p, size_t n);
bool acl_authenticate(struct client *c, const char *user, size_t ulen, const char *pass,
                      size_t plen);
/* The user of a client (the default user when none is set). */
struct acl_user *acl_client_user(struct client *c);
/* Whether a new connection starts authenticated (default user on, nopass). */
bool acl_default_authenticates(void);

/* The permission check: ACL_OK, or ACL_DENIED_* with *errpos the argv
 * index of the refused key or channel. */
int acl_check_cmd(const struct acl_user *u, const struct command *cmd, int argc,
                  const struct argv_ref *argv, int *errpos);
/* Whether c's user may read key k in some selector (SORT's BY and GET
 * need the literal "*": access to every key). */
bool acl_client_can_read_key(struct client *c, const char *k, size_t n);
/* The kernel's hook: refuses with NOPERM (and logs) when c's user may not
 * run argv. */
bool acl_refuse(struct client *c, const struct command *cmd, int argc, const struct argv_ref *argv,
                struct reply *r);
/* The check again when EXEC runs a queued command, as Redis 7.0: "ACLs
 * rules changed ..." (logged with context multi). */
bool acl_refuse_in_exec(struct client *c, const struct command *cmd, int argc,
                        const struct argv_ref *argv, struct reply *r);
/* Log c in as user name without a password (a verified TLS client
 * certificate's CN, tls-auth-clients-user CN): false when there is no such
 * user or it is off (c is left as it was). */
bool acl_login_as(struct client *c, const char *name, size_t n);
/* A script's command (core/script): NULL when c's user may run it, else
 * Redis 7.0's text for the script's error (logged with context lua). */
const char *acl_script_refusal(struct client *c, const struct command *cmd, int argc,
                               const struct argv_ref *argv);
/* NOPERM text for a check result (cmd's fullname for ACL_DENIED_CMD). */
void acl_reply_denied(struct reply *r, int res, const struct command *cmd);

/* ACL LOG */
void acl_log_add(struct client *c, int reason, const char *ctx, const char *object, size_t olen,
                 const char *username, size_t ulen);
void acl_log_reply(struct reply *r, long long count);
void acl_log_reset(void);

/* Categories: index in registry_acl_names, or -1. */
int acl_category(const char *name, size_t n);
/* The SHA-256 of p as 64 lowercase hex digits (+ NUL). */
void acl_hash_hex(const char *p, size_t n, char out[65]);

/* CONFIG SET requirepass: the default user's password ("" = nopass). */
void acl_set_requirepass(const char *pw);
const char *acl_requirepass_check(const char *value);
/* A user's clients (CLIENT KILL USER, deletion): callback per client. */
void acl_kill_user_clients(const struct acl_user *u, struct client *except);
/* After a user's rules changed: close its clients subscribed to a channel
 * or pattern it may no longer use (as Redis 7.0). */
void acl_kill_pubsub_clients(const struct acl_user *u);

#endif
