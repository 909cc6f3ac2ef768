/* cmd_bitmap.c — the bitmap group: SETBIT GETBIT BITCOUNT BITPOS BITOP
 * BITFIELD BITFIELD_RO, on string values, with Redis 7.0's replies, errors,
 * offset limits (proto-max-bulk-len) and events ("setbit"; BITOP "set" or
 * "del"). A string created or grown by a bit command is a raw string.
 * BITFIELD's operations are a sequence read in order, as Redis reads them
 * (its schema declares "keel_raw_arguments": the matcher cannot express
 * the loop exactly), so its handler walks argv itself. */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "commands_gen.h"
#include "kernel.h"
#include "store.h"
#include "util.h"

static const char bit_offset_err[] = "ERR bit offset is not an integer or out of range";

/* Largest string a bit command may create: proto-max-bulk-len, and what a
 * struct rstr (32-bit lengths, up to 1 MB of growth slack) can hold. */
static unsigned long long max_string_bytes(void)
{
    unsigned long long max = (unsigned long long)g_config.proto_max_bulk_len;
    const unsigned long long hard = UINT32_MAX - (2u << 20);
    return max > hard ? hard : max;
}

/* The range half of Redis's getBitOffsetFromArgument: 0 <= offset and
 * offset / 8 < proto-max-bulk-len. False (error replied) otherwise. */
static bool offset_in_range(struct exec *x, long long off, uint64_t *out)
{
    if (off < 0 || (unsigned long long)(off >> 3) >= max_string_bytes()) {
        reply_error(x->r, bit_offset_err);
        return false;
    }
    *out = (uint64_t)off;
    return true;
}

/* Redis's lookupStringForBitCommand: the string at key, created (not yet
 * added: *created) or grown with zero bytes so that bit maxbit exists
 * (*dirty when its length changed). NULL (WRONGTYPE replied) if the key
 * holds another type. */
static struct kv *string_for_bits(struct exec *x, const char *key, size_t klen, uint64_t maxbit,
                                  bool *created, bool *dirty)
{
    size_t need = (size_t)(maxbit >> 3) + 1;
    struct kv *e = store_lookup_write(x->db, key, klen);
    struct rstr *s;

    *created = *dirty = false;
    if (e && e->type != OBJ_STRING) {
        reply_err(x->r, E_WRONGTYPE);
        return NULL;
    }
    if (!e) {
        s = rstr_new("", 0, rstr_new_cap(need));
        memset(s->buf, 0, need);
        s->len = (uint32_t)need;
        *created = *dirty = true;
        return kv_new_ptr(key, klen, OBJ_STRING, ENC_RAW, s);
    }
    {
        size_t olen = kv_string_len(e);
        s = store_string_unshare(e, need > olen ? need : olen);
    }
    if (need > s->len) {
        memset(s->buf + s->len, 0, need - s->len);
        s->len = (uint32_t)need;
        *dirty = true;
    }
    return e;
}

static inline uint8_t *raw_bytes(struct kv *e)
{
    return (uint8_t *)((struct rstr *)e->v.ptr)->buf;
}

/* After a bit command changed e: add it (created) or signal the change. */
static void bits_changed(struct exec *x, struct kv *e, bool created)
{
    if (created)
        store_add(x->db, e, "setbit", NOTIFY_STRING);
    else
        store_modified(x->db, e, "setbit", NOTIFY_STRING);
}

/* SETBIT key offset value */
void cmd_setbit(struct exec *x)
{
    uint64_t off;
    long long on;
    bool created, dirty;
    struct kv *e;
    uint8_t *p, byteval;
    int bit, bitval;

    if (!offset_in_range(x, ARGI(x, A_SETBIT_offset), &off)) return;
    if (!arg_ok(x, A_SETBIT_value)) return;
    on = ARGI(x, A_SETBIT_value);
    if (on & ~1LL) {
        reply_error(x->r, "ERR bit is not an integer or out of range");
        return;
    }
    e = string_for_bits(x, ARGP(x, A_SETBIT_key), ARGN(x, A_SETBIT_key), off, &created, &dirty);
    if (!e) return;
    p = raw_bytes(e);
    byteval = p[off >> 3];
    bit = 7 - (int)(off & 7);
    bitval = (byteval >> bit) & 1;
    if (dirty || bitval != on) {
        byteval = (uint8_t)(byteval & ~(1 << bit));
        byteval = (uint8_t)(byteval | (on & 1) << bit);
        p[off >> 3] = byteval;
        bits_changed(x, e, created);
    }
    reply_int(x->r, bitval);
}

