// gguf-dequant: converts the quantized tensors of a GGUF file to F16, F32 or BF16.
#include <fmt/core.h>
#include <signal.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>

#include "cli.h"
#include "text/columns.h"
#include "progress.h"
#include "check/check.h"
#include "convert/convert.h"
#include "text/escape.h"
#include "container/gguf.h"

using namespace gguftk;

namespace {

// The number of the SIGINT/SIGTERM/SIGHUP received, else 0; the engine stops at its next chunk
// and the temp output is removed on the way out. A signal handler can only reach a static,
// hence this one.
std::atomic<int> g_interrupted{0};

void on_signal(int sig) { g_interrupted.store(sig); }

// Stopped by a signal, the exit status is the shell's 128 + its number (130 for Ctrl-C), as
// if the signal had ended the process; a conversion that completed regardless keeps its 0.
int exit_status(int status) {
    const int sig = g_interrupted.load();
    return sig && status == cli::kExitFailure ? 128 + sig : status;
}

void install_signal_handlers() {
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaction(s, &sa, nullptr);
    // Past a file size limit, write() should fail with EFBIG (and we clean up), not kill us.
    signal(SIGXFSZ, SIG_IGN);
}

constexpr const char* kExamples = R"(
Examples:
  gguf-dequant model-Q4_K_M.gguf -o model-f16.gguf
  gguf-dequant model.gguf -o model-f32.gguf --to f32 --all  # float tensors too
  gguf-dequant model.gguf -o weights/ --format npy --tensors 'blk.0.*'
  gguf-dequant model.gguf -o model.safetensors --to bf16  # format from the name
  gguf-dequant model.gguf -o model-f16.gguf --stats --threads 8
  gguf-dequant model-00001-of-00003.gguf -o model-f16.gguf  # the split kept
  gguf-dequant model-00002-of-00003.gguf -o model-f16.gguf --merge  # one file
  gguf-dequant model.gguf --check          # NaN or Inf anywhere? writes nothing
  gguf-dequant model.gguf --check --to f16 --range 'token_embd.weight=-1:1'
  gguf-dequant model.gguf --check --stats --json > report.json

Quantized tensors are converted; integer tensors are always copied; F32/F16/BF16/F64 tensors
are copied byte for byte unless --all. With --tensors and --format gguf, the tensors not
selected are copied as they are (the model stays whole); the other formats write only the
selected ones. npy and raw write a directory with one file per tensor and manifest.json.
The output appears only when complete (written to a temp file beside it, then renamed).

A split model (NAME-0000K-of-0000N.gguf) is converted whole from any of its shards: the others
are found beside it and checked to make one model (a missing or inconsistent shard is an
error naming it). GGUF output keeps the split, same tensors per shard, OUT's name with
-0000K-of-0000N.gguf (llama.cpp loads it from the first), unless --merge; the other formats
write one output for the whole model. Either every output file appears or none does.
--shard-only converts the named file alone.

--check decodes every float and quantized tensor to float32, exactly the values --to f32 would
write, through the same engine, and writes nothing. Each tensor's values are summarized (min,
max, mean, population std and absmax of the finite values; NaN, Inf, zeros, all-zero rows; in
double precision) and held to rules: finite (no NaN or Inf; always), range (--range
GLOB=LO:HI: every value of the tensors the glob matches within [LO, HI], which NaN and Inf
never are; the first matching --range applies), overflow (with --to f16 or bf16: no finite
value rounds to infinity in that type; --to f32 checks none) and zero-tensor
(--no-zero-tensors). Each broken rule is one FAIL line naming the tensor, the rule, the count
and the first element (its index in GGUF order, ne0 fastest, and row = index / ne0, col =
index % ne0). Exit status: 0 when every rule holds, 1 when one does not (or the file cannot be
read), 2 for a usage mistake (a --tensors or --range glob matching no tensor included).
--stats adds a table of the statistics (and the overflow count with --to f16 or bf16); --json
writes one document instead (exact numbers; null for what was not computed: statistics with no
finite value, the counts of a rule not applied).)";

// The names of all `values` (the library's lists), for CLI11 to match an option against.
template <class T>
std::vector<std::string> names_of(std::span<const T> values, std::string_view (*name)(T) noexcept) {
    std::vector<std::string> out;
    for (T v : values) out.emplace_back(name(v));
    return out;
}

