/* log.c — the one logger (log.h). The file is opened and closed around each
 * line, as Redis does, so a rotated log file is picked up at once. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "config.h"

static char role = 'M';

void log_set_role(char r)
{
    role = r;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    static const char marks[] = ".-*#";
    const char *path = g_config.logfile;
    char msg[1024], when[64];
    struct timeval tv;
    struct tm tm;
    size_t off;
    va_list ap;
    FILE *f;
    if ((int)level < g_config.loglevel) return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    gettimeofday(&tv, NULL);
    localtime_r(&tv.tv_sec, &tm);
    off = strftime(when, sizeof(when), "%d %b %Y %H:%M:%S.", &tm);
    snprintf(when + off, sizeof(when) - off, "%03d", (int)(tv.tv_usec / 1000));
    f = path && path[0] ? fopen(path, "a") : stdout;
    if (!f) return;
    fprintf(f, "%d:%c %s %c %s\n", (int)getpid(), role, when, marks[level], msg);
    fflush(f);
    if (f != stdout) fclose(f);
}
