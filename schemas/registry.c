/* registry.c — command lookup, the argument matcher and key extraction
 * from key specs (registry.h); the COMMAND INFO / COMMAND DOCS reply shapes
 * are registry_reply.c. The table itself is generated from
 * schemas/commands/<name>.json. */
#include "registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reply.h"
#include "util.h"

void registry_link_subcommands(void);

/* ---- lookup: open addressing over lower-cased names ---- */

#define LOOKUP_SIZE 1024
static struct command *lookup_table[LOOKUP_SIZE];
static int ncommands_registered;

static uint32_t name_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    size_t i;
    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 'A' && ch <= 'Z') ch = (unsigned char)(ch + 32);
        h = (h ^ ch) * 16777619u;
    }
    return h;
}

static bool name_eq(const char *name, const char *s, size_t n)
{
    return util_eqci(s, n, name);
}

static void table_add(struct command *c)
{
    uint32_t i = name_hash(c->name, strlen(c->name)) & (LOOKUP_SIZE - 1);
    while (lookup_table[i])
        i = (i + 1) & (LOOKUP_SIZE - 1);
    lookup_table[i] = c;
}

bool registry_short_way = true;

/* Flags that change only how a value converts, not which words match. */
#define AF_VALUE_ONLY (AF_DEFER_ERROR | AF_LONG_DOUBLE | AF_RANGE_MIN | AF_RANGE_MAX | AF_NONZERO)

/* plain_words: the words that, when they are all a command gets, match its
 * leading arguments one for one (registry_match_pool's short way), or 0. */
static int plain_words(const struct command *c)
{
    int j, n = 0;
    if (c->nargs == 0 || c->raw_args || c->word_counts || c->max_words || c->defer_at) return 0;
    for (j = 0; j < c->nargs; j++) {
        const struct arg_spec *a = &c->args[j];
        if (a->token || a->type == ARG_PURE_TOKEN || a->type == ARG_ONEOF || a->type == ARG_BLOCK ||
            (a->flags & ~AF_VALUE_ONLY) || a->nexcludes || a->only_words)
            break;
        n++;
    }
    for (; j < c->nargs; j++) {
        int f = c->args[j].flags;
        if (!(f & AF_OPTIONAL) || (f & (AF_NUMKEYS | AF_HALF))) return 0;
    }
    return n;
}

void registry_init(void)
{
    static bool done;
    int i, j, id = 0;
    if (done) return; /* the subcommand lists are compacted in place: once only */
    done = true;
    registry_link_subcommands();
    memset(lookup_table, 0, sizeof(lookup_table));
    ncommands_registered = 0;
    for (i = 0; registry_commands[i]; i++) {
        struct command *c = registry_commands[i];
        int live_subs = 0;
        /* Subcommands without a handler (none today: the build requires each
         * schema's function) are left out. */
        for (j = 0; j < c->nsub; j++) {
            if (c->subs[j]->fn) c->subs[live_subs++] = c->subs[j];
        }
        c->nsub = live_subs;
        if (live_subs) c->subs[live_subs] = NULL;
        if (!c->fn && c->nsub == 0) continue; /* not implemented: not registered */
        c->id = id++;
        c->plain_words = plain_words(c);
        for (j = 0; j < c->nsub; j++) {
            c->subs[j]->id = id++;
            c->subs[j]->plain_words = plain_words(c->subs[j]);
        }
        table_add(c);
        ncommands_registered++;
    }
}

int registry_count(void)
{
    return ncommands_registered;
}

struct command *registry_lookup(const char *name, size_t len)
{
    uint32_t i = name_hash(name, len) & (LOOKUP_SIZE - 1);
    while (lookup_table[i]) {
        if (name_eq(lookup_table[i]->name, name, len)) return lookup_table[i];
        i = (i + 1) & (LOOKUP_SIZE - 1);
    }
    return NULL;
}

struct command *registry_lookup_sub(struct command *parent, const char *name, size_t len)
{
    int j;
    for (j = 0; j < parent->nsub; j++)
        if (name_eq(parent->subs[j]->name, name, len)) return parent->subs[j];
    return NULL;
}

/* Print at most max bytes of a into buf, as "%.*s" would (stops at NUL). */
static int clip(char *buf, size_t cap, const struct argv_ref *a, int max)
{
    size_t n = a->n < (size_t)max ? a->n : (size_t)max;
    const char *nul = memchr(a->p, 0, n);
    if (nul) n = (size_t)(nul - a->p);
    if (n >= cap) n = cap - 1;
    memcpy(buf, a->p, n);
    buf[n] = 0;
    return (int)n;
}

/* An error line holds no line breaks (a word in it may): reply.c's
 * reply_error_line, in place on a C string. */
static void error_line(char *t)
{
    t[reply_error_line(t, strlen(t))] = 0;
}

struct command *registry_rejected;

struct command *registry_resolve(int argc, const struct argv_ref *argv, struct reply *r)
{
    struct command *base = registry_lookup(argv[0].p, argv[0].n), *c = base;
    char name[130], sub[130];

    registry_rejected = NULL;

