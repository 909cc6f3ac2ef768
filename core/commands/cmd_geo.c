/* cmd_geo.c — the geo commands: GEOADD GEODIST GEOHASH GEOPOS, GEORADIUS
 * GEORADIUSBYMEMBER (and their _RO forms), GEOSEARCH and GEOSEARCHSTORE,
 * over sorted sets whose scores are 52-bit geohashes (core/types/geohash.c),
 * with Redis 7.0's replies (distances "%.4f", coordinates as its long double
 * text, RESP3 doubles), error texts and their order, keyspace events
 * (GEOADD is a "zadd", the stores "georadiusstore" / "geosearchstore")
 * and propagation (GEOADD as the ZADD it is). The schemas' keel_grammar
 * lets the matcher take the option loops in any order; the matcher defers
 * its errors so that the key's type check (and a FROMMEMBER lookup met
 * before the error) answer first, as Redis's loop does. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands_gen.h"
#include "geohash.h"
#include "kernel.h"
#include "pqsort.h"
#include "propagate.h"
#include "store.h"
#include "t_zset.h"
#include "util.h"

/* ---- matcher checks (keel_check in the schemas) ---- */

/* GEOSEARCH's FROMLONLAT pair (the previous sibling is the longitude). The
 * text is built in a scratch buffer that the matcher copies into its error
 * at once (a keel_parse_in_order value error ends the match): nothing of it
 * outlives the call. */
const char *keel_check_geo_pair(const struct argv_ref *w, struct argval *v,
                                const struct argval *prev)
{
    static char buf[160];
    double lon = prev ? prev->d : 0, lat = v->d;
    (void)w;
    if (lon < GEO_LONG_MIN || lon > GEO_LONG_MAX || lat < GEO_LAT_MIN || lat > GEO_LAT_MAX) {
        snprintf(buf, sizeof(buf), "ERR invalid longitude,latitude pair %f,%f", lon, lat);
        return buf;
    }
    return NULL;
}

const char *keel_check_geo_radius(const struct argv_ref *w, struct argval *v,
                                  const struct argval *prev)
{
    (void)w;
    (void)prev;
    return v->d < 0 ? "ERR radius cannot be negative" : NULL;
}

/* BYBOX's height (the previous sibling is the width). */
const char *keel_check_geo_box(const struct argv_ref *w, struct argval *v,
                               const struct argval *prev)
{
    (void)w;
    return v->d < 0 || (prev && prev->d < 0) ? "ERR height or width cannot be negative" : NULL;
}

/* Metres per unit, by the unit oneof's choice (M KM FT MI). */
static double unit_conversion(const struct argval *unit)
{
    static const double conv[] = {1, 1000, 0.3048, 1609.34};
    return unit->present && unit->choice >= 0 && unit->choice < 4 ? conv[unit->choice] : 1;
}

static bool not_zset(struct exec *x, struct kv *e)
{
    if (e && e->type != OBJ_ZSET) {
        reply_err(x->r, E_WRONGTYPE);
        return true;
    }
    return false;
}

static void reply_distance(struct reply *r, double d)
{
    char buf[128];
    int n = snprintf(buf, sizeof(buf), "%.4f", d);
    reply_bulk(r, buf, (size_t)n);
}

/* A coordinate as Redis's addReplyHumanLongDouble. */
static void reply_coord(struct reply *r, double v)
{
    char buf[5 * 1024];
    int n = util_ld2str(buf, sizeof(buf), (long double)v);
    reply_double_text(r, v, buf, (size_t)n);
}

/* ------------------------------------------------------------- GEOADD */

