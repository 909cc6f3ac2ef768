/* cmd_memory.c — memory as commands see it: MEMORY USAGE (Redis's
 * per-encoding estimates), STATS, DOCTOR, MALLOC-STATS, PURGE and HELP;
 * the overhead figures INFO's memory section shares; and maxmemory's
 * admission, the kernel's refusal hook that runs the eviction loop of
 * core/store/evict.c before each command and answers -OOM as Redis 7.0
 * does (cmd_memory.h). */
#include "cmd_memory.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aof.h"
#include "client.h"
#include "client_info.h"
#include "client_mem.h"
#include "commands_gen.h"
#include "config.h"
#include "evict.h"
#include "intset.h"
#include "kernel.h"
#include "listpack.h"
#include "log.h"
#include "mem.h"
#include "multi.h"
#include "server.h"
#include "stats.h"
#include "store.h"
#include "t_hash.h"
#include "t_list.h"
#include "t_set.h"
#include "t_zset.h"

/* ---- MEMORY USAGE: Redis's estimate, in Redis's structures' sizes ---- */

/* Redis 7.0's structure sizes on 64-bit (robj, dictEntry, dict,
 * quicklist, quicklistNode, zset, zskiplist, skiplist node and level). */
enum {
    R_ROBJ = 16,
    R_DICTENTRY = 24,
    R_DICT = 56,
    R_QUICKLIST = 40,
    R_QLNODE = 40,
    R_ZSET = 16,
    R_ZSKIPLIST = 32,
    R_ZSLNODE = 24,
    R_ZSLLEVEL = 16,
    R_ZSL_MAXLEVEL = 32,
};

/* An sds string of len bytes allocated exactly (sdsnewlen). */
static size_t sds_size(size_t len)
{
    size_t hdr = len == 0 ? 3u : len < 32 ? 1u : len < 256 ? 3u : len < 65536 ? 5u : 9u;
    return je_usable(hdr + len + 1);
}

static size_t dict_slots(const struct dict *d)
{
    return (size_t)(d->size[0] + d->size[1]);
}

/* asize plus the sampled average times n, as Redis's `asize += (double)
 * elesize / samples * n`: the sum is taken in double, then truncated (the
 * estimate alone truncated first can come out one byte lower). */
static size_t add_estimate(size_t asize, size_t bytes, size_t got, size_t n)
{
    return (size_t)((double)asize + (double)bytes / (double)got * (double)n);
}

struct sample_acc {
    size_t want, got, bytes;
    int kind; /* 0 set member, 1 hash field */
};

static void sample_member(void *priv, struct dnode *n)
{
    struct sample_acc *a = priv;
    if (a->got >= a->want) return;
    if (a->kind == 0) {
        a->bytes += R_DICTENTRY + sds_size(((struct smember *)n)->len);
    } else {
        struct hfield *h = (struct hfield *)n;
        a->bytes += R_DICTENTRY + sds_size(h->flen) + sds_size(h->vlen);
    }
    a->got++;
}

static size_t sample_dict(struct dict *d, int kind, size_t samples)
{
    struct sample_acc a = {samples, 0, 0, kind};
    size_t asize = R_ROBJ + R_DICT + sizeof(void *) * dict_slots(d);
    uint64_t cursor = 0;
    /* The first `samples` members in table order, as Redis's iterator. */
    do {
        cursor = dict_scan(d, cursor, sample_member, &a);
    } while (cursor && a.got < a.want);
    if (a.got) asize = add_estimate(asize, a.bytes, a.got, dict_size(d));
    return asize;
}

/* A quicklist node's allocation in Redis: its listpack, its LZF blob (a
 * size_t and the compressed bytes), or a plain node's bare element (Keel
 * keeps that element in a one-entry listpack). A compressed plain node is
 * sized from Keel's blob: Redis compresses the bare element. */
