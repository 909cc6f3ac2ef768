/* acl.c — the ACL user table and its rule language (Redis 7.0's): users
 * with on/off, SHA-256 password hashes, nopass, sanitize flags and
 * selectors; each selector a bitmap of allowed command ids (subcommands
 * have ids of their own; a container's rule covers its subcommands), key
 * patterns with read/write flags and channel patterns. Also the text forms
 * (ACL LIST's line, GETUSER's fields), built as Redis 7.0 does: +@all or
 * -@all, then each category that covers more allowed (or denied) commands
 * than not, then single commands and subcommands for what still differs.
 * Checks, authentication and the ACL LOG are in acl_check.c. */
#include "acl.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "util.h"

static struct acl_user *users; /* sorted by name */
static struct acl_user *default_user;
static int ncmd_ids, nwords;

/* Bytes of a command by id (for iteration in table order). */
static struct command **by_id;

/* acl-pubsub-default: whether new selectors start with allchannels. */
static bool pubsub_default_all(void)
{
    char buf[32];
    const struct config_entry *e = config_find("acl-pubsub-default", 18);
    if (!e) return false;
    config_get_text(e, buf, sizeof(buf));
    return strcmp(buf, "allchannels") == 0;
}

static void index_cmd(struct command *c)
{
    if (c->id >= ncmd_ids) {
        int n = c->id + 1;
        by_id = xrealloc(by_id, sizeof(*by_id) * (size_t)n);
        memset(by_id + ncmd_ids, 0, sizeof(*by_id) * (size_t)(n - ncmd_ids));
        ncmd_ids = n;
    }
    by_id[c->id] = c;
}

int acl_category(const char *name, size_t n)
{
    int i;
    for (i = 0; registry_acl_names[i]; i++)
        if (strlen(registry_acl_names[i]) == n && strncasecmp(registry_acl_names[i], name, n) == 0)
            return i;
    return -1;
}

void acl_hash_hex(const char *p, size_t n, char out[65])
{
    unsigned char h[32];
    static const char hex[] = "0123456789abcdef";
    int i;
    SHA256((const unsigned char *)p, n, h);
    for (i = 0; i < 32; i++) {
        out[2 * i] = hex[h[i] >> 4];
        out[2 * i + 1] = hex[h[i] & 15];
    }
    out[64] = 0;
}

/* ---- selectors ---- */

static void bit_set(struct acl_selector *s, int id, bool on)
{
    if (on)
        s->cmds[id / 64] |= 1ULL << (id % 64);
    else
        s->cmds[id / 64] &= ~(1ULL << (id % 64));
}

static bool bit_get(const struct acl_selector *s, int id)
{
    return (s->cmds[id / 64] >> (id % 64)) & 1;
}

static void sel_init(struct acl_selector *s)
{
    memset(s, 0, sizeof(*s));
    s->cmds = xcalloc((size_t)nwords, sizeof(*s->cmds));
    s->allchannels = pubsub_default_all();
}

static void sel_reset_keys(struct acl_selector *s)
{
    int i;
    for (i = 0; i < s->nkeys; i++)
        free(s->keys[i].p);
    free(s->keys);
    s->keys = NULL;
    s->nkeys = 0;
    s->allkeys = false;
}

static void sel_reset_chans(struct acl_selector *s)
{
    int i;
    for (i = 0; i < s->nchans; i++)
        free(s->chans[i]);
    free(s->chans);
    free(s->chanlen);
    s->chans = NULL;
    s->chanlen = NULL;
    s->nchans = 0;
    s->allchannels = false;
}

/* The first-argument rules of command id (or of all commands, id < 0). */
static void sel_reset_fargs(struct acl_selector *s, int id)
{
    int i, j = 0;
    for (i = 0; i < s->nfargs; i++) {
        if (id < 0 || s->fargs[i].id == id)
            free(s->fargs[i].p);
        else
            s->fargs[j++] = s->fargs[i];
    }
    s->nfargs = j;
    if (j == 0) {
        free(s->fargs);
        s->fargs = NULL;
    }
}

static void sel_add_farg(struct acl_selector *s, int id, const char *p, size_t n)
{
    int i;
    for (i = 0; i < s->nfargs; i++)
        if (s->fargs[i].id == id && s->fargs[i].n == n && strncasecmp(s->fargs[i].p, p, n) == 0)
            return;
    s->fargs = xrealloc(s->fargs, sizeof(*s->fargs) * (size_t)(s->nfargs + 1));
    s->fargs[s->nfargs].id = id;
    s->fargs[s->nfargs].p = xmalloc(n + 1);
    memcpy(s->fargs[s->nfargs].p, p, n);
    s->fargs[s->nfargs].p[n] = 0;
    s->fargs[s->nfargs++].n = n;
}

