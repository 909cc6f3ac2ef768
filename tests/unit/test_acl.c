/* test_acl.c — unit tests for core/acl: the rule parser (every rule form
 * and its error text, as redis-server 7.0.15 words them), SETUSER's all or
 * nothing, the text forms ACL LIST shows (checked against 7.0.15's output
 * for the same rules), passwords (SHA-256, >/</#/!, nopass), the
 * permission check (commands, subcommands, categories, key patterns with
 * read/write flags through the key specs, channels, selectors) and `user`
 * lines. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "config.h"
#include "registry.h"
#include "unit.h"
#include "util.h"

static void setup_once(void)
{
    static bool done;
    if (done) return;
    done = true;
    config_init(config_table);
    config_add_table(config_table_compat);
    {
        char *argv[] = {"keel", NULL};
        ck_assert(config_load(1, argv));
    }
    registry_init();
    acl_init();
}

/* SETUSER name with the space-separated rules; error text or NULL. */
static const char *setuser(const char *name, const char *rules)
{
    static char err[512];
    char **w;
    size_t *wl;
    int n = util_split_args(rules, strlen(rules), &w, &wl);
    bool ok;
    ck_assert_int_ge(n, 0);
    ok = acl_setuser(name, strlen(name), n, (const char *const *)w, wl, err, sizeof(err));
    if (n > 0) util_free_words(w, wl, n);
    return ok ? NULL : err;
}

static void expect_list(const char *name, const char *want)
{
    struct acl_user *u = acl_find(name, strlen(name));
    char *d;
    ck_assert_msg(u != NULL, "no user %s", name);
    d = acl_describe(u);
    ck_assert_msg(strcmp(d, want) == 0, "user %s: [%s], want [%s]", name, d, want);
    free(d);
}

static void fresh(const char *rules, const char *want)
{
    acl_deluser("u", 1);
    ck_assert_ptr_null(setuser("u", rules));
    expect_list("u", want);
}

START_TEST(default_user)
{
    setup_once();
    expect_list("default", "on nopass ~* &* +@all");
    ck_assert(acl_default_authenticates());
}
END_TEST

START_TEST(rule_forms)
{
    setup_once();
    /* Pairs of (rules, ACL LIST's text after "user u "), from redis-server 7.0.15. */
    fresh("", "off resetchannels -@all");
    fresh("+get", "off resetchannels -@all +get");
    fresh("+get +get", "off resetchannels -@all +get");
    fresh("+@string +get", "off resetchannels -@all +@string");
    fresh("+get +@string", "off resetchannels -@all +@string");
    fresh("-get", "off resetchannels -@all");
    fresh("+@all -get", "off resetchannels +@all -get");
    fresh("+@all +get", "off resetchannels +@all");
    fresh("+client|id", "off resetchannels -@all +client|id");
    fresh("-@all +client|id -client", "off resetchannels -@all");
    fresh("allcommands -@dangerous", "off resetchannels +@all -@dangerous");
    fresh("nocommands +GET", "off resetchannels -@all +get");
    fresh("+@read -@write", "off resetchannels -@all +@read");
    fresh("+@STRING", "off resetchannels -@all +@string");
    fresh("+@keyspace -del", "off resetchannels -@all +@keyspace -del");
    fresh("+@all -@dangerous -client +client|id",
          "off resetchannels +@all -@dangerous -client +client|id");
    fresh("~a ~a", "off ~a resetchannels -@all");
    fresh("~a allkeys", "off ~* resetchannels -@all");
    fresh("%R~r* %W~w* %RW~x", "off %R~r* %W~w* ~x resetchannels -@all");
    fresh("%W~a %R~a", "off ~a resetchannels -@all");
    fresh("&a &a &b", "off resetchannels &a &b -@all");
    fresh("allchannels", "off &* -@all");
    fresh(">pw", "off #30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4 "
                 "resetchannels -@all");
    fresh(">pw <pw", "off resetchannels -@all");
    fresh(">pw nopass", "off nopass resetchannels -@all");
    fresh("on off on", "on resetchannels -@all");
    fresh(">pw ~a +get reset", "off sanitize-payload resetchannels -@all");
    fresh("skip-sanitize-payload", "off skip-sanitize-payload resetchannels -@all");
    fresh("(+get ~x*) (+set %W~y*)", "off resetchannels -@all (~x* resetchannels -@all +get) "
                                     "(%W~y* resetchannels -@all +set)");
    fresh("(+get ~x*) clearselectors", "off resetchannels -@all");
    acl_deluser("u", 1);
}
END_TEST

