/* cmd_stream_info.c — XINFO STREAM [FULL [COUNT count]], XINFO GROUPS and
 * XINFO CONSUMERS with Redis 7.0's fields (entries-added, max-deleted-
 * entry-id, recorded-first-entry-id, entries-read and lag) as maps; XINFO
 * HELP and XGROUP HELP. */
#include <string.h>

#include "cmd_stream.h"
#include "commands_gen.h"
#include "listpack.h"
#include "store.h"
#include "util.h"

#define SLOT_REF(x, slot) (&(x)->argv[(x)->args[(slot)].pos])

static void kv_ll(struct exec *x, const char *k, long long v)
{
    reply_cstr(x->r, k);
    reply_int(x->r, v);
}

static void kv_id(struct exec *x, const char *k, const struct sid *id)
{
    reply_cstr(x->r, k);
    xreply_id(x->r, id);
}

static void entries_read_lag(struct exec *x, struct stream *s, struct sgroup *g)
{
    long long lag;
    bool known = stream_group_lag(s, g, &lag);
    reply_cstr(x->r, "entries-read");
    if (g->entries_read != SCG_INVALID_READ)
        reply_int(x->r, g->entries_read);
    else
        reply_null(x->r);
    reply_cstr(x->r, "lag");
    if (known)
        reply_int(x->r, lag);
    else
        reply_null(x->r);
}

/* The stream's key for XINFO: NULL after replying (no such key / type). */
static struct stream *info_stream(struct exec *x, const struct argv_ref *key)
{
    bool bad;
    struct kv *e = xlookup(x, key->p, key->n, false, &bad);
    if (bad) return NULL;
    if (!e) {
        reply_err(x->r, E_NO_SUCH_KEY);
        return NULL;
    }
    return stream_of(e);
}

/* XINFO GROUPS key */
void cmd_xinfo_groups(struct exec *x)
{
    struct stream *s = info_stream(x, SLOT_REF(x, A_XINFO_GROUPS_key));
    struct rax_iter ri;
    bool ok;
    if (!s) return;
    if (!s->cgroups) {
        reply_array(x->r, 0);
        return;
    }
    reply_array(x->r, (long long)rax_size(s->cgroups));
    rax_iter_start(&ri, s->cgroups);
    for (ok = rax_seek(&ri, RAX_FIRST, NULL, 0); ok; ok = rax_next(&ri)) {
        struct sgroup *g = ri.data;
        reply_map(x->r, 6);
        reply_cstr(x->r, "name");
        reply_bulk(x->r, (const char *)ri.key, ri.key_len);
        kv_ll(x, "consumers", (long long)rax_size(g->consumers));
        kv_ll(x, "pending", (long long)rax_size(g->pel));
        kv_id(x, "last-delivered-id", &g->last_id);
        entries_read_lag(x, s, g);
    }
    rax_iter_stop(&ri);
}

/* XINFO CONSUMERS key group */
void cmd_xinfo_consumers(struct exec *x)
{
    const struct argv_ref *key = SLOT_REF(x, A_XINFO_CONSUMERS_key);
    const struct argv_ref *gname = SLOT_REF(x, A_XINFO_CONSUMERS_groupname);
    struct stream *s = info_stream(x, key);
    struct sgroup *g;
    struct rax_iter ri;
    long long now = util_mstime();
    bool ok;
    if (!s) return;
    g = stream_group_find(s, gname->p, gname->n);
    if (!g) {
        reply_errorf(x->r, "NOGROUP No such consumer group '%.*s' for key name '%.*s'",
                     (int)gname->n, gname->p, (int)key->n, key->p);
        return;
    }
    reply_array(x->r, (long long)rax_size(g->consumers));
    rax_iter_start(&ri, g->consumers);
    for (ok = rax_seek(&ri, RAX_FIRST, NULL, 0); ok; ok = rax_next(&ri)) {
        struct sconsumer *c = ri.data;
        long long idle = now - c->seen_time;
        reply_map(x->r, 3);
        reply_cstr(x->r, "name");
        reply_bulk(x->r, c->name, c->nlen);
        kv_ll(x, "pending", (long long)rax_size(c->pel));
        kv_ll(x, "idle", idle < 0 ? 0 : idle);
    }
    rax_iter_stop(&ri);
}

static void reply_edge_entry(struct exec *x, struct stream *s, bool first)
{
    struct sid id;
    if (!stream_edge_id(s, first, &id)) {
        reply_null(x->r);
        return;
    }
    {
        struct stream_iter it;
        long long nf;
        char fb[LP_INTBUF], vb[LP_INTBUF];
        const char *f, *v;
        size_t fl, vl;
        stream_iter_start(&it, s, &id, &id, false);
        stream_iter_next(&it, &id, &nf);
        reply_array(x->r, 2);
        xreply_id(x->r, &id);
        reply_array(x->r, nf * 2);
        while (stream_iter_field(&it, &f, &fl, fb, &v, &vl, vb)) {
            reply_bulk(x->r, f, fl);
            reply_bulk(x->r, v, vl);
        }
        stream_iter_stop(&it);
    }
}

