"""A Python script using the installed library (GGUFTK_LIBRARY): every tensor that has a decoder
as FP16, written tensor after tensor in file order to OUT, which the installed-package test
compares with ggml's values.

    python3 dequantize_all.py model.gguf out.f16
"""
import sys

import numpy as np

import gguftk

model, out = sys.argv[1:]
with gguftk.open(model) as f, open(out, "wb") as o:
    for t in f.tensors:
        if t.decodable:
            o.write(t.to_numpy(np.float16).tobytes())
