"""What the remote-file tests share: running the tools, comparing a remote view with the local
one, the ranges a server was asked for, and models written by gguf-py."""
import json
import os
import re
import subprocess
from pathlib import Path

import gguf

BIN = Path(os.environ["GGUFTK_BIN"])
INSPECT = BIN / "gguf-inspect"
HEXDUMP = BIN / "gguf-hexdump"
FIRST_READ = 1 << 20  # the first read of a remote file (HeaderReads::first)


def run(tool, *args, env=None, timeout=60):
    e = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "GGUFTK_IDLE", "GGUFTK_CONNECT", "GGUFTK_MIN_SPEED", "GGUFTK_REQUEST", "GGUFTK_MAX_HEADER"))}
    e.update(env or {})
    return subprocess.run([str(tool), *map(str, args)], capture_output=True, env=e, timeout=timeout,
                          encoding="utf-8", errors="replace")


def ok(tool, *args, env=None):
    p = run(tool, *args, env=env)
    assert p.returncode == 0, p.stderr
    return p.stdout


def data_offset(path):
    """Where a local file's tensor data starts: everything before it is the header."""
    return json.loads(ok(INSPECT, path, "--json", "--no-metadata", "--no-tensors"))["data_offset"]


def without_remote(out, url, path):
    """A remote view made comparable with the local one: the name replaced, the report dropped."""
    out = re.sub(r',\n  "remote": \{[^}]*\}', "", out)  # JSON
    out = "".join(l for l in out.splitlines(keepends=True) if not l.startswith("remote: "))
    return out.replace(url, str(path))


def ranges(log):
    """The (first, last) byte ranges the server was asked for, redirects left out."""
    out = []
    for entry in log:
        m = re.fullmatch(r"bytes=(\d+)-(\d+)", entry["range"] or "")
        if m and not entry["path"].startswith(("/redirect/", "/hub/")):
            out.append((int(m[1]), int(m[2])))
    return out


def write_model(path, tensors, vocab=0, **writer_args):
    """A GGUF written by gguf-py: `tensors` [(name, array)], a tokenizer of `vocab` tokens."""
    w = gguf.GGUFWriter(str(path), "llama", **writer_args)
    w.add_block_count(1)
    if vocab:
        w.add_tokenizer_model("llama")
        w.add_token_list([f"tok{i}_{'x' * (i % 7)}".encode() for i in range(vocab)])
        w.add_token_scores([float(-i) for i in range(vocab)])
        w.add_token_types([1] * vocab)
    for name, a in tensors:
        w.add_tensor(name, a)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
