/* crc64.c — CRC-64/Jones (Redis's RDB and DUMP checksum), slicing by eight:
 * eight 256-entry tables built once, eight input bytes per step. */
#include "crc64.h"

#include <pthread.h>
#include <string.h>

#define POLY 0x95ac9329ac4bc9b5ULL /* 0xad93d23594c935a9 bit-reflected */

static uint64_t tab[8][256];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void build(void)
{
    int i, j, k;
    for (i = 0; i < 256; i++) {
        uint64_t c = (uint64_t)i;
        for (j = 0; j < 8; j++)
            c = (c & 1) ? (c >> 1) ^ POLY : c >> 1;
        tab[0][i] = c;
    }
    for (i = 0; i < 256; i++)
        for (k = 1; k < 8; k++)
            tab[k][i] = tab[0][tab[k - 1][i] & 0xff] ^ (tab[k - 1][i] >> 8);
}

uint64_t crc64(uint64_t crc, const unsigned char *p, size_t n)
{
    pthread_once(&once, build);
    while (n && ((uintptr_t)p & 7)) {
        crc = tab[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
        n--;
    }
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        w = __builtin_bswap64(w);
#endif
        crc ^= w;
        crc = tab[7][crc & 0xff] ^ tab[6][(crc >> 8) & 0xff] ^ tab[5][(crc >> 16) & 0xff] ^
              tab[4][(crc >> 24) & 0xff] ^ tab[3][(crc >> 32) & 0xff] ^ tab[2][(crc >> 40) & 0xff] ^
              tab[1][(crc >> 48) & 0xff] ^ tab[0][crc >> 56];
        p += 8;
        n -= 8;
    }
    while (n--)
        crc = tab[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return crc;
}
