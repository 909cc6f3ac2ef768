/* lua_cmsgpack.c — the `cmsgpack` library Redis 7.0 gives scripts:
 * MessagePack encoding and decoding of Lua values, written for Keel to the
 * behaviour of lua-cmsgpack 0.4.0 as Redis embeds it (same bytes, same
 * values, same error texts, x86-64 conversions included).
 *
 * pack(v1, ...) encodes each argument and returns the concatenation.
 *   nil, functions, userdata, threads -> nil; booleans; strings -> fixstr,
 *   str8, str16, str32 (never bin); numbers that are whole and fit an int64
 *   -> the smallest integer form, others -> float32 when exact, else
 *   float64; tables whose keys are exactly 1..n -> array (an empty table
 *   too), others -> map in lua_next order. Tables nested 16 deep are
 *   encoded as nil (which also ends cycles).
 * unpack(s) returns every value in s; unpack_one(s [, offset]) and
 * unpack_limit(s, limit [, offset]) return the next offset (-1 at the end)
 * followed by at most 1 / limit values. bin, ext and 0xc1 are "Bad data
 * format in input.", truncated input "Missing bytes in input.". */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "lua_cmsgpack.h"

#define MAX_NESTING 16

/* ------------------------------------------------------------------ encoding */

/* The encoder's output. One per library instance (an upvalue of pack), kept
 * between calls so an error thrown mid-encoding (the Lua stack limit, memory)
 * leaks nothing; the garbage collector frees it with the Lua state. */
struct enc_buf {
    unsigned char *b;
    size_t len, cap;
};

/* Above this, the buffer is released after each pack. */
#define ENC_KEEP_CAP 65536

/* The buffer's bytes come from the state's allocator, as Redis's copy does,
 * so an allocator the embedder installs (limits, accounting) sees them. */
static void *enc_realloc(lua_State *L, void *p, size_t osize, size_t nsize)
{
    void *ud;
    lua_Alloc alloc = lua_getallocf(L, &ud);
    return alloc(ud, p, osize, nsize);
}

static void enc_buf_release(lua_State *L, struct enc_buf *buf)
{
    if (buf->b) enc_realloc(L, buf->b, buf->cap, 0);
    buf->b = NULL;
    buf->len = buf->cap = 0;
}

static int enc_buf_gc(lua_State *L)
{
    enc_buf_release(L, lua_touserdata(L, 1));
    return 0;
}

static void put(lua_State *L, struct enc_buf *buf, const void *p, size_t n)
{
    if (buf->cap - buf->len < n) {
        size_t want = buf->len + n, cap = buf->cap ? buf->cap : 64;
        if (want < buf->len) luaL_error(L, "not enough memory");
        while (cap < want)
            cap = cap > SIZE_MAX / 2 ? want : cap * 2;
        unsigned char *nb = enc_realloc(L, buf->b, buf->cap, cap);
        if (nb == NULL) luaL_error(L, "not enough memory");
        buf->b = nb;
        buf->cap = cap;
    }
    memcpy(buf->b + buf->len, p, n);
    buf->len += n;
}

/* A type byte followed by the low `n` bytes of v, big endian. */
static void put_be(lua_State *L, struct enc_buf *buf, unsigned char type, uint64_t v, int n)
{
    unsigned char out[9];
    out[0] = type;
    for (int i = 0; i < n; i++)
        out[1 + i] = (unsigned char)(v >> (8 * (n - 1 - i)));
    put(L, buf, out, (size_t)n + 1);
}

static void enc_int(lua_State *L, struct enc_buf *buf, int64_t n)
{
    unsigned char one;
    if (n >= 0) {
        if (n <= 127) {
            one = (unsigned char)n; /* positive fixint */
            put(L, buf, &one, 1);
        } else if (n <= 0xff) {
            put_be(L, buf, 0xcc, (uint64_t)n, 1);
        } else if (n <= 0xffff) {
            put_be(L, buf, 0xcd, (uint64_t)n, 2);
        } else if (n <= 0xffffffffLL) {
            put_be(L, buf, 0xce, (uint64_t)n, 4);
        } else {
            put_be(L, buf, 0xcf, (uint64_t)n, 8);
        }
    } else {
        if (n >= -32) {
            one = (unsigned char)(n & 0xff); /* negative fixint */
            put(L, buf, &one, 1);
        } else if (n >= -128) {
            put_be(L, buf, 0xd0, (uint64_t)n, 1);
        } else if (n >= -32768) {
            put_be(L, buf, 0xd1, (uint64_t)n, 2);
        } else if (n >= -2147483648LL) {
            put_be(L, buf, 0xd2, (uint64_t)n, 4);
        } else {
            put_be(L, buf, 0xd3, (uint64_t)n, 8);
        }
    }
}

