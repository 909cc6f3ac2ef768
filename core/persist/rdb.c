/* rdb.c — writing Redis 7.0's RDB format (version 10): the keyspace to a
 * file or fd (snapshots, the AOF's base), and the DUMP payload of one value;
 * the growable byte string (sbuf) the persistence code shares. Loading is
 * rdb_load.c; the snapshot commands and the BGSAVE child live in
 * cmd_persist.c. */
#include "rdb.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "crc64.h"
#include "rdb_format.h"
#include "intset.h"
#include "listpack.h"
#include "lru.h"
#include "object.h"
#include "server.h"
#include "store.h"
#include "t_hash.h"
#include "t_stream.h"
#include "t_list.h"
#include "t_set.h"
#include "t_zset.h"
#include "util.h"

/* ---- sbuf ---- */

void sbuf_init(struct sbuf *b)
{
    b->p = NULL;
    b->len = b->cap = 0;
}

void sbuf_free(struct sbuf *b)
{
    free(b->p);
    sbuf_init(b);
}

void sbuf_reserve(struct sbuf *b, size_t extra)
{
    if (b->cap - b->len >= extra) return;
    size_t nc = b->cap ? b->cap * 2 : 256;
    while (nc - b->len < extra)
        nc *= 2;
    b->p = xrealloc(b->p, nc);
    b->cap = nc;
}

void sbuf_append(struct sbuf *b, const void *p, size_t n)
{
    sbuf_reserve(b, n);
    if (n) memcpy(b->p + b->len, p, n);
    b->len += n;
}

/* ==================================================================== */
/*                               saving                                  */
/* ==================================================================== */

#define WFLUSH_AT (1u << 20)

struct wr {
    struct sbuf b;
    int fd;        /* -1: into b only (DUMP) */
    uint64_t crc;  /* of the bytes already flushed */
    bool checksum; /* compute the CRC */
    bool compress; /* rdbcompression */
    bool failed;
    int err;                /* errno of the failure */
    unsigned char *scratch; /* LZF output */
    size_t scratch_cap;
    long long keys;
};

static void w_init(struct wr *w, int fd)
{
    memset(w, 0, sizeof(*w));
    sbuf_init(&w->b);
    w->fd = fd;
    w->checksum = g_config.rdbchecksum != 0;
    w->compress = g_config.rdbcompression != 0;
}

static void w_done(struct wr *w)
{
    sbuf_free(&w->b);
    free(w->scratch);
}

int rdb_write_wait_ms = 60000;

static void w_flush(struct wr *w)
{
    size_t off = 0;
    if (w->fd < 0 || w->b.len == 0) return;
    if (w->checksum) w->crc = crc64(w->crc, w->b.p, w->b.len);
    while (off < w->b.len && !w->failed) {
        ssize_t n = write(w->fd, w->b.p + off, w->b.len - off);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                /* a nonblocking socket (a diskless sync): wait for room */
                struct pollfd pfd = {w->fd, POLLOUT, 0};
                if (poll(&pfd, 1, rdb_write_wait_ms) > 0) continue;
                errno = ETIMEDOUT;
            }
            w->failed = true;
            w->err = errno;
        } else if (n == 0) {
            w->failed = true;
            w->err = ENOSPC;
        } else {
            off += (size_t)n;
        }
    }
    w->b.len = 0;
}

static inline void w_raw(struct wr *w, const void *p, size_t n)
{
    sbuf_append(&w->b, p, n);
    if (w->b.len >= WFLUSH_AT) w_flush(w);
}

static inline void w_byte(struct wr *w, unsigned char c)
{
    if (w->b.len < w->b.cap) {
        w->b.p[w->b.len++] = c;
        return;
    }
    w_raw(w, &c, 1);
}

