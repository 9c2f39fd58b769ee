#pragma once
// What every block format description provides, and the vocabulary its field list is written in.
//
// A format is a struct (one per ggml type, grouped by family in the files beside this one):
//
//   struct Q4_0 {
//       static constexpr GgmlType type = GgmlType::Q4_0;
//       static constexpr std::string_view name = "Q4_0";   // gguf-py's spelling
//       static constexpr int block_elems = 32, block_bytes = 18;
//       static constexpr int part_elems = 16;  // decode_part's unit; divides block_elems
//       static constexpr Field fields[] = {...};   // tile the block: every byte exactly once
//       static constexpr int at_d = offset_of(fields, "d"), at_qs = offset_of(fields, "qs");
//       static constexpr const char* formula = "y[j] = d * (q[j] - 8)";
//       GGUFTK_HD static void decode_part(const uint8_t* block, int part, float* y);
//   };
//
// decode_part writes elements [part*part_elems, (part+1)*part_elems) of the block, exactly as
// ggml's dequantize_row_* computes them (same operations in the same order, so the same bits).
// The CPU loop, the CUDA kernels and gguf-hexdump all call it: one definition, no drift.
// It must be device-safe: no STL, no exceptions, tables in plain constexpr arrays.
//
// Each byte offset is written once, in the field list; decode_part reads the fields through
// at_<name>, so the layout gguf-hexdump and the docs show is the one the decoder reads. That the
// fields tile the block, and that the type table agrees, is checked when all.h compiles.
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "formats/types.h"

#if defined(__CUDACC__)
#define GGUFTK_HD __host__ __device__ __forceinline__
#else
#define GGUFTK_HD inline
#endif

namespace gguftk::formats {

// How a field's bytes are to be read; gguf-hexdump and the docs decode and explain by kind.
enum class FieldKind : uint8_t {
    Fp16,        // one or more IEEE half scales
    Fp32,        // IEEE single scale
    Bf16,        // bfloat16 (the BF16 type's value)
    Fp64,        // IEEE double (the F64 type's value)
    E8M0,        // power-of-two exponent byte (MXFP4)
    UE4M3,       // unsigned E4M3 float8 scales (NVFP4)
    Int8,        // signed 8-bit values (quants or scales)
    Int16,       // signed 16-bit values (Q8_K block sums)
    Nibbles,     // packed 4-bit values, two per byte
    Crumbs,      // packed 2-bit values, four per byte
    Bits,        // packed 1-bit values (high bits, sign bits), eight per byte
    Trits5,      // base-3 packed ternary digits, five per byte (TQ1_0's qs)
    Trits4,      // four per byte (TQ1_0's qh)
    Scales6,     // k-quant 6-bit scales and mins packed in 12 bytes (Q4_K, Q5_K)
    Scales6Q3,   // Q3_K's 6-bit scales packed in 12 bytes
    Scales4Min4, // Q2_K: low nibble scale, high nibble min
    Scales4,     // 4-bit sub-block scales (IQ formats)
    GridIndex,   // indices into an IQ lattice grid (possibly with high bits elsewhere)
    Signs,       // IQ sign patterns
    Raw,         // anything else: documented by `meaning`
};

// How many base-3 digits a byte of a Trits kind holds (0 for other kinds).
constexpr int trits_per_byte(FieldKind k) noexcept { return k == FieldKind::Trits5 ? 5 : k == FieldKind::Trits4 ? 4 : 0; }

// How a field whose records pack several things is read (IQ2_XXS's qs: per 8 bytes, four grid
// indices, four 7-bit sign indices and a scale): records of `record_bytes` bytes, read as one
// little-endian integer as ggml loads it, cut least significant bit first into these slices.
// gguf-hexdump shows a field by its packing; fields of one kind of equal slices (nibbles,
// crumbs, bits...) need none.
struct Slice {
    const char* series = nullptr;  // what the values are called: "grid", "sign_index", "scale"
    uint8_t bits = 0;
    uint8_t repeat = 1;
    bool is_signed = false;
    bool grouped = true;    // false: one value per element (not shared by a group)
};

// A value spread over a field's records: the 4-bit values of series `from`, the first record's
// lowest, are the bits of one fp16 called `name` (IQ1_M's super-block scale d).
struct Fp16FromNibbles {
    const char* from = nullptr;
    const char* name = nullptr;
};

struct Packing {
    uint8_t record_bytes = 1;
    Slice slices[4];        // in bit order; unused ones have no series
    Fp16FromNibbles joined{};
};

struct Field {
    const char* name;     // ggml's struct member name: "d", "scales", "qs", ...
    uint16_t offset;      // byte offset within the block
    uint16_t size;        // bytes
    FieldKind kind;
    const char* meaning;  // one line for people: "super-block scale for the quantized scales"
    const Packing* packing = nullptr;  // for records that pack several things
};

// Not constexpr: reaching it in a constant expression is a compile error, which is the point.
inline int no_field_of_that_name() { return -1; }

// The offset of the field called `name`, for decode_part: a misspelt name does not compile.
template <size_t N>
constexpr int offset_of(const Field (&fields)[N], std::string_view name) {
    for (const Field& f : fields)
        if (name == f.name) return f.offset;
    return no_field_of_that_name();
}

template <class F>
concept BlockFormat = requires(const uint8_t* b, float* y) {
    { F::type } -> std::convertible_to<GgmlType>;
    { F::name } -> std::convertible_to<std::string_view>;
    { F::block_elems } -> std::convertible_to<int>;
    { F::block_bytes } -> std::convertible_to<int>;
    { F::part_elems } -> std::convertible_to<int>;
    { F::formula } -> std::convertible_to<const char*>;
    F::fields[0];
    F::decode_part(b, 0, y);
};

// A list of formats: each family file lists its own, all.h joins them into the one list that
// the type table, visit_format and the CUDA instantiations are made from.
template <class... F>
struct FormatList {};

template <class F>
inline constexpr int parts_per_block = F::block_elems / F::part_elems;

// The whole block: every part in order.
template <class F>
GGUFTK_HD void decode_block(const uint8_t* block, float* y) {
    for (int p = 0; p < parts_per_block<F>; ++p) F::decode_part(block, p, y + p * F::part_elems);
}

// Little-endian loads from unaligned block bytes (blocks have no alignment guarantee).
GGUFTK_HD uint16_t load_u16(const uint8_t* p) { return uint16_t(p[0] | (p[1] << 8)); }
GGUFTK_HD uint32_t load_u32(const uint8_t* p) {
    return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24);
}

