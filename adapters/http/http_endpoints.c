/* http_endpoints.c — /_commands, /_health and /_metrics (http_endpoints.h).
 * /_commands is COMMAND DOCS with COMMAND INFO's fields, written once from
 * the registry through the JSON sink and kept (the table never changes);
 * /_health and /_metrics read the stats API, as INFO does. Metric names
 * follow redis_exporter's. */
#include "http_endpoints.h"

#include "net.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "reply.h"
#include "stats.h"
#include "store.h"
#include "util.h"
#include "registry.h"
#include "json_reply.h"
#include "up_route.h"

extern long long g_http_requests; /* http_conn.c */

static struct obuf commands_doc; /* built on first request */

static void commands(struct obuf *out)
{
    if (!commands_doc.len) {
        struct json_sink js;
        struct reply r = {&json_reply_ops, &js, 3, 0};
        int i;
        json_sink_init(&js, 3);
        js.plain_status = true;
        reply_map(&r, registry_count());
        for (i = 0; registry_commands[i]; i++) {
            const struct command *c = registry_commands[i];
            if (!c->fn && c->nsub == 0) continue;
            reply_cstr(&r, c->fullname);
            registry_reply_describe(&r, c);
        }
        obuf_append(&commands_doc, js.out.buf, js.out.len);
        json_sink_free(&js);
    }
    obuf_append(out, commands_doc.buf, commands_doc.len);
}

static void health(struct obuf *out)
{
    struct stats st;
    char b[512];
    int n;
    stats_read(&st);
    n = snprintf(b, sizeof(b),
                 "{\"status\":\"ok\",\"uptime_in_seconds\":%lld,\"connected_clients\":%lld,"
                 "\"keys\":%lld}",
                 st.uptime_s, st.connected_clients, st.keys);
    /* upstream mode: the cluster's state ("status" follows it) */
    if (g_up.enabled) {
        const char *state = up_route_state();
        int i, up = 0;
        for (i = 0; i < g_up.nnodes; i++)
            up += g_up.nodes[i].up;
        n = snprintf(b, sizeof(b),
                     "{\"status\":\"%s\",\"mode\":\"upstream\",\"uptime_in_seconds\":%lld,"
                     "\"connected_clients\":%lld,\"upstream\":{\"state\":\"%s\",\"cluster\":%s,"
                     "\"slots_assigned\":%d,\"nodes\":%d,\"nodes_up\":%d}}",
                     strcmp(state, "ok") == 0 ? "ok" : state, st.uptime_s, st.connected_clients,
                     state, g_up.cluster ? "true" : "false", g_up.slots_ok, g_up.nnodes, up);
    }
    obuf_append(out, b, (size_t)n);
}