/* GETBIT key offset */
void cmd_getbit(struct exec *x)
{
    uint64_t off;
    struct kv *e;
    struct strview sv;
    int bitval = 0;

    if (!offset_in_range(x, ARGI(x, A_GETBIT_offset), &off)) return;
    e = store_lookup_read(x->db, ARGP(x, A_GETBIT_key), ARGN(x, A_GETBIT_key));
    if (!e) {
        reply_int(x->r, 0);
        return;
    }
    if (e->type != OBJ_STRING) {
        reply_err(x->r, E_WRONGTYPE);
        return;
    }
    kv_string_view(e, &sv);
    if ((off >> 3) < sv.n) bitval = ((uint8_t)sv.p[off >> 3] >> (7 - (off & 7))) & 1;
    reply_int(x->r, bitval);
}

/* Bits set in a 64-bit word without the popcnt instruction (a generic
 * build would call libgcc's slow __popcountdi2 for the builtin). */
static inline uint64_t pop64(uint64_t x)
{
    x = x - ((x >> 1) & 0x5555555555555555ULL);
    x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
    x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
    return (x * 0x0101010101010101ULL) >> 56;
}

static long long popcount(const uint8_t *p, size_t n)
{
    long long count = 0;
    uint64_t w[4];
    while (n >= 32) {
        memcpy(w, p, 32);
        count += (long long)(pop64(w[0]) + pop64(w[1]) + pop64(w[2]) + pop64(w[3]));
        p += 32;
        n -= 32;
    }
    while (n >= 8) {
        memcpy(w, p, 8);
        count += (long long)pop64(w[0]);
        p += 8;
        n -= 8;
    }
    while (n--)
        count += (long long)pop64(*p++);
    return count;
}

/* Convert a start/end range (negative = from the end) over totlen units
 * as Redis's BITCOUNT/BITPOS do: clamp to [0, totlen-1]. */
static void clamp_range(long long *start, long long *end, long long totlen)
{
    if (*start < 0) *start = totlen + *start;
    if (*end < 0) *end = totlen + *end;
    if (*start < 0) *start = 0;
    if (*end < 0) *end = 0;
    if (*end >= totlen) *end = totlen - 1;
}

/* BITCOUNT key [start end [BYTE | BIT]] */
void cmd_bitcount(struct exec *x)
{
    struct kv *e = store_lookup_read(x->db, ARGP(x, A_BITCOUNT_key), ARGN(x, A_BITCOUNT_key));
    struct strview sv;
    const uint8_t *p;
    long long start, end, totlen, count;
    uint8_t first_neg = 0, last_neg = 0;

    if (!e) {
        reply_int(x->r, 0);
        return;
    }
    if (e->type != OBJ_STRING) {
        reply_err(x->r, E_WRONGTYPE);
        return;
    }
    /* Redis looks the key up before it checks the range's shape
     * (keel_deferred_from), then parses start, end, and the unit last. */
    if (!arg_ok(x, A_BITCOUNT_deferred)) return;
    kv_string_view(e, &sv);
    p = (const uint8_t *)sv.p;
    if (HAS(x, A_BITCOUNT_index)) {
        bool isbit;
        if (!arg_ok(x, A_BITCOUNT_index_start) || !arg_ok(x, A_BITCOUNT_index_end)) return;
        start = ARGI(x, A_BITCOUNT_index_start);
        end = ARGI(x, A_BITCOUNT_index_end);
        if (start < 0 && end < 0 && start > end) {
            reply_int(x->r, 0);
            return;
        }
        if (!arg_ok(x, A_BITCOUNT_index_index_unit)) return;
        isbit =
            HAS(x, A_BITCOUNT_index_index_unit) && ARG(x, A_BITCOUNT_index_index_unit)->choice == 1;
        totlen = (long long)sv.n;
        if (isbit) totlen <<= 3;
        clamp_range(&start, &end, totlen);
        if (isbit && start <= end) {
            /* Masks for the bits of the edge bytes outside the range. */
            first_neg = (uint8_t)(~((1 << (8 - (start & 7))) - 1) & 0xFF);
            last_neg = (uint8_t)((1 << (7 - (end & 7))) - 1);
            start >>= 3;
            end >>= 3;
        }
    } else {
        start = 0;
        end = (long long)sv.n - 1;
    }
    if (start > end) {
        reply_int(x->r, 0);
        return;
    }
    count = popcount(p + start, (size_t)(end - start + 1));
    if (first_neg) count -= (long long)pop64(p[start] & first_neg);
    if (last_neg) count -= (long long)pop64(p[end] & last_neg);
    reply_int(x->r, count);
}

