/* rax.c — the radix tree (rax.h): nodes with a compressed edge, a sorted
 * child array indexed by each child's first edge byte, and ordered seeks by
 * recursive descent. */
#include "rax.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

struct rax_node {
    uint32_t plen;     /* bytes of the edge into this node (0 for the head) */
    uint16_t nchild;   /* children, sorted by their edge's first byte */
    uint16_t capchild; /* allocated slots of children */
    bool iskey;
    void *value;
    unsigned char *prefix; /* plen bytes (NULL when 0) */
    struct rax_node **children;
};

static struct rax_node *node_new(const unsigned char *p, size_t n)
{
    struct rax_node *x = xcalloc(1, sizeof(*x));
    x->plen = (uint32_t)n;
    if (n) {
        x->prefix = xmalloc(n);
        memcpy(x->prefix, p, n);
    }
    return x;
}

static void node_free(struct rax_node *x)
{
    free(x->prefix);
    free(x->children);
    free(x);
}

struct rax *rax_new(void)
{
    struct rax *r = xcalloc(1, sizeof(*r));
    r->head = node_new(NULL, 0);
    r->numnodes = 1;
    return r;
}

static void free_rec(struct rax_node *x, void (*free_val)(void *))
{
    uint16_t i;
    for (i = 0; i < x->nchild; i++)
        free_rec(x->children[i], free_val);
    if (x->iskey && free_val) free_val(x->value);
    node_free(x);
}

void rax_free(struct rax *r, void (*free_val)(void *))
{
    if (!r) return;
    free_rec(r->head, free_val);
    free(r);
}

/* Index of the child whose edge starts with byte b, or where it would go
 * (*found tells which). */
