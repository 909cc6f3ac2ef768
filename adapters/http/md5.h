/* md5.h — MD5 digests (RFC 1321) for ETags. */
#ifndef KEEL_MD5_H
#define KEEL_MD5_H

#include <stddef.h>
#include <stdint.h>

void md5(const void *data, size_t n, unsigned char out[16]);
/* Lower-case hex digest, NUL-terminated. */
void md5_hex(const void *data, size_t n, char hex[33]);

#endif
