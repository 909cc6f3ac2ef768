/* rdb_stream.c — the streaming source of the RDB reader (rdb_stream.h):
 * a window over the payload as it arrives, which struct rd's refill and
 * boundary hooks (rdb_read.h) drive. r_need asks for n bytes: the window
 * reads more from the caller's callback. Between two keys (boundary)
 * nothing behind the reader is pointed to, so the window is compacted in
 * place; inside a key the loader holds pointers into it (the key, strings
 * of the value), so a window that must grow or move there is copied into
 * a new buffer and the old one is retired, freed at the next boundary.
 * The CRC64 is folded in before bytes are dropped. The $<len> form is
 * never read past its length; the $EOF: form keeps its last 40 bytes from
 * the reader until they are known not to be the mark, and the mark must
 * follow the image. What arrived after the payload is handed back. */
#include "rdb_stream.h"

#include <stdlib.h>
#include <string.h>

#include "rdb.h"
#include "rdb_format.h"
#include "rdb_read.h"
#include "util.h"

#define WINDOW (256 * 1024)

struct src {
    const struct rdb_stream_src *in;
    size_t pre_used;
    unsigned char *buf;  /* == r->start: image offset off0 */
    size_t cap, raw;     /* bytes received in buf */
    long long limit;     /* the payload's size once known (-1: not yet) */
    unsigned char **old; /* retired windows (pointed to until the key ends) */
    size_t nold, capold;
    const unsigned char *bp; /* r->p at the last boundary */
    bool closed;
};

static long long raw_off(const struct rd *r, const struct src *s)
{
    return r->off0 + (long long)s->raw;
}

/* The reader may see what arrived, up to the payload's end, and (while
 * the end is unknown in the $EOF: form) not the last 40 bytes. */
static void set_end(struct rd *r, struct src *s)
{
    long long have = raw_off(r, s), vis, cur = r->off0 + (long long)(r->end - r->start);
    if (s->limit >= 0)
        vis = have < s->limit ? have : s->limit;
    else
        vis = have - RDB_STREAM_MARK_LEN;
    if (vis > cur) r->end = s->buf + (vis - r->off0);
}

/* More bytes into the window (the space after raw). False: none come. */
static bool read_more(struct rd *r, struct src *s)
{
    size_t room = s->cap - s->raw;
    long n;
    if (s->closed || room == 0) return false;
    if (s->limit >= 0) { /* never past the payload */
        long long left = s->limit + (s->in->len < 0 ? RDB_STREAM_MARK_LEN : 0) - raw_off(r, s);
        if (left <= 0) return false;
        if ((long long)room > left) room = (size_t)left;
    }
    if (s->pre_used < s->in->npre) {
        size_t k = s->in->npre - s->pre_used;
        n = (long)(k < room ? k : room);
        memcpy(s->buf + s->raw, s->in->pre + s->pre_used, (size_t)n);
        s->pre_used += (size_t)n;
    } else {
        n = s->in->read(s->in->ctx, s->buf + s->raw, room);
        if (n <= 0) {
            s->closed = true;
            return false;
        }
    }
    s->raw += (size_t)n;
    /* the $EOF: form ends with its mark (the primary sends nothing after
     * it until we acknowledge the load) */
    if (s->in->len < 0 && s->limit < 0 && s->raw >= RDB_STREAM_MARK_LEN &&
        !memcmp(s->buf + s->raw - RDB_STREAM_MARK_LEN, s->in->mark, RDB_STREAM_MARK_LEN)) {
        s->limit = raw_off(r, s) - RDB_STREAM_MARK_LEN;
        r->total = s->limit;
    }
    set_end(r, s);
    return true;
}

/* Room for need bytes from p: in place between keys, else a new window
 * (the old one kept until the key ends). */
static void make_room(struct rd *r, struct src *s, size_t need)
{
    size_t pb = (size_t)(r->p - s->buf), keep = s->raw - pb;
    size_t least = keep > need ? keep : need, want = least + WINDOW;
    bool at_boundary = r->p == s->bp;
    unsigned char *nb;
    rd_crc(r); /* what is dropped is in the checksum first */
    if (at_boundary && s->cap >= least + WINDOW / 8 && s->cap <= 4 * WINDOW) {
        memmove(s->buf, r->p, keep);
        nb = s->buf;
    } else {
        nb = xmalloc(want);
        memcpy(nb, r->p, keep);
        if (at_boundary) {
            free(s->buf);
        } else {
            if (s->nold == s->capold) {
                s->capold = s->capold ? s->capold * 2 : 8;
                s->old = xrealloc(s->old, s->capold * sizeof(*s->old));
            }
            s->old[s->nold++] = s->buf;
        }
        s->cap = want;
    }
    r->off0 += (long long)pb;
    r->end = nb + (r->end - r->p);
    r->start = r->p = r->crc_p = nb;
    if (at_boundary) s->bp = nb;
    s->buf = nb;
    s->raw = keep;
}

