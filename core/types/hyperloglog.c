/* hyperloglog.c — the HyperLogLog structure (hyperloglog.h): Redis's byte
 * format, dense and sparse representations, the sparse -> dense switch
 * at hll-sparse-max-bytes, MurmurHash64A and Ertl's cardinality estimator.
 * The algorithms follow Redis's hyperloglog.c step by step, because the
 * stored bytes (not only the estimates) must be identical to Redis's. */
#include "hyperloglog.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

long long hll_sparse_max_bytes = 3000;

/* ---- sparse opcodes ----
 * ZERO  00xxxxxx          : 1..64 zero registers
 * XZERO 01xxxxxx yyyyyyyy : 1..16384 zero registers
 * VAL   1vvvvvxx          : 1..4 registers of value 1..32 */
#define SP_XZERO_BIT 0x40
#define SP_VAL_BIT 0x80
#define SP_IS_ZERO(p) (((*(p)) & 0xc0) == 0)
#define SP_IS_XZERO(p) (((*(p)) & 0xc0) == SP_XZERO_BIT)
#define SP_IS_VAL(p) ((*(p)) & SP_VAL_BIT)
#define SP_ZERO_LEN(p) (((*(p)) & 0x3f) + 1)
/* XZERO's length; a value cut after its first byte reads 0 for the second
 * (Redis reads the string's terminating NUL there). */
#define SP_XZERO_LEN_END(p, end) (((((*(p)) & 0x3f) << 8) | ((p) + 1 < (end) ? (p)[1] : 0)) + 1)
#define SP_VAL_VALUE(p) ((((*(p)) >> 2) & 0x1f) + 1)
#define SP_VAL_LEN(p) (((*(p)) & 0x3) + 1)
#define SP_VAL_MAX_VALUE 32
#define SP_VAL_MAX_LEN 4
#define SP_ZERO_MAX_LEN 64
#define SP_XZERO_MAX_LEN 16384

static inline void sp_val_set(uint8_t *p, int val, int len)
{
    *p = (uint8_t)((((val)-1) << 2 | ((len)-1)) | SP_VAL_BIT);
}
static inline void sp_zero_set(uint8_t *p, int len)
{
    *p = (uint8_t)(len - 1);
}
static inline void sp_xzero_set(uint8_t *p, int len)
{
    int l = len - 1;
    p[0] = (uint8_t)((l >> 8) | SP_XZERO_BIT);
    p[1] = (uint8_t)(l & 0xff);
}

#define HLL_ALPHA_INF 0.721347520444481703680 /* 0.5/ln(2) */

/* ---- hashing ---- */

uint64_t hll_murmur64a(const void *key, int len, unsigned int seed)
{
    const uint64_t m = 0xc6a4a7935bd1e995ULL;
    const int r = 47;
    uint64_t h = seed ^ ((uint64_t)len * m);
    const uint8_t *data = (const uint8_t *)key;
    const uint8_t *end = data + (len - (len & 7));

    while (data != end) {
        uint64_t k;
        memcpy(&k, data, sizeof(k));
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        k = __builtin_bswap64(k);
#endif
        k *= m;
        k ^= k >> r;
        k *= m;
        h ^= k;
        h *= m;
        data += 8;
    }
    switch (len & 7) {
    case 7:
        h ^= (uint64_t)data[6] << 48; /* fall through */
    case 6:
        h ^= (uint64_t)data[5] << 40; /* fall through */
    case 5:
        h ^= (uint64_t)data[4] << 32; /* fall through */
    case 4:
        h ^= (uint64_t)data[3] << 24; /* fall through */
    case 3:
        h ^= (uint64_t)data[2] << 16; /* fall through */
    case 2:
        h ^= (uint64_t)data[1] << 8; /* fall through */
    case 1:
        h ^= (uint64_t)data[0];
        h *= m;
    }
    h ^= h >> r;
    h *= m;
    h ^= h >> r;
    return h;
}

