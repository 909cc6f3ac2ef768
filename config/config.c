/* config.c — the configuration machinery (config.h): g_config, defaults,
 * the file and argv parsing, get/set/rewrite, over the table config_init()
 * is given (config_table.c). CONFIG command handlers live in cmd_config.c. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

struct keel_config g_config;
#define MAX_TABLES 8
static const struct config_entry *tables[MAX_TABLES]; /* config_init, config_add_table */
static int ntables;
static const struct config_entry **flat; /* every entry, table by table */
static size_t nflat;
static struct config_row *rows; /* every name: entries and their aliases */
static size_t nrows;

static bool known_name(const struct config_entry *e)
{
    size_t i;
    for (i = 0; i < nrows; i++) {
        if (!strcasecmp(rows[i].name, e->name)) return true;
        if (e->alias && !strcasecmp(rows[i].name, e->alias)) return true;
    }
    return false;
}

static void build_index(void)
{
    const struct config_entry *e;
    int t;
    free(flat);
    free(rows);
    nflat = nrows = 0;
    for (t = 0; t < ntables; t++)
        for (e = tables[t]; e->name; e++)
            nflat++;
    flat = xmalloc(sizeof(*flat) * (nflat + 1));
    rows = xmalloc(sizeof(*rows) * (nflat * 2 + 1));
    nflat = 0;
    for (t = 0; t < ntables; t++) {
        for (e = tables[t]; e->name; e++) {
            /* A name an earlier table has already is that table's: a later
             * table's entry for it (a stored-only one another module now
             * implements) is left out. */
            if (t > 0 && known_name(e)) continue;
            flat[nflat++] = e;
            rows[nrows].e = e;
            rows[nrows++].name = e->name;
            if (e->alias) {
                rows[nrows].e = e;
                rows[nrows++].name = e->alias;
            }
        }
    }
}

void config_init(const struct config_entry *t)
{
    tables[0] = t;
    ntables = 1;
    build_index();
}

void config_add_table(const struct config_entry *t)
{
    if (ntables == MAX_TABLES) abort(); /* a table silently left out would lose its entries */
    tables[ntables++] = t;
    build_index();
}

size_t config_count(void)
{
    return nflat;
}

const struct config_entry *config_at(size_t i)
{
    return i < nflat ? flat[i] : NULL;
}

size_t config_index(const struct config_entry *e)
{
    size_t i;
    for (i = 0; i < nflat; i++)
        if (flat[i] == e) return i;
    return nflat;
}

size_t config_rows(const struct config_row **out)
{
    *out = rows;
    return nrows;
}

const struct config_row *config_find_row(const char *name, size_t len)
{
    size_t i;
    for (i = 0; i < nrows; i++)
        if (util_eqci(name, len, rows[i].name)) return &rows[i];
    return NULL;
}

static const struct config_flag *flag_lists[MAX_TABLES]; /* config_add_flags */
static int nflag_lists;

void config_add_flags(const struct config_flag *list)
{
    if (nflag_lists < MAX_TABLES) flag_lists[nflag_lists++] = list;
}

unsigned config_flags(const struct config_entry *e)
{
    const struct config_flag *f;
    int i;
    for (i = 0; i < nflag_lists; i++)
        for (f = flag_lists[i]; f->name; f++)
            if (strcmp(f->name, e->name) == 0) return f->flags;
    return 0;
}

char *g_config_file;
char **g_config_users;
int g_config_nusers;

const struct config_entry *config_find(const char *name, size_t len)
{
    const struct config_row *r = config_find_row(name, len);
    return r ? r->e : NULL;
}

/* Redis's memtoull: digits with an optional b/k/kb/m/mb/g/gb unit (any
 * case). As Redis, "" and a bare unit are 0, and the product is not checked
 * for overflow (it wraps); a sign is refused. */