    if (base && argc >= 2 && base->nsub > 0) c = registry_lookup_sub(base, argv[1].p, argv[1].n);
    if (!c) {
        clip(name, sizeof(name), &argv[0], 128);
        if (base) {
            size_t i;
            for (i = 0; name[i]; i++)
                if (name[i] >= 'a' && name[i] <= 'z') name[i] = (char)(name[i] - 32);
            clip(sub, sizeof(sub), &argv[1], 128);
            reply_errorf(r, "ERR unknown subcommand '%s'. Try %s HELP.", sub, name);
        } else {
            char args[512];
            size_t len = 0;
            int i;
            args[0] = 0;
            for (i = 1; i < argc && len < 128; i++) {
                char piece[130];
                clip(piece, sizeof(piece), &argv[i], 128 - (int)len);
                len += (size_t)snprintf(args + len, sizeof(args) - len, "'%s' ", piece);
            }
            reply_errorf(r, "ERR unknown command '%s', with args beginning with: %s", name, args);
        }
        return NULL;
    }
    if ((c->arity > 0 && c->arity != argc) || (argc < -c->arity)) {
        reply_errorf(r, "ERR wrong number of arguments for '%s' command", c->fullname);
        registry_rejected = c;
        return NULL;
    }
    return c;
}

/* ---- the matcher ---- */

struct mctx {
    const struct command *cmd;
    int argc;
    const struct argv_ref *argv;
    struct argval *args;
    int *pool; /* repetition lists */
    int npool, cappool;
    int pool_small[64];
    int bad;           /* argv index of the word that broke the grammar, or -1 */
    bool in_order;     /* keel_parse_in_order (or a deferred region): convert as met */
    bool replied;      /* a value error is in err: matching stops there */
    char err[320];     /* the error the match ends with */
    long long numkeys; /* the last keel_numkeys count */
    bool armed;        /* errors from here on are deferred (match_all) */
    /* A token-led oneof's keel_error (a format, %s = the word) when none of
     * its choices follows its token (CLIENT KILL TYPE foo), and that word. */
    const char *oneof_err;
    int oneof_bad;
};

static bool convert_value(struct mctx *m, const struct arg_spec *a, int pos);

/* Record the match's error (the first one wins) and stop matching. */
static void m_fail(struct mctx *m, const char *text)
{
    if (!m->replied) snprintf(m->err, sizeof(m->err), "%s", text);
    m->replied = true;
}

static bool tok_eq(const struct argv_ref *a, const char *tok)
{
    return util_eqci(a->p, a->n, tok);
}

static int min_width(const struct arg_spec *a);

static int seq_min(const struct arg_spec *s, int n)
{
    int i, w = 0;
    for (i = 0; i < n; i++)
        if (!(s[i].flags & AF_OPTIONAL)) w += min_width(&s[i]);
    return w;
}

static int min_width(const struct arg_spec *a)
{
    int w = a->token ? 1 : 0, i, m;
    switch (a->type) {
    case ARG_PURE_TOKEN:
        return 1;
    case ARG_ONEOF:
        m = 1 << 30;
        for (i = 0; i < a->nchildren; i++) {
            int cw = min_width(&a->children[i]);
            if (cw < m) m = cw;
        }
        return w + (a->nchildren ? m : 0);
    case ARG_BLOCK:
        return w + seq_min(a->children, a->nchildren);
    default:
        return w + 1;
    }
}

/* The token that introduces a, if a can only start with a token. */
static bool lead_matches(const struct arg_spec *a, const struct argv_ref *w)
{
    int i;
    if (a->token) return tok_eq(w, a->token);
    if (a->type == ARG_ONEOF) {
        for (i = 0; i < a->nchildren; i++)
            if (lead_matches(&a->children[i], w)) return true;
        return false;
    }
    if (a->type == ARG_BLOCK && a->nchildren) return lead_matches(&a->children[0], w);
    return false;
}

static bool token_led(const struct arg_spec *a)
{
    int i;
    if (a->token) return true;
    if (a->type == ARG_ONEOF) {
        for (i = 0; i < a->nchildren; i++)
            if (!token_led(&a->children[i])) return false;
        return a->nchildren > 0;
    }
    /* a block led by an optional token (XPENDING's [IDLE n] start ...) may
     * start with any word */
    if (a->type == ARG_BLOCK && a->nchildren)
        return !(a->children[0].flags & AF_OPTIONAL) && token_led(&a->children[0]);
    return false;
}

static void pool_reserve(struct mctx *m, int extra)
{
    if (m->npool + extra <= m->cappool) return;
    {
        int cap = m->cappool * 2;
        while (cap < m->npool + extra)
            cap *= 2;
        if (m->pool == m->pool_small) {
            m->pool = xmalloc(sizeof(int) * (size_t)cap);
            memcpy(m->pool, m->pool_small, sizeof(int) * (size_t)m->npool);
        } else {
            m->pool = xrealloc(m->pool, sizeof(int) * (size_t)cap);
        }
        m->cappool = cap;
    }
}

/* Append pos to v's repetition list; lists are offsets into the pool while
 * matching (it grows), and become pointers once the match is done. */
static void list_push(struct mctx *m, struct argval *v, int pos)
{
    if (v->count == 0) {
        v->listoff = m->npool;
    } else if (v->listoff + v->count != m->npool) {
        /* Another multiple appended in between: move this list to the end. */
        pool_reserve(m, v->count);
        memmove(m->pool + m->npool, m->pool + v->listoff, sizeof(int) * (size_t)v->count);
        v->listoff = m->npool;
        m->npool += v->count;
    }
    pool_reserve(m, 1);
    m->pool[m->npool++] = pos;
    v->count++;
}

static bool match_seq(struct mctx *m, const struct arg_spec *s, int n, int *i, int end, bool all);

/* Matcher state that a failed alternative of a oneof must not leave behind
 * (oneof_err stays: it is the diagnosis if every alternative fails). */
struct msave {
    struct argval args[MAX_SLOTS];
    int npool, bad;
};

static void msave(const struct mctx *m, struct msave *sv)
{
    memcpy(sv->args, m->args, sizeof(struct argval) * (size_t)m->cmd->nslots);
    sv->npool = m->npool;
    sv->bad = m->bad;
}