/* x86-64's double -> int64 conversion without the undefined behaviour:
 * truncation, INT64_MIN when out of range or NaN. */
static int64_t to_i64(double d)
{
    if (d >= -9223372036854775808.0 && d < 9223372036854775808.0) return (int64_t)d;
    return INT64_MIN;
}

/* The same for int: INT_MIN when out of range or NaN. */
static int to_int(double d)
{
    if (d > -2147483649.0 && d < 2147483648.0) return (int)d;
    return INT_MIN;
}

/* Does the double survive a round trip through float? (NaN never does.) */
static int fits_float(double d, float *f)
{
    if (isnan(d)) return 0;
    if (!isinf(d) && fabs(d) > 3.4028235677973366e38) return 0; /* beyond FLT_MAX rounding */
    *f = (float)d;
    return (double)*f == d;
}

static void enc_double(lua_State *L, struct enc_buf *buf, double d)
{
    float f;
    if (fits_float(d, &f)) {
        uint32_t bits;
        memcpy(&bits, &f, sizeof bits);
        put_be(L, buf, 0xca, bits, 4);
    } else {
        uint64_t bits;
        memcpy(&bits, &d, sizeof bits);
        put_be(L, buf, 0xcb, bits, 8);
    }
}

static void enc_number(lua_State *L, struct enc_buf *buf)
{
    lua_Number n = lua_tonumber(L, -1);
    if (!isinf(n) && (lua_Number)to_i64(n) == n)
        enc_int(L, buf, to_i64(n));
    else
        enc_double(L, buf, n);
}

static void enc_string(lua_State *L, struct enc_buf *buf)
{
    size_t len;
    const char *s = lua_tolstring(L, -1, &len);
    if (len < 32) {
        unsigned char one = (unsigned char)(0xa0 | len);
        put(L, buf, &one, 1);
    } else if (len <= 0xff) {
        put_be(L, buf, 0xd9, len, 1);
    } else if (len <= 0xffff) {
        put_be(L, buf, 0xda, len, 2);
    } else {
        put_be(L, buf, 0xdb, len, 4);
    }
    put(L, buf, s, len);
}

/* An array or map header: fix form up to 15, then 16 and 32 bits. */
static void enc_header(lua_State *L, struct enc_buf *buf, unsigned char fix, unsigned char t16,
                       uint64_t n)
{
    if (n <= 15) {
        unsigned char one = (unsigned char)(fix | n);
        put(L, buf, &one, 1);
    } else if (n <= 0xffff) {
        put_be(L, buf, t16, n, 2);
    } else {
        put_be(L, buf, (unsigned char)(t16 + 1), n, 4);
    }
}

static void enc_value(lua_State *L, struct enc_buf *buf, int level);

/* Are the keys of the table on top exactly the integers 1..n? */
static int is_array(lua_State *L)
{
    int top = lua_gettop(L), count = 0, max = 0;

    luaL_checkstack(L, 2, "in function table_is_an_array");
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TNUMBER) break;
        lua_Number k = lua_tonumber(L, -1);
        if (k <= 0 || isinf(k) || (lua_Number)to_int(k) != k) break;
        if (to_int(k) > max) max = to_int(k);
        count++;
    }
    int done = lua_gettop(L) == top; /* lua_next ran out: every key passed */
    lua_settop(L, top);
    return done && max == count;
}