/* GEOADD key [NX | XX] [CH] longitude latitude member [longitude latitude member ...] */
void cmd_geoadd(struct exec *x)
{
    const struct argval *cond = ARG(x, A_GEOADD_condition);
    const struct argval *data = ARG(x, A_GEOADD_longitude_latitude_member);
    const char *key = ARGP(x, A_GEOADD_key);
    size_t klen = ARGN(x, A_GEOADD_key);
    bool nx = cond->present && (cond->mask & 1), xx = cond->present && (cond->mask & 2);
    bool ch = HAS(x, A_GEOADD_change);
    int n = data->count, k, flags = 0;
    double small[16], *scores = n > 16 ? xmalloc(sizeof(double) * (size_t)n) : small;
    long long added = 0, updated = 0, mark;
    struct kv *e;
    bool created = false;

    /* Every pair is checked before anything is written (Redis builds the
     * whole ZADD first). */
    for (k = 0; k < n; k++) {
        const struct argv_ref *a = &x->argv[data->list[k]];
        const struct argval *lon = ARG(x, A_GEOADD_longitude_latitude_member_longitude),
                            *lat = ARG(x, A_GEOADD_longitude_latitude_member_latitude);
        double xy[2];
        if (k == n - 1 && lon->present && lat->present) {
            /* the matcher parsed the last pair (the typed slots hold a
             * repeated block's last values): not again */
            xy[0] = lon->d;
            xy[1] = lat->d;
        } else if (!util_str2d(a[0].p, a[0].n, &xy[0]) || !util_str2d(a[1].p, a[1].n, &xy[1])) {
            reply_err(x->r, E_NOT_FLOAT);
            goto done;
        }
        if (xy[0] < GEO_LONG_MIN || xy[0] > GEO_LONG_MAX || xy[1] < GEO_LAT_MIN ||
            xy[1] > GEO_LAT_MAX) {
            reply_errorf(x->r, "ERR invalid longitude,latitude pair %f,%f", xy[0], xy[1]);
            goto done;
        }
        scores[k] = (double)geohash_score(xy[0], xy[1]);
    }
    e = store_lookup_write(x->db, key, klen);
    if (not_zset(x, e)) goto done;
    if (!e) {
        if (xx) {
            reply_int(x->r, 0);
            goto done;
        }
        e = zset_new_kv(key, klen, 1, x->argv[data->list[0] + 2].n);
        created = true;
    }
    if (nx) flags |= ZADD_IN_NX;
    if (xx) flags |= ZADD_IN_XX;
    for (k = 0; k < n; k++) {
        const struct argv_ref *m = &x->argv[data->list[k] + 2];
        double ns;
        int out = 0;
        zset_add(e, scores[k], m->p, m->n, flags, &out, &ns);
        if (out & ZADD_OUT_ADDED) added++;
        if (out & ZADD_OUT_UPDATED) updated++;
    }
    mark = store_dirty_mark();
    if (created) {
        if (zset_length(e))
            store_add(x->db, e, "zadd", NOTIFY_ZSET);
        else
            kv_free(e);
    } else if (added || updated) {
        store_modified(x->db, e, "zadd", NOTIFY_ZSET);
    }
    store_dirty_settle(mark, added + updated); /* as ZADD: one change per member */
    /* Redis runs GEOADD as the ZADD it builds: that is what is propagated. */
    if ((added || updated) && propagating()) {
        int first = data->list[0], argc = first + 2 * n, j;
        struct argv_ref *av = xmalloc(sizeof(*av) * (size_t)argc);
        char *txt = xmalloc((size_t)n * 24);
        av[0].p = "zadd";
        av[0].n = 4;
        for (j = 1; j < first; j++)
            av[j] = x->argv[j];
        for (k = 0; k < n; k++) {
            char *t = txt + (size_t)k * 24;
            av[first + 2 * k].p = t;
            av[first + 2 * k].n = (size_t)util_ll2str(t, (long long)scores[k]);
            av[first + 2 * k + 1] = x->argv[data->list[k] + 2];
        }
        propagate_rewrite(x, argc, av);
        free(txt);
        free(av);
    }
    reply_int(x->r, ch ? added + updated : added);
done:
    if (scores != small) free(scores);
}

/* ------------------------------------------------------------ GEODIST */

