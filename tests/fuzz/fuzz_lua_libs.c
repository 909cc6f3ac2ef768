/* fuzz_lua_libs.c — libFuzzer target for core/script/lua_cmsgpack.c and
 * core/script/lua_struct.c, the decoders scripts feed with arbitrary bytes.
 *
 * Input: byte 0 picks the mode, the rest is data.
 *   0: cmsgpack.unpack(data); when it succeeds and gives values, they are
 *      packed again and the result unpacked: that must give as many values
 *      (or fail on a nil key: a table key nested 16 deep is packed as nil).
 *   1: cmsgpack.unpack_limit(data, limit, offset) with limit and offset from
 *      bytes 1-2; at most limit values come back, after an offset that is
 *      -1 or inside the data.
 *   2: bytes 1..n (n = byte 1 % 24) are a struct format: struct.size(fmt),
 *      struct.unpack(fmt, rest) and, when that succeeds, struct.pack(fmt,
 *      the values) must not crash; a successful unpack returns a next
 *      position inside rest + 1.
 * Lua errors are expected (pcall); crashes, sanitizer reports and broken
 * invariants are not. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "fuzz_util.h"
#include "lua_cmsgpack.h"
#include "lua_struct.h"

static lua_State *state(void)
{
    static lua_State *L;
    if (L == NULL) {
        L = luaL_newstate();
        CHECK(L != NULL);
        lua_CFunction libs[] = {luaopen_base, luaopen_string, luaopen_struct, luaopen_cmsgpack};
        const char *names[] = {"", LUA_STRLIBNAME, "struct", "cmsgpack"};
        for (int i = 0; i < 4; i++) {
            lua_pushcfunction(L, libs[i]);
            lua_pushstring(L, names[i]);
            lua_call(L, 1, 0);
        }
    }
    lua_settop(L, 0);
    return L;
}

/* Push lib.fn. */
static void push_fn(lua_State *L, const char *lib, const char *fn)
{
    lua_getglobal(L, lib);
    lua_getfield(L, -1, fn);
    lua_remove(L, -2);
}

static void msgpack_round_trip(lua_State *L, const char *d, size_t n)
{
    push_fn(L, "cmsgpack", "unpack");
    lua_pushlstring(L, d, n);
    if (lua_pcall(L, 1, LUA_MULTRET, 0) != 0) return;
    int count = lua_gettop(L);
    if (count == 0 || !lua_checkstack(L, count + 2)) return;
    push_fn(L, "cmsgpack", "pack");
    lua_insert(L, 1);
    if (lua_pcall(L, count, 1, 0) != 0) {
        /* only the argument limit may refuse values unpack produced */
        CHECK(count > 3000);
        return;
    }
    push_fn(L, "cmsgpack", "unpack");
    lua_insert(L, 1);
    if (lua_pcall(L, 1, LUA_MULTRET, 0) != 0) {
        /* a table used as a key 16 deep was packed as nil, as in Redis */
        CHECK(strcmp(lua_tostring(L, -1), "table index is nil") == 0);
        return;
    }
    CHECK(lua_gettop(L) == count);
}

static void msgpack_limit(lua_State *L, const char *d, size_t n)
{
    if (n < 2) return;
    int limit = (unsigned char)d[0] % 8, offset = (unsigned char)d[1];
    push_fn(L, "cmsgpack", "unpack_limit");
    lua_pushlstring(L, d + 2, n - 2);
    lua_pushinteger(L, limit);
    lua_pushinteger(L, offset);
    if (lua_pcall(L, 3, LUA_MULTRET, 0) != 0) return;
    if (limit == 0 && offset == 0) return; /* everything, no offset */
    CHECK(lua_gettop(L) >= 1 && lua_gettop(L) <= limit + 1);
    lua_Integer next = lua_tointeger(L, 1);
    /* -1 at the end, else where decoding stopped: past the start when
     * something was decoded, before the end */
    CHECK(next == -1 || (next >= offset && (size_t)next < n - 2));
    CHECK(next == -1 || limit == 0 || next > offset);
}

static void struct_formats(lua_State *L, const char *d, size_t n)
{
    if (n < 1) return;
    size_t flen = (unsigned char)d[0] % 24;
    if (flen > n - 1) flen = n - 1;
    const char *fmt = d + 1, *rest = d + 1 + flen;
    size_t rlen = n - 1 - flen;

    push_fn(L, "struct", "size");
    lua_pushlstring(L, fmt, flen);
    (void)lua_pcall(L, 1, 1, 0);
    lua_settop(L, 0);

    push_fn(L, "struct", "unpack");
    lua_pushlstring(L, fmt, flen);
    lua_pushlstring(L, rest, rlen);
    if (lua_pcall(L, 2, LUA_MULTRET, 0) != 0) return;
    int count = lua_gettop(L);
    CHECK(count >= 1);
    lua_Number next = lua_tonumber(L, count);
    CHECK(next >= 1 && next <= (lua_Number)rlen + 1);
    lua_settop(L, count - 1);
    if (!lua_checkstack(L, 3)) return;
    push_fn(L, "struct", "pack");
    lua_insert(L, 1);
    lua_pushlstring(L, fmt, flen);
    lua_insert(L, 2);
    (void)lua_pcall(L, count, 1, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static unsigned runs;
    if (size < 1) return 0;
    lua_State *L = state();
    const char *d = (const char *)data + 1;
    switch (data[0] % 3) {
    case 0:
        msgpack_round_trip(L, d, size - 1);
        break;
    case 1:
        msgpack_limit(L, d, size - 1);
        break;
    default:
        struct_formats(L, d, size - 1);
    }
    lua_settop(L, 0);
    if (++runs % 256 == 0) lua_gc(L, LUA_GCCOLLECT, 0);
    return 0;
}