static void sel_free(struct acl_selector *s)
{
    sel_reset_fargs(s, -1);
    sel_reset_keys(s);
    sel_reset_chans(s);
    free(s->cmds);
}

static void sel_copy(struct acl_selector *d, const struct acl_selector *s)
{
    int i;
    *d = *s;
    d->cmds = xmalloc(sizeof(*d->cmds) * (size_t)nwords);
    memcpy(d->cmds, s->cmds, sizeof(*d->cmds) * (size_t)nwords);
    d->keys = s->nkeys ? xmalloc(sizeof(*d->keys) * (size_t)s->nkeys) : NULL;
    for (i = 0; i < s->nkeys; i++) {
        d->keys[i] = s->keys[i];
        d->keys[i].p = xmalloc(s->keys[i].n + 1);
        memcpy(d->keys[i].p, s->keys[i].p, s->keys[i].n + 1);
    }
    d->chans = s->nchans ? xmalloc(sizeof(*d->chans) * (size_t)s->nchans) : NULL;
    d->chanlen = s->nchans ? xmalloc(sizeof(*d->chanlen) * (size_t)s->nchans) : NULL;
    for (i = 0; i < s->nchans; i++) {
        d->chanlen[i] = s->chanlen[i];
        d->chans[i] = xmalloc(s->chanlen[i] + 1);
        memcpy(d->chans[i], s->chans[i], s->chanlen[i] + 1);
    }
    d->fargs = s->nfargs ? xmalloc(sizeof(*d->fargs) * (size_t)s->nfargs) : NULL;
    for (i = 0; i < s->nfargs; i++) {
        d->fargs[i] = s->fargs[i];
        d->fargs[i].p = xmalloc(s->fargs[i].n + 1);
        memcpy(d->fargs[i].p, s->fargs[i].p, s->fargs[i].n + 1);
    }
}

/* A command and, for a container, its subcommands; either way the
 * command's first-argument rules go (as Redis 7.0). */
static void change_perm(struct acl_selector *s, const struct command *c, bool allow)
{
    int j;
    bit_set(s, c->id, allow);
    if (s->nfargs) sel_reset_fargs(s, c->id);
    for (j = 0; j < c->nsub; j++)
        bit_set(s, c->subs[j]->id, allow);
}

static void change_category(struct acl_selector *s, int cat, bool allow)
{
    int i;
    for (i = 0; i < ncmd_ids; i++)
        if (by_id[i] && (by_id[i]->acl >> cat) & 1) {
            bit_set(s, i, allow);
            if (s->nfargs) sel_reset_fargs(s, i);
        }
}

static const char E_SYNTAX[] = "Syntax error";
static const char E_UNKNOWN[] = "Unknown command or category name in ACL";
static const char E_SUB_FIRSTARG[] = "Allowing first-arg of a subcommand is not supported";
static const char E_KEY_AFTER_ALL[] =
    "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not "
    "have any effect. Try 'resetkeys' to start with an empty list of patterns";
static const char E_CHAN_AFTER_ALL[] =
    "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not "
    "have any effect. Try 'resetchannels' to start with an empty list of channels";

/* Patterns may hold no white space (ACL LIST's text is split on it), nor
 * NUL bytes (Keel's ACL texts are C strings; Redis would keep them). */
static bool has_space(const char *p, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (p[i] == ' ' || p[i] == 0 || (p[i] >= '\t' && p[i] <= '\r')) return true;
    return false;
}

static const char *sel_add_key(struct acl_selector *s, const char *p, size_t n, int flags)
{
    int i;
    if (s->allkeys) return E_KEY_AFTER_ALL;
    if (has_space(p, n)) return E_SYNTAX;
    /* (a "*" pattern here is a pattern, not allkeys: %RW~* or %R~* then
     * %W~* read back as "~*", and a pattern may still follow, as Redis 7.0) */
    for (i = 0; i < s->nkeys; i++)
        if (s->keys[i].n == n && memcmp(s->keys[i].p, p, n) == 0) {
            s->keys[i].flags |= flags;
            return NULL;
        }
    s->keys = xrealloc(s->keys, sizeof(*s->keys) * (size_t)(s->nkeys + 1));
    s->keys[s->nkeys].p = xmalloc(n + 1);
    memcpy(s->keys[s->nkeys].p, p, n);
    s->keys[s->nkeys].p[n] = 0;
    s->keys[s->nkeys].n = n;
    s->keys[s->nkeys].flags = flags;
    acl_keypat_prepare(&s->keys[s->nkeys]);
    s->nkeys++;
    return NULL;
}

