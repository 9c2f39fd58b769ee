"""What several CLI test modules share: gguf-py taught ggml's Q2_0, a run on a terminal, and the
one-error-line check."""
import os
import pty
import subprocess

import gguf
import gguf.gguf_reader as gguf_reader
from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType

# Block sizes gguf-py does not know or knows differently, from ggml's ggml-common.h:
#   Q8_1: block_q8_1 holds two halves (d, s) and 32 int8: 36 bytes (gguf-py still says 40);
#   Q2_0: 64 elements in 18 bytes; gguf-py has no such type.
GGML_SIZES = {9: (32, 36), 42: (64, 18)}


class _Q2_0(int):
    name = "Q2_0"


class _TypeShim:
    """Stands in for GGMLQuantizationType inside gguf_reader: unknown id 42 becomes Q2_0."""

    def __call__(self, v):
        v = int(v)
        if v in GGMLQuantizationType._value2member_map_:
            return GGMLQuantizationType(v)
        if v == 42:
            return _Q2_0(v)
        raise ValueError(v)

    def __getattr__(self, name):
        return getattr(GGMLQuantizationType, name)


def gguf_py_read(path):
    """gguf-py's GGUFReader on `path`, with type 42 read as Q2_0."""
    saved_type, saved_q2 = gguf_reader.GGMLQuantizationType, GGML_QUANT_SIZES.get(42)
    gguf_reader.GGMLQuantizationType = _TypeShim()
    GGML_QUANT_SIZES[42] = GGML_SIZES[42]
    try:
        return gguf.GGUFReader(str(path))
    finally:
        gguf_reader.GGMLQuantizationType = saved_type
        if saved_q2 is None:
            del GGML_QUANT_SIZES[42]


def stdout_on_tty(cmd, env):
    """What `cmd` writes to a pseudo-terminal, with NO_COLOR unset unless `env` sets it."""
    leader, follower = pty.openpty()
    e = dict(os.environ)
    e.pop("NO_COLOR", None)
    e.update(env)
    p = subprocess.Popen([str(c) for c in cmd], stdout=follower, stderr=subprocess.PIPE, env=e)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO once the child has closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert p.wait(timeout=60) == 0
    return b"".join(chunks)


def assert_one_error(p, *words):
    """Exit 1 and exactly one `error:` line on stderr, holding every one of `words`."""
    assert p.returncode == 1, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), p.stderr
    for w in words:
        assert w in lines[0], lines[0]
