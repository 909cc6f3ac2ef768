/* resp_ldb.c — the Lua debugger's request reader (resp_ldb.h): Redis
 * 7.0's rules, which differ from the command parser's: a leading '*'
 * found anywhere, counts read as atoi does, empty or over-long words and
 * more than 1024 of them refused. */
#include "resp_ldb.h"

#include <stdlib.h>
#include <string.h>

/* atoi over [p, end): optional sign, digits, stops at the first other byte. */
static long num(const char *p, const char *end)
{
    long v = 0;
    int neg = 0;
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    if (p < end && (*p == '-' || *p == '+')) neg = *p++ == '-';
    while (p < end && *p >= '0' && *p <= '9' && v < 100000000)
        v = v * 10 + (*p++ - '0');
    return neg ? -v : v;
}

/* The first "\r\n" in [p, end), or NULL. */
static const char *crlf(const char *p, const char *end)
{
    while (p + 1 < end) {
        const char *r = memchr(p, '\r', (size_t)(end - p - 1));
        if (!r) return NULL;
        if (r[1] == '\n') return r;
        p = r + 1;
    }
    return NULL;
}

void resp_ldb_free(int argc, char **argv, size_t *lens)
{
    int i;
    if (!argv) return;
    for (i = 0; i < argc; i++)
        free(argv[i]);
    free(argv);
    free(lens);
}

enum resp_ldb_result resp_ldb_parse(const char *buf, size_t n, int *argc, char ***argv,
                                    size_t **lens)
{
    const char *p, *end = buf + n, *e;
    long want, i;
    char **v = NULL;
    size_t *l = NULL;
    int got = 0;
    enum resp_ldb_result res = RESP_LDB_MORE;

    if (n == 0) return RESP_LDB_MORE;
    /* A NUL ends the buffer as Redis sees it (a C string). */
    e = memchr(buf, 0, n);
    if (e) end = e;
    p = memchr(buf, '*', (size_t)(end - buf));
    if (!p) return RESP_LDB_ERROR;
    e = crlf(p, end);
    if (!e) return RESP_LDB_MORE;
    want = num(p + 1, e);
    if (want <= 0 || want > RESP_LDB_MAX_ARGS) return RESP_LDB_ERROR;
    p = e + 2;
    v = calloc((size_t)want, sizeof(*v));
    l = calloc((size_t)want, sizeof(*l));
    if (!v || !l) goto fail;
    for (i = 0; i < want; i++) {
        long len;
        if (p >= end) goto fail; /* more to read */
        if (*p != '$') {
            res = RESP_LDB_ERROR;
            goto fail;
        }
        e = crlf(p, end);
        if (!e) goto fail;
        len = num(p + 1, e);
        if (len <= 0 || len > RESP_LDB_MAX_ARG) {
            res = RESP_LDB_ERROR;
            goto fail;
        }
        p = e + 2;
        if ((size_t)(end - p) < (size_t)len + 2) goto fail;
        v[got] = malloc((size_t)len + 1);
        if (!v[got]) goto fail;
        memcpy(v[got], p, (size_t)len);
        v[got][len] = 0;
        l[got++] = (size_t)len;
        p += len;
        if (p[0] != '\r' || p[1] != '\n') {
            res = RESP_LDB_ERROR;
            goto fail;
        }
        p += 2;
    }
    *argc = got;
    *argv = v;
    *lens = l;
    return RESP_LDB_OK;
fail:
    resp_ldb_free(got, v, l);
    return res;
}
