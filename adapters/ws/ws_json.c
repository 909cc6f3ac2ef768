/* ws_json.c — the JSON-mode request decoder (ws_json.h): a fast scanner
 * for the usual shapes (command arrays of plain or escaped strings and
 * short integers, batches of them, {"id":<integer>,"cmd":[..]}), a JSON
 * validator for the request object's other values, the request object's
 * checks, and the fallback to the general decoder (http_decode_json) for
 * every other command shape and its error messages. */
#include "ws_json.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const char *jws(const char *p, const char *e)
{
    if (p < e && (unsigned char)*p > ' ') return p; /* the usual case: no space */
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

static const char *jstring(const char *p, const char *e)
{
    p++;
    while (p < e) {
        unsigned char ch = (unsigned char)*p;
        if (ch == '"') return p + 1;
        if (ch < 0x20) return NULL;
        if (ch == '\\') {
            int i;
            if (++p >= e) return NULL;
            if (*p == 'u') {
                if (e - p < 5) return NULL;
                for (i = 1; i <= 4; i++)
                    if (!strchr("0123456789abcdefABCDEF", p[i]) || !p[i]) return NULL;
                p += 5;
                continue;
            }
            if (!strchr("\"\\/bfnrt", *p) || !*p) return NULL;
        }
        p++;
    }
    return NULL;
}

static const char *jdigits(const char *p, const char *e)
{
    const char *s = p;
    while (p < e && *p >= '0' && *p <= '9')
        p++;
    return p > s ? p : NULL;
}

static const char *jnumber(const char *p, const char *e)
{
    if (p < e && *p == '-') p++;
    if (p < e && *p == '0')
        p++;
    else if (!(p = jdigits(p, e)))
        return NULL;
    if (p < e && *p == '.' && !(p = jdigits(p + 1, e))) return NULL;
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < e && (*p == '+' || *p == '-')) p++;
        if (!(p = jdigits(p, e))) return NULL;
    }
    return p;
}

static const char *jvalue(const char *p, const char *e, int depth);

static const char *jcontainer(const char *p, const char *e, int depth)
{
    char close = *p == '[' ? ']' : '}';
    bool obj = *p == '{';
    if (depth > 64) return NULL;
    p = jws(p + 1, e);
    if (p < e && *p == close) return p + 1;
    for (;;) {
        if (obj) {
            if (p >= e || *p != '"' || !(p = jstring(p, e))) return NULL;
            p = jws(p, e);
            if (p >= e || *p != ':') return NULL;
            p = jws(p + 1, e);
        }
        if (!(p = jvalue(p, e, depth + 1))) return NULL;
        p = jws(p, e);
        if (p < e && *p == ',') {
            p = jws(p + 1, e);
            continue;
        }
        if (p < e && *p == close) return p + 1;
        return NULL;
    }
}

static const char *jvalue(const char *p, const char *e, int depth)
{
    if (p >= e) return NULL;
    switch (*p) {
    case '"':
        return jstring(p, e);
    case '[':
    case '{':
        return jcontainer(p, e, depth);
    case 't':
        return e - p >= 4 && memcmp(p, "true", 4) == 0 ? p + 4 : NULL;
    case 'f':
        return e - p >= 5 && memcmp(p, "false", 5) == 0 ? p + 5 : NULL;
    case 'n':
        return e - p >= 4 && memcmp(p, "null", 4) == 0 ? p + 4 : NULL;
    default:
        return jnumber(p, e);
    }
}

static int hex4(const char *p)
{
    int i, v = 0;
    for (i = 0; i < 4; i++) {
        char ch = p[i];
        v <<= 4;
        if (ch >= '0' && ch <= '9')
            v |= ch - '0';
        else if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f')
            v |= (ch | 0x20) - 'a' + 10;
        else
            return -1;
    }
    return v;
}

