/* function.c — Redis 7.0 functions: libraries of Lua functions loaded
 * with FUNCTION LOAD ("#!lua name=<lib>" metadata line, then code that
 * calls redis.register_function), kept in their own interpreter. While a
 * library's code runs its only globals are the load API (redis with
 * register_function, log, its levels and the version); at run time the
 * functions see the full sandbox. Libraries are saved in RDB files and
 * FUNCTION DUMP payloads by their code (function_rdb_each) and come back
 * through function_load. The commands are cmd_function.c's. */
#include <lauxlib.h>
#include <lua.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "function.h"
#include "script.h"
#include "util.h"

struct flib **g_flibs;
int g_nflibs;
static int cap_flibs;

static lua_State *flua;      /* the functions' interpreter */
static int env_ref, api_ref; /* the code's environment, the load API */
static struct flib *loading; /* the library FUNCTION LOAD is running */

#define LOAD_TIMEOUT_MS 500

static int fail(lua_State *L, const char *msg)
{
    script_push_error(L, msg, strlen(msg));
    return script_raise(L);
}

static bool valid_name(const char *s, size_t n)
{
    size_t i;
    if (n == 0) return false;
    for (i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return false;
    }
    return true;
}

static const char bad_name[] = "Library names can only contain letters, numbers, or "
                               "underscores(_) and must be at least one character long";

/* redis.register_function(name, callback) or
 * redis.register_function{function_name=, callback=, flags=, description=} */
static int l_register_function(lua_State *L)
{
    struct ffunc *f;
    const char *name = NULL, *desc = NULL;
    size_t nlen = 0, dlen = 0;
    int argc = lua_gettop(L), flags = 0, fn_idx = 0, i;
    if (!loading)
        return fail(L, "redis.register_function can only be called on FUNCTION LOAD command");
    if (argc == 1 && lua_istable(L, 1)) {
        lua_pushnil(L); /* slot 2: the callback, once found */
        lua_pushnil(L);
        while (lua_next(L, 1)) {
            /* Redis 7.0's luaRegisterFunctionReadNamedArgs: keys in any
             * case; a string (or a number) for the name and description */
            const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "";
            if (!strcasecmp(k, "function_name")) {
                if (!lua_isstring(L, -1))
                    return fail(L, "function_name argument given to redis.register_function "
                                   "must be a string");
                name = lua_tolstring(L, -1, &nlen);
            } else if (!strcasecmp(k, "description")) {
                if (!lua_isstring(L, -1))
                    return fail(L, "description argument given to redis.register_function must "
                                   "be a string");
                desc = lua_tolstring(L, -1, &dlen);
            } else if (!strcasecmp(k, "callback")) {
                if (!lua_isfunction(L, -1))
                    return fail(L, "callback argument given to redis.register_function must be "
                                   "a function");
                lua_pushvalue(L, -1);
                lua_replace(L, 2);
                fn_idx = 2;
            } else if (!strcasecmp(k, "flags")) {
                int j;
                if (!lua_istable(L, -1))
                    return fail(L, "flags argument to redis.register_function must be a table "
                                   "representing function flags");
                for (j = 1;; j++) {
                    size_t fl;
                    const char *fs;
                    int bit;
                    lua_rawgeti(L, -1, j);
                    if (lua_isnil(L, -1)) {
                        lua_pop(L, 1);
                        break;
                    }
                    fs = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &fl) : NULL;
                    bit = fs ? script_parse_flag(fs, fl) : 0;
                    if (bit == SF_ALLOW_KEY_LOCKING) bit = 0; /* a shebang flag only */
                    lua_pop(L, 1);
                    if (!bit) return fail(L, "unknown flag given");
                    flags |= bit;
                }
            } else {
                return fail(L, "unknown argument given to redis.register_function");
            }
            lua_pop(L, 1);
        }
        if (!name) return fail(L, "redis.register_function must get a function name argument");
        if (!fn_idx) return fail(L, "redis.register_function must get a callback argument");
        /* name and description stay alive: they are in the table at 1 */
    } else if (argc == 2) {
        if (!lua_isstring(L, 1)) /* a number is taken as its text, as Redis */
            return fail(L, "first argument to redis.register_function must be a string");
        if (!lua_isfunction(L, 2))
            return fail(L, "second argument to redis.register_function must be a function");
        name = lua_tolstring(L, 1, &nlen);
        fn_idx = 2;
    } else {
        return fail(L, "wrong number of arguments to redis.register_function");
    }
    if (!valid_name(name, nlen)) return fail(L, bad_name);
    for (i = 0; i < loading->nf; i++)
        if (!strcmp(loading->f[i].name, name))
            return fail(L, "Function already exists in the library");
    loading->f = xrealloc(loading->f, sizeof(*loading->f) * (size_t)(loading->nf + 1));
    f = &loading->f[loading->nf++];
    f->name = xstrdup(name);
    f->desc = desc ? xstrdup(desc) : NULL;
    f->flags = flags;
    f->lib = loading;
    lua_pushvalue(L, fn_idx);
    f->ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

