"""gguf-dequant's outputs under adversarial conditions (the everyday failures are in
test_dequant_failures.py):

  - a full disk at every point of the write: RLIMIT_FSIZE swept from 0 bytes to the exact
    output size, and a real ENOSPC on a small tmpfs (in a private mount namespace, where one
    can be mounted): a clean error, neither OUT nor a temp file left, and at the exact size a
    complete output;
  - OUT naming the input by more roads: a symlinked directory, a chain of symlinks, `..`
    components, the input given through a link; OUT a symlink to some other file is replaced
    as a name, the file it pointed at stays untouched;
  - concurrency: several conversions into one directory at once produce exactly what they
    produce alone, and several racing for the same OUT with --force leave one whole output.
"""
import filecmp
import os
import resource
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from cli_common import assert_one_error, rewrite_gguf

BIN = Path(os.environ["GGUFTK_BIN"]) / "gguf-dequant"
FIXTURES = Path(os.environ["GGUFTK_FIXTURES"])
ALL = FIXTURES / "all-types.gguf"
FORMATS = {"gguf": "out.gguf", "safetensors": "out.safetensors", "npy": "out-npy", "raw": "out-raw"}

pytestmark = pytest.mark.skipif(not BIN.exists(), reason="gguf-dequant not built")


def run(*args, **kw):
    kw.setdefault("timeout", 120)  # a FIFO opened for writing blocks: a hang fails, it does not stall
    return subprocess.run([str(BIN), *map(str, args), "--device", "cpu"], capture_output=True, text=True, **kw)


def tree(path):
    """Every file below `path` (or `path` itself) -> bytes, to compare whole outputs."""
    path = Path(path)
    if path.is_file():
        return {".": path.read_bytes()}
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def reference(tmp_path_factory, fmt, to="f32"):
    d = tmp_path_factory.mktemp(f"ref-{fmt}-{to}")
    out = d / FORMATS[fmt]
    p = run(ALL, "-o", out, "--format", fmt, "--to", to, "--all")
    assert p.returncode == 0, p.stderr
    return out


