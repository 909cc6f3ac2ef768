/* test_registry.c — unit tests for schemas/registry.c: command resolution
 * and its errors, the argument matcher (SET's options in any order, oneof
 * conflicts, structure errors before value errors, multiple arguments'
 * count/list, keel_error / keel_syntax_error / keel_multi_choice) and key
 * extraction from key specs. Error texts are redis-server 7.0.15's.
 * The commands' real handlers come from the core library. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "commands_gen.h"
#include "kernel.h"
#include "util.h"
#include "registry.h"
#include "rec_sink.h"
#include "store.h"
#include "unit.h"

/* ---- running one command line through resolve + match ---- */

struct run {
    struct rec_sink rec; /* records errors and counts everything else */
    struct reply reply;
    int argc;
    char **words;
    size_t *lens;
    struct argv_ref argv[64];
    struct argval args[MAX_SLOTS];
    const struct command *cmd;
    bool resolved, matched;
};

static void run_free(struct run *x)
{
    util_free_words(x->words, x->lens, x->argc);
}

/* Split line as redis-cli would, resolve and match it. */
static void run(struct run *x, const char *line)
{
    int i;
    memset(x, 0, sizeof(*x));
    x->reply.ops = &rec_sink_ops;
    x->reply.ctx = &x->rec;
    x->reply.resp = 2;
    x->argc = util_split_args(line, strlen(line), &x->words, &x->lens);
    ck_assert_msg(x->argc > 0 && x->argc <= 64, "bad test line [%s]", line);
    for (i = 0; i < x->argc; i++) {
        x->argv[i].p = x->words[i];
        x->argv[i].n = x->lens[i];
    }
    x->cmd = registry_resolve(x->argc, x->argv, &x->reply);
    x->resolved = x->cmd != NULL;
    if (x->resolved) {
        ck_assert_int_le(x->cmd->nslots, MAX_SLOTS);
        x->matched = registry_match(x->cmd, x->argc, x->argv, x->args, &x->reply);
    }
    /* exactly one error on failure, none on success, nothing else ever */
    ck_assert_int_eq(x->rec.nerr, x->resolved && x->matched ? 0 : 1);
    ck_assert_int_eq(x->rec.nother, 0);
    ck_assert_uint_eq(x->reply.nerr, (unsigned)x->rec.nerr);
}

static void expect_ok(const char *line, struct run *x)
{
    run(x, line);
    ck_assert_msg(x->resolved && x->matched, "[%s] failed: %s", line, x->rec.err);
}

static void expect_err(const char *line, const char *err)
{
    struct run x;
    run(&x, line);
    ck_assert_msg(!(x.resolved && x.matched), "[%s] matched, expected \"%s\"", line, err);
    ck_assert_msg(strcmp(x.rec.err, err) == 0, "[%s]: got \"%s\", Redis says \"%s\"", line,
                  x.rec.err, err);
    run_free(&x);
}

/* line matches, with err kept in slot's .err for the handler (arg_ok). */
static void expect_deferred(const char *line, int slot, const char *err)
{
    struct run x;
    expect_ok(line, &x);
    ck_assert_msg(x.args[slot].err != NULL, "[%s]: no deferred error", line);
    ck_assert_msg(strcmp(x.args[slot].err, err) == 0, "[%s]: deferred \"%s\", want \"%s\"", line,
                  x.args[slot].err, err);
    run_free(&x);
}

/* The word at a slot's position. */
static const char *word_at(struct run *x, int slot)
{
    ck_assert(x->args[slot].present);
    ck_assert_int_lt(x->args[slot].pos, x->argc);
    return x->words[x->args[slot].pos];
}

/* ---- resolution ---- */

START_TEST(resolve_ok)
{
    struct run x;
    expect_ok("get k", &x);
    ck_assert_str_eq(x.cmd->fullname, "get");
    run_free(&x);
    expect_ok("GeT k", &x);
    ck_assert_str_eq(x.cmd->name, "get");
    run_free(&x);
    expect_ok("object encoding k", &x);
    ck_assert_str_eq(x.cmd->fullname, "object|encoding");
    ck_assert_ptr_nonnull(x.cmd->parent);
    ck_assert_str_eq(x.cmd->parent->name, "object");
    run_free(&x);
    expect_ok("OBJECT ENCODING k", &x);
    ck_assert_str_eq(x.cmd->fullname, "object|encoding");
    run_free(&x);

    ck_assert_ptr_nonnull(registry_lookup("SET", 3));
    ck_assert_ptr_nonnull(registry_lookup("set", 3));
    ck_assert_ptr_null(registry_lookup("se", 2));
    ck_assert_ptr_null(registry_lookup("sett", 4));
    ck_assert_ptr_nonnull(registry_lookup_sub(registry_lookup("object", 6), "Encoding", 8));
    ck_assert_ptr_null(registry_lookup_sub(registry_lookup("object", 6), "nope", 4));
}
END_TEST

