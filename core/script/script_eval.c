/* script_eval.c — EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT: the
 * script cache (sha1 -> compiled function, body, shebang flags, kept in
 * the interpreter's registry), shebang parsing, the checks before a run
 * (script flags against _RO), and running a function for EVAL or FCALL:
 * KEYS and ARGV, the error handler, Redis's error text with the script's
 * name and line, the script client (a struct client with no socket whose
 * sink builds Lua values) and the effects-only propagation of its writes. */
#include <lauxlib.h>
#include <lua.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aof.h"
#include "client.h"
#include "commands_gen.h"
#include "kernel.h"
#include "propagate.h"
#include "rdb.h"
#include "repl_replica.h"
#include "function.h"
#include "config.h"
#include "evict.h"
#include "monitor.h"
#include "script.h"
#include "script_busy.h"
#include "script_ldb.h"
#include "store.h"
#include "util.h"

struct script_run *g_script_run;
struct client *g_script_client;

static lua_State *lua;             /* EVAL's interpreter (SCRIPT FLUSH makes a new one) */
static long long cached_scripts;   /* INFO memory: number_of_cached_scripts */
static size_t cached_bytes;        /* and used_memory_scripts_eval (sha + body) */
static const char cache_key = 'c'; /* registry: sha -> {fn, body, flags} */

lua_State *script_eval_lua(void)
{
    if (!lua) {
        lua = script_lua_new();
        if (!lua) abort();
        lua_pushlightuserdata(lua, (void *)&cache_key);
        lua_newtable(lua);
        lua_rawset(lua, LUA_REGISTRYINDEX);
    }
    return lua;
}

/* Where the script client is "from" (the slow log's entries of the
 * commands a script ran): no socket, as Redis's "?:0". */
static void script_describe(struct client *c, char *addr, size_t alen, char *laddr, size_t llen,
                            int *fd)
{
    (void)c;
    snprintf(addr, alen, "?:0");
    snprintf(laddr, llen, "?:0");
    *fd = -1;
}

/* The client scripts run commands as: no socket, not in the client list. */
static struct client *script_client(void)
{
    static const struct client_adapter none = {.name = "lua", .describe = script_describe};
    if (!g_script_client) {
        struct client *c = xcalloc(1, sizeof(*c));
        c->resp = 2;
        c->authenticated = true;
        c->state = CLIENT_ACTIVE;
        c->reply.ops = &script_sink_ops;
        c->reply.ctx = &g_script_sink;
        c->reply.resp = 2;
        c->adapter = &none;
        c->last_cmd = "NULL";
        c->flags = CF_IN_EXEC | CF_SCRIPT; /* blocking commands do not block */
        g_script_client = c;
    }
    return g_script_client;
}

static void sha1_hex(char out[41], const char *p, size_t n)
{
    unsigned char md[SHA_DIGEST_LENGTH];
    int i;
    SHA1((const unsigned char *)p, n, md);
    for (i = 0; i < SHA_DIGEST_LENGTH; i++)
        snprintf(out + i * 2, 3, "%02x", md[i]);
}

/* Redis's bytesToHuman: 1023B, 1.00K, 1.50M, ... */
static void human(char *buf, size_t n, unsigned long long v)
{
    static const char units[] = "KMGTPE";
    double d = (double)v;
    int u = -1;
    if (v < 1024) {
        snprintf(buf, n, "%lluB", v);
        return;
    }
    while (d >= 1024 && u < 5) {
        d /= 1024;
        u++;
    }
    snprintf(buf, n, "%.2f%c", d, units[u]);
}

static size_t vm_bytes(lua_State *L)
{
    return L ? (size_t)lua_gc(L, LUA_GCCOUNT, 0) * 1024 + (size_t)lua_gc(L, LUA_GCCOUNTB, 0) : 0;
}

