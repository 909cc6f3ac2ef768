/* up_resp.c — the upstream side's wire format (upstream.h): commands
 * written as RESP multibulks, replies (RESP2 and RESP3) decoded into
 * up_value trees. A reply is decoded only once it is complete; RESP3
 * attributes are read and dropped, as the JSON sink drops them. */
#include "upstream.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

#define MAX_DEPTH 512

void up_resp_write(struct evbuffer *out, int argc, const struct argv_ref *argv)
{
    int i;
    evbuffer_add_printf(out, "*%d\r\n", argc);
    for (i = 0; i < argc; i++) {
        evbuffer_add_printf(out, "$%zu\r\n", argv[i].n);
        evbuffer_add(out, argv[i].p, argv[i].n);
        evbuffer_add(out, "\r\n", 2);
    }
}

static char *dup_bytes(const char *p, size_t n)
{
    char *s = xmalloc(n + 1);
    memcpy(s, p, n);
    s[n] = 0;
    return s;
}

/* One value at b[*pos]: 1 decoded (*pos past it), 0 incomplete, -1 bad. */
static int parse(const char *b, size_t len, size_t *pos, struct up_value *v, int depth)
{
    const char *line, *cr;
    size_t ll, at = *pos;
    long long n, k;
    char t;
    if (depth > MAX_DEPTH) return -1;
    if (at >= len) return 0;
    t = b[at];
    line = b + at + 1;
    cr = memchr(line, '\r', len - at - 1);
    if (!cr || (size_t)(cr - b) + 1 >= len) return 0;
    if (cr[1] != '\n') return -1;
    ll = (size_t)(cr - line);
    at = (size_t)(cr - b) + 2;
    memset(v, 0, sizeof(*v));
    switch (t) {
    case '+':
    case '-':
    case '(':
    case ',':
        v->type = t == '+' ? UV_STATUS : t == '-' ? UV_ERROR : t == '(' ? UV_BIGNUM : UV_DOUBLE;
        v->s = dup_bytes(line, ll);
        v->n = ll;
        break;
    case ':':
        if (!util_str2ll(line, ll, &n)) return -1;
        v->type = UV_INT;
        v->i = n;
        break;
    case '#':
        v->type = UV_BOOL;
        v->i = ll == 1 && line[0] == 't';
        break;
    case '_':
        v->type = UV_NULL;
        break;
    case '$':
    case '!':
    case '=':
        if (!util_str2ll(line, ll, &n) || n < -1) return -1;
        if (n == -1) {
            v->type = UV_NULL;
            break;
        }
        if (len - at < (size_t)n + 2) return 0;
        if (t == '=' && n >= 4) {
            v->type = UV_VERBATIM;
            memcpy(v->fmt, b + at, 3);
            v->s = dup_bytes(b + at + 4, (size_t)n - 4);
            v->n = (size_t)n - 4;
        } else {
            v->type = t == '!' ? UV_ERROR : UV_BULK;
            v->s = dup_bytes(b + at, (size_t)n);
            v->n = (size_t)n;
        }
        at += (size_t)n + 2;
        break;
    case '*':
    case '%':
    case '~':
    case '>':
    case '|':
        if (!util_str2ll(line, ll, &n) || n < -1) return -1;
        if (n == -1) {
            v->type = UV_NULL_ARRAY;
            break;
        }
        v->type = t == '*' ? UV_ARRAY : t == '%' ? UV_MAP : t == '~' ? UV_SET : UV_PUSH;
        if (t == '|') v->type = UV_MAP;
        v->i = n;
        {
            long long total = v->type == UV_MAP ? 2 * n : n;
            /* each element takes at least 3 bytes: a short reply cannot
             * announce more than its bytes can hold */
            if (total > (long long)(len - at)) {
                v->i = 0;
                v->type = UV_NULL;
                return 0;
            }
            v->elem = xcalloc((size_t)(total ? total : 1), sizeof(struct up_value));
            for (k = 0; k < total; k++) {
                int rc = parse(b, len, &at, &v->elem[k], depth + 1);
                if (rc <= 0) {
                    v->i = v->type == UV_MAP ? k / 2 : k;
                    if (v->type == UV_MAP && (k & 1)) up_value_clear(&v->elem[k - 1]);
                    up_value_clear(v);
                    return rc;
                }
            }
        }
        if (t == '|') { /* an attribute: dropped, the value follows */
            up_value_clear(v);
            *pos = at;
            return parse(b, len, pos, v, depth + 1);
        }
        break;
    default:
        return -1;
    }
    *pos = at;
    return 1;
}

int up_resp_read(struct evbuffer *in, struct up_value *v)
{
    size_t len = evbuffer_get_length(in), pos = 0;
    const char *b;
    int rc;
    if (len == 0) return 0;
    b = (const char *)evbuffer_pullup(in, -1);
    rc = parse(b, len, &pos, v, 0);
    if (rc == 1) evbuffer_drain(in, pos);
    return rc;
}
