/* lua_cmsgpack.h — the `cmsgpack` library of Redis 7.0 scripts
 * (lua_cmsgpack.c): MessagePack pack, unpack, unpack_one, unpack_limit. */
#ifndef KEEL_LUA_CMSGPACK_H
#define KEEL_LUA_CMSGPACK_H

#include <lua.h>

/* Build the `cmsgpack` table, set it as the global `cmsgpack`; leaves the
 * table on the stack and returns 1, as a lua_CFunction opener. */
int luaopen_cmsgpack(lua_State *L);

#endif
