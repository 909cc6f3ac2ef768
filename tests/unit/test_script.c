/* test_script.c — unit tests for core/script: the script sink (replies ->
 * Lua values, RESP2 degradation and RESP3 tables), Lua values -> replies
 * (script_lua_to_reply into the recording sink), the sandbox (globals
 * and library tables read-only, the missing-global error) and the
 * math.random generator (the 48-bit sequence of POSIX lrand48). */
#include <lauxlib.h>
#include <lua.h>
#include <stdlib.h>
#include <string.h>

#include "rec_sink.h"
#include "script.h"
#include "unit.h"

static lua_State *L;
static struct reply sr;

static void setup(void)
{
    L = script_lua_new();
    ck_assert_ptr_nonnull(L);
    sr.ops = &script_sink_ops;
    sr.ctx = &g_script_sink;
    sr.nerr = 0;
}

static void teardown(void)
{
    script_lua_close(L);
}

/* The value the sink built, written back as RESP`resp` text. */
static const char *back(int resp)
{
    static struct rec_sink rs;
    struct reply r = {&rec_sink_ops, &rs, resp, 0};
    rec_sink_reset(&rs);
    ck_assert_int_eq(g_script_sink.nvalues, 1);
    ck_assert_int_eq(g_script_sink.depth, 0);
    script_lua_to_reply(L, &r, resp);
    rs.out[rs.outn] = 0;
    return rs.out;
}

static void begin(int resp)
{
    sr.resp = resp;
    script_sink_reset(L);
}

START_TEST(scalars)
{
    begin(2);
    reply_int(&sr, 42);
    ck_assert_str_eq(back(2), "42");
    begin(2);
    reply_bulk(&sr, "hi", 2);
    ck_assert_str_eq(back(2), "\"hi\"");
    begin(2);
    reply_null(&sr); /* false in RESP2 ... */
    ck_assert_str_eq(back(2), "nil");
    begin(3);
    reply_null(&sr); /* ... nil in RESP3 */
    ck_assert_str_eq(back(3), "nil");
    begin(2);
    reply_ok(&sr);
    ck_assert_str_eq(back(2), "+OK");
    begin(2);
    reply_error(&sr, "ERR boom");
    ck_assert(g_script_sink.top_error);
    ck_assert_str_eq(back(2), "-ERR boom");
    begin(2);
    reply_double(&sr, 1.5); /* a string in RESP2 */
    ck_assert_str_eq(back(2), "\"1.5\"");
    begin(3);
    reply_double(&sr, 1.5); /* {double=1.5} in RESP3 */
    ck_assert_str_eq(back(3), "1.5");
    begin(2);
    reply_bool(&sr, true);
    ck_assert_str_eq(back(2), "1");
    begin(3);
    reply_bool(&sr, true);
    ck_assert_str_eq(back(3), "#1");
}
END_TEST

START_TEST(aggregates)
{
    begin(2);
    reply_map(&sr, 2); /* a flat array in RESP2 */
    reply_cstr(&sr, "a");
    reply_int(&sr, 1);
    reply_cstr(&sr, "b");
    reply_array(&sr, 0);
    ck_assert_str_eq(back(2), "*4 \"a\" 1 \"b\" *0");
    begin(3);
    reply_map(&sr, 1); /* {map={a=...}} in RESP3 */
    reply_cstr(&sr, "a");
    reply_array(&sr, 2);
    reply_int(&sr, 1);
    reply_set(&sr, 1);
    reply_cstr(&sr, "x");
    ck_assert_str_eq(back(3), "%1 \"a\" *2 1 ~1 \"x\"");
    begin(2);
    {
        void *h = reply_defer(&sr, AGG_ARRAY);
        reply_int(&sr, 1);
        reply_array(&sr, 1);
        reply_int(&sr, 2);
        reply_set_deferred(&sr, h, 2);
    }
    ck_assert_str_eq(back(2), "*2 1 *1 2");
    begin(2);
    reply_array(&sr, 3); /* a RESP2 null inside an array is false: it stays */
    reply_int(&sr, 1);
    reply_null_array(&sr);
    reply_int(&sr, 3);
    ck_assert_str_eq(back(2), "*3 1 nil 3");
}
END_TEST

static const char *run(const char *code)
{
    static char msg[512];
    if (luaL_loadstring(L, code) || lua_pcall(L, 0, 0, 0)) {
        snprintf(msg, sizeof(msg), "%s", lua_isstring(L, -1) ? lua_tostring(L, -1) : "?");
        lua_pop(L, 1);
        return msg;
    }
    return "";
}

START_TEST(sandbox)
{
    ck_assert(strstr(run("x = 1"), "Attempt to modify a readonly table"));
    ck_assert(strstr(run("return nosuch"),
                     "Script attempted to access nonexistent global variable 'nosuch'"));
    ck_assert(strstr(run("string.x = 1"), "Attempt to modify a readonly table"));
    ck_assert(strstr(run("rawset(_G, 'x', 1)"), "Attempt to modify a readonly table"));
    ck_assert(strstr(run("return os.time()"), "nonexistent global variable 'os'"));
    ck_assert(strstr(run("return loadfile"), "nonexistent global variable 'loadfile'"));
    ck_assert_str_eq(run("local t = {} t.x = 1 assert(('a'):upper() == 'A')"), "");
    ck_assert_str_eq(run("assert(cjson.decode(cjson.encode({1, 2}))[2] == 2)"), "");
    ck_assert_str_eq(run("assert(bit.band(12, 10) == 8)"), "");
}
END_TEST

START_TEST(random48)
{
    int i;
    script_srand48(12345);
    srand48(12345);
    for (i = 0; i < 1000; i++) {
        lua_getglobal(L, "math");
        lua_getfield(L, -1, "random");
        lua_call(L, 0, 1);
        {
            double want = (double)(lrand48() % 2147483647) / 2147483647.0;
            ck_assert(lua_tonumber(L, -1) == want);
        }
        lua_pop(L, 2);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("script");
    TCase *tc = unit_tcase("script", 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, scalars);
    tcase_add_test(tc, aggregates);
    tcase_add_test(tc, sandbox);
    tcase_add_test(tc, random48);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(suite());
}