/* A JSON string with escapes, decoded into tmp; returns the end or NULL. */
static const char *fast_escaped(const char *p, const char *e, struct obuf *tmp)
{
    tmp->len = 0;
    while (p < e && *p != '"') {
        const char *run = p;
        char out[4];
        size_t on = 0;
        while (p < e && *p != '"' && *p != '\\' && (unsigned char)*p >= 0x20)
            p++;
        if (p > run) obuf_append(tmp, run, (size_t)(p - run));
        if (p >= e || *p == '"') break;
        if (*p != '\\' || ++p >= e) return NULL;
        switch (*p) {
        case '"':
        case '\\':
        case '/':
            out[0] = *p;
            on = 1;
            break;
        case 'b':
            out[0] = '\b';
            on = 1;
            break;
        case 'f':
            out[0] = '\f';
            on = 1;
            break;
        case 'n':
            out[0] = '\n';
            on = 1;
            break;
        case 'r':
            out[0] = '\r';
            on = 1;
            break;
        case 't':
            out[0] = '\t';
            on = 1;
            break;
        case 'u': {
            long cp;
            if (e - p < 5 || (cp = hex4(p + 1)) < 0) return NULL;
            p += 4;
            if (cp >= 0xd800 && cp <= 0xdbff) {
                long lo;
                if (e - p < 7 || p[1] != '\\' || p[2] != 'u' || (lo = hex4(p + 3)) < 0xdc00 ||
                    lo > 0xdfff)
                    return NULL;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                p += 6;
            } else if (cp >= 0xdc00 && cp <= 0xdfff) {
                return NULL;
            }
            if (cp < 0x80) {
                out[0] = (char)cp;
                on = 1;
            } else if (cp < 0x800) {
                out[0] = (char)(0xc0 | cp >> 6), out[1] = (char)(0x80 | (cp & 63));
                on = 2;
            } else if (cp < 0x10000) {
                out[0] = (char)(0xe0 | cp >> 12), out[1] = (char)(0x80 | ((cp >> 6) & 63));
                out[2] = (char)(0x80 | (cp & 63));
                on = 3;
            } else {
                out[0] = (char)(0xf0 | cp >> 18), out[1] = (char)(0x80 | ((cp >> 12) & 63));
                out[2] = (char)(0x80 | ((cp >> 6) & 63)), out[3] = (char)(0x80 | (cp & 63));
                on = 4;
            }
            break;
        }
        default:
            return NULL;
        }
        obuf_append(tmp, out, on);
        p++;
    }
    return p < e ? p + 1 : NULL;
}

/* The first byte in [p, e) that ends a plain JSON string run: '"', '\\'
 * or a control character. Eight bytes at a time (a zero byte of w ^ '"'..
 * found with the borrow trick: the lowest flagged byte is exact). */
static const char *str_stop(const char *p, const char *e)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    while (e - p >= 8) {
        uint64_t w, q, b, t;
        memcpy(&w, p, 8);
        q = w ^ (ones * '"');
        b = w ^ (ones * '\\');
        t = (((q - ones) & ~q) | ((b - ones) & ~b) | ((w - ones * 0x20) & ~w)) & highs;
        if (t) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            return p + (__builtin_ctzll(t) >> 3);
#else
            break;
#endif
        }
        p += 8;
    }
    while (p < e && *p != '"' && *p != '\\' && (unsigned char)*p >= 0x20)
        p++;
    return p;
}

/* The fast path of request decoding: one command array of strings and
 * integers (up to 18 digits: exact in every form), appended to b. NULL
 * when the input needs the general decoder (http_decode_json: reals, long
 * integers, and every error message) or is invalid. */
