// The streaming JSON writer (text/json_stream.h) against nlohmann's dump(2): documents written
// piece by piece, the writer keeping the depth, give the very bytes of the tree dumped whole.
#include <doctest/doctest.h>

#include <random>
#include <string>

#include "text/json_stream.h"
#include "text/text_out.h"

using gguftk::JsonStream;
using gguftk::ojson;

namespace {

ojson random_tree(std::mt19937& rng, int depth) {
    const int kind = int(rng() % (depth < 4 ? 8 : 5));
    switch (kind) {
        case 0: return nullptr;
        case 1: return rng() % 2 == 0;
        case 2: return int64_t(rng()) - int64_t(1u << 31);
        case 3: return double(rng()) / 7.0;
        case 4: return "s\"" + std::to_string(rng() % 100) + "\n\xc3\xa9";
        case 5: case 6: {
            ojson o = ojson::object();
            for (unsigned i = 0, n = rng() % 4; i < n; ++i)
                o["k" + std::to_string(i) + "\t"] = random_tree(rng, depth + 1);
            return o;
        }
        default: {
            ojson a = ojson::array();
            for (unsigned i = 0, n = rng() % 4; i < n; ++i) a.push_back(random_tree(rng, depth + 1));
            return a;
        }
    }
}

// Writes `j` through every way the writer has: begin/end with key() and scalar JSON text, a
// whole subtree by value(), an object's members by members(), an array by array().
void stream(JsonStream& out, const ojson& j, std::mt19937& rng) {
    const unsigned how = rng() % 4;
    if (how == 0 || j.is_primitive()) {
        if (j.is_primitive() && how % 2) return out.json_text(j.dump());
        return out.value(j);
    }
    if (j.is_object()) {
        out.begin_object();
        if (how == 1) {
            out.members(j);
        } else {
            for (const auto& [k, v] : j.items()) {
                out.key(k);
                stream(out, v, rng);
            }
        }
        return out.end_object();
    }
    if (how == 1) return out.array(j.size(), [&](uint64_t i) { stream(out, j[i], rng); });
    out.begin_array();
    for (const ojson& v : j) stream(out, v, rng);
    out.end_array();
}

}  // namespace

TEST_CASE("JsonStream writes dump(2)'s bytes, keeping the depth itself") {
    std::mt19937 rng(21);
    for (int i = 0; i < 2000; ++i) {
        const ojson j = random_tree(rng, 0);
        const std::string streamed = gguftk::collect([&](const gguftk::TextSink& sink) {
            JsonStream out(sink);
            stream(out, j, rng);
            out.finish();
        });
        REQUIRE_MESSAGE(streamed == j.dump(2) + "\n", j.dump());
    }
}

TEST_CASE("JsonStream: empty containers, and a member after a closed nested one") {
    const std::string s = gguftk::collect([&](const gguftk::TextSink& sink) {
        JsonStream out(sink);
        out.begin_object();
        out.key("a");
        out.begin_object();
        out.key("b");
        out.array(0, [](uint64_t) {});
        out.key("c");
        out.begin_array();
        out.begin_object();
        out.end_object();
        out.end_array();
        out.end_object();
        out.key("d");
        out.json_text("1");
        out.end_object();
        out.finish();
    });
    CHECK(s == "{\n  \"a\": {\n    \"b\": [],\n    \"c\": [\n      {}\n    ]\n  },\n  \"d\": 1\n}\n");
}
