/* script_convert.c — values between Redis replies and Lua, by Redis 7.0's
 * tables. The script client's reply sink (script_sink_ops) builds the Lua
 * value of a command's reply as the handler writes it: RESP2 (the
 * default) degrades as a RESP2 client would see it (map -> flat array,
 * double -> string, null -> false, boolean -> 1/0), RESP3 (redis.setresp(3))
 * keeps {map=}, {set=}, {double=}, {big_number=}, {verbatim_string=},
 * nil and booleans; status -> {ok=}, error -> {err=}. script_lua_to_reply
 * writes a script's return value to the caller's sink. */
#include <lauxlib.h>
#include <lua.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "script.h"
#include "script_ldb.h"
#include "util.h"

struct script_sink g_script_sink;

static struct ssink_frame *frames;
static int frames_cap;

#define S(r) ((struct script_sink *)(r)->ctx)

void script_sink_reset(lua_State *L)
{
    g_script_sink.L = L;
    g_script_sink.depth = 0;
    g_script_sink.nvalues = 0;
    g_script_sink.top_error = false;
}

static struct ssink_frame *top_frame(struct script_sink *s)
{
    return s->depth > 0 ? &frames[s->depth - 1] : NULL;
}

/* Wrap the table on top of the stack as {field = table}. */
static void wrap(lua_State *L, const char *field)
{
    lua_newtable(L);
    lua_pushstring(L, field);
    lua_pushvalue(L, -3);
    lua_rawset(L, -3);
    lua_remove(L, -2);
}

/* A value is complete on top of the stack: put it in its aggregate, and
 * close the aggregates it completes. */
static void value_done(struct script_sink *s)
{
    lua_State *L = s->L;
    for (;;) {
        struct ssink_frame *f = top_frame(s);
        if (!f) {
            s->nvalues++;
            return;
        }
        switch (f->kind) {
        case AGG_MAP:
            if (!f->have_key) {
                f->have_key = true;
                return; /* the key waits on the stack for its value */
            }
            f->have_key = false;
            if (lua_isnil(L, -2))
                lua_pop(L, 2);
            else
                lua_rawset(L, -3);
            break;
        case AGG_SET:
            if (lua_isnil(L, -1)) {
                lua_pop(L, 1);
            } else {
                lua_pushboolean(L, 1);
                lua_rawset(L, -3);
            }
            break;
        case AGG_ATTR:
            lua_pop(L, 1); /* attributes are not given to scripts */
            break;
        default:
            lua_rawseti(L, -2, ++f->idx);
            break;
        }
        if (f->remaining > 0) f->remaining--;
        if (f->remaining != 0) return;
        /* The aggregate is complete. */
        s->depth--;
        if (f->kind == AGG_ATTR) {
            lua_pop(L, 1);
            return; /* the value it annotates comes next */
        }
        if (f->kind == AGG_MAP) wrap(L, "map");
        if (f->kind == AGG_SET) wrap(L, "set");
    }
}

static void push_frame(struct script_sink *s, int kind, long long n)
{
    struct ssink_frame *f;
    lua_checkstack(s->L, 8);
    if (s->depth == frames_cap) {
        frames_cap = frames_cap ? frames_cap * 2 : 16;
        frames = xrealloc(frames, sizeof(*frames) * (size_t)frames_cap);
    }
    f = &frames[s->depth++];
    f->kind = kind;
    f->remaining = n;
    f->idx = 0;
    f->have_key = false;
    lua_newtable(s->L);
    if (n == 0) {
        f->remaining = 1; /* closes at once */
        s->depth--;
        if (kind == AGG_ATTR) {
            lua_pop(s->L, 1);
            return;
        }
        if (kind == AGG_MAP) wrap(s->L, "map");
        if (kind == AGG_SET) wrap(s->L, "set");
        value_done(s);
    }
}

static int resp_of(struct reply *r)
{
    return r->resp;
}

static void field_table(lua_State *L, const char *field, const char *p, size_t n)
{
    lua_newtable(L);
    lua_pushstring(L, field);
    lua_pushlstring(L, p, n);
    lua_rawset(L, -3);
}

static void k_status(struct reply *r, const char *p, size_t n)
{
    lua_checkstack(S(r)->L, 4);
    field_table(S(r)->L, "ok", p, n);
    value_done(S(r));
}

static void k_error(struct reply *r, const char *p, size_t n)
{
    struct script_sink *s = S(r);
    if (ldb_stepping()) { /* a debugging session shows it (as Redis's luaPushError) */
        char *e = xmalloc(n + 2);
        e[0] = '-';
        memcpy(e + 1, p, n);
        ldb_log_error(e, n + 1);
        free(e);
    }
    lua_checkstack(s->L, 4);
    field_table(s->L, "err", p, n);
    /* Counted once already (INFO errorstats): not again when the script
     * returns or raises it, as Redis marks it. */
    lua_pushstring(s->L, "ignore_error_stats_update");
    lua_pushboolean(s->L, 1);
    lua_rawset(s->L, -3);
    if (s->depth == 0 && s->nvalues == 0) s->top_error = true;
    value_done(s);
}