def output_size(path):
    path = Path(path)
    return path.stat().st_size if path.is_file() else sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def largest_file(path):
    path = Path(path)
    return path.stat().st_size if path.is_file() else max(p.stat().st_size for p in path.rglob("*") if p.is_file())


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_file_size_limit_at_every_stage(tmp_path, tmp_path_factory, fmt):
    ref = reference(tmp_path_factory, fmt)
    need = largest_file(ref)  # the limit is per file: the largest one decides
    limits = sorted({0, 1, 7, 8, 100, 512, 4096, need // 3, need // 2, need - 4096, need - 1} - {need})
    limits = [n for n in limits if 0 <= n < need]
    for n in limits + [need]:
        d = tmp_path / f"limit-{n}"
        d.mkdir()

        def cap(n=n):
            resource.setrlimit(resource.RLIMIT_FSIZE, (n, n))

        p = run(ALL, "-o", d / FORMATS[fmt], "--format", fmt, "--to", "f32", "--all", preexec_fn=cap)
        if n < need:
            assert_one_error(p)
            assert os.listdir(d) == [], f"limit {n}: left {os.listdir(d)}"
        else:
            assert p.returncode == 0, f"limit {n} (the output's own size): {p.stderr}"
            assert tree(d / FORMATS[fmt]) == tree(ref)


WRITE_FAULT = os.environ.get("GGUFTK_WRITE_FAULT")


def _fault_env(**extra):
    env = dict(os.environ, LD_PRELOAD=WRITE_FAULT, **extra)
    if b"__asan_init" in BIN.read_bytes():  # the sanitizer wants to be the first library loaded
        env["ASAN_OPTIONS"] = ":".join(filter(None, [env.get("ASAN_OPTIONS"), "verify_asan_link_order=0"]))
    return env


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_a_write_failing_midway_leaves_nothing(tmp_path, tmp_path_factory, fmt):
    # Space is reserved before the work, so neither test above fails a write once data flows.
    # Here the writes themselves fail (tests/crafted/write_fault.c): after 0 bytes, inside the
    # header, in the middle, one byte short; then the whole budget must be enough.
    assert WRITE_FAULT and Path(WRITE_FAULT).is_file(), "GGUFTK_WRITE_FAULT is not set (tests/fuzz/hardening.cmake)"
    ref = reference(tmp_path_factory, fmt)
    report = tmp_path / "written"
    d = tmp_path / "out"
    d.mkdir()
    args = [ALL, "-o", d / FORMATS[fmt], "--format", fmt, "--to", "f32", "--all"]
    p = run(*args, env=_fault_env(GGUFTK_WRITE_BUDGET=str(1 << 60), GGUFTK_WRITE_REPORT=str(report)))
    assert p.returncode == 0, p.stderr
    written = int(report.read_text())
    assert 0 < written <= output_size(ref)
    shutil.rmtree(d)
    for budget in sorted({0, 1, 100, written // 3, written // 2, written - 1}):
        d.mkdir()
        p = run(*args, env=_fault_env(GGUFTK_WRITE_BUDGET=str(budget)))
        assert_one_error(p, "No space left on device")
        assert os.listdir(d) == [], f"budget {budget}: left {os.listdir(d)}"
        d.rmdir()
    d.mkdir()
    p = run(*args, env=_fault_env(GGUFTK_WRITE_BUDGET=str(written)))
    assert p.returncode == 0, p.stderr
    assert tree(d / FORMATS[fmt]) == tree(ref)


def test_a_split_output_failing_midway_leaves_no_shard(tmp_path, tmp_path_factory):
    # A split model's output is a set of shards: a write failing in any of them (the headers of
    # all three are written first, then the data shard by shard) leaves none of them.
    assert WRITE_FAULT and Path(WRITE_FAULT).is_file(), "GGUFTK_WRITE_FAULT is not set (tests/fuzz/hardening.cmake)"
    shards = rewrite_gguf(ALL, tmp_path_factory.mktemp("split") / "m.gguf", split_max_tensors=15)
    assert len(shards) == 3
    report = tmp_path / "written"
    d = tmp_path / "out"
    d.mkdir()
    args = [shards[1], "-o", d / "o.gguf", "--to", "f32", "--all"]
    p = run(*args, env=_fault_env(GGUFTK_WRITE_BUDGET=str(1 << 60), GGUFTK_WRITE_REPORT=str(report)))
    assert p.returncode == 0, p.stderr
    ref = tree(d)
    assert sorted(ref) == [f"o-0000{k}-of-00003.gguf" for k in (1, 2, 3)]
    written = int(report.read_text())
    shutil.rmtree(d)
    for budget in sorted({0, 100, written // 3, written // 2, written - 1}):
        d.mkdir()
        p = run(*args, env=_fault_env(GGUFTK_WRITE_BUDGET=str(budget)))
        assert_one_error(p, "No space left on device")
        assert os.listdir(d) == [], f"budget {budget}: left {os.listdir(d)}"
        d.rmdir()
    d.mkdir()
    p = run(*args, env=_fault_env(GGUFTK_WRITE_BUDGET=str(written)))
    assert p.returncode == 0, p.stderr
    assert tree(d) == ref


def _tmpfs_unshare():
    """The unshare command that gives a mount namespace where a tmpfs can be mounted: as root a
    plain one, otherwise one inside a user namespace (-r), which unprivileged CI runners allow
    where user namespaces are enabled. None where neither works."""
    if sys.platform != "linux" or shutil.which("unshare") is None:
        return None
    for cmd in (["unshare", "-m"], ["unshare", "-r", "-m"]):
        p = subprocess.run(cmd + ["sh", "-c", "mount -t tmpfs -o size=64k none /mnt"], capture_output=True)
        if p.returncode == 0:
            return cmd
    return None


UNSHARE = _tmpfs_unshare()


@pytest.mark.skipif(UNSHARE is None, reason="cannot mount a tmpfs in a private mount namespace here")
@pytest.mark.parametrize("fmt", list(FORMATS))
def test_full_tmpfs(tmp_path, tmp_path_factory, fmt):
    ref = reference(tmp_path_factory, fmt)
    need = output_size(ref)
    src = tmp_path / "in.gguf"
    shutil.copy(ALL, src)
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    # tmpfs sizes are whole pages; pick sizes that run out in the header, mid-data and just short.
    for size_kb in sorted({4, 8, max(4, need // 2048), max(4, need // 1024 - 8)}):
        script = (f'mount -t tmpfs -o size={size_kb}k none "{mnt}" && '
                  f'"{BIN}" "{src}" -o "{mnt}/{FORMATS[fmt]}" --format {fmt} --to f32 --all --device cpu; '
                  f'echo "rc=$?" >&2; ls -A "{mnt}" >&2')
        p = subprocess.run(UNSHARE + ["sh", "-c", script], capture_output=True, text=True, timeout=120)
        lines = p.stderr.strip().splitlines()
        assert "rc=1" in lines, f"{size_kb} KiB tmpfs: {p.stderr}"
        tail = lines[lines.index("rc=1") + 1:]
        assert tail == [], f"{size_kb} KiB tmpfs: left {tail} behind"
        errors = [ln for ln in lines[:lines.index("rc=1")]]
        assert len(errors) == 1 and errors[0].startswith("error: "), p.stderr


def test_output_naming_the_input_by_other_roads(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    src = d / "in.gguf"
    shutil.copy(ALL, src)
    before = src.read_bytes()
    (tmp_path / "dirlink").symlink_to(d)
    (d / "l1").symlink_to(src)
    (d / "l2").symlink_to(d / "l1")
    (d / "sub").mkdir()
    roads = [tmp_path / "dirlink" / "in.gguf", d / "l2", d / "sub" / ".." / "in.gguf",
             Path(os.path.relpath(src, Path.cwd()))]
    for out in roads:
        for fmt in ("gguf", "safetensors"):
            p = run(src, "-o", out, "--format", fmt, "--force")
            if fmt == "safetensors" and str(out).endswith(".gguf"):  # refused sooner: the name says GGUF
                assert p.returncode == 2 and "contradicts the extension" in p.stderr, p.stderr
            else:
                assert_one_error(p, "input")
            assert src.read_bytes() == before
    # The input given through links, OUT its real path.
    p = run(d / "l2", "-o", src, "--force")
    assert_one_error(p, "input")
    # A directory output that is the input's directory, through a symlink (made to look like one
    # of ours, so that only the input check can refuse it).
    (d / "manifest.json").write_text('{"format": "npy", "tensors": []}')
    p = run(src, "-o", tmp_path / "dirlink", "--format", "npy", "--force")
    assert_one_error(p, "input")
    assert src.read_bytes() == before
    assert sorted(os.listdir(d)) == ["in.gguf", "l1", "l2", "manifest.json", "sub"]


def test_output_symlink_is_replaced_not_followed(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    link = tmp_path / "out.gguf"
    link.symlink_to(victim)
    p = run(ALL, "-o", link, "--force")
    assert p.returncode == 0, p.stderr
    assert victim.read_text() == "keep me"
    assert not link.is_symlink() and link.read_bytes()[:4] == b"GGUF"


def test_special_files_are_not_replaced(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    nodes = [fifo]
    try:  # a private copy of /dev/null's device node, safe to lose
        null = tmp_path / "null"
        os.mknod(null, stat.S_IFCHR | 0o666, os.makedev(1, 3))
        nodes.append(null)
    except OSError:
        pass
    for node in nodes:
        p = run(ALL, "-o", node, "--force")
        mode = os.lstat(node).st_mode
        assert not stat.S_ISREG(mode), f"{node.name} was replaced by a regular file"
        assert_one_error(p)


def test_concurrent_conversions_into_one_directory(tmp_path, tmp_path_factory):
    refs = {fmt: reference(tmp_path_factory, fmt) for fmt in FORMATS}
    out = tmp_path / "out"
    out.mkdir()
    jobs = []
    for k in range(3):
        for fmt, name in FORMATS.items():
            target = out / f"{k}-{name}"
            cmd = [str(BIN), str(ALL), "-o", str(target), "--format", fmt, "--to", "f32", "--all",
                   "--device", "cpu", "--threads", "1"]
            jobs.append((fmt, target, subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)))
    for fmt, target, proc in jobs:
        _, err = proc.communicate()
        assert proc.returncode == 0, err.decode()
        got, want = tree(target), tree(refs[fmt])
        if fmt in ("npy", "raw"):  # the manifest names its source file; the data must be identical
            got.pop("manifest.json"), want.pop("manifest.json")
        assert got == want, f"{target.name} differs from a conversion run alone"
    expected = sorted(f"{k}-{name}" for k in range(3) for name in FORMATS.values())
    assert sorted(os.listdir(out)) == expected  # no temp file left


def test_racing_for_the_same_output(tmp_path, tmp_path_factory):
    ref = reference(tmp_path_factory, "gguf")
    target = tmp_path / "out.gguf"
    procs = [subprocess.Popen([str(BIN), str(ALL), "-o", str(target), "--to", "f32", "--all", "--force",
                               "--device", "cpu", "--threads", "1"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(6)]
    codes = []
    for p in procs:
        _, err = p.communicate()
        codes.append(p.returncode)
        assert p.returncode in (0, 1), err.decode()
        if p.returncode == 1:
            assert len(err.decode().strip().splitlines()) == 1, err.decode()
    assert 0 in codes
    assert filecmp.cmp(target, ref, shallow=False), "the surviving output is not a whole conversion"
    assert os.listdir(tmp_path) == ["out.gguf"]
