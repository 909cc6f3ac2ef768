/* test_config.c — unit tests for config/config.c over the real tables
 * (config_table.c, adapters/tls's and config_table_compat.c): names and aliases as rows,
 * Redis's HIDDEN/PROTECTED flags, defaults, typed values with Redis's
 * error texts and bounds, the special parameters of the compat table
 * (replicaof, oom-score-adj-values, unixsocketperm, proc-title-template),
 * immutability, commits (config_register_commit). Expected texts are redis-server 7.0.15's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "tls.h"
#include "unit.h"

static const char *get(const char *name)
{
    static char buf[512];
    const struct config_entry *e = config_find(name, strlen(name));
    ck_assert_msg(e != NULL, "%s unknown", name);
    config_get_text(e, buf, sizeof(buf));
    return buf;
}

START_TEST(rows_and_aliases)
{
    const struct config_row *rows;
    size_t n = config_rows(&rows), i, aliases = 0;
    const struct config_row *r;
    ck_assert_uint_gt(n, config_count());
    for (i = 0; i < n; i++)
        if (rows[i].name != rows[i].e->name) aliases++;
    ck_assert_uint_eq(n, config_count() + aliases);
    r = config_find_row("SLAVEOF", 7);
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(r->name, "slaveof");
    ck_assert_str_eq(r->e->name, "replicaof");
    ck_assert_ptr_eq(config_find("hash-max-ziplist-entries", 24),
                     config_find("hash-max-listpack-entries", 25));
    ck_assert_ptr_null(config_find_row("nosuch", 6));
    ck_assert_uint_eq(config_index(config_at(3)), 3);
}
END_TEST

START_TEST(flags)
{
    ck_assert_uint_eq(config_flags(config_find("dir", 3)), CF_PROTECTED);
    ck_assert_uint_eq(config_flags(config_find("dbfilename", 10)), CF_PROTECTED);
    ck_assert_uint_eq(config_flags(config_find("key-load-delay", 14)), CF_HIDDEN);
    ck_assert_uint_eq(config_flags(config_find("rdb-key-save-delay", 18)), CF_HIDDEN);
    ck_assert_uint_eq(config_flags(config_find("hz", 2)), 0);
    ck_assert_uint_eq(config_flags(config_find("repl-backlog-size", 17)), 0);
}
END_TEST

START_TEST(defaults)
{
    ck_assert_str_eq(get("repl-backlog-size"), "1048576");
    ck_assert_str_eq(get("oom-score-adj-values"), "0 200 800");
    ck_assert_str_eq(get("replicaof"), "");
    ck_assert_str_eq(get("proc-title-template"), "{title} {listen-addr} {server-mode}");
    ck_assert_str_eq(get("syslog-facility"), "local0");
    ck_assert_str_eq(get("unixsocketperm"), "0");
    ck_assert_str_eq(get("active-defrag-ignore-bytes"), "104857600");
    ck_assert_str_eq(get("tls-session-cache-size"), "20480");
    ck_assert_str_eq(get("daemonize"), "no");
}
END_TEST

START_TEST(typed_values)
{
    ck_assert_ptr_null(config_set("repl-timeout", "30", false));
    ck_assert_str_eq(get("repl-timeout"), "30");
    ck_assert_str_eq(config_set("repl-timeout", "0", false),
                     "argument must be between 1 and 2147483647 inclusive");
    ck_assert_str_eq(config_set("repl-timeout", "x", false),
                     "argument couldn't be parsed into an integer");
    ck_assert_str_eq(config_set("tls-cluster", "maybe", false), "argument must be 'yes' or 'no'");
    ck_assert_str_eq(config_set("repl-diskless-load", "x", false),
                     "argument(s) must be one of the following: disabled, on-empty-db, swapdb");
    ck_assert_str_eq(config_set("repl-backlog-size", "1x", false),
                     "argument must be a memory value");
    ck_assert_ptr_null(config_set("repl-backlog-size", "1", false));
    ck_assert_str_eq(get("repl-backlog-size"), "16384"); /* Redis's minimum */
    ck_assert_ptr_null(config_set("slave-priority", "7", false));
    ck_assert_str_eq(get("replica-priority"), "7");
    ck_assert_ptr_null(config_set("repl-timeout", "60", false));
}
END_TEST

