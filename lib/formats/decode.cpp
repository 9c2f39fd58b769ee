#include "formats/decode.h"

#include "formats/all.h"
#include "formats/decode_loop.h"
#include "container/error.h"

namespace gguftk {

using formats::decode_loop;
using formats::round_values;
using formats::visit_format;

std::span<const OutType> all_out_types() noexcept {
    static constexpr OutType kAll[] = {OutType::F16, OutType::F32, OutType::BF16};
    return kAll;
}

std::string_view out_type_name(OutType t) noexcept {
    switch (t) {
        case OutType::F32: return "f32";
        case OutType::F16: return "f16";
        case OutType::BF16: return "bf16";
    }
    return "?";
}

std::optional<OutType> parse_out_type(std::string_view s) noexcept {
    for (OutType t : all_out_types())
        if (iequal(s, out_type_name(t))) return t;
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
    const bool ok = visit_format(t, [&]<class F>() { decode_loop<F>(src, n_blocks, out, d, round_values); });
    if (!ok) throw Error("no decoder for type " + std::string(type_info(t).name));
}

}  // namespace gguftk
