/* siphash.h — seeded SipHash-1-3, the keyspace hash (hash-flooding safe). */
#ifndef KEEL_SIPHASH_H
#define KEEL_SIPHASH_H
#include <stddef.h>
#include <stdint.h>

void siphash_set_seed(const uint8_t seed[16]);
uint64_t siphash(const void *data, size_t len);
uint64_t siphash_with(const void *data, size_t len, const uint8_t key[16]);

#endif
