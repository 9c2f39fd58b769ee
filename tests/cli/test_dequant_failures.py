"""gguf-dequant when things go wrong: a clear one-line error, exit 1 (128 + N when stopped by
signal N), and nothing left behind.

"Nothing left behind" is checked by listing the output directory: no OUT, and none of the
temp files (".OUT.tmp-XXXXXX") the tool writes before renaming.
"""
import os
import resource
import shutil
import signal
import struct
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from cli_common import assert_one_error

BIN = Path(os.environ["GGUFTK_BIN"]) / "gguf-dequant"
FIXTURES = Path(os.environ["GGUFTK_FIXTURES"])
ALL = FIXTURES / "all-types.gguf"


def run(*args, **kw):
    return subprocess.run([str(BIN), *map(str, args)], capture_output=True, text=True, **kw)


def q8_0_gguf(path, rows, cols=4096, big_endian=False, seed=0):
    """A GGUF with one Q8_0 tensor of random quants and sane scales."""
    e = ">" if big_endian else "<"
    kv = struct.pack(e + "Q", 20) + b"general.architecture" + struct.pack(e + "IQ", 8, 5) + b"llama"
    info = struct.pack(e + "Q", 1) + b"w" + struct.pack(e + "IQQIQ", 2, cols, rows, 8, 0)
    head = b"GGUF" + struct.pack(e + "IQQ", 3, 1, 1) + kv + info
    head += b"\0" * (-len(head) % 32)
    rng = np.random.default_rng(seed)
    nb = rows * cols // 32
    blocks = rng.integers(0, 256, size=(nb, 34), dtype=np.uint8)
    blocks[:, 0:2] = rng.uniform(1e-3, 1e-2, nb).astype(e + "f2").view(np.uint8).reshape(nb, 2)
    Path(path).write_bytes(head + blocks.tobytes())
    return path


def test_bad_input_files(tmp_path):
    cases = {
        "not-gguf.gguf": b"this is not a model file at all" * 10,
        "truncated.gguf": ALL.read_bytes()[:5000],
        "empty.gguf": b"",
    }
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        p = run(path, "-o", out_dir / "x.gguf")
        assert_one_error(p, str(path))
        assert os.listdir(out_dir) == [], name
    p = run(tmp_path / "missing.gguf", "-o", out_dir / "x.gguf")
    assert_one_error(p, "missing.gguf")
    assert os.listdir(out_dir) == []


def test_big_endian_input_is_refused(tmp_path):
    src = q8_0_gguf(tmp_path / "be.gguf", rows=2, big_endian=True)
    p = run(src, "-o", tmp_path / "out.gguf")
    assert_one_error(p, "big-endian")
    assert sorted(os.listdir(tmp_path)) == ["be.gguf"]


def test_output_equal_to_input_is_refused(tmp_path):
    src = tmp_path / "in.gguf"
    shutil.copy(ALL, src)
    before = src.read_bytes()
    os.symlink(src, tmp_path / "link.gguf")
    os.link(src, tmp_path / "hard.gguf")
    for out in (src, tmp_path / "link.gguf", tmp_path / "hard.gguf", tmp_path / "." / "in.gguf"):
        p = run(src, "-o", out, "--force")
        assert_one_error(p, "input")
        assert src.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["hard.gguf", "in.gguf", "link.gguf"]


def test_existing_output_needs_force(tmp_path):
    out = tmp_path / "out.gguf"
    out.write_bytes(b"precious")
    p = run(ALL, "-o", out)
    assert_one_error(p, "--force")
    assert out.read_bytes() == b"precious"
    assert run(ALL, "-o", out, "--force").returncode == 0
    assert out.read_bytes()[:4] == b"GGUF"
    assert os.listdir(tmp_path) == ["out.gguf"]


