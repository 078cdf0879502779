// libseq2seq-malloc-counter.so: counts the process's heap allocations when preloaded
// (LD_PRELOAD), for `seq2seq bench translate --count-allocations`. Never linked into seq2seq itself.
#ifndef MALLOC_COUNTER_H
#define MALLOC_COUNTER_H
/// Calls of malloc, calloc, realloc, posix_memalign, aligned_alloc and memalign so far.
long seq2seq_malloc_count(void);
#endif
