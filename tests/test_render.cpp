// The shared views: escaping untrusted strings, value display, totals, split names, JSON.
// UTF-8 cases follow the Unicode standard's definition of well-formed sequences (Table 3-7).
#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>
#include <string>

#include "gguf_builder.h"
#include "text/columns.h"
#include "text/escape.h"
#include "inspect/inspect.h"

using namespace gguftk;
using namespace gguftk::test;
using namespace std::string_literals;

TEST_CASE("UTF-8 validity: well-formed sequences per Unicode Table 3-7") {
    CHECK(is_valid_utf8(""));
    CHECK(is_valid_utf8("plain ascii"));
    CHECK(is_valid_utf8("\xc2\x80"));               // U+0080, smallest 2-byte
    CHECK(is_valid_utf8("\xdf\xbf"));               // U+07FF
    CHECK(is_valid_utf8("\xe0\xa0\x80"));           // U+0800
    CHECK(is_valid_utf8("\xed\x9f\xbf"));           // U+D7FF, below the surrogates
    CHECK(is_valid_utf8("\xee\x80\x80"));           // U+E000, above them
    CHECK(is_valid_utf8("\xf0\x90\x80\x80"));       // U+10000
    CHECK(is_valid_utf8("\xf4\x8f\xbf\xbf"));       // U+10FFFF, the last code point
    CHECK(is_valid_utf8("\0"s));                    // NUL is a character

    CHECK_FALSE(is_valid_utf8("\x80"));             // lone continuation byte
    CHECK_FALSE(is_valid_utf8("\xc0\x80"));         // overlong NUL
    CHECK_FALSE(is_valid_utf8("\xc1\xbf"));         // overlong
    CHECK_FALSE(is_valid_utf8("\xe0\x9f\xbf"));     // overlong 3-byte
    CHECK_FALSE(is_valid_utf8("\xf0\x8f\xbf\xbf")); // overlong 4-byte
    CHECK_FALSE(is_valid_utf8("\xed\xa0\x80"));     // U+D800, a surrogate
    CHECK_FALSE(is_valid_utf8("\xed\xbf\xbf"));     // U+DFFF
    CHECK_FALSE(is_valid_utf8("\xf4\x90\x80\x80")); // U+110000
    CHECK_FALSE(is_valid_utf8("\xf8\x88\x80\x80\x80"));
    CHECK_FALSE(is_valid_utf8("\xe2\x82"));         // cut short
    CHECK_FALSE(is_valid_utf8("a\xff"));
}

