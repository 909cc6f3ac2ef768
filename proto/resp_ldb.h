/* resp_ldb.h — the Lua debugger's request reader (Redis 7.0's LDB reads
 * its commands with a lenient parser of its own, not the client's: a
 * multibulk of 1..1024 bulk strings of 1..1024 bytes each; bytes before
 * the first '*' are skipped; anything else is a protocol error). */
#ifndef KEEL_RESP_LDB_H
#define KEEL_RESP_LDB_H

#include <stddef.h>

#define RESP_LDB_MAX_ARGS 1024
#define RESP_LDB_MAX_ARG 1024

enum resp_ldb_result {
    RESP_LDB_MORE = 0, /* incomplete (or empty): read more */
    RESP_LDB_OK = 1,   /* one request parsed */
    RESP_LDB_ERROR = -1,
};

/* Parse one request at the start of buf[0..n). OK: *argc words in *argv,
 * each malloc'd and NUL-terminated (lens in *lens), freed with
 * resp_ldb_free. */
enum resp_ldb_result resp_ldb_parse(const char *buf, size_t n, int *argc, char ***argv,
                                    size_t **lens);
void resp_ldb_free(int argc, char **argv, size_t *lens);

#endif
