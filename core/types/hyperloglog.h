/* hyperloglog.h — the HyperLogLog structure in Redis's exact byte format
 * (so values move between Keel and Redis with DUMP/RESTORE or GET/SET):
 * a 16-byte header ("HYLL", encoding, 3 unused bytes, cached cardinality
 * little endian with bit 63 = "stale"), then 16384 registers of 6 bits,
 * either dense (12288 bytes, packed little-endian bit order) or sparse
 * (ZERO / XZERO / VAL run-length opcodes). Elements are hashed with
 * MurmurHash64A, seed 0xadc83b19; the estimator is Ertl's improved one
 * (Redis >= 5). An HLL is a string value: this code works on the raw
 * string (struct rstr) and knows nothing of keys, arguments or replies. */
#ifndef KEEL_HYPERLOGLOG_H
#define KEEL_HYPERLOGLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "object.h"

#define HLL_P 14
#define HLL_Q (64 - HLL_P)
#define HLL_REGISTERS (1 << HLL_P)
#define HLL_BITS 6
#define HLL_REGISTER_MAX ((1 << HLL_BITS) - 1)
#define HLL_HDR_SIZE 16
#define HLL_DENSE_SIZE (HLL_HDR_SIZE + ((HLL_REGISTERS * HLL_BITS + 7) / 8))
#define HLL_SPARSE_EMPTY_SIZE (HLL_HDR_SIZE + 2)

enum { HLL_DENSE = 0, HLL_SPARSE = 1, HLL_RAW = 255 };

/* hll-sparse-max-bytes: a sparse HLL that would grow past this many bytes
 * (header included) is converted to dense. Config entry; default 3000. */
extern long long hll_sparse_max_bytes;

/* Redis's MurmurHash64A (64-bit, little-endian reading). */
uint64_t hll_murmur64a(const void *key, int len, unsigned int seed);
/* Register index and run length ("000..1" pattern length) of an element. */
int hll_pattern(const void *ele, size_t n, long *reg);

/* Whether p/n is a HyperLogLog string: "HYLL" magic, a known encoding,
 * and exactly HLL_DENSE_SIZE bytes when dense (Redis's isHLLObject). */
bool hll_valid(const uint8_t *p, size_t n);
static inline int hll_encoding(const uint8_t *p)
{
    return p[4];
}

/* A new empty (sparse) HLL: 18 bytes, cached cardinality 0 and valid. */
struct rstr *hll_new(void);

/* Add one element. Returns 1 if a register changed, 0 if not, -1 if the
 * HLL is corrupt. *sp may be reallocated (sparse growth or promotion to
 * dense). Does not touch the cached cardinality (the caller invalidates). */
int hll_add(struct rstr **sp, const void *ele, size_t n);
/* Raise register idx to count if it is lower (the merge step of PFMERGE).
 * Returns as hll_add. */
int hll_set(struct rstr **sp, long idx, uint8_t count);
/* Convert a sparse HLL to dense (a dense one is left as is); -1 if the
 * sparse form is corrupt (then *sp is unchanged). */
int hll_to_dense(struct rstr **sp);

/* max[i] = MAX(max[i], register i) over an HLL value (one byte per
 * register in max). -1 if the value is corrupt. */
int hll_merge(uint8_t *max, const uint8_t *p, size_t n);

/* Write every register of a dense value (regs = the bytes after the
 * header) from vals, one byte per register (each at most 63). */
void hll_dense_store(uint8_t *regs, const uint8_t *vals);

/* Cardinality estimate of an HLL value; *invalid (if given) is set when
 * a sparse value does not cover exactly 16384 registers. */
uint64_t hll_count(const uint8_t *p, size_t n, int *invalid);
/* The same for registers held one byte each (PFCOUNT of several keys). */
uint64_t hll_count_raw(const uint8_t *regs);

/* The cached cardinality in the header. */
static inline bool hll_cache_valid(const uint8_t *p)
{
    return (p[15] & 0x80) == 0;
}
static inline void hll_invalidate(uint8_t *p)
{
    p[15] |= 0x80;
}
uint64_t hll_cache_get(const uint8_t *p);
void hll_cache_set(uint8_t *p, uint64_t card);

/* PFDEBUG DECODE: a sparse value's opcodes as Redis prints them
 * ("z:<len>", "Z:<len>", "v:<value>,<len>", space separated); malloc'd. */
char *hll_sparse_decode(const uint8_t *p, size_t n, size_t *len);
/* PFSELFTEST: dense registers read back what was written; sparse and dense
 * HLLs fed the same `elements` agree and err at most 6 sigma at 1, 10,
 * 100, ... False with Redis's "TESTFAILED ..." message in err. */
bool hll_selftest(char *err, size_t errlen, long elements);

/* Dense register access (regs = the bytes after the header). A register
 * that fits in one byte never touches the next one, so the last register
 * reads nothing past the registers. */
static inline uint8_t hll_dense_get(const uint8_t *regs, long i)
{
    unsigned long byte = (unsigned long)i * HLL_BITS / 8, fb = (unsigned long)i * HLL_BITS & 7;
    unsigned long b0 = regs[byte], b1 = fb > 2 ? regs[byte + 1] : 0;
    return (uint8_t)(((b0 >> fb) | (b1 << (8 - fb))) & HLL_REGISTER_MAX);
}

#endif
