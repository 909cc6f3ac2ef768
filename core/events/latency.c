/* latency.c — owns the latency monitor and per-command latency tracking
 * (latency.h): the event time series (Redis's latencyAddSample: one slot
 * per second, the worst sample of that second kept, 160 slots in a ring),
 * their report (DOCTOR's analysis and texts, GRAPH's sparkline in Redis's
 * characters and layout), and one histogram per command (values in
 * nanoseconds from 1 ns to 1 s, 2 significant digits, as Redis 7.0's
 * LATENCY_HISTOGRAM_* constants) for LATENCY HISTOGRAM and INFO
 * latencystats. The kernel calls latency_after_command through its `ran`
 * hook (wired in core_init.c); persistence and the cron report their own
 * events with latency_add_sample_if_needed. */
#include "latency.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "blocking.h"
#include "histogram.h"
#include "kernel.h"
#include "obuf.h"
#include "server.h"
#include "stats.h"
#include "util.h"

long long latency_monitor_threshold;
int latency_tracking = 1;
char *latency_percentiles_text;

static double percentiles[64] = {50.0, 99.0, 99.9};
static int npercentiles = 3;

static struct latency_series *series_head, *series_tail;
static long long nseries;

/* "%f" without trailing zeros (and without a trailing point), as Redis's
 * trimDoubleString. */
static void format_percentile(char *buf, size_t len, double p)
{
    size_t n = (size_t)snprintf(buf, len, "%f", p);
    if (n >= len) n = len - 1;
    if (strchr(buf, '.')) {
        while (n > 0 && buf[n - 1] == '0')
            n--;
        if (n > 0 && buf[n - 1] == '.') n--;
        buf[n] = 0;
    }
}

/* ---- configuration ---- */

const char *latency_percentiles_config_set(const struct config_entry *e, const char *v)
{
    double vals[64];
    int n = 0, i;
    const char *p = v;
    struct obuf t = {0};
    (void)e;
    while (*p) {
        const char *start;
        char word[128], *end;
        size_t wl;
        double d;
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p) break;
        start = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        wl = (size_t)(p - start);
        if (wl >= sizeof(word) || n == 64)
            return "Invalid latency-tracking-info-percentiles parameters";
        memcpy(word, start, wl);
        word[wl] = 0;
        d = strtod(word, &end);
        if (end == word || *end || d != d)
            return "Invalid latency-tracking-info-percentiles parameters";
        if (d > 100.0 || d < 0.0)
            return "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]";
        vals[n++] = d;
    }
    memcpy(percentiles, vals, sizeof(double) * (size_t)n);
    npercentiles = n;
    obuf_cat(&t, "", 0);
    for (i = 0; i < n; i++) {
        char buf[64];
        format_percentile(buf, sizeof(buf), vals[i]);
        if (i) obuf_cat(&t, " ", 1);
        obuf_cats(&t, buf);
    }
    free(latency_percentiles_text);
    latency_percentiles_text = t.buf;
    return NULL;
}

/* ---- the event time series ---- */

const struct latency_series *latency_series_first(void)
{
    return series_head;
}

long long latency_series_count(void)
{
    return nseries;
}

const struct latency_series *latency_series_find(const char *event, size_t len)
{
    struct latency_series *s;
    for (s = series_head; s; s = s->next)
        if (strlen(s->event) == len && memcmp(s->event, event, len) == 0) return s;
    return NULL;
}

void latency_add_sample(const char *event, long long ms)
{
    struct latency_series *ts = (struct latency_series *)latency_series_find(event, strlen(event));
    int32_t now = (int32_t)time(NULL);
    uint32_t latency = ms < 0 ? 0 : ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
    int prev;
    if (!ts) {
        ts = xmalloc(sizeof(*ts));
        memset(ts, 0, sizeof(*ts));
        ts->event = xstrdup(event);
        if (series_tail)
            series_tail->next = ts;
        else
            series_head = ts;
        series_tail = ts;
        nseries++;
    }
    if (latency > ts->max) ts->max = latency;
    /* One sample per second: the worst of that second. */
    prev = (ts->idx + LATENCY_TS_LEN - 1) % LATENCY_TS_LEN;
    if (ts->samples[prev].time == now) {
        if (latency > ts->samples[prev].latency) ts->samples[prev].latency = latency;
        return;
    }
    ts->samples[ts->idx].time = now;
    ts->samples[ts->idx].latency = latency;
    ts->idx = (ts->idx + 1) % LATENCY_TS_LEN;
}

