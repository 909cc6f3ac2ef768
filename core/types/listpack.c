/* listpack.c — Redis's listpack format (listpack.h): entries of
 * <encoding+data><backlen>, integers stored compactly, walkable both ways. */
#include "listpack.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

#define LP_HDR 6
#define LP_EOF 0xFF
#define LP_COUNT_UNKNOWN 65535

static uint32_t rd32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static void wr32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}
static unsigned rd16(const unsigned char *p)
{
    return (unsigned)p[0] | (unsigned)p[1] << 8;
}
static void wr16(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

size_t lp_bytes(const unsigned char *lp)
{
    return rd32(lp);
}

unsigned char *lp_new(size_t hint)
{
    unsigned char *lp = xmalloc(hint > LP_HDR + 1 ? hint : LP_HDR + 1);
    wr32(lp, LP_HDR + 1);
    wr16(lp + 4, 0);
    lp[LP_HDR] = LP_EOF;
    return lp;
}

void lp_free(unsigned char *lp)
{
    free(lp);
}

/* Size of an entry's encoding+data. */
static size_t enc_size(const unsigned char *p)
{
    unsigned char b = p[0];
    if ((b & 0x80) == 0) return 1;
    if ((b & 0xC0) == 0x80) return 1 + (size_t)(b & 0x3F);
    if ((b & 0xE0) == 0xC0) return 2;
    if ((b & 0xF0) == 0xE0) return 2 + (((size_t)(b & 0x0F) << 8) | p[1]);
    switch (b) {
    case 0xF0:
        return 5 + (size_t)rd32(p + 1);
    case 0xF1:
        return 3;
    case 0xF2:
        return 4;
    case 0xF3:
        return 5;
    case 0xF4:
        return 9;
    }
    return 1; /* 0xFF and invalid bytes: callers validate first */
}

static size_t backlen_size(size_t l)
{
    if (l <= 127) return 1;
    if (l < 16383) return 2;
    if (l < 2097151) return 3;
    if (l < 268435455) return 4;
    return 5;
}

static void backlen_write(unsigned char *buf, size_t l)
{
    size_t n = backlen_size(l), i;
    /* buf[0] holds the most significant bits (no flag); every later byte
     * carries 7 bits with the high bit set, the last one the lowest bits. */
    for (i = 0; i < n; i++) {
        size_t shift = 7 * (n - 1 - i);
        unsigned char v = (unsigned char)((l >> shift) & 127);
        buf[i] = i == 0 ? v : (unsigned char)(v | 128);
    }
}

/* Decode the backlen whose LAST byte is at p. */
static size_t backlen_read(const unsigned char *p)
{
    size_t val = 0, shift = 0;
    for (;;) {
        val |= (size_t)(p[0] & 127) << shift;
        if (!(p[0] & 128)) break;
        shift += 7;
        p--;
        if (shift > 28) return (size_t)-1;
    }
    return val;
}

static size_t entry_size(const unsigned char *p)
{
    size_t e = enc_size(p);
    return e + backlen_size(e);
}

unsigned long lp_count(const unsigned char *lp)
{
    unsigned n = rd16(lp + 4);
    unsigned long c = 0;
    const unsigned char *p;
    if (n != LP_COUNT_UNKNOWN) return n;
    for (p = lp + LP_HDR; *p != LP_EOF; p += entry_size(p))
        c++;
    return c;
}

static void count_add(unsigned char *lp, long delta)
{
    unsigned n = rd16(lp + 4);
    if (n == LP_COUNT_UNKNOWN) {
        unsigned long c = lp_count(lp);
        if (c < LP_COUNT_UNKNOWN) wr16(lp + 4, (unsigned)c);
        return;
    }
    {
        long v = (long)n + delta;
        wr16(lp + 4, v >= LP_COUNT_UNKNOWN ? LP_COUNT_UNKNOWN : (unsigned)v);
    }
}

unsigned char *lp_first(unsigned char *lp)
{
    unsigned char *p = lp + LP_HDR;
    return *p == LP_EOF ? NULL : p;
}

unsigned char *lp_next(unsigned char *lp, unsigned char *p)
{
    (void)lp;
    p += entry_size(p);
    return *p == LP_EOF ? NULL : p;
}

unsigned char *lp_prev(unsigned char *lp, unsigned char *p)
{
    size_t l;
    if (p <= lp + LP_HDR) return NULL;
    l = backlen_read(p - 1);
    return p - l - backlen_size(l);
}

unsigned char *lp_last(unsigned char *lp)
{
    unsigned char *eof = lp + rd32(lp) - 1;
    return lp_prev(lp, eof);
}

unsigned char *lp_seek(unsigned char *lp, long index)
{
    long count = (long)lp_count(lp), i;
    unsigned char *p;
    if (index < 0) index += count;
    if (index < 0 || index >= count) return NULL;
    if (index <= count / 2) {
        p = lp_first(lp);
        for (i = 0; i < index; i++)
            p = lp_next(lp, p);
    } else {
        p = lp_last(lp);
        for (i = count - 1; i > index; i--)
            p = lp_prev(lp, p);
    }
    return p;
}

static long long sext(unsigned long long u, int bits)
{
    unsigned long long sign = 1ULL << (bits - 1);
    if (u & sign) return (long long)(u | ~((sign << 1) - 1));
    return (long long)u;
}

const char *lp_get(const unsigned char *p, size_t *len, char *ibuf, bool *isint, long long *ival)
{
    unsigned char b = p[0];
    long long v;
    if ((b & 0x80) == 0) {
        v = b & 0x7F;
    } else if ((b & 0xC0) == 0x80) {
        if (isint) *isint = false;
        *len = b & 0x3F;
        return (const char *)p + 1;
    } else if ((b & 0xE0) == 0xC0) {
        v = sext(((unsigned long long)(b & 0x1F) << 8) | p[1], 13);
    } else if ((b & 0xF0) == 0xE0) {
        if (isint) *isint = false;
        *len = ((size_t)(b & 0x0F) << 8) | p[1];
        return (const char *)p + 2;
    } else if (b == 0xF0) {
        if (isint) *isint = false;
        *len = rd32(p + 1);
        return (const char *)p + 5;
    } else if (b == 0xF1) {
        v = sext(rd16(p + 1), 16);
    } else if (b == 0xF2) {
        v = sext((unsigned long long)p[1] | (unsigned long long)p[2] << 8 |
                     (unsigned long long)p[3] << 16,
                 24);
    } else if (b == 0xF3) {
        v = sext(rd32(p + 1), 32);
    } else {
        unsigned long long u = (unsigned long long)rd32(p + 1) | (unsigned long long)rd32(p + 5)
                                                                     << 32;
        v = (long long)u;
    }
    if (isint) *isint = true;
    if (ival) *ival = v;
    *len = (size_t)util_ll2str(ibuf, v);
    return ibuf;
}

bool lp_eq(const unsigned char *p, const char *s, size_t n)
{
    char ibuf[LP_INTBUF];
    size_t len;
    const char *e = lp_get(p, &len, ibuf, NULL, NULL);
    return len == n && memcmp(e, s, n) == 0;
}

/* Encode an entry (encoding+data+backlen) into out (at least 15 bytes for
 * integers; strings need n + 10). Returns its total size. */
static size_t encode_int(unsigned char *out, long long v)
{
    size_t e;
    if (v >= 0 && v <= 127) {
        out[0] = (unsigned char)v;
        e = 1;
    } else if (v >= -4096 && v <= 4095) {
        unsigned long long u = v < 0 ? (unsigned long long)((1 << 13) + v) : (unsigned long long)v;
        out[0] = (unsigned char)((u >> 8) | 0xC0);
        out[1] = (unsigned char)(u & 0xFF);
        e = 2;
    } else if (v >= -32768 && v <= 32767) {
        out[0] = 0xF1;
        wr16(out + 1, (unsigned)(v & 0xFFFF));
        e = 3;
    } else if (v >= -8388608 && v <= 8388607) {
        unsigned long long u = (unsigned long long)v;
        out[0] = 0xF2;
        out[1] = (unsigned char)u;
        out[2] = (unsigned char)(u >> 8);
        out[3] = (unsigned char)(u >> 16);
        e = 4;
    } else if (v >= -2147483648LL && v <= 2147483647LL) {
        out[0] = 0xF3;
        wr32(out + 1, (uint32_t)(v & 0xFFFFFFFF));
        e = 5;
    } else {
        unsigned long long u = (unsigned long long)v;
        out[0] = 0xF4;
        wr32(out + 1, (uint32_t)u);
        wr32(out + 5, (uint32_t)(u >> 32));
        e = 9;
    }
    backlen_write(out + e, e);
    return e + backlen_size(e);
}

static size_t encode_str_header(unsigned char *out, size_t n)
{
    if (n < 64) {
        out[0] = (unsigned char)(0x80 | n);
        return 1;
    }
    if (n < 4096) {
        out[0] = (unsigned char)(0xE0 | (n >> 8));
        out[1] = (unsigned char)(n & 0xFF);
        return 2;
    }
    out[0] = 0xF0;
    wr32(out + 1, (uint32_t)n);
    return 5;
}

/* Replace del bytes at offset off by an entry made of hdr (the encoding),
 * data, and a backlen of blen_val; with hdr NULL just delete. */
static unsigned char *splice(unsigned char *lp, size_t off, size_t del, const unsigned char *hdr,
                             size_t hlen, const char *data, size_t dlen, size_t blen_val,
                             unsigned char **newp)
{
    size_t total = rd32(lp);
    size_t esz = hlen + dlen + (hdr ? backlen_size(blen_val) : 0);
    size_t ntotal = total - del + esz;
    if (esz > del) lp = xrealloc(lp, ntotal);
    memmove(lp + off + esz, lp + off + del, total - off - del);
    if (esz < del) lp = xrealloc(lp, ntotal);
    if (hdr) {
        memcpy(lp + off, hdr, hlen);
        if (dlen) memcpy(lp + off + hlen, data, dlen);
        backlen_write(lp + off + hlen + dlen, blen_val);
    }
    wr32(lp, (uint32_t)ntotal);
    if (newp) *newp = hdr ? lp + off : NULL;
    return lp;
}

static size_t where_offset(unsigned char *lp, unsigned char *p, enum lp_where where, size_t *del)
{
    *del = 0;
    if (!p) return where == LP_BEFORE ? LP_HDR : rd32(lp) - 1; /* NULL: head / tail */
    if (where == LP_BEFORE) return (size_t)(p - lp);
    if (where == LP_AFTER) return (size_t)(p - lp) + entry_size(p);
    *del = entry_size(p);
    return (size_t)(p - lp);
}

unsigned char *lp_insert_int(unsigned char *lp, long long v, unsigned char *p, enum lp_where where,
                             unsigned char **newp)
{
    unsigned char buf[16];
    size_t del, off = where_offset(lp, p, where, &del), esize;
    encode_int(buf, v);
    esize = enc_size(buf);
    lp = splice(lp, off, del, buf, esize, NULL, 0, esize, newp);
    if (where != LP_REPLACE) count_add(lp, 1);
    return lp;
}

unsigned char *lp_insert(unsigned char *lp, const char *s, size_t n, unsigned char *p,
                         enum lp_where where, unsigned char **newp)
{
    long long v;
    unsigned char hdr[5];
    size_t del, off, hlen;
    if (n <= 20 && util_str2ll(s, n, &v)) return lp_insert_int(lp, v, p, where, newp);
    off = where_offset(lp, p, where, &del);
    hlen = encode_str_header(hdr, n);
    lp = splice(lp, off, del, hdr, hlen, s, n, hlen + n, newp);
    if (where != LP_REPLACE) count_add(lp, 1);
    return lp;
}

unsigned char *lp_append(unsigned char *lp, const char *s, size_t n)
{
    return lp_insert(lp, s, n, NULL, LP_AFTER, NULL);
}

unsigned char *lp_prepend(unsigned char *lp, const char *s, size_t n)
{
    return lp_insert(lp, s, n, NULL, LP_BEFORE, NULL);
}

unsigned char *lp_append_int(unsigned char *lp, long long v)
{
    return lp_insert_int(lp, v, NULL, LP_AFTER, NULL);
}

/* One item's encoded size; *v set when it is stored as an integer. */
static size_t item_size(const struct lp_item *it, bool *isint, long long *v)
{
    unsigned char tmp[16];
    size_t h;
    *isint = !it->s || (it->n <= 20 && util_str2ll(it->s, it->n, v));
    if (*isint) {
        if (!it->s) *v = it->v;
        return encode_int(tmp, *v);
    }
    h = encode_str_header(tmp, it->n);
    return h + it->n + backlen_size(h + it->n);
}

unsigned char *lp_append_items(unsigned char *lp, const struct lp_item *items, size_t cnt)
{
    size_t total = rd32(lp), add = 0, off, i;
    bool isint;
    long long v;
    for (i = 0; i < cnt; i++)
        add += item_size(&items[i], &isint, &v);
    lp = xrealloc(lp, total + add);
    off = total - 1; /* over the EOF byte */
    for (i = 0; i < cnt; i++) {
        const struct lp_item *it = &items[i];
        size_t sz = item_size(it, &isint, &v);
        if (isint) {
            encode_int(lp + off, v);
        } else {
            size_t h = encode_str_header(lp + off, it->n);
            memcpy(lp + off + h, it->s, it->n);
            backlen_write(lp + off + h + it->n, h + it->n);
        }
        off += sz;
    }
    lp[off] = LP_EOF;
    wr32(lp, (uint32_t)(total + add));
    count_add(lp, (long)cnt);
    return lp;
}

unsigned char *lp_delete(unsigned char *lp, unsigned char *p, unsigned char **next)
{
    size_t off = (size_t)(p - lp);
    lp = splice(lp, off, entry_size(p), NULL, 0, NULL, 0, 0, NULL);
    count_add(lp, -1);
    if (next) *next = lp[off] == LP_EOF ? NULL : lp + off;
    return lp;
}

unsigned char *lp_delete_range(unsigned char *lp, long index, unsigned long count)
{
    unsigned char *p = lp_seek(lp, index), *q;
    size_t off, len = 0;
    unsigned long i, removed = 0;
    if (!p || count == 0) return lp;
    off = (size_t)(p - lp);
    q = p;
    for (i = 0; i < count && *q != LP_EOF; i++) {
        size_t s = entry_size(q);
        len += s;
        q += s;
        removed++;
    }
    lp = splice(lp, off, len, NULL, 0, NULL, 0, 0, NULL);
    {
        unsigned n = rd16(lp + 4);
        if (n != LP_COUNT_UNKNOWN)
            wr16(lp + 4, n - (unsigned)removed);
        else
            count_add(lp, 0);
    }
    return lp;
}

unsigned char *lp_find(unsigned char *lp, unsigned char *p, const char *s, size_t n, int skip)
{
    long long sv = 0;
    bool s_is_int = n <= 20 && util_str2ll(s, n, &sv);
    int k = 0;
    while (p) {
        if (k == 0) {
            unsigned char b = p[0];
            bool entry_is_str = (b & 0xC0) == 0x80 || (b & 0xF0) == 0xE0 || b == 0xF0;
            if (entry_is_str) {
                size_t len;
                char ibuf[LP_INTBUF];
                const char *e;
                if (!s_is_int) {
                    e = lp_get(p, &len, ibuf, NULL, NULL);
                    if (len == n && memcmp(e, s, n) == 0) return p;
                }
            } else if (s_is_int) {
                size_t len;
                char ibuf[LP_INTBUF];
                long long v;
                bool isint;
                lp_get(p, &len, ibuf, &isint, &v);
                if (v == sv) return p;
            }
            k = skip;
        } else {
            k--;
        }
        p = lp_next(lp, p);
    }
    return NULL;
}

bool lp_validate(const unsigned char *lp, size_t size)
{
    const unsigned char *p, *end;
    unsigned long count = 0;
    if (size < LP_HDR + 1 || rd32(lp) != size || lp[size - 1] != LP_EOF) return false;
    p = lp + LP_HDR;
    end = lp + size - 1;
    while (p < end) {
        size_t e, b;
        unsigned char c = p[0];
        if (c == LP_EOF) return false;
        if ((c & 0xF0) == 0xE0 && p + 1 >= end) return false;
        if (c == 0xF0 && p + 5 > end) return false;
        if (c >= 0xF5 && c != LP_EOF) return false;
        e = enc_size(p);
        b = backlen_size(e);
        if ((size_t)(end - p) < e + b) return false;
        if (backlen_read(p + e + b - 1) != e) return false;
        p += e + b;
        count++;
    }
    if (p != end) return false;
    return rd16(lp + 4) == LP_COUNT_UNKNOWN || rd16(lp + 4) == count;
}