bool config_parse_memory(const char *v, unsigned long long *out)
{
    char buf[128], *end;
    unsigned long long mul, n;
    const char *u = v;
    size_t digits;
    if (*u == '-') return false;
    while (*u && isdigit((unsigned char)*u))
        u++;
    if (*u == 0 || !strcasecmp(u, "b"))
        mul = 1;
    else if (!strcasecmp(u, "k"))
        mul = 1000;
    else if (!strcasecmp(u, "kb"))
        mul = 1024;
    else if (!strcasecmp(u, "m"))
        mul = 1000 * 1000;
    else if (!strcasecmp(u, "mb"))
        mul = 1024 * 1024;
    else if (!strcasecmp(u, "g"))
        mul = 1000ULL * 1000 * 1000;
    else if (!strcasecmp(u, "gb"))
        mul = 1024ULL * 1024 * 1024;
    else
        return false;
    digits = (size_t)(u - v);
    if (digits >= sizeof(buf)) return false;
    memcpy(buf, v, digits);
    buf[digits] = 0;
    errno = 0;
    n = strtoull(buf, &end, 10);
    if ((n == 0 && errno == EINVAL) || *end != 0) return false;
    *out = n * mul;
    return true;
}

/* Checks the adapters register for their entries (server/main.c wires them
 * before the config is read): the config table knows no adapter. */
#define MAX_CHECKS 16
static struct {
    const char *name;
    config_check_fn fn;
} checks[MAX_CHECKS];
static int nchecks;

void config_register_check(const char *name, config_check_fn fn)
{
    if (nchecks < MAX_CHECKS) {
        checks[nchecks].name = name;
        checks[nchecks].fn = fn;
        nchecks++;
    }
}

const char *config_run_checks(const struct config_entry *e, const char *v)
{
    int i;
    for (i = 0; i < nchecks; i++) {
        if (strcmp(checks[i].name, e->name) == 0) {
            const char *err = checks[i].fn(v);
            if (err) return err;
        }
    }
    return NULL;
}

#define MAX_COMMITS 4
static config_commit_fn commits[MAX_COMMITS];
static int ncommits;

void config_register_commit(config_commit_fn fn)
{
    if (ncommits < MAX_COMMITS) commits[ncommits++] = fn;
}

const char *config_commit(const char **name)
{
    int i;
    for (i = 0; i < ncommits; i++) {
        const char *err = commits[i](name);
        if (err) return err;
    }
    return NULL;
}

unsigned long g_config_version; /* bumped by every set: caches of parsed values compare it */

static const char *set_entry(const struct config_entry *e, const char *v)
{
    g_config_version++;
    static char err[512];
    long long n;
    switch (e->type) {
    case CT_BOOL:
        if (!strcasecmp(v, "yes"))
            *(int *)e->ptr = 1;
        else if (!strcasecmp(v, "no"))
            *(int *)e->ptr = 0;
        else
            return "argument must be 'yes' or 'no'";
        return e->set ? e->set(e, v) : NULL;
    case CT_INT:
    case CT_LL:
        if (!util_str2ll(v, strlen(v), &n)) return "argument couldn't be parsed into an integer";
        if (n < e->min || n > e->max) {
            snprintf(err, sizeof(err), "argument must be between %lld and %lld inclusive", e->min,
                     e->max);
            return err;
        }
        if (e->type == CT_INT)
            *(int *)e->ptr = n > INT_MAX ? INT_MAX : (int)n;
        else
            *(long long *)e->ptr = n;
        return e->set ? e->set(e, v) : NULL;
    case CT_MEMORY: {
        unsigned long long u;
        if (!config_parse_memory(v, &u)) return "argument must be a memory value";
        /* Redis's signed memory configs see the wrapped product as negative. */
        n = u > (unsigned long long)LLONG_MAX
                ? (long long)(u - (unsigned long long)LLONG_MAX - 1) + LLONG_MIN
                : (long long)u;
        if (n < e->min || n > e->max) {
            snprintf(err, sizeof(err), "argument must be between %lld and %lld inclusive", e->min,
                     e->max);
            return err;
        }
        *(long long *)e->ptr = n;
        return e->set ? e->set(e, v) : NULL;
    }
    case CT_STRING: {
        char **p = e->ptr;
        free(*p);
        *p = xstrdup(v);
        return e->set ? e->set(e, v) : NULL;
    }
    case CT_ENUM: {
        int i;
        size_t off = 0;
        for (i = 0; e->enum_names[i]; i++) {
            if (!strcasecmp(v, e->enum_names[i])) {
                *(int *)e->ptr = i;
                return e->set ? e->set(e, v) : NULL;
            }
        }
        off = (size_t)snprintf(err, sizeof(err), "argument(s) must be one of the following: ");
        for (i = 0; e->enum_names[i] && off < sizeof(err); i++)
            off += (size_t)snprintf(err + off, sizeof(err) - off, "%s%s", i ? ", " : "",
                                    e->enum_names[i]);
        return err;
    }
    case CT_SPECIAL:
        return e->set ? e->set(e, v) : "unsupported";
    }
    return "unsupported";
}

