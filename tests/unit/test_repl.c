/* test_repl.c — unit tests for core/repl/repl.c: replication ids (fresh,
 * shifted on promotion), the backlog ring (wrapping, its window, reading
 * from an offset, resizing), Redis 7.0's rule for whether PSYNC can
 * continue, and the stream fed by propagation (SELECT when the db
 * changes, nothing on a replica). */
#include <stdlib.h>
#include <string.h>

#include "propagate.h"
#include "rdb.h"
#include "repl.h"
#include "unit.h"

static void collect(void *arg, const void *p, size_t n)
{
    sbuf_append(arg, p, n);
}

static void fresh(long long size)
{
    repl_backlog_free();
    memset(&g_repl_master, 0, sizeof(g_repl_master));
    g_repl_cfg.backlog_size = size;
    repl_init();
}

START_TEST(ids)
{
    char old[REPL_ID_LEN + 1];
    size_t i;
    fresh(16384);
    ck_assert_uint_eq(strlen(g_repl.replid), REPL_ID_LEN);
    for (i = 0; i < REPL_ID_LEN; i++)
        ck_assert(strchr("0123456789abcdef", g_repl.replid[i]) != NULL);
    ck_assert_str_eq(g_repl.replid2, "0000000000000000000000000000000000000000");
    ck_assert_int_eq(g_repl.second_replid_offset, -1);
    g_repl.offset = 1000;
    strcpy(old, g_repl.replid);
    repl_shift_replid();
    ck_assert_str_eq(g_repl.replid2, old);
    ck_assert_str_ne(g_repl.replid, old);
    ck_assert_int_eq(g_repl.second_replid_offset, 1001);
    repl_new_replid();
    ck_assert_int_eq(g_repl.second_replid_offset, -1);
    repl_set_replid("0123456789012345678901234567890123456789", 77);
    ck_assert_str_eq(g_repl.replid, "0123456789012345678901234567890123456789");
    ck_assert_int_eq(g_repl.offset, 77);
}
END_TEST

START_TEST(ring_wraps_and_reads)
{
    char chunk[1000];
    struct sbuf b;
    long long i, n;
    fresh(1000); /* raised to the 16 KB minimum */
    g_repl.offset = 500;
    repl_backlog_ensure();
    ck_assert(repl_backlog_exists());
    ck_assert_uint_eq(repl_backlog_size(), 16384);
    ck_assert_int_eq(repl_backlog_first_offset(), 501);
    ck_assert(g_propagate_on);
    /* 40,000 bytes: byte k of the stream (offset 501 + k) is k % 251 */
    for (i = 0; i < 40; i++) {
        int j;
        for (j = 0; j < 1000; j++)
            chunk[j] = (char)((i * 1000 + j) % 251);
        repl_feed_stream(chunk, sizeof(chunk));
    }
    ck_assert_int_eq(g_repl.offset, 40500);
    ck_assert_uint_eq(repl_backlog_histlen(), 16384);
    ck_assert_int_eq(repl_backlog_first_offset(), 40501 - 16384);
    /* read from the middle of the window */
    sbuf_init(&b);
    n = repl_backlog_read(40501 - 100, collect, &b);
    ck_assert_int_eq(n, 100);
    for (i = 0; i < 100; i++)
        ck_assert_int_eq(b.p[i], (unsigned char)((40000 - 100 + i) % 251));
    b.len = 0;
    n = repl_backlog_read(repl_backlog_first_offset(), collect, &b);
    ck_assert_int_eq(n, 16384);
    for (i = 0; i < 16384; i++)
        ck_assert_int_eq(b.p[i], (unsigned char)((40000 - 16384 + i) % 251));
    /* the next byte: nothing to send, but inside the window */
    ck_assert_int_eq(repl_backlog_read(40501, collect, &b), 0);
    ck_assert_int_eq(repl_backlog_read(40502, collect, &b), -1);
    ck_assert_int_eq(repl_backlog_read(repl_backlog_first_offset() - 1, collect, &b), -1);
    sbuf_free(&b);
    /* shrinking keeps the newest bytes */
    g_repl_cfg.backlog_size = 20000;
    repl_backlog_resize();
    ck_assert_uint_eq(repl_backlog_size(), 20000);
    ck_assert_uint_eq(repl_backlog_histlen(), 16384);
    sbuf_init(&b);
    ck_assert_int_eq(repl_backlog_read(40501 - 10, collect, &b), 10);
    for (i = 0; i < 10; i++)
        ck_assert_int_eq(b.p[i], (unsigned char)((40000 - 10 + i) % 251));
    sbuf_free(&b);
    repl_backlog_free();
    ck_assert(!repl_backlog_exists());
    ck_assert(!g_propagate_on);
}
END_TEST