void script_info_memory(char *buf, size_t n)
{
    size_t eval_vm = vm_bytes(script_eval_lua()), fn_vm = vm_bytes(function_lua());
    size_t fn_bytes = 0;
    long long nfuncs = 0;
    char h1[32], h2[32], h3[32];
    int i;
    for (i = 0; i < g_nflibs; i++) {
        nfuncs += g_flibs[i]->nf;
        fn_bytes += g_flibs[i]->codelen + strlen(g_flibs[i]->name);
    }
    human(h1, sizeof(h1), eval_vm);
    human(h2, sizeof(h2), eval_vm + fn_vm);
    human(h3, sizeof(h3), cached_bytes + fn_bytes);
    snprintf(buf, n,
             "used_memory_lua:%zu\r\n"
             "used_memory_vm_eval:%zu\r\n"
             "used_memory_lua_human:%s\r\n"
             "used_memory_scripts_eval:%zu\r\n"
             "number_of_cached_scripts:%lld\r\n"
             "number_of_functions:%lld\r\n"
             "number_of_libraries:%d\r\n"
             "used_memory_vm_functions:%zu\r\n"
             "used_memory_vm_total:%zu\r\n"
             "used_memory_vm_total_human:%s\r\n"
             "used_memory_functions:%zu\r\n"
             "used_memory_scripts:%zu\r\n"
             "used_memory_scripts_human:%s\r\n",
             eval_vm, eval_vm, h1, cached_bytes, cached_scripts, nfuncs, g_nflibs, fn_vm,
             eval_vm + fn_vm, h2, fn_bytes, cached_bytes + fn_bytes, h3);
}

/* ---- shebang ---- */

static const struct {
    const char *name;
    int flag;
} flag_names[] = {
    {"no-writes", SF_NO_WRITES},
    {"allow-oom", SF_ALLOW_OOM},
    {"allow-stale", SF_ALLOW_STALE},
    {"no-cluster", SF_NO_CLUSTER},
    {"allow-cross-slot-keys", SF_ALLOW_CROSS_SLOT},
    {"allow-key-locking", SF_ALLOW_KEY_LOCKING}, /* Upstash's, see script.h */
};

int script_parse_flag(const char *p, size_t n)
{
    size_t i;
    for (i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++)
        if (strlen(flag_names[i].name) == n && !memcmp(flag_names[i].name, p, n))
            return flag_names[i].flag;
    return 0;
}

/* "#!lua flags=a,b" on the first line: flags, and the shebang's length
 * (the line feed is kept so line numbers stay). false with *err (malloc'd). */
static bool parse_shebang(const char *body, size_t len, int *flags, size_t *skip, char **err)
{
    const char *nl;
    char **w = NULL;
    size_t *wl = NULL;
    int n, j;
    *flags = SF_EVAL_COMPAT;
    *skip = 0;
    if (len < 2 || body[0] != '#' || body[1] != '!') return true;
    nl = memchr(body, '\n', len);
    if (!nl) {
        *err = xstrdup("ERR Invalid script shebang");
        return false;
    }
    *skip = (size_t)(nl - body);
    n = util_split_args(body, *skip, &w, &wl);
    if (n <= 0) {
        *err = xstrdup("ERR Invalid engine in script shebang");
        if (n == 0) util_free_words(w, wl, n);
        return false;
    }
    if (strcmp(w[0], "#!lua") != 0) {
        *err = xmalloc(wl[0] + 64);
        sprintf(*err, "ERR Unexpected engine in script shebang: %s", w[0]);
        util_free_words(w, wl, n);
        return false;
    }
    *flags = 0;
    for (j = 1; j < n; j++) {
        if (!strncmp(w[j], "flags=", 6)) {
            const char *p = w[j] + 6, *end = w[j] + wl[j];
            while (p < end) {
                const char *c = memchr(p, ',', (size_t)(end - p));
                size_t fl = c ? (size_t)(c - p) : (size_t)(end - p);
                int f = script_parse_flag(p, fl);
                if (!f) {
                    *err = xmalloc(fl + 64);
                    sprintf(*err, "ERR Unexpected flag in script shebang: %.*s", (int)fl, p);
                    util_free_words(w, wl, n);
                    return false;
                }
                *flags |= f;
                p += fl + (c ? 1 : 0);
            }
        } else {
            *err = xmalloc(wl[j] + 64);
            sprintf(*err, "ERR Unknown lua shebang option: %s", w[j]);
            util_free_words(w, wl, n);
            return false;
        }
    }
    util_free_words(w, wl, n);
    return true;
}