static const char *sel_add_chan(struct acl_selector *s, const char *p, size_t n)
{
    int i;
    if (s->allchannels) return E_CHAN_AFTER_ALL;
    if (has_space(p, n)) return E_SYNTAX;
    for (i = 0; i < s->nchans; i++)
        if (s->chanlen[i] == n && memcmp(s->chans[i], p, n) == 0) return NULL;
    s->chans = xrealloc(s->chans, sizeof(*s->chans) * (size_t)(s->nchans + 1));
    s->chanlen = xrealloc(s->chanlen, sizeof(*s->chanlen) * (size_t)(s->nchans + 1));
    s->chans[s->nchans] = xmalloc(n + 1);
    memcpy(s->chans[s->nchans], p, n);
    s->chans[s->nchans][n] = 0;
    s->chanlen[s->nchans++] = n;
    return NULL;
}

static bool word_is(const char *r, size_t n, const char *w)
{
    return strlen(w) == n && strncasecmp(r, w, n) == 0;
}

/* A command by its full name, "get" or "config|get" (Redis 7.0's
 * ACLLookupCommand: one level of subcommands; a '|' after a command
 * without subcommands names nothing). */
static struct command *lookup_fullname(const char *p, size_t n)
{
    const char *bar = memchr(p, '|', n);
    struct command *c;
    if (!bar) return registry_lookup(p, n);
    c = registry_lookup(p, (size_t)(bar - p));
    if (!c || !c->nsub || memchr(bar + 1, '|', n - (size_t)(bar - p) - 1)) return NULL;
    return registry_lookup_sub(c, bar + 1, n - (size_t)(bar - p) - 1);
}

/* A selector rule (commands, keys, channels). */
static const char *sel_apply(struct acl_selector *s, const char *r, size_t n)
{
    /* allkeys / ~* and allchannels / &* set their flag (again: no error),
     * only another pattern after them is refused (Redis 7.0) */
    if (word_is(r, n, "allkeys") || (n == 2 && r[0] == '~' && r[1] == '*')) {
        sel_reset_keys(s);
        s->allkeys = true;
        return NULL;
    }
    if (word_is(r, n, "resetkeys")) {
        sel_reset_keys(s);
        return NULL;
    }
    if (word_is(r, n, "allchannels") || (n == 2 && r[0] == '&' && r[1] == '*')) {
        sel_reset_chans(s);
        s->allchannels = true;
        return NULL;
    }
    if (word_is(r, n, "resetchannels")) {
        sel_reset_chans(s);
        return NULL;
    }
    if (word_is(r, n, "allcommands") || word_is(r, n, "+@all")) {
        memset(s->cmds, 0xff, sizeof(*s->cmds) * (size_t)nwords);
        s->allcommands = true;
        sel_reset_fargs(s, -1);
        return NULL;
    }
    if (word_is(r, n, "nocommands") || word_is(r, n, "-@all")) {
        memset(s->cmds, 0, sizeof(*s->cmds) * (size_t)nwords);
        s->allcommands = false;
        sel_reset_fargs(s, -1);
        return NULL;
    }
    if (n >= 1 && r[0] == '~') return sel_add_key(s, r + 1, n - 1, ACL_KEY_READ | ACL_KEY_WRITE);
    if (n >= 1 && r[0] == '%') {
        int flags = 0;
        size_t i;
        for (i = 1; i < n && r[i] != '~'; i++) {
            if ((r[i] == 'R' || r[i] == 'r') && !(flags & ACL_KEY_READ))
                flags |= ACL_KEY_READ;
            else if ((r[i] == 'W' || r[i] == 'w') && !(flags & ACL_KEY_WRITE))
                flags |= ACL_KEY_WRITE;
            else
                return E_SYNTAX;
        }
        if (i == n || flags == 0) return E_SYNTAX;
        return sel_add_key(s, r + i + 1, n - i - 1, flags);
    }
    if (n >= 1 && r[0] == '&') return sel_add_chan(s, r + 1, n - 1);
    if (n >= 1 && (r[0] == '+' || r[0] == '-')) {
        bool allow = r[0] == '+';
        const char *bar, *arg;
        struct command *c;
        /* Redis 7.0 reads command rules as C strings: up to a NUL byte. */
        n = strnlen(r, n);
        if (n >= 2 && r[1] == '@') {
            int cat = acl_category(r + 2, n - 2);
            if (cat < 0) return E_UNKNOWN;
            change_category(s, cat, allow);
            return NULL;
        }
        if (n < 2) return E_UNKNOWN;
        if (!allow || !memchr(r + 1, '|', n - 1)) {
            /* -cmd, -cmd|sub, +cmd */
            c = lookup_fullname(r + 1, n - 1);
            if (!c) return E_UNKNOWN;
            change_perm(s, c, allow);
            return NULL;
        }
        /* +cmd|sub, or +cmd|first-arg for a command without subcommands:
         * split at the last '|', as Redis 7.0. */
        bar = r + n - 1;
        while (*bar != '|')
            bar--;
        arg = bar + 1;
        c = lookup_fullname(r + 1, (size_t)(bar - r - 1));
        if (!c) return E_UNKNOWN;
        if (c->parent) return E_SUB_FIRSTARG;
        if (arg == r + n) return E_SYNTAX;
        if (c->nsub) {
            c = registry_lookup_sub(c, arg, (size_t)(r + n - arg));
            if (!c) return E_UNKNOWN;
            change_perm(s, c, true);
            return NULL;
        }
        sel_add_farg(s, c->id, arg, (size_t)(r + n - arg));
        return NULL;
    }
    return E_SYNTAX;
}