static void w_len(struct wr *w, uint64_t len)
{
    unsigned char buf[9];
    if (len < (1 << 6)) {
        buf[0] = (unsigned char)len;
        w_raw(w, buf, 1);
    } else if (len < (1 << 14)) {
        buf[0] = (unsigned char)(0x40 | (len >> 8));
        buf[1] = (unsigned char)len;
        w_raw(w, buf, 2);
    } else if (len <= UINT32_MAX) {
        buf[0] = 0x80;
        buf[1] = (unsigned char)(len >> 24);
        buf[2] = (unsigned char)(len >> 16);
        buf[3] = (unsigned char)(len >> 8);
        buf[4] = (unsigned char)len;
        w_raw(w, buf, 5);
    } else {
        int i;
        buf[0] = 0x81;
        for (i = 0; i < 8; i++)
            buf[1 + i] = (unsigned char)(len >> (56 - 8 * i));
        w_raw(w, buf, 9);
    }
}

static void w_u64le(struct wr *w, uint64_t v)
{
    unsigned char buf[8];
    int i;
    for (i = 0; i < 8; i++)
        buf[i] = (unsigned char)(v >> (8 * i));
    w_raw(w, buf, 8);
}

/* rdbEncodeInteger: 0 when v needs more than 32 bits. */
static int enc_int(long long v, unsigned char *buf)
{
    if (v >= -(1 << 7) && v <= (1 << 7) - 1) {
        buf[0] = 0xC0 | ENC_INT8;
        buf[1] = (unsigned char)(v & 0xFF);
        return 2;
    }
    if (v >= -(1 << 15) && v <= (1 << 15) - 1) {
        buf[0] = 0xC0 | ENC_INT16;
        buf[1] = (unsigned char)(v & 0xFF);
        buf[2] = (unsigned char)((v >> 8) & 0xFF);
        return 3;
    }
    if (v >= -(1LL << 31) && v <= (1LL << 31) - 1) {
        buf[0] = 0xC0 | ENC_INT32;
        buf[1] = (unsigned char)(v & 0xFF);
        buf[2] = (unsigned char)((v >> 8) & 0xFF);
        buf[3] = (unsigned char)((v >> 16) & 0xFF);
        buf[4] = (unsigned char)((v >> 24) & 0xFF);
        return 5;
    }
    return 0;
}

/* rdbSaveLzfBlob: an already-compressed blob. */
static void w_lzf_blob(struct wr *w, const void *c, size_t clen, size_t origlen)
{
    w_byte(w, 0xC0 | ENC_LZF);
    w_len(w, clen);
    w_len(w, origlen);
    w_raw(w, c, clen);
}

/* rdbSaveRawString: integer form for short canonical integers, LZF when
 * compression is on and it saves at least 4 bytes, else length + bytes. */
static void w_string(struct wr *w, const void *s, size_t len)
{
    unsigned char buf[5];
    if (len <= 11 && len > 0) {
        long long v;
        int n;
        if (util_str2ll(s, len, &v) && (n = enc_int(v, buf)) > 0) {
            w_raw(w, buf, (size_t)n);
            return;
        }
    }
    if (w->compress && len > 20) {
        size_t outlen = len - 4, clen;
        if (w->scratch_cap < outlen + 1) {
            free(w->scratch);
            w->scratch_cap = outlen + 1 > 65536 ? outlen + 1 : 65536;
            w->scratch = xmalloc(w->scratch_cap);
        }
        clen = ql_lzf_compress(s, len, w->scratch, outlen);
        if (clen > 0) {
            w_lzf_blob(w, w->scratch, clen, len);
            return;
        }
    }
    w_len(w, len);
    w_raw(w, s, len);
}

static void w_ll_string(struct wr *w, long long v)
{
    unsigned char buf[5];
    char tmp[24];
    int n = enc_int(v, buf);
    if (n > 0) {
        w_raw(w, buf, (size_t)n);
        return;
    }
    n = util_ll2str(tmp, v);
    w_len(w, (uint64_t)n);
    w_raw(w, tmp, (size_t)n);
}

