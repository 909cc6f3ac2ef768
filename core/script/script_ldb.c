/* script_ldb.c — the Lua debugger (script_ldb.h), as Redis 7.0's LDB:
 * SCRIPT DEBUG YES (the next EVAL runs in a forked child, so its changes
 * are rolled back; the parent drops the client), SYNC (the server blocks
 * while the session runs; changes are kept), NO. A session's state (one at
 * a time per process), the line hook (steps, breakpoints,
 * redis.breakpoint(), the timeout stop), the debugger's command loop over
 * the client's blocking seam, and its log: lines sent as one array of
 * status replies at every stop, trimmed to maxlen where Redis trims. */
#include "script_ldb.h"

#include <ctype.h>
#include <errno.h>
#include <lauxlib.h>
#include <lua.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client.h"
#include "config.h"
#include "log.h"
#include "script.h"
#include "script_ldb_text.h"
#include "util.h"

#define LDB_BREAKPOINTS_MAX 64
#define LDB_MAXLEN_DEFAULT 256
#define LDB_MAX_VALUES_DEPTH (LUA_MINSTACK - 2)
#define LDB_MAX_CHILDREN 64

struct strv {
    char **v;
    size_t *len;
    int n, cap;
};

static struct {
    struct client *c;    /* the client of the session (or of SCRIPT DEBUG) */
    struct reply *out;   /* where the EVAL's reply goes */
    bool active, forked; /* a session runs; in a forked child */
    bool ended;          /* "<endsession>" was sent */
    char **src;          /* the script's lines */
    int lines;
    int currentline;
    bool step, luabp;
    int bp[LDB_BREAKPOINTS_MAX], bpcount;
    long maxlen;
    bool maxlen_hint_sent;
    struct strv logs;
    char *early_err; /* an error replied before the script ran */
} ldb;

static pid_t children[LDB_MAX_CHILDREN];
static int nchildren;

/* ---- strings and the log ---- */

/* Take a malloc'd line of n bytes (binary: a command's arguments), NUL
 * after them; kept at its size (an obuf's room is given back). */
static void log_take_n(char *line, size_t n)
{
    struct strv *l = &ldb.logs;
    line = xrealloc(line, n + 1);
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->v = xrealloc(l->v, sizeof(*l->v) * (size_t)l->cap);
        l->len = xrealloc(l->len, sizeof(*l->len) * (size_t)l->cap);
    }
    l->v[l->n] = line;
    l->len[l->n++] = n;
}

static void log_take(char *line)
{
    log_take_n(line, strlen(line));
}

static void log_str(const char *s)
{
    log_take(xstrdup(s));
}

static void log_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void log_fmt(const char *fmt, ...)
{
    struct obuf b = {0};
    va_list ap;
    va_start(ap, fmt);
    obuf_vprintf(&b, fmt, ap);
    va_end(ap);
    log_take_n(b.buf, b.len);
}

/* A logged value (a reply, a variable): trimmed past maxlen, with a hint
 * the first time. Takes b's string. */
static void log_maxlen(struct obuf *b)
{
    bool trimmed = false;
    if (!b->buf) obuf_cat(b, "", 0);
    if (ldb.maxlen && b->len > (size_t)ldb.maxlen) {
        b->len = (size_t)ldb.maxlen;
        b->buf[b->len] = 0;
        obuf_cat(b, " ...", 4);
        trimmed = true;
    }
    log_take_n(b->buf, b->len);
    b->buf = NULL;
    if (trimmed && !ldb.maxlen_hint_sent) {
        ldb.maxlen_hint_sent = true;
        log_str("<hint> The above reply was trimmed. Use 'maxlen 0' to disable trimming.");
    }
}

static void logs_clear(void)
{
    int i;
    for (i = 0; i < ldb.logs.n; i++)
        free(ldb.logs.v[i]);
    ldb.logs.n = 0;
}

/* Every pending line, as one array of status replies, written now, ahead
 * of any reply the client is still owed (as Redis writes its log straight
 * to the socket: the reply of a command before the EVAL, EXEC's header,
 * come after the session). */
