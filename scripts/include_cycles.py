#!/usr/bin/env python3
"""include_cycles.py — print every include cycle between the server's
modules (a module is a .c file with the .h of the same name; module A
depends on B when A.c or A.h includes B.h), one line per cycle with its
members and their edges; print nothing when there is none. Used by
scripts/check_house."""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIRS = ["core", "config", "schemas", "proto", "adapters", "server"]


def graph():
    where, files = {}, []
    for d in DIRS:
        for dp, _, fn in os.walk(os.path.join(ROOT, d)):
            for f in fn:
                if f.endswith((".c", ".h")):
                    files.append(os.path.join(dp, f))
                    where[f[:-2]] = dp
    g = {m: set() for m in where}
    for p in files:
        m = os.path.basename(p)[:-2]
        with open(p, encoding="utf-8", errors="replace") as f:
            for inc in re.findall(r'#include "([^"]+)\.h"', f.read()):
                b = os.path.basename(inc)
                if b in where and b != m:
                    g[m].add(b)
    return g


def cycles(g):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(g[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


for comp in cycles(graph()):
    members = set(comp)
    g = graph()
    edges = ", ".join("%s->%s" % (a, b) for a in comp for b in sorted(g[a] & members))
    print("cycle of %d modules: %s" % (len(comp), edges))