void latency_add_sample_if_needed(const char *event, long long ms)
{
    if (latency_monitor_threshold && ms >= latency_monitor_threshold) latency_add_sample(event, ms);
}

int latency_reset(const char *event, size_t len)
{
    struct latency_series **pp = &series_head, *s;
    int n = 0;
    series_tail = NULL;
    while ((s = *pp) != NULL) {
        if (!event || (strlen(s->event) == len && strncasecmp(s->event, event, len) == 0)) {
            *pp = s->next;
            free(s->event);
            free(s);
            nseries--;
            n++;
        } else {
            series_tail = s;
            pp = &s->next;
        }
    }
    return n;
}

/* ---- DOCTOR ---- */

struct latency_stats {
    uint32_t all_time_high, avg, min, max, mad;
    int samples;
    long long period; /* seconds */
};

static void analyze(const struct latency_series *ts, struct latency_stats *ls)
{
    uint64_t sum = 0;
    int j;
    memset(ls, 0, sizeof(*ls));
    ls->all_time_high = ts->max;
    for (j = 0; j < LATENCY_TS_LEN; j++) {
        const struct latency_sample *s = &ts->samples[j];
        if (s->time == 0) continue;
        ls->samples++;
        if (ls->samples == 1) {
            ls->min = ls->max = s->latency;
        } else {
            if (ls->min > s->latency) ls->min = s->latency;
            if (ls->max < s->latency) ls->max = s->latency;
        }
        sum += s->latency;
        if (ls->period == 0 || s->time < ls->period) ls->period = s->time;
    }
    if (ls->samples) {
        ls->avg = (uint32_t)(sum / (uint64_t)ls->samples);
        ls->period = (long long)time(NULL) - ls->period;
        if (ls->period == 0) ls->period = 1;
    }
    sum = 0;
    for (j = 0; j < LATENCY_TS_LEN; j++) {
        int64_t delta;
        if (ts->samples[j].time == 0) continue;
        delta = (int64_t)ls->avg - ts->samples[j].latency;
        if (delta < 0) delta = -delta;
        sum += (uint64_t)delta;
    }
    if (ls->samples) ls->mad = (uint32_t)(sum / (uint64_t)ls->samples);
}

/* AnonHugePages of this process, in kB (Redis's THPGetAnonHugePagesSize). */
static long long anon_huge_pages(void)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    char line[256];
    long long total = 0;
    if (!f) return 0;
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, "AnonHugePages:", 14) == 0) total += strtoll(line + 14, NULL, 10);
    fclose(f);
    return total;
}

enum advice {
    ADV_BETTER_VM,
    ADV_SLOWLOG_ENABLED,
    ADV_SLOWLOG_TUNING,
    ADV_SLOWLOG_INSPECT,
    ADV_DISK_CONTENTION,
    ADV_SCHEDULER,
    ADV_DATA_WRITEBACK,
    ADV_NO_APPENDFSYNC,
    ADV_LOCAL_DISK,
    ADV_SSD,
    ADV_WRITE_LOAD_INFO,
    ADV_HZ,
    ADV_LARGE_OBJECTS,
    ADV_MASS_EVICTION,
    ADV_RELAX_FSYNC,
    ADV_DISABLE_THP,
    ADV_N
};

/* Which advice each event calls for, and how many it counts (Redis counts
 * some twice). */
static const struct {
    const char *event;
    int count;
    enum advice adv[4];
    int nadv;
} event_advice[] = {
    {"fast-command", 1, {ADV_SCHEDULER}, 1},
    {"aof-write-pending-fsync",
     4,
     {ADV_LOCAL_DISK, ADV_DISK_CONTENTION, ADV_SSD, ADV_DATA_WRITEBACK},
     4},
    {"aof-write-active-child", 3, {ADV_NO_APPENDFSYNC, ADV_DATA_WRITEBACK, ADV_SSD}, 3},
    {"aof-write-alone", 3, {ADV_LOCAL_DISK, ADV_DATA_WRITEBACK, ADV_SSD}, 3},
    {"aof-fsync-always", 1, {ADV_RELAX_FSYNC}, 1},
    {"aof-fstat", 2, {ADV_DISK_CONTENTION, ADV_LOCAL_DISK}, 2},
    {"rdb-unlink-temp-file", 2, {ADV_DISK_CONTENTION, ADV_LOCAL_DISK}, 2},
    {"aof-rewrite-diff-write",
     4,
     {ADV_WRITE_LOAD_INFO, ADV_DATA_WRITEBACK, ADV_SSD, ADV_LOCAL_DISK},
     4},
    {"aof-rename", 4, {ADV_WRITE_LOAD_INFO, ADV_DATA_WRITEBACK, ADV_SSD, ADV_LOCAL_DISK}, 4},
    {"expire-cycle", 2, {ADV_HZ, ADV_LARGE_OBJECTS}, 2},
    {"eviction-del", 1, {ADV_LARGE_OBJECTS}, 1},
    {"eviction-cycle", 1, {ADV_MASS_EVICTION}, 1},
};

