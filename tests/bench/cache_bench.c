/* cache_bench.c — the cache workload of scripts/bench --cache: T threads,
 * each with one RESP connection, read keys chosen with a Zipf skew
 * (exponent s over K keys, key:<rank>) in pipelines of P GETs; every GET
 * that misses is followed by a SET of the key (read-through caching), in
 * the next pipeline. The server's maxmemory policy decides what stays.
 *
 *   cache_bench --port N [--threads 4] [--requests 400000] [--pipeline 16]
 *               [--keys 200000] [--size 100] [--zipf 0.99] [--seed 1]
 *
 * Prints one line: "<gets/s> <gets> <hits> <misses> <seconds>". Exits
 * non-zero if a connection fails or a reply is an error other than nil. */
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int port, threads = 4, pipeline = 16, size = 100;
static long requests = 400000, keys = 200000;
static double zipf = 0.99;
static unsigned long long seed = 1;
static double *cdf; /* cdf[i]: probability of ranks 0..i */

struct worker {
    pthread_t tid;
    int fd;
    uint64_t rng;
    long gets, hits, misses;
    char *in;
    size_t inlen, incap;
};

static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

static long pick(struct worker *w)
{
    double u = (double)(next_rand(&w->rng) >> 11) / 9007199254740992.0;
    long lo = 0, hi = keys - 1;
    while (lo < hi) {
        long mid = (lo + hi) / 2;
        if (cdf[mid] < u)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static void send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t k = write(fd, p, n);
        if (k <= 0) die("write");
        p += k;
        n -= (size_t)k;
    }
}

/* Read one reply: 1 for a bulk (hit), 0 for nil, 2 for +OK. */
static int read_reply(struct worker *w)
{
    for (;;) {
        char *nl = w->inlen ? memchr(w->in, '\n', w->inlen) : NULL;
        if (nl) {
            size_t line = (size_t)(nl - w->in) + 1, need = line;
            long blen;
            int kind;
            if (w->in[0] == '+') {
                kind = 2;
            } else if (w->in[0] == '$') {
                blen = strtol(w->in + 1, NULL, 10);
                if (blen < 0) {
                    kind = 0;
                } else {
                    need = line + (size_t)blen + 2;
                    kind = 1;
                }
            } else {
                fprintf(stderr, "unexpected reply: %.*s\n", (int)line, w->in);
                exit(1);
            }
            if (w->inlen >= need) {
                memmove(w->in, w->in + need, w->inlen - need);
                w->inlen -= need;
                return kind;
            }
        }
        if (w->incap - w->inlen < 65536) {
            w->incap = w->incap * 2 + 65536;
            w->in = realloc(w->in, w->incap);
        }
        {
            ssize_t k = read(w->fd, w->in + w->inlen, w->incap - w->inlen);
            if (k <= 0) die("read");
            w->inlen += (size_t)k;
        }
    }
}

static void *run(void *arg)
{
    struct worker *w = arg;
    long per = requests / threads, done = 0;
    long *batch = malloc(sizeof(long) * (size_t)pipeline);
    long *miss = malloc(sizeof(long) * (size_t)pipeline);
    char *out = malloc((size_t)pipeline * (size_t)(size + 128));
    char *val = malloc((size_t)size);
    memset(val, 'v', (size_t)size);
    while (done < per) {
        int n = (int)(per - done < pipeline ? per - done : pipeline), i, nmiss = 0;
        size_t o = 0;
        for (i = 0; i < n; i++) {
            char key[32];
            int kl;
            batch[i] = pick(w);
            kl = snprintf(key, sizeof(key), "key:%ld", batch[i]);
            o += (size_t)sprintf(out + o, "*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n", kl, key);
        }
        send_all(w->fd, out, o);
        for (i = 0; i < n; i++) {
            if (read_reply(w) == 1) {
                w->hits++;
            } else {
                w->misses++;
                miss[nmiss++] = batch[i];
            }
        }
        if (nmiss) {
            o = 0;
            for (i = 0; i < nmiss; i++) {
                char key[32];
                int kl = snprintf(key, sizeof(key), "key:%ld", miss[i]);
                o += (size_t)sprintf(out + o, "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n", kl, key,
                                     size);
                memcpy(out + o, val, (size_t)size);
                o += (size_t)size;
                memcpy(out + o, "\r\n", 2);
                o += 2;
            }
            send_all(w->fd, out, o);
            for (i = 0; i < nmiss; i++)
                read_reply(w);
        }
        w->gets += n;
        done += n;
    }
    free(batch);
    free(miss);
    free(out);
    free(val);
    return NULL;
}

int main(int argc, char **argv)
{
    struct worker *ws;
    struct timespec t0, t1;
    long gets = 0, hits = 0, misses = 0, i;
    double sum = 0, secs;
    for (i = 1; i + 1 < argc; i += 2) {
        const char *o = argv[i], *v = argv[i + 1];
        if (!strcmp(o, "--port"))
            port = atoi(v);
        else if (!strcmp(o, "--threads"))
            threads = atoi(v);
        else if (!strcmp(o, "--requests"))
            requests = atol(v);
        else if (!strcmp(o, "--pipeline"))
            pipeline = atoi(v);
        else if (!strcmp(o, "--keys"))
            keys = atol(v);
        else if (!strcmp(o, "--size"))
            size = atoi(v);
        else if (!strcmp(o, "--zipf"))
            zipf = atof(v);
        else if (!strcmp(o, "--seed"))
            seed = strtoull(v, NULL, 10);
        else {
            fprintf(stderr, "unknown option %s\n", o);
            return 2;
        }
    }
    if (!port || threads < 1 || pipeline < 1 || keys < 1 || size < 1) {
        fprintf(stderr, "usage: cache_bench --port N [options]\n");
        return 2;
    }
    cdf = malloc(sizeof(double) * (size_t)keys);
    for (i = 0; i < keys; i++)
        sum += 1.0 / pow((double)(i + 1), zipf);
    for (i = 0; i < keys; i++)
        cdf[i] = (i ? cdf[i - 1] : 0) + 1.0 / pow((double)(i + 1), zipf) / sum;
    ws = calloc((size_t)threads, sizeof(*ws));
    for (i = 0; i < threads; i++) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        int one = 1;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ws[i].fd = socket(AF_INET, SOCK_STREAM, 0);
        if (ws[i].fd < 0 || connect(ws[i].fd, (struct sockaddr *)&a, sizeof(a)) != 0)
            die("connect");
        setsockopt(ws[i].fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        ws[i].rng = (seed + 1) * 0x9E3779B97F4A7C15ULL + (unsigned long long)i * 7919 + 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (i = 0; i < threads; i++)
        pthread_create(&ws[i].tid, NULL, run, &ws[i]);
    for (i = 0; i < threads; i++) {
        pthread_join(ws[i].tid, NULL);
        gets += ws[i].gets;
        hits += ws[i].hits;
        misses += ws[i].misses;
        close(ws[i].fd);
        free(ws[i].in);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("%.0f %ld %ld %ld %.3f\n", (double)gets / secs, gets, hits, misses, secs);
    free(ws);
    free(cdf);
    return 0;
}
