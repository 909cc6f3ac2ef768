/* lua_struct.h — the `struct` library of Redis 7.0 scripts (lua_struct.c):
 * struct.pack, struct.unpack and struct.size. */
#ifndef KEEL_LUA_STRUCT_H
#define KEEL_LUA_STRUCT_H

#include <lua.h>

/* Register the global table `struct` (and package.loaded.struct); leaves
 * the table on the stack and returns 1, as a lua_CFunction opener. */
int luaopen_struct(lua_State *L);

#endif
