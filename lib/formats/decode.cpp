#include "gguftk/decode.h"

#include <cstring>

#include "formats/all.h"
#include "gguftk/error.h"

namespace gguftk {
namespace {

using namespace formats;

template <OutType O>
inline void store(const float* v, int n, uint8_t* dst) {
    if constexpr (O == OutType::F32) {
        memcpy(dst, v, size_t(n) * 4);
    } else {
        uint16_t h[256];
        for (int i = 0; i < n; ++i) h[i] = O == OutType::F16 ? f32_to_fp16(v[i]) : f32_to_bf16(v[i]);
        memcpy(dst, h, size_t(n) * 2);
    }
}

// One block at a time through a small float buffer: the reference definition, then rounding.
template <class F, OutType O>
void decode_loop(const uint8_t* src, uint64_t n_blocks, uint8_t* dst) {
    constexpr int kChunk = F::block_elems >= 256 ? F::block_elems : 256 / F::block_elems * F::block_elems;
    constexpr int kBlocksPerChunk = kChunk / F::block_elems;
    float buf[kChunk];
    while (n_blocks > 0) {
        const int nb = n_blocks < uint64_t(kBlocksPerChunk) ? int(n_blocks) : kBlocksPerChunk;
        for (int b = 0; b < nb; ++b) decode_block<F>(src + size_t(b) * F::block_bytes, buf + b * F::block_elems);
        store<O>(buf, nb * F::block_elems, dst);
        src += size_t(nb) * F::block_bytes;
        dst += size_t(nb) * F::block_elems * out_type_size(O);
        n_blocks -= uint64_t(nb);
    }
}

}  // namespace

std::string_view out_type_name(OutType t) noexcept {
    switch (t) {
        case OutType::F32: return "f32";
        case OutType::F16: return "f16";
        case OutType::BF16: return "bf16";
    }
    return "?";
}

std::optional<OutType> parse_out_type(std::string_view s) noexcept {
    if (s == "f32") return OutType::F32;
    if (s == "f16") return OutType::F16;
    if (s == "bf16") return OutType::BF16;
    return std::nullopt;
}

GgmlType out_ggml_type(OutType t) noexcept {
    switch (t) {
        case OutType::F32: return GgmlType::F32;
        case OutType::F16: return GgmlType::F16;
        case OutType::BF16: return GgmlType::BF16;
    }
    return GgmlType::F32;
}

bool has_decoder(GgmlType t) noexcept {
    return visit_format(t, []<class F>() {});
}

void decode_blocks(GgmlType t, const uint8_t* src, uint64_t n_blocks, OutType out, void* dst) {
    auto* d = static_cast<uint8_t*>(dst);
    const bool ok = visit_format(t, [&]<class F>() {
        switch (out) {
            case OutType::F32: decode_loop<F, OutType::F32>(src, n_blocks, d); break;
            case OutType::F16: decode_loop<F, OutType::F16>(src, n_blocks, d); break;
            case OutType::BF16: decode_loop<F, OutType::BF16>(src, n_blocks, d); break;
        }
    });
    if (!ok) throw Error("no decoder for type " + std::string(type_info(t).name));
}

}  // namespace gguftk
