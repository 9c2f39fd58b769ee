// gguf-hexdump: the bytes of a GGUF file explained - a tensor's blocks field by field, a
// quantization format on its own, or the container's header with every offset.
#include <fmt/core.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <optional>

#include "cli.h"
#include "open_input.h"
#include "text/escape.h"
#include "container/file_types.h"
#include "container/gguf.h"
#include "hexdump/hexdump.h"
#include "container/model.h"
#include "container/names.h"

using namespace gguftk;

namespace {

constexpr const char* kExamples = R"(
Examples:
  gguf-hexdump model.gguf                       # the header: fields and offsets
  gguf-hexdump model.gguf --tensor blk.0.attn_q.weight  # block 0, by field
  gguf-hexdump model.gguf --tensor output.weight --block 12 --count 2
  gguf-hexdump model.gguf --tensor token_embd.weight --json | jq '.[0].values'
  gguf-hexdump model.gguf --tensor blk.0.ffn_down.weight --markdown >> notes.md
  gguf-hexdump model.gguf --tensor output.weight --row 3 --cols 800:816
  gguf-hexdump model.gguf --tensor output.weight --at 3,810  # row 3, column 810
  gguf-hexdump model.gguf --tensor output.weight --element 9000 --json
  gguf-hexdump --describe Q4_K                   # a format's layout, no file
  gguf-hexdump --describe Q4_K_M                 # a file type: tensors' types
  gguf-hexdump model-00001-of-00003.gguf --tensor output.weight  # in any shard
  gguf-hexdump https://host/model.gguf --tensor output.weight --block 3

A block view says which elements the block holds (elements 768-1023: row 3, columns
0-255), then shows, for every field of the format (lib/formats), its byte range within the
block, its kind, its bytes, what they say (fp16 scales, 6-bit scales and mins per sub-block,
high bits, grid indices and signs, E8M0/UE4M3 exponents...) and what the field means; then the
hex dump, and the values part by part with the codes each element was made from. On a terminal
the table gives a field's first 8 bytes and 12 values (the dump below has every byte); in a
pipe, in Markdown and in JSON, all of them. The values are exactly what gguf-dequant
writes as F32: the same decoder computes them.

Values by element: elements are numbered in GGUF order, ne0 (the row length) fastest. Row R is
elements [R*ne0, (R+1)*ne0) and its columns are 0..ne0-1; a tensor of more than two dimensions
has its rows counted over ne1, ne2 and ne3 flattened (row = i1 + ne1*(i2 + ne2*i3), shown as
i1=, i2=). So NumPy's w[3, 810] (gguf-py's shape: GGUF's, reversed) is row 3, column 810.
--row R prints the row's values, as many a line as fit in 80 columns (eight at most), each
line led by the column of its first value; --cols A:B keeps columns A to B-1 as a Python slice
does (either end may be left out; a negative one counts from the end of the row; an end past
the row is clamped to it; a slice holding no column is an error). --element I and --at ROW,COL show
the block holding that element exactly as --block does, with the element named above it and
marked under its value. --at also takes all of a tensor's indices in NumPy's order, the column
last: I2,I1,COL for three dimensions, I3,I2,I1,COL for four (NumPy's w[1, 2, 5] is --at
1,2,5). Only the blocks holding what is shown are read, a bounded piece at a time.

JSON: an array of blocks (always, even of one) with the keys tensor, type, block, offset
(absolute), size, elements {first, last, row, first_col, last_col} (the elements the block
holds, all in one row; with i1, i2, i3 for more than two dimensions), fields [{name, offset
(within the block), size, kind, meaning, hex, decoded}] and values; with --element or --at,
the one block has one more: element {index, row, col, block, in_block, value}. A row: {tensor,
type, shape (GGUF order), shape_row_major (NumPy's), row, rows, start, stop (the columns,
half-open), first_block, last_block, values}. A row and an element of a tensor of more than two
dimensions also have i1, i2 (and i3): the row's place. Floats are exact (the shortest decimal
that reads back to the same value); NaN and infinities, which JSON lacks, are the strings
"NaN", "Infinity" and "-Infinity". A series of per-element codes in `decoded` comes with
NAME_element, the element each code belongs to.

