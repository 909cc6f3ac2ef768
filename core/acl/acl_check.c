/* acl_check.c — using the ACL users: authentication (constant-time
 * comparison of SHA-256 hashes), the permission check each command passes
 * (the user's root selector or any other selector must allow the command,
 * every key by the schema's key specs with its read/write flags, and the
 * channels of PUBLISH and the SUBSCRIBE family), the kernel's refusal hook
 * with Redis 7.0's NOPERM texts, the ACL LOG (grouped entries, newest
 * first, acllog-max-len) and closing a user's clients. */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "acl.h"
#include "client.h"
#include "client_info.h"
#include "config.h"
#include "kernel.h"
#include "pubsub.h"
#include "reply.h"
#include "util.h"

struct acl_user *acl_client_user(struct client *c)
{
    return c->user ? c->user : acl_default_user();
}

bool acl_default_authenticates(void)
{
    struct acl_user *d = acl_default_user();
    if (!d) return g_config.requirepass == NULL || g_config.requirepass[0] == 0;
    return d->on && d->nopass;
}

bool acl_check_password(const struct acl_user *u, const char *p, size_t n)
{
    char hex[65];
    unsigned char h[32];
    int i, ok = 0;
    if (u->nopass) return true;
    acl_hash_hex(p, n, hex);
    for (i = 0; i < 32; i++) {
        int a = hex[2 * i] <= '9' ? hex[2 * i] - '0' : hex[2 * i] - 'a' + 10;
        int b = hex[2 * i + 1] <= '9' ? hex[2 * i + 1] - '0' : hex[2 * i + 1] - 'a' + 10;
        h[i] = (unsigned char)(a * 16 + b);
    }
    /* Every stored hash is compared in full, match or not. */
    for (i = 0; i < u->npw; i++)
        ok |= CRYPTO_memcmp(u->pw[i], h, 32) == 0;
    return ok != 0;
}

bool acl_authenticate(struct client *c, const char *user, size_t ulen, const char *pass,
                      size_t plen)
{
    struct acl_user *u = acl_find(user, ulen);
    if (u && u->on && acl_check_password(u, pass, plen)) {
        c->user = u;
        c->authenticated = true;
        return true;
    }
    acl_log_add(c, ACL_DENIED_AUTH, (c->flags & (CF_MULTI | CF_IN_EXEC)) ? "multi" : "toplevel",
                "AUTH", 4, user, ulen);
    return false;
}

/* ---- the check ---- */

int acl_pattern_kind(const char *p, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (p[i] == '*' || p[i] == '?' || p[i] == '[' || p[i] == '\\') break;
    if (i == n) return ACL_PAT_EXACT;
    if (i == n - 1 && p[i] == '*') return ACL_PAT_PREFIX;
    return ACL_PAT_GLOB;
}

void acl_keypat_prepare(struct acl_keypat *k)
{
    unsigned char ones[8] = {0};
    k->kind = acl_pattern_kind(k->p, k->n);
    k->word = k->mask = 0;
    k->plen = 0;
    if (k->kind == ACL_PAT_PREFIX && k->n >= 2 && k->n - 1 <= 8) {
        k->plen = (int)k->n - 1;
        memcpy(&k->word, k->p, (size_t)k->plen);
        memset(ones, 0xff, (size_t)k->plen);
        memcpy(&k->mask, ones, 8);
    }
}

static inline bool pattern_match(const struct acl_keypat *k, const char *s, size_t n)
{
    /* A short prefix and a key of 8 bytes or more: one word compared. */
    if (k->plen && n >= 8) {
        unsigned long long w;
        memcpy(&w, s, 8);
        return (w & k->mask) == k->word;
    }
    /* Literal patterns and prefixes mostly differ at their first byte. */
    if (k->kind != ACL_PAT_GLOB && k->n > 1 && (n == 0 || s[0] != k->p[0])) return false;
    switch (k->kind) {
    case ACL_PAT_EXACT:
        return n == k->n && memcmp(k->p, s, n) == 0;
    case ACL_PAT_PREFIX:
        return n >= k->n - 1 && memcmp(k->p, s, k->n - 1) == 0;
    default:
        return util_glob(k->p, k->n, s, n, false);
    }
}

/* ACL_KEY_* a key needs, from its key-spec flags (bits of
 * registry_keyspec_flag_names: ACCESS 4, UPDATE 5, INSERT 6, DELETE 7). */
