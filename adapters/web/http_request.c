/* http_request.c — requests into commands (see http_request.h): Webdis's
 * URL form, query strings and JSON command arrays, decoded into a cmdbuf
 * (one byte arena plus argv arrays) for the kernel. */
#include "http_request.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* While building, argv[i].p holds an offset into bytes (bytes may move). */
void cmdbuf_reset(struct cmdbuf *b)
{
    b->blen = 0;
    b->argc = 0;
    b->ncmd = 0;
}

void cmdbuf_free(struct cmdbuf *b)
{
    free(b->bytes);
    free(b->argv);
    free(b->cmd_start);
    free(b->cmd_argc);
    memset(b, 0, sizeof(*b));
}

void cmdbuf_begin(struct cmdbuf *b)
{
    if (b->ncmd == b->ccap) {
        b->ccap = b->ccap ? b->ccap * 2 : 8;
        b->cmd_start = xrealloc(b->cmd_start, sizeof(int) * (size_t)b->ccap);
        b->cmd_argc = xrealloc(b->cmd_argc, sizeof(int) * (size_t)b->ccap);
    }
    b->cmd_start[b->ncmd] = b->argc;
    b->cmd_argc[b->ncmd] = 0;
    b->ncmd++;
}

static char *reserve(struct cmdbuf *b, size_t n)
{
    if (b->bcap - b->blen < n) {
        size_t cap = b->bcap ? b->bcap : 256;
        while (cap - b->blen < n)
            cap *= 2;
        b->bytes = xrealloc(b->bytes, cap);
        b->bcap = cap;
    }
    return b->bytes + b->blen;
}

static void push_arg(struct cmdbuf *b, size_t off, size_t n)
{
    if (b->ncmd == 0) cmdbuf_begin(b);
    if (b->argc == b->acap) {
        b->acap = b->acap ? b->acap * 2 : 16;
        b->argv = xrealloc(b->argv, sizeof(*b->argv) * (size_t)b->acap);
    }
    b->argv[b->argc].p = (const char *)(uintptr_t)off;
    b->argv[b->argc].n = n;
    b->argc++;
    b->cmd_argc[b->ncmd - 1]++;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') return (c | 0x20) - 'a' + 10;
    return -1;
}

size_t http_urldecode(const char *p, size_t n, char *out)
{
    size_t i, o = 0;
    for (i = 0; i < n; i++) {
        if (p[i] == '%' && i + 2 < n && hexval(p[i + 1]) >= 0 && hexval(p[i + 2]) >= 0) {
            out[o++] = (char)(hexval(p[i + 1]) * 16 + hexval(p[i + 2]));
            i += 2;
        } else if (p[i] == '+') {
            out[o++] = ' ';
        } else {
            out[o++] = p[i];
        }
    }
    return o;
}

void cmdbuf_add_arg(struct cmdbuf *b, const char *p, size_t n, bool raw)
{
    char *dst = reserve(b, n + 1);
    size_t off = b->blen, len;
    if (raw) {
        memcpy(dst, p, n);
        len = n;
    } else {
        len = http_urldecode(p, n, dst);
    }
    b->blen += len;
    push_arg(b, off, len);
}

void cmdbuf_finish(struct cmdbuf *b)
{
    int i;
    for (i = 0; i < b->argc; i++)
        b->argv[i].p = b->bytes + (uintptr_t)b->argv[i].p;
}

/* The extensions Webdis knows; any other ".suffix" stays in the argument. */
static bool known_ext(const char *p, size_t n)
{
    static const char *const exts[] = {"json", "raw", "txt", "html", "xml",   "png", "jpg",
                                       "jpeg", "css", "bin", "js",   "xhtml", "msg", NULL};
    int i;
    for (i = 0; exts[i]; i++)
        if (strlen(exts[i]) == n && memcmp(exts[i], p, n) == 0) return true;
    return false;
}

bool http_decode_path(const char *path, size_t n, struct cmdbuf *b, int *db, char *ext,
                      size_t extlen)
{
    size_t i = 0, end = n;
    const char *dot;
    *db = -1;
    ext[0] = 0;
    if (end > 0 && path[0] == '/') i = 1;
    if (i >= end) return false;
    /* The extension: after the last '.' of the last segment, if known. */
    dot = NULL;
    {
        size_t k;
        for (k = end; k > i; k--) {
            if (path[k - 1] == '/') break;
            if (path[k - 1] == '.') {
                dot = path + k - 1;
                break;
            }
        }
    }
    if (dot && known_ext(dot + 1, (size_t)(path + end - dot - 1))) {
        size_t el = (size_t)(path + end - dot - 1);
        if (el >= extlen) el = extlen - 1;
        memcpy(ext, dot + 1, el);
        ext[el] = 0;
        end = (size_t)(dot - path);
    }
    /* A digits-only first segment selects the database. */
    {
        size_t k = i;
        long long v = 0;
        while (k < end && path[k] >= '0' && path[k] <= '9' && k - i < 9) {
            v = v * 10 + (path[k] - '0');
            k++;
        }
        if (k > i && k < end && path[k] == '/') {
            *db = (int)v;
            i = k + 1;
        }
    }
    if (i >= end) return false;
    cmdbuf_begin(b);
    for (;;) {
        const char *slash = memchr(path + i, '/', end - i);
        size_t seg_end = slash ? (size_t)(slash - path) : end;
        cmdbuf_add_arg(b, path + i, seg_end - i, false);
        if (!slash) break;
        i = seg_end + 1;
    }
    return b->cmd_argc[b->ncmd - 1] > 0 && b->argv[b->cmd_start[b->ncmd - 1]].n > 0;
}

