/* stream_tail.c — following a stream (stream_tail.h). */
#include "stream_tail.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

bool stream_tail_start(struct stream_tail *t, const char *path, size_t n, bool urlencoded,
                       const char *from, size_t flen)
{
    char *key;
    size_t klen;
    if (n == 0 || (from && !id_ok(from, flen))) return false;
    key = xmalloc(n + 1);
    if (urlencoded) {
        klen = http_urldecode(path, n, key);
    } else {
        memcpy(key, path, n);
        klen = n;
    }
    if (klen == 0) {
        free(key);
        return false;
    }
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

int stream_tail_argv(struct stream_tail *t, const struct argv_ref **argv)
{
    static const char *words[] = {"XREAD", "COUNT", "100", "BLOCK", "0", "STREAMS"};
    int i;
    for (i = 0; i < 6; i++) {
        t->argv[i].p = words[i];
        t->argv[i].n = strlen(words[i]);
    }
    t->argv[6].p = t->key;
    t->argv[6].n = t->klen;
    t->argv[7].p = t->last;
    t->argv[7].n = strlen(t->last);
    *argv = t->argv;
    return 8;
}

int stream_tail_read(struct stream_tail *t, const char *json, size_t n, stream_tail_entry_fn fn,
                     void *arg)
{
    json_error_t err;
    json_t *root = json_loadb(json, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err), *entries;
    size_t i;
    int count = 0;
    /* [[key, [[id, [f, v, ...]], ...]]], or null when nothing came; */
    if (root && json_is_null(root)) {
        json_decref(root);
        return 0;
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
        text = json_dumps(obj, JSON_COMPACT | JSON_ENCODE_ANY);
        strcpy(t->last, id);
        fn(arg, t->last, text);
        free(text);
        json_decref(obj);
        count++;
    }
    json_decref(root);
    return count;
}

void stream_tail_free(struct stream_tail *t)
{
    free(t->key);
    t->key = NULL;
    t->on = false;
}