static size_t ql_node_size(const struct ql_node *n)
{
    if (n->compressed) return je_usable((size_t)4 + n->clen);
    if (n->plain) {
        struct ql_val v;
        unsigned char *tmp;
        ql_node_first(n, &v, &tmp);
        free(tmp);
        return je_usable(v.n);
    }
    return je_usable(lp_bytes(n->lp));
}

static size_t value_size(struct kv *e, size_t samples)
{
    switch (e->type) {
    case OBJ_STRING:
        if (e->enc == ENC_INT) return R_ROBJ;
        if (e->enc == ENC_EMBSTR) return je_usable(R_ROBJ + 3 + e->v.len + 1);
        {
            /* An exact copy (SET, SETRANGE of a new key) is sdsnewlen's;
             * one with room was grown by sdsMakeRoomFor, never SDS_TYPE_5. */
            struct rstr *s = e->v.ptr;
            size_t hdr;
            if (s->cap <= s->len) return R_ROBJ + sds_size(s->len);
            hdr = s->cap < 256 ? 3u : s->cap < 65536 ? 5u : 9u;
            return R_ROBJ + je_usable(hdr + s->cap + 1);
        }
    case OBJ_LIST: {
        struct quicklist *ql = e->v.ptr;
        struct ql_node *n = ql->head;
        size_t asize = R_ROBJ + R_QUICKLIST, bytes = 0, got = 0;
        while (n && got < samples) {
            bytes += R_QLNODE + ql_node_size(n);
            got++;
            n = n->next;
        }
        if (got) asize = add_estimate(asize, bytes, got, ql->len);
        return asize;
    }
    case OBJ_SET:
        if (e->enc == ENC_INTSET) return R_ROBJ + je_usable(intset_blob_len(e->v.ptr));
        return sample_dict(e->v.ptr, 0, samples);
    case OBJ_HASH:
        if (e->enc == ENC_LISTPACK) return R_ROBJ + je_usable(lp_bytes(e->v.ptr));
        return sample_dict(e->v.ptr, 1, samples);
    case OBJ_ZSET: {
        struct zset *zs;
        struct zsl_node *n;
        size_t asize, bytes = 0, got = 0;
        if (e->enc == ENC_LISTPACK) return R_ROBJ + je_usable(lp_bytes(e->v.ptr));
        zs = e->v.ptr;
        asize = R_ROBJ + R_ZSET + R_ZSKIPLIST + R_DICT + sizeof(void *) * dict_slots(&zs->dict) +
                je_usable(R_ZSLNODE + R_ZSLLEVEL * R_ZSL_MAXLEVEL);
        for (n = zs->zsl.header->lv[0].forward; n && got < samples; n = n->lv[0].forward) {
            bytes += sds_size(n->mlen) + R_DICTENTRY + je_usable(R_ZSLNODE + R_ZSLLEVEL * n->level);
            got++;
        }
        if (got) asize = add_estimate(asize, bytes, got, dict_size(&zs->dict));
        return asize;
    }
    default:
        return R_ROBJ;
    }
}

size_t memory_usage(struct kv *e, long long samples)
{
    size_t s = samples <= 0 ? (size_t)-1 : (size_t)samples;
    return value_size(e, s) + sds_size(e->klen) + R_DICTENTRY;
}

/* MEMORY USAGE key [SAMPLES count] */
void cmd_memory_usage(struct exec *x)
{
    long long samples = 5;
    struct kv *e;
    if (HAS(x, A_MEMORY_USAGE_count)) samples = ARGI(x, A_MEMORY_USAGE_count);
    /* No expiry, no statistics, no access: Redis reads the dict itself. */
    e = store_peek(x->db, ARGP(x, A_MEMORY_USAGE_key), ARGN(x, A_MEMORY_USAGE_key));
    if (!e) {
        reply_null(x->r);
        return;
    }
    reply_int(x->r, (long long)memory_usage(e, samples));
}

