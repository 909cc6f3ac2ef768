/* t_stream.c — the stream value type (t_stream.h): ids, appending into
 * Redis 7.0's node layout, walking entries both ways, deletion (tombstone
 * flags, whole nodes when empty), trimming, consumer groups, consumers and
 * their pending entries, and the free / deep-copy hooks. */
#include "t_stream.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "listpack.h"
#include "util.h"

#define LP_MAX_SIZE (1ULL << 30) /* Redis's STREAM_LISTPACK_MAX_SIZE */

/* ------------------------------------------------------------------ ids */

void sid_encode(unsigned char out[16], const struct sid *id)
{
    int b;
    for (b = 0; b < 8; b++) {
        out[b] = (unsigned char)(id->ms >> (56 - 8 * b));
        out[8 + b] = (unsigned char)(id->seq >> (56 - 8 * b));
    }
}

void sid_decode(const unsigned char in[16], struct sid *id)
{
    int b;
    id->ms = id->seq = 0;
    for (b = 0; b < 8; b++) {
        id->ms = (id->ms << 8) | in[b];
        id->seq = (id->seq << 8) | in[8 + b];
    }
}

int sid_format(char *buf, const struct sid *id)
{
    int n = util_ull2str(buf, (unsigned long long)id->ms);
    buf[n++] = '-';
    return n + util_ull2str(buf + n, (unsigned long long)id->seq);
}

/* An unsigned 64-bit decimal as Redis's string2ull reads one: a strict
 * integer when it is one (negative: invalid), else what strtoull takes
 * whole (leading white space, a sign: "+5", " 7", "-05" wraps around),
 * never an overflow. p is n bytes with no NUL (sid_parse cut it there). */
static bool parse_u64(const char *p, size_t n, uint64_t *out)
{
    char buf[128], *end;
    unsigned long long v;
    long long ll;
    if (util_str2ll(p, n, &ll)) {
        if (ll < 0) return false;
        *out = (uint64_t)ll;
        return true;
    }
    if (n == 0 || n >= sizeof(buf)) return false;
    memcpy(buf, p, n);
    buf[n] = 0;
    errno = 0;
    v = strtoull(buf, &end, 10);
    if (errno == EINVAL || errno == ERANGE || *end) return false;
    *out = (uint64_t)v;
    return true;
}

/* Redis reads an id as a C string (of at most 127 bytes): it ends at the
 * first NUL byte, so "5\0x" is 5. */
bool sid_parse(const char *p, size_t n, uint64_t missing_seq, bool allow_special,
               bool allow_auto_seq, struct sid *id, bool *seq_given)
{
    const char *dash, *nul;
    if (seq_given) *seq_given = true;
    if (n > 127) return false;
    nul = memchr(p, 0, n);
    if (nul) n = (size_t)(nul - p);
    if (allow_special && n == 1 && (p[0] == '-' || p[0] == '+')) {
        id->ms = id->seq = p[0] == '-' ? 0 : UINT64_MAX;
        return true;
    }
    dash = memchr(p, '-', n);
    if (!dash) {
        if (!parse_u64(p, n, &id->ms)) return false;
        id->seq = missing_seq;
        return true;
    }
    if (!parse_u64(p, (size_t)(dash - p), &id->ms)) return false;
    if (allow_auto_seq && (size_t)(p + n - dash) == 2 && dash[1] == '*') {
        id->seq = 0;
        if (seq_given) *seq_given = false;
        return true;
    }
    return parse_u64(dash + 1, (size_t)(p + n - dash - 1), &id->seq);
}

bool sid_incr(struct sid *id)
{
    if (id->seq == UINT64_MAX) {
        if (id->ms == UINT64_MAX) return false;
        id->ms++;
        id->seq = 0;
    } else {
        id->seq++;
    }
    return true;
}

bool sid_decr(struct sid *id)
{
    if (id->seq == 0) {
        if (id->ms == 0) return false;
        id->ms--;
        id->seq = UINT64_MAX;
    } else {
        id->seq--;
    }
    return true;
}

/* ------------------------------------------------------------- helpers */

static long long lp_int(unsigned char *p)
{
    char ib[LP_INTBUF];
    size_t n;
    bool isint;
    long long v = 0;
    const char *s = lp_get(p, &n, ib, &isint, &v);
    if (!isint) util_str2ll(s, n, &v);
    return v;
}

