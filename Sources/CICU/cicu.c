// Forwarding to ICU (see include/cicu.h for why the types are plain C).
#include "cicu.h"
#include <unicode/utypes.h>
#include <unicode/uchar.h>
#include <unicode/ustring.h>
#include <unicode/ubrk.h>
#include <unicode/unorm2.h>
#include <unicode/uregex.h>

_Static_assert(CICU_BUFFER_OVERFLOW_ERROR == U_BUFFER_OVERFLOW_ERROR, "ICU's buffer overflow status");
_Static_assert(sizeof(UChar) == sizeof(uint16_t), "UChar is 16 bits");
_Static_assert(sizeof(UErrorCode) == sizeof(int32_t), "UErrorCode is an int32_t");

#define STATUS(s) ((UErrorCode *)(s))

cicu_breaker *cicu_ubrk_open(const char *locale, const uint16_t *text, int32_t length, int32_t *status) {
    return (cicu_breaker *)ubrk_open(UBRK_WORD, locale, (const UChar *)text, length, STATUS(status));
}
void cicu_ubrk_setText(cicu_breaker *b, const uint16_t *text, int32_t length, int32_t *status) {
    ubrk_setText((UBreakIterator *)b, (const UChar *)text, length, STATUS(status));
}
void cicu_ubrk_close(cicu_breaker *b) { ubrk_close((UBreakIterator *)b); }
int32_t cicu_ubrk_first(cicu_breaker *b) { return ubrk_first((UBreakIterator *)b); }
int32_t cicu_ubrk_next(cicu_breaker *b) { return ubrk_next((UBreakIterator *)b); }
int32_t cicu_ubrk_getRuleStatus(cicu_breaker *b) { return ubrk_getRuleStatus((UBreakIterator *)b); }

const cicu_normalizer *cicu_nfc(int32_t *status) { return (const cicu_normalizer *)unorm2_getNFCInstance(STATUS(status)); }
const cicu_normalizer *cicu_nfkc(int32_t *status) { return (const cicu_normalizer *)unorm2_getNFKCInstance(STATUS(status)); }
int32_t cicu_unorm2_normalize(const cicu_normalizer *n, const uint16_t *s, int32_t l, uint16_t *d, int32_t cap,
                              int32_t *status) {
    return unorm2_normalize((const UNormalizer2 *)n, (const UChar *)s, l, (UChar *)d, cap, STATUS(status));
}
int8_t cicu_unorm2_isNormalized(const cicu_normalizer *n, const uint16_t *s, int32_t l, int32_t *status) {
    return unorm2_isNormalized((const UNormalizer2 *)n, (const UChar *)s, l, STATUS(status));
}

int32_t cicu_u_strToLower(uint16_t *d, int32_t cap, const uint16_t *s, int32_t l, const char *locale, int32_t *status) {
    return u_strToLower((UChar *)d, cap, (const UChar *)s, l, locale, STATUS(status));
}
uint16_t *cicu_u_strFromUTF8WithSub(uint16_t *d, int32_t cap, int32_t *dlen, const char *s, int32_t l,
                                    int32_t sub, int32_t *nsubs, int32_t *status) {
    return (uint16_t *)u_strFromUTF8WithSub((UChar *)d, cap, dlen, s, l, sub, nsubs, STATUS(status));
}
char *cicu_u_strToUTF8(char *d, int32_t cap, int32_t *dlen, const uint16_t *s, int32_t l, int32_t *status) {
    return u_strToUTF8(d, cap, dlen, (const UChar *)s, l, STATUS(status));
}

int8_t cicu_u_isUWhiteSpace(int32_t c) { return u_isUWhiteSpace(c); }
int8_t cicu_is_decimal_digit(int32_t c) { return u_charType(c) == U_DECIMAL_DIGIT_NUMBER; }
const char *cicu_u_errorName(int32_t status) { return u_errorName((UErrorCode)status); }

cicu_regex *cicu_uregex_open(const uint16_t *pattern, int32_t length, uint32_t flags, int32_t *status) {
    return (cicu_regex *)uregex_open((const UChar *)pattern, length, flags, NULL, STATUS(status));
}
void cicu_uregex_close(cicu_regex *r) { uregex_close((URegularExpression *)r); }
void cicu_uregex_setText(cicu_regex *r, const uint16_t *text, int32_t length, int32_t *status) {
    uregex_setText((URegularExpression *)r, (const UChar *)text, length, STATUS(status));
}
int8_t cicu_uregex_lookingAt(cicu_regex *r, int32_t start, int32_t *status) {
    return uregex_lookingAt((URegularExpression *)r, start, STATUS(status));
}
int8_t cicu_uregex_find(cicu_regex *r, int32_t start, int32_t *status) {
    return uregex_find((URegularExpression *)r, start, STATUS(status));
}
int32_t cicu_uregex_groupCount(cicu_regex *r, int32_t *status) { return uregex_groupCount((URegularExpression *)r, STATUS(status)); }
int8_t cicu_uregex_findNext(cicu_regex *r, int32_t *status) { return uregex_findNext((URegularExpression *)r, STATUS(status)); }
int32_t cicu_uregex_start(cicu_regex *r, int32_t group, int32_t *status) {
    return uregex_start((URegularExpression *)r, group, STATUS(status));
}
int32_t cicu_uregex_end(cicu_regex *r, int32_t group, int32_t *status) {
    return uregex_end((URegularExpression *)r, group, STATUS(status));
}