/* The first bit equal to bit in bits [from, to] of p, or -1. Whole bytes
 * that cannot hold it are skipped eight at a time. */
static long long find_bit(const uint8_t *p, long long from, long long to, int bit)
{
    const uint8_t skip = bit ? 0 : 0xff;
    const uint64_t skipw = bit ? 0 : UINT64_MAX;
    long long i = from;

    while (i <= to && (i & 7)) {
        if (((p[i >> 3] >> (7 - (i & 7))) & 1) == bit) return i;
        i++;
    }
    /* i is byte aligned: skip whole words, then whole bytes */
    while (i + 63 <= to) {
        uint64_t w;
        memcpy(&w, p + (i >> 3), 8);
        if (w != skipw) break;
        i += 64;
    }
    while (i + 7 <= to && p[i >> 3] == skip)
        i += 8;
    while (i <= to) {
        if (((p[i >> 3] >> (7 - (i & 7))) & 1) == bit) return i;
        i++;
    }
    return -1;
}

/* BITPOS key bit [start [end [BYTE | BIT]]] */
void cmd_bitpos(struct exec *x)
{
    long long bit = ARGI(x, A_BITPOS_bit), start, end, totlen, pos;
    bool end_given = false, isbit = false;
    struct strview sv;
    struct kv *e;

    if (bit != 0 && bit != 1) {
        reply_error(x->r, "ERR The bit argument must be 1 or 0.");
        return;
    }
    e = store_lookup_read(x->db, ARGP(x, A_BITPOS_key), ARGN(x, A_BITPOS_key));
    if (!e) {
        /* an endless run of zero bits */
        reply_int(x->r, bit ? -1 : 0);
        return;
    }
    if (e->type != OBJ_STRING) {
        reply_err(x->r, E_WRONGTYPE);
        return;
    }
    /* After the lookup: the range's shape (keel_deferred_from), then start,
     * the unit, and end, in Redis's order. */
    if (!arg_ok(x, A_BITPOS_deferred)) return;
    kv_string_view(e, &sv);
    totlen = (long long)sv.n;
    if (HAS(x, A_BITPOS_index)) {
        if (!arg_ok(x, A_BITPOS_index_start)) return;
        start = ARGI(x, A_BITPOS_index_start);
        if (HAS(x, A_BITPOS_index_end_index)) {
            if (!arg_ok(x, A_BITPOS_index_end_index_index_unit)) return;
            isbit = HAS(x, A_BITPOS_index_end_index_index_unit) &&
                    ARG(x, A_BITPOS_index_end_index_index_unit)->choice == 1;
            if (!arg_ok(x, A_BITPOS_index_end_index_end)) return;
            end = ARGI(x, A_BITPOS_index_end_index_end);
            end_given = true;
        } else {
            end = totlen - 1;
        }
        if (isbit) totlen <<= 3;
        clamp_range(&start, &end, totlen);
        /* An empty range holds neither a 0 nor a 1. Judged before bytes
         * become bits: start is not clamped from above, and a start byte
         * past LLONG_MAX / 8 has no bit index. */
        if (start > end) {
            reply_int(x->r, -1);
            return;
        }
        if (!isbit) { /* bytes to bits */
            start *= 8;
            end = end * 8 + 7;
        }
    } else {
        start = 0;
        end = totlen * 8 - 1;
        if (end < 0) { /* an empty string: an empty range */
            reply_int(x->r, -1);
            return;
        }
    }
    pos = find_bit((const uint8_t *)sv.p, start, end, (int)bit);
    /* Looking for a 0 without an explicit end, the string counts as padded
     * with zero bits on the right. */
    if (pos == -1 && bit == 0 && !end_given) pos = end + 1;
    reply_int(x->r, pos);
}

