/* pqsort.h — partial quicksort: sorts an array enough that the elements of
 * ranks lrange..rrange are in their sorted places (the rest stays
 * partitioned around them). It is the Bentley-McIlroy quicksort Redis's
 * pqsort uses (BSD libc's), step for step, so equal elements end in the
 * same order as there (GEORADIUS ... COUNT). */
#ifndef KEEL_PQSORT_H
#define KEEL_PQSORT_H

#include <stddef.h>

void pqsort(void *a, size_t n, size_t es, int (*cmp)(const void *, const void *), size_t lrange,
            size_t rrange);

#endif