START_TEST(rule_errors)
{
    static const struct {
        const char *rules, *err;
    } cases[] = {
        {"+bogus", "ERR Error in ACL SETUSER modifier '+bogus': Unknown command or category "
                   "name in ACL"},
        {"+@bogus", "ERR Error in ACL SETUSER modifier '+@bogus': Unknown command or category "
                    "name in ACL"},
        {"%X~a", "ERR Error in ACL SETUSER modifier '%X~a': Syntax error"},
        {"%~a", "ERR Error in ACL SETUSER modifier '%~a': Syntax error"},
        {"%RR~a", "ERR Error in ACL SETUSER modifier '%RR~a': Syntax error"},
        {"bogus", "ERR Error in ACL SETUSER modifier 'bogus': Syntax error"},
        {"+get|", "ERR Error in ACL SETUSER modifier '+get|': Syntax error"},
        {"allkeys ~a", "ERR Error in ACL SETUSER modifier '~a': Adding a pattern after the * "
                       "pattern (or the 'allkeys' flag) is not valid and does not have any "
                       "effect. Try 'resetkeys' to start with an empty list of patterns"},
        {"allchannels &a", "ERR Error in ACL SETUSER modifier '&a': Adding a pattern after the "
                           "* pattern (or the 'allchannels' flag) is not valid and does not have "
                           "any effect. Try 'resetchannels' to start with an empty list of "
                           "channels"},
        {"#abc", "ERR Error in ACL SETUSER modifier '#abc': The password hash must be exactly 64 "
                 "characters and contain only lowercase hexadecimal characters"},
        {"<nope", "ERR Error in ACL SETUSER modifier '<nope': The password you are trying to "
                  "remove from the user does not exist"},
    };
    size_t i;
    setup_once();
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *e;
        acl_deluser("u", 1);
        e = setuser("u", cases[i].rules);
        ck_assert_msg(e && strcmp(e, cases[i].err) == 0, "%s: [%s]", cases[i].rules,
                      e ? e : "(ok)");
        /* all or nothing: a failed SETUSER creates nothing */
        ck_assert_ptr_null(acl_find("u", 1));
    }
    ck_assert_ptr_null(setuser("u", "on +get ~a"));
    ck_assert_ptr_nonnull(setuser("u", "off +set +bogus"));
    expect_list("u", "on ~a resetchannels -@all +get");
    acl_deluser("u", 1);
}
END_TEST

START_TEST(passwords)
{
    struct acl_user *u;
    setup_once();
    acl_deluser("u", 1);
    ck_assert_ptr_null(setuser("u", "on >one >two"));
    u = acl_find("u", 1);
    ck_assert(acl_check_password(u, "one", 3));
    ck_assert(acl_check_password(u, "two", 3));
    ck_assert(!acl_check_password(u, "three", 5));
    ck_assert(!acl_check_password(u, "", 0));
    ck_assert_ptr_null(setuser("u", "<one"));
    ck_assert(!acl_check_password(u, "one", 3));
    /* #<sha256("pw")> and !<hash> */
    ck_assert_ptr_null(
        setuser("u", "#30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4"));
    ck_assert(acl_check_password(u, "pw", 2));
    ck_assert_ptr_null(
        setuser("u", "!30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4"));
    ck_assert(!acl_check_password(u, "pw", 2));
    ck_assert_ptr_null(setuser("u", "nopass"));
    ck_assert(acl_check_password(u, "anything", 8));
    ck_assert_ptr_null(setuser("u", "resetpass"));
    ck_assert(!acl_check_password(u, "anything", 8));
    acl_deluser("u", 1);
}
END_TEST

