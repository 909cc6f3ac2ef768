/* loop.h — where the process waits: one iteration of the event loop
 * (server/main.c runs it). With io-backend libevent, libevent's own loop
 * (EVLOOP_ONCE). With the ring (adapters/uring.c), the ring is where the
 * process sleeps: queued output is submitted and the next completion
 * awaited in one io_uring_enter; libevent (listeners, timers, signals,
 * TLS connections, write events) is run without waiting only when its
 * epoll descriptor is readable (a poll on the ring watches it), one of its
 * timers is due, or it has active events.
 *
 * Its timers: event_base has no "next timeout" call, so the loop reads
 * the deadlines of the events libevent holds (event_base_foreach_event)
 * after each libevent run, and while commands run (they may add timers)
 * it runs libevent at least every LOOP_TIMER_SLACK_US. */
#ifndef KEEL_LOOP_H
#define KEEL_LOOP_H

#include <stdbool.h>

struct event_base;

/* How late a timer added by a command may run while connections keep the
 * loop busy (microseconds). */
#define LOOP_TIMER_SLACK_US 1000
/* The longest sleep a libevent timer read far away gets (a wall clock
 * stepped). */
#define LOOP_TIMER_MAX_US 1000000

/* Choose where the process waits, once the base and the backend
 * (uring_start) exist: the ring needs libevent's epoll descriptor, else
 * the ring is given up for libevent (logged). */
void loop_start(struct event_base *base);
/* One iteration. false: the loop was broken (SHUTDOWN, a signal). */
bool loop_once(void);
/* What an iteration also does, wired by server/main.c: before_output runs
 * before the iteration's output is written (core/repl hands the stream to
 * its replicas there, one copy each); while busy() says so the loop does
 * not sleep (a full sync's payload still going out). NULL: none. */
void loop_set_hooks(void (*before_output)(void), bool (*busy)(void));
/* Free what loop_start made (before the base is freed). */
void loop_stop(void);

/* ---- the pure parts, unit tested (tests/unit/test_loop.c) ---- */

/* How long until the earliest libevent timer (microseconds; -1: none),
 * its deadline read just after libevent ran: one already past counts
 * LOOP_TIMER_SLACK_US (libevent's clock may lag ours: its coarse
 * monotonic clock), at most LOOP_TIMER_MAX_US. */
long long loop_timer_in_us(long long earliest, long long now);
/* What the loop knows before it waits (monotonic, in microseconds). */
struct loop_clock {
    long long now;
    long long deadline; /* the earliest libevent timer read (-1: none) */
    long long last_ev;  /* when libevent last ran */
    bool ran_commands;  /* commands ran since: they may have added timers */
};
/* The wait's timeout: 0 when it must not sleep (held input, libevent's
 * active events), else until the earliest timer, and at most until
 * LOOP_TIMER_SLACK_US past libevent's last run while commands ran; -1:
 * no limit. */
long long loop_timeout_us(const struct loop_clock *k, bool may_sleep, bool active);
/* Whether libevent runs after the wait: its descriptor became readable,
 * it has active events, the wait timed out, or a timer may be due. */
bool loop_libevent_due(const struct loop_clock *k, bool watch_fired, bool active, bool timed_out);

#endif