static void enc_array(lua_State *L, struct enc_buf *buf, int level)
{
    size_t len = lua_objlen(L, -1);
    enc_header(L, buf, 0x90, 0xdc, len);
    luaL_checkstack(L, 1, "in function mp_encode_lua_table_as_array");
    for (size_t i = 1; i <= len; i++) {
        lua_pushnumber(L, (lua_Number)i);
        lua_gettable(L, -2);
        enc_value(L, buf, level + 1);
    }
}

static void enc_map(lua_State *L, struct enc_buf *buf, int level)
{
    size_t n = 0;
    luaL_checkstack(L, 3, "in function mp_encode_lua_table_as_map");
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pop(L, 1);
        n++;
    }
    enc_header(L, buf, 0x80, 0xde, n);
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pushvalue(L, -2);
        enc_value(L, buf, level + 1); /* the key's copy */
        enc_value(L, buf, level + 1); /* the value */
    }
}

/* Encode the value on top of the stack and pop it. */
static void enc_value(lua_State *L, struct enc_buf *buf, int level)
{
    int t = lua_type(L, -1);
    unsigned char one;

    if (t == LUA_TTABLE && level == MAX_NESTING) t = LUA_TNIL;
    switch (t) {
    case LUA_TSTRING:
        enc_string(L, buf);
        break;
    case LUA_TBOOLEAN:
        one = lua_toboolean(L, -1) ? 0xc3 : 0xc2;
        put(L, buf, &one, 1);
        break;
    case LUA_TNUMBER:
        enc_number(L, buf);
        break;
    case LUA_TTABLE:
        if (is_array(L))
            enc_array(L, buf, level);
        else
            enc_map(L, buf, level);
        break;
    default:
        one = 0xc0;
        put(L, buf, &one, 1);
    }
    lua_pop(L, 1);
}

static int mp_pack(lua_State *L)
{
    int nargs = lua_gettop(L);
    struct enc_buf *buf = lua_touserdata(L, lua_upvalueindex(1));

    if (nargs == 0) return luaL_argerror(L, 0, "MessagePack pack needs input.");
    if (!lua_checkstack(L, nargs))
        return luaL_argerror(L, 0, "Too many arguments for MessagePack pack.");
    for (int i = 1; i <= nargs; i++) {
        buf->len = 0;
        luaL_checkstack(L, 1, "in function mp_check");
        lua_pushvalue(L, i);
        enc_value(L, buf, 0);
        lua_pushlstring(L, (const char *)buf->b, buf->len);
    }
    buf->len = 0;
    if (buf->cap > ENC_KEEP_CAP) enc_buf_release(L, buf);
    lua_concat(L, nargs);
    return 1;
}

/* ------------------------------------------------------------------ decoding */

#define CUR_OK 0
#define CUR_EOF 1    /* "Missing bytes in input." */
#define CUR_BADFMT 2 /* "Bad data format in input." */

struct cursor {
    const unsigned char *p;
    size_t left;
    int err;
};

/* Make sure n bytes remain, else flag EOF (the caller returns). */
static int cur_has(struct cursor *c, size_t n)
{
    if (c->left >= n) return 1;
    c->err = CUR_EOF;
    return 0;
}

static void cur_skip(struct cursor *c, size_t n)
{
    c->p += n;
    c->left -= n;
}

/* The n-byte big-endian unsigned number after the type byte. */
static uint64_t cur_be(const struct cursor *c, int n)
{
    uint64_t v = 0;
    for (int i = 1; i <= n; i++)
        v = (v << 8) | c->p[i];
    return v;
}

static void dec_value(lua_State *L, struct cursor *c);

static void dec_array(lua_State *L, struct cursor *c, size_t n)
{
    int index = 1;
    lua_newtable(L);
    luaL_checkstack(L, 1, "in function mp_decode_to_lua_array");
    while (n--) {
        lua_pushnumber(L, index++);
        dec_value(L, c);
        if (c->err) return;
        lua_settable(L, -3);
    }
}

static void dec_map(lua_State *L, struct cursor *c, size_t n)
{
    lua_newtable(L);
    while (n--) {
        dec_value(L, c); /* key */
        if (c->err) return;
        dec_value(L, c); /* value */
        if (c->err) return;
        lua_settable(L, -3);
    }
}

