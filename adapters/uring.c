/* uring.c — the io_uring I/O path (uring.h): the ring, its provided
 * receive buffers, the slots naming connections in completions, the wait
 * of the loop (uring_wait: submit and sleep in one io_uring_enter), the
 * poll watching one descriptor for the loop (libevent's epoll), and the
 * choice of backend at start (io-backend, with the fallback to libevent).
 * What a completion means for a connection is conn.c's (conn_uring_*). */
#include "uring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "server.h"
#include "util.h"

enum uring_recv_next uring_recv_next(int res, bool more)
{
    if (res > 0) return more ? URING_RECV_MORE : URING_RECV_REARM;
    if (more) return URING_RECV_MORE;
    if (res == 0) return URING_RECV_EOF;
    switch (-res) {
    case ENOBUFS:
    case EAGAIN:
    case EINTR:
        return URING_RECV_REARM;
    case ECANCELED:
        return URING_RECV_ENDED;
    case EINVAL:
    case EOPNOTSUPP:
        return URING_RECV_NOTSUP;
    default:
        return URING_RECV_ERROR;
    }
}

#ifdef KEEL_HAVE_URING

#include <liburing.h>
#include <poll.h>
#include <sys/mman.h>
#include <unistd.h>

#define RING_ENTRIES 1024 /* submission queue */
#define RING_CQ 8192      /* completion queue */
#define BUF_GROUP 1
#define BUF_COUNT 128  /* provided receive buffers (a power of two) */
#define BUF_SIZE 16384 /* conn.h's CONN_READ: one read's worth */

struct slot {
    struct conn *c; /* NULL: released, waiting for its receive's end */
    bool used;
    bool recv; /* a multishot receive is armed */
};

static struct {
    bool on;
    const struct uring_handlers *h;
    struct io_uring ring;
    struct io_uring_buf_ring *br;
    char *bufs;
    bool watch_armed, watch_fired; /* the loop's poll (uring_watch) */
    bool deferred;                 /* DEFER_TASKRUN: completions only in our enters */
    /* The loop's alarm (uring_alarm): one timeout request left armed
     * across waits, so a wait arms no timer of its own. */
    bool alarm_armed, alarm_fired;
    long long alarm_at;
    struct __kernel_timespec alarm_ts, alarm_upd_ts;
    struct slot *slots; /* [0] unused: slot 0 is "none" */
    unsigned nslots, *free_slots, nfree;
    unsigned long long sends_queued, sends_seen;
} u;

bool uring_on(void)
{
    return u.on;
}

static struct io_uring_sqe *get_sqe(void)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&u.ring);
    if (!sqe) {
        io_uring_submit(&u.ring);
        sqe = io_uring_get_sqe(&u.ring);
    }
    return sqe;
}

unsigned uring_slot_new(struct conn *c)
{
    unsigned s;
    if (u.nfree == 0) {
        unsigned n = u.nslots ? u.nslots * 2 : 64, i;
        u.slots = xrealloc(u.slots, sizeof(*u.slots) * n);
        u.free_slots = xrealloc(u.free_slots, sizeof(*u.free_slots) * n);
        memset(u.slots + u.nslots, 0, sizeof(*u.slots) * (n - u.nslots));
        for (i = n; i-- > (u.nslots ? u.nslots : 1);)
            u.free_slots[u.nfree++] = i;
        u.nslots = n;
        if (u.nfree == 0) return 0;
    }
    s = u.free_slots[--u.nfree];
    u.slots[s].c = c;
    u.slots[s].used = true;
    u.slots[s].recv = false;
    return s;
}

static void slot_free(unsigned s)
{
    u.slots[s].used = false;
    u.slots[s].c = NULL;
    u.free_slots[u.nfree++] = s;
}

void uring_slot_move(unsigned slot, struct conn *c)
{
    u.slots[slot].c = c;
}

void uring_slot_release(unsigned slot)
{
    u.slots[slot].c = NULL;
    if (!u.slots[slot].recv) {
        slot_free(slot);
        return;
    }
    /* The receive holds the socket: cancel it now, so close() closes. */
    uring_recv_cancel(slot);
    io_uring_submit(&u.ring);
}

bool uring_recv_armed(unsigned slot)
{
    return u.slots[slot].recv;
}

