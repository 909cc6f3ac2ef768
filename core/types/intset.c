/* intset.c — sorted integer arrays with 16/32/64-bit members (intset.h).
 * Members are stored little endian whatever the host, as Redis does. */
#include "intset.h"

#include <string.h>

#include "util.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define LE16(x) __builtin_bswap16(x)
#define LE32(x) __builtin_bswap32(x)
#define LE64(x) __builtin_bswap64(x)
#else
#define LE16(x) (x)
#define LE32(x) (x)
#define LE64(x) (x)
#endif

uint32_t intset_value_encoding(int64_t v)
{
    if (v < INT32_MIN || v > INT32_MAX) return INTSET_ENC_INT64;
    if (v < INT16_MIN || v > INT16_MAX) return INTSET_ENC_INT32;
    return INTSET_ENC_INT16;
}

static inline uint32_t enc_of(const struct intset *is)
{
    return LE32(is->encoding);
}
static inline uint32_t len_of(const struct intset *is)
{
    return LE32(is->length);
}

/* The member at pos with encoding enc. */
static inline int64_t get_enc(const struct intset *is, uint32_t pos, uint32_t enc)
{
    if (enc == INTSET_ENC_INT64) {
        int64_t v;
        memcpy(&v, is->contents + (size_t)pos * 8, 8);
        return (int64_t)LE64((uint64_t)v);
    } else if (enc == INTSET_ENC_INT32) {
        int32_t v;
        memcpy(&v, is->contents + (size_t)pos * 4, 4);
        return (int32_t)LE32((uint32_t)v);
    } else {
        int16_t v;
        memcpy(&v, is->contents + (size_t)pos * 2, 2);
        return (int16_t)LE16((uint16_t)v);
    }
}

static inline int64_t get(const struct intset *is, uint32_t pos)
{
    return get_enc(is, pos, enc_of(is));
}

static inline void set(struct intset *is, uint32_t pos, int64_t value)
{
    uint32_t enc = enc_of(is);
    if (enc == INTSET_ENC_INT64) {
        uint64_t v = LE64((uint64_t)value);
        memcpy(is->contents + (size_t)pos * 8, &v, 8);
    } else if (enc == INTSET_ENC_INT32) {
        uint32_t v = LE32((uint32_t)(int32_t)value);
        memcpy(is->contents + (size_t)pos * 4, &v, 4);
    } else {
        uint16_t v = LE16((uint16_t)(int16_t)value);
        memcpy(is->contents + (size_t)pos * 2, &v, 2);
    }
}

struct intset *intset_new(void)
{
    struct intset *is = xmalloc(sizeof(struct intset));
    is->encoding = LE32(INTSET_ENC_INT16);
    is->length = 0;
    return is;
}

static struct intset *resize(struct intset *is, uint32_t len)
{
    size_t size = (size_t)len * enc_of(is);
    return xrealloc(is, sizeof(struct intset) + size);
}

/* Bisection: true and *pos = index when found, else *pos = insertion point. */
static bool search(const struct intset *is, int64_t value, uint32_t *pos)
{
    uint32_t len = len_of(is), enc = enc_of(is);
    int64_t lo, hi, mid = -1, cur = -1;
    if (len == 0) {
        if (pos) *pos = 0;
        return false;
    }
    /* The ends first: appending in order is the common case. */
    if (value > get_enc(is, len - 1, enc)) {
        if (pos) *pos = len;
        return false;
    } else if (value < get_enc(is, 0, enc)) {
        if (pos) *pos = 0;
        return false;
    }
    lo = 0;
    hi = (int64_t)len - 1;
    while (hi >= lo) {
        mid = (lo + hi) / 2;
        cur = get_enc(is, (uint32_t)mid, enc);
        if (value > cur)
            lo = mid + 1;
        else if (value < cur)
            hi = mid - 1;
        else
            break;
    }
    if (value == cur) {
        if (pos) *pos = (uint32_t)mid;
        return true;
    }
    if (pos) *pos = (uint32_t)lo;
    return false;
}

/* Widen every member to newenc and add value (which needs it): it is
 * smaller or larger than every member, so it goes at one end. */
static struct intset *upgrade_and_add(struct intset *is, int64_t value)
{
    uint32_t curenc = enc_of(is), newenc = intset_value_encoding(value);
    uint32_t length = len_of(is);
    int prepend = value < 0 ? 1 : 0;
    is->encoding = LE32(newenc);
    is = resize(is, length + 1);
    /* Back to front so nothing is overwritten before it is read. */
    while (length--)
        set(is, length + (uint32_t)prepend, get_enc(is, length, curenc));
    if (prepend)
        set(is, 0, value);
    else
        set(is, len_of(is), value);
    is->length = LE32(len_of(is) + 1);
    return is;
}

static void move_tail(struct intset *is, uint32_t from, uint32_t to)
{
    uint32_t enc = enc_of(is);
    size_t bytes = (size_t)(len_of(is) - from) * enc;
    memmove(is->contents + (size_t)to * enc, is->contents + (size_t)from * enc, bytes);
}

struct intset *intset_add(struct intset *is, int64_t value, bool *added)
{
    uint32_t pos;
    if (added) *added = true;
    if (intset_value_encoding(value) > enc_of(is)) return upgrade_and_add(is, value);
    if (search(is, value, &pos)) {
        if (added) *added = false;
        return is;
    }
    is = resize(is, len_of(is) + 1);
    if (pos < len_of(is)) move_tail(is, pos, pos + 1);
    set(is, pos, value);
    is->length = LE32(len_of(is) + 1);
    return is;
}

struct intset *intset_remove(struct intset *is, int64_t value, bool *removed)
{
    uint32_t pos, len = len_of(is);
    if (removed) *removed = false;
    if (intset_value_encoding(value) <= enc_of(is) && search(is, value, &pos)) {
        if (removed) *removed = true;
        if (pos < len - 1) move_tail(is, pos + 1, pos);
        is = resize(is, len - 1);
        is->length = LE32(len - 1);
    }
    return is;
}

bool intset_find(const struct intset *is, int64_t value)
{
    return intset_value_encoding(value) <= enc_of(is) && search(is, value, NULL);
}

bool intset_get(const struct intset *is, uint32_t pos, int64_t *v)
{
    if (pos >= len_of(is)) return false;
    *v = get(is, pos);
    return true;
}

int64_t intset_random(const struct intset *is)
{
    return get(is, (uint32_t)(util_rand64() % len_of(is)));
}

size_t intset_blob_len(const struct intset *is)
{
    return sizeof(struct intset) + (size_t)len_of(is) * enc_of(is);
}

struct intset *intset_dup(const struct intset *is)
{
    return xmemdup(is, intset_blob_len(is));
}

bool intset_validate(const struct intset *is)
{
    uint32_t enc = enc_of(is), i, len = len_of(is);
    if (enc != INTSET_ENC_INT16 && enc != INTSET_ENC_INT32 && enc != INTSET_ENC_INT64) return false;
    for (i = 1; i < len; i++)
        if (get(is, i - 1) >= get(is, i)) return false;
    return true;
}
