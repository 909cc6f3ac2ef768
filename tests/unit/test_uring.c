/* test_uring.c — unit tests for adapters/uring.c, the io_uring I/O path:
 * what a receive completion asks of a connection (uring_recv_next), the
 * completion tags, the choice of backend and its fallback (io-backend,
 * io-uring-test-fail), slots (reuse, growth), and a send and a multishot
 * receive through a real ring over a socketpair, the loop's wait and
 * its watch of a descriptor (skipped where io_uring is disabled), and the
 * loop's choices (adapters/loop.c: timeout, when libevent runs). */
#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "conn.h"
#include "loop.h"
#include "server.h"
#include "unit.h"
#include "uring.h"

static bool uring_allowed(void)
{
    FILE *f = fopen("/proc/sys/kernel/io_uring_disabled", "r");
    int v = 0;
    if (!f) return true;
    if (fscanf(f, "%d", &v) != 1) v = 0;
    fclose(f);
    return v == 0;
}

START_TEST(recv_next)
{
    ck_assert_int_eq(uring_recv_next(10, true), URING_RECV_MORE);
    ck_assert_int_eq(uring_recv_next(10, false), URING_RECV_REARM);
    ck_assert_int_eq(uring_recv_next(0, false), URING_RECV_EOF);
    ck_assert_int_eq(uring_recv_next(-ENOBUFS, false), URING_RECV_REARM);
    ck_assert_int_eq(uring_recv_next(-EINTR, false), URING_RECV_REARM);
    ck_assert_int_eq(uring_recv_next(-ECANCELED, false), URING_RECV_ENDED);
    ck_assert_int_eq(uring_recv_next(-EINVAL, false), URING_RECV_NOTSUP);
    ck_assert_int_eq(uring_recv_next(-ECONNRESET, false), URING_RECV_ERROR);
    ck_assert_int_eq(uring_recv_next(-EPIPE, false), URING_RECV_ERROR);
}
END_TEST

START_TEST(tags)
{
    unsigned long long t = uring_tag(123456, URING_SEND);
    ck_assert_uint_eq(uring_tag_slot(t), 123456);
    ck_assert_int_eq(uring_tag_op(t), URING_SEND);
    t = uring_tag(1, URING_RECV);
    ck_assert_uint_eq(uring_tag_slot(t), 1);
    ck_assert_int_eq(uring_tag_op(t), URING_RECV);
    ck_assert_int_eq(uring_tag_op(uring_tag(0xffffffu, URING_CANCEL)), URING_CANCEL);
}
END_TEST

static struct event_base *base(void)
{
    if (!g_server.base) g_server.base = event_base_new();
    return g_server.base;
}

START_TEST(fallback_and_choice)
{
    g_config.io_backend = 1; /* uring */
    g_config.io_uring_test_fail = 1;
    uring_start(base(), &conn_uring_handlers);
    ck_assert(!uring_on());
    ck_assert(!g_server.io_uring);
    g_config.io_uring_test_fail = 0;
    g_config.io_backend = 2; /* libevent */
    uring_start(base(), &conn_uring_handlers);
    ck_assert(!uring_on());
    if (!uring_allowed()) return;
    g_config.io_backend = 0; /* auto */
    uring_start(base(), &conn_uring_handlers);
    ck_assert(uring_on());
    ck_assert(g_server.io_uring);
    uring_stop();
    ck_assert(!uring_on());
}
END_TEST

START_TEST(slots_reused_and_grown)
{
    struct conn *c = calloc(1, sizeof(*c));
    unsigned s[200], i, again;
    if (!uring_allowed()) return;
    g_config.io_backend = 1;
    uring_start(base(), &conn_uring_handlers);
    ck_assert(uring_on());
    for (i = 0; i < 200; i++) {
        s[i] = uring_slot_new(c);
        ck_assert_uint_gt(s[i], 0); /* slot 0 is "none" */
        if (i) ck_assert_uint_ne(s[i], s[i - 1]);
        ck_assert(!uring_recv_armed(s[i]));
    }
    uring_slot_release(s[77]); /* no receive armed: free at once */
    again = uring_slot_new(c);
    ck_assert_uint_eq(again, s[77]);
    uring_stop();
    free(c);
}
END_TEST

