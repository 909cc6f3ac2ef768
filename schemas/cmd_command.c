/* cmd_command.c — COMMAND and its subcommands (COUNT, INFO, DOCS, LIST,
 * GETKEYS, GETKEYSANDFLAGS, HELP): the command table described to clients.
 * The reply shapes of one command live in registry.c (registry_reply_info,
 * registry_reply_docs, registry_getkeys_flags); this file walks the table. */
#include <stdlib.h>
#include <string.h>

#include "commands_gen.h"
#include "kernel.h"
#include "registry.h"
#include "util.h"

/* Whether a top-level table entry is registered (its handler or one of its
 * subcommands' handlers is linked in), as registry_init decides. */
static bool registered(const struct command *c)
{
    return c->fn || c->nsub > 0;
}

/* Redis's lookupCommandBySds: "name" or "container|sub" (one level only),
 * any case; NULL when unknown. */
static const struct command *lookup_by_name(const char *p, size_t n)
{
    const char *bar = memchr(p, '|', n);
    struct command *base;
    if (n == 0) return NULL;
    if (!bar) return registry_lookup(p, n);
    if (memchr(bar + 1, '|', n - (size_t)(bar + 1 - p))) return NULL;
    base = registry_lookup(p, (size_t)(bar - p));
    if (!base || base->nsub == 0) return NULL;
    return registry_lookup_sub(base, bar + 1, n - (size_t)(bar + 1 - p));
}

/* COMMAND */
void cmd_command(struct exec *x)
{
    int i;
    reply_array(x->r, registry_count());
    for (i = 0; registry_commands[i]; i++)
        if (registered(registry_commands[i])) registry_reply_info(x->r, registry_commands[i]);
}

/* COMMAND COUNT */
void cmd_command_count(struct exec *x)
{
    reply_int(x->r, registry_count());
}

/* COMMAND INFO [command-name [command-name ...]] */
void cmd_command_info(struct exec *x)
{
    const struct argval *names = ARG(x, A_COMMAND_INFO_command_name);
    int k;
    if (!names->present) {
        cmd_command(x);
        return;
    }
    reply_array(x->r, names->count);
    for (k = 0; k < names->count; k++) {
        const struct argv_ref *a = &x->argv[names->list[k]];
        const struct command *c = lookup_by_name(a->p, a->n);
        if (c)
            registry_reply_info(x->r, c);
        else
            reply_null(x->r);
    }
}

/* COMMAND DOCS [command-name [command-name ...]] */
void cmd_command_docs(struct exec *x)
{
    const struct argval *names = ARG(x, A_COMMAND_DOCS_command_name);
    int i, k, found = 0;
    const struct command **cmds;
    if (!names->present) {
        reply_map(x->r, registry_count());
        for (i = 0; registry_commands[i]; i++) {
            if (!registered(registry_commands[i])) continue;
            reply_cstr(x->r, registry_commands[i]->fullname);
            registry_reply_docs(x->r, registry_commands[i]);
        }
        return;
    }
    /* Unknown names are skipped, as Redis does. */
    cmds = xmalloc(sizeof(*cmds) * (size_t)names->count);
    for (k = 0; k < names->count; k++) {
        const struct argv_ref *a = &x->argv[names->list[k]];
        const struct command *c = lookup_by_name(a->p, a->n);
        if (c) cmds[found++] = c;
    }
    reply_map(x->r, found);
    for (k = 0; k < found; k++) {
        reply_cstr(x->r, cmds[k]->fullname);
        registry_reply_docs(x->r, cmds[k]);
    }
    free(cmds);
}

enum list_filter { LF_NONE, LF_MODULE, LF_ACLCAT, LF_PATTERN };

static bool list_match(const struct command *c, enum list_filter f, uint32_t cat,
                       const struct argv_ref *arg)
{
    switch (f) {
    case LF_NONE:
        return true;
    case LF_MODULE:
        return false; /* Keel loads no modules */
    case LF_ACLCAT:
        return cat && (c->acl & cat);
    case LF_PATTERN:
        return util_glob(arg->p, arg->n, c->fullname, strlen(c->fullname), true);
    }
    return false;
}

