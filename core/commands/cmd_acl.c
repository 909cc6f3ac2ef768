/* cmd_acl.c — the ACL command and its subcommands (SETUSER GETUSER DELUSER
 * LIST USERS WHOAMI CAT LOG GENPASS DRYRUN SAVE LOAD HELP), over the user
 * table of core/acl. */
#include <ctype.h>
#include <errno.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acl.h"
#include "commands_gen.h"
#include "config.h"
#include "kernel.h"
#include "util.h"

/* Extra words after CAT, GENPASS and LOG's arguments (keel_deferred_from
 * ""): Redis's text names the subcommand as the client typed it. */
static bool no_extra_words(struct exec *x, int deferred_slot)
{
    if (!x->args[deferred_slot].err) return true;
    reply_errorf(x->r,
                 "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try ACL HELP.",
                 (int)x->argv[1].n, x->argv[1].p);
    return false;
}

/* ACL SETUSER username [rule ...] */
void cmd_acl_setuser(struct exec *x)
{
    const struct argval *rv = ARG(x, A_ACL_SETUSER_rule);
    int n = rv->present ? rv->count : 0, i;
    const char *name = ARGP(x, A_ACL_SETUSER_username);
    size_t nlen = ARGN(x, A_ACL_SETUSER_username), k;
    const char **rules;
    size_t *lens;
    char err[512];
    /* Redis's ACLStringHasSpaces: no white space (isspace) and no NUL. */
    for (k = 0; k < nlen; k++) {
        if (isspace((unsigned char)name[k]) || name[k] == 0) {
            reply_error(x->r, "ERR Usernames can't contain spaces or null characters");
            return;
        }
    }
    rules = xmalloc(sizeof(char *) * (size_t)(n + 1));
    lens = xmalloc(sizeof(size_t) * (size_t)(n + 1));
    for (i = 0; i < n; i++) {
        rules[i] = x->argv[rv->list[i]].p;
        lens[i] = x->argv[rv->list[i]].n;
    }
    if (acl_setuser(name, nlen, n, rules, lens, err, sizeof(err)))
        reply_ok(x->r);
    else
        reply_errorf(x->r, "%s", err);
    free(rules);
    free(lens);
}

static void reply_selector_fields(struct reply *r, const struct acl_selector *s)
{
    char *c = acl_describe_commands(s), *k = acl_describe_keys(s), *ch = acl_describe_channels(s);
    reply_cstr(r, "commands");
    reply_cstr(r, c);
    reply_cstr(r, "keys");
    reply_cstr(r, k);
    reply_cstr(r, "channels");
    reply_cstr(r, ch);
    free(c);
    free(k);
    free(ch);
}

/* ACL GETUSER username */
void cmd_acl_getuser(struct exec *x)
{
    struct acl_user *u = acl_find(ARGP(x, A_ACL_GETUSER_username), ARGN(x, A_ACL_GETUSER_username));
    int nf, i, j;
    if (!u) {
        reply_null(x->r);
        return;
    }
    reply_map(x->r, 6);
    reply_cstr(x->r, "flags");
    nf = 1 + u->nopass + (u->sanitize != 0);
    reply_set(x->r, nf);
    reply_cstr(x->r, u->on ? "on" : "off");
    if (u->nopass) reply_cstr(x->r, "nopass");
    if (u->sanitize)
        reply_cstr(x->r, u->sanitize == 1 ? "sanitize-payload" : "skip-sanitize-payload");
    reply_cstr(x->r, "passwords");
    reply_array(x->r, u->npw);
    for (i = 0; i < u->npw; i++) {
        static const char hx[] = "0123456789abcdef";
        char hex[64];
        for (j = 0; j < 32; j++) {
            hex[2 * j] = hx[u->pw[i][j] >> 4];
            hex[2 * j + 1] = hx[u->pw[i][j] & 15];
        }
        reply_bulk(x->r, hex, 64);
    }
    reply_selector_fields(x->r, &u->sel[0]);
    reply_cstr(x->r, "selectors");
    reply_array(x->r, u->nsel - 1);
    for (i = 1; i < u->nsel; i++) {
        reply_map(x->r, 3);
        reply_selector_fields(x->r, &u->sel[i]);
    }
}

/* ACL DELUSER username [username ...] */
void cmd_acl_deluser(struct exec *x)
{
    const struct argval *v = ARG(x, A_ACL_DELUSER_username);
    long long n = 0;
    int i;
    for (i = 0; i < v->count; i++) {
        const struct argv_ref *w = &x->argv[v->list[i]];
        if (w->n == 7 && !memcmp(w->p, "default", 7)) {
            reply_error(x->r, "ERR The 'default' user cannot be removed");
            return;
        }
    }
    for (i = 0; i < v->count; i++) {
        const struct argv_ref *w = &x->argv[v->list[i]];
        if (acl_deluser(w->p, w->n)) n++;
    }
    reply_int(x->r, n);
}

static long long user_count(void)
{
    long long n = 0;
    struct acl_user *u;
    for (u = acl_first(); u; u = u->next)
        n++;
    return n;
}