/* ---- users ---- */

struct acl_user *acl_user_new(const char *name, size_t n)
{
    struct acl_user *u = xcalloc(1, sizeof(*u));
    u->name = xmalloc(n + 1);
    memcpy(u->name, name, n);
    u->name[n] = 0;
    u->namelen = n;
    u->sel = xmalloc(sizeof(*u->sel));
    sel_init(&u->sel[0]);
    u->nsel = 1;
    return u;
}

void acl_user_free(struct acl_user *u)
{
    int i;
    if (!u) return;
    for (i = 0; i < u->nsel; i++)
        sel_free(&u->sel[i]);
    free(u->sel);
    free(u->pw);
    free(u->name);
    free(u);
}

struct acl_user *acl_user_dup(const struct acl_user *u)
{
    struct acl_user *d = xcalloc(1, sizeof(*d));
    int i;
    *d = *u;
    d->next = NULL;
    d->name = xmalloc(u->namelen + 1);
    memcpy(d->name, u->name, u->namelen + 1);
    d->pw = u->npw ? xmalloc(sizeof(*d->pw) * (size_t)u->npw) : NULL;
    if (u->npw) memcpy(d->pw, u->pw, sizeof(*d->pw) * (size_t)u->npw);
    d->sel = xmalloc(sizeof(*d->sel) * (size_t)u->nsel);
    for (i = 0; i < u->nsel; i++)
        sel_copy(&d->sel[i], &u->sel[i]);
    return d;
}

static void clear_selectors(struct acl_user *u)
{
    while (u->nsel > 1)
        sel_free(&u->sel[--u->nsel]);
}

static int unhex(char ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    return -1;
}

static bool parse_hash(const char *p, size_t n, unsigned char out[32])
{
    size_t i;
    if (n != 64) return false;
    for (i = 0; i < 32; i++) {
        int a = unhex(p[2 * i]), b = unhex(p[2 * i + 1]);
        if (a < 0 || b < 0) return false;
        out[i] = (unsigned char)(a * 16 + b);
    }
    return true;
}

static void pw_add(struct acl_user *u, const unsigned char h[32])
{
    int i;
    for (i = 0; i < u->npw; i++)
        if (memcmp(u->pw[i], h, 32) == 0) return;
    u->pw = xrealloc(u->pw, sizeof(*u->pw) * (size_t)(u->npw + 1));
    memcpy(u->pw[u->npw++], h, 32);
    u->nopass = false;
}

static bool pw_del(struct acl_user *u, const unsigned char h[32])
{
    int i;
    for (i = 0; i < u->npw; i++)
        if (memcmp(u->pw[i], h, 32) == 0) {
            memmove(&u->pw[i], &u->pw[i + 1], sizeof(*u->pw) * (size_t)(u->npw - i - 1));
            u->npw--;
            return true;
        }
    return false;
}

static const char E_HASH[] = "The password hash must be exactly 64 characters and contain only "
                             "lowercase hexadecimal characters";
static const char E_NOPW[] = "The password you are trying to remove from the user does not exist";

