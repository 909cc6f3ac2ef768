#!/usr/bin/env python3
"""gen_commands.py — turn schemas/commands/<name>.json (Redis 7 command JSON
format, plus keel_* extensions) into the C command table.

usage: gen_commands.py OUT_C OUT_H (JSON... | --dir DIR)

OUT_H gets one #define per argument slot, A_<COMMAND>_<path>, e.g.
A_SET_expiration_seconds; OUT_C gets the static table that
schemas/registry.c serves. Handlers are referenced by name: a schema whose
"function" is not defined anywhere fails the build (at link time), so a
command in the table always has its handler.

The keel_* extensions (schemas/registry.h and registry.c implement them;
COMMAND DOCS never shows them):

Command level
  keel_acl_full          acl_categories is the whole list (no flag-derived
                         categories are added).
  keel_not_in_7_0        not compared with redis-server 7.0 by schema_check.
  keel_arguments         a grammar matched but not shown by COMMAND DOCS
                         (instead of "arguments").
  keel_syntax_error      the text for a grammar mismatch, %s = the word;
                         or {subcommand}: the subcommand's name as typed
                         (Redis's "unknown subcommand or wrong number of
                         arguments for '<argv[1]>'" texts).
  keel_parse_in_order    values are converted (and range-checked) as the
                         matcher meets them, as Redis's option loops do: the
                         first problem, structural or not, wins. A token-led
                         block needs all its words before any is converted
                         (Redis's loops count them first: GEOSEARCH's BYBOX).
  keel_raw_arguments     no matching: the handler reads argv (PFMERGE).
  keel_max_words         more words than this (the command's name
                         included) is a syntax error before anything is
                         matched: Redis counts them first (XPENDING: 9, and
                         words past the consumer are ignored up to it).
  keel_touches_arbitrary_keys
                         Redis's internal CMD_TOUCHES_ARBITRARY_KEYS (not in
                         COMMAND INFO): SCAN and RANDOMKEY, whose deletions
                         of expired keys are not wrapped in MULTI/EXEC when
                         the command runs directly (core/persist/propagate.c).
  keel_word_counts       the only word counts (the command's name included,
                         each under 32) Redis takes: any other is a syntax
                         error before anything is matched (XPENDING: 3 or
                         6 to 9, before IDLE's value is read).
  keel_max_words_error   the text then (as keel_syntax_error; default: that
                         text): FUNCTION FLUSH / RESTORE's subcommand error.
  keel_grammar           the arguments the matcher uses where Redis's loop
                         is not what its documented grammar says (BITFIELD's
                         OVERFLOW on its own); COMMAND DOCS still shows
                         "arguments".
  keel_deferred_from     the name of a top-level argument ("" = after the
                         last one: only extra words): errors from there
                         on (grammar or value) are not replied by the matcher
                         but kept for the handler, which reports them with
                         arg_ok(x, A_<CMD>_deferred) where Redis parses those
                         words (after its key lookups: ZUNION's options, LCS,
                         HSCAN, BITCOUNT's range). The words before it must
                         match; their errors stay immediate.
  keel_shared_function   the handler answers several commands alike (the
                         cluster commands of a standalone server), so its
                         name is not cmd_<command> (schema_check's rule).
  keel_family            commands whose handler is one body (SORT/SORT_RO,
                         the SCAN family, ZUNION...ZINTERCARD): their slots
                         are laid out by argument path across the family, and
                         A_<FAMILY>_<path> names a slot for every member
                         (a path a member lacks is never present there).

Argument level
  keel_slot_name         the slot's name when Redis's name is ambiguous.
  keel_error             the text when the value does not parse (for a
                         token-led or keel_deferred_error oneof: when no
                         choice matches the word).
  keel_deferred_error    a bad value is kept in the slot's .err for the
                         handler (arg_ok) instead of being replied.
  keel_long_double       a double parsed as long double (INCRBYFLOAT).
  keel_check             NAME: after the value parses, the matcher calls
                         keel_check_NAME(word, its argval, the previous
                         sibling's argval), defined with the handler; it
                         returns the error text or NULL and may store the
                         parsed value (BITFIELD's encoding and offset, whose
                         range depends on the encoding).
  keel_type              the type the value is parsed as, when Redis's
                         declared type is not what its code parses
                         (ZUNIONSTORE's "integer" weights are doubles).
  keel_multi_choice      a oneof whose choices may all appear (last wins in
                         .choice, every one in .mask).
  keel_numkeys           this count fixes how many times the next multiple
                         argument repeats (keel_numkeys_error: the text when
                         it exceeds the words left).
  keel_numkeys_repeat    a token-led multiple whose token is followed by
                         exactly keel_numkeys values (ZUNION's WEIGHTS); a
                         repeated token replaces the earlier values.
  keel_min, keel_max     an integer's allowed range; keel_nonzero: 0 is
                         refused; keel_range_error: the text then (default:
                         keel_error, else Redis's "value is out of range").
                         On a keel_numkeys count keel_min is its lowest
                         value (default 1; EVAL and FCALL take 0).
  keel_defer             errors met after this option are kept for the
                         handler's arg_ok(x, A_<CMD>_deferred), like
                         keel_deferred_from's: the handler applies the
                         options matched before it first (HELLO's AUTH and
                         SETNAME, CLIENT TRACKING's REDIRECT). For
                         keel_parse_in_order commands.
  keel_once              the option may be given once: a repeat is a syntax
                         error at its token (keel_once_error: another text).
  keel_excludes          names of sibling options after which this one does
                         not match (a syntax error at its token): RESTORE's
                         IDLETIME and FREQ.
  keel_keep_all          every occurrence of a repeatable option is listed
                         (.list/.count), not only the last (SORT's BY).
  keel_choices           a string that must be one of these words (any
                         case): .choice is its index; otherwise keel_error
                         (default: syntax error; %s in it: the word, and
                         not deferred). BITOP's operation, FUNCTION LOAD's
                         options.
  keel_half              a multiple that takes half of the words left, the
                         next multiple the rest (XREAD's STREAMS keys and
                         ids); an odd count is keel_error (default: syntax
                         error).
  keel_stop_at_tokens    a multiple that ends at a word leading one of the
                         optional options after it (XCLAIM's ids, then
                         IDLE / TIME / ... as Redis's loop).
  keel_only_words        the option matches only when the command has
                         exactly this many words (its name included);
                         otherwise its token is a syntax error, before its
                         value is judged: Redis tests argc first (CLIENT
                         LIST's TYPE only as `CLIENT LIST TYPE <type>`).
  keel_fit               in a run of options in any order: the word leading
                         this option is the option only when all of its
                         words follow (Redis's `&& moreargs`); otherwise the
                         run ends there and the word is what comes next
                         (XADD's MAXLEN / MINID / LIMIT: then it is the id).
  keel_in_place          an optional token-led argument matched where it
                         stands (not in an any-order run), once, and only
                         when the words after it still fill what follows:
                         XADD / XTRIM's = | ~ is the operator only with a
                         threshold after it, else it is the threshold.
  keel_hidden            matched, not shown by COMMAND DOCS: words Redis's
                         loop accepts only to refuse them with a specific
                         error (ZRANGEBYLEX's WITHSCORES), or flags it reads
                         where the declared grammar has none (ZINCRBY).
"""
import json
import os
import re
import sys

