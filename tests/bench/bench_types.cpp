// gguftk-bench-types: the CPU engine's decoders, type by type, on one thread.
//
//   gguftk-bench-types [TYPE,TYPE,...]
//
// Each type's 2^24 values are random blocks (formats/random_block.h: random quants, grid
// indices and signs, as high in entropy as a real model's; its moderate_scale's scales),
// converted by convert_blocks, the CPU engine's loop (AVX2 + F16C where the CPU
// has them), to F16, F32 and BF16. Not a small tensor tiled: a branch predictor learns a short
// period (the 16 blocks of a fixture tensor, repeated, made IQ2_XXS's branch per sign look
// 40% faster than no branch, where on random signs it was 3x slower). Time is the median of
// 7 runs after one warm-up; ns/value is per output value, GB/s counts bytes read plus bytes
// written. Input and output stay in memory (64 MiB of F32 at most): the decoders' own rate, not
// the I/O's.
#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <string>
#include <vector>

#include "convert/cpu_loop.h"
#include "formats/all.h"
#include "formats/decode.h"
#include "formats/random_block.h"
#include "formats/types.h"

using namespace gguftk;

namespace {

constexpr uint64_t kElems = uint64_t(1) << 24;
constexpr int kRuns = 7;

double median_seconds(const TypeInfo& t, const std::vector<uint8_t>& in, OutType o, std::vector<uint8_t>& out) {
    const uint64_t n_blocks = kElems / t.block_elems;
    std::vector<double> s;
    for (int r = 0; r <= kRuns; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        convert_blocks(t.type, in.data(), n_blocks, o, out.data());
        const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (r > 0) s.push_back(dt);  // run 0 warms the caches and the page tables
    }
    std::nth_element(s.begin(), s.begin() + kRuns / 2, s.end());
    return s[kRuns / 2];
}

std::vector<uint8_t> random_blocks(GgmlType t) {
    std::vector<uint8_t> in;
    std::mt19937_64 rng{uint64_t(t)};
    formats::visit_format(t, [&]<class F>() {
        in.resize(kElems / F::block_elems * F::block_bytes);
        for (size_t at = 0; at < in.size(); at += F::block_bytes)
            formats::random_block<F>(in.data() + at, [&] { return rng(); }, formats::moderate_scale);
    });
    return in;
}

bool wanted(const std::string& only, std::string_view name) {
    return only.empty() || ("," + only + ",").find("," + std::string(name) + ",") != std::string::npos;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
        fmt::print(stderr, "usage: gguftk-bench-types [TYPE,TYPE,...]\n");
        return 2;
    }
    const std::string only = argc == 2 ? argv[1] : "";
    try {
        fmt::print("# convert_blocks, one thread, {} values a run, median of {} ({})\n", kElems, kRuns,
                   convert_uses_simd() ? "AVX2 + F16C" : "portable loop");
        fmt::print("| type | bits | to F16 ns/value | GB/s | to F32 ns/value | GB/s | to BF16 ns/value | GB/s |\n");
        fmt::print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        std::vector<uint8_t> out(kElems * 4);
        for (const TypeInfo& ti : all_types()) {
            if (!has_decoder(ti.type) || !wanted(only, ti.name)) continue;
            const std::vector<uint8_t> in = random_blocks(ti.type);
            fmt::print("| {} | {:.3g} |", ti.name, ti.bits_per_weight());
            for (OutType o : {OutType::F16, OutType::F32, OutType::BF16}) {
                const double s = median_seconds(ti, in, o, out);
                const double bytes = double(in.size()) + double(kElems * out_type_size(o));
                fmt::print(" {:.3f} | {:.1f} |", s * 1e9 / double(kElems), bytes / s / 1e9);
            }
            fmt::print("\n");
            std::fflush(stdout);
        }
    } catch (const std::exception& e) {
        fmt::print(stderr, "error: {}\n", e.what());
        return 1;
    }
    return 0;
}
