"""What the installed-package test expects, read with gguf-py (not with gguftk): the F16 tensors
of ggml's reference file, in the model's tensor order, one after another.

    python3 reference_f16.py all-types.gguf all-types.ref-f16.gguf expected.f16
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cli"))
from cli_common import gguf_py_read  # noqa: E402 (gguf-py, with the types it does not know yet)

model, reference, out = sys.argv[1:]
ref = {t.name: t for t in gguf_py_read(reference).tensors}
with open(out, "wb") as o:
    for t in gguf_py_read(model).tensors:
        if t.name in ref:  # ggml's reference holds every tensor that is not integer data
            o.write(ref[t.name].data.astype("<f2", copy=False).tobytes())
