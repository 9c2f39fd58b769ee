// TQ1_0, TQ2_0, Q1_0, Q2_0: blocks packed the way ggml's quantize_row_*_ref packs them (written
// here from that packing, not from our decoder), then decoded. TQ1_0's base-3 bytes are made
// with ggml's encoder (digits of t in base 3, byte = ceil(t * 256 / 243)) for every t, so the
// decoder's multiply-and-shift extraction is checked against plain division.
#include <doctest/doctest.h>

#include "block_builder.h"
#include "formats/ternary.h"

using namespace gguftk::formats;
using namespace gguftk::test;

namespace {

BlockRng rng(3);

// ggml's quantize_row_tq1_0_ref: n trits (first most significant), padded to five digits, as
// the byte ceil(t * 256 / 243).
uint8_t pack_trits(const int* t, int n) {
    int q = 0;
    for (int i = 0; i < n; ++i) q = q * 3 + t[i];
    for (int i = n; i < 5; ++i) q *= 3;
    return uint8_t((q * 256 + 242) / 243);
}

}  // namespace

TEST_CASE("TQ1_0: five trits per qs byte, four per qh byte, element order of ggml's packing") {
    for (int trial = 0; trial < 60; ++trial) {
        uint8_t b[54];
        const float d = rng.put_half(b + 52);
        int trit[256];  // 0, 1, 2 for -1, 0, +1
        for (int e = 0; e < 256; ++e) trit[e] = rng.in(0, 2);
        for (int m = 0; m < 32; ++m) {  // qs[0..31]: element 32n + m
            int t[5];
            for (int n = 0; n < 5; ++n) t[n] = trit[32 * n + m];
            b[m] = pack_trits(t, 5);
        }
        for (int m = 0; m < 16; ++m) {  // qs[32..47]: element 160 + 16n + m
            int t[5];
            for (int n = 0; n < 5; ++n) t[n] = trit[160 + 16 * n + m];
            b[32 + m] = pack_trits(t, 5);
        }
        for (int m = 0; m < 4; ++m) {  // qh: element 240 + 4n + m
            int t[4];
            for (int n = 0; n < 4; ++n) t[n] = trit[240 + 4 * n + m];
            b[48 + m] = pack_trits(t, 4);
        }
        std::array<float, 256> want;
        for (int e = 0; e < 256; ++e) want[e] = float(trit[e] - 1) * d;
        require_equal(decode<TQ1_0>(b), want);
    }
}

TEST_CASE("TQ1_0: every byte a five-trit value can have decodes to its digits") {
    for (int v = 0; v < 243; ++v) {
        int t[5];
        for (int n = 0, p = 81; n < 5; ++n, p /= 3) t[n] = v / p % 3;
        uint8_t b[54] = {};
        put16(b + 52, 0x3c00);  // d = 1
        b[0] = pack_trits(t, 5);
        const auto y = decode<TQ1_0>(b);
        INFO("value " << v);
        for (int n = 0; n < 5; ++n) CHECK(y[32 * n] == float(t[n] - 1));
    }
}

TEST_CASE("TQ2_0: 2-bit codes, element 128h + 32l + m in bits 2l of qs[32h + m]") {
    for (int trial = 0; trial < 60; ++trial) {
        uint8_t b[66] = {};
        const float d = rng.put_half(b + 64);
        std::array<float, 256> want;
        for (int h = 0; h < 2; ++h)
            for (int l = 0; l < 4; ++l)
                for (int m = 0; m < 32; ++m) {
                    const int q = rng.in(0, 3);  // 3 never comes from the quantizer, but decodes as 2d
                    b[32 * h + m] |= uint8_t(q << (2 * l));
                    want[128 * h + 32 * l + m] = float(q - 1) * d;
                }
        require_equal(decode<TQ2_0>(b), want);
    }
}

TEST_CASE("Q1_0: one bit per element, least significant first: 1 is +d, 0 is -d") {
    for (int trial = 0; trial < 60; ++trial) {
        uint8_t b[18] = {};
        const float d = rng.put_half(b);
        std::array<float, 128> want;
        for (int j = 0; j < 128; ++j) {
            const int bit = rng.in(0, 1);
            b[2 + j / 8] |= uint8_t(bit << (j % 8));
            want[j] = bit ? d : -d;
        }
        require_equal(decode<Q1_0>(b), want);
    }
}

TEST_CASE("Q2_0: 2-bit codes, four per byte, lowest bits first: y = (q - 1) * d") {
    for (int trial = 0; trial < 60; ++trial) {
        uint8_t b[18] = {};
        const float d = rng.put_half(b);
        std::array<float, 64> want;
        for (int j = 0; j < 64; ++j) {
            const int q = trial == 0 ? j % 4 : rng.in(0, 3);
            b[2 + j / 4] |= uint8_t(q << (2 * (j % 4)));
            want[j] = float(q - 1) * d;
        }
        require_equal(decode<Q2_0>(b), want);
    }
}