static void logs_send(void)
{
    const struct client_session_ops *s = ldb.c->adapter->session;
    struct reply *r = &ldb.c->reply;
    size_t mark = s->mark(ldb.c);
    int i;
    reply_array(r, ldb.logs.n);
    for (i = 0; i < ldb.logs.n; i++) {
        char *line = ldb.logs.v[i];
        size_t j, n = ldb.logs.len[i];
        for (j = 0; j < n; j++)
            if (line[j] == '\r' || line[j] == '\n') line[j] = ' ';
        r->ops->status(r, line, n);
    }
    logs_clear();
    s->write_since(ldb.c, mark);
}

/* ---- the source ---- */

static void src_free(void)
{
    int i;
    for (i = 0; i < ldb.lines; i++)
        free(ldb.src[i]);
    free(ldb.src);
    ldb.src = NULL;
    ldb.lines = 0;
}

/* The script's lines: trailing newlines dropped, split at each "\n". */
static void src_load(const char *body, size_t n)
{
    size_t i, start = 0;
    src_free();
    while (n && (body[n - 1] == '\n' || body[n - 1] == '\r'))
        n--;
    ldb.src = xmalloc(sizeof(*ldb.src) * (n + 1));
    for (i = 0; i <= n; i++) {
        if (i == n || body[i] == '\n') {
            char *line = xmalloc(i - start + 1);
            memcpy(line, body + start, i - start);
            line[i - start] = 0;
            ldb.src[ldb.lines++] = line;
            start = i + 1;
        }
    }
}

static const char *src_line(int line)
{
    int idx = line - 1;
    if (idx < 0 || idx >= ldb.lines) return "<out of range source code line>";
    return ldb.src[idx];
}

static bool is_bp(int line)
{
    int i;
    for (i = 0; i < ldb.bpcount; i++)
        if (ldb.bp[i] == line) return true;
    return false;
}

static bool add_bp(int line)
{
    if (line <= 0 || line > ldb.lines) return false;
    if (is_bp(line) || ldb.bpcount == LDB_BREAKPOINTS_MAX) return false;
    ldb.bp[ldb.bpcount++] = line;
    return true;
}

static bool del_bp(int line)
{
    int i;
    for (i = 0; i < ldb.bpcount; i++) {
        if (ldb.bp[i] == line) {
            ldb.bp[i] = ldb.bp[--ldb.bpcount];
            return true;
        }
    }
    return false;
}

static void log_source_line(int line)
{
    bool cur = ldb.currentline == line, bp = is_bp(line);
    const char *prefix = cur && bp ? "->#" : cur ? "-> " : bp ? "  #" : "   ";
    struct obuf b = {0};
    obuf_printf(&b, "%s%-3d ", prefix, line);
    obuf_cats(&b, src_line(line));
    log_take(b.buf);
}

static void list_source(int around, int context)
{
    int j;
    for (j = 1; j <= ldb.lines; j++) {
        if (around != 0 && abs(around - j) > context) continue;
        log_source_line(j);
    }
}

/* ---- Lua values as text ---- */

