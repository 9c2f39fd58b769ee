#pragma once
// Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K: 256-element super-blocks with quantized sub-block scales
#include "formats/float_bits.h"
#include "formats/format.h"

namespace gguftk::formats {

// TODO(formats): the format structs of this family, then their cases below.

template <class Fn>
bool visit_kquants(GgmlType t, Fn&& fn) {
    switch (t) {
        default: (void)fn; return false;
    }
}

}  // namespace gguftk::formats