static int key_needs(int ksflags)
{
    int need = 0;
    if (ksflags & (1 << 4)) need |= ACL_KEY_READ;
    if (ksflags & ((1 << 5) | (1 << 6) | (1 << 7))) need |= ACL_KEY_WRITE;
    return need;
}

/* Every key pattern of s, the hint's aside (key_allowed_need's slow path,
 * kept out of line so the hint's test stays small). */
static __attribute__((noinline)) bool key_scan(const struct acl_selector *s, const char *k,
                                               size_t n, int need)
{
    int i, h = s->hint;
    for (i = 0; i < s->nkeys; i++) {
        if (i == h || (s->keys[i].flags & need) != need) continue;
        if (pattern_match(&s->keys[i], k, n)) {
            ((struct acl_selector *)s)->hint = i;
            return true;
        }
    }
    return false;
}

/* Callers have already tested s->allkeys. */
static inline bool key_allowed_need(const struct acl_selector *s, const char *k, size_t n, int need)
{
    int h = s->hint;
    /* The pattern that matched the last key first: a client's keys mostly
     * share one pattern. (The hint is a cache; the answer does not depend
     * on it.) */
    if (h < s->nkeys && (s->keys[h].flags & need) == need && pattern_match(&s->keys[h], k, n))
        return true;
    return key_scan(s, k, n, need);
}

static bool key_allowed(const struct acl_selector *s, const char *k, size_t n, int ksflags)
{
    return s->allkeys || key_allowed_need(s, k, n, key_needs(ksflags));
}

/* Per command id, what the check needs without asking the registry each
 * time: a command whose keys are one plain range (GET, MSET, INCR, ...)
 * has them read straight from argv; SET's flags depend on its GET word;
 * everything else goes through registry_getkeys_flags. */
enum { KEYS_NONE = 0, KEYS_RANGE, KEYS_SET, KEYS_REGISTRY };
enum { CH_NONE = 0, CH_PUBLISH, CH_SUBSCRIBE, CH_PSUBSCRIBE };
struct cmd_info {
    unsigned char keys, chan;
    int first, last, step, need;
};
static struct cmd_info *cinfo;
static int ncinfo;

static void info_for(const struct command *c)
{
    struct cmd_info *ci;
    const struct key_spec *ks = c->key_specs;
    const char *n = c->fullname;
    if (c->id >= ncinfo) {
        int m = c->id + 1;
        cinfo = xrealloc(cinfo, sizeof(*cinfo) * (size_t)m);
        memset(cinfo + ncinfo, 0, sizeof(*cinfo) * (size_t)(m - ncinfo));
        ncinfo = m;
    }
    ci = &cinfo[c->id];
    if (!strcmp(n, "publish") || !strcmp(n, "spublish")) ci->chan = CH_PUBLISH;
    if (!strcmp(n, "subscribe") || !strcmp(n, "ssubscribe")) ci->chan = CH_SUBSCRIBE;
    if (!strcmp(n, "psubscribe")) ci->chan = CH_PSUBSCRIBE;
    if (!registry_has_keys(c)) {
        ci->keys = KEYS_NONE;
    } else if (!strcmp(n, "set")) {
        ci->keys = KEYS_SET;
    } else if (c->nkey_specs == 1 && ks->bs_type == KS_BS_INDEX && ks->fk_type == KS_FK_RANGE &&
               ks->fk_limit <= 1 && ks->fk_keystep > 0 &&
               !(ks->flags & ((1 << 8) | (1 << 9) | (1 << 10))) && strcmp(n, "sort") &&
               strcmp(n, "sort_ro") && strcmp(n, "migrate") && strcmp(n, "bitfield")) {
        /* NOT_KEY 8, INCOMPLETE 9, VARIABLE_FLAGS 10 */
        ci->keys = KEYS_RANGE;
        ci->first = ks->bs_index;
        ci->last = ks->fk_lastkey;
        ci->step = ks->fk_keystep;
        ci->need = key_needs(ks->flags);
    } else {
        ci->keys = KEYS_REGISTRY;
    }
}

void acl_check_init(void)
{
    int i, j;
    for (i = 0; registry_commands[i]; i++) {
        info_for(registry_commands[i]);
        for (j = 0; j < registry_commands[i]->nsub; j++)
            info_for(registry_commands[i]->subs[j]);
    }
}