bool http_path_db_format(const char *path, size_t n, int *db, char *ext, size_t extlen, char *why,
                         size_t whylen)
{
    struct cmdbuf tmp = {0};
    bool ok = true;
    *db = -1;
    ext[0] = 0;
    if (n > 1 && http_decode_path(path, n, &tmp, db, ext, extlen)) {
        /* Only "/7" or "/7.raw": a database number, no command. */
        const char *w = tmp.bytes;
        size_t wl = tmp.argv[0].n, i;
        bool digits = tmp.argc == 1 && wl > 0 && wl < 10;
        for (i = 0; digits && i < wl; i++)
            digits = w[i] >= '0' && w[i] <= '9';
        if (digits) {
            *db = 0;
            for (i = 0; i < wl; i++)
                *db = *db * 10 + (w[i] - '0');
        } else {
            snprintf(why, whylen,
                     "the request body carries the command: the URL path may give only the "
                     "database and the format (as /7/.raw), not a command ('%.*s')",
                     (int)(wl > 32 ? 32 : wl), w);
            ok = false;
        }
    }
    cmdbuf_free(&tmp);
    return ok;
}

bool http_body_is_json(const char *ctype, size_t ctlen, const char *body, size_t n)
{
    size_t i;
    if (ctype) return ctlen >= 16 && util_eqci(ctype, 16, "application/json");
    for (i = 0; i < n; i++) {
        if (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n') continue;
        return body[i] == '[';
    }
    return false;
}

/* A JSON number or string as an argument. */
static bool add_json_arg(struct cmdbuf *b, json_t *v)
{
    char buf[64];
    int n;
    if (json_is_string(v)) {
        cmdbuf_add_arg(b, json_string_value(v), json_string_length(v), true);
        return true;
    }
    if (json_is_integer(v)) {
        n = util_ll2str(buf, (long long)json_integer_value(v));
        cmdbuf_add_arg(b, buf, (size_t)n, true);
        return true;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        int prec;
        /* The shortest form that reads back as the same double. */
        for (prec = 15; prec <= 17; prec++) {
            n = snprintf(buf, sizeof(buf), "%.*g", prec, d);
            if (strtod(buf, NULL) == d) break;
        }
        cmdbuf_add_arg(b, buf, (size_t)n, true);
        return true;
    }
    return false;
}

static bool add_json_cmd(struct cmdbuf *b, json_t *arr, char *err, size_t errlen)
{
    size_t i;
    json_t *v;
    if (!json_is_array(arr) || json_array_size(arr) == 0) {
        snprintf(err, errlen, "a command must be a non-empty array of strings and numbers");
        return false;
    }
    cmdbuf_begin(b);
    json_array_foreach(arr, i, v)
    {
        if (!add_json_arg(b, v)) {
            snprintf(err, errlen, "command arguments must be strings or numbers (argument %zu)",
                     i + 1);
            return false;
        }
    }
    return true;
}

bool http_decode_json(const char *p, size_t n, struct cmdbuf *b, bool *batch, char *err,
                      size_t errlen)
{
    json_error_t je;
    json_t *root = json_loadb(p, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    bool ok = true;
    *batch = false;
    if (!root) {
        snprintf(err, errlen, "invalid JSON: %s (line %d, column %d)", je.text, je.line, je.column);
        return false;
    }
    if (json_is_array(root) && json_array_size(root) > 0 &&
        json_is_array(json_array_get(root, 0))) {
        size_t i;
        json_t *c;
        *batch = true;
        json_array_foreach(root, i, c)
        {
            if (!add_json_cmd(b, c, err, errlen)) {
                ok = false;
                break;
            }
        }
    } else {
        ok = add_json_cmd(b, root, err, errlen);
    }
    json_decref(root);
    return ok;
}

const char *http_query_get(const char *q, size_t qlen, const char *name, size_t *vlen)
{
    size_t i = 0, nl = strlen(name);
    while (i < qlen) {
        const char *amp = memchr(q + i, '&', qlen - i);
        size_t e = amp ? (size_t)(amp - q) : qlen;
        const char *eq = memchr(q + i, '=', e - i);
        size_t kl = eq ? (size_t)(eq - q) - i : e - i;
        if (kl == nl && memcmp(q + i, name, nl) == 0) {
            if (eq) {
                *vlen = e - (size_t)(eq - q) - 1;
                return eq + 1;
            }
            *vlen = 0;
            return q + e;
        }
        i = e + 1;
    }
    return NULL;
}

const char *cmdbuf_atomic_refusal(const struct cmdbuf *b, bool in_multi)
{
    uint32_t txn = 0;
    int i, k;
    if (in_multi) return "ERR an atomic batch cannot run inside MULTI (EXEC or DISCARD first)";
    for (i = 0; registry_acl_names[i]; i++)
        if (!strcmp(registry_acl_names[i], "transaction")) txn = 1u << i;
    for (k = 0; k < b->ncmd; k++) {
        const struct argv_ref *a = &b->argv[b->cmd_start[k]];
        const struct command *cmd = registry_lookup(a->p, a->n);
        if (cmd && ((cmd->acl & txn) || !strcmp(cmd->name, "reset")))
            return "ERR MULTI, EXEC, DISCARD, WATCH, UNWATCH and RESET cannot be part of an atomic "
                   "batch (it runs as one transaction)";
    }
    return NULL;
}