START_TEST(special_values)
{
    ck_assert_str_eq(config_set("replicaof", "a b c", true), "wrong number of arguments");
    ck_assert_str_eq(config_set("replicaof", "h x", true), "Invalid master port");
    ck_assert_ptr_null(config_set("replicaof", "127.0.0.1 6380", true));
    ck_assert_str_eq(get("slaveof"), "127.0.0.1 6380");
    ck_assert_ptr_null(config_set("replicaof", "NO ONE", true));
    ck_assert_str_eq(get("replicaof"), "");
    ck_assert_str_eq(config_set("oom-score-adj-values", "1 2", false), "wrong number of arguments");
    ck_assert_str_eq(config_set("oom-score-adj-values", "1 2 2001", false),
                     "Invalid oom-score-adj-values, elements must be between -2000 and 2000.");
    ck_assert_ptr_null(config_set("oom-score-adj-values", "0 200 800", false));
    ck_assert_ptr_null(config_set("unixsocketperm", "0755", true));
    ck_assert_str_eq(get("unixsocketperm"), "755");
    ck_assert_str_eq(config_set("unixsocketperm", "1000", true),
                     "argument must be between 0 and 777 inclusive");
    ck_assert_str_eq(config_set("unixsocketperm", "9", true),
                     "argument couldn't be parsed as an octal number");
    ck_assert_str_eq(config_set("proc-title-template", "{title}", false),
                     "template format is invalid or contains unknown variables");
    ck_assert_str_eq(config_set("proc-title-template", "{nosuch} x", false),
                     "template format is invalid or contains unknown variables");
    ck_assert_ptr_null(config_set("proc-title-template", "{{x}} {port}", false));
    ck_assert_str_eq(config_set("cluster-announce-hostname", "a_b", false),
                     "Hostnames may only contain alphanumeric characters, hyphens or dots");
    ck_assert_str_eq(config_set("tls-cluster", "yes", false),
                     "Unable to update TLS configuration. Check server logs.");
    ck_assert_str_eq(get("tls-cluster"), "no");
    /* tls-replication is adapters/tls's: the CONFIG SET commit builds the
     * contexts (test_config_params compares the reply with redis-server) */
    ck_assert_ptr_null(config_set("tls-replication", "yes", false));
    ck_assert_str_eq(get("tls-replication"), "yes");
    ck_assert_ptr_null(config_set("tls-replication", "no", false));
}
END_TEST

START_TEST(immutable)
{
    ck_assert_str_eq(config_set("daemonize", "yes", false), "can't set immutable config");
    ck_assert_str_eq(config_set("cluster-enabled", "no", false), "can't set immutable config");
    ck_assert_ptr_null(config_set("cluster-port", "17000", true)); /* start-up: allowed */
    ck_assert_str_eq(get("cluster-port"), "17000");
}
END_TEST

static int first_hz, later_hz, later_other;

/* A later table's entry for a name an earlier table has is left out (the
 * earlier, live one wins when a stored-only parameter gets implemented). */