static void info_full(struct exec *x, struct stream *s, long long count)
{
    struct rax_iter gi, pi, ci;
    bool ok, ok2;
    long long now = util_mstime();
    (void)now;
    reply_cstr(x->r, "entries");
    xreply_range(x, s, NULL, NULL, count, false, NULL, NULL, 0, NULL, 0, NULL, 0);
    reply_cstr(x->r, "groups");
    if (!s->cgroups) {
        reply_array(x->r, 0);
        return;
    }
    reply_array(x->r, (long long)rax_size(s->cgroups));
    rax_iter_start(&gi, s->cgroups);
    for (ok = rax_seek(&gi, RAX_FIRST, NULL, 0); ok; ok = rax_next(&gi)) {
        struct sgroup *g = gi.data;
        long long n;
        reply_map(x->r, 7);
        reply_cstr(x->r, "name");
        reply_bulk(x->r, (const char *)gi.key, gi.key_len);
        kv_id(x, "last-delivered-id", &g->last_id);
        entries_read_lag(x, s, g);
        kv_ll(x, "pel-count", (long long)rax_size(g->pel));
        reply_cstr(x->r, "pending");
        n = (long long)rax_size(g->pel);
        if (count && count < n) n = count;
        reply_array(x->r, n);
        rax_iter_start(&pi, g->pel);
        for (ok2 = rax_seek(&pi, RAX_FIRST, NULL, 0); ok2 && n > 0; ok2 = rax_next(&pi), n--) {
            struct snack *nack = pi.data;
            struct sid id;
            sid_decode(pi.key, &id);
            reply_array(x->r, 4);
            xreply_id(x->r, &id);
            reply_bulk(x->r, nack->consumer->name, nack->consumer->nlen);
            reply_int(x->r, nack->delivery_time);
            reply_int(x->r, (long long)nack->delivery_count);
        }
        rax_iter_stop(&pi);
        reply_cstr(x->r, "consumers");
        reply_array(x->r, (long long)rax_size(g->consumers));
        rax_iter_start(&ci, g->consumers);
        for (ok2 = rax_seek(&ci, RAX_FIRST, NULL, 0); ok2; ok2 = rax_next(&ci)) {
            struct sconsumer *c = ci.data;
            bool ok3;
            reply_map(x->r, 4);
            reply_cstr(x->r, "name");
            reply_bulk(x->r, c->name, c->nlen);
            kv_ll(x, "seen-time", c->seen_time);
            kv_ll(x, "pel-count", (long long)rax_size(c->pel));
            reply_cstr(x->r, "pending");
            n = (long long)rax_size(c->pel);
            if (count && count < n) n = count;
            reply_array(x->r, n);
            rax_iter_start(&pi, c->pel);
            for (ok3 = rax_seek(&pi, RAX_FIRST, NULL, 0); ok3 && n > 0; ok3 = rax_next(&pi), n--) {
                struct snack *nack = pi.data;
                struct sid id;
                sid_decode(pi.key, &id);
                reply_array(x->r, 3);
                xreply_id(x->r, &id);
                reply_int(x->r, nack->delivery_time);
                reply_int(x->r, (long long)nack->delivery_count);
            }
            rax_iter_stop(&pi);
        }
        rax_iter_stop(&ci);
    }
    rax_iter_stop(&gi);
}

/* XINFO STREAM key [FULL [COUNT count]] */
void cmd_xinfo_stream(struct exec *x)
{
    struct stream *s = info_stream(x, SLOT_REF(x, A_XINFO_STREAM_key));
    bool full = HAS(x, A_XINFO_STREAM_full);
    long long count = 10;
    if (!s) return;
    if (!arg_ok(x, A_XINFO_STREAM_deferred)) return; /* read after the key, as Redis */
    if (full && HAS(x, A_XINFO_STREAM_full_count)) {
        count = ARGI(x, A_XINFO_STREAM_full_count);
        if (count < 0) count = 10;
    }
    reply_map(x->r, full ? 9 : 10);
    kv_ll(x, "length", (long long)s->length);
    kv_ll(x, "radix-tree-keys", (long long)rax_size(s->rax));
    kv_ll(x, "radix-tree-nodes", (long long)s->rax->numnodes);
    kv_id(x, "last-generated-id", &s->last_id);
    kv_id(x, "max-deleted-entry-id", &s->max_deleted_id);
    kv_ll(x, "entries-added", (long long)s->entries_added);
    kv_id(x, "recorded-first-entry-id", &s->first_id);
    if (full) {
        info_full(x, s, count);
        return;
    }
    kv_ll(x, "groups", s->cgroups ? (long long)rax_size(s->cgroups) : 0);
    reply_cstr(x->r, "first-entry");
    reply_edge_entry(x, s, true);
    reply_cstr(x->r, "last-entry");
    reply_edge_entry(x, s, false);
}

/* XINFO HELP */
void cmd_xinfo_help(struct exec *x)
{
    static const char *const lines[] = {
        "CONSUMERS <key> <groupname>",
        "    Show consumers of <groupname>.",
        "GROUPS <key>",
        "    Show the stream consumer groups.",
        "STREAM <key> [FULL [COUNT <count>]",
        "    Show information about the stream.",
        NULL,
    };
    reply_help(x->r, "XINFO", lines);
}

/* XGROUP HELP */
void cmd_xgroup_help(struct exec *x)
{
    static const char *const lines[] = {
        "CREATE <key> <groupname> <id|$> [option]",
        "    Create a new consumer group. Options are:",
        "    * MKSTREAM",
        "      Create the empty stream if it does not exist.",
        "    * ENTRIESREAD entries_read",
        "      Set the group's entries_read counter (internal use).",
        "CREATECONSUMER <key> <groupname> <consumer>",
        "    Create a new consumer in the specified group.",
        "DELCONSUMER <key> <groupname> <consumer>",
        "    Remove the specified consumer.",
        "DESTROY <key> <groupname>",
        "    Remove the specified group.",
        "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
        "    Set the current group ID and entries_read counter.",
        NULL,
    };
    reply_help(x->r, "XGROUP", lines);
}
