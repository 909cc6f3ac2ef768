/* test_rdb_stream.c — unit tests for core/persist/rdb_stream.c, the RDB
 * image loaded as it arrives: a keyspace of every type and encoding the
 * RDB tests use (int, short, long and LZF strings, listpack and quicklist
 * lists, intset and hashtable sets, listpack and skiplist zsets, listpack
 * and hashtable hashes, a stream with a group, expires, values bigger
 * than the source's window) saved once, then fed to rdb_load_stream in
 * chunks of 1, 7, 4096 bytes and random sizes, in the $<len> form and the
 * $EOF:<mark> form (the mark split across chunks), with bytes after the
 * payload handed back; the same DEBUG DIGEST as the whole image loaded
 * from memory. Truncated, corrupt and wrongly marked payloads fail
 * cleanly (the sanitizers watch the retired windows). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "digest.h"
#include "object.h"
#include "rdb.h"
#include "rdb_stream.h"
#include "store.h"
#include "t_hash.h"
#include "t_list.h"
#include "t_set.h"
#include "t_stream.h"
#include "t_zset.h"
#include "unit.h"
#include "util.h"

static const char MARK[] = "0123456789abcdef0123456789abcdef01234567";

static unsigned char *image;
static size_t image_n;
static char whole_digest[41];

static void fill_keyspace(void)
{
    char k[64], v[64];
    int i, out;
    double sc;
    struct kv *e;
    struct setv s;
    struct quicklist *ql;
    char *big = xmalloc(600000);
    for (i = 0; i < 600000; i++)
        big[i] = (char)('a' + ((unsigned)i * 7919u) % 26); /* not compressible much */
    for (i = 0; i < 3000; i++) {
        snprintf(k, sizeof(k), "str:%d", i);
        snprintf(v, sizeof(v), "value-%d", i * 31);
        e = kv_new_string(k, strlen(k), v, strlen(v), true);
        if (i % 10 == 0)
            store_add_expire(store_db(i % 3), e, util_mstime() + 1000000, NULL, 0);
        else
            store_add(store_db(i % 3), e, NULL, 0);
    }
    for (i = 0; i < 200; i++) {
        snprintf(k, sizeof(k), "int:%d", i);
        store_add(store_db(0), kv_new_int(k, strlen(k), (long long)i * 1000003 - 5000000), NULL, 0);
    }
    store_add(store_db(1), kv_new_string("big", 3, big, 600000, true), NULL, 0);
    memset(big, 'x', 300000); /* LZF */
    store_add(store_db(1), kv_new_string("lzf", 3, big, 300000, true), NULL, 0);
    /* lists: one small node, many nodes, one with values bigger than the window */
    ql = ql_new(-2, 0);
    ql_push(ql, QL_TAIL, "a", 1), ql_push(ql, QL_TAIL, "b", 1);
    store_add(store_db(0), kv_new_ptr("list:small", 10, OBJ_LIST, ENC_QUICKLIST, ql), NULL, 0);
    ql = ql_new(-2, 0);
    for (i = 0; i < 20000; i++) {
        snprintf(v, sizeof(v), "elem-%d", i);
        ql_push(ql, QL_TAIL, v, strlen(v));
    }
    store_add(store_db(0), kv_new_ptr("list:big", 8, OBJ_LIST, ENC_QUICKLIST, ql), NULL, 0);
    ql = ql_new(-2, 0);
    for (i = 0; i < 3; i++)
        ql_push(ql, QL_TAIL, big + i, 290000);
    store_add(store_db(2), kv_new_ptr("list:plain", 10, OBJ_LIST, ENC_QUICKLIST, ql), NULL, 0);
    /* sets */
    s = set_new_intset();
    for (i = 0; i < 100; i++) {
        snprintf(v, sizeof(v), "%d", i * 77);
        set_add(&s, v, strlen(v));
    }
    store_add(store_db(0), kv_new_ptr("set:int", 7, OBJ_SET, s.enc, s.ptr), NULL, 0);
    s = set_new_ht(0);
    for (i = 0; i < 5000; i++) {
        snprintf(v, sizeof(v), "member-%d", i);
        set_add(&s, v, strlen(v));
    }
    store_add(store_db(0), kv_new_ptr("set:ht", 6, OBJ_SET, s.enc, s.ptr), NULL, 0);
    /* zsets */
    e = zset_new_kv("zset:lp", 7, 0, 0);
    for (i = 0; i < 20; i++) {
        snprintf(v, sizeof(v), "m%d", i);
        zset_add(e, i * 1.5, v, strlen(v), 0, &out, &sc);
    }
    store_add(store_db(1), e, NULL, 0);
    e = zset_new_kv("zset:sl", 7, 0, 0);
    for (i = 0; i < 4000; i++) {
        snprintf(v, sizeof(v), "m%d", i);
        zset_add(e, i * 0.25, v, strlen(v), 0, &out, &sc);
    }
    store_add(store_db(1), e, NULL, 0);
    /* hashes */
    e = hash_new_kv("hash:lp", 7);
    hash_set(e, "f", 1, "v", 1);
    hash_set(e, "g", 1, "12345", 5);
    store_add(store_db(2), e, NULL, 0);
    e = hash_new_kv("hash:ht", 7);
    for (i = 0; i < 3000; i++) {
        snprintf(k, sizeof(k), "field-%d", i);
        snprintf(v, sizeof(v), "val-%d", i);
        hash_set(e, k, strlen(k), v, strlen(v));
    }
    store_add(store_db(2), e, NULL, 0);
    /* a stream with a group */
    {
        struct stream *st = stream_new();
        struct sid id, gid = {0, 0};
        for (i = 0; i < 500; i++) {
            const char *f[2] = {"field", v};
            size_t l[2] = {5, 0};
            snprintf(v, sizeof(v), "%d", i);
            l[1] = strlen(v);
            if (stream_append(st, f, l, 1, NULL, false, &id) != 0) abort();
        }
        if (!stream_group_create(st, "grp", 3, &gid, 0)) abort();
        store_add(store_db(3), kv_new_ptr("stream", 6, OBJ_STREAM, ENC_STREAM, st), NULL, 0);
    }
    free(big);
}

