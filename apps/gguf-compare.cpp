// gguf-compare: two models, or a model and an engine's dump, tensor by tensor.
#include <fmt/core.h>

#include <charconv>
#include <cmath>
#include <optional>

#include "cli.h"
#include "compare/compare.h"
#include "compare/elements.h"

using namespace gguftk;

namespace {

constexpr const char* kExamples = R"(
Examples:
  gguf-compare model-f16.gguf again-f16.gguf              # bit-identical?
  gguf-compare model-Q4_K_M.gguf model-f32.gguf           # vs its dequantized
  gguf-compare model-Q4_K_M.gguf model-f16.gguf --as f16  # both rounded to F16
  gguf-compare original-f16.gguf model-Q4_K_M.gguf --rtol 0.05 --atol 1e-3
  gguf-compare model.gguf dump/ --map '{name}.bin' --dtype f16 --as f16
  gguf-compare model.gguf model.safetensors --json | jq '.tensors[].result'

A and B are each a GGUF file (a split model whole, from any shard), a .safetensors file, or a
directory: gguf-dequant's npy or raw output (its manifest.json names the files), or an engine's
dumps (files named after the other side's tensors: NAME.npy, NAME.bin, NAME.raw or NAME, or as
--map says; raw files need --dtype and take the other side's shapes; two dump directories are
read by A's .npy files). Tensors are paired by name; every value of
both is decoded to double (GGUF tensors exactly as gguf-dequant --to f32 writes them), in chunks,
so neither model is held whole.

Per tensor: bit-identical or not, the count of values beyond the tolerance, the largest
|a - b| and its element (index in GGUF order, ne0
fastest; row = index / ne0, col = index % ne0), mean |a - b|, RMSE, relative RMSE (RMSE / RMS of
A), cosine similarity and SNR in dB (10 log10 of sum a^2 over sum (a - b)^2), over the pairs
where both are finite; NaN and infinities that differ are counted apart. With --atol/--rtol a
pair is within when |a - b| <= atol + rtol * |a| (numpy.isclose(b, a): A is the reference;
NaN equals NaN, whatever its payload); without them, within means bit-identical. Metadata keys added, removed or
changed are listed (split.* keys aside: a split model equals its merge) but do not change the
result; tensor types may differ.

Exit status, as cmp(1) and diff(1): 0 when every tensor is within (none missing, no shape
differs), 1 when one is not, 2 for trouble (a usage mistake, a glob that matches no tensor, a
dump directory that holds none of the other side's, an unreadable file).)";

// What run() returns when the models differ; main() makes it 1, and cli::run's 1 (trouble) 2.
constexpr int kDiffer = 100;

// Decimal only (strtod would take "0x10" as 16), the whole text, finite and not negative.
double parse_number(const std::string& opt, const std::string& s) {
    double v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, std::chars_format::general);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v) || v < 0)
        throw cli::UsageError(opt + " '" + s + "': not a finite decimal number >= 0");
    return v;
}

struct Args {
    std::string a, b, as, map, dtype;
    std::optional<std::string> atol, rtol;  // given empty is a mistake, not "no tolerance"
    std::vector<std::string> globs;
    bool json = false, markdown = false;
    unsigned threads = 0;
};

void add_options(CLI::App& app, Args& x) {
    app.add_option("a", x.a, "A: the reference (GGUF, .safetensors, or a directory)")->required();
    app.add_option("b", x.b, "B: compared with A")->required();
    app.add_option("--atol", x.atol, "absolute tolerance: within when |a - b| <= atol + rtol * |a|");
    app.add_option("--rtol", x.rtol, "relative tolerance, of |a| (A the reference, as numpy.isclose(b, a))");
    app.add_option("--as", x.as, "round both sides to this type before comparing: f16, bf16, f32")
        ->check(CLI::IsMember({"f16", "bf16", "f32"}, CLI::ignore_case));
    app.add_option("--tensors", x.globs, "only tensors whose name matches this glob (repeatable, or comma-separated; each must match one)")
        ->delimiter(',');
    app.add_option("--map", x.map, "a dump directory's file for each tensor, {name} standing for its name, e.g. '{name}.bin'");
    app.add_option("--dtype", x.dtype, "the element type of raw dump files: f16, f32, bf16, f64, i8, i16, i32, i64");
    auto* json = app.add_flag("--json", x.json, "one JSON document");
    app.add_flag("--markdown", x.markdown, "a Markdown report")->excludes(json);
    app.add_option("--threads", x.threads, "worker threads (0 = one per core)")->check(CLI::Range(0u, 1024u));
    app.footer(kExamples);
}

// --map and --dtype say how to read a dump directory: given without one, or naming no file per
// tensor, they would be silently ignored.
void check_dump_options(const Args& x) {
    if ((!x.map.empty() || !x.dtype.empty()) && !is_dump_directory(x.a) && !is_dump_directory(x.b))
        throw cli::UsageError(std::string(x.map.empty() ? "--dtype" : "--map") +
                              " applies to a dump directory (a directory without manifest.json), and neither side is one");
    if (!x.map.empty() && x.map.find("{name}") == std::string::npos)
        throw cli::UsageError("--map " + x.map + ": has no {name} (it stands for each tensor's name, as in '{name}.bin')");
    if (!x.dtype.empty() && !parse_element(x.dtype))
        throw cli::UsageError("--dtype " + x.dtype + ": not one of f16, f32, bf16, f64, i8, i16, i32, i64");
}

// A dump directory is read by the other side's names, so the other side opens first.
std::pair<std::unique_ptr<Side>, std::unique_ptr<Side>> open_sides(const Args& x) {
    const SideOptions so{x.map, x.dtype};
    if (is_dump_directory(x.a) && !is_dump_directory(x.b)) {
        auto b = open_side(x.b, so);
        auto a = open_side(x.a, so, b.get());
        return {std::move(a), std::move(b)};
    }
    auto a = open_side(x.a, so);
    auto b = open_side(x.b, so, a.get());
    return {std::move(a), std::move(b)};
}

int run(const Args& x) {
    CompareOptions o;
    o.tensor_globs = x.globs;
    if (x.atol) o.atol = parse_number("--atol", *x.atol);
    if (x.rtol) o.rtol = parse_number("--rtol", *x.rtol);
    if (!x.as.empty()) o.as = parse_out_type(x.as);
    o.threads = x.threads;
    check_dump_options(x);
    const auto [a, b] = open_sides(x);
    const Comparison c = compare(*a, *b, o);
    if (x.json) cli::write_stdout(render_comparison_json(c, x.a, x.b));
    else if (x.markdown) cli::write_stdout(render_comparison_markdown(c, x.a, x.b));
    else cli::write_stdout(render_comparison_text(c, x.a, x.b, cli::terminal_columns(stdout)));
    return c.within() ? cli::kExitOk : kDiffer;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Compare two models (GGUF, safetensors, npy or raw dumps) tensor by tensor.", "gguf-compare"};
    cli::add_version(app);
    Args args;
    add_options(app, args);
    // As cmp(1): 1 means "they differ", and trouble (an unreadable file, a usage mistake) is 2.
    const int rc = cli::run(app, argc, argv, [&] { return run(args); }, args.a);
    if (rc == kDiffer) return cli::kExitFailure;
    return rc == cli::kExitOk ? rc : cli::kExitUsage;
}