static bool refill(struct rd *r, size_t n)
{
    struct src *s = r->src;
    while ((size_t)(r->end - r->p) < n) {
        size_t hold = s->limit < 0 ? RDB_STREAM_MARK_LEN : 0;
        size_t pb = (size_t)(r->p - s->buf);
        if (s->limit >= 0 && r->off0 + (long long)(r->end - r->start) >= s->limit)
            return false; /* the payload ended */
        if (n > ((size_t)1 << 40)) return rd_corrupt(r, "length out of range");
        /* a length beyond the $<len> payload never arrives */
        if (s->limit >= 0 && r->off0 + (long long)(r->p - r->start) + (long long)n > s->limit)
            return false;
        if (s->cap - s->raw < WINDOW / 8 || (pb + n + hold > s->cap && pb > 0)) {
            /* the window grows as bytes arrive (at most doubling), never
             * on a length's word alone: a lying length costs what was
             * really sent */
            size_t room = n + hold, most = s->cap > WINDOW ? 2 * s->cap : WINDOW;
            make_room(r, s, room < most ? room : most);
        }
        if (!read_more(r, s)) return false;
    }
    return true;
}

static void boundary(struct rd *r)
{
    struct src *s = r->src;
    size_t i;
    for (i = 0; i < s->nold; i++)
        free(s->old[i]);
    s->nold = 0;
    s->bp = r->p;
}

/* After the image: the $EOF: mark, the rest of a $<len> payload; what
 * follows the payload into *rest. */
static bool finish(struct rd *r, struct src *s, unsigned char **rest, size_t *nrest, char *err,
                   size_t errlen)
{
    long long at = rd_offset(r), end;
    size_t from, tail;
    boundary(r);
    if (s->in->len < 0) {
        if (s->limit >= 0 && at != s->limit) {
            rdb_set_err(err, errlen, "The RDB image ends before the EOF mark of the payload");
            return false;
        }
        /* the mark's 40 bytes after the image */
        while (raw_off(r, s) < at + RDB_STREAM_MARK_LEN) {
            if ((size_t)(r->p - s->buf) + RDB_STREAM_MARK_LEN > s->cap || s->raw == s->cap)
                make_room(r, s, RDB_STREAM_MARK_LEN);
            if (!read_more(r, s)) {
                rdb_set_err(err, errlen, "Short read of the payload's EOF mark");
                return false;
            }
        }
        if (memcmp(s->buf + (at - r->off0), s->in->mark, RDB_STREAM_MARK_LEN) != 0) {
            rdb_set_err(err, errlen, "Replication stream EOF marker is broken");
            return false;
        }
        end = at + RDB_STREAM_MARK_LEN;
    } else {
        /* bytes of the payload after the image are read and dropped */
        while (raw_off(r, s) < s->in->len) {
            r->off0 += (long long)s->raw;
            r->start = r->p = r->end = s->buf;
            s->raw = 0;
            if (!read_more(r, s)) {
                rdb_set_err(err, errlen, "Short read of the payload");
                return false;
            }
        }
        end = s->in->len;
    }
    from = (size_t)(end - r->off0);
    tail = s->in->npre - s->pre_used;
    *nrest = s->raw - from + tail;
    *rest = NULL;
    if (*nrest) {
        *rest = xmalloc(*nrest);
        memcpy(*rest, s->buf + from, s->raw - from);
        memcpy(*rest + (s->raw - from), s->in->pre + s->pre_used, tail);
    }
    return true;
}

bool rdb_load_stream(const struct rdb_stream_src *in, struct rdb_side *into, unsigned char **rest,
                     size_t *nrest, char *err, size_t errlen)
{
    struct src s;
    struct rd r;
    bool ok;
    memset(&s, 0, sizeof(s));
    memset(&r, 0, sizeof(r));
    *rest = NULL;
    *nrest = 0;
    s.in = in;
    s.limit = in->len;
    s.cap = WINDOW;
    s.buf = xmalloc(s.cap);
    s.bp = s.buf;
    r.start = r.p = r.end = r.crc_p = s.buf;
    r.err = err;
    r.errlen = errlen;
    r.total = in->len;
    r.refill = refill;
    r.boundary = boundary;
    r.src = &s;
    ok = rdb_load_rd(&r, false, into);
    if (ok) ok = finish(&r, &s, rest, nrest, err, errlen);
    boundary(&r);
    free(s.old);
    free(s.buf);
    return ok;
}
