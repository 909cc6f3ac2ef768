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
};

/* A string read from the image: points into it, into ibuf (integers) or
 * into heap (LZF; freed by rd_sfree). */
struct rstrv {
    const char *p;
    size_t n;
    char *heap;
    char ibuf[24];
};

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
