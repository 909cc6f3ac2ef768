/* cmd_scan.c — SCAN HSCAN SSCAN ZSCAN: one body, as Redis's
 * scanGenericCommand, over the scan family's typed arguments (keel_family
 * "scan": A_SCAN_cursor, A_SCAN_key, ...). The order of checks is Redis's:
 * the cursor, then the key (missing: an empty page; another type:
 * WRONGTYPE), then the options (keel_deferred_from: the matcher kept their
 * first error), then one scan step. A compact value (listpack, intset) is
 * returned whole with cursor 0; a hash table is stepped as Redis does (at
 * most count*10 more buckets once past the first, stopping when count items
 * are collected) and MATCH (and SCAN's TYPE, and expiry) filter afterwards.
 * The values' iterators are core/types/t_hash.c, t_set.c, t_zset.c and the key
 * space's dict. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "commands_gen.h"
#include "kernel.h"
#include "store.h"
#include "t_hash.h"
#include "t_set.h"
#include "t_zset.h"
#include "util.h"

/* The items of one page: each is one string (a key, a set member) or two
 * (a hash field and value, a sorted set member and score), copied. */
struct page {
    char *bytes;
    size_t used, cap;
    size_t *off; /* string i is bytes[off[i] .. off[i+1]) */
    size_t nstr, capstr;
    int width; /* strings per item */
};

static void page_str(struct page *b, const char *p, size_t n)
{
    if (!b->bytes || b->used + n > b->cap) {
        b->cap = (b->used + n) * 2 + 256;
        b->bytes = xrealloc(b->bytes, b->cap);
    }
    if (b->nstr + 2 > b->capstr) {
        b->capstr = b->capstr ? b->capstr * 2 : 64;
        b->off = xrealloc(b->off, b->capstr * sizeof(size_t));
    }
    if (b->nstr == 0) b->off[0] = 0;
    if (n) memcpy(b->bytes + b->used, p, n);
    b->used += n;
    b->off[++b->nstr] = b->used;
}

static size_t page_items(const struct page *b)
{
    return b->nstr / (size_t)b->width;
}

static const char *page_at(const struct page *b, size_t i, size_t *n)
{
    *n = b->off[i + 1] - b->off[i];
    return b->bytes + b->off[i];
}

static void page_score(struct page *b, double score)
{
    char buf[128];
    int n = util_d2str(buf, sizeof(buf), score);
    page_str(b, buf, (size_t)n);
}

/* The scan callbacks of each value kind. */
static void on_key(void *priv, struct dnode *node)
{
    struct kv *e = (struct kv *)node;
    page_str(priv, kv_key(e), e->klen);
}

static void on_hash_field(void *priv, struct dnode *node)
{
    struct hfield *hf = (struct hfield *)node;
    page_str(priv, hf->data, hf->flen);
    page_str(priv, hfield_val(hf), hf->vlen);
}

static void on_member(void *priv, const char *p, size_t n)
{
    page_str(priv, p, n);
}

static void on_zmember(void *priv, const char *m, size_t n, double score)
{
    page_str(priv, m, n);
    page_score(priv, score);
}

/* A compact value, whole. */
static void load_whole(struct page *b, struct kv *e)
{
    if (e->type == OBJ_HASH) {
        struct hash_iter it;
        struct hval f, v;
        hash_iter_init(&it, e);
        while (hash_iter_next(&it, &f, &v)) {
            page_str(b, f.p, f.n);
            page_str(b, v.p, v.n);
        }
        hash_iter_done(&it);
    } else if (e->type == OBJ_SET) {
        struct setv s = set_of(e);
        struct set_iter it;
        struct set_elem el;
        set_iter_init(&it, &s);
        while (set_iter_next(&it, &el))
            page_str(b, el.p, el.n);
        set_iter_release(&it);
    } else {
        struct zset_iter it;
        for (zset_iter_rank(&it, e, 0, false); zset_iter_valid(&it); zset_iter_next(&it)) {
            size_t n;
            const char *m = zset_iter_member(&it, &n);
            page_str(b, m, n);
            page_score(b, zset_iter_get_score(&it));
        }
    }
}

/* One scan step of e (NULL: the key space) from cursor. */
static uint64_t scan_step(struct exec *x, struct kv *e, uint64_t cursor, struct page *b)
{
    if (!e) return dict_scan(&x->db->keys, cursor, on_key, b);
    if (e->type == OBJ_HASH) return hash_scan(e, cursor, on_hash_field, b);
    if (e->type == OBJ_SET) {
        struct setv s = set_of(e);
        return set_scan_ht(&s, cursor, on_member, b);
    }
    return zset_scan(e, cursor, on_zmember, b);
}