START_TEST(send_and_receive_through_the_ring)
{
    struct conn *c = calloc(1, sizeof(*c));
    int sv[2], tries;
    unsigned slot;
    char buf[64];
    ssize_t n;
    if (!uring_allowed()) return;
    g_config.io_backend = 1;
    g_config.client_query_buffer_limit = 1LL << 30;
    uring_start(base(), &conn_uring_handlers);
    ck_assert(uring_on());
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    slot = uring_slot_new(c);
    c->fd = sv[0];
    c->uslot = slot;
    c->read_paused = true; /* received bytes are held, not run */
    /* A send completes during the submission (MSG_DONTWAIT). */
    ck_assert(uring_send(slot, sv[0], "hello", 5));
    c->usent = -1;
    uring_submit_sends();
    ck_assert_int_eq(c->usent, 5);
    n = read(sv[1], buf, sizeof(buf));
    ck_assert_int_eq(n, 5);
    ck_assert(memcmp(buf, "hello", 5) == 0);
    /* A multishot receive: bytes arrive in the held buffer. */
    uring_recv_arm(slot, sv[0]);
    ck_assert(uring_recv_armed(slot));
    uring_submit();
    ck_assert_int_eq(write(sv[1], "PING\r\n", 6), 6);
    ck_assert_int_eq(write(sv[1], "ECHO\r\n", 6), 6);
    for (tries = 0; tries < 1000 && c->uheldlen < 12; tries++) {
        usleep(1000);
        uring_submit();
        uring_poll(false); /* a kernel entry runs the completions */
    }
    ck_assert_uint_eq(c->uheldlen - c->uheldoff, 12);
    ck_assert(memcmp(c->uheld + c->uheldoff, "PING\r\nECHO\r\n", 12) == 0);
    ck_assert(uring_recv_armed(slot));
    /* Cancelled: the receive ends, the slot stays until its last completion. */
    uring_recv_cancel(slot);
    uring_submit();
    for (tries = 0; tries < 1000 && uring_recv_armed(slot); tries++) {
        usleep(1000);
        uring_submit();
        uring_poll(false);
    }
    ck_assert(!uring_recv_armed(slot));
    close(sv[0]);
    close(sv[1]);
    uring_stop();
    /* c stays on conn.c's attention list in this process: not freed. */
}
END_TEST

START_TEST(loop_choices)
{
    struct loop_clock k = {.now = 1000000, .deadline = -1, .last_ev = 1000000};
    /* No timers, nothing ran: no limit; held input or active events: 0. */
    ck_assert_int_eq(loop_timeout_us(&k, true, false), -1);
    ck_assert_int_eq(loop_timeout_us(&k, false, false), 0);
    ck_assert_int_eq(loop_timeout_us(&k, true, true), 0);
    /* Until the earliest timer; one past due: 0. */
    k.deadline = 1000000 + 7000;
    ck_assert_int_eq(loop_timeout_us(&k, true, false), 7000);
    k.deadline = 999000;
    ck_assert_int_eq(loop_timeout_us(&k, true, false), 0);
    /* Commands ran (they may have added timers): at most the slack past
     * libevent's last run. */
    k.deadline = 1000000 + 7000;
    k.ran_commands = true;
    k.now = 1000000 + 300;
    ck_assert_int_eq(loop_timeout_us(&k, true, false), LOOP_TIMER_SLACK_US - 300);
    k.deadline = 1000000 + 500;
    ck_assert_int_eq(loop_timeout_us(&k, true, false), 200);
    k.deadline = -1;
    k.now = 1000000 + 5000;
    ck_assert_int_eq(loop_timeout_us(&k, true, false), 0);

    /* A timer's wall-clock deadline: how far; one past (a stale offset)
     * or very far (a clock step) bounded. */
    ck_assert_int_eq(loop_timer_in_us(-1, 5000), -1);
    ck_assert_int_eq(loop_timer_in_us(5000 + 2500, 5000), 2500);
    ck_assert_int_eq(loop_timer_in_us(4000, 5000), LOOP_TIMER_SLACK_US);
    ck_assert_int_eq(loop_timer_in_us(5000, 5000), LOOP_TIMER_SLACK_US);
    ck_assert_int_eq(loop_timer_in_us(5000 + 100000000LL, 5000), LOOP_TIMER_MAX_US);

    /* libevent runs: its fd readable, active events, a timeout, a timer
     * due, or the slack passed while commands ran. */
    k.now = 1000000 + 100;
    k.deadline = -1;
    ck_assert(!loop_libevent_due(&k, false, false, false));
    ck_assert(loop_libevent_due(&k, true, false, false));
    ck_assert(loop_libevent_due(&k, false, true, false));
    ck_assert(loop_libevent_due(&k, false, false, true));
    k.deadline = 1000000 + 100;
    ck_assert(loop_libevent_due(&k, false, false, false));
    k.deadline = -1;
    k.now = 1000000 + LOOP_TIMER_SLACK_US;
    ck_assert(loop_libevent_due(&k, false, false, false));
    k.ran_commands = false;
    ck_assert(!loop_libevent_due(&k, false, false, false));
}
END_TEST

