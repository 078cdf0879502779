// The ICU C functions seq2seq uses, behind plain C types. ICU's own headers stay inside cicu.c:
// Foundation on Linux carries its own ICU headers (_FoundationICU) whose `enum UErrorCode` differs
// from the system ICU's, so a Swift module that saw both could not compile. Here a status is an
// int32_t (ICU's UErrorCode: <= 0 success or warning, > 0 failure), UChar is uint16_t, UChar32 is
// int32_t, UBool is int8_t, and ICU objects are opaque pointers. The names are version-free (ICU's
// urename.h turns ubrk_open into ubrk_open_72), so the same code builds on any ICU version.
// No logic beyond forwarding; add a function here when Text needs another ICU call.
#ifndef SEQ2SEQ_CICU_H
#define SEQ2SEQ_CICU_H
#include <stdint.h>

/// ICU's U_BUFFER_OVERFLOW_ERROR: the destination was too small; the length needed is returned.
#define CICU_BUFFER_OVERFLOW_ERROR 15

typedef struct cicu_breaker cicu_breaker;        // UBreakIterator
typedef struct cicu_normalizer cicu_normalizer;  // UNormalizer2 (owned by ICU, never freed)
typedef struct cicu_regex cicu_regex;            // URegularExpression

/// A word break iterator (UBRK_WORD) for `locale`.
cicu_breaker *cicu_ubrk_open(const char *locale, const uint16_t *text, int32_t length, int32_t *status);
void cicu_ubrk_setText(cicu_breaker *breaker, const uint16_t *text, int32_t length, int32_t *status);
void cicu_ubrk_close(cicu_breaker *breaker);
int32_t cicu_ubrk_first(cicu_breaker *breaker);
/// The next boundary, or -1 (UBRK_DONE).
int32_t cicu_ubrk_next(cicu_breaker *breaker);
int32_t cicu_ubrk_getRuleStatus(cicu_breaker *breaker);

const cicu_normalizer *cicu_nfc(int32_t *status);
const cicu_normalizer *cicu_nfkc(int32_t *status);
int32_t cicu_unorm2_normalize(const cicu_normalizer *normalizer, const uint16_t *source, int32_t length,
                              uint16_t *destination, int32_t capacity, int32_t *status);
int8_t cicu_unorm2_isNormalized(const cicu_normalizer *normalizer, const uint16_t *source, int32_t length,
                                int32_t *status);

int32_t cicu_u_strToLower(uint16_t *destination, int32_t capacity, const uint16_t *source, int32_t length,
                          const char *locale, int32_t *status);
/// UTF-8 → UTF-16; `substitute` < 0 makes ill-formed input an error, else it replaces each sequence.
uint16_t *cicu_u_strFromUTF8WithSub(uint16_t *destination, int32_t capacity, int32_t *destinationLength,
                                    const char *source, int32_t length, int32_t substitute,
                                    int32_t *substitutions, int32_t *status);
char *cicu_u_strToUTF8(char *destination, int32_t capacity, int32_t *destinationLength,
                       const uint16_t *source, int32_t length, int32_t *status);

/// ICU's White_Space property.
int8_t cicu_u_isUWhiteSpace(int32_t c);
/// 1 when the general category is Nd (decimal digit, any script).
int8_t cicu_is_decimal_digit(int32_t c);
/// ICU's name of a status ("U_ILLEGAL_ARGUMENT_ERROR").
const char *cicu_u_errorName(int32_t status);

cicu_regex *cicu_uregex_open(const uint16_t *pattern, int32_t length, uint32_t flags, int32_t *status);
void cicu_uregex_close(cicu_regex *regex);
void cicu_uregex_setText(cicu_regex *regex, const uint16_t *text, int32_t length, int32_t *status);
int8_t cicu_uregex_lookingAt(cicu_regex *regex, int32_t start, int32_t *status);
int8_t cicu_uregex_find(cicu_regex *regex, int32_t start, int32_t *status);
int32_t cicu_uregex_groupCount(cicu_regex *regex, int32_t *status);
int8_t cicu_uregex_findNext(cicu_regex *regex, int32_t *status);
int32_t cicu_uregex_start(cicu_regex *regex, int32_t group, int32_t *status);
int32_t cicu_uregex_end(cicu_regex *regex, int32_t group, int32_t *status);
#endif
