/* fuzz_rdb_image.c — libFuzzer target for whole RDB images
 * (rdb_load_buffer, core/persist/rdb_load.c): what a replica receives from
 * its primary, what DEBUG RELOAD and start-up read. The header and
 * version, aux fields (the replication ones), SELECTDB, RESIZEDB, the
 * expiry, LRU and LFU opcodes, function libraries (FUNCTION2), the module
 * opcodes Keel refuses, every value type, and the CRC64 trailer (checked on
 * odd-sized inputs, skipped on even ones so the fuzzer gets past it).
 *
 * Nothing may crash or leak; a refused image says why in one line. An
 * image loaded whole is saved again (rdb_save_fd) and that image loads
 * into an empty store with the same DEBUG DIGEST; every key then answers
 * DEBUG DIGEST-VALUE. Every third input goes through rdb_load_stream in
 * uneven pieces into a side set (a replica's swapdb load as the payload
 * arrives) instead, and the side set is freed.
 * FUZZ_VERBOSE=1 in the environment prints each load's outcome. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_util.h"

#include "client.h"
#include "config.h"
#include "core_init.h"
#include "function.h"
#include "kernel.h"
#include "rdb.h"
#include "rdb_stream.h"
#include "rec_sink.h"
#include "store.h"

static struct rec_sink sink;
static struct client *cli;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fuzz_config_defaults();
    CHECK(config_set("enable-debug-command", "yes", true) == NULL);
    core_init(16);
    cli = client_new(NULL, &sink, &rec_sink_ops);
    return 0;
}

static int run(int argc, const char *const *words)
{
    struct argv_ref argv[4];
    int i;
    for (i = 0; i < argc; i++) {
        argv[i].p = words[i];
        argv[i].n = strlen(words[i]);
    }
    rec_sink_reset(&sink);
    kernel_submit(cli, argc, argv);
    return sink.nerr;
}

static void digest(char *out, size_t n)
{
    static const char *const w[] = {"DEBUG", "DIGEST"};
    CHECK(run(2, w) == 0);
    snprintf(out, n, "%s", sink.out);
}

static void clear(void)
{
    static const char *const w[] = {"FLUSHALL"};
    CHECK(run(1, w) == 0);
    function_flush();
}

/* Every key of every database answers TYPE and DEBUG DIGEST-VALUE. */
static void touch_all(void)
{
    int d;
    for (d = 0; d < 16; d++) {
        char sel[8];
        const char *w[3] = {"SELECT", sel, NULL};
        snprintf(sel, sizeof(sel), "%d", d);
        CHECK(run(2, w) == 0);
        w[0] = "RANDOMKEY";
        run(1, w);
        if (sink.out[0] == '"') {
            char key[256];
            size_t n = strlen(sink.out);
            if (n >= 2 && n - 2 < sizeof(key)) {
                memcpy(key, sink.out + 1, n - 2);
                key[n - 2] = 0;
                w[0] = "TYPE";
                w[1] = key;
                run(2, w);
            }
        }
    }
    {
        const char *w[] = {"SELECT", "0"};
        CHECK(run(2, w) == 0);
    }
}

/* The image handed to the streaming loader in uneven pieces. */
struct feed {
    const uint8_t *p;
    size_t n, off;
};

static long feed_read(void *ctx, void *buf, size_t n)
{
    struct feed *f = ctx;
    size_t piece = (f->off * 7 + 3) % 61 + 1;
    if (f->off >= f->n) return 0;
    if (piece > n) piece = n;
    if (piece > f->n - f->off) piece = f->n - f->off;
    memcpy(buf, f->p + f->off, piece);
    f->off += piece;
    return (long)piece;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512] = "";
    size_t used = 0;
    bool ok;
    rdb_skip_checksum_validation = !(size & 1);
    if (size % 3 == 0) {
        struct feed f = {data, size, 0};
        struct rdb_stream_src src = {feed_read, &f, NULL, 0, (long long)size, NULL};
        struct rdb_side side = {store_side_new(), NULL, 0};
        unsigned char *rest = NULL;
        size_t nrest = 0;
        ok = rdb_load_stream(&src, &side, &rest, &nrest, err, sizeof(err));
        CHECK(ok || (err[0] && !strchr(err, '\n')));
        CHECK(nrest == 0);
        free(rest);
        store_side_free(side.dbs, false);
        rdb_side_functions_free(&side);
        rdb_skip_checksum_validation = 0;
        return 0;
    }
    ok = rdb_load_buffer(data, size, &used, err, sizeof(err));
    CHECK(used <= size);
    if (getenv("FUZZ_VERBOSE")) fprintf(stderr, "load: %s\n", ok ? "ok" : err);
    if (!ok) {
        CHECK(err[0] && !strchr(err, '\n'));
    } else {
        char d1[64], d2[64];
        int fd = memfd_create("rdb", 0);
        off_t len;
        unsigned char *img;
        CHECK(fd >= 0);
        touch_all();
        digest(d1, sizeof(d1));
        CHECK(rdb_save_fd(fd, err, sizeof(err)));
        len = lseek(fd, 0, SEEK_END);
        CHECK(len > 0);
        img = malloc((size_t)len);
        CHECK(pread(fd, img, (size_t)len, 0) == len);
        close(fd);
        clear();
        rdb_skip_checksum_validation = 0;
        ok = rdb_load_buffer(img, (size_t)len, &used, err, sizeof(err));
        if (!ok) fprintf(stderr, "reload: %s\n", err);
        CHECK(ok && used == (size_t)len);
        digest(d2, sizeof(d2));
        CHECK(strcmp(d1, d2) == 0);
        free(img);
    }
    rdb_skip_checksum_validation = 0;
    clear();
    return 0;
}
