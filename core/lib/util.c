/* util.c — allocation, Redis-exact number parsing and formatting, glob
 * matching and clocks (see util.h). */
#include "util.h"

#include <ctype.h>
#include <limits.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/time.h>
#include <time.h>

static void oom(size_t n)
{
    fprintf(stderr, "keel: out of memory allocating %zu bytes\n", n);
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) oom(n);
    return p;
}

void *xcalloc(size_t n, size_t m)
{
    void *p = calloc(n ? n : 1, m ? m : 1);
    if (!p) oom(n * m);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p) oom(n);
    return p;
}

char *xstrdup(const char *s)
{
    return xmemdup(s, strlen(s) + 1);
}

void *xmemdup(const void *p, size_t n)
{
    void *q = xmalloc(n + 1);
    memcpy(q, p, n);
    ((char *)q)[n] = 0;
    return q;
}

bool util_str2ll(const char *s, size_t n, long long *out)
{
    const char *p = s;
    size_t left = n;
    bool neg = false;
    unsigned long long v;

    if (n == 0 || n > 20) return false;
    if (n == 1 && p[0] == '0') {
        *out = 0;
        return true;
    }
    if (*p == '-') {
        neg = true;
        p++;
        left--;
        if (left == 0) return false;
    }
    if (*p < '1' || *p > '9') return false;
    v = (unsigned long long)(*p - '0');
    p++;
    left--;
    while (left > 0) {
        if (*p < '0' || *p > '9') return false;
        if (v > ULLONG_MAX / 10) return false;
        v *= 10;
        if (v > ULLONG_MAX - (unsigned long long)(*p - '0')) return false;
        v += (unsigned long long)(*p - '0');
        p++;
        left--;
    }
    if (neg) {
        if (v > (unsigned long long)LLONG_MAX + 1) return false;
        *out = (long long)(0ULL - v);
    } else {
        if (v > (unsigned long long)LLONG_MAX) return false;
        *out = (long long)v;
    }
    return true;
}

#define LD_BUF 5200

bool util_str2ld(const char *s, size_t n, long double *out)
{
    char buf[LD_BUF];
    char *end;
    long double v;

    if (n == 0 || n >= sizeof(buf)) return false;
    memcpy(buf, s, n);
    buf[n] = 0;
    errno = 0;
    v = strtold(buf, &end);
    if (isspace((unsigned char)buf[0]) || end != buf + n ||
        (errno == ERANGE && (v == HUGE_VALL || v == -HUGE_VALL || fpclassify(v) == FP_ZERO)) ||
        isnan(v))
        return false;
    *out = v;
    return true;
}

bool util_str2d(const char *s, size_t n, double *out)
{
    char buf[LD_BUF];
    char *end;
    double v;

    if (n == 0 || n >= sizeof(buf)) return false;
    memcpy(buf, s, n);
    buf[n] = 0;
    errno = 0;
    v = strtod(buf, &end);
    if (isspace((unsigned char)buf[0]) || end != buf + n ||
        (errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL || fpclassify(v) == FP_ZERO)) ||
        isnan(v))
        return false;
    *out = v;
    return true;
}

static int digits10(unsigned long long v)
{
    int n = 1;
    for (;;) {
        if (v < 10) return n;
        if (v < 100) return n + 1;
        if (v < 1000) return n + 2;
        if (v < 10000) return n + 3;
        v /= 10000U;
        n += 4;
    }
}

/* Two digits a step, written from the end (the length is known first). */
int util_ull2str(char *buf, unsigned long long v)
{
    static const char pairs[201] = "0001020304050607080910111213141516171819"
                                   "2021222324252627282930313233343536373839"
                                   "4041424344454647484950515253545556575859"
                                   "6061626364656667686970717273747576777879"
                                   "8081828384858687888990919293949596979899";
    int n = digits10(v), i = n - 1;
    buf[n] = 0;
    while (v >= 100) {
        unsigned k = (unsigned)(v % 100) * 2;
        v /= 100;
        buf[i] = pairs[k + 1];
        buf[i - 1] = pairs[k];
        i -= 2;
    }
    if (v < 10) {
        buf[i] = (char)('0' + v);
    } else {
        buf[i] = pairs[v * 2 + 1];
        buf[i - 1] = pairs[v * 2];
    }
    return n;
}

