#pragma once
// The scheduling both conversion engines share: a plan's jobs cut into chunks (whole blocks of a
// Convert job, bytes of a Copy job), pulled in file order from one counter by N worker threads.
//
// An engine supplies only what differs: how one worker converts one chunk (the CPU decodes into
// its own buffers; the CUDA engine stages it through pinned memory and its own stream) and how
// big a chunk is. The driver does the rest the same way for both: Copy chunks, statistics
// merged per job, byte counts, progress from the calling thread, cancellation, and the first
// error stopping every worker and being rethrown once all have stopped.
#include <cstdint>
#include <functional>
#include <memory>
#include <span>

#include "convert/convert.h"

namespace gguftk {

// One chunk of one job: blocks [first, first + count) of a Convert job, bytes of a Copy job.
struct Chunk {
    size_t job;
    uint64_t first;
    uint64_t count;
};

// A worker thread's own means of converting (buffers, a stream), made on that thread.
class ChunkConverter {
public:
    virtual ~ChunkConverter() = default;
    // Reads the chunk's blocks from `in` (the reader of the job's input file, j.input) and
    // decodes them to j.out; folds the values into *stats unless it is null. Returns the values
    // in host memory, valid until the next call (the driver writes them where the plan says).
    // Throws Error.
    virtual std::span<const uint8_t> convert(const TensorJob& j, const Chunk& c, const InputReader& in,
                                             TensorStats* stats) = 0;
};

struct ChunkedRun {
    unsigned workers = 1;         // threads pulling chunks (fewer if there are fewer chunks)
    uint64_t chunk_values = 1;    // values per Convert chunk, rounded down to whole blocks (at least one)
    uint64_t copy_bytes = 1;      // bytes per Copy chunk
    // Called once on each worker thread, only when the plan converts something, with the input
    // and output bytes of the largest chunk any Convert job has.
    std::function<std::unique_ptr<ChunkConverter>(uint64_t in_bytes, uint64_t out_bytes)> make_converter;
};

// Executes `plan`, writing into *out, or, with out null, handing the converted values only to
// control.values (Copy jobs are then skipped).
ConversionResult run_chunked(const ConversionPlan& plan, OutputWriter* out, const RunControl& control,
                             const ChunkedRun& how);

}  // namespace gguftk