char *latency_doctor_report(void)
{
    struct obuf t = {0};
    bool adv[ADV_N] = {false};
    int advices = 0, eventnum = 0;
    const struct latency_series *ts;
    size_t k;
    obuf_cat(&t, "", 0);
    if (nseries == 0 && latency_monitor_threshold == 0) {
        obuf_cats(&t,
                  "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis "
                  "instance. You may use \"CONFIG SET latency-monitor-threshold "
                  "<milliseconds>.\" in order to enable it. If we weren't in a deep space "
                  "mission I'd suggest to take a look at "
                  "https://redis.io/topics/latency-monitor.\n");
        return t.buf;
    }
    for (ts = series_head; ts; ts = ts->next) {
        struct latency_stats ls;
        eventnum++;
        if (eventnum == 1)
            obuf_cats(&t, "Dave, I have observed latency spikes in this Redis instance. You don't "
                          "mind talking about it, do you Dave?\n\n");
        analyze(ts, &ls);
        obuf_printf(&t,
                    "%d. %s: %d latency spikes (average %lums, mean deviation %lums, period %.2f "
                    "sec). Worst all time event %lums.",
                    eventnum, ts->event, ls.samples, (unsigned long)ls.avg, (unsigned long)ls.mad,
                    (double)ls.period / ls.samples, (unsigned long)ts->max);
        if (!strcasecmp(ts->event, "fork")) {
            /* Redis's stat_fork_rate: GB of memory forked per second. */
            double rate = g_server.stat_fork_time_us
                              ? (double)stats_mem_used() * 1000000 /
                                    (double)g_server.stat_fork_time_us / (1024 * 1024 * 1024)
                              : 0;
            const char *quality = rate < 10    ? "terrible"
                                  : rate < 25  ? "poor"
                                  : rate < 100 ? "good"
                                               : "excellent";
            if (rate < 25) {
                adv[ADV_BETTER_VM] = true;
                advices++;
            }
            obuf_printf(&t, " Fork rate is %.2f GB/sec (%s).", rate, quality);
        }
        if (!strcasecmp(ts->event, "command")) {
            if (g_config.slowlog_log_slower_than < 0) {
                adv[ADV_SLOWLOG_ENABLED] = true;
                advices++;
            } else if (g_config.slowlog_log_slower_than / 1000 > latency_monitor_threshold) {
                adv[ADV_SLOWLOG_TUNING] = true;
                advices++;
            }
            adv[ADV_SLOWLOG_INSPECT] = adv[ADV_LARGE_OBJECTS] = true;
            advices += 2;
        }
        for (k = 0; k < sizeof(event_advice) / sizeof(event_advice[0]); k++) {
            int a;
            if (strcasecmp(ts->event, event_advice[k].event) != 0) continue;
            for (a = 0; a < event_advice[k].nadv; a++)
                adv[event_advice[k].adv[a]] = true;
            advices += event_advice[k].count;
        }
        obuf_cat(&t, "\n", 1);
    }
    if (anon_huge_pages() > 0) {
        adv[ADV_DISABLE_THP] = true;
        advices++;
    }
    if (eventnum == 0 && advices == 0) {
        obuf_cats(&t, "Dave, no latency spike was observed during the lifetime of this Redis "
                      "instance, not in the slightest bit. I honestly think you ought to sit down "
                      "calmly, take a stress pill, and think things over.\n");
        return t.buf;
    }
    if (eventnum > 0 && advices == 0) {
        obuf_cats(&t, "\nWhile there are latency events logged, I'm not able to suggest any easy "
                      "fix. Please use the Redis community to get some help, providing this report "
                      "in your help request.\n");
        return t.buf;
    }
    obuf_cats(&t, "\nI have a few advices for you:\n\n");
    if (adv[ADV_BETTER_VM])
        obuf_cats(&t,
                  "- If you are using a virtual machine, consider upgrading it with a faster "
                  "one using a hypervisior that provides less latency during fork() calls. Xen "
                  "is known to have poor fork() performance. Even in the context of the same VM "
                  "provider, certain kinds of instances can execute fork faster than "
                  "others.\n");
    if (adv[ADV_SLOWLOG_ENABLED])
        obuf_printf(&t,
                    "- There are latency issues with potentially slow commands you are using. Try "
                    "to enable the Slow Log Redis feature using the command 'CONFIG SET "
                    "slowlog-log-slower-than %llu'. If the Slow log is disabled Redis is not able "
                    "to log slow commands execution for you.\n",
                    (unsigned long long)latency_monitor_threshold * 1000);
    if (adv[ADV_SLOWLOG_TUNING])
        obuf_printf(&t,
                    "- Your current Slow Log configuration only logs events that are slower than "
                    "your configured latency monitor threshold. Please use 'CONFIG SET "
                    "slowlog-log-slower-than %llu'.\n",
                    (unsigned long long)latency_monitor_threshold * 1000);
    if (adv[ADV_SLOWLOG_INSPECT])
        obuf_cats(&t,
                  "- Check your Slow Log to understand what are the commands you are running "
                  "which are too slow to execute. Please check https://redis.io/commands/slowlog "
                  "for more information.\n");
    if (adv[ADV_SCHEDULER])
        obuf_cats(&t,
                  "- The system is slow to execute Redis code paths not containing system "
                  "calls. This usually means the system does not provide Redis CPU time to run "
                  "for long periods. You should try to:\n"
                  "  1) Lower the system load.\n"
                  "  2) Use a computer / VM just for Redis if you are running other software in "
                  "the same system.\n"
                  "  3) Check if you have a \"noisy neighbour\" problem.\n"
                  "  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic "
                  "latency in your system.\n"
                  "  5) Check if the problem is allocator-related by recompiling Redis with "
                  "MALLOC=libc, if you are using Jemalloc. However this may create "
                  "fragmentation problems.\n");
    if (adv[ADV_LOCAL_DISK])
        obuf_cats(&t, "- It is strongly advised to use local disks for persistence, especially if "
                      "you are using AOF. Remote disks provided by platform-as-a-service providers "
                      "are known to be slow.\n");
    if (adv[ADV_SSD])
        obuf_cats(&t,
                  "- SSD disks are able to reduce fsync latency, and total time needed for "
                  "snapshotting and AOF log rewriting (resulting in smaller memory usage). With "
                  "extremely high write load SSD disks can be a good option. However Redis "
                  "should perform reasonably with high load using normal disks. Use this advice "
                  "as a last resort.\n");
    if (adv[ADV_DATA_WRITEBACK])
        obuf_cats(&t,
                  "- Mounting ext3/4 filesystems with data=writeback can provide a performance "
                  "boost compared to data=ordered, however this mode of operation provides less "
                  "guarantees, and sometimes it can happen that after a hard crash the AOF file "
                  "will have a half-written command at the end and will require to be repaired "
                  "before Redis restarts.\n");
    if (adv[ADV_DISK_CONTENTION])
        obuf_cats(&t, "- Try to lower the disk contention. This is often caused by other disk "
                      "intensive processes running in the same computer (including other Redis "
                      "instances).\n");
    if (adv[ADV_NO_APPENDFSYNC])
        obuf_cats(&t,
                  "- Assuming from the point of view of data safety this is viable in your "
                  "environment, you could try to enable the 'no-appendfsync-on-rewrite' option, "
                  "so that fsync will not be performed while there is a child rewriting the AOF "
                  "file or producing an RDB file (the moment where there is high disk "
                  "contention).\n");
    if (adv[ADV_RELAX_FSYNC] && g_config.appendfsync == 0)
        obuf_cats(&t,
                  "- Your fsync policy is set to 'always'. It is very hard to get good "
                  "performances with such a setup, if possible try to relax the fsync policy to "
                  "'onesec'.\n");
    if (adv[ADV_WRITE_LOAD_INFO])
        obuf_cats(&t,
                  "- Latency during the AOF atomic rename operation or when the final "
                  "difference is flushed to the AOF file at the end of the rewrite, sometimes "
                  "is caused by very high write load, causing the AOF buffer to get very large. "
                  "If possible try to send less commands to accomplish the same work, or use "
                  "Lua scripts to group multiple operations into a single EVALSHA call.\n");
    if (adv[ADV_HZ] && g_config.hz < 100)
        obuf_cats(&t, "- In order to make the Redis keys expiring process more incremental, try to "
                      "set the 'hz' configuration parameter to 100 using 'CONFIG SET hz 100'.\n");
    if (adv[ADV_LARGE_OBJECTS])
        obuf_cats(&t,
                  "- Deleting, expiring or evicting (because of maxmemory policy) large objects "
                  "is a blocking operation. If you have very large objects that are often "
                  "deleted, expired, or evicted, try to fragment those objects into multiple "
                  "smaller objects.\n");
    if (adv[ADV_MASS_EVICTION])
        obuf_cats(&t,
                  "- Sudden changes to the 'maxmemory' setting via 'CONFIG SET', or allocation "
                  "of large objects via sets or sorted sets intersections, STORE option of "
                  "SORT, Redis Cluster large keys migrations (RESTORE command), may create "
                  "sudden memory pressure forcing the server to block trying to evict keys. \n");
    if (adv[ADV_DISABLE_THP])
        obuf_cats(&t,
                  "- I detected a non zero amount of anonymous huge pages used by your "
                  "process. This creates very serious latency events in different conditions, "
                  "especially when Redis is persisting on disk. To disable THP support use the "
                  "command 'echo never > /sys/kernel/mm/transparent_hugepage/enabled', make "
                  "sure to also add it into /etc/rc.local so that the command will be executed "
                  "again after a reboot. Note that even if you have already disabled THP, you "
                  "still need to restart the Redis process to get rid of the huge pages already "
                  "created.\n");
    return t.buf;
}