/* The check for a command line as user name: ACL_OK or ACL_DENIED_*. */
static int check(const char *name, const char *line, int *pos)
{
    struct acl_user *u = acl_find(name, strlen(name));
    struct argv_ref argv[32];
    char **w;
    size_t *wl;
    int n = util_split_args(line, strlen(line), &w, &wl), i, res;
    const struct command *cmd;
    ck_assert(n > 0 && n <= 32);
    for (i = 0; i < n; i++) {
        argv[i].p = w[i];
        argv[i].n = wl[i];
    }
    cmd = registry_lookup(w[0], wl[0]);
    ck_assert_ptr_nonnull(cmd);
    if (cmd->nsub && n > 1) cmd = registry_lookup_sub((struct command *)cmd, w[1], wl[1]);
    ck_assert_ptr_nonnull(cmd);
    *pos = -1;
    res = acl_check_cmd(u, cmd, n, argv, pos);
    util_free_words(w, wl, n);
    return res;
}

#define ALLOWED(u, l) ck_assert_int_eq(check(u, l, &pos), ACL_OK)
#define DENIED(u, l, why, at)                                                                      \
    do {                                                                                           \
        ck_assert_int_eq(check(u, l, &pos), why);                                                  \
        if ((at) >= 0) ck_assert_int_eq(pos, at);                                                  \
    } while (0)

START_TEST(permission_check)
{
    int pos;
    setup_once();
    acl_deluser("u", 1);
    ck_assert_ptr_null(setuser("u", "on nopass +@string -set +client|id +del +publish "
                                    "+subscribe +psubscribe +copy ~k* %R~r* %W~w* &news.* &x"));
    ALLOWED("u", "GET k1");
    DENIED("u", "GET x", ACL_DENIED_KEY, 1);
    DENIED("u", "SET k v", ACL_DENIED_CMD, -1);
    ALLOWED("u", "GET r1");
    DENIED("u", "APPEND r1 x", ACL_DENIED_KEY, 1);
    ALLOWED("u", "APPEND w1 x");
    DENIED("u", "GET w1", ACL_DENIED_KEY, 1);
    ALLOWED("u", "MGET k1 r2");
    DENIED("u", "MGET k1 r2 zz", ACL_DENIED_KEY, 3);
    ALLOWED("u", "COPY r1 w1");
    DENIED("u", "COPY w1 r1", ACL_DENIED_KEY, 1);
    ALLOWED("u", "DEL k1 w1");
    ALLOWED("u", "CLIENT ID");
    DENIED("u", "CLIENT KILL ID 1", ACL_DENIED_CMD, -1);
    ALLOWED("u", "PUBLISH news.a m");
    DENIED("u", "PUBLISH other m", ACL_DENIED_CHANNEL, 1);
    ALLOWED("u", "SUBSCRIBE news.a x");
    DENIED("u", "SUBSCRIBE news.a y", ACL_DENIED_CHANNEL, 2);
    /* a pattern subscription must be one of the patterns, literally */
    ALLOWED("u", "PSUBSCRIBE news.*");
    DENIED("u", "PSUBSCRIBE news.a*", ACL_DENIED_CHANNEL, 1);
    /* selectors: any one may allow; the root's refusal reason otherwise */
    ck_assert_ptr_null(setuser("u", "reset on nopass +get ~a* (+set ~b*)"));
    ALLOWED("u", "GET a1");
    ALLOWED("u", "SET b1 v");
    DENIED("u", "GET b1", ACL_DENIED_KEY, 1);
    DENIED("u", "SET a1 v", ACL_DENIED_KEY, 1);
    DENIED("u", "DEL a1", ACL_DENIED_CMD, -1);
    acl_deluser("u", 1);
}
END_TEST