const char *acl_apply_rule(struct acl_user *u, const char *r, size_t n)
{
    unsigned char h[32];
    if (n == 0) return NULL; /* an empty rule does nothing, as Redis */
    if (word_is(r, n, "on")) {
        u->on = true;
        return NULL;
    }
    if (word_is(r, n, "off")) {
        u->on = false;
        return NULL;
    }
    if (word_is(r, n, "skip-sanitize-payload")) {
        u->sanitize = 2;
        return NULL;
    }
    if (word_is(r, n, "sanitize-payload")) {
        u->sanitize = 1;
        return NULL;
    }
    if (word_is(r, n, "nopass")) {
        u->nopass = true;
        u->npw = 0;
        return NULL;
    }
    if (word_is(r, n, "resetpass")) {
        u->nopass = false;
        u->npw = 0;
        return NULL;
    }
    if (word_is(r, n, "clearselectors")) {
        clear_selectors(u);
        return NULL;
    }
    if (word_is(r, n, "reset")) {
        u->nopass = false;
        u->npw = 0;
        u->on = false;
        u->sanitize = 1;
        clear_selectors(u);
        sel_reset_keys(&u->sel[0]);
        sel_reset_chans(&u->sel[0]);
        sel_reset_fargs(&u->sel[0], -1);
        u->sel[0].allchannels = pubsub_default_all();
        memset(u->sel[0].cmds, 0, sizeof(*u->sel[0].cmds) * (size_t)nwords);
        u->sel[0].allcommands = false;
        return NULL;
    }
    if (n >= 1 && (r[0] == '>' || r[0] == '<')) {
        char hex[65];
        acl_hash_hex(r + 1, n - 1, hex);
        parse_hash(hex, 64, h);
        if (r[0] == '>') {
            pw_add(u, h);
            return NULL;
        }
        return pw_del(u, h) ? NULL : E_NOPW;
    }
    if (n >= 1 && (r[0] == '#' || r[0] == '!')) {
        if (!parse_hash(r + 1, n - 1, h)) return E_HASH;
        if (r[0] == '#') {
            pw_add(u, h);
            return NULL;
        }
        return pw_del(u, h) ? NULL : E_NOPW;
    }
    if (n >= 2 && r[0] == '(' && r[n - 1] == ')') {
        struct acl_selector s;
        char **w = NULL;
        size_t *wl = NULL;
        /* its rules split as Redis does (sdssplitargs: quotes allowed); a
         * text that does not split (unbalanced quotes) is no rule at all:
         * an empty selector, as Redis 7.0's */
        int nw = util_split_args(r + 1, n - 2, &w, &wl), k;
        sel_init(&s);
        for (k = 0; k < nw; k++) {
            const char *err = sel_apply(&s, w[k], wl[k]);
            if (err) {
                util_free_words(w, wl, nw);
                sel_free(&s);
                return err;
            }
        }
        util_free_words(w, wl, nw < 0 ? 0 : nw);
        u->sel = xrealloc(u->sel, sizeof(*u->sel) * (size_t)(u->nsel + 1));
        u->sel[u->nsel++] = s;
        return NULL;
    }
    return sel_apply(&u->sel[0], r, n);
}

/* ---- the table ---- */

struct acl_user *acl_default_user(void)
{
    return default_user;
}

struct acl_user *acl_first(void)
{
    return users;
}

struct acl_user *acl_find(const char *name, size_t n)
{
    struct acl_user *u;
    for (u = users; u; u = u->next)
        if (u->namelen == n && memcmp(u->name, name, n) == 0) return u;
    return NULL;
}

static int name_cmp(const struct acl_user *a, const char *name, size_t n)
{
    size_t m = a->namelen < n ? a->namelen : n;
    int c = memcmp(a->name, name, m);
    if (c) return c;
    return a->namelen < n ? -1 : a->namelen > n;
}

/* Insert u in name order (u's name must be new). */
static void table_insert(struct acl_user *u)
{
    struct acl_user **pp = &users;
    while (*pp && name_cmp(*pp, u->name, u->namelen) < 0)
        pp = &(*pp)->next;
    u->next = *pp;
    *pp = u;
}

/* Replace old (in the table) by nu, keeping the same place. */
static void table_replace(struct acl_user *old, struct acl_user *nu);

static struct acl_user *make_default(void)
{
    struct acl_user *u = acl_user_new("default", 7);
    acl_apply_rule(u, "on", 2);
    acl_apply_rule(u, "nopass", 6);
    acl_apply_rule(u, "~*", 2);
    acl_apply_rule(u, "&*", 2);
    acl_apply_rule(u, "+@all", 5);
    return u;
}

void acl_init(void)
{
    int i, j;
    for (i = 0; registry_commands[i]; i++) {
        index_cmd(registry_commands[i]);
        for (j = 0; j < registry_commands[i]->nsub; j++)
            index_cmd(registry_commands[i]->subs[j]);
    }
    nwords = (ncmd_ids + 63) / 64 + 1;
    acl_check_init();
    default_user = make_default();
    table_insert(default_user);
    if (g_config.requirepass && g_config.requirepass[0]) acl_set_requirepass(g_config.requirepass);
    acl_load_startup();
}

/* The users of the configuration: `user` lines, or the aclfile (not
 * both, as Redis). A bad line stops the server. */
void acl_load_startup(void)
{
    char file[1024], err[1400];
    const struct config_entry *e = config_find("aclfile", 7);
    int i;
    file[0] = 0;
    if (e) config_get_text(e, file, sizeof(file));
    if (file[0] && g_config_nusers > 0) {
        fprintf(stderr, "keel: Configuring Redis with users defined in redis.conf and at the same "
                        "setting an ACL file path is invalid. This setup is very likely to lead to "
                        "configuration errors and security holes, please define either an ACL file "
                        "or declare users directly in your redis.conf, but not both.\n");
        exit(1);
    }
    for (i = 0; i < g_config_nusers; i++) {
        struct acl_user *u;
        const char *why = acl_parse_user_line(g_config_users[i], &u);
        if (why) {
            fprintf(stderr, "keel: Error in user declaration '%s': %s\n", g_config_users[i], why);
            exit(1);
        }
        if (u->namelen == 7 && !memcmp(u->name, "default", 7)) {
            /* The default user is replaced in place (clients point at it). */
            struct acl_user tmp = *default_user, *next = default_user->next;
            *default_user = *u;
            default_user->next = next;
            tmp.next = NULL;
            *u = tmp;
            acl_user_free(u);
        } else if (acl_find(u->name, u->namelen)) {
            fprintf(stderr, "keel: Duplicate user '%s' in the configuration\n", u->name);
            exit(1);
        } else {
            table_insert(u);
        }
    }
    if (file[0] && acl_load_file(file, err, sizeof(err))) {
        fprintf(stderr, "keel: %s\n", err);
        exit(1);
    }
}