/* The keys of a command the registry finds (key specs of any kind). */
static __attribute__((noinline)) int keys_check_registry(const struct acl_selector *s,
                                                         const struct command *cmd, int argc,
                                                         const struct argv_ref *argv, int *errpos)
{
    int pos[64], flags[64], *pp = pos, *fp = flags, n, i, res = ACL_OK;
    n = registry_getkeys_flags(cmd, argc, argv, pos, flags, 64);
    if (n > 64) {
        pp = xmalloc(sizeof(int) * (size_t)n);
        fp = xmalloc(sizeof(int) * (size_t)n);
        registry_getkeys_flags(cmd, argc, argv, pp, fp, n);
    }
    for (i = 0; i < n; i++)
        if (!key_allowed(s, argv[pp[i]].p, argv[pp[i]].n, fp[i])) {
            *errpos = pp[i];
            res = ACL_DENIED_KEY;
            break;
        }
    if (pp != pos) {
        free(pp);
        free(fp);
    }
    return res;
}

/* SET's key: written, and read too with its GET word. */
static inline bool set_key_allowed(const struct acl_selector *s, int argc,
                                   const struct argv_ref *argv)
{
    int i, need = ACL_KEY_WRITE;
    for (i = 3; i < argc; i++)
        if (argv[i].n == 3 && (argv[i].p[0] | 32) == 'g' && (argv[i].p[1] | 32) == 'e' &&
            (argv[i].p[2] | 32) == 't')
            need |= ACL_KEY_READ;
    return key_allowed_need(s, argv[1].p, argv[1].n, need);
}

/* The keys of argv: ACL_OK, or ACL_DENIED_KEY with *errpos. */
static inline int keys_check(const struct acl_selector *s, const struct command *cmd, int argc,
                             const struct argv_ref *argv, int *errpos)
{
    const struct cmd_info *ci = &cinfo[cmd->id];
    int i;
    if (ci->keys == KEYS_NONE) return ACL_OK;
    if (ci->keys == KEYS_RANGE) {
        int last = ci->last >= 0 ? ci->first + ci->last : argc + ci->last;
        for (i = ci->first; i <= last && i < argc; i += ci->step)
            if (!key_allowed_need(s, argv[i].p, argv[i].n, ci->need)) {
                *errpos = i;
                return ACL_DENIED_KEY;
            }
        return ACL_OK;
    }
    if (ci->keys == KEYS_SET && argc >= 3) {
        if (set_key_allowed(s, argc, argv)) return ACL_OK;
        *errpos = 1;
        return ACL_DENIED_KEY;
    }
    return keys_check_registry(s, cmd, argc, argv, errpos);
}

static bool channel_allowed(const struct acl_selector *s, const char *ch, size_t n, bool is_pattern)
{
    int i;
    if (s->allchannels) return true;
    for (i = 0; i < s->nchans; i++) {
        if (is_pattern) {
            if (s->chanlen[i] == n && memcmp(s->chans[i], ch, n) == 0) return true;
        } else if (util_glob(s->chans[i], s->chanlen[i], ch, n, false)) {
            return true;
        }
    }
    return false;
}

bool acl_client_can_read_key(struct client *c, const char *k, size_t n)
{
    const struct acl_user *u = acl_client_user(c);
    int i;
    for (i = 0; i < u->nsel; i++)
        if (key_allowed(&u->sel[i], k, n, 1 << 4)) return true;
    return false;
}

/* A command whose bit is off may still run with a first argument its
 * +cmd|arg rules name (compared ignoring case; the whole argument, NUL
 * bytes included, where Redis 7.0 compares up to a NUL). */
static bool first_arg_allowed(const struct acl_selector *s, const struct command *cmd, int argc,
                              const struct argv_ref *argv)
{
    int i;
    if (argc < 2 || s->nfargs == 0 || cmd->parent) return false;
    for (i = 0; i < s->nfargs; i++)
        if (s->fargs[i].id == cmd->id && s->fargs[i].n == argv[1].n &&
            strncasecmp(s->fargs[i].p, argv[1].p, argv[1].n) == 0)
            return true;
    return false;
}

