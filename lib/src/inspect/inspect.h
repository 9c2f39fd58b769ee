#pragma once
// Views of a GGUF file for people and programs: text, Markdown and JSON renderings of what
// gguf-inspect shows (header, metadata, tensor table, per-type summary, totals, and what
// gguf-dequant would write).
//
//   GgufModel m = GgufModel::open(path);         // the file, and the other shards of a split model
//   Inspection in = inspect(m, opts);            // select tensors, add up the totals
//   std::string out = render_text(in, opts);     // or render_markdown / render_json
//
// Strings from the file are untrusted: text and Markdown escape them (text/escape.h); JSON
// replaces bytes that are not valid UTF-8 with U+FFFD so the document is always valid JSON, and
// then gives such keys and names their exact bytes in hex and keeps every key distinct.
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "convert/convert.h"
#include "text/escape.h"
#include "container/gguf.h"
#include "model/memory.h"
#include "container/model.h"
#include "container/source.h"

namespace gguftk {

struct InspectOptions {
    bool metadata = true;
    bool tensors = true;
    std::vector<std::string> tensor_globs;  // fnmatch(3) patterns on tensor names, any may match; none: all
    const TypeInfo* type = nullptr;    // only tensors of this type
    // Text and Markdown shorten long values (JSON never does): strings to this many bytes,
    // arrays to this many items, both followed by how much there is in all.
    size_t max_string_bytes = 60;
    uint64_t max_array_items = 6;
    bool color = false;                // ANSI colour in text output
    // Text output fits lines in this many columns (a terminal's): long names shortened in the
    // middle with "…", long values wrapped. 0: everything in full (a pipe).
    size_t columns = 0;
    bool shards = false;               // list the tensors of every shard of a split model
    // With a context, the memory the model needs: its weights and the KV cache of `ctx` tokens.
    std::optional<uint64_t> ctx;
    const TypeInfo* kv_type = find_type("F16");  // one of kv_cache_type()'s
};

// A tensor shown, with the shard it belongs to (1-based; 0 when shards are not listed).
struct TensorRow {
    const GgufFile* file;
    const TensorInfo* tensor;
    uint32_t shard = 0;
};

struct TypeTotal {
    const TypeInfo* type;
    uint64_t tensors = 0, elements = 0, bytes = 0;
};

// The memory a model needs for a context (InspectOptions::ctx): every tensor of the file(s) read,
// whatever the filters, and the KV cache (model/memory.h) in the layout the model needs.
struct Memory {
    uint64_t ctx = 0;
    const TypeInfo* kv_type = nullptr;
    KvCache kv;
    uint64_t weights_stored = 0;  // bytes of every tensor as stored
    // The tensor bytes gguf-dequant writes with --to f16 / bf16 / f32 (quantized tensors
    // converted, the others as they are): Inspection::dequantized's figures. Absent when the
    // model cannot be converted.
    std::optional<uint64_t> weights_f16, weights_bf16, weights_f32;
    bool one_shard = false;       // of a split model whose other shards were not read
};

// What the selected tensors add up to.
struct Totals {
    uint64_t tensors = 0;
    uint64_t parameters = 0;   // elements
    uint64_t bytes = 0;        // as stored
    std::vector<TypeTotal> by_type;  // most bytes first
    // None for no parameters (the views then show none).
    std::optional<double> bits_per_weight() const {
        if (!parameters) return std::nullopt;
        return 8.0 * static_cast<double>(bytes) / static_cast<double>(parameters);
    }
};

// What gguf-dequant writes for the whole model (every tensor, GGUF output, the split kept)
// with --to `to`, without and with --all: computed by the core's planning code, so these are
// the exact sizes of its output.
struct Dequantized {
    OutType to = OutType::F16;
    ConversionSize quantized;  // quantized tensors converted, the others copied
    ConversionSize all;        // --all: the float tensors converted too
};

// Everything a view shows, gathered once.
struct Inspection {
    const GgufFile* file = nullptr;     // the file named
    std::optional<SplitInfo> split;     // its split.* keys, when it is a shard
    size_t model_files = 1;             // files the totals cover: every shard, or the file alone
    std::vector<TensorRow> rows;        // the selected tensors, in file order (shard by shard)
    uint64_t files_bytes = 0;           // size of the files the totals cover: the share's base
    bool shards_listed = false;
    std::vector<std::string> shard_names;  // shard k's path at [k-1], when listed
    Totals totals;                      // of the selected tensors of every file of the model
    std::vector<Dequantized> dequantized;  // F16, BF16, F32; none when the model cannot be converted
    std::string not_convertible;           // why not, then
    // What reading the file(s) through their sources took (remote files), when any was.
    std::optional<Transfer> remote;
    std::optional<Memory> memory;  // with InspectOptions::ctx
};

// Selects the tensors of the model that pass the options' filters and adds them up over all its
// files. The rows are those of the file named, or with opts.shards those of every shard.
Inspection inspect(const GgufModel& model, const InspectOptions& opts);
// The same for one file (which must outlive the result), whatever its split.* keys say.
Inspection inspect(const GgufFile& f, const InspectOptions& opts);

std::string render_text(const Inspection& in, const InspectOptions& opts);
std::string render_markdown(const Inspection& in, const InspectOptions& opts);
// Each view also hands its text to `out` a piece at a time, in memory that does not grow with
// the file (a hostile one may hold millions of tensors); the tools print this way.
void render_text(const Inspection& in, const InspectOptions& opts, const std::function<void(std::string_view)>& out);
void render_markdown(const Inspection& in, const InspectOptions& opts, const std::function<void(std::string_view)>& out);
// One JSON document: file, version, endian, alignment, data_offset, file_size, metadata,
// tensors, summary (in that order); with a context "memory" after the summary; and for a remote
// file "remote": {"bytes_fetched", "requests", "redirects"}. Metadata values complete; 64-bit
// integers exact; floats as the shortest decimal that reads back to the same double; NaN and
// infinities as the strings "NaN", "Infinity" and "-Infinity" (text/escape.h,
// json_nonfinite). An array of arrays also gives "inner_element_type". The summary: tensors,
// parameters, bytes, bits_per_weight (null without parameters), by_type, dequantized
// ({"f16"|"bf16"|"f32": {"default"|"all": {tensor_bytes, file_bytes, files}}}, or null and then
// not_convertible says why), and for a shard split ({shard, count, whole_model}) and, listed,
// shards. "memory": {"ctx", "kv_type", "kv_cache_bytes" (null when not known, then
// "kv_cache_unknown" says why), "kv_cache": {"layers", "sliding_window_layers",
// "sliding_window", "cells", "sliding_window_cells", "k_bytes", "v_bytes"}, "weights_bytes":
// {"stored", "f16", "bf16", "f32"}, "weights_plus_kv_bytes": {the same four}}.
std::string render_json(const Inspection& in, const InspectOptions& opts);
void render_json(const Inspection& in, const InspectOptions& opts, const std::function<void(std::string_view)>& out);

// Shared by the views: "1024 x 4", "188.2 KiB", a value shortened for display.
std::string shape_string(const TensorInfo& t);
std::string human_bytes(uint64_t n);
// "remote: fetched 1234 bytes (1.2 KiB) in 1 request": what the views say of a remote read.
std::string remote_line(const Transfer& t);
// A metadata value for a person: strings double-quoted and escaped (`how`), arrays as
// [a, b, ...] with at most opts.max_array_items per level, then "… N more".
std::string display_value(const Value& v, const InspectOptions& opts, EscapeFor how);
// "UINT32", "[STRING]", "[[INT64]]": the type as gguf-dump writes it.
std::string display_type(const GgufFile& f, const KeyValue& kv);

}  // namespace gguftk
