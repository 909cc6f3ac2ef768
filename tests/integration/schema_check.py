#!/usr/bin/python3
"""Check the command schema files in schemas/commands/.

Validates every schemas/commands/*.json on its own (shape, field names,
argument types, key spec references, containers), and with --oracle-port N
(or --spawn-oracle) compares each file with what a running Redis 7.0
redis-server answers to COMMAND INFO and COMMAND DOCS.

Usage:
    /usr/bin/python3 tests/integration/schema_check.py [--dir DIR]
        [--oracle-port N | --spawn-oracle] [-v]

Exits 1 when any file is invalid or differs from the oracle.
Files marked "keel_not_in_7_0": true are validated but not compared.
Summaries and history descriptions are Keel's own words and are never compared.
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DIR = os.path.normpath(os.path.join(HERE, '..', '..', 'schemas', 'commands'))

TOP_FIELDS = {
    'summary', 'complexity', 'group', 'since', 'arity', 'container', 'function',
    'history', 'deprecated_since', 'replaced_by', 'doc_flags', 'command_flags',
    'acl_categories', 'command_tips', 'key_specs', 'arguments',
}
# complexity is not required: Redis 7.0 has none for a few commands (MONITOR);
# the comparison with the oracle's COMMAND DOCS below checks it either way.
REQUIRED_TOP = ('summary', 'group', 'since', 'arity')
ARG_FIELDS = {
    'name', 'type', 'key_spec_index', 'token', 'optional', 'multiple',
    'multiple_token', 'since', 'deprecated_since', 'display', 'arguments',
}
ARG_TYPES = {'key', 'string', 'integer', 'double', 'unix-time', 'pattern',
             'pure-token', 'oneof', 'block'}
KEYSPEC_FIELDS = {'notes', 'flags', 'begin_search', 'find_keys'}
KEEL_TOP = {'keel_acl_full': bool, 'keel_not_in_7_0': bool, 'keel_shared_function': bool}

GROUPS = {'generic', 'string', 'list', 'set', 'sorted-set', 'hash', 'pubsub',
          'transactions', 'connection', 'server', 'scripting', 'hyperloglog',
          'cluster', 'sentinel', 'geo', 'stream', 'bitmap', 'module'}
# Redis 7.0 command flags in the order COMMAND INFO lists them.
INFO_FLAG_ORDER = ['write', 'readonly', 'denyoom', 'module', 'admin', 'pubsub',
                   'noscript', 'blocking', 'loading', 'stale', 'skip_monitor',
                   'skip_slowlog', 'asking', 'fast', 'no_auth',
                   'no_mandatory_keys', 'no_async_loading', 'no_multi',
                   'movablekeys', 'allow_busy']
# Flags Redis 7.0 keeps in its table but never shows in COMMAND INFO.
HIDDEN_FLAGS = {'MAY_REPLICATE', 'SENTINEL', 'ONLY_SENTINEL', 'PROTECTED'}
COMMAND_FLAGS = {f.upper() for f in INFO_FLAG_ORDER if f != 'movablekeys'} | HIDDEN_FLAGS
# ACL categories in Redis's table order (COMMAND INFO lists them in this order).
ACL_ORDER = ['keyspace', 'read', 'write', 'set', 'sortedset', 'list', 'hash',
             'string', 'bitmap', 'hyperloglog', 'geo', 'stream', 'pubsub',
             'admin', 'fast', 'slow', 'blocking', 'dangerous', 'connection',
             'transaction', 'scripting']
DOC_FLAGS = {'DEPRECATED', 'SYSCMD'}
KEYSPEC_FLAGS_UPPER = {'RO', 'RW', 'OW', 'RM'}
KEYSPEC_FLAGS = KEYSPEC_FLAGS_UPPER | {'ACCESS', 'UPDATE', 'INSERT', 'DELETE',
                                       'NOT_KEY', 'INCOMPLETE', 'VARIABLE_FLAGS'}
TIPS_PLAIN = {'NONDETERMINISTIC_OUTPUT', 'NONDETERMINISTIC_OUTPUT_ORDER'}
TIP_POLICIES = {
    'REQUEST_POLICY': {'ALL_NODES', 'ALL_SHARDS', 'MULTI_SHARD', 'SPECIAL'},
    'RESPONSE_POLICY': {'ONE_SUCCEEDED', 'ALL_SUCCEEDED', 'AGG_LOGICAL_AND',
                        'AGG_LOGICAL_OR', 'AGG_MIN', 'AGG_MAX', 'AGG_SUM',
                        'SPECIAL'},
}


class Report:
    def __init__(self):
        self.problems = {}  # file -> [msg]

    def add(self, fname, msg):
        self.problems.setdefault(fname, []).append(msg)


# ---------------------------------------------------------------- loading


def load_files(directory, rep):
    """Return {fullname: (fname, NAME, body)}; fullname is 'set' or 'client|kill'."""
    schemas = {}
    names = sorted(f for f in os.listdir(directory) if f.endswith('.json'))
    if not names:
        rep.add(directory, 'no schema files found')
    for fname in names:
        path = os.path.join(directory, fname)
        try:
            with open(path, encoding='utf-8') as f:
                doc = json.load(f)
        except (OSError, ValueError) as e:
            rep.add(fname, 'not valid JSON: %s' % e)
            continue
        if not isinstance(doc, dict) or len(doc) != 1:
            rep.add(fname, 'top level must be an object with exactly one key')
            continue
        (name, body), = doc.items()
        if not isinstance(body, dict):
            rep.add(fname, 'value of %r must be an object' % name)
            continue
        stem = fname[:-len('.json')]
        container = body.get('container')
        if container is not None:
            if not isinstance(container, str):
                rep.add(fname, 'container must be a string')
                continue
            full = container.lower() + '|' + name.lower()
            expect = container.lower() + '-' + name.lower()
        else:
            full = name.lower()
            expect = name.lower()
        if stem != expect:
            rep.add(fname, 'file name should be %s.json for %s' % (expect, full))
        if name != name.upper():
            rep.add(fname, 'key %r must be upper case' % name)
        if full in schemas:
            rep.add(fname, 'duplicate declaration of %s (also %s)' % (full, schemas[full][0]))
            continue
        schemas[full] = (fname, name, body)
    return schemas


# ---------------------------------------------------------------- validation


def is_version(v):
    parts = v.split('.') if isinstance(v, str) else []
    return len(parts) == 3 and all(p.isdigit() for p in parts)


def validate_args(fname, args, path, nspecs, rep, used_specs):
    if not isinstance(args, list):
        rep.add(fname, '%s: arguments must be a list' % path)
        return
    for i, a in enumerate(args):
        where = '%s[%d]' % (path, i)
        if not isinstance(a, dict):
            rep.add(fname, '%s: argument must be an object' % where)
            continue
        where = '%s(%s)' % (where, a.get('name'))
        for k in a:
            if k not in ARG_FIELDS and not k.startswith('keel_'):
                rep.add(fname, '%s: unknown argument field %r' % (where, k))
        if not isinstance(a.get('name'), str) or not a.get('name'):
            rep.add(fname, '%s: missing name' % where)
        t = a.get('type')
        if t not in ARG_TYPES:
            rep.add(fname, '%s: bad type %r' % (where, t))
        for k in ('optional', 'multiple', 'multiple_token'):
            if k in a and not isinstance(a[k], bool):
                rep.add(fname, '%s: %s must be a boolean' % (where, k))
        if a.get('multiple_token') and not a.get('multiple'):
            rep.add(fname, '%s: multiple_token without multiple' % where)
        for k in ('token', 'display'):
            # (a pure-token may be "": MIGRATE's empty_string, as Redis 7.0)
            empty_ok = k == 'token' and t == 'pure-token'
            if k in a and (not isinstance(a[k], str) or (not a[k] and not empty_ok)):
                rep.add(fname, '%s: %s must be a non-empty string' % (where, k))
        for k in ('since', 'deprecated_since'):
            if k in a and not is_version(a[k]):
                rep.add(fname, '%s: %s must be a version like 7.0.0' % (where, k))
        if t == 'pure-token' and 'token' not in a:
            rep.add(fname, '%s: pure-token without token' % where)
        if t == 'key':
            idx = a.get('key_spec_index')
            if not isinstance(idx, int) or isinstance(idx, bool):
                rep.add(fname, '%s: key argument without integer key_spec_index' % where)
            elif not 0 <= idx < nspecs:
                rep.add(fname, '%s: key_spec_index %d out of range (%d key specs)' % (where, idx, nspecs))
            else:
                used_specs.add(idx)
        elif 'key_spec_index' in a and t != 'pattern':
            # Redis 7.0 points SORT's BY/GET patterns at key specs too.
            rep.add(fname, '%s: key_spec_index on a non-key argument' % where)
        elif 'key_spec_index' in a:
            used_specs.add(a['key_spec_index'])
        if t in ('oneof', 'block'):
            sub = a.get('arguments')
            if not isinstance(sub, list) or not sub:
                rep.add(fname, '%s: %s needs a non-empty arguments list' % (where, t))
            else:
                validate_args(fname, sub, where, nspecs, rep, used_specs)
        elif 'arguments' in a:
            rep.add(fname, '%s: only oneof/block may have arguments' % where)


def validate_keyspec(fname, i, ks, rep):
    where = 'key_specs[%d]' % i
    if not isinstance(ks, dict):
        rep.add(fname, '%s: must be an object' % where)
        return
    for k in ks:
        if k not in KEYSPEC_FIELDS:
            rep.add(fname, '%s: unknown field %r' % (where, k))
    if 'notes' in ks and not isinstance(ks['notes'], str):
        rep.add(fname, '%s: notes must be a string' % where)
    flags = ks.get('flags')
    if not isinstance(flags, list):
        rep.add(fname, '%s: flags must be a list' % where)
    else:
        for f in flags:
            if f not in KEYSPEC_FLAGS:
                rep.add(fname, '%s: unknown key spec flag %r' % (where, f))
        if sum(1 for f in flags if f in KEYSPEC_FLAGS_UPPER) > 1:
            rep.add(fname, '%s: more than one of RO/RW/OW/RM' % where)
    bs = ks.get('begin_search')
    ok = False
    if isinstance(bs, dict) and len(bs) == 1:
        (t, spec), = bs.items()
        if t == 'index':
            ok = isinstance(spec, dict) and set(spec) == {'pos'} and isinstance(spec['pos'], int)
        elif t == 'keyword':
            ok = (isinstance(spec, dict) and set(spec) == {'keyword', 'startfrom'}
                  and isinstance(spec['keyword'], str) and isinstance(spec['startfrom'], int))
        elif t == 'unknown':
            ok = spec is None
    if not ok:
        rep.add(fname, '%s: bad begin_search %r' % (where, bs))
    fk = ks.get('find_keys')
    ok = False
    if isinstance(fk, dict) and len(fk) == 1:
        (t, spec), = fk.items()
        if t == 'range':
            ok = (isinstance(spec, dict) and set(spec) == {'lastkey', 'step', 'limit'}
                  and all(isinstance(v, int) for v in spec.values()))
        elif t == 'keynum':
            ok = (isinstance(spec, dict) and set(spec) == {'keynumidx', 'firstkey', 'step'}
                  and all(isinstance(v, int) for v in spec.values()))
        elif t == 'unknown':
            ok = spec is None
    if not ok:
        rep.add(fname, '%s: bad find_keys %r' % (where, fk))


def derived_acl(body):
    """ACL categories (lower case, table order) Redis 7.0 gives a command."""
    flags = set(body.get('command_flags', []))
    explicit = {c.lower() for c in body.get('acl_categories', [])}
    cats = set(explicit)
    if 'WRITE' in flags:
        cats.add('write')
    if 'READONLY' in flags and 'scripting' not in explicit:
        cats.add('read')
    if 'ADMIN' in flags:
        cats |= {'admin', 'dangerous'}
    if 'PUBSUB' in flags:
        cats.add('pubsub')
    if 'FAST' in flags:
        cats.add('fast')
    if 'BLOCKING' in flags:
        cats.add('blocking')
    if 'FAST' not in flags:
        cats.add('slow')
    return [c for c in ACL_ORDER if c in cats]


def acl_list(body):
    if body.get('keel_acl_full'):
        return [c.lower() for c in body.get('acl_categories', [])]
    return derived_acl(body)


def validate(schemas, rep):
    containers = {full.split('|')[0] for full in schemas if '|' in full}
    for full, (fname, name, body) in sorted(schemas.items()):
        for k in body:
            if k.startswith('keel_'):
                if k in KEEL_TOP and not isinstance(body[k], KEEL_TOP[k]):
                    rep.add(fname, '%s must be %s' % (k, KEEL_TOP[k].__name__))
            elif k not in TOP_FIELDS:
                rep.add(fname, 'unknown field %r' % k)
        for k in REQUIRED_TOP:
            # (Redis 7.0's LOLWUT documents no complexity)
            if k not in body and not (k == 'complexity' and name.upper() == 'LOLWUT'):
                rep.add(fname, 'missing required field %r' % k)
        for k in ('summary', 'complexity'):
            if k in body and (not isinstance(body[k], str) or not body[k]):
                rep.add(fname, '%s must be a non-empty string' % k)
        if 'group' in body and body['group'] not in GROUPS:
            rep.add(fname, 'unknown group %r' % body['group'])
        for k in ('since', 'deprecated_since'):
            if k in body and not is_version(body[k]):
                rep.add(fname, '%s must be a version like 7.0.0' % k)
        arity = body.get('arity')
        if not isinstance(arity, int) or isinstance(arity, bool) or arity == 0:
            rep.add(fname, 'arity must be a non-zero integer')
        is_sub = '|' in full
        if is_sub:
            parent = full.split('|')[0]
            if parent not in schemas:
                rep.add(fname, 'container %s has no file %s.json' % (parent.upper(), parent))
            if isinstance(arity, int) and abs(arity) < 2:
                rep.add(fname, 'a subcommand needs arity of at least 2')
        fn = body.get('function')
        want_fn = 'cmd_' + full.replace('|', '_').replace('-', '_')
        if fn is None:
            if full not in containers:
                rep.add(fname, 'missing "function" (expected %s)' % want_fn)
        elif fn != want_fn and not body.get('keel_shared_function'):
            rep.add(fname, 'function %r should be %r' % (fn, want_fn))
        hist = body.get('history', [])
        if not isinstance(hist, list) or not all(
                isinstance(h, list) and len(h) == 2 and is_version(h[0])
                and isinstance(h[1], str) and h[1] for h in hist):
            rep.add(fname, 'history must be a list of [version, description]')
        if 'replaced_by' in body and not isinstance(body['replaced_by'], str):
            rep.add(fname, 'replaced_by must be a string')
        for f in body.get('doc_flags', []):
            if f not in DOC_FLAGS:
                rep.add(fname, 'unknown doc flag %r' % f)
        if ('DEPRECATED' in body.get('doc_flags', [])) != ('deprecated_since' in body):
            rep.add(fname, 'doc flag DEPRECATED and deprecated_since must go together')
        flags = body.get('command_flags', [])
        for f in flags:
            if f not in COMMAND_FLAGS:
                rep.add(fname, 'unknown command flag %r' % f)
        if len(set(flags)) != len(flags):
            rep.add(fname, 'repeated command flag')
        acls = body.get('acl_categories', [])
        for c in acls:
            if not isinstance(c, str) or c.lower() not in ACL_ORDER or c != c.upper():
                rep.add(fname, 'bad acl category %r (upper case, no @)' % c)
        if body.get('keel_acl_full'):
            missing = set(derived_acl({'command_flags': flags, 'acl_categories': acls})) - {c.lower() for c in acls}
            if missing:
                rep.add(fname, 'keel_acl_full list lacks flag-derived categories %s' % sorted(missing))
            if {'fast', 'slow'} <= {c.lower() for c in acls}:
                rep.add(fname, 'both FAST and SLOW categories')
        for t in body.get('command_tips', []):
            head, _, tail = t.partition(':') if isinstance(t, str) else ('', '', '')
            if not (t in TIPS_PLAIN or tail in TIP_POLICIES.get(head, ())):
                rep.add(fname, 'unknown command tip %r' % t)
        specs = body.get('key_specs', [])
        if not isinstance(specs, list):
            rep.add(fname, 'key_specs must be a list')
            specs = []
        for i, ks in enumerate(specs):
            validate_keyspec(fname, i, ks, rep)
        used = set()
        validate_args(fname, body.get('arguments', []), 'arguments', len(specs), rep, used)
        # A NOT_KEY spec names a non-key argument (shard channels): Redis
        # types that argument as a string, so nothing references the spec.
        unused = set(i for i in range(len(specs))
                     if 'NOT_KEY' not in (specs[i].get('flags') or [])) - used
        if unused and 'arguments' in body:
            rep.add(fname, 'key specs %s not referenced by any key argument' % sorted(unused))


# ---------------------------------------------------------------- oracle


def legacy_range(specs):
    """first, last, step and movablekeys as Redis 7.0 derives them from key specs."""
    def is_plain(ks):
        return 'index' in ks['begin_search'] and 'range' in ks['find_keys']
    if not specs:
        return (0, 0, 0), False
    movable = False
    if len(specs) == 1 and is_plain(specs[0]):
        pos = specs[0]['begin_search']['index']['pos']
        rng = specs[0]['find_keys']['range']
        last = rng['lastkey'] + pos if rng['lastkey'] >= 0 else rng['lastkey']
        return (pos, last, rng['step']), 'INCOMPLETE' in specs[0]['flags']
    first, last, prev_last = None, 0, 0
    for ks in specs:
        if not is_plain(ks):
            movable = True
            continue
        pos = ks['begin_search']['index']['pos']
        rng = ks['find_keys']['range']
        if rng['step'] != 1 or (prev_last and prev_last != pos - 1):
            movable = True
            continue
        if 'INCOMPLETE' in ks['flags']:
            movable = True
        first = pos if first is None else min(first, pos)
        abs_last = rng['lastkey'] + pos if rng['lastkey'] >= 0 else rng['lastkey']
        last = max(last % 2**32, abs_last % 2**32)  # unsigned compare, as Redis does
        last = last - 2**32 if last >= 2**31 else last
        prev_last = last
    if first is None:
        return (0, 0, 0), True
    return (first, last, 1), movable


def info_keyspec(ks):
    """Our key spec in the shape COMMAND INFO replies with."""
    out = {}
    if 'notes' in ks:
        out['notes'] = ks['notes']
    out['flags'] = [f if f in KEYSPEC_FLAGS_UPPER else f.lower() for f in ks['flags']]
    (t, spec), = ks['begin_search'].items()
    if t == 'index':
        out['begin_search'] = {'type': 'index', 'spec': {'index': spec['pos']}}
    elif t == 'keyword':
        out['begin_search'] = {'type': 'keyword', 'spec': {'keyword': spec['keyword'], 'startfrom': spec['startfrom']}}
    else:
        out['begin_search'] = {'type': 'unknown', 'spec': {}}
    (t, spec), = ks['find_keys'].items()
    if t == 'range':
        out['find_keys'] = {'type': 'range', 'spec': {'lastkey': spec['lastkey'], 'keystep': spec['step'], 'limit': spec['limit']}}
    elif t == 'keynum':
        out['find_keys'] = {'type': 'keynum', 'spec': {'keynumidx': spec['keynumidx'], 'firstkey': spec['firstkey'], 'keystep': spec['step']}}
    else:
        out['find_keys'] = {'type': 'unknown', 'spec': {}}
    return out


def to_str(x):
    if isinstance(x, bytes):
        return x.decode('utf-8', 'replace')
    if isinstance(x, list):
        return [to_str(i) for i in x]
    return x


def pairs(lst):
    return {lst[i]: lst[i + 1] for i in range(0, len(lst) - 1, 2)} if isinstance(lst, list) else {}


def oracle_keyspec(raw):
    m = pairs(raw)
    out = {}
    if 'notes' in m:
        out['notes'] = m['notes']
    out['flags'] = m.get('flags', [])
    for part in ('begin_search', 'find_keys'):
        p = pairs(m.get(part, []))
        spec = pairs(p.get('spec', []))
        out[part] = {'type': p.get('type'), 'spec': spec}
    return out


def oracle_args(raw):
    out = []
    for a in raw or []:
        m = pairs(a)
        d = {'name': m.get('name'), 'type': m.get('type')}
        for k in ('key_spec_index', 'token', 'since', 'deprecated_since'):
            if k in m:
                d[k] = m[k]
        if 'display_text' in m:
            d['display'] = m['display_text']
        for f in m.get('flags', []):
            d[f] = True
        if 'arguments' in m:
            d['arguments'] = oracle_args(m['arguments'])
        extra = set(m) - {'name', 'type', 'key_spec_index', 'token', 'since',
                          'deprecated_since', 'display_text', 'flags', 'arguments',
                          'summary', 'value'}
        for k in extra:
            d['?' + k] = m[k]
        out.append(d)
    return out


def ours_args(args):
    out = []
    for a in args or []:
        if a.get('keel_hidden'):  # matched by Keel, not shown by COMMAND DOCS
            continue
        d = {'name': a.get('name'), 'type': a.get('type')}
        for k in ('key_spec_index', 'token', 'since', 'deprecated_since', 'display'):
            if k in a:
                d[k] = a[k]
        for f in ('optional', 'multiple', 'multiple_token'):
            if a.get(f):
                d[f] = True
        if 'arguments' in a:
            d['arguments'] = ours_args(a['arguments'])
        out.append(d)
    return out


def diff_args(fname, ours, theirs, path, rep):
    if len(ours) != len(theirs):
        rep.add(fname, '%s: %d arguments, Redis has %d (%s vs %s)' % (
            path, len(ours), len(theirs), [a['name'] for a in ours], [a['name'] for a in theirs]))
    for i, (a, b) in enumerate(zip(ours, theirs)):
        where = '%s[%d](%s)' % (path, i, b.get('name'))
        for k in sorted((set(a) | set(b)) - {'arguments'}):
            if a.get(k) != b.get(k):
                rep.add(fname, '%s: %s is %r, Redis has %r' % (where, k, a.get(k), b.get(k)))
        if 'arguments' in a or 'arguments' in b:
            diff_args(fname, a.get('arguments', []), b.get('arguments', []), where, rep)


class Oracle:
    """A tiny RESP2 client built on redis-py's Connection (no reply callbacks)."""

    def __init__(self, port):
        try:
            import redis  # only needed for the oracle comparison
        except ImportError:
            sys.exit('schema_check: the redis module is missing; run with /usr/bin/python3 (python3-redis)')
        self.conn = redis.Connection(host='127.0.0.1', port=port, socket_timeout=10)
        self.conn.connect()

    def call(self, *args):
        self.conn.send_command(*args)
        return to_str(self.conn.read_response())