void acl_set_requirepass(const char *pw)
{
    acl_apply_rule(default_user, "resetpass", 9);
    if (pw && pw[0]) {
        size_t n = strlen(pw);
        char *r = xmalloc(n + 2);
        r[0] = '>';
        memcpy(r + 1, pw, n + 1);
        acl_apply_rule(default_user, r, n + 1);
        free(r);
    } else {
        acl_apply_rule(default_user, "nopass", 6);
    }
}

static void table_replace(struct acl_user *old, struct acl_user *nu)
{
    struct acl_user **pp = &users;
    while (*pp != old)
        pp = &(*pp)->next;
    nu->next = old->next;
    *pp = nu;
    if (old == default_user) default_user = nu;
}

/* Apply SETUSER's words to u in order: words from one starting with '('
 * to one ending with ')' form one selector rule, as Redis joins them. On
 * error, err gets SETUSER's text, *why the bare reason; u is then half
 * changed (the caller works on a copy). */
static bool apply_rules(struct acl_user *u, int nrules, const char *const *rules,
                        const size_t *rlens, char *err, size_t errlen, const char **why)
{
    int i, j;
    /* Redis groups every selector before it applies any rule: an unmatched
     * '(' is reported before an earlier bad rule. */
    for (i = 0; i < nrules; i = j + 1) {
        j = i;
        if (rlens[i] > 0 && rules[i][0] == '(' && rules[i][rlens[i] - 1] != ')') {
            for (j = i + 1; j < nrules && !(rlens[j] > 0 && rules[j][rlens[j] - 1] == ')'); j++)
                ;
            if (j == nrules) break; /* unmatched: i names it */
        }
    }
    if (i < nrules) {
        size_t k;
        snprintf(err, errlen, "ERR Unmatched parenthesis in acl selector starting at '%.*s'.",
                 (int)rlens[i], rules[i]);
        for (k = 0; err[k]; k++)
            if (err[k] == '\r' || err[k] == '\n') err[k] = ' ';
        if (why) *why = "Unmatched parenthesis in acl selector";
        return false;
    }
    for (i = 0; i < nrules; i++) {
        const char *e, *r = rules[i];
        size_t n = rlens[i];
        char *joined = NULL;
        /* Words from one starting with '(' to one ending with ')' form one
         * selector rule, as Redis joins them. */
        if (n > 0 && r[0] == '(' && r[n - 1] != ')') { /* matched: checked above */
            size_t tot = n, o;
            j = i + 1;
            while (j < nrules && !(rlens[j] > 0 && rules[j][rlens[j] - 1] == ')'))
                tot += rlens[j++] + 1;
            tot += rlens[j] + 1;
            joined = xmalloc(tot + 1);
            memcpy(joined, r, n);
            o = n;
            for (i = i + 1; i <= j; i++) {
                joined[o++] = ' ';
                memcpy(joined + o, rules[i], rlens[i]);
                o += rlens[i];
            }
            i = j;
            r = joined;
            n = o;
        }
        e = acl_apply_rule(u, r, n);
        if (e) {
            size_t k;
            snprintf(err, errlen, "ERR Error in ACL SETUSER modifier '%.*s': %s", (int)n, r, e);
            for (k = 0; err[k]; k++) /* one line, as Redis's error replies */
                if (err[k] == '\r' || err[k] == '\n') err[k] = ' ';
            free(joined);
            if (why) *why = e;
            return false;
        }
        free(joined);
    }
    return true;
}

bool acl_setuser(const char *name, size_t nlen, int nrules, const char *const *rules,
                 const size_t *rlens, char *err, size_t errlen)
{
    struct acl_user *old = acl_find(name, nlen), *u;
    u = old ? acl_user_dup(old) : acl_user_new(name, nlen);
    if (!apply_rules(u, nrules, rules, rlens, err, errlen, NULL)) {
        acl_user_free(u);
        return false;
    }
    if (old) {
        /* Clients keep a pointer to their user: update it in place. */
        struct acl_user tmp = *old;
        struct acl_user *next = old->next;
        *old = *u;
        old->next = next;
        tmp.next = NULL;
        *u = tmp;
        acl_user_free(u);
        acl_kill_pubsub_clients(old);
    } else {
        table_insert(u);
    }
    return true;
}