TEST_CASE("to_valid_utf8 replaces each maximal bad subpart with U+FFFD and keeps the rest") {
    CHECK(to_valid_utf8("h\xc3\xa9llo") == "h\xc3\xa9llo");
    CHECK(to_valid_utf8("a\xff" "b") == "a\xef\xbf\xbd" "b");
    // A sequence cut short is one subpart (Python: b"\xe2\x82".decode(errors="replace") == "\ufffd").
    CHECK(to_valid_utf8("\xe2\x82") == "\xef\xbf\xbd");
    CHECK(to_valid_utf8("\xf1\xab\x10") == "\xef\xbf\xbd\x10");
    // A surrogate's second byte is out of ED's range, so each byte is its own subpart.
    CHECK(to_valid_utf8("\xed\xa0\x80") == "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    CHECK(to_valid_utf8("\xe0\x80\x80") == "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");  // overlong
    CHECK(is_valid_utf8(to_valid_utf8("\x80\xc0\xf5\xff\xfe")));
}

TEST_CASE("escape: nothing that acts on a terminal survives") {
    CHECK(escape("plain text, \xc3\xa9 and \xe2\x96\x81") == "plain text, \xc3\xa9 and \xe2\x96\x81");
    CHECK(escape("a\\b") == "a\\\\b");
    CHECK(escape("\n\r\t") == "\\n\\r\\t");
    CHECK(escape("\x1b[31m") == "\\x1b[31m");
    CHECK(escape("\x07\x7f"s + '\0') == "\\x07\\x7f\\x00");
    CHECK(escape("\xff\xfe") == "\\xff\\xfe");
    CHECK(escape("\xc2\x9b" "2J") == "\\u{009b}2J");                 // C1 CSI
    CHECK(escape("\xe2\x80\xae" "evil") == "\\u{202e}evil");         // RIGHT-TO-LEFT OVERRIDE
    CHECK(escape("\xd8\x9c" "x") == "\\u{061c}x");                 // ARABIC LETTER MARK
    CHECK(escape("\xe2\x81\xa6" "x") == "\\u{2066}x");               // LEFT-TO-RIGHT ISOLATE
    CHECK(escape("\xe2\x80\x8b") == "\\u{200b}");                    // ZERO WIDTH SPACE
    CHECK(escape("\xef\xbb\xbf") == "\\u{feff}");                    // BOM
    CHECK(escape("\xe2\x80\xa8") == "\\u{2028}");                    // LINE SEPARATOR
    // No byte below 0x20 (but none at all) and no ESC in any output.
    std::string every;
    for (int c = 0; c < 256; ++c) every += static_cast<char>(c);
    for (char c : escape(every)) CHECK(static_cast<unsigned char>(c) >= 0x20);
}

TEST_CASE("escape for Markdown: the text form, with CommonMark's special characters made literal") {
    CHECK(escape("a|b", EscapeFor::Markdown) == "a\\|b");
    CHECK(escape("<img src=x>", EscapeFor::Markdown) == "\\<img src=x\\>");
    CHECK(escape("*x* _y_ `z` [l] #h ~s~", EscapeFor::Markdown) == "\\*x\\* \\_y\\_ \\`z\\` \\[l\\] \\#h \\~s\\~");
    CHECK(escape("a|b", EscapeFor::Text) == "a|b");
    // The text form of a backslash is two; Markdown escapes each, so it renders as two.
    CHECK(escape("C:\\path", EscapeFor::Markdown) == "C:\\\\\\\\path");
    CHECK(escape("a\nb", EscapeFor::Markdown) == "a\\\\nb");
    CHECK(escape("&amp; ![i](u)", EscapeFor::Markdown) == "\\&amp; \\!\\[i\\](u)");
    CHECK(escape(" x ", EscapeFor::Markdown) == "&#32;x&#32;");
    CHECK(markdown_text("plain text: 1.5, a-b (c)") == "plain text: 1.5, a-b (c)");
}

TEST_CASE("escape shortens at a character boundary") {
    CHECK(escape("abcdef", EscapeFor::Text, 3) == "abc\xe2\x80\xa6");
    CHECK(escape("abc", EscapeFor::Text, 3) == "abc");
    // "é" is two bytes: with room for 2 of "aé" the é does not fit and is not split.
    CHECK(escape("a\xc3\xa9", EscapeFor::Text, 2) == "a\xe2\x80\xa6");
    CHECK(quoted_name("k") == "'k'");
    CHECK(quoted_name(std::string(200, 'x')).size() < 110);
}

TEST_CASE("display_value: strings quoted and escaped, arrays shortened with their count") {
    InspectOptions opts;
    opts.max_array_items = 2;
    opts.max_string_bytes = 5;
    Value s;
    s.type = ValueType::STRING;
    s.s = "say \"hi\"\n";
    CHECK(display_value(s, opts, EscapeFor::Text) == "\"say \\\"\xe2\x80\xa6\" (9 bytes)");
    opts.max_string_bytes = 60;
    CHECK(display_value(s, opts, EscapeFor::Text) == "\"say \\\"hi\\\"\\n\"");

    Value a;
    a.type = ValueType::ARRAY;
    a.elem_type = ValueType::INT32;
    a.count = 5;
    for (int i = 0; i < 2; ++i) {
        Value v;
        v.type = ValueType::INT32;
        v.i = -i;
        a.items.push_back(v);
    }
    CHECK(display_value(a, opts, EscapeFor::Text) == "[0, -1, \xe2\x80\xa6 3 more]");
    Value f;
    f.type = ValueType::FLOAT32;
    f.f = static_cast<double>(0.1f);
    CHECK(display_value(f, opts, EscapeFor::Text) == "0.1");
    f.type = ValueType::FLOAT64;
    CHECK(display_value(f, opts, EscapeFor::Text) == "0.10000000149011612");
    Value b;
    b.type = ValueType::BOOL;
    b.u = 1;
    CHECK(display_value(b, opts, EscapeFor::Text) == "true");
}

TEST_CASE("human_bytes") {
    CHECK(human_bytes(0) == "0 B");
    CHECK(human_bytes(1023) == "1023 B");
    CHECK(human_bytes(1024) == "1.0 KiB");
    CHECK(human_bytes(1536) == "1.5 KiB");
    CHECK(human_bytes(uint64_t{5} << 30) == "5.0 GiB");
    CHECK(human_bytes(UINT64_MAX) == "16.0 EiB");
}

TEST_CASE("shard_paths follows llama.cpp's NAME-0000K-of-0000N.gguf") {
    const auto p = shard_paths("/m/llama-00002-of-00003.gguf", 3);
    REQUIRE(p.size() == 3);
    CHECK(p[0] == "/m/llama-00001-of-00003.gguf");
    CHECK(p[2] == "/m/llama-00003-of-00003.gguf");
    CHECK_THROWS_AS(shard_paths("/m/llama.gguf", 3), Error);
    CHECK_THROWS_AS(shard_paths("/m/llama-00001-of-00004.gguf", 3), Error);
}

namespace {
std::vector<uint8_t> split_file(uint16_t no, uint16_t count) {
    GgufBuilder b;
    b.header(3, 0, 2).kv("split.no", vt::UINT16).u16(no).kv("split.count", vt::UINT16).u16(count);
    return b.bytes();
}
}  // namespace

TEST_CASE("split_info reads split.no and split.count") {
    const auto bytes = split_file(1, 4);
    const GgufFile f = GgufFile::parse(bytes);
    const auto s = split_info(f);
    REQUIRE(s.has_value());
    CHECK(s->index == 1);
    CHECK(s->count == 4);
    const auto single = split_file(0, 1);
    CHECK_FALSE(split_info(GgufFile::parse(single)).has_value());
}

TEST_CASE("inspect: filters and totals") {
    // Q4_K 256x2 (288 bytes), F32 64 (256 bytes), Q4_K 512 (288 bytes).
    const SimpleGguf s = simple_gguf(
        {{"blk.0.w", {256, 2}, 12, 288}, {"blk.0.n", {64}, 0, 256}, {"out.w", {512}, 12, 288}});
    const GgufFile f = GgufFile::parse(s.bytes);
    InspectOptions opts;
    Inspection all = inspect(f, opts);
    CHECK(all.rows.size() == 3);
    CHECK(all.totals.parameters == 512 + 64 + 512);
    CHECK(all.totals.bytes == 288 + 256 + 288);
    REQUIRE(all.totals.bits_per_weight().has_value());
    CHECK(*all.totals.bits_per_weight() == doctest::Approx(8.0 * 832 / 1088));
    REQUIRE(all.totals.by_type.size() == 2);
    CHECK(all.totals.by_type[0].type->name == "Q4_K");  // most bytes first
    CHECK(all.totals.by_type[0].tensors == 2);
    CHECK(all.files_bytes == s.bytes.size());

    opts.tensor_globs = {"blk.*"};
    CHECK(inspect(f, opts).rows.size() == 2);
    opts.type = find_type("q4_k");
    const Inspection q = inspect(f, opts);
    REQUIRE(q.rows.size() == 1);
    CHECK(q.rows[0].tensor->name == "blk.0.w");
    opts.tensor_globs = {"out.*"};
    CHECK(inspect(f, opts).rows.size() == 1);
    opts.tensor_globs = {"nothing", "out.*"};  // every glob must match: a typo is not ignored
    CHECK_THROWS_WITH_AS(inspect(f, opts), doctest::Contains("no tensor matches 'nothing'"), Error);
    CHECK_FALSE(Totals{}.bits_per_weight().has_value());  // no parameters: none
}

TEST_CASE("inspect: what gguf-dequant writes, per target, from the planning code") {
    // Q4_K 256x2, F32 64, I32 8: default converts only the Q4_K; --all the F32 too; I32 is copied.
    const SimpleGguf s = simple_gguf({{"w", {256, 2}, 12, 288}, {"n", {64}, 0, 256}, {"i", {8}, 26, 32}});
    const GgufFile f = GgufFile::parse(s.bytes);
    const Inspection in = inspect(f, {});
    REQUIRE(in.dequantized.size() == 3);
    for (const Dequantized& d : in.dequantized) {
        const uint64_t w = out_type_size(d.to);
        CHECK(d.quantized.tensor_bytes == 512 * w + 256 + 32);  // the F32 tensor copied
        CHECK(d.all.tensor_bytes == 512 * w + 64 * w + 32);
        for (const bool all : {false, true}) {
            ConvertOptions o;
            o.to = d.to;
            o.all_floats = all;
            const ConversionPlan plan = plan_conversion(f, o);
            const ConversionSize& c = all ? d.all : d.quantized;
            CHECK(c.file_bytes == plan.bytes_out());
            CHECK(c.files == 1);
        }
    }
}

TEST_CASE("render_json: valid JSON for any bytes, exact integers, non-finite floats as strings") {
    GgufBuilder b;
    b.header(3, 0, 7);
    b.kv("bad\xff" "key", vt::STRING).str("bad\xc0" "value");
    b.kv("nan", vt::FLOAT32).f32(std::numeric_limits<float>::quiet_NaN());
    b.kv("inf", vt::FLOAT64).f64(-std::numeric_limits<double>::infinity());
    b.kv("pinf", vt::FLOAT32).f32(std::numeric_limits<float>::infinity());
    b.kv("arr", vt::ARRAY).array(vt::FLOAT64, 2).f64(std::numeric_limits<double>::quiet_NaN()).f64(0.5);
    b.kv("max", vt::UINT64).u64(UINT64_MAX);
    b.kv("min", vt::INT64).i64(INT64_MIN);
    const GgufFile f = GgufFile::parse(b.bytes(), "x\xfe.gguf");
    const std::string out = render_json(inspect(f, {}), {});
    const nlohmann::json j = nlohmann::json::parse(out);  // throws on invalid UTF-8
    CHECK(j["file"] == "x\xef\xbf\xbd.gguf");
    CHECK(j["metadata"]["bad\xef\xbf\xbdkey"]["value"] == "bad\xef\xbf\xbdvalue");
    CHECK(j["metadata"]["nan"]["value"] == "NaN");
    CHECK(j["metadata"]["inf"]["value"] == "-Infinity");
    CHECK(j["metadata"]["pinf"]["value"] == "Infinity");
    CHECK(j["metadata"]["arr"]["value"] == nlohmann::json::parse(R"(["NaN", 0.5])"));
    CHECK(j["summary"]["bits_per_weight"].is_null());  // no parameters
    CHECK(j["metadata"]["max"]["value"].get<uint64_t>() == UINT64_MAX);
    CHECK(j["metadata"]["min"]["value"].get<int64_t>() == INT64_MIN);
    CHECK(out.find("18446744073709551615") != std::string::npos);
}

TEST_CASE("render_json streams exactly nlohmann's dump(2) of the whole document") {
    // Nested and empty arrays at several depths, between scalars and tensors: the streamed
    // layout must be the one a tree would print, and the pieces must make the same text.
    GgufBuilder b;
    b.header(3, 2, 4);
    b.kv("nest", vt::ARRAY).array(vt::ARRAY, 3);
    b.array(vt::UINT8, 2).u8(1).u8(2);
    b.array(vt::STRING, 0);
    b.array(vt::ARRAY, 1).array(vt::FLOAT32, 1).f32(0.5f);
    b.kv("empty", vt::ARRAY).array(vt::INT64, 0);
    b.kv("name", vt::STRING).str("x");
    b.kv("one", vt::ARRAY).array(vt::BOOL, 1).u8(1);
    b.tensor_info("a", {32}, 0, 0).tensor_info("b", {32, 2}, 0, 128).pad_to(32).zeros(384);
    const GgufFile f = GgufFile::parse(b.bytes(), "t.gguf");
    const Inspection in = inspect(f, {});
    const std::string out = render_json(in, {});
    CHECK(out == nlohmann::ordered_json::parse(out).dump(2) + "\n");
    const auto j = nlohmann::json::parse(out);
    CHECK(j["metadata"]["nest"]["value"] == nlohmann::json::parse("[[1, 2], [], [[0.5]]]"));
    CHECK(j["metadata"]["empty"]["value"] == nlohmann::json::array());
    CHECK(j["tensors"].size() == 2);
    std::string pieces;
    render_json(in, {}, [&](std::string_view s) { pieces += s; });
    CHECK(pieces == out);
    InspectOptions none;
    none.metadata = none.tensors = false;
    const std::string bare = render_json(inspect(f, none), none);
    CHECK(bare == nlohmann::ordered_json::parse(bare).dump(2) + "\n");
}

TEST_CASE("text and Markdown views of a file with hostile names carry no control bytes") {
    GgufBuilder b;
    b.header(3, 1, 1).kv("k\x1b[2J", vt::STRING).str("v\x1b]0;t\x07");
    b.tensor_info("t\x1b[31m|", {32}, 0, 0).pad_to(32).zeros(128);
    const GgufFile f = GgufFile::parse(b.bytes(), "f\x1b.gguf");
    const Inspection in = inspect(f, {});
    for (const std::string& out : {render_text(in, {}), render_markdown(in, {})}) {
        CHECK(out.find('\x1b') == std::string::npos);
        CHECK(out.find('\x07') == std::string::npos);
        CHECK(out.find("\\x1b") != std::string::npos);
    }
    InspectOptions color;
    color.color = true;
    CHECK(render_text(in, color).find("\x1b[1m") != std::string::npos);  // our own, only when asked
}

namespace {

// The widest line of `text`, in code points.
size_t widest(const std::string& text) {
    size_t w = 0, start = 0;
    for (size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1)
        w = std::max(w, display_width(std::string_view(text).substr(start, nl - start)));
    return w;
}

}  // namespace

TEST_CASE("fit_table: names shortened in the middle to fit, then on lines of their own; numbers whole") {
    const std::string name = "blk.12.a_name_long_enough_to_need_shortening.ffn_down.weight";
    const std::vector<std::vector<std::string>> rows{{"tensor", "type", "min"}, {"a.weight", "Q4_K", "-0.123456"}, {name, "F32", "7"}};
    const std::vector<bool> right{false, false, true};
    const std::string wide = fit_table(rows, right, 200);
    CHECK(wide.find(name + "  F32          7\n") != std::string::npos);  // all of it, as wide as its widest cell

    const std::string narrow = fit_table(rows, right, 40);  // 24 columns for the names
    CHECK(widest(narrow) <= 40);
    CHECK(narrow.find("blk.12.a_na…_down.weight  F32          7\n") != std::string::npos);
    CHECK(narrow.find("-0.123456") != std::string::npos);

    const std::string stacked = fit_table(rows, right, 30);  // 14 would be left for the names: below 20
    CHECK(widest(stacked) <= 30);
    CHECK(stacked.find("a.weight\n  Q4_K -0.123456\n") != std::string::npos);
    CHECK(stacked.find("…ffn_down.weight\n  F32          7\n") != std::string::npos);
}

TEST_CASE("fit_line: the head shortened to leave room for the rest, to no less than half the line, then wrapped") {
    CHECK(fit_line("path/model.gguf", ": OK", 0) == "path/model.gguf: OK");
    CHECK(fit_line("path/model.gguf", ": OK", 40) == "path/model.gguf: OK");
    const std::string line = fit_line(std::string(60, 'p'), ": OK (3 of 3 tensors passed), 1234 values", 40);
    CHECK(widest(line + '\n') < 40);
    CHECK(line.rfind(std::string(9, 'p') + "…" + std::string(9, 'p') + ": OK (3 of 3", 0) == 0);
    CHECK(line.find("\n  ") != std::string::npos);
    CHECK(wrap_indented("one two three four", 9, 2) == "one two\n  three\n  four");
}