static void mrestore(struct mctx *m, const struct msave *sv)
{
    memcpy(m->args, sv->args, sizeof(struct argval) * (size_t)m->cmd->nslots);
    m->npool = sv->npool;
    m->bad = sv->bad;
}

static bool match_one(struct mctx *m, const struct arg_spec *a, int *i, int end);

/* One choice of a oneof; a "multiple" choice takes each repetition that
 * follows (CLIENT KILL's filters: ID 5 TYPE normal SKIPME no). */
static bool match_choice(struct mctx *m, const struct arg_spec *ch, int *i, int end)
{
    if (!match_one(m, ch, i, end)) return false;
    while ((ch->flags & AF_MULTIPLE) && *i < end) {
        if (token_led(ch) && !lead_matches(ch, &m->argv[*i])) break;
        if (!match_one(m, ch, i, end)) return false;
    }
    return true;
}

/* The oneof a at *i: first the token-led choices whose token is here, then
 * the others in schema order; a choice that fails gives way to the next one
 * (CLIENT KILL ADDR: three words are the old form's address), unless it
 * already replied a value error (keel_parse_in_order). The choices of a
 * "multiple" oneof may differ from one repetition to the next. */
static bool match_oneof(struct mctx *m, const struct arg_spec *a, int *i, int end)
{
    struct argval *v = &m->args[a->slot];
    struct msave *sv = NULL;
    int order[64], n = 0, k, t, start = *i;
    bool ok = false, armed;
    for (k = 0; k < a->nchildren && n < 64; k++)
        if (token_led(&a->children[k]) && lead_matches(&a->children[k], &m->argv[start]))
            order[n++] = k;
    for (k = 0; k < a->nchildren && n < 64; k++)
        if (!token_led(&a->children[k])) order[n++] = k;
    if (n == 0) {
        m->bad = start;
        if (a->token && a->parse_error && !m->oneof_err) {
            m->oneof_err = a->parse_error;
            m->oneof_bad = start;
        } else if (!a->token && a->parse_error) {
            /* A word no choice takes is a bad value here (BITCOUNT's BYTE |
             * BIT), reported when Redis would. */
            if (!(a->flags & AF_DEFER_ERROR)) {
                m_fail(m, a->parse_error);
                return false;
            }
            if (!v->err) v->err = a->parse_error;
            (*i)++;
            return true;
        }
        return false;
    }
    if (n > 1) { /* only then can there be something to undo */
        sv = xmalloc(sizeof(*sv));
        msave(m, sv);
    }
    /* A choice that armed keel_defer is committed: its state (the options
     * matched before its error) stays for the handler. */
    armed = m->armed;
    for (t = 0; t < n && !ok && !m->replied && m->armed == armed; t++) {
        k = order[t];
        if (v->present && v->choice != k && !(a->flags & (AF_MULTI_CHOICE | AF_MULTIPLE))) {
            m->bad = start;
            break;
        }
        if (t > 0) {
            mrestore(m, sv);
            *i = start;
        }
        if (match_choice(m, &a->children[k], i, end)) {
            v->choice = k;
            v->mask |= 1u << k;
            ok = true;
        }
    }
    free(sv);
    return ok;
}

/* Consume one occurrence of a at *i (its token included). */
static bool match_one(struct mctx *m, const struct arg_spec *a, int *i, int end)
{
    struct argval *v = &m->args[a->slot];
    int start = *i, k;
    for (k = 0; k < a->nexcludes; k++) {
        if (m->args[a->excludes[k]].present) { /* keel_excludes */
            m->bad = *i < end ? *i : -1;
            return false;
        }
    }
    if (a->only_words && m->argc != a->only_words) { /* keel_only_words */
        m->bad = *i < end ? *i : -1;
        return false;
    }
    if ((a->flags & AF_ONCE) && v->present) {
        /* keel_once: Redis's loop refuses the option the second time. */
        if (a->once_error && end - *i >= min_width(a))
            m_fail(m, a->once_error);
        else
            m->bad = *i < end ? *i : -1;
        return false;
    }
    if (a->token) {
        if (*i >= end || !tok_eq(&m->argv[*i], a->token)) {
            m->bad = *i < end ? *i : -1;
            return false;
        }
        (*i)++;
    }
    switch (a->type) {
    case ARG_PURE_TOKEN:
        if (!a->token) { /* a bare word to be matched by name */
            if (*i >= end) return false;
            (*i)++;
        }
        break;
    case ARG_ONEOF:
        if (*i >= end || !match_oneof(m, a, i, end)) return false;
        break;
    case ARG_BLOCK:
        /* keel_parse_in_order: Redis's loops count an option's words before
         * parsing any (ZRANGE's LIMIT, GEOSEARCH's BYBOX): too few is a
         * syntax error, whatever the values. */
        if (m->in_order && a->token && !(a->nchildren && (a->children[0].flags & AF_HALF)) &&
            end - *i < seq_min(a->children, a->nchildren))
            return false; /* (a keel_half block counts its words itself: XREAD's STREAMS) */
        if (!match_seq(m, a->children, a->nchildren, i, end, false)) return false;
        break;
    default:
        if (a->flags & AF_NUMKEYS_REPEAT) {
            /* keel_numkeys_repeat: the token, then exactly numkeys values;
             * a repeated token replaces them (Redis overwrites). */
            if (m->numkeys < 1 || end - *i < m->numkeys) return false;
            v->count = 0;
            for (k = 0; k < m->numkeys; k++) {
                (*i)++;
                if (m->in_order && !convert_value(m, a, *i - 1)) return false;
                list_push(m, v, *i - 1);
            }
            v->present = true;
            v->pos = start + 1;
            v->width = *i - start;
            return true;
        }
        if (*i >= end) return false;
        (*i)++;
        /* keel_parse_in_order: Redis's loop parses each value as it meets it,
         * so the first problem, structural or not, wins. */
        if (m->in_order && !convert_value(m, a, *i - 1)) return false;
        break;
    }
    v->present = true;
    v->pos = a->token && a->type != ARG_PURE_TOKEN && a->type != ARG_BLOCK && a->type != ARG_ONEOF
                 ? start + 1
                 : start;
    if (a->flags & (AF_MULTIPLE | AF_KEEP_ALL)) list_push(m, v, v->pos);
    v->width = *i - start;
    if (a->flags & AF_DEFER_FROM) m->armed = true; /* keel_defer: errors after it wait */
    return true;
}