bool acl_deluser(const char *name, size_t n)
{
    struct acl_user **pp = &users;
    while (*pp && !((*pp)->namelen == n && memcmp((*pp)->name, name, n) == 0))
        pp = &(*pp)->next;
    if (!*pp || *pp == default_user) return false;
    {
        struct acl_user *u = *pp;
        *pp = u->next;
        acl_kill_user_clients(u, NULL);
        acl_user_free(u);
    }
    return true;
}

void acl_replace_all(struct acl_user *list)
{
    struct acl_user *u, *next, *def = NULL;
    /* The default user keeps its struct (clients point at it). */
    for (u = list; u; u = u->next)
        if (u->namelen == 7 && memcmp(u->name, "default", 7) == 0) def = u;
    for (u = users; u; u = next) {
        next = u->next;
        if (u == default_user) continue;
        acl_kill_user_clients(u, NULL);
        acl_user_free(u);
    }
    users = NULL;
    if (def) {
        struct acl_user tmp = *default_user;
        *default_user = *def;
        *def = tmp;
        /* def (now the old default's contents, freed below) keeps its
         * place in the list: the old default's next was freed above. */
        def->next = default_user->next;
    } else {
        struct acl_user *fresh = make_default(), tmp = *default_user;
        *default_user = *fresh;
        *fresh = tmp;
        acl_user_free(fresh);
    }
    default_user->next = NULL;
    table_insert(default_user);
    for (u = list; u; u = next) {
        next = u->next;
        if (u == def) {
            def->next = NULL;
            acl_user_free(def);
            continue;
        }
        table_insert(u);
    }
    (void)table_replace;
}

/* ---- text forms ---- */

struct sb {
    char *p;
    size_t n, cap;
};