A remote file (http://, https://, hf://OWNER/REPO/FILE.gguf[@REVISION], as for gguf-inspect)
is read with HTTP range requests: its header, then exactly the bytes of the blocks shown.

The file is validated first: a damaged file gives one `error:` line with the offset of the
problem, and exit code 1. Usage mistakes exit 2, and so do arguments that do not fit the file:
an unknown tensor name (with close names suggested), a block, row, column or element out of
range (the line names the tensor and its shape), --row with --block or --count, --element
with --at, --cols without --row. Strings from the file are
shown escaped; colour only on a terminal, never with NO_COLOR set.)";

// "unknown type 'x'; did you mean ...?" (or "the type name is empty"), then every tensor type
// and file type there is.
std::string unknown_type(const std::string& which) {
    ClosestNames closest(which);
    std::string types, file_types;
    for (const TypeInfo& ti : all_types()) {
        closest.consider(ti.name);
        types += (types.empty() ? "" : " ") + std::string(ti.name);
    }
    for (const FileType& ft : all_file_types()) {
        closest.consider(ft.name);
        file_types += (file_types.empty() ? "" : " ") + std::string(ft.name);
    }
    std::string near;  // nothing is near an empty name; a file type named as a tensor type is named once
    for (const std::string& n : closest.names())
        if (!which.empty() && near.find("'" + n + "'") == std::string::npos)
            near += (near.empty() ? "'" : ", '") + n + "'";
    const std::string what = which.empty() ? "--describe: the type name is empty"
                                           : fmt::format("unknown type '{}'", escape(which));
    return fmt::format("{}{}; the types are: {} (or all); the file types: {}", what,
                       near.empty() ? "" : "; did you mean " + near + "?", types, file_types);
}

// --describe: one type's description, or with "all" every type's; or a file type's (Q4_K_M): a
// name that is both (Q8_0, Q2_K) is the tensor type, and MOSTLY_Q8_0 the file type.
std::string describe_types(const std::string& which, bool json, bool markdown, bool color) {
    const bool all = iequal(which, "all");
    std::vector<FormatDump> formats;
    if (all) {
        for (const TypeInfo& ti : all_types()) formats.push_back(describe_format(ti));
    } else {
        const TypeInfo* t = find_type(which);
        if (!t) {
            const FileType* ft = find_file_type(which);
            if (!ft) throw cli::UsageError(unknown_type(which));
            return json ? file_type_json(*ft) : render_file_type_text(*ft);
        }
        formats.push_back(describe_format(*t));
    }
    if (json) return formats_json(formats, all);
    std::string out;
    for (size_t i = 0; i < formats.size(); ++i) {
        if (i) out += '\n';
        if (markdown) out += fmt::format("## {}\n\n", formats[i].type->name);  // one type or all: a section each
        out += markdown ? render_format_markdown(formats[i]) : render_format_text(formats[i], color);
    }
    return out;
}

// A block's JSON object as an item of the array every block view prints (one shape, whatever
// the count): without its newline, a comma or the closing bracket follows.
std::string block_item(const BlockDump& b) {
    std::string one = blocks_json({&b, 1}, false);
    one.pop_back();
    return one;
}

// Blocks [first, first + count) of `t`. The whole range is checked first, so an error prints
// nothing; then blocks are dumped and written a chunk at a time, so --count over a whole tensor
// needs no memory for all of it.
void write_blocks(const GgufFile& f, const TensorInfo& t, uint64_t first, uint64_t count, bool json, bool markdown,
                  bool color, size_t columns) {
    check_block_range(f, t, first, count);
    constexpr uint64_t kChunk = 64;
    for (uint64_t k = 0; k < count; k += kChunk) {
        const std::vector<BlockDump> blocks = dump_blocks(f, t, first + k, std::min(kChunk, count - k));
        // The bracket goes out with the first chunk: dump_blocks may still refuse the tensor
        // (a big-endian file), and then nothing at all is printed.
        std::string out = json && k == 0 ? "[\n" : "";
        for (size_t i = 0; i < blocks.size(); ++i) {
            const bool at_start = k == 0 && i == 0;
            if (json)
                out += (at_start ? "" : ",\n") + block_item(blocks[i]);
            else
                out += (at_start ? "" : "\n") +
                       (markdown ? render_block_markdown(blocks[i]) : render_block_text(blocks[i], color, columns));
        }
        cli::write_stdout(out);
    }
    if (json) cli::write_stdout("\n]\n");
}