static inline int selector_check(const struct acl_selector *s, const struct command *cmd, int argc,
                                 const struct argv_ref *argv, int *errpos)
{
    int i, chan;
    if (!((s->cmds[cmd->id / 64] >> (cmd->id % 64)) & 1) && !first_arg_allowed(s, cmd, argc, argv))
        return ACL_DENIED_CMD;
    if (!s->allkeys && keys_check(s, cmd, argc, argv, errpos) != ACL_OK) return ACL_DENIED_KEY;
    chan = cinfo[cmd->id].chan;
    if (!s->allchannels && chan != CH_NONE) {
        int last = chan == CH_PUBLISH ? (argc > 1 ? 1 : 0) : argc - 1;
        for (i = 1; i <= last; i++)
            if (!channel_allowed(s, argv[i].p, argv[i].n, chan == CH_PSUBSCRIBE)) {
                *errpos = i;
                return ACL_DENIED_CHANNEL;
            }
    }
    return ACL_OK;
}

/* The common case of one selector, an allowed command and keys in one
 * plain range, without the full check's bookkeeping: true when allowed;
 * false sends the caller to acl_check_cmd (which then decides). */
static inline bool fast_allowed(const struct acl_selector *s, const struct command *cmd, int argc,
                                const struct argv_ref *argv)
{
    const struct cmd_info *ci = &cinfo[cmd->id];
    int i, last;
    if (!((s->cmds[cmd->id / 64] >> (cmd->id % 64)) & 1)) return false;
    if (ci->chan != CH_NONE && !s->allchannels) return false;
    if (ci->keys == KEYS_NONE || s->allkeys) return true;
    if (ci->keys == KEYS_SET && argc >= 3) return set_key_allowed(s, argc, argv);
    if (ci->keys != KEYS_RANGE) return false;
    last = ci->last >= 0 ? ci->first + ci->last : argc + ci->last;
    if (last >= argc) last = argc - 1;
    for (i = ci->first; i <= last; i += ci->step)
        if (!key_allowed_need(s, argv[i].p, argv[i].n, ci->need)) return false;
    return true;
}

int acl_check_cmd(const struct acl_user *u, const struct command *cmd, int argc,
                  const struct argv_ref *argv, int *errpos)
{
    int best = ACL_DENIED_CMD, bestpos = 0, i;
    if (u->nsel == 1 && fast_allowed(&u->sel[0], cmd, argc, argv)) return ACL_OK;
    if (u->nsel == 1) { /* the usual user: no best refusal to choose */
        *errpos = 0;
        return selector_check(&u->sel[0], cmd, argc, argv, errpos);
    }
    for (i = 0; i < u->nsel; i++) {
        int pos = 0, res = selector_check(&u->sel[i], cmd, argc, argv, &pos);
        if (res == ACL_OK) return ACL_OK;
        if (res > best || (res == best && pos > bestpos)) {
            best = res;
            bestpos = pos;
        }
    }
    *errpos = bestpos;
    return best;
}

void acl_reply_denied(struct reply *r, int res, const struct command *cmd)
{
    if (res == ACL_DENIED_CMD)
        reply_errorf(r, "NOPERM this user has no permissions to run the '%s' command",
                     cmd->fullname);
    else if (res == ACL_DENIED_KEY)
        reply_error(r, "NOPERM this user has no permissions to access one of the keys used as "
                       "arguments");
    else
        reply_error(r, "NOPERM this user has no permissions to access one of the channels used "
                       "as arguments");
}

bool acl_refuse(struct client *c, const struct command *cmd, int argc, const struct argv_ref *argv,
                struct reply *r)
{
    struct acl_user *u = acl_client_user(c);
    int pos = 0, res;
    /* The unrestricted user (the default one, usually) costs a few tests. */
    if (u->nsel == 1 && u->sel[0].allcommands && u->sel[0].allkeys && u->sel[0].allchannels &&
        ((u->sel[0].cmds[cmd->id / 64] >> (cmd->id % 64)) & 1))
        return false;
    if (cmd->flags & CMD_NO_AUTH) return false;
    /* acl_check_cmd starts with the same test: here it is inlined */
    if (u->nsel == 1 && fast_allowed(&u->sel[0], cmd, argc, argv)) return false;
    res = acl_check_cmd(u, cmd, argc, argv, &pos);
    if (res == ACL_OK) return false;
    c->last_cmd = cmd->fullname; /* the client-info of the entry names it, as Redis */
    if (res == ACL_DENIED_CMD)
        acl_log_add(c, res, (c->flags & CF_MULTI) ? "multi" : "toplevel", cmd->fullname,
                    strlen(cmd->fullname), u->name, u->namelen);
    else
        acl_log_add(c, res, (c->flags & CF_MULTI) ? "multi" : "toplevel", argv[pos].p, argv[pos].n,
                    u->name, u->namelen);
    acl_reply_denied(r, res, cmd);
    return true;
}

