/* ws_bench.c — a load generator for scripts/bench --ws: N connections that
 * run one command over and over, either as RESP on the RESP port or as
 * JSON over a WebSocket on the HTTP port (Keel's JSON mode), so the two
 * paths are measured with the same client. Without pipelining each
 * connection keeps one request in flight (["GET","key:.."]); with -P n it
 * sends n requests tagged by id ({"id":k,"cmd":[..]}; for RESP n
 * commands) and waits for their n replies, as redis-benchmark -P does.
 *
 *   ws_bench --port N --mode resp|ws [--clients 50] [--requests 200000]
 *            [--pipeline 1] [--threads 2] [--cmd get|set|incr|ping]
 *            [--keyspace 100000] [--size 16]
 *
 * Prints one line: "<requests/s> <requests> <seconds>". Exits non-zero if
 * a connection fails or a reply is an error. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum mode { M_RESP, M_WS };

static struct {
    int port;
    enum mode mode;
    int clients, pipeline, threads, keyspace, size;
    long requests;
    const char *cmd;
} opt = {0, M_RESP, 50, 1, 2, 100000, 16, 200000, "get"};

struct conn {
    int fd;
    char *rbuf;
    size_t rlen, rcap;
    char *wbuf;
    size_t wlen, wcap, woff;
    int inflight;
    long left; /* requests this connection still has to send */
    long id;
    unsigned rng;
};

struct worker {
    pthread_t th;
    int nconn;
    long requests;
    double secs;
    long done;
    int failed;
};