START_TEST(resolve_errors)
{
    expect_err("foo a b", "ERR unknown command 'foo', with args beginning with: 'a' 'b' ");
    expect_err("foo", "ERR unknown command 'foo', with args beginning with: ");
    expect_err("object foo", "ERR unknown subcommand 'foo'. Try OBJECT HELP.");
    expect_err("Object foo bar", "ERR unknown subcommand 'foo'. Try OBJECT HELP.");
    expect_err("object encoding", "ERR wrong number of arguments for 'object|encoding' command");
    expect_err("object encoding a b",
               "ERR wrong number of arguments for 'object|encoding' command");
    expect_err("object", "ERR wrong number of arguments for 'object' command");
    expect_err("get", "ERR wrong number of arguments for 'get' command");
    expect_err("GET a b", "ERR wrong number of arguments for 'get' command");
    expect_err("set k", "ERR wrong number of arguments for 'set' command");
    expect_err("del", "ERR wrong number of arguments for 'del' command");
    expect_err("mset k", "ERR wrong number of arguments for 'mset' command");
}
END_TEST

START_TEST(resolve_long_words_clipped)
{
    /* Redis prints at most 128 bytes of the name, and the arguments until
     * 128 bytes of them are shown ('%.*s' with what is left). */
    char line[1024], want[1024], x200[201], y50[51];
    memset(x200, 'x', 200);
    x200[200] = 0;
    memset(y50, 'y', 50);
    y50[50] = 0;
    snprintf(line, sizeof(line), "%s %s", x200, y50);
    snprintf(want, sizeof(want), "ERR unknown command '%.128s', with args beginning with: '%s' ",
             x200, y50);
    expect_err(line, want);
    snprintf(line, sizeof(line), "foo %s b", x200);
    snprintf(want, sizeof(want), "ERR unknown command 'foo', with args beginning with: '%.128s' ",
             x200);
    expect_err(line, want);
    snprintf(line, sizeof(line), "foo %s %s c", y50, x200);
    snprintf(want, sizeof(want),
             "ERR unknown command 'foo', with args beginning with: '%s' '%.75s' ", y50, x200);
    expect_err(line, want);
    snprintf(line, sizeof(line), "object %s", x200);
    snprintf(want, sizeof(want), "ERR unknown subcommand '%.128s'. Try OBJECT HELP.", x200);
    expect_err(line, want);
}
END_TEST

START_TEST(registered_commands_resolve)
{
    int i, n = 0;
    for (i = 0; registry_commands[i]; i++) {
        struct command *c = registry_commands[i];
        size_t len = strlen(c->name);
        if (!c->fn && c->nsub == 0) {
            ck_assert_ptr_null(registry_lookup(c->name, len));
            continue;
        }
        n++;
        ck_assert_ptr_eq(registry_lookup(c->name, len), c);
        ck_assert_int_le(c->nslots, MAX_SLOTS);
    }
    ck_assert_int_eq(n, registry_count());
    ck_assert_int_eq(i, registry_ncommands);
}
END_TEST

/* ---- SET ---- */

START_TEST(set_plain)
{
    struct run x;
    expect_ok("SET k v", &x);
    ck_assert_str_eq(word_at(&x, A_SET_key), "k");
    ck_assert_str_eq(word_at(&x, A_SET_value), "v");
    ck_assert(!x.args[A_SET_condition].present);
    ck_assert(!x.args[A_SET_get].present);
    ck_assert(!x.args[A_SET_expiration].present);
    run_free(&x);
    /* values that look like tokens are values */
    expect_ok("SET NX EX", &x);
    ck_assert_str_eq(word_at(&x, A_SET_key), "NX");
    ck_assert_str_eq(word_at(&x, A_SET_value), "EX");
    ck_assert(!x.args[A_SET_condition].present);
    ck_assert(!x.args[A_SET_expiration].present);
    run_free(&x);
}
END_TEST

