/* cmd_latency.c — LATENCY's subcommands (DOCTOR, GRAPH, HELP, HISTOGRAM,
 * HISTORY, LATEST, RESET): the replies over what core/events/latency.c
 * keeps, in Redis 7.0's shapes. */
#include <stdlib.h>
#include <string.h>

#include "commands_gen.h"
#include "histogram.h"
#include "kernel.h"
#include "latency.h"

/* LATENCY LATEST */
void cmd_latency_latest(struct exec *x)
{
    const struct latency_series *ts;
    reply_array(x->r, latency_series_count());
    for (ts = latency_series_first(); ts; ts = ts->next) {
        int last = (ts->idx + LATENCY_TS_LEN - 1) % LATENCY_TS_LEN;
        reply_array(x->r, 4);
        reply_cstr(x->r, ts->event);
        reply_int(x->r, ts->samples[last].time);
        reply_int(x->r, ts->samples[last].latency);
        reply_int(x->r, ts->max);
    }
}

/* LATENCY HISTORY event */
void cmd_latency_history(struct exec *x)
{
    const struct latency_series *ts =
        latency_series_find(ARGP(x, A_LATENCY_HISTORY_event), ARGN(x, A_LATENCY_HISTORY_event));
    int j, n = 0;
    if (!ts) {
        reply_array(x->r, 0);
        return;
    }
    for (j = 0; j < LATENCY_TS_LEN; j++)
        if (ts->samples[j].time != 0) n++;
    reply_array(x->r, n);
    for (j = 0; j < LATENCY_TS_LEN; j++) {
        int i = (ts->idx + j) % LATENCY_TS_LEN;
        if (ts->samples[i].time == 0) continue;
        reply_array(x->r, 2);
        reply_int(x->r, ts->samples[i].time);
        reply_int(x->r, ts->samples[i].latency);
    }
}

/* LATENCY GRAPH event */
void cmd_latency_graph(struct exec *x)
{
    const struct latency_series *ts =
        latency_series_find(ARGP(x, A_LATENCY_GRAPH_event), ARGN(x, A_LATENCY_GRAPH_event));
    char *graph;
    if (!ts) {
        reply_errorf(x->r, "ERR No samples available for event '%.*s'",
                     (int)ARGN(x, A_LATENCY_GRAPH_event), ARGP(x, A_LATENCY_GRAPH_event));
        return;
    }
    graph = latency_graph(ts);
    reply_verbatim(x->r, graph, strlen(graph));
    free(graph);
}

/* LATENCY DOCTOR */
void cmd_latency_doctor(struct exec *x)
{
    char *report = latency_doctor_report();
    reply_verbatim(x->r, report, strlen(report));
    free(report);
}

/* LATENCY RESET [event ...] */
void cmd_latency_reset(struct exec *x)
{
    const struct argval *ev = ARG(x, A_LATENCY_RESET_event);
    int resets = 0, i;
    if (!HAS(x, A_LATENCY_RESET_event)) {
        reply_int(x->r, latency_reset(NULL, 0));
        return;
    }
    for (i = 0; i < ev->count; i++) {
        const struct argv_ref *a = &x->argv[ev->list[i]];
        resets += latency_reset(a->p, a->n);
    }
    reply_int(x->r, resets);
}

/* ---- HISTOGRAM ---- */

struct cdf {
    struct reply *r;
    int64_t previous;
    long long n;
};

static void cdf_count(void *priv, int64_t value, int64_t cumulative)
{
    struct cdf *c = priv;
    (void)value;
    if (cumulative > c->previous) c->n++;
    c->previous = cumulative;
}

static void cdf_reply(void *priv, int64_t value, int64_t cumulative)
{
    struct cdf *c = priv;
    if (cumulative > c->previous) {
        reply_int(c->r, value / 1000);
        reply_int(c->r, cumulative);
    }
    c->previous = cumulative;
}