START_TEST(wait_and_watch)
{
    struct conn *c = calloc(1, sizeof(*c));
    int sv[2], pp[2];
    unsigned slot;
    char buf[16];
    if (!uring_allowed()) return;
    g_config.io_backend = 1;
    uring_start(base(), &conn_uring_handlers);
    ck_assert(uring_on());
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ck_assert_int_eq(pipe(pp), 0);
    slot = uring_slot_new(c);
    c->fd = sv[0];
    c->uslot = slot;
    /* Nothing comes: the wait times out. */
    ck_assert(!uring_wait(20000));
    /* A send completes during the submission but does not end the wait:
     * it waits for one completion more, here none. */
    ck_assert(uring_send(slot, sv[0], "abc", 3));
    c->usent = -1;
    ck_assert(!uring_wait(20000));
    uring_reap(true);
    ck_assert_int_eq(c->usent, 3);
    ck_assert_int_eq(read(sv[1], buf, sizeof(buf)), 3);
    /* The watched descriptor becomes readable: the wait returns, once. */
    uring_watch(pp[0]);
    ck_assert(!uring_wait(20000));
    ck_assert(!uring_watch_take());
    ck_assert_int_eq(write(pp[1], "x", 1), 1);
    ck_assert(uring_wait(5000000));
    uring_reap(true);
    ck_assert(uring_watch_take());
    ck_assert(!uring_watch_take());
    /* Armed again while still readable: it fires at once. */
    uring_watch(pp[0]);
    ck_assert(uring_wait(5000000));
    uring_reap(true);
    ck_assert(uring_watch_take());
    /* The alarm: one timeout left armed, moved sooner, never later. */
    {
        struct timespec tv;
        long long now, t0;
        ck_assert_int_eq(read(pp[0], buf, 1), 1);
        clock_gettime(CLOCK_MONOTONIC, &tv);
        now = (long long)tv.tv_sec * 1000000 + tv.tv_nsec / 1000;
        uring_alarm(now + 60000000); /* a minute */
        uring_alarm(now + 90000000); /* later: left as it is */
        uring_alarm(now + 30000);    /* sooner: moved */
        t0 = now;
        ck_assert(uring_wait(-1));
        uring_reap(true);
        ck_assert(uring_alarm_take());
        ck_assert(!uring_alarm_take());
        clock_gettime(CLOCK_MONOTONIC, &tv);
        now = (long long)tv.tv_sec * 1000000 + tv.tv_nsec / 1000;
        ck_assert(now - t0 >= 29000);
        ck_assert(now - t0 < 30000000);
    }
    close(pp[0]);
    close(pp[1]);
    close(sv[0]);
    close(sv[1]);
    uring_stop();
    free(c);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("uring");
    TCase *tc = unit_tcase("uring", 60);
    tcase_add_test(tc, recv_next);
    tcase_add_test(tc, tags);
    tcase_add_test(tc, fallback_and_choice);
    tcase_add_test(tc, slots_reused_and_grown);
    tcase_add_test(tc, send_and_receive_through_the_ring);
    tcase_add_test(tc, loop_choices);
    tcase_add_test(tc, wait_and_watch);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(suite());
}
