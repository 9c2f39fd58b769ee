// gguf-compare's element reader (compare/elements.h): every element type to doubles, against
// the plain C++ conversion of each value, compared as bits; halves all 65536 of them (NaNs
// included), at every length mod 8 so the vector loop's tail is walked too.
#include <doctest/doctest.h>

#include <cstring>
#include <random>
#include <vector>

#include "compare/elements.h"

using namespace gguftk;

namespace {

uint64_t bits_of(double d) {
    uint64_t u;
    std::memcpy(&u, &d, 8);
    return u;
}

// The double a scalar reads the element at p as: the definition to_doubles must match.
double reference(Element e, const uint8_t* p) {
    switch (e) {
        case Element::F16: return double(formats::fp16_to_f32(load_le<uint16_t>(p)));
        case Element::BF16: return double(formats::bf16_to_f32(load_le<uint16_t>(p)));
        case Element::F32: return double(load_le<float>(p));
        case Element::F64: return load_le<double>(p);
        case Element::I8: return double(int8_t(*p));
        case Element::U8: return double(*p);
        case Element::I16: return double(load_le<int16_t>(p));
        case Element::I32: return double(load_le<int32_t>(p));
        case Element::I64: return double(load_le<int64_t>(p));
    }
    return 0;
}

void require_matches(Element e, const std::vector<uint8_t>& bytes, size_t n) {
    const size_t size = element_size(e);
    std::vector<double> out(n);
    to_doubles(e, bytes.data(), out);
    for (size_t i = 0; i < n; ++i) {
        INFO(element_name(e), " element ", i, " of ", n);
        REQUIRE(bits_of(out[i]) == bits_of(reference(e, bytes.data() + i * size)));
    }
}

}  // namespace

TEST_CASE("every half, NaNs and subnormals included, reads as its float widened") {
    std::vector<uint8_t> bytes(2 * 65536);
    for (uint32_t h = 0; h < 65536; ++h) bytes[2 * h] = uint8_t(h), bytes[2 * h + 1] = uint8_t(h >> 8);
    require_matches(Element::F16, bytes, 65536);
    for (size_t n = 0; n < 24; ++n) require_matches(Element::F16, std::vector<uint8_t>(bytes.begin() + 2 * 0x7bf0, bytes.end()), n);
}

TEST_CASE("every element type, random bits, every length to 40") {
    std::mt19937_64 rng(7);
    for (const ElementInfo& info : kElements) {
        std::vector<uint8_t> bytes(40 * info.size);
        for (uint8_t& b : bytes) b = uint8_t(rng());
        for (size_t n = 0; n <= 40; ++n) require_matches(info.e, bytes, n);
    }
}
