/* rdb_stream.h — loading an RDB image as its bytes arrive (rdb_stream.c):
 * a replica's diskless load (repl-diskless-load swapdb / on-empty-db)
 * reads the primary's payload, in its $<len> form or its $EOF:<mark> form,
 * straight into the loader, as Redis 7.0's rdbLoadRio over a connection:
 * memory holds the data and a window of the payload, never the whole of
 * it. The source knows bytes only; the caller's read callback is the
 * connection (and waits, times out, serves clients meanwhile). */
#ifndef KEEL_RDB_STREAM_H
#define KEEL_RDB_STREAM_H

#include <stdbool.h>
#include <stddef.h>

struct rdb_side;

#define RDB_STREAM_MARK_LEN 40

struct rdb_stream_src {
    /* Up to n more bytes into buf: how many (> 0), 0 when the peer
     * closed, < 0 on an error or a timeout (the callback logs why). It
     * may wait for them. */
    long (*read)(void *ctx, void *buf, size_t n);
    void *ctx;
    const unsigned char *pre; /* bytes received already (after the header) */
    size_t npre;
    long long len;    /* $<len>: the payload's size; -1: the $EOF: form */
    const char *mark; /* the $EOF: form's 40-byte end mark */
};

/* Load the payload src delivers into the store (into NULL) or into a side
 * set (rdb.h). True: the image loaded and the payload's end was seen
 * (the $EOF: mark checked); *rest (malloc'd, the caller frees it, NULL
 * when *nrest is 0) holds the bytes that came after the payload: the
 * start of the command stream. False: err says why (what was loaded
 * stays: the caller drops it). */
bool rdb_load_stream(const struct rdb_stream_src *src, struct rdb_side *into, unsigned char **rest,
                     size_t *nrest, char *err, size_t errlen);

#endif
