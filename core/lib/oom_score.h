/* oom_score.h — oom-score-adj (oom_score.c), as Redis 7.0's
 * setOOMScoreAdj: while oom-score-adj is yes/relative the process's
 * /proc/self/oom_score_adj is the value of its class (oom-score-adj-values:
 * primary, replica, background child) added to the score it had before
 * Keel first changed it; absolute: the value itself; no: that score back. */
#ifndef KEEL_OOM_SCORE_H
#define KEEL_OOM_SCORE_H

#include <stdbool.h>

enum { OOM_PRIMARY = 0, OOM_REPLICA = 1, OOM_BGCHILD = 2 };

/* Apply the class's score (-1: primary or replica, as the server is now).
 * False when /proc/self/oom_score_adj could not be read or written (logged). */
bool oom_score_update(int klass);
/* Whether the server is a replica now (server/main.c sets it). */
void oom_score_set_replica_fn(bool (*fn)(void));
/* The config setters of oom-score-adj and oom-score-adj-values mark a
 * change; the commit (registered for CONFIG SET) applies it once per
 * command and names the first of the two that was set when it fails. */
void oom_score_mark(const char *name);
const char *oom_score_commit(const char **name);

#endif