/* GEODIST key member1 member2 [M | KM | FT | MI] */
void cmd_geodist(struct exec *x)
{
    const struct argval *unit = ARG(x, A_GEODIST_unit);
    struct kv *e;
    double s1, s2, a[2], b[2];
    const struct argv_ref *m1 = &x->argv[ARG(x, A_GEODIST_member1)->pos];
    const struct argv_ref *m2 = &x->argv[ARG(x, A_GEODIST_member2)->pos];

    if (!arg_ok(x, A_GEODIST_unit)) return;
    e = store_lookup_read(x->db, ARGP(x, A_GEODIST_key), ARGN(x, A_GEODIST_key));
    if (!e) {
        reply_null(x->r);
        return;
    }
    if (not_zset(x, e)) return;
    if (!zset_score(e, m1->p, m1->n, &s1) || !zset_score(e, m2->p, m2->n, &s2) ||
        !geohash_decode_score(s1, a) || !geohash_decode_score(s2, b)) {
        reply_null(x->r);
        return;
    }
    reply_distance(x->r, geohash_distance(a[0], a[1], b[0], b[1]) / unit_conversion(unit));
}

/* ------------------------------------------------------ GEOHASH GEOPOS */

/* GEOHASH key [member [member ...]] */
void cmd_geohash(struct exec *x)
{
    const struct argval *mem = ARG(x, A_GEOHASH_member);
    struct kv *e = store_lookup_read(x->db, ARGP(x, A_GEOHASH_key), ARGN(x, A_GEOHASH_key));
    int k;
    if (not_zset(x, e)) return;
    reply_array(x->r, mem->count);
    for (k = 0; k < mem->count; k++) {
        const struct argv_ref *m = &x->argv[mem->list[k]];
        double score;
        char buf[12];
        if (!e || !zset_score(e, m->p, m->n, &score) || !geohash_text(score, buf))
            reply_null(x->r);
        else
            reply_bulk(x->r, buf, 11);
    }
}

/* GEOPOS key [member [member ...]] */
void cmd_geopos(struct exec *x)
{
    const struct argval *mem = ARG(x, A_GEOPOS_member);
    struct kv *e = store_lookup_read(x->db, ARGP(x, A_GEOPOS_key), ARGN(x, A_GEOPOS_key));
    int k;
    if (not_zset(x, e)) return;
    reply_array(x->r, mem->count);
    for (k = 0; k < mem->count; k++) {
        const struct argv_ref *m = &x->argv[mem->list[k]];
        double score, xy[2];
        if (!e || !zset_score(e, m->p, m->n, &score) || !geohash_decode_score(score, xy)) {
            reply_null_array(x->r);
            continue;
        }
        reply_array(x->r, 2);
        reply_coord(x->r, xy[0]);
        reply_coord(x->r, xy[1]);
    }
}

/* ------------------------------------------------ the search commands */

/* One match. glibc's qsort is a merge sort (stable) for these sizes, as
 * for Redis's geoPoint, so equal distances keep the scan order there too. */
struct geo_point {
    double longitude, latitude, dist, score;
    size_t moff, mlen; /* the member's bytes in geo_points.text */
};

struct geo_points {
    struct geo_point *a;
    size_t used, cap;
    char *text; /* members, copied (a listpack integer is decoded in a scratch buffer) */
    size_t tlen, tcap;
};

static void gp_add(struct geo_points *g, double score, const double xy[2], double dist,
                   const char *m, size_t n)
{
    struct geo_point *p;
    if (g->used == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 16;
        g->a = xrealloc(g->a, sizeof(*g->a) * g->cap);
    }
    if (g->tlen + n + 1 > g->tcap) {
        g->tcap = (g->tlen + n + 1) * 2;
        g->text = xrealloc(g->text, g->tcap);
    }
    memcpy(g->text + g->tlen, m, n);
    p = &g->a[g->used++];
    p->longitude = xy[0];
    p->latitude = xy[1];
    p->dist = dist;
    p->score = score;
    p->moff = g->tlen;
    p->mlen = n;
    g->tlen += n;
}