/* One command's entry: its name, then {calls, histogram_usec: {usec:
 * cumulative count}} over buckets 1024 ns * 2^k (Redis's fillCommandCDF). */
static void reply_cdf(struct reply *r, const struct command *cmd, const struct histogram *h)
{
    struct cdf c = {r, 0, 0};
    reply_cstr(r, cmd->fullname);
    reply_map(r, 2);
    reply_cstr(r, "calls");
    reply_int(r, h->total_count);
    reply_cstr(r, "histogram_usec");
    hist_log_walk(h, 1024, 2, cdf_count, &c);
    reply_map(r, c.n);
    c.previous = 0;
    hist_log_walk(h, 1024, 2, cdf_reply, &c);
}

/* The command and its subcommands that have a histogram. */
static int with_data(const struct command *cmd, const struct command **out, int max)
{
    int n = 0, j;
    if (latency_histogram_of(cmd) && n < max) out[n++] = cmd;
    for (j = 0; j < cmd->nsub && n < max; j++)
        if (latency_histogram_of(cmd->subs[j])) out[n++] = cmd->subs[j];
    return n;
}

/* A name as Redis's lookupCommandBySds: "cmd" or "cmd|sub", any case. */
static const struct command *lookup(const char *p, size_t n)
{
    const char *bar = memchr(p, '|', n);
    struct command *top;
    if (!bar) return registry_lookup(p, n);
    if (memchr(bar + 1, '|', n - (size_t)(bar + 1 - p))) return NULL;
    top = registry_lookup(p, (size_t)(bar - p));
    if (!top || top->nsub == 0) return NULL;
    return registry_lookup_sub(top, bar + 1, n - (size_t)(bar + 1 - p));
}

/* LATENCY HISTOGRAM [command ...] */
void cmd_latency_histogram(struct exec *x)
{
    const struct command **list = NULL;
    int n = 0, cap = 0, i, k;
    if (!HAS(x, A_LATENCY_HISTOGRAM_command)) {
        for (i = 0; registry_commands[i]; i++) {
            const struct command *c = registry_commands[i];
            if (n + 1 + c->nsub > cap) {
                cap = (n + 1 + c->nsub) * 2;
                list = realloc(list, sizeof(*list) * (size_t)cap);
                if (!list) abort();
            }
            n += with_data(c, list + n, cap - n);
        }
    } else {
        const struct argval *a = ARG(x, A_LATENCY_HISTOGRAM_command);
        for (i = 0; i < a->count; i++) {
            const struct argv_ref *w = &x->argv[a->list[i]];
            const struct command *c = lookup(w->p, w->n);
            if (!c) continue;
            if (n + 1 + c->nsub > cap) {
                cap = (n + 1 + c->nsub) * 2;
                list = realloc(list, sizeof(*list) * (size_t)cap);
                if (!list) abort();
            }
            n += with_data(c, list + n, cap - n);
        }
    }
    reply_map(x->r, n);
    for (k = 0; k < n; k++)
        reply_cdf(x->r, list[k], latency_histogram_of(list[k]));
    free(list);
}

/* LATENCY HELP */
void cmd_latency_help(struct exec *x)
{
    static const char *const help[] = {
        "DOCTOR",
        "    Return a human readable latency analysis report.",
        "GRAPH <event>",
        "    Return an ASCII latency graph for the <event> class.",
        "HISTORY <event>",
        "    Return time-latency samples for the <event> class.",
        "LATEST",
        "    Return the latest latency samples for all events.",
        "RESET [<event> ...]",
        "    Reset latency data of one or more <event> classes.",
        "    (default: reset all data for all event classes)",
        "HISTOGRAM [COMMAND ...]",
        "    Return a cumulative distribution of latencies in the format of a histogram for the "
        "specified command names.",
        "    If no commands are specified then all histograms are replied.",
        NULL,
    };
    reply_help(x->r, "LATENCY", help);
}