/* ---- GRAPH: Redis's sparkline, 80 columns, 4 rows, filled ---- */

#define GRAPH_COLS 80
#define GRAPH_ROWS 4

struct spark {
    double value;
    char label[16];
};

static void render_range(struct obuf *t, const struct spark *s, int offset, int len, double min,
                         double max, bool labels)
{
    static const char fill[] = "_o#";
    const int charset_len = 3, steps = charset_len * GRAPH_ROWS;
    double relmax = max - min;
    char chars[GRAPH_COLS];
    int row = 0, j;
    bool loop = true;
    if (relmax == 0) relmax = 1;
    while (loop) {
        loop = false;
        memset(chars, ' ', sizeof(chars));
        for (j = 0; j < len; j++) {
            const struct spark *p = &s[j + offset];
            double relval = p->value - min;
            int step = (int)((double)(int)(relval * steps) / relmax);
            if (step < 0) step = 0;
            if (step >= steps) step = steps - 1;
            if (row < GRAPH_ROWS) {
                int charidx = step - ((GRAPH_ROWS - row - 1) * charset_len);
                loop = true;
                if (charidx >= 0 && charidx < charset_len)
                    chars[j] = fill[charidx];
                else if (charidx >= charset_len)
                    chars[j] = '|';
            } else {
                int label_char = row - GRAPH_ROWS - 1; /* one blank line above the labels */
                if (labels && row - GRAPH_ROWS < 1) {
                    loop = true;
                    break;
                }
                if (p->label[0] && (int)strlen(p->label) > label_char) {
                    loop = true;
                    chars[j] = p->label[label_char];
                }
            }
        }
        if (loop) {
            row++;
            obuf_cat(t, chars, (size_t)len);
            obuf_cat(t, "\n", 1);
        }
    }
}

