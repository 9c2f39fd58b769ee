// gguftk-bench-gpu: the GPU decoders against the device-to-device copy, then gguf-dequant's
// CUDA and CPU engines against the I/O floor.
//
//   gguftk-bench-gpu FIXTURES_DIR [MODEL.gguf WORK_DIR]
//   GGUFTK_BENCH_TYPES=Q4_K,IQ2_XXS gguftk-bench-gpu FIXTURES_DIR     (only those types)
//
// Kernels: each type's real blocks (the first tensor of that type in all-types.gguf, made by
// ggml's quantizers) are tiled on the GPU into a tensor of 2^28 elements and decoded to F16,
// F32 and BF16; time is the median over 7 batches of 10 back-to-back launches (CUDA events
// around each batch; the launch path's device and occupancy queries are made once, in
// launch_kernel), GB/s counts bytes read plus bytes written, and % is against the copy
// ceiling measured in the same run: the faster of cudaMemcpy device-to-device and a 16-byte
// copy kernel, over 2 GiB moved (1 GiB each way), timed the same way.
//
// End to end (when MODEL is given): the conversion of MODEL to F16 GGUF in WORK_DIR by the
// CUDA engine, the CPU engine (one thread per core) and an I/O-only engine that reads and
// writes exactly the same bytes through the same reader and writer without decoding (the
// floor; once with one thread per core, once with as many threads as the CUDA engine has
// lanes). Each is timed from planning to the committed output, best and median of 5
// interleaved runs, input in the page cache. (CUDA's start-up, once per process, is not in
// these: scripts/bench-gpu times the gguf-dequant process as a whole for that.)
#include <cuda_runtime.h>
#include <fmt/core.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>
#include <vector>

#include "bench_kernels.h"
#include "cuda_decode.h"
#include "convert/convert.h"
#include "container/gguf.h"
#include "formats/types.h"

using namespace gguftk;

namespace {

void check(cudaError_t e, const char* what) {
    if (e != cudaSuccess) {
        fmt::print(stderr, "CUDA error: {}: {}\n", what, cudaGetErrorString(e));
        std::exit(1);
    }
}

// Median time in ms of one run of `f`, over `reps` batches of `batch` back-to-back runs (after
// a warm-up batch), each batch between two events. A decode of 2^28 elements takes 150-600 us,
// so a single launch between events would also time the host's launch path and the events
// themselves; in a batch the launches queue up behind one another and the GPU never waits.
template <class Fn>
double time_ms(Fn&& f, int reps = 7, int batch = 10) {
    cudaEvent_t a, b;
    check(cudaEventCreate(&a), "event");
    check(cudaEventCreate(&b), "event");
    for (int i = 0; i < batch; ++i) f();
    std::vector<double> t;
    for (int r = 0; r < reps; ++r) {
        check(cudaEventRecord(a), "record");
        for (int i = 0; i < batch; ++i) f();
        check(cudaEventRecord(b), "record");
        check(cudaEventSynchronize(b), "sync");
        float ms;
        check(cudaEventElapsedTime(&ms, a, b), "elapsed");
        t.push_back(double(ms) / batch);
    }
    cudaEventDestroy(a);
    cudaEventDestroy(b);
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
}

struct Ceiling {
    double memcpy_gbs, kernel_gbs;
    double best() const { return std::max(memcpy_gbs, kernel_gbs); }
};

Ceiling measure_copy(uint8_t* a, uint8_t* b, uint64_t bytes, int sms) {
    const double moved = 2.0 * double(bytes);
    const double t1 = time_ms([&] { check(cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice), "memcpy"); });
    const double t2 = time_ms([&] {
        check(bench::copy(a, b, bytes, sms * 8), "copy kernel");
    });
    return {moved / t1 / 1e6, moved / t2 / 1e6};
}