/* COMMAND LIST [FILTERBY MODULE module-name | ACLCAT category | PATTERN pattern] */
void cmd_command_list(struct exec *x)
{
    enum list_filter f = LF_NONE;
    const struct argv_ref *arg = NULL;
    uint32_t cat = 0;
    void *h;
    long long n = 0;
    int i, j;

    if (HAS(x, A_COMMAND_LIST_filterby)) {
        static const int slots[] = {A_COMMAND_LIST_filterby_module_name,
                                    A_COMMAND_LIST_filterby_category,
                                    A_COMMAND_LIST_filterby_pattern};
        int choice = ARG(x, A_COMMAND_LIST_filterby)->choice;
        /* Redis takes exactly one FILTERBY: a repeated one is a syntax error. */
        if (x->argc != 5) {
            reply_err(x->r, E_SYNTAX);
            return;
        }
        f = (enum list_filter)(LF_MODULE + choice);
        arg = &x->argv[ARG(x, slots[choice])->pos];
        if (f == LF_ACLCAT) {
            for (i = 0; registry_acl_names[i]; i++)
                if (util_eqci(arg->p, arg->n, registry_acl_names[i])) cat = 1u << i;
        }
    }
    h = reply_defer(x->r, AGG_ARRAY);
    for (i = 0; registry_commands[i]; i++) {
        const struct command *c = registry_commands[i];
        if (!registered(c)) continue;
        if (list_match(c, f, cat, arg)) {
            reply_cstr(x->r, c->fullname);
            n++;
        }
        for (j = 0; j < c->nsub; j++) {
            if (list_match(c->subs[j], f, cat, arg)) {
                reply_cstr(x->r, c->subs[j]->fullname);
                n++;
            }
        }
    }
    reply_set_deferred(x->r, h, n);
}

/* Redis's getKeysSubcommandImpl: argv[2..] is a full command line. */
static void getkeys(struct exec *x, bool with_flags)
{
    int argc = x->argc - 2, n, k, *pos, *flags;
    const struct argv_ref *argv = x->argv + 2;
    const struct command *cmd = registry_lookup(argv[0].p, argv[0].n);

    if (cmd && argc > 1 && cmd->nsub > 0)
        cmd = registry_lookup_sub((struct command *)cmd, argv[1].p, argv[1].n);
    if (!cmd) {
        reply_error(x->r, "ERR Invalid command specified");
        return;
    }
    if (!registry_has_keys(cmd)) {
        reply_error(x->r, "ERR The command has no key arguments");
        return;
    }
    if ((cmd->arity > 0 && cmd->arity != argc) || argc < -cmd->arity) {
        reply_error(x->r, "ERR Invalid number of arguments specified for command");
        return;
    }
    pos = xmalloc(sizeof(int) * (size_t)argc);
    flags = xmalloc(sizeof(int) * (size_t)argc);
    n = registry_getkeys_flags(cmd, argc, argv, pos, flags, argc);
    if (n > argc) n = argc;
    if (n <= 0) {
        if (cmd->flags & CMD_NO_MANDATORY_KEYS)
            reply_array(x->r, 0);
        else
            reply_error(x->r, "ERR Invalid arguments specified for command");
    } else {
        reply_array(x->r, n);
        for (k = 0; k < n; k++) {
            const struct argv_ref *key = &argv[pos[k]];
            if (with_flags) {
                int b, nf = 0;
                reply_array(x->r, 2);
                reply_bulk(x->r, key->p, key->n);
                for (b = 0; registry_keyspec_flag_names[b]; b++)
                    if (flags[k] & (1 << b)) nf++;
                reply_set(x->r, nf);
                for (b = 0; registry_keyspec_flag_names[b]; b++)
                    if (flags[k] & (1 << b)) reply_status(x->r, registry_keyspec_flag_names[b]);
            } else {
                reply_bulk(x->r, key->p, key->n);
            }
        }
    }
    free(pos);
    free(flags);
}

/* COMMAND GETKEYS command [arg [arg ...]] */
void cmd_command_getkeys(struct exec *x)
{
    getkeys(x, false);
}

/* COMMAND GETKEYSANDFLAGS command [arg [arg ...]] */
void cmd_command_getkeysandflags(struct exec *x)
{
    getkeys(x, true);
}

/* COMMAND HELP */
void cmd_command_help(struct exec *x)
{
    static const char *const help[] = {
        "(no subcommand)",
        "    Return details about all Redis commands.",
        "COUNT",
        "    Return the total number of commands in this Redis server.",
        "LIST",
        "    Return a list of all commands in this Redis server.",
        "INFO [<command-name> ...]",
        "    Return details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "DOCS [<command-name> ...]",
        "    Return documentation details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "GETKEYS <full-command>",
        "    Return the keys from a full Redis command.",
        "GETKEYSANDFLAGS <full-command>",
        "    Return the keys and the access flags from a full Redis command.",
        NULL,
    };
    reply_help(x->r, "COMMAND", help);
}