START_TEST(set_options_any_order)
{
    static const struct {
        const char *line;
        int cond; /* -1 none, 0 NX, 1 XX */
        bool get;
        int exp; /* -1 none, 0 EX 1 PX 2 EXAT 3 PXAT 4 KEEPTTL */
        long long val;
    } cases[] = {
        {"SET k v NX", 0, false, -1, 0},
        {"SET k v xx", 1, false, -1, 0},
        {"SET k v GET", -1, true, -1, 0},
        {"SET k v EX 10", -1, false, 0, 10},
        {"SET k v XX GET EX 10", 1, true, 0, 10},
        {"SET k v EX 10 GET XX", 1, true, 0, 10},
        {"SET k v GET EX 10 XX", 1, true, 0, 10},
        {"SET k v get px 100 nx", 0, true, 1, 100},
        {"SET k v Px 100", -1, false, 1, 100},
        {"SET k v EXAT 1700000000 XX", 1, false, 2, 1700000000LL},
        {"SET k v PXAT 1700000000000 GET", -1, true, 3, 1700000000000LL},
        {"SET k v KEEPTTL NX GET", 0, true, 4, 0},
        {"SET k v GET KEEPTTL", -1, true, 4, 0},
        {"SET k v NX GET KEEPTTL", 0, true, 4, 0},
        /* the same token again: the last one wins (Redis accepts these) */
        {"SET k v EX 10 EX 20", -1, false, 0, 20},
        {"SET k v EX abc EX 10", -1, false, 0, 10}, /* only the surviving value is parsed */
        {"SET k v NX NX", 0, false, -1, 0},
        {"SET k v GET GET", -1, true, -1, 0},
        {"SET k v KEEPTTL KEEPTTL", -1, false, 4, 0},
        /* range checks are the handler's ("invalid expire time") */
        {"SET k v PX -5", -1, false, 1, -5},
        {"SET k v EX 0", -1, false, 0, 0},
        {"SET k v EX 9223372036854775807", -1, false, 0, 9223372036854775807LL},
    };
    static const int exp_slots[] = {
        A_SET_expiration_seconds, A_SET_expiration_milliseconds, A_SET_expiration_unix_time_seconds,
        A_SET_expiration_unix_time_milliseconds, A_SET_expiration_keepttl};
    size_t i;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct run x;
        expect_ok(cases[i].line, &x);
        ck_assert_str_eq(word_at(&x, A_SET_key), "k");
        ck_assert_str_eq(word_at(&x, A_SET_value), "v");
        ck_assert_msg(x.args[A_SET_condition].present == (cases[i].cond >= 0), "%s: condition",
                      cases[i].line);
        if (cases[i].cond >= 0) {
            ck_assert_msg(x.args[A_SET_condition].choice == cases[i].cond, "%s: choice %d",
                          cases[i].line, x.args[A_SET_condition].choice);
            ck_assert(x.args[cases[i].cond ? A_SET_condition_xx : A_SET_condition_nx].present);
            ck_assert(!x.args[cases[i].cond ? A_SET_condition_nx : A_SET_condition_xx].present);
        }
        ck_assert_msg(x.args[A_SET_get].present == cases[i].get, "%s: GET", cases[i].line);
        ck_assert_msg(x.args[A_SET_expiration].present == (cases[i].exp >= 0), "%s: expiration",
                      cases[i].line);
        if (cases[i].exp >= 0) {
            int k, slot = exp_slots[cases[i].exp];
            ck_assert_msg(x.args[A_SET_expiration].choice == cases[i].exp, "%s: choice %d",
                          cases[i].line, x.args[A_SET_expiration].choice);
            for (k = 0; k < 5; k++)
                ck_assert_msg(x.args[exp_slots[k]].present == (k == cases[i].exp),
                              "%s: expiration child %d", cases[i].line, k);
            if (cases[i].exp < 4) {
                char want[32];
                ck_assert_msg(x.args[slot].i == cases[i].val, "%s: value %lld", cases[i].line,
                              x.args[slot].i);
                /* ARGP points at the value, not at the token */
                snprintf(want, sizeof(want), "%lld", cases[i].val);
                ck_assert_str_eq(word_at(&x, slot), want);
            }
        }
        run_free(&x);
    }
}
END_TEST

START_TEST(set_errors)
{
    const char *syn = "ERR syntax error", *nint = "ERR value is not an integer or out of range";
    expect_err("SET k v NX XX", syn);
    expect_err("SET k v XX NX", syn);
    expect_err("SET k v EX 1 PX 1", syn);
    expect_err("SET k v KEEPTTL EX 1", syn);
    expect_err("SET k v EX 1 KEEPTTL", syn);
    expect_err("SET k v EXAT 1 PXAT 1", syn);
    expect_err("SET k v EX", syn);
    expect_err("SET k v NX EX", syn);
    expect_err("SET k v FOO", syn);
    expect_err("SET k v EX 10 foo", syn);
    expect_err("SET k v NX foo", syn);
    expect_err("SET k v EX abc", nint);
    expect_err("SET k v EX 1.5", nint);
    expect_err("SET k v EX NX", nint); /* EX takes the next word as its value */
    expect_err("SET k v PX 99999999999999999999", nint);
    expect_err("SET k v EXAT -", nint);
    /* structure errors come before value errors */
    expect_err("SET k v EX abc NX XX", syn);
    expect_err("SET k v EX abc PX 1", syn);
    expect_err("SET k v EX abc foo", syn);
    expect_err("SET k v EX abc EX", syn);
    /* last wins: the surviving value is the one parsed */
    expect_err("SET k v EX 10 EX abc", nint);
}
END_TEST