// What to show of a tensor: blocks (--block, --count), a row (--row, --cols) or the block of one
// element (--element, --at), and how.
struct Request {
    uint64_t block = 0, count = 1;
    std::optional<uint64_t> row, element;
    std::optional<std::vector<uint64_t>> at;  // ROW,COL, or NumPy's index (place_at)
    ColumnSlice cols;
    bool json = false, markdown = false, color = false;
    size_t columns = 0;  // a terminal's, to fit; 0 in a pipe
};

void write_row(const GgufFile& f, const TensorInfo& t, const Request& r) {
    const RowSpan span = row_span(f, t, *r.row, r.cols);
    if (r.json)
        row_json(f, t, span, cli::write_stdout);
    else if (r.markdown)
        render_row_markdown(f, t, span, cli::write_stdout);
    else
        render_row_text(f, t, span, r.color, cli::write_stdout, r.columns);
}

void write_element(const GgufFile& f, const TensorInfo& t, const Request& r) {
    const ElementPlace p = r.element ? place_element(f, t, *r.element) : place_at(f, t, *r.at);
    const BlockDump b = dump_element_block(f, t, p);
    cli::write_stdout(r.json ? "[\n" + block_item(b) + "\n]\n"
                             : r.markdown ? render_block_markdown(b) : render_block_text(b, r.color, r.columns));
}

void show_tensor(const GgufFile& f, const TensorInfo& t, const Request& r) {
    if (r.row) return write_row(f, t, r);
    if (r.element || r.at) return write_element(f, t, r);
    write_blocks(f, t, r.block, r.count, r.json, r.markdown, r.color, r.columns);
}

void show_header(const GgufFile& f, const Request& r) {
    const HeaderDump h = dump_header(f);
    // Streamed: records and values as many and as large as the file makes them.
    if (r.json)
        header_json(h, cli::write_stdout);
    else if (r.markdown)
        render_header_markdown(h, cli::write_stdout);
    else
        render_header_text(h, r.color, cli::write_stdout, r.columns);
}

// --tensor NAME (or a glob matching one tensor) of the file `input`, or of the split model it
// is a shard of: the tensor may be in another shard, and a glob must match one tensor of the
// whole model.
void show_named_tensor(const GgufFile& f, const std::string& input, const std::string& name,
                       cli::InputOpener& open_input, const Request& r) {
    if (const TensorInfo* t = f.find_tensor(name)) return show_tensor(f, *t, r);
    if (!split_info(f)) return show_tensor(f, *find_one_tensor(GgufModel::of(f), name).tensor, r);
    const GgufModel model = GgufModel::open(
        input, GgufModel::Open::Whole, [&](const std::string& p) { return open_input(p); }, cli::shard_inputs);
    const FoundTensor found = find_one_tensor(model, name);
    const GgufFile& shard = *model.files()[found.file];
    if (found.file != model.given_index())
        fmt::print(stderr, "note: {} is in {}\n", quoted_name(found.tensor->name), shard.path());
    show_tensor(shard, *found.tensor, r);
}

// --at: one to four decimal whole numbers between commas (ROW,COL or a NumPy index: place_at
// says which the tensor takes), each parsed as --block's is (no sign, nothing after).
std::optional<std::vector<uint64_t>> parse_at(std::string_view s) {
    std::vector<uint64_t> at;
    for (size_t from = 0;;) {
        const size_t comma = std::min(s.find(',', from), s.size());
        const std::string_view part = s.substr(from, comma - from);
        uint64_t v = 0;
        const auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
        if (part.empty() || ec != std::errc() || ptr != part.data() + part.size() || at.size() == 4)
            return std::nullopt;
        at.push_back(v);
        if (comma == s.size()) return at;
        from = comma + 1;
    }
}