/* Key prefixes of up to 8 bytes are compared as one word: keys shorter
 * than 8, prefixes of exactly 8 and of 9 (the byte compare), SET with and
 * without GET, MSET's every other argument. */
START_TEST(prefix_word_check)
{
    int pos;
    setup_once();
    acl_deluser("u", 1);
    ck_assert_ptr_null(setuser("u", "on nopass +@string ~a* ~key:* ~12345678* ~abcdefghi* "
                                    "%R~ro:* ~exact"));
    ALLOWED("u", "GET a");
    ALLOWED("u", "GET ab");
    ALLOWED("u", "GET key:");
    ALLOWED("u", "GET key:0000001");
    DENIED("u", "GET key", ACL_DENIED_KEY, 1);
    DENIED("u", "GET kez:00000001", ACL_DENIED_KEY, 1);
    DENIED("u", "GET Key:00000001", ACL_DENIED_KEY, 1);
    ALLOWED("u", "GET 12345678");
    ALLOWED("u", "GET 123456789abc");
    DENIED("u", "GET 1234567", ACL_DENIED_KEY, 1);
    DENIED("u", "GET 12345679xxxx", ACL_DENIED_KEY, 1);
    ALLOWED("u", "GET abcdefghi");
    ALLOWED("u", "GET abcdefghijkl"); /* ~a* as well */
    DENIED("u", "GET bbcdefghijkl", ACL_DENIED_KEY, 1);
    ALLOWED("u", "GET exact");
    DENIED("u", "GET exactly", ACL_DENIED_KEY, 1);
    ALLOWED("u", "GET ro:00000001");
    DENIED("u", "SET ro:00000001 v", ACL_DENIED_KEY, 1);
    ALLOWED("u", "SET key:00000001 v");
    ALLOWED("u", "SET key:00000001 v GET");
    DENIED("u", "SET zz v GET", ACL_DENIED_KEY, 1);
    ALLOWED("u", "MSET key:00000001 v a1 v key:2 v");
    DENIED("u", "MSET key:00000001 v zz:0000001 v", ACL_DENIED_KEY, 3);
    /* a key with a NUL byte in the prefix's place */
    {
        struct acl_user *u = acl_find("u", 1);
        const struct command *cmd = registry_lookup("get", 3);
        struct argv_ref argv[2] = {{"get", 3}, {"key\0:0000", 9}};
        ck_assert_int_eq(acl_check_cmd(u, cmd, 2, argv, &pos), ACL_DENIED_KEY);
        argv[1].p = "key:\0000000";
        ck_assert_int_eq(acl_check_cmd(u, cmd, 2, argv, &pos), ACL_OK);
    }
    acl_deluser("u", 1);
}
END_TEST

/* +cmd|first-arg rules (checked against redis-server 7.0.15): their text
 * forms, what clears them, their errors and the check. */
