/* script_busy.c — long scripts (script_busy.h). Every 100,000 Lua
 * instructions a count hook compares the run's age with
 * busy-reply-threshold; past it the script is "busy": the hook pumps the
 * event loop at each call so other clients are answered (-BUSY, except
 * the ALLOW_BUSY commands: SCRIPT KILL, FUNCTION KILL, SHUTDOWN NOSAVE,
 * ...), and raises Redis's kill error once SCRIPT KILL / FUNCTION KILL
 * asked (refused with -UNKILLABLE when the script has written). */
#include "script_busy.h"

#include <lauxlib.h>
#include <lua.h>

#include "config.h"
#include "kernel.h"
#include "log.h"
#include "registry.h"
#include "script.h"
#include "util.h"

#define HOOK_EVERY 100000

static const char busy_eval[] =
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
static const char busy_function[] =
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";

static void count_hook(lua_State *L, lua_Debug *ar)
{
    struct script_run *run = g_script_run;
    (void)ar;
    if (!run) return;
    if (!run->busy) {
        long long elapsed = util_mstime() - run->start_ms;
        if (g_config.busy_reply_threshold <= 0 || elapsed < g_config.busy_reply_threshold) return;
        run->busy = true;
        log_warning("Slow script detected: still in execution after %lld milliseconds. You can "
                    "try killing the script using the %s command. Script name is: %s.",
                    elapsed, run->is_function ? "FUNCTION KILL" : "SCRIPT KILL", run->name);
    }
    kernel_pump_events();
    if (run->killed) {
        log_warning("Lua script killed by user with SCRIPT KILL.");
        /* Every line from now on: a pcall in the script cannot catch it for good. */
        lua_sethook(L, count_hook, LUA_MASKLINE, 0);
        {
            static const char killed[] = "-ERR Script killed by user with SCRIPT KILL...";
            script_push_error(L, killed, sizeof(killed) - 1);
        }
        script_raise(L);
    }
}

void script_busy_begin(lua_State *L, struct script_run *run)
{
    (void)run;
    lua_sethook(L, count_hook, LUA_MASKCOUNT, HOOK_EVERY);
}

void script_busy_end(lua_State *L, struct script_run *run)
{
    (void)run;
    lua_sethook(L, NULL, 0, 0);
}

void script_busy_kill(struct exec *x, bool function)
{
    struct script_run *run = g_script_run;
    if (!run || !run->busy) {
        reply_error(x->r, "NOTBUSY No scripts in execution right now.");
        return;
    }
    if (run->wrote) {
        reply_error(x->r, "UNKILLABLE Sorry the script already executed write commands against "
                          "the dataset. You can either wait the script termination or kill the "
                          "server in a hard way using the SHUTDOWN NOSAVE command.");
        return;
    }
    if (!function && run->is_function) {
        reply_error(x->r, busy_function);
        return;
    }
    if (function && !run->is_function) {
        reply_error(x->r, busy_eval);
        return;
    }
    run->killed = true;
    reply_ok(x->r);
}

bool script_busy_refuse(struct client *c, const struct command *cmd, struct reply *r)
{
    struct script_run *run = g_script_run;
    (void)c;
    if (!run || !run->busy || !kernel_pumping()) return false;
    if (cmd->flags & CMD_ALLOW_BUSY) return false;
    reply_error(r, run->is_function ? busy_function : busy_eval);
    return true;
}