// What CLI11 matches --to against its members, and then keeps: "F16" is f16.
std::string target_name(const std::string& s) {
    const auto t = parse_out_type(s);
    return t ? std::string(out_type_name(*t)) : s;
}

// The engine for --device; `notice` gets the one line to print when auto falls back to the CPU
// although a GPU might have been expected: a CUDA build that finds the driver but cannot use
// the GPU. A CPU-only build, or a machine without a CUDA driver, converts on the CPU silently.
std::unique_ptr<Engine> pick_engine(const std::string& device, unsigned threads, std::string& notice) {
    if (device == "cpu") return make_cpu_engine(threads);
    std::string why;
    bool driver = false;
#if GGUFTK_HAVE_CUDA
    if (auto e = make_cuda_engine(0, &why)) return e;
    driver = why.rfind("no CUDA driver", 0) != 0;
#else
    why = "this build has no CUDA support";
#endif
    if (device == "cuda") throw Error("--device cuda: " + why);
    auto cpu = make_cpu_engine(threads);
    if (driver) notice = fmt::format("note: no usable GPU ({}); converting on the {}", why, cpu->description());
    return cpu;
}

// A bound of --range: a finite double, read exactly as written. Out of a double's range it is
// no bound at all (1e400 would read as infinity, 1e-400 as 0, which is not what was written).
double parse_bound(const std::string& range, const std::string& s) {
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(s.c_str(), &end);
    if (s.empty() || *end != '\0' || std::isnan(v))
        throw cli::UsageError("--range " + range + ": '" + s + "' is not a number");
    if (!std::isfinite(v)) throw cli::UsageError("--range " + range + ": '" + s + "' is not a finite number");
    if (errno == ERANGE && v == 0)
        throw cli::UsageError("--range " + range + ": '" + s + "' is too small for a double (it would read as 0)");
    return v;
}

// "GLOB=LO:HI" (the glob may itself hold '='; the numbers are split at the last ':').
std::pair<std::string, ValueRange> parse_range(const std::string& text) {
    const size_t eq = text.rfind('=');
    const size_t colon = text.rfind(':');
    if (eq == std::string::npos || eq == 0 || colon == std::string::npos || colon < eq)
        throw cli::UsageError("--range " + text + ": expected GLOB=LO:HI, e.g. 'token_embd.weight=-1:1'");
    const ValueRange r{parse_bound(text, text.substr(eq + 1, colon - eq - 1)), parse_bound(text, text.substr(colon + 1))};
    if (r.lo > r.hi) throw cli::UsageError("--range " + text + ": LO is above HI");
    return {text.substr(0, eq), r};
}

// The --stats table. On a terminal (`columns` not 0) the numbers take 4 significant digits
// instead of 6 and the table is fit_table's, names shortened or on lines of their own.
void print_stats(const ConversionPlan& plan, const ConversionResult& r, size_t columns) {
    const int digits = columns ? 4 : 6;
    std::vector<std::vector<std::string>> rows{{"tensor", "type", "min", "max", "mean", "absmax", "nan", "inf"}};
    for (size_t i = 0; i < plan.jobs().size(); ++i) {
        const TensorJob& j = plan.jobs()[i];
        if (!j.converts()) continue;
        const TensorStats& s = r.stats[i];
        auto num = [&](double v) { return s.finite ? fmt::format("{:.{}g}", v, digits) : std::string("-"); };
        rows.push_back({columns ? escape(plan.tensor(j).name) : plan.tensor(j).name, std::string(j.in_type->name), num(s.min),
                        num(s.max), num(s.mean()), num(s.absmax), std::to_string(s.nan), std::to_string(s.inf)});
    }
    if (columns) {
        fmt::print("{}", fit_table(rows, {false, false, true, true, true, true, true, true}, columns));
        return;
    }
    size_t w = 6;
    for (const auto& row : rows) w = std::max(w, row[0].size());
    std::string out;
    for (const auto& c : rows)
        out += fmt::format("{:<{}}  {:<7} {:>13} {:>13} {:>13} {:>13} {:>6} {:>6}\n", c[0], w, c[1], c[2], c[3], c[4], c[5],
                           c[6], c[7]);
    fmt::print("{}", out);
}

// The name of the model's tensor `k` (its files' tensors in order), escaped; "" past the end.
std::string model_tensor_name(const GgufModel& m, size_t k) {
    for (const GgufFile* f : m.files()) {
        if (k < f->tensors().size()) return escape(f->tensors()[k].name);
        k -= f->tensors().size();
    }
    return "";
}

