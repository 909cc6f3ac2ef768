/* test_client_mem.c — unit tests for core/kernel/client_mem.c
 * (maxmemory-clients): the power-of-two buckets, eviction from the largest
 * bucket down with CLIENT NO-EVICT clients counted but spared, and the
 * work per command (clients looked at, buffers read) staying the same with
 * 10 or 2,000 idle clients. Clients here have a fake adapter whose buffer
 * sizes the test sets and whose close is recorded. */
#include <stdio.h>
#include <string.h>

#include "acl.h"
#include "client.h"
#include "client_mem.h"
#include "config.h"
#include "evict.h"
#include "kernel.h"
#include "rec_sink.h"
#include "store.h"
#include "unit.h"

#define MAXC 2100

struct fake {
    size_t qbuf;
    bool closed;
};
static struct fake fakes[MAXC];
static struct client *cls[MAXC];
static int ncls;
static struct rec_sink sink;
static unsigned long long buffer_reads;

static void fake_buffers(struct client *c, size_t *qbuf, size_t *qfree, size_t *obl, size_t *oll,
                         size_t *omem)
{
    struct fake *f = c->conn;
    buffer_reads++;
    *qbuf = f->qbuf;
    *qfree = *obl = *oll = *omem = 0;
}

static void fake_close(struct client *c, bool after_reply)
{
    struct fake *f = c->conn;
    (void)after_reply;
    f->closed = true;
}

static void fake_describe(struct client *c, char *addr, size_t alen, char *laddr, size_t llen,
                          int *fd)
{
    (void)c;
    snprintf(addr, alen, "test");
    snprintf(laddr, llen, "test");
    *fd = -1;
}

static const struct client_adapter fake_ad = {
    .name = "fake", .close = fake_close, .describe = fake_describe, .buffers = fake_buffers};

static void add_clients(int n)
{
    int i;
    for (i = 0; i < n; i++) {
        fakes[ncls].qbuf = 0;
        fakes[ncls].closed = false;
        cls[ncls] = client_new(&fake_ad, &fakes[ncls], &rec_sink_ops);
        ncls++;
    }
}

static void setup(void)
{
    store_init(16);
    kernel_init();
    acl_init();
    client_mem_init();
    ncls = 0;
    buffer_reads = 0;
    g_config.maxmemory_clients = 0;
    g_config.maxmemory = 0;
    g_evict.evicted_clients = 0;
    (void)sink;
}

static void teardown(void)
{
    int i;
    for (i = 0; i < ncls; i++)
        client_free(cls[i]);
    g_config.maxmemory_clients = 0;
    store_shutdown();
}

/* Work for 100 commands of cls[0] (reads of a client's buffers). */
static unsigned long long work_per_100_commands(void)
{
    unsigned long long before = buffer_reads, v = client_mem_visits();
    int i;
    for (i = 0; i < 100; i++)
        ck_assert(!client_mem_evict(cls[0]));
    ck_assert_uint_eq(client_mem_visits() - v, buffer_reads - before);
    return buffer_reads - before;
}

START_TEST(per_command_work_is_flat)
{
    unsigned long long few, many;
    add_clients(10);
    g_config.maxmemory_clients = 1LL << 30; /* far above what they use */
    client_mem_evict(cls[0]);               /* turned on: every client counted once */
    few = work_per_100_commands();
    add_clients(1990);
    client_mem_cron(10); /* the cron counts the new ones, a share per call */
    {
        int i;
        for (i = 0; i < 400; i++)
            client_mem_cron(10);
    }
    ck_assert_uint_eq(client_mem_total(), (size_t)ncls * 1024);
    many = work_per_100_commands();
    ck_assert_uint_eq(few, 100); /* the current client only */
    ck_assert_uint_eq(many, few);
}
END_TEST

START_TEST(evicts_largest_bucket_first)
{
    add_clients(2000);
    g_config.maxmemory_clients = 1LL << 30;
    client_mem_evict(NULL);
    fakes[500].qbuf = 3u << 20; /* bucket 2^22 */
    fakes[700].qbuf = 9u << 20; /* bucket 2^24 */
    fakes[900].qbuf = 1u << 20; /* bucket 2^21 */
    client_mem_update(cls[500]);
    client_mem_update(cls[700]);
    client_mem_update(cls[900]);
    /* 2,000 KB of idle clients + 13 MB: under 5 MB needs 700 and 500 gone. */
    g_config.maxmemory_clients = 5LL << 20;
    buffer_reads = 0;
    ck_assert(!client_mem_evict(cls[0]));
    ck_assert(fakes[700].closed);
    ck_assert(fakes[500].closed);
    ck_assert(!fakes[900].closed);
    ck_assert(!fakes[0].closed);
    ck_assert_int_eq(g_evict.evicted_clients, 2);
    /* the current client's update, and the two evicted ones' log lines */
    ck_assert_uint_eq(buffer_reads, 3);
    /* An evicted client, not yet freed, is not counted or evicted again. */
    client_mem_update(cls[700]);
    ck_assert(!client_mem_evict(cls[0]));
    ck_assert_int_eq(g_evict.evicted_clients, 2);
}
END_TEST

START_TEST(no_evict_counts_but_is_spared)
{
    add_clients(3);
    g_config.maxmemory_clients = 1LL << 30;
    client_mem_evict(NULL);
    cls[1]->flags |= CF_NO_EVICT;
    fakes[1].qbuf = 4u << 20;
    client_mem_update(cls[1]);
    g_config.maxmemory_clients = 1LL << 20;
    /* the others go, the current one included (its command is dropped) */
    ck_assert(client_mem_evict(cls[0]));
    ck_assert(fakes[0].closed && fakes[2].closed && !fakes[1].closed);
    ck_assert_int_eq(g_evict.evicted_clients, 2);
    /* off: nothing counted any more */
    g_config.maxmemory_clients = 0;
    ck_assert(!client_mem_evict(cls[1]));
    ck_assert_uint_eq(client_mem_total(), 0);
}
END_TEST

START_TEST(percent_of_maxmemory)
{
    add_clients(2);
    g_config.maxmemory = 10LL << 20;
    g_config.maxmemory_clients = -10; /* 10% of maxmemory: 1 MB */
    fakes[1].qbuf = 2u << 20;
    ck_assert(!client_mem_evict(cls[0]));
    ck_assert(fakes[1].closed && !fakes[0].closed);
}
END_TEST

START_TEST(freed_clients_are_forgotten)
{
    add_clients(5);
    g_config.maxmemory_clients = 1LL << 30;
    client_mem_evict(NULL);
    ck_assert_uint_eq(client_mem_total(), 5 * 1024);
    client_free(cls[4]);
    ncls--;
    client_mem_cron(10);
    ck_assert_uint_eq(client_mem_total(), 4 * 1024);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("client_mem");
    TCase *tc = unit_tcase("client_mem", 120);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, per_command_work_is_flat);
    tcase_add_test(tc, evicts_largest_bucket_first);
    tcase_add_test(tc, no_evict_counts_but_is_spared);
    tcase_add_test(tc, percent_of_maxmemory);
    tcase_add_test(tc, freed_clients_are_forgotten);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