/* ACL LIST */
void cmd_acl_list(struct exec *x)
{
    struct acl_user *u;
    reply_array(x->r, user_count());
    for (u = acl_first(); u; u = u->next) {
        char *d = acl_describe(u);
        size_t n = strlen(d) + u->namelen + 8;
        char *line = xmalloc(n);
        snprintf(line, n, "user %s %s", u->name, d);
        reply_cstr(x->r, line);
        free(line);
        free(d);
    }
}

/* ACL USERS */
void cmd_acl_users(struct exec *x)
{
    struct acl_user *u;
    reply_array(x->r, user_count());
    for (u = acl_first(); u; u = u->next)
        reply_bulk(x->r, u->name, u->namelen);
}

/* ACL WHOAMI */
void cmd_acl_whoami(struct exec *x)
{
    struct acl_user *u = acl_client_user(x->c);
    reply_bulk(x->r, u->name, u->namelen);
}

/* ACL CAT [categoryname] */
void cmd_acl_cat(struct exec *x)
{
    int i, j, cat;
    long long n = 0;
    void *h;
    if (!no_extra_words(x, A_ACL_CAT_deferred)) return;
    if (!HAS(x, A_ACL_CAT_categoryname)) {
        for (i = 0; registry_acl_names[i]; i++)
            n++;
        reply_array(x->r, n);
        for (i = 0; registry_acl_names[i]; i++)
            reply_cstr(x->r, registry_acl_names[i]);
        return;
    }
    cat = acl_category(ARGP(x, A_ACL_CAT_categoryname), ARGN(x, A_ACL_CAT_categoryname));
    if (cat < 0) {
        reply_errorf(x->r, "ERR Unknown category '%.*s'", (int)ARGN(x, A_ACL_CAT_categoryname),
                     ARGP(x, A_ACL_CAT_categoryname));
        return;
    }
    h = reply_defer(x->r, AGG_ARRAY);
    for (i = 0; registry_commands[i]; i++) {
        const struct command *c = registry_commands[i];
        if ((c->acl >> cat) & 1) {
            reply_cstr(x->r, c->fullname);
            n++;
        }
        for (j = 0; j < c->nsub; j++)
            if ((c->subs[j]->acl >> cat) & 1) {
                reply_cstr(x->r, c->subs[j]->fullname);
                n++;
            }
    }
    reply_set_deferred(x->r, h, n);
}

/* ACL LOG [count | RESET] */
void cmd_acl_log(struct exec *x)
{
    if (HAS(x, A_ACL_LOG_operation_reset)) {
        acl_log_reset();
        reply_ok(x->r);
        return;
    }
    if (HAS(x, A_ACL_LOG_operation_count)) {
        long long n = ARGI(x, A_ACL_LOG_operation_count);
        acl_log_reply(x->r, n < 0 ? 0 : n);
        return;
    }
    acl_log_reply(x->r, 10);
}

/* ACL GENPASS [bits] */
void cmd_acl_genpass(struct exec *x)
{
    static const char hx[] = "0123456789abcdef";
    long long bits = HAS(x, A_ACL_GENPASS_bits) ? ARGI(x, A_ACL_GENPASS_bits) : 256;
    unsigned char raw[512];
    char out[1024];
    size_t chars, i;
    if (!no_extra_words(x, A_ACL_GENPASS_deferred)) return;
    if (bits <= 0 || bits > 4096) {
        reply_error(x->r, "ERR ACL GENPASS argument must be the number of bits for the output "
                          "password, a positive number up to 4096");
        return;
    }
    chars = (size_t)(bits + 3) / 4;
    if (RAND_bytes(raw, (int)((chars + 1) / 2)) != 1) {
        reply_error(x->r, "ERR Unable to generate random bytes");
        return;
    }
    for (i = 0; i < chars; i++)
        out[i] = hx[(raw[i / 2] >> ((i & 1) ? 0 : 4)) & 15];
    reply_bulk(x->r, out, chars);
}

/* ACL DRYRUN username command [arg ...] */
void cmd_acl_dryrun(struct exec *x)
{
    struct acl_user *u = acl_find(ARGP(x, A_ACL_DRYRUN_username), ARGN(x, A_ACL_DRYRUN_username));
    const struct argv_ref *argv = &x->argv[ARG(x, A_ACL_DRYRUN_command)->pos];
    int argc = x->argc - ARG(x, A_ACL_DRYRUN_command)->pos, pos = 0, res;
    const struct command *cmd;
    char msg[512];
    if (!u) {
        reply_errorf(x->r, "ERR User '%.*s' not found", (int)ARGN(x, A_ACL_DRYRUN_username),
                     ARGP(x, A_ACL_DRYRUN_username));
        return;
    }
    cmd = registry_lookup(argv[0].p, argv[0].n);
    if (cmd && cmd->nsub && argc > 1) /* an unknown subcommand: not found, as Redis */
        cmd = registry_lookup_sub((struct command *)cmd, argv[1].p, argv[1].n);
    if (!cmd) {
        reply_errorf(x->r, "ERR Command '%.*s' not found", (int)argv[0].n, argv[0].p);
        return;
    }
    if ((cmd->arity > 0 && argc != cmd->arity) || argc < -cmd->arity) {
        reply_errorf(x->r, "ERR wrong number of arguments for '%s' command", cmd->fullname);
        return;
    }
    res = acl_check_cmd(u, cmd, argc, argv, &pos);
    if (res == ACL_OK) {
        reply_ok(x->r);
        return;
    }
    if (res == ACL_DENIED_CMD)
        snprintf(msg, sizeof(msg), "This user has no permissions to run the '%s' command",
                 cmd->fullname);
    else
        snprintf(msg, sizeof(msg), "This user has no permissions to access the '%.*s' %s",
                 (int)argv[pos].n, argv[pos].p, res == ACL_DENIED_KEY ? "key" : "channel");
    reply_cstr(x->r, msg);
}

