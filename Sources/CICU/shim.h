// Stable, version-free names for the ICU C functions seq2seq uses. ICU's urename.h turns every
// function into a macro such as ubrk_open -> ubrk_open_72, which Swift cannot import; these
// static inline wrappers let clang expand the macro, so Swift code builds on any ICU version.
// Add a wrapper here when Text needs another ICU function. No logic beyond forwarding.
#ifndef SEQ2SEQ_CICU_SHIM_H
#define SEQ2SEQ_CICU_SHIM_H
#include <unicode/utypes.h>
#include <unicode/uchar.h>
#include <unicode/ustring.h>
#include <unicode/ubrk.h>
#include <unicode/unorm2.h>
#include <unicode/ucasemap.h>
#include <unicode/utf8.h>
#include <unicode/uversion.h>
#include <unicode/uregex.h>

static inline UBreakIterator *cicu_ubrk_open(UBreakIteratorType t, const char *loc,
        const UChar *text, int32_t len, UErrorCode *st) { return ubrk_open(t, loc, text, len, st); }
static inline void cicu_ubrk_setText(UBreakIterator *bi, const UChar *text, int32_t len,
        UErrorCode *st) { ubrk_setText(bi, text, len, st); }
static inline void cicu_ubrk_close(UBreakIterator *bi) { ubrk_close(bi); }
static inline int32_t cicu_ubrk_first(UBreakIterator *bi) { return ubrk_first(bi); }
static inline int32_t cicu_ubrk_next(UBreakIterator *bi) { return ubrk_next(bi); }
static inline int32_t cicu_ubrk_getRuleStatus(UBreakIterator *bi) { return ubrk_getRuleStatus(bi); }

static inline const UNormalizer2 *cicu_nfc(UErrorCode *st) { return unorm2_getNFCInstance(st); }
static inline const UNormalizer2 *cicu_nfkc(UErrorCode *st) { return unorm2_getNFKCInstance(st); }
static inline const UNormalizer2 *cicu_nfd(UErrorCode *st) { return unorm2_getNFDInstance(st); }
static inline int32_t cicu_unorm2_normalize(const UNormalizer2 *n, const UChar *s, int32_t l,
        UChar *d, int32_t cap, UErrorCode *st) { return unorm2_normalize(n, s, l, d, cap, st); }
static inline UBool cicu_unorm2_isNormalized(const UNormalizer2 *n, const UChar *s, int32_t l,
        UErrorCode *st) { return unorm2_isNormalized(n, s, l, st); }

static inline int32_t cicu_u_strToLower(UChar *d, int32_t cap, const UChar *s, int32_t l,
        const char *locale, UErrorCode *st) { return u_strToLower(d, cap, s, l, locale, st); }
static inline int32_t cicu_u_strFoldCase(UChar *d, int32_t cap, const UChar *s, int32_t l,
        uint32_t opt, UErrorCode *st) { return u_strFoldCase(d, cap, s, l, opt, st); }

static inline UChar *cicu_u_strFromUTF8WithSub(UChar *d, int32_t cap, int32_t *dlen,
        const char *s, int32_t l, UChar32 sub, int32_t *nsubs, UErrorCode *st) {
    return u_strFromUTF8WithSub(d, cap, dlen, s, l, sub, nsubs, st); }
static inline char *cicu_u_strToUTF8(char *d, int32_t cap, int32_t *dlen, const UChar *s, int32_t l,
        UErrorCode *st) { return u_strToUTF8(d, cap, dlen, s, l, st); }

static inline int8_t cicu_u_charType(UChar32 c) { return u_charType(c); }
static inline UBool cicu_u_isspace(UChar32 c) { return u_isspace(c); }
static inline UBool cicu_u_isUWhiteSpace(UChar32 c) { return u_isUWhiteSpace(c); }
static inline UBool cicu_u_isalnum(UChar32 c) { return u_isalnum(c); }
static inline UBool cicu_u_ispunct(UChar32 c) { return u_ispunct(c); }
static inline int32_t cicu_u_getIntPropertyValue(UChar32 c, UProperty p) { return u_getIntPropertyValue(c, p); }
static inline const char *cicu_u_errorName(UErrorCode code) { return u_errorName(code); }
static inline void cicu_u_getVersion(UVersionInfo v) { u_getVersion(v); }

static inline URegularExpression *cicu_uregex_open(const UChar *pattern, int32_t len, uint32_t flags,
        UErrorCode *st) { return uregex_open(pattern, len, flags, NULL, st); }
static inline void cicu_uregex_close(URegularExpression *re) { uregex_close(re); }
static inline void cicu_uregex_setText(URegularExpression *re, const UChar *text, int32_t len,
        UErrorCode *st) { uregex_setText(re, text, len, st); }
static inline UBool cicu_uregex_matches(URegularExpression *re, int32_t start, UErrorCode *st) {
    return uregex_matches(re, start, st); }
static inline UBool cicu_uregex_lookingAt(URegularExpression *re, int32_t start, UErrorCode *st) {
    return uregex_lookingAt(re, start, st); }
static inline UBool cicu_uregex_find(URegularExpression *re, int32_t start, UErrorCode *st) {
    return uregex_find(re, start, st); }
static inline int32_t cicu_uregex_groupCount(URegularExpression *re, UErrorCode *st) {
    return uregex_groupCount(re, st); }
static inline UBool cicu_uregex_findNext(URegularExpression *re, UErrorCode *st) { return uregex_findNext(re, st); }
static inline int32_t cicu_uregex_start(URegularExpression *re, int32_t group, UErrorCode *st) {
    return uregex_start(re, group, st); }
static inline int32_t cicu_uregex_end(URegularExpression *re, int32_t group, UErrorCode *st) {
    return uregex_end(re, group, st); }
#endif
