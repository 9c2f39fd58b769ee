// libFuzzer target: gguf-hexdump's views (hexdump.h) on arbitrary bytes.
//
// Two modes, told apart by the magic, so both seed corpora serve:
//  - input starting with "GGUF": a whole file. If the reader accepts it, its header dump and the
//    first and last block of its first tensors are rendered in every view;
//  - otherwise [type id][block bytes...]: the bytes become the blocks of a one-tensor file of
//    that type (every type, integer and float ones included), dumped and rendered.
// Checked: nothing but gguftk::Error escapes; text and Markdown are terminal-safe whatever the
// file's names and strings hold (colour off); JSON parses; the fields tile each block, every
// byte once; a block's values are exactly what gguf-dequant's decoder gives for those bytes; a
// block index past the end is an Error, not a read past the data.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "formats/decode.h"
#include "container/error.h"
#include "container/gguf.h"
#include "hexdump/hexdump.h"
#include "formats/types.h"
#include "container/writer.h"
#include "fuzz_check.h"

using namespace gguftk;
using gguftk::fuzz::require;
using gguftk::fuzz::require_terminal_safe;

namespace {

constexpr uint64_t kMaxBlocks = 2;  // dumps are slow under ASan; the last block is dumped as well
constexpr size_t kMaxTensors = 4;

void require_json(const std::string& s) {
    (void)nlohmann::json::parse(s);  // throws (and the fuzzer reports) on invalid JSON or UTF-8
}

void check_block(const BlockDump& b, const TensorInfo& t) {
    const TypeInfo& ti = *t.type;
    require(b.bytes.size() == ti.block_bytes);
    uint32_t at = 0;  // fields tile the block: in byte order, every byte once
    for (const FieldDump& fd : b.fields) {
        require(fd.offset == at && fd.size > 0);
        at += fd.size;
    }
    require(at == ti.block_bytes);
    if (b.is_integer) return;
    require(b.values.size() == ti.block_elems);
    if (!has_decoder(ti.type)) return;
    std::vector<float> want(ti.block_elems);
    decode_blocks(ti.type, b.bytes.data(), 1, OutType::F32, want.data());
    require(std::memcmp(want.data(), b.values.data(), want.size() * sizeof(float)) == 0);
}

void render_blocks(const std::vector<BlockDump>& blocks, const TensorInfo& t) {
    for (const BlockDump& b : blocks) {
        check_block(b, t);
        require_terminal_safe(render_block_text(b, false));
        require_terminal_safe(render_block_markdown(b));
        (void)render_block_text(b, true);
    }
    require_json(blocks_json(blocks, blocks.size() != 1));
}

void dump_tensor(const GgufFile& f, const TensorInfo& t) {
    const uint64_t n = t.n_blocks();
    try {
        (void)dump_block(f, t, n);  // one past the last block
        require(false);
    } catch (const Error&) {
    }
    if (n == 0) return;
    render_blocks(dump_blocks(f, t, 0, std::min(n, kMaxBlocks)), t);
    if (n > kMaxBlocks) render_blocks({dump_block(f, t, n - 1)}, t);
}

void whole_file(std::span<const uint8_t> bytes) {
    std::optional<GgufFile> parsed;
    try {
        parsed.emplace(GgufFile::parse(bytes, "fuzz.gguf"));
    } catch (const Error&) {
        return;  // refusing is the reader's business (fuzz-reader)
    }
    const GgufFile& f = *parsed;
    const HeaderDump h = dump_header(f);
    require_terminal_safe(render_header_text(h, false));
    require_terminal_safe(render_header_markdown(h));
    (void)render_header_text(h, true);
    require_json(header_json(h));
    // A block dump may refuse a file the header dump shows (big-endian data): with an Error.
    try {
        for (size_t i = 0; i < std::min(f.tensors().size(), kMaxTensors); ++i) dump_tensor(f, f.tensors()[i]);
    } catch (const Error& e) {
        require(e.what()[0] != '\0');
    }
}

void blocks_of_type(const TypeInfo& ti, std::span<const uint8_t> block_bytes) {
    const uint64_t n = std::min<uint64_t>(block_bytes.size() / ti.block_bytes, kMaxBlocks);
    if (n == 0) return;
    GgufHeaderWriter w;
    const uint64_t ne[1] = {n * ti.block_elems};
    const uint64_t at = w.add_tensor("t", ne, ti.type);
    std::vector<uint8_t> file = w.finish();
    file.resize(file.size() + w.data_size());
    std::memcpy(file.data() + file.size() - w.data_size() + at, block_bytes.data(), n * ti.block_bytes);
    const GgufFile f = GgufFile::parse(file, "fuzz.gguf");  // a file we wrote: must parse
    require(f.tensors().size() == 1);
    dump_tensor(f, f.tensors()[0]);

    const FormatDump d = describe_format(ti);
    require_terminal_safe(render_format_text(d, false));
    require_terminal_safe(render_format_markdown(d));
    require_json(format_json(d));
    require_terminal_safe(layout_diagram(d, block_bytes[0]));  // any width, even 0
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::span<const uint8_t> bytes(data, size);
    if (size >= 4 && std::memcmp(data, "GGUF", 4) == 0) {
        whole_file(bytes);
        return 0;
    }
    if (size < 2) return 0;
    const TypeInfo* ti = find_type(uint32_t{data[0]});
    if (ti) blocks_of_type(*ti, bytes.subspan(1));
    return 0;
}