START_TEST(can_continue)
{
    char id[REPL_ID_LEN + 1], old[REPL_ID_LEN + 1];
    fresh(16384);
    strcpy(id, g_repl.replid);
    /* no backlog: never */
    ck_assert(!repl_can_continue(id, 1));
    g_repl.offset = 100;
    repl_backlog_ensure();
    repl_feed_stream("0123456789", 10); /* offsets 101..110 */
    ck_assert(repl_can_continue(id, 101));
    ck_assert(repl_can_continue(id, 105));
    ck_assert(repl_can_continue(id, 111)); /* the next byte */
    ck_assert(!repl_can_continue(id, 112));
    ck_assert(!repl_can_continue(id, 100));
    ck_assert(!repl_can_continue("0123456789012345678901234567890123456789", 105));
    /* promotion: the old id is accepted up to second_replid_offset */
    strcpy(old, id);
    repl_shift_replid();
    ck_assert(repl_can_continue(old, 111));
    ck_assert(repl_can_continue(old, 105));
    repl_feed_stream("abc", 3);
    ck_assert(!repl_can_continue(old, 112)); /* past the switch */
    ck_assert(repl_can_continue(g_repl.replid, 114));
    repl_backlog_free();
}
END_TEST

START_TEST(feed_command_selects)
{
    struct sbuf b;
    static const char set[] = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n";
    static const char sel9[] = "*2\r\n$6\r\nSELECT\r\n$1\r\n9\r\n";
    size_t n = sizeof(set) - 1;
    fresh(16384);
    /* no backlog and no replica: nothing is counted */
    repl_feed_command(0, set, n);
    ck_assert_int_eq(g_repl.offset, 0);
    repl_backlog_ensure();
    repl_feed_command(9, set, n);
    repl_feed_command(9, set, n);
    repl_feed_command(-1, set, n);
    ck_assert_int_eq(g_repl.offset, (long long)(sizeof(sel9) - 1 + 3 * n));
    sbuf_init(&b);
    repl_backlog_read(1, collect, &b);
    ck_assert_uint_eq(b.len, sizeof(sel9) - 1 + 3 * n);
    ck_assert(memcmp(b.p, sel9, sizeof(sel9) - 1) == 0);
    ck_assert(memcmp(b.p + sizeof(sel9) - 1, set, n) == 0);
    sbuf_free(&b);
    /* a forced SELECT after a reset */
    repl_reset_selected_db();
    repl_feed_command(9, set, n);
    ck_assert_int_eq(g_repl.offset, (long long)(2 * (sizeof(sel9) - 1) + 4 * n));
    /* a replica feeds only what it applied */
    strcpy(g_repl_master.host, "127.0.0.1");
    repl_feed_command(3, set, n);
    ck_assert_int_eq(g_repl.offset, (long long)(2 * (sizeof(sel9) - 1) + 4 * n));
    repl_feed_stream(set, n);
    ck_assert_int_eq(g_repl.offset, (long long)(2 * (sizeof(sel9) - 1) + 5 * n));
    g_repl_master.host[0] = 0;
    repl_backlog_free();
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("repl");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, ids);
    tcase_add_test(tc, ring_wraps_and_reads);
    tcase_add_test(tc, can_continue);
    tcase_add_test(tc, feed_command_selects);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(suite());
}