static const char *fast_cmd(const char *p, const char *e, struct cmdbuf *b, struct obuf *tmp)
{
    p = jws(p + 1, e);
    if (p >= e || *p == ']') return NULL;
    cmdbuf_begin(b);
    for (;;) {
        if (p >= e) return NULL;
        if (*p == '"') {
            const char *s = ++p;
            p = str_stop(p, e);
            if (p < e && *p == '"') {
                cmdbuf_add_arg(b, s, (size_t)(p - s), true);
                p++;
            } else {
                if (!(p = fast_escaped(s, e, tmp))) return NULL;
                cmdbuf_add_arg(b, tmp->buf ? tmp->buf : "", tmp->len, true);
            }
        } else if (*p == '-' || (*p >= '0' && *p <= '9')) {
            const char *s = p, *d;
            if (*p == '-') p++;
            d = p;
            while (p < e && *p >= '0' && *p <= '9')
                p++;
            if (p == d || p - d > 18 || (*d == '0' && (p - d > 1 || s != d))) return NULL;
            if (p < e && (*p == '.' || *p == 'e' || *p == 'E')) return NULL;
            cmdbuf_add_arg(b, s, (size_t)(p - s), true);
        } else {
            return NULL;
        }
        p = jws(p, e);
        if (p < e && *p == ',') {
            p = jws(p + 1, e);
            continue;
        }
        return p < e && *p == ']' ? p + 1 : NULL;
    }
}

/* A command array or a batch of them (fast path); *batch tells which. */
static const char *fast_commands(const char *p, const char *e, struct cmdbuf *b, bool *batch,
                                 struct obuf *tmp)
{
    const char *q = jws(p + 1, e);
    if (q >= e || *q != '[') {
        *batch = false;
        return fast_cmd(p, e, b, tmp);
    }
    *batch = true;
    for (;;) {
        if (!(q = fast_cmd(q, e, b, tmp))) return NULL;
        q = jws(q, e);
        if (q < e && *q == ',') {
            q = jws(q + 1, e);
            if (q >= e || *q != '[') return NULL;
            continue;
        }
        return q < e && *q == ']' ? q + 1 : NULL;
    }
}

static bool key_is(const char *k, size_t kn, const char *w)
{
    return kn == strlen(w) && memcmp(k, w, kn) == 0;
}

/* The fast path of {"id":<integer>,"cmd":[..]}, the pipelining form,
 * spelled so (no spaces before "cmd"): the command decoded into rq->cb,
 * the id's span returned. false: the general path decides. */
static bool fast_id_cmd(struct ws_json_req *rq, const char *p, const char *e, const char **id,
                        size_t *idlen)
{
    const char *d = p + 6, *s, *q;
    bool batch;
    if (e - p < 16 || memcmp(p, "{\"id\":", 6) != 0) return false;
    q = d;
    if (*q == '-') q++;
    s = q;
    while (q < e && *q >= '0' && *q <= '9')
        q++;
    if (q == s || (*s == '0' && q - s > 1) || q - s > 20) return false;
    if (e - q < 8 || memcmp(q, ",\"cmd\":[", 8) != 0) return false;
    *id = d;
    *idlen = (size_t)(q - d);
    q = fast_commands(q + 7, e, &rq->cb, &batch, &rq->tmp);
    if (q && !batch) {
        q = jws(q, e);
        if (q < e && *q == '}' && jws(q + 1, e) == e) return true;
    }
    cmdbuf_reset(&rq->cb);
    return false;
}

static bool fail(struct ws_json_req *rq, const char *msg)
{
    snprintf(rq->err, sizeof(rq->err), "%s", msg);
    return false;
}

