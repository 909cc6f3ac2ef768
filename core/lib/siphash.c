/* siphash.c — SipHash-1-3 (one compression round, three finalization
 * rounds) keyed by a seed chosen at start-up. */
#include "siphash.h"

#include <string.h>

static uint8_t g_seed[16];

void siphash_set_seed(const uint8_t seed[16])
{
    memcpy(g_seed, seed, 16);
}

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                                   \
    do {                                                                                           \
        v0 += v1;                                                                                  \
        v1 = ROTL(v1, 13);                                                                         \
        v1 ^= v0;                                                                                  \
        v0 = ROTL(v0, 32);                                                                         \
        v2 += v3;                                                                                  \
        v3 = ROTL(v3, 16);                                                                         \
        v3 ^= v2;                                                                                  \
        v0 += v3;                                                                                  \
        v3 = ROTL(v3, 21);                                                                         \
        v3 ^= v0;                                                                                  \
        v2 += v1;                                                                                  \
        v1 = ROTL(v1, 17);                                                                         \
        v1 ^= v2;                                                                                  \
        v2 = ROTL(v2, 32);                                                                         \
    } while (0)

static uint64_t load64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8); /* little-endian hosts only (x86_64, aarch64) */
    return v;
}

uint64_t siphash_with(const void *data, size_t len, const uint8_t key[16])
{
    const uint8_t *in = data;
    uint64_t k0 = load64(key), k1 = load64(key + 8);
    uint64_t v0 = 0x736f6d6570736575ULL ^ k0;
    uint64_t v1 = 0x646f72616e646f6dULL ^ k1;
    uint64_t v2 = 0x6c7967656e657261ULL ^ k0;
    uint64_t v3 = 0x7465646279746573ULL ^ k1;
    uint64_t b = ((uint64_t)len) << 56;
    const uint8_t *end = in + len - (len % 8);
    uint64_t m;

    for (; in != end; in += 8) {
        m = load64(in);
        v3 ^= m;
        SIPROUND;
        v0 ^= m;
    }
    switch (len & 7) {
    case 7:
        b |= ((uint64_t)in[6]) << 48; /* fall through */
    case 6:
        b |= ((uint64_t)in[5]) << 40; /* fall through */
    case 5:
        b |= ((uint64_t)in[4]) << 32; /* fall through */
    case 4:
        b |= ((uint64_t)in[3]) << 24; /* fall through */
    case 3:
        b |= ((uint64_t)in[2]) << 16; /* fall through */
    case 2:
        b |= ((uint64_t)in[1]) << 8; /* fall through */
    case 1:
        b |= ((uint64_t)in[0]);
        break;
    case 0:
        break;
    }
    v3 ^= b;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

uint64_t siphash(const void *data, size_t len)
{
    return siphash_with(data, len, g_seed);
}