/* Whether the key space's item i stays: SCAN's TYPE (looked up, so it
 * expires) and keys found expired now (as Redis's expireIfNeeded). */
static bool key_stays(struct exec *x, const char *k, size_t kn)
{
    struct kv *e;
    if (HAS(x, A_SCAN_type)) {
        e = store_lookup_read_notouch(x->db, k, kn);
        if (!util_eqci(ARGP(x, A_SCAN_type), ARGN(x, A_SCAN_type),
                       e ? obj_type_name(e->type) : "none")) /* a value, not a token */
            return false;
    }
    e = store_peek(x->db, k, kn);
    if (e && store_is_expired(e)) {
        store_lookup_write(x->db, k, kn); /* expires it */
        return false;
    }
    return true;
}

/* Redis's scanGenericCommand; type is the value kind (-1: SCAN). */
static void scan_generic(struct exec *x, int type)
{
    const struct argv_ref *cur = &x->argv[ARG(x, A_SCAN_cursor)->pos];
    const char *pat = HAS(x, A_SCAN_pattern) ? ARGP(x, A_SCAN_pattern) : NULL;
    size_t plen = pat ? ARGN(x, A_SCAN_pattern) : 0, i, j, n, kept = 0;
    bool use_pattern = pat && !(plen == 1 && pat[0] == '*');
    long long count = HAS(x, A_SCAN_count) ? ARGI(x, A_SCAN_count) : 10;
    uint64_t cursor;
    struct kv *e = NULL;
    struct page b;
    bool *keep;

    if (!util_scan_cursor(cur->p, cur->n, &cursor)) {
        reply_error(x->r, "ERR invalid cursor");
        return;
    }
    if (HAS(x, A_SCAN_key)) {
        e = store_lookup_read(x->db, ARGP(x, A_SCAN_key), ARGN(x, A_SCAN_key));
        if (!e) {
            reply_array(x->r, 2);
            reply_bulk(x->r, "0", 1);
            reply_array(x->r, 0);
            return;
        }
        if (e->type != type) {
            reply_err(x->r, E_WRONGTYPE);
            return;
        }
    }
    /* The options' errors (COUNT < 1 is a syntax error, keel_min). */
    if (!arg_ok(x, A_SCAN_deferred)) return;

    memset(&b, 0, sizeof(b));
    b.width = type == OBJ_HASH || type == OBJ_ZSET ? 2 : 1;
    if (e && (e->enc == ENC_LISTPACK || e->enc == ENC_INTSET)) {
        load_whole(&b, e);
        cursor = 0;
    } else {
        long long maxit = count > LLONG_MAX / 10 ? LLONG_MAX : count * 10;
        do {
            cursor = scan_step(x, e, cursor, &b);
        } while (cursor && maxit-- && page_items(&b) < (size_t)count);
    }

    n = page_items(&b);
    keep = n ? xcalloc(n, sizeof(bool)) : NULL;
    for (i = 0; i < n; i++) {
        size_t kn;
        const char *k = page_at(&b, i * (size_t)b.width, &kn);
        keep[i] =
            (!use_pattern || util_glob(pat, plen, k, kn, false)) && (e || key_stays(x, k, kn));
        if (keep[i]) kept++;
    }
    reply_array(x->r, 2);
    reply_bulk_ll(x->r, (long long)cursor);
    reply_array(x->r, (long long)(kept * (size_t)b.width));
    for (i = 0; i < n; i++) {
        if (!keep[i]) continue;
        for (j = 0; j < (size_t)b.width; j++) {
            size_t sn;
            const char *sp = page_at(&b, i * (size_t)b.width + j, &sn);
            reply_bulk(x->r, sp, sn);
        }
    }
    free(keep);
    free(b.bytes);
    free(b.off);
}

/* SCAN cursor [MATCH pattern] [COUNT count] [TYPE type] */
void cmd_scan(struct exec *x)
{
    scan_generic(x, -1);
}

/* HSCAN key cursor [MATCH pattern] [COUNT count] */
void cmd_hscan(struct exec *x)
{
    scan_generic(x, OBJ_HASH);
}

/* SSCAN key cursor [MATCH pattern] [COUNT count] */
void cmd_sscan(struct exec *x)
{
    scan_generic(x, OBJ_SET);
}

/* ZSCAN key cursor [MATCH pattern] [COUNT count] */
void cmd_zscan(struct exec *x)
{
    scan_generic(x, OBJ_ZSET);
}
