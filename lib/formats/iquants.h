#pragma once
// IQ1_S, IQ1_M, IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S, IQ4_NL, IQ4_XS: lattice grids and non-uniform code books
#include "formats/float_bits.h"
#include "formats/format.h"

namespace gguftk::formats {

// TODO(formats): the format structs of this family, then their cases below.

template <class Fn>
bool visit_iquants(GgmlType t, Fn&& fn) {
    switch (t) {
        default: (void)fn; return false;
    }
}

}  // namespace gguftk::formats