static void k_integer(struct reply *r, long long v)
{
    lua_checkstack(S(r)->L, 2);
    lua_pushnumber(S(r)->L, (lua_Number)v);
    value_done(S(r));
}

static void k_bulk(struct reply *r, const char *p, size_t n)
{
    lua_checkstack(S(r)->L, 2);
    lua_pushlstring(S(r)->L, p, n);
    value_done(S(r));
}

static void k_null(struct reply *r)
{
    lua_checkstack(S(r)->L, 2);
    if (resp_of(r) == 2)
        lua_pushboolean(S(r)->L, 0);
    else
        lua_pushnil(S(r)->L);
    value_done(S(r));
}

static void k_aggregate(struct reply *r, enum reply_agg kind, long long n)
{
    if (resp_of(r) == 2) {
        if (kind == AGG_MAP || kind == AGG_ATTR) n *= 2;
        push_frame(S(r), kind == AGG_ATTR ? AGG_ATTR : -1, n);
        return;
    }
    if (kind == AGG_ATTR) n *= 2;
    push_frame(S(r), kind == AGG_PUSH ? -1 : (int)kind, n);
}

static void k_double(struct reply *r, double d)
{
    lua_State *L = S(r)->L;
    lua_checkstack(L, 4);
    if (resp_of(r) == 2) {
        char buf[64];
        int n = util_d2str(buf, sizeof(buf), d);
        lua_pushlstring(L, buf, (size_t)n);
    } else {
        lua_newtable(L);
        lua_pushstring(L, "double");
        lua_pushnumber(L, d);
        lua_rawset(L, -3);
    }
    value_done(S(r));
}

static void k_bool(struct reply *r, bool b)
{
    lua_State *L = S(r)->L;
    lua_checkstack(L, 2);
    if (resp_of(r) == 2)
        lua_pushnumber(L, b ? 1 : 0);
    else
        lua_pushboolean(L, b);
    value_done(S(r));
}

static void k_verbatim(struct reply *r, const char *fmt, const char *p, size_t n)
{
    lua_State *L = S(r)->L;
    lua_checkstack(L, 6);
    if (resp_of(r) == 2) {
        lua_pushlstring(L, p, n);
    } else {
        lua_newtable(L);
        lua_pushstring(L, "verbatim_string");
        lua_newtable(L);
        lua_pushstring(L, "format");
        lua_pushstring(L, fmt);
        lua_rawset(L, -3);
        lua_pushstring(L, "string");
        lua_pushlstring(L, p, n);
        lua_rawset(L, -3);
        lua_rawset(L, -3);
    }
    value_done(S(r));
}

static void k_bignum(struct reply *r, const char *p, size_t n)
{
    lua_State *L = S(r)->L;
    lua_checkstack(L, 4);
    if (resp_of(r) == 2)
        lua_pushlstring(L, p, n);
    else
        field_table(L, "big_number", p, n);
    value_done(S(r));
}

static void *k_defer(struct reply *r, enum reply_agg kind)
{
    struct script_sink *s = S(r);
    k_aggregate(r, kind, -1);
    return (void *)(intptr_t)s->depth;
}

static void k_set_deferred(struct reply *r, void *handle, long long n)
{
    struct script_sink *s = S(r);
    struct ssink_frame *f;
    (void)n;
    if ((intptr_t)handle != s->depth) return; /* not the innermost open aggregate */
    f = top_frame(s);
    if (f->kind == AGG_MAP && f->have_key) lua_pop(s->L, 1);
    s->depth--;
    if (f->kind == AGG_ATTR) {
        lua_pop(s->L, 1);
        return;
    }
    if (f->kind == AGG_MAP) wrap(s->L, "map");
    if (f->kind == AGG_SET) wrap(s->L, "set");
    value_done(s);
}

const struct reply_ops script_sink_ops = {
    .status = k_status,
    .error = k_error,
    .integer = k_integer,
    .bulk = k_bulk,
    .null = k_null,
    .null_array = k_null,
    .aggregate = k_aggregate,
    .dbl = k_double,
    .boolean = k_bool,
    .verbatim = k_verbatim,
    .bignum = k_bignum,
    .defer = k_defer,
    .set_deferred = k_set_deferred,
};

/* ---- Lua -> the caller's reply ---- */

/* A copy of s with \r and \n as spaces (status and error lines). */
static char *one_line(const char *s, size_t n)
{
    char *o = xmalloc(n + 1);
    size_t i;
    for (i = 0; i < n; i++)
        o[i] = (s[i] == '\r' || s[i] == '\n') ? ' ' : s[i];
    o[n] = 0;
    return o;
}

/* t[field] of the table on top when it has type `type` (left pushed), else
 * nothing pushed and false. */
static bool get_field(lua_State *L, const char *field, int type)
{
    lua_pushstring(L, field);
    lua_rawget(L, -2);
    if (lua_type(L, -1) == type) return true;
    lua_pop(L, 1);
    return false;
}

