/* registry_reply.c — the COMMAND INFO and COMMAND DOCS reply shapes of one
 * command (registry.h), from the generated table: flags, ACL categories,
 * key specs, arguments (keel_hidden ones left out), history, subcommands.
 * Lookup, the matcher and key extraction are registry.c. */
#include <stdio.h>

#include "reply.h"
#include "registry.h"

/* COMMAND INFO's flag names in bit order; NULL = hidden (as Redis hides them). */
/* clang-format off */
const char *const registry_flag_names[] = {
    "write",    "readonly", "denyoom",      "module",       "admin",   "pubsub",
    "noscript", "blocking", "loading",      "stale",        "skip_monitor", "skip_slowlog",
    "asking",   "fast",     "no_auth",      NULL,           NULL,      NULL,
    "no_mandatory_keys", NULL, "no_async_loading", "no_multi", "movablekeys", "allow_busy",
};
/* clang-format on */

/* ---- COMMAND INFO ---- */

static void reply_flags(struct reply *r, uint32_t flags)
{
    int i, n = 0;
    for (i = 0; i < 24; i++)
        if ((flags & (1u << i)) && registry_flag_names[i]) n++;
    reply_set(r, n);
    for (i = 0; i < 24; i++)
        if ((flags & (1u << i)) && registry_flag_names[i]) reply_status(r, registry_flag_names[i]);
}

static void reply_acl(struct reply *r, uint32_t acl)
{
    int i, n = 0;
    char buf[64];
    for (i = 0; registry_acl_names[i]; i++)
        if (acl & (1u << i)) n++;
    reply_set(r, n);
    for (i = 0; registry_acl_names[i]; i++) {
        if (acl & (1u << i)) {
            snprintf(buf, sizeof(buf), "@%s", registry_acl_names[i]);
            reply_status(r, buf);
        }
    }
}

static void reply_key_specs(struct reply *r, const struct command *c)
{
    int s, i, n;
    reply_set(r, c->nkey_specs);
    for (s = 0; s < c->nkey_specs; s++) {
        const struct key_spec *ks = &c->key_specs[s];
        reply_map(r, ks->notes ? 4 : 3);
        if (ks->notes) {
            reply_cstr(r, "notes");
            reply_cstr(r, ks->notes);
        }
        reply_cstr(r, "flags");
        for (n = 0, i = 0; registry_keyspec_flag_names[i]; i++)
            if (ks->flags & (1 << i)) n++;
        reply_set(r, n);
        for (i = 0; registry_keyspec_flag_names[i]; i++)
            if (ks->flags & (1 << i)) reply_status(r, registry_keyspec_flag_names[i]);
        reply_cstr(r, "begin_search");
        reply_map(r, 2);
        reply_cstr(r, "type");
        if (ks->bs_type == KS_BS_INDEX) {
            reply_cstr(r, "index");
            reply_cstr(r, "spec");
            reply_map(r, 1);
            reply_cstr(r, "index");
            reply_int(r, ks->bs_index);
        } else if (ks->bs_type == KS_BS_KEYWORD) {
            reply_cstr(r, "keyword");
            reply_cstr(r, "spec");
            reply_map(r, 2);
            reply_cstr(r, "keyword");
            reply_cstr(r, ks->bs_keyword);
            reply_cstr(r, "startfrom");
            reply_int(r, ks->bs_startfrom);
        } else {
            reply_cstr(r, "unknown");
            reply_cstr(r, "spec");
            reply_map(r, 0);
        }
        reply_cstr(r, "find_keys");
        reply_map(r, 2);
        reply_cstr(r, "type");
        if (ks->fk_type == KS_FK_RANGE) {
            reply_cstr(r, "range");
            reply_cstr(r, "spec");
            reply_map(r, 3);
            reply_cstr(r, "lastkey");
            reply_int(r, ks->fk_lastkey);
            reply_cstr(r, "keystep");
            reply_int(r, ks->fk_keystep);
            reply_cstr(r, "limit");
            reply_int(r, ks->fk_limit);
        } else if (ks->fk_type == KS_FK_KEYNUM) {
            reply_cstr(r, "keynum");
            reply_cstr(r, "spec");
            reply_map(r, 3);
            reply_cstr(r, "keynumidx");
            reply_int(r, ks->fk_keynumidx);
            reply_cstr(r, "firstkey");
            reply_int(r, ks->fk_firstkey);
            reply_cstr(r, "keystep");
            reply_int(r, ks->fk_kstep);
        } else {
            reply_cstr(r, "unknown");
            reply_cstr(r, "spec");
            reply_map(r, 0);
        }
    }
}

void registry_reply_info(struct reply *r, const struct command *c)
{
    int i;
    reply_array(r, 10);
    reply_cstr(r, c->fullname);
    reply_int(r, c->arity);
    reply_flags(r, c->flags);
    reply_int(r, c->first_key);
    reply_int(r, c->last_key);
    reply_int(r, c->key_step);
    reply_acl(r, c->acl);
    reply_set(r, c->ntips);
    for (i = 0; i < c->ntips; i++)
        reply_cstr(r, c->tips[i]);
    reply_key_specs(r, c);
    if (c->nsub == 0) {
        reply_set(r, 0);
    } else {
        reply_array(r, c->nsub);
        for (i = 0; i < c->nsub; i++)
            registry_reply_info(r, c->subs[i]);
    }
}

/* ---- COMMAND DOCS ---- */

