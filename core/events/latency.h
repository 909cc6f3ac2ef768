/* latency.h — the latency monitor and per-command latency tracking, as
 * Redis 7.0 keeps them. Events ("command", "fast-command", "expire-cycle",
 * "expire-del", "fork", "aof-write", "aof-fsync-always", ...) that took at least
 * latency-monitor-threshold milliseconds are sampled into a 160-slot time
 * series each (one sample per second, the worst one kept) for LATENCY
 * LATEST/HISTORY/GRAPH/DOCTOR/RESET. With latency-tracking on, each command
 * run is counted in its own histogram of microseconds (histogram.h) for
 * LATENCY HISTOGRAM and INFO latencystats. */
#ifndef KEEL_LATENCY_H
#define KEEL_LATENCY_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"

struct exec;
struct command;
struct histogram;

#define LATENCY_TS_LEN 160

struct latency_sample {
    int32_t time;     /* unix seconds */
    uint32_t latency; /* milliseconds */
};

struct latency_series {
    char *event;
    int idx; /* the next slot written */
    uint32_t max;
    struct latency_sample samples[LATENCY_TS_LEN];
    struct latency_series *next; /* the next event, in the order first seen */
};

/* Configuration (config_table.c): latency-monitor-threshold (ms, 0: off),
 * latency-tracking, latency-tracking-info-percentiles (text; its setter
 * parses it). */
extern long long latency_monitor_threshold;
extern int latency_tracking;
extern char *latency_percentiles_text;
const char *latency_percentiles_config_set(const struct config_entry *e, const char *v);

/* Sample an event of ms milliseconds if the monitor is on and it reached
 * the threshold (Redis's latencyAddSampleIfNeeded). */
void latency_add_sample_if_needed(const char *event, long long ms);
void latency_add_sample(const char *event, long long ms);
/* The series, in the order their events were first seen; one by name. */
const struct latency_series *latency_series_first(void);
const struct latency_series *latency_series_find(const char *event, size_t len);
long long latency_series_count(void);
/* Forget one event (any case; NULL: all). Returns how many were removed. */
int latency_reset(const char *event, size_t len);
/* LATENCY DOCTOR's report (newly allocated, '\n'-separated lines). */
char *latency_doctor_report(void);
/* LATENCY GRAPH's text for a series (newly allocated). */
char *latency_graph(const struct latency_series *ts);

/* The kernel's `ran` hook part: the command/fast-command event and the
 * command's histogram. */
void latency_after_command(struct exec *x, long long usec);
/* A command's histogram (NULL: never tracked since the last reset). */
const struct histogram *latency_histogram_of(const struct command *cmd);
/* CONFIG RESETSTAT: forget every command's histogram. */
void latency_reset_histograms(void);
/* INFO latencystats' lines for every tracked command, appended with cat. */
void latency_info(void (*cat)(void *priv, const char *line), void *priv);

#endif
