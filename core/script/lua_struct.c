/* lua_struct.c — the `struct` library Redis 7.0 gives scripts: struct.pack,
 * struct.unpack and struct.size over Roberto Ierusalimschy's format language,
 * written for Keel to the behaviour of the copy Redis embeds (same bytes,
 * same results, same error texts, x86-64 conversions included).
 *
 * Format: '>' big endian, '<' little endian (default: native), '![n]' maximum
 * alignment n (a power of 2; default 8, initial 1), 'x' one zero byte,
 * 'b'/'B' char, 'h'/'H' short, 'l'/'L' long, 'T' size_t, 'i[n]'/'I[n]' an
 * n-byte integer (default sizeof(int), at most 32), lower case signed,
 * 'f' float, 'd' double, 'c[n]' n bytes (pack: 'c0' = the whole string;
 * unpack: 'c0' = the length read by the previous item), 's' a zero-terminated
 * string, ' ' ignored. Integers are taken from and given back as Lua numbers
 * (doubles). */
#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "lua_struct.h"

#define ORDER_BIG 0
#define ORDER_LITTLE 1

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define ORDER_NATIVE ORDER_BIG
#else
#define ORDER_NATIVE ORDER_LITTLE
#endif

/* The largest integer item, in bytes ('i32'). */
#define INT_ITEM_MAX 32

/* The default of '!': the alignment of a double inside a struct, at least
 * that of an int. */
struct align_probe {
    char c;
    double d;
};
#define DOUBLE_ALIGN (offsetof(struct align_probe, d))
#define DEFAULT_MAX_ALIGN ((int)(DOUBLE_ALIGN > sizeof(int) ? DOUBLE_ALIGN : sizeof(int)))

/* Where the parse of one format string stands. */
struct fmt {
    const char *p; /* the next format byte */
    int order;     /* ORDER_BIG or ORDER_LITTLE */
    int align;     /* the maximum alignment, a power of 2 */
};

static void fmt_init(struct fmt *f, const char *s)
{
    f->p = s;
    f->order = ORDER_NATIVE;
    f->align = 1;
}

static int is_pow2(long long x)
{
    return x > 0 && (x & (x - 1)) == 0;
}

/* The decimal number at f->p (consumed), or dflt when no digit follows. */
static int fmt_number(lua_State *L, struct fmt *f, int dflt)
{
    int n = 0;
    if (!isdigit((unsigned char)*f->p)) return dflt;
    while (isdigit((unsigned char)*f->p)) {
        int d = *f->p++ - '0';
        if (n > INT_MAX / 10 || n * 10 > INT_MAX - d) luaL_error(L, "integral size overflow");
        n = n * 10 + d;
    }
    return n;
}

/* The size in bytes of option opt (reading its count, if it takes one);
 * 0 for the options that hold no fixed-size value. */
static size_t item_size(lua_State *L, int opt, struct fmt *f)
{
    switch (opt) {
    case 'b':
    case 'B':
    case 'x':
        return 1;
    case 'h':
    case 'H':
        return sizeof(short);
    case 'l':
    case 'L':
        return sizeof(long);
    case 'T':
        return sizeof(size_t);
    case 'f':
        return sizeof(float);
    case 'd':
        return sizeof(double);
    case 'c':
        return (size_t)fmt_number(L, f, 1);
    case 'i':
    case 'I': {
        int n = fmt_number(L, f, (int)sizeof(int));
        if (n > INT_ITEM_MAX)
            luaL_error(L, "integral size %d is larger than limit of %d", n, INT_ITEM_MAX);
        return (size_t)n;
    }
    default:
        return 0;
    }
}

/* Padding bytes before an item of `size` bytes at offset pos. The formula is
 * the library's own, also for sizes that are not powers of 2 ('i3'). */
static size_t pad_before(size_t pos, const struct fmt *f, int opt, size_t size)
{
    if (size == 0 || opt == 'c') return 0;
    if (size > (size_t)f->align) size = (size_t)f->align;
    return (size - (pos & (size - 1))) & (size - 1);
}

/* The options that only change the parse: ' ', '<', '>', '!n'. Anything
 * else reaching here is an error. */