/* A keel_numkeys count: its value (at least 1) fixes how many repetitions
 * the next "multiple" argument takes. Replies the error and returns -1. */
static long long numkeys_value(struct mctx *m, const struct arg_spec *a, int pos, int left)
{
    static const char numkeys_err[] = "ERR numkeys should be greater than 0";
    long long n;
    const struct argv_ref *w = &m->argv[pos];
    if (!util_str2ll(w->p, w->n, &n)) {
        /* keel_error, else "not an integer" where a keel_range_error names
         * the range (ZUNION), else the numkeys text. */
        m_fail(m, a->parse_error   ? a->parse_error
                  : a->range_error ? err_table[E_NOT_INT].text
                                   : numkeys_err);
        return -1;
    }
    if (n < ((a->flags & AF_RANGE_MIN) ? a->min : 1)) { /* keel_min: EVAL's 0 keys */
        m_fail(m, a->range_error ? a->range_error : a->parse_error ? a->parse_error : numkeys_err);
        return -1;
    }
    if (n > left) {
        m_fail(m, a->numkeys_error ? a->numkeys_error : err_table[E_SYNTAX].text);
        return -1;
    }
    m->args[a->slot].i = n;
    m->numkeys = n;
    return n;
}

static bool match_seq(struct mctx *m, const struct arg_spec *s, int n, int *i, int end, bool all)
{
    int j = 0;
    long long forced = -1; /* repetitions a keel_numkeys count set */
    while (j < n) {
        const struct arg_spec *a = &s[j];
        if (a->flags & AF_NUMKEYS) {
            if (!match_one(m, a, i, end)) return false;
            forced = numkeys_value(m, a, *i - 1, end - *i);
            if (forced < 0) return false;
            j++;
            continue;
        }
        if ((a->flags & AF_HALF) && forced < 0) {
            /* keel_half: the words left split evenly between this multiple
             * and the next one (XREAD's STREAMS keys and ids); an odd count
             * is the keel_error text. */
            int left = end - *i;
            if (left <= 0) {
                if (m->bad < 0) m->bad = *i;
                return false;
            }
            if (left % 2) {
                m_fail(m, a->parse_error ? a->parse_error : err_table[E_SYNTAX].text);
                return false;
            }
            forced = left / 2;
        }
        if ((a->flags & AF_MULTIPLE) && forced >= 0) {
            long long k;
            for (k = 0; k < forced; k++)
                if (!match_one(m, a, i, end)) return false;
            forced = -1;
            j++;
            continue;
        }
        if ((a->flags & AF_OPTIONAL) && token_led(a) && !(a->flags & AF_IN_PLACE)) {
            /* A run of optional token-led arguments: any order, repeats allowed. */
            int k = j, rest;
            while (k < n && (s[k].flags & AF_OPTIONAL) && token_led(&s[k]))
                k++;
            rest = seq_min(s + k, n - k);
            while (*i < end) {
                int t;
                for (t = j; t < k; t++)
                    if (lead_matches(&s[t], &m->argv[*i])) break;
                if (t == k && end - *i > rest) {
                    /* A word none of them takes, where a keel_deferred_error
                     * oneof not given yet stands: its bad value (BITCOUNT's
                     * BYTE | BIT), for the handler to report in order. */
                    for (t = j; t < k; t++)
                        if (s[t].type == ARG_ONEOF && !s[t].token && s[t].parse_error &&
                            (s[t].flags & AF_DEFER_ERROR) && !m->args[s[t].slot].present)
                            break;
                }
                if (t == k) break;
                /* keel_fit: without all its words it is not the option */
                if ((s[t].flags & AF_FIT) && end - *i < min_width(&s[t])) break;
                {
                    int tokpos = *i;
                    if ((s[t].flags & AF_MULTIPLE) && s[t].token &&
                        !(s[t].flags & (AF_MULTIPLE_TOKEN | AF_NUMKEYS_REPEAT)) &&
                        s[t].type != ARG_ONEOF && s[t].type != ARG_BLOCK && end - *i - 1 <= rest) {
                        /* Its token with no word after it: given, with no
                         * values (MIGRATE ... KEYS: no keys, +NOKEY). */
                        struct argval *v = &m->args[s[t].slot];
                        v->present = true;
                        v->pos = *i;
                        (*i)++;
                        continue;
                    }
                    if (!match_one(m, &s[t], i, end)) {
                        /* Ran out of words inside it: blame its token. */
                        if (m->bad < 0) m->bad = tokpos;
                        return false;
                    }
                    /* A token-led multiple (no multiple_token): the token
                     * once, then the words left are its values (MIGRATE's
                     * KEYS key [key ...], where Redis's loop stops). */
                    if ((s[t].flags & AF_MULTIPLE) &&
                        !(s[t].flags & (AF_MULTIPLE_TOKEN | AF_NUMKEYS_REPEAT)) &&
                        s[t].type != ARG_ONEOF && s[t].type != ARG_BLOCK) {
                        struct argval *v = &m->args[s[t].slot];
                        while (end - *i > rest) {
                            (*i)++;
                            if (m->in_order && !convert_value(m, &s[t], *i - 1)) return false;
                            list_push(m, v, *i - 1);
                        }
                    }
                }
            }
            j = k;
            continue;
        }
        if (a->flags & AF_MULTIPLE) {
            int rest = seq_min(s + j + 1, n - j - 1), reps = 0;
            while (*i < end && end - *i > rest) {
                int before = *i;
                if (a->token && !tok_eq(&m->argv[*i], a->token)) break;
                if (a->flags & AF_STOP_AT_TOKENS) {
                    /* keel_stop_at_tokens: the word leads a later option
                     * (with keel_deferred_from, those of the deferred part
                     * too: XCLAIM's ids, then its options) */
                    int t, lim = n;
                    if (s == m->cmd->args && n == m->cmd->defer_at - 1) lim = m->cmd->nargs;
                    for (t = j + 1; t < lim; t++)
                        if ((s[t].flags & AF_OPTIONAL) && lead_matches(&s[t], &m->argv[*i])) break;
                    if (t < lim) break;
                }
                if (!match_one(m, a, i, end)) {
                    if (!(a->flags & AF_OPTIONAL) || reps) return false;
                    *i = before;
                    break;
                }
                reps++;
            }
            if (reps == 0 && !(a->flags & AF_OPTIONAL)) return false;
            j++;
            continue;
        }
        if (a->flags & AF_OPTIONAL) {
            int rest = seq_min(s + j + 1, n - j - 1);
            /* (keel_in_place: only a word that leads it) */
            if (*i < end && end - *i > rest &&
                (!(a->flags & AF_IN_PLACE) || lead_matches(a, &m->argv[*i]))) {
                if (!match_one(m, a, i, end)) return false;
            }
            j++;
            continue;
        }
        if (!match_one(m, a, i, end)) return false;
        j++;
    }
    if (all && *i != end) {
        if (m->bad < 0) m->bad = *i;
        return false;
    }
    return true;
}

