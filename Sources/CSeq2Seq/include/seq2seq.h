/*
 * seq2seq.h: the C API of the seq2seq translation library (libseq2seq-c.so).
 *
 * Open a model folder made by `seq2seq train` (or several: an ensemble), translate a batch of
 * UTF-8 sentences, read each sentence's n-best translations (text, score, log-probability), free.
 * Calls from many threads on one translator are safe and batched together on its decoding thread;
 * only s2s_close must not run while another call uses the same translator (as with free()), and a
 * results object must not be read while s2s_results_free runs. No Swift type crosses this
 * boundary; strings are UTF-8, NUL-terminated.
 *
 * Errors: a function that fails returns NULL (or a negative count) and sets the calling thread's
 * last error, a one-line message naming the option or file, read with s2s_last_error().
 */
#ifndef SEQ2SEQ_H
#define SEQ2SEQ_H

#ifdef __cplusplus
extern "C" {
#endif

/* Options of s2s_open; fill with s2s_options_init, then change what you need. */
typedef struct s2s_options {
    int beam;              /* beam size K, 1..1000 (default 5) */
    int n_best;            /* translations per sentence, 1..beam (default 1) */
    double length_penalty; /* alpha of ((5 + |y|) / 6)^alpha (default 0.6) */
    int int8;              /* 1: int8 decoding, 0: float32 (default 0) */
    int threads;           /* threads in all (default 1) */
    int shortlist;         /* 1: use the folder's shortlist.bin when it has one (default 1) */
    int last_checkpoint;   /* 1: last.safetensors, 0: the best checkpoint (default 0) */
} s2s_options;

typedef struct s2s_translator s2s_translator; /* opaque */
typedef struct s2s_results s2s_results;       /* opaque */

/* Sets every field of *options to its default. */
void s2s_options_init(s2s_options *options);

/* Opens model folders (count >= 1; several: an ensemble sharing the target vocabulary) with
 * options (NULL: the defaults). Returns NULL on error (see s2s_last_error). Close with s2s_close. */
s2s_translator *s2s_open(const char *const *model_paths, int model_count, const s2s_options *options);

/* Translates count sentences (UTF-8, one sentence each). Returns NULL on error. Free the results
 * with s2s_results_free (they stay valid after s2s_close). */
s2s_results *s2s_translate(s2s_translator *translator, const char *const *sentences, int count);

/* The number of sentences translated; the number of translations of sentence i (at least 1). */
int s2s_results_count(const s2s_results *results);
int s2s_results_n_best(const s2s_results *results, int sentence);

/* Translation `rank` (0: best) of sentence i: its detokenized text (owned by the results), its
 * length-normalised score, and its log-probability (natural log, end of sentence included).
 * Out-of-range indices give NULL / NaN and set the last error. */
const char *s2s_results_text(const s2s_results *results, int sentence, int rank);
double s2s_results_score(const s2s_results *results, int sentence, int rank);
double s2s_results_log_prob(const s2s_results *results, int sentence, int rank);

void s2s_results_free(s2s_results *results);

/* Finishes queued work and frees the translator. */
void s2s_close(s2s_translator *translator);

/* The calling thread's last error message, or NULL when none; valid until this thread's next
 * error. s2s_open and s2s_translate clear it when they succeed; the s2s_results_* readers only set
 * it (on an out-of-range index or NULL results). */
const char *s2s_last_error(void);

#ifdef __cplusplus
}
#endif

#endif
