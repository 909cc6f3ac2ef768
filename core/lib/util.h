/* util.h — small helpers every module shares: allocation that never returns
 * NULL, number <-> string conversions with Redis's exact rules, glob
 * matching, clocks. Nothing here knows about clients, replies or protocols. */
#ifndef KEEL_UTIL_H
#define KEEL_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
void *xmemdup(const void *p, size_t n);

/* Parse a whole buffer as a signed 64-bit integer, exactly as Redis's
 * string2ll: no spaces, no '+', no leading zeros (except "0"), no overflow. */
bool util_str2ll(const char *s, size_t n, long long *out);
/* Parse as a long double / double the way Redis does (strtold, no spaces,
 * no nan); returns false on failure. */
bool util_str2ld(const char *s, size_t n, long double *out);
bool util_str2d(const char *s, size_t n, double *out);
/* Write v in decimal into buf (at least 21 bytes); returns length. */
int util_ll2str(char *buf, long long v);
int util_ull2str(char *buf, unsigned long long v);
/* Format a double as Redis's RESP3 double / ZSCORE reply ("%.17g" with
 * inf/-inf/nan spelled as Redis spells them). buf >= 128 bytes. */
int util_d2str(char *buf, size_t len, double v);
/* Format a long double as INCRBYFLOAT does (humanfriendly: %.17Lf with
 * trailing zeros trimmed). buf >= 5 * 1024 is safe; returns 0 on failure. */
int util_ld2str(char *buf, size_t len, long double v);

/* Glob-style matching as Redis's stringmatchlen (* ? [a-z] [^x] \x). */
bool util_glob(const char *pat, size_t plen, const char *s, size_t slen, bool nocase);

/* A SCAN-family cursor as Redis's parseScanCursorOrReply reads it
 * (strtoul: no leading space, an optional sign that wraps, digits to the end
 * of the C string, "" is 0, no overflow). */
bool util_scan_cursor(const char *p, size_t n, uint64_t *out);

/* Clocks. */
long long util_ustime(void); /* wall clock, microseconds */
long long util_mstime(void); /* wall clock, milliseconds */
long long util_monotonic_us(void);

/* Case-insensitive compare of a buffer with a NUL-terminated ASCII word. */
bool util_eqci(const char *s, size_t n, const char *word);

/* Random bytes for seeds (getrandom, else time-based). */
void util_random_bytes(void *buf, size_t n);
uint64_t util_rand64(void);

/* Split a line into words as redis-cli / redis.conf do (sdssplitargs):
 * spaces separate, "double quotes" with \n \r \t \b \a \xHH \" escapes,
 * 'single quotes' with \' only; a closing quote must be followed by a space
 * or the end. Returns the count, words in *out (each xmalloc'd, NUL-ended,
 * lengths in *lens), or -1 on unbalanced quotes. Free with util_free_words. */
int util_split_args(const char *line, size_t len, char ***out, size_t **lens);
void util_free_words(char **w, size_t *lens, int n);
/* p[0..n) as Redis's sdscatrepr writes it: "..." with \\ \" \n \r \t \a
 * \b escaped and other bytes outside 0x20..0x7e as \xHH, handed to put
 * in pieces (runs of plain bytes in one piece). */
void util_repr(const char *p, size_t n, void (*put)(void *ctx, const char *s, size_t len),
               void *ctx);
#endif