/* Replace the integer at p; returns the new buffer, *p updated. */
static unsigned char *lp_set_int(unsigned char *lp, unsigned char **p, long long v)
{
    unsigned char *np = NULL;
    lp = lp_insert_int(lp, v, *p, LP_REPLACE, &np);
    *p = np;
    return lp;
}

static unsigned char *lp_skip(unsigned char *lp, unsigned char *p, long long n)
{
    while (p && n-- > 0)
        p = lp_next(lp, p);
    return p;
}

/* ------------------------------------------------------- value hooks */

struct stream *stream_new(void)
{
    struct stream *s = xcalloc(1, sizeof(*s));
    s->rax = rax_new();
    return s;
}

static void free_lp(void *p)
{
    lp_free(p);
}

static void free_consumer(void *p)
{
    struct sconsumer *c = p;
    rax_free(c->pel, NULL);
    free(c->name);
    free(c);
}

static void free_group(void *p)
{
    struct sgroup *g = p;
    rax_free(g->pel, free);
    rax_free(g->consumers, free_consumer);
    free(g);
}

void stream_free_value(void *ptr, int enc)
{
    struct stream *s = ptr;
    (void)enc;
    if (!s) return;
    rax_free(s->rax, free_lp);
    if (s->cgroups) rax_free(s->cgroups, free_group);
    free(s);
}

size_t stream_free_effort(void *ptr, int enc)
{
    /* as Redis's lazyfreeGetFreeEffort: the nodes, and each group with its
     * pending entries */
    struct stream *s = ptr;
    struct rax_iter it;
    size_t effort = (size_t)s->rax->numnodes;
    (void)enc;
    if (!s->cgroups) return effort;
    rax_iter_start(&it, s->cgroups);
    for (bool ok = rax_seek(&it, RAX_FIRST, NULL, 0); ok; ok = rax_next(&it))
        effort += 1 + (size_t)((struct sgroup *)it.data)->pel->numele;
    rax_iter_stop(&it);
    return effort;
}

void *stream_dup_value(void *ptr, int enc)
{
    struct stream *s = ptr, *d;
    struct rax_iter it;
    bool ok;
    (void)enc;
    d = stream_new();
    d->length = s->length;
    d->last_id = s->last_id;
    d->first_id = s->first_id;
    d->max_deleted_id = s->max_deleted_id;
    d->entries_added = s->entries_added;
    rax_iter_start(&it, s->rax);
    for (ok = rax_seek(&it, RAX_FIRST, NULL, 0); ok; ok = rax_next(&it)) {
        size_t n = lp_bytes(it.data);
        unsigned char *lp = xmalloc(n);
        memcpy(lp, it.data, n);
        rax_insert(d->rax, it.key, it.key_len, lp, NULL);
    }
    if (s->cgroups) {
        struct rax_iter gi;
        d->cgroups = rax_new();
        rax_iter_start(&gi, s->cgroups);
        for (ok = rax_seek(&gi, RAX_FIRST, NULL, 0); ok; ok = rax_next(&gi)) {
            struct sgroup *g = gi.data, *ng;
            struct rax_iter ci, pi;
            bool ok2;
            ng = stream_group_create(d, (const char *)gi.key, gi.key_len, &g->last_id,
                                     g->entries_read);
            rax_iter_start(&ci, g->consumers);
            for (ok2 = rax_seek(&ci, RAX_FIRST, NULL, 0); ok2; ok2 = rax_next(&ci)) {
                struct sconsumer *c = ci.data, *nc;
                bool ok3;
                nc = stream_consumer_get(ng, c->name, c->nlen, c->seen_time, NULL);
                rax_iter_start(&pi, c->pel);
                for (ok3 = rax_seek(&pi, RAX_FIRST, NULL, 0); ok3; ok3 = rax_next(&pi)) {
                    struct snack *o = pi.data, *nn = snack_new(nc, o->delivery_time);
                    nn->delivery_count = o->delivery_count;
                    rax_insert(ng->pel, pi.key, 16, nn, NULL);
                    rax_insert(nc->pel, pi.key, 16, nn, NULL);
                }
                rax_iter_stop(&pi);
            }
            rax_iter_stop(&ci);
        }
        rax_iter_stop(&gi);
    }
    rax_iter_stop(&it);
    return d;
}