FLAGS = ["WRITE", "READONLY", "DENYOOM", "MODULE", "ADMIN", "PUBSUB", "NOSCRIPT", "BLOCKING",
         "LOADING", "STALE", "SKIP_MONITOR", "SKIP_SLOWLOG", "ASKING", "FAST", "NO_AUTH",
         "MAY_REPLICATE", "SENTINEL", "ONLY_SENTINEL", "NO_MANDATORY_KEYS", "PROTECTED",
         "NO_ASYNC_LOADING", "NO_MULTI", "MOVABLE_KEYS", "ALLOW_BUSY"]
ACL = ["KEYSPACE", "READ", "WRITE", "SET", "SORTEDSET", "LIST", "HASH", "STRING", "BITMAP",
       "HYPERLOGLOG", "GEO", "STREAM", "PUBSUB", "ADMIN", "FAST", "SLOW", "BLOCKING", "DANGEROUS",
       "CONNECTION", "TRANSACTION", "SCRIPTING"]
KSFLAGS = ["RO", "RW", "OW", "RM", "ACCESS", "UPDATE", "INSERT", "DELETE", "NOT_KEY",
           "INCOMPLETE", "VARIABLE_FLAGS"]
ARGTYPES = {"key": "ARG_KEY", "string": "ARG_STRING", "integer": "ARG_INTEGER",
            "double": "ARG_DOUBLE", "unix-time": "ARG_UNIX_TIME", "pattern": "ARG_PATTERN",
            "pure-token": "ARG_PURE_TOKEN", "oneof": "ARG_ONEOF", "block": "ARG_BLOCK"}