def test_directory_outputs_replace_only_their_own_kind(tmp_path):
    d = tmp_path / "dir"
    d.mkdir()
    (d / "keep.txt").write_text("not ours")
    p = run(ALL, "-o", d, "--format", "npy", "--force")
    assert_one_error(p, "manifest.json")
    assert os.listdir(d) == ["keep.txt"]
    # One we wrote is replaced with --force, atomically, and holds only the new files.
    ours = tmp_path / "ours"
    assert run(ALL, "-o", ours, "--format", "raw", "--tensors", "q4_0.*").returncode == 0
    assert run(ALL, "-o", ours, "--format", "raw", "--tensors", "q8_0.*", "--force").returncode == 0
    assert sorted(os.listdir(ours)) == ["manifest.json", "q8_0.4d.bin", "q8_0.weight.bin"]
    # Never one the input lives in.
    shutil.copy(ALL, ours / "model.gguf")
    p = run(ours / "model.gguf", "-o", ours, "--format", "raw", "--force")
    assert_one_error(p, "input")
    assert (ours / "model.gguf").exists()
    assert sorted(os.listdir(tmp_path)) == ["dir", "ours"]


def drop_to_nobody():
    if os.geteuid() == 0:  # root ignores directory permissions: test as an ordinary user
        os.setgid(65534)
        os.setuid(65534)


def test_unwritable_directory(tmp_path):
    # Everything the (possibly unprivileged) child needs is in a directory anyone may enter.
    base = Path(tempfile.mkdtemp(prefix="gguftk-ro-"))
    try:
        os.chmod(base, 0o755)
        src = base / "in.gguf"
        shutil.copy(ALL, src)
        os.chmod(src, 0o644)
        ro = base / "ro"
        ro.mkdir()
        os.chmod(ro, 0o555)
        binary = base / "gguf-dequant"
        shutil.copy(BIN, binary)
        os.chmod(binary, 0o755)
        for fmt in ("gguf", "npy"):
            p = subprocess.run([str(binary), str(src), "-o", str(ro / "out"), "--format", fmt],
                               capture_output=True, text=True, preexec_fn=drop_to_nobody)
            assert_one_error(p, "cannot create", "ermission denied")
            assert os.listdir(ro) == []
    finally:
        os.chmod(base / "ro", 0o755)
        shutil.rmtree(base)
    p = run(ALL, "-o", tmp_path / "no" / "such" / "dir" / "out.gguf")
    assert_one_error(p, "cannot create")


@pytest.mark.parametrize("fmt", ["gguf", "npy", "safetensors"])
def test_disk_full(tmp_path, fmt):
    # A file size limit makes the output's writes fail like a full disk (EFBIG).
    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (10_000, 10_000))  # below one tensor

    out = tmp_path / "out"
    p = run(ALL, "-o", out, "--format", fmt, "--to", "f32", "--all", preexec_fn=limit)
    assert_one_error(p, "too large")
    assert os.listdir(tmp_path) == []


def _stopped(pid):
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # gone
    return stat[stat.rindex(")") + 2] in "Tt"


@pytest.mark.parametrize("sig, status, fmt", [(signal.SIGINT, 130, "gguf"), (signal.SIGTERM, 143, "gguf"),
                                              (signal.SIGHUP, 129, "gguf"), (signal.SIGINT, 130, "npy")])
def test_interrupted_conversion_leaves_nothing(tmp_path, sig, status, fmt):
    src = q8_0_gguf(tmp_path / "in.gguf", rows=16384)  # 64M values, 256 MB of F32 output
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / ("x.gguf" if fmt == "gguf" else "x")
    # The process is stopped as soon as its temp file appears, so the signal arrives mid-conversion
    # (checked: the temp file is still there, not yet renamed); a run that finished before the
    # stop is tried again, and one that was never interrupted fails the test. The exit status is
    # the shell's for a process ended by the signal: 128 + its number.
    for _ in range(5):
        proc = subprocess.Popen([str(BIN), str(src), "-o", str(out), "--to", "f32", "--threads", "1", "--device",
                                 "cpu", "--format", fmt], stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while not os.listdir(out_dir) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.001)
        proc.send_signal(signal.SIGSTOP)
        while proc.poll() is None and not _stopped(proc.pid):  # kill() does not wait for the stop
            time.sleep(0.001)
        mid_conversion = proc.poll() is None and os.listdir(out_dir) not in ([], [out.name])
        proc.send_signal(sig)
        proc.send_signal(signal.SIGCONT)
        err = proc.communicate()[1]
        if mid_conversion:
            assert proc.returncode == status and err.splitlines() == [f"error: {src}: interrupted"], \
                (proc.returncode, err)
            assert os.listdir(out_dir) == []
            return
        shutil.rmtree(out_dir)
        out_dir.mkdir()
    pytest.fail("the conversion always finished before it could be stopped")