/* The members of one cell inside the shape, stopping at limit (0: none). */
static void cell_members(struct kv *e, struct geo_bits cell, const struct geo_shape *s,
                         struct geo_points *g, size_t limit)
{
    struct geo_bits next = cell;
    struct zrange_spec r;
    struct zset_iter it;
    next.bits++;
    r.min = (double)geohash_align52(cell);
    r.max = (double)geohash_align52(next);
    r.minex = false;
    r.maxex = true;
    if (!zset_iter_score(&it, e, &r, false)) return;
    for (; zset_iter_valid(&it); zset_iter_next(&it)) {
        double score = zset_iter_get_score(&it), xy[2], dist = 0;
        size_t n;
        const char *m;
        if (!zr_lte_max(score, &r)) break;
        if (!geohash_decode_score(score, xy) || !geohash_in_shape(s, xy, &dist)) continue;
        m = zset_iter_member(&it, &n);
        gp_add(g, score, xy, dist, m, n);
        if (g->used && limit && g->used >= limit) break;
    }
}

static void all_members(struct kv *e, const struct geo_shape *s, struct geo_points *g, size_t limit)
{
    struct geo_cover c;
    int i, last = 0;
    geohash_cover(s, &c);
    for (i = 0; i < 9; i++) {
        if (c.cells[i].bits == 0 && c.cells[i].step == 0) continue;
        /* Huge radii make neighbours repeat: skip a cell equal to the
         * last one scanned. */
        if (last && c.cells[i].bits == c.cells[last].bits && c.cells[i].step == c.cells[last].step)
            continue;
        if (g->used && limit && g->used >= limit) break;
        cell_members(e, c.cells[i], s, g, limit);
        last = i;
    }
}

static int by_dist_asc(const void *a, const void *b)
{
    const struct geo_point *x = a, *y = b;
    if (x->dist > y->dist) return 1;
    if (x->dist == y->dist) return 0;
    return -1;
}

static int by_dist_desc(const void *a, const void *b)
{
    return -by_dist_asc(a, b);
}

enum { SORT_NONE, SORT_ASC, SORT_DESC };

/* The slots one search command's handler reads (-1: the command has none). */
struct geo_slots {
    int key, dest;          /* source key; GEOSEARCHSTORE's destination */
    int lon, lat, member;   /* GEORADIUS's centre / GEORADIUSBYMEMBER's member */
    int radius, unit;       /* GEORADIUS* radius and unit */
    int from, from_member;  /* GEOSEARCH FROMMEMBER / FROMLONLAT */
    int from_lon, from_lat; /* FROMLONLAT's values */
    int by, circle_radius;  /* GEOSEARCH BYRADIUS / BYBOX */
    int circle_unit, box_width, box_height, box_unit;
    int withcoord, withdist, withhash, count, any, order;
    int store, storedist_key; /* GEORADIUS STORE / STOREDIST key */
    int storedist;            /* GEOSEARCHSTORE STOREDIST */
    int deferred;
    bool search; /* GEOSEARCH / GEOSEARCHSTORE */
};

static bool has(struct exec *x, int slot)
{
    return slot >= 0 && HAS(x, slot);
}

