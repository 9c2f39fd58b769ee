// A C++ engine's loader built against the installed package (find_package(gguftk)): every tensor
// that has a decoder as FP16, written tensor after tensor in file order to OUT, which the
// installed-package test compares with ggml's values.
#include <gguftk/gguftk.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <vector>

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s model.gguf out.f16\n", argv[0]);
        return 2;
    }
    gguftk_file* f = nullptr;
    if (gguftk_open(argv[1], &f) != GGUFTK_OK) {
        std::fprintf(stderr, "error: %s\n", gguftk_last_error());
        return 1;
    }
    std::ofstream out(argv[2], std::ios::binary);
    std::vector<uint16_t> w;
    for (int64_t i = 0; i < gguftk_tensor_count(f); ++i) {
        gguftk_tensor_info t;
        gguftk_type_info ti;
        if (gguftk_tensor_info_at(f, i, &t) != GGUFTK_OK || gguftk_type_info_of(t.type, &ti) != GGUFTK_OK) break;
        if (!ti.has_decoder) continue;
        w.resize(t.n_elements);
        if (gguftk_dequantize(f, i, GGUFTK_F16, w.data(), w.size() * 2, 0) != GGUFTK_OK) break;
        out.write(reinterpret_cast<const char*>(w.data()), std::streamsize(w.size() * 2));
    }
    const bool ok = gguftk_last_error()[0] == '\0';
    if (!ok) std::fprintf(stderr, "error: %s\n", gguftk_last_error());
    gguftk_close(f);
    out.close();
    return ok && out ? 0 : 1;
}
