/* test_repl_replica.c — unit tests for core/repl/repl_replica.c: the master
 * client applies complete commands only and counts their bytes in the
 * offset (a transaction once its EXEC is applied), the stream's database
 * survives a lost link, a replica's store expires nothing itself (an
 * expired key misses for clients, is live for the master client), the
 * REPLICAOF argument checks, and the -READONLY / -MASTERDOWN refusals. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands_gen.h"
#include "kernel.h"
#include "multi.h"
#include "object.h"
#include "registry.h"
#include "rec_sink.h"
#include "repl.h"
#include "repl_replica.h"
#include "store.h"
#include "unit.h"
#include "util.h"

static void setup(void)
{
    struct kernel_hooks h = {
        .multi_passthrough = multi_passthrough,
        .multi_queue = multi_queue,
        .multi_has_write = multi_has_write,
        .exec = cmd_exec,
    };
    store_init(16);
    kernel_init();
    kernel_set_hooks(&h);
    g_repl_cfg.backlog_size = 16384;
    repl_init();
    g_store.replica = true;
    snprintf(g_repl_master.host, sizeof(g_repl_master.host), "127.0.0.1");
    g_repl_master.port = 1;
    g_repl_master.state = REPL_LINK_CONNECTED;
    repl_replica_continue(NULL); /* the master client, as after +CONTINUE */
}

static void teardown(void)
{
    repl_replica_link_lost();
    repl_backlog_free();
    memset(&g_repl_master, 0, sizeof(g_repl_master));
    g_store.replica = false;
    store_shutdown();
}

static const char *cmd(char *buf, size_t len, const char *a, const char *b, const char *c)
{
    const char *w[3] = {a, b, c};
    int n = c ? 3 : b ? 2 : 1, i;
    size_t off = (size_t)snprintf(buf, len, "*%d\r\n", n);
    for (i = 0; i < n; i++)
        off += (size_t)snprintf(buf + off, len - off, "$%zu\r\n%s\r\n", strlen(w[i]), w[i]);
    return buf;
}

static struct kv *peek(int db, const char *k)
{
    return store_peek(store_db(db), k, strlen(k));
}

START_TEST(only_complete_commands_count)
{
    char a[128], b[128], all[256];
    long long used;
    size_t na, nb;
    cmd(a, sizeof(a), "SET", "k", "v1");
    cmd(b, sizeof(b), "INCR", "n", NULL);
    na = strlen(a);
    nb = strlen(b);
    snprintf(all, sizeof(all), "%s%s", a, b);
    /* the first command and half of the second */
    used = repl_replica_apply(all, na + nb / 2);
    ck_assert_int_eq(used, (long long)na);
    ck_assert_int_eq(g_repl.offset, (long long)na);
    ck_assert_ptr_nonnull(peek(0, "k"));
    ck_assert_ptr_null(peek(0, "n"));
    /* the rest, from the start of the second */
    used = repl_replica_apply(all + na, nb);
    ck_assert_int_eq(used, (long long)nb);
    ck_assert_int_eq(g_repl.offset, (long long)(na + nb));
    ck_assert_ptr_nonnull(peek(0, "n"));
}
END_TEST

START_TEST(transaction_counts_at_exec)
{
    char m[64], s[128], e[64];
    size_t nm, ns, ne;
    long long before = g_repl.offset;
    cmd(m, sizeof(m), "MULTI", NULL, NULL);
    cmd(s, sizeof(s), "SET", "t", "1");
    cmd(e, sizeof(e), "EXEC", NULL, NULL);
    nm = strlen(m);
    ns = strlen(s);
    ne = strlen(e);
    ck_assert_int_eq(repl_replica_apply(m, nm), (long long)nm);
    ck_assert_int_eq(repl_replica_apply(s, ns), (long long)ns);
    /* consumed, queued, not counted */
    ck_assert_int_eq(g_repl.offset, before);
    ck_assert_uint_eq(repl_replica_pending(), nm + ns);
    ck_assert_ptr_null(peek(0, "t"));
    ck_assert_int_eq(repl_replica_apply(e, ne), (long long)ne);
    ck_assert_int_eq(g_repl.offset, before + (long long)(nm + ns + ne));
    ck_assert_uint_eq(repl_replica_pending(), 0);
    ck_assert_ptr_nonnull(peek(0, "t"));
}
END_TEST

START_TEST(lost_link_discards_open_transaction)
{
    char m[64], s[128];
    long long before = g_repl.offset;
    cmd(m, sizeof(m), "MULTI", NULL, NULL);
    cmd(s, sizeof(s), "SET", "lost", "1");
    repl_replica_apply(m, strlen(m));
    repl_replica_apply(s, strlen(s));
    repl_replica_link_lost();
    ck_assert_int_eq(g_repl.offset, before);
    ck_assert_uint_eq(repl_replica_pending(), 0);
    repl_replica_continue(NULL);
    ck_assert(!(repl_replica_master_client()->flags & CF_MULTI));
    ck_assert_ptr_null(peek(0, "lost"));
}
END_TEST