def compare(schemas, port, rep, verbose):
    orc = Oracle(port)
    compared = skipped = 0
    for full, (fname, name, body) in sorted(schemas.items()):
        if body.get('keel_not_in_7_0'):
            skipped += 1
            if verbose:
                print('skip %s (keel_not_in_7_0)' % full)
            continue
        compared += 1
        info = orc.call('COMMAND', 'INFO', full)
        if not info or info[0] is None:
            rep.add(fname, 'Redis has no command %s' % full)
            continue
        info = info[0]
        (o_name, o_arity, o_flags, o_first, o_last, o_step, o_acl, o_tips,
         o_specs, o_subs) = info[:10]
        if o_name != full:
            rep.add(fname, 'name %s, Redis has %s' % (full, o_name))
        if body.get('arity') != o_arity:
            rep.add(fname, 'arity %r, Redis has %r' % (body.get('arity'), o_arity))
        specs = body.get('key_specs', [])
        (first, last, step), movable = legacy_range(specs)
        flags = {f.lower() for f in body.get('command_flags', []) if f not in HIDDEN_FLAGS}
        if movable:
            flags.add('movablekeys')
        ours_flags = [f for f in INFO_FLAG_ORDER if f in flags]
        if ours_flags != o_flags:
            rep.add(fname, 'flags %s, Redis has %s' % (ours_flags, o_flags))
        if (first, last, step) != (o_first, o_last, o_step):
            rep.add(fname, 'first/last/step %s, Redis has %s' % ((first, last, step), (o_first, o_last, o_step)))
        ours_acl = ['@' + c for c in acl_list(body)]
        if ours_acl != o_acl:
            rep.add(fname, 'acl categories %s, Redis has %s' % (ours_acl, o_acl))
        ours_tips = [t.lower() for t in body.get('command_tips', [])]
        if ours_tips != o_tips:
            rep.add(fname, 'tips %s, Redis has %s' % (ours_tips, o_tips))
        ours_specs = [info_keyspec(ks) for ks in specs]
        theirs_specs = [oracle_keyspec(ks) for ks in o_specs]
        if ours_specs != theirs_specs:
            rep.add(fname, 'key specs %s, Redis has %s' % (
                json.dumps(ours_specs), json.dumps(theirs_specs)))
        if '|' not in full:
            theirs_subs = {pairs_name(s) for s in o_subs}
            ours_subs = {f for f in schemas if f.startswith(full + '|')}
            for s in sorted(ours_subs - theirs_subs):
                if not schemas[s][2].get('keel_not_in_7_0'):
                    rep.add(fname, 'subcommand %s is not a Redis 7.0 subcommand' % s)
            if theirs_subs and 'function' in body and full != 'command':
                rep.add(fname, 'container has a function (Redis answers the bare container with an arity error)')

        docs = pairs(orc.call('COMMAND', 'DOCS', full))
        doc = pairs(docs.get(full, []))
        if not doc:
            rep.add(fname, 'COMMAND DOCS has nothing for %s' % full)
            continue
        for k in ('group', 'since', 'complexity', 'deprecated_since', 'replaced_by'):
            if body.get(k) != doc.get(k):
                rep.add(fname, '%s %r, Redis has %r' % (k, body.get(k), doc.get(k)))
        ours_doc_flags = [f.lower() for f in body.get('doc_flags', [])]
        if ours_doc_flags != doc.get('doc_flags', []):
            rep.add(fname, 'doc_flags %s, Redis has %s' % (ours_doc_flags, doc.get('doc_flags', [])))
        ours_hist = [h[0] for h in body.get('history', [])]
        theirs_hist = [h[0] for h in doc.get('history', [])]
        if ours_hist != theirs_hist:
            rep.add(fname, 'history versions %s, Redis has %s' % (ours_hist, theirs_hist))
        diff_args(fname, ours_args(body.get('arguments')), oracle_args(doc.get('arguments')),
                  'arguments', rep)
    return compared, skipped


