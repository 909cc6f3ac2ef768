/* fuzz_config.c — libFuzzer target for the configuration parser
 * (config/config.c: lines, quoting, include, `user` lines, every entry's
 * value parser in config_table.c / config_table_compat.c) and CONFIG SET
 * (config/cmd_config.c: memory units, enums, booleans, save,
 * client-output-buffer-limit, notify-keyspace-events, ...).
 *
 * Input: a config file, optionally followed by a NUL and a second file
 * that `include inc.conf` names. The files live in a private temporary
 * directory; include is never followed elsewhere: glob, chdir, connect
 * and getaddrinfo are wrapped (-Wl,--wrap, see meson.build) so an include
 * pattern only matches inside that directory, `dir` moves nothing and no
 * address is ever looked up or dialled. Nothing may crash or leak. A file
 * that loads is rewritten (CONFIG REWRITE's config_rewrite) and loads
 * again to the same value of every parameter. Then each line is also sent
 * as CONFIG SET name value... through the kernel: an accepted value
 * reads back with CONFIG GET, and setting what CONFIG GET shows again
 * is accepted and shows the same. */
#include <errno.h>
#include <glob.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz_util.h"

#include "client.h"
#include "config.h"
#include "core_init.h"
#include "kernel.h"
#include "rec_sink.h"
#include "util.h"

static char dir[64], main_path[96], inc_path[96];
static struct rec_sink sink;
static struct client *cli;

int __real_glob64(const char *pattern, int flags, int (*errfunc)(const char *, int), glob_t *g);
int __wrap_glob64(const char *pattern, int flags, int (*errfunc)(const char *, int), glob_t *g);
int __wrap_chdir(const char *path);
int __wrap_connect(int fd, const struct sockaddr *a, socklen_t n);
int __wrap_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                       struct addrinfo **res);

/* Patterns resolve inside the temporary directory only (glob is glob64
 * with 64-bit file offsets). */
int __wrap_glob64(const char *pattern, int flags, int (*errfunc)(const char *, int), glob_t *g)
{
    char full[4200];
    if (strchr(pattern, '/') || strlen(pattern) > 4000) return GLOB_NOMATCH;
    snprintf(full, sizeof(full), "%s/%s", dir, pattern);
    return __real_glob64(full, flags, errfunc, g);
}

int __wrap_chdir(const char *path)
{
    (void)path;
    return 0;
}

int __wrap_connect(int fd, const struct sockaddr *a, socklen_t n)
{
    (void)fd, (void)a, (void)n;
    errno = ECONNREFUSED;
    return -1;
}