/* ---- multiples ---- */

START_TEST(mset_multiple)
{
    struct run x;
    int k;
    expect_ok("MSET a 1 b 2 c 3", &x);
    ck_assert(x.args[A_MSET_key_value].present);
    ck_assert_int_eq(x.args[A_MSET_key_value].count, 3);
    for (k = 0; k < 3; k++) {
        int at = x.args[A_MSET_key_value].list[k];
        ck_assert_int_eq(at, 1 + 2 * k);
        ck_assert_int_eq(x.words[at][0], 'a' + k);
        ck_assert_int_eq(x.words[at + 1][0], '1' + k);
    }
    run_free(&x);
    expect_ok("mset k v", &x);
    ck_assert_int_eq(x.args[A_MSET_key_value].count, 1);
    ck_assert_int_eq(x.args[A_MSET_key_value].list[0], 1);
    run_free(&x);
    /* Redis: an odd number of words is an arity error, not a syntax error. */
    expect_err("MSET a 1 b", "ERR wrong number of arguments for 'mset' command");
    expect_err("MSET a 1 b 2 c", "ERR wrong number of arguments for 'mset' command");
}
END_TEST

START_TEST(mset_many)
{
    /* More repetitions than any small fixed buffer: 60 pairs (121 words). */
    char line[2048];
    size_t len = 0;
    int k;
    struct run x;
    struct argval *v;
    len += (size_t)snprintf(line + len, sizeof(line) - len, "MSET");
    for (k = 0; k < 31; k++)
        len += (size_t)snprintf(line + len, sizeof(line) - len, " k%d v%d", k, k);
    expect_ok(line, &x);
    v = &x.args[A_MSET_key_value];
    ck_assert_int_eq(v->count, 31);
    for (k = 0; k < 31; k++) {
        char want[16];
        snprintf(want, sizeof(want), "k%d", k);
        ck_assert_str_eq(x.words[v->list[k]], want);
    }
    run_free(&x);
}
END_TEST

START_TEST(del_multiple)
{
    struct run x;
    int k;
    expect_ok("DEL a b c d", &x);
    ck_assert_int_eq(x.args[A_DEL_key].count, 4);
    for (k = 0; k < 4; k++) {
        ck_assert_int_eq(x.args[A_DEL_key].list[k], k + 1);
        ck_assert_int_eq(x.words[x.args[A_DEL_key].list[k]][0], 'a' + k);
    }
    run_free(&x);
    expect_ok("DEL only", &x);
    ck_assert_int_eq(x.args[A_DEL_key].count, 1);
    ck_assert_str_eq(x.words[x.args[A_DEL_key].list[0]], "only");
    run_free(&x);
}
END_TEST

/* ---- COPY, SWAPDB, HELLO, EXPIRE: optional tokens, keel_* extensions ---- */

START_TEST(copy_options)
{
    struct run x;
    expect_ok("COPY a b DB 1 REPLACE", &x);
    ck_assert_str_eq(word_at(&x, A_COPY_source), "a");
    ck_assert_str_eq(word_at(&x, A_COPY_destination), "b");
    ck_assert(x.args[A_COPY_destination_db].present);
    ck_assert_int_eq(x.args[A_COPY_destination_db].i, 1);
    ck_assert(x.args[A_COPY_replace].present);
    run_free(&x);
    expect_ok("COPY a b replace db 15", &x);
    ck_assert_int_eq(x.args[A_COPY_destination_db].i, 15);
    ck_assert(x.args[A_COPY_replace].present);
    run_free(&x);
    expect_ok("COPY a b", &x);
    ck_assert(!x.args[A_COPY_destination_db].present);
    ck_assert(!x.args[A_COPY_replace].present);
    run_free(&x);
    expect_err("COPY a b DB", "ERR syntax error");
    expect_err("COPY a b DB x", "ERR value is not an integer or out of range");
    expect_err("COPY a b DB 1 REPLACE foo", "ERR syntax error");
    /* COPY parses DB's value as it meets it, before looking at the next
     * word: here Redis answers with the value error, not a syntax error. */
    expect_err("COPY a b DB x foo", "ERR value is not an integer or out of range");
}
END_TEST