static void die(const char *what)
{
    perror(what);
    exit(2);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void wreserve(struct conn *c, size_t n)
{
    if (c->wlen + n > c->wcap) {
        while (c->wlen + n > c->wcap)
            c->wcap = c->wcap ? c->wcap * 2 : 65536;
        c->wbuf = realloc(c->wbuf, c->wcap);
        if (!c->wbuf) die("realloc");
    }
}

static void wput(struct conn *c, const void *p, size_t n)
{
    wreserve(c, n);
    memcpy(c->wbuf + c->wlen, p, n);
    c->wlen += n;
}

/* The words of one command (key chosen at random in the keyspace),
 * formatted by hand: the client should cost the server's cores (they
 * share the machine) as little, and as equally for both modes, as it can. */
static int command_words(struct conn *c, const char *words[3], size_t lens[3], char *key)
{
    unsigned k;
    int i;
    c->rng = c->rng * 1103515245u + 12345u;
    k = (c->rng >> 8) % (unsigned)opt.keyspace;
    memcpy(key, "key:000000000000", 16);
    for (i = 15; k && i >= 4; i--, k /= 10)
        key[i] = (char)('0' + k % 10);
    if (!strcmp(opt.cmd, "set")) {
        static char val[64];
        if (!val[0]) memset(val, 'x', (size_t)opt.size);
        words[0] = "SET", words[1] = key, words[2] = val;
        lens[0] = 3, lens[1] = 16, lens[2] = (size_t)opt.size;
        return 3;
    }
    if (!strcmp(opt.cmd, "incr")) {
        words[0] = "INCR", words[1] = "counter";
        lens[0] = 4, lens[1] = 7;
        return 2;
    }
    if (!strcmp(opt.cmd, "ping")) {
        words[0] = "PING";
        lens[0] = 4;
        return 1;
    }
    words[0] = "GET", words[1] = key;
    lens[0] = 3, lens[1] = 16;
    return 2;
}

static char *put_uint(char *p, unsigned long v)
{
    char tmp[24];
    int n = 0;
    do
        tmp[n++] = (char)('0' + v % 10);
    while ((v /= 10));
    while (n)
        *p++ = tmp[--n];
    return p;
}

static void add_request(struct conn *c)
{
    const char *words[3];
    size_t lens[3];
    char key[16];
    int n = command_words(c, words, lens, key), i;
    char buf[512], *p = buf;
    if (opt.mode == M_RESP) {
        *p++ = '*';
        *p++ = (char)('0' + n);
        *p++ = '\r', *p++ = '\n';
        for (i = 0; i < n; i++) {
            *p++ = '$';
            p = put_uint(p, lens[i]);
            *p++ = '\r', *p++ = '\n';
            memcpy(p, words[i], lens[i]);
            p += lens[i];
            *p++ = '\r', *p++ = '\n';
        }
        wput(c, buf, (size_t)(p - buf));
        return;
    }
    /* JSON in a masked text frame (requests stay under 126 bytes) */
    {
        unsigned char mask[4];
        size_t jl;
        p = buf + 6;
        if (opt.pipeline > 1) {
            memcpy(p, "{\"id\":", 6);
            p = put_uint(p + 6, (unsigned long)c->id++);
            memcpy(p, ",\"cmd\":[", 8);
            p += 8;
        } else {
            *p++ = '[';
        }
        for (i = 0; i < n; i++) {
            if (i) *p++ = ',';
            *p++ = '"';
            memcpy(p, words[i], lens[i]);
            p += lens[i];
            *p++ = '"';
        }
        *p++ = ']';
        if (opt.pipeline > 1) *p++ = '}';
        jl = (size_t)(p - buf - 6);
        c->rng = c->rng * 1103515245u + 12345u;
        memcpy(mask, &c->rng, 4);
        buf[0] = (char)0x81;
        buf[1] = (char)(0x80 | jl);
        memcpy(buf + 2, mask, 4);
        for (i = 0; i < (int)jl; i++)
            buf[6 + i] = (char)(buf[6 + i] ^ mask[i & 3]);
        wput(c, buf, jl + 6);
    }
}

/* Complete replies at the start of the read buffer; -1 on an error reply. */
static int count_replies(struct conn *c, size_t *used)
{
    size_t p = 0;
    int n = 0;
    for (;;) {
        size_t start = p;
        if (opt.mode == M_WS) {
            size_t len, hl = 2;
            unsigned char *b = (unsigned char *)c->rbuf + p;
            if (c->rlen - p < 2) break;
            len = b[1] & 0x7f;
            if (len == 126) {
                if (c->rlen - p < 4) break;
                len = (size_t)b[2] << 8 | b[3];
                hl = 4;
            } else if (len == 127) {
                if (c->rlen - p < 10) break;
                len = 0;
                for (int i = 0; i < 8; i++)
                    len = len << 8 | b[2 + i];
                hl = 10;
            }
            if (c->rlen - p < hl + len) break;
            if ((b[0] & 0x0f) == 1) {
                /* {"GET":<v>} or {"id":n,"reply":<v>}: <v> starts after the
                 * last ':' before it; an error is [false,...]. */
                const unsigned char *v = memchr(b + hl, ':', len);
                if (v && opt.pipeline > 1) v = memchr(v + 1, ':', len - (size_t)(v + 1 - b - hl));
                if (v && v + 7 <= b + hl + len && !memcmp(v + 1, "[false,", 7)) return -1;
            }
            if ((b[0] & 0x0f) == 8) return -1;
            p += hl + len;
        } else {
            char *nl = memchr(c->rbuf + p, '\n', c->rlen - p);
            if (!nl) break;
            if (c->rbuf[p] == '-') return -1;
            if (c->rbuf[p] == '$') {
                long bl = atol(c->rbuf + p + 1);
                size_t need = (size_t)(nl - c->rbuf) + 1 + (bl >= 0 ? (size_t)bl + 2 : 0);
                if (need > c->rlen) {
                    p = start;
                    break;
                }
                p = need;
            } else {
                p = (size_t)(nl - c->rbuf) + 1;
            }
        }
        n++;
    }
    *used = p;
    return n;
}

static int connect_one(void)
{
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    if (fd < 0) die("socket");
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)opt.port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) die("connect");
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (opt.mode == M_WS) {
        static const char req[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                                  "Connection: Upgrade\r\nSec-WebSocket-Key: "
                                  "dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                                  "Sec-WebSocket-Protocol: json\r\n\r\n";
        char buf[1024];
        size_t got = 0;
        if (write(fd, req, sizeof(req) - 1) != (ssize_t)(sizeof(req) - 1)) die("write");
        while (got < sizeof(buf) - 1) {
            ssize_t r = read(fd, buf + got, 1); /* byte by byte: nothing past the headers */
            if (r <= 0) die("handshake");
            got += (size_t)r;
            buf[got] = 0;
            if (got >= 4 && !memcmp(buf + got - 4, "\r\n\r\n", 4)) break;
        }
        if (strncmp(buf, "HTTP/1.1 101", 12) != 0) {
            fprintf(stderr, "handshake refused: %s\n", buf);
            exit(2);
        }
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

static void refill(struct conn *c)
{
    int k;
    for (k = 0; k < opt.pipeline && c->left > 0; k++, c->left--) {
        add_request(c);
        c->inflight++;
    }
}

static int flush_conn(struct conn *c)
{
    while (c->woff < c->wlen) {
        ssize_t w = write(c->fd, c->wbuf + c->woff, c->wlen - c->woff);
        if (w > 0) {
            c->woff += (size_t)w;
            continue;
        }
        if (w < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
        return -1;
    }
    c->wlen = c->woff = 0;
    return 0;
}

static void *run(void *arg)
{
    struct worker *w = arg;
    struct conn *cs = calloc((size_t)w->nconn, sizeof(*cs));
    struct epoll_event ev, evs[256];
    int ep = epoll_create1(0), i, active = w->nconn;
    double t0;
    for (i = 0; i < w->nconn; i++) {
        cs[i].fd = connect_one();
        cs[i].left = w->requests / w->nconn + (i < w->requests % w->nconn ? 1 : 0);
        cs[i].rng = (unsigned)(i * 7919 + 17 + (int)(uintptr_t)w % 1000);
        ev.events = EPOLLIN;
        ev.data.ptr = &cs[i];
        epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev);
    }
    t0 = now();
    for (i = 0; i < w->nconn; i++) {
        refill(&cs[i]);
        if (flush_conn(&cs[i]) != 0) die("write");
        if (cs[i].inflight == 0) active--;
    }
    while (active > 0) {
        int n = epoll_wait(ep, evs, 256, 10000);
        if (n <= 0) {
            fprintf(stderr, "ws_bench: no progress for 10 s\n");
            w->failed = 1;
            break;
        }
        for (i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            ssize_t r;
            size_t used = 0;
            int got;
            if (c->rcap - c->rlen < 65536) {
                c->rcap = c->rcap ? c->rcap * 2 : 262144;
                c->rbuf = realloc(c->rbuf, c->rcap);
            }
            r = read(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen);
            if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
                fprintf(stderr, "ws_bench: connection closed by the server\n");
                w->failed = 1;
                active = 0;
                break;
            }
            if (r < 0) continue;
            c->rlen += (size_t)r;
            got = count_replies(c, &used);
            if (got < 0) {
                fprintf(stderr, "ws_bench: error reply: %.200s\n", c->rbuf);
                w->failed = 1;
                active = 0;
                break;
            }
            memmove(c->rbuf, c->rbuf + used, c->rlen - used);
            c->rlen -= used;
            c->inflight -= got;
            w->done += got;
            if (c->inflight == 0) {
                if (c->left == 0) {
                    active--;
                    continue;
                }
                refill(c);
                if (flush_conn(c) != 0) die("write");
            }
        }
    }
    w->secs = now() - t0;
    for (i = 0; i < w->nconn; i++) {
        close(cs[i].fd);
        free(cs[i].rbuf);
        free(cs[i].wbuf);
    }
    free(cs);
    close(ep);
    return NULL;
}

int main(int argc, char **argv)
{
    struct worker *ws;
    long done = 0;
    double secs = 0;
    int i, failed = 0;
    for (i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--port"))
            opt.port = atoi(v);
        else if (!strcmp(k, "--mode"))
            opt.mode = !strcmp(v, "ws") ? M_WS : M_RESP;
        else if (!strcmp(k, "--clients"))
            opt.clients = atoi(v);
        else if (!strcmp(k, "--requests"))
            opt.requests = atol(v);
        else if (!strcmp(k, "--pipeline"))
            opt.pipeline = atoi(v);
        else if (!strcmp(k, "--threads"))
            opt.threads = atoi(v);
        else if (!strcmp(k, "--cmd"))
            opt.cmd = v;
        else if (!strcmp(k, "--keyspace"))
            opt.keyspace = atoi(v);
        else if (!strcmp(k, "--size"))
            opt.size = atoi(v);
        else {
            fprintf(stderr, "unknown option %s\n", k);
            return 2;
        }
    }
    if (!opt.port || opt.clients < 1 || opt.pipeline < 1 || opt.threads < 1 || opt.size < 1 ||
        opt.size > 60 || opt.keyspace < 1) {
        fprintf(stderr, "usage: ws_bench --port N --mode resp|ws [--clients 50] [--requests N] "
                        "[--pipeline 1] [--threads 2] [--cmd get|set|incr|ping] [--size 16]\n");
        return 2;
    }
    if (opt.threads > opt.clients) opt.threads = opt.clients;
    ws = calloc((size_t)opt.threads, sizeof(*ws));
    for (i = 0; i < opt.threads; i++) {
        ws[i].nconn = opt.clients / opt.threads + (i < opt.clients % opt.threads ? 1 : 0);
        ws[i].requests = opt.requests / opt.threads + (i < opt.requests % opt.threads ? 1 : 0);
        if (pthread_create(&ws[i].th, NULL, run, &ws[i]) != 0) die("pthread_create");
    }
    for (i = 0; i < opt.threads; i++) {
        pthread_join(ws[i].th, NULL);
        done += ws[i].done;
        if (ws[i].secs > secs) secs = ws[i].secs;
        failed |= ws[i].failed;
    }
    free(ws);
    printf("%.0f %ld %.3f\n", secs > 0 ? (double)done / secs : 0.0, done, secs);
    return failed ? 1 : 0;
}
