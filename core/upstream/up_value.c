/* up_value.c — upstream replies as trees: freeing and replaying them
 * through a reply sink (up_value.h). */
#include "up_value.h"

#include <stdlib.h>
#include <string.h>

void up_value_clear(struct up_value *v)
{
    long long k;
    if (up_value_is_agg(v)) {
        for (k = 0; k < up_value_nelem(v); k++)
            up_value_clear(&v->elem[k]);
        free(v->elem);
    }
    free(v->s);
    memset(v, 0, sizeof(*v));
}

void up_value_replay(const struct up_value *v, struct reply *r)
{
    long long k;
    switch (v->type) {
    case UV_STATUS:
        r->ops->status(r, v->s, v->n);
        return;
    case UV_ERROR: {
        /* reply_error counts it (INFO errorstats, failed calls) */
        char *t = malloc(v->n + 1);
        memcpy(t, v->s, v->n);
        t[v->n] = 0;
        reply_error(r, t);
        free(t);
        return;
    }
    case UV_INT:
        reply_int(r, v->i);
        return;
    case UV_BULK:
        reply_bulk(r, v->s, v->n);
        return;
    case UV_NULL:
        reply_null(r);
        return;
    case UV_NULL_ARRAY:
        reply_null_array(r);
        return;
    case UV_DOUBLE:
        reply_double_text(r, strtod(v->s, NULL), v->s, v->n);
        return;
    case UV_BOOL:
        reply_bool(r, v->i != 0);
        return;
    case UV_VERBATIM:
        r->ops->verbatim(r, v->fmt, v->s, v->n);
        return;
    case UV_BIGNUM:
        reply_bignum(r, v->s, v->n);
        return;
    case UV_ARRAY:
        reply_array(r, v->i);
        break;
    case UV_MAP:
        reply_map(r, v->i);
        break;
    case UV_SET:
        reply_set(r, v->i);
        break;
    case UV_PUSH:
        reply_push(r, v->i);
        break;
    }
    for (k = 0; k < up_value_nelem(v); k++)
        up_value_replay(&v->elem[k], r);
}

bool up_value_is_error(const struct up_value *v, const char *pre)
{
    size_t n = strlen(pre);
    return v->type == UV_ERROR && v->n >= n && memcmp(v->s, pre, n) == 0 &&
           (v->n == n || v->s[n] == ' ');
}