int util_ll2str(char *buf, long long v)
{
    if (v < 0) {
        buf[0] = '-';
        return 1 + util_ull2str(buf + 1, 0ULL - (unsigned long long)v);
    }
    return util_ull2str(buf, (unsigned long long)v);
}

int util_d2str(char *buf, size_t len, double v)
{
    if (isinf(v)) return snprintf(buf, len, "%s", v > 0 ? "inf" : "-inf");
    if (isnan(v)) return snprintf(buf, len, "nan");
    return snprintf(buf, len, "%.17g", v);
}

int util_ld2str(char *buf, size_t len, long double v)
{
    size_t l;
    if (isinf(v)) {
        if (len < 5) return 0;
        l = (size_t)snprintf(buf, len, "%s", v > 0 ? "inf" : "-inf");
        return (int)l;
    }
    l = (size_t)snprintf(buf, len, "%.17Lf", v);
    if (l + 1 > len) return 0;
    if (strchr(buf, '.')) {
        char *p = buf + l - 1;
        while (*p == '0') {
            p--;
            l--;
        }
        if (*p == '.') l--;
    }
    if (l == 2 && buf[0] == '-' && buf[1] == '0') {
        buf[0] = '0';
        l = 1;
    }
    buf[l] = 0;
    return (int)l;
}

/* tolower of a byte in the C locale Keel runs in (it sets no locale):
 * only A-Z change. Inline, not libc's tolower: util_eqci runs for every
 * command's name. */
static inline int lower(int c)
{
    unsigned char u = (unsigned char)c;
    return u >= 'A' && u <= 'Z' ? u + 32 : u;
}