bool ws_json_decode(struct ws_json_req *rq, const char *msg, size_t len, int flags)
{
    const char *p = msg, *e = msg + len, *span = NULL;
    size_t spanlen = 0;
    bool fast = !(flags & WS_JSON_NO_FAST);
    bool obj = false, want_batch = false, batch = false, atomic = false, decoded = false;

    rq->batch = rq->atomic = rq->fast = false;
    rq->id = NULL;
    rq->idlen = 0;
    rq->err[0] = 0;
    cmdbuf_reset(&rq->cb);
    p = jws(p, e);
    if (p < e && *p == '[') {
        const char *end = fast ? fast_commands(p, e, &rq->cb, &batch, &rq->tmp) : NULL;
        span = msg;
        spanlen = len;
        decoded = end && jws(end, e) == e;
    } else if (p < e && *p == '{' && fast && fast_id_cmd(rq, p, e, &span, &spanlen)) {
        obj = true;
        decoded = true;
        rq->id = span;
        rq->idlen = spanlen;
    } else if (p < e && *p == '{') {
        span = NULL; /* fast_id_cmd may have set it */
        spanlen = 0;
        obj = true;
        p = jws(p + 1, e);
        if (p < e && *p == '}') p = NULL;
        while (p) {
            const char *k, *v, *ve;
            size_t kn;
            if (p >= e || *p != '"' || !(v = jstring(p, e))) goto bad_json;
            k = p + 1;
            kn = (size_t)(v - p - 2);
            p = jws(v, e);
            if (p >= e || *p != ':') goto bad_json;
            v = jws(p + 1, e);
            ve = NULL;
            if (fast && !span && v < e && *v == '[' &&
                (key_is(k, kn, "cmd") || key_is(k, kn, "batch"))) {
                ve = fast_commands(v, e, &rq->cb, &batch, &rq->tmp);
                decoded = ve != NULL;
                if (!decoded) cmdbuf_reset(&rq->cb);
            }
            if (!ve && !(ve = jvalue(v, e, 1))) goto bad_json;
            if (key_is(k, kn, "id")) {
                if (*v != '"' && *v != '-' && (*v < '0' || *v > '9')) {
                    rq->id = NULL; /* answered without an id */
                    rq->idlen = 0;
                    return fail(rq, "\"id\" must be a number or a string");
                }
                rq->id = v;
                rq->idlen = (size_t)(ve - v);
            } else if (key_is(k, kn, "cmd") || key_is(k, kn, "batch")) {
                if (span) return fail(rq, "give either \"cmd\" or \"batch\", once");
                want_batch = key_is(k, kn, "batch");
                span = v;
                spanlen = (size_t)(ve - v);
            } else if (key_is(k, kn, "atomic")) {
                if (*v != 't' && *v != 'f') return fail(rq, "\"atomic\" must be true or false");
                atomic = *v == 't';
            } else {
                snprintf(rq->err, sizeof(rq->err),
                         "unknown field \"%.*s\" (expected id, cmd, batch, atomic)",
                         (int)(kn > 32 ? 32 : kn), k);
                return false;
            }
            p = jws(ve, e);
            if (p < e && *p == ',') {
                p = jws(p + 1, e);
                continue;
            }
            if (p < e && *p == '}') break;
            goto bad_json;
        }
        if (p && jws(p + 1, e) != e) goto bad_json;
        if (!span) return fail(rq, "a request object needs \"cmd\" or \"batch\"");
        if (atomic && !want_batch) return fail(rq, "\"atomic\" goes with \"batch\"");
    } else {
        return fail(rq, "a request is a JSON array (a command or a batch of commands) or an "
                        "object {\"id\":..,\"cmd\":[..]} / "
                        "{\"id\":..,\"batch\":[[..],..],\"atomic\":true}");
    }
    if (!decoded) cmdbuf_reset(&rq->cb);
    if (!decoded && !http_decode_json(span, spanlen, &rq->cb, &batch, rq->err, sizeof(rq->err)))
        return false;
    cmdbuf_finish(&rq->cb);
    if (obj && batch != want_batch)
        return fail(rq, want_batch ? "\"batch\" must be an array of command arrays"
                                   : "\"cmd\" must be one command array (use \"batch\" for "
                                     "several)");
    rq->batch = batch;
    rq->atomic = atomic;
    rq->fast = decoded;
    return true;

bad_json:
    snprintf(rq->err, sizeof(rq->err), "invalid JSON request (at byte %zu)",
             p ? (size_t)(p - msg) : len);
    return false;
}

void ws_json_req_free(struct ws_json_req *rq)
{
    cmdbuf_free(&rq->cb);
    obuf_free(&rq->tmp);
    rq->id = NULL;
    rq->idlen = 0;
}