/* ---- the cache ---- */

/* Push the cache entry of sha (a table {fn, body, flags}) or nothing. */
static bool cache_get(lua_State *L, const char *sha)
{
    lua_pushlightuserdata(L, (void *)&cache_key);
    lua_rawget(L, LUA_REGISTRYINDEX);
    lua_pushlstring(L, sha, 40);
    lua_rawget(L, -2);
    lua_remove(L, -2);
    if (lua_istable(L, -1)) return true;
    lua_pop(L, 1);
    return false;
}

/* Compile body and add it under sha; pushes the entry. The error text
 * (replied by the caller) when it does not compile. */
static bool cache_add(lua_State *L, const char *sha, const char *body, size_t len, struct reply *r)
{
    int flags;
    size_t skip;
    char *err = NULL;
    if (!parse_shebang(body, len, &flags, &skip, &err)) {
        reply_error(r, err);
        free(err);
        return false;
    }
    if (script_lua_load(L, body + skip, len - skip, "@user_script")) {
        reply_errorf(r, "ERR Error compiling script (new function): %s", lua_tostring(L, -1));
        lua_pop(L, 1);
        return false;
    }
    lua_newtable(L);
    lua_insert(L, -2);
    lua_rawseti(L, -2, 1);
    lua_pushlstring(L, body, len);
    lua_rawseti(L, -2, 2);
    lua_pushnumber(L, flags);
    lua_rawseti(L, -2, 3);
    lua_pushlightuserdata(L, (void *)&cache_key);
    lua_rawget(L, LUA_REGISTRYINDEX);
    lua_pushlstring(L, sha, 40);
    lua_pushvalue(L, -3);
    lua_rawset(L, -3);
    lua_pop(L, 1);
    cached_scripts++;
    cached_bytes += 40 + len;
    return true;
}

/* ---- running ---- */

static void push_array(lua_State *L, const struct argv_ref *argv, int at, int n)
{
    int i;
    lua_createtable(L, n, 0);
    for (i = 0; i < n; i++) {
        lua_pushlstring(L, argv[at + i].p, argv[at + i].n);
        lua_rawseti(L, -2, i + 1);
    }
}

static void set_array(lua_State *L, const char *name, const struct argv_ref *argv, int at, int n)
{
    script_lua_push_globals(L);
    lua_pushstring(L, name);
    push_array(L, argv, at, n);
    lua_rawset(L, -3);
    lua_pop(L, 1);
}

/* The error a script ended with: {err=, source=, line=} or a string. */
static void reply_script_error(lua_State *L, struct reply *r, const char *name)
{
    if (!lua_istable(L, -1)) {
        const char *msg = lua_isstring(L, -1) ? lua_tostring(L, -1) : "execution failure";
        reply_errorf(r, "ERR Error running script %s, %.100s", name, msg);
        return;
    }
    {
        const char *msg, *source;
        size_t mlen, i;
        char *text, line[32] = "";
        lua_getfield(L, -1, "err");
        msg = lua_tolstring(L, -1, &mlen);
        lua_getfield(L, -2, "source");
        source = lua_tostring(L, -1);
        lua_getfield(L, -3, "line");
        if (lua_isnumber(L, -1) || lua_isstring(L, -1))
            snprintf(line, sizeof(line), "%s", lua_tostring(L, -1));
        if (!msg) msg = "", mlen = 0;
        text = xmalloc(mlen + strlen(name) + (source ? strlen(source) : 0) + 64);
        memcpy(text, msg, mlen);
        text[mlen] = 0;
        if (source && line[0]) sprintf(text + mlen, " script: %s, on %s:%s.", name, source, line);
        for (i = 0; text[i]; i++)
            if (text[i] == '\r' || text[i] == '\n') text[i] = ' ';
        lua_pop(L, 3);
        lua_getfield(L, -1, "ignore_error_stats_update");
        script_reply_error(r, text, lua_toboolean(L, -1));
        lua_pop(L, 1);
        free(text);
    }
}

