/* uring.h — the io_uring I/O path of the connection base (adapters/conn.c):
 * one ring per process, chosen at start by io-backend (auto, uring,
 * libevent) with a fallback to libevent where io_uring cannot be set up.
 * The ring receives for every plain-TCP connection with one multishot
 * receive each (provided buffer ring), and sends the replies of a whole
 * loop iteration in the io_uring_enter the loop sleeps in (uring_wait:
 * adapters/loop.c drives it). libevent keeps listeners, timers, signals,
 * TLS connections and the write events of slow readers; the loop runs it
 * without waiting when the ring's poll on its epoll descriptor fires
 * (uring_watch) or its timers are due.
 *
 * The ring knows connections only by slot: conn.c owns what a receive or
 * a send means (struct uring_handlers). */
#ifndef KEEL_URING_H
#define KEEL_URING_H

#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct conn;

/* What completions mean for a connection (adapters/conn.c's, given to
 * uring_start by server/main.c: the ring knows connections only by
 * pointer). */
struct uring_handlers {
    /* n bytes received for c; deliver: its commands may run now (else
     * they are held until attend). */
    void (*recv)(struct conn *c, const char *p, size_t n, bool deliver);
    /* c's multishot receive ended (enum uring_recv_next, not MORE). */
    void (*recv_end)(struct conn *c, int next, bool deliver);
    /* c's send of this iteration completed with res (bytes or -errno). */
    void (*sent)(struct conn *c, int res);
    /* The loop woke for the ring: start new connections, deliver held input. */
    void (*attend)(void);
};

/* Set up the backend io-backend asks for; g_server.io_uring says whether
 * the ring runs (INFO multiplexing_api: io_uring). A ring that cannot be set up falls back to
 * libevent (logged: a warning when io-backend is uring). */
void uring_start(struct event_base *base, const struct uring_handlers *h);
/* The ring runs (connections may use it). */
bool uring_on(void);
/* Close the ring (after every connection is freed). */
void uring_stop(void);

/* A slot for c (its receives and sends name it); 0: none free. */
unsigned uring_slot_new(struct conn *c);
/* The slot's connection is now c (a takeover: same socket). */
void uring_slot_move(unsigned slot, struct conn *c);
/* c is freed: its receive is cancelled now (submitted at once, so the
 * socket closes), the slot is reused once its last completion is seen. */
void uring_slot_release(unsigned slot);
/* Arm the slot's multishot receive on fd (submitted with the next
 * io_uring_enter); no-op if armed. */
void uring_recv_arm(unsigned slot, int fd);
/* Cancel it (read pause); its last completion reports the end. */
void uring_recv_cancel(unsigned slot);
/* A multishot receive is armed (its last completion not seen yet). */
bool uring_recv_armed(unsigned slot);
/* Queue a send of buf[0..n) on fd for the slot, without waiting
 * (MSG_DONTWAIT: it completes during the submission, fully, partly or
 * with -EAGAIN). false: no room in the submission queue. */
bool uring_send(unsigned slot, int fd, const void *buf, size_t n);
/* Submit everything queued (one io_uring_enter) and wait until every send
 * queued has completed; each is reported by conn_uring_sent. Receive
 * completions met meanwhile are held by the connections
 * (conn_uring_recv with deliver false). */
void uring_submit_sends(void);
/* Submit what is queued (receives armed, cancels), without waiting. */
void uring_submit(void);
/* Hand every completion waiting in the ring to the connections
 * (deliver: they may run their commands now). How many were receives. */
unsigned uring_reap(bool deliver);
/* uring_reap after asking the kernel for what completed meanwhile (with
 * DEFER_TASKRUN completions are posted only when the process asks). */
unsigned uring_poll(bool deliver);
/* Watch fd for input with a one-shot poll on the ring (submitted with
 * the next wait); no-op while armed. */
void uring_watch(int fd);
/* The watched fd became readable since the last call (then the poll is
 * no longer armed: uring_watch again). */
bool uring_watch_take(void);
/* Wake the loop at CLOCK_MONOTONIC time at_us (microseconds; <0: no need):
 * one timeout request stays armed across waits and is moved only when an
 * earlier time is asked for (a wait with a timeout of its own would arm
 * and cancel a timer every time, dear in a VM). */
void uring_alarm(long long at_us);
/* The alarm went off since the last call (then it is no longer armed). */
bool uring_alarm_take(void);
/* The loop's one system call: submit everything queued and sleep until a
 * completion arrives beyond the sends just submitted (those complete
 * during the submission), at most timeout_us (<0: no limit, 0: only
 * submit and collect; the loop uses uring_alarm instead). false if it
 * timed out (nothing came but the sends).
 * Completions are left for uring_reap. */
bool uring_wait(long long timeout_us);

/* ---- the pure parts, unit tested (tests/unit/test_uring.c) ---- */

/* A completion's user data: slot and operation. */
enum uring_op {
    URING_RECV = 1,
    URING_SEND = 2,
    URING_CANCEL = 3,
    URING_WATCH = 4,
    URING_ALARM = 5,
    URING_ALARM_UPDATE = 6,
};
static inline unsigned long long uring_tag(unsigned slot, enum uring_op op)
{
    return ((unsigned long long)slot << 8) | (unsigned)op;
}
static inline unsigned uring_tag_slot(unsigned long long tag)
{
    return (unsigned)(tag >> 8);
}
static inline enum uring_op uring_tag_op(unsigned long long tag)
{
    return (enum uring_op)(tag & 0xff);
}

/* What a multishot receive's completion asks of the connection. */
enum uring_recv_next {
    URING_RECV_MORE,   /* still armed: more completions follow */
    URING_RECV_REARM,  /* ended for want of buffers or CQ room: arm again */
    URING_RECV_EOF,    /* the peer closed */
    URING_RECV_ERROR,  /* a socket error: close */
    URING_RECV_ENDED,  /* cancelled by us: armed again only if wanted */
    URING_RECV_NOTSUP, /* multishot receive unsupported: back to libevent */
};
enum uring_recv_next uring_recv_next(int res, bool more);

#endif