bool acl_login_as(struct client *c, const char *name, size_t n)
{
    struct acl_user *u = acl_find(name, n);
    if (!u || !u->on) return false;
    c->user = u;
    c->authenticated = true;
    return true;
}

const char *acl_script_refusal(struct client *c, const struct command *cmd, int argc,
                               const struct argv_ref *argv)
{
    struct acl_user *u = acl_client_user(c);
    int pos = 0, res = acl_check_cmd(u, cmd, argc, argv, &pos);
    if (res == ACL_OK) return NULL;
    if (res == ACL_DENIED_CMD)
        acl_log_add(c, res, "lua", cmd->fullname, strlen(cmd->fullname), u->name, u->namelen);
    else
        acl_log_add(c, res, "lua", argv[pos].p, argv[pos].n, u->name, u->namelen);
    switch (res) {
    case ACL_DENIED_CMD:
        return "The user executing the script can't run this command or subcommand";
    case ACL_DENIED_KEY:
        return "The user executing the script can't access at least one of the keys mentioned "
               "in the command arguments";
    case ACL_DENIED_CHANNEL:
        return "The user executing the script can't publish to the channel mentioned in the "
               "command";
    default:
        return "The user executing the script is lacking the permissions for the command";
    }
}

bool acl_refuse_in_exec(struct client *c, const struct command *cmd, int argc,
                        const struct argv_ref *argv, struct reply *r)
{
    struct acl_user *u = acl_client_user(c);
    int pos = 0, res;
    const char *why;
    if (u->nsel == 1 && u->sel[0].allcommands && u->sel[0].allkeys && u->sel[0].allchannels &&
        ((u->sel[0].cmds[cmd->id / 64] >> (cmd->id % 64)) & 1))
        return false;
    if (cmd->flags & CMD_NO_AUTH) return false;
    res = acl_check_cmd(u, cmd, argc, argv, &pos);
    if (res == ACL_OK) return false;
    c->last_cmd = "exec"; /* the entry's client-info names EXEC, as Redis */
    if (res == ACL_DENIED_CMD) {
        why = "no permission to execute the command or subcommand";
        acl_log_add(c, res, "multi", cmd->fullname, strlen(cmd->fullname), u->name, u->namelen);
    } else {
        why = res == ACL_DENIED_KEY ? "no permission to touch the specified keys"
                                    : "no permission to access one of the channels used as "
                                      "arguments";
        acl_log_add(c, res, "multi", argv[pos].p, argv[pos].n, u->name, u->namelen);
    }
    reply_errorf(r,
                 "NOPERM ACLs rules changed between the moment the transaction was accumulated "
                 "and the EXEC call. This command is no longer allowed for the following "
                 "reason: %s",
                 why);
    return true;
}

/* ---- clients ---- */

void acl_kill_user_clients(const struct acl_user *u, struct client *except)
{
    struct client *c, *next;
    for (c = g_clients.head; c; c = next) {
        next = c->next;
        if (c == except || acl_client_user(c) != u) continue;
        c->user = NULL;
        c->authenticated = false;
        /* The running client closes through the kernel's flag, once its
         * reply is written (the adapter's hook would free it too early). */
        if (c == kernel_current())
            c->flags |= CF_CLOSE_AFTER_REPLY;
        else if (c->adapter && c->adapter->close)
            c->adapter->close(c, false);
    }
}

/* ---- ACL LOG ---- */

struct log_entry {
    long long count;
    int reason;
    char *context, *object, *username, *cinfo;
    long long id, created, updated; /* ms */
    struct log_entry *next;
};

static struct log_entry *log_head;
static long long log_len, log_next_id;

static long long log_max(void)
{
    char buf[32];
    const struct config_entry *e = config_find("acllog-max-len", 14);
    if (!e) return 128;
    config_get_text(e, buf, sizeof(buf));
    return strtoll(buf, NULL, 10);
}

static char *dupn(const char *p, size_t n)
{
    char *s = xmalloc(n + 1);
    memcpy(s, p, n);
    s[n] = 0;
    return s;
}

static void entry_free(struct log_entry *e)
{
    free(e->context);
    free(e->object);
    free(e->username);
    free(e->cinfo);
    free(e);
}

/* The entry's client-info: CLIENT LIST's line, with the protocol named
 * for a client that is not RESP (HTTP, WebSocket). */