void script_run_function(struct exec *x, lua_State *L, const char *name, bool is_function,
                         int flags, bool ro, int nkeys, int keys_at, int nargs, int args_at)
{
    struct client *sc = script_client();
    struct script_run run;
    int status, base;

    memset(&run, 0, sizeof(run));
    run.L = L;
    run.caller = x->c;
    run.name = name;
    run.is_function = is_function;
    run.flags = flags;
    run.read_only = ro || (flags & SF_NO_WRITES);
    run.repl = 3;
    run.resp = 2;
    run.start_ms = util_mstime();

    /* The script's writes reach the AOF as the commands it ran. */
    propagate_prevent(x);

    sc->db = x->c->db;
    sc->dbid = x->c->dbid;
    sc->resp = sc->reply.resp = 2;
    g_script_run = &run;

    run.argc = x->argc;
    run.argv = x->argv;
    /* stack: function -> handler, function */
    lua_getglobal(L, "__redis__err__handler");
    lua_insert(L, -2);
    base = lua_gettop(L) - 1;
    if (is_function) { /* f(keys, args) */
        push_array(L, x->argv, keys_at, nkeys);
        push_array(L, x->argv, args_at, nargs);
    } else {
        set_array(L, "KEYS", x->argv, keys_at, nkeys);
        set_array(L, "ARGV", x->argv, args_at, nargs);
    }
    if (ldb_active())
        ldb_hook(L); /* a debugging session: the debugger's line hook */
    else
        script_busy_begin(L, &run);
    status = lua_pcall(L, is_function ? 2 : 0, 1, base);
    script_busy_end(L, &run);
    {
        struct reply *out = ldb_active() ? ldb_before_reply() : x->r;
        if (status)
            reply_script_error(L, out, name);
        else
            script_lua_to_reply(L, out, run.resp);
    }
    lua_settop(L, base - 1);
    g_script_run = NULL;
    sc->resp = sc->reply.resp = 2;
}

bool script_may_write_refused(struct client *c, int flags, struct reply *r)
{
    static const struct command *w;
    /* a script not flagged allow-stale (an EVAL without shebang too) does
     * not start on a stale replica, as Redis 7.0's scriptPrepareForRun */
    if (!(flags & SF_ALLOW_STALE) && !(c->flags & CF_MASTER) && repl_replica_stale()) {
        reply_error(r, "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set "
                       "to 'no'.");
        return true;
    }
    if (flags & (SF_EVAL_COMPAT | SF_NO_WRITES)) return false;
    /* a script that may write is DENYOOM unless allow-oom (Redis 7.0's
     * evalGetCommandFlags): -OOM comes before MISCONF, as in processCommand */
    if (!(flags & SF_ALLOW_OOM) && g_config.maxmemory > 0 && g_pre_command_oom) {
        reply_error(r, "OOM command not allowed when used memory > 'maxmemory'.");
        return true;
    }
    if (!w) w = registry_lookup("set", 3); /* checked as any write command is */
    return w && (persist_reject(c, w, r) || aof_reject(c, w, r));
}