START_TEST(stream_db_survives_lost_link)
{
    char sel[64], set[128];
    cmd(sel, sizeof(sel), "SELECT", "5", NULL);
    cmd(set, sizeof(set), "SET", "x", "1");
    repl_replica_apply(sel, strlen(sel));
    repl_replica_link_lost();
    repl_replica_continue(NULL); /* +CONTINUE: no SELECT is sent again */
    repl_replica_apply(set, strlen(set));
    ck_assert_ptr_nonnull(peek(5, "x"));
    ck_assert_ptr_null(peek(0, "x"));
}
END_TEST

START_TEST(protocol_error)
{
    ck_assert_int_eq(repl_replica_apply("*1\r\n$x\r\n", 8), -1);
}
END_TEST

START_TEST(replica_expires_nothing)
{
    struct db *db = store_db(0);
    struct kv *e = kv_new_string("old", 3, "v", 1, false);
    store_add_expire(db, e, util_mstime() - 1000, NULL, 0);
    /* a client: missing, and still there */
    ck_assert_ptr_null(store_lookup_read(db, "old", 3));
    ck_assert_ptr_null(store_lookup_write(db, "old", 3));
    ck_assert_ptr_nonnull(store_peek(db, "old", 3));
    store_cron(1000); /* no active expiry on a replica */
    ck_assert_ptr_nonnull(store_peek(db, "old", 3));
    /* the master client's commands see it */
    g_store.obey_master = true;
    ck_assert_ptr_nonnull(store_lookup_read(db, "old", 3));
    g_store.obey_master = false;
    /* the primary's DEL removes it */
    {
        char del[64];
        cmd(del, sizeof(del), "DEL", "old", NULL);
        repl_replica_apply(del, strlen(del));
    }
    ck_assert_ptr_null(store_peek(db, "old", 3));
}
END_TEST

START_TEST(replicaof_port_checks)
{
    struct argval host = {0}, port = {0};
    struct argv_ref no = {"No", 2}, one = {"ONE", 3}, h = {"localhost", 9}, p = {"6380", 4},
                    bad = {"abc", 3}, big = {"65536", 5}, neg = {"-1", 2};
    ck_assert_ptr_null(keel_check_replicaof_host(&no, &host, NULL));
    ck_assert_ptr_null(keel_check_replicaof_port(&one, &port, &host));
    ck_assert_int_eq(port.i, -1);
    ck_assert_ptr_null(keel_check_replicaof_host(&h, &host, NULL));
    ck_assert_str_eq(keel_check_replicaof_port(&one, &port, &host), "ERR Invalid master port");
    ck_assert_ptr_null(keel_check_replicaof_port(&p, &port, &host));
    ck_assert_int_eq(port.i, 6380);
    ck_assert_str_eq(keel_check_replicaof_port(&bad, &port, &host), "ERR Invalid master port");
    ck_assert_str_eq(keel_check_replicaof_port(&big, &port, &host), "ERR Invalid master port");
    ck_assert_str_eq(keel_check_replicaof_port(&neg, &port, &host), "ERR Invalid master port");
}
END_TEST

START_TEST(refusals)
{
    struct rec_sink sink;
    struct reply r = {&rec_sink_ops, &sink, 2, 0};
    struct client *c = client_new(NULL, &sink, &rec_sink_ops);
    struct argv_ref set[3] = {{"SET", 3}, {"k", 1}, {"v", 1}}, get[2] = {{"GET", 3}, {"k", 1}};
    const struct command *wcmd = registry_resolve(3, set, &r);
    const struct command *rcmd = registry_resolve(2, get, &r);
    ck_assert_ptr_nonnull(wcmd);
    ck_assert_ptr_nonnull(rcmd);
    g_repl_replica_cfg.read_only = 1;
    g_repl_replica_cfg.serve_stale_data = 0;
    rec_sink_reset(&sink);
    ck_assert(repl_replica_refuse(c, wcmd, &r));
    ck_assert_str_eq(sink.err, "READONLY You can't write against a read only replica.");
    ck_assert(!repl_replica_refuse(c, rcmd, &r)); /* the link is up */
    ck_assert(!repl_replica_refuse(repl_replica_master_client(), wcmd, &r));
    g_repl_master.state = REPL_LINK_CONNECT;
    rec_sink_reset(&sink);
    ck_assert(repl_replica_refuse(c, rcmd, &r));
    ck_assert_str_eq(sink.err,
                     "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set "
                     "to 'no'.");
    g_repl_replica_cfg.serve_stale_data = 1;
    ck_assert(!repl_replica_refuse(c, rcmd, &r));
    g_repl_replica_cfg.read_only = 0;
    ck_assert(!repl_replica_refuse(c, wcmd, &r));
    client_free(c);
}
END_TEST

static Suite *replica_suite(void)
{
    Suite *s = suite_create("repl_replica");
    TCase *tc = unit_tcase("repl_replica", 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, only_complete_commands_count);
    tcase_add_test(tc, transaction_counts_at_exec);
    tcase_add_test(tc, lost_link_discards_open_transaction);
    tcase_add_test(tc, stream_db_survives_lost_link);
    tcase_add_test(tc, protocol_error);
    tcase_add_test(tc, replica_expires_nothing);
    tcase_add_test(tc, replicaof_port_checks);
    tcase_add_test(tc, refusals);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    registry_init();
    multi_init(); /* MULTI's per-client state is freed with its client */
    return unit_run(replica_suite());
}
