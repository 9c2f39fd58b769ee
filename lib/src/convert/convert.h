#pragma once
// Converting the tensors of a GGUF file to F16 / F32 / BF16: plan first, then execute.
//
//   GgufModel in = GgufModel::open(path);                     // a file, or every shard of a split model
//   ConversionPlan plan = plan_conversion(in, options);       // every output byte placed
//   OutputWriter out(plan, "model-f16.gguf", force);          // temp file(s) beside it, headers written
//   ConversionResult r = make_cpu_engine(threads)->run(plan, out, control);
//   out.commit();                                             // rename; until then nothing is visible
//
// A plan reads N input files (the shards of a split model; TensorJob::input says which) and
// writes M output files (OutputLayout: one file, a directory of them, or the shards of a split
// output, one per input shard).
//
// The plan is computed before any tensor data is touched: every output file's header bytes and
// size, and for every tensor its input span and its absolute output offset. So the data of
// different tensors (and of different chunks of one tensor) can be written in any order by any
// number of workers, and an engine is nothing but "execute these jobs".
//
// Plugging in another engine (the CUDA one in kernels/):
// - derive from Engine and implement execute() by handing run_chunked (convert/chunked.h) a
//   ChunkConverter per worker: it reads a chunk's blocks through an InputReader into its own
//   buffers, decodes them with the shared definitions of lib/formats (visit_format +
//   decode_part), rounds to job.out exactly as the CPU does (formats/float_bits.h) and returns
//   the bytes in host memory, folding the values into the chunk's TensorStats when asked
//   (TensorStats, in convert/engine.h, is the contract both engines meet). run_chunked does the
//   rest: writing, Copy jobs, progress, cancellation, errors. Memory must stay bounded whatever
//   the model size.
// - expose it through make_cuda_engine() (convert/engine.h); kernels/ defines it and is linked
//   only when GGUFTK_HAVE_CUDA, so callers guard the call with `#if GGUFTK_HAVE_CUDA`.
//   There is no registry: the app picks the engine (--device auto|cpu|cuda).
#include "convert/engine.h"
#include "convert/io.h"
#include "convert/plan.h"