/* BITOP AND|OR|XOR|NOT destkey key [key ...] */
void cmd_bitop(struct exec *x)
{
    /* The operation is keel_choices: AND OR XOR NOT, in that order. */
    enum { OP_AND, OP_OR, OP_XOR, OP_NOT } op = ARG(x, A_BITOP_operation)->choice;
    const struct argval *keys = ARG(x, A_BITOP_key);
    int numkeys = keys->count, j;
    struct strview *views;
    size_t maxlen = 0, i;
    struct rstr *res;
    struct kv *e;

    if (op == OP_NOT && numkeys != 1) {
        reply_error(x->r, "ERR BITOP NOT must be called with a single source key.");
        return;
    }
    views = xmalloc(sizeof(*views) * (size_t)numkeys);
    for (j = 0; j < numkeys; j++) {
        const struct argv_ref *a = &x->argv[keys->list[j]];
        e = store_lookup_read(x->db, a->p, a->n);
        if (!e) { /* an empty string */
            views[j].p = "";
            views[j].n = 0;
            continue;
        }
        if (e->type != OBJ_STRING) {
            free(views);
            reply_err(x->r, E_WRONGTYPE);
            return;
        }
        kv_string_view(e, &views[j]);
        if (views[j].n > maxlen) maxlen = views[j].n;
    }
    if (maxlen) {
        uint8_t *out;
        res = rstr_new("", 0, rstr_new_cap(maxlen));
        out = (uint8_t *)res->buf;
        /* The first source (zero padded), then each other one folded in a
         * word at a time; a missing tail counts as zero bytes. */
        memcpy(out, views[0].p, views[0].n);
        memset(out + views[0].n, 0, maxlen - views[0].n);
        if (op == OP_NOT) {
            for (i = 0; i + 8 <= maxlen; i += 8) {
                uint64_t w;
                memcpy(&w, out + i, 8);
                w = ~w;
                memcpy(out + i, &w, 8);
            }
            for (; i < maxlen; i++)
                out[i] = (uint8_t)~out[i];
        }
        for (j = 1; j < numkeys; j++) {
            const uint8_t *src = (const uint8_t *)views[j].p;
            size_t n = views[j].n;
            for (i = 0; i + 8 <= n; i += 8) {
                uint64_t a, b;
                memcpy(&a, out + i, 8);
                memcpy(&b, src + i, 8);
                a = op == OP_AND ? a & b : op == OP_OR ? a | b : a ^ b;
                memcpy(out + i, &a, 8);
            }
            for (; i < n; i++)
                out[i] = (uint8_t)(op == OP_AND  ? out[i] & src[i]
                                   : op == OP_OR ? out[i] | src[i]
                                                 : out[i] ^ src[i]);
            if (op == OP_AND) memset(out + n, 0, maxlen - n);
        }
        res->len = (uint32_t)maxlen;
        free(views);
        e = kv_new_ptr(ARGP(x, A_BITOP_destkey), ARGN(x, A_BITOP_destkey), OBJ_STRING, ENC_RAW,
                       res);
        store_set(x->db, e, false, "set", NOTIFY_STRING);
    } else {
        free(views);
        store_delete(x->db, ARGP(x, A_BITOP_destkey), ARGN(x, A_BITOP_destkey), "del",
                     NOTIFY_GENERIC);
    }
    reply_int(x->r, (long long)maxlen);
}

/* ---- BITFIELD ---- */

enum { BF_GET, BF_SET, BF_INCRBY };
enum { BF_WRAP, BF_SAT, BF_FAIL };

struct bf_op {
    uint64_t offset;
    int64_t i64; /* SET value or INCRBY increment */
    int opcode, owtype, bits, sign;
};

static uint64_t get_ubits(const uint8_t *p, uint64_t offset, uint64_t bits)
{
    uint64_t value = 0;
    while (bits--) {
        uint64_t byte = offset >> 3, bit = 7 - (offset & 7);
        value = (value << 1) | ((uint64_t)(p[byte] >> bit) & 1);
        offset++;
    }
    return value;
}

static int64_t get_sbits(const uint8_t *p, uint64_t offset, uint64_t bits)
{
    uint64_t u = get_ubits(p, offset, bits);
    /* two's complement: propagate the sign bit above the field */
    if (bits < 64 && (u & ((uint64_t)1 << (bits - 1)))) u |= UINT64_MAX << bits;
    return (int64_t)u;
}