void bench_kernels(const std::string& fixtures, int sms) {
    const GgufFile fx = GgufFile::open(fixtures + "/all-types.gguf");
    constexpr uint64_t kElems = uint64_t(1) << 28;
    constexpr uint64_t kCopyBytes = uint64_t(1) << 30;
    uint8_t *in, *out, *copy_a, *copy_b;
    check(cudaMalloc(&in, kElems * 8), "malloc");   // F64 is the widest input
    check(cudaMalloc(&out, kElems * 4), "malloc");  // F32 the widest output
    check(cudaMalloc(&copy_a, kCopyBytes), "malloc");
    check(cudaMalloc(&copy_b, kCopyBytes), "malloc");
    check(bench::fill_random(copy_a, kCopyBytes, sms * 8), "fill");
    check(cudaDeviceSynchronize(), "fill");

    const Ceiling c0 = measure_copy(copy_a, copy_b, kCopyBytes, sms);
    fmt::print("copy ceiling: cudaMemcpy D2D {:.0f} GB/s, copy kernel {:.0f} GB/s (bytes read + written)\n\n",
               c0.memcpy_gbs, c0.kernel_gbs);
    fmt::print("{:<8} {:>6} | {:>23} | {:>23} | {:>23}\n", "", "", "to F16", "to F32", "to BF16");
    fmt::print("{:<8} {:>6} | {:>7} {:>7} {:>7} | {:>7} {:>7} {:>7} | {:>7} {:>7} {:>7}\n", "type", "bits", "ms",
               "GB/s", "%copy", "ms", "GB/s", "%copy", "ms", "GB/s", "%copy");

    std::map<GgmlType, bool> done;
    double worst = 1e9;
    std::string worst_name;
    // GGUFTK_BENCH_TYPES=Q4_K,IQ2_XXS limits the table to those types (for profiling).
    const char* only = std::getenv("GGUFTK_BENCH_TYPES");
    auto wanted = [&](std::string_view name) {
        if (!only) return true;
        const std::string list = std::string(",") + only + ",";
        return list.find("," + std::string(name) + ",") != std::string::npos;
    };
    for (const TensorInfo& t : fx.tensors()) {
        if (!has_decoder(t.type->type) || done[t.type->type] || !wanted(t.type->name)) continue;
        done[t.type->type] = true;
        const TypeInfo& ti = *t.type;
        const uint64_t n_blocks = kElems / ti.block_elems;
        const uint64_t in_bytes = n_blocks * ti.block_bytes;
        // Tile the fixture's blocks: copy them once, then double the filled part.
        const auto blocks = fx.data(t);
        check(cudaMemcpy(in, blocks.data(), std::min<uint64_t>(blocks.size(), in_bytes), cudaMemcpyHostToDevice), "upload");
        for (uint64_t filled = blocks.size(); filled < in_bytes; filled *= 2)
            check(cudaMemcpy(in + filled, in, std::min(filled, in_bytes - filled), cudaMemcpyDeviceToDevice), "tile");
        fmt::print("{:<8} {:>6.3g} |", ti.name, ti.bits_per_weight());
        for (OutType o : {OutType::F16, OutType::F32, OutType::BF16}) {
            const uint64_t out_bytes = kElems * out_type_size(o);
            const double ms = time_ms([&] { check(cuda::decode_blocks_async(ti.type, in, n_blocks, o, out, nullptr), "decode"); });
            const double gbs = double(in_bytes + out_bytes) / ms / 1e6;
            const double pct = 100.0 * gbs / c0.best();
            if (pct < worst) {
                worst = pct;
                worst_name = fmt::format("{} to {}", ti.name, out_type_name(o));
            }
            fmt::print(" {:>7.3f} {:>7.0f} {:>6.1f}% |", ms, gbs, pct);
        }
        fmt::print("\n");
        std::fflush(stdout);
    }
    const Ceiling c1 = measure_copy(copy_a, copy_b, kCopyBytes, sms);
    fmt::print("\ncopy ceiling again at the end: cudaMemcpy {:.0f} GB/s, copy kernel {:.0f} GB/s\n", c1.memcpy_gbs,
               c1.kernel_gbs);
    fmt::print("lowest: {} at {:.1f}% of the copy ceiling\n\n", worst_name, worst);
    cudaFree(in);
    cudaFree(out);
    cudaFree(copy_a);
    cudaFree(copy_b);
}