const char *config_set(const char *name, const char *value, bool startup)
{
    const struct config_entry *e = config_find(name, strlen(name));
    if (!e) return "Unknown option";
    if (!startup && !e->mutable_) return "can't set immutable config";
    return set_entry(e, value);
}

size_t config_get_text(const struct config_entry *e, char *buf, size_t len)
{
    int n = 0;
    switch (e->type) {
    case CT_BOOL:
        n = snprintf(buf, len, "%s", *(int *)e->ptr ? "yes" : "no");
        break;
    case CT_INT:
        n = snprintf(buf, len, "%d", *(int *)e->ptr);
        break;
    case CT_LL:
    case CT_MEMORY:
        n = snprintf(buf, len, "%lld", *(long long *)e->ptr);
        break;
    case CT_STRING: {
        char *s = *(char **)e->ptr;
        n = snprintf(buf, len, "%s", s ? s : "");
        break;
    }
    case CT_ENUM:
        n = snprintf(buf, len, "%s", e->enum_names[*(int *)e->ptr]);
        break;
    case CT_SPECIAL: {
        char *s = e->ptr ? *(char **)e->ptr : NULL;
        n = snprintf(buf, len, "%s", s ? s : "");
        break;
    }
    }
    if (n < 0) n = 0;
    if ((size_t)n >= len) n = (int)len - 1;
    return (size_t)n;
}

static bool apply_words(char **w, size_t *wl, int n, const char *where, int lineno)
{
    const struct config_entry *e;
    const char *err;
    char *joined;
    size_t total = 0, off = 0;
    int i;
    if (n == 0) return true;
    /* `user <name> <rule> ...`: ACL users, kept for core/acl (acl_init). */
    if (wl[0] == 4 && strncasecmp(w[0], "user", 4) == 0 && n >= 2) {
        size_t tot = 0, o = 0;
        char *line;
        for (i = 0; i < n; i++)
            tot += wl[i] + 1;
        line = xmalloc(tot + 1);
        for (i = 0; i < n; i++) {
            if (i) line[o++] = ' ';
            memcpy(line + o, w[i], wl[i]);
            o += wl[i];
        }
        line[o] = 0;
        g_config_users = xrealloc(g_config_users, sizeof(char *) * (size_t)(g_config_nusers + 1));
        g_config_users[g_config_nusers++] = line;
        return true;
    }
    e = config_find(w[0], wl[0]);
    if (!e) {
        fprintf(stderr, "keel: %s:%d: unknown option '%s'\n", where, lineno, w[0]);
        return false;
    }
    /* Multi-word values (bind, save) are joined by spaces; an empty word
     * among others adds nothing (the joined text could not say it: CONFIG
     * REWRITE would lose it). */
    for (i = 1; i < n; i++)
        total += wl[i] + 1;
    joined = xmalloc(total + 1);
    for (i = 1; i < n; i++) {
        if (wl[i] == 0 && n > 2) continue;
        if (off > 0) joined[off++] = ' ';
        memcpy(joined + off, w[i], wl[i]);
        off += wl[i];
    }
    joined[off] = 0;
    err = set_entry(e, joined);
    if (err) fprintf(stderr, "keel: %s:%d: '%s': %s\n", where, lineno, w[0], err);
    free(joined);
    return err == NULL;
}

static bool load_file(const char *path);

/* include path: every file the glob names, in alphabetical order (a
 * pattern that matches nothing is skipped; a plain missing path is an
 * error), as Redis reads includes; at most 16 deep. */