START_TEST(keel_error_and_syntax_error)
{
    struct run x;
    expect_ok("SWAPDB 0 1", &x);
    ck_assert_int_eq(x.args[A_SWAPDB_index1].i, 0);
    ck_assert_int_eq(x.args[A_SWAPDB_index2].i, 1);
    run_free(&x);
    expect_err("SWAPDB x 1", "ERR invalid first DB index");
    /* keel_deferred_error: the match succeeds and the slot carries the
     * error for the handler to reply where Redis would */
    expect_ok("SWAPDB 0 y", &x);
    ck_assert_ptr_null(x.args[A_SWAPDB_index1].err);
    ck_assert_ptr_nonnull(x.args[A_SWAPDB_index2].err);
    ck_assert_str_eq(x.args[A_SWAPDB_index2].err, "ERR invalid second DB index");
    run_free(&x);
    expect_err("SWAPDB x y", "ERR invalid first DB index");

    expect_ok("HELLO", &x);
    ck_assert(!x.args[A_HELLO_arguments].present);
    run_free(&x);
    expect_ok("HELLO 3 SETNAME n AUTH u p", &x);
    ck_assert_int_eq(x.args[A_HELLO_arguments_protover].i, 3);
    ck_assert_str_eq(word_at(&x, A_HELLO_arguments_clientname), "n");
    ck_assert(x.args[A_HELLO_arguments_username_password].present);
    ck_assert_str_eq(word_at(&x, A_HELLO_arguments_username_password_username), "u");
    ck_assert_str_eq(word_at(&x, A_HELLO_arguments_username_password_password), "p");
    run_free(&x);
    expect_err("HELLO x", "ERR Protocol version is not an integer or out of range");
    expect_err("HELLO 3 FOO", "ERR Syntax error in HELLO option 'FOO'");
    /* after SETNAME (keel_defer) the error waits for the handler */
    expect_deferred("HELLO 3 SETNAME n BAR", A_HELLO_deferred,
                    "ERR Syntax error in HELLO option 'BAR'");
    /* a token without its values is the offending word */
    expect_err("HELLO 3 AUTH u", "ERR Syntax error in HELLO option 'AUTH'");
    expect_err("HELLO 3 SETNAME", "ERR Syntax error in HELLO option 'SETNAME'");
    expect_err("hello 3 auth", "ERR Syntax error in HELLO option 'auth'");
}
END_TEST

/* keel_max_words, and keel_stop_at_tokens across a keel_deferred_from
 * split: XCLAIM's ids end at an option's token even though the options are
 * the deferred part. */
START_TEST(max_words_and_deferred_stop_at_tokens)
{
    struct run x;
    expect_ok("XPENDING s g - + 1 c a b", &x);
    ck_assert_str_eq(word_at(&x, A_XPENDING_filters_consumer), "c");
    run_free(&x);
    expect_err("XPENDING s g - + 1 c a b d", "ERR syntax error");
    expect_err("XPENDING s g IDLE 1 - + 1 c a", "ERR syntax error");
    expect_ok("XCLAIM s g c 1 1-1 2-2 IDLE 5 FORCE JUSTID LASTID 3-3", &x);
    ck_assert_int_eq(x.args[A_XCLAIM_id].count, 2);
    ck_assert_int_eq(x.args[A_XCLAIM_ms].i, 5);
    ck_assert(x.args[A_XCLAIM_force].present && x.args[A_XCLAIM_justid].present);
    ck_assert_str_eq(word_at(&x, A_XCLAIM_id_lastid), "3-3");
    ck_assert_ptr_null(x.args[A_XCLAIM_deferred].err);
    run_free(&x);
    /* the options' errors wait for the handler, the first in order wins */
    expect_deferred("XCLAIM s g c 1 1-1 IDLE x bad", A_XCLAIM_deferred,
                    "ERR Invalid IDLE option argument for XCLAIM");
    expect_deferred("XCLAIM s g c 1 1-1 IDLE", A_XCLAIM_deferred,
                    "ERR Unrecognized XCLAIM option 'IDLE'");
    expect_deferred("XRANGE s - + COUNT x junk", A_XRANGE_deferred,
                    "ERR value is not an integer or out of range");
}
END_TEST

