/* cmd_function.c — FCALL, FCALL_RO and FUNCTION LOAD / DELETE / LIST /
 * DUMP / RESTORE / FLUSH / KILL / STATS / HELP over the libraries of
 * function.c, with Redis 7.0's replies and errors. */
#include <lua.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands_gen.h"
#include "function.h"
#include "kernel.h"
#include "rdb.h"
#include "monitor.h"
#include "script.h"
#include "script_busy.h"
#include "store.h"
#include "util.h"

static void fcall_generic(struct exec *x, bool ro)
{
    const char *name = ARGP(x, A_FCALL_function);
    size_t n = ARGN(x, A_FCALL_function);
    int nkeys = (int)ARGI(x, A_FCALL_numkeys);
    int keys_at = ARG(x, A_FCALL_numkeys)->pos + 1;
    struct ffunc *f = function_find(name, n);
    lua_State *L;
    /* SKIP_MONITOR in the schema: the call is shown before the script's
     * own commands, and even when it fails (as Redis 7.0) */
    monitor_feed_now(x);
    if (!f) {
        reply_error(x->r, "ERR Function not found");
        return;
    }
    if (!arg_ok(x, A_FCALL_deferred)) return; /* numkeys: after the function, as Redis */
    if (script_may_write_refused(x->c, f->flags, x->r)) return;
    if (ro && !(f->flags & SF_NO_WRITES)) {
        reply_error(x->r, "ERR Can not execute a script with write flag using *_ro command.");
        return;
    }
    L = function_lua();
    lua_rawgeti(L, LUA_REGISTRYINDEX, f->ref);
    script_run_function(x, L, f->name, true, f->flags, ro, nkeys, keys_at,
                        x->argc - keys_at - nkeys, keys_at + nkeys);
}

/* FCALL function numkeys [key [key ...]] [arg [arg ...]] */
void cmd_fcall(struct exec *x)
{
    fcall_generic(x, false);
}

/* FCALL_RO function numkeys [key [key ...]] [arg [arg ...]] */
void cmd_fcall_ro(struct exec *x)
{
    fcall_generic(x, true);
}

/* FUNCTION LOAD [REPLACE] function-code */
void cmd_function_load(struct exec *x)
{
    char *err = NULL;
    const char *code = ARGP(x, A_FUNCTION_LOAD_function_code);
    size_t n = ARGN(x, A_FUNCTION_LOAD_function_code);
    if (!function_load(code, n, HAS(x, A_FUNCTION_LOAD_replace), &err)) {
        reply_error(x->r, err);
        free(err);
        return;
    }
    g_store.stats.dirty++;
    reply_cstr(x->r, g_flibs[g_nflibs - 1]->name);
}

/* FUNCTION DELETE library-name */
void cmd_function_delete(struct exec *x)
{
    char name[256];
    size_t n = ARGN(x, A_FUNCTION_DELETE_library_name);
    if (n >= sizeof(name) || memchr(ARGP(x, A_FUNCTION_DELETE_library_name), 0, n)) {
        reply_error(x->r, "ERR Library not found");
        return;
    }
    memcpy(name, ARGP(x, A_FUNCTION_DELETE_library_name), n);
    name[n] = 0;
    if (!function_delete(name)) {
        reply_error(x->r, "ERR Library not found");
        return;
    }
    g_store.stats.dirty++;
    reply_ok(x->r);
}

/* FUNCTION FLUSH [ASYNC|SYNC] */
void cmd_function_flush(struct exec *x)
{
    function_flush();
    g_store.stats.dirty++;
    reply_ok(x->r);
}

/* FUNCTION KILL */
void cmd_function_kill(struct exec *x)
{
    script_busy_kill(x, true);
}

static void reply_flags(struct reply *r, int flags)
{
    static const struct {
        int bit;
        const char *name;
    } names[] = {{SF_NO_WRITES, "no-writes"},
                 {SF_ALLOW_OOM, "allow-oom"},
                 {SF_ALLOW_STALE, "allow-stale"},
                 {SF_NO_CLUSTER, "no-cluster"},
                 {SF_ALLOW_CROSS_SLOT, "allow-cross-slot-keys"}};
    size_t i;
    int n = 0;
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (flags & names[i].bit) n++;
    reply_set(r, n);
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (flags & names[i].bit) reply_status(r, names[i].name);
}

/* FUNCTION LIST [LIBRARYNAME library-name-pattern] [WITHCODE] */
void cmd_function_list(struct exec *x)
{
    bool code = HAS(x, A_FUNCTION_LIST_withcode);
    bool pat = HAS(x, A_FUNCTION_LIST_library_name_pattern);
    const char *p = pat ? ARGP(x, A_FUNCTION_LIST_library_name_pattern) : NULL;
    size_t pn = pat ? ARGN(x, A_FUNCTION_LIST_library_name_pattern) : 0;
    int i, j, n = 0;
    for (i = 0; i < g_nflibs; i++)
        if (!pat || util_glob(p, pn, g_flibs[i]->name, strlen(g_flibs[i]->name), false)) n++;
    reply_array(x->r, n);
    for (i = 0; i < g_nflibs; i++) {
        struct flib *lib = g_flibs[i];
        if (pat && !util_glob(p, pn, lib->name, strlen(lib->name), false)) continue;
        reply_map(x->r, code ? 4 : 3);
        reply_cstr(x->r, "library_name");
        reply_cstr(x->r, lib->name);
        reply_cstr(x->r, "engine");
        reply_cstr(x->r, "LUA");
        reply_cstr(x->r, "functions");
        reply_array(x->r, lib->nf);
        for (j = 0; j < lib->nf; j++) {
            reply_map(x->r, 3);
            reply_cstr(x->r, "name");
            reply_cstr(x->r, lib->f[j].name);
            reply_cstr(x->r, "description");
            if (lib->f[j].desc)
                reply_cstr(x->r, lib->f[j].desc);
            else
                reply_null(x->r);
            reply_cstr(x->r, "flags");
            reply_flags(x->r, lib->f[j].flags);
        }
        if (code) {
            reply_cstr(x->r, "library_code");
            reply_bulk(x->r, lib->code, lib->codelen);
        }
    }
}

