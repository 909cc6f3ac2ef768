/* script_lua.c — the Lua 5.1 interpreter scripts run in: the libraries
 * Redis 7.0 gives scripts (base without loadfile/dofile/print, table,
 * string, math, cjson, bit, struct, cmsgpack), the sandbox (globals read-only, Redis's texts for a
 * missing global and for a write to a protected table; precompiled chunks parsed as text, as
 * Redis's Lua does), the error handler that turns every error into Redis's {err=...} table with its
 * source and line, and math.random / math.randomseed on Redis's own 48-bit generator (the same
 * sequence as redis-server 7.0: one stream from start-up, never reseeded by the server,
 * math.randomseed reseeds it). */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lua_cmsgpack.h"
#include "lua_struct.h"
#include "script.h"
#include "script_ldb.h"

/* Debian's lua-cjson and lua-bitop ship no headers. */
int luaopen_cjson(lua_State *L);
int luaopen_bit(lua_State *L);

/* ---- math.random: the 48-bit linear congruential generator of POSIX
 * lrand48 (x = 0x5DEECE66D * x + 0xB mod 2^48, seed s -> s << 16 | 0x330E,
 * each draw the top 31 bits), which is what Redis's rand.c computes. */

static uint64_t rand48_x = 0x1234ABCD330EULL;

void script_srand48(int32_t seed)
{
    rand48_x = ((uint64_t)(uint32_t)seed << 16 | 0x330E) & 0xFFFFFFFFFFFFULL;
}

static int32_t lrand48_next(void)
{
    rand48_x = (0x5DEECE66DULL * rand48_x + 0xB) & 0xFFFFFFFFFFFFULL;
    return (int32_t)(rand48_x >> 17);
}

#define RAND48_MAX INT32_MAX

static int math_random(lua_State *L)
{
    lua_Number r = (lua_Number)(lrand48_next() % RAND48_MAX) / (lua_Number)RAND48_MAX;
    switch (lua_gettop(L)) {
    case 0:
        lua_pushnumber(L, r);
        break;
    case 1: {
        int u = luaL_checkint(L, 1);
        luaL_argcheck(L, 1 <= u, 1, "interval is empty");
        lua_pushnumber(L, floor(r * u) + 1);
        break;
    }
    case 2: {
        int l = luaL_checkint(L, 1);
        int u = luaL_checkint(L, 2);
        luaL_argcheck(L, l <= u, 2, "interval is empty");
        lua_pushnumber(L, floor(r * (u - l + 1)) + l);
        break;
    }
    default:
        return luaL_error(L, "wrong number of arguments");
    }
    return 1;
}

static int math_randomseed(lua_State *L)
{
    script_srand48(luaL_checkint(L, 1));
    return 0;
}

/* ---- the sandbox ---- */

static const char ro_key = 'r'; /* registry key of the set of read-only tables */

static const char ro_text[] = "Attempt to modify a readonly table";

/* Registry: read-only view -> the table whose entries it shows (rawget,
 * next and pairs read through a view as Redis's read-only tables read
 * themselves), and the real globals table (scripts see an empty view of
 * it, so that no global can be reassigned). */
static const char backing_key = 'b';
static const char globals_key = 'g';

/* registry[map][the value at k] = the value on top of the stack (popped);
 * k is an absolute index. The read-only set and the views' backings are
 * such maps. */
static void regmap_set(lua_State *L, const char *map, int k)
{
    lua_pushlightuserdata(L, (void *)map);
    lua_rawget(L, LUA_REGISTRYINDEX);
    lua_pushvalue(L, k);
    lua_pushvalue(L, -3);
    lua_rawset(L, -3);
    lua_pop(L, 2);
}

static void set_backing(lua_State *L, int view, int real)
{
    view = view < 0 ? lua_gettop(L) + view + 1 : view;
    real = real < 0 ? lua_gettop(L) + real + 1 : real;
    lua_pushvalue(L, real);
    regmap_set(L, &backing_key, view);
}

/* Push the table whose entries the table at idx shows (itself if it is
 * not a view). */
static void push_backing(lua_State *L, int idx)
{
    idx = idx < 0 ? lua_gettop(L) + idx + 1 : idx;
    lua_pushlightuserdata(L, (void *)&backing_key);
    lua_rawget(L, LUA_REGISTRYINDEX);
    lua_pushvalue(L, idx);
    lua_rawget(L, -2);
    lua_remove(L, -2);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_pushvalue(L, idx);
    }
}