START_TEST(multi_choice_mask)
{
    struct run x;
    expect_ok("EXPIRE k 10 NX", &x);
    ck_assert(x.args[A_EXPIRE_condition].present);
    ck_assert_int_eq(x.args[A_EXPIRE_condition].choice, 0);
    ck_assert_uint_eq(x.args[A_EXPIRE_condition].mask, 1u);
    run_free(&x);
    /* several tokens of a multi-choice oneof: every one shows in the mask
     * (the handler rejects NX+GT with Redis's message) */
    expect_ok("EXPIRE k 10 NX GT", &x);
    ck_assert_uint_eq(x.args[A_EXPIRE_condition].mask, (1u << 0) | (1u << 2));
    ck_assert(x.args[A_EXPIRE_condition_nx].present);
    ck_assert(x.args[A_EXPIRE_condition_gt].present);
    ck_assert(!x.args[A_EXPIRE_condition_xx].present);
    run_free(&x);
    expect_ok("EXPIRE k 10 lt xx", &x);
    ck_assert_uint_eq(x.args[A_EXPIRE_condition].mask, (1u << 1) | (1u << 3));
    run_free(&x);
    expect_ok("EXPIRE k 10", &x);
    ck_assert(!x.args[A_EXPIRE_condition].present);
    ck_assert_uint_eq(x.args[A_EXPIRE_condition].mask, 0);
    run_free(&x);
    expect_err("EXPIRE k 10 FOO", "ERR Unsupported option FOO");
}
END_TEST

/* ---- a synthetic grammar: multiples nested in a multiple ---- */

/* No Redis 7.0 command nests a multiple inside a multiple today, but the
 * schema format allows it (T GROUP name [ITEM x ...] [GROUP ...]) and the
 * matcher's repetition lists must then stay inside their pool. */
static const struct arg_spec nest_inner[] = {
    {.name = "name", .type = ARG_STRING, .key_spec_index = -1, .slot = 1},
    {.name = "item",
     .type = ARG_STRING,
     .token = "ITEM",
     .flags = AF_MULTIPLE | AF_MULTIPLE_TOKEN | AF_OPTIONAL,
     .key_spec_index = -1,
     .slot = 2},
};
static const struct arg_spec nest_top[] = {
    {.name = "group",
     .type = ARG_BLOCK,
     .token = "GROUP",
     .flags = AF_MULTIPLE | AF_MULTIPLE_TOKEN,
     .key_spec_index = -1,
     .slot = 0,
     .nchildren = 2,
     .children = nest_inner},
};

/* The keel_* extensions of the option loops (scripts/gen_commands.py). */
START_TEST(loop_extensions)
{
    struct run x;
    /* keel_deferred_from: errors after the keys wait for the type checks */
    expect_deferred("ZUNION 2 a b FOO", A_ZSETOP_deferred, "ERR syntax error");
    expect_deferred("ZUNION 2 a b WEIGHTS 1 x AGGREGATE FOO", A_ZSETOP_deferred,
                    "ERR weight value is not a float");
    expect_deferred("HSCAN h 0 COUNT 0", A_SCAN_deferred, "ERR syntax error");
    expect_deferred("ZDIFFSTORE d 1 a FOO", A_ZSETOP_deferred, "ERR syntax error");
    expect_err("ZUNION 0 a", "ERR at least 1 input key is needed for 'zunion' command");
    expect_err("ZUNION x a", "ERR value is not an integer or out of range");
    expect_err("ZUNION 3 a b", "ERR syntax error");
    /* keel_numkeys_repeat: the last WEIGHTS' values */
    expect_ok("ZUNIONSTORE d 2 a b WEIGHTS 1 2 WEIGHTS 3 4", &x);
    ck_assert_int_eq(x.args[A_ZSETOP_weight].count, 2);
    ck_assert_str_eq(x.words[x.args[A_ZSETOP_weight].list[0]], "3");
    ck_assert(x.args[A_ZSETOP_destination].present);
    run_free(&x);
    /* keel_once, keel_min, in order */
    expect_err("LMPOP 1 l LEFT COUNT 1 COUNT 1", "ERR syntax error");
    expect_err("LMPOP 1 l LEFT COUNT 0 FOO", "ERR count should be greater than 0");
    expect_err("ZRANGE z 0 1 REV REV", "ERR syntax error");
    expect_err("LPOS l a RANK 0 FOO",
               "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second "
               "... or use negative to start from the end of the list");
    /* keel_choices */
    expect_ok("BITOP xor d a b", &x);
    ck_assert_int_eq(x.args[A_BITOP_operation].choice, 2);
    run_free(&x);
    expect_err("BITOP foo d a", "ERR syntax error");
    /* keel_keep_all */
    expect_ok("SORT l BY a BY b_*", &x);
    ck_assert_int_eq(x.args[A_SORT_pattern].count, 2);
    ck_assert_str_eq(x.words[x.args[A_SORT_pattern].pos], "b_*");
    run_free(&x);
    /* keel_hidden: matched, to be refused by the handler */
    expect_ok("ZRANGEBYLEX z - + WITHSCORES", &x);
    ck_assert(x.args[A_ZRANGEBYLEX_withscores].present);
    run_free(&x);
    /* keel_excludes */
    expect_err("RESTORE k 0 p IDLETIME 1 FREQ 1", "ERR syntax error");
    expect_err("RESTORE k 0 p FREQ 256", "ERR Invalid FREQ value, must be >= 0 and <= 255");
}
END_TEST