int hll_pattern(const void *ele, size_t n, long *reg)
{
    uint64_t hash = hll_murmur64a(ele, (int)n, 0xadc83b19U), bit = 1;
    int count = 1;
    *reg = (long)(hash & (HLL_REGISTERS - 1));
    hash >>= HLL_P;
    hash |= (uint64_t)1 << HLL_Q; /* the loop ends, count <= Q+1 */
    while ((hash & bit) == 0) {
        count++;
        bit <<= 1;
    }
    return count;
}

/* ---- header ---- */

bool hll_valid(const uint8_t *p, size_t n)
{
    if (n < HLL_HDR_SIZE) return false;
    if (p[0] != 'H' || p[1] != 'Y' || p[2] != 'L' || p[3] != 'L') return false;
    if (p[4] > HLL_SPARSE) return false;
    if (p[4] == HLL_DENSE && n != HLL_DENSE_SIZE) return false;
    return true;
}

uint64_t hll_cache_get(const uint8_t *p)
{
    uint64_t card = 0;
    int i;
    for (i = 7; i >= 0; i--)
        card = (card << 8) | p[8 + i];
    return card;
}

void hll_cache_set(uint8_t *p, uint64_t card)
{
    int i;
    for (i = 0; i < 8; i++)
        p[8 + i] = (uint8_t)(card >> (8 * i));
}

struct rstr *hll_new(void)
{
    struct rstr *s = rstr_new("", 0, HLL_SPARSE_EMPTY_SIZE);
    uint8_t *p = (uint8_t *)s->buf;
    int aux = HLL_REGISTERS;

    memset(p, 0, HLL_SPARSE_EMPTY_SIZE);
    memcpy(p, "HYLL", 4);
    p[4] = HLL_SPARSE;
    p += HLL_HDR_SIZE;
    while (aux) {
        int xzero = aux < SP_XZERO_MAX_LEN ? aux : SP_XZERO_MAX_LEN;
        sp_xzero_set(p, xzero);
        p += 2;
        aux -= xzero;
    }
    s->len = HLL_SPARSE_EMPTY_SIZE;
    return s;
}

/* ---- dense ---- */

static inline void dense_put(uint8_t *regs, long i, uint8_t v)
{
    unsigned long byte = (unsigned long)i * HLL_BITS / 8, fb = (unsigned long)i * HLL_BITS & 7;
    regs[byte] = (uint8_t)(regs[byte] & ~(HLL_REGISTER_MAX << fb));
    regs[byte] = (uint8_t)(regs[byte] | (unsigned)v << fb);
    if (fb > 2) {
        unsigned long fb8 = 8 - fb;
        regs[byte + 1] = (uint8_t)(regs[byte + 1] & ~(HLL_REGISTER_MAX >> fb8));
        regs[byte + 1] = (uint8_t)(regs[byte + 1] | (unsigned)v >> fb8);
    }
}

static int dense_set(uint8_t *regs, long i, uint8_t count)
{
    if (count > hll_dense_get(regs, i)) {
        dense_put(regs, i, count);
        return 1;
    }
    return 0;
}

static void dense_histo(const uint8_t *r, int *reghisto)
{
    int j;
    /* 4 registers per 3 bytes */
    for (j = 0; j < HLL_REGISTERS / 4; j++) {
        reghisto[r[0] & 63]++;
        reghisto[(r[0] >> 6 | r[1] << 2) & 63]++;
        reghisto[(r[1] >> 4 | r[2] << 4) & 63]++;
        reghisto[(r[2] >> 2) & 63]++;
        r += 3;
    }
}

/* ---- sparse ---- */