static bool convert(struct mctx *m, const struct arg_spec *s, int n);

/* An integer outside its keel_min / keel_max / keel_nonzero range. */
static bool out_of_range(const struct arg_spec *a, long long v)
{
    return ((a->flags & AF_RANGE_MIN) && v < a->min) || ((a->flags & AF_RANGE_MAX) && v > a->max) ||
           ((a->flags & AF_NONZERO) && v == 0);
}

static bool convert_value(struct mctx *m, const struct arg_spec *a, int pos)
{
    struct argval *v = &m->args[a->slot];
    const struct argv_ref *w = &m->argv[pos];
    const char *err = NULL;
    int k;
    switch (a->conv) {
    case ARG_INTEGER:
    case ARG_UNIX_TIME:
        if (!util_str2ll(w->p, w->n, &v->i))
            err = a->parse_error ? a->parse_error : err_table[E_NOT_INT].text;
        else if (out_of_range(a, v->i))
            err = a->range_error   ? a->range_error
                  : a->parse_error ? a->parse_error
                                   : "ERR value is out of range";
        break;
    case ARG_STRING:
        if (!a->nchoices) break;
        for (k = 0; k < a->nchoices; k++)
            if (tok_eq(w, a->choices[k])) break;
        if (k < a->nchoices) {
            v->choice = k;
        } else if (a->parse_error && strstr(a->parse_error, "%s")) {
            /* a keel_error naming the word (FUNCTION LOAD's options) */
            char word[130], text[320];
            clip(word, sizeof(word), w, 128);
            snprintf(text, sizeof(text), a->parse_error, word);
            error_line(text);
            m_fail(m, text);
            return false;
        } else {
            err = a->parse_error ? a->parse_error : err_table[E_SYNTAX].text;
        }
        break;
    case ARG_DOUBLE:
        if (a->flags & AF_LONG_DOUBLE) {
            if (!util_str2ld(w->p, w->n, &v->ld))
                err = a->parse_error ? a->parse_error : err_table[E_NOT_FLOAT].text;
            v->d = (double)v->ld;
        } else if (!util_str2d(w->p, w->n, &v->d)) {
            err = a->parse_error ? a->parse_error : err_table[E_NOT_FLOAT].text;
        }
        break;
    default:
        return true;
    }
    if (!err && a->check) /* keel_check */
        err = a->check(w, v, a->prev_slot >= 0 ? &m->args[a->prev_slot] : NULL);
    if (!err) return true;
    if (a->flags & AF_DEFER_ERROR) {
        /* The handler reports it when Redis would (after its key checks). */
        if (!v->err) v->err = err;
        return true;
    }
    m_fail(m, err);
    return false;
}

static bool convert(struct mctx *m, const struct arg_spec *s, int n)
{
    int j, k;
    for (j = 0; j < n; j++) {
        const struct arg_spec *a = &s[j];
        struct argval *v = &m->args[a->slot];
        if (!v->present) continue;
        if (a->type == ARG_ONEOF || a->type == ARG_BLOCK) {
            if (!convert(m, a->children, a->nchildren)) return false;
            continue;
        }
        if (a->flags & AF_MULTIPLE) {
            /* (the lists are still offsets into the pool) */
            for (k = 0; k < v->count; k++)
                if (!convert_value(m, a, m->pool[v->listoff + k])) return false;
            /* a multiple's scalar value is its last repetition's */
            if (v->count) convert_value(m, a, m->pool[v->listoff + v->count - 1]);
        } else if (!convert_value(m, a, v->pos)) {
            return false;
        }
    }
    return true;
}

