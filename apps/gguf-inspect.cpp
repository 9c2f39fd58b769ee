// gguf-inspect: what is in a GGUF file - header, metadata, tensors, and what they add up to.
#include <fmt/core.h>

#include <cstdio>
#include <memory>

#include "cli.h"
#include "open_input.h"
#include "container/gguf.h"
#include "inspect/inspect.h"
#include "model/memory.h"

using namespace gguftk;

namespace {

constexpr const char* kExamples = R"(
Examples:
  gguf-inspect model.gguf                          # header, metadata, tensors
  gguf-inspect model.gguf --no-metadata --type Q6_K
  gguf-inspect model.gguf --tensors 'blk.0.*' --tensors output.weight
  gguf-inspect model.gguf --json | jq '.summary.bits_per_weight'
  gguf-inspect model.gguf --markdown > model.md
  gguf-inspect model-00002-of-00003.gguf           # a shard; the model's totals
  gguf-inspect model-00001-of-00003.gguf --shards  # tensors of every shard
  gguf-inspect model-00002-of-00003.gguf --shard-only  # this file alone
  gguf-inspect model.gguf --ctx 8192 --kv-type q8_0  # + weights and KV cache
  gguf-inspect https://host/models/model.gguf      # fetches the header only
  gguf-inspect hf://OWNER/REPO/model.gguf          # from the Hugging Face hub

Only the header of the file is read (it is memory-mapped); tensor data is never touched.

--ctx N adds the memory the model needs for a context of N tokens: its weights as stored and as
gguf-dequant writes them in F16, BF16 and F32, the KV cache (--kv-type f16, bf16, q8_0, q4_0 or f32; f16 by default) from the architecture's
metadata, a cell per token in every layer and, in sliding-window layers (gemma2, gemma3), a cell
per token of the window; and weights and KV cache together. Known for llama (Mistral's 7B, Nemo and Small
too), mistral3, qwen2, qwen3, gemma2, gemma3 and phi3; for other architectures the KV cache line
says it is not known. llama.cpp allocates more: see docs/MEMORY.md.
A remote file (http://, https://, or hf://OWNER/REPO/FILE.gguf[@REVISION] on the Hugging
Face hub: HF_ENDPOINT replaces https://huggingface.co, HF_TOKEN is sent for gated models) is
read with HTTP range requests, the header only, and shown as the same file on disk would be;
a line `remote:` (JSON: "remote") says how many bytes that took, in how many requests.
The file is validated first: a damaged file gives one `error:` line naming the offset of the
problem, and exit code 1. A shard of a split model (NAME-0000K-of-0000N.gguf) brings in the
other shards beside it, checked to make one model; a missing or inconsistent one is an error
naming it. The totals, and what gguf-dequant would write for each target type (tensor bytes and
file size, exactly), are of the whole model. Strings from the file are shown escaped (control
characters, invalid UTF-8); in JSON, bytes that are not UTF-8 become U+FFFD. Colour only on a terminal, never with
NO_COLOR set.)";

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Show what is in a GGUF file: header, metadata, tensor table and totals.", "gguf-inspect"};
    cli::add_version(app);
    std::string input, shown, type, kv_type;
    uint64_t ctx = 0;
    remote::Options remote_opts;
    InspectOptions opts;
    bool json = false, markdown = false, no_tensors = false, no_metadata = false, shard_only = false;
    app.add_option("file", input, "GGUF file to inspect (a path, or an http(s):// or hf:// location)")->required();
    auto* json_opt = app.add_flag("--json", json, "one JSON document (complete values, exact integers)");
    app.add_flag("--markdown", markdown, "Markdown tables")->excludes(json_opt);
    app.add_option("--tensors", opts.tensor_globs,
                   "only tensors whose name matches this glob (repeatable, or comma-separated; each must match one)")
        ->delimiter(',');
    app.add_option("--type", type, "only tensors of this type (Q4_K, F16, ...)");
    app.add_flag("--no-tensors", no_tensors, "leave out the tensor table");
    app.add_flag("--no-metadata", no_metadata, "leave out the metadata");
    auto* shards_opt = app.add_flag("--shards", opts.shards,
                                    "for a split model, list the tensors of every shard (NAME-0000K-of-0000N.gguf)");
    app.add_flag("--shard-only", shard_only, "for a shard of a split model, this file alone: no other shard is read")
        ->excludes(shards_opt);
    auto* ctx_opt = app.add_option("--ctx", ctx, "add the memory the model needs for a context of N tokens (weights, KV cache)")
                        ->check(cli::whole_number(1));
    app.add_option("--kv-type", kv_type, "the KV cache's type with --ctx: f16 (default), bf16, q8_0, q4_0 or f32")
        ->needs(ctx_opt);
    cli::add_remote_options(app, remote_opts);
    app.footer(kExamples);

    return cli::run(app, argc, argv, [&]() -> int {
        shown = remote::display_name(input);  // what errors name: never a URL's user:password@
        if (!type.empty()) {
            opts.type = find_type(type);
            if (!opts.type) {
                std::string names;
                for (const TypeInfo& t : all_types()) names += (names.empty() ? "" : " ") + std::string(t.name);
                throw cli::UsageError(fmt::format("unknown type '{}'; the types are: {}", escape(type), names));
            }
        }
        if (ctx_opt->count()) {
            opts.ctx = ctx;
            if (!kv_type.empty()) {
                opts.kv_type = kv_cache_type(kv_type);
                if (!opts.kv_type)
                    throw cli::UsageError(fmt::format("--kv-type '{}': the KV cache types are f16, bf16, q8_0, q4_0 and f32",
                                                      escape(kv_type)));
            }
        }
        opts.metadata = !no_metadata;
        opts.tensors = !no_tensors;
        opts.color = !json && !markdown && cli::use_color(stdout);
        if (!json && !markdown) opts.columns = cli::terminal_columns(stdout);

        const GgufModel model = GgufModel::open(
            input, shard_only ? GgufModel::Open::FileOnly : GgufModel::Open::Whole,
            cli::InputOpener(remote_opts), cli::shard_inputs);
        if (opts.shards && !model.split())
            throw Error("--shards: this file is not part of a split model (no split.count above 1)", std::nullopt,
                        model.given().path());
        const Inspection in = inspect(model, opts);
        // Streamed: what is printed grows with the file.
        if (json)
            render_json(in, opts, cli::write_stdout);
        else if (markdown)
            render_markdown(in, opts, cli::write_stdout);
        else
            render_text(in, opts, cli::write_stdout);
        return cli::kExitOk;
    }, shown);
}