/* ---- overhead figures (INFO memory, MEMORY STATS, MEMORY DOCTOR) ---- */

static size_t startup_mem;

void memory_mark_startup(void)
{
    startup_mem = mem_used();
}

size_t memory_db_overhead_main(int id)
{
    struct db *db = store_db(id);
    size_t n = (size_t)dict_size(&db->keys);
    return n * sizeof(struct kv) + dict_slots(&db->keys) * sizeof(void *);
}

size_t memory_db_overhead_expires(int id)
{
    struct db *db = store_db(id);
    return db->nexp * sizeof(struct kv_exp) + db->capexp * sizeof(void *);
}

static size_t clients_memory(void)
{
    size_t total = 0;
    struct client *c;
    for (c = g_clients.head; c; c = c->next)
        total += client_mem_of(c);
    return total;
}

void memory_overhead(struct mem_overhead *mh)
{
    struct stats st;
    size_t net;
    int i;
    memset(mh, 0, sizeof(*mh));
    stats_read(&st);
    mh->total = mem_used();
    mh->startup = startup_mem;
    mh->peak = st.used_memory_peak > mh->total ? st.used_memory_peak : mh->total;
    mh->rss = st.used_memory_rss;
    mh->clients_normal = clients_memory();
    mh->aof_buffer = aof_buffer_size();
    mh->overhead_total = mh->startup + mh->clients_normal + mh->aof_buffer;
    for (i = 0; i < g_store.ndb; i++) {
        struct db *db = store_db(i);
        if (dict_size(&db->keys) == 0) continue;
        mh->keys += (long long)dict_size(&db->keys);
        mh->overhead_total += memory_db_overhead_main(i) + memory_db_overhead_expires(i);
    }
    mh->dataset = mh->total > mh->overhead_total ? mh->total - mh->overhead_total : 0;
    mh->peak_perc = mh->peak ? (double)mh->total * 100 / (double)mh->peak : 0;
    net = mh->total > mh->startup ? mh->total - mh->startup : 1;
    mh->dataset_perc = (double)mh->dataset * 100 / (double)net;
    mh->bytes_per_key = mh->keys ? net / (size_t)mh->keys : 0;
    {
        /* glibc's view: bytes handed out, and bytes it holds from the
         * system (arena plus mmapped blocks). Under ASan it reports nothing. */
        struct mallinfo2 mi = mallinfo2();
        mh->allocator_allocated = mi.uordblks + mi.hblkhd;
        mh->allocator_active = mi.arena + mi.hblkhd;
        if (mh->allocator_allocated == 0) mh->allocator_allocated = mh->total;
        if (mh->allocator_active < mh->allocator_allocated)
            mh->allocator_active = mh->allocator_allocated;
        mh->allocator_resident = mh->rss;
    }
}

static double ratio(size_t a, size_t b)
{
    return b ? (double)a / (double)b : 0;
}