/* EVAL / EVALSHA and their _RO forms. */
static void eval_generic(struct exec *x, bool by_sha, bool ro)
{
    lua_State *L = script_eval_lua();
    char sha[41];
    const char *body = ARGP(x, A_EVAL_script);
    size_t blen = ARGN(x, A_EVAL_script), i;
    int nkeys = (int)ARGI(x, A_EVAL_numkeys), flags;
    int keys_at = ARG(x, A_EVAL_numkeys)->pos + 1;

    if (by_sha) {
        if (blen != 40) { /* before numkeys is read, as Redis's evalShaCommand */
            reply_error(x->r, "NOSCRIPT No matching script. Please use EVAL.");
            return;
        }
        if (!arg_ok(x, A_EVAL_deferred)) return; /* numkeys and what it counts */
        for (i = 0; i < 40; i++)
            sha[i] = (char)(body[i] >= 'A' && body[i] <= 'Z' ? body[i] + 32 : body[i]);
        sha[40] = 0;
        if (!cache_get(L, sha)) {
            reply_error(x->r, "NOSCRIPT No matching script. Please use EVAL.");
            return;
        }
    } else {
        if (!arg_ok(x, A_EVAL_deferred)) return;
        sha1_hex(sha, body, blen);
        if (!cache_get(L, sha) && !cache_add(L, sha, body, blen, x->r)) return;
    }
    /* stack: entry */
    lua_rawgeti(L, -1, 3);
    flags = (int)lua_tonumber(L, -1);
    lua_pop(L, 1);
    if (script_may_write_refused(x->c, flags, x->r)) {
        lua_pop(L, 1);
        return;
    }
    if (!(flags & SF_EVAL_COMPAT) && !(flags & SF_NO_WRITES) && ro) {
        lua_pop(L, 1);
        reply_error(x->r, "ERR Can not execute a script with write flag using *_ro command.");
        return;
    }
    lua_rawgeti(L, -1, 1);
    lua_remove(L, -2);
    script_run_function(x, L, sha, false, flags, ro, nkeys, keys_at, x->argc - keys_at - nkeys,
                        keys_at + nkeys);
}

/* Redis 7.0's scriptFlagsToCmdFlags: a script with a shebang declares
 * what it does; without one (EVAL's compatible mode) the command's flags
 * stand. */
static uint32_t script_to_cmd_flags(uint32_t cmd_flags, int sf)
{
    if (sf & SF_EVAL_COMPAT) return cmd_flags;
    cmd_flags &= ~(uint32_t)(CMD_STALE | CMD_DENYOOM | CMD_WRITE | CMD_MAY_REPLICATE);
    if (!(sf & (SF_ALLOW_OOM | SF_NO_WRITES))) cmd_flags |= CMD_DENYOOM;
    if (!(sf & SF_NO_WRITES)) cmd_flags |= CMD_WRITE;
    if (sf & SF_ALLOW_STALE) cmd_flags |= CMD_STALE;
    return cmd_flags;
}

uint32_t script_call_flags(const struct command *cmd, int argc, const struct argv_ref *argv)
{
    const char *p;
    size_t n, skip, i;
    char sha[41], *err = NULL;
    int sf;
    if (argc < 2) return cmd->flags;
    p = argv[1].p, n = argv[1].n;
    if (cmd->fn == cmd_eval || cmd->fn == cmd_eval_ro) {
        if (!parse_shebang(p, n, &sf, &skip, &err)) {
            free(err); /* the error is the command's, when it runs */
            return cmd->flags;
        }
    } else if (cmd->fn == cmd_evalsha || cmd->fn == cmd_evalsha_ro) {
        lua_State *L = script_eval_lua();
        if (n != 40) return cmd->flags;
        for (i = 0; i < 40; i++)
            sha[i] = (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] + 32 : p[i]);
        sha[40] = 0;
        if (!cache_get(L, sha)) return cmd->flags;
        lua_rawgeti(L, -1, 3);
        sf = (int)lua_tonumber(L, -1);
        lua_pop(L, 2);
    } else if (cmd->fn == cmd_fcall || cmd->fn == cmd_fcall_ro) {
        const struct ffunc *f = function_find(p, n);
        if (!f) return cmd->flags;
        sf = f->flags;
    } else {
        return cmd->flags;
    }
    return script_to_cmd_flags(cmd->flags, sf);
}

static void eval_rw(struct exec *x)
{
    eval_generic(x, false, false);
}

static void eval_ro(struct exec *x)
{
    eval_generic(x, false, true);
}

/* EVAL (ro: EVAL_RO). SKIP_MONITOR in the schema: the call is shown before
 * the script's own commands, and even when it fails (as Redis 7.0). With
 * SCRIPT DEBUG YES|SYNC it runs in a debugging session (script_ldb.c). */
static void eval_cmd(struct exec *x, bool ro)
{
    monitor_feed_now(x);
    if (ldb_client_enabled(x->c))
        ldb_eval(x, ro ? eval_ro : eval_rw);
    else
        eval_generic(x, false, ro);
}

/* EVALSHA (ro: EVALSHA_RO): not debugged (Redis's order: a sha of the
 * wrong length is refused first). */