static void cat_value(struct obuf *b, lua_State *L, int idx, int level)
{
    int t = lua_type(L, idx);
    if (level++ == LDB_MAX_VALUES_DEPTH) {
        obuf_cats(b, "<max recursion level reached! Nested table?>");
        return;
    }
    switch (t) {
    case LUA_TSTRING: {
        size_t n;
        const char *p = lua_tolstring(L, idx, &n);
        ldbt_repr(b, p, n);
        break;
    }
    case LUA_TBOOLEAN:
        obuf_cats(b, lua_toboolean(L, idx) ? "true" : "false");
        break;
    case LUA_TNUMBER:
        obuf_printf(b, "%g", (double)lua_tonumber(L, idx));
        break;
    case LUA_TNIL:
        obuf_cats(b, "nil");
        break;
    case LUA_TTABLE: {
        /* Both forms at once: an array's "{v; v}" and "{[k]=v; [k]=v}". */
        struct obuf arr = {0}, full = {0};
        int expected = 1;
        bool is_array = true;
        if (!lua_checkstack(L, 3)) {
            obuf_cats(b, "<max recursion level reached! Nested table?>");
            return;
        }
        lua_pushnil(L);
        while (lua_next(L, idx - 1)) {
            if (is_array && (lua_type(L, -2) != LUA_TNUMBER || lua_tonumber(L, -2) != expected))
                is_array = false;
            cat_value(&arr, L, -1, level);
            obuf_cat(&arr, "; ", 2);
            obuf_cat(&full, "[", 1);
            cat_value(&full, L, -2, level);
            obuf_cat(&full, "]=", 2);
            cat_value(&full, L, -1, level);
            obuf_cat(&full, "; ", 2);
            lua_pop(L, 1);
            expected++;
        }
        if (arr.len) arr.len -= 2;
        if (full.len) full.len -= 2;
        obuf_cat(b, "{", 1);
        if (is_array)
            obuf_cat(b, arr.buf ? arr.buf : "", arr.len);
        else
            obuf_cat(b, full.buf ? full.buf : "", full.len);
        obuf_cat(b, "}", 1);
        free(arr.buf);
        free(full.buf);
        break;
    }
    case LUA_TFUNCTION:
    case LUA_TUSERDATA:
    case LUA_TTHREAD:
    case LUA_TLIGHTUSERDATA: {
        const char *name = t == LUA_TFUNCTION   ? "function"
                           : t == LUA_TUSERDATA ? "userdata"
                           : t == LUA_TTHREAD   ? "thread"
                                                : "light-userdata";
        obuf_printf(b, "\"%s@%p\"", name, lua_topointer(L, idx));
        break;
    }
    default:
        obuf_cats(b, "\"<unknown-lua-type>\"");
    }
}

/* The value on top of the stack, after prefix, trimmed at maxlen. */
static void log_stack_value(lua_State *L, const char *prefix)
{
    struct obuf b = {0};
    obuf_cats(&b, prefix);
    cat_value(&b, L, -1, 0);
    log_maxlen(&b);
}

/* ---- the hooks the scripting code calls ---- */

bool ldb_active(void)
{
    return ldb.active;
}

bool ldb_stepping(void)
{
    return ldb.active && ldb.step;
}

void ldb_log_command(int argc, const struct argv_ref *argv)
{
    struct obuf b = {0};
    int j;
    obuf_cats(&b, "<redis>");
    for (j = 0; j < argc; j++) {
        if (j == 10) { /* Redis counts one fewer than remain */
            obuf_printf(&b, " ... (%d more)", argc - j - 1);
            break;
        }
        obuf_cat(&b, " ", 1);
        obuf_cat(&b, argv[j].p, argv[j].n);
    }
    log_take_n(b.buf, b.len);
}

void ldb_log_reply(struct obuf *t)
{
    log_maxlen(t);
}

void ldb_log_error(const char *msg, size_t n)
{
    struct obuf b = {0};
    obuf_cats(&b, "<error> ");
    obuf_cat(&b, msg, n);
    log_take(b.buf);
}

int ldb_lua_debug(lua_State *L)
{
    struct obuf b = {0};
    int argc = lua_gettop(L);
    if (!ldb.active) return 0;
    obuf_printf(&b, "<debug> line %d: ", ldb.currentline);
    while (argc--) {
        cat_value(&b, L, -1 - argc, 0);
        if (argc != 0) obuf_cat(&b, ", ", 2);
    }
    log_take(b.buf);
    return 0;
}

int ldb_lua_breakpoint(lua_State *L)
{
    if (ldb.active) ldb.luabp = true;
    lua_pushboolean(L, ldb.active);
    return 1;
}

/* ---- the debugger's commands ---- */