/* MEMORY STATS */
void cmd_memory_stats(struct exec *x)
{
    struct mem_overhead mh;
    int i, ndb = 0;
    memory_overhead(&mh);
    for (i = 0; i < g_store.ndb; i++)
        if (dict_size(&store_db(i)->keys)) ndb++;
    reply_map(x->r, 27 + ndb);
    reply_cstr(x->r, "peak.allocated");
    reply_int(x->r, (long long)mh.peak);
    reply_cstr(x->r, "total.allocated");
    reply_int(x->r, (long long)mh.total);
    reply_cstr(x->r, "startup.allocated");
    reply_int(x->r, (long long)mh.startup);
    reply_cstr(x->r, "replication.backlog");
    reply_int(x->r, 0);
    reply_cstr(x->r, "clients.slaves");
    reply_int(x->r, 0);
    reply_cstr(x->r, "clients.normal");
    reply_int(x->r, (long long)mh.clients_normal);
    reply_cstr(x->r, "cluster.links");
    reply_int(x->r, 0);
    reply_cstr(x->r, "aof.buffer");
    reply_int(x->r, (long long)mh.aof_buffer);
    reply_cstr(x->r, "lua.caches");
    reply_int(x->r, 0);
    reply_cstr(x->r, "functions.caches");
    reply_int(x->r, 0);
    for (i = 0; i < g_store.ndb; i++) {
        char name[32];
        if (!dict_size(&store_db(i)->keys)) continue;
        snprintf(name, sizeof(name), "db.%d", i);
        reply_cstr(x->r, name);
        reply_map(x->r, 3);
        reply_cstr(x->r, "overhead.hashtable.main");
        reply_int(x->r, (long long)memory_db_overhead_main(i));
        reply_cstr(x->r, "overhead.hashtable.expires");
        reply_int(x->r, (long long)memory_db_overhead_expires(i));
        reply_cstr(x->r, "overhead.hashtable.slot-to-keys");
        reply_int(x->r, 0);
    }
    reply_cstr(x->r, "overhead.total");
    reply_int(x->r, (long long)mh.overhead_total);
    reply_cstr(x->r, "keys.count");
    reply_int(x->r, mh.keys);
    reply_cstr(x->r, "keys.bytes-per-key");
    reply_int(x->r, (long long)mh.bytes_per_key);
    reply_cstr(x->r, "dataset.bytes");
    reply_int(x->r, (long long)mh.dataset);
    reply_cstr(x->r, "dataset.percentage");
    reply_double(x->r, mh.dataset_perc);
    reply_cstr(x->r, "peak.percentage");
    reply_double(x->r, mh.peak_perc);
    reply_cstr(x->r, "allocator.allocated");
    reply_int(x->r, (long long)mh.allocator_allocated);
    reply_cstr(x->r, "allocator.active");
    reply_int(x->r, (long long)mh.allocator_active);
    reply_cstr(x->r, "allocator.resident");
    reply_int(x->r, (long long)mh.allocator_resident);
    reply_cstr(x->r, "allocator-fragmentation.ratio");
    reply_double(x->r, ratio(mh.allocator_active, mh.allocator_allocated));
    reply_cstr(x->r, "allocator-fragmentation.bytes");
    reply_int(x->r, (long long)mh.allocator_active - (long long)mh.allocator_allocated);
    reply_cstr(x->r, "allocator-rss.ratio");
    reply_double(x->r, ratio(mh.allocator_resident, mh.allocator_active));
    reply_cstr(x->r, "allocator-rss.bytes");
    reply_int(x->r, (long long)mh.allocator_resident - (long long)mh.allocator_active);
    reply_cstr(x->r, "rss-overhead.ratio");
    reply_double(x->r, ratio(mh.rss, mh.allocator_resident));
    reply_cstr(x->r, "rss-overhead.bytes");
    reply_int(x->r, (long long)mh.rss - (long long)mh.allocator_resident);
    reply_cstr(x->r, "fragmentation");
    reply_double(x->r, ratio(mh.rss, mh.total));
    reply_cstr(x->r, "fragmentation.bytes");
    reply_int(x->r, (long long)mh.rss - (long long)mh.total);
}

