/* test_lazyfree.c — unit tests for core/store/lazyfree.c: which values go to
 * the thread (over LAZYFREE_THRESHOLD by their type's effort, and only when
 * asked), the pending and freed counters after the thread drains, whole
 * keyspaces (store_flushdb async) counted one object per key, UNLINK-style
 * deletes through store_delete_lazy, and the counters' reset. */
#include <stdio.h>
#include <string.h>

#include "lazyfree.h"
#include "store.h"
#include "t_list.h"
#include "t_set.h"
#include "unit.h"

static struct kv *list_kv(const char *key, int elements, int fill)
{
    struct quicklist *ql = ql_new(fill, 0);
    char buf[32];
    int i;
    for (i = 0; i < elements; i++) {
        int n = snprintf(buf, sizeof(buf), "e%d", i);
        ql_push(ql, QL_TAIL, buf, (size_t)n);
    }
    return kv_new_ptr(key, strlen(key), OBJ_LIST, ENC_QUICKLIST, ql);
}

static void setup(void)
{
    obj_set_type_ops(OBJ_LIST, list_free_value, list_dup_value);
    obj_set_type_ops(OBJ_SET, set_free_value, set_dup_value);
    lazyfree_set_effort(OBJ_LIST, list_free_effort);
    lazyfree_set_effort(OBJ_SET, set_free_effort);
    store_init(2);
    lazyfree_drain();
    lazyfree_reset_stats();
}

static void teardown(void)
{
    store_shutdown();
}

START_TEST(values_over_the_threshold)
{
    /* 64 nodes: not over the threshold; 65 nodes: over it */
    lazyfree_kv(list_kv("a", 64, 1), true);
    lazyfree_drain();
    ck_assert_uint_eq(lazyfree_freed_objects(), 0);
    lazyfree_kv(list_kv("b", 65, 1), true);
    lazyfree_drain();
    ck_assert_uint_eq(lazyfree_freed_objects(), 1);
    ck_assert_uint_eq(lazyfree_pending_objects(), 0);
    /* big but not asked for: freed here */
    lazyfree_kv(list_kv("c", 500, 1), false);
    /* many elements in few nodes: cheap to free */
    lazyfree_kv(list_kv("d", 5000, -2), true);
    /* strings are always freed here */
    lazyfree_kv(kv_new_string("s", 1, "value", 5, false), true);
    lazyfree_drain();
    ck_assert_uint_eq(lazyfree_freed_objects(), 1);
    /* a set: its hash table's size */
    {
        struct setv s = set_new_ht(200);
        char buf[16];
        int i;
        for (i = 0; i < 200; i++)
            set_add(&s, buf, (size_t)snprintf(buf, sizeof(buf), "m%d", i));
        lazyfree_kv(kv_new_ptr("set", 3, OBJ_SET, s.enc, s.ptr), true);
    }
    lazyfree_drain();
    ck_assert_uint_eq(lazyfree_freed_objects(), 2);
    lazyfree_reset_stats();
    ck_assert_uint_eq(lazyfree_freed_objects(), 0);
}
END_TEST

START_TEST(keyspaces_and_deletes)
{
    struct db *db = store_db(0);
    int i;
    char key[16];
    for (i = 0; i < 1000; i++) {
        int n = snprintf(key, sizeof(key), "k%d", i);
        store_add(db, kv_new_string(key, (size_t)n, "v", 1, false), NULL, 0);
    }
    store_add(db, list_kv("big", 100, 1), NULL, 0);
    ck_assert(store_delete_lazy(db, "big", 3, "del", NOTIFY_GENERIC, true));
    ck_assert(!store_peek(db, "big", 3));
    ck_assert_int_eq(store_flushdb(db, true), 1000);
    ck_assert_uint_eq(dict_size(&db->keys), 0);
    /* the emptied database is usable at once */
    store_add(db, kv_new_string("after", 5, "v", 1, false), NULL, 0);
    ck_assert_ptr_nonnull(store_peek(db, "after", 5));
    lazyfree_drain();
    ck_assert_uint_eq(lazyfree_pending_objects(), 0);
    ck_assert_uint_eq(lazyfree_freed_objects(), 1001);
    /* a synchronous flush counts nothing */
    ck_assert_int_eq(store_flushdb(db, false), 1);
    ck_assert_uint_eq(lazyfree_freed_objects(), 1001);
}
END_TEST

static Suite *lazyfree_suite(void)
{
    Suite *s = suite_create("lazyfree");
    TCase *tc = unit_tcase("lazyfree", 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, values_over_the_threshold);
    tcase_add_test(tc, keyspaces_and_deletes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(lazyfree_suite());
}