def pairs_name(sub):
    return sub[0] if isinstance(sub, list) and sub else None


# ---------------------------------------------------------------- main


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def spawn_oracle():
    exe = shutil.which('redis-server')
    if not exe:
        sys.exit('schema_check: redis-server not found for --spawn-oracle')
    port = free_port()
    proc = subprocess.Popen([exe, '--port', str(port), '--bind', '127.0.0.1',
                             '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            socket.create_connection(('127.0.0.1', port), timeout=0.2).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    sys.exit('schema_check: spawned redis-server did not start')


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--dir', default=DEFAULT_DIR, help='schema directory (default: %(default)s)')
    g = ap.add_mutually_exclusive_group()
    g.add_argument('--oracle-port', type=int, help='port of a running Redis 7.0 redis-server')
    g.add_argument('--spawn-oracle', action='store_true', help='start a redis-server on a free port for the comparison')
    ap.add_argument('-v', '--verbose', action='store_true')
    opts = ap.parse_args()

    rep = Report()
    schemas = load_files(opts.dir, rep)
    validate(schemas, rep)
    compared = skipped = 0
    proc = None
    try:
        port = opts.oracle_port
        if opts.spawn_oracle:
            proc, port = spawn_oracle()
        if port:
            compared, skipped = compare(schemas, port, rep, opts.verbose)
    finally:
        if proc:
            proc.terminate()
            proc.wait(timeout=10)

    files = sorted({v[0] for v in schemas.values()} | set(rep.problems))
    failed = 0
    for fname in files:
        msgs = rep.problems.get(fname)
        if msgs:
            failed += 1
            for m in msgs:
                print('%s: %s' % (fname, m))
        elif opts.verbose:
            print('%s: ok' % fname)
    print('schema_check: %d files, %d compared with the oracle, %d skipped as not in 7.0'
          % (len(schemas), compared, skipped))
    print('%d passed, %d failed' % (len(files) - failed, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
