// gguftk-bench-types: the CPU engine's decoders, type by type, on one thread.
//
//   gguftk-bench-types FIXTURES_DIR [TYPE,TYPE,...]
//
// Each type's real blocks (the first tensor of that type in all-types.gguf, made by ggml's
// quantizers: real scales, real grid indices and signs) are tiled into 2^24 elements and
// converted by convert_blocks, the CPU engine's loop (AVX2 + F16C where the CPU has them), to
// F16, F32 and BF16. Time is the median of 7 runs after one warm-up; ns/value is per output
// value, GB/s counts bytes read plus bytes written. Input and output stay in memory (64 MiB of
// F32 at most), so this is the decoders' own rate, not the I/O's.
#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "container/gguf.h"
#include "convert/cpu_loop.h"
#include "formats/decode.h"
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

bool wanted(const std::string& only, std::string_view name) {
    return only.empty() || ("," + only + ",").find("," + std::string(name) + ",") != std::string::npos;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || argc > 3) {
        fmt::print(stderr, "usage: gguftk-bench-types FIXTURES_DIR [TYPE,TYPE,...]\n");
        return 2;
    }
    const std::string only = argc == 3 ? argv[2] : "";
    try {
        const GgufFile fx = GgufFile::open(std::string(argv[1]) + "/all-types.gguf");
        fmt::print("# convert_blocks, one thread, {} values a run, median of {} ({})\n", kElems, kRuns,
                   convert_uses_simd() ? "AVX2 + F16C" : "portable loop");
        fmt::print("| type | bits | to F16 ns/value | GB/s | to F32 ns/value | GB/s | to BF16 ns/value | GB/s |\n");
        fmt::print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        std::map<GgmlType, bool> done;
        std::vector<uint8_t> out(kElems * 4);
        for (const TensorInfo& t : fx.tensors()) {
            const TypeInfo& ti = *t.type;
            if (!has_decoder(ti.type) || done[ti.type] || !wanted(only, ti.name)) continue;
            done[ti.type] = true;
            const auto blocks = fx.data(t);
            std::vector<uint8_t> in(kElems / ti.block_elems * ti.block_bytes);
            for (size_t at = 0; at < in.size(); at += blocks.size())
                std::copy_n(blocks.begin(), std::min(blocks.size(), in.size() - at), in.begin() + ptrdiff_t(at));
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