static bool load_include(const char *pattern, const char *where, int lineno)
{
    static int depth;
    glob_t g;
    size_t i;
    bool ok = true;
    int rc;
    if (depth >= 16) {
        fprintf(stderr, "keel: %s:%d: includes nested too deep\n", where, lineno);
        return false;
    }
    rc = glob(pattern, 0, NULL, &g);
    if (rc == GLOB_NOMATCH) {
        if (strpbrk(pattern, "*?[")) return true;
        fprintf(stderr, "keel: %s:%d: cannot open included file '%s'\n", where, lineno, pattern);
        return false;
    }
    if (rc != 0) {
        fprintf(stderr, "keel: %s:%d: bad include '%s'\n", where, lineno, pattern);
        return false;
    }
    depth++;
    for (i = 0; i < g.gl_pathc && ok; i++)
        ok = load_file(g.gl_pathv[i]);
    depth--;
    globfree(&g);
    return ok;
}

static config_json_loader_fn json_loader;
static bool file_is_json;

void config_register_json_loader(config_json_loader_fn fn)
{
    json_loader = fn;
}

static bool load_file(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[65536];
    int lineno = 0, ch;
    bool ok = true;
    if (!f) {
        fprintf(stderr, "keel: cannot open config file '%s'\n", path);
        return false;
    }
    while ((ch = fgetc(f)) != EOF && isspace(ch))
        ;
    if (ch == '{' && json_loader) {
        fclose(f);
        file_is_json = true;
        return json_loader(path);
    }
    rewind(f);
    while (fgets(line, sizeof(line), f)) {
        char **w;
        size_t *wl;
        int n;
        char *p = line;
        lineno++;
        while (isspace((unsigned char)*p))
            p++;
        if (*p == '#' || *p == 0) continue;
        n = util_split_args(p, strlen(p), &w, &wl);
        if (n < 0) {
            fprintf(stderr, "keel: %s:%d: unbalanced quotes\n", path, lineno);
            ok = false;
            break;
        }
        if (n == 2 && util_eqci(w[0], wl[0], "include")) {
            if (!load_include(w[1], path, lineno)) ok = false;
        } else if (!apply_words(w, wl, n, path, lineno)) {
            ok = false;
        }
        util_free_words(w, wl, n);
        if (!ok) break;
    }
    fclose(f);
    return ok;
}

bool config_load(int argc, char **argv)
{
    const struct config_entry *e;
    int i = 1;
    size_t k;
    for (k = 0; k < nflat; k++) {
        e = flat[k];
        /* a value of an earlier load is freed by its setter */
        if (set_entry(e, e->deflt)) {
            fprintf(stderr, "keel: bad default for %s\n", e->name);
            return false;
        }
    }
    if (i < argc && strncmp(argv[i], "--", 2) != 0) {
        char *abs = realpath(argv[i], NULL);
        if (!abs) {
            fprintf(stderr, "keel: cannot open config file '%s'\n", argv[i]);
            return false;
        }
        free(g_config_file);
        g_config_file = abs;
        if (!load_file(abs)) return false;
        i++;
    }
    while (i < argc) {
        char *words[64];
        size_t lens[64];
        int n = 0;
        if (strncmp(argv[i], "--", 2) != 0 || argv[i][2] == 0) {
            fprintf(stderr, "keel: unexpected argument '%s' (options are --name value)\n", argv[i]);
            return false;
        }
        words[n] = argv[i] + 2;
        lens[n] = strlen(words[n]);
        n++;
        i++;
        while (i < argc && strncmp(argv[i], "--", 2) != 0 && n < 64) {
            words[n] = argv[i];
            lens[n] = strlen(argv[i]);
            n++;
            i++;
        }
        if (n == 1) { /* "--save" with no value means empty */
            words[n] = "";
            lens[n] = 0;
            n++;
        }
        if (!apply_words(words, lens, n, "command line", 0)) return false;
    }
    return true;
}

static void quote_value(FILE *f, const char *v)
{
    const char *p;
    bool plain = *v != 0;
    for (p = v; *p; p++)
        if (isspace((unsigned char)*p) || *p == '"' || *p == '\'' || *p == '\\' ||
            !isprint((unsigned char)*p))
            plain = false;
    if (plain) {
        fputs(v, f);
        return;
    }
    fputc('"', f);
    for (p = v; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (isprint((unsigned char)*p))
            fputc(*p, f);
        else
            fprintf(f, "\\x%02x", (unsigned char)*p);
    }
    fputc('"', f);
}