void script_reply_error(struct reply *r, const char *text, bool counted)
{
    if (!counted) {
        reply_error(r, text);
        return;
    }
    r->nerr++; /* a failed call, not another error in INFO errorstats */
    r->ops->error(r, text, strlen(text));
}

static bool counted_error(lua_State *L)
{
    bool b;
    lua_getfield(L, -1, "ignore_error_stats_update");
    b = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return b;
}

/* A Lua number as an integer reply: its integer part, and where that does
 * not fit a long long (NaN, infinities, 2^63 and up, below -2^63) the
 * value Redis 7.0 replies there, -9223372036854775808 (its C cast on
 * x86-64; in C the cast itself is undefined). */
static long long lua_number_to_ll(lua_Number d)
{
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0)) return LLONG_MIN;
    return (long long)d;
}

static void table_to_reply(lua_State *L, struct reply *r, int lua_resp)
{
    size_t n;
    const char *p;
    if (get_field(L, "err", LUA_TSTRING)) {
        char *e;
        p = lua_tolstring(L, -1, &n);
        e = one_line(p, n);
        lua_pop(L, 1);
        script_reply_error(r, e, counted_error(L));
        free(e);
        return;
    }
    if (get_field(L, "ok", LUA_TSTRING)) {
        char *e;
        p = lua_tolstring(L, -1, &n);
        e = one_line(p, n);
        r->ops->status(r, e, n);
        free(e);
        lua_pop(L, 1);
        return;
    }
    if (get_field(L, "double", LUA_TNUMBER)) {
        reply_double(r, lua_tonumber(L, -1));
        lua_pop(L, 1);
        return;
    }
    if (get_field(L, "big_number", LUA_TSTRING)) {
        char *e;
        p = lua_tolstring(L, -1, &n);
        e = one_line(p, n);
        r->ops->bignum(r, e, n);
        free(e);
        lua_pop(L, 1);
        return;
    }
    if (get_field(L, "verbatim_string", LUA_TTABLE)) {
        if (get_field(L, "format", LUA_TSTRING)) {
            const char *fmt = lua_tostring(L, -1);
            lua_pushstring(L, "string");
            lua_rawget(L, -3);
            if (lua_type(L, -1) == LUA_TSTRING) {
                p = lua_tolstring(L, -1, &n);
                char f3[4] = "   ";
                memcpy(f3, fmt, strlen(fmt) < 3 ? strlen(fmt) : 3);
                r->ops->verbatim(r, f3, p, n);
                lua_pop(L, 3);
                return;
            }
            lua_pop(L, 2);
        }
        lua_pop(L, 1);
    }
    if (get_field(L, "map", LUA_TTABLE)) {
        long long cnt = 0;
        lua_pushnil(L);
        while (lua_next(L, -2)) {
            lua_pop(L, 1);
            cnt++;
        }
        reply_map(r, cnt);
        lua_pushnil(L);
        while (lua_next(L, -2)) {
            lua_pushvalue(L, -2);
            script_lua_to_reply(L, r, lua_resp); /* key */
            script_lua_to_reply(L, r, lua_resp); /* value */
        }
        lua_pop(L, 1);
        return;
    }
    if (get_field(L, "set", LUA_TTABLE)) {
        long long cnt = 0;
        lua_pushnil(L);
        while (lua_next(L, -2)) {
            lua_pop(L, 1);
            cnt++;
        }
        reply_set(r, cnt);
        lua_pushnil(L);
        while (lua_next(L, -2)) {
            lua_pop(L, 1);
            lua_pushvalue(L, -1);
            script_lua_to_reply(L, r, lua_resp);
        }
        lua_pop(L, 1);
        return;
    }
    {
        long long cnt = 0, j;
        for (;;) {
            lua_rawgeti(L, -1, (int)(cnt + 1));
            if (lua_isnil(L, -1)) {
                lua_pop(L, 1);
                break;
            }
            lua_pop(L, 1);
            cnt++;
        }
        reply_array(r, cnt);
        for (j = 1; j <= cnt; j++) {
            lua_rawgeti(L, -1, (int)j);
            script_lua_to_reply(L, r, lua_resp);
        }
    }
}

void script_lua_to_reply(lua_State *L, struct reply *r, int lua_resp)
{
    if (!lua_checkstack(L, 4)) {
        reply_error(r, "ERR reached lua stack limit");
        lua_pop(L, 1);
        return;
    }
    switch (lua_type(L, -1)) {
    case LUA_TSTRING: {
        size_t n;
        const char *p = lua_tolstring(L, -1, &n);
        reply_bulk(r, p, n);
        break;
    }
    case LUA_TBOOLEAN:
        if (lua_resp == 2) {
            if (lua_toboolean(L, -1))
                reply_int(r, 1);
            else
                reply_null(r);
        } else {
            reply_bool(r, lua_toboolean(L, -1));
        }
        break;
    case LUA_TNUMBER:
        reply_int(r, lua_number_to_ll(lua_tonumber(L, -1)));
        break;
    case LUA_TTABLE:
        table_to_reply(L, r, lua_resp);
        break;
    default:
        reply_null(r);
        break;
    }
    lua_pop(L, 1);
}