/* ------------------------------------------------------------ append */

static bool next_auto_id(const struct sid *last, struct sid *out)
{
    uint64_t ms = (uint64_t)util_mstime();
    if (ms > last->ms) {
        out->ms = ms;
        out->seq = 0;
        return true;
    }
    *out = *last;
    return sid_incr(out);
}

int stream_append(struct stream *s, const char *const *fields, const size_t *lens, long nfields,
                  const struct sid *use_id, bool seq_given, struct sid *added)
{
    struct sid id, master;
    struct rax_iter ri;
    unsigned char *lp = NULL, key[16];
    size_t totlen = 0;
    long long flags = SF_NONE, lp_count;
    long i;
    if (use_id) {
        if (seq_given) {
            id = *use_id;
        } else if (s->last_id.ms == use_id->ms) {
            if (s->last_id.seq == UINT64_MAX) return ERANGE;
            id = s->last_id;
            id.seq++;
        } else {
            id = *use_id;
        }
    } else if (!next_auto_id(&s->last_id, &id)) {
        return ERANGE;
    }
    if (sid_cmp(&id, &s->last_id) <= 0) return EDOM;

    /* The last node, if there is room in it. */
    if (!s->tail) {
        rax_iter_start(&ri, s->rax);
        if (rax_seek(&ri, RAX_LAST, NULL, 0)) {
            memcpy(s->tail_key, ri.key, 16);
            s->tail = rax_slot(s->rax, ri.key, 16);
        }
        rax_iter_stop(&ri);
    }
    if (s->tail) {
        lp = *s->tail;
        memcpy(key, s->tail_key, 16);
    }
    for (i = 0; i < nfields * 2; i++)
        totlen += lens[i];
    if (lp) {
        size_t maxb = (size_t)g_config.stream_node_max_bytes;
        if (maxb == 0 || maxb > LP_MAX_SIZE) maxb = LP_MAX_SIZE;
        if (lp_bytes(lp) + totlen >= maxb) {
            lp = NULL;
        } else if (g_config.stream_node_max_entries) {
            unsigned char *p = lp_first(lp);
            long long count = lp_int(p) + lp_int(lp_next(lp, p));
            if (count >= g_config.stream_node_max_entries) lp = NULL;
        }
    }
    if (!lp) {
        master = id;
        sid_encode(key, &master);
        lp = lp_new(0);
        lp = lp_append_int(lp, 1); /* count */
        lp = lp_append_int(lp, 0); /* deleted */
        lp = lp_append_int(lp, nfields);
        for (i = 0; i < nfields; i++)
            lp = lp_append(lp, fields[2 * i], lens[2 * i]);
        lp = lp_append_int(lp, 0); /* master terminator */
        rax_insert(s->rax, key, 16, lp, NULL);
        s->tail = rax_slot(s->rax, key, 16);
        memcpy(s->tail_key, key, 16);
        flags |= SF_SAMEFIELDS;
    } else {
        unsigned char *p = lp_first(lp);
        long long mnf;
        sid_decode(key, &master);
        lp = lp_set_int(lp, &p, lp_int(p) + 1);
        p = lp_next(lp, p); /* deleted */
        p = lp_next(lp, p); /* master field count */
        mnf = lp_int(p);
        if (mnf == nfields) {
            p = lp_next(lp, p);
            for (i = 0; i < nfields; i++) {
                if (!lp_eq(p, fields[2 * i], lens[2 * i])) break;
                p = lp_next(lp, p);
            }
            if (i == nfields) flags |= SF_SAMEFIELDS;
        }
    }
    lp_count = nfields + 3;
    if (!(flags & SF_SAMEFIELDS)) lp_count += nfields + 1;
    {
        /* the entry in one reallocation: flags, ms and seq diffs, [the
         * field count], [field] value ..., its own element count */
        struct lp_item stack[32], *it = (size_t)lp_count + 1 <= 32
                                            ? stack
                                            : xmalloc(sizeof(*it) * ((size_t)lp_count + 1));
        size_t k = 0;
        it[k++] = (struct lp_item){NULL, 0, flags};
        it[k++] = (struct lp_item){NULL, 0, (long long)(id.ms - master.ms)};
        it[k++] = (struct lp_item){NULL, 0, (long long)(id.seq - master.seq)};
        if (!(flags & SF_SAMEFIELDS)) it[k++] = (struct lp_item){NULL, 0, (long long)nfields};
        for (i = 0; i < nfields; i++) {
            if (!(flags & SF_SAMEFIELDS)) it[k++] = (struct lp_item){fields[2 * i], lens[2 * i], 0};
            it[k++] = (struct lp_item){fields[2 * i + 1], lens[2 * i + 1], 0};
        }
        it[k++] = (struct lp_item){NULL, 0, lp_count};
        lp = lp_append_items(lp, it, k);
        if (it != stack) free(it);
    }
    *s->tail = lp;
    s->length++;
    s->entries_added++;
    s->last_id = id;
    if (s->length == 1) s->first_id = id;
    if (added) *added = id;
    return 0;
}