char *latency_graph(const struct latency_series *ts)
{
    struct spark s[LATENCY_TS_LEN];
    struct obuf t = {0};
    uint32_t min = 0, max = 0;
    double smin = 0, smax = 0;
    int n = 0, j;
    long long now = (long long)time(NULL);
    for (j = 0; j < LATENCY_TS_LEN; j++) {
        int i = (ts->idx + j) % LATENCY_TS_LEN;
        long long elapsed;
        const struct latency_sample *p = &ts->samples[i];
        if (p->time == 0) continue;
        if (n == 0) {
            min = max = p->latency;
            smin = smax = p->latency;
        } else {
            if (p->latency > max) max = p->latency;
            if (p->latency < min) min = p->latency;
            if (p->latency < smin)
                smin = p->latency;
            else if (p->latency > smax)
                smax = p->latency;
        }
        elapsed = now - p->time;
        if (elapsed < 60)
            snprintf(s[n].label, sizeof(s[n].label), "%ds", (int)elapsed);
        else if (elapsed < 3600)
            snprintf(s[n].label, sizeof(s[n].label), "%dm", (int)(elapsed / 60));
        else if (elapsed < 3600 * 24)
            snprintf(s[n].label, sizeof(s[n].label), "%dh", (int)(elapsed / 3600));
        else
            snprintf(s[n].label, sizeof(s[n].label), "%dd", (int)(elapsed / (3600 * 24)));
        s[n].value = p->latency;
        n++;
    }
    obuf_printf(&t, "%s - high %lu ms, low %lu ms (all time high %lu ms)\n", ts->event,
                (unsigned long)max, (unsigned long)min, (unsigned long)ts->max);
    for (j = 0; j < GRAPH_COLS; j++)
        obuf_cat(&t, "-", 1);
    obuf_cat(&t, "\n", 1);
    for (j = 0; j < n; j += GRAPH_COLS) {
        int sub = n - j < GRAPH_COLS ? n - j : GRAPH_COLS;
        if (j != 0) obuf_cat(&t, "\n", 1);
        render_range(&t, s, j, sub, smin, smax, n > 0);
    }
    return t.buf;
}

