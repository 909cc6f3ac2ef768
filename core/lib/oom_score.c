/* oom_score.c — oom-score-adj applied to the process (oom_score.h). */
#include "oom_score.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "log.h"

#define OOM_PATH "/proc/self/oom_score_adj"

static bool (*is_replica)(void);
static bool adjusted; /* Keel changed the score: base is what it was */
static int base;
static const char *stale; /* the first oom config set by this CONFIG SET */

void oom_score_set_replica_fn(bool (*fn)(void))
{
    is_replica = fn;
}

/* The current text of a config entry. */
static void config_text(const char *name, char *buf, size_t len)
{
    const struct config_entry *e = config_find(name, strlen(name));
    buf[0] = 0;
    if (e) config_get_text(e, buf, len);
}

bool oom_score_update(int klass)
{
    char mode[32], vals[64], buf[64];
    int v[3] = {0, 0, 0}, val, fd;
    ssize_t n;
    if (klass < 0) klass = is_replica && is_replica() ? OOM_REPLICA : OOM_PRIMARY;
    config_text("oom-score-adj", mode, sizeof(mode));
    config_text("oom-score-adj-values", vals, sizeof(vals));
    if (strcasecmp(mode, "no") != 0) {
        if (!adjusted) {
            /* the score before Keel first changes it, to restore */
            fd = open(OOM_PATH, O_RDONLY);
            if (fd < 0 || (n = read(fd, buf, sizeof(buf) - 1)) < 0) {
                log_warning("Unable to read oom_score_adj: %s", strerror(errno));
                if (fd >= 0) close(fd);
                return false;
            }
            buf[n] = 0;
            close(fd);
            adjusted = true;
            base = atoi(buf);
        }
        sscanf(vals, "%d %d %d", &v[0], &v[1], &v[2]);
        val = v[klass];
        if (strcasecmp(mode, "absolute") != 0) val += base; /* yes, relative */
        if (val > 1000) val = 1000;
        if (val < -1000) val = -1000;
    } else if (adjusted) {
        adjusted = false;
        val = base;
    } else {
        return true;
    }
    snprintf(buf, sizeof(buf), "%d\n", val);
    fd = open(OOM_PATH, O_WRONLY);
    if (fd < 0 || write(fd, buf, strlen(buf)) < 0) {
        log_warning("Unable to write oom_score_adj: %s", strerror(errno));
        if (fd >= 0) close(fd);
        return false;
    }
    close(fd);
    return true;
}

void oom_score_mark(const char *name)
{
    if (!stale) stale = name;
}

const char *oom_score_commit(const char **name)
{
    const char *first = stale;
    if (!first) return NULL;
    stale = NULL;
    if (oom_score_update(-1)) return NULL;
    *name = first;
    return "Failed to set current oom_score_adj. Check server logs.";
}
