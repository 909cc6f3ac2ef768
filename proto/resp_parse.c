/* resp_parse.c — incremental RESP request parser (resp_parse.h). */
#include "resp_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void resp_parser_init(struct resp_parser *p, long long max_bulk, long long max_multibulk)
{
    memset(p, 0, sizeof(*p));
    p->max_bulk = max_bulk;
    p->max_multibulk = max_multibulk;
    p->authenticated = true;
    p->bulklen = -1;
}

static void free_words(struct resp_parser *p)
{
    if (p->words) util_free_words(p->words, p->wlens, p->nwords);
    p->words = NULL;
    p->wlens = NULL;
    p->nwords = 0;
}

void resp_parser_free(struct resp_parser *p)
{
    free_words(p);
    free(p->offs);
    free(p->lens);
    free(p->argv);
    p->offs = p->lens = NULL;
    p->argv = NULL;
    p->cap = 0;
}

static void reset(struct resp_parser *p)
{
    p->type = 0;
    p->need = 0;
    p->bulklen = -1;
    p->pos = 0;
    p->argc = 0;
}

static void ensure(struct resp_parser *p, int n)
{
    if (n <= p->cap) return;
    {
        int cap = p->cap ? p->cap : 8;
        while (cap < n)
            cap *= 2;
        p->offs = xrealloc(p->offs, sizeof(size_t) * (size_t)cap);
        p->lens = xrealloc(p->lens, sizeof(size_t) * (size_t)cap);
        p->argv = xrealloc(p->argv, sizeof(struct argv_ref) * (size_t)cap);
        p->cap = cap;
    }
}

static enum resp_result fail(struct resp_parser *p, const char *msg)
{
    snprintf(p->err, sizeof(p->err), "Protocol error: %s", msg);
    reset(p);
    return RESP_ERROR;
}

/* Where Redis 7.0 finds the end of a line: strchr on its NUL-terminated
 * query buffer, so a NUL byte before `c` hides it (the request waits for
 * more bytes, until the "too big" limits). NULL when not (yet) found. */
static const char *find_line_end(const char *buf, size_t len, char c)
{
    const char *e = memchr(buf, c, len);
    if (memchr(buf, '\0', e ? (size_t)(e - buf) : len)) return NULL;
    return e;
}

static enum resp_result parse_inline(struct resp_parser *p, const char *buf, size_t len, int *argc,
                                     struct argv_ref **argv, size_t *consumed)
{
    const char *nl = find_line_end(buf, len, '\n');
    size_t linelen;
    int n, i;
    if (!nl) {
        if (len > RESP_INLINE_MAX) return fail(p, "too big inline request");
        return RESP_MORE;
    }
    linelen = (size_t)(nl - buf);
    *consumed = linelen + 1;
    if (linelen && buf[linelen - 1] == '\r') linelen--;
    free_words(p);
    n = util_split_args(buf, linelen, &p->words, &p->wlens);
    if (n < 0) return fail(p, "unbalanced quotes in request");
    p->nwords = n;
    reset(p);
    if (n == 0) return RESP_EMPTY;
    ensure(p, n);
    for (i = 0; i < n; i++) {
        p->argv[i].p = p->words[i];
        p->argv[i].n = p->wlens[i];
    }
    *argc = n;
    *argv = p->argv;
    return RESP_CMD;
}

/* Read a "<c><number>\r\n" header at p->pos, as Redis 7.0 does: first the
 * '\r' and the byte after it, then (for a bulk) the '$', then the number.
 * Returns 1 ok, 0 more, -1 bad number, -2 too big, -3 not a '$'. */
static int header(struct resp_parser *p, const char *buf, size_t len, bool bulk, long long *out)
{
    const char *start = buf + p->pos + 1, *cr;
    size_t avail = len - p->pos;
    /* The common case in one pass: a number string2ll takes as it stands
     * (0, or 1-9 then at most 17 more digits: no overflow, no NUL) ending
     * at a '\r' with a byte after it. Anything else goes the exact way. */
    if (!bulk || buf[p->pos] == '$') {
        const char *q = start, *lim = buf + len - 1;
        unsigned long long v = 0;
        if (q < lim && *q >= '1' && *q <= '9') {
            while (q < lim && *q >= '0' && *q <= '9' && q - start < 18)
                v = v * 10 + (unsigned long long)(*q++ - '0');
        } else if (q < lim && *q == '0') {
            q++;
        }
        if (q > start && q < lim && *q == '\r') {
            *out = (long long)v;
            p->pos = (size_t)(q - buf) + 2;
            return 1;
        }
    }
    cr = find_line_end(buf + p->pos, avail, '\r');
    if (!cr) return avail > RESP_INLINE_MAX ? -2 : 0;
    /* Redis needs the byte after '\r' to be present, and skips it. */
    if ((size_t)(cr - (buf + p->pos)) > avail - 2 || avail < 2) return 0;
    if (bulk && buf[p->pos] != '$') return -3;
    if (!util_str2ll(start, (size_t)(cr - start), out)) return -1;
    p->pos = (size_t)(cr - buf) + 2;
    return 1;
}

enum resp_result resp_parse(struct resp_parser *p, const char *buf, size_t len, int *argc,
                            struct argv_ref **argv, size_t *consumed)
{
    long long ll;
    int h, i;

    if (len == 0) return RESP_MORE;
    if (p->type == 0) {
        if (buf[0] != '*') return parse_inline(p, buf, len, argc, argv, consumed);
        p->pos = 0;
        h = header(p, buf, len, false, &ll);
        if (h == 0) return RESP_MORE;
        if (h == -2) return fail(p, "too big mbulk count string");
        if (h < 0 || ll > 2147483647LL || ll > p->max_multibulk)
            return fail(p, "invalid multibulk length");
        if (ll > 10 && !p->authenticated) return fail(p, "unauthenticated multibulk length");
        if (ll <= 0) {
            *consumed = p->pos;
            reset(p);
            return RESP_EMPTY;
        }
        p->type = '*';
        p->need = ll;
        p->argc = 0;
        p->bulklen = -1;
        ensure(p, ll < 1024 ? (int)ll : 1024);
    }
    while (p->need > 0) {
        if (p->bulklen == -1) {
            if (p->pos >= len) return RESP_MORE;
            h = header(p, buf, len, true, &ll);
            if (h == 0) return RESP_MORE;
            if (h == -2) return fail(p, "too big bulk count string");
            if (h == -3) {
                char msg[64];
                snprintf(msg, sizeof(msg), "expected '$', got '%c'", buf[p->pos]);
                return fail(p, msg);
            }
            if (h < 0 || ll < 0 || ll > p->max_bulk) return fail(p, "invalid bulk length");
            if (ll > 16384 && !p->authenticated) return fail(p, "unauthenticated bulk length");
            p->bulklen = ll;
        }
        if (len - p->pos < (size_t)p->bulklen + 2) return RESP_MORE;
        ensure(p, p->argc + 1);
        p->offs[p->argc] = p->pos;
        p->lens[p->argc] = (size_t)p->bulklen;
        p->argc++;
        p->pos += (size_t)p->bulklen + 2;
        p->bulklen = -1;
        p->need--;
    }
    for (i = 0; i < p->argc; i++) {
        p->argv[i].p = buf + p->offs[i];
        p->argv[i].n = p->lens[i];
    }
    *argc = p->argc;
    *argv = p->argv;
    *consumed = p->pos;
    reset(p);
    return RESP_CMD;
}

size_t resp_parse_hint(const struct resp_parser *p)
{
    if (p->type == '*' && p->bulklen >= 0) return p->pos + (size_t)p->bulklen + 2;
    return 0;
}
