#pragma once
// The output sinks (GGUF, npy, safetensors, raw): each lays out its files for a conversion plan.
//
// A sink decides nothing about the values; it only places them. Given the tensors to write (in
// input order, with the type each is stored as), it returns the output files with their header
// bytes and sizes, and sets every job's output file and absolute offset.
#include <vector>

#include "gguftk/convert.h"

namespace gguftk {

struct SinkTensor {
    const TensorInfo* info;
    TensorJob job;
    GgmlType stored;  // the type the output holds: the target for converted tensors, else the input's
};

std::vector<OutputFile> layout_output(const GgufFile& in, const ConvertOptions& opts, std::vector<SinkTensor>& tensors);

}  // namespace gguftk