static void geo_search(struct exec *x, const struct geo_slots *sl)
{
    const struct argv_ref *dst = NULL;
    struct geo_shape shape;
    struct geo_points g;
    struct kv *e;
    bool storedist = false, withdist, withhash, withcoord, any;
    long long count = 0;
    int sort = SORT_NONE, k;
    size_t returned, i;

    memset(&shape, 0, sizeof(shape));
    memset(&g, 0, sizeof(g));
    e = store_lookup_read(x->db, ARGP(x, sl->key), ARGN(x, sl->key));
    if (not_zset(x, e)) return;

    /* The centre and the shape, in the order Redis reads them. */
    if (sl->lon >= 0) {
        if (!arg_ok(x, sl->lon) || !arg_ok(x, sl->lat)) return;
        shape.xy[0] = ARGD(x, sl->lon);
        shape.xy[1] = ARGD(x, sl->lat);
        if (shape.xy[0] < GEO_LONG_MIN || shape.xy[0] > GEO_LONG_MAX || shape.xy[1] < GEO_LAT_MIN ||
            shape.xy[1] > GEO_LAT_MAX) {
            reply_errorf(x->r, "ERR invalid longitude,latitude pair %f,%f", shape.xy[0],
                         shape.xy[1]);
            return;
        }
    } else if (sl->member >= 0 && e) {
        const struct argv_ref *m = &x->argv[ARG(x, sl->member)->pos];
        double score;
        if (!zset_score(e, m->p, m->n, &score) || !geohash_decode_score(score, shape.xy)) {
            reply_error(x->r, "ERR could not decode requested zset member");
            return;
        }
    }
    if (sl->radius >= 0 && (sl->lon >= 0 || e)) {
        if (!arg_ok(x, sl->radius) || !arg_ok(x, sl->unit)) return;
        shape.type = GEO_CIRCLE;
        shape.radius = ARGD(x, sl->radius);
        shape.conversion = unit_conversion(ARG(x, sl->unit));
    }
    /* GEOSEARCH's FROMMEMBER is looked up where the loop meets it: before
     * any error the matcher kept for later (which comes after it). */
    if (sl->search && e && has(x, sl->from_member)) {
        const struct argval *fm = ARG(x, sl->from_member);
        for (k = 0; k < fm->count; k++) {
            const struct argv_ref *m = &x->argv[fm->list[k]];
            double score;
            if (!zset_score(e, m->p, m->n, &score) || !geohash_decode_score(score, shape.xy)) {
                reply_error(x->r, "ERR could not decode requested zset member");
                return;
            }
        }
    }
    if (!arg_ok(x, sl->deferred)) return;

    withdist = has(x, sl->withdist);
    withhash = has(x, sl->withhash);
    withcoord = has(x, sl->withcoord);
    any = has(x, sl->any);
    if (has(x, sl->count)) count = ARGI(x, sl->count);
    if (has(x, sl->order)) sort = ARG(x, sl->order)->choice == 1 ? SORT_DESC : SORT_ASC;
    if (sl->dest >= 0) {
        dst = &x->argv[ARG(x, sl->dest)->pos];
        storedist = has(x, sl->storedist);
    } else if (has(x, sl->store) || has(x, sl->storedist_key)) {
        /* The later of STORE and STOREDIST wins. */
        int ps = has(x, sl->store) ? ARG(x, sl->store)->pos : -1;
        int pd = has(x, sl->storedist_key) ? ARG(x, sl->storedist_key)->pos : -1;
        storedist = pd > ps;
        dst = &x->argv[storedist ? pd : ps];
    }
    if (dst && (withdist || withhash || withcoord)) {
        reply_errorf(x->r, "ERR %s is not compatible with WITHDIST, WITHHASH and WITHCOORD options",
                     sl->dest >= 0 ? "GEOSEARCHSTORE" : "STORE option in GEORADIUS");
        return;
    }
    if (sl->search && !has(x, sl->from)) {
        reply_errorf(x->r, "ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for %.*s",
                     (int)x->argv[0].n, x->argv[0].p);
        return;
    }
    if (sl->search && !has(x, sl->by)) {
        reply_errorf(x->r, "ERR exactly one of BYRADIUS and BYBOX can be specified for %.*s",
                     (int)x->argv[0].n, x->argv[0].p);
        return;
    }
    if (any && !count) {
        reply_error(x->r, "ERR the ANY argument requires COUNT argument");
        return;
    }
    if (!e) {
        if (dst) {
            store_delete(x->db, dst->p, dst->n, "del", NOTIFY_GENERIC);
            reply_int(x->r, 0);
        } else {
            reply_array(x->r, 0);
        }
        return;
    }
    if (sl->search) {
        if (ARG(x, sl->from)->choice == 1) {
            shape.xy[0] = ARGD(x, sl->from_lon);
            shape.xy[1] = ARGD(x, sl->from_lat);
        }
        if (ARG(x, sl->by)->choice == 0) {
            shape.type = GEO_CIRCLE;
            shape.radius = ARGD(x, sl->circle_radius);
            shape.conversion = unit_conversion(ARG(x, sl->circle_unit));
        } else {
            shape.type = GEO_BOX;
            shape.width = ARGD(x, sl->box_width);
            shape.height = ARGD(x, sl->box_height);
            shape.conversion = unit_conversion(ARG(x, sl->box_unit));
        }
    }
    /* COUNT without an order means the nearest ones (not with ANY). */
    if (count && sort == SORT_NONE && !any) sort = SORT_ASC;

    geohash_prepare(&shape);
    all_members(e, &shape, &g, any ? (size_t)count : 0);

    if (g.used == 0 && !dst) {
        reply_array(x->r, 0);
        goto done;
    }
    returned = count == 0 || g.used < (size_t)count ? g.used : (size_t)count;
    if (sort != SORT_NONE && g.used > 1) {
        /* Redis sorts it all with qsort, or only the first COUNT with its
         * partial quicksort: equal distances come out in its order. */
        int (*fn)(const void *, const void *) = sort == SORT_ASC ? by_dist_asc : by_dist_desc;
        if (returned == g.used)
            qsort(g.a, g.used, sizeof(*g.a), fn);
        else
            pqsort(g.a, g.used, sizeof(*g.a), fn, 0, returned - 1);
    }

    if (!dst) {
        int opts = (int)withdist + (int)withhash + (int)withcoord;
        reply_array(x->r, (long long)returned);
        for (i = 0; i < returned; i++) {
            struct geo_point *p = &g.a[i];
            if (opts) reply_array(x->r, opts + 1);
            reply_bulk(x->r, g.text + p->moff, p->mlen);
            if (withdist) reply_distance(x->r, p->dist / shape.conversion);
            if (withhash) reply_int(x->r, (long long)p->score);
            if (withcoord) {
                reply_array(x->r, 2);
                reply_coord(x->r, p->longitude);
                reply_coord(x->r, p->latitude);
            }
        }
    } else {
        size_t maxlen = 0;
        for (i = 0; i < returned; i++)
            if (g.a[i].mlen > maxlen) maxlen = g.a[i].mlen;
        if (returned) {
            struct kv *ne = zset_new_kv(dst->p, dst->n, returned, maxlen);
            for (i = 0; i < returned; i++) {
                struct geo_point *p = &g.a[i];
                double ns;
                int out;
                zset_add(ne, storedist ? p->dist / shape.conversion : p->score, g.text + p->moff,
                         p->mlen, 0, &out, &ns);
            }
            long long mark = store_dirty_mark();
            store_set(x->db, ne, false, sl->search ? "geosearchstore" : "georadiusstore",
                      NOTIFY_ZSET);
            store_dirty_settle(mark, (long long)returned); /* Redis: one per member stored */
        } else {
            store_delete(x->db, dst->p, dst->n, "del", NOTIFY_GENERIC);
        }
        reply_int(x->r, (long long)returned);
    }
done:
    free(g.a);
    free(g.text);
}

