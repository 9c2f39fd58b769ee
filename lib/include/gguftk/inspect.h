#pragma once
// Views of a GGUF file for people and programs: text, Markdown and JSON renderings of what
// gguf-inspect shows (header, metadata, tensor table, per-type summary, totals).
//
//   GgufFile f = GgufFile::open(path);
//   Inspection in = inspect(f, opts);            // select tensors, add up the totals
//   std::string out = render_text(in, opts);     // or render_markdown / render_json
//
// Strings from the file are untrusted: text and Markdown escape them (gguftk/escape.h); JSON
// replaces bytes that are not valid UTF-8 with U+FFFD so the document is always valid JSON, and
// then gives such keys and names their exact bytes in hex and keeps every key distinct.
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "gguftk/escape.h"
#include "gguftk/gguf.h"
#include "gguftk/memory.h"
#include "gguftk/source.h"

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
// whatever the filters, and the KV cache (gguftk/memory.h) in the layout the model needs.
struct Memory {
    uint64_t ctx = 0;
    const TypeInfo* kv_type = nullptr;
    KvCache kv;
    uint64_t weights_stored = 0;  // bytes of every tensor as stored
    bool one_shard = false;       // of a split model whose other shards were not read
};

// What the selected tensors add up to, and the memory the same weights take at other widths.
struct Totals {
    uint64_t tensors = 0;
    uint64_t parameters = 0;   // elements
    uint64_t bytes = 0;        // as stored
    std::vector<TypeTotal> by_type;  // most bytes first
    double bits_per_weight() const { return parameters ? 8.0 * static_cast<double>(bytes) / parameters : 0; }
    // Parameters times 2 and 4 bytes: what dequantizing on load costs. Saturates at 2^64-1.
    uint64_t f16_bytes() const;
    uint64_t f32_bytes() const;
};

// split.no (0-based) and split.count of a shard of a split model, from its metadata.
struct SplitInfo {
    uint64_t index = 0;
    uint64_t count = 0;
};
std::optional<SplitInfo> split_info(const GgufFile& f);

// The paths of all `count` shards of a split model, given one of them named
// NAME-0000K-of-0000N.gguf (llama.cpp's llama_split_path). Throws Error when the name does not
// have that form or its N differs from count.
std::vector<std::string> shard_paths(const std::string& path, uint64_t count);

// Everything a view shows, gathered once.
struct Inspection {
    const GgufFile* file = nullptr;
    std::optional<SplitInfo> split;
    std::vector<TensorRow> rows;        // the selected tensors, in file order (shard by shard)
    uint64_t files_bytes = 0;           // size of the file(s) the rows come from: the share's base
    bool shards_listed = false;
    std::vector<std::string> shard_names;  // shard k's path at [k-1], when listed
    Totals totals;
    // What reading the file(s) through their sources took (remote files), when any was.
    std::optional<Transfer> remote;
    std::optional<Memory> memory;  // with InspectOptions::ctx
};

// Selects the tensors of `f` (and of `shards`, when given: every shard of the model in order,
// `f` among them) that pass the options' filters, and adds them up.
Inspection inspect(const GgufFile& f, const InspectOptions& opts, std::span<const GgufFile* const> shards = {});

std::string render_text(const Inspection& in, const InspectOptions& opts);
std::string render_markdown(const Inspection& in, const InspectOptions& opts);
// Each view also hands its text to `out` a piece at a time, in memory that does not grow with
// the file (a hostile one may hold millions of tensors); the tools print this way.
void render_text(const Inspection& in, const InspectOptions& opts, const std::function<void(std::string_view)>& out);
void render_markdown(const Inspection& in, const InspectOptions& opts, const std::function<void(std::string_view)>& out);
// One JSON document: file, version, endian, alignment, data_offset, file_size, metadata,
// tensors, summary (in that order); with a context "memory": {"ctx", "kv_type", "kv_cache_bytes"
// (null when not known, then "kv_cache_unknown" says why), "kv_cache": {"layers",
// "sliding_window_layers", "sliding_window", "cells", "sliding_window_cells", "k_bytes",
// "v_bytes"}, "weights_bytes": {"stored"}, "weights_plus_kv_bytes": {"stored"}}; and for a
// remote file "remote": {"bytes_fetched", "requests", "redirects"}. Metadata values complete; 64-bit integers exact; floats as
// the shortest decimal that reads back to the same double; NaN and infinities as null.
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