START_TEST(first_arg_rules)
{
    int pos;
    setup_once();
    fresh("+select|0 +SELECT|Db1 +select|db1", "off resetchannels -@all +select|0 +select|Db1");
    fresh("+select|0 +select", "off resetchannels -@all +select");
    fresh("+select|0 -select", "off resetchannels -@all");
    fresh("+select|0 -@connection", "off resetchannels -@all");
    fresh("+select|0 +@keyspace", "off resetchannels -@all +@keyspace +select|0");
    fresh("+select|0 -@all", "off resetchannels -@all");
    fresh("+@all -select +select|0", "off resetchannels +@all -select +select|0");
    fresh("+select|0 reset", "off sanitize-payload resetchannels -@all");
    fresh("+config|get", "off resetchannels -@all +config|get");
    fresh("(+select|1 ~y)", "off resetchannels -@all (~y resetchannels -@all +select|1)");
    acl_deluser("u", 1);
    ck_assert_str_eq(setuser("u", "+config|get|x"),
                     "ERR Error in ACL SETUSER modifier '+config|get|x': Allowing first-arg of a "
                     "subcommand is not supported");
    ck_assert_str_eq(setuser("u", "-select|0"), "ERR Error in ACL SETUSER modifier '-select|0': "
                                                "Unknown command or category name in ACL");
    ck_assert_str_eq(setuser("u", "+select|0|1"),
                     "ERR Error in ACL SETUSER modifier '+select|0|1': Unknown command or "
                     "category name in ACL");
    ck_assert_str_eq(setuser("u", "+select|"),
                     "ERR Error in ACL SETUSER modifier '+select|': Syntax error");
    ck_assert_ptr_null(acl_find("u", 1));
    ck_assert_ptr_null(setuser("u", "on nopass ~k* +select|0 +get|k1 (+select|2)"));
    ALLOWED("u", "SELECT 0");
    ALLOWED("u", "select 2");
    DENIED("u", "SELECT 1", ACL_DENIED_CMD, -1);
    ALLOWED("u", "GET k1");
    DENIED("u", "GET K1", ACL_DENIED_KEY, 1); /* the first arg matches; ~k* does not */
    DENIED("u", "GET k2", ACL_DENIED_CMD, -1);
    DENIED("u", "SET k1 v", ACL_DENIED_CMD, -1);
    acl_deluser("u", 1);
}
END_TEST

START_TEST(user_lines)
{
    struct acl_user *u;
    char line[] = "user bob on >pw ~b:* +get (+set ~c:*)";
    char bad[] = "user bob +nosuch";
    char noname[] = "bob on";
    char *d;
    setup_once();
    ck_assert_ptr_null(acl_parse_user_line(line, &u));
    d = acl_describe(u);
    ck_assert_str_eq(d, "on #30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4 "
                        "~b:* resetchannels -@all +get (~c:* resetchannels -@all +set)");
    free(d);
    acl_user_free(u);
    ck_assert_str_eq(acl_parse_user_line(bad, &u), "Unknown command or category name in ACL");
    ck_assert_ptr_nonnull(acl_parse_user_line(noname, &u));
}
END_TEST

/* ACL LIST's text, applied again to a fresh user, gives the same user. */
START_TEST(describe_round_trips)
{
    static const char *const rules[] = {
        "+@all -@dangerous -client +client|id",
        "+@read +@hash -hset ~a* %R~b &c",
        "+@list +@set -@write +del",
        "-@all +@connection -ping",
        "(+get ~x) (+@hash &y) on",
        "+@all -select +select|0 +select|9 (+echo|hi)",
    };
    size_t i;
    setup_once();
    for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
        char *d1, *d2;
        acl_deluser("u", 1);
        acl_deluser("v", 1);
        ck_assert_ptr_null(setuser("u", rules[i]));
        d1 = acl_describe(acl_find("u", 1));
        ck_assert_ptr_null(setuser("v", d1));
        d2 = acl_describe(acl_find("v", 1));
        ck_assert_msg(strcmp(d1, d2) == 0, "[%s] -> [%s] -> [%s]", rules[i], d1, d2);
        free(d1);
        free(d2);
    }
    acl_deluser("u", 1);
    acl_deluser("v", 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("acl");
    TCase *tc = unit_tcase("acl", 60);
    tcase_add_test(tc, default_user);
    tcase_add_test(tc, rule_forms);
    tcase_add_test(tc, rule_errors);
    tcase_add_test(tc, prefix_word_check);
    tcase_add_test(tc, passwords);
    tcase_add_test(tc, permission_check);
    tcase_add_test(tc, first_arg_rules);
    tcase_add_test(tc, user_lines);
    tcase_add_test(tc, describe_round_trips);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