/* Values written as several words, as Redis writes them (a redis-server
 * reading the file takes them as separate arguments). */
/* A multi-word value: each word as quote_value writes it (a word with a
 * quote, a backslash or an unprintable byte reads back the same), "" for
 * none. */
static void quote_words(FILE *f, char *v)
{
    char *w = v, *sp;
    if (*v == 0) {
        fputs("\"\"", f);
        return;
    }
    for (;;) {
        sp = strchr(w, ' ');
        if (sp) *sp = 0;
        if (*w) quote_value(f, w);
        if (!sp) break;
        *sp = ' ';
        w = sp + 1;
        if (*w) fputc(' ', f);
    }
}

static bool words_value(const struct config_entry *e)
{
    static const char *const names[] = {"bind", "save", "replicaof", "oom-score-adj-values", NULL};
    int i;
    for (i = 0; names[i]; i++)
        if (!strcmp(e->name, names[i])) return true;
    return false;
}

/* A line kept as it is; a last line without its newline gets one, so
 * that what is appended after it starts a line of its own. */
static void keep_line(const char *line, FILE *out)
{
    size_t n = strlen(line);
    fputs(line, out);
    if (n == 0 || line[n - 1] != '\n') fputc('\n', out);
}

const char *config_rewrite(void)
{
    /* Keep every line of the file; replace the first line of each known
     * option by its current value, drop its later duplicates, and append
     * options that differ from their defaults and were not in the file. */
    static char err[512];
    FILE *in, *out;
    char tmp[PATH_MAX + 16], line[65536];
    bool *seen;
    if (file_is_json)
        return "ERR The server is running from a webdis.json file: CONFIG REWRITE cannot write it";
    const struct config_entry *e;
    size_t nent = nflat, k;
    if (!g_config_file) return "The server is running without a config file";
    seen = xcalloc(nent, sizeof(bool));
    in = fopen(g_config_file, "r");
    snprintf(tmp, sizeof(tmp), "%s.tmp-%d", g_config_file, (int)getpid());
    out = fopen(tmp, "w");
    if (!out) {
        snprintf(err, sizeof(err), "Rewriting config file: %s", strerror(errno));
        if (in) fclose(in);
        free(seen);
        return err;
    }
    while (in && fgets(line, sizeof(line), in)) {
        char *p = line, name[128];
        size_t k = 0;
        while (isspace((unsigned char)*p))
            p++;
        if (*p == '#' || *p == 0) {
            keep_line(line, out);
            continue;
        }
        while (p[k] && !isspace((unsigned char)p[k]) && k < sizeof(name) - 1) {
            name[k] = p[k];
            k++;
        }
        name[k] = 0;
        e = config_find(name, k);
        if (!e) {
            keep_line(line, out);
            continue;
        }
        if (!seen[config_index(e)]) {
            char v[4096];
            config_get_text(e, v, sizeof(v));
            fprintf(out, "%s ", e->name);
            if (words_value(e))
                quote_words(out, v);
            else
                quote_value(out, v);
            fputc('\n', out);
            seen[config_index(e)] = true;
        }
    }
    for (k = 0; k < nflat; k++) {
        char v[4096];
        e = flat[k];
        if (seen[config_index(e)]) continue;
        config_get_text(e, v, sizeof(v));
        if (strcmp(v, e->deflt) == 0) continue;
        if (e->type == CT_MEMORY) {
            unsigned long long d;
            if (config_parse_memory(e->deflt, &d) && (long long)d == *(long long *)e->ptr) continue;
        }
        fprintf(out, "%s ", e->name);
        if (words_value(e))
            quote_words(out, v);
        else
            quote_value(out, v);
        fputc('\n', out);
    }
    free(seen);
    if (in) fclose(in);
    if (fflush(out) != 0 || fsync(fileno(out)) != 0 || fclose(out) != 0 ||
        rename(tmp, g_config_file) != 0) {
        snprintf(err, sizeof(err), "Rewriting config file: %s", strerror(errno));
        unlink(tmp);
        return err;
    }
    return NULL;
}