static void fmt_control(lua_State *L, int opt, struct fmt *f)
{
    switch (opt) {
    case ' ':
        return;
    case '>':
        f->order = ORDER_BIG;
        return;
    case '<':
        f->order = ORDER_LITTLE;
        return;
    case '!': {
        int a = fmt_number(L, f, DEFAULT_MAX_ALIGN);
        if (!is_pow2(a)) luaL_error(L, "alignment %d is not a power of 2", a);
        f->align = a;
        return;
    }
    default:
        luaL_argerror(L, 1, lua_pushfstring(L, "invalid format option '%c'", opt));
    }
}

/* x86-64's double -> int64 conversion (cvttsd2si), without the undefined
 * behaviour: truncation toward zero, INT64_MIN when out of range or NaN. */
static int64_t to_i64(double d)
{
    if (d >= -9223372036854775808.0 && d < 9223372036854775808.0) return (int64_t)d;
    return INT64_MIN;
}

/* The compiler's double -> uint64 conversion on x86-64: values below 2^63
 * (and NaN, which compares unordered) convert as signed; larger ones are
 * reduced by 2^63 and get the top bit back. */
static uint64_t to_u64(double d)
{
    if (!(d >= 9223372036854775808.0)) return (uint64_t)to_i64(d);
    return (uint64_t)to_i64(d - 9223372036854775808.0) ^ 0x8000000000000000ULL;
}

/* Reverse n bytes when `order` is not the machine's. */
static void to_order(unsigned char *p, size_t n, int order)
{
    if (order == ORDER_NATIVE) return;
    for (size_t i = 0, j = n - 1; i < j; i++, j--) {
        unsigned char t = p[i];
        p[i] = p[j];
        p[j] = t;
    }
}

/* Append argument `arg` as a `size`-byte integer: the low 64 bits of its
 * value in the given order, zero bytes beyond the eighth. */
static void put_integer(lua_State *L, luaL_Buffer *b, int arg, int order, size_t size)
{
    lua_Number n = luaL_checknumber(L, arg);
    uint64_t v = n < 0 ? (uint64_t)to_i64(n) : to_u64(n);
    char out[INT_ITEM_MAX];
    for (size_t i = 0; i < size; i++) {
        size_t at = order == ORDER_LITTLE ? i : size - 1 - i;
        out[at] = (char)(v & 0xff);
        v >>= 8;
    }
    luaL_addlstring(b, out, size);
}

static int struct_pack(lua_State *L)
{
    struct fmt f;
    luaL_Buffer b;
    int arg = 2;
    size_t total = 0;

    fmt_init(&f, luaL_checkstring(L, 1));
    lua_pushnil(L); /* keeps the buffer's stack slots above the arguments */
    luaL_buffinit(L, &b);
    while (*f.p != '\0') {
        int opt = *f.p++;
        size_t size = item_size(L, opt, &f);
        size_t pad = pad_before(total, &f, opt, size);
        total += pad;
        while (pad-- > 0)
            luaL_addchar(&b, '\0');
        switch (opt) {
        case 'b':
        case 'B':
        case 'h':
        case 'H':
        case 'l':
        case 'L':
        case 'T':
        case 'i':
        case 'I':
            put_integer(L, &b, arg++, f.order, size);
            break;
        case 'x':
            luaL_addchar(&b, '\0');
            break;
        case 'f': {
            float v = (float)luaL_checknumber(L, arg++);
            unsigned char raw[sizeof v];
            memcpy(raw, &v, sizeof v);
            to_order(raw, sizeof raw, f.order);
            luaL_addlstring(&b, (const char *)raw, sizeof raw);
            break;
        }
        case 'd': {
            double v = luaL_checknumber(L, arg++);
            unsigned char raw[sizeof v];
            memcpy(raw, &v, sizeof v);
            to_order(raw, sizeof raw, f.order);
            luaL_addlstring(&b, (const char *)raw, sizeof raw);
            break;
        }
        case 'c':
        case 's': {
            size_t len;
            const char *s = luaL_checklstring(L, arg++, &len);
            if (size == 0) size = len;
            /* Redis's copy names the argument after this one. */
            luaL_argcheck(L, len >= size, arg, "string too short");
            luaL_addlstring(&b, s, size);
            if (opt == 's') {
                luaL_addchar(&b, '\0');
                size++;
            }
            break;
        }
        default:
            fmt_control(L, opt, &f);
        }
        total += size;
    }
    luaL_pushresult(&b);
    return 1;
}

/* A `size`-byte integer at p, as a Lua number. Only the low 64 bits count;
 * the sign mask's shift is taken modulo 64 as x86-64 does ('i9' and up). */
