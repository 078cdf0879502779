/* Translates the lines of stdin with a model folder through the C API and prints the best
 * translation of each (with -n K, K lines `N ||| TEXT ||| LOGPROB ||| SCORE` per input line).
 *   cc translate.c -I Sources/CSeq2Seq/include -L .build/release -lseq2seq-c -o translate
 *   LD_LIBRARY_PATH=.build/release ./translate MODEL_FOLDER [-n K] < input.txt */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "seq2seq.h"

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODEL_FOLDER [-n K] < input\n", argv[0]);
        return 2;
    }
    s2s_options options;
    s2s_options_init(&options);
    if (argc == 4 && strcmp(argv[2], "-n") == 0) options.n_best = atoi(argv[3]);
    const char *models[1] = {argv[1]};
    s2s_translator *translator = s2s_open(models, 1, &options);
    if (!translator) {
        fprintf(stderr, "translate: %s\n", s2s_last_error());
        return 1;
    }
    char **lines = NULL;
    int count = 0, capacity = 0;
    char *line = NULL;
    size_t size = 0;
    ssize_t length;
    while ((length = getline(&line, &size, stdin)) >= 0) {
        if (length > 0 && line[length - 1] == '\n') line[length - 1] = '\0';
        if (count == capacity) {
            capacity = capacity ? 2 * capacity : 16;
            lines = realloc(lines, capacity * sizeof *lines);
        }
        lines[count++] = strdup(line);
    }
    free(line);
    s2s_results *results = s2s_translate(translator, (const char *const *)lines, count);
    if (!results) {
        fprintf(stderr, "translate: %s\n", s2s_last_error());
        return 1;
    }
    for (int i = 0; i < s2s_results_count(results); i++) {
        if (options.n_best == 1) {
            printf("%s\n", s2s_results_text(results, i, 0));
            continue;
        }
        for (int k = 0; k < s2s_results_n_best(results, i); k++) {
            printf("%d ||| %s ||| %.4f ||| %.4f\n", i, s2s_results_text(results, i, k),
                   s2s_results_log_prob(results, i, k), s2s_results_score(results, i, k));
        }
    }
    s2s_results_free(results);
    s2s_close(translator);
    for (int i = 0; i < count; i++) free(lines[i]);
    free(lines);
    return 0;
}