// The floor: the same reads and writes as a conversion, through the same InputReader and
// OutputWriter, with no decoding (Convert jobs write their output size of unconverted bytes).
class IoOnlyEngine final : public Engine {
public:
    explicit IoOnlyEngine(unsigned threads) : threads_(threads) {}
    std::string description() const override { return fmt::format("I/O only, {} threads", threads_); }
protected:
    // Writing is what this engine measures: it is only ever run with an output.
    ConversionResult execute(const ConversionPlan& plan, OutputWriter* out_ptr, const RunControl&) override {
        OutputWriter& out = *out_ptr;
        const InputReader in(plan.input());
        struct Piece {
            size_t job;
            uint64_t in_off, in_len, out_off, out_len;
        };
        std::vector<Piece> pieces;
        constexpr uint64_t kStep = uint64_t(4) << 20;  // output bytes per piece
        for (size_t i = 0; i < plan.jobs().size(); ++i) {
            const TensorJob& j = plan.jobs()[i];
            for (uint64_t o = 0; o < j.out_size; o += kStep) {
                const uint64_t ol = std::min(kStep, j.out_size - o);
                const uint64_t il_start = o * j.in_size / std::max<uint64_t>(1, j.out_size);
                const uint64_t il_end = (o + ol) * j.in_size / std::max<uint64_t>(1, j.out_size);
                pieces.push_back({i, j.in_offset + il_start, il_end - il_start, j.out_offset + o, ol});
            }
        }
        std::atomic<size_t> next{0};
        auto work = [&] {
            std::vector<uint8_t> buf(kStep);
            for (size_t k; (k = next.fetch_add(1)) < pieces.size();) {
                const Piece& p = pieces[k];
                const TensorJob& j = plan.jobs()[p.job];
                if (!j.converts()) {
                    out.copy(j.file, p.out_off, in, p.in_off, p.out_len);
                    continue;
                }
                in.read(p.in_off, std::span(buf.data(), p.in_len));
                out.write(j.file, p.out_off, std::span(buf.data(), p.out_len));
            }
        };
        std::vector<std::thread> pool;
        for (unsigned i = 0; i < threads_; ++i) pool.emplace_back(work);
        for (auto& t : pool) t.join();
        ConversionResult r;
        r.bytes_read = plan.bytes_in();
        r.bytes_written = plan.bytes_out();
        return r;
    }

private:
    unsigned threads_;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double convert_once(Engine& e, const GgufFile& in, const std::string& out_path) {
    // No sync(): WORK_DIR is meant to be a RAM disk (/dev/shm); on a VM's disk a sync would
    // time the flush of the previous run's gigabytes, not this conversion.
    std::filesystem::remove(out_path);
    const auto t0 = std::chrono::steady_clock::now();
    ConvertOptions o;
    const ConversionPlan plan = plan_conversion(in, o);
    OutputWriter w(plan, out_path, true);
    RunControl c;
    e.run(plan, w, c);
    w.commit();
    return seconds_since(t0);
}

bool same_file(const std::string& a, const std::string& b) {
    std::ifstream fa(a, std::ios::binary), fb(b, std::ios::binary);
    std::istreambuf_iterator<char> ia(fa), ib(fb), end;
    return std::equal(ia, end, ib, end);
}

void bench_end_to_end(const std::string& model, const std::string& work) {
    const unsigned cores = std::thread::hardware_concurrency();
    std::string why;
    auto gpu = make_cuda_engine(0, &why);
    if (!gpu) {
        fmt::print("no CUDA engine: {}\n", why);
        return;
    }
    auto cpu = make_cpu_engine(0);
    // The floor twice: with one thread per core (the fastest the reader and writer go) and with
    // as many threads as the CUDA engine has lanes (what the GPU path is compared with).
    IoOnlyEngine io(cores), io_lanes(cuda_engine_lanes());
    const GgufFile in = GgufFile::open(model);
    const ConversionPlan plan = plan_conversion(in, ConvertOptions{});
    fmt::print("end to end: {} ({} tensors, {:.0f} MB of tensor data) to F16 GGUF ({:.0f} MB), in {}\n", model,
               in.tensors().size(), double(plan.bytes_in()) / 1e6, double(plan.bytes_out()) / 1e6, work);

    struct Row {
        const char* name;
        Engine* e;
        std::string out;
        std::vector<double> t;
    };
    std::vector<Row> rows = {{"I/O floor", &io, work + "/floor.gguf", {}},
                             {"I/O lanes", &io_lanes, work + "/floor-lanes.gguf", {}},
                             {"GPU", gpu.get(), work + "/gpu.gguf", {}},
                             {"CPU", cpu.get(), work + "/cpu.gguf", {}}};
    for (Row& r : rows) convert_once(*r.e, in, r.out);  // warm the page cache and the allocators
    for (int rep = 0; rep < 5; ++rep)
        for (Row& r : rows) r.t.push_back(convert_once(*r.e, in, r.out));
    const bool same = same_file(work + "/gpu.gguf", work + "/cpu.gguf");
    for (Row& r : rows) std::sort(r.t.begin(), r.t.end());
    const double floor = rows[0].t[0], floor_lanes = rows[1].t[0];
    const double total = double(plan.bytes_in() + plan.bytes_out());
    fmt::print("{:<10} {:<40} {:>8} {:>8} {:>9} {:>8} {:>8}\n", "path", "engine", "best s", "median s", "GB/s",
               "x floor", "x lanes");
    for (Row& r : rows)
        fmt::print("{:<10} {:<40} {:>8.3f} {:>8.3f} {:>9.2f} {:>8.2f} {:>8.2f}\n", r.name, r.e->description(), r.t[0],
                   r.t[r.t.size() / 2], total / r.t[0] / 1e9, r.t[0] / floor, r.t[0] / floor_lanes);
    fmt::print("GPU and CPU outputs identical: {}\n", same ? "yes" : "NO");
    for (Row& r : rows) std::filesystem::remove(r.out);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2 && argc != 4) {
        fmt::print(stderr, "usage: {} FIXTURES_DIR [MODEL.gguf WORK_DIR]\n", argv[0]);
        return 2;
    }
    try {
        cudaDeviceProp p{};
        check(cudaGetDeviceProperties(&p, 0), "device");
        char date[32];
        const std::time_t now = std::time(nullptr);
        std::strftime(date, sizeof date, "%Y-%m-%d", std::gmtime(&now));
        int driver = 0;
        cudaDriverGetVersion(&driver);
        fmt::print("{}: {} SMs, {:.0f} GiB, driver {}.{}, {}\n\n", p.name, p.multiProcessorCount,
                   double(p.totalGlobalMem) / double(1ull << 30), driver / 1000, driver % 1000 / 10, date);
        bench_kernels(argv[1], p.multiProcessorCount);
        if (argc == 4) bench_end_to_end(argv[2], argv[3]);
    } catch (const std::exception& e) {
        fmt::print(stderr, "error: {}\n", e.what());
        return 1;
    }
    return 0;
}
