/* resp_parse.h — the RESP request parser: multibulk (RESP2/RESP3 clients
 * send arrays of bulk strings) and inline commands, incremental (it resumes
 * where the previous call stopped, so a large command arriving in many
 * reads is not re-parsed), zero-copy for multibulk (argv points into the
 * caller's buffer), with Redis's limits and exact protocol-error texts.
 * Pure: no sockets, no allocation per command in the steady state. */
#ifndef KEEL_RESP_PARSE_H
#define KEEL_RESP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "registry.h" /* struct argv_ref */

#define RESP_INLINE_MAX (64 * 1024)

enum resp_result {
    RESP_MORE = 0, /* incomplete: call again with the same bytes and more */
    RESP_CMD,      /* a command: *argc / *argv valid until the next call */
    RESP_EMPTY,    /* an empty command (blank line, *0, *-1) was consumed */
    RESP_ERROR,    /* protocol error: p->err holds "Protocol error: ..." */
};

struct resp_parser {
    long long max_bulk;      /* proto-max-bulk-len */
    long long max_multibulk; /* most arguments in one command */
    bool authenticated;      /* false: Redis's tighter unauthenticated limits */
    /* progress through the current command; offsets relative to its start */
    char type; /* 0: not started, '*': multibulk */
    long long need;
    long long bulklen;
    size_t pos;
    int argc, cap;
    size_t *offs, *lens;
    struct argv_ref *argv;
    /* inline words (they may be unescaped, so they are copies) */
    char **words;
    size_t *wlens;
    int nwords;
    char err[128];
};

void resp_parser_init(struct resp_parser *p, long long max_bulk, long long max_multibulk);
void resp_parser_free(struct resp_parser *p);
/* Parse from buf (which starts at the current command). On RESP_CMD and
 * RESP_EMPTY, *consumed is the command's byte length. */
enum resp_result resp_parse(struct resp_parser *p, const char *buf, size_t len, int *argc,
                            struct argv_ref **argv, size_t *consumed);
/* Whether the command resp_parse just returned (RESP_CMD, argc/argv, cmd
 * where it began) is a multibulk in canonical form, its bytes exactly what
 * formatting argv as a RESP2 multibulk gives: the parser accepts, as
 * Redis, any byte after a header's \r and any two after a bulk, and
 * refuses signs and leading zeros in lengths, so only those bytes are
 * looked at. False for inline commands (their argv are copies). For
 * propagation (client.h's wire), on demand: parsing pays nothing. */
static inline bool resp_parse_canonical(const char *cmd, int argc, const struct argv_ref *argv)
{
    int i, digits = 1, n = argc;
    if (cmd[0] != '*' || argc <= 0) return false;
    while (n >= 10) {
        n /= 10;
        digits++;
    }
    /* "*<argc>\r\n": the '\r' was found, the byte after it skipped */
    if (cmd[1 + digits + 1] != '\n') return false;
    for (i = 0; i < argc; i++) {
        const char *a = argv[i].p;
        /* "$<len>\r\n" before the bulk, "\r\n" after it */
        if (a[-1] != '\n' || memcmp(a + argv[i].n, "\r\n", 2) != 0) return false;
    }
    return true;
}
/* How many bytes the command in progress needs in total (from its start)
 * at least, to size the read buffer; 0 when unknown. */
size_t resp_parse_hint(const struct resp_parser *p);

#endif
