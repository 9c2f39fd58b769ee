#pragma once
// Every format family, and one visitor from a runtime type id to its compile-time description.
//
//   visit_format(GgmlType::Q4_K, [&]<class F>() { ... F::decode_part(...) ... });
//
// returns false for types with no decoder (the integer types). The CPU loop, the CUDA kernels
// and gguf-hexdump dispatch through this, so adding a format here adds it everywhere.
#include "formats/floats.h"
#include "formats/fp4.h"
#include "formats/iquants.h"
#include "formats/kquants.h"
#include "formats/legacy.h"
#include "formats/ternary.h"

namespace gguftk::formats {

template <class Fn>
bool visit_format(GgmlType t, Fn&& fn) {
    return visit_floats(t, fn) || visit_legacy(t, fn) || visit_kquants(t, fn) ||
           visit_iquants(t, fn) || visit_ternary(t, fn) || visit_fp4(t, fn);
}

}  // namespace gguftk::formats
