/* script_lua.c — the Lua 5.1 interpreter scripts run in: the libraries
 * Redis 7.0 gives scripts (base without loadfile/dofile/print, table,
 * string, math, cjson, bit, struct, cmsgpack), the sandbox (globals read-only, Redis's texts for a
 * missing global and for a write to a protected table), the error handler that turns every error
 * into Redis's {err=...} table with its source and line, and math.random / math.randomseed on
 * Redis's own 48-bit generator (the same sequence as redis-server 7.0: one stream from start-up,
 * never reseeded by the server, math.randomseed reseeds it). */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
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
    lua_pushlightuserdata(L, (void *)&ro_key);
    lua_rawget(L, LUA_REGISTRYINDEX);
    lua_pushvalue(L, idx);
    lua_pushnumber(L, how);
    lua_rawset(L, -3);
    lua_pop(L, 1);
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
    lua_pushvalue(L, -1);
    lua_setglobal(L, name);
    lua_remove(L, -2);
    return true;
}

/* Push a read-only view of the table on top (kept below it). */
static void make_view(lua_State *L)
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
    mark_readonly(L, -1);
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