static void sb_put(struct sb *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        b->p = xrealloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

static void sb_str(struct sb *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

static char *sb_done(struct sb *b)
{
    if (!b->p) sb_put(b, "", 0);
    while (b->n && b->p[b->n - 1] == ' ')
        b->p[--b->n] = 0;
    return b->p;
}

char *acl_describe_keys(const struct acl_selector *s)
{
    struct sb b = {0};
    int i;
    if (s->allkeys) sb_str(&b, "~* ");
    for (i = 0; i < s->nkeys; i++) {
        int f = s->keys[i].flags;
        sb_str(&b, f == ACL_KEY_READ ? "%R~" : f == ACL_KEY_WRITE ? "%W~" : "~");
        sb_put(&b, s->keys[i].p, s->keys[i].n);
        sb_str(&b, " ");
    }
    return sb_done(&b);
}

char *acl_describe_channels(const struct acl_selector *s)
{
    struct sb b = {0};
    int i;
    if (s->allchannels) sb_str(&b, "&* ");
    for (i = 0; i < s->nchans; i++) {
        sb_str(&b, "&");
        sb_put(&b, s->chans[i], s->chanlen[i]);
        sb_str(&b, " ");
    }
    return sb_done(&b);
}

/* Allowed and denied commands (subcommands included) of a category. */
static void count_category(const struct acl_selector *s, int cat, long *on, long *off)
{
    int i;
    *on = *off = 0;
    for (i = 0; i < ncmd_ids; i++) {
        if (!by_id[i] || !((by_id[i]->acl >> cat) & 1)) continue;
        if (bit_get(s, i))
            (*on)++;
        else
            (*off)++;
    }
}

/* As Redis 7.0: start from +@all or -@all (whether +@all was given), then
 * greedily the category that covers more commands in the selector's state
 * than against it with the fewest exceptions (ties: the most commands),
 * each command counted once, then single commands and subcommands where
 * the result still differs. */
char *acl_describe_commands(const struct acl_selector *s)
{
    struct sb b = {0};
    struct acl_selector fake = {0}, temp = {0};
    bool additive = !s->allcommands;
    char applied[64] = {0};
    int cat, i, j;
    fake.cmds = xcalloc((size_t)nwords, sizeof(*fake.cmds));
    temp.cmds = xmalloc(sizeof(*temp.cmds) * (size_t)nwords);
    memcpy(temp.cmds, s->cmds, sizeof(*temp.cmds) * (size_t)nwords);
    if (!additive) memset(fake.cmds, 0xff, sizeof(*fake.cmds) * (size_t)nwords);
    sb_str(&b, additive ? "-@all " : "+@all ");
    for (;;) {
        int best = -1;
        long mindiff = 0, maxsame = 0;
        for (cat = 0; registry_acl_names[cat] && cat < 64; cat++) {
            long on, off, diff, same;
            if (applied[cat]) continue;
            count_category(&temp, cat, &on, &off);
            diff = additive ? off : on;
            same = additive ? on : off;
            if (same > diff &&
                (best < 0 || diff < mindiff || (diff == mindiff && same > maxsame))) {
                best = cat;
                mindiff = diff;
                maxsame = same;
            }
        }
        if (best < 0) break;
        sb_str(&b, additive ? "+@" : "-@");
        sb_str(&b, registry_acl_names[best]);
        sb_str(&b, " ");
        change_category(&fake, best, additive);
        change_category(&temp, best, !additive);
        applied[best] = 1;
    }
    for (i = 0; registry_commands[i]; i++) {
        const struct command *c = registry_commands[i];
        if (bit_get(s, c->id) != bit_get(&fake, c->id)) {
            bool on = bit_get(s, c->id);
            sb_str(&b, on ? "+" : "-");
            sb_str(&b, c->name);
            sb_str(&b, " ");
            change_perm(&fake, c, on);
        }
        for (j = 0; j < c->nsub; j++) {
            const struct command *sc = c->subs[j];
            if (bit_get(s, sc->id) != bit_get(&fake, sc->id)) {
                bool on = bit_get(s, sc->id);
                sb_str(&b, on ? "+" : "-");
                sb_str(&b, sc->fullname);
                sb_str(&b, " ");
                bit_set(&fake, sc->id, on);
            }
        }
        /* First-argument rules of a command that is not allowed whole. */
        for (j = 0; j < s->nfargs && !bit_get(s, c->id); j++) {
            if (s->fargs[j].id != c->id) continue;
            sb_str(&b, "+");
            sb_str(&b, c->name);
            sb_str(&b, "|");
            sb_put(&b, s->fargs[j].p, s->fargs[j].n);
            sb_str(&b, " ");
        }
    }
    free(fake.cmds);
    free(temp.cmds);
    return sb_done(&b);
}

char *acl_describe_selector(const struct acl_selector *s, bool root)
{
    struct sb b = {0};
    char *k = acl_describe_keys(s), *c = acl_describe_commands(s);
    int i;
    (void)root;
    if (k[0]) {
        sb_str(&b, k);
        sb_str(&b, " ");
    }
    if (s->allchannels) {
        sb_str(&b, "&* ");
    } else {
        sb_str(&b, "resetchannels ");
        for (i = 0; i < s->nchans; i++) {
            sb_str(&b, "&");
            sb_put(&b, s->chans[i], s->chanlen[i]);
            sb_str(&b, " ");
        }
    }
    sb_str(&b, c);
    free(k);
    free(c);
    return sb_done(&b);
}

char *acl_describe(const struct acl_user *u)
{
    struct sb b = {0};
    char hex[65];
    int i, j;
    sb_str(&b, u->on ? "on " : "off ");
    if (u->nopass) sb_str(&b, "nopass ");
    if (u->sanitize == 1) sb_str(&b, "sanitize-payload ");
    if (u->sanitize == 2) sb_str(&b, "skip-sanitize-payload ");
    for (i = 0; i < u->npw; i++) {
        static const char hx[] = "0123456789abcdef";
        for (j = 0; j < 32; j++) {
            hex[2 * j] = hx[u->pw[i][j] >> 4];
            hex[2 * j + 1] = hx[u->pw[i][j] & 15];
        }
        hex[64] = 0;
        sb_str(&b, "#");
        sb_str(&b, hex);
        sb_str(&b, " ");
    }
    for (i = 0; i < u->nsel; i++) {
        char *s = acl_describe_selector(&u->sel[i], i == 0);
        if (i) sb_str(&b, "(");
        sb_str(&b, s);
        sb_str(&b, i ? ") " : " ");
        free(s);
    }
    return sb_done(&b);
}

/* "user <name> rule..." (an ACL file line or a `user` config value). */
const char *acl_parse_user_line(char *line, struct acl_user **out)
{
    size_t len = strlen(line), n = 0;
    const char **w = xmalloc(sizeof(*w) * (len / 2 + 2)), *why = NULL;
    size_t *wl = xmalloc(sizeof(*wl) * (len / 2 + 2));
    char err[512];
    char *p = line;
    struct acl_user *u = NULL;
    *out = NULL;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
            p++;
        if (!*p) break;
        w[n] = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
            p++;
        wl[n] = (size_t)(p - w[n]);
        n++;
    }
    if (n < 2 || !word_is(w[0], wl[0], "user")) {
        why = "should start with user keyword";
    } else {
        u = acl_user_new(w[1], wl[1]);
        if (!apply_rules(u, (int)n - 2, w + 2, wl + 2, err, sizeof(err), &why)) {
            acl_user_free(u);
            u = NULL;
        }
    }
    free(w);
    free(wl);
    if (!u) return why;
    *out = u;
    return NULL;
}