int hll_to_dense(struct rstr **sp)
{
    struct rstr *s = *sp, *d;
    const uint8_t *p = (const uint8_t *)s->buf, *end = p + s->len;
    uint8_t *regs;
    int idx = 0, runlen, regval;

    if (p[4] == HLL_DENSE) return 0;
    d = rstr_new("", 0, HLL_DENSE_SIZE);
    memset(d->buf, 0, HLL_DENSE_SIZE);
    d->len = HLL_DENSE_SIZE;
    memcpy(d->buf, s->buf, HLL_HDR_SIZE); /* magic and cached cardinality */
    d->buf[4] = HLL_DENSE;
    regs = (uint8_t *)d->buf + HLL_HDR_SIZE;

    p += HLL_HDR_SIZE;
    while (p < end) {
        if (SP_IS_ZERO(p)) {
            idx += SP_ZERO_LEN(p);
            p++;
        } else if (SP_IS_XZERO(p)) {
            idx += SP_XZERO_LEN_END(p, end);
            p += 2;
        } else {
            runlen = SP_VAL_LEN(p);
            regval = SP_VAL_VALUE(p);
            /* a run past the last register: corrupt (as Redis with the
             * CVE-2025-32023 fix that Debian's 7.0.15 carries) */
            if (runlen + idx > HLL_REGISTERS) {
                idx = -1;
                break;
            }
            while (runlen--) {
                dense_put(regs, idx, (uint8_t)regval);
                idx++;
            }
            p++;
        }
    }
    if (idx != HLL_REGISTERS) {
        free(d);
        return -1;
    }
    free(s);
    *sp = d;
    return 0;
}

static int sparse_set(struct rstr **sp, long index, uint8_t count)
{
    struct rstr *s;
    uint8_t *sparse, *end, *p, *prev, *next;
    long first, span;
    long is_zero = 0, is_xzero = 0, is_val = 0, runlen = 0;
    uint8_t seq[5], *n = seq;
    int last, len, seqlen, oldlen, deltalen, scanlen;

    if (count > SP_VAL_MAX_VALUE) goto promote;

    /* Room for the worst case (XZERO split into XZERO-VAL-XZERO: +3 bytes)
     * so that the pointers below stay valid, and one more: an XZERO cut
     * short at the end (1 byte of 2) is replaced as if whole, its 5 new
     * bytes written from the value's last byte (as Redis, where that byte
     * lands on the sds terminator). */
    s = *sp = rstr_grow(*sp, (size_t)(*sp)->len + 4);

    /* Step 1: find the opcode that covers register index. */
    sparse = p = (uint8_t *)s->buf + HLL_HDR_SIZE;
    end = (uint8_t *)s->buf + s->len;
    first = 0;
    prev = NULL;
    next = NULL;
    span = 0;
    while (p < end) {
        long oplen = 1;
        if (SP_IS_ZERO(p)) {
            span = SP_ZERO_LEN(p);
        } else if (SP_IS_VAL(p)) {
            span = SP_VAL_LEN(p);
        } else {
            span = SP_XZERO_LEN_END(p, end);
            oplen = 2;
        }
        if (index <= first + span - 1) break;
        prev = p;
        p += oplen;
        first += span;
    }
    if (span == 0 || p >= end) return -1; /* invalid format */

    next = SP_IS_XZERO(p) ? p + 2 : p + 1;
    if (next >= end) next = NULL;

    if (SP_IS_ZERO(p)) {
        is_zero = 1;
        runlen = SP_ZERO_LEN(p);
    } else if (SP_IS_XZERO(p)) {
        is_xzero = 1;
        runlen = SP_XZERO_LEN_END(p, end);
    } else {
        is_val = 1;
        runlen = SP_VAL_LEN(p);
    }

    /* Step 2: the trivial cases. */
    if (is_val) {
        int oldcount = SP_VAL_VALUE(p);
        if (oldcount >= count) return 0; /* A: no update needed */
        if (runlen == 1) {               /* B: a VAL of length 1 */
            sp_val_set(p, count, 1);
            goto updated;
        }
    }
    if (is_zero && runlen == 1) { /* C: a ZERO of length 1 */
        sp_val_set(p, count, 1);
        goto updated;
    }

    /* D: the general case: split the opcode into up to three. */
    last = (int)(first + span - 1);
    if (is_zero || is_xzero) {
        if (index != first) {
            len = (int)(index - first);
            if (len > SP_ZERO_MAX_LEN) {
                sp_xzero_set(n, len);
                n += 2;
            } else {
                sp_zero_set(n, len);
                n++;
            }
        }
        sp_val_set(n, count, 1);
        n++;
        if (index != last) {
            len = (int)(last - index);
            if (len > SP_ZERO_MAX_LEN) {
                sp_xzero_set(n, len);
                n += 2;
            } else {
                sp_zero_set(n, len);
                n++;
            }
        }
    } else {
        int curval = SP_VAL_VALUE(p);
        if (index != first) {
            len = (int)(index - first);
            sp_val_set(n, curval, len);
            n++;
        }
        sp_val_set(n, count, 1);
        n++;
        if (index != last) {
            len = (int)(last - index);
            sp_val_set(n, curval, len);
            n++;
        }
    }

    /* Step 3: put the new sequence in place of the old opcode. */
    seqlen = (int)(n - seq);
    oldlen = is_xzero ? 2 : 1;
    deltalen = seqlen - oldlen;
    if (deltalen > 0 && (long long)s->len + deltalen > hll_sparse_max_bytes) goto promote;
    if (deltalen && next) memmove(next + deltalen, next, (size_t)(end - next));
    s->len = (uint32_t)((long)s->len + deltalen);
    memcpy(p, seq, (size_t)seqlen);
    end += deltalen;

updated:
    /* Step 4: merge adjacent VAL opcodes of the same value, scanning up
     * to 5 opcodes from the previous one. */
    p = prev ? prev : sparse;
    scanlen = 5;
    while (p < end && scanlen--) {
        if (SP_IS_XZERO(p)) {
            p += 2;
            continue;
        } else if (SP_IS_ZERO(p)) {
            p++;
            continue;
        }
        if (p + 1 < end && SP_IS_VAL(p + 1)) {
            int v1 = SP_VAL_VALUE(p), v2 = SP_VAL_VALUE(p + 1);
            if (v1 == v2) {
                int l = SP_VAL_LEN(p) + SP_VAL_LEN(p + 1);
                if (l <= SP_VAL_MAX_LEN) {
                    sp_val_set(p + 1, v1, l);
                    /* the bytes after p, up to the end (Redis moves one
                     * more, its sds terminator; an rstr has none, and
                     * its last byte can be the buffer's last) */
                    memmove(p, p + 1, (size_t)(end - p - 1));
                    s->len--;
                    end--;
                    continue; /* try to merge with the next one too */
                }
            }
        }
        p++;
    }
    hll_invalidate((uint8_t *)s->buf);
    return 1;

promote:
    if (hll_to_dense(sp) == -1) return -1; /* corrupt */
    /* A register must change here, or the sparse form would have held it. */
    return dense_set((uint8_t *)(*sp)->buf + HLL_HDR_SIZE, index, count);
}