static struct geo_slots slots_none(void)
{
    struct geo_slots s;
    memset(&s, 0xff, sizeof(s)); /* every slot -1 */
    s.search = false;
    return s;
}

/* GEORADIUS's options, common to its four forms (P: the command's prefix). */
#define RADIUS_OPTIONS(s, P)                                                                       \
    do {                                                                                           \
        (s).radius = A_##P##_radius;                                                               \
        (s).unit = A_##P##_unit;                                                                   \
        (s).withcoord = A_##P##_withcoord;                                                         \
        (s).withdist = A_##P##_withdist;                                                           \
        (s).withhash = A_##P##_withhash;                                                           \
        (s).count = A_##P##_count;                                                                 \
        (s).any = A_##P##_any;                                                                     \
        (s).order = A_##P##_order;                                                                 \
        (s).deferred = A_##P##_deferred;                                                           \
    } while (0)

/* GEORADIUS key longitude latitude radius M|KM|FT|MI [WITHCOORD] [WITHDIST]
 * [WITHHASH] [COUNT count [ANY]] [ASC | DESC] [STORE key | STOREDIST key] */
void cmd_georadius(struct exec *x)
{
    struct geo_slots s = slots_none();
    s.key = A_GEORADIUS_key;
    s.lon = A_GEORADIUS_longitude;
    s.lat = A_GEORADIUS_latitude;
    RADIUS_OPTIONS(s, GEORADIUS);
    s.store = A_GEORADIUS_store;
    s.storedist_key = A_GEORADIUS_storedist;
    geo_search(x, &s);
}

/* GEORADIUS_RO key longitude latitude radius M|KM|FT|MI [WITHCOORD]
 * [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC | DESC] */