/* ----------------------------------------------------------- iterate */

/* Load the node the rax iterator is on; false past the end. */
static bool iter_load(struct stream_iter *it)
{
    unsigned char *p;
    if (!it->ri.valid) return false;
    it->lp = it->ri.data;
    sid_decode(it->ri.key, &it->master_id);
    p = lp_first(it->lp);
    p = lp_next(it->lp, p); /* deleted */
    p = lp_next(it->lp, p); /* master field count */
    it->master_nfields = lp_int(p);
    it->master_first = lp_next(it->lp, p);
    p = lp_skip(it->lp, p, it->master_nfields + 1); /* the terminator */
    it->cur = it->rev ? lp_last(it->lp) : lp_next(it->lp, p);
    return true;
}

void stream_iter_start(struct stream_iter *it, struct stream *s, const struct sid *start,
                       const struct sid *end, bool rev)
{
    unsigned char k[16];
    memset(it, 0, sizeof(*it));
    it->s = s;
    it->start = start ? *start : (struct sid){0, 0};
    it->end = end ? *end : (struct sid){UINT64_MAX, UINT64_MAX};
    it->rev = rev;
    rax_iter_start(&it->ri, s->rax);
    sid_encode(k, rev ? &it->end : &it->start);
    if (!rax_seek(&it->ri, RAX_LE, k, 16) && !rev) rax_seek(&it->ri, RAX_FIRST, NULL, 0);
    if (!iter_load(it)) it->lp = NULL;
}

bool stream_iter_next(struct stream_iter *it, struct sid *id, long long *nfields)
{
    while (it->lp) {
        unsigned char *flagsp, *p;
        long long lp_count;
        struct sid cur;
        if (!it->cur) goto next_node;
        if (it->rev) {
            lp_count = lp_int(it->cur);
            if (lp_count == 0) goto next_node; /* the master terminator */
            flagsp = it->cur;
            while (lp_count--)
                flagsp = lp_prev(it->lp, flagsp);
        } else {
            flagsp = it->cur;
        }
        it->flags = lp_int(flagsp);
        p = lp_next(it->lp, flagsp);
        cur.ms = it->master_id.ms + (uint64_t)lp_int(p);
        p = lp_next(it->lp, p);
        cur.seq = it->master_id.seq + (uint64_t)lp_int(p);
        p = lp_next(it->lp, p);
        if (it->flags & SF_SAMEFIELDS) {
            it->nfields = it->master_nfields;
        } else {
            it->nfields = lp_int(p);
            p = lp_next(it->lp, p);
        }
        it->fp = p;
        it->mfp = it->master_first;
        it->fi = 0;
        /* Where the walk goes next. */
        if (it->rev) {
            it->cur = lp_prev(it->lp, flagsp);
        } else {
            long long skip = (it->flags & SF_SAMEFIELDS) ? it->nfields : it->nfields * 2;
            it->cur = lp_next(it->lp, lp_skip(it->lp, p, skip));
        }
        if (!it->rev) {
            if (sid_cmp(&cur, &it->end) > 0) break;
            if (sid_cmp(&cur, &it->start) < 0) continue;
        } else {
            if (sid_cmp(&cur, &it->start) < 0) break;
            if (sid_cmp(&cur, &it->end) > 0) continue;
        }
        if (it->flags & SF_DELETED) continue;
        *id = cur;
        if (nfields) *nfields = it->nfields;
        return true;
    next_node:
        if (!(it->rev ? rax_prev(&it->ri) : rax_next(&it->ri)) || !iter_load(it)) break;
    }
    it->lp = NULL;
    return false;
}