int hll_set(struct rstr **sp, long idx, uint8_t count)
{
    uint8_t *h = (uint8_t *)(*sp)->buf;
    switch (h[4]) {
    case HLL_DENSE:
        return dense_set(h + HLL_HDR_SIZE, idx, count);
    case HLL_SPARSE:
        return sparse_set(sp, idx, count);
    default:
        return -1;
    }
}

int hll_add(struct rstr **sp, const void *ele, size_t n)
{
    long idx;
    int count = hll_pattern(ele, n, &idx);
    return hll_set(sp, idx, (uint8_t)count);
}

int hll_merge(uint8_t *max, const uint8_t *p, size_t n)
{
    int i;
    if (p[4] == HLL_DENSE) {
        /* 4 registers per 3 bytes */
        const uint8_t *r = p + HLL_HDR_SIZE;
        for (i = 0; i < HLL_REGISTERS; i += 4, r += 3) {
            uint8_t v0 = r[0] & 63, v1 = (uint8_t)((r[0] >> 6 | r[1] << 2) & 63);
            uint8_t v2 = (uint8_t)((r[1] >> 4 | r[2] << 4) & 63), v3 = r[2] >> 2;
            if (v0 > max[i]) max[i] = v0;
            if (v1 > max[i + 1]) max[i + 1] = v1;
            if (v2 > max[i + 2]) max[i + 2] = v2;
            if (v3 > max[i + 3]) max[i + 3] = v3;
        }
        return 0;
    } else {
        const uint8_t *end = p + n;
        long runlen, regval;
        p += HLL_HDR_SIZE;
        i = 0;
        while (p < end) {
            if (SP_IS_ZERO(p)) {
                i += SP_ZERO_LEN(p);
                p++;
            } else if (SP_IS_XZERO(p)) {
                i += SP_XZERO_LEN_END(p, end);
                p += 2;
            } else {
                runlen = SP_VAL_LEN(p);
                regval = SP_VAL_VALUE(p);
                if (runlen + i > HLL_REGISTERS) { /* corrupt, as hll_to_dense */
                    i = -1;
                    break;
                }
                while (runlen--) {
                    if (regval > max[i]) max[i] = (uint8_t)regval;
                    i++;
                }
                p++;
            }
        }
        if (i != HLL_REGISTERS) return -1;
    }
    return 0;
}