// N little-endian words from the block bytes at p: w[i] = load_u32(p + 4 i).
//
// On the GPU, decode_part reads a block from its tile's buffer in shared memory
// (kernels/tile.h), where the aligned words around every block are readable; there each word
// is one aligned read and a funnel shift, where it took four byte reads and three permutes.
// Elsewhere (the CPU, whose blocks may end a mapping) it reads exactly the block's bytes.
// tests/gpu's decode test holds the GPU's reading to ggml's values at every block alignment.
template <int N>
GGUFTK_HD void load_words(const uint8_t* p, uint32_t (&w)[N]) {
#if defined(__CUDA_ARCH__)
    const unsigned at = unsigned(reinterpret_cast<uintptr_t>(p) & 3);
    const uint32_t* a = reinterpret_cast<const uint32_t*>(p - at);
    uint32_t lo = a[0];
#pragma unroll
    for (int i = 0; i < N; ++i) {
        const uint32_t hi = a[i + 1];
        w[i] = __funnelshift_r(lo, hi, 8 * at);
        lo = hi;
    }
#else
    for (int i = 0; i < N; ++i) w[i] = load_u32(p + 4 * i);
#endif
}

// float(byte k of t - C), exactly. On the GPU the byte goes into the mantissa of 2^23 (one byte
// permute), and subtracting 2^23 + C, exact for bytes and small C, leaves the difference: two
// full-rate instructions, where extracting, subtracting and converting took three or four.
template <int C>
GGUFTK_HD float byte_minus(uint32_t t, int k) {
#if defined(__CUDA_ARCH__)
    return __int_as_float(int(__byte_perm(t, 0x4B000000u, 0x7540u | unsigned(k)))) - float(8388608 + C);
#else
    return float(int((t >> (8 * k)) & 0xFF) - C);
#endif
}

}  // namespace gguftk::formats