START_TEST(later_duplicate_left_out)
{
    static const struct config_entry t1[] = {
        {"hz", NULL, CT_INT, &first_hz, "10", 0, 100, true, "h", NULL, NULL},
        {NULL, NULL, 0, NULL, NULL, 0, 0, false, NULL, NULL, NULL},
    };
    static const struct config_entry t2[] = {
        {"HZ", NULL, CT_INT, &later_hz, "20", 0, 100, true, "h", NULL, NULL},
        {"other", "hz", CT_INT, &later_other, "30", 0, 100, true, "o", NULL, NULL},
        {"third", NULL, CT_INT, &later_other, "40", 0, 100, true, "t", NULL, NULL},
        {NULL, NULL, 0, NULL, NULL, 0, 0, false, NULL, NULL, NULL},
    };
    const struct config_row *rows;
    config_init(t1);
    config_add_table(t2);
    ck_assert_uint_eq(config_count(), 2);
    ck_assert_uint_eq(config_rows(&rows), 2);
    ck_assert_ptr_eq(config_find("hz", 2), &t1[0]);
    ck_assert_ptr_eq(config_find("third", 5), &t2[2]);
    ck_assert_ptr_null(config_find("other", 5));
}
END_TEST

/* CONFIG REWRITE of a file whose last line has no newline: what it
 * appends starts a line of its own (fuzz_config's find: it went onto the
 * comment, and the value was lost on the next load). */
START_TEST(rewrite_after_unterminated_last_line)
{
    char dir[] = "/tmp/keel-test-config-XXXXXX", path[64];
    char *argv[] = {"keel", path, NULL};
    FILE *f;
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/k.conf", dir);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    /* an empty word among bind's: dropped (a rewrite could not keep it) */
    fputs("hz 20\nbind 127.0.0.1 \"\" ::1 \"a\\\"b\\\\\"\n# the end", f);
    fclose(f);
    ck_assert(config_load(2, argv));
    ck_assert_str_eq(g_config.bind, "127.0.0.1 ::1 a\"b\\");
    ck_assert_ptr_null(config_set("maxmemory", "1mb", false));
    ck_assert_ptr_null(config_rewrite());
    ck_assert_ptr_null(config_set("maxmemory", "0", false));
    ck_assert(config_load(2, argv));
    ck_assert_int_eq(g_config.maxmemory, 1048576);
    ck_assert_int_eq(g_config.hz, 20);
    /* a word with a quote or a backslash is written quoted */
    ck_assert_str_eq(g_config.bind, "127.0.0.1 ::1 a\"b\\");
    unlink(path);
    rmdir(dir);
}
END_TEST

static int commits_run;
static const char *commit_ok(const char **name)
{
    (void)name;
    commits_run++;
    return NULL;
}
static const char *commit_refuses(const char **name)
{
    commits_run++;
    *name = "tls-cert-file";
    return "Unable to update TLS configuration. Check server logs.";
}

/* config_commit runs every registered commit in order and stops at the
 * first error, naming the parameter it concerns. */
START_TEST(commits)
{
    const char *name = NULL;
    commits_run = 0;
    ck_assert_ptr_null(config_commit(&name));
    config_register_commit(commit_ok);
    ck_assert_ptr_null(config_commit(&name));
    ck_assert_int_eq(commits_run, 1);
    ck_assert_ptr_null(name);
    config_register_commit(commit_refuses);
    config_register_commit(commit_ok);
    ck_assert_str_eq(config_commit(&name),
                     "Unable to update TLS configuration. Check server logs.");
    ck_assert_str_eq(name, "tls-cert-file");
    ck_assert_int_eq(commits_run, 3);
}
END_TEST

int main(void)
{
    static char *argv[] = {"keel", NULL};
    Suite *s = suite_create("config");
    TCase *tc = unit_tcase("config", 60);
    config_init(config_table);
    config_add_table(tls_config_table);
    config_add_table(config_table_compat);
    config_add_flags(config_table_flags);
    config_add_flags(config_table_compat_flags);
    if (!config_load(1, argv)) return EXIT_FAILURE;
    tcase_add_test(tc, rows_and_aliases);
    tcase_add_test(tc, flags);
    tcase_add_test(tc, defaults);
    tcase_add_test(tc, typed_values);
    tcase_add_test(tc, special_values);
    tcase_add_test(tc, immutable);
    tcase_add_test(tc, later_duplicate_left_out);
    tcase_add_test(tc, commits);
    tcase_add_test(tc, rewrite_after_unterminated_last_line);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
