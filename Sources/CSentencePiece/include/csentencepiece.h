// A small C API over SentencePiece's C++ processor (Debian's libsentencepiece-dev), so that Swift
// code never sees a C++ type. Only the Text module imports it. No logic beyond forwarding and
// copying results into caller-owned buffers.
#ifndef SEQ2SEQ_CSENTENCEPIECE_H
#define SEQ2SEQ_CSENTENCEPIECE_H
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cspm_processor cspm_processor;

/// Loads a model from `size` bytes (a serialized ModelProto). NULL on failure, with the library's
/// message copied into `error` (NUL-terminated, at most `error_capacity` bytes).
cspm_processor *cspm_load(const char *bytes, int64_t size, char *error, int32_t error_capacity);
void cspm_free(cspm_processor *processor);
/// Pieces in the model (ids 0 ..< count).
int32_t cspm_piece_count(const cspm_processor *processor);
/// The piece of `id` (not NUL-terminated); its byte length in `*length`.
const char *cspm_id_to_piece(const cspm_processor *processor, int32_t id, int32_t *length);
/// Encodes `length` bytes of UTF-8 text into ids. Returns how many there are (-1 on error); only
/// the first `capacity` are written, so call again with a larger buffer when the count is larger.
int32_t cspm_encode(cspm_processor *processor, const char *text, int64_t length, int32_t *ids, int32_t capacity);
/// Decodes `count` pieces (`pieces[i]` of `lengths[i]` bytes) into text. Returns the text's byte
/// length (-1 on error); only the first `capacity` bytes are written.
int64_t cspm_decode_pieces(cspm_processor *processor, const char *const *pieces, const int32_t *lengths, int32_t count,
                           char *text, int64_t capacity);

#ifdef __cplusplus
}
#endif
#endif
