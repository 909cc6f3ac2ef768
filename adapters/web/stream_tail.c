/* stream_tail.c — following a stream (stream_tail.h). */
#include "stream_tail.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blocking.h"
#include "client.h"
#include "http_request.h"
#include "util.h"

/* An id as XREAD takes it: "$", or digits with at most one '-'. */
static bool id_ok(const char *p, size_t n)
{
    size_t i, dashes = 0;
    if (n == 1 && p[0] == '$') return true;
    if (n == 0 || n >= 48) return false;
    for (i = 0; i < n; i++) {
        if (p[i] == '-') {
            if (++dashes > 1 || i == 0 || i == n - 1) return false;
        } else if (p[i] < '0' || p[i] > '9') {
            return false;
        }
    }
    return true;
}

/* A name as given (%XX-decoded when urlencoded): NULL when empty. */
static char *name_dup(const char *p, size_t n, bool urlencoded, size_t *len)
{
    char *s;
    if (!p || n == 0) return NULL;
    s = xmalloc(n + 1);
    if (urlencoded) {
        *len = http_urldecode(p, n, s);
    } else {
        memcpy(s, p, n);
        *len = n;
    }
    s[*len] = 0;
    if (*len == 0) {
        free(s);
        return NULL;
    }
    return s;
}

bool stream_tail_start(struct stream_tail *t, const char *path, size_t n, bool urlencoded,
                       const char *from, size_t flen)
{
    char *key;
    size_t klen;
    if (n == 0 || (from && !id_ok(from, flen))) return false;
    key = name_dup(path, n, urlencoded, &klen);
    if (!key) return false;
    stream_tail_free(t);
    t->key = key;
    t->klen = klen;
    if (from) {
        memcpy(t->last, from, flen);
        t->last[flen] = 0;
    } else {
        strcpy(t->last, "$");
    }
    t->on = true;
    return true;
}

bool stream_tail_start_group(struct stream_tail *t, const char *path, size_t n, bool urlencoded,
                             const char *group, size_t glen, const char *consumer, size_t clen)
{
    size_t gl = 0, cl = 0;
    char *g = name_dup(group, glen, urlencoded, &gl);
    char *cn = name_dup(consumer, clen, urlencoded, &cl);
    if (!g || !cn || !stream_tail_start(t, path, n, urlencoded, "0", 1)) {
        free(g);
        free(cn);
        return false;
    }
    t->group = g;
    t->glen = gl;
    t->consumer = cn;
    t->clen = cl;
    return true;
}

bool stream_tail_ack(struct stream_tail *t, const char *id, size_t n)
{
    char *s;
    /* (no cap: the queue goes out as one XACK before the tail's next
     * read, and the adapter stops reading its socket while output waits) */
    if (!t->on || !t->group) return false;
    if (t->nacks == t->acap) {
        t->acap = t->acap ? t->acap * 2 : 16;
        t->acks = xrealloc(t->acks, sizeof(*t->acks) * (size_t)t->acap);
    }
    s = xmalloc(n + 1);
    memcpy(s, id, n);
    s[n] = 0;
    t->acks[t->nacks++] = s;
    return true;
}

void stream_tail_wake(struct stream_tail *t, struct client *c)
{
    /* a group read parked with BLOCK 0: it answers nil, the loop sends
     * the XACK and reads again */
    if (t->on && t->group && t->nacks && c && c->state == CLIENT_PARKED) blocking_unblock(c, false);
}

static void put(struct stream_tail *t, int i, const char *p, size_t n)
{
    if (i >= t->argv_cap) {
        t->argv_cap = i + 16;
        t->argv = xrealloc(t->argv, sizeof(*t->argv) * (size_t)t->argv_cap);
    }
    t->argv[i].p = p;
    t->argv[i].n = n;
}

static void put_words(struct stream_tail *t, int *i, const char *const *w, int n)
{
    int k;
    for (k = 0; k < n; k++)
        put(t, (*i)++, w[k], strlen(w[k]));
}

static void free_sent(struct stream_tail *t)
{
    int i;
    for (i = 0; i < t->nsent; i++)
        free(t->sent[i]);
    free(t->sent);
    t->sent = NULL;
    t->nsent = 0;
}

int stream_tail_argv(struct stream_tail *t, const struct argv_ref **argv)
{
    static const char *const xread[] = {"XREAD", "COUNT", "100", "BLOCK", "0", "STREAMS"};
    static const char *const count[] = {"COUNT", "100"}, *const block[] = {"BLOCK", "0"};
    int i = 0, k;
    t->acking = false;
    if (!t->group) {
        put_words(t, &i, xread, 6);
        put(t, i++, t->key, t->klen);
        put(t, i++, t->last, strlen(t->last));
    } else if (t->nacks) {
        free_sent(t);
        t->sent = t->acks;
        t->nsent = t->nacks;
        t->acks = NULL;
        t->nacks = t->acap = 0;
        t->acking = true;
        put(t, i++, "XACK", 4);
        put(t, i++, t->key, t->klen);
        put(t, i++, t->group, t->glen);
        for (k = 0; k < t->nsent; k++)
            put(t, i++, t->sent[k], strlen(t->sent[k]));
    } else {
        put(t, i++, "XREADGROUP", 10);
        put(t, i++, "GROUP", 5);
        put(t, i++, t->group, t->glen);
        put(t, i++, t->consumer, t->clen);
        put_words(t, &i, count, 2);
        if (t->fresh) put_words(t, &i, block, 2);
        put(t, i++, "STREAMS", 7);
        put(t, i++, t->key, t->klen);
        if (t->fresh)
            put(t, i++, ">", 1);
        else
            put(t, i++, t->last, strlen(t->last));
    }
    *argv = t->argv;
    return i;
}

