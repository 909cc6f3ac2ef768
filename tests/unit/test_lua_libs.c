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
 * the body raises an error, its message (without the "chunk:line: " where)
 * is compared instead, prefixed by "E:". */
static void expect(const char *body, const char *want)
{
    lua_State *L = new_state();
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addstring(&b, PRELUDE);
    luaL_addstring(&b, "local ok, r = pcall(function() ");
    luaL_addstring(&b, body);
    luaL_addstring(&b, " end)\nif ok then return r end\n"
                       "return 'E:' .. (string.gsub(tostring(r), '^[^:]+:%d+: ', ''))\n");
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

/* ------------------------------------------------------------------ struct */

START_TEST(struct_pack_integers)
{
    expect("return hex(struct.pack('>i<i', 1, 1))", "0000000101000000");
    expect("return hex(struct.pack('<bBhHlLT', -1, 255, -2, 65535, -3, 4294967295, 7))",
           "ffff"
           "feff"
           "ffff"
           "fdffffffffffffff"
           "ffffffff00000000"
           "0700000000000000");
    expect("return hex(struct.pack('>I3<i5>I1', 0x123456, -2, 300))", "123456"
                                                                      "feffffffff"
                                                                      "2c");
    /* wider than 8 bytes: the low 64 bits, then zeros */
    expect("return hex(struct.pack('<i10', -1))", "ffffffffffffffff0000");
    expect("return hex(struct.pack('>I9', 258))", "000000000000000102");
    expect("return hex(struct.pack('i0', 5))", "");
    /* truncation toward zero, wrap-around modulo the size */
    expect("return hex(struct.pack('>i>i>h', 1.9, -1.9, 70000))", "00000001"
                                                                  "ffffffff"
                                                                  "1170");
    expect("return hex(struct.pack('>i', '12'))", "0000000c");
}
END_TEST

START_TEST(struct_pack_floats_strings)
{
    expect("return hex(struct.pack('>f>d', 1.5, -2))", "3fc00000"
                                                       "c000000000000000");
    expect("return hex(struct.pack('<f', 1.5))", "0000c03f");
    expect("return struct.pack('c5', 'hello world') .. '|' .. struct.pack('c0', 'whole')",
           "hello|whole");
    expect("return hex(struct.pack('s', 'a\\0b'))", "61006200");
    expect("return hex(struct.pack('x b x', 7))", "000700");
    expect("return struct.pack('c', 5)", "5");
    expect("return hex(struct.pack(''))", "");
}
END_TEST

START_TEST(struct_alignment)
{
    expect("return hex(struct.pack('!4 b i', 1, 2))", "01000000"
                                                      "02000000");
    expect("return hex(struct.pack('!2 b i', 1, 2))", "0100"
                                                      "02000000");
    expect("return hex(struct.pack('! b d', 1, 2))", "0100000000000000"
                                                     "0000000000000040");
    /* no '!': alignment 1 */
    expect("return hex(struct.pack('b d', 1, 2))", "01"
                                                   "0000000000000040");
    /* 'c' is never aligned */
    expect("return hex(struct.pack('!4 b c2 i', 1, 'ab', 2))", "016162"
                                                               "00"
                                                               "02000000");
    /* 'i3' under '!4': the library's formula pads 1 to 3, not to 4 */
    expect("return show(struct.size('!8 b d'), struct.size('bhilTfd'), struct.size('!4 b i3'))",
           "n:16 n:35 n:6");
}
END_TEST

START_TEST(struct_unpack_values)
{
    expect("return show(struct.unpack('>i<i', '\\0\\0\\0\\1\\1\\0\\0\\0'))", "n:1 n:1 n:9");
    expect("return show(struct.unpack('>bBhH', '\\255\\255\\255\\255\\255\\255'))",
           "n:-1 n:255 n:-1 n:65535 n:7");
    expect("return show(struct.unpack('>i3', '\\255\\255\\254'))", "n:-2 n:4");
    expect("return show(struct.unpack('>f<d', struct.pack('>f<d', 1.5, -0.25)))",
           "n:1.5 n:-0.25 n:13");
    expect("return show(struct.unpack('c3', 'abcdef', 2))", "s:bcd n:5");
    expect("return show(struct.unpack('b c0 b', '\\3abc!'))", "s:abc n:33 n:6");
    expect("return show(struct.unpack('s s', 'ab\\0\\0cd'))", "s:ab s: n:5");
    expect("return show(struct.unpack('!4 b i', '\\1\\0\\0\\0\\2\\0\\0\\0'))", "n:1 n:2 n:9");
    expect("return show(struct.unpack('', 'abcd', -1))", "n:-1");
}
END_TEST

START_TEST(struct_round_trip)
{
    expect("local f = '>bBhHiIlLTfdc3s'\n"
           "return show(struct.unpack(f, struct.pack(f, -5, 200, -300, 60000, -70000, 3000000000,"
           " -2^40, 2^50, 12345, 0.5, 1e100, 'xyz', 'zero')))",
           "n:-5 n:200 n:-300 n:60000 n:-70000 n:3000000000 n:-1099511627776 "
           "n:1125899906842624 n:12345 n:0.5 n:1e+100 s:xyz s:zero n:59");
}
END_TEST

START_TEST(struct_errors)
{
    expect("return struct.pack('c3', 'ab')", "E:bad argument #3 to 'pack' (string too short)");
    expect("return struct.pack('i z', 1)",
           "E:bad argument #1 to 'pack' (invalid format option 'z')");
    expect("return struct.pack('i33', 1)", "E:integral size 33 is larger than limit of 32");
    expect("return struct.pack('i99999999999', 1)", "E:integral size overflow");
    expect("return struct.pack('!3 i', 1)", "E:alignment 3 is not a power of 2");
    /* "got nil": pack's own marker sits where the missing argument would */
    expect("return struct.pack('i i', 1)",
           "E:bad argument #3 to 'pack' (number expected, got nil)");
    expect("return struct.unpack('s', 'abc')", "E:unfinished string in data");
    expect("return struct.unpack('i', 'ab')",
           "E:bad argument #2 to 'unpack' (data string too short)");
    expect("return struct.unpack('b', 'abcd', 0)",
           "E:bad argument #3 to 'unpack' (offset must be 1 or greater)");
    expect("return struct.unpack('b', 'abcd', -1)",
           "E:bad argument #2 to 'unpack' (data string too short)");
    expect("return struct.unpack('c0', 'abc')", "E:format 'c0' needs a previous size");
    expect("return struct.unpack('B c0', '\\10abc')",
           "E:bad argument #2 to 'unpack' (data string too short)");
    expect("return struct.unpack(string.rep('b', 9000), string.rep('\\1', 9000))",
           "E:stack overflow (too many results)");
    expect("return struct.size('b s')",
           "E:bad argument #1 to 'size' (option 's' has no fixed size)");
    expect("return struct.size('c0')",
           "E:bad argument #1 to 'size' (option 'c0' has no fixed size)");
    expect("return struct.size('b #')", "E:bad argument #1 to 'size' (invalid format option '#')");
    /* letters the format does not know are skipped by size only */
    expect("return show(struct.size('z'))", "n:0");
}
END_TEST

/* ---------------------------------------------------------------- cmsgpack */

START_TEST(msgpack_integers)
{
    expect("return hex(cmsgpack.pack(0, 127, 128, 255, 256, 65535, 65536))", "00"
                                                                             "7f"
                                                                             "cc80"
                                                                             "ccff"
                                                                             "cd0100"
                                                                             "cdffff"
                                                                             "ce00010000");
    expect("return hex(cmsgpack.pack(2^32 - 1, 2^32))", "ceffffffff"
                                                        "cf0000000100000000");
    expect("return hex(cmsgpack.pack(-1, -32, -33, -128, -129, -32768, -32769))", "ff"
                                                                                  "e0"
                                                                                  "d0df"
                                                                                  "d080"
                                                                                  "d1ff7f"
                                                                                  "d18000"
                                                                                  "d2ffff7fff");
    expect("return hex(cmsgpack.pack(-2^31, -2^31 - 1))", "d280000000"
                                                          "d3ffffffff7fffffff");
    expect("return hex(cmsgpack.pack(-2^63, -0.0))", "d38000000000000000"
                                                     "00");
    /* 2^63 does not fit int64: a double */
    expect("return hex(cmsgpack.pack(2^63))", "ca5f000000");
}
END_TEST

START_TEST(msgpack_floats)
{
    expect("return hex(cmsgpack.pack(1.5, 0.1))", "ca3fc00000"
                                                  "cb3fb999999999999a");
    expect("return hex(cmsgpack.pack(1/0, -1/0))", "ca7f800000"
                                                   "caff800000");
    expect("return hex(cmsgpack.pack(1e39))", "cb48078287f49c4a1d");
    expect("return string.sub(hex(cmsgpack.pack(0/0)), 1, 2)", "cb");
}
END_TEST

START_TEST(msgpack_strings)
{
    expect("return hex(cmsgpack.pack('', 'ab'))", "a0"
                                                  "a26162");
    expect("return hex(string.sub(cmsgpack.pack(string.rep('x', 31)), 1, 1))", "bf");
    expect("return hex(string.sub(cmsgpack.pack(string.rep('x', 32)), 1, 2))", "d920");
    expect("return hex(string.sub(cmsgpack.pack(string.rep('x', 256)), 1, 3))", "da0100");
    expect("local p = cmsgpack.pack(string.rep('x', 65536))\n"
           "return hex(string.sub(p, 1, 5)) .. ' ' .. #p",
           "db00010000 65541");
}
END_TEST

START_TEST(msgpack_tables)
{
    expect("return hex(cmsgpack.pack({}, {1, 2, 3}, {a = 1}))", "90"
                                                                "93010203"
                                                                "81a16101");
    /* a hole, a zero, a fraction or a string key make a map */
    expect("return hex(string.sub(cmsgpack.pack({1, nil, 3}), 1, 1))", "82");
    expect("return hex(cmsgpack.pack({[0] = 1}, {[1.5] = 1}, {['1'] = 1}))", "810001"
                                                                             "81ca3fc0000001"
                                                                             "81a13101");
    expect("local t = {} for i = 1, 16 do t[i] = i end\n"
           "return hex(string.sub(cmsgpack.pack(t), 1, 4))",
           "dc001001");
    /* nil, functions, userdata-like values encode as nil */
    expect("return hex(cmsgpack.pack(nil, print, true, false))", "c0c0c3c2");
}
END_TEST

START_TEST(msgpack_nesting)
{
    /* tables 16 deep are cut to nil: 16 array headers, then c0 */
    expect("local t = 7 for i = 1, 17 do t = {t} end\n"
           "return hex(cmsgpack.pack(t))",
           "91919191919191919191919191919191c0");
    expect("local t = 7 for i = 1, 16 do t = {t} end\n"
           "return hex(cmsgpack.pack(t))",
           "9191919191919191919191919191919107");
    /* a cycle ends the same way instead of recursing forever */
    expect("local t = {} t[1] = t return hex(cmsgpack.pack(t))",
           "91919191919191919191919191919191c0");
}
END_TEST

START_TEST(msgpack_unpack_values)
{
    expect("return show(cmsgpack.unpack('\\192\\194\\195\\0\\127\\255\\224'))",
           "nil false true n:0 n:127 n:-1 n:-32");
    expect("return show(cmsgpack.unpack('\\204\\255\\205\\1\\0\\208\\255\\209\\128\\0'))",
           "n:255 n:256 n:-1 n:-32768");
    /* uint64 at or above 2^63 comes back through lua_Integer: negative */
    expect("return show(cmsgpack.unpack('\\207\\255\\255\\255\\255\\255\\255\\255\\255'))", "n:-1");
    expect("return show(cmsgpack.unpack('\\217\\3abc\\218\\0\\2ab\\219\\0\\0\\0\\1z'))",
           "s:abc s:ab s:z");
    expect("return show(cmsgpack.unpack('\\147\\1\\192\\3\\129\\161a\\145\\1'))",
           "{n:1=n:1,n:3=n:3} {s:a={n:1=n:1}}");
    expect("return show(cmsgpack.unpack(''))", "");
}
END_TEST

START_TEST(msgpack_round_trip)
{
    expect("local v = {1, 'two', {x = {true, false}}, -5, 1.25, 2^40, -2^40, ''}\n"
           "return show(cmsgpack.unpack(cmsgpack.pack(v))) == show(v) and 'same' or 'differ'",
           "same");
    expect("return show(cmsgpack.unpack(cmsgpack.pack(1, 'a', nil, {})))", "n:1 s:a nil {}");
    expect("local s = string.rep('\\0\\255', 40000)\n"
           "return cmsgpack.unpack(cmsgpack.pack(s)) == s and 'same' or 'differ'",
           "same");
}
END_TEST

START_TEST(msgpack_unpack_stream)
{
    expect("return show(cmsgpack.unpack_one('\\1\\2\\3'))", "n:1 n:1");
    expect("return show(cmsgpack.unpack_one('\\1\\2\\3', 2))", "n:-1 n:3");
    expect("return show(cmsgpack.unpack_one('\\1\\2\\3', 3))", "n:-1");
    expect("return show(cmsgpack.unpack_limit('\\1\\2\\3\\4', 2, 1))", "n:3 n:2 n:3");
    /* limit 0 and offset 0: everything, no offset */
    expect("return show(cmsgpack.unpack_limit('\\1\\2\\3', 0))", "n:1 n:2 n:3");
}
END_TEST

START_TEST(msgpack_errors)
{
    expect("return cmsgpack.pack()", "E:bad argument #0 to 'pack' (MessagePack pack needs input.)");
    expect("local t = {} for i = 1, 4001 do t[i] = i end return cmsgpack.pack(unpack(t))",
           "E:bad argument #0 to 'pack' (Too many arguments for MessagePack pack.)");
    expect("return cmsgpack.unpack('\\193')", "E:Bad data format in input.");
    expect("return cmsgpack.unpack('\\196\\1a')", "E:Bad data format in input.");
    expect("return cmsgpack.unpack('\\146\\1')", "E:Missing bytes in input.");
    expect("return cmsgpack.unpack('\\219\\255\\255\\255\\255ab')", "E:Missing bytes in input.");
    expect("return cmsgpack.unpack('\\129\\192\\1')", "E:table index is nil");
    expect("return cmsgpack.unpack_one('\\1', 2)", "E:Start offset 2 greater than input length 1.");
    expect("return cmsgpack.unpack_limit('\\1\\2\\3', -5, -7)",
           "E:Invalid request to unpack with offset of -7 and limit of 3.");
    expect("return cmsgpack.unpack(string.rep('\\1', 9000))",
           "E:stack overflow (too many return values at once; use unpack_one or unpack_limit "
           "instead.)");
    expect("return cmsgpack.unpack(string.rep('\\145', 5000) .. '\\1')",
           "E:stack overflow (in function mp_decode_to_lua_array)");
    expect("return cmsgpack.unpack()",
           "E:bad argument #1 to 'unpack' (string expected, got no value)");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("lua_libs");
    TCase *st = unit_tcase("struct", 120);
    TCase *mp = unit_tcase("cmsgpack", 120);
    tcase_add_test(st, struct_pack_integers);
    tcase_add_test(st, struct_pack_floats_strings);
    tcase_add_test(st, struct_alignment);
    tcase_add_test(st, struct_unpack_values);
    tcase_add_test(st, struct_round_trip);
    tcase_add_test(st, struct_errors);
    tcase_add_test(mp, msgpack_integers);
    tcase_add_test(mp, msgpack_floats);
    tcase_add_test(mp, msgpack_strings);
    tcase_add_test(mp, msgpack_tables);
    tcase_add_test(mp, msgpack_nesting);
    tcase_add_test(mp, msgpack_unpack_values);
    tcase_add_test(mp, msgpack_round_trip);
    tcase_add_test(mp, msgpack_unpack_stream);
    tcase_add_test(mp, msgpack_errors);
    suite_add_tcase(s, st);
    suite_add_tcase(s, mp);
    return unit_run(s);
}