void script_lua_push_globals(lua_State *L)
{
    lua_pushlightuserdata(L, (void *)&globals_key);
    lua_rawget(L, LUA_REGISTRYINDEX);
}

static int protection(lua_State *L, int idx)
{
    int ro;
    if (!lua_istable(L, idx)) return 0;
    lua_pushvalue(L, idx);
    lua_pushlightuserdata(L, (void *)&ro_key);
    lua_rawget(L, LUA_REGISTRYINDEX);
    lua_insert(L, -2);
    lua_rawget(L, -2);
    ro = (int)lua_tonumber(L, -1);
    lua_pop(L, 2);
    return ro;
}

int script_lua_protect_table(lua_State *L, int idx)
{
    return protection(L, idx) != 0;
}

static int sb_getmetatable(lua_State *L)
{
    luaL_checkany(L, 1);
    if (protection(L, 1) == 2 || !lua_getmetatable(L, 1)) {
        lua_pushnil(L);
        return 1;
    }
    luaL_getmetafield(L, 1, "__metatable");
    return 1;
}

static void mark_readonly_as(lua_State *L, int idx, int how)
{
    idx = idx < 0 ? lua_gettop(L) + idx + 1 : idx;
    lua_pushnumber(L, how);
    regmap_set(L, &ro_key, idx);
}

/* A protected table; a library's read-only view (how 2) has no metatable
 * a script can see, as a plain table. */
static void mark_readonly(lua_State *L, int idx)
{
    mark_readonly_as(L, idx < 0 ? lua_gettop(L) + idx + 1 : idx, 1);
}

/* t.k = v on a protected table (a metamethod: the error names the
 * script's line, as Redis's does). */
static int ro_newindex(lua_State *L)
{
    return luaL_error(L, ro_text);
}

/* A missing global. */
static int g_index(lua_State *L)
{
    const char *name = lua_tostring(L, 2);
    return luaL_error(L, "Script attempted to access nonexistent global variable '%s'",
                      name ? name : "?");
}

/* rawset and setmetatable refuse protected tables (a plain error, with
 * no position: Redis raises it from C). */
static int raw_refuse(lua_State *L)
{
    lua_pushstring(L, ro_text);
    return lua_error(L);
}

static int sb_rawset(lua_State *L)
{
    if (script_lua_protect_table(L, 1)) return raw_refuse(L);
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checkany(L, 2);
    luaL_checkany(L, 3);
    lua_settop(L, 3);
    lua_rawset(L, 1);
    return 1;
}

static int sb_setmetatable(lua_State *L)
{
    int t = lua_type(L, 2);
    if (script_lua_protect_table(L, 1)) return raw_refuse(L);
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_argcheck(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table expected");
    if (luaL_getmetafield(L, 1, "__metatable"))
        luaL_error(L, "cannot change a protected metatable");
    lua_settop(L, 2);
    lua_setmetatable(L, 1);
    return 1;
}

static int sb_rawget(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checkany(L, 2);
    push_backing(L, 1);
    lua_pushvalue(L, 2);
    lua_rawget(L, -2);
    return 1;
}

static int sb_next(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 2);
    push_backing(L, 1);
    lua_pushvalue(L, 2);
    if (lua_next(L, -2)) return 2;
    lua_pushnil(L);
    return 1;
}

static int sb_pairs(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_pushvalue(L, lua_upvalueindex(1)); /* next */
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}

/* table.insert writes with rawseti: it refuses protected tables, and
 * otherwise is the library's own function run in this same call (its
 * errors name 'insert' and the script's line). */
static lua_CFunction table_insert;

static int sb_table_insert(lua_State *L)
{
    if (script_lua_protect_table(L, 1)) return raw_refuse(L);
    return table_insert(L);
}

/* Redis's Lua parses a precompiled chunk (one starting with the
 * signature's escape byte) as text: a syntax error at its first byte. The
 * stock interpreter would load it, so the byte is replaced by another one
 * the lexer also refuses, and the error text named after the real one. */
static void binary_error_text(lua_State *L)
{
    size_t n;
    const char *msg = lua_tolstring(L, -1, &n);
    static const char was[] = "'?'";
    if (msg && n >= sizeof(was) - 1 && !memcmp(msg + n - (sizeof(was) - 1), was, sizeof(was) - 1)) {
        lua_pushlstring(L, msg, n - (sizeof(was) - 1));
        lua_pushliteral(L, "'char(27)'");
        lua_concat(L, 2);
        lua_replace(L, -2);
    }
}

