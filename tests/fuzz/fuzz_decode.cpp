// libFuzzer target: every block decoder on arbitrary bytes.
//
// The first byte is a ggml type id (ids are below 256); the rest is cut into whole blocks, copied into a
// buffer of exactly that size (so ASan sees any read past the last block). For each type with a
// decoder the target checks, bit for bit:
//   - decode_part on one part alone gives the values decode_block gives for that part (parts
//     are independent, which the CUDA kernels rely on);
//   - decode_blocks (the reference loop) and the CPU engine's convert_blocks (SIMD fast paths)
//     write the same bytes, for F32, F16 and BF16.
// Lookup tables indexed by block bytes are globals, so an index past a table's end is an ASan
// global-buffer-overflow here.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "convert/cpu_loop.h"
#include "formats/all.h"
#include "formats/decode.h"
#include "formats/types.h"
#include "fuzz_check.h"

using namespace gguftk;
using gguftk::fuzz::require;

namespace {

constexpr uint64_t kMaxBlocks = 64;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    const TypeInfo* found = find_type(data[0]);
    if (!found) return 0;
    const TypeInfo& ti = *found;
    ++data;
    --size;
    const uint64_t n_blocks = std::min<uint64_t>(size / ti.block_bytes, kMaxBlocks);
    if (n_blocks == 0 || !has_decoder(ti.type)) return 0;
    const std::vector<uint8_t> src(data, data + n_blocks * ti.block_bytes);

    const bool known = formats::visit_format(ti.type, [&]<class F>() {
        require(F::block_bytes == int(ti.block_bytes) && F::block_elems == int(ti.block_elems));
        std::vector<float> whole(F::block_elems);
        std::vector<float> part(F::part_elems);
        for (uint64_t b = 0; b < n_blocks; ++b) {
            const uint8_t* block = src.data() + b * F::block_bytes;
            formats::decode_block<F>(block, whole.data());
            for (int p = formats::parts_per_block<F> - 1; p >= 0; --p) {
                F::decode_part(block, p, part.data());
                require(std::memcmp(part.data(), whole.data() + p * F::part_elems, part.size() * 4) == 0);
            }
        }
    });
    require(known);

    for (OutType out : {OutType::F32, OutType::F16, OutType::BF16}) {
        const size_t n_bytes = n_blocks * ti.block_elems * out_type_size(out);
        std::vector<uint8_t> ref(n_bytes), fast(n_bytes);
        decode_blocks(ti.type, src.data(), n_blocks, out, ref.data());
        convert_blocks(ti.type, src.data(), n_blocks, out, fast.data());
        require(ref == fast);
    }
    return 0;
}