static lua_Number get_integer(const unsigned char *p, int order, int is_signed, size_t size)
{
    uint64_t v = 0;
    for (size_t i = 0; i < size; i++) {
        size_t at = order == ORDER_BIG ? i : size - 1 - i;
        v = (v << 8) | p[at];
    }
    if (!is_signed) return (lua_Number)v;
    uint64_t mask = ~(uint64_t)0 << ((size * 8 - 1) & 63);
    if (v & mask) v |= mask;
    return (lua_Number)(int64_t)v;
}

static int struct_unpack(lua_State *L)
{
    struct fmt f;
    size_t len;
    const char *fmtstr = luaL_checkstring(L, 1);
    const char *data = luaL_checklstring(L, 2, &len);
    size_t pos = (size_t)luaL_optinteger(L, 3, 1);
    int n = 0; /* values pushed */

    /* Only 0 is refused here: a negative offset wraps around and fails as
     * "data string too short" at the first item, as in Redis. */
    luaL_argcheck(L, pos > 0, 3, "offset must be 1 or greater");
    pos--;
    fmt_init(&f, fmtstr);
    while (*f.p != '\0') {
        int opt = *f.p++;
        size_t size = item_size(L, opt, &f);
        pos += pad_before(pos, &f, opt, size);
        luaL_argcheck(L, size <= len && pos <= len - size, 2, "data string too short");
        luaL_checkstack(L, 2, "too many results");
        switch (opt) {
        case 'b':
        case 'B':
        case 'h':
        case 'H':
        case 'l':
        case 'L':
        case 'T':
        case 'i':
        case 'I':
            lua_pushnumber(
                L, get_integer((const unsigned char *)data + pos, f.order, islower(opt), size));
            n++;
            break;
        case 'x':
            break;
        case 'f': {
            float v;
            unsigned char raw[sizeof v];
            memcpy(raw, data + pos, sizeof raw);
            to_order(raw, sizeof raw, f.order);
            memcpy(&v, raw, sizeof v);
            lua_pushnumber(L, (lua_Number)v);
            n++;
            break;
        }
        case 'd': {
            double v;
            unsigned char raw[sizeof v];
            memcpy(raw, data + pos, sizeof raw);
            to_order(raw, sizeof raw, f.order);
            memcpy(&v, raw, sizeof v);
            lua_pushnumber(L, v);
            n++;
            break;
        }
        case 'c':
            if (size == 0) {
                /* 'c0': the previous value is the length */
                if (n == 0 || !lua_isnumber(L, -1))
                    luaL_error(L, "format 'c0' needs a previous size");
                size = (size_t)to_u64(lua_tonumber(L, -1));
                lua_pop(L, 1);
                n--;
                luaL_argcheck(L, size <= len && pos <= len - size, 2, "data string too short");
            }
            lua_pushlstring(L, data + pos, size);
            n++;
            break;
        case 's': {
            const char *end = memchr(data + pos, '\0', len - pos);
            if (end == NULL) luaL_error(L, "unfinished string in data");
            size = (size_t)(end - (data + pos)) + 1;
            lua_pushlstring(L, data + pos, size - 1);
            n++;
            break;
        }
        default:
            fmt_control(L, opt, &f);
        }
        pos += size;
    }
    lua_pushinteger(L, (lua_Integer)(pos + 1));
    return n + 1;
}

static int struct_size(lua_State *L)
{
    struct fmt f;
    size_t pos = 0;

    fmt_init(&f, luaL_checkstring(L, 1));
    while (*f.p != '\0') {
        int opt = *f.p++;
        size_t size = item_size(L, opt, &f);
        pos += pad_before(pos, &f, opt, size);
        if (opt == 's')
            luaL_argerror(L, 1, "option 's' has no fixed size");
        else if (opt == 'c' && size == 0)
            luaL_argerror(L, 1, "option 'c0' has no fixed size");
        /* letters and digits the parse does not know add nothing here */
        if (!isalnum((unsigned char)opt)) fmt_control(L, opt, &f);
        pos += size;
    }
    lua_pushinteger(L, (lua_Integer)pos);
    return 1;
}

static const luaL_Reg struct_funcs[] = {
    {"pack", struct_pack},
    {"unpack", struct_unpack},
    {"size", struct_size},
    {NULL, NULL},
};

int luaopen_struct(lua_State *L)
{
    luaL_register(L, "struct", struct_funcs);
    return 1;
}
