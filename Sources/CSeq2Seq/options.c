// The one function of seq2seq.h written in C: the defaults of struct s2s_options (the same as
// Seq2Seq's TranslatorOptions()). Every other entry point is Swift (Sources/Seq2SeqC).
#include "seq2seq.h"

void s2s_options_init(s2s_options *options) {
    if (!options) return;
    options->beam = 5;
    options->n_best = 1;
    options->length_penalty = 0.6;
    options->int8 = 0;
    options->threads = 1;
    options->shortlist = 1;
    options->last_checkpoint = 0;
}