/* ---- per-command histograms ---- */

#define HIST_MIN 1LL          /* ns */
#define HIST_MAX 1000000000LL /* ns: 1 s */
#define HIST_SIGFIGS 2

static struct histogram **hists; /* by command id */
static int nhists;

static struct histogram *hist_for(const struct command *cmd, bool create)
{
    if (cmd->id >= nhists) {
        int n = cmd->id + 64, i;
        if (!create) return NULL;
        hists = xrealloc(hists, sizeof(*hists) * (size_t)n);
        for (i = nhists; i < n; i++)
            hists[i] = NULL;
        nhists = n;
    }
    if (!hists[cmd->id] && create) hists[cmd->id] = hist_new(HIST_MIN, HIST_MAX, HIST_SIGFIGS);
    return hists[cmd->id];
}

const struct histogram *latency_histogram_of(const struct command *cmd)
{
    return hist_for(cmd, false);
}

void latency_reset_histograms(void)
{
    int i;
    for (i = 0; i < nhists; i++) {
        hist_free(hists[i]);
        hists[i] = NULL;
    }
}

void latency_after_command(struct exec *x, long long usec)
{
    /* A waiting command is measured once it is served (a WAIT that
     * waited never is, as in Redis 7.0). */
    if (x->parked || blocking_still_waiting(x)) return;
    latency_add_sample_if_needed((x->cmd->flags & CMD_FAST) ? "fast-command" : "command",
                                 usec / 1000);
    if (latency_tracking) {
        long long ns = usec * 1000;
        if (ns < HIST_MIN) ns = HIST_MIN;
        if (ns > HIST_MAX) ns = HIST_MAX;
        hist_record(hist_for(x->cmd, true), ns);
    }
}

struct info_ctx {
    void (*cat)(void *priv, const char *line);
    void *priv;
};

static void info_one(void *priv, const struct command *cmd)
{
    struct info_ctx *ic = priv;
    const struct histogram *h = hist_for(cmd, false);
    struct obuf t = {0};
    int j;
    if (!h) return;
    obuf_printf(&t, "latency_percentiles_usec_%s:", cmd->fullname);
    for (j = 0; j < npercentiles; j++) {
        char buf[64];
        format_percentile(buf, sizeof(buf), percentiles[j]);
        obuf_printf(&t, "p%s=%.3f", buf,
                    (double)hist_value_at_percentile(h, percentiles[j]) / 1000.0);
        if (j != npercentiles - 1) obuf_cat(&t, ",", 1);
    }
    obuf_cat(&t, "\r\n", 2);
    ic->cat(ic->priv, t.buf);
    free(t.buf);
}

void latency_info(void (*cat)(void *priv, const char *line), void *priv)
{
    struct info_ctx ic = {cat, priv};
    if (!latency_tracking) return;
    stats_foreach_command(info_one, &ic);
}
