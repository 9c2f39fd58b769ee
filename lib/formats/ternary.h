#pragma once
// TQ1_0, TQ2_0, Q1_0, Q2_0: ternary and binary weights with one scale per block
#include "formats/float_bits.h"
#include "formats/format.h"

namespace gguftk::formats {

// TODO(formats): the format structs of this family, then their cases below.

template <class Fn>
bool visit_ternary(GgmlType t, Fn&& fn) {
    switch (t) {
        default: (void)fn; return false;
    }
}

}  // namespace gguftk::formats