/* registry_match_pool's short way (every plain_words command given just
 * its leading plain words) gives what the grammar walk gives: the verdict,
 * the error text and every slot, for words that convert and words that do
 * not (integers, doubles, choices, ranges). */
static void match_both_ways(const struct command *c, const char *word)
{
    struct argv_ref argv[16];
    struct argval a1[MAX_SLOTS], a2[MAX_SLOTS];
    struct rec_sink r1 = {0}, r2 = {0};
    struct reply p1 = {&rec_sink_ops, &r1, 2, 0}, p2 = {&rec_sink_ops, &r2, 2, 0};
    int argc = 0, k;
    bool ok1, ok2;
    if (c->parent) argv[argc++] = (struct argv_ref){c->parent->name, strlen(c->parent->name)};
    argv[argc++] = (struct argv_ref){c->name, strlen(c->name)};
    for (k = 0; k < c->plain_words && argc < 16; k++)
        argv[argc++] = (struct argv_ref){word, strlen(word)};
    ck_assert_int_le(c->nslots, MAX_SLOTS);
    registry_short_way = true;
    ok1 = registry_match(c, argc, argv, a1, &p1);
    registry_short_way = false;
    ok2 = registry_match(c, argc, argv, a2, &p2);
    registry_short_way = true;
    ck_assert_msg(ok1 == ok2, "%s [%s]: short way %d, walk %d", c->fullname, word, ok1, ok2);
    ck_assert_msg(strcmp(r1.err, r2.err) == 0, "%s [%s]: \"%s\" vs \"%s\"", c->fullname, word,
                  r1.err, r2.err);
    if (!ok1) return;
    for (k = 0; k < c->nslots; k++) {
        ck_assert_msg(a1[k].present == a2[k].present && a1[k].pos == a2[k].pos &&
                          a1[k].width == a2[k].width && a1[k].count == a2[k].count &&
                          a1[k].choice == a2[k].choice && a1[k].mask == a2[k].mask &&
                          a1[k].i == a2[k].i && a1[k].list == a2[k].list &&
                          (a1[k].err == a2[k].err ||
                           (a1[k].err && a2[k].err && !strcmp(a1[k].err, a2[k].err))),
                      "%s [%s]: slot %d differs", c->fullname, word, k);
        ck_assert_msg(memcmp(&a1[k].d, &a2[k].d, sizeof(double)) == 0, "%s [%s]: slot %d double",
                      c->fullname, word, k);
    }
}

START_TEST(short_way_matches_the_walk)
{
    static const char *const words[] = {"k",
                                        "0",
                                        "1",
                                        "-1",
                                        "10",
                                        "1.5",
                                        "-0.0",
                                        "inf",
                                        "nan",
                                        "abc",
                                        "",
                                        "+1",
                                        "01",
                                        " 1",
                                        "1e400",
                                        "9223372036854775808",
                                        "-9223372036854775808",
                                        "65536",
                                        "4294967296"};
    int i, j, w, n = 0;
    for (i = 0; registry_commands[i]; i++) {
        const struct command *c = registry_commands[i];
        for (j = -1; j < c->nsub; j++) {
            const struct command *x = j < 0 ? c : c->subs[j];
            if (!x->plain_words || !x->fn) continue;
            n++;
            for (w = 0; w < (int)(sizeof(words) / sizeof(words[0])); w++)
                match_both_ways(x, words[w]);
        }
    }
    ck_assert_int_gt(n, 50); /* GET, SET, INCR, EXPIRE, HGET, ... */
}
END_TEST

