/* webdis_info.c — INFO's text as an object of fields (webdis_info.h). */
#include "webdis_info.h"

#include <string.h>

#include "json_reply.h"

size_t webdis_info_fields(const char *p, size_t n,
                          void (*fn)(void *arg, const char *k, size_t kl, const char *v, size_t vl),
                          void *arg)
{
    size_t i = 0, count = 0;
    while (i < n) {
        const char *nl = memchr(p + i, '\n', n - i);
        size_t e = nl ? (size_t)(nl - p) : n, le = e;
        const char *colon;
        if (le > i && p[le - 1] == '\r') le--;
        colon = le > i ? memchr(p + i, ':', le - i) : NULL;
        if (le > i && p[i] != '#' && colon && colon > p + i) {
            if (fn)
                fn(arg, p + i, (size_t)(colon - p - i), colon + 1, le - (size_t)(colon + 1 - p));
            count++;
        }
        i = e + 1;
    }
    return count;
}

static void put_field(void *arg, const char *k, size_t kl, const char *v, size_t vl)
{
    struct reply *r = arg;
    json_reply_ops.bulk(r, k, kl);
    json_reply_ops.bulk(r, v, vl);
}

static void info_bulk(struct reply *r, const char *p, size_t n)
{
    struct json_sink *s = r->ctx;
    if (s->depth != 0) {
        json_reply_ops.bulk(r, p, n);
        return;
    }
    json_reply_ops.aggregate(r, AGG_MAP, (long long)webdis_info_fields(p, n, NULL, NULL));
    webdis_info_fields(p, n, put_field, r);
}

static void info_verbatim(struct reply *r, const char *fmt, const char *p, size_t n)
{
    (void)fmt;
    info_bulk(r, p, n);
}

void webdis_info_ops(struct reply_ops *ops)
{
    *ops = json_reply_ops;
    ops->bulk = info_bulk;
    ops->verbatim = info_verbatim;
}