static void match_error_as(struct mctx *m, const char *syntax_error);

/* The error a failed match ends with, in m->err. */
static void match_error(struct mctx *m)
{
    match_error_as(m, m->cmd->syntax_error);
}

/* The same with this text for a grammar mismatch (NULL: syntax error). */
static void match_error_as(struct mctx *m, const char *syntax_error)
{
    char w[130] = "";
    if (m->replied) return;
    if (m->oneof_err) {
        clip(w, sizeof(w), &m->argv[m->oneof_bad], 128);
        snprintf(m->err, sizeof(m->err), m->oneof_err, w);
    } else if (syntax_error) {
        /* The offending word, or "" when the words ran out; a text that
         * names the subcommand ({subcommand}) names it as typed, as Redis
         * (whose texts use argv[1]). */
        const char *fmt = syntax_error, *sub = strstr(fmt, "{subcommand}");
        if (m->bad >= 0) clip(w, sizeof(w), &m->argv[m->bad], 128);
        if (sub && m->argc > 1) {
            char typed[130];
            clip(typed, sizeof(typed), &m->argv[1], 128);
            snprintf(m->err, sizeof(m->err), "%.*s%s%s", (int)(sub - fmt), fmt, typed,
                     sub + strlen("{subcommand}"));
        } else {
            snprintf(m->err, sizeof(m->err), fmt, w);
        }
    } else {
        snprintf(m->err, sizeof(m->err), "%s", err_table[E_SYNTAX].text);
    }
    error_line(m->err);
    m->replied = true;
}

/* Match cmd's arguments from *i. Errors met once the match is "armed" are
 * not the match's: they are kept in mp->err for the handler's
 * arg_ok(x, A_<CMD>_deferred), which reports them where Redis parses those
 * words. keel_deferred_from arms it past the words before that top-level
 * argument (whose errors stay immediate); keel_defer arms it once its
 * argument is matched (HELLO's AUTH and SETNAME: the handler applies the
 * options matched before the error first). */
static bool match_all(struct mctx *m, struct match_pool *mp, int *i)
{
    const struct command *cmd = m->cmd;
    bool split = cmd->defer_at > 0, ok;
    int b = split ? cmd->defer_at - 1 : cmd->nargs;
    ok = match_seq(m, cmd->args, b, i, m->argc, !split);
    if (ok && !m->in_order) ok = convert(m, cmd->args, b);
    if (ok && split) {
        m->armed = true;
        m->bad = -1;
        m->oneof_err = NULL;
        ok = match_seq(m, cmd->args + b, cmd->nargs - b, i, m->argc, true);
        if (ok && !m->in_order) ok = convert(m, cmd->args + b, cmd->nargs - b);
    }
    if (!ok && m->armed) {
        match_error(m);
        memcpy(mp->err, m->err, sizeof(mp->err));
        m->args[cmd->defer_slot].err = mp->err;
        m->args[cmd->defer_slot].present = true;
        m->replied = false;
        return true;
    }
    return ok;
}

bool registry_match_pool(const struct command *cmd, int argc, const struct argv_ref *argv,
                         struct argval *args, struct reply *r, struct match_pool *mp)
{
    struct mctx m;
    int i = cmd->container ? 2 : 1, k;
    bool ok;

    mp->heap = NULL;
    memset(args, 0, sizeof(struct argval) * (size_t)cmd->nslots);
    m.cmd = cmd;
    m.argc = argc;
    m.argv = argv;
    m.args = args;
    m.pool = m.pool_small;
    m.cappool = 64;
    m.npool = 0;
    m.bad = -1;
    m.in_order = cmd->in_order;
    m.replied = false;
    m.err[0] = 0;
    m.numkeys = 0;
    m.armed = false;
    m.oneof_err = NULL;
    m.oneof_bad = -1;
    /* No declared grammar (QUIT, COMMAND GETKEYS): arity alone governs,
     * the handler sees argv as given. */
    if (cmd->nargs == 0) return true;
    /* keel_raw_arguments: Redis's own loop parses the arguments (BITFIELD's
     * operation sequence, PFMERGE's optional sources under arity -2) in a
     * way the grammar cannot state exactly; COMMAND DOCS still shows the
     * declared grammar, the handler reads argv as given. */
    if (cmd->raw_args) return true;
    /* keel_max_words: Redis counts the words before reading any (XPENDING) */
    /* keel_word_counts: the same for the counts Redis takes (XPENDING) */
    if (cmd->word_counts && (argc >= 32 || !(cmd->word_counts & (1u << argc)))) {
        m.bad = argc > 1 ? argc - 1 : -1;
        match_error(&m);
        reply_error(r, m.err);
        return false;
    }
    if (cmd->max_words && argc > cmd->max_words) {
        m.bad = cmd->max_words;
        match_error_as(&m, cmd->max_words_error ? cmd->max_words_error : cmd->syntax_error);
        reply_error(r, m.err);
        return false;
    }
    /* The short way (SET k v, GET k, INCR k): the words are the leading
     * plain arguments one for one and the rest are optional, so the walk
     * would mark each present at its word and convert it, in this order. */
    if (cmd->plain_words && argc - i == cmd->plain_words && registry_short_way) {
        for (k = 0; k < cmd->plain_words; k++) {
            const struct arg_spec *a = &cmd->args[k];
            args[a->slot].present = true;
            args[a->slot].pos = i + k;
            args[a->slot].width = 1;
            if (!convert_value(&m, a, i + k)) {
                match_error(&m);
                reply_error(r, m.err);
                return false;
            }
        }
        return true;
    }
    ok = match_all(&m, mp, &i);
    /* Hand the lists over to storage that outlives this call (converting
     * used them already: they are offsets into the pool until now). */
    {
        int *dst = mp->inl;
        if (m.npool > (int)(sizeof(mp->inl) / sizeof(int))) {
            mp->heap = xmalloc(sizeof(int) * (size_t)m.npool);
            dst = mp->heap;
        }
        memcpy(dst, m.pool, sizeof(int) * (size_t)m.npool);
        for (k = 0; k < cmd->nslots; k++)
            args[k].list = args[k].count ? dst + args[k].listoff : NULL;
    }
    if (m.pool != m.pool_small) free(m.pool);
    if (!ok) {
        match_error(&m);
        reply_error(r, m.err);
        return false;
    }
    return true;
}

