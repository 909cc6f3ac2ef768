/* ws_tail.c — reading the WebSocket tail and ack messages (ws_tail.h). */
#include "ws_tail.h"

#include <jansson.h>
#include <string.h>

#include "http_access.h"
#include "stream_tail.h"

static const char *string_field(json_t *root, const char *name, bool *bad)
{
    json_t *v = json_object_get(root, name);
    if (v && !json_is_string(v)) *bad = true;
    return v ? json_string_value(v) : NULL;
}

int ws_tail_request(struct stream_tail *t, const char *msg, size_t n, const char **why)
{
    json_error_t err;
    json_t *root, *k;
    const char *from, *group, *consumer;
    bool bad = false, ok;
    if (n < 8 || msg[0] != '{' || !memmem(msg, n, "\"tail\"", 6)) return 0;
    root = json_loadb(msg, n, 0, &err);
    k = root && json_is_object(root) ? json_object_get(root, "tail") : NULL;
    if (!k || json_object_get(root, "cmd") || json_object_get(root, "batch")) {
        json_decref(root);
        return 0;
    }
    from = string_field(root, "from", &bad);
    group = string_field(root, "group", &bad);
    consumer = string_field(root, "consumer", &bad);
    ok = json_is_string(k) && !bad;
    if (ok && (group || consumer))
        ok = stream_tail_start_group(t, json_string_value(k), json_string_length(k), false, group,
                                     group ? strlen(group) : 0, consumer,
                                     consumer ? strlen(consumer) : 0);
    else if (ok)
        ok = stream_tail_start(t, json_string_value(k), json_string_length(k), false, from,
                               from ? strlen(from) : 0);
    json_decref(root);
    if (!ok) {
        *why = "a tail is {\"tail\":\"<key>\",\"from\":\"<id>\"} or "
               "{\"tail\":\"<key>\",\"group\":\"<g>\",\"consumer\":\"<c>\"}";
        return -1;
    }
    if (http_command_disabled(t->group ? "XREADGROUP" : "XREAD", t->group ? 10 : 5)) {
        *why = t->group ? "XREADGROUP is disabled over HTTP and WebSocket"
                        : "XREAD is disabled over HTTP and WebSocket";
        stream_tail_free(t);
        return -1;
    }
    return 1;
}

bool ws_tail_ack(struct stream_tail *t, struct client *c, const char *msg, size_t n)
{
    json_error_t err;
    json_t *root, *ids;
    size_t i;
    if (!t->on || !t->group || n < 7 || msg[0] != '{' || !memmem(msg, n, "\"ack\"", 5))
        return false;
    root = json_loadb(msg, n, 0, &err);
    ids = root && json_is_object(root) && json_object_size(root) == 1 ? json_object_get(root, "ack")
                                                                      : NULL;
    if (!ids) {
        json_decref(root);
        return false;
    }
    /* anything but an array of ids: XACK refuses "" with Redis's error */
    if (!json_is_array(ids) || json_array_size(ids) == 0) stream_tail_ack(t, "", 0);
    for (i = 0; json_is_array(ids) && i < json_array_size(ids); i++) {
        json_t *s = json_array_get(ids, i);
        if (json_is_string(s))
            stream_tail_ack(t, json_string_value(s), json_string_length(s));
        else
            stream_tail_ack(t, "", 0);
    }
    json_decref(root);
    stream_tail_wake(t, c);
    return true;
}
