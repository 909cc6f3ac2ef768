/* migrate.c — MIGRATE host port key|"" destination-db timeout [COPY]
 * [REPLACE] [AUTH password | AUTH2 username password] [KEYS key ...], as
 * Redis 7.0 does it: synchronously (the server waits, as Redis's does), a
 * blocking connect, one write of AUTH / SELECT / one RESTORE per key (DUMP
 * payloads from rdb.c), then one reply line per command read back, each
 * step bounded by the timeout. Keys the target acknowledged are deleted
 * here (unless COPY) and propagated as DEL. Connections are cached per
 * target for 10 seconds, as Redis caches them (migrate_cron closes the
 * idle ones). This file is a client of another server, not one of Keel's
 * protocol adapters: it writes the few RESP requests it needs itself. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "commands_gen.h"
#include "kernel.h"
#include "migrate.h"
#include "object.h"
#include "propagate.h"
#include "rdb.h"
#include "store.h"
#include "util.h"

#define MIGRATE_CHUNK (64 * 1024)

/* Milliseconds left until deadline (monotonic µs), at least 0. */
static int ms_left(long long deadline)
{
    long long left = (deadline - util_monotonic_us()) / 1000;
    return left < 0 ? 0 : (int)(left > 1000000000 ? 1000000000 : left);
}

/* Wait for events on fd until deadline: 1 ready, 0 timed out, -1 error. */
static int wait_fd(int fd, short events, long long deadline)
{
    struct pollfd p = {.fd = fd, .events = events};
    for (;;) {
        int n = poll(&p, 1, ms_left(deadline));
        if (n < 0 && errno == EINTR) continue;
        if (n == 0) errno = ETIMEDOUT;
        return n > 0 ? 1 : n;
    }
}

/* A blocking connect bounded by timeout_ms (Redis's connBlockingConnect);
 * the port is read as atoi reads it. -1 when it fails. */
static int mig_connect(const char *host, const char *port, long long timeout_ms)
{
    struct addrinfo hints, *res, *ai;
    char portbuf[16];
    int fd = -1;
    long long deadline = util_monotonic_us() + timeout_ms * 1000;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(portbuf, sizeof(portbuf), "%d", atoi(port));
    if (getaddrinfo(host, portbuf, &hints, &res) != 0) return -1;
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd == -1) continue;
        if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1) goto next;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
        if (errno != EINPROGRESS) goto next;
        /* As Redis: writable in time is connected; a refused connection
         * shows up as the write's error ("writing"), not here. */
        if (wait_fd(fd, POLLOUT, deadline) == 1) break;
    next:
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

/* Write all of p, each chunk bounded by the deadline. */
static bool mig_write(int fd, const unsigned char *p, size_t n, long long timeout_ms)
{
    size_t off = 0;
    while (off < n) {
        size_t chunk = n - off > MIGRATE_CHUNK ? MIGRATE_CHUNK : n - off;
        long long deadline = util_monotonic_us() + timeout_ms * 1000;
        size_t done = 0;
        while (done < chunk) {
            ssize_t w = write(fd, p + off + done, chunk - done);
            if (w > 0) {
                done += (size_t)w;
                continue;
            }
            if (w < 0 && errno == EINTR) continue;
            if (w < 0 && errno != EAGAIN) return false;
            if (wait_fd(fd, POLLOUT, deadline) != 1) return false;
        }
        off += chunk;
    }
    return true;
}

/* Read one reply line (without CRLF) into buf, at most cap-1 bytes kept;
 * false on error, timeout or a closed connection. */
static bool mig_readline(int fd, char *buf, size_t cap, long long timeout_ms)
{
    long long deadline = util_monotonic_us() + timeout_ms * 1000;
    size_t n = 0;
    for (;;) {
        char ch;
        ssize_t r = read(fd, &ch, 1);
        if (r == 1) {
            if (ch == '\n') break;
            if (n < cap - 1) buf[n++] = ch;
            continue;
        }
        if (r == 0) return false;
        if (errno == EINTR) continue;
        if (errno != EAGAIN) return false;
        if (wait_fd(fd, POLLIN, deadline) != 1) return false;
    }
    if (n && buf[n - 1] == '\r') n--;
    buf[n] = 0;
    return n > 0;
}

static void put_count(struct sbuf *b, char type, long long n)
{
    char hdr[32];
    int len = snprintf(hdr, sizeof(hdr), "%c%lld\r\n", type, n);
    sbuf_append(b, hdr, (size_t)len);
}

static void put_bulk(struct sbuf *b, const void *p, size_t n)
{
    put_count(b, '$', (long long)n);
    sbuf_append(b, p, n);
    sbuf_append(b, "\r\n", 2);
}

static void put_bulk_ll(struct sbuf *b, long long v)
{
    char num[24];
    put_bulk(b, num, (size_t)util_ll2str(num, v));
}