int script_lua_load(lua_State *L, const char *p, size_t n, const char *chunkname)
{
    int status;
    char *copy;
    if (n == 0 || p[0] != LUA_SIGNATURE[0]) return luaL_loadbuffer(L, p, n, chunkname);
    copy = malloc(n);
    if (!copy) {
        lua_pushliteral(L, "not enough memory");
        return LUA_ERRMEM;
    }
    memcpy(copy, p, n);
    copy[0] = '?';
    status = luaL_loadbuffer(L, copy, n, chunkname);
    free(copy);
    if (status == LUA_ERRSYNTAX) binary_error_text(L);
    return status;
}

static int load_result(lua_State *L, int status)
{
    if (status == 0) return 1;
    lua_pushnil(L);
    lua_insert(L, -2);
    return 2;
}

static int sb_loadstring(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    const char *chunkname = luaL_optstring(L, 2, s);
    return load_result(L, script_lua_load(L, s, n, chunkname));
}

struct load_reader {
    bool first, binary;
};

/* load's reader: the pieces the function gives, kept in slot 3; the
 * first one is checked for the escape byte (as script_lua_load). */
static const char *sb_reader(lua_State *L, void *ud, size_t *size)
{
    struct load_reader *rd = ud;
    bool first = rd->first;
    const char *s;
    rd->first = false;
    luaL_checkstack(L, 2, "too many nested functions");
    lua_pushvalue(L, 1);
    lua_call(L, 0, 1);
    if (lua_isnil(L, -1)) {
        *size = 0;
        return NULL;
    }
    if (!lua_isstring(L, -1)) luaL_error(L, "reader function must return a string");
    lua_replace(L, 3);
    s = lua_tolstring(L, 3, size);
    if (first && *size > 0 && s[0] == LUA_SIGNATURE[0]) {
        rd->binary = true;
        lua_pushliteral(L, "?");
        lua_pushlstring(L, s + 1, *size - 1);
        lua_concat(L, 2);
        lua_replace(L, 3);
        s = lua_tolstring(L, 3, size);
    }
    return s;
}

static int sb_load(lua_State *L)
{
    struct load_reader rd = {true, false};
    const char *chunkname = luaL_optstring(L, 2, "=(load)");
    int status;
    luaL_checktype(L, 1, LUA_TFUNCTION);
    lua_settop(L, 3);
    status = lua_load(L, sb_reader, &rd, chunkname);
    if (status == LUA_ERRSYNTAX && rd.binary) binary_error_text(L);
    return load_result(L, status);
}

/* Redis's pcall: an error table caught is given as its err string. */
static int sb_pcall(lua_State *L)
{
    int argc = lua_gettop(L);
    luaL_checkany(L, 1);
    lua_pushboolean(L, 1); /* the status, if all goes well */
    lua_insert(L, 1);
    if (lua_pcall(L, argc - 1, LUA_MULTRET, 0)) {
        lua_remove(L, 1);
        if (lua_istable(L, -1)) {
            lua_getfield(L, -1, "err");
            if (lua_isstring(L, -1))
                lua_replace(L, -2);
            else
                lua_pop(L, 1);
        }
        lua_pushboolean(L, 0);
        lua_insert(L, 1);
    }
    return lua_gettop(L);
}

/* Replace the global `name` (a library table) by a read-only view of it;
 * returns with the view on the stack. */
static bool protect_global(lua_State *L, const char *name)
{
    lua_getglobal(L, name);
    if (!lua_istable(L, -1)) {
        lua_pop(L, 1);
        return false;
    }
    lua_newtable(L);      /* the view */
    lua_newtable(L);      /* its metatable */
    lua_pushvalue(L, -3); /* the real table */
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, ro_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
    mark_readonly_as(L, lua_gettop(L), 2);
    set_backing(L, -1, -2);
    lua_pushvalue(L, -1);
    lua_setglobal(L, name);
    lua_remove(L, -2);
    return true;
}

/* Push a read-only view of the table on top (kept below it); how as
 * mark_readonly_as. */
static void make_view_as(lua_State *L, int how)
{
    lua_newtable(L);
    lua_newtable(L);
    lua_pushvalue(L, -3);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, ro_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
    mark_readonly_as(L, lua_gettop(L), how);
    set_backing(L, -1, -2);
}

