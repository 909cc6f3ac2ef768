/* aof_bio.h — the AOF's background fsync thread (appendfsync everysec, and
 * closing rewritten files off the main thread). */
#ifndef KEEL_AOF_BIO_H
#define KEEL_AOF_BIO_H

#include <stdbool.h>

/* Start the thread (idempotent). It starts with the log, before any
 * rewrite can fork. False if it cannot be created. */
bool aof_bio_start(void);
/* fdatasync fd in the background (then close it if close_after); done
 * inline when the thread or the queue is not available. */
void aof_bio_submit(int fd, bool close_after);
/* A job is queued or running. */
bool aof_bio_pending(void);
/* errno of the last failed background fsync (0: the last one succeeded). */
int aof_bio_error(void);

#endif