static void client_info(struct client *c, char *buf, size_t len)
{
    size_t n = client_info_line(c, buf, len);
    if (c->adapter && c->adapter->name && strcmp(c->adapter->name, "resp") != 0)
        snprintf(buf + n, len - n, " proto=%s", c->adapter->name);
}

void acl_log_add(struct client *c, int reason, const char *ctx, const char *object, size_t olen,
                 const char *username, size_t ulen)
{
    struct log_entry *e, **pp;
    long long now = util_mstime(), max = log_max();
    char info[1024];
    /* A similar entry (same reason, context, object and user) less than
     * 60 seconds old is updated instead. */
    for (pp = &log_head; (e = *pp) != NULL; pp = &e->next) {
        if (e->reason == reason && !strcmp(e->context, ctx) && strlen(e->object) == olen &&
            !memcmp(e->object, object, olen) && strlen(e->username) == ulen &&
            !memcmp(e->username, username, ulen) && now - e->updated < 60000) {
            client_info(c, info, sizeof(info));
            free(e->cinfo);
            e->cinfo = dupn(info, strlen(info));
            e->count++;
            e->created = e->updated = now;
            /* The updated entry becomes the newest. */
            *pp = e->next;
            e->next = log_head;
            log_head = e;
            return;
        }
    }
    e = xcalloc(1, sizeof(*e));
    e->count = 1;
    e->reason = reason;
    e->context = dupn(ctx, strlen(ctx));
    e->object = dupn(object, olen);
    e->username = dupn(username, ulen);
    client_info(c, info, sizeof(info));
    e->cinfo = dupn(info, strlen(info));
    e->id = log_next_id++;
    e->created = e->updated = now;
    e->next = log_head;
    log_head = e;
    log_len++;
    /* Trim to acllog-max-len. */
    for (pp = &log_head; *pp && max > 0; pp = &(*pp)->next)
        max--;
    while (*pp) {
        e = *pp;
        *pp = e->next;
        entry_free(e);
        log_len--;
    }
}

void acl_log_reset(void)
{
    while (log_head) {
        struct log_entry *e = log_head;
        log_head = e->next;
        entry_free(e);
    }
    log_len = 0;
}

void acl_log_reply(struct reply *r, long long count)
{
    static const char *const reasons[] = {"", "command", "key", "auth", "channel"};
    struct log_entry *e;
    long long n = count < 0 || count > log_len ? log_len : count, now = util_mstime();
    reply_array(r, n);
    for (e = log_head; e && n > 0; e = e->next, n--) {
        reply_map(r, 7);
        reply_cstr(r, "count");
        reply_int(r, e->count);
        reply_cstr(r, "reason");
        reply_cstr(r, reasons[e->reason]);
        reply_cstr(r, "context");
        reply_cstr(r, e->context);
        reply_cstr(r, "object");
        reply_cstr(r, e->object);
        reply_cstr(r, "username");
        reply_cstr(r, e->username);
        reply_cstr(r, "age-seconds");
        reply_double(r, (double)(now - e->created) / 1000.0);
        reply_cstr(r, "client-info");
        reply_cstr(r, e->cinfo);
    }
}

/* CONFIG SET requirepass (a config check, registered by core_init): the
 * default user's password follows it, as Redis. */
const char *acl_requirepass_check(const char *value)
{
    if (acl_default_user()) acl_set_requirepass(value);
    return NULL;
}

struct chan_check {
    const struct acl_user *u;
    bool pattern;
};

static bool chan_ok(void *priv, const char *name, size_t len)
{
    const struct chan_check *k = priv;
    int i;
    for (i = 0; i < k->u->nsel; i++)
        if (channel_allowed(&k->u->sel[i], name, len, k->pattern)) return true;
    return false;
}

void acl_kill_pubsub_clients(const struct acl_user *u)
{
    struct client *c, *next;
    for (c = g_clients.head; c; c = next) {
        struct chan_check ck = {u, false}, pk = {u, true};
        next = c->next;
        if (c->nsubs == 0 || acl_client_user(c) != u) continue;
        if (pubsub_client_all(c, PS_CHANNEL, chan_ok, &ck) &&
            pubsub_client_all(c, PS_SHARD, chan_ok, &ck) &&
            pubsub_client_all(c, PS_PATTERN, chan_ok, &pk))
            continue;
        if (c == kernel_current())
            c->flags |= CF_CLOSE_AFTER_REPLY;
        else if (c->adapter && c->adapter->close)
            c->adapter->close(c, false);
    }
}