static void keyspace_digest(char *out)
{
    unsigned char d[20];
    digest_dataset(d);
    digest_hex(d, out);
}

static void fresh_store(void)
{
    store_shutdown();
    store_init(16);
}

/* ---- a source of chunks ---- */

struct feed {
    const unsigned char *p;
    size_t n, off;
    size_t chunk; /* 0: random sizes */
    unsigned seed;
};

static long feed_read(void *ctx, void *buf, size_t n)
{
    struct feed *f = ctx;
    size_t k = f->chunk;
    if (f->off >= f->n) return 0; /* the peer closed */
    if (!k) {
        f->seed = f->seed * 1103515245u + 12345u;
        k = 1 + (f->seed >> 8) % 9000;
    }
    if (k > n) k = n;
    if (k > f->n - f->off) k = f->n - f->off;
    memcpy(buf, f->p + f->off, k);
    f->off += k;
    return (long)k;
}

/* payload: the image (+ the mark in the $EOF: form) + tail bytes; pre:
 * how many of them arrived with the header. */
static bool load_chunked(size_t chunk, bool eof_form, const unsigned char *img, size_t n,
                         size_t pre, const char *tail, unsigned char **rest, size_t *nrest,
                         char *err, size_t errlen)
{
    size_t tn = tail ? strlen(tail) : 0, total = n + (eof_form ? 40 : 0) + tn;
    unsigned char *payload = xmalloc(total);
    struct feed f;
    struct rdb_stream_src src;
    bool ok;
    memcpy(payload, img, n);
    if (eof_form) memcpy(payload + n, MARK, 40);
    if (tn) memcpy(payload + total - tn, tail, tn);
    if (pre > total) pre = total;
    memset(&f, 0, sizeof(f));
    f.p = payload + pre;
    f.n = total - pre;
    f.chunk = chunk;
    f.seed = (unsigned)chunk + 17;
    memset(&src, 0, sizeof(src));
    src.read = feed_read;
    src.ctx = &f;
    src.pre = payload;
    src.npre = pre;
    src.len = eof_form ? -1 : (long long)n;
    src.mark = MARK;
    ok = rdb_load_stream(&src, NULL, rest, nrest, err, errlen);
    free(payload);
    return ok;
}

static void check_loads(size_t chunk, bool eof_form, size_t pre, const char *tail)
{
    char err[256] = "", dg[41];
    unsigned char *rest = NULL;
    size_t nrest = 0, tn = tail ? strlen(tail) : 0;
    fresh_store();
    ck_assert_msg(
        load_chunked(chunk, eof_form, image, image_n, pre, tail, &rest, &nrest, err, sizeof(err)),
        "chunk %zu eof %d: %s", chunk, eof_form, err);
    keyspace_digest(dg);
    ck_assert_str_eq(dg, whole_digest);
    /* what came after the payload is handed back, from its start (the
     * $<len> form never reads it from the peer; the $EOF: form may) */
    ck_assert_uint_le(nrest, tn);
    if (nrest)
        ck_assert_msg(memcmp(rest, tail, nrest) == 0, "chunk %zu eof %d pre %zu nrest %zu: %.*s",
                      chunk, eof_form, pre, nrest, (int)nrest, rest);
    if (pre >= image_n + (eof_form ? 40 : 0) + tn) ck_assert_uint_eq(nrest, tn);
    free(rest);
}

START_TEST(chunks_give_the_same_keyspace)
{
    static const size_t sizes[] = {7, 4096, 0, 65536, 1 << 20};
    size_t i;
    for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        check_loads(sizes[i], false, 0, NULL);
        check_loads(sizes[i], true, 0, NULL);
    }
}
END_TEST