static void dbg_help(void)
{
    static const char *const lines[] = {
        "Redis Lua debugger help:",
        "[h]elp               Show this help.",
        "[s]tep               Run current line and stop again.",
        "[n]ext               Alias for step.",
        "[c]ontinue           Run till next breakpoint.",
        "[l]ist               List source code around current line.",
        "[l]ist [line]        List source code around [line].",
        "                     line = 0 means: current position.",
        "[l]ist [line] [ctx]  In this form [ctx] specifies how many lines",
        "                     to show before/after [line].",
        "[w]hole              List all source code. Alias for 'list 1 1000000'.",
        "[p]rint              Show all the local variables.",
        "[p]rint <var>        Show the value of the specified variable.",
        "                     Can also show global vars KEYS and ARGV.",
        "[b]reak              Show all breakpoints.",
        "[b]reak <line>       Add a breakpoint to the specified line.",
        "[b]reak -<line>      Remove breakpoint from the specified line.",
        "[b]reak 0            Remove all breakpoints.",
        "[t]race              Show a backtrace.",
        "[e]val <code>        Execute some Lua code (in a different callframe).",
        "[r]edis <cmd>        Execute a Redis command.",
        "[m]axlen [len]       Trim logged Redis replies and Lua var dumps to len.",
        "                     Specifying zero as <len> means unlimited.",
        "[a]bort              Stop the execution of the script. In sync",
        "                     mode dataset changes will be retained.",
        "",
        "Debugger functions you can call from Lua scripts:",
        "redis.debug()        Produce logs in the debugger console.",
        "redis.breakpoint()   Stop execution like if there was a breakpoint in the",
        "                     next line of code.",
        NULL,
    };
    int i;
    for (i = 0; lines[i]; i++)
        log_str(lines[i]);
}

static void dbg_print(lua_State *L, const char *var)
{
    lua_Debug ar;
    int level = 0;
    while (lua_getstack(L, level++, &ar)) {
        const char *name;
        int i = 1;
        while ((name = lua_getlocal(L, &ar, i++)) != NULL) {
            if (!strcmp(var, name)) {
                log_stack_value(L, "<value> ");
                lua_pop(L, 1);
                return;
            }
            lua_pop(L, 1);
        }
    }
    if (!strcmp(var, "ARGV") || !strcmp(var, "KEYS")) {
        lua_getglobal(L, var);
        log_stack_value(L, "<value> ");
        lua_pop(L, 1);
    } else {
        log_str("No such variable.");
    }
}

static void dbg_print_all(lua_State *L)
{
    lua_Debug ar;
    int vars = 0;
    if (lua_getstack(L, 0, &ar)) {
        const char *name;
        int i = 1;
        while ((name = lua_getlocal(L, &ar, i++)) != NULL) {
            if (!strstr(name, "(*temporary)")) {
                struct obuf p = {0};
                obuf_printf(&p, "<value> %s = ", name);
                log_stack_value(L, p.buf);
                free(p.buf);
                vars++;
            }
            lua_pop(L, 1);
        }
    }
    if (!vars) log_str("No local variables in the current context.");
}

/* Redis's string2l: an optional '-', digits, no leading zero, fits a long. */
/* Redis keeps a breakpoint's line in an int: a longer number given to
 * `break` is cut to its low 32 bits there, as it is here. */
static int low_int(unsigned long long v)
{
    return (int)(unsigned)(v & 0xffffffffULL);
}

static void dbg_break(char **argv, size_t *lens, int argc)
{
    int j;
    if (argc == 1) {
        if (!ldb.bpcount) {
            log_str("No breakpoints set. Use 'b <line>' to add one.");
            return;
        }
        log_fmt("%d breakpoints set:", ldb.bpcount);
        for (j = 0; j < ldb.bpcount; j++)
            log_source_line(ldb.bp[j]);
        return;
    }
    for (j = 1; j < argc; j++) {
        long long line;
        if (!util_str2ll(argv[j], lens[j], &line)) {
            struct obuf t = {0};
            obuf_cats(&t, "Invalid argument:'");
            obuf_cats(&t, argv[j]);
            obuf_cats(&t, "'");
            log_take(t.buf);
        } else if (line == 0) {
            ldb.bpcount = 0;
            log_str("All breakpoints removed.");
        } else if (line > 0) {
            int l = low_int((unsigned long long)line);
            if (ldb.bpcount == LDB_BREAKPOINTS_MAX)
                log_str("Too many breakpoints set.");
            else if (add_bp(l))
                list_source(l, 1);
            else
                log_str("Wrong line number.");
        } else {
            if (del_bp(low_int(0ULL - (unsigned long long)line)))
                log_str("Breakpoint removed.");
            else
                log_str("No breakpoint in the specified line.");
        }
    }
}