bool stream_iter_field(struct stream_iter *it, const char **f, size_t *fl, char *fbuf,
                       const char **v, size_t *vl, char *vbuf)
{
    if (it->fi >= it->nfields) return false;
    if (it->flags & SF_SAMEFIELDS) {
        *f = lp_get(it->mfp, fl, fbuf, NULL, NULL);
        it->mfp = lp_next(it->lp, it->mfp);
    } else {
        *f = lp_get(it->fp, fl, fbuf, NULL, NULL);
        it->fp = lp_next(it->lp, it->fp);
    }
    *v = lp_get(it->fp, vl, vbuf, NULL, NULL);
    it->fp = lp_next(it->lp, it->fp);
    it->fi++;
    return true;
}

void stream_iter_stop(struct stream_iter *it)
{
    rax_iter_stop(&it->ri);
}

/* ------------------------------------------------------------ delete */

/* Find the live entry id: its node (key in nodekey) and flags element. */
static unsigned char *find_entry(struct stream *s, const struct sid *id, unsigned char nodekey[16],
                                 unsigned char **lpp)
{
    struct rax_iter ri;
    unsigned char k[16], *lp, *p;
    struct sid master;
    long long mnf, count, deleted, i;
    sid_encode(k, id);
    rax_iter_start(&ri, s->rax);
    if (!rax_seek(&ri, RAX_LE, k, 16)) {
        rax_iter_stop(&ri);
        return NULL;
    }
    memcpy(nodekey, ri.key, 16);
    lp = ri.data;
    rax_iter_stop(&ri);
    sid_decode(nodekey, &master);
    p = lp_first(lp);
    count = lp_int(p);
    p = lp_next(lp, p);
    deleted = lp_int(p);
    p = lp_next(lp, p);
    mnf = lp_int(p);
    p = lp_skip(lp, p, mnf + 2); /* first entry's flags */
    for (i = 0; i < count + deleted && p; i++) {
        unsigned char *fp = p;
        long long flags = lp_int(p), nf;
        struct sid cur;
        p = lp_next(lp, p);
        cur.ms = master.ms + (uint64_t)lp_int(p);
        p = lp_next(lp, p);
        cur.seq = master.seq + (uint64_t)lp_int(p);
        p = lp_next(lp, p);
        if (flags & SF_SAMEFIELDS) {
            nf = mnf;
        } else {
            nf = lp_int(p) * 2;
            p = lp_next(lp, p);
        }
        p = lp_next(lp, lp_skip(lp, p, nf));
        if (sid_cmp(&cur, id) == 0) {
            if (flags & SF_DELETED) return NULL;
            *lpp = lp;
            return fp;
        }
        if (sid_cmp(&cur, id) > 0) return NULL;
    }
    return NULL;
}

bool stream_has_entry(struct stream *s, const struct sid *id)
{
    unsigned char key[16], *lp;
    return find_entry(s, id, key, &lp) != NULL;
}

bool stream_delete(struct stream *s, const struct sid *id)
{
    unsigned char key[16], *lp = NULL, *fp = find_entry(s, id, key, &lp), *p;
    long long flags, count;
    if (!fp) return false;
    flags = lp_int(fp);
    lp = lp_set_int(lp, &fp, flags | SF_DELETED); /* same size: 7-bit either way */
    p = lp_first(lp);
    count = lp_int(p);
    if (count == 1) {
        lp_free(lp);
        rax_remove(s->rax, key, 16, NULL);
        s->tail = NULL;
    } else {
        lp = lp_set_int(lp, &p, count - 1);
        p = lp_next(lp, p);
        lp = lp_set_int(lp, &p, lp_int(p) + 1);
        rax_insert(s->rax, key, 16, lp, NULL);
    }
    s->length--;
    if (sid_cmp(id, &s->max_deleted_id) > 0) s->max_deleted_id = *id;
    if (sid_cmp(id, &s->first_id) == 0) {
        if (!stream_edge_id(s, true, &s->first_id)) s->first_id = (struct sid){0, 0};
    }
    return true;
}

bool stream_edge_id(struct stream *s, bool first, struct sid *id)
{
    struct stream_iter it;
    bool ok;
    stream_iter_start(&it, s, NULL, NULL, !first);
    ok = stream_iter_next(&it, id, NULL);
    stream_iter_stop(&it);
    if (!ok) id->ms = id->seq = 0;
    return ok;
}