// What the command line says.
struct Args {
    std::string input, output, to = "f16", format = "gguf", device = "auto";
    std::vector<std::string> globs, ranges;
    bool all = false, stats = false, force = false, merge = false, shard_only = false;
    bool check = false, no_zero_tensors = false, json = false;
    bool to_given = false, format_given = false;
    unsigned threads = 0;

    GgufModel open_model() const {
        return GgufModel::open(input, shard_only ? GgufModel::Open::FileOnly : GgufModel::Open::Whole);
    }
};

void add_options(CLI::App& app, Args& a) {
    app.add_option("input", a.input, "GGUF file to convert")->required();
    auto* output = app.add_option("-o,--output", a.output, "output file (gguf, safetensors) or directory (npy, raw)");
    app.add_option("--to", a.to, "target type (with --check: f16 or bf16, the type whose overflow is checked; f32, none)")
        ->transform(CLI::IsMember(names_of(all_out_types(), out_type_name), target_name))
        ->capture_default_str()
        ->each([&a](const std::string&) { a.to_given = true; });
    auto* format = app.add_option("--format", a.format, "output format (default: from OUT's extension, .safetensors or .gguf)")
        ->check(CLI::IsMember(names_of(all_output_formats(), output_format_name)))
        ->capture_default_str()
        ->each([&a](const std::string&) { a.format_given = true; });
    app.add_option("--tensors", a.globs, "only tensors whose name matches this glob (repeatable, or comma-separated; each must match one)")
        ->delimiter(',');
    auto* all = app.add_flag("--all", a.all, "also convert unquantized float tensors (F32, F16, BF16, F64)");
    app.add_option("--threads", a.threads, "CPU worker threads (0 = one per core)")
        ->check(CLI::Range(0u, 1024u))
        ->capture_default_str();
    app.add_option("--device", a.device, "where to convert: cuda when built and a GPU answers, else cpu")
        ->check(CLI::IsMember({"auto", "cpu", "cuda"}))
        ->capture_default_str();
    app.add_flag("--stats", a.stats, "print min, max, mean, absmax (of the finite values) and NaN/Inf counts of every converted tensor");
    auto* force = app.add_flag("--force", a.force, "replace OUT if it exists");
    auto* merge = app.add_flag("--merge", a.merge, "a split model's GGUF output as one file, not one per shard");
    app.add_flag("--shard-only", a.shard_only, "convert just the named shard of a split model (not loadable alone)")
        ->excludes(merge);
    auto* check = app.add_flag("--check", a.check, "decode every float and quantized tensor, write nothing, check the values")
        ->excludes(output, format, all, force, merge);
    app.add_option("--range", a.ranges, "with --check: GLOB=LO:HI, the values of matching tensors within [LO, HI] (repeatable)")
        ->needs(check);
    app.add_flag("--no-zero-tensors", a.no_zero_tensors, "with --check: a tensor of zeros only fails")->needs(check);
    app.add_flag("--json", a.json, "with --check: one JSON document on stdout")->needs(check);
    app.footer(kExamples);
}

int run_check(const Args& a) {
    CheckOptions opts;
    opts.tensor_globs = a.globs;
    opts.no_zero_tensors = a.no_zero_tensors;
    // --to f32 checks no overflow (nothing overflows float32), so that a script may loop over
    // every --to.
    if (a.to_given && *parse_out_type(a.to) != OutType::F32) opts.overflow = *parse_out_type(a.to);
    for (const std::string& r : a.ranges) opts.ranges.push_back(parse_range(r));

    install_signal_handlers();
    const GgufModel in = a.open_model();
    std::string notice;
    auto engine = pick_engine(a.device, a.threads, notice);
    if (!notice.empty()) fmt::print(stderr, "{}\n", notice);
    cli::ProgressLine bar([&](size_t k) { return model_tensor_name(in, k); });
    RunControl control;
    control.cancel = &g_interrupted;
    control.progress = [&](uint64_t done, uint64_t total, size_t job) { bar.update(done, total, job); };
    const auto t0 = std::chrono::steady_clock::now();
    const CheckReport report = check_model(in, *engine, opts, control);
    bar.clear();
    if (g_interrupted) throw Error("interrupted");
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (a.json) cli::write_stdout(render_check_json(report, a.input));
    else {
        const size_t columns = cli::terminal_columns(stdout);
        cli::write_stdout((a.stats ? render_check_table(report, columns) : "") +
                          render_check_text(report, a.input, engine->description(), secs, columns));
    }
    return report.failed_tensors() ? cli::kExitFailure : cli::kExitOk;
}