// A CLI11 check that `parse` accepts the option's text, so that a malformed one is a usage error.
template <class Parse>
CLI::Validator parses(Parse parse, std::string_view what) {
    return CLI::Validator(
        [parse, what = std::string(what)](std::string& text) -> std::string {
            return parse(text) ? std::string() : fmt::format("{} is not {}", text, what);
        },
        "");
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Explain the bytes of a GGUF file: a tensor's blocks field by field, or the header.", "gguf-hexdump"};
    cli::add_version(app);
    std::string input, shown, tensor, describe, cols, at;
    remote::Options remote_opts;
    Request req;
    uint64_t row = 0, element = 0;
    bool header = false;
    app.add_option("file", input, "GGUF file (a path, or an http(s):// or hf:// location)");
    auto* tensor_opt = app.add_option("--tensor", tensor, "the tensor to show (a name, or a glob matching one): its blocks, a row, an element");
    auto* block_opt =
        app.add_option("--block", req.block, "first block to show (default 0)")->check(cli::whole_number(0));
    auto* count_opt =
        app.add_option("--count", req.count, "how many blocks to show (default 1)")->check(cli::whole_number(1));
    auto* row_opt = app.add_option("--row", row, "a row's values: elements [R*ne0, (R+1)*ne0)")
                        ->type_name("R")
                        ->check(cli::whole_number(0));
    auto* cols_opt = app.add_option("--cols", cols, "with --row: columns [A, B), as a Python slice (clamped to the row)")
                         ->type_name("A:B")
                         ->check(parses(parse_column_slice, "a slice A:B (either end may be left out)"));
    auto* element_opt = app.add_option("--element", element, "the block holding element I (a flat index)")
                            ->type_name("I")
                            ->check(cli::whole_number(0));
    auto* at_opt = app.add_option("--at", at, "the block holding row ROW's column COL (or NumPy's w[I2, I1, COL] as I2,I1,COL)")
                       ->type_name("ROW,COL")
                       ->check(parses(parse_at, "ROW,COL or I3,I2,I1,COL (whole numbers, as many as the tensor has "
                                                "dimensions)"));
    auto* header_opt = app.add_flag("--header", header, "the header, metadata and tensor infos with offsets (the default)");
    auto* describe_opt = app.add_option("--describe", describe, "a format's layout and formula, without a file (Q4_K, ..., or all); or what a file type (general.file_type: Q4_K_M, MOSTLY_Q8_0, ...) gives each tensor");
    auto* json_opt = app.add_flag("--json", req.json, "JSON (see below)");
    app.add_flag("--markdown", req.markdown, "a Markdown section")->excludes(json_opt);
    header_opt->excludes(tensor_opt)->excludes(describe_opt);
    describe_opt->excludes(tensor_opt);
    block_opt->needs(tensor_opt);
    count_opt->needs(tensor_opt);
    // One view of a tensor at a time: blocks, a row, or one element's block.
    for (CLI::Option* o : {row_opt, element_opt, at_opt})
        o->needs(tensor_opt)->excludes(block_opt)->excludes(count_opt);
    row_opt->excludes(element_opt)->excludes(at_opt);
    element_opt->excludes(at_opt);
    cols_opt->needs(row_opt);
    cli::add_remote_options(app, remote_opts);
    app.footer(kExamples);

    return cli::run(app, argc, argv, [&]() -> int {
        shown = remote::display_name(input);  // what errors name: never a URL's user:password@
        req.color = !req.json && !req.markdown && cli::use_color(stdout);
        if (!req.json && !req.markdown) req.columns = cli::terminal_columns(stdout);
        if (row_opt->count()) req.row = row;
        if (element_opt->count()) req.element = element;
        if (at_opt->count()) req.at = parse_at(at);
        if (cols_opt->count()) req.cols = *parse_column_slice(cols);
        if (describe_opt->count()) {  // --describe "" too: an empty name is refused as an unknown one is
            if (!input.empty()) throw cli::UsageError("--describe shows a format, not a file: leave out the FILE");
            cli::write_stdout(describe_types(describe, req.json, req.markdown, req.color));
            return cli::kExitOk;
        }
        if (input.empty()) throw cli::UsageError("a FILE is required (or --describe TYPE)");

        cli::InputOpener open_input(remote_opts);  // one model's: its headers counted together
        const GgufFile f = open_input(input);
        if (tensor_opt->count() == 0)
            show_header(f, req);
        else
            show_named_tensor(f, input, tensor, open_input, req);
        return cli::kExitOk;
    }, shown);
}
