// See include/csentencepiece.h.
#include "csentencepiece.h"

#include <sentencepiece_processor.h>

#include <cstring>
#include <string>
#include <vector>

struct cspm_processor {
    sentencepiece::SentencePieceProcessor processor;
};

static void copy_message(const std::string &message, char *error, int32_t capacity) {
    if (error == nullptr || capacity <= 0) return;
    size_t n = message.size() < static_cast<size_t>(capacity - 1) ? message.size() : static_cast<size_t>(capacity - 1);
    std::memcpy(error, message.data(), n);
    error[n] = 0;
}

extern "C" cspm_processor *cspm_load(const char *bytes, int64_t size, char *error, int32_t error_capacity) {
    auto *p = new (std::nothrow) cspm_processor();
    if (p == nullptr) { copy_message("out of memory", error, error_capacity); return nullptr; }
    const auto status = p->processor.LoadFromSerializedProto(std::string(bytes, static_cast<size_t>(size)));
    if (!status.ok()) {
        copy_message(status.ToString(), error, error_capacity);
        delete p;
        return nullptr;
    }
    return p;
}

extern "C" void cspm_free(cspm_processor *processor) { delete processor; }

extern "C" int32_t cspm_piece_count(const cspm_processor *processor) {
    return static_cast<int32_t>(processor->processor.GetPieceSize());
}

extern "C" const char *cspm_id_to_piece(const cspm_processor *processor, int32_t id, int32_t *length) {
    const std::string &piece = processor->processor.IdToPiece(id);
    *length = static_cast<int32_t>(piece.size());
    return piece.data();
}

extern "C" int32_t cspm_encode(cspm_processor *processor, const char *text, int64_t length, int32_t *ids, int32_t capacity) {
    std::vector<int> out;
    const auto status = processor->processor.Encode(std::string(text, static_cast<size_t>(length)), &out);
    if (!status.ok()) return -1;
    for (size_t i = 0; i < out.size() && i < static_cast<size_t>(capacity); ++i) ids[i] = out[i];
    return static_cast<int32_t>(out.size());
}

extern "C" int64_t cspm_decode_pieces(cspm_processor *processor, const char *const *pieces, const int32_t *lengths,
                                      int32_t count, char *text, int64_t capacity) {
    std::vector<std::string> in;
    in.reserve(static_cast<size_t>(count));
    for (int32_t i = 0; i < count; ++i) in.emplace_back(pieces[i], static_cast<size_t>(lengths[i]));
    std::string out;
    const auto status = processor->processor.Decode(in, &out);
    if (!status.ok()) return -1;
    const size_t n = out.size() < static_cast<size_t>(capacity) ? out.size() : static_cast<size_t>(capacity);
    if (n > 0) std::memcpy(text, out.data(), n);
    return static_cast<int64_t>(out.size());
}