void hll_dense_store(uint8_t *r, const uint8_t *vals)
{
    int i;
    for (i = 0; i < HLL_REGISTERS; i += 4, r += 3) {
        r[0] = (uint8_t)(vals[i] | vals[i + 1] << 6);
        r[1] = (uint8_t)(vals[i + 1] >> 2 | vals[i + 2] << 4);
        r[2] = (uint8_t)(vals[i + 2] >> 4 | vals[i + 3] << 2);
    }
}

/* ---- estimator (Otmar Ertl, "New cardinality estimation algorithms for
 * HyperLogLog sketches", arXiv:1702.01284) ---- */

static double hll_sigma(double x)
{
    double zp, y = 1, z = x;
    if (x == 1.) return INFINITY;
    do {
        x *= x;
        zp = z;
        z += x * y;
        y += y;
    } while (zp != z);
    return z;
}

static double hll_tau(double x)
{
    double zp, y = 1.0, z;
    if (x == 0. || x == 1.) return 0.;
    z = 1 - x;
    do {
        x = sqrt(x);
        zp = z;
        y *= 0.5;
        z -= pow(1 - x, 2) * y;
    } while (zp != z);
    return z / 3;
}

static uint64_t estimate(const int *reghisto)
{
    double m = HLL_REGISTERS, z, E;
    int j;
    z = m * hll_tau((m - reghisto[HLL_Q + 1]) / (double)m);
    for (j = HLL_Q; j >= 1; --j) {
        z += reghisto[j];
        z *= 0.5;
    }
    z += m * hll_sigma(reghisto[0] / (double)m);
    E = HLL_ALPHA_INF * m * m / z;
    /* Past what a long long holds (every register above 50 makes z 0 and
     * E infinite): 2^63, what Redis 7.0's casts give on x86-64 (PFCOUNT
     * replies -9223372036854775808); in C the casts are undefined. */
    if (!(E < 9223372036854775807.0)) return 1ULL << 63;
    return (uint64_t)llroundl(E);
}

static void sparse_histo(const uint8_t *p, size_t n, int *invalid, int *reghisto)
{
    const uint8_t *end = p + n;
    int idx = 0, runlen, regval;
    while (p < end) {
        if (SP_IS_ZERO(p)) {
            runlen = SP_ZERO_LEN(p);
            idx += runlen;
            reghisto[0] += runlen;
            p++;
        } else if (SP_IS_XZERO(p)) {
            runlen = SP_XZERO_LEN_END(p, end);
            idx += runlen;
            reghisto[0] += runlen;
            p += 2;
        } else {
            runlen = SP_VAL_LEN(p);
            regval = SP_VAL_VALUE(p);
            idx += runlen;
            reghisto[regval] += runlen;
            p++;
        }
    }
    if (idx != HLL_REGISTERS && invalid) *invalid = 1;
}

uint64_t hll_count(const uint8_t *p, size_t n, int *invalid)
{
    int reghisto[64] = {0};
    if (p[4] == HLL_DENSE)
        dense_histo(p + HLL_HDR_SIZE, reghisto);
    else
        sparse_histo(p + HLL_HDR_SIZE, n - HLL_HDR_SIZE, invalid, reghisto);
    return estimate(reghisto);
}

uint64_t hll_count_raw(const uint8_t *regs)
{
    int reghisto[64] = {0}, j;
    for (j = 0; j < HLL_REGISTERS; j++)
        reghisto[regs[j] & 63]++;
    return estimate(reghisto);
}