static const char *const type_names[] = {"key",     "string",     "integer", "double", "unix-time",
                                         "pattern", "pure-token", "oneof",   "block"};

static void reply_args(struct reply *r, const struct arg_spec *a, int n)
{
    int j, shown = 0;
    for (j = 0; j < n; j++)
        if (!(a[j].flags & AF_HIDDEN)) shown++;
    reply_array(r, shown);
    for (j = 0; j < n; j++) {
        const struct arg_spec *x = &a[j];
        int len = 2, nf = 0;
        if (x->flags & AF_HIDDEN) continue; /* keel_hidden */
        int flags = x->flags & (AF_OPTIONAL | AF_MULTIPLE | AF_MULTIPLE_TOKEN);
        if (x->key_spec_index != -1) len++;
        if (x->token) len++;
        if (x->since) len++;
        if (x->deprecated_since) len++;
        if (flags) len++;
        if (x->type == ARG_ONEOF || x->type == ARG_BLOCK) len++;
        reply_map(r, len);
        reply_cstr(r, "name");
        reply_cstr(r, x->name);
        reply_cstr(r, "type");
        reply_cstr(r, type_names[x->type]);
        if (x->key_spec_index != -1) {
            reply_cstr(r, "key_spec_index");
            reply_int(r, x->key_spec_index);
        }
        if (x->token) {
            reply_cstr(r, "token");
            reply_cstr(r, x->token);
        }
        if (x->since) {
            reply_cstr(r, "since");
            reply_cstr(r, x->since);
        }
        if (x->deprecated_since) {
            reply_cstr(r, "deprecated_since");
            reply_cstr(r, x->deprecated_since);
        }
        if (flags) {
            reply_cstr(r, "flags");
            nf = !!(flags & AF_OPTIONAL) + !!(flags & AF_MULTIPLE) + !!(flags & AF_MULTIPLE_TOKEN);
            reply_set(r, nf);
            if (flags & AF_OPTIONAL) reply_status(r, "optional");
            if (flags & AF_MULTIPLE) reply_status(r, "multiple");
            if (flags & AF_MULTIPLE_TOKEN) reply_status(r, "multiple_token");
        }
        if (x->type == ARG_ONEOF || x->type == ARG_BLOCK) {
            reply_cstr(r, "arguments");
            reply_args(r, x->children, x->nchildren);
        }
    }
}

static void reply_docs(struct reply *r, const struct command *c, bool with_info)
{
    int len = with_info ? 5 : 1, i;
    /* keel_grammar: the documented arguments are not the matched ones */
    const struct arg_spec *dargs = c->doc_args ? c->doc_args : c->args;
    int ndargs = c->doc_args ? c->ndoc_args : c->nargs;
    bool args = ndargs && !c->args_hidden;
    if (c->summary) len++;
    if (c->since) len++;
    if (c->complexity) len++;
    if (c->doc_deprecated) len++;
    if (c->deprecated_since) len++;
    if (c->replaced_by) len++;
    if (c->nhistory) len++;
    if (args) len++;
    if (c->nsub) len++;
    reply_map(r, len);
    if (c->summary) {
        reply_cstr(r, "summary");
        reply_cstr(r, c->summary);
    }
    if (c->since) {
        reply_cstr(r, "since");
        reply_cstr(r, c->since);
    }
    reply_cstr(r, "group");
    reply_cstr(r, c->group ? c->group : "generic");
    if (with_info) {
        reply_cstr(r, "arity");
        reply_int(r, c->arity);
        reply_cstr(r, "flags");
        reply_flags(r, c->flags);
        reply_cstr(r, "acl_categories");
        reply_acl(r, c->acl);
        reply_cstr(r, "key_specs");
        reply_key_specs(r, c);
    }
    if (c->complexity) {
        reply_cstr(r, "complexity");
        reply_cstr(r, c->complexity);
    }
    if (c->doc_deprecated) {
        reply_cstr(r, "doc_flags");
        reply_set(r, (c->doc_deprecated & 1) + ((c->doc_deprecated >> 1) & 1));
        if (c->doc_deprecated & 1) reply_status(r, "deprecated");
        if (c->doc_deprecated & 2) reply_status(r, "syscmd");
    }
    if (c->deprecated_since) {
        reply_cstr(r, "deprecated_since");
        reply_cstr(r, c->deprecated_since);
    }
    if (c->replaced_by) {
        reply_cstr(r, "replaced_by");
        reply_cstr(r, c->replaced_by);
    }
    if (c->nhistory) {
        reply_cstr(r, "history");
        reply_set(r, c->nhistory);
        for (i = 0; i < c->nhistory; i++) {
            reply_array(r, 2);
            reply_cstr(r, c->history[2 * i]);
            reply_cstr(r, c->history[2 * i + 1]);
        }
    }
    if (args) {
        reply_cstr(r, "arguments");
        reply_args(r, dargs, ndargs);
    }
    if (c->nsub) {
        reply_cstr(r, "subcommands");
        reply_map(r, c->nsub);
        for (i = 0; i < c->nsub; i++) {
            reply_cstr(r, c->subs[i]->fullname);
            reply_docs(r, c->subs[i], with_info);
        }
    }
}

void registry_reply_docs(struct reply *r, const struct command *c)
{
    reply_docs(r, c, false);
}

void registry_reply_describe(struct reply *r, const struct command *c)
{
    reply_docs(r, c, true);
}
