/* fuzz_acl_rules.c — libFuzzer target for the ACL rule language
 * (core/acl/acl.c): ACL SETUSER's rules, selectors and `user` lines.
 *
 * Input: words separated by spaces or newlines, applied as one ACL SETUSER
 * of user "f" (all or nothing). Nothing may crash, and: a refused SETUSER
 * leaves the user as it was, with an error of one line; an accepted one
 * describes itself (ACL LIST's text) so that applying that text to a fresh
 * user gives the same text again (the round trip ACL SAVE / LOAD relies
 * on), and `user f <text>` parses as an ACL file line to the same user.
 * The permission check then runs on a few commands without crashing, and
 * a command allowed by a first-arg rule (+select|0) is allowed. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"

#include "acl.h"
#include "config.h"
#include "registry.h"

void registry_link_subcommands(void);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fuzz_config_defaults();
    registry_init();
    acl_init();
    return 0;
}

static char *describe(const char *name)
{
    struct acl_user *u = acl_find(name, strlen(name));
    return u ? acl_describe(u) : NULL;
}

/* A selector with a pattern ending in ')' cannot come back from ACL
 * LIST's text (the word closes the selector early), nor can a first-arg
 * rule holding white space (+select|a b, which Redis 7.0 accepts and shows
 * as it is): the same in Redis 7.0. */
static bool round_trips(const struct acl_user *u)
{
    int i, j;
    size_t k;
    for (i = 0; i < u->nsel; i++)
        for (j = 0; j < u->sel[i].nfargs; j++) {
            const struct acl_firstarg *f = &u->sel[i].fargs[j];
            for (k = 0; k < f->n; k++)
                if (f->p[k] == ' ' || (f->p[k] >= '\t' && f->p[k] <= '\r')) return false;
            if (i > 0 && f->n && f->p[f->n - 1] == ')') return false;
        }
    for (i = 1; i < u->nsel; i++) {
        for (j = 0; j < u->sel[i].nkeys; j++)
            if (u->sel[i].keys[j].n && u->sel[i].keys[j].p[u->sel[i].keys[j].n - 1] == ')')
                return false;
        for (j = 0; j < u->sel[i].nchans; j++)
            if (u->sel[i].chanlen[j] && u->sel[i].chans[j][u->sel[i].chanlen[j] - 1] == ')')
                return false;
    }
    return true;
}

static void check_some_commands(void)
{
    static const char *const lines[][4] = {
        {"GET", "k", NULL},         {"SET", "k", "v", NULL}, {"PUBLISH", "ch", "m", NULL},
        {"PSUBSCRIBE", "a*", NULL}, {"CLIENT", "ID", NULL},  {"COPY", "a", "b", NULL},
        {"SELECT", "0", NULL},      {"ECHO", "Hi", NULL},    {"SELECT", NULL},
    };
    struct acl_user *u = acl_find("f", 1);
    size_t i;
    for (i = 0; u && i < sizeof(lines) / sizeof(lines[0]); i++) {
        struct argv_ref argv[4];
        const struct command *cmd;
        int n = 0, pos = 0, res;
        while (n < 4 && lines[i][n]) {
            argv[n].p = lines[i][n];
            argv[n].n = strlen(lines[i][n]);
            n++;
        }
        cmd = registry_lookup(argv[0].p, argv[0].n);
        CHECK(cmd != NULL);
        if (cmd->nsub) cmd = registry_lookup_sub((struct command *)cmd, argv[1].p, argv[1].n);
        if (!cmd) continue;
        res = acl_check_cmd(u, cmd, n, argv, &pos);
        CHECK(res >= ACL_OK && res <= ACL_DENIED_CHANNEL);
        CHECK(pos >= 0 && pos < n);
    }
    /* Each first-arg rule of the root selector allows its command with
     * that first argument (in any case), whatever its keys and channels
     * then say; a command taking two arguments (arity 2 or -2) is tried. */
    for (i = 0; u && i < (size_t)u->sel[0].nfargs; i++) {
        const struct acl_firstarg *f = &u->sel[0].fargs[i];
        const struct command *cmd = NULL;
        struct argv_ref argv[2];
        char *up = malloc(f->n + 1);
        size_t k;
        int j, pos = 0;
        for (j = 0; registry_commands[j] && !cmd; j++)
            if (registry_commands[j]->id == f->id) cmd = registry_commands[j];
        CHECK(cmd != NULL && cmd->nsub == 0);
        if (cmd->arity != 2 && cmd->arity != -2) {
            free(up);
            continue;
        }
        for (k = 0; k < f->n; k++)
            up[k] = (f->p[k] >= 'a' && f->p[k] <= 'z') ? (char)(f->p[k] - 32) : f->p[k];
        argv[0].p = cmd->name;
        argv[0].n = strlen(cmd->name);
        argv[1].p = up;
        argv[1].n = f->n;
        CHECK(acl_check_cmd(u, cmd, 2, argv, &pos) != ACL_DENIED_CMD);
        free(up);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1), *before, *after, err[512];
    const char *words[256];
    size_t lens[256], i = 0;
    int n = 0;
    memcpy(text, data, size);
    text[size] = 0;
    while (i < size && n < 256) {
        size_t j;
        while (i < size && (text[i] == ' ' || text[i] == '\n'))
            i++;
        if (i >= size) break;
        for (j = i; j < size && text[j] != ' ' && text[j] != '\n'; j++)
            ;
        words[n] = text + i;
        lens[n++] = j - i;
        i = j;
    }
    before = describe("f");
    if (!acl_setuser("f", 1, n, words, lens, err, sizeof(err))) {
        after = describe("f");
        CHECK((before == NULL) == (after == NULL));
        CHECK(!before || strcmp(before, after) == 0);
        CHECK(strchr(err, '\n') == NULL && strchr(err, '\r') == NULL);
        free(after);
    } else if (round_trips(acl_find("f", 1))) {
        char *d1 = describe("f"), *d2, *line;
        size_t k = 0, m = strlen(d1);
        const char **w = malloc(sizeof(*w) * (m + 1));
        size_t *wl = malloc(sizeof(*wl) * (m + 1));
        int nw = 0;
        struct acl_user *parsed;
        /* ACL LIST's text is words separated by single spaces (selectors
         * are words of their own once SETUSER joins them again). */
        while (k < m) {
            size_t e = k;
            while (e < m && d1[e] != ' ')
                e++;
            w[nw] = d1 + k;
            wl[nw++] = e - k;
            k = e + 1;
        }
        CHECK(nw >= 1);
        acl_deluser("g", 1);
        CHECK(acl_setuser("g", 1, nw, w, wl, err, sizeof(err)));
        d2 = describe("g");
        CHECK(strcmp(d1, d2) == 0);
        free(w);
        free(wl);
        line = malloc(strlen(d1) + 8);
        sprintf(line, "user f %s", d1);
        CHECK(acl_parse_user_line(line, &parsed) == NULL);
        free(d2);
        d2 = acl_describe(parsed);
        CHECK(strcmp(d1, d2) == 0);
        acl_user_free(parsed);
        free(line);
        free(d1);
        free(d2);
        check_some_commands();
    }
    free(before);
    /* Start each input from no user half the time, else keep building on it. */
    if (size & 1) acl_deluser("f", 1);
    free(text);
    return 0;
}