void registry_match_done(struct match_pool *mp)
{
    free(mp->heap);
    mp->heap = NULL;
}

bool registry_match(const struct command *cmd, int argc, const struct argv_ref *argv,
                    struct argval *args, struct reply *r)
{
    /* Lists stay valid until the next call (tests and fuzzing). */
    static struct match_pool mp;
    registry_match_done(&mp);
    return registry_match_pool(cmd, argc, argv, args, r, &mp);
}

/* ---- keys from key specs (COMMAND GETKEYS, GETKEYSANDFLAGS) ---- */

/* Key spec flag bits, in registry_keyspec_flag_names order. */
enum {
    KSF_RO = 1 << 0,
    KSF_RW = 1 << 1,
    KSF_OW = 1 << 2,
    KSF_RM = 1 << 3,
    KSF_ACCESS = 1 << 4,
    KSF_UPDATE = 1 << 5,
    KSF_INSERT = 1 << 6,
    KSF_DELETE = 1 << 7,
    KSF_NOT_KEY = 1 << 8,
    KSF_INCOMPLETE = 1 << 9,
    KSF_VARIABLE_FLAGS = 1 << 10,
};

static void keys_add(int *pos, int *flags, int max, int *n, int at, int fl)
{
    if (*n < max) {
        pos[*n] = at;
        if (flags) flags[*n] = fl;
    }
    (*n)++;
}

/* Redis's getKeysUsingKeySpecs: -1 when a spec is invalid or incomplete
 * for this argv (the caller may then fall back to a command's own rule). */
static int keys_from_specs(const struct command *cmd, int argc, const struct argv_ref *argv,
                           int *pos, int *flags, int max)
{
    int n = 0, s;
    for (s = 0; s < cmd->nkey_specs; s++) {
        const struct key_spec *ks = &cmd->key_specs[s];
        long first = 0, last, step, i;
        if (ks->flags & KSF_NOT_KEY) continue;
        if (ks->bs_type == KS_BS_INDEX) {
            first = ks->bs_index;
        } else if (ks->bs_type == KS_BS_KEYWORD) {
            /* As Redis: the scan stops before end (argc-1 forward, 1 backward). */
            long start = ks->bs_startfrom > 0 ? ks->bs_startfrom : argc + ks->bs_startfrom;
            long end = ks->bs_startfrom > 0 ? argc - 1 : 1;
            for (i = start; i != end; i = start <= end ? i + 1 : i - 1) {
                if (i >= argc || i < 1) break;
                if (tok_eq(&argv[i], ks->bs_keyword)) {
                    first = i + 1;
                    break;
                }
            }
            if (!first) continue; /* keyword not found */
        } else {
            return -1;
        }
        if (ks->fk_type == KS_FK_RANGE) {
            step = ks->fk_keystep;
            if (ks->fk_lastkey >= 0)
                last = first + ks->fk_lastkey;
            else if (!ks->fk_limit)
                last = argc + ks->fk_lastkey;
            else
                last = first + ((argc - first) / ks->fk_limit + ks->fk_lastkey);
        } else if (ks->fk_type == KS_FK_KEYNUM) {
            long long num;
            long idx = first + ks->fk_keynumidx;
            step = ks->fk_kstep;
            if (idx >= argc || idx < 0 || !util_str2ll(argv[idx].p, argv[idx].n, &num) || num < 0)
                return -1;
            first += ks->fk_firstkey;
            last = first + (long)(int)num - 1;
        } else {
            return -1;
        }
        if (last >= argc || last < first || first >= argc) return -1;
        for (i = first; i <= last && step > 0; i += step)
            keys_add(pos, flags, max, &n, (int)i, ks->flags);
        if (ks->flags & KSF_INCOMPLETE) return -1;
    }
    return n;
}

/* Redis's genericGetKeys (atoi on the count, no key flags, as Redis): the
 * fallback of the numkeys commands when their spec does not parse. */
static int keys_generic(int store, int countidx, int firstidx, int kstep, int argc,
                        const struct argv_ref *argv, int *pos, int *flags, int max)
{
    char buf[32];
    size_t len;
    int num, i, n = 0;
    if (countidx >= argc) return 0;
    len = argv[countidx].n < sizeof(buf) - 1 ? argv[countidx].n : sizeof(buf) - 1;
    memcpy(buf, argv[countidx].p, len);
    buf[len] = 0;
    num = atoi(buf);
    if (num < 1 || num > (argc - firstidx) / kstep) return 0;
    for (i = 0; i < num; i++)
        keys_add(pos, flags, max, &n, firstidx + i * kstep, 0);
    if (store) keys_add(pos, flags, max, &n, store, 0);
    return n;
}