static const char E_NO_ACLFILE[] =
    "ERR This Redis instance is not configured to use an ACL file. You may want to specify users "
    "via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis "
    "configuration file set) in order to store users in the Redis configuration.";

static const char *aclfile(void)
{
    static char buf[1024];
    const struct config_entry *e = config_find("aclfile", 7);
    if (!e) return NULL;
    config_get_text(e, buf, sizeof(buf));
    return buf[0] ? buf : NULL;
}

/* ACL SAVE: every user as a `user` line, written to a temp file renamed over aclfile. */
void cmd_acl_save(struct exec *x)
{
    const char *path = aclfile();
    char tmp[1100];
    FILE *f;
    struct acl_user *u;
    if (!path) {
        reply_error(x->r, E_NO_ACLFILE);
        return;
    }
    snprintf(tmp, sizeof(tmp), "%s.tmp-%d", path, (int)getpid());
    f = fopen(tmp, "w");
    if (!f) {
        reply_error(x->r, "ERR There was an error trying to save the ACLs. Please check the "
                          "server logs for more information");
        return;
    }
    for (u = acl_first(); u; u = u->next) {
        char *d = acl_describe(u);
        fprintf(f, "user %s %s\n", u->name, d);
        free(d);
    }
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        reply_error(x->r, "ERR There was an error trying to save the ACLs. Please check the "
                          "server logs for more information");
        return;
    }
    reply_ok(x->r);
}

/* Load aclfile: all or nothing. NULL on success, else the error text in err. */
const char *acl_load_file(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    char line[65536];
    struct acl_user *list = NULL, **tail = &list, *u;
    int lineno = 0;
    if (!f) {
        snprintf(err, errlen, "Error loading ACLs, opening file '%s': %s", path, strerror(errno));
        return err;
    }
    while (fgets(line, sizeof(line), f)) {
        const char *e;
        char *p = line;
        lineno++;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\n' || *p == '\r' || *p == 0 || *p == '#') continue;
        e = acl_parse_user_line(p, &u);
        if (e) {
            snprintf(err, errlen, "%s:%d: %s. ", path, lineno, e);
            goto fail;
        }
        for (struct acl_user *o = list; o; o = o->next)
            if (o->namelen == u->namelen && !memcmp(o->name, u->name, u->namelen)) {
                snprintf(err, errlen, "%s:%d: Duplicate user '%s' found. ", path, lineno, u->name);
                acl_user_free(u);
                goto fail;
            }
        *tail = u;
        tail = &u->next;
    }
    fclose(f);
    acl_replace_all(list);
    return NULL;
fail:
    fclose(f);
    while (list) {
        u = list->next;
        acl_user_free(list);
        list = u;
    }
    return err;
}

/* ACL LOAD */
void cmd_acl_load(struct exec *x)
{
    const char *path = aclfile();
    char err[1400];
    if (!path) {
        reply_error(x->r, E_NO_ACLFILE);
        return;
    }
    if (acl_load_file(path, err, sizeof(err))) {
        reply_errorf(x->r, "ERR %s", err);
        return;
    }
    reply_ok(x->r);
}

/* ACL HELP */
void cmd_acl_help(struct exec *x)
{
    static const char *const lines[] = {
        "CAT [<category>]",
        "    List all commands that belong to <category>, or all command categories",
        "    when no category is specified.",
        "DELUSER <username> [<username> ...]",
        "    Delete a list of users.",
        "DRYRUN <username> <command> [<arg> ...]",
        "    Returns whether the user can execute the given command without executing the command.",
        "GETUSER <username>",
        "    Get the user's details.",
        "GENPASS [<bits>]",
        "    Generate a secure 256-bit user password. The optional `bits` argument can",
        "    be used to specify a different size.",
        "LIST",
        "    Show users details in config file format.",
        "LOAD",
        "    Reload users from the ACL file.",
        "LOG [<count> | RESET]",
        "    Show the ACL log entries.",
        "SAVE",
        "    Save the current config to the ACL file.",
        "SETUSER <username> <attribute> [<attribute> ...]",
        "    Create or modify a user with the specified attributes.",
        "USERS",
        "    List all the registered usernames.",
        "WHOAMI",
        "    Return the current connection username.",
        NULL,
    };
    reply_help(x->r, "ACL", lines);
}
