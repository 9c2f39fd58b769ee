#pragma once
// Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1: one scale (and maybe a min) per 32 elements
#include "formats/float_bits.h"
#include "formats/format.h"

namespace gguftk::formats {

// TODO(formats): the format structs of this family, then their cases below.

template <class Fn>
bool visit_legacy(GgmlType t, Fn&& fn) {
    switch (t) {
        default: (void)fn; return false;
    }
}

}  // namespace gguftk::formats