/* A string of n bytes starting `hdr` bytes into the cursor. */
static void dec_string(lua_State *L, struct cursor *c, size_t hdr, size_t n)
{
    if (!cur_has(c, hdr) || (cur_skip(c, hdr), !cur_has(c, n))) return;
    lua_pushlstring(L, (const char *)c->p, n);
    cur_skip(c, n);
}

/* An unsigned or signed integer of n bytes after the type byte. On 64-bit
 * builds the unsigned ones go through lua_Integer, so a uint64 of 2^63 and
 * more comes back negative, as in Redis. */
static void dec_int(lua_State *L, struct cursor *c, int n, int is_signed)
{
    if (!cur_has(c, (size_t)n + 1)) return;
    uint64_t v = cur_be(c, n);
    int64_t s;
    if (is_signed && n < 8 && (v >> (8 * n - 1)))
        s = (int64_t)(v | (~(uint64_t)0 << (8 * n))); /* sign-extend */
    else
        s = (int64_t)v;
    lua_pushinteger(L, (lua_Integer)s);
    cur_skip(c, (size_t)n + 1);
}

/* Decode one value at the cursor and push it (nothing on error). */
static void dec_value(lua_State *L, struct cursor *c)
{
    if (!cur_has(c, 1)) return;
    luaL_checkstack(L, 1,
                    "too many return values at once; use unpack_one or unpack_limit instead.");
    unsigned char t = c->p[0];
    switch (t) {
    case 0xcc:
        dec_int(L, c, 1, 0);
        return;
    case 0xcd:
        dec_int(L, c, 2, 0);
        return;
    case 0xce:
        dec_int(L, c, 4, 0);
        return;
    case 0xcf:
        dec_int(L, c, 8, 0);
        return;
    case 0xd0:
        dec_int(L, c, 1, 1);
        return;
    case 0xd1:
        dec_int(L, c, 2, 1);
        return;
    case 0xd2:
        dec_int(L, c, 4, 1);
        return;
    case 0xd3:
        dec_int(L, c, 8, 1);
        return;
    case 0xc0:
        lua_pushnil(L);
        cur_skip(c, 1);
        return;
    case 0xc2:
    case 0xc3:
        lua_pushboolean(L, t == 0xc3);
        cur_skip(c, 1);
        return;
    case 0xca: {
        if (!cur_has(c, 5)) return;
        uint32_t bits = (uint32_t)cur_be(c, 4);
        float f;
        memcpy(&f, &bits, sizeof f);
        lua_pushnumber(L, (lua_Number)f);
        cur_skip(c, 5);
        return;
    }
    case 0xcb: {
        if (!cur_has(c, 9)) return;
        uint64_t bits = cur_be(c, 8);
        double d;
        memcpy(&d, &bits, sizeof d);
        lua_pushnumber(L, d);
        cur_skip(c, 9);
        return;
    }
    case 0xd9:
        if (cur_has(c, 2)) dec_string(L, c, 2, (size_t)cur_be(c, 1));
        return;
    case 0xda:
        if (cur_has(c, 3)) dec_string(L, c, 3, (size_t)cur_be(c, 2));
        return;
    case 0xdb:
        if (cur_has(c, 5)) dec_string(L, c, 5, (size_t)cur_be(c, 4));
        return;
    case 0xdc:
    case 0xde:
    case 0xdd:
    case 0xdf: {
        int n = (t == 0xdc || t == 0xde) ? 2 : 4;
        if (!cur_has(c, (size_t)n + 1)) return;
        size_t len = (size_t)cur_be(c, n);
        cur_skip(c, (size_t)n + 1);
        if (t == 0xdc || t == 0xdd)
            dec_array(L, c, len);
        else
            dec_map(L, c, len);
        return;
    }
    default:
        break;
    }
    if ((t & 0x80) == 0) { /* positive fixint */
        lua_pushinteger(L, t);
        cur_skip(c, 1);
    } else if ((t & 0xe0) == 0xe0) { /* negative fixint */
        lua_pushinteger(L, (lua_Integer)t - 256);
        cur_skip(c, 1);
    } else if ((t & 0xe0) == 0xa0) { /* fixstr */
        dec_string(L, c, 1, t & 0x1f);
    } else if ((t & 0xf0) == 0x90) { /* fixarray */
        cur_skip(c, 1);
        dec_array(L, c, t & 0xf);
    } else if ((t & 0xf0) == 0x80) { /* fixmap */
        cur_skip(c, 1);
        dec_map(L, c, t & 0xf);
    } else { /* 0xc1, bin 8/16/32, ext, fixext */
        c->err = CUR_BADFMT;
    }
}

