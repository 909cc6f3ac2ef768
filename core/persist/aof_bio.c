/* aof_bio.c — the AOF's background fsync thread (aof_bio.h): a small queue
 * of fdatasync jobs (optionally closing the file after), the errno of the
 * last failed one, and whether a job is pending or running. */
#include "aof_bio.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

static pthread_t bio_thread;
static pthread_mutex_t bio_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t bio_cv = PTHREAD_COND_INITIALIZER;
static struct bio_job {
    int fd;
    bool close_after;
} bio_q[64];
static int bio_n;
static bool bio_started;
static volatile int bio_fsync_err; /* errno of a failed background fsync, 0 = ok */
static volatile int bio_busy;

static void *bio_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&bio_mu);
    for (;;) {
        struct bio_job j;
        while (bio_n == 0)
            pthread_cond_wait(&bio_cv, &bio_mu);
        j = bio_q[0];
        memmove(&bio_q[0], &bio_q[1], sizeof(bio_q[0]) * (size_t)(bio_n - 1));
        bio_n--;
        bio_busy = 1;
        pthread_mutex_unlock(&bio_mu);
        if (fdatasync(j.fd) == -1 && errno != EBADF && errno != EINVAL) {
            bio_fsync_err = errno;
        } else if (!j.close_after) {
            bio_fsync_err = 0;
        }
        if (j.close_after) close(j.fd);
        pthread_mutex_lock(&bio_mu);
        bio_busy = 0;
    }
    return NULL;
}

/* The fsync thread starts with the log, not at its first job: a thread
 * still starting up (allocating) when a rewrite forks leaves the child
 * with the allocator locked under ASan, whose allocator is not fork-safe. */
bool aof_bio_start(void)
{
    if (bio_started) return true;
    if (pthread_create(&bio_thread, NULL, bio_main, NULL) != 0) return false;
    pthread_detach(bio_thread);
    bio_started = true;
    return true;
}

void aof_bio_submit(int fd, bool close_after)
{
    if (!aof_bio_start()) {
        fdatasync(fd);
        if (close_after) close(fd);
        return;
    }
    pthread_mutex_lock(&bio_mu);
    if (bio_n == (int)(sizeof(bio_q) / sizeof(bio_q[0]))) {
        pthread_mutex_unlock(&bio_mu);
        fdatasync(fd);
        if (close_after) close(fd);
        return;
    }
    bio_q[bio_n].fd = fd;
    bio_q[bio_n].close_after = close_after;
    bio_n++;
    pthread_cond_signal(&bio_cv);
    pthread_mutex_unlock(&bio_mu);
}

bool aof_bio_pending(void)
{
    bool p;
    pthread_mutex_lock(&bio_mu);
    p = bio_n > 0 || bio_busy;
    pthread_mutex_unlock(&bio_mu);
    return p;
}

int aof_bio_error(void)
{
    return bio_fsync_err;
}