/* ---- PFDEBUG DECODE and PFSELFTEST ---- */

char *hll_sparse_decode(const uint8_t *p, size_t n, size_t *len)
{
    const uint8_t *end = p + n;
    size_t cap = 64, used = 0;
    char *out = xmalloc(cap);
    out[0] = 0;
    for (p += HLL_HDR_SIZE; p < end;) {
        char item[32];
        int k;
        if (SP_IS_ZERO(p)) {
            k = snprintf(item, sizeof(item), "z:%d ", SP_ZERO_LEN(p));
            p++;
        } else if (SP_IS_XZERO(p)) {
            k = snprintf(item, sizeof(item), "Z:%d ", SP_XZERO_LEN_END(p, end));
            p += 2;
        } else {
            k = snprintf(item, sizeof(item), "v:%d,%d ", SP_VAL_VALUE(p), SP_VAL_LEN(p));
            p++;
        }
        if (used + (size_t)k + 1 > cap) {
            cap = (cap + (size_t)k) * 2;
            out = xrealloc(out, cap);
        }
        memcpy(out + used, item, (size_t)k + 1);
        used += (size_t)k;
    }
    while (used > 0 && out[used - 1] == ' ')
        used--;
    out[used] = 0;
    *len = used;
    return out;
}

bool hll_selftest(char *err, size_t errlen, long elements)
{
    uint8_t regs[HLL_DENSE_SIZE - HLL_HDR_SIZE], want[HLL_REGISTERS];
    uint64_t seed = (uint64_t)util_ustime() * 0x9e3779b97f4a7c15ULL | 1, ele;
    struct rstr *sparse, *dense;
    double relerr = 1.04 / sqrt(HLL_REGISTERS);
    long i, j, checkpoint = 1;
    bool ok = true;
    /* 1: every dense register reads back what was written */
    for (j = 0; j < 1000; j++) {
        for (i = 0; i < HLL_REGISTERS; i++) {
            seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
            want[i] = (uint8_t)(seed & HLL_REGISTER_MAX);
            dense_put(regs, i, want[i]);
        }
        for (i = 0; i < HLL_REGISTERS; i++)
            if (hll_dense_get(regs, i) != want[i]) {
                snprintf(err, errlen, "TESTFAILED Register error, counter %ld should be %u, got %u",
                         i, want[i], hll_dense_get(regs, i));
                return false;
            }
    }
    /* 2: sparse and dense agree, and the error stays within 6 sigma */
    sparse = hll_new();
    dense = hll_new();
    hll_to_dense(&dense);
    for (j = 1; j <= elements && ok; j++) {
        ele = (uint64_t)j ^ seed;
        hll_add(&dense, &ele, sizeof(ele));
        hll_add(&sparse, &ele, sizeof(ele));
        if (j != checkpoint) continue;
        if (j < hll_sparse_max_bytes / 2 &&
            hll_encoding((const uint8_t *)sparse->buf) != HLL_SPARSE) {
            snprintf(err, errlen, "TESTFAILED sparse encoding not used");
            ok = false;
        } else if (hll_count((const uint8_t *)dense->buf, dense->len, NULL) !=
                   hll_count((const uint8_t *)sparse->buf, sparse->len, NULL)) {
            snprintf(err, errlen, "TESTFAILED dense/sparse disagree");
            ok = false;
        } else {
            long long abserr =
                checkpoint - (long long)hll_count((const uint8_t *)dense->buf, dense->len, NULL);
            unsigned long long maxerr = (unsigned long long)ceil(relerr * 6 * (double)checkpoint);
            if (j == 10) maxerr = 1; /* collisions make 10 noisy, as Redis allows */
            if (abserr < 0) abserr = -abserr;
            if (abserr > (long long)maxerr) {
                snprintf(err, errlen, "TESTFAILED Too big error. card:%llu abserr:%llu",
                         (unsigned long long)checkpoint, (unsigned long long)abserr);
                ok = false;
            }
            checkpoint *= 10;
        }
    }
    free(sparse);
    free(dense);
    return ok;
}