void cmd_georadius_ro(struct exec *x)
{
    struct geo_slots s = slots_none();
    s.key = A_GEORADIUS_RO_key;
    s.lon = A_GEORADIUS_RO_longitude;
    s.lat = A_GEORADIUS_RO_latitude;
    RADIUS_OPTIONS(s, GEORADIUS_RO);
    geo_search(x, &s);
}

/* GEORADIUSBYMEMBER key member radius M|KM|FT|MI [WITHCOORD] [WITHDIST]
 * [WITHHASH] [COUNT count [ANY]] [ASC | DESC] [STORE key | STOREDIST key] */
void cmd_georadiusbymember(struct exec *x)
{
    struct geo_slots s = slots_none();
    s.key = A_GEORADIUSBYMEMBER_key;
    s.member = A_GEORADIUSBYMEMBER_member;
    RADIUS_OPTIONS(s, GEORADIUSBYMEMBER);
    s.store = A_GEORADIUSBYMEMBER_store;
    s.storedist_key = A_GEORADIUSBYMEMBER_storedist;
    geo_search(x, &s);
}

/* GEORADIUSBYMEMBER_RO key member radius M|KM|FT|MI [WITHCOORD] [WITHDIST]
 * [WITHHASH] [COUNT count [ANY]] [ASC | DESC] */
void cmd_georadiusbymember_ro(struct exec *x)
{
    struct geo_slots s = slots_none();
    s.key = A_GEORADIUSBYMEMBER_RO_key;
    s.member = A_GEORADIUSBYMEMBER_RO_member;
    RADIUS_OPTIONS(s, GEORADIUSBYMEMBER_RO);
    geo_search(x, &s);
}

/* GEOSEARCH's options (P: the command's prefix). */
#define SEARCH_OPTIONS(s, P)                                                                       \
    do {                                                                                           \
        (s).search = true;                                                                         \
        (s).from = A_##P##_from;                                                                   \
        (s).from_member = A_##P##_from_member;                                                     \
        (s).from_lon = A_##P##_from_fromlonlat_longitude;                                          \
        (s).from_lat = A_##P##_from_fromlonlat_latitude;                                           \
        (s).by = A_##P##_by;                                                                       \
        (s).circle_radius = A_##P##_by_circle_radius;                                              \
        (s).circle_unit = A_##P##_by_circle_unit;                                                  \
        (s).box_width = A_##P##_by_box_width;                                                      \
        (s).box_height = A_##P##_by_box_height;                                                    \
        (s).box_unit = A_##P##_by_box_unit;                                                        \
        (s).withcoord = A_##P##_withcoord;                                                         \
        (s).withdist = A_##P##_withdist;                                                           \
        (s).withhash = A_##P##_withhash;                                                           \
        (s).count = A_##P##_count;                                                                 \
        (s).any = A_##P##_any;                                                                     \
        (s).order = A_##P##_order;                                                                 \
        (s).deferred = A_##P##_deferred;                                                           \
    } while (0)

/* GEOSEARCH key FROMMEMBER member | FROMLONLAT longitude latitude
 * BYRADIUS radius M|KM|FT|MI | BYBOX width height M|KM|FT|MI [ASC | DESC]
 * [COUNT count [ANY]] [WITHCOORD] [WITHDIST] [WITHHASH] */
void cmd_geosearch(struct exec *x)
{
    struct geo_slots s = slots_none();
    s.key = A_GEOSEARCH_key;
    SEARCH_OPTIONS(s, GEOSEARCH);
    geo_search(x, &s);
}

/* GEOSEARCHSTORE destination source FROMMEMBER member | FROMLONLAT longitude
 * latitude BYRADIUS radius M|KM|FT|MI | BYBOX width height M|KM|FT|MI
 * [ASC | DESC] [COUNT count [ANY]] [STOREDIST] */
void cmd_geosearchstore(struct exec *x)
{
    struct geo_slots s = slots_none();
    s.key = A_GEOSEARCHSTORE_source;
    s.dest = A_GEOSEARCHSTORE_destination;
    SEARCH_OPTIONS(s, GEOSEARCHSTORE);
    s.storedist = A_GEOSEARCHSTORE_storedist;
    geo_search(x, &s);
}
