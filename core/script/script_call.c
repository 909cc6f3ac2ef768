/* script_call.c — the `redis` object scripts see: call and pcall (a
 * command run through the kernel by the script's client, its reply turned
 * into Lua values by the script sink; Redis 7.0's checks and error texts),
 * error_reply, status_reply, sha1hex, log and its levels, setresp,
 * set_repl and its REPL_* flags, replicate_commands, breakpoint and debug
 * (the debugger's, script_ldb.c), REDIS_VERSION and REDIS_VERSION_NUM. */
#include <lauxlib.h>
#include <limits.h>
#include <lua.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "aof.h"
#include "client.h"
#include "config.h"
#include "evict.h"
#include "kernel.h"
#include "log.h"
#include "propagate.h"
#include "rdb.h"
#include "registry.h"
#include "repl_primary.h"
#include "repl_replica.h"
#include "script.h"
#include "script_ldb.h"
#include "script_ldb_text.h"

enum { REPL_NONE = 0, REPL_AOF = 1, REPL_REPLICA = 2, REPL_ALL = 3 };

/* A command refused before it runs, in COMMANDSTATS (rejected_calls). */
static void rejected(const struct command *cmd)
{
    if (cmd) ((struct command *)cmd)->rejected_calls++;
    g_kstats.rejected_calls++;
}

/* Push an error table and raise it (call) or return it (pcall). */
static int fail(lua_State *L, const char *msg, bool raise)
{
    script_push_error(L, msg, strlen(msg));
    return raise ? script_raise(L) : 1;
}

/* An error found before the command runs (Redis 7.0's scriptCall: unknown
 * command, arity, a command scripts may not call, ACL, a write refused):
 * counted now (INFO errorstats, total_error_replies, the command's
 * rejected_calls), and its table marked so that the script raising or
 * returning it does not count it again. */
static int fail_rejected(lua_State *L, const char *msg, bool raise, const struct command *cmd)
{
    struct reply quiet = reply_discard; /* a copy: its errors are counted */
    script_push_error(L, msg, strlen(msg));
    lua_getfield(L, -1, "err");
    reply_error(&quiet, lua_tostring(L, -1));
    lua_pop(L, 1);
    lua_pushstring(L, "ignore_error_stats_update");
    lua_pushboolean(L, 1);
    lua_rawset(L, -3);
    rejected(cmd);
    return raise ? script_raise(L) : 1;
}

#define CALL_STACK_ARGS 16
#define NUM_BUF 32

/* Redis 7.0's scriptVerifyOOM: past maxmemory (as found before the script
 * started), a DENYOOM command is refused unless the script is flagged
 * allow-oom or has already written (it cannot stop half-way). The error
 * becomes the command's reply. */
static bool oom_refused(const struct script_run *run, const struct command *cmd, struct client *sc)
{
    if (!(cmd->flags & CMD_DENYOOM) || (run->flags & SF_ALLOW_OOM) || run->wrote) return false;
    if (g_config.maxmemory <= 0 || !g_pre_command_oom) return false;
    reply_error(&sc->reply, "OOM command not allowed when used memory > 'maxmemory'.");
    return true;
}

/* redis.call / redis.pcall, and (acl_check) redis.acl_check_cmd: whether
 * the script's user may run the command with these arguments. */