/* MEMORY DOCTOR: Redis's report, for the conditions Keel can have. */
void cmd_memory_doctor(struct exec *x)
{
    struct mem_overhead mh;
    bool big_peak = false, high_frag = false, high_alloc_frag = false, high_alloc_rss = false,
         big_client_buf = false;
    int reports = 0;
    char out[4096];
    size_t n = 0;
    memory_overhead(&mh);
    if (mh.total < 5 * 1024 * 1024) {
        static const char empty[] =
            "Hi Sam, this instance is empty or is using very little memory, my issues detector "
            "can't be used in these conditions. Please, leave for your mission on Earth and fill "
            "it with some data. The new Sam and I will be back to our programming as soon as I "
            "finished rebooting.\n";
        reply_verbatim(x->r, empty, sizeof(empty) - 1);
        return;
    }
    if (ratio(mh.peak, mh.total) > 1.5) big_peak = true, reports++;
    if (ratio(mh.rss, mh.total) > 1.4 && mh.rss > mh.total && mh.rss - mh.total > (10u << 20))
        high_frag = true, reports++;
    if (ratio(mh.allocator_active, mh.allocator_allocated) > 1.1 &&
        mh.allocator_active - mh.allocator_allocated > (10u << 20))
        high_alloc_frag = true, reports++;
    if (ratio(mh.allocator_resident, mh.allocator_active) > 1.1 &&
        mh.allocator_resident > mh.allocator_active &&
        mh.allocator_resident - mh.allocator_active > (10u << 20))
        high_alloc_rss = true, reports++;
    if (g_clients.count > 0 && mh.clients_normal / (size_t)g_clients.count > 1024 * 200)
        big_client_buf = true, reports++;
#define CAT(...) n += (size_t)snprintf(out + n, n < sizeof(out) ? sizeof(out) - n : 0, __VA_ARGS__)
    if (reports == 0) {
        CAT("Hi Sam, I can't find any memory issue in your instance. I can only account for what "
            "occurs on this base.\n");
    } else {
        CAT("Sam, I detected a few issues in this Redis instance memory implants:\n\n");
        if (big_peak)
            CAT(" * Peak memory: In the past this instance used more than 150%% the memory that is "
                "currently using. The allocator is normally not able to release memory after a "
                "peak, so you can expect to see a big fragmentation ratio, however this is "
                "actually harmless and is only due to the memory peak, and if the Redis instance "
                "Resident Set Size (RSS) is currently bigger than expected, the memory will be "
                "used as soon as you fill the Redis instance with more data. If the memory peak "
                "was only occasional and you want to try to reclaim memory, please try the MEMORY "
                "PURGE command, otherwise the only other option is to shutdown and restart the "
                "instance.\n\n");
        if (high_frag)
            CAT(" * High total RSS: This instance has a memory fragmentation and RSS overhead "
                "greater than 1.4 (this means that the Resident Set Size of the Redis process is "
                "much larger than the sum of the logical allocations Redis performed). This "
                "problem is usually due either to a large peak memory (check if there is a peak "
                "memory entry above in the report) or may result from a workload that causes the "
                "allocator to fragment memory a lot. If the problem is a large peak memory, then "
                "there is no issue. Otherwise, make sure you are using the Jemalloc allocator and "
                "not the default libc malloc. Note: The currently used allocator is \"libc\".\n\n");
        if (high_alloc_frag)
            CAT(" * High allocator fragmentation: This instance has an allocator external "
                "fragmentation greater than 1.1. This problem is usually due either to a large "
                "peak memory (check if there is a peak memory entry above in the report) or may "
                "result from a workload that causes the allocator to fragment memory a lot. You "
                "can try enabling 'activedefrag' config option.\n\n");
        if (high_alloc_rss)
            CAT(" * High allocator RSS overhead: This instance has an RSS memory overhead is "
                "greater than 1.1 (this means that the Resident Set Size of the allocator is much "
                "larger than the sum what the allocator actually holds). This problem is usually "
                "due to a large peak memory (check if there is a peak memory entry above in the "
                "report), you can try the MEMORY PURGE command to reclaim it.\n\n");
        if (big_client_buf)
            CAT(" * Big client buffers: The clients output buffers in this instance are greater "
                "than 200K per client (on average). This may result from different causes, like "
                "Pub/Sub clients subscribed to channels bot not receiving data fast enough, so "
                "that data piles on the Redis instance output buffer, or clients sending commands "
                "with large replies or very large sequences of commands in the same pipeline. "
                "Please use the CLIENT LIST command in order to investigate the issue if it "
                "causes problems in your instance, or to understand better why certain clients "
                "are using a big amount of memory.\n\n");
        CAT("I'm here to keep you safe, Sam. I want to help you.\n");
    }
#undef CAT
    if (n >= sizeof(out)) n = sizeof(out) - 1;
    reply_verbatim(x->r, out, n);
}