/* -------------------------------------------------------------- trim */

/* The last id (live or not) of a node. */
static void node_last_id(unsigned char *lp, const struct sid *master, struct sid *out)
{
    unsigned char *p = lp_last(lp);
    long long n = lp_int(p);
    while (n--)
        p = lp_prev(lp, p);
    p = lp_next(lp, p);
    out->ms = master->ms + (uint64_t)lp_int(p);
    p = lp_next(lp, p);
    out->seq = master->seq + (uint64_t)lp_int(p);
}

long long stream_trim(struct stream *s, enum stream_trim_strategy how, long long maxlen,
                      const struct sid *minid, bool approx, long long limit)
{
    struct rax_iter ri;
    long long deleted = 0;
    bool ok;
    if (how == TRIM_NONE) return 0;
    rax_iter_start(&ri, s->rax);
    ok = rax_seek(&ri, RAX_FIRST, NULL, 0);
    while (ok) {
        unsigned char *lp = ri.data, *p = lp_first(lp), key[16];
        long long entries = lp_int(p), mnf, from_lp = 0, marked;
        struct sid master;
        bool remove_node;
        if (how == TRIM_MAXLEN && s->length <= (uint64_t)maxlen) break;
        if (limit && deleted + entries > limit) break;
        memcpy(key, ri.key, 16);
        sid_decode(key, &master);
        if (how == TRIM_MAXLEN) {
            remove_node = s->length - (uint64_t)entries >= (uint64_t)maxlen;
        } else {
            struct sid last;
            node_last_id(lp, &master, &last);
            remove_node = sid_cmp(&last, minid) < 0;
        }
        if (remove_node) {
            lp_free(lp);
            rax_remove(s->rax, key, 16, NULL);
            s->tail = NULL;
            s->length -= (uint64_t)entries;
            deleted += entries;
            ok = rax_seek(&ri, RAX_GE, key, 16);
            continue;
        }
        if (approx) break;
        p = lp_next(lp, p);
        p = lp_next(lp, p);
        mnf = lp_int(p);
        p = lp_skip(lp, p, mnf + 2);
        while (p) {
            unsigned char *fp = p;
            long long flags = lp_int(p), skip;
            struct sid cur;
            p = lp_next(lp, p);
            cur.ms = master.ms + (uint64_t)lp_int(p);
            p = lp_next(lp, p);
            cur.seq = master.seq + (uint64_t)lp_int(p);
            p = lp_next(lp, p);
            if (how == TRIM_MAXLEN ? s->length <= (uint64_t)maxlen : sid_cmp(&cur, minid) >= 0)
                break;
            if (flags & SF_SAMEFIELDS) {
                skip = mnf;
            } else {
                skip = lp_int(p) * 2;
                p = lp_next(lp, p);
            }
            p = lp_next(lp, lp_skip(lp, p, skip));
            if (!(flags & SF_DELETED)) {
                size_t off = p ? (size_t)(p - lp) : 0;
                lp = lp_set_int(lp, &fp, flags | SF_DELETED);
                if (p) p = lp + off;
                from_lp++;
                s->length--;
            }
        }
        deleted += from_lp;
        p = lp_first(lp);
        lp = lp_set_int(lp, &p, entries - from_lp);
        p = lp_next(lp, p);
        marked = lp_int(p);
        lp = lp_set_int(lp, &p, marked + from_lp);
        rax_insert(s->rax, key, 16, lp, NULL);
        break;
    }
    rax_iter_stop(&ri);
    if (s->length == 0)
        s->first_id = (struct sid){0, 0};
    else
        stream_edge_id(s, true, &s->first_id);
    return deleted;
}

/* ---------------------------------------------------- consumer groups */

struct sgroup *stream_group_find(struct stream *s, const char *name, size_t n)
{
    void *v;
    if (!s->cgroups || !rax_find(s->cgroups, (const unsigned char *)name, n, &v)) return NULL;
    return v;
}

