#pragma once
// gguf-hexdump's views: a tensor block laid out byte by byte as its format defines it, a
// format's description on its own, and the GGUF container's header with every offset.
//
//   const GgufFile f = GgufFile::open(path);
//   BlockDump b = dump_block(f, *f.find_tensor("blk.0.attn_q.weight"), 7);
//   std::string s = render_block_text(b, color);   // or render_block_markdown, blocks_json
//
// Fields come from the format description in lib/formats (the same list the docs are made
// from) and are decoded by their FieldKind; the values come from the format's decode_block,
// the very code gguf-dequant runs, so what the dump shows is what a conversion produces.
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "container/gguf.h"
#include "formats/types.h"

namespace gguftk {

// One thing a field's bytes say: "scales", "mins", "nibbles", "grid"... in storage order.
struct Series {
    std::string name;
    std::vector<double> values;  // integers (codes, indices, exponents) are exact; reals are floats widened
    bool integer = true;
    // Which block elements value k is about. Per element: elements[k] is the one element value k
    // feeds (found by asking the decoder which outputs each bit changes). Grouped: the values split
    // the block evenly, value k covering elements [k*n, (k+1)*n) with n = block elements / count.
    // Neither: a part of something else (the nibbles of IQ1_M's d).
    std::vector<uint32_t> elements;
    bool grouped = false;
};

struct FieldDump {
    std::string name;     // ggml's member name: "d", "scales", "qs"
    std::string kind;     // the FieldKind in words: "fp16", "scales6", "nibbles", ...
    std::string meaning;  // the format's one-line description
    uint32_t offset = 0;  // within the block
    uint32_t size = 0;    // bytes
    bool used = true;     // false when no output depends on these bytes (Q8_1's s, Q8_K's bsums)
    std::vector<Series> series;
};

// A format on its own: what --describe shows and the docs' layout section is made of.
struct FormatDump {
    const TypeInfo* type = nullptr;
    std::string formula;      // F::formula
    uint32_t part_elems = 0;  // the decoder's unit (a sub-block for most formats)
    std::vector<FieldDump> fields;  // names, kinds, meanings, offsets; no series
};
// The description of `t` (every type: integer types as one "value" field). Throws for none.
FormatDump describe_format(const TypeInfo& t);

// Elements are numbered in GGUF order, ne[0] fastest: row r of a tensor is elements
// [r * ne[0], (r + 1) * ne[0]), its columns are 0..ne[0]-1, and the rows run over every higher
// dimension flattened (ne[1] * ne[2] * ne[3] of them: row = i1 + ne[1] * (i2 + ne[2] * i3)).
// So NumPy's w[3, 1800] of a 2-D tensor (gguf-py's shape, reversed) is row 3, column 1800.
struct ElementPlace {
    uint64_t element = 0;   // the flat index
    uint64_t row = 0;
    uint64_t column = 0;
    uint64_t block = 0;     // the block holding it
    uint32_t in_block = 0;  // its index within that block
    std::vector<uint64_t> higher;  // i1, i2 (, i3) of a tensor of more than two dimensions; else empty
};

// The elements a block holds: [first, first + block elements), all in one row (the reader checks
// that ne[0] is a whole number of blocks), columns [column, column + block elements).
struct BlockPlace {
    uint64_t first = 0;
    uint64_t row = 0;
    uint64_t column = 0;
    std::vector<uint64_t> higher;  // as ElementPlace's
};

struct BlockDump {
    FormatDump format;
    std::string tensor;
    uint64_t index = 0;       // block index within the tensor
    uint64_t n_blocks = 0;    // blocks in the tensor
    uint64_t offset = 0;      // absolute file offset of the block
    BlockPlace place;
    std::vector<uint8_t> bytes;
    std::vector<FieldDump> fields;  // in byte order; together they cover every byte once
    // The dequantized values (F::decode_block: gguf-dequant's float32), in parts of format.part_elems.
    // Integer types are never converted: their element is in int_value instead.
    std::vector<float> values;
    bool is_integer = false;
    int64_t int_value = 0;
    // Shown for one element (--element, --at): named above the block and pointed at in the values.
    std::optional<ElementPlace> marked;
};

// Block `index` of `t` (of file `f`). Throws Error when the index is past the last block.
BlockDump dump_block(const GgufFile& f, const TensorInfo& t, uint64_t index);
// Throws Error (naming the valid range) unless blocks [first, first + count) all exist in `t`.
void check_block_range(const GgufFile& f, const TensorInfo& t, uint64_t first, uint64_t count);
// Blocks [first, first + count), sharing the per-format work.
std::vector<BlockDump> dump_blocks(const GgufFile& f, const TensorInfo& t, uint64_t first, uint64_t count);

// ---- values by element (the numbering above ElementPlace) ----

// Rows of `t`: ne[1] * ne[2] * ne[3] (1 for a 1-D tensor).
uint64_t n_rows(const TensorInfo& t);
// Where element `element`, or row `row` column `column`, lies. Throws Error naming the tensor and
// its shape when it is outside the tensor.
ElementPlace place_element(const GgufFile& f, const TensorInfo& t, uint64_t element);
ElementPlace place_element(const GgufFile& f, const TensorInfo& t, uint64_t row, uint64_t column);
// --at's numbers: ROW,COL (the rows flattened, whatever the dimensions), or as many numbers as
// the tensor has dimensions in NumPy's order (gguf-py's shape, GGUF's reversed: I3,I2,I1,COL),
// so that --at 1,2,5 of a 256 x 3 x 2 tensor is NumPy's w[1, 2, 5], row 2 + 3 * 1. Throws
// ArgumentError, saying both forms, for another count, and naming the range for an index past it.
ElementPlace place_at(const GgufFile& f, const TensorInfo& t, std::span<const uint64_t> at);
// The block holding `p`, dumped as dump_block does, with the element marked.
BlockDump dump_element_block(const GgufFile& f, const TensorInfo& t, const ElementPlace& p);

// --cols as given: a Python slice "A:B", either end left out, a negative end counting from the
// end of the row, an end past the row clamped to it (one past int64 saturates: the same
// columns). `text` is what the user wrote, for messages.
struct ColumnSlice {
    std::optional<int64_t> start, stop;
    std::string text;
};
// Nothing when `s` is not "[A]:[B]" with A and B decimal integers (a sign allowed).
std::optional<ColumnSlice> parse_column_slice(std::string_view s);

// Columns [start, stop) of row `row`.
struct RowSpan {
    uint64_t row = 0;
    uint64_t start = 0;
    uint64_t stop = 0;
};
// Throws Error naming the tensor and its shape unless the row exists and start < stop <= ne[0].
void check_row_span(const GgufFile& f, const TensorInfo& t, const RowSpan& s);
// Row `row`, columns `cols` resolved against ne[0] as Python resolves a slice (all of them when
// both ends are left out). Throws Error naming the tensor and its shape when the row is outside
// the tensor or the slice holds no column.
RowSpan row_span(const GgufFile& f, const TensorInfo& t, uint64_t row, const ColumnSlice& cols);

// Some consecutive values of a row, as the block view decodes them.
struct RowValues {
    uint64_t first = 0;         // the column of the first value
    std::vector<float> values;  // F::decode_block's float32, as in BlockDump::values
    std::vector<int64_t> ints;  // integer types: the elements as they are (never converted)
    bool is_integer = false;
    size_t size() const { return is_integer ? ints.size() : values.size(); }
};
// The most values row_values hands on at once: a multiple of 1..8, so that a text line of up to
// eight values never straddles two pieces.
inline constexpr uint64_t kRowPiece = 840 * 64;
// Hands `piece` the values of span `s` in order, at most kRowPiece at a time, reading only the
// blocks each piece covers (a remote file: one range request a piece). Checks `s` first.
void row_values(const GgufFile& f, const TensorInfo& t, const RowSpan& s,
                const std::function<void(const RowValues&)>& piece);

// The views of a row span, streamed to `out` a piece at a time; nothing is written when the span
// is refused. Text: a title, then lines of up to eight values, each line starting with the column
// of its first value, within 80 columns (or a narrower terminal's `columns`, the title too).
// Markdown: a section with the same lines fenced. JSON:
//   {"tensor", "type", "shape" (GGUF order), "shape_row_major" (NumPy's), "row" (and "i1", "i2",
//    "i3" as the tensor has them, beyond two dimensions), "rows", "start", "stop" (the columns,
//    half-open), "first_block", "last_block", "values"}
// with floats as in the block JSON and integer types' values exact.
void render_row_text(const GgufFile& f, const TensorInfo& t, const RowSpan& s, bool color,
                     const std::function<void(std::string_view)>& out, size_t columns = 0);
void render_row_markdown(const GgufFile& f, const TensorInfo& t, const RowSpan& s,
                         const std::function<void(std::string_view)>& out);
void row_json(const GgufFile& f, const TensorInfo& t, const RowSpan& s,
              const std::function<void(std::string_view)>& out);

// Renderings. Text is for a terminal (ANSI colour when `color`); Markdown is a section for spec
// documents (field table with each field's meaning and every byte, fenced hex dump, values);
// JSON is one object per block:
//   {"tensor", "type", "block", "offset" (absolute), "size",
//    "elements": {"first", "last", "row", "first_col", "last_col"} (and "i1", "i2", "i3" as the
//    tensor has them, for more than two dimensions),
//    "fields": [{"name", "offset" (within the block), "size", "kind", "meaning", "hex" (every byte),
//                "decoded": {series: [...]}}],
//    "values": [exact floats]}
// Floats are the shortest decimal that reads back to the same double (a float32 widened
// exactly), so every value survives the round trip; NaN and infinities, which JSON lacks, are
// the strings "NaN", "Infinity" and "-Infinity" (the field's hex keeps the exact bits).
// A per-element series comes with "<name>_element": the element index of each value. A marked
// block (dump_element_block) has one more member, "element": {"index", "row", "col", "block",
// "in_block", "value"} (and "i1", "i2", "i3" beyond two dimensions): the keys gguf-dequant
// --check and gguf-compare give an element.
// With `columns` (a terminal's), the block view fits them: grids of fewer values a line, long
// text wrapped, the field table's hex and values cut (and said to be); 0: as in a pipe, whole.
std::string render_block_text(const BlockDump& b, bool color, size_t columns = 0);
std::string render_block_markdown(const BlockDump& b);
// One block: an object; `as_array` (for --count > 1): an array of them.
std::string blocks_json(std::span<const BlockDump> blocks, bool as_array);

std::string render_format_text(const FormatDump& d, bool color);
std::string render_format_markdown(const FormatDump& d);
// {"type", "class" ("quantized", "float", "integer"), "block_elements", "block_bytes",
//  "bits_per_weight", "part_elements", "formula", "fields": [{"name", "offset", "size", "kind",
//  "meaning"}]}; one object, or with `as_array` an array of them.
std::string formats_json(std::span<const FormatDump> formats, bool as_array);
inline std::string format_json(const FormatDump& d) { return formats_json({&d, 1}, false); }
struct FileType;
// --describe of a file type (Q4_K_M, ...): what it is and which types its tensors get, in 80
// columns; JSON: {"file_type", "general.file_type", "llama_ftype", "mix", "base", "tensors":
// [{"tensors", "type"}]}.
std::string render_file_type_text(const FileType& t);
std::string file_type_json(const FileType& t);
// The block drawn as a byte ruler: offsets above, one box per field, `width` columns at most
// where the names allow.
std::string layout_diagram(const FormatDump& d, size_t width = 72);

// ---- the container ----

// One stretch of header bytes: a field of the header, of a metadata entry or of a tensor info.
struct HeaderField {
    enum class Is : uint8_t {
        Number,  // a count, length, type id, dimension or offset: `number`
        Text,    // bytes from the file shown as a string (a key, a tensor name, the magic): `text`
        Value,   // a metadata value (scalar, string or the items of an array): `kv`
        Region,  // bytes with no value of their own (padding, tensor data)
    };
    uint64_t offset = 0;  // absolute
    uint64_t size = 0;
    std::string name;     // "magic", "key length", "value type", "value", "ne[1]", ...
    Is is = Is::Number;
    uint64_t number = 0;
    std::string text;               // raw bytes: escape before display
    const KeyValue* kv = nullptr;
    std::string note;               // what a number stands for: "STRING", "Q4_K", "data at 2784"
};

// A metadata entry or a tensor info record: its fields in file order.
struct HeaderRecord {
    std::string title;    // the key or tensor name, raw (escape before display)
    uint64_t offset = 0;
    uint64_t size = 0;
    std::vector<HeaderField> fields;
};

struct HeaderDump {
    const GgufFile* file = nullptr;
    std::vector<HeaderField> header;        // magic, version, tensor count, metadata count
    HeaderField padding;                    // up to the data section (size 0 when there is none)
    HeaderField data;                       // the tensor data section