/* Redis keeps one connection per target ("host:port") for 10 seconds after
 * its last use, at most 64 (a random one is closed for a 65th), remembering
 * the db last selected there (-1: unknown): a MIGRATE soon after another
 * sends no SELECT, and an AUTH given earlier still holds. */
#define MIGRATE_CACHE_MAX 64
#define MIGRATE_CACHE_TTL_MS 10000

struct mig_sock {
    char *name; /* host:port */
    int fd;
    long long last_dbid, last_use_ms;
};
static struct mig_sock cache[MIGRATE_CACHE_MAX];
static int ncache;

static void cache_drop(int i)
{
    close(cache[i].fd);
    free(cache[i].name);
    cache[i] = cache[--ncache];
}

/* The cached connection to host:port, or a new one; NULL after replying
 * Redis's error when it cannot connect. */
static struct mig_sock *get_socket(struct exec *x, const char *host, const char *port,
                                   long long timeout)
{
    char name[320];
    int i, fd, one = 1;
    snprintf(name, sizeof(name), "%s:%s", host, port);
    for (i = 0; i < ncache; i++) {
        if (strcmp(cache[i].name, name) == 0) {
            cache[i].last_use_ms = util_mstime();
            return &cache[i];
        }
    }
    if (ncache == MIGRATE_CACHE_MAX) cache_drop(rand() % ncache);
    fd = mig_connect(host, port, timeout);
    if (fd == -1) {
        reply_error(x->r, "IOERR error or timeout connecting to the client");
        return NULL;
    }
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    cache[ncache].name = xstrdup(name);
    cache[ncache].fd = fd;
    cache[ncache].last_dbid = -1;
    cache[ncache].last_use_ms = util_mstime();
    return &cache[ncache++];
}

static void close_socket(const char *host, const char *port)
{
    char name[320];
    int i;
    snprintf(name, sizeof(name), "%s:%s", host, port);
    for (i = 0; i < ncache; i++) {
        if (strcmp(cache[i].name, name) == 0) {
            cache_drop(i);
            return;
        }
    }
}

void migrate_cron(void)
{
    long long now = util_mstime();
    int i = 0;
    while (i < ncache) {
        if (now - cache[i].last_use_ms > MIGRATE_CACHE_TTL_MS)
            cache_drop(i);
        else
            i++;
    }
}

/* MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE]
 *         [AUTH password | AUTH2 username password] [KEYS key [key ...]] */
