#pragma once
// The output sinks (GGUF, npy, safetensors, raw): each lays out its files for a conversion plan.
//
// A sink decides nothing about the values; it only places them. Given the tensors to write (in
// input order, input file by input file, with the type each is stored as), it returns the
// output files with their header bytes and sizes, and sets every job's output file and
// absolute offset.
#include <functional>
#include <span>
#include <vector>

#include "convert/convert.h"

namespace gguftk {

struct SinkTensor {
    const TensorInfo* info;
    TensorJob job;
    GgmlType stored;  // the type the output holds: the target for converted tensors, else the input's
};

// Calls its argument on every tensor the output holds, in order; a sink may walk them more than
// once (so that the tensors need not be kept: conversion_size makes them again each time).
using TensorWalk = std::function<void(const std::function<void(SinkTensor&)>&)>;

// `inputs` are the model's files (several for a split model, whose merged outputs leave out the
// split.* keys). With `sizes_only`, the GGUF sink keeps no header bytes (OutputFile::header stays
// empty; the sizes are exact), so that its memory does not grow with the tensor table.
std::vector<OutputFile> layout_output(std::span<const GgufFile* const> inputs, const ConvertOptions& opts,
                                      OutputLayout layout, const TensorWalk& tensors, bool sizes_only = false);

}  // namespace gguftk