static int value_rdb_type(const struct kv *e)
{
    switch (e->type) {
    case OBJ_STRING:
        return T_STRING;
    case OBJ_LIST:
        return T_LIST_QUICKLIST_2;
    case OBJ_SET:
        return e->enc == ENC_INTSET ? T_SET_INTSET : T_SET;
    case OBJ_ZSET:
        return e->enc == ENC_LISTPACK ? T_ZSET_LISTPACK : T_ZSET_2;
    case OBJ_HASH:
        return e->enc == ENC_LISTPACK ? T_HASH_LISTPACK : T_HASH;
    case OBJ_STREAM:
        return T_STREAM_LISTPACKS_2;
    default:
        return -1;
    }
}

/* A stream as Redis 7.0 writes RDB type 19: the nodes (master id, listpack),
 * the counters and ids, then each group with its PEL and consumers. */
static void w_stream(struct wr *w, struct stream *s)
{
    struct rax_iter it, ci, pi;
    bool ok, ok2, ok3;
    w_len(w, rax_size(s->rax));
    rax_iter_start(&it, s->rax);
    for (ok = rax_seek(&it, RAX_FIRST, NULL, 0); ok; ok = rax_next(&it)) {
        w_string(w, it.key, it.key_len);
        w_string(w, it.data, lp_bytes(it.data));
    }
    rax_iter_stop(&it);
    w_len(w, s->length);
    w_len(w, s->last_id.ms);
    w_len(w, s->last_id.seq);
    w_len(w, s->first_id.ms);
    w_len(w, s->first_id.seq);
    w_len(w, s->max_deleted_id.ms);
    w_len(w, s->max_deleted_id.seq);
    w_len(w, s->entries_added);
    w_len(w, s->cgroups ? rax_size(s->cgroups) : 0);
    if (!s->cgroups) return;
    rax_iter_start(&it, s->cgroups);
    for (ok = rax_seek(&it, RAX_FIRST, NULL, 0); ok; ok = rax_next(&it)) {
        struct sgroup *g = it.data;
        w_string(w, it.key, it.key_len);
        w_len(w, g->last_id.ms);
        w_len(w, g->last_id.seq);
        w_len(w, (uint64_t)g->entries_read);
        w_len(w, rax_size(g->pel));
        rax_iter_start(&pi, g->pel);
        for (ok2 = rax_seek(&pi, RAX_FIRST, NULL, 0); ok2; ok2 = rax_next(&pi)) {
            struct snack *n = pi.data;
            w_raw(w, pi.key, 16);
            w_u64le(w, (uint64_t)n->delivery_time);
            w_len(w, n->delivery_count);
        }
        rax_iter_stop(&pi);
        w_len(w, rax_size(g->consumers));
        rax_iter_start(&ci, g->consumers);
        for (ok2 = rax_seek(&ci, RAX_FIRST, NULL, 0); ok2; ok2 = rax_next(&ci)) {
            struct sconsumer *c = ci.data;
            w_string(w, c->name, c->nlen);
            w_u64le(w, (uint64_t)c->seen_time);
            w_len(w, rax_size(c->pel));
            rax_iter_start(&pi, c->pel);
            for (ok3 = rax_seek(&pi, RAX_FIRST, NULL, 0); ok3; ok3 = rax_next(&pi))
                w_raw(w, pi.key, 16);
            rax_iter_stop(&pi);
        }
        rax_iter_stop(&ci);
    }
    rax_iter_stop(&it);
}