/* tolower of a (signed) char in the C locale: only A-Z change. */
static int lower_signed(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* Match one pattern element (a literal, '?', an escape or a [class]) at
 * character c; sets *used to the pattern bytes it spans. */
static bool glob_elem(const char *p, size_t pl, unsigned char c, bool nocase, size_t *used)
{
    switch (*p) {
    case '?':
        *used = 1;
        return true;
    case '[': {
        const char *q = p + 1;
        size_t ql = pl - 1;
        bool neg, match = false;
        neg = ql && *q == '^';
        if (neg) {
            q++;
            ql--;
        }
        for (;;) {
            if (ql == 0) break; /* unterminated: the class runs to the end */
            if (*q == '\\' && ql >= 2) {
                q++;
                ql--;
                if ((unsigned char)*q == c) match = true;
            } else if (*q == ']') {
                q++;
                ql--;
                break;
            } else if (ql >= 3 && q[1] == '-') {
                /* Redis compares a range's bytes as (signed) chars: bytes
                 * from 0x80 sort below 0 ("[\x01-\xff]" is \xff..\x01) */
                int a = (signed char)q[0], b = (signed char)q[2], x = (signed char)c;
                if (a > b) {
                    int t = a;
                    a = b;
                    b = t;
                }
                if (nocase) {
                    a = lower_signed(a);
                    b = lower_signed(b);
                    x = lower_signed(x);
                }
                q += 2;
                ql -= 2;
                if (x >= a && x <= b) match = true;
            } else if (nocase ? lower(*q) == lower(c) : (unsigned char)*q == c) {
                match = true;
            }
            q++;
            ql--;
        }
        *used = (size_t)(q - p);
        return neg ? !match : match;
    }
    case '\\':
        if (pl >= 2) {
            *used = 2;
            return nocase ? lower(p[1]) == lower(c) : (unsigned char)p[1] == c;
        }
        /* a trailing backslash is itself */
        __attribute__((fallthrough));
    default:
        *used = 1;
        return nocase ? lower(*p) == lower(c) : (unsigned char)*p == c;
    }
}

/* Glob matching as Redis's stringmatchlen, in O(pattern * string): on a
 * mismatch only the last '*' is retried one character further on, which
 * is enough for globs (an earlier star could not do better). */
bool util_glob(const char *pat, size_t plen, const char *s, size_t slen, bool nocase)
{
    size_t pi = 0, si = 0, star_p = 0, star_s = 0, used;
    bool have_star = false;
    /* Redis's matcher never enters its loop for an empty string, so its
     * trailing-star skip does not apply: "" matches only "" (KEYS * has its
     * own all-keys shortcut). */
    if (slen == 0) return plen == 0;
    /* Redis gives up on a '*' nested deeper than 1000 (each star group
     * recurses once, a final '*' does not): with 1001 star groups and more
     * pattern after the last, nothing can match. */
    {
        size_t q = 0, groups = 0;
        bool trailing = false;
        while (q < plen) {
            if (pat[q] == '*') {
                while (q < plen && pat[q] == '*')
                    q++;
                groups++;
                trailing = q == plen;
                continue;
            }
            glob_elem(pat + q, plen - q, 0, false, &used);
            q += used;
        }
        if (groups > 1001 || (groups == 1001 && !trailing)) return false;
    }
    while (si < slen) {
        if (pi < plen && pat[pi] == '*') {
            while (pi < plen && pat[pi] == '*')
                pi++;
            if (pi == plen) return true;
            have_star = true;
            star_p = pi;
            star_s = si;
            continue;
        }
        if (pi < plen && glob_elem(pat + pi, plen - pi, (unsigned char)s[si], nocase, &used)) {
            pi += used;
            si++;
            continue;
        }
        if (!have_star) return false;
        pi = star_p;
        si = ++star_s;
    }
    while (pi < plen && pat[pi] == '*')
        pi++;
    return pi == plen;
}

long long util_ustime(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (long long)tv.tv_sec * 1000000 + tv.tv_usec;
}

long long util_mstime(void)
{
    return util_ustime() / 1000;
}

long long util_monotonic_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

bool util_eqci(const char *s, size_t n, const char *word)
{
    size_t i;
    for (i = 0; i < n; i++) {
        if (!word[i] || lower(s[i]) != lower(word[i])) return false;
    }
    return word[n] == 0;
}

void util_random_bytes(void *buf, size_t n)
{
    if (getrandom(buf, n, 0) != (ssize_t)n) {
        unsigned char *b = buf;
        unsigned long long t = (unsigned long long)util_ustime();
        size_t i;
        for (i = 0; i < n; i++) {
            t = t * 6364136223846793005ULL + 1442695040888963407ULL;
            b[i] = (unsigned char)(t >> 56);
        }
    }
}

uint64_t util_rand64(void)
{
    static uint64_t s[2];
    static bool init;
    uint64_t a, b, r;
    if (!init) {
        util_random_bytes(s, sizeof(s));
        s[0] |= 1;
        init = true;
    }
    /* xorshift128+ */
    a = s[0];
    b = s[1];
    r = a + b;
    s[0] = b;
    a ^= a << 23;
    s[1] = a ^ b ^ (a >> 17) ^ (b >> 26);
    return r;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int util_split_args(const char *line, size_t len, char ***out, size_t **lens)
{
    const char *p = line, *end = line + len;
    char **words = NULL;
    size_t *wl = NULL;
    int n = 0, cap = 0;
    char *cur = NULL;
    size_t cl = 0, cc = 0;

#define PUSHC(ch)                                                                                  \
    do {                                                                                           \
        if (cl + 1 >= cc) {                                                                        \
            cc = cc ? cc * 2 : 16;                                                                 \
            cur = xrealloc(cur, cc);                                                               \
        }                                                                                          \
        cur[cl++] = (char)(ch);                                                                    \
    } while (0)

    for (;;) {
        while (p < end && isspace((unsigned char)*p))
            p++;
        if (p >= end) break;
        {
            int inq = 0, insq = 0, done = 0;
            cur = NULL;
            cl = cc = 0;
            PUSHC(0);
            cl = 0;
            while (!done) {
                if (inq) {
                    if (p >= end) goto err;
                    if (*p == '\\' && p + 3 < end && p[1] == 'x' && hexval(p[2]) >= 0 &&
                        hexval(p[3]) >= 0) {
                        PUSHC(hexval(p[2]) * 16 + hexval(p[3]));
                        p += 3;
                    } else if (*p == '\\' && p + 1 < end) {
                        char c;
                        p++;
                        switch (*p) {
                        case 'n':
                            c = '\n';
                            break;
                        case 'r':
                            c = '\r';
                            break;
                        case 't':
                            c = '\t';
                            break;
                        case 'b':
                            c = '\b';
                            break;
                        case 'a':
                            c = '\a';
                            break;
                        default:
                            c = *p;
                            break;
                        }
                        PUSHC(c);
                    } else if (*p == '"') {
                        if (p + 1 < end && !isspace((unsigned char)p[1])) goto err;
                        done = 1;
                    } else {
                        PUSHC(*p);
                    }
                } else if (insq) {
                    if (p >= end) goto err;
                    if (*p == '\\' && p + 1 < end && p[1] == '\'') {
                        p++;
                        PUSHC('\'');
                    } else if (*p == '\'') {
                        if (p + 1 < end && !isspace((unsigned char)p[1])) goto err;
                        done = 1;
                    } else {
                        PUSHC(*p);
                    }
                } else {
                    if (p >= end) {
                        done = 1;
                        break;
                    }
                    switch (*p) {
                    case ' ':
                    case '\n':
                    case '\r':
                    case '\t':
                    case '\0':
                        done = 1;
                        break;
                    case '"':
                        inq = 1;
                        break;
                    case '\'':
                        insq = 1;
                        break;
                    default:
                        PUSHC(*p);
                        break;
                    }
                }
                if (p < end) p++;
            }
            if (n == cap) {
                cap = cap ? cap * 2 : 8;
                words = xrealloc(words, sizeof(char *) * (size_t)cap);
                wl = xrealloc(wl, sizeof(size_t) * (size_t)cap);
            }
            cur[cl] = 0;
            words[n] = cur;
            wl[n] = cl;
            n++;
            cur = NULL;
        }
    }
    *out = words;
    *lens = wl;
    return n;
err:
    free(cur);
    util_free_words(words, wl, n);
    *out = NULL;
    *lens = NULL;
    return -1;
#undef PUSHC
}

void util_free_words(char **w, size_t *lens, int n)
{
    int i;
    for (i = 0; i < n; i++)
        free(w[i]);
    free(w);
    free(lens);
}

bool util_scan_cursor(const char *p, size_t n, uint64_t *out)
{
    char small[64], *s = small, *end;
    const char *nul = memchr(p, 0, n);
    unsigned long long v;
    bool ok;
    if (nul) n = (size_t)(nul - p);
    if (n >= sizeof(small)) s = xmalloc(n + 1);
    memcpy(s, p, n);
    s[n] = 0;
    errno = 0;
    v = strtoull(s, &end, 10);
    ok = !(n && (s[0] == ' ' || (s[0] >= '\t' && s[0] <= '\r'))) && *end == 0 && errno != ERANGE;
    if (s != small) free(s);
    *out = v;
    return ok;
}

void util_repr(const char *p, size_t n, void (*put)(void *ctx, const char *s, size_t len),
               void *ctx)
{
    size_t i, run = 0;
    put(ctx, "\"", 1);
    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)p[i];
        const char *e = NULL;
        char hex[5];
        switch (ch) {
        case '\\':
            e = "\\\\";
            break;
        case '"':
            e = "\\\"";
            break;
        case '\n':
            e = "\\n";
            break;
        case '\r':
            e = "\\r";
            break;
        case '\t':
            e = "\\t";
            break;
        case '\a':
            e = "\\a";
            break;
        case '\b':
            e = "\\b";
            break;
        default:
            if (ch >= 0x20 && ch < 0x7f) continue;
            snprintf(hex, sizeof(hex), "\\x%02x", ch);
            e = hex;
        }
        if (i > run) put(ctx, p + run, i - run);
        put(ctx, e, strlen(e));
        run = i + 1;
    }
    if (n > run) put(ctx, p + run, n - run);
    put(ctx, "\"", 1);
}
