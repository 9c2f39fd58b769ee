// Test helper: the decode kernels' work per loop iteration, for scripts/kernel-cost.
//
//   test-kernel-shapes
//
// One line per decodable type, tab-separated: the type's name, elements and bytes per block,
// the elements one warp decodes per trip of decode_kernel's tile loop (Tile<F>::elems), and,
// for the plain floats that direct_kernel takes, the elements one thread decodes per trip of
// its loop to F32 and to F16/BF16 (Direct<F, O>::group; 0 where the type has no direct kernel).
// From kernels/tile.h itself, so that the script divides by what the kernels do.
#include <cstdio>

#include "../../kernels/tile.h"
#include "formats/all.h"
#include "formats/types.h"

int main() {
    using namespace gguftk;
    std::printf("type\tblock_elems\tblock_bytes\ttile_elems\tdirect_f32\tdirect_f16\n");
    for (const TypeInfo& t : all_types())
        formats::visit_format(t.type, [&]<class F>() {
            int f32 = 0, f16 = 0;
            if constexpr (cuda::kDirect<F>) {
                f32 = cuda::Direct<F, OutType::F32>::group;
                f16 = cuda::Direct<F, OutType::F16>::group;
            }
            std::printf("%.*s\t%d\t%d\t%d\t%d\t%d\n", int(t.name.size()), t.name.data(), F::block_elems, F::block_bytes,
                        cuda::Tile<F>::elems, f32, f16);
        });
    return 0;
}
