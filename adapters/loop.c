/* loop.c — where the process waits (loop.h): one iteration of the event
 * loop, on libevent or on the ring, and the ring's view of libevent (its
 * epoll descriptor watched, its timers' deadlines). */
#include "loop.h"

#include <dirent.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "log.h"
#include "server.h"
#include "uring.h"

long long loop_timeout_us(const struct loop_clock *k, bool may_sleep, bool active)
{
    long long t = -1;
    if (!may_sleep || active) return 0;
    if (k->deadline >= 0) t = k->deadline > k->now ? k->deadline - k->now : 0;
    if (k->ran_commands) {
        long long cap = k->last_ev + LOOP_TIMER_SLACK_US - k->now;
        if (cap < 0) cap = 0;
        if (t < 0 || cap < t) t = cap;
    }
    return t;
}

bool loop_libevent_due(const struct loop_clock *k, bool watch_fired, bool active, bool timed_out)
{
    if (watch_fired || active || timed_out) return true;
    if (k->deadline >= 0 && k->now >= k->deadline) return true;
    return k->ran_commands && k->now >= k->last_ev + LOOP_TIMER_SLACK_US;
}

#ifdef KEEL_HAVE_URING
#define HAVE_RING 1
#else
#define HAVE_RING 0
#endif

static struct {
    struct event_base *base;
    bool ring;
    int epfd;  /* libevent's epoll descriptor (the ring watches it) */
    bool scan; /* libevent ran: read its timers' deadlines again */
    /* A timer an hour away, added again at each reading: event_pending
     * reports deadlines as libevent's monotonic time plus its own
     * wall-clock offset (resynced every few seconds, stale meanwhile);
     * the probe's deadline gives that offset, so the reading needs no
     * wall clock. */
    struct event *probe;
    struct loop_clock k;
    void (*before_output)(void);
    bool (*busy)(void);
} L = {.epfd = -1};

void loop_set_hooks(void (*before_output)(void), bool (*busy)(void))
{
    L.before_output = before_output;
    L.busy = busy;
}

static long long now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts); /* the ring's alarm's clock */
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

long long loop_timer_in_us(long long earliest, long long now)
{
    long long rel;
    if (earliest < 0) return -1;
    rel = earliest - now;
    /* libevent just ran: nothing it holds is due, so a deadline already
     * past is its clock lagging ours; bounded both ways. */
    if (rel <= 0) return LOOP_TIMER_SLACK_US;
    return rel > LOOP_TIMER_MAX_US ? LOOP_TIMER_MAX_US : rel;
}

/* libevent's epoll descriptor: the one epoll instance of the process when
 * the loop starts (event_base has no accessor). -1 if not exactly one. */
static int find_epoll_fd(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int found = -1, n = 0;
    if (!d) return -1;
    while ((e = readdir(d)) != NULL) {
        char path[64], link[64];
        ssize_t len;
        int fd;
        if (e->d_name[0] == '.') continue;
        fd = atoi(e->d_name);
        if (fd == dirfd(d)) continue;
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        len = readlink(path, link, sizeof(link) - 1);
        if (len <= 0) continue;
        link[len] = '\0';
        if (!strcmp(link, "anon_inode:[eventpoll]")) {
            found = fd;
            n++;
        }
    }
    closedir(d);
    return n == 1 ? found : -1;
}

static void on_probe(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
}

void loop_start(struct event_base *base)
{
    L.base = base;
    L.ring = false;
    if (!HAVE_RING || !uring_on()) return;
    if (strcmp(event_base_get_method(base), "epoll") != 0 || (L.epfd = find_epoll_fd()) < 0) {
        /* Nothing to watch libevent with: libevent alone (no connection
         * exists yet). */
        log_warning("io_uring: libevent's epoll descriptor not found, using libevent");
        uring_stop();
        g_server.io_uring = false;
        return;
    }
    L.ring = true;
    L.scan = true;
    L.probe = evtimer_new(base, on_probe, NULL);
    L.k.deadline = -1;
    L.k.last_ev = now_us();
}

#define PROBE_S 3600

static int earliest_timer(const struct event_base *base, const struct event *ev, void *arg)
{
    long long *min = arg, at;
    struct timeval tv;
    (void)base;
    if (ev == L.probe || !event_pending(ev, EV_TIMEOUT, &tv)) return 0;
    at = (long long)tv.tv_sec * 1000000 + tv.tv_usec;
    if (*min < 0 || at < *min) *min = at;
    return 0;
}

static bool broken(void)
{
    return event_base_got_break(L.base) || event_base_got_exit(L.base);
}

/* One iteration on the ring: submit the output and sleep in one
 * io_uring_enter, then the completions (sends first in the ring: they
 * completed during the submission), held input, and libevent if due. */
static bool ring_once(void)
{
    bool may_sleep, active, alarm, due;
    long long timeout;
    if (L.before_output) L.before_output();
    may_sleep = conn_loop_prepare() && !(L.busy && L.busy());
    uring_watch(L.epfd);
    active = event_base_get_num_events(L.base, EVENT_BASE_COUNT_ACTIVE) > 0;
    L.k.now = now_us(); /* the one clock read of a busy iteration */
    if (L.scan && may_sleep && !active) {
        long long min = -1, in, offset;
        struct timeval far = {PROBE_S, 0}, tv;
        event_add(L.probe, &far);
        event_pending(L.probe, EV_TIMEOUT, &tv);
        offset = (long long)tv.tv_sec * 1000000 + tv.tv_usec - PROBE_S * 1000000LL - now_us();
        event_base_foreach_event(L.base, earliest_timer, &min);
        in = loop_timer_in_us(min < 0 ? -1 : min - offset, L.k.now);
        L.k.deadline = in < 0 ? -1 : L.k.now + in;
        L.scan = false;
    }
    timeout = loop_timeout_us(&L.k, may_sleep, active);
    if (timeout > 0) uring_alarm(L.k.now + timeout);
    uring_wait(timeout == 0 ? 0 : -1);
    uring_reap(true);
    alarm = uring_alarm_take();
    conn_loop_attend();
    L.k.ran_commands = true; /* cheaper than knowing: the cap is 1 ms */
    /* SHUTDOWN: stop now (libevent's loop would clear the break). */
    if (broken()) return false;
    active = event_base_get_num_events(L.base, EVENT_BASE_COUNT_ACTIVE) > 0;
    /* A timer due or the slack past: the alarm went off (it was set for
     * the sooner of the two); without a sleep, the clock says. */
    due = uring_watch_take() || active || alarm;
    if (!due && timeout == 0) {
        L.k.now = now_us();
        due = loop_libevent_due(&L.k, false, false, false);
    }
    if (due) {
        if (event_base_loop(L.base, EVLOOP_NONBLOCK) < 0) return false;
        L.k.last_ev = now_us();
        L.k.ran_commands = false;
        L.scan = true;
        if (broken()) return false;
    }
    return true;
}

void loop_stop(void)
{
    if (L.probe) event_free(L.probe);
    L.probe = NULL;
    L.ring = false;
}

bool loop_once(void)
{
    if (L.ring) return ring_once();
    /* libevent: before it sleeps, every reply and push of the iteration is
     * written, one write per connection (adapters/conn.c). */
    if (L.before_output) L.before_output();
    conn_flush_pending();
    if (event_base_loop(L.base, L.busy && L.busy() ? EVLOOP_NONBLOCK : EVLOOP_ONCE) != 0)
        return false;
    return !broken();
}
