/* digest.h — DEBUG DIGEST and DIGEST-VALUE: Redis 7.0's SHA-1 fingerprint of
 * the dataset and of single values (mixDigest/xorDigest over each type's
 * elements), byte for byte the digests redis-server gives the same data. */
#ifndef KEEL_DIGEST_H
#define KEEL_DIGEST_H

#include <stddef.h>

#include "store.h"

/* Mix bytes into a 20-byte digest as Redis's mixDigest (order matters) and
 * xorDigest (order does not). */
void digest_mix(unsigned char *d, const void *p, size_t n);
void digest_xor(unsigned char *d, const void *p, size_t n);

/* The digest of one entry's value (type, elements, expire), into d[20]
 * (which the caller zeroes). */
void digest_value(unsigned char *d, struct kv *e);
/* The digest of every database. */
void digest_dataset(unsigned char *d);
/* 40 lowercase hex digits and a NUL into out[41]. */
void digest_hex(const unsigned char *d, char *out);

#endif