static void w_value(struct wr *w, const struct kv *ce)
{
    struct kv *e = (struct kv *)ce;
    switch (e->type) {
    case OBJ_STRING:
        if (e->enc == ENC_INT) {
            w_ll_string(w, e->v.i);
        } else {
            struct strview sv;
            kv_string_view(e, &sv);
            w_string(w, sv.p, sv.n);
        }
        break;
    case OBJ_LIST: {
        struct quicklist *ql = e->v.ptr;
        struct ql_node *n;
        w_len(w, ql->len);
        for (n = ql->head; n; n = n->next) {
            if (n->plain) {
                /* PLAIN: the element's bytes, as rdbSaveRawString (LZF when
                 * it shrinks: the bytes of Redis's compressed plain node). */
                struct ql_val v;
                unsigned char *tmp;
                w_len(w, QL_NODE_PLAIN);
                ql_node_first(n, &v, &tmp);
                if (n->compressed && !w->compress) {
                    /* Redis writes a compressed node's LZF form even with
                     * rdbcompression off */
                    unsigned char *c = xmalloc(v.n);
                    size_t clen = ql_lzf_compress(v.p, v.n, c, v.n);
                    if (clen > 0 && clen + 8 < v.n)
                        w_lzf_blob(w, c, clen, v.n);
                    else
                        w_string(w, v.p, v.n);
                    free(c);
                } else {
                    w_string(w, v.p, v.n);
                }
                free(tmp);
                continue;
            }
            w_len(w, QL_NODE_PACKED);
            if (n->compressed) {
                uint32_t raw = (uint32_t)n->lp[0] | (uint32_t)n->lp[1] << 8 |
                               (uint32_t)n->lp[2] << 16 | (uint32_t)n->lp[3] << 24;
                w_lzf_blob(w, n->lp + 4, n->clen - 4, raw);
            } else {
                w_string(w, n->lp, lp_bytes(n->lp));
            }
        }
        break;
    }
    case OBJ_SET:
        if (e->enc == ENC_INTSET) {
            struct intset *is = e->v.ptr;
            w_string(w, is, intset_blob_len(is));
        } else {
            struct setv s = set_of(e);
            struct set_iter it;
            struct set_elem el;
            w_len(w, set_size(&s));
            set_iter_init(&it, &s);
            while (set_iter_next(&it, &el))
                w_string(w, el.p, el.n);
            set_iter_release(&it);
        }
        break;
    case OBJ_ZSET:
        if (e->enc == ENC_LISTPACK) {
            w_string(w, e->v.ptr, lp_bytes(e->v.ptr));
        } else {
            /* Redis writes from the tail so that loading inserts at the head. */
            struct zset *zs = e->v.ptr;
            struct zsl_node *x;
            w_len(w, zs->zsl.length);
            for (x = zs->zsl.tail; x; x = x->backward) {
                uint64_t bits;
                w_string(w, zsl_member(x), x->mlen);
                memcpy(&bits, &x->score, 8);
                w_u64le(w, bits);
            }
        }
        break;
    case OBJ_HASH:
        if (e->enc == ENC_LISTPACK) {
            w_string(w, e->v.ptr, lp_bytes(e->v.ptr));
        } else {
            struct hash_iter it;
            struct hval f, v;
            w_len(w, hash_len(e));
            hash_iter_init(&it, e);
            while (hash_iter_next(&it, &f, &v)) {
                w_string(w, f.p, f.n);
                w_string(w, v.p, v.n);
            }
            hash_iter_done(&it);
        }
        break;
    case OBJ_STREAM:
        w_stream(w, e->v.ptr);
        break;
    default:
        break;
    }
}

static void w_aux(struct wr *w, const char *k, const char *v)
{
    w_byte(w, OP_AUX);
    w_string(w, k, strlen(k));
    w_string(w, v, strlen(v));
}

static void w_aux_ll(struct wr *w, const char *k, long long v)
{
    char buf[24];
    util_ll2str(buf, v);
    w_aux(w, k, buf);
}

static long long used_memory_estimate(void)
{
    long long pages = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        long long size;
        if (fscanf(f, "%lld %lld", &size, &pages) != 2) pages = 0;
        fclose(f);
    }
    return pages * sysconf(_SC_PAGESIZE);
}

struct save_ctx {
    struct wr *w;
    bool lru, lfu; /* the policy's access data goes with each key (lru.h) */
};