static int child_pos(const struct rax_node *x, unsigned char b, bool *found)
{
    int lo = 0, hi = x->nchild;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        unsigned char c = x->children[mid]->prefix[0];
        if (c == b) {
            *found = true;
            return mid;
        }
        if (c < b)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

/* numnodes counts the nodes Redis's rax would have for the same keys (XINFO
 * STREAM's radix-tree-nodes, MEMORY USAGE and the lazy-free effort of a
 * stream read it): Redis's nodes hold one byte per child, so each child of
 * a node with two or more children starts a node of its own and, when its
 * edge is longer than one byte, the rest of the edge is one more
 * (compressed) node. tail() is that extra node of child c under a parent
 * with nchild children. */
static int tail(unsigned nchild, const struct rax_node *c)
{
    return nchild >= 2 && c->plen > 1;
}

static void child_add(struct rax *r, struct rax_node *x, int pos, struct rax_node *c)
{
    if (x->nchild == 1) r->numnodes += (uint64_t)tail(2, x->children[0]);
    r->numnodes += 1 + (uint64_t)tail(x->nchild + 1u, c);
    if (x->nchild == x->capchild) {
        x->capchild = x->capchild ? (uint16_t)(x->capchild * 2) : 2;
        if (x->capchild > 256) x->capchild = 256;
        x->children = xrealloc(x->children, sizeof(*x->children) * x->capchild);
    }
    memmove(&x->children[pos + 1], &x->children[pos],
            sizeof(*x->children) * (size_t)(x->nchild - pos));
    x->children[pos] = c;
    x->nchild++;
}

static void child_del(struct rax *r, struct rax_node *x, int pos)
{
    r->numnodes -= 1 + (uint64_t)tail(x->nchild, x->children[pos]);
    if (x->nchild == 2) r->numnodes -= (uint64_t)tail(2, x->children[1 - pos]);
    memmove(&x->children[pos], &x->children[pos + 1],
            sizeof(*x->children) * (size_t)(x->nchild - pos - 1));
    x->nchild--;
}

static bool insert(struct rax *r, const unsigned char *key, size_t len, void *val, void **old,
                   bool replace)
{
    struct rax_node *x = r->head;
    size_t i = 0;
    if (old) *old = NULL;
    for (;;) {
        struct rax_node *c, *mid;
        bool found;
        int pos;
        size_t m;
        if (i == len) {
            if (x->iskey) {
                if (old) *old = x->value;
                if (replace) x->value = val;
                return false;
            }
            x->iskey = true;
            x->value = val;
            r->numele++;
            return true;
        }
        pos = child_pos(x, key[i], &found);
        if (!found) {
            c = node_new(key + i, len - i);
            c->iskey = true;
            c->value = val;
            child_add(r, x, pos, c);
            r->numele++;
            return true;
        }
        c = x->children[pos];
        m = 1;
        while (m < c->plen && i + m < len && c->prefix[m] == key[i + m])
            m++;
        if (m == c->plen) {
            x = c;
            i += m;
            continue;
        }
        /* Split c's edge after m bytes: mid takes c's place under x. */
        mid = node_new(c->prefix, m);
        r->numnodes += 1 + (uint64_t)tail(x->nchild, mid) - (uint64_t)tail(x->nchild, c);
        memmove(c->prefix, c->prefix + m, c->plen - m);
        c->plen -= (uint32_t)m;
        mid->children = xmalloc(sizeof(*mid->children) * 2);
        mid->capchild = 2;
        mid->children[0] = c;
        mid->nchild = 1;
        x->children[pos] = mid;
        x = mid;
        i += m;
    }
}

bool rax_insert(struct rax *r, const unsigned char *key, size_t len, void *val, void **old)
{
    return insert(r, key, len, val, old, true);
}

bool rax_try_insert(struct rax *r, const unsigned char *key, size_t len, void *val)
{
    return insert(r, key, len, val, NULL, false);
}

static const struct rax_node *find_node(const struct rax *r, const unsigned char *key, size_t len)
{
    const struct rax_node *x = r->head;
    size_t i = 0;
    while (i < len) {
        bool found;
        int pos = child_pos(x, key[i], &found);
        const struct rax_node *c;
        if (!found) return NULL;
        c = x->children[pos];
        if (c->plen > len - i || memcmp(c->prefix, key + i, c->plen) != 0) return NULL;
        i += c->plen;
        x = c;
    }
    return x->iskey ? x : NULL;
}

bool rax_find(const struct rax *r, const unsigned char *key, size_t len, void **val)
{
    const struct rax_node *x = find_node(r, key, len);
    if (!x) return false;
    if (val) *val = x->value;
    return true;
}

void **rax_slot(struct rax *r, const unsigned char *key, size_t len)
{
    struct rax_node *x = (struct rax_node *)find_node(r, key, len);
    return x ? &x->value : NULL;
}

/* Merge x (not a key, one child; its parent has pn children) with its only
 * child: x takes the child's edge appended to its own, its children and its
 * value. */
static void merge_child(struct rax *r, struct rax_node *x, unsigned pn)
{
    struct rax_node *c = x->children[0];
    unsigned char *p = xmalloc((size_t)x->plen + c->plen);
    r->numnodes -= 1 + (uint64_t)tail(pn, x);
    memcpy(p, x->prefix, x->plen);
    memcpy(p + x->plen, c->prefix, c->plen);
    free(x->prefix);
    x->prefix = p;
    x->plen += c->plen;
    free(x->children);
    x->children = c->children;
    x->nchild = c->nchild;
    x->capchild = c->capchild;
    x->iskey = c->iskey;
    x->value = c->value;
    c->children = NULL;
    node_free(c);
    r->numnodes += (uint64_t)tail(pn, x);
}

bool rax_remove(struct rax *r, const unsigned char *key, size_t len, void **old)
{
    struct rax_node *x = r->head, *parent = NULL, *gparent = NULL;
    int ppos = -1;
    size_t i = 0;
    while (i < len) {
        bool found;
        int pos = child_pos(x, key[i], &found);
        struct rax_node *c;
        if (!found) return false;
        c = x->children[pos];
        if (c->plen > len - i || memcmp(c->prefix, key + i, c->plen) != 0) return false;
        i += c->plen;
        gparent = parent;
        parent = x;
        ppos = pos;
        x = c;
    }
    if (!x->iskey) return false;
    if (old) *old = x->value;
    x->iskey = false;
    x->value = NULL;
    r->numele--;
    if (!parent) return true; /* the head stays */
    if (x->nchild == 0) {
        child_del(r, parent, ppos);
        node_free(x);
        if (parent != r->head && !parent->iskey && parent->nchild == 1)
            merge_child(r, parent, gparent->nchild);
    } else if (x->nchild == 1) {
        merge_child(r, x, parent->nchild);
    }
    return true;
}

/* ---- ordered seeks ---- */

struct kbuf {
    unsigned char *p;
    size_t n, cap;
};

static void kb_push(struct kbuf *b, const unsigned char *p, size_t n)
{
    if (!n) return;
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2;
        b->p = xrealloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

/* Smallest / largest key in x's subtree (x's edge already in b). */
static const struct rax_node *sub_first(const struct rax_node *x, struct kbuf *b)
{
    while (!x->iskey) {
        if (!x->nchild) return NULL; /* only an empty head */
        x = x->children[0];
        kb_push(b, x->prefix, x->plen);
    }
    return x;
}

static const struct rax_node *sub_last(const struct rax_node *x, struct kbuf *b)
{
    while (x->nchild) {
        x = x->children[x->nchild - 1];
        kb_push(b, x->prefix, x->plen);
    }
    return x->iskey ? x : NULL;
}

static int cmp_edge(const struct rax_node *c, const unsigned char *rest, size_t rlen, size_t *m)
{
    size_t n = c->plen < rlen ? c->plen : rlen;
    *m = n;
    return memcmp(c->prefix, rest, n);
}

/* The smallest key > (strict) or >= rest in x's subtree. */
static const struct rax_node *find_ge(const struct rax_node *x, const unsigned char *rest,
                                      size_t rlen, bool strict, struct kbuf *b)
{
    uint16_t k;
    size_t base = b->n;
    if (rlen == 0) {
        if (x->iskey && !strict) return x;
        if (!x->nchild) return NULL;
        kb_push(b, x->children[0]->prefix, x->children[0]->plen);
        return sub_first(x->children[0], b);
    }
    for (k = 0; k < x->nchild; k++) {
        const struct rax_node *c = x->children[k], *f;
        size_t m;
        int cmp = cmp_edge(c, rest, rlen, &m);
        if (cmp < 0) continue;
        b->n = base;
        kb_push(b, c->prefix, c->plen);
        if (cmp > 0 || c->plen > rlen) return sub_first(c, b);
        f = find_ge(c, rest + c->plen, rlen - c->plen, strict, b);
        if (f) return f;
    }
    b->n = base;
    return NULL;
}

/* The largest key < (strict) or <= rest in x's subtree. */
static const struct rax_node *find_le(const struct rax_node *x, const unsigned char *rest,
                                      size_t rlen, bool strict, struct kbuf *b)
{
    int k;
    size_t base = b->n;
    if (rlen == 0) return x->iskey && !strict ? x : NULL;
    for (k = x->nchild - 1; k >= 0; k--) {
        const struct rax_node *c = x->children[k], *f;
        size_t m;
        int cmp = cmp_edge(c, rest, rlen, &m);
        if (cmp > 0 || (cmp == 0 && c->plen > rlen)) continue;
        b->n = base;
        kb_push(b, c->prefix, c->plen);
        if (cmp < 0) {
            f = sub_last(c, b);
        } else {
            f = find_le(c, rest + c->plen, rlen - c->plen, strict, b);
        }
        if (f) return f;
    }
    b->n = base;
    return x->iskey ? x : NULL;
}

void rax_iter_start(struct rax_iter *it, const struct rax *r)
{
    memset(it, 0, sizeof(*it));
    it->r = r;
    it->key = it->keybuf;
    it->key_cap = sizeof(it->keybuf);
}

void rax_iter_stop(struct rax_iter *it)
{
    if (it->key != it->keybuf) free(it->key);
    it->key = it->keybuf;
    it->key_cap = sizeof(it->keybuf);
}

static bool iter_set(struct rax_iter *it, const struct rax_node *x, struct kbuf *b)
{
    if (!x) {
        it->valid = false;
        free(b->p);
        return false;
    }
    if (b->n > it->key_cap) {
        if (it->key != it->keybuf) free(it->key);
        it->key = xmalloc(b->n);
        it->key_cap = b->n;
    }
    if (b->n) memcpy(it->key, b->p, b->n);
    it->key_len = b->n;
    it->data = x->value;
    it->valid = true;
    free(b->p);
    return true;
}

bool rax_seek(struct rax_iter *it, enum rax_op op, const unsigned char *key, size_t len)
{
    struct kbuf b = {NULL, 0, 0};
    const struct rax_node *x = NULL;
    const struct rax_node *h = it->r->head;
    switch (op) {
    case RAX_FIRST:
        x = sub_first(h, &b);
        break;
    case RAX_LAST:
        x = sub_last(h, &b);
        break;
    case RAX_GE:
    case RAX_GT:
        x = find_ge(h, key, len, op == RAX_GT, &b);
        break;
    case RAX_LE:
    case RAX_LT:
        x = find_le(h, key, len, op == RAX_LT, &b);
        break;
    case RAX_EQ:
        x = find_node(it->r, key, len);
        if (x) kb_push(&b, key, len);
        break;
    }
    return iter_set(it, x, &b);
}

bool rax_next(struct rax_iter *it)
{
    unsigned char tmp[64], *k = tmp;
    bool ok;
    if (!it->valid) return false;
    if (it->key_len > sizeof(tmp)) k = xmalloc(it->key_len);
    memcpy(k, it->key, it->key_len);
    ok = rax_seek(it, RAX_GT, k, it->key_len);
    if (k != tmp) free(k);
    return ok;
}

bool rax_prev(struct rax_iter *it)
{
    unsigned char tmp[64], *k = tmp;
    bool ok;
    if (!it->valid) return false;
    if (it->key_len > sizeof(tmp)) k = xmalloc(it->key_len);
    memcpy(k, it->key, it->key_len);
    ok = rax_seek(it, RAX_LT, k, it->key_len);
    if (k != tmp) free(k);
    return ok;
}
