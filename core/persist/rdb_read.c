/* rdb_read.c — the bounds-checked reader of an RDB image (rdb_read.h):
 * failure reporting, lengths, strings in every encoding Redis writes
 * (integers, LZF) and doubles. */
#include "rdb_read.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crc64.h"
#include "rdb_format.h"
#include "t_list.h"
#include "util.h"

void rd_sfree(struct rstrv *s)
{
    free(s->heap);
    s->heap = NULL;
}

bool rd_fail(struct rd *r, const char *fmt, ...)
{
    va_list ap;
    if (r->failed) return false;
    r->failed = true;
    if (r->err && r->errlen) {
        va_start(ap, fmt);
        vsnprintf(r->err, r->errlen, fmt, ap);
        va_end(ap);
    }
    return false;
}

long long rd_offset(const struct rd *r)
{
    return r->off0 + (long long)(r->p - r->start);
}

void rd_boundary(struct rd *r)
{
    if (r->boundary) r->boundary(r);
}

uint64_t rd_crc(struct rd *r)
{
    if (!r->crc_p) r->crc_p = r->start;
    r->crc = crc64(r->crc, r->crc_p, (size_t)(r->p - r->crc_p));
    r->crc_p = r->p;
    return r->crc;
}

uint64_t rd_left_hint(const struct rd *r)
{
    if (!r->refill) return (uint64_t)(r->end - r->p);
    if (r->total >= 0) return (uint64_t)(r->total - rd_offset(r));
    return 3ULL << 24; /* unknown: 16M keys at most are reserved up front */
}

bool rd_corrupt(struct rd *r, const char *what)
{
    return rd_fail(r, "Bad RDB format: %s (at offset %lld)", what, rd_offset(r));
}

bool r_need(struct rd *r, size_t n)
{
    if ((size_t)(r->end - r->p) >= n) return true;
    if (r->refill && !r->failed && r->refill(r, n)) return true;
    return rd_fail(r, "Short read or unexpected end of the RDB image (at offset %lld)",
                   rd_offset(r));
}

bool r_byte(struct rd *r, int *b)
{
    if (!r_need(r, 1)) return false;
    *b = *r->p++;
    return true;
}

/* A length, or (when *enc is set) a special string encoding. */
bool r_len_enc(struct rd *r, uint64_t *len, bool *isenc)
{
    int b;
    *isenc = false;
    *len = 0;
    if (!r_byte(r, &b)) return false;
    switch ((b & 0xC0) >> 6) {
    case 0:
        *len = (uint64_t)(b & 0x3F);
        return true;
    case 1:
        if (!r_need(r, 1)) return false;
        *len = ((uint64_t)(b & 0x3F) << 8) | r->p[0];
        r->p++;
        return true;
    case 2:
        if (b == 0x80) {
            if (!r_need(r, 4)) return false;
            *len = (uint64_t)r->p[0] << 24 | (uint64_t)r->p[1] << 16 | (uint64_t)r->p[2] << 8 |
                   r->p[3];
            r->p += 4;
            return true;
        }
        if (b == 0x81) {
            int i;
            if (!r_need(r, 8)) return false;
            *len = 0;
            for (i = 0; i < 8; i++)
                *len = (*len << 8) | r->p[i];
            r->p += 8;
            return true;
        }
        return rd_corrupt(r, "unknown length encoding");
    default:
        *isenc = true;
        *len = (uint64_t)(b & 0x3F);
        return true;
    }
}

bool r_len(struct rd *r, uint64_t *len)
{
    bool isenc;
    if (!r_len_enc(r, len, &isenc)) return false;
    if (isenc) return rd_corrupt(r, "string encoding where a length was expected");
    return true;
}

bool r_string(struct rd *r, struct rstrv *s)
{
    uint64_t len;
    bool isenc;
    s->heap = NULL;
    if (!r_len_enc(r, &len, &isenc)) return false;
    if (isenc) {
        long long v;
        switch (len) {
        case ENC_INT8:
            if (!r_need(r, 1)) return false;
            v = (int8_t)r->p[0];
            r->p += 1;
            break;
        case ENC_INT16:
            if (!r_need(r, 2)) return false;
            v = (int16_t)(uint16_t)(r->p[0] | r->p[1] << 8);
            r->p += 2;
            break;
        case ENC_INT32:
            if (!r_need(r, 4)) return false;
            v = (int32_t)((uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 | (uint32_t)r->p[2] << 16 |
                          (uint32_t)r->p[3] << 24);
            r->p += 4;
            break;
        case ENC_LZF: {
            uint64_t clen, olen;
            if (!r_len(r, &clen) || !r_len(r, &olen)) return false;
            if (!r_need(r, clen)) return false;
            /* LZF expands 88 times at most (a 3-byte back reference
             * copies 264 bytes): a larger length is a lie, refused before
             * the allocation it would ask for */
            if (olen == 0 || olen > (1ULL << 32) * 4 || olen / 88 > clen)
                return rd_corrupt(r, "bad LZF length");
            s->heap = malloc(olen);
            if (!s->heap)
                return rd_fail(r, "Out of memory loading an LZF string of %llu bytes",
                               (unsigned long long)olen);
            if (ql_lzf_decompress(r->p, clen, s->heap, olen) != olen) {
                rd_sfree(s);
                return rd_corrupt(r, "invalid LZF compressed string");
            }
            r->p += clen;
            s->p = s->heap;
            s->n = olen;
            return true;
        }
        default:
            return rd_corrupt(r, "unknown string encoding");
        }
        s->n = (size_t)util_ll2str(s->ibuf, v);
        s->p = s->ibuf;
        return true;
    }
    if (!r_need(r, len)) return false;
    s->p = (const char *)r->p;
    s->n = len;
    r->p += len;
    return true;
}

bool r_double_str(struct rd *r, double *d)
{
    int n;
    char buf[256];
    if (!r_byte(r, &n)) return false;
    if (n == 253)
        *d = NAN;
    else if (n == 254)
        *d = INFINITY;
    else if (n == 255)
        *d = -INFINITY;
    else {
        if (!r_need(r, (size_t)n)) return false;
        memcpy(buf, r->p, (size_t)n);
        buf[n] = 0;
        r->p += n;
        if (sscanf(buf, "%lg", d) != 1) return rd_corrupt(r, "bad double value");
    }
    return true;
}

bool r_double_bin(struct rd *r, double *d)
{
    uint64_t v = 0;
    int i;
    if (!r_need(r, 8)) return false;
    for (i = 7; i >= 0; i--)
        v = (v << 8) | r->p[i];
    r->p += 8;
    memcpy(d, &v, 8);
    return true;
}

/* ---- compact blobs ---- */
