/* repl_pipe.c — the relay of a diskless full sync through a pipe
 * (repl_pipe.h): the parent's end of the pipe a diskless child writes for
 * replicas a child cannot write to (TLS), read on the event loop and
 * handed to each of them through its adapter's raw hook, with Redis
 * 7.0's rule for slow replicas (the pipe is read on only once every
 * replica has taken what it was given). */
#include "repl_pipe.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "log.h"
#include "repl.h"
#include "server.h"
#include "util.h"

/* How much one iteration reads at most (other clients are served too). */
#define READ_CHUNK (256 * 1024)
#define READS_PER_CALL 4

static struct {
    int rfd, wfd; /* -1: none */
    struct event *ev;
    bool paused; /* the read event removed: a client's output is full */
    struct client *c[REPL_PIPE_MAX];
    size_t last_pending[REPL_PIPE_MAX];
    long long last_progress_ms[REPL_PIPE_MAX];
    int n;
    void (*done)(bool ok);
} P = {.rfd = -1, .wfd = -1};

static size_t pending_of(struct client *c)
{
    size_t qb = 0, qf = 0, obl = 0, oll = 0, omem = 0;
    if (c->adapter->buffers) c->adapter->buffers(c, &qb, &qf, &obl, &oll, &omem);
    return obl;
}

bool repl_pipe_create(int *wfd)
{
    int p[2];
    if (P.rfd >= 0) return false; /* one relay at a time */
    if (pipe(p) == -1) {
        log_warning("Can't create the pipe of a diskless sync: %s", strerror(errno));
        return false;
    }
    P.rfd = p[0];
    P.wfd = p[1];
    *wfd = p[1];
    return true;
}

void repl_pipe_child(void)
{
    if (P.rfd >= 0) close(P.rfd);
    P.rfd = -1;
}

static void close_pipe(void)
{
    if (P.ev) {
        event_free(P.ev);
        P.ev = NULL;
    }
    if (P.rfd >= 0) close(P.rfd);
    if (P.wfd >= 0) close(P.wfd);
    P.rfd = P.wfd = -1;
    P.n = 0;
    P.paused = false;
}

static void finish(bool ok)
{
    void (*done)(bool) = P.done;
    close_pipe();
    P.done = NULL;
    if (done) done(ok);
}

static bool any_full(void)
{
    int i;
    for (i = 0; i < P.n; i++)
        if (pending_of(P.c[i]) >= REPL_PIPE_MAX_PENDING) return true;
    return false;
}

static void pause_reading(void)
{
    if (P.paused) return;
    event_del(P.ev);
    P.paused = true;
}

/* Read what the child wrote and hand it to every client; pause while one
 * of them has a full output. */
static void relay(void)
{
    static char buf[READ_CHUNK];
    int reads, i;
    for (reads = 0; reads < READS_PER_CALL && P.rfd >= 0; reads++) {
        ssize_t n;
        if (P.n == 0) {
            /* nobody left: the child's writes fail (EPIPE) and it goes on
             * with its other replicas */
            log_warning("Diskless rdb transfer, done reading from pipe, no replica left");
            finish(false);
            return;
        }
        if (any_full()) {
            pause_reading();
            return;
        }
        n = read(P.rfd, buf, sizeof(buf));
        if (n > 0) {
            long long now = util_mstime();
            for (i = 0; i < P.n; i++) {
                if (P.c[i]->adapter->raw) P.c[i]->adapter->raw(P.c[i], buf, (size_t)n);
                P.last_pending[i] = pending_of(P.c[i]);
                P.last_progress_ms[i] = now;
                g_repl_stats.net_repl_output_bytes += n;
            }
            continue;
        }
        if (n == 0) {
            log_notice("Diskless rdb transfer, done reading from pipe, %d replicas still up.", P.n);
            finish(true);
            return;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
        log_warning("Diskless rdb transfer, error reading from the pipe: %s", strerror(errno));
        finish(false);
        return;
    }
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    relay();
}

void repl_pipe_start(struct client *const *cs, int n, void (*done)(bool ok))
{
    int i;
    long long now = util_mstime();
    if (P.wfd >= 0) close(P.wfd); /* the child's end: EOF once it exits */
    P.wfd = -1;
    if (P.rfd < 0) return;
    fcntl(P.rfd, F_SETFL, fcntl(P.rfd, F_GETFL) | O_NONBLOCK);
    P.n = 0;
    for (i = 0; i < n && i < REPL_PIPE_MAX; i++) {
        P.c[P.n] = cs[i];
        P.last_pending[P.n] = 0;
        P.last_progress_ms[P.n++] = now;
    }
    P.done = done;
    P.paused = false;
    P.ev = event_new(g_server.base, P.rfd, EV_READ | EV_PERSIST, on_readable, NULL);
    event_add(P.ev, NULL);
}

void repl_pipe_abort(void)
{
    P.done = NULL;
    close_pipe();
}

bool repl_pipe_active(void)
{
    return P.rfd >= 0 && P.ev;
}

void repl_pipe_forget(struct client *c)
{
    int i;
    for (i = 0; i < P.n; i++) {
        if (P.c[i] != c) continue;
        P.n--;
        P.c[i] = P.c[P.n];
        P.last_pending[i] = P.last_pending[P.n];
        P.last_progress_ms[i] = P.last_progress_ms[P.n];
        return;
    }
}

void repl_pipe_flush(void)
{
    if (!repl_pipe_active()) return;
    if (P.n == 0) {
        relay(); /* finishes */
        return;
    }
    if (!P.paused || any_full()) return;
    P.paused = false;
    event_add(P.ev, NULL);
    relay();
}

bool repl_pipe_busy(void)
{
    return repl_pipe_active() && (P.n == 0 || (P.paused && !any_full()));
}

void repl_pipe_cron(long long timeout_ms, void (*timedout)(struct client *c))
{
    long long now = util_mstime();
    int i;
    if (!repl_pipe_active()) return;
    for (i = 0; i < P.n; i++) {
        struct client *c = P.c[i];
        size_t pend = pending_of(c);
        if (pend < P.last_pending[i] || pend == 0) {
            P.last_pending[i] = pend;
            P.last_progress_ms[i] = now;
            continue;
        }
        if (now - P.last_progress_ms[i] <= timeout_ms) continue;
        repl_pipe_forget(c);
        timedout(c);
        i--;
    }
}
