/* ws_stats.c — the WebSocket stats push (ws_stats.h): the connections that
 * sent {"stats":1}, one server-wide one-second timer, and the frame
 *   {"stats":{"uptime":s,"ops_per_sec":n,"commands":n,"errors":n,
 *    "commands_by":{"resp":n,"http":n,"ws":n},
 *    "clients":{"total":n,"resp":n,"http":n,"ws":n},"memory":{"used":b,
 *    "rss":b,"peak":b},"net":{"in_kbps":x,"out_kbps":x,"in":b,"out":b},
 *    "hits":n,"misses":n,"expired":n,"evicted":n,"keys":[[db,keys,expires],..]}}
 * built from core/kernel/stats.h's figures (the core knows no JSON). */
#include "ws_stats.h"

#include <event2/event.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "evict.h"
#include "obuf.h"
#include "server.h"
#include "kernel.h"
#include "stats.h"
#include "util.h"

struct sub {
    struct conn *c;
    ws_stats_send_fn send;
};

static struct sub *subs;
static size_t nsubs, capsubs;
static struct event *timer;

static void put(struct obuf *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct obuf *o, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n > 0) obuf_append(o, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

void ws_stats_json(struct obuf *o)
{
    struct stats s;
    int db;
    bool first = true;
    stats_read(&s);
    put(o, "{\"stats\":{\"uptime\":%lld,\"ops_per_sec\":%lld,\"commands\":%lld,\"errors\":%lld,",
        s.uptime_s, s.ops_per_sec, s.commands_processed, s.total_errors);
    put(o, "\"commands_by\":{\"resp\":%lld,\"http\":%lld,\"ws\":%lld},", kernel_commands_of("resp"),
        kernel_commands_of("http"), kernel_commands_of("ws"));
    put(o, "\"clients\":{\"total\":%lld,\"resp\":%lld,\"http\":%lld,\"ws\":%lld},",
        s.connected_clients, stats_clients_of("resp"), stats_clients_of("http"),
        stats_clients_of("ws"));
    put(o, "\"memory\":{\"used\":%zu,\"rss\":%zu,\"peak\":%zu},", s.used_memory, s.used_memory_rss,
        s.used_memory_peak);
    put(o, "\"net\":{\"in_kbps\":%.2f,\"out_kbps\":%.2f,\"in\":%lld,\"out\":%lld},", s.input_kbps,
        s.output_kbps, s.net_input_bytes, s.net_output_bytes);
    put(o, "\"hits\":%lld,\"misses\":%lld,\"expired\":%lld,\"evicted\":%lld,\"keys\":[",
        s.keyspace_hits, s.keyspace_misses, s.expired_keys, g_evict.evicted_keys);
    for (db = 0; db < g_config.databases; db++) {
        long long k, e;
        stats_db(db, &k, &e);
        if (!k) continue;
        put(o, "%s[%d,%lld,%lld]", first ? "" : ",", db, k, e);
        first = false;
    }
    obuf_append(o, "]}}", 3);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct obuf o = {0};
    size_t i;
    (void)fd, (void)what, (void)arg;
    if (!nsubs) return;
    ws_stats_json(&o);
    /* Downwards: a connection freed by its send leaves the list through
     * ws_stats_forget, which moves the last (already sent) entry into its
     * place. */
    for (i = nsubs; i-- > 0;)
        if (i < nsubs) subs[i].send(subs[i].c, o.buf, o.len);
    obuf_free(&o);
}

static void subscribe(struct conn *c, ws_stats_send_fn send)
{
    size_t i;
    for (i = 0; i < nsubs; i++)
        if (subs[i].c == c) return;
    if (nsubs == capsubs) {
        capsubs = capsubs ? capsubs * 2 : 8;
        subs = xrealloc(subs, capsubs * sizeof(*subs));
    }
    subs[nsubs].c = c;
    subs[nsubs++].send = send;
    if (!timer) {
        struct timeval tv = {1, 0};
        timer = event_new(g_server.base, -1, EV_PERSIST, on_tick, NULL);
        evtimer_add(timer, &tv);
    }
}

void ws_stats_forget(struct conn *c)
{
    size_t i;
    for (i = 0; i < nsubs; i++) {
        if (subs[i].c != c) continue;
        subs[i] = subs[--nsubs];
        break;
    }
    if (!nsubs && timer) {
        event_free(timer);
        timer = NULL;
        free(subs);
        subs = NULL;
        capsubs = 0;
    }
}

bool ws_stats_request(struct conn *c, const char *msg, size_t n, ws_stats_send_fn send,
                      struct obuf *out)
{
    json_error_t err;
    json_t *root, *v;
    bool on;
    if (n < 9 || msg[0] != '{' || !memmem(msg, n, "\"stats\"", 7)) return false;
    root = json_loadb(msg, n, 0, &err);
    v = root && json_is_object(root) && json_object_size(root) == 1 ? json_object_get(root, "stats")
                                                                    : NULL;
    if (!v || !(json_is_integer(v) || json_is_boolean(v))) {
        json_decref(root);
        return false;
    }
    on = json_is_true(v) || (json_is_integer(v) && json_integer_value(v) != 0);
    json_decref(root);
    out->len = 0;
    if (on) {
        subscribe(c, send);
        ws_stats_json(out);
    } else {
        ws_stats_forget(c);
        obuf_append(out, "{\"stats\":false}", 15);
    }
    return true;
}