/* FUNCTION DUMP */
void cmd_function_dump(struct exec *x)
{
    struct sbuf b;
    sbuf_init(&b);
    rdb_serialize_functions(&b);
    reply_bulk(x->r, (const char *)b.p, b.len);
    sbuf_free(&b);
}

struct restore_ctx {
    struct flib **saved; /* the libraries before (FLUSH / on failure) */
    int nsaved;
    bool replace;
    char *err;
};

static bool restore_one(void *ctx, const char *code, size_t n)
{
    struct restore_ctx *rc = ctx;
    return function_load(code, n, rc->replace, &rc->err);
}

/* FUNCTION RESTORE serialized-value [FLUSH|APPEND|REPLACE] */
void cmd_function_restore(struct exec *x)
{
    const unsigned char *p = (const unsigned char *)ARGP(x, A_FUNCTION_RESTORE_serialized_value);
    size_t n = ARGN(x, A_FUNCTION_RESTORE_serialized_value);
    int policy = HAS(x, A_FUNCTION_RESTORE_policy) ? ARG(x, A_FUNCTION_RESTORE_policy)->choice : 1;
    struct restore_ctx rc = {NULL, 0, policy == 2, NULL};
    char err[256] = "";
    struct sbuf backup;
    if (!rdb_verify_dump_payload(p, n)) {
        reply_error(x->r, "ERR DUMP payload version or checksum are wrong");
        return;
    }
    /* All or nothing: keep a DUMP of what exists to put it back. */
    sbuf_init(&backup);
    rdb_serialize_functions(&backup);
    if (policy == 0) function_flush();
    if (!rdb_each_function_in_payload(p, n, restore_one, &rc, err, sizeof(err))) {
        struct restore_ctx back = {NULL, 0, true, NULL};
        function_flush();
        rdb_each_function_in_payload((const unsigned char *)backup.p, backup.len, restore_one,
                                     &back, err, sizeof(err));
        free(back.err);
        if (rc.err)
            reply_error(x->r, rc.err);
        else
            reply_errorf(x->r, "ERR %s", err[0] ? err : "payload is not valid");
        free(rc.err);
        sbuf_free(&backup);
        return;
    }
    sbuf_free(&backup);
    g_store.stats.dirty++;
    reply_ok(x->r);
}

/* FUNCTION STATS */
void cmd_function_stats(struct exec *x)
{
    struct script_run *run = g_script_run;
    int i, nf = 0;
    reply_map(x->r, 2);
    reply_cstr(x->r, "running_script");
    if (!run || !run->is_function) {
        reply_null(x->r);
    } else {
        reply_map(x->r, 3);
        reply_cstr(x->r, "name");
        reply_cstr(x->r, run->name);
        reply_cstr(x->r, "command");
        reply_array(x->r, run->argc);
        for (i = 0; i < run->argc; i++)
            reply_bulk(x->r, run->argv[i].p, run->argv[i].n);
        reply_cstr(x->r, "duration_ms");
        reply_int(x->r, util_mstime() - run->start_ms);
    }
    for (i = 0; i < g_nflibs; i++)
        nf += g_flibs[i]->nf;
    reply_cstr(x->r, "engines");
    reply_map(x->r, 1);
    reply_cstr(x->r, "LUA");
    reply_map(x->r, 2);
    reply_cstr(x->r, "libraries_count");
    reply_int(x->r, g_nflibs);
    reply_cstr(x->r, "functions_count");
    reply_int(x->r, nf);
}

/* FUNCTION HELP */
void cmd_function_help(struct exec *x)
{
    static const char *const lines[] = {
        "LOAD [REPLACE] <FUNCTION CODE>",
        "    Create a new library with the given library name and code.",
        "DELETE <LIBRARY NAME>",
        "    Delete the given library.",
        "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
        "    Return general information on all the libraries:",
        "    * Library name",
        "    * The engine used to run the Library",
        "    * Library description",
        "    * Functions list",
        "    * Library code (if WITHCODE is given)",
        "    It also possible to get only function that matches a pattern using LIBRARYNAME "
        "argument.",
        "STATS",
        "    Return information about the current function running:",
        "    * Function name",
        "    * Command used to run the function",
        "    * Duration in MS that the function is running",
        "    If no function is running, return nil",
        "    In addition, returns a list of available engines.",
        "KILL",
        "    Kill the current running function.",
        "FLUSH [ASYNC|SYNC]",
        "    Delete all the libraries.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the libraries.",
        "    * SYNC: Synchronously flush the libraries.",
        "DUMP",
        "    Return a serialized payload representing the current libraries, can be restored "
        "using FUNCTION RESTORE command",
        "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
        "    Restore the libraries represented by the given payload, it is possible to give a "
        "restore policy to",
        "    control how to handle existing libraries (default APPEND):",
        "    * FLUSH: delete all existing libraries.",
        "    * APPEND: appends the restored libraries to the existing libraries. On collision, "
        "abort.",
        "    * REPLACE: appends the restored libraries to the existing libraries, On collision, "
        "replace the old",
        "      libraries with the new libraries (notice that even on this option there is a "
        "chance of failure",
        "      in case of functions name collision with another library).",
        NULL,
    };
    reply_help(x->r, "FUNCTION", lines);
}