START_TEST(one_byte_at_a_time)
{
    check_loads(1, true, 0, NULL);
    check_loads(1, false, 0, NULL);
}
END_TEST

START_TEST(mark_split_and_bytes_after)
{
    /* the mark split at every place across two reads: the image's end
     * arrives with the header, then 1..39 bytes of the mark, then the rest */
    size_t cut;
    for (cut = 1; cut < 40; cut += 6)
        check_loads(40 - cut + 3, true, image_n + cut, "*1\r\n$4\r\nPING\r\n");
    /* everything with the header, the stream's first bytes too */
    check_loads(4096, true, image_n + 40 + 14, "*1\r\n$4\r\nPING\r\n");
    check_loads(4096, false, image_n + 14, "*1\r\n$4\r\nPING\r\n");
    check_loads(0, false, 100, "*1\r\n$4\r\nPING\r\n");
}
END_TEST

START_TEST(truncated_and_corrupt_fail_cleanly)
{
    char err[256];
    unsigned char *rest, *bad;
    size_t nrest;
    /* the peer closes half way, in both forms */
    fresh_store();
    ck_assert(
        !load_chunked(4096, false, image, image_n / 2, 0, NULL, &rest, &nrest, err, sizeof(err)));
    ck_assert_ptr_null(rest);
    ck_assert(strstr(err, "Short read") != NULL);
    fresh_store();
    ck_assert(!load_chunked(7, true, image, image_n / 3, 0, NULL, &rest, &nrest, err, sizeof(err)));
    /* $<len> announced longer than what comes */
    {
        struct feed f = {image, image_n - 100, 0, 4096, 1};
        struct rdb_stream_src src = {feed_read, &f, NULL, 0, (long long)image_n, MARK};
        fresh_store();
        ck_assert(!rdb_load_stream(&src, NULL, &rest, &nrest, err, sizeof(err)));
    }
    /* a truncated image followed by its mark: refused at once */
    fresh_store();
    ck_assert(
        !load_chunked(4096, true, image, image_n - 9, 0, NULL, &rest, &nrest, err, sizeof(err)));
    /* the image whole but the mark wrong */
    {
        struct feed f;
        struct rdb_stream_src src = {feed_read, &f, NULL, 0, -1, MARK};
        bad = xmalloc(image_n + 40);
        memcpy(bad, image, image_n);
        memcpy(bad + image_n, "X123456789abcdef0123456789abcdef01234567", 40);
        memset(&f, 0, sizeof(f));
        f.p = bad;
        f.n = image_n + 40;
        f.chunk = 333;
        fresh_store();
        ck_assert(!rdb_load_stream(&src, NULL, &rest, &nrest, err, sizeof(err)));
        ck_assert(strstr(err, "EOF marker") != NULL);
        free(bad);
    }
    /* a flipped byte in a value: the checksum refuses it */
    bad = xmalloc(image_n);
    memcpy(bad, image, image_n);
    bad[image_n / 2] ^= 0x01;
    fresh_store();
    ck_assert(!load_chunked(0, false, bad, image_n, 0, NULL, &rest, &nrest, err, sizeof(err)));
    free(bad);
    fresh_store();
}
END_TEST

int main(void)
{
    char *argv[] = {"test_rdb_stream", NULL};
    Suite *s = suite_create("rdb_stream");
    TCase *tc = unit_tcase("rdb_stream", 600);
    int fds[2];
    char err[256];
    size_t cap = 1 << 24, used = 0;
    ssize_t r;
    config_init(config_table);
    if (!config_load(1, argv)) return EXIT_FAILURE;
    core_init_types();
    store_init(16);
    fill_keyspace();
    keyspace_digest(whole_digest);
    /* the image, through a pipe read by a child-less loop (it fits) */
    image = xmalloc(cap);
    if (pipe(fds) != 0) return EXIT_FAILURE;
    if (fork() == 0) {
        close(fds[0]);
        _exit(rdb_save_fd(fds[1], err, sizeof(err)) ? 0 : 1);
    }
    close(fds[1]);
    while ((r = read(fds[0], image + image_n, cap - image_n)) > 0)
        image_n += (size_t)r;
    close(fds[0]);
    /* the whole image from memory gives the same digest */
    fresh_store();
    if (!rdb_load_buffer(image, image_n, &used, err, sizeof(err)) || used != image_n) {
        fprintf(stderr, "whole load: %s\n", err);
        return EXIT_FAILURE;
    }
    keyspace_digest(err);
    if (strcmp(err, whole_digest) != 0) return EXIT_FAILURE;
    tcase_add_test(tc, chunks_give_the_same_keyspace);
    tcase_add_test(tc, one_byte_at_a_time);
    tcase_add_test(tc, mark_split_and_bytes_after);
    tcase_add_test(tc, truncated_and_corrupt_fail_cleanly);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