/* Decode from `offset`: everything (limit and offset both 0), else at most
 * `limit` values preceded by the offset after them (-1 at the end). The
 * string is argument 1, the only thing on the stack below the results. */
static int unpack_from(lua_State *L, lua_Integer limit, lua_Integer offset)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    int all = limit == 0 && offset == 0;
    struct cursor c;
    int count;

    /* Redis's text prints the length where it says limit. */
    if (offset < 0 || limit < 0)
        return luaL_error(L, "Invalid request to unpack with offset of %d and limit of %d.",
                          (int)offset, (int)len);
    if ((size_t)offset > len)
        return luaL_error(L, "Start offset %d greater than input length %d.", (int)offset,
                          (int)len);
    if (all) limit = INT_MAX;

    c.p = (const unsigned char *)s + offset;
    c.left = len - (size_t)offset;
    c.err = CUR_OK;
    for (count = 0; c.left > 0 && count < limit; count++) {
        dec_value(L, &c);
        if (c.err == CUR_EOF) return luaL_error(L, "Missing bytes in input.");
        if (c.err == CUR_BADFMT) return luaL_error(L, "Bad data format in input.");
    }
    if (!all) {
        luaL_checkstack(L, 1, "in function mp_unpack_full");
        lua_pushinteger(L, c.left == 0 ? -1 : (lua_Integer)(len - c.left));
        lua_insert(L, 2);
        count++;
    }
    return count;
}

static int mp_unpack(lua_State *L)
{
    return unpack_from(L, 0, 0);
}

static int mp_unpack_one(lua_State *L)
{
    lua_Integer offset = luaL_optinteger(L, 2, 0);
    lua_pop(L, lua_gettop(L) - 1);
    return unpack_from(L, 1, offset);
}

static int mp_unpack_limit(lua_State *L)
{
    lua_Integer limit = luaL_checkinteger(L, 2);
    lua_Integer offset = luaL_optinteger(L, 3, 0);
    lua_pop(L, lua_gettop(L) - 1);
    return unpack_from(L, limit, offset);
}

/* ------------------------------------------------------------------ opening */

int luaopen_cmsgpack(lua_State *L)
{
    static const luaL_Reg unpackers[] = {
        {"unpack", mp_unpack},
        {"unpack_one", mp_unpack_one},
        {"unpack_limit", mp_unpack_limit},
        {NULL, NULL},
    };

    lua_newtable(L);
    /* pack's buffer: a userdata upvalue whose __gc frees the bytes */
    struct enc_buf *buf = lua_newuserdata(L, sizeof *buf);
    buf->b = NULL;
    buf->len = buf->cap = 0;
    lua_newtable(L);
    lua_pushcfunction(L, enc_buf_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    lua_pushcclosure(L, mp_pack, 1);
    lua_setfield(L, -2, "pack");
    for (const luaL_Reg *r = unpackers; r->name; r++) {
        lua_pushcfunction(L, r->func);
        lua_setfield(L, -2, r->name);
    }
    /* the metadata fields Redis's copy carries */
    lua_pushliteral(L, "cmsgpack");
    lua_setfield(L, -2, "_NAME");
    lua_pushliteral(L, "lua-cmsgpack 0.4.0");
    lua_setfield(L, -2, "_VERSION");
    lua_pushliteral(L, "Copyright (C) 2012, Salvatore Sanfilippo");
    lua_setfield(L, -2, "_COPYRIGHT");
    lua_pushliteral(L, "MessagePack C implementation for Lua");
    lua_setfield(L, -2, "_DESCRIPTION");
    lua_pushvalue(L, -1);
    lua_setglobal(L, "cmsgpack");
    return 1;
}