static lua_State *engine(void)
{
    if (flua) return flua;
    flua = script_lua_new();
    if (!flua) abort();
    /* The load API: globals {redis = {register_function, log, ...}}. */
    lua_newtable(flua);
    lua_newtable(flua);
    lua_pushcfunction(flua, l_register_function);
    lua_setfield(flua, -2, "register_function");
    {
        static const char *const copy[] = {
            "log",         "LOG_DEBUG",     "LOG_VERBOSE",       "LOG_NOTICE",
            "LOG_WARNING", "REDIS_VERSION", "REDIS_VERSION_NUM", NULL};
        int i;
        lua_getglobal(flua, "redis");
        for (i = 0; copy[i]; i++) {
            lua_getfield(flua, -1, copy[i]);
            lua_setfield(flua, -3, copy[i]);
        }
        lua_pop(flua, 1);
    }
    script_lua_guard_table(flua, -1);
    lua_setfield(flua, -2, "redis");
    script_lua_guard_table(flua, -1);
    api_ref = luaL_ref(flua, LUA_REGISTRYINDEX);
    script_lua_env_table(flua);
    env_ref = luaL_ref(flua, LUA_REGISTRYINDEX);
    return flua;
}

lua_State *function_lua(void)
{
    return engine();
}

/* Point the code's environment at the load API (true) or the globals. */
static void env_for_load(lua_State *L, bool load)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, env_ref);
    lua_getmetatable(L, -1);
    if (load)
        lua_rawgeti(L, LUA_REGISTRYINDEX, api_ref);
    else
        lua_pushvalue(L, LUA_GLOBALSINDEX);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 2);
}

static void lib_free(struct flib *lib)
{
    int i;
    if (!lib) return;
    for (i = 0; i < lib->nf; i++) {
        if (flua) luaL_unref(flua, LUA_REGISTRYINDEX, lib->f[i].ref);
        free(lib->f[i].name);
        free(lib->f[i].desc);
    }
    free(lib->f);
    free(lib->name);
    free(lib->code);
    free(lib);
}

struct flib *function_lib(const char *name)
{
    int i;
    for (i = 0; i < g_nflibs; i++)
        if (!strcasecmp(g_flibs[i]->name, name)) return g_flibs[i];
    return NULL;
}

struct ffunc *function_find(const char *name, size_t n)
{
    int i, j;
    for (i = 0; i < g_nflibs; i++)
        for (j = 0; j < g_flibs[i]->nf; j++)
            if (strlen(g_flibs[i]->f[j].name) == n && !strncasecmp(g_flibs[i]->f[j].name, name, n))
                return &g_flibs[i]->f[j];
    return NULL;
}

static void lib_unlink(struct flib *lib)
{
    int i;
    for (i = 0; i < g_nflibs; i++) {
        if (g_flibs[i] == lib) {
            memmove(&g_flibs[i], &g_flibs[i + 1], sizeof(*g_flibs) * (size_t)(g_nflibs - i - 1));
            g_nflibs--;
            return;
        }
    }
}

bool function_delete(const char *name)
{
    struct flib *lib = function_lib(name);
    if (!lib) return false;
    lib_unlink(lib);
    lib_free(lib);
    return true;
}

void function_flush(void)
{
    while (g_nflibs > 0) {
        struct flib *lib = g_flibs[--g_nflibs];
        lib_free(lib);
    }
    /* A fresh interpreter, as Redis: nothing of the old code stays. */
    if (flua && !(g_script_run && g_script_run->L == flua)) {
        script_lua_close(flua);
        flua = NULL;
    }
}

static char *errf(const char *fmt, const char *a)
{
    size_t n = strlen(fmt) + (a ? strlen(a) : 0) + 1;
    char *e = xmalloc(n);
    snprintf(e, n, fmt, a ? a : "");
    return e;
}

static long long load_start;

static void load_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    if (util_mstime() - load_start > LOAD_TIMEOUT_MS) fail(L, "FUNCTION LOAD timeout");
}

/* "#!<engine> name=<lib>" -> engine checked, name (malloc'd); *skip = the
 * line's length (its line feed stays, for line numbers). */
