#pragma once
// MXFP4, NVFP4: E2M1 4-bit floats with shared E8M0 / UE4M3 scales
#include "formats/float_bits.h"
#include "formats/format.h"

namespace gguftk::formats {

// TODO(formats): the format structs of this family, then their cases below.

template <class Fn>
bool visit_fp4(GgmlType t, Fn&& fn) {
    switch (t) {
        default: (void)fn; return false;
    }
}

}  // namespace gguftk::formats