void uring_recv_arm(unsigned slot, int fd)
{
    struct io_uring_sqe *sqe;
    if (u.slots[slot].recv) return;
    sqe = get_sqe();
    if (!sqe) return;
    io_uring_prep_recv_multishot(sqe, fd, NULL, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = BUF_GROUP;
    io_uring_sqe_set_data64(sqe, uring_tag(slot, URING_RECV));
    u.slots[slot].recv = true;
}

void uring_recv_cancel(unsigned slot)
{
    struct io_uring_sqe *sqe;
    if (!u.slots[slot].recv) return;
    sqe = get_sqe();
    if (!sqe) return;
    io_uring_prep_cancel64(sqe, uring_tag(slot, URING_RECV), 0);
    io_uring_sqe_set_data64(sqe, uring_tag(slot, URING_CANCEL));
}

bool uring_send(unsigned slot, int fd, const void *buf, size_t n)
{
    struct io_uring_sqe *sqe = get_sqe();
    if (!sqe) return false;
    io_uring_prep_send(sqe, fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL);
    io_uring_sqe_set_data64(sqe, uring_tag(slot, URING_SEND));
    u.sends_queued++;
    return true;
}

void uring_submit(void)
{
    if (io_uring_sq_ready(&u.ring)) io_uring_submit(&u.ring);
}

/* Give buffer bid back to the kernel. */
static void buf_recycle(unsigned bid)
{
    io_uring_buf_ring_add(u.br, u.bufs + (size_t)bid * BUF_SIZE, BUF_SIZE, (unsigned short)bid,
                          io_uring_buf_ring_mask(BUF_COUNT), 0);
    io_uring_buf_ring_advance(u.br, 1);
}

/* One completion, already consumed from the ring (handlers may reap). */
static void complete(unsigned long long tag, int res, unsigned flags, bool deliver)
{
    unsigned s = uring_tag_slot(tag);
    struct slot *sl = s < u.nslots ? &u.slots[s] : NULL;
    enum uring_recv_next next;
    switch (uring_tag_op(tag)) {
    case URING_SEND:
        u.sends_seen++;
        if (sl && sl->c) u.h->sent(sl->c, res);
        return;
    case URING_CANCEL:
        return;
    case URING_WATCH:
        u.watch_armed = false;
        u.watch_fired = true;
        return;
    case URING_ALARM:
        if (res == -ECANCELED) return; /* not ours any more */
        u.alarm_armed = false;
        u.alarm_fired = true;
        return;
    case URING_ALARM_UPDATE:
        return;
    case URING_RECV:
        break;
    }
    if (!sl || !sl->used) return;
    next = uring_recv_next(res, (flags & IORING_CQE_F_MORE) != 0);
    if (next != URING_RECV_MORE) sl->recv = false;
    if (res > 0 && (flags & IORING_CQE_F_BUFFER)) {
        unsigned bid = flags >> IORING_CQE_BUFFER_SHIFT;
        if (sl->c) u.h->recv(sl->c, u.bufs + (size_t)bid * BUF_SIZE, (size_t)res, deliver);
        buf_recycle(bid);
        sl = &u.slots[s]; /* the table may have grown */
    }
    if (next == URING_RECV_MORE) return;
    if (!sl->c) {
        if (!sl->recv && sl->used) slot_free(s);
        return;
    }
    u.h->recv_end(sl->c, next, deliver);
}

unsigned uring_reap(bool deliver)
{
    struct io_uring_cqe *cqe;
    unsigned recvs = 0;
    while (io_uring_peek_cqe(&u.ring, &cqe) == 0) {
        unsigned long long tag = io_uring_cqe_get_data64(cqe);
        int res = cqe->res;
        unsigned flags = cqe->flags;
        io_uring_cqe_seen(&u.ring, cqe);
        if (uring_tag_op(tag) == URING_RECV) recvs++;
        complete(tag, res, flags, deliver);
    }
    return recvs;
}

void uring_submit_sends(void)
{
    io_uring_submit(&u.ring);
    for (;;) {
        struct io_uring_cqe *cqe;
        uring_reap(false);
        if (u.sends_seen >= u.sends_queued) return;
        /* MSG_DONTWAIT sends complete during the submission: this does
         * not sleep in practice. */
        if (io_uring_wait_cqe(&u.ring, &cqe) < 0 && errno != EINTR) {
            log_warning("io_uring: waiting for sends failed");
            return;
        }
    }
}

unsigned uring_poll(bool deliver)
{
    /* With DEFER_TASKRUN completions are posted only inside an
     * io_uring_enter asking for events. */
    if (u.deferred) io_uring_get_events(&u.ring);
    return uring_reap(deliver);
}

void uring_watch(int fd)
{
    struct io_uring_sqe *sqe;
    if (u.watch_armed) return;
    sqe = get_sqe();
    if (!sqe) return;
    /* One-shot: armed again after each firing, it completes at once while
     * fd stays readable (a level-triggered descriptor libevent left ready
     * wakes no poll waiter again). */
    io_uring_prep_poll_add(sqe, fd, POLLIN);
    io_uring_sqe_set_data64(sqe, uring_tag(0, URING_WATCH));
    u.watch_armed = true;
}

bool uring_watch_take(void)
{
    bool f = u.watch_fired;
    u.watch_fired = false;
    return f;
}

void uring_alarm(long long at_us)
{
    struct io_uring_sqe *sqe;
    if (at_us < 0) return; /* an alarm left armed only wakes the loop early */
    if (u.alarm_armed && at_us >= u.alarm_at) return;
    sqe = get_sqe();
    if (!sqe) return;
    if (!u.alarm_armed) {
        u.alarm_ts.tv_sec = at_us / 1000000;
        u.alarm_ts.tv_nsec = (at_us % 1000000) * 1000;
        io_uring_prep_timeout(sqe, &u.alarm_ts, 0, IORING_TIMEOUT_ABS); /* CLOCK_MONOTONIC */
        io_uring_sqe_set_data64(sqe, uring_tag(0, URING_ALARM));
        u.alarm_armed = true;
    } else {
        /* Sooner than armed: moved (if it fired meanwhile, the update
         * finds nothing and the next iteration arms it again). */
        u.alarm_upd_ts.tv_sec = at_us / 1000000;
        u.alarm_upd_ts.tv_nsec = (at_us % 1000000) * 1000;
        io_uring_prep_timeout_update(sqe, &u.alarm_upd_ts, uring_tag(0, URING_ALARM),
                                     IORING_TIMEOUT_ABS); /* the clock stays the timeout's */
        io_uring_sqe_set_data64(sqe, uring_tag(0, URING_ALARM_UPDATE));
        sqe->flags |= IOSQE_CQE_SKIP_SUCCESS; /* no completion to wake the loop for */
    }
    u.alarm_at = at_us;
}

bool uring_alarm_take(void)
{
    bool f = u.alarm_fired;
    u.alarm_fired = false;
    return f;
}

bool uring_wait(long long timeout_us)
{
    struct io_uring_cqe *cqe;
    struct __kernel_timespec ts;
    unsigned sends, want;
    if (timeout_us == 0) {
        io_uring_submit_and_get_events(&u.ring);
        return true;
    }
    /* The sends of this submission complete during it (MSG_DONTWAIT) and
     * count as completions: wait for one more than them. */
    sends = (unsigned)(u.sends_queued - u.sends_seen);
    want = sends + 1;
    if (timeout_us > 0) {
        ts.tv_sec = timeout_us / 1000000;
        ts.tv_nsec = (timeout_us % 1000000) * 1000;
    }
    if (timeout_us < 0) {
        io_uring_submit_and_wait(&u.ring, want);
    } else {
        io_uring_submit_and_wait_timeout(&u.ring, &cqe, want, &ts, NULL);
    }
    /* An enter that submitted reports no timeout: count what came. */
    return io_uring_cq_ready(&u.ring) > sends;
}

static bool ring_setup(const char **why)
{
    struct io_uring_params p;
    struct io_uring_buf_reg reg;
    unsigned i;
    int r;
    if (g_config.io_uring_test_fail) {
        *why = "io-uring-test-fail";
        return false;
    }
    /* The loop sleeps in the ring: completions are processed only inside
     * its io_uring_enter (DEFER_TASKRUN, one thread: SINGLE_ISSUER), no
     * task work interrupts the process in between. Older kernels refuse
     * those flags: COOP_TASKRUN, then none. */
    {
        static const unsigned tries[] = {
            IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
            IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG,
            0,
        };
        size_t t;
        r = -EINVAL;
        for (t = 0; t < sizeof(tries) / sizeof(tries[0]); t++) {
            memset(&p, 0, sizeof(p));
            p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL | tries[t];
            p.cq_entries = RING_CQ;
            r = io_uring_queue_init_params(RING_ENTRIES, &u.ring, &p);
            if (r != -EINVAL) break;
        }
        if (r < 0) {
            *why = strerror(-r);
            return false;
        }
        u.deferred = (p.flags & IORING_SETUP_DEFER_TASKRUN) != 0;
    }
    u.br = mmap(NULL, sizeof(struct io_uring_buf) * BUF_COUNT, PROT_READ | PROT_WRITE,
                MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (u.br == MAP_FAILED) {
        u.br = NULL;
        *why = "no memory for the buffer ring";
        goto fail;
    }
    memset(&reg, 0, sizeof(reg));
    reg.ring_addr = (unsigned long)u.br;
    reg.ring_entries = BUF_COUNT;
    reg.bgid = BUF_GROUP;
    r = io_uring_register_buf_ring(&u.ring, &reg, 0);
    if (r < 0) {
        *why = "provided buffer rings unsupported";
        goto fail;
    }
    io_uring_buf_ring_init(u.br);
    u.bufs = xmalloc((size_t)BUF_COUNT * BUF_SIZE);
    for (i = 0; i < BUF_COUNT; i++)
        io_uring_buf_ring_add(u.br, u.bufs + (size_t)i * BUF_SIZE, BUF_SIZE, (unsigned short)i,
                              io_uring_buf_ring_mask(BUF_COUNT), (int)i);
    io_uring_buf_ring_advance(u.br, BUF_COUNT);
    /* Each io_uring_enter names the ring by a registered index instead of
     * looking its descriptor up (optional: older kernels refuse). */
    io_uring_register_ring_fd(&u.ring);
    return true;
fail:
    io_uring_queue_exit(&u.ring);
    if (u.br) munmap(u.br, sizeof(struct io_uring_buf) * BUF_COUNT);
    u.br = NULL;
    free(u.bufs);
    u.bufs = NULL;
    return false;
}

void uring_start(struct event_base *base, const struct uring_handlers *h)
{
    const char *why = NULL;
    u.h = h;
    g_server.io_uring = false;
    if (g_config.io_backend == 2) return;
    if (!ring_setup(&why)) {
        if (g_config.io_backend == 1)
            log_warning("io-backend uring: io_uring is unavailable (%s), using libevent", why);
        else
            log_notice("io_uring is unavailable (%s): connections use libevent", why);
        return;
    }
    (void)base;
    u.on = true;
    g_server.io_uring = true;
}

void uring_stop(void)
{
    if (!u.on) return;
    u.on = false;
    io_uring_queue_exit(&u.ring);
    munmap(u.br, sizeof(struct io_uring_buf) * BUF_COUNT);
    free(u.bufs);
    free(u.slots);
    free(u.free_slots);
    memset(&u, 0, sizeof(u));
}

#else /* built without liburing: libevent only */

void uring_start(struct event_base *base, const struct uring_handlers *h)
{
    (void)base, (void)h;
    g_server.io_uring = false;
    if (g_config.io_backend == 1)
        log_warning("io-backend uring: this build has no io_uring support, using libevent");
}
bool uring_on(void)
{
    return false;
}
void uring_stop(void) {}
unsigned uring_slot_new(struct conn *c)
{
    (void)c;
    return 0;
}
void uring_slot_move(unsigned slot, struct conn *c)
{
    (void)slot, (void)c;
}
void uring_slot_release(unsigned slot)
{
    (void)slot;
}
void uring_recv_arm(unsigned slot, int fd)
{
    (void)slot, (void)fd;
}
void uring_recv_cancel(unsigned slot)
{
    (void)slot;
}
bool uring_recv_armed(unsigned slot)
{
    (void)slot;
    return false;
}
bool uring_send(unsigned slot, int fd, const void *buf, size_t n)
{
    (void)slot, (void)fd, (void)buf, (void)n;
    return false;
}
void uring_submit_sends(void) {}
void uring_submit(void) {}
unsigned uring_reap(bool deliver)
{
    (void)deliver;
    return 0;
}
unsigned uring_poll(bool deliver)
{
    (void)deliver;
    return 0;
}
void uring_watch(int fd)
{
    (void)fd;
}
bool uring_watch_take(void)
{
    return false;
}
void uring_alarm(long long at_us)
{
    (void)at_us;
}
bool uring_alarm_take(void)
{
    return false;
}
bool uring_wait(long long timeout_us)
{
    (void)timeout_us;
    return false;
}

#endif