/* The getkeys_proc fallbacks Redis 7.0 has for commands whose specs may
 * fail (numkeys) or whose flags vary (SET): {name, store, count, first, step}. */
static const struct {
    const char *name;
    int store, count, first, step;
} generic_keys[] = {
    {"eval", 0, 2, 3, 1},        {"evalsha", 0, 2, 3, 1},     {"eval_ro", 0, 2, 3, 1},
    {"evalsha_ro", 0, 2, 3, 1},  {"fcall", 0, 2, 3, 1},       {"fcall_ro", 0, 2, 3, 1},
    {"zunionstore", 1, 2, 3, 1}, {"zinterstore", 1, 2, 3, 1}, {"zdiffstore", 1, 2, 3, 1},
    {"zunion", 0, 1, 2, 1},      {"zinter", 0, 1, 2, 1},      {"zdiff", 0, 1, 2, 1},
    {"zintercard", 0, 1, 2, 1},  {"sintercard", 0, 1, 2, 1},  {"lmpop", 0, 1, 2, 1},
    {"zmpop", 0, 1, 2, 1},       {"blmpop", 0, 2, 3, 1},      {"bzmpop", 0, 2, 3, 1},
};

int registry_getkeys_flags(const struct command *cmd, int argc, const struct argv_ref *argv,
                           int *pos, int *flags, int max)
{
    int s, all = 0, missing = 0, n;
    size_t g;
    for (s = 0; s < cmd->nkey_specs; s++) {
        all |= cmd->key_specs[s].flags;
        missing |= ~cmd->key_specs[s].flags;
    }
    if (!strcmp(cmd->fullname, "set")) {
        /* setGetKeys: the flags depend on GET. */
        int i, fl = KSF_OW | KSF_UPDATE;
        for (i = 3; i < argc; i++)
            if (tok_eq(&argv[i], "get")) fl = KSF_RW | KSF_ACCESS | KSF_UPDATE;
        n = 0;
        keys_add(pos, flags, max, &n, 1, fl);
        return n;
    }
    if (!strcmp(cmd->fullname, "sort") || !strcmp(cmd->fullname, "sort_ro")) {
        /* sortGetKeys / sortROGetKeys: the key, and SORT's last STORE
         * destination (LIMIT, GET and BY skip their arguments). */
        int i, store = 0;
        n = 0;
        keys_add(pos, flags, max, &n, 1, KSF_RO | KSF_ACCESS);
        if (!strcmp(cmd->fullname, "sort")) {
            for (i = 2; i < argc; i++) {
                if (tok_eq(&argv[i], "limit"))
                    i += 2;
                else if (tok_eq(&argv[i], "get") || tok_eq(&argv[i], "by"))
                    i += 1;
                else if (tok_eq(&argv[i], "store") && i + 1 < argc)
                    store = i + 1;
            }
        }
        if (store) keys_add(pos, flags, max, &n, store, KSF_OW | KSF_UPDATE);
        return n;
    }
    if (!strcmp(cmd->fullname, "migrate")) {
        /* migrateGetKeys: the key, or with KEYS (and "" as the key) every
         * word after it; COPY, REPLACE, AUTH and AUTH2 skip their words. */
        int i, first = 3, num = 1;
        for (i = 6; i < argc; i++) {
            if (tok_eq(&argv[i], "keys")) {
                if (argv[3].n > 0) return 0;
                first = i + 1;
                num = argc - first;
                break;
            }
            if (tok_eq(&argv[i], "auth"))
                i += 1;
            else if (tok_eq(&argv[i], "auth2"))
                i += 2;
        }
        n = 0;
        for (i = 0; i < num; i++)
            keys_add(pos, flags, max, &n, first + i, KSF_RW | KSF_ACCESS | KSF_DELETE);
        return n;
    }
    if (!strcmp(cmd->fullname, "bitfield")) {
        /* bitfieldGetKeys: read-only flags while only GET/OVERFLOW appear. */
        int i, ro = 1;
        for (i = 2; i < argc; i++) {
            int rem = argc - i - 1;
            if (tok_eq(&argv[i], "get") && rem >= 2) {
                i += 2;
            } else if ((tok_eq(&argv[i], "set") || tok_eq(&argv[i], "incrby")) && rem >= 3) {
                ro = 0;
                break;
            } else if (tok_eq(&argv[i], "overflow") && rem >= 1) {
                i += 1;
            } else {
                ro = 0; /* a syntax error: assume a write, as Redis */
                break;
            }
        }
        n = 0;
        keys_add(pos, flags, max, &n, 1,
                 ro ? KSF_RO | KSF_ACCESS : KSF_RW | KSF_ACCESS | KSF_UPDATE);
        return n;
    }
    if ((missing & KSF_NOT_KEY) && !(all & KSF_VARIABLE_FLAGS)) {
        n = keys_from_specs(cmd, argc, argv, pos, flags, max);
        if (n >= 0) return n;
    }
    for (g = 0; g < sizeof(generic_keys) / sizeof(generic_keys[0]); g++)
        if (!strcmp(cmd->fullname, generic_keys[g].name))
            return keys_generic(generic_keys[g].store, generic_keys[g].count, generic_keys[g].first,
                                generic_keys[g].step, argc, argv, pos, flags, max);
    return -1;
}

int registry_getkeys(const struct command *cmd, int argc, const struct argv_ref *argv, int *out,
                     int max)
{
    return registry_getkeys_flags(cmd, argc, argv, out, NULL, max);
}

bool registry_has_keys(const struct command *cmd)
{
    int s;
    for (s = 0; s < cmd->nkey_specs; s++)
        if (!(cmd->key_specs[s].flags & KSF_NOT_KEY)) return true;
    return false;
}
