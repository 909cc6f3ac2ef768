/* rdb_read.h — the bounds-checked reader of an RDB image that the loader
 * (rdb_load.c) is built on: the reader state, failure reporting, lengths,
 * strings (integer-encoded and LZF-compressed) and doubles in Redis's
 * encodings. Internal to core/persist. */
#ifndef KEEL_RDB_READ_H
#define KEEL_RDB_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rd {
    const unsigned char *start, *p, *end;
    char *err;
    size_t errlen;
    bool failed;
    int version;
    long long now;
    long long loaded, expired, empty_skipped;
    long long base; /* bytes of the whole load before this image (loading_progress) */
    bool empty;     /* the value just read was empty (skipped, as Redis does) */
    /* A streaming source (rdb_stream.c), or NULL when the image is whole
     * in memory: r_need calls refill when fewer than n bytes are left
     * (true: they are there now; it may move start/p/end, never the bytes
     * a record in progress points to), and the loader calls boundary
     * between two keys (nothing before p is pointed to any more). */
    bool (*refill)(struct rd *r, size_t n);
    void (*boundary)(struct rd *r);
    void *src;
    long long total; /* the image's size when known (-1: not yet) */
    long long off0;  /* image bytes before start (a source dropped them) */
    uint64_t crc;    /* CRC64 of the image up to crc_p */
    const unsigned char *crc_p;
};

/* A string read from the image: points into it, into ibuf (integers) or
 * into heap (LZF; freed by rd_sfree). */
struct rstrv {
    const char *p;
    size_t n;
    char *heap;
    char ibuf[24];
};

/* Where the reader is in the image (bytes from its start). */
long long rd_offset(const struct rd *r);
/* Between two keys: a streaming source may drop what was read. */
void rd_boundary(struct rd *r);
/* The CRC64 of the image up to p (crc/crc_p carried along). */
uint64_t rd_crc(struct rd *r);
/* A bound on the bytes still to come (a count read from the image is
 * trusted only as far as they could hold it). */
uint64_t rd_left_hint(const struct rd *r);

/* Load the image r reads (rdb_load.c): into the store, or into the side
 * set into (its function libraries kept there); merge: a key already
 * present is replaced. */
struct rdb_side;
bool rdb_load_rd(struct rd *r, bool merge, struct rdb_side *into);

/* Free what a string read into heap. */
void rd_sfree(struct rstrv *s);
/* Record the first failure (printf-style) and return false. */
bool rd_fail(struct rd *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Fail with "Bad RDB format: what (at offset N)". */
bool rd_corrupt(struct rd *r, const char *what);
/* n more bytes are there (else fail). */
bool r_need(struct rd *r, size_t n);
/* One byte. */
bool r_byte(struct rd *r, int *b);
/* A length, or (when *isenc is set) a special string encoding. */
bool r_len_enc(struct rd *r, uint64_t *len, bool *isenc);
/* A plain length. */
bool r_len(struct rd *r, uint64_t *len);
/* A string in any of its encodings. */
bool r_string(struct rd *r, struct rstrv *s);
/* A double in the old string form. */
bool r_double_str(struct rd *r, double *d);
/* A binary IEEE double. */
bool r_double_bin(struct rd *r, double *d);

#endif