/* One sample line, with its HELP and TYPE lines when type is given. */
static void metric(struct obuf *o, const char *name, const char *type, const char *help,
                   const char *labels, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static void metric(struct obuf *o, const char *name, const char *type, const char *help,
                   const char *labels, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    int n;
    if (type) {
        n = snprintf(buf, sizeof(buf), "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
        obuf_append(o, buf, (size_t)n);
    }
    n = snprintf(buf, sizeof(buf), "%s%s%s%s ", name, labels ? "{" : "", labels ? labels : "",
                 labels ? "}" : "");
    obuf_append(o, buf, (size_t)n);
    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n > (int)sizeof(buf) - 1) n = (int)sizeof(buf) - 1;
    obuf_append(o, buf, (size_t)n);
    obuf_append(o, "\n", 1);
}

/* Upstream mode: each node's figures (INFO's upstream section). */
static void upstream_metrics(struct obuf *o)
{
    char lab[128];
    int i;
    for (i = 0; i < g_up.nnodes; i++) {
        const struct up_node *nd = &g_up.nodes[i];
        snprintf(lab, sizeof(lab), "node=\"%s\"", nd->addr);
        metric(o, "keel_upstream_node_up", i == 0 ? "gauge" : NULL,
               "Whether Keel's last connection to the upstream node worked", lab, "%d", nd->up);
        metric(o, "keel_upstream_node_requests_total", i == 0 ? "counter" : NULL,
               "Replies received from the upstream node", lab, "%lld", nd->calls);
        metric(o, "keel_upstream_node_errors_total", i == 0 ? "counter" : NULL,
               "Error replies and failed requests of the upstream node", lab, "%lld", nd->errors);
        metric(o, "keel_upstream_node_latency_seconds_total", i == 0 ? "counter" : NULL,
               "Time spent waiting for the upstream node's replies", lab, "%.6f", nd->usec / 1e6);
    }
}

static void command_metrics(void *priv, const struct command *c)
{
    struct obuf *o = priv;
    char lab[160];
    if (!c->calls && !c->failed_calls && !c->rejected_calls) return;
    snprintf(lab, sizeof(lab), "cmd=\"%s\"", c->fullname);
    metric(o, "redis_commands_total", NULL, NULL, lab, "%lld", c->calls);
    metric(o, "redis_commands_duration_seconds_total", NULL, NULL, lab, "%.6f", c->usec / 1e6);
}

static void metrics(struct obuf *o)
{
    const char *const *proto;
    struct stats st;
    char lab[64];
    int i;
    stats_read(&st);
    metric(o, "redis_up", "gauge", "Whether the server is up", NULL, "1");
    metric(o, "redis_uptime_in_seconds", "gauge", "Seconds since the server started", NULL, "%lld",
           st.uptime_s);
    for (proto = net_protocols(); *proto; proto++) { /* every adapter, with or without clients */
        snprintf(lab, sizeof(lab), "protocol=\"%s\"", *proto);
        metric(o, "redis_connected_clients", proto == net_protocols() ? "gauge" : NULL,
               "Connected clients by protocol", lab, "%lld", stats_clients_of(*proto));
    }
    metric(o, "redis_connections_received_total", "counter", "Connections accepted", NULL, "%lld",
           st.total_connections);
    metric(o, "redis_commands_processed_total", "counter", "Commands processed", NULL, "%lld",
           st.commands_processed);
    metric(o, "redis_memory_used_bytes", "gauge", "Bytes allocated by the server", NULL, "%zu",
           st.used_memory);
    metric(o, "redis_memory_used_rss_bytes", "gauge", "Resident set size", NULL, "%zu",
           st.used_memory_rss);
    metric(o, "redis_keyspace_hits_total", "counter", "Successful key lookups", NULL, "%lld",
           st.keyspace_hits);
    metric(o, "redis_keyspace_misses_total", "counter", "Failed key lookups", NULL, "%lld",
           st.keyspace_misses);
    metric(o, "redis_expired_keys_total", "counter", "Keys expired", NULL, "%lld", st.expired_keys);
    metric(o, "keel_http_commands_total", "counter", "Commands received over HTTP", NULL, "%lld",
           g_http_requests);
    for (i = 0; i < g_store.ndb; i++) {
        long long keys, exp;
        stats_db(i, &keys, &exp);
        if (!keys && !exp) continue; /* as INFO's keyspace section */
        snprintf(lab, sizeof(lab), "db=\"db%d\"", i);
        metric(o, "redis_db_keys", NULL, NULL, lab, "%lld", keys);
        metric(o, "redis_db_keys_expiring", NULL, NULL, lab, "%lld", exp);
    }
    stats_foreach_command(command_metrics, o);
    if (g_up.enabled) upstream_metrics(o);
}

bool http_endpoint(const char *path, size_t n, int *status, const char **ctype, struct obuf *out)
{
    *status = 200;
    *ctype = "application/json";
    if ((n == 9 || n == 10) && memcmp(path, "/_commands/", n) == 0)
        commands(out);
    else if (n == 8 && memcmp(path, "/_health", 8) == 0)
        health(out);
    else if (n == 9 && memcmp(path, "/_metrics", 9) == 0) {
        *ctype = "text/plain; version=0.0.4";
        metrics(out);
    } else
        return false;
    return true;
}

void http_endpoints_free(void)
{
    obuf_free(&commands_doc);
}