// --format, or what OUT's extension says: .safetensors, .gguf; any other name is GGUF (npy and
// raw, which write directories, are only ever asked for). An explicit --format that
// contradicts the extension is a mistake, not a choice.
OutputFormat output_format(const Args& a) {
    auto ends_with = [&](std::string_view tail) {
        return a.output.size() >= tail.size() && iequal(std::string_view(a.output).substr(a.output.size() - tail.size()), tail);
    };
    const std::optional<OutputFormat> by_name = ends_with(".safetensors") ? OutputFormat::Safetensors
                                                : ends_with(".gguf")      ? std::optional(OutputFormat::Gguf)
                                                                          : std::nullopt;
    if (!a.format_given) return by_name.value_or(OutputFormat::Gguf);
    const OutputFormat f = *parse_output_format(a.format);
    if (by_name && *by_name != f)
        throw cli::UsageError(fmt::format("--format {} contradicts the extension of {}", a.format, a.output));
    return f;
}

ConvertOptions convert_options(const Args& a) {
    if (a.output.empty()) throw cli::UsageError("-o/--output is required (or --check, which writes nothing)");
    ConvertOptions opts;
    opts.to = *parse_out_type(a.to);
    opts.format = output_format(a);
    opts.all_floats = a.all;
    opts.tensor_globs = a.globs;
    opts.merge = a.merge;
    if (const char* why = unwritable_values(opts.format, opts.to)) throw cli::UsageError(why);
    return opts;
}

// "OUT", "OUT (all 3 shards)" or "FIRST ... LAST (3 shards)": what was written.
std::string written(const Args& a, const GgufModel& in, const ConversionPlan& plan, const OutputWriter& out) {
    if (plan.layout() == OutputLayout::Shards)
        return fmt::format("{} ... {} ({} shards)", out.paths().front(), out.paths().back(), out.paths().size());
    return in.split() ? fmt::format("{} (all {} shards)", a.output, in.files().size()) : a.output;
}

int run_conversion(const Args& a) {
    const ConvertOptions opts = convert_options(a);
    install_signal_handlers();
    const GgufModel in = a.open_model();
    const ConversionPlan plan = plan_conversion(in, opts);
    std::string notice;
    auto engine = pick_engine(a.device, a.threads, notice);
    OutputWriter out(plan, a.output, a.force);
    // Once the output is sure to start.
    if (const auto split = split_info(in.given()); split && a.shard_only)
        fmt::print(stderr, "note: converting shard {} of {} alone (--shard-only): the result is not a loadable model by itself\n",
                   split->index + 1, split->count);
    if (!notice.empty()) fmt::print(stderr, "{}\n", notice);

    cli::ProgressLine bar([&](size_t j) { return j < plan.jobs().size() ? escape(plan.tensor(plan.jobs()[j]).name) : std::string(); });
    RunControl control;
    control.stats = a.stats;
    control.cancel = &g_interrupted;
    control.progress = [&](uint64_t done, uint64_t total, size_t job) { bar.update(done, total, job); };
    const auto t0 = std::chrono::steady_clock::now();
    const ConversionResult result = engine->run(plan, out, control);
    bar.clear();
    if (g_interrupted) throw Error("interrupted");
    out.commit();
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const std::string facts = fmt::format(": {} tensors, {} converted to {}, {:.1f} MB in {:.2f} s ({})", plan.jobs().size(),
                                          plan.n_converted(), a.to, double(plan.bytes_out()) / 1e6, secs, engine->description());
    fmt::print(stderr, "{}\n", fit_line(written(a, in, plan, out), facts, cli::terminal_columns(stderr)));
    if (a.stats) print_stats(plan, result, cli::terminal_columns(stdout));
    return cli::kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Convert the quantized tensors of a GGUF file to F16, F32 or BF16, bit-exactly; or check their values.",
                 "gguf-dequant"};
    cli::add_version(app);
    Args args;
    add_options(app, args);
    return exit_status(cli::run(app, argc, argv, [&] { return args.check ? run_check(args) : run_conversion(args); },
                                args.input));
}