static void set_ubits(uint8_t *p, uint64_t offset, uint64_t bits, uint64_t value)
{
    uint64_t j;
    for (j = 0; j < bits; j++) {
        uint64_t bitval = (value & ((uint64_t)1 << (bits - 1 - j))) != 0;
        uint64_t byte = offset >> 3, bit = 7 - (offset & 7);
        p[byte] = (uint8_t)((p[byte] & ~(1u << bit)) | (unsigned)(bitval << bit));
        offset++;
    }
}

/* Redis's checkUnsignedBitfieldOverflow: 1 (over), -1 (under) or 0; with
 * WRAP or SAT, *limit is the value to store instead. */
static int unsigned_overflow(uint64_t value, int64_t incr, uint64_t bits, int owtype,
                             uint64_t *limit)
{
    uint64_t max = bits == 64 ? UINT64_MAX : (((uint64_t)1 << bits) - 1);
    int64_t maxincr = (int64_t)(max - value);
    int64_t minincr = (int64_t)(0 - value);

    if (value > max || (incr > 0 && incr > maxincr)) {
        if (owtype == BF_WRAP) goto wrap;
        if (owtype == BF_SAT) *limit = max;
        return 1;
    } else if (incr < 0 && incr < minincr) {
        if (owtype == BF_WRAP) goto wrap;
        if (owtype == BF_SAT) *limit = 0;
        return -1;
    }
    return 0;
wrap:
    *limit = (value + (uint64_t)incr) & ~(UINT64_MAX << bits);
    return 1;
}

/* Redis's checkSignedBitfieldOverflow, with the same results. */
static int signed_overflow(int64_t value, int64_t incr, uint64_t bits, int owtype, int64_t *limit)
{
    int64_t max = bits == 64 ? INT64_MAX : (((int64_t)1 << (bits - 1)) - 1);
    int64_t min = (-max) - 1;
    /* may wrap; only used once value is known to be in range */
    int64_t maxincr = (int64_t)((uint64_t)max - (uint64_t)value);
    int64_t minincr = (int64_t)((uint64_t)min - (uint64_t)value);

    if (value > max || (bits != 64 && incr > maxincr) ||
        (value >= 0 && incr > 0 && incr > maxincr)) {
        if (owtype == BF_WRAP) goto wrap;
        if (owtype == BF_SAT) *limit = max;
        return 1;
    } else if (value < min || (bits != 64 && incr < minincr) ||
               (value < 0 && incr < 0 && incr < minincr)) {
        if (owtype == BF_WRAP) goto wrap;
        if (owtype == BF_SAT) *limit = min;
        return -1;
    }
    return 0;
wrap : {
    uint64_t msb = (uint64_t)1 << (bits - 1);
    uint64_t c = (uint64_t)value + (uint64_t)incr;
    if (bits < 64) {
        uint64_t mask = UINT64_MAX << bits;
        if (c & msb)
            c |= mask;
        else
            c &= ~mask;
    }
    *limit = (int64_t)c;
}
    return 1;
}

static const char bf_type_err[] =
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but "
    "i64 is.";

/* Redis's getBitfieldTypeFromArgument: i1..i64 or u1..u63. */
static bool bf_type(const struct argv_ref *a, int *sign, int *bits)
{
    long long llbits;
    size_t n;
    if (a->n > 0 && a->p[0] == 'i')
        *sign = 1;
    else if (a->n > 0 && a->p[0] == 'u')
        *sign = 0;
    else
        return false;
    /* as Redis's strlen(): the digits end at a NUL byte */
    n = a->n - 1;
    {
        const char *nul = memchr(a->p + 1, 0, n);
        if (nul) n = (size_t)(nul - (a->p + 1));
    }
    if (!util_str2ll(a->p + 1, n, &llbits) || llbits < 1 || (*sign == 1 && llbits > 64) ||
        (*sign == 0 && llbits > 63))
        return false;
    *bits = (int)llbits;
    return true;
}

/* Redis's getBitOffsetFromArgument for BITFIELD: a bit offset, or "#N"
 * meaning N * bits, below proto-max-bulk-len bytes. */