static void make_view(lua_State *L)
{
    make_view_as(L, 1);
}

static void open_lib(lua_State *L, const char *name, lua_CFunction fn, bool set_global)
{
    lua_pushcfunction(L, fn);
    lua_pushstring(L, name);
    lua_call(L, 1, 1);
    if (set_global && lua_istable(L, -1))
        lua_setglobal(L, name);
    else
        lua_pop(L, 1);
}

/* Redis's error handler: any error becomes a table {err=...} with the
 * source and line of the script code that raised it. Written in Lua (it
 * needs the debug library, which scripts never see). */
static const char err_handler_src[] = "local dbg = debug\n"
                                      "function __redis__err__handler(err)\n"
                                      "  local i = dbg.getinfo(2,'nSl')\n"
                                      "  if i and i.what == 'C' then\n"
                                      "    i = dbg.getinfo(3,'nSl')\n"
                                      "  end\n"
                                      "  if type(err) ~= 'table' then\n"
                                      "    err = {err='ERR ' .. tostring(err)}\n"
                                      "  end\n"
                                      "  if i then\n"
                                      "    err['source'] = i.source\n"
                                      "    err['line'] = i.currentline\n"
                                      "  end\n"
                                      "  return err\n"
                                      "end\n";

/* Globals the base library defines that scripts may not use. */
static const char *const removed_globals[] = {"loadfile", "dofile", "print",   "getfenv", "setfenv",
                                              "newproxy", "module", "require", "debug",   NULL};

/* The library tables a script cannot modify. */
static const char *const protected_libs[] = {"string", "math",  "table",  "coroutine", "cjson",
                                             "bit",    "redis", "struct", "cmsgpack",  NULL};

lua_State *script_lua_new(void)
{
    lua_State *L = luaL_newstate();
    int i;
    if (!L) return NULL;
    lua_pushlightuserdata(L, (void *)&ro_key);
    lua_newtable(L);
    lua_rawset(L, LUA_REGISTRYINDEX);
    lua_pushlightuserdata(L, (void *)&backing_key);
    lua_newtable(L);
    lua_rawset(L, LUA_REGISTRYINDEX);

    /* The libraries. */
    open_lib(L, "", luaopen_base, false);
    open_lib(L, LUA_TABLIBNAME, luaopen_table, false);
    open_lib(L, LUA_STRLIBNAME, luaopen_string, false);
    open_lib(L, LUA_MATHLIBNAME, luaopen_math, false);
    open_lib(L, LUA_DBLIBNAME, luaopen_debug, false);
    open_lib(L, "cjson", luaopen_cjson, true);
    open_lib(L, "bit", luaopen_bit, true);
    open_lib(L, "struct", luaopen_struct, true);
    open_lib(L, "cmsgpack", luaopen_cmsgpack, true);

    /* Redis's deterministic math.random. */
    lua_getglobal(L, "math");
    lua_pushcfunction(L, math_random);
    lua_setfield(L, -2, "random");
    lua_pushcfunction(L, math_randomseed);
    lua_setfield(L, -2, "randomseed");
    lua_pop(L, 1);

    /* rawset / setmetatable that respect protected tables. */
    lua_pushcfunction(L, sb_rawset);
    lua_setglobal(L, "rawset");
    lua_pushcfunction(L, sb_setmetatable);
    lua_setglobal(L, "setmetatable");
    lua_pushcfunction(L, sb_pcall);
    lua_setglobal(L, "pcall");
    lua_pushcfunction(L, sb_getmetatable);
    lua_setglobal(L, "getmetatable");
    lua_pushcfunction(L, sb_rawget);
    lua_setglobal(L, "rawget");
    lua_pushcfunction(L, sb_next);
    lua_pushvalue(L, -1);
    lua_setglobal(L, "next");
    lua_pushcclosure(L, sb_pairs, 1);
    lua_setglobal(L, "pairs");
    lua_pushcfunction(L, sb_loadstring);
    lua_setglobal(L, "loadstring");
    lua_pushcfunction(L, sb_load);
    lua_setglobal(L, "load");
    lua_getglobal(L, LUA_TABLIBNAME);
    lua_getfield(L, -1, "insert");
    table_insert = lua_tocfunction(L, -1);
    lua_pop(L, 1);
    if (table_insert) {
        lua_pushcfunction(L, sb_table_insert);
        lua_setfield(L, -2, "insert");
    }
    lua_pop(L, 1);

    script_call_register(L); /* the redis object */

    if (luaL_loadbuffer(L, err_handler_src, sizeof(err_handler_src) - 1, "@err_handler") ||
        lua_pcall(L, 0, 0, 0)) {
        lua_close(L);
        return NULL;
    }
    for (i = 0; removed_globals[i]; i++) {
        lua_pushnil(L);
        lua_setglobal(L, removed_globals[i]);
    }
    lua_pushnil(L);
    lua_setglobal(L, "debug");

    /* Library tables become read-only views; strings' metatable too, so
     * that ("x"):upper() still finds string. */
    for (i = 0; protected_libs[i]; i++) {
        if (!protect_global(L, protected_libs[i])) continue;
        if (!strcmp(protected_libs[i], "string")) {
            lua_pushstring(L, "");
            if (lua_getmetatable(L, -1)) { /* the strings' metatable */
                lua_pushvalue(L, -3);
                lua_setfield(L, -2, "__index");
                /* getmetatable('') answers a read-only view of it */
                make_view(L);
                lua_setfield(L, -2, "__metatable");
                lua_pop(L, 1);
            }
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }

    /* _G: reading a missing global and creating one are errors. */
    lua_pushvalue(L, LUA_GLOBALSINDEX);
    lua_newtable(L);
    lua_pushcfunction(L, g_index);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, ro_newindex);
    lua_setfield(L, -2, "__newindex");
    make_view(L);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
    mark_readonly(L, -1);

    /* Assigning an existing global bypasses __newindex: scripts get an
     * empty read-only view of the globals instead (every assignment
     * refused; reads, rawget, next and pairs go through to the real
     * table, whose _G is the view). getmetatable(_G) shows a read-only
     * table holding the missing-global error as __index, as Redis's. */
    lua_pushlightuserdata(L, (void *)&globals_key);
    lua_pushvalue(L, -2);
    lua_rawset(L, LUA_REGISTRYINDEX);
    lua_newtable(L); /* the view */
    lua_newtable(L); /* its metatable */
    lua_pushvalue(L, -3);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, ro_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_newtable(L); /* what getmetatable(_G) shows */
    lua_pushcfunction(L, g_index);
    lua_setfield(L, -2, "__index");
    make_view_as(L, 2);
    lua_remove(L, -2);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
    mark_readonly(L, -1);
    set_backing(L, -1, -2);
    lua_pushliteral(L, "_G");
    lua_pushvalue(L, -2);
    lua_rawset(L, -4); /* the real table's _G is the view */
    lua_replace(L, LUA_GLOBALSINDEX);
    lua_pop(L, 1);
    return L;
}