static void dbg_trace(lua_State *L)
{
    lua_Debug ar;
    int level = 0;
    while (lua_getstack(L, level, &ar)) {
        lua_getinfo(L, "Snl", &ar);
        if (strstr(ar.short_src, "user_script")) {
            log_fmt("%s %s:", level == 0 ? "In" : "From", ar.name ? ar.name : "top level");
            log_source_line(ar.currentline);
        }
        level++;
    }
    /* Redis's stack has a frame under the script's that ours does not:
     * it reports no stack only when there is none at all. */
    if (level == 0) log_str("<error> Can't retrieve Lua stack.");
}

static void log_lua_error(lua_State *L)
{
    struct obuf b = {0};
    obuf_cats(&b, "<error> ");
    if (lua_istable(L, -1)) {
        lua_getfield(L, -1, "err");
        if (lua_isstring(L, -1)) obuf_cats(&b, lua_tostring(L, -1));
        lua_pop(L, 1);
    } else if (lua_isstring(L, -1)) {
        obuf_cats(&b, lua_tostring(L, -1));
    }
    log_take(b.buf);
}

static void dbg_eval(lua_State *L, char **argv, size_t *lens, int argc)
{
    struct obuf code = {0}, expr = {0};
    int j;
    for (j = 1; j < argc; j++) {
        if (j > 1) obuf_cat(&code, " ", 1);
        obuf_cat(&code, argv[j], lens[j]);
    }
    if (!code.buf) obuf_cat(&code, "", 0);
    obuf_cats(&expr, "return ");
    obuf_cat(&expr, code.buf, code.len);
    if (script_lua_load(L, expr.buf, expr.len, "@ldb_eval")) {
        lua_pop(L, 1);
        if (script_lua_load(L, code.buf, code.len, "@ldb_eval")) {
            log_lua_error(L);
            lua_pop(L, 1);
            goto out;
        }
    }
    if (lua_pcall(L, 0, 1, 0)) {
        log_lua_error(L);
        lua_pop(L, 1);
        goto out;
    }
    log_stack_value(L, "<retval> ");
    lua_pop(L, 1);
out:
    free(code.buf);
    free(expr.buf);
}

static void dbg_redis(lua_State *L, char **argv, size_t *lens, int argc)
{
    int j;
    if (!lua_checkstack(L, argc + 1)) {
        log_str("<reply> \"max lua stack reached\"");
        return;
    }
    lua_getglobal(L, "redis");
    lua_getfield(L, -1, "call");
    for (j = 1; j < argc; j++)
        lua_pushlstring(L, argv[j], lens[j]);
    ldb.step = true; /* redis.call logs the command and its reply */
    lua_pcall(L, argc - 1, 1, 0);
    ldb.step = false;
    lua_pop(L, 2);
}

static void dbg_maxlen(char **argv, int argc)
{
    if (argc == 2) {
        int v = atoi(argv[1]);
        ldb.maxlen_hint_sent = true;
        if (v != 0 && v <= 60) v = 60;
        ldb.maxlen = v;
    }
    if (ldb.maxlen)
        log_fmt("<value> replies are truncated at %d bytes.", (int)ldb.maxlen);
    else
        log_str("<value> replies are unlimited.");
}

static bool is(const char *w, const char *a, const char *b)
{
    return !strcasecmp(w, a) || !strcasecmp(w, b);
}

/* Raise an error to the script from the debugger (abort, a broken
 * request): {err="ERR msg"}, logged as "<error>" when stepping. */
static int raise_error(lua_State *L, const char *msg)
{
    script_push_error(L, msg, strlen(msg));
    return lua_error(L);
}

/* Run the client's debugger commands until one resumes the script.
 * false: the client is gone (the script then runs to its end). */