def cstr(s):
    if s is None:
        return "NULL"
    out = '"'
    for ch in s.encode():
        c = chr(ch)
        if c in '"\\':
            out += "\\" + c
        elif 32 <= ch < 127:
            out += c
        else:
            out += "\\%03o" % ch
    return out + '"'


def ident(s):
    return re.sub(r"[^A-Za-z0-9]", "_", s)


def main():
    out_c, out_h, files = sys.argv[1], sys.argv[2], sys.argv[3:]
    if files[:1] == ["--dir"]:
        d = files[1]
        files = [os.path.join(d, f) for f in os.listdir(d) if f.endswith(".json")]
    cmds = {}
    for f in sorted(files):
        with open(f) as fh:
            doc = json.load(fh)
        for name, spec in doc.items():
            spec = dict(spec)
            spec["_name"] = name.lower()
            cont = spec.get("container")
            spec["_full"] = (cont.lower() + "|" + name.lower()) if cont else name.lower()
            spec["_file"] = f
            cmds[spec["_full"]] = spec

    c = []
    h = ["/* Generated by scripts/gen_commands.py from schemas/commands/<name>.json. */",
         "#ifndef KEEL_COMMANDS_GEN_H", "#define KEEL_COMMANDS_GEN_H", ""]
    c.append("/* Generated by scripts/gen_commands.py from schemas/commands/<name>.json: the command table. */")
    c.append('#include "registry.h"')
    c.append("")
    c.append("@CHECKS@")
    fns = sorted({s["function"] for s in cmds.values() if s.get("function")})
    for fn in fns:
        c.append("extern void %s(struct exec *x);" % fn)
    c.append("")

    counter = [0]

    def arg_paths(full, args, path, out, defined):
        """Each argument's slot path (list of ident parts), depth first."""
        for a in args:
            if a["type"] not in ARGTYPES:
                raise SystemExit("%s: unknown argument type %s" % (full, a["type"]))
            p = path + [ident(a.get("keel_slot_name", a["name"]))]
            name = "_".join(p)
            if name in defined and a.get("token"):
                # Redis reuses some names (LCS's two "len"): the token tells them apart.
                p[-1] += "_" + ident(a["token"]).lower()
                name = "_".join(p)
            if name in defined:
                raise SystemExit("%s: duplicate argument slot %s" % (full, name))
            defined.add(name)
            out.append((a, name))
            if a["type"] in ("oneof", "block"):
                arg_paths(full, a["arguments"], p, out, defined)
        return out

    def match_args(s):
        """The arguments the matcher uses (keel_grammar, else Redis's)."""
        return s.get("keel_grammar") or s.get("arguments") or s.get("keel_arguments") or []

    def cmd_paths(full):
        s = cmds[full]
        args = match_args(s)
        paths = arg_paths(full, args, [], [], set())
        if "keel_deferred_from" in s:
            if s["keel_deferred_from"] not in [a["name"] for a in args] + [""]:
                raise SystemExit("%s: keel_deferred_from names no top-level argument" % full)
        if "keel_deferred_from" in s or any(a.get("keel_defer") for a, _ in paths):
            paths.append((None, "deferred"))
        return paths

    # Slot layouts: per command, or by path across a keel_family.
    layouts = {}
    families = {}
    for full in sorted(cmds):
        fam = cmds[full].get("keel_family")
        if fam:
            families.setdefault(fam, []).append(full)
    for fam, members in sorted(families.items()):
        fmap, shape = {}, {}
        for full in members:
            for a, name in cmd_paths(full):
                kind = None if a is None else (a["type"], tuple(
                    c["name"] for c in a.get("arguments", [])))
                if name in shape and shape[name] != kind:
                    raise SystemExit("keel_family %s: %s differs between members" % (fam, name))
                shape[name] = kind
                if name not in fmap:
                    fmap[name] = len(fmap)
        for full in members:
            layouts[full] = fmap
        for name, slot in fmap.items():
            h.append("#define A_%s_%s %d" % (ident(fam).upper(), name, slot))
        h.append("")
    for full in sorted(cmds):
        if full not in layouts:
            layouts[full] = {name: k for k, (a, name) in enumerate(cmd_paths(full))}

    checks = set()

    def emit_args(full, args, path, layout, defined, docs_only=False):
        """Emit a static arg_spec array; returns its C name. docs_only: the
        arguments COMMAND DOCS shows where keel_grammar is matched instead
        (no slots)."""
        counter[0] += 1
        arrname = "args_%d" % counter[0]
        entries = []
        extra = []
        prev_slot = -1
        for a in args:
            t = a["type"]
            p = path + [ident(a.get("keel_slot_name", a["name"]))]
            name = "_".join(p)
            if name in defined and a.get("token"):
                p[-1] += "_" + ident(a["token"]).lower()
                name = "_".join(p)
            defined.add(name)
            slot = 0 if docs_only else layout[name]
            if not docs_only:
                h.append("#define A_%s_%s %d" % (ident(full).upper(), name, slot))
            children = "NULL"
            nchildren = 0
            if t in ("oneof", "block"):
                children = emit_args(full, a["arguments"], p, layout, defined, docs_only)
                nchildren = len(a["arguments"])
            check = "NULL"
            if a.get("keel_check") and not docs_only:
                check = "keel_check_%s" % ident(a["keel_check"])
                checks.add(check)
            flags = []
            for key, flag in (("optional", "AF_OPTIONAL"), ("multiple", "AF_MULTIPLE"),
                              ("multiple_token", "AF_MULTIPLE_TOKEN"),
                              ("keel_multi_choice", "AF_MULTI_CHOICE"),
                              ("keel_deferred_error", "AF_DEFER_ERROR"),
                              ("keel_long_double", "AF_LONG_DOUBLE"),
                              ("keel_numkeys", "AF_NUMKEYS"), ("keel_once", "AF_ONCE"),
                              ("keel_nonzero", "AF_NONZERO"), ("keel_hidden", "AF_HIDDEN"),
                              ("keel_keep_all", "AF_KEEP_ALL"),
                              ("keel_numkeys_repeat", "AF_NUMKEYS_REPEAT"),
                              ("keel_defer", "AF_DEFER_FROM"), ("keel_half", "AF_HALF"),
                              ("keel_stop_at_tokens", "AF_STOP_AT_TOKENS"),
                              ("keel_fit", "AF_FIT"), ("keel_in_place", "AF_IN_PLACE")):
                if a.get(key):
                    flags.append(flag)
            if "keel_min" in a:
                flags.append("AF_RANGE_MIN")
            if "keel_max" in a:
                flags.append("AF_RANGE_MAX")
            excludes = "NULL"
            if a.get("keel_excludes"):
                counter[0] += 1
                excludes = "excludes_%d" % counter[0]
                extra.append("static const int %s[] = {%s};" % (excludes, ", ".join(
                    str(layout["_".join(path + [ident(n)])]) for n in a["keel_excludes"])))
            choices = "NULL"
            if a.get("keel_choices"):
                counter[0] += 1
                choices = "choices_%d" % counter[0]
                extra.append("static const char *const %s[] = {%s};" % (
                    choices, ", ".join(cstr(w) for w in a["keel_choices"])))
            fields = [
                ".name = %s" % cstr(a["name"]), ".type = %s" % ARGTYPES[t],
                ".conv = %s" % ARGTYPES[a.get("keel_type", t)],
                ".token = %s" % cstr(a.get("token")), ".flags = %s" % ("|".join(flags) or "0"),
                ".key_spec_index = %d" % a.get("key_spec_index", -1),
                ".since = %s" % cstr(a.get("since")),
                ".deprecated_since = %s" % cstr(a.get("deprecated_since")),
                ".display = %s" % cstr(a.get("display")), ".slot = %d" % slot,
                ".nchildren = %d" % nchildren, ".children = %s" % children,
                ".parse_error = %s" % cstr(a.get("keel_error")),
                ".numkeys_error = %s" % cstr(a.get("keel_numkeys_error")),
                ".min = %dLL" % a.get("keel_min", 0), ".max = %dLL" % a.get("keel_max", 0),
                ".range_error = %s" % cstr(a.get("keel_range_error")),
                ".once_error = %s" % cstr(a.get("keel_once_error")),
                ".choices = %s" % choices, ".nchoices = %d" % len(a.get("keel_choices", [])),
                ".excludes = %s" % excludes, ".nexcludes = %d" % len(a.get("keel_excludes", [])),
                ".check = %s" % check, ".prev_slot = %d" % prev_slot,
                ".only_words = %d" % a.get("keel_only_words", 0),
            ]
            prev_slot = slot
            entries.append("    {%s}," % ", ".join(fields))
        c.extend(extra)
        c.append("static const struct arg_spec %s[] = {" % arrname)
        c.extend(entries)
        c.append("};")
        return arrname

    order = sorted(cmds)
    for full in order:
        s = cmds[full]
        cid = ident(full)
        # arguments
        layout = layouts[full]
        args = match_args(s)
        hidden = 0 if s.get("arguments") else 1
        argarr = emit_args(full, args, [], layout, set()) if args else "NULL"
        docarr, ndoc = argarr, len(args)
        if s.get("keel_grammar"):
            docarr = emit_args(full, s["arguments"], [], layout, set(), True)
            ndoc = len(s["arguments"])
        nslots = len(layout)
        if nslots > 64:
            raise SystemExit("%s: more than 64 argument slots" % full)
        defer_from = -1
        if "keel_deferred_from" in s:
            defer_from = ([a["name"] for a in args] + [""]).index(s["keel_deferred_from"])
        if "deferred" in layout:
            h.append("#define A_%s_deferred %d" % (ident(full).upper(), layout["deferred"]))
        # key specs
        ks = s.get("key_specs", [])
        ksarr = "NULL"
        if ks:
            ksarr = "ks_%s" % cid
            c.append("static const struct key_spec %s[] = {" % ksarr)
            for k in ks:
                fl = 0
                for f in k.get("flags", []):
                    fl |= 1 << KSFLAGS.index(f)
                bs = k["begin_search"]
                fk = k["find_keys"]
                if "index" in bs:
                    bst, bidx, bkw, bsf = "KS_BS_INDEX", bs["index"]["pos"], None, 0
                elif "keyword" in bs:
                    bst, bidx, bkw, bsf = "KS_BS_KEYWORD", 0, bs["keyword"]["keyword"], bs["keyword"]["startfrom"]
                else:
                    bst, bidx, bkw, bsf = "KS_BS_UNKNOWN", 0, None, 0
                r = (0, 0, 0)
                kn = (0, 0, 0)
                if "range" in fk:
                    fkt = "KS_FK_RANGE"
                    r = (fk["range"]["lastkey"], fk["range"]["step"], fk["range"]["limit"])
                elif "keynum" in fk:
                    fkt = "KS_FK_KEYNUM"
                    kn = (fk["keynum"]["keynumidx"], fk["keynum"]["firstkey"], fk["keynum"]["step"])
                else:
                    fkt = "KS_FK_UNKNOWN"
                c.append("    {%s, %d, %s, %d, %s, %d, %s, %d, %d, %d, %d, %d, %d}," % (
                    cstr(k.get("notes")), fl, bst, bidx, cstr(bkw), bsf, fkt, r[0], r[1], r[2],
                    kn[0], kn[1], kn[2]))
            c.append("};")
        # flags
        flags = 0
        for f in s.get("command_flags", []):
            flags |= 1 << FLAGS.index(f)
        if s.get("get_keys_function"):
            flags |= 1 << FLAGS.index("MOVABLE_KEYS")
        # legacy range (as Redis's populateCommandLegacyRangeSpec)
        first = last = step = 0
        if len(ks) == 1 and "index" in ks[0]["begin_search"] and "range" in ks[0]["find_keys"]:
            first = ks[0]["begin_search"]["index"]["pos"]
            lk = ks[0]["find_keys"]["range"]["lastkey"]
            last = lk + first if lk >= 0 else lk
            step = ks[0]["find_keys"]["range"]["step"]
            if "INCOMPLETE" in ks[0].get("flags", []):
                flags |= 1 << FLAGS.index("MOVABLE_KEYS")
        elif ks:
            firstkey, lastkey, prev_last = 1 << 31, 0, 0
            for k in ks:
                if "index" not in k["begin_search"] or "range" not in k["find_keys"]:
                    flags |= 1 << FLAGS.index("MOVABLE_KEYS")
                    continue
                pos = k["begin_search"]["index"]["pos"]
                rg = k["find_keys"]["range"]
                if rg["step"] != 1 or (prev_last and prev_last != pos - 1):
                    flags |= 1 << FLAGS.index("MOVABLE_KEYS")
                    continue
                firstkey = min(firstkey, pos)
                lka = rg["lastkey"]
                if lka >= 0:
                    lka += pos
                lastkey = lka if (lka & 0xffffffff) > (lastkey & 0xffffffff) else lastkey
                prev_last = lastkey
            if firstkey == 1 << 31:
                flags |= 1 << FLAGS.index("MOVABLE_KEYS")
            else:
                first, step = firstkey, 1
                rel = lastkey if lastkey < 0 else lastkey - firstkey
                last = rel + first if rel >= 0 else rel
        acl = 0
        for a in s.get("acl_categories", []):
            acl |= 1 << ACL.index(a)
        if not s.get("keel_acl_full"):
            if flags & (1 << FLAGS.index("WRITE")):
                acl |= 1 << ACL.index("WRITE")
            if flags & (1 << FLAGS.index("READONLY")):
                acl |= 1 << ACL.index("READ")
            if flags & (1 << FLAGS.index("ADMIN")):
                acl |= (1 << ACL.index("ADMIN")) | (1 << ACL.index("DANGEROUS"))
            if flags & (1 << FLAGS.index("PUBSUB")):
                acl |= 1 << ACL.index("PUBSUB")
            if flags & (1 << FLAGS.index("FAST")):
                acl |= 1 << ACL.index("FAST")
            if flags & (1 << FLAGS.index("BLOCKING")):
                acl |= 1 << ACL.index("BLOCKING")
            if not acl & (1 << ACL.index("FAST")):
                acl |= 1 << ACL.index("SLOW")
        tips = [t.lower() for t in s.get("command_tips", [])]
        tiparr = "NULL"
        if tips:
            tiparr = "tips_%s" % cid
            c.append("static const char *const %s[] = {%s};" % (tiparr, ", ".join(cstr(t) for t in tips)))
        hist = s.get("history", [])
        histarr = "NULL"
        if hist:
            histarr = "hist_%s" % cid
            c.append("static const char *const %s[] = {%s};" % (
                histarr, ", ".join(cstr(x) for pair in hist for x in pair)))
        doc_dep = 1 if "DEPRECATED" in s.get("doc_flags", []) else 0
        if "SYSCMD" in s.get("doc_flags", []):
            doc_dep |= 2
        fn = s.get("function")
        c.append("static struct command cmd_def_%s = {" % cid)
        c.append("    .name = %s, .fullname = %s, .container = %s," % (
            cstr(s["_name"]), cstr(full), cstr(s["container"].lower() if s.get("container") else None)))
        c.append("    .summary = %s, .complexity = %s, .since = %s, .group = %s," % (
            cstr(s.get("summary")), cstr(s.get("complexity")), cstr(s.get("since")), cstr(s.get("group"))))
        c.append("    .deprecated_since = %s, .replaced_by = %s, .doc_deprecated = %d," % (
            cstr(s.get("deprecated_since")), cstr(s.get("replaced_by")), doc_dep))
        c.append("    .arity = %d, .flags = %du, .acl = %du," % (s["arity"], flags, acl))
        c.append("    .ntips = %d, .tips = %s, .nhistory = %d, .history = %s," % (len(tips), tiparr, len(hist), histarr))
        c.append("    .nkey_specs = %d, .key_specs = %s, .nargs = %d, .args = %s, .nslots = %d," % (
            len(ks), ksarr, len(args), argarr, nslots))
        c.append("    .args_hidden = %d, .syntax_error = %s, .in_order = %d, .raw_args = %d," % (
            hidden, cstr(s.get("keel_syntax_error")), 1 if s.get("keel_parse_in_order") else 0,
            1 if s.get("keel_raw_arguments") else 0))
        if s.get("keel_max_words"):
            c.append("    .max_words = %d," % s["keel_max_words"])
        if s.get("keel_touches_arbitrary_keys"):
            c.append("    .arbitrary_keys = 1,")
        if s.get("keel_word_counts"):
            c.append("    .word_counts = 0x%xu," % sum(1 << n for n in s["keel_word_counts"]))
        if s.get("keel_max_words_error"):
            c.append("    .max_words_error = %s," % cstr(s["keel_max_words_error"]))
        c.append("    .doc_args = %s, .ndoc_args = %d," % (docarr, ndoc))
        c.append("    .defer_at = %d, .defer_slot = %d," % (
            defer_from + 1, layout.get("deferred", -1)))
        c.append("    .fn = %s, .first_key = %d, .last_key = %d, .key_step = %d," % (fn or "NULL", first, last, step))
        c.append("};")
        h.append("")

    # containers and subcommands
    tops = [f for f in order if "|" not in f]
    for full in order:
        if "|" in full:
            parent = full.split("|")[0]
            if parent not in cmds:
                raise SystemExit("%s: container %s has no schema" % (full, parent))
    for top in tops:
        subs = [f for f in order if f.startswith(top + "|")]
        if subs:
            c.append("static struct command *subs_%s[] = {%s, NULL};" % (
                ident(top), ", ".join("&cmd_def_%s" % ident(x) for x in subs)))
    c.append("")
    c.append("struct command *registry_commands[] = {")
    for top in tops:
        c.append("    &cmd_def_%s," % ident(top))
    c.append("    NULL};")
    c.append("const int registry_ncommands = %d;" % len(tops))
    c.append("")
    c.append("void registry_link_subcommands(void);")
    c.append("void registry_link_subcommands(void)")
    c.append("{")
    for top in tops:
        subs = [f for f in order if f.startswith(top + "|")]
        if subs:
            c.append("    cmd_def_%s.subs = subs_%s;" % (ident(top), ident(top)))
            c.append("    cmd_def_%s.nsub = %d;" % (ident(top), len(subs)))
            for x in subs:
                c.append("    cmd_def_%s.parent = &cmd_def_%s;" % (ident(x), ident(top)))
    c.append("}")
    c.append("")
    c.append("const char *const registry_acl_names[] = {%s, NULL};" % ", ".join(cstr(a.lower()) for a in ACL))
    c.append("const char *const registry_keyspec_flag_names[] = {%s, NULL};" % ", ".join(
        cstr(f if f in ("RO", "RW", "OW", "RM") else f.lower()) for f in KSFLAGS))
    # keel_check functions (defined with their handlers)
    h.append("struct argv_ref;")
    h.append("struct argval;")
    for chk in sorted(checks):
        h.append("const char *%s(const struct argv_ref *w, struct argval *v, "
                 "const struct argval *prev);" % chk)
    h.append("")
    c[c.index("@CHECKS@")] = "\n".join(
        "const char *%s(const struct argv_ref *w, struct argval *v, const struct argval *prev);"
        % chk for chk in sorted(checks))
    h.append("#endif")
    # A family macro and a member's own one may name the same slot (A_SORT_*
    # for the SORT family and SORT): keep one, refuse a conflict.
    seen, out = {}, []
    for line in h:
        if line.startswith("#define A_"):
            _, macro, val = line.split()
            if macro in seen:
                if seen[macro] != val:
                    raise SystemExit("slot macro %s is %s and %s" % (macro, seen[macro], val))
                continue
            seen[macro] = val
        out.append(line)
    h = out
    write_if_changed(out_c, "\n".join(c) + "\n")
    write_if_changed(out_h, "\n".join(h) + "\n")


def write_if_changed(path, text):
    """Leave an unchanged output alone, so ninja (restat) rebuilds nothing."""
    try:
        with open(path) as fh:
            if fh.read() == text:
                return
    except OSError:
        pass
    with open(path, "w") as fh:
        fh.write(text)


if __name__ == "__main__":
    main()