void script_lua_guard_table(lua_State *L, int idx)
{
    idx = idx < 0 ? lua_gettop(L) + idx + 1 : idx;
    lua_newtable(L);
    lua_pushcfunction(L, g_index);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, ro_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, idx);
    mark_readonly(L, idx);
}

void script_lua_env_table(lua_State *L)
{
    lua_newtable(L);
    lua_newtable(L);
    lua_pushvalue(L, LUA_GLOBALSINDEX);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, ro_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
    mark_readonly(L, -1);
}

void script_lua_close(lua_State *L)
{
    if (L) lua_close(L);
}

void script_push_error(lua_State *L, const char *msg, size_t n)
{
    const char *sp;
    luaL_Buffer b;
    /* A debugging session shows it when stepping (Redis's luaPushError). */
    if (ldb_stepping()) ldb_log_error(msg, n);
    while (n > 0 && (msg[n - 1] == '\r' || msg[n - 1] == '\n'))
        n--;
    lua_newtable(L);
    lua_pushstring(L, "err");
    luaL_buffinit(L, &b);
    if (n > 0 && msg[0] == '-') {
        sp = memchr(msg, ' ', n);
        if (!sp) {
            luaL_addstring(&b, "ERR ");
            luaL_addlstring(&b, msg + 1, n - 1);
        } else {
            luaL_addlstring(&b, msg + 1, (size_t)(sp - msg - 1));
            luaL_addlstring(&b, sp, n - (size_t)(sp - msg));
        }
    } else {
        luaL_addstring(&b, "ERR ");
        luaL_addlstring(&b, msg, n);
    }
    luaL_pushresult(&b);
    lua_rawset(L, -3);
}

int script_raise(lua_State *L)
{
    return lua_error(L);
}
