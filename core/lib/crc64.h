/* crc64.h — CRC-64 with the Jones polynomial (reflected, no final xor), the
 * checksum Redis puts at the end of RDB files and DUMP payloads. */
#ifndef KEEL_CRC64_H
#define KEEL_CRC64_H

#include <stddef.h>
#include <stdint.h>

/* Continue a checksum: crc64(0, p, n) for a fresh one.
 * crc64(0, "123456789", 9) == 0xe9c6d914c4b8d9ca. */
uint64_t crc64(uint64_t crc, const unsigned char *p, size_t n);

#endif