    // The records, made one at a time when asked: a file may hold millions of them.
    size_t n_metadata() const { return file->metadata().size(); }
    size_t n_tensor_infos() const { return file->tensors().size(); }
    HeaderRecord metadata_record(size_t i) const;
    HeaderRecord tensor_info_record(size_t i) const;
};

// Built from the reader's validated parse (offsets it kept), not by parsing again.
HeaderDump dump_header(const GgufFile& f);
// With `columns` (a terminal's), the text fits them: names shortened in the middle, a value
// with no room beside its field on the lines below it.
std::string render_header_text(const HeaderDump& h, bool color, size_t columns = 0);
std::string render_header_markdown(const HeaderDump& h);
// Both also handed to `out` a piece at a time, record by record (the tool prints this way).
void render_header_text(const HeaderDump& h, bool color, const std::function<void(std::string_view)>& out,
                        size_t columns = 0);
void render_header_markdown(const HeaderDump& h, const std::function<void(std::string_view)>& out);
// {"file", "version", "endian", "alignment", "data_offset", "file_size", "header": [fields],
//  "metadata": [records], "tensor_infos": [records], "padding", "data"}; a field is {"name",
// "offset", "size", "hex" (its first 64 bytes at most), "value", and for numbers that stand for
// something "meaning": "STRING", "Q4_K", "data at N"}; a record is {"name", "offset", "size",
// "fields"}. Values are complete and typed: integers exact, floats as in the block JSON.
std::string header_json(const HeaderDump& h);
void header_json(const HeaderDump& h, const std::function<void(std::string_view)>& out);

}  // namespace gguftk
