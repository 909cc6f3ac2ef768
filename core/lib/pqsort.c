/* pqsort.c — partial quicksort (see pqsort.h): median-of-three (ninther
 * above 40 elements) pivot, three-way partition that gathers the equal keys
 * at both ends, insertion sort below 7 elements, and recursion only into the
 * parts that overlap the wanted rank range. */
#include <string.h>

#include "pqsort.h"

static void swap_bytes(char *a, char *b, size_t n)
{
    while (n--) {
        char t = *a;
        *a++ = *b;
        *b++ = t;
    }
}

/* Exchange the n bytes at a and b (n may be 0). */
static void vec_swap(char *a, char *b, size_t n)
{
    if (n > 0) swap_bytes(a, b, n);
}

static char *median3(char *a, char *b, char *c, int (*cmp)(const void *, const void *))
{
    if (cmp(a, b) < 0) {
        if (cmp(b, c) < 0) return b;
        return cmp(a, c) < 0 ? c : a;
    }
    if (cmp(b, c) > 0) return b;
    return cmp(a, c) < 0 ? a : c;
}

static size_t smaller(size_t a, size_t b)
{
    return a < b ? a : b;
}

/* lo..hi: the first and last byte of the wanted ranks. */
static void psort(char *a, size_t n, size_t es, int (*cmp)(const void *, const void *),
                  const char *lo, const char *hi)
{
    char *pa, *pb, *pc, *pd, *pl, *pm, *pn;
    size_t d, r;
    int c;

    for (;;) {
        if (n < 7) {
            for (pm = a + es; pm < a + n * es; pm += es)
                for (pl = pm; pl > a && cmp(pl - es, pl) > 0; pl -= es)
                    swap_bytes(pl, pl - es, es);
            return;
        }
        pm = a + (n / 2) * es;
        if (n > 7) {
            pl = a;
            pn = a + (n - 1) * es;
            if (n > 40) {
                d = (n / 8) * es;
                pl = median3(pl, pl + d, pl + 2 * d, cmp);
                pm = median3(pm - d, pm, pm + d, cmp);
                pn = median3(pn - 2 * d, pn - d, pn, cmp);
            }
            pm = median3(pl, pm, pn, cmp);
        }
        swap_bytes(a, pm, es);
        pa = pb = a + es;
        pc = pd = a + (n - 1) * es;
        for (;;) {
            while (pb <= pc && (c = cmp(pb, a)) <= 0) {
                if (c == 0) {
                    swap_bytes(pa, pb, es);
                    pa += es;
                }
                pb += es;
            }
            while (pb <= pc && (c = cmp(pc, a)) >= 0) {
                if (c == 0) {
                    swap_bytes(pc, pd, es);
                    pd -= es;
                }
                pc -= es;
            }
            if (pb > pc) break;
            swap_bytes(pb, pc, es);
            pb += es;
            pc -= es;
        }
        pn = a + n * es;
        r = smaller((size_t)(pa - a), (size_t)(pb - pa));
        vec_swap(a, pb - r, r);
        r = smaller((size_t)(pd - pc), (size_t)(pn - pd) - es);
        vec_swap(pb, pn - r, r);
        if ((r = (size_t)(pb - pa)) > es) {
            const char *l = a, *rr = a + r - 1;
            if (!((lo < l && hi < l) || (lo > rr && hi > rr))) psort(a, r / es, es, cmp, lo, hi);
        }
        if ((r = (size_t)(pd - pc)) > es) {
            const char *l, *rr;
            a = pn - r;
            n = r / es;
            l = a;
            rr = a + r - 1;
            if (!((lo < l && hi < l) || (lo > rr && hi > rr))) continue;
        }
        return;
    }
}

void pqsort(void *a, size_t n, size_t es, int (*cmp)(const void *, const void *), size_t lrange,
            size_t rrange)
{
    char *base = a;
    psort(base, n, es, cmp, base + lrange * es, base + (rrange + 1) * es - 1);
}