static int generic_call(lua_State *L, bool raise, bool acl_check)
{
    struct script_run *run = g_script_run;
    struct client *sc = g_script_client;
    int argc = lua_gettop(L), i, base;
    struct argv_ref sv[CALL_STACK_ARGS], *argv = sv;
    char snum[CALL_STACK_ARGS][NUM_BUF], (*num)[NUM_BUF] = snum;
    const struct command *cmd = NULL;
    const char *err = NULL;
    bool refused = false; /* err was found once the command was looked up */

    if (!run || !sc)
        return fail(L, "redis.call can only be called inside a script invocation", raise);
    if (argc == 0)
        return fail(L, "Please specify at least one argument for this redis lib call", raise);
    if (argc > CALL_STACK_ARGS) {
        argv = malloc(sizeof(*argv) * (size_t)argc);
        num = malloc(sizeof(*num) * (size_t)argc);
        if (!argv || !num) {
            free(argv);
            free(num);
            return luaL_error(L, "not enough memory");
        }
    }
    for (i = 0; i < argc; i++) {
        int t = lua_type(L, i + 1);
        if (t == LUA_TNUMBER) {
            int n = snprintf(num[i], NUM_BUF, "%.17g", (double)lua_tonumber(L, i + 1));
            argv[i].p = num[i];
            argv[i].n = (size_t)n;
        } else if (t == LUA_TSTRING) {
            argv[i].p = lua_tolstring(L, i + 1, &argv[i].n);
        } else {
            err = "Lua redis lib command arguments must be strings or integers";
            goto out;
        }
    }
    /* A debugging session shows the command when stepping. */
    if (!acl_check && ldb_stepping()) ldb_log_command(argc, argv);
    cmd = registry_resolve(argc, argv, &reply_discard);
    if (acl_check) {
        int pos = 0;
        if (!cmd) cmd = registry_rejected; /* a wrong arity is still checked */
        if (!cmd) {
            err = "Invalid command passed to redis.acl_check_cmd()";
            goto out;
        }
        lua_pushboolean(L, acl_check_cmd(acl_client_user(run->caller), cmd, argc, argv, &pos) ==
                               ACL_OK);
        goto out;
    }
    refused = true;
    if (!cmd) {
        cmd = registry_rejected; /* (a wrong arity still names its command) */
        err = registry_rejected ? "Wrong number of args calling Redis command from script"
                                : "Unknown Redis command called from script";
        goto out;
    }
    if (cmd->flags & CMD_NOSCRIPT) {
        err = "This Redis command is not allowed from script";
        goto out;
    }
    if ((cmd->flags & (CMD_WRITE | CMD_MAY_REPLICATE)) && run->read_only) {
        err = "Write commands are not allowed from read-only scripts.";
        goto out;
    }
    /* The caller's ACL user must be allowed each command (Redis 7.0's
     * scriptVerifyACL; logged with context lua). */
    if ((err = acl_script_refusal(run->caller, cmd, argc, argv))) goto out;
    /* An allow-stale script on a stale replica runs only commands flagged
     * STALE (Redis 7.0's scriptVerifyAllowStale). */
    if (!(cmd->flags & CMD_STALE) && !(run->caller->flags & CF_MASTER) && repl_replica_stale()) {
        err = "Can not execute the command on a stale replica";
        goto out;
    }
    base = lua_gettop(L);
    script_sink_reset(L);
    /* MISCONF (snapshots or the AOF failing) and NOREPLICAS refuse a
     * script's first write, and -OOM its first DENYOOM command; once it has written, it
     * may finish (Redis's rules). The
     * refusal is the command's error reply: raised by call. */
    if (((cmd->flags & CMD_WRITE) && !run->wrote &&
         (repl_replica_refuse_write(run->caller, cmd, &sc->reply) ||
          persist_reject(sc, cmd, &sc->reply) || aof_reject(sc, cmd, &sc->reply) ||
          repl_primary_refuse(sc, cmd, &sc->reply))) ||
        oom_refused(run, cmd, sc)) {
        if (lua_gettop(L) > base + 1) {
            lua_replace(L, base + 1);
            lua_settop(L, base + 1);
        }
        rejected(cmd); /* (the reply counted its error) */
        goto out;
    }
    if (cmd->flags & CMD_WRITE) run->wrote = true;
    {
        size_t mark = propagate_mark();
        if (ldb_stepping()) { /* the debugger shows the reply as it is written */
            struct ldb_tee tee;
            struct reply r;
            ldb_tee_init(&tee, &r, &sc->reply);
            kernel_run(sc, cmd, argc, argv, &r);
            sc->reply.nerr += r.nerr;
            ldb_log_reply(&tee.text);
        } else {
            kernel_run(sc, cmd, argc, argv, &sc->reply);
        }
        if (!(run->repl & REPL_AOF)) propagate_drop_since(mark);
    }
    if (lua_gettop(L) == base) lua_pushnil(L); /* no reply */
    if (lua_gettop(L) > base + 1) {
        lua_replace(L, base + 1);
        lua_settop(L, base + 1);
    }
out:
    if (argv != sv) {
        free(argv);
        free(num);
    }
    if (err) return refused ? fail_rejected(L, err, raise, cmd) : fail(L, err, raise);
    if (raise && g_script_sink.top_error) return script_raise(L);
    return 1;
}

static int l_call(lua_State *L)
{
    return generic_call(L, true, false);
}

static int l_pcall(lua_State *L)
{
    return generic_call(L, false, false);
}

static int l_acl_check_cmd(lua_State *L)
{
    return generic_call(L, true, true);
}

static int l_sha1hex(lua_State *L)
{
    unsigned char md[SHA_DIGEST_LENGTH];
    char hex[41];
    size_t n;
    const char *s;
    int i;
    if (lua_gettop(L) != 1) return fail(L, "wrong number of arguments", true);
    s = lua_tolstring(L, 1, &n);
    if (!s) s = "", n = 0;
    SHA1((const unsigned char *)s, n, md);
    for (i = 0; i < SHA_DIGEST_LENGTH; i++)
        snprintf(hex + i * 2, 3, "%02x", md[i]);
    lua_pushlstring(L, hex, 40);
    return 1;
}

static int single_field(lua_State *L, const char *field)
{
    if (lua_gettop(L) != 1 || lua_type(L, -1) != LUA_TSTRING)
        return fail(L, "wrong number or type of arguments", false);
    lua_newtable(L);
    lua_pushstring(L, field);
    lua_pushvalue(L, -3);
    lua_settable(L, -3);
    return 1;
}

static int l_status_reply(lua_State *L)
{
    return single_field(L, "ok");
}