void cmd_migrate(struct exec *x)
{
    const struct argv_ref *host = &x->argv[1], *port = &x->argv[2];
    bool copy = HAS(x, A_MIGRATE_copy), replace = HAS(x, A_MIGRATE_replace);
    const struct argval *keys = ARG(x, A_MIGRATE_keys);
    const struct argv_ref *user = NULL, *pass = NULL;
    const struct argv_ref **kv;
    struct kv **ov;
    char hostz[256], portz[32], line0[1024] = "", line1[1024] = "", line2[1024];
    long long timeout, dbid, now;
    int nkeys, n = 0, j, acked = 0;
    struct argv_ref *del;
    struct sbuf cmd;
    struct mig_sock *cs;
    bool error_from_target = false, socket_error = false, select, write_error, may_retry = true;

    if (keys->present && x->argv[3].n != 0) {
        reply_error(x->r, "ERR When using MIGRATE KEYS option, the key argument must be set to "
                          "the empty string");
        return;
    }
    if (!arg_ok(x, A_MIGRATE_timeout) || !arg_ok(x, A_MIGRATE_destination_db)) return;
    timeout = ARGI(x, A_MIGRATE_timeout);
    dbid = ARGI(x, A_MIGRATE_destination_db);
    if (timeout <= 0) timeout = 1000;
    if (timeout > 1000000000LL) timeout = 1000000000LL; /* (deadlines stay in range) */
    /* AUTH and AUTH2 may both be given (keel_multi_choice): the last wins. */
    if (HAS(x, A_MIGRATE_authentication) && ARG(x, A_MIGRATE_authentication)->choice == 0) {
        pass = &x->argv[ARG(x, A_MIGRATE_authentication_password)->pos];
    } else if (HAS(x, A_MIGRATE_authentication)) {
        user = &x->argv[ARG(x, A_MIGRATE_authentication_username_password_username)->pos];
        pass = &x->argv[ARG(x, A_MIGRATE_authentication_username_password_password)->pos];
    }

    /* The keys that exist; none: +NOKEY (not an error, as Redis). */
    nkeys = keys->present ? keys->count : 1;
    kv = xmalloc(sizeof(*kv) * (size_t)nkeys);
    ov = xmalloc(sizeof(*ov) * (size_t)nkeys);
    for (j = 0; j < nkeys; j++) {
        const struct argv_ref *k = keys->present ? &x->argv[keys->list[j]] : &x->argv[3];
        struct kv *e = store_lookup_read(x->db, k->p, k->n);
        if (e) {
            kv[n] = k;
            ov[n++] = e;
        }
    }
    if (n == 0) {
        reply_status(x->r, "NOKEY");
        goto out;
    }

    snprintf(hostz, sizeof(hostz), "%.*s", (int)(host->n < 255 ? host->n : 255), host->p);
    snprintf(portz, sizeof(portz), "%.*s", (int)(port->n < 31 ? port->n : 31), port->p);
    del = xmalloc(sizeof(*del) * (size_t)(n + 1));
    del[0].p = "DEL";
    del[0].n = 3;

try_again:
    write_error = false;
    cs = get_socket(x, hostz, portz, timeout);
    if (!cs) goto done;

    /* AUTH, SELECT (unless the connection is there already) and one
     * RESTORE per key still alive, in one buffer. */
    sbuf_init(&cmd);
    if (pass) {
        put_count(&cmd, '*', user ? 3 : 2);
        put_bulk(&cmd, "AUTH", 4);
        if (user) put_bulk(&cmd, user->p, user->n);
        put_bulk(&cmd, pass->p, pass->n);
    }
    select = cs->last_dbid != dbid;
    if (select) {
        put_count(&cmd, '*', 2);
        put_bulk(&cmd, "SELECT", 6);
        put_bulk_ll(&cmd, dbid);
    }
    now = util_mstime();
    for (j = 0, nkeys = 0; j < n; j++) {
        long long ttl = 0, when = kv_expire(ov[j]);
        struct sbuf payload;
        if (when != -1) {
            ttl = when - now;
            if (ttl < 0) continue;
            if (ttl < 1) ttl = 1;
        }
        kv[nkeys] = kv[j];
        ov[nkeys++] = ov[j];
        put_count(&cmd, '*', replace ? 5 : 4);
        put_bulk(&cmd, "RESTORE", 7);
        put_bulk(&cmd, kv[j]->p, kv[j]->n);
        put_bulk_ll(&cmd, ttl);
        sbuf_init(&payload);
        rdb_serialize_value(ov[j], &payload);
        put_bulk(&cmd, payload.p, payload.len);
        sbuf_free(&payload);
        if (replace) put_bulk(&cmd, "REPLACE", 7);
    }
    n = nkeys;
    errno = 0;
    if (!mig_write(cs->fd, cmd.p, cmd.len, timeout)) {
        write_error = true;
        goto socket_err;
    }
    if ((pass && !mig_readline(cs->fd, line0, sizeof(line0), timeout)) ||
        (select && !mig_readline(cs->fd, line1, sizeof(line1), timeout)))
        goto socket_err;

    /* One reply per RESTORE: the first error (AUTH's, SELECT's or this
     * key's) is replied; acknowledged keys are deleted unless COPY. */
    error_from_target = socket_error = false;
    acked = 0;
    for (j = 0; j < nkeys; j++) {
        if (!mig_readline(cs->fd, line2, sizeof(line2), timeout)) {
            socket_error = true;
            break;
        }
        if ((pass && line0[0] == '-') || (select && line1[0] == '-') || line2[0] == '-') {
            if (!error_from_target) {
                const char *err = (pass && line0[0] == '-')     ? line0
                                  : (select && line1[0] == '-') ? line1
                                                                : line2;
                cs->last_dbid = -1;
                error_from_target = true;
                reply_errorf(x->r, "ERR Target instance replied with error: %s", err + 1);
            }
        } else if (!copy) {
            if (store_delete(x->db, kv[j]->p, kv[j]->n, "del", NOTIFY_GENERIC))
                del[++acked] = *kv[j];
        }
    }
    /* Nothing answered at all on a connection that may have gone stale:
     * once more on a new one (not after a timeout), as Redis. */
    if (!error_from_target && socket_error && j == 0 && may_retry && errno != ETIMEDOUT)
        goto socket_err;
    if (socket_error) close_socket(hostz, portz);
    /* Replicas and the AOF see a DEL of the keys moved, not the MIGRATE. */
    if (!copy && acked > 0)
        propagate_rewrite(x, acked + 1, del);
    else
        propagate_prevent(x);
    sbuf_free(&cmd);
    if (!error_from_target && socket_error) {
        reply_error(x->r, "IOERR error or timeout reading to target instance");
    } else if (!error_from_target) {
        cs->last_dbid = dbid;
        reply_ok(x->r);
    }
    goto done;

socket_err:
    sbuf_free(&cmd);
    close_socket(hostz, portz);
    if (errno != ETIMEDOUT && may_retry) {
        may_retry = false;
        goto try_again;
    }
    reply_errorf(x->r, "IOERR error or timeout %s to target instance",
                 write_error ? "writing" : "reading");
done:
    free(del);
out:
    free(kv);
    free(ov);
}