struct sgroup *stream_group_create(struct stream *s, const char *name, size_t n,
                                   const struct sid *id, long long entries_read)
{
    struct sgroup *g;
    if (!s->cgroups) s->cgroups = rax_new();
    if (stream_group_find(s, name, n)) return NULL;
    g = xcalloc(1, sizeof(*g));
    g->pel = rax_new();
    g->consumers = rax_new();
    g->last_id = *id;
    g->entries_read = entries_read;
    rax_insert(s->cgroups, (const unsigned char *)name, n, g, NULL);
    return g;
}

bool stream_group_destroy(struct stream *s, const char *name, size_t n)
{
    void *v;
    if (!s->cgroups || !rax_remove(s->cgroups, (const unsigned char *)name, n, &v)) return false;
    free_group(v);
    return true;
}

struct sconsumer *stream_consumer_find(struct sgroup *g, const char *name, size_t n)
{
    void *v;
    if (!rax_find(g->consumers, (const unsigned char *)name, n, &v)) return NULL;
    return v;
}

struct sconsumer *stream_consumer_get(struct sgroup *g, const char *name, size_t n, long long now,
                                      bool *created)
{
    struct sconsumer *c = stream_consumer_find(g, name, n);
    if (created) *created = c == NULL;
    if (c) return c;
    c = xcalloc(1, sizeof(*c));
    c->name = xmalloc(n + 1);
    memcpy(c->name, name, n);
    c->name[n] = 0;
    c->nlen = n;
    c->seen_time = now;
    c->pel = rax_new();
    rax_insert(g->consumers, (const unsigned char *)name, n, c, NULL);
    return c;
}

long long stream_consumer_delete(struct sgroup *g, const char *name, size_t n)
{
    struct sconsumer *c = stream_consumer_find(g, name, n);
    struct rax_iter it;
    long long pending;
    bool ok;
    if (!c) return -1;
    pending = (long long)rax_size(c->pel);
    rax_iter_start(&it, c->pel);
    for (ok = rax_seek(&it, RAX_FIRST, NULL, 0); ok; ok = rax_next(&it)) {
        void *nack;
        if (rax_remove(g->pel, it.key, 16, &nack)) free(nack);
    }
    rax_iter_stop(&it);
    rax_remove(g->consumers, (const unsigned char *)name, n, NULL);
    free_consumer(c);
    return pending;
}

struct snack *snack_new(struct sconsumer *c, long long now)
{
    struct snack *n = xcalloc(1, sizeof(*n));
    n->delivery_time = now;
    n->delivery_count = 1;
    n->consumer = c;
    return n;
}

bool stream_range_has_tombstones(struct stream *s, const struct sid *start, const struct sid *end)
{
    struct sid a = start ? *start : (struct sid){0, 0};
    struct sid b = end ? *end : (struct sid){UINT64_MAX, UINT64_MAX};
    if (s->length == 0 || (s->max_deleted_id.ms == 0 && s->max_deleted_id.seq == 0)) return false;
    if (sid_cmp(&s->first_id, &s->max_deleted_id) > 0) return false;
    return sid_cmp(&a, &s->max_deleted_id) <= 0 && sid_cmp(&b, &s->max_deleted_id) >= 0;
}

long long stream_estimate_distance(struct stream *s, const struct sid *id)
{
    int cmp_last, cmp_first, cmp_xdel;
    if (!s->entries_added) return 0;
    if (!s->length && sid_cmp(id, &s->last_id) < 1) return (long long)s->entries_added;
    cmp_last = sid_cmp(id, &s->last_id);
    if (cmp_last == 0) return (long long)s->entries_added;
    if (cmp_last > 0) return SCG_INVALID_READ;
    cmp_first = sid_cmp(id, &s->first_id);
    cmp_xdel = sid_cmp(&s->max_deleted_id, &s->first_id);
    if ((s->max_deleted_id.ms == 0 && s->max_deleted_id.seq == 0) || cmp_xdel < 0) {
        if (cmp_first < 0) return (long long)(s->entries_added - s->length);
        if (cmp_first == 0) return (long long)(s->entries_added - s->length + 1);
    }
    return SCG_INVALID_READ;
}

bool stream_group_lag(struct stream *s, struct sgroup *g, long long *lag)
{
    long long er;
    *lag = 0;
    if (!s->entries_added) return true;
    if (g->entries_read != SCG_INVALID_READ && !stream_range_has_tombstones(s, &g->last_id, NULL))
        er = g->entries_read;
    else
        er = stream_estimate_distance(s, &g->last_id);
    if (er == SCG_INVALID_READ) return false;
    *lag = (long long)s->entries_added - er;
    return true;
}

