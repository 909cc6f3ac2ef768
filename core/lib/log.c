/* log.c — the one logger (log.h). The file is opened and closed around each
 * line, as Redis does, so a rotated log file is picked up at once. */
#include "log.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
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

/* Decimal digits of v at the end of buf[0..n): returns where they start. */
static char *digits(char *buf, size_t n, unsigned long long v)
{
    char *p = buf + n;
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v && p > buf);
    return p;
}

void log_from_handler(const char *text)
{
    const char *path = g_config.logfile;
    char num[24], *d;
    int fd = path && path[0] ? open(path, O_APPEND | O_CREAT | O_WRONLY, 0644) : STDOUT_FILENO;
    ssize_t w = 0;
    if (fd < 0 || g_config.loglevel > LL_WARNING) {
        if (fd > STDOUT_FILENO) close(fd);
        return;
    }
    d = digits(num, sizeof(num), (unsigned long long)getpid());
    w += write(fd, d, (size_t)(num + sizeof(num) - d));
    w += write(fd, ":signal-handler (", 17);
    d = digits(num, sizeof(num), (unsigned long long)time(NULL));
    w += write(fd, d, (size_t)(num + sizeof(num) - d));
    w += write(fd, ") ", 2);
    w += write(fd, text, strlen(text));
    w += write(fd, "\n", 1);
    (void)w;
    if (fd != STDOUT_FILENO) close(fd);
}
