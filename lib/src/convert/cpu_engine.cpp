// The CPU engine: N workers on run_chunked's chunks of whole blocks, in file order.
//
// Each worker owns two buffers (input blocks, output values) sized for one chunk, so memory is
// N * (a few hundred KiB) whatever the model size. A worker preads its chunk, converts it and
// pwrites the result at the chunk's planned offset.
#include <sched.h>

#include <algorithm>
#include <thread>
#include <vector>

#include "cpu_loop.h"
#include "convert/chunked.h"
#include "convert/convert.h"

namespace gguftk {
namespace {

// Values per conversion chunk: the output (at most 4 bytes a value) and its input stay in L2.
constexpr uint64_t kChunkValues = 64 * 1024;
// Bytes per copy chunk: copies are done by the kernel, larger steps only cut syscalls.
constexpr uint64_t kCopyBytes = 8 << 20;

unsigned available_cores() {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) return unsigned(std::max(1, CPU_COUNT(&set)));
    return std::max(1u, std::thread::hardware_concurrency());
}

class CpuConverter final : public ChunkConverter {
public:
    CpuConverter(uint64_t in_bytes, uint64_t out_bytes) : ibuf_(in_bytes), obuf_(out_bytes) {}

    std::span<const uint8_t> convert(const TensorJob& j, const Chunk& c, const InputReader& in,
                                     TensorStats* stats) override {
        const std::span<uint8_t> src(ibuf_.data(), c.count * j.in_type->block_bytes);
        const uint64_t n_values = c.count * j.in_type->block_elems;
        in.read(j.in_offset + c.first * j.in_type->block_bytes, src);
        convert_blocks(j.in_type->type, src.data(), c.count, j.out, obuf_.data());
        if (stats) accumulate_stats(j.out, obuf_.data(), n_values, *stats);
        return std::span(obuf_.data(), n_values * out_type_size(j.out));
    }

private:
    std::vector<uint8_t> ibuf_, obuf_;
};

class CpuEngine final : public Engine {
public:
    explicit CpuEngine(unsigned threads) : threads_(threads ? threads : available_cores()) {}

    std::string description() const override {
        return "cpu, " + std::to_string(threads_) + (threads_ == 1 ? " thread" : " threads");
    }

protected:
    ConversionResult execute(const ConversionPlan& plan, OutputWriter* out, const RunControl& control) override {
        ChunkedRun how;
        how.workers = threads_;
        how.chunk_values = kChunkValues;
        how.copy_bytes = kCopyBytes;
        how.make_converter = [](uint64_t in_bytes, uint64_t out_bytes) {
            return std::make_unique<CpuConverter>(in_bytes, out_bytes);
        };
        return run_chunked(plan, out, control, how);
    }

private:
    unsigned threads_;
};

}  // namespace

std::unique_ptr<Engine> make_cpu_engine(unsigned threads) { return std::make_unique<CpuEngine>(threads); }

}  // namespace gguftk
