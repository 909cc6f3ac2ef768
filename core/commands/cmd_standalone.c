/* cmd_standalone.c — what a standalone Redis 7.0 server with no modules
 * answers to the cluster and module commands: CLUSTER (every subcommand),
 * READONLY, READWRITE and ASKING answer that cluster support is disabled, as
 * redis-server does with `cluster-enabled no` (Keel runs no cluster; its
 * upstream mode fronts one). MODULE LIST is the empty list of loaded modules
 * and MODULE HELP lists just the subcommands Keel has: Keel loads no Redis
 * modules, so MODULE LOAD, LOADEX and UNLOAD are not registered. Arity and
 * unknown subcommands are the registry's; the cluster commands read no
 * argument (keel_raw_arguments), as Redis checks nothing before this reply. */
#include "kernel.h"

/* CLUSTER <subcommand> [...] / READONLY / READWRITE / ASKING */
void cmd_cluster_disabled(struct exec *x)
{
    reply_error(x->r, "ERR This instance has cluster support disabled");
}

/* MODULE LIST */
void cmd_module_list(struct exec *x)
{
    reply_array(x->r, 0);
}

/* MODULE HELP */
void cmd_module_help(struct exec *x)
{
    static const char *const help[] = {
        "LIST",
        "    Return a list of loaded modules.",
        NULL,
    };
    reply_help(x->r, "MODULE", help);
}