int __wrap_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                       struct addrinfo **res)
{
    (void)node, (void)service, (void)hints, (void)res;
    return EAI_FAIL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char *cargv[] = {"keel", NULL};
    (void)argc, (void)argv;
    snprintf(dir, sizeof(dir), "/tmp/keel-fuzz-config-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    snprintf(main_path, sizeof(main_path), "%s/main.conf", dir);
    snprintf(inc_path, sizeof(inc_path), "%s/inc.conf", dir);
    config_init(config_table);
    config_add_table(config_table_compat);
    config_add_flags(config_table_flags);
    config_add_flags(config_table_compat_flags);
    CHECK(config_load(1, cargv));
    core_init(16);
    cli = client_new(NULL, &sink, &rec_sink_ops);
    return 0;
}

static void write_file(const char *path, const uint8_t *p, size_t n)
{
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    CHECK(fwrite(p, 1, n, f) == n);
    CHECK(fclose(f) == 0);
}

/* Runs of spaces as one, none at either end of a value: a multi-word
 * value (bind, save, ...) is kept as its words joined by spaces, and a
 * word holding spaces of its own cannot come back from CONFIG REWRITE's
 * unquoted words (a known limit, left alone). */
static void squeeze(char *v, size_t *n)
{
    size_t i, o = 0;
    for (i = 0; i < *n; i++) {
        if (v[i] == ' ' && (o == 0 || v[o - 1] == ' ')) continue;
        v[o++] = v[i];
    }
    while (o > 0 && v[o - 1] == ' ')
        o--;
    *n = o;
}

/* Every parameter's value, one per line. */
static char *snapshot(void)
{
    struct out o = {0};
    size_t i;
    for (i = 0; i < config_count(); i++) {
        char v[8192];
        size_t n = config_get_text(config_at(i), v, sizeof(v));
        squeeze(v, &n);
        put(&o, config_at(i)->name, strlen(config_at(i)->name));
        put(&o, "=", 1);
        put(&o, v, n);
        put(&o, "\n", 2);
    }
    return (char *)o.b;
}

static void forget_users(void)
{
    int i;
    for (i = 0; i < g_config_nusers; i++)
        free(g_config_users[i]);
    free(g_config_users);
    g_config_users = NULL;
    g_config_nusers = 0;
}

static int run(int argc, char **words, size_t *lens)
{
    struct argv_ref argv[64];
    int i;
    for (i = 0; i < argc; i++) {
        argv[i].p = words[i];
        argv[i].n = lens[i];
    }
    rec_sink_reset(&sink);
    kernel_submit(cli, argc, argv);
    return sink.nerr;
}

/* Parameters CONFIG SET leaves alone here: they would move files, the
 * working directory or listeners of a real server. */
static bool skipped(const char *name, size_t n)
{
    static const char *const names[] = {"appendonly",     "dir",     "dbfilename", "appenddirname",
                                        "appendfilename", "logfile", "pidfile",    NULL};
    int i;
    for (i = 0; names[i]; i++)
        if (util_eqci(name, n, names[i])) return true;
    return false;
}

/* CONFIG SET name value...: accepted → CONFIG GET shows a value that
 * CONFIG SET takes again to the same value. */
static void config_set_line(char **w, size_t *wl, int n)
{
    char *argv[66];
    size_t lens[66];
    char shown[8192];
    int i;
    if (n < 2 || n > 60 || skipped(w[0], wl[0])) return;
    argv[0] = "CONFIG";
    lens[0] = 6;
    argv[1] = "SET";
    lens[1] = 3;
    argv[2] = w[0];
    lens[2] = wl[0];
    /* the value: the rest of the line joined by spaces, as Redis's
     * CONFIG SET takes one argument per parameter */
    {
        size_t tot = 0, off = 0;
        char *v;
        for (i = 1; i < n; i++)
            tot += wl[i] + 1;
        v = malloc(tot + 1);
        for (i = 1; i < n; i++) {
            if (i > 1) v[off++] = ' ';
            memcpy(v + off, w[i], wl[i]);
            off += wl[i];
        }
        v[off] = 0;
        argv[3] = v;
        lens[3] = off;
    }
    if (run(4, argv, lens) == 0 && memchr(w[0], 0, wl[0]) == NULL) {
        char *get[3] = {"CONFIG", "GET", w[0]};
        size_t gl[3] = {6, 3, wl[0]};
        char *p;
        CHECK(run(3, get, gl) == 0);
        /* "*2 "name" "value"" (the value as shown, quotes and all) */
        p = strchr(sink.out, ' ');
        CHECK(p != NULL);
        p = strstr(p + 1, "\" \"");
        if (p && strlen(p + 3) > 0 && strlen(p + 3) < sizeof(shown)) {
            char first[8192];
            snprintf(shown, sizeof(shown), "%s", p + 3);
            shown[strlen(shown) - 1] = 0; /* the closing quote */
            snprintf(first, sizeof(first), "%s", sink.out);
            /* save: a change count past INT_MAX shows wrapped (-1), which
             * CONFIG SET refuses: Redis 7.0 does the same */
            if (!util_eqci(w[0], wl[0], "save")) {
                char *set[4] = {"CONFIG", "SET", w[0], shown};
                size_t sl[4] = {6, 3, wl[0], strlen(shown)};
                CHECK(run(4, set, sl) == 0);
                CHECK(run(3, get, gl) == 0);
                CHECK(strcmp(first, sink.out) == 0);
            }
        }
    }
    free(argv[3]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t n1 = nul ? (size_t)(nul - data) : size;
    char *cargv[] = {"keel", main_path, NULL}, *a, *b, *text;
    bool ok;
    if (size > 16384) return -1;
    write_file(main_path, data, n1);
    write_file(inc_path, nul ? nul + 1 : (const uint8_t *)"", nul ? size - n1 - 1 : 0);
    ok = config_load(2, cargv);
    forget_users();
    if (ok) {
        a = snapshot();
        if (config_rewrite() == NULL) {
            CHECK(config_load(2, cargv));
            forget_users();
            b = snapshot();
            if (strcmp(a, b) != 0) { /* the first parameter that differs */
                size_t i = 0, l = 0;
                while (a[i] == b[i]) {
                    if (a[i] == '\n') l = i + 1;
                    i++;
                }
                fprintf(stderr, "rewrite changed: %.200s\nto: %.200s\n", a + l, b + l);
            }
            CHECK(strcmp(a, b) == 0);
            free(b);
        }
        free(a);
    }
    /* each line as CONFIG SET, from the defaults */
    {
        char *def[] = {"keel", NULL};
        CHECK(config_load(1, def));
    }
    text = malloc(n1 + 1);
    memcpy(text, data, n1);
    text[n1] = 0;
    for (a = text; a && *a; a = b) {
        char **w;
        size_t *wl;
        int n;
        b = strchr(a, '\n');
        if (b) *b++ = 0;
        n = util_split_args(a, strlen(a), &w, &wl);
        if (n > 0) {
            config_set_line(w, wl, n);
            util_free_words(w, wl, n);
        }
    }
    free(text);
    return 0;
}