static bool bf_offset(const struct argv_ref *a, int bits, uint64_t *out)
{
    long long off;
    int usehash = a->n > 0 && a->p[0] == '#' && bits > 0;
    if (!util_str2ll(a->p + usehash, a->n - (size_t)usehash, &off)) return false;
    /* Redis multiplies without an overflow check (it wraps). */
    if (usehash) off = (long long)((unsigned long long)off * (unsigned long long)bits);
    if (off < 0 || (unsigned long long)(off >> 3) >= max_string_bytes()) return false;
    *out = (uint64_t)off;
    return true;
}

/* keel_check bitfield_type (schemas/commands/bitfield.json): the matcher
 * checks each operation's encoding as Redis's loop meets it; its width is
 * kept for the offset's check. */
const char *keel_check_bitfield_type(const struct argv_ref *w, struct argval *v,
                                     const struct argval *prev)
{
    int sign, bits;
    (void)prev;
    if (!bf_type(w, &sign, &bits)) return bf_type_err;
    v->i = bits;
    return NULL;
}

/* keel_check bitfield_offset: the offset, whose "#N" form and range depend
 * on the encoding before it (prev). */
const char *keel_check_bitfield_offset(const struct argv_ref *w, struct argval *v,
                                       const struct argval *prev)
{
    uint64_t off;
    (void)v;
    return bf_offset(w, prev ? (int)prev->i : 0, &off) ? NULL : bit_offset_err;
}

/* The operations of one BITFIELD in argv order: the keel_keep_all lists of
 * GET, SET, INCRBY and OVERFLOW's WRAP, SAT, FAIL merged by position. */
struct bf_word {
    int pos, kind; /* kind: BF_GET.. or 16 + BF_WRAP.. for OVERFLOW */
};

static int cmp_bf_word(const void *a, const void *b)
{
    return ((const struct bf_word *)a)->pos - ((const struct bf_word *)b)->pos;
}

/* Redis's bitfieldGeneric: the matcher checked the operations in order
 * (the first problem met is the error); then look the key up, then run them. */
