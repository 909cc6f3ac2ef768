/* fuzz_glob.c — libFuzzer target for the glob matcher util_glob
 * (core/lib/util.c), behind KEYS, SCAN MATCH, PSUBSCRIBE, ACL key and
 * channel patterns and CONFIG GET: pattern and subject from the input.
 *
 * Input: [flags] [plen hi] [plen lo] pattern subject; flags & 1: nocase.
 * util_glob works in O(pattern * subject) (only the last '*' is retried),
 * so no input may take long (libFuzzer's -timeout), and nothing may read
 * out of bounds (both are copied to buffers of their exact size).
 *
 * Where the pattern and subject are at most 300 bytes, the pattern has at
 * most 1000 star groups (past that Redis 7.0 gives up, as Keel) and every
 * [class] is closed, the answer must be a plain memoized backtracking
 * matcher's (ref_match below) with Redis 7.0's rules: ? is any byte, \x
 * is x, a class's \x is x and its a-b ranges compare bytes as signed
 * chars (either order), nocase lowers A-Z only, and "" matches only "".
 * And whatever the pattern: a subject matches itself escaped, and "*"
 * followed by it escaped. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"

#include "util.h"

#define REF_MAX 300

static int ref_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* One closed class at p (after '['): whether c matches; *used: the bytes
 * up to and including ']'. -1: not closed (no reference then). */
static int ref_class(const unsigned char *p, size_t pl, unsigned char c, bool nocase, size_t *used)
{
    size_t i = 0;
    bool neg = false, match = false;
    int sc = (signed char)c;
    if (i < pl && p[i] == '^') neg = true, i++;
    for (;;) {
        if (i >= pl) return -1;
        if (p[i] == '\\' && i + 1 < pl) {
            if (p[i + 1] == c) match = true;
            i += 2;
        } else if (p[i] == ']') {
            i++;
            break;
        } else if (i + 2 < pl && p[i + 1] == '-') {
            int a = (signed char)p[i], b = (signed char)p[i + 2], x = sc;
            if (a > b) {
                int t = a;
                a = b;
                b = t;
            }
            if (nocase) a = ref_lower(a), b = ref_lower(b), x = ref_lower(x);
            if (x >= a && x <= b) match = true;
            i += 3;
        } else {
            if (nocase ? ref_lower(p[i]) == ref_lower(c) : p[i] == c) match = true;
            i++;
        }
    }
    *used = i + 1; /* with the '[' */
    return neg ? !match : match;
}

static const unsigned char *rp, *rs;
static size_t rpl, rsl;
static bool rnocase, rbad;
static signed char memo[REF_MAX + 1][REF_MAX + 1];

static bool ref_at(size_t pi, size_t si)
{
    bool m = false;
    size_t used = 1;
    if (memo[pi][si] >= 0) return memo[pi][si];
    if (pi == rpl) {
        m = si == rsl;
    } else if (rp[pi] == '*') {
        m = ref_at(pi + 1, si) || (si < rsl && ref_at(pi, si + 1));
    } else if (si < rsl) {
        unsigned char c = rs[si];
        if (rp[pi] == '?') {
            m = true;
        } else if (rp[pi] == '[') {
            int r = ref_class(rp + pi + 1, rpl - pi - 1, c, rnocase, &used);
            if (r < 0) rbad = true;
            m = r == 1;
        } else {
            unsigned char l = rp[pi];
            if (l == '\\' && pi + 1 < rpl) l = rp[pi + 1], used = 2;
            m = rnocase ? ref_lower(l) == ref_lower(c) : l == c;
        }
        m = m && ref_at(pi + used, si + 1);
    }
    memo[pi][si] = m;
    return m;
}

/* -1: no reference for this pattern. */
static int ref_match(const unsigned char *p, size_t pl, const unsigned char *s, size_t sl,
                     bool nocase)
{
    size_t i, groups = 0;
    bool m;
    if (pl > REF_MAX || sl > REF_MAX) return -1;
    for (i = 0; i < pl; i++) {
        if (p[i] == '*' && (i == 0 || p[i - 1] != '*')) groups++;
        if (p[i] == '[') { /* every class closed */
            size_t used;
            if (ref_class(p + i + 1, pl - i - 1, 'a', false, &used) < 0) return -1;
            i += used - 1;
        } else if (p[i] == '\\') {
            i++;
        }
    }
    if (groups > 1000) return -1;
    if (sl == 0) return pl == 0;
    rp = p, rpl = pl, rs = s, rsl = sl, rnocase = nocase, rbad = false;
    for (i = 0; i <= pl; i++)
        memset(memo[i], -1, sl + 1);
    m = ref_at(0, 0);
    return rbad ? -1 : m;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t pl, sl, i;
    bool nocase, got;
    char *p, *s, *esc;
    int want;
    if (size < 3) return 0;
    nocase = data[0] & 1;
    pl = (size_t)data[1] << 8 | data[2];
    data += 3, size -= 3;
    if (pl > size) pl = size;
    sl = size - pl;
    p = malloc(pl ? pl : 1);
    s = malloc(sl ? sl : 1);
    CHECK(p && s);
    memcpy(p, data, pl);
    memcpy(s, data + pl, sl);
    got = util_glob(p, pl, s, sl, nocase);
    want = ref_match((const unsigned char *)p, pl, (const unsigned char *)s, sl, nocase);
    if (want >= 0 && (bool)want != got) {
        fprintf(stderr, "pattern %zu bytes, subject %zu, nocase %d: util_glob %d, reference %d\n",
                pl, sl, nocase, got, want);
        CHECK(0);
    }
    /* the subject escaped matches it, and so does "*" before that */
    esc = malloc(2 * sl + 1);
    CHECK(esc != NULL);
    esc[0] = '*';
    for (i = 0; i < sl; i++)
        esc[1 + 2 * i] = '\\', esc[2 + 2 * i] = s[i];
    CHECK(util_glob(esc + 1, 2 * sl, s, sl, nocase));
    if (sl) CHECK(util_glob(esc, 2 * sl + 1, s, sl, nocase));
    free(esc);
    free(p);
    free(s);
    return 0;
}