/* MEMORY MALLOC-STATS: glibc's malloc_info report. */
void cmd_memory_malloc_stats(struct exec *x)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f && malloc_info(0, f) == 0 && fclose(f) == 0 && len > 0) {
        reply_verbatim(x->r, buf, len);
    } else {
        if (f && buf == NULL) fclose(f);
        static const char none[] = "Stats not supported for the current allocator";
        reply_verbatim(x->r, none, sizeof(none) - 1);
    }
    free(buf);
}

/* MEMORY PURGE: give free heap pages back to the system. */
void cmd_memory_purge(struct exec *x)
{
    malloc_trim(0);
    reply_ok(x->r);
}

/* MEMORY HELP */
void cmd_memory_help(struct exec *x)
{
    static const char *const help[] = {
        "DOCTOR",
        "    Return memory problems reports.",
        "MALLOC-STATS",
        "    Return internal statistics report from the memory allocator.",
        "PURGE",
        "    Attempt to purge dirty pages for reclamation by the allocator.",
        "STATS",
        "    Return information about the memory usage of the server.",
        "USAGE <key> [SAMPLES <count>]",
        "    Return memory in bytes used by <key> and its value. Nested values are",
        "    sampled up to <count> times (default: 5, 0 means sample all).",
        NULL,
    };
    reply_help(x->r, "MEMORY", help);
}

/* ---- maxmemory's admission (the kernel's refusal hook) ---- */

static bool eviction_allowed(void)
{
    /* Redis's isSafeToPerformEvictions: not while loading, not while
     * clients are paused (the dataset must stay still). */
    return !g_server.loading && !kernel_pause_active();
}

bool maxmemory_refuse(struct client *c, const struct command *cmd, struct reply *r)
{
    bool reject;
    /* nothing is evicted while a busy script lets other clients in (Redis
     * skips its OOM check inside a long command) */
    if (kernel_pumping()) return false;
    g_pre_command_oom = false;
    /* maxmemory-clients (core/kernel/client_mem.c): evicted itself, the
     * command is refused with no reply (the connection is closing) */
    if (client_mem_evict(c)) return true;
    if (g_config.maxmemory <= 0 || !eviction_allowed()) return false;
    if (evict_perform(aof_buffer_size()) != EVICT_FAIL) return false;
    g_pre_command_oom = true;
    reject = (cmd->flags & CMD_DENYOOM) || (cmd->fn == cmd_exec && multi_has_denyoom(c));
    /* Queueing in MULTI could grow without bound: refused too, except
     * what ends the transaction or the connection. */
    if ((c->flags & CF_MULTI) && cmd->fn != cmd_exec && strcmp(cmd->name, "discard") != 0 &&
        strcmp(cmd->name, "quit") != 0 && strcmp(cmd->name, "reset") != 0)
        reject = true;
    if (!reject) return false;
    if (cmd->fn == cmd_exec && (c->flags & CF_MULTI)) {
        /* Redis's execCommandAbort: the transaction is discarded. */
        reply_error(r, "EXECABORT Transaction discarded because of: OOM command not allowed "
                       "when used memory > 'maxmemory'.");
        multi_discard(c);
        return true;
    }
    reply_error(r, "OOM command not allowed when used memory > 'maxmemory'.");
    return true;
}

void maxmemory_apply(void)
{
    if (g_config.maxmemory <= 0 || !eviction_allowed()) return;
    evict_perform(aof_buffer_size());
}

void maxmemory_continue(void)
{
    if (!evict_pending() || g_config.maxmemory <= 0 || !eviction_allowed()) return;
    evict_perform(aof_buffer_size());
}
