/* cmd_config.c — CONFIG GET / SET / RESETSTAT / REWRITE / HELP over the
 * config table (config/config.h), with Redis 7.0's replies and errors:
 * GET matches globs case-insensitively, SET is atomic (every pair checked,
 * then set, rolled back when one fails). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"
#include "server.h"
#include "store.h"
#include "commands_gen.h"
#include "config.h"
#include "util.h"

/* Redis 7.0's PROTECTED_CONFIG entries (CF_PROTECTED) are refused unless
 * enable-protected-configs is yes, or local and the client is local. */
static bool protected_refused(struct client *c, const struct config_entry *e)
{
    const struct config_entry *allow;
    char v[16];
    if (!(config_flags(e) & CF_PROTECTED)) return false;
    allow = config_find("enable-protected-configs", 24);
    if (!allow) return true;
    config_get_text(allow, v, sizeof(v));
    if (!strcmp(v, "yes")) return false;
    return !(strcmp(v, "local") == 0 && kernel_client_is_local(c));
}

/* An entry's current value as a new string. */
static char *value_dup(const struct config_entry *e)
{
    char buf[128];
    if (e->type == CT_STRING || (e->type == CT_SPECIAL && e->ptr)) {
        const char *s = *(char **)e->ptr;
        return xstrdup(s ? s : "");
    }
    config_get_text(e, buf, sizeof(buf));
    return xstrdup(buf);
}

static char *arg_dup(const struct argv_ref *a)
{
    char *s = xmalloc(a->n + 1);
    memcpy(s, a->p, a->n);
    s[a->n] = 0;
    return s;
}

static bool has_glob(const struct argv_ref *a)
{
    size_t i;
    for (i = 0; i < a->n; i++)
        if (a->p[i] == '*' || a->p[i] == '?' || a->p[i] == '[') return true;
    return false;
}

/* CONFIG GET parameter [parameter ...]: as Redis 7.0, an exact name is
 * shown as given, a pattern shows every matching name that is not hidden
 * (an alias is a name of its own); a name shown once is not shown again. */
void cmd_config_get(struct exec *x)
{
    const struct argval *params = ARG(x, A_CONFIG_GET_parameter);
    const struct config_row *rows, *row;
    size_t nrows = config_rows(&rows), nmatch = 0, k;
    const struct config_row **match = xmalloc(sizeof(*match) * (nrows ? nrows : 1));
    const struct argv_ref **shown = xmalloc(sizeof(*shown) * (nrows ? nrows : 1));
    bool *seen = xcalloc(nrows ? nrows : 1, sizeof(bool));
    int p;

    for (p = 0; p < params->count; p++) {
        const struct argv_ref *a = &x->argv[params->list[p]];
        if (!has_glob(a)) {
            row = config_find_row(a->p, a->n);
            if (row && !seen[row - rows]) {
                seen[row - rows] = true;
                match[nmatch] = row;
                shown[nmatch++] = a;
            }
            continue;
        }
        for (k = 0; k < nrows; k++) {
            row = &rows[k];
            if (seen[k] || (config_flags(row->e) & CF_HIDDEN)) continue;
            if (util_glob(a->p, a->n, row->name, strlen(row->name), true)) {
                seen[k] = true;
                match[nmatch] = row;
                shown[nmatch++] = NULL;
            }
        }
    }
    reply_map(x->r, (long long)nmatch);
    for (k = 0; k < nmatch; k++) {
        char *v = value_dup(match[k]->e);
        if (shown[k])
            reply_bulk(x->r, shown[k]->p, shown[k]->n);
        else
            reply_cstr(x->r, match[k]->name);
        reply_cstr(x->r, v);
        free(v);
    }
    free(match);
    free(shown);
    free(seen);
}

/* CONFIG SET parameter value [parameter value ...]: every name checked
 * first (unknown, immutable, protected, given twice: the first problem is
 * reported), then every value set in order; when one fails, every value
 * set so far is put back and the failing name is reported; then the
 * commits (config_commit) apply them together, or every value is put back. */