static bool metadata(const char *code, size_t n, char **name, size_t *skip, char **err)
{
    const char *nl;
    char **w;
    size_t *wl;
    int nw, i;
    *name = NULL;
    if (n < 2 || code[0] != '#' || code[1] != '!') {
        *err = xstrdup("ERR Missing library metadata");
        return false;
    }
    nl = memchr(code, '\n', n);
    if (!nl) {
        *err = xstrdup("ERR Invalid library metadata");
        return false;
    }
    *skip = (size_t)(nl - code);
    nw = util_split_args(code, *skip, &w, &wl);
    if (nw <= 0) {
        *err = xstrdup("ERR Invalid library metadata");
        if (nw == 0) util_free_words(w, wl, nw);
        return false;
    }
    for (i = 1; i < nw; i++) {
        if (!strncmp(w[i], "name=", 5)) {
            free(*name);
            *name = xstrdup(w[i] + 5);
        } else {
            *err = errf("ERR Invalid metadata value given: %s", w[i]);
            free(*name);
            util_free_words(w, wl, nw);
            return false;
        }
    }
    if (!*name) {
        *err = xstrdup("ERR Library name was not given");
        util_free_words(w, wl, nw);
        return false;
    }
    if (strcasecmp(w[0] + 2, "lua") != 0) {
        *err = errf("ERR Engine '%s' not found", w[0] + 2);
        free(*name);
        util_free_words(w, wl, nw);
        return false;
    }
    util_free_words(w, wl, nw);
    return true;
}

bool function_load(const char *code, size_t n, bool replace, char **err)
{
    lua_State *L;
    struct flib *lib, *old;
    char *name;
    size_t skip;
    int i, status;
    *err = NULL;
    if (!metadata(code, n, &name, &skip, err)) return false;
    if (!valid_name(name, strlen(name))) {
        *err = errf("ERR %s", bad_name);
        free(name);
        return false;
    }
    old = function_lib(name);
    if (old && !replace) {
        *err = errf("ERR Library '%s' already exists", name);
        free(name);
        return false;
    }
    L = engine();
    if (script_lua_load(L, code + skip, n - skip, "@user_function")) {
        *err = errf("ERR Error compiling function: %s", lua_tostring(L, -1));
        lua_pop(L, 1);
        free(name);
        return false;
    }
    lib = xcalloc(1, sizeof(*lib));
    lib->name = name;
    lib->code = xmalloc(n + 1);
    memcpy(lib->code, code, n);
    lib->code[n] = 0;
    lib->codelen = n;
    /* Run the code with the load API as its globals. */
    lua_rawgeti(L, LUA_REGISTRYINDEX, env_ref);
    lua_setfenv(L, -2);
    lua_getglobal(L, "__redis__err__handler");
    lua_insert(L, -2);
    env_for_load(L, true);
    loading = lib;
    load_start = util_mstime();
    lua_sethook(L, load_hook, LUA_MASKCOUNT, 100000);
    status = lua_pcall(L, 0, 0, -2);
    lua_sethook(L, NULL, 0, 0);
    loading = NULL;
    env_for_load(L, false);
    if (status) {
        const char *msg = NULL;
        if (lua_istable(L, -1)) {
            lua_getfield(L, -1, "err");
            msg = lua_tostring(L, -1);
        } else {
            msg = lua_tostring(L, -1);
        }
        *err = errf("ERR Error registering functions: %s", msg ? msg : "?");
        lua_settop(L, 0);
        lib_free(lib);
        return false;
    }
    lua_settop(L, 0);
    if (lib->nf == 0) {
        *err = xstrdup("ERR No functions registered");
        lib_free(lib);
        return false;
    }
    for (i = 0; i < lib->nf; i++) {
        struct ffunc *other = function_find(lib->f[i].name, strlen(lib->f[i].name));
        if (other && other->lib != old) {
            *err = errf("ERR Function %s already exists", lib->f[i].name);
            lib_free(lib);
            return false;
        }
    }
    if (old) {
        lib_unlink(old);
        lib_free(old);
    }
    if (g_nflibs == cap_flibs) {
        cap_flibs = cap_flibs ? cap_flibs * 2 : 8;
        g_flibs = xrealloc(g_flibs, sizeof(*g_flibs) * (size_t)cap_flibs);
    }
    g_flibs[g_nflibs++] = lib;
    return true;
}

void function_rdb_each(void (*emit)(void *ctx, const char *code, size_t n), void *ctx)
{
    int i;
    for (i = 0; i < g_nflibs; i++)
        emit(ctx, g_flibs[i]->code, g_flibs[i]->codelen);
}

bool function_rdb_load(const char *code, size_t n, bool replace, char *err, size_t errlen)
{
    char *e = NULL;
    if (function_load(code, n, replace, &e)) return true;
    snprintf(err, errlen, "%s", e ? e : "?");
    free(e);
    return false;
}
