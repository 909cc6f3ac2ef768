/* log.h — the server log (log.c), as Redis writes it: one line per message,
 * "pid:role dd Mon yyyy hh:mm:ss.mmm <level> text", levels debug (.),
 * verbose (-), notice (*) and warning (#) filtered by `loglevel`, written to
 * `logfile` (empty: standard output). */
#ifndef KEEL_LOG_H
#define KEEL_LOG_H

/* The order of config's loglevel names. */
enum log_level { LL_DEBUG = 0, LL_VERBOSE, LL_NOTICE, LL_WARNING };

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The role letter of the lines this process writes: 'M' (the server), 'C'
 * (a forked persistence child). */
void log_set_role(char role);
/* From a signal handler (async-signal-safe: no stdio, no allocation), as
 * Redis's serverLogFromHandler: "pid:signal-handler (unix time) text". */
void log_from_handler(const char *text);

#define log_debug(...) log_msg(LL_DEBUG, __VA_ARGS__)
#define log_verbose(...) log_msg(LL_VERBOSE, __VA_ARGS__)
#define log_notice(...) log_msg(LL_NOTICE, __VA_ARGS__)
#define log_warning(...) log_msg(LL_WARNING, __VA_ARGS__)

#endif
