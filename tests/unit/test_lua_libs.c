/* test_lua_libs.c — unit tests for core/script/lua_struct.c and
 * core/script/lua_cmsgpack.c: a plain Lua 5.1 state with base, string,
 * table and math plus the two libraries runs Lua snippets; each test checks
 * the snippet's returned string (bytes shown as hex, values serialized) or
 * its error text. Byte-for-byte agreement with redis-server is the
 * differential test's job (tests/integration/test_lua_libs_diff.py); these
 * pin the encodings, round trips and error paths on their own. */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <string.h>

#include "lua_cmsgpack.h"
#include "lua_struct.h"
#include "unit.h"

/* Helpers every snippet may use: hex(s), and show(...) which serializes
 * values (tables with sorted keys) so results compare as one string. */
static const char PRELUDE[] =
    "local function hex(s) return (string.gsub(s, '.', function(c)"
    " return string.format('%02x', string.byte(c)) end)) end\n"
    "local show\n"
    "local function one(v)\n"
    "  local t = type(v)\n"
    "  if t == 'string' then return 's:' .. v\n"
    "  elseif t == 'number' then return 'n:' .. string.format('%.17g', v)\n"
    "  elseif t == 'table' then\n"
    "    local ks = {}\n"
    "    for k in pairs(v) do ks[#ks + 1] = k end\n"
    "    table.sort(ks, function(a, b) return one(a) < one(b) end)\n"
    "    local out = {}\n"
    "    for _, k in ipairs(ks) do out[#out + 1] = one(k) .. '=' .. one(v[k]) end\n"
    "    return '{' .. table.concat(out, ',') .. '}'\n"
    "  else return tostring(v) end\n"
    "end\n"
    "show = function(...)\n"
    "  local out = {}\n"
    "  for i = 1, select('#', ...) do out[i] = one((select(i, ...))) end\n"
    "  return table.concat(out, ' ')\n"
    "end\n";

static lua_State *new_state(void)
{
    lua_State *L = luaL_newstate();
    const struct {
        lua_CFunction f;
        const char *name;
    } libs[] = {
        {luaopen_base, ""},
        {luaopen_table, LUA_TABLIBNAME},
        {luaopen_string, LUA_STRLIBNAME},
        {luaopen_math, LUA_MATHLIBNAME},
        {luaopen_struct, "struct"},
        {luaopen_cmsgpack, "cmsgpack"},
    };
    ck_assert_ptr_nonnull(L);
    for (size_t i = 0; i < sizeof libs / sizeof libs[0]; i++) {
        lua_pushcfunction(L, libs[i].f);
        lua_pushstring(L, libs[i].name);
        lua_call(L, 1, 0);
    }
    return L;
}

/* Run PRELUDE + body; the body's value (a string) must equal want. When
 * the body raises an error, its message is compared instead, prefixed by
 * "E:". */
static void expect(const char *body, const char *want)
{
    lua_State *L = new_state();
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addstring(&b, PRELUDE);
    luaL_addstring(&b, "local ok, r = pcall(function() ");
    luaL_addstring(&b, body);
    luaL_addstring(&b, " end)\nif ok then return r else return 'E:' .. tostring(r) end\n");
    luaL_pushresult(&b);
    size_t len;
    const char *code = lua_tolstring(L, -1, &len);
    int rc = luaL_loadbuffer(L, code, len, "=test");
    ck_assert_msg(rc == 0, "load failed: %s", lua_tostring(L, -1));
    rc = lua_pcall(L, 0, 1, 0);
    ck_assert_msg(rc == 0, "run failed: %s", lua_tostring(L, -1));
    const char *got = lua_tostring(L, -1);
    ck_assert_msg(got != NULL, "%s: returned no string", body);
    ck_assert_msg(strcmp(got, want) == 0, "%s\n  got:  %s\n  want: %s", body, got, want);
    lua_close(L);
}

START_TEST(struct_basic)
{
    expect("return hex(struct.pack('>i', 1))", "00000001");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("lua_libs");
    TCase *tc = unit_tcase("struct", 60);
    tcase_add_test(tc, struct_basic);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