/* ---------------------------------------------------------- validate */

/* An element that must be an integer (stored as one, or a string that
 * reads as one, as Redis's lpGetIntegerIfValid). */
static bool lp_want_int(unsigned char *p, long long *v)
{
    char ib[LP_INTBUF];
    size_t n;
    bool isint;
    const char *s;
    if (!p) return false;
    s = lp_get(p, &n, ib, &isint, v);
    return isint || util_str2ll(s, n, v);
}

/* One node (master id m) in Redis's stream node layout, whole: the master
 * entry (count, deleted, field count, fields, 0), then count + deleted
 * entries each with its flags, non-negative id deltas, fields (or
 * SAMEFIELDS), values and an lp-count that matches, and nothing after.
 * Ids not before m and strictly after *prev (updated); *live counts the
 * live entries; count and deleted are the live and deleted entries. */
static bool node_valid(unsigned char *lp, const struct sid *m, struct sid *prev, bool *any,
                       uint64_t *live)
{
    unsigned char *p = lp_first(lp);
    long long count, deleted, mnf, zero, nlive = 0, ndel = 0, i;
    if (!lp_want_int(p, &count) || count < 0) return false;
    if (!lp_want_int(p = lp_next(lp, p), &deleted) || deleted < 0) return false;
    if (!lp_want_int(p = lp_next(lp, p), &mnf) || mnf < 0 || (unsigned long long)mnf > lp_count(lp))
        return false;
    for (i = 0; i <= mnf; i++) /* the fields, then the terminator */
        if (!(p = lp_next(lp, p))) return false;
    if (!lp_want_int(p, &zero) || zero != 0) return false;
    for (p = lp_next(lp, p); p;) {
        long long flags, dms, dseq, nf, lpc, extra = 3;
        struct sid cur;
        if (!lp_want_int(p, &flags) || flags < 0 || flags > (SF_DELETED | SF_SAMEFIELDS))
            return false;
        if (!lp_want_int(p = lp_next(lp, p), &dms) || dms < 0) return false;
        if (!lp_want_int(p = lp_next(lp, p), &dseq)) return false;
        if ((uint64_t)dms > UINT64_MAX - m->ms) return false;
        /* the seq delta may be negative (an entry of a later ms): it wraps */
        cur.ms = m->ms + (uint64_t)dms;
        cur.seq = m->seq + (uint64_t)dseq;
        if (sid_cmp(&cur, m) < 0) return false;
        if (*any && sid_cmp(&cur, prev) <= 0) return false;
        *prev = cur;
        *any = true;
        nf = mnf;
        if (!(flags & SF_SAMEFIELDS)) {
            if (!lp_want_int(p = lp_next(lp, p), &nf) || nf < 0 ||
                (unsigned long long)nf > lp_count(lp))
                return false;
            for (i = 0; i < nf; i++) /* the fields */
                if (!(p = lp_next(lp, p)) || !(p = lp_next(lp, p))) return false;
            extra += nf + 1;
        } else {
            for (i = 0; i < nf; i++)
                if (!(p = lp_next(lp, p))) return false;
        }
        if (!lp_want_int(p = lp_next(lp, p), &lpc) || lpc != nf + extra) return false;
        if (flags & SF_DELETED)
            ndel++;
        else
            nlive++;
        p = lp_next(lp, p);
    }
    if (nlive != count || ndel != deleted) return false;
    *live += (uint64_t)nlive;
    return true;
}

bool stream_validate(struct stream *s)
{
    struct rax_iter ri;
    struct sid prev = {0, 0}, m;
    bool any = false, ok = true;
    uint64_t live = 0;
    rax_iter_start(&ri, s->rax);
    for (ok = rax_seek(&ri, RAX_FIRST, NULL, 0); ok; ok = rax_next(&ri)) {
        sid_decode(ri.key, &m);
        if ((any && sid_cmp(&m, &prev) <= 0) || !node_valid(ri.data, &m, &prev, &any, &live)) break;
    }
    rax_iter_stop(&ri);
    if (ok) return false; /* stopped on a bad node */
    return live == s->length && (!any || sid_cmp(&prev, &s->last_id) <= 0);
}