static bool repl(lua_State *L)
{
    const struct client_session_ops *s = ldb.c->adapter->session;
    for (;;) {
        char **argv = NULL;
        size_t *lens = NULL;
        int argc = 0, r = s->read(ldb.c, &argc, &argv, &lens);
        bool resume = false;
        if (r == 0) {
            ldb.step = false;
            ldb.bpcount = 0;
            return false;
        }
        if (r == -1) raise_error(L, "protocol error");
        if (r == -2) raise_error(L, "max client buffer reached");
        if (is(argv[0], "h", "help")) {
            dbg_help();
        } else if (is(argv[0], "s", "step") || is(argv[0], "n", "next")) {
            ldb.step = true;
            resume = true;
        } else if (is(argv[0], "c", "continue")) {
            resume = true;
        } else if (is(argv[0], "t", "trace")) {
            dbg_trace(L);
        } else if (is(argv[0], "m", "maxlen")) {
            dbg_maxlen(argv, argc);
        } else if (is(argv[0], "b", "break")) {
            dbg_break(argv, lens, argc);
        } else if (is(argv[0], "e", "eval")) {
            dbg_eval(L, argv, lens, argc);
        } else if (is(argv[0], "a", "abort")) {
            s->free_request(argc, argv, lens);
            raise_error(L, "script aborted for user request");
        } else if (argc > 1 && is(argv[0], "r", "redis")) {
            dbg_redis(L, argv, lens, argc);
        } else if (is(argv[0], "p", "print")) {
            if (argc == 2)
                dbg_print(L, argv[1]);
            else
                dbg_print_all(L);
        } else if (is(argv[0], "l", "list")) {
            int around = ldb.currentline, ctx = 5;
            if (argc > 1) {
                int num = atoi(argv[1]);
                if (num > 0) around = num;
            }
            if (argc > 2) ctx = atoi(argv[2]);
            list_source(around, ctx);
        } else if (is(argv[0], "w", "whole")) {
            list_source(1, 1000000);
        } else {
            log_str("<error> Unknown Redis Lua debugger command or wrong number of arguments.");
        }
        s->free_request(argc, argv, lens);
        if (resume) return true;
        logs_send();
    }
}

/* Every line of the script (and every 100,000 instructions: a stop once
 * the script ran past busy-reply-threshold, 5s when that is 0). */
static void line_hook(lua_State *L, lua_Debug *ar)
{
    struct script_run *run = g_script_run;
    bool bp, timeout = false;
    lua_getstack(L, 0, ar);
    lua_getinfo(L, "Sl", ar);
    ldb.currentline = ar->currentline;
    bp = is_bp(ldb.currentline) || ldb.luabp;
    if (!strstr(ar->short_src, "user_script")) return;
    if (ar->event == LUA_HOOKCOUNT && !ldb.step && !bp) {
        long long limit = g_config.busy_reply_threshold ? g_config.busy_reply_threshold : 5000;
        if (!run || util_mstime() - run->start_ms < limit) return;
        timeout = true;
        ldb.step = true;
    }
    if (ldb.step || bp) {
        const char *reason = "step over";
        if (bp)
            reason = ldb.luabp ? "redis.breakpoint() called" : "break point";
        else if (timeout)
            reason = "timeout reached, infinite loop?";
        ldb.step = ldb.luabp = false;
        log_fmt("* Stopped at %d, stop reason = %s", ldb.currentline, reason);
        log_source_line(ldb.currentline);
        logs_send();
        if (!repl(L) && timeout)
            raise_error(L, "timeout during Lua debugging with client closing connection");
        if (run) run->start_ms = util_mstime();
    }
}

void ldb_hook(lua_State *L)
{
    lua_sethook(L, line_hook, LUA_MASKLINE | LUA_MASKCOUNT, 100000);
}

struct reply *ldb_before_reply(void)
{
    if (!ldb.ended) {
        ldb.ended = true;
        log_str("<endsession>");
        logs_send();
    }
    return ldb.out;
}

/* ---- sessions ---- */

bool ldb_client_enabled(const struct client *c)
{
    return (c->flags & CF_LUA_DEBUG) != 0;
}