int stream_tail_read(struct stream_tail *t, const char *json, size_t n, stream_tail_entry_fn fn,
                     void *arg)
{
    json_error_t err;
    json_t *root = json_loadb(json, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err), *entries;
    size_t i;
    int count = 0;
    if (t->acking) {
        /* XACK's count, or its error */
        bool ok = root && json_is_integer(root);
        json_decref(root);
        t->acking = false;
        free_sent(t);
        return ok ? 1 : -1;
    }
    /* [[key, [[id, [f, v, ...]], ...]]], or null when nothing came (a
     * group read woken for acks goes on) */
    if (root && json_is_null(root)) {
        json_decref(root);
        return t->group ? 1 : 0;
    }
    /* RESP3 clients: {key: [[id, [f, v, ...]], ...]} */
    if (root && json_is_object(root) && json_object_size(root) == 1) {
        json_t *arr = json_array();
        json_array_append(arr, json_null());
        json_array_append(arr, json_object_iter_value(json_object_iter(root)));
        json_decref(root);
        root = json_array();
        json_array_append_new(root, arr);
    }
    if (!root || !json_is_array(root) || json_array_size(root) != 1 ||
        !json_is_array(json_array_get(root, 0)) ||
        !json_is_array(entries = json_array_get(json_array_get(root, 0), 1))) {
        json_decref(root);
        return -1;
    }
    for (i = 0; i < json_array_size(entries); i++) {
        json_t *e = json_array_get(entries, i), *fv = json_array_get(e, 1), *obj = json_object();
        const char *id = json_string_value(json_array_get(e, 0));
        char *text;
        size_t k;
        if (!id || strlen(id) >= sizeof(t->last)) {
            json_decref(obj);
            continue;
        }
        for (k = 0; json_is_array(fv) && k + 1 < json_array_size(fv); k += 2) {
            const char *f = json_string_value(json_array_get(fv, k));
            if (f) json_object_set(obj, f, json_array_get(fv, k + 1));
        }
        /* a pending entry deleted since: its id with nil */
        text = json_dumps(json_is_null(fv) ? fv : obj, JSON_COMPACT | JSON_ENCODE_ANY);
        strcpy(t->last, id);
        fn(arg, t->last, text);
        free(text);
        json_decref(obj);
        count++;
    }
    json_decref(root);
    if (t->group && count == 0) {
        t->fresh = true; /* the pending entries are all delivered */
        return 1;
    }
    return count;
}

void stream_tail_free(struct stream_tail *t)
{
    int i;
    free(t->key);
    free(t->group);
    free(t->consumer);
    t->key = t->group = t->consumer = NULL;
    for (i = 0; i < t->nacks; i++)
        free(t->acks[i]);
    free(t->acks);
    t->acks = NULL;
    t->nacks = t->acap = 0;
    free_sent(t);
    free(t->argv);
    t->argv = NULL;
    t->argv_cap = 0;
    t->fresh = t->acking = false;
    t->on = false;
}

/* ---- POST /_stream/<key>/ack?group=<g> with a JSON array of ids ---- */

bool stream_tail_is_ack(const char *path, size_t n)
{
    size_t p = sizeof(STREAM_TAIL_PREFIX) - 1;
    return n > p + 4 && memcmp(path, STREAM_TAIL_PREFIX, p) == 0 &&
           memcmp(path + n - 4, "/ack", 4) == 0;
}

bool stream_tail_ack_command(const char *path, size_t n, const char *q, size_t ql, const char *body,
                             size_t blen, struct cmdbuf *b, char *why, size_t wlen)
{
    size_t p = sizeof(STREAM_TAIL_PREFIX) - 1, gl = 0, i;
    const char *g = http_query_get(q, ql, "group", &gl);
    json_error_t err;
    json_t *ids = body && blen ? json_loadb(body, blen, 0, &err) : NULL;
    bool ok = g && gl && json_is_array(ids) && json_array_size(ids) > 0;
    for (i = 0; ok && i < json_array_size(ids); i++)
        ok = json_is_string(json_array_get(ids, i));
    if (!ok) {
        snprintf(why, wlen,
                 "an ack is POST /_stream/<key>/ack?group=<g> with a JSON array of "
                 "ids as its body");
        json_decref(ids);
        return false;
    }
    cmdbuf_reset(b);
    cmdbuf_begin(b);
    cmdbuf_add_arg(b, "XACK", 4, true);
    cmdbuf_add_arg(b, path + p, n - p - 4, false);
    cmdbuf_add_arg(b, g, gl, false);
    for (i = 0; i < json_array_size(ids); i++) {
        json_t *s = json_array_get(ids, i);
        cmdbuf_add_arg(b, json_string_value(s), json_string_length(s), true);
    }
    json_decref(ids);
    return true;
}
