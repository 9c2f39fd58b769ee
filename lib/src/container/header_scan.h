#pragma once
// Where a GGUF header ends (the end of the tensor infos), found by walking the header's structure
// over a prefix of the file that grows: each advance() goes on from where the last one stopped,
// so a header read in k steps is walked once, not k times (GgufFile::open(Source) then parses it
// once, whole).
//
// The walk checks only what it needs to stay inside the bytes and to follow the structure
// (lengths and counts against the file's size, value types, array depth, n_dims). At anything the
// reader would refuse it stops and leaves the error to the reader, which says it in its words.
#include <cstdint>
#include <span>
#include <vector>

#include "container/gguf.h"

namespace gguftk {

class HeaderScan {
public:
    enum class Step {
        need,  // the walk needs the prefix to reach `until`
        end,   // the header ends at `at`
        stop,  // something the reader refuses, at or after `at`: parse to find out what
    };
    struct Result {
        Step step;
        uint64_t at = 0;
        uint64_t until = 0;
    };

    explicit HeaderScan(uint64_t file_size) : size_(file_size) {}

    // Walks on over `prefix`, the file's first bytes (at least as many as at the last call).
    Result advance(std::span<const uint8_t> prefix);

private:
    enum class Phase { fixed, kv_key, kv_type, tensor_name, tensor_rest };
    struct Items {  // an array being walked
        ValueType elem;
        uint64_t left;
    };
    struct Halt {  // thrown by a step that cannot complete; the state is as before the step
        Result result;
    };

    bool step(std::span<const uint8_t> b);
    void array_step(std::span<const uint8_t> b);
    bool phase_step(std::span<const uint8_t> b);
    void kv_type(std::span<const uint8_t> b);
    void fixed_header(std::span<const uint8_t> b);
    void string(std::span<const uint8_t> b);
    void value(std::span<const uint8_t> b, ValueType t);
    void tensor_rest(std::span<const uint8_t> b);
    void strings(std::span<const uint8_t> b, Items& items);
    uint64_t u64(std::span<const uint8_t> b, uint64_t at) const;
    uint32_t u32(std::span<const uint8_t> b, uint64_t at) const;
    // Bytes [from, from + n) must be in the file (else stop) and in the prefix (else need).
    void require(std::span<const uint8_t> b, uint64_t from, uint64_t n) const;
    [[noreturn]] void stop() const { throw Halt{{Step::stop, pos_, 0}}; }

    uint64_t size_;
    uint64_t pos_ = 0;
    Phase phase_ = Phase::fixed;
    bool big_endian_ = false;
    uint64_t kvs_left_ = 0, tensors_left_ = 0;
    bool value_pending_ = false;  // a value of type pending_ is the next thing to walk
    ValueType pending_ = ValueType::UINT8;
    std::vector<Items> arrays_;   // the arrays being walked, innermost last
};

}  // namespace gguftk