static void nested_multiples(int groups, int items)
{
    struct command c;
    struct argv_ref argv[256];
    struct argval args[MAX_SLOTS];
    struct rec_sink rec = {0};
    struct reply r = {&rec_sink_ops, &rec, 2, 0};
    int argc = 0, g, j, n = 0;
    memset(&c, 0, sizeof(c));
    c.name = c.fullname = "t";
    c.arity = -2;
    c.nargs = 1;
    c.args = nest_top;
    c.nslots = 3;
    argv[argc++] = (struct argv_ref){"t", 1};
    for (g = 0; g < groups; g++) {
        argv[argc++] = (struct argv_ref){"GROUP", 5};
        argv[argc++] = (struct argv_ref){"g", 1};
        for (j = 0; j < items; j++) {
            argv[argc++] = (struct argv_ref){"ITEM", 4};
            argv[argc++] = (struct argv_ref){"x", 1};
        }
    }
    ck_assert_msg(registry_match(&c, argc, argv, args, &r), "%s", rec.err);
    ck_assert_int_eq(args[0].count, groups);
    ck_assert_int_eq(args[2].count, groups * items);
    for (g = 0; g < groups; g++) {
        int at = 1 + g * (2 + 2 * items);
        ck_assert_int_eq(args[0].list[g], at);
        for (j = 0; j < items; j++)
            ck_assert_int_eq(args[2].list[n++], at + 3 + 2 * j);
    }
}

START_TEST(nested_multiples_small)
{
    nested_multiples(6, 4); /* 61 words: the matcher's small (stack) pool */
}
END_TEST

START_TEST(nested_multiples_large)
{
    nested_multiples(12, 4); /* 121 words: its heap pool */
}
END_TEST

/* ---- keys ---- */

static void expect_keys(const char *line, int n, ...)
{
    struct run x;
    int keys[16], got, i;
    va_list ap;
    expect_ok(line, &x);
    got = registry_getkeys(x.cmd, x.argc, x.argv, keys, 16);
    ck_assert_msg(got == n, "[%s]: %d keys, want %d", line, got, n);
    va_start(ap, n);
    for (i = 0; i < n; i++) {
        int want = va_arg(ap, int);
        ck_assert_msg(keys[i] == want, "[%s]: key %d at %d, want %d", line, i, keys[i], want);
    }
    va_end(ap);
    run_free(&x);
}

START_TEST(getkeys)
{
    /* as COMMAND GETKEYS answers on redis-server 7.0.15 */
    expect_keys("SET k v EX 10", 1, 1);
    expect_keys("SET k v", 1, 1);
    expect_keys("GET k", 1, 1);
    expect_keys("MSET a 1 b 2", 2, 1, 3);
    expect_keys("MSET a 1 b 2 c 3", 3, 1, 3, 5);
    expect_keys("DEL a", 1, 1);
    expect_keys("DEL a b c", 3, 1, 2, 3);
    expect_keys("RENAME a b", 2, 1, 2);
    expect_keys("COPY a b DB 1 REPLACE", 2, 1, 2);
    expect_keys("COPY a b", 2, 1, 2);
    expect_keys("OBJECT ENCODING k", 1, 2);
    {
        /* out is bounded by max; the count is still the full count */
        struct run x;
        int keys[2] = {-1, -1};
        expect_ok("DEL a b c d", &x);
        ck_assert_int_eq(registry_getkeys(x.cmd, x.argc, x.argv, keys, 2), 4);
        ck_assert_int_eq(keys[0], 1);
        ck_assert_int_eq(keys[1], 2);
        run_free(&x);
    }
}
END_TEST

static Suite *registry_suite(void)
{
    Suite *s = suite_create("registry");
    TCase *tc = unit_tcase("resolve", 60);
    tcase_add_test(tc, resolve_ok);
    tcase_add_test(tc, resolve_errors);
    tcase_add_test(tc, resolve_long_words_clipped);
    tcase_add_test(tc, registered_commands_resolve);
    suite_add_tcase(s, tc);

    tc = unit_tcase("match", 60);
    tcase_add_test(tc, set_plain);
    tcase_add_test(tc, set_options_any_order);
    tcase_add_test(tc, set_errors);
    tcase_add_test(tc, mset_multiple);
    tcase_add_test(tc, mset_many);
    tcase_add_test(tc, del_multiple);
    tcase_add_test(tc, copy_options);
    tcase_add_test(tc, keel_error_and_syntax_error);
    tcase_add_test(tc, multi_choice_mask);
    tcase_add_test(tc, max_words_and_deferred_stop_at_tokens);
    tcase_add_test(tc, loop_extensions);
    tcase_add_test(tc, nested_multiples_small);
    tcase_add_test(tc, nested_multiples_large);
    suite_add_tcase(s, tc);

    tc = unit_tcase("keys", 60);
    tcase_add_test(tc, getkeys);
    tcase_add_test(tc, short_way_matches_the_walk);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    registry_init(); /* once: every test (forked or not) sees the same table */
    store_init(16);  /* COPY's DB index is checked by the matcher (keel_check copy_db) */
    return unit_run(registry_suite());
}