void cmd_config_set(struct exec *x)
{
    const struct argval *pv = ARG(x, A_CONFIG_SET_parameter_value);
    int n = pv->count, i, j;
    const struct config_row **rows = xcalloc((size_t)n, sizeof(*rows));
    char **vals = xcalloc((size_t)n, sizeof(char *)), **old = xcalloc((size_t)n, sizeof(char *));
    const struct argv_ref *unknown = NULL, *bad = NULL;
    const char *err = NULL, *bad_name = NULL;

    for (i = 0; i < n; i++) {
        const struct argv_ref *name = &x->argv[pv->list[i]];
        const struct config_row *row = config_find_row(name->p, name->n);
        if (unknown || bad) continue;
        if (!row) {
            unknown = name;
            continue;
        }
        if (!row->e->mutable_ || protected_refused(x->c, row->e)) {
            err = !row->e->mutable_ ? "can't set immutable config" : "can't set protected config";
            bad = name;
            continue;
        }
        for (j = 0; j < i; j++) {
            if (rows[j] == row) {
                err = "duplicate parameter";
                bad = name;
                break;
            }
        }
        rows[i] = row;
        vals[i] = arg_dup(&x->argv[pv->list[i] + 1]);
    }
    if (unknown || bad) goto fail;

    for (i = 0; i < n; i++)
        old[i] = value_dup(rows[i]->e);
    for (i = 0; i < n; i++) {
        err = config_set(rows[i]->e->name, vals[i], false);
        if (err) {
            bad_name = rows[i]->name;
            for (j = i; j >= 0; j--)
                config_set(rows[j]->e->name, old[j], true);
            goto fail;
        }
    }
    /* The values applied together (config_commit: TLS contexts). */
    if ((err = config_commit(&bad_name)) != NULL) {
        const char *ignored;
        for (j = n - 1; j >= 0; j--)
            config_set(rows[j]->e->name, old[j], true);
        config_commit(&ignored);
        if (!bad_name) bad_name = rows[0]->name;
        goto fail;
    }
    reply_ok(x->r);
    goto done;

fail:
    if (unknown) {
        reply_errorf(x->r, "ERR Unknown option or number of arguments for CONFIG SET - '%.*s'",
                     (int)unknown->n, unknown->p);
    } else if (bad) {
        reply_errorf(x->r, "ERR CONFIG SET failed (possibly related to argument '%.*s') - %s",
                     (int)bad->n, bad->p, err);
    } else {
        reply_errorf(x->r, "ERR CONFIG SET failed (possibly related to argument '%s') - %s",
                     bad_name, err);
    }
done:
    for (i = 0; i < n; i++) {
        free(vals[i]);
        free(old[i]);
    }
    free(vals);
    free(old);
    free(rows);
}

/* INFO's own counters (error codes, instantaneous samples) live with INFO
 * (core/commands/cmd_server.c); reset them when that file provides the hook. */

/* CONFIG RESETSTAT */
void cmd_config_resetstat(struct exec *x)
{
    long long dirty = g_store.stats.dirty;
    int i, j;
    /* Redis's resetServerStats, resetCommandTableStats, resetErrorTableStats. */
    memset(&g_store.stats, 0, sizeof(g_store.stats));
    g_store.stats.dirty = dirty;
    memset(&g_kstats, 0, sizeof(g_kstats));
    g_server.total_connections = 0;
    g_server.rejected_connections = 0;
    g_server.net_input_bytes = 0;
    g_server.net_output_bytes = 0;
    for (i = 0; registry_commands[i]; i++) {
        struct command *c = registry_commands[i];
        c->calls = c->usec = c->rejected_calls = c->failed_calls = 0;
        for (j = 0; j < c->nsub; j++)
            c->subs[j]->calls = c->subs[j]->usec = c->subs[j]->rejected_calls =
                c->subs[j]->failed_calls = 0;
    }
    info_reset_stats();
    reply_ok(x->r);
}

/* CONFIG REWRITE */
void cmd_config_rewrite(struct exec *x)
{
    const char *err = config_rewrite();
    if (err)
        reply_errorf(x->r, "ERR %s", err);
    else
        reply_ok(x->r);
}

/* CONFIG HELP */
void cmd_config_help(struct exec *x)
{
    static const char *const help[] = {
        "GET <pattern>",
        "    Return parameters matching the glob-like <pattern> and their values.",
        "SET <directive> <value>",
        "    Set the configuration <directive> to <value>.",
        "RESETSTAT",
        "    Reset statistics reported by the INFO command.",
        "REWRITE",
        "    Rewrite the configuration file.",
        NULL,
    };
    reply_help(x->r, "CONFIG", help);
}