static void bitfield(struct exec *x, bool ro)
{
    static const int slots[6] = {
        A_BITFIELD_operation_get,          A_BITFIELD_operation_set,
        A_BITFIELD_operation_incrby,       A_BITFIELD_operation_overflow_wrap,
        A_BITFIELD_operation_overflow_sat, A_BITFIELD_operation_overflow_fail};
    static const int kinds[6] = {BF_GET,       BF_SET,      BF_INCRBY,
                                 16 + BF_WRAP, 16 + BF_SAT, 16 + BF_FAIL};
    const struct argv_ref *av = x->argv;
    int j, k, nwords = 0, numops = 0, changes = 0, owtype = BF_WRAP;
    bool readonly = true, created = false, dirty = false;
    uint64_t highest = 0;
    struct bf_op *ops = xmalloc(sizeof(*ops) * (size_t)(x->argc / 2 + 1));
    struct bf_word *words = xmalloc(sizeof(*words) * (size_t)(x->argc / 2 + 1));
    struct kv *e;
    struct strview sv;

    for (k = 0; k < 6; k++) {
        const struct argval *v = ARG(x, slots[k]);
        for (j = 0; j < v->count; j++) {
            words[nwords].pos = v->list[j];
            words[nwords++].kind = kinds[k];
        }
    }
    qsort(words, (size_t)nwords, sizeof(*words), cmp_bf_word);
    for (k = 0; k < nwords; k++) {
        int p = words[k].pos, opcode = words[k].kind, sign = 0, bits = 0;
        long long i64 = 0;
        uint64_t bitoffset = 0;
        if (opcode >= 16) {
            owtype = opcode - 16;
            continue;
        }
        /* (the matcher validated these words) */
        bf_type(&av[p + 1], &sign, &bits);
        bf_offset(&av[p + 2], bits, &bitoffset);
        if (opcode != BF_GET) {
            readonly = false;
            if (highest < bitoffset + (uint64_t)bits - 1) highest = bitoffset + (uint64_t)bits - 1;
            util_str2ll(av[p + 3].p, av[p + 3].n, &i64);
        }
        ops[numops].offset = bitoffset;
        ops[numops].i64 = i64;
        ops[numops].opcode = opcode;
        ops[numops].owtype = owtype;
        ops[numops].bits = bits;
        ops[numops].sign = sign;
        numops++;
    }
    free(words);

    if (readonly) {
        e = store_lookup_read(x->db, av[1].p, av[1].n);
        if (e && e->type != OBJ_STRING) {
            reply_err(x->r, E_WRONGTYPE);
            goto done;
        }
    } else {
        if (ro) {
            reply_error(x->r, "ERR BITFIELD_RO only supports the GET subcommand");
            goto done;
        }
        e = string_for_bits(x, av[1].p, av[1].n, highest, &created, &dirty);
        if (!e) goto done;
    }

    reply_array(x->r, numops);
    for (j = 0; j < numops; j++) {
        const struct bf_op *op = &ops[j];
        if (op->opcode != BF_GET) {
            uint8_t *p = raw_bytes(e);
            int overflow;
            if (op->sign) {
                int64_t oldval = get_sbits(p, op->offset, (uint64_t)op->bits), newval, retval;
                int64_t wrapped = 0;
                if (op->opcode == BF_INCRBY) {
                    overflow =
                        signed_overflow(oldval, op->i64, (uint64_t)op->bits, op->owtype, &wrapped);
                    newval = overflow ? wrapped : (int64_t)((uint64_t)oldval + (uint64_t)op->i64);
                    retval = newval;
                } else {
                    newval = op->i64;
                    overflow = signed_overflow(newval, 0, (uint64_t)op->bits, op->owtype, &wrapped);
                    if (overflow) newval = wrapped;
                    retval = oldval;
                }
                if (!(overflow && op->owtype == BF_FAIL)) {
                    reply_int(x->r, retval);
                    set_ubits(p, op->offset, (uint64_t)op->bits, (uint64_t)newval);
                    if (dirty || oldval != newval) changes++;
                } else {
                    reply_null(x->r);
                }
            } else {
                uint64_t oldval = get_ubits(p, op->offset, (uint64_t)op->bits), newval, retval;
                uint64_t wrapped = 0;
                if (op->opcode == BF_INCRBY) {
                    newval = oldval + (uint64_t)op->i64;
                    overflow = unsigned_overflow(oldval, op->i64, (uint64_t)op->bits, op->owtype,
                                                 &wrapped);
                    if (overflow) newval = wrapped;
                    retval = newval;
                } else {
                    newval = (uint64_t)op->i64;
                    overflow =
                        unsigned_overflow(newval, 0, (uint64_t)op->bits, op->owtype, &wrapped);
                    if (overflow) newval = wrapped;
                    retval = oldval;
                }
                if (!(overflow && op->owtype == BF_FAIL)) {
                    reply_int(x->r, (long long)retval);
                    set_ubits(p, op->offset, (uint64_t)op->bits, newval);
                    if (dirty || oldval != newval) changes++;
                } else {
                    reply_null(x->r);
                }
            }
        } else {
            /* Copy up to 9 bytes into a zero-padded buffer: a 64-bit field
             * at any bit position of the string, even past its end. */
            uint8_t buf[9];
            uint64_t byte = op->offset >> 3;
            int i;
            memset(buf, 0, sizeof(buf));
            if (e) {
                kv_string_view(e, &sv);
                for (i = 0; i < 9 && byte + (uint64_t)i < sv.n; i++)
                    buf[i] = (uint8_t)sv.p[byte + (uint64_t)i];
            }
            if (op->sign)
                reply_int(x->r, get_sbits(buf, op->offset - byte * 8, (uint64_t)op->bits));
            else
                reply_int(x->r,
                          (long long)get_ubits(buf, op->offset - byte * 8, (uint64_t)op->bits));
        }
    }
    if (changes) {
        long long mark = store_dirty_mark();
        bits_changed(x, e, created);
        store_dirty_settle(mark, changes); /* Redis: one change per write */
    } else if (created)
        store_add(x->db, e, NULL, 0); /* created, every write failed: no event */
done:
    free(ops);
}

/* BITFIELD key [GET encoding offset | [OVERFLOW WRAP|SAT|FAIL]
 *     SET encoding offset value | INCRBY encoding offset increment ...]
 * (its keel_grammar: Redis's loop also takes OVERFLOW on its own) */
void cmd_bitfield(struct exec *x)
{
    bitfield(x, false);
}

/* BITFIELD_RO key [GET encoding offset [GET encoding offset ...]] */
void cmd_bitfield_ro(struct exec *x)
{
    bitfield(x, true);
}
