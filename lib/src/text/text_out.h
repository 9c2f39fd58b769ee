#pragma once
// Output handed on a piece at a time. What the views print grows with the file, and a hostile
// file may hold millions of tensors or metadata items, so no view holds all of what it prints.
#include <functional>
#include <string>
#include <string_view>

namespace gguftk {

using TextSink = std::function<void(std::string_view)>;

class TextOut {
public:
    explicit TextOut(const TextSink& sink) : sink_(sink) {}
    TextOut(const TextOut&) = delete;
    TextOut& operator=(const TextOut&) = delete;

    TextOut& operator+=(std::string_view s) {
        buf_ += s;
        if (buf_.size() >= kFlushBytes) flush();
        return *this;
    }
    TextOut& operator+=(char c) { return *this += std::string_view(&c, 1); }
    void spaces(size_t n) { buf_.append(n, ' '); }
    // Hands on what is left. Called by the views when they are done, never from a destructor:
    // the sink may throw (a full disk), and during unwinding that would end the process.
    void flush() {
        if (!buf_.empty()) sink_(buf_);
        buf_.clear();
    }

private:
    static constexpr size_t kFlushBytes = 1 << 16;
    const TextSink& sink_;
    std::string buf_;
};

// What a streaming view writes, as one string (for callers that want it whole: tests, fuzzers).
template <class Render>
std::string collect(Render&& render) {
    std::string text;
    render([&](std::string_view s) { text += s; });
    return text;
}

}  // namespace gguftk