static void save_key(void *priv, struct dnode *n)
{
    struct save_ctx *c = priv;
    struct wr *w = c->w;
    struct kv *e = (struct kv *)n;
    int t = value_rdb_type(e);
    if (t < 0 || w->failed) return;
    if (e->has_expire) {
        w_byte(w, OP_EXPIRETIME_MS);
        w_u64le(w, (uint64_t)kv_exp(e)->when);
    }
    if (c->lru) {
        w_byte(w, OP_IDLE);
        w_len(w, store_idle_ms(e) / 1000);
    }
    if (c->lfu) {
        w_byte(w, OP_FREQ);
        w_byte(w, (unsigned char)lru_freq(e));
    }
    w_byte(w, (unsigned char)t);
    w_string(w, kv_key(e), e->klen);
    w_value(w, e);
    w->keys++;
    if (g_config.rdb_key_save_delay > 0) {
        struct timespec ts = {(time_t)(g_config.rdb_key_save_delay / 1000000),
                              (long)(g_config.rdb_key_save_delay % 1000000) * 1000};
        nanosleep(&ts, NULL);
    }
}

static rdb_functions_each_fn functions_each;
rdb_function_load_fn rdb_function_load; /* rdb_load.c reads it */

void (*rdb_functions_flush)(void);

void rdb_set_functions_flush(void (*flush)(void))
{
    rdb_functions_flush = flush;
}

void rdb_set_functions(rdb_functions_each_fn each, rdb_function_load_fn load)
{
    functions_each = each;
    rdb_function_load = load;
}

void rdb_functions_each(rdb_emit_fn emit, void *ctx)
{
    if (functions_each) functions_each(emit, ctx);
}

static void emit_function(void *ctx, const char *code, size_t n)
{
    struct wr *w = ctx;
    w_byte(w, OP_FUNCTION2);
    w_string(w, code, n);
}

static bool (*repl_info_fn)(struct rdb_repl_info *out);

void rdb_set_repl_info(bool (*fn)(struct rdb_repl_info *out))
{
    repl_info_fn = fn;
}

static void w_dataset(struct wr *w, bool aof_base)
{
    struct rdb_repl_info ri;
    char hdr[16];
    int i, p = g_config.maxmemory_policy;
    struct save_ctx c = {w, p == MM_VOLATILE_LRU || p == MM_ALLKEYS_LRU,
                         p == MM_VOLATILE_LFU || p == MM_ALLKEYS_LFU};
    snprintf(hdr, sizeof(hdr), "REDIS%04d", RDB_VERSION);
    w_raw(w, hdr, 9);
    w_aux(w, "redis-ver", "7.0.15");
    w_aux_ll(w, "redis-bits", (long long)sizeof(void *) * 8);
    w_aux_ll(w, "ctime", (long long)time(NULL));
    w_aux_ll(w, "used-mem", used_memory_estimate());
    if (!aof_base && repl_info_fn && repl_info_fn(&ri)) {
        w_aux_ll(w, "repl-stream-db", ri.stream_db);
        w_aux(w, "repl-id", ri.id);
        w_aux_ll(w, "repl-offset", ri.offset);
    }
    w_aux_ll(w, "aof-base", aof_base ? 1 : 0);
    if (functions_each) functions_each(emit_function, w);
    for (i = 0; i < g_store.ndb && !w->failed; i++) {
        struct db *db = &g_store.dbs[i];
        uint64_t size = dict_size(&db->keys);
        if (size == 0) continue;
        w_byte(w, OP_SELECTDB);
        w_len(w, (uint64_t)i);
        w_byte(w, OP_RESIZEDB);
        w_len(w, size);
        w_len(w, db->nexp);
        dict_foreach(&db->keys, save_key, &c);
    }
    w_byte(w, OP_EOF);
}

void rdb_set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (!err || !errlen) return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

bool rdb_save_fd_ex(int fd, bool aof_base, char *err, size_t errlen)
{
    struct wr w;
    uint64_t crc;
    w_init(&w, fd);
    sbuf_reserve(&w.b, WFLUSH_AT + 1024);
    w_dataset(&w, aof_base);
    w_flush(&w);
    crc = w.checksum ? w.crc : 0;
    w_u64le(&w, crc);
    w.checksum = false;
    w_flush(&w);
    if (w.failed) {
        rdb_set_err(err, errlen, "Write error saving DB on disk: %s", strerror(w.err));
        w_done(&w);
        return false;
    }
    w_done(&w);
    return true;
}