static void evalsha_cmd(struct exec *x, bool ro)
{
    monitor_feed_now(x);
    if (ARGN(x, A_EVAL_script) == 40 && ldb_client_enabled(x->c)) {
        reply_error(x->r, "ERR Please use EVAL instead of EVALSHA for debugging");
        return;
    }
    eval_generic(x, true, ro);
}

/* EVAL script numkeys [key [key ...]] [arg [arg ...]] */
void cmd_eval(struct exec *x)
{
    eval_cmd(x, false);
}

/* EVALSHA sha1 numkeys [key [key ...]] [arg [arg ...]] */
void cmd_evalsha(struct exec *x)
{
    evalsha_cmd(x, false);
}

/* EVAL_RO script numkeys [key [key ...]] [arg [arg ...]] */
void cmd_eval_ro(struct exec *x)
{
    eval_cmd(x, true);
}

/* EVALSHA_RO sha1 numkeys [key [key ...]] [arg [arg ...]] */
void cmd_evalsha_ro(struct exec *x)
{
    evalsha_cmd(x, true);
}

/* SCRIPT LOAD script */
void cmd_script_load(struct exec *x)
{
    lua_State *L = script_eval_lua();
    char sha[41];
    const char *body = ARGP(x, A_SCRIPT_LOAD_script);
    size_t blen = ARGN(x, A_SCRIPT_LOAD_script);
    sha1_hex(sha, body, blen);
    if (!cache_get(L, sha) && !cache_add(L, sha, body, blen, x->r)) return;
    lua_pop(L, 1);
    reply_bulk(x->r, sha, 40);
}

/* SCRIPT EXISTS sha1 [sha1 ...] */
void cmd_script_exists(struct exec *x)
{
    lua_State *L = script_eval_lua();
    const struct argval *v = ARG(x, A_SCRIPT_EXISTS_sha1);
    int i;
    reply_array(x->r, v->count);
    for (i = 0; i < v->count; i++) {
        const struct argv_ref *w = &x->argv[v->list[i]];
        char sha[41];
        size_t k;
        bool found = false;
        if (w->n == 40) {
            for (k = 0; k < 40; k++)
                sha[k] = (char)(w->p[k] >= 'A' && w->p[k] <= 'Z' ? w->p[k] + 32 : w->p[k]);
            sha[40] = 0;
            found = cache_get(L, sha);
            if (found) lua_pop(L, 1);
        }
        reply_int(x->r, found ? 1 : 0);
    }
}

/* SCRIPT FLUSH [ASYNC|SYNC] */
void cmd_script_flush(struct exec *x)
{
    if (g_script_run && g_script_run->L == lua) {
        reply_error(x->r, "ERR SCRIPT FLUSH called from a running script");
        return;
    }
    script_lua_close(lua);
    lua = NULL;
    cached_scripts = 0;
    cached_bytes = 0;
    reply_ok(x->r);
}

/* SCRIPT KILL */
void cmd_script_kill(struct exec *x)
{
    script_busy_kill(x, false);
}

/* SCRIPT DEBUG YES|SYNC|NO (core/script/script_ldb.c) */
void cmd_script_debug(struct exec *x)
{
    ldb_script_debug(x, ARG(x, A_SCRIPT_DEBUG_mode)->choice);
}

/* SCRIPT HELP */
void cmd_script_help(struct exec *x)
{
    static const char *const lines[] = {
        "DEBUG (YES|SYNC|NO)",
        "    Set the debug mode for subsequent scripts executed.",
        "EXISTS <sha1> [<sha1> ...]",
        "    Return information about the existence of the scripts in the script cache.",
        "FLUSH [ASYNC|SYNC]",
        "    Flush the Lua scripts cache. Very dangerous on replicas.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the scripts cache.",
        "    * SYNC: Synchronously flush the scripts cache.",
        "KILL",
        "    Kill the currently executing Lua script.",
        "LOAD <script>",
        "    Load a script into the scripts cache without executing it.",
        NULL,
    };
    reply_help(x->r, "SCRIPT", lines);
}
