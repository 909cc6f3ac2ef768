/* lua_run.c — test helper for tests/integration/test_lua_libs_diff.py: runs
 * one Lua chunk (argv[1], or standard input when there is no argument) in a
 * fresh Lua 5.1 state with the libraries a Redis 7.0 script sees that Keel
 * provides here — base, table, string, math, struct, cmsgpack, and cjson
 * when built with Debian's lua5.1-cjson — and prints what the chunk returns
 * as lower-case hex on one line. Exit status 0, or 1 with the error text on
 * standard error when the chunk fails to load or run or returns no string. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "lua_cmsgpack.h"
#include "lua_struct.h"

#ifdef LUA_RUN_CJSON
int luaopen_cjson(lua_State *L);
#endif

static void open_lib(lua_State *L, lua_CFunction f, const char *name)
{
    lua_pushcfunction(L, f);
    lua_pushstring(L, name);
    lua_call(L, 1, 0);
}

static char *read_all(FILE *f, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *b = malloc(cap);
    size_t got;
    while (b && (got = fread(b + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *nb = realloc(b, cap *= 2);
            if (!nb) free(b);
            b = nb;
        }
    }
    *len = n;
    return b;
}

int main(int argc, char **argv)
{
    size_t len;
    char *chunk;
    int rc = 1;

    if (argc > 1) {
        len = strlen(argv[1]);
        chunk = malloc(len + 1);
        if (chunk) memcpy(chunk, argv[1], len + 1);
    } else {
        chunk = read_all(stdin, &len);
    }
    if (!chunk) {
        fprintf(stderr, "lua_run: out of memory\n");
        return 1;
    }
    lua_State *L = luaL_newstate();
    open_lib(L, luaopen_base, "");
    open_lib(L, luaopen_table, LUA_TABLIBNAME);
    open_lib(L, luaopen_string, LUA_STRLIBNAME);
    open_lib(L, luaopen_math, LUA_MATHLIBNAME);
    open_lib(L, luaopen_struct, "struct");
    open_lib(L, luaopen_cmsgpack, "cmsgpack");
#ifdef LUA_RUN_CJSON
    /* Debian's cjson returns its table without setting the global */
    lua_pushcfunction(L, luaopen_cjson);
    lua_call(L, 0, 1);
    lua_setglobal(L, "cjson");
#endif
    if (luaL_loadbuffer(L, chunk, len, "@user_script") || lua_pcall(L, 0, 1, 0)) {
        fprintf(stderr, "%s\n", lua_tostring(L, -1));
    } else if (lua_type(L, -1) != LUA_TSTRING) {
        fprintf(stderr, "lua_run: the chunk returned a %s, not a string\n", luaL_typename(L, -1));
    } else {
        size_t n;
        const unsigned char *s = (const unsigned char *)lua_tolstring(L, -1, &n);
        for (size_t i = 0; i < n; i++)
            printf("%02x", s[i]);
        printf("\n");
        rc = 0;
    }
    lua_close(L);
    free(chunk);
    return rc;
}