static int l_error_reply(lua_State *L)
{
    size_t n;
    const char *s;
    if (lua_gettop(L) != 1 || lua_type(L, -1) != LUA_TSTRING)
        return fail(L, "wrong number or type of arguments", false);
    s = lua_tolstring(L, -1, &n);
    if (n > 0 && s[0] == '-') {
        script_push_error(L, s, n);
    } else {
        luaL_Buffer b;
        luaL_buffinit(L, &b);
        luaL_addchar(&b, '-');
        luaL_addlstring(&b, s, n);
        luaL_pushresult(&b);
        s = lua_tolstring(L, -1, &n);
        script_push_error(L, s, n);
    }
    return 1;
}

/* A Lua number as the int Redis 7.0 reads it with a C cast: its integer
 * part, and INT_MIN (what the cast gives on x86-64; in C it is undefined)
 * where that does not fit an int (NaN, infinities, huge values), which
 * each caller then refuses as out of range. */
static int lua_to_int(lua_State *L, int idx)
{
    lua_Number d = lua_tonumber(L, idx);
    if (!(d > (lua_Number)INT_MIN - 1 && d < (lua_Number)INT_MAX + 1)) return INT_MIN;
    return (int)d;
}

static int l_log(lua_State *L)
{
    int argc = lua_gettop(L), j;
    int level;
    luaL_Buffer b;
    if (argc < 2) return fail(L, "redis.log() requires two arguments or more.", true);
    if (!lua_isnumber(L, -argc))
        return fail(L, "First argument must be a number (log level).", true);
    level = lua_to_int(L, -argc);
    if (level < LL_DEBUG || level > LL_WARNING) return fail(L, "Invalid debug level.", true);
    luaL_buffinit(L, &b);
    for (j = 2; j <= argc; j++) {
        size_t len;
        const char *s = lua_tolstring(L, j, &len);
        if (!s) continue;
        if (j != 2) luaL_addchar(&b, ' ');
        luaL_addlstring(&b, s, len);
    }
    luaL_pushresult(&b);
    log_msg((enum log_level)level, "%s", lua_tostring(L, -1));
    return 0;
}

static int l_setresp(lua_State *L)
{
    int resp;
    if (lua_gettop(L) != 1) return fail(L, "redis.setresp() requires one argument.", true);
    resp = lua_to_int(L, -1);
    if (resp != 2 && resp != 3) return fail(L, "RESP version must be 2 or 3.", true);
    if (g_script_run) g_script_run->resp = resp;
    if (g_script_client) g_script_client->resp = g_script_client->reply.resp = resp;
    return 0;
}

static int l_set_repl(lua_State *L)
{
    int flags;
    if (!g_script_run)
        return fail(L, "redis.set_repl can only be called inside a script invocation", true);
    if (lua_gettop(L) != 1) return fail(L, "redis.set_repl() requires two arguments.", true);
    flags = lua_to_int(L, -1);
    if ((flags & ~(REPL_AOF | REPL_REPLICA)) != 0)
        return fail(L,
                    "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.",
                    true);
    g_script_run->repl = flags;
    return 0;
}

static int l_replicate_commands(lua_State *L)
{
    lua_pushboolean(L, 1);
    return 1;
}

static int l_breakpoint(lua_State *L)
{
    return ldb_lua_breakpoint(L);
}

static int l_debug(lua_State *L)
{
    return ldb_lua_debug(L);
}

static void set_num(lua_State *L, const char *name, lua_Number v)
{
    lua_pushnumber(L, v);
    lua_setfield(L, -2, name);
}

void script_call_register(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"call", l_call},
        {"pcall", l_pcall},
        {"sha1hex", l_sha1hex},
        {"acl_check_cmd", l_acl_check_cmd},
        {"error_reply", l_error_reply},
        {"status_reply", l_status_reply},
        {"log", l_log},
        {"setresp", l_setresp},
        {"set_repl", l_set_repl},
        {"replicate_commands", l_replicate_commands},
        {"breakpoint", l_breakpoint},
        {"debug", l_debug},
        {NULL, NULL},
    };
    int i;
    lua_newtable(L);
    for (i = 0; fns[i].name; i++) {
        lua_pushcfunction(L, fns[i].func);
        lua_setfield(L, -2, fns[i].name);
    }
    set_num(L, "LOG_DEBUG", LL_DEBUG);
    set_num(L, "LOG_VERBOSE", LL_VERBOSE);
    set_num(L, "LOG_NOTICE", LL_NOTICE);
    set_num(L, "LOG_WARNING", LL_WARNING);
    set_num(L, "REPL_NONE", REPL_NONE);
    set_num(L, "REPL_AOF", REPL_AOF);
    set_num(L, "REPL_SLAVE", REPL_REPLICA);
    set_num(L, "REPL_REPLICA", REPL_REPLICA);
    set_num(L, "REPL_ALL", REPL_ALL);
    lua_pushstring(L, KEEL_REDIS_VERSION);
    lua_setfield(L, -2, "REDIS_VERSION");
    set_num(L, "REDIS_VERSION_NUM", KEEL_REDIS_VERSION_NUM);
    lua_setglobal(L, "redis");
}