bool rdb_save_fd(int fd, char *err, size_t errlen)
{
    return rdb_save_fd_ex(fd, false, err, errlen);
}

static void fsync_dir_of(const char *path)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    int fd;
    if (!slash) {
        strcpy(dir, ".");
    } else {
        size_t n = (size_t)(slash - path);
        if (n == 0) n = 1;
        if (n >= sizeof(dir)) return;
        memcpy(dir, path, n);
        dir[n] = 0;
    }
    fd = open(dir, O_RDONLY);
    if (fd < 0) return;
    fsync(fd);
    close(fd);
}

bool rdb_save_file(const char *path, char *err, size_t errlen)
{
    char tmp[PATH_MAX];
    const char *slash = strrchr(path, '/');
    int fd;
    if (slash)
        snprintf(tmp, sizeof(tmp), "%.*s/temp-%d.rdb", (int)(slash - path), path, (int)getpid());
    else
        snprintf(tmp, sizeof(tmp), "temp-%d.rdb", (int)getpid());
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        char cwd[PATH_MAX];
        rdb_set_err(err, errlen,
                    "Failed opening the temp RDB file %s (in server root dir %s) for saving: %s",
                    tmp, getcwd(cwd, sizeof(cwd)) ? cwd : "unknown", strerror(errno));
        return false;
    }
    if (!rdb_save_fd(fd, err, errlen)) {
        close(fd);
        unlink(tmp);
        return false;
    }
    if (fsync(fd) == -1) {
        rdb_set_err(err, errlen, "Write error saving DB on disk: %s", strerror(errno));
        close(fd);
        unlink(tmp);
        return false;
    }
    if (close(fd) == -1) {
        rdb_set_err(err, errlen, "Write error saving DB on disk: %s", strerror(errno));
        unlink(tmp);
        return false;
    }
    if (rename(tmp, path) == -1) {
        char cwd[PATH_MAX];
        rdb_set_err(
            err, errlen,
            "Error moving temp DB file %s on the final destination %s (in server root dir %s): "
            "%s",
            tmp, path, getcwd(cwd, sizeof(cwd)) ? cwd : "unknown", strerror(errno));
        unlink(tmp);
        return false;
    }
    fsync_dir_of(path);
    return true;
}

void rdb_serialize_functions(struct sbuf *out)
{
    struct wr w;
    unsigned char foot[10];
    uint64_t crc;
    size_t start = out->len;
    int i;
    w_init(&w, -1);
    w.b = *out;
    if (functions_each) functions_each(emit_function, &w);
    foot[0] = RDB_VERSION & 0xff;
    foot[1] = (RDB_VERSION >> 8) & 0xff;
    sbuf_append(&w.b, foot, 2);
    crc = crc64(0, w.b.p + start, w.b.len - start);
    for (i = 0; i < 8; i++)
        foot[i] = (unsigned char)(crc >> (8 * i));
    sbuf_append(&w.b, foot, 8);
    *out = w.b;
    free(w.scratch);
}

size_t rdb_serialize_value(const struct kv *e, struct sbuf *out)
{
    struct wr w;
    unsigned char foot[10];
    uint64_t crc;
    size_t start = out->len;
    int t = value_rdb_type(e), i;
    w_init(&w, -1);
    w.b = *out;
    w_byte(&w, (unsigned char)(t < 0 ? 0 : t));
    w_value(&w, e);
    foot[0] = RDB_VERSION & 0xff;
    foot[1] = (RDB_VERSION >> 8) & 0xff;
    sbuf_append(&w.b, foot, 2);
    crc = crc64(0, w.b.p + start, w.b.len - start);
    for (i = 0; i < 8; i++)
        foot[i] = (unsigned char)(crc >> (8 * i));
    sbuf_append(&w.b, foot, 8);
    *out = w.b;
    free(w.scratch);
    return out->len - start;
}