void ldb_script_debug(struct exec *x, int mode)
{
    struct client *c = x->c;
    size_t qbuf = 0, qfree = 0, obl = 0, oll = 0, omem = 0;
    if (c->flags & CF_MULTI) {
        reply_error(x->r, "ERR SCRIPT DEBUG must be called outside MULTI");
        return;
    }
    if (c->adapter->buffers) c->adapter->buffers(c, &qbuf, &qfree, &obl, &oll, &omem);
    if (obl || oll) {
        reply_error(x->r, "ERR SCRIPT DEBUG must be called outside a pipeline");
        return;
    }
    if (mode == 2) { /* NO */
        c->flags &= ~(CF_LUA_DEBUG | CF_LUA_DEBUG_SYNC);
        reply_ok(x->r);
        return;
    }
    if (!c->adapter->session || !c->adapter->session->usable(c)) {
        reply_error(x->r, "ERR SCRIPT DEBUG is only available over RESP connections (TCP or TLS, "
                          "io-backend libevent)");
        return;
    }
    /* As Redis's ldbEnable: a fresh debugger for this client. */
    logs_clear();
    ldb.c = c;
    ldb.step = true;
    ldb.bpcount = 0;
    ldb.luabp = false;
    ldb.maxlen = LDB_MAXLEN_DEFAULT;
    ldb.maxlen_hint_sent = false;
    c->flags |= CF_LUA_DEBUG;
    if (mode == 1)
        c->flags |= CF_LUA_DEBUG_SYNC;
    else
        c->flags &= ~CF_LUA_DEBUG_SYNC;
    reply_ok(x->r);
}

/* The forked session's child: Redis's, minus nothing it needs. */
static pid_t fork_session(void)
{
    pid_t parent = getpid(), pid;
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid != 0) return pid;
    log_set_role('C');
    signal(SIGTERM, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    signal(SIGUSR1, SIG_DFL);
    prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlives its server */
    if (getppid() != parent) _exit(1);
    log_warning("Redis forked for debugging eval");
    return 0;
}

static bool session_begin(struct exec *x)
{
    struct client *c = x->c;
    ldb.forked = !(c->flags & CF_LUA_DEBUG_SYNC);
    if (ldb.c != c) { /* another client enabled debugging since */
        ldb.c = c;
        logs_clear();
        ldb.step = true;
        ldb.bpcount = 0;
        ldb.maxlen = LDB_MAXLEN_DEFAULT;
    }
    if (ldb.forked) {
        pid_t pid = fork_session();
        if (pid < 0) {
            reply_errorf(x->r, "ERR Fork() failed: can't run EVAL in debugging mode: %s",
                         strerror(errno));
            c->flags &= ~(CF_LUA_DEBUG | CF_LUA_DEBUG_SYNC);
            return false;
        }
        if (pid > 0) {
            if (nchildren < LDB_MAX_CHILDREN) children[nchildren++] = pid;
            c->adapter->session->drop(c);
            return false;
        }
        c->adapter->session->fork_child(c);
    } else {
        log_warning("Redis synchronous debugging eval session started");
    }
    ldb.active = true;
    ldb.ended = false;
    ldb.out = x->r;
    free(ldb.early_err);
    ldb.early_err = NULL;
    src_load(x->argv[1].p, x->argv[1].n);
    return true;
}

static void session_end(struct exec *x)
{
    struct client *c = x->c;
    if (!ldb.ended) { /* refused before it ran: the error follows the end mark */
        ldb_before_reply();
        if (ldb.early_err) reply_error(ldb.out, ldb.early_err);
    }
    free(ldb.early_err);
    ldb.early_err = NULL;
    if (ldb.forked) {
        c->adapter->session->write(c);
        log_warning("Lua debugging session child exiting");
        _exit(0);
    }
    log_warning("Redis synchronous debugging eval session ended");
    src_free();
    ldb.active = false;
    ldb.c = NULL;
    c->flags &= ~(CF_LUA_DEBUG | CF_LUA_DEBUG_SYNC);
    /* The end of the session is the end of the connection. */
    c->adapter->close(c, true);
}

void ldb_eval(struct exec *x, void (*run)(struct exec *x))
{
    struct reply capture, *real = x->r;
    if (!session_begin(x)) return;
    ldb_capture_init(&capture, &ldb.early_err, real->resp);
    x->r = &capture;
    run(x);
    x->r = real;
    session_end(x);
}

void ldb_reap(void)
{
    int i;
    for (i = 0; i < nchildren;) {
        int st;
        if (waitpid(children[i], &st, WNOHANG) == children[i]) {
            children[i] = children[--nchildren];
            continue;
        }
        i++;
    }
}
