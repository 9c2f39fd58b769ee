"""Every gguftk binary on every crafted file (tests/crafted/make_crafted.py) and on every
truncation of a small valid file.

For a file the reader must refuse, each run must:
  - exit 1, with stderr exactly one line `error: FILE: what (at offset N)` and nothing on stdout;
    `what` holding the text the case was made to reach and N its offset (for the truncations,
    N inside the file); no escape character on stderr;
  - not abort or hang (a 20 s timeout guards against hangs; the measured times are reported,
    not asserted, see test_timing_report);
  - not ask for a single allocation larger than the file (floor: 1 MiB, for the buffers any run
    has): non-ASan builds preload tests/crafted/alloc_guard.c, ASan builds use the sanitizer's
    max_allocation_size_mb; and not grow its peak RSS more than the file's size past the tool's
    resident size on a tiny valid file (plus slack);
  - under ASan/UBSan: print no sanitizer report (it would make stderr more than one line);
  - gguf-dequant: leave nothing in the output directory.
For a valid-but-surprising file (control characters, invalid UTF-8, zero-sized tensors, a
tokenizer array of the wrong type, tensor names that are paths...), each run must exit 0 with
output that a terminal can show safely (no raw control characters), JSON that parses, and
gguf-dequant writing only inside its output path.
"""
import concurrent.futures
import json
import os
import re
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

BIN = Path(os.environ["GGUFTK_BIN"])
SRC = Path(os.environ["GGUFTK_SOURCE"])
sys.path.insert(0, str(SRC / "tests" / "crafted"))
import make_crafted as mc  # noqa: E402

TIMEOUT_S = 20
ALLOC_FLOOR = 1 << 20
RSS_SLACK_KB = 16 * 1024
WORKERS = max(2, os.cpu_count() or 2)

CASES = mc.cases()
INVALID = [c for c in CASES if not c.valid]
VALID = [(c.name, c.data) for c in CASES if c.valid]
BASE = mc.base()


def _is_asan(binary: Path) -> bool:
    return b"__asan_init" in binary.read_bytes()


def tool_runs():
    """(label, binary, argv builder(file, outdir)) for every binary that exists in this build."""
    runs = []
    inspect = BIN / "gguf-inspect"
    if inspect.exists():
        runs += [("inspect", inspect, lambda f, o: [f]),
                 ("inspect-json", inspect, lambda f, o: ["--json", f]),
                 ("inspect-md", inspect, lambda f, o: ["--markdown", f])]
    dequant = BIN / "gguf-dequant"
    if dequant.exists():
        runs += [("dequant", dequant, lambda f, o: [f, "-o", str(o / "out.gguf"), "--device", "cpu", "--all"]),
                 ("dequant-npy", dequant,
                  lambda f, o: [f, "-o", str(o / "npy"), "--format", "npy", "--device", "cpu", "--all"])]
    hexdump = BIN / "gguf-hexdump"
    if hexdump.exists():
        runs += [("hexdump", hexdump, lambda f, o: [f]),  # the header, the default
                 ("hexdump-json", hexdump, lambda f, o: ["--json", f]),
                 ("hexdump-md", hexdump, lambda f, o: ["--markdown", f]),
                 ("hexdump-block", hexdump, lambda f, o: [f, *tensor_option(f)]),
                 ("hexdump-block-json", hexdump,
                  lambda f, o: [f, *tensor_option(f), "--block", "0", "--count", "1", "--json"]),
                 ("hexdump-row", hexdump, lambda f, o: [f, *tensor_option(f), "--row", "0"]),
                 ("hexdump-row-json", hexdump,
                  lambda f, o: [f, *tensor_option(f), "--row", "0", "--cols", "-1:", "--json"])]
    return runs


def tensor_option(path):
    """--tensor naming the file's first tensor; `--tensor=NAME` keeps a name that starts with '-'
    a value, and an empty name goes as its own argument (CLI11 reads an empty `--tensor=` as a
    missing value)."""
    name = first_tensor_name(path)
    return [b"--tensor=" + name] if name else ["--tensor", ""]


def first_tensor_name(path):
    """The first tensor's name, as bytes, for a block dump of a file the reader accepts; for
    anything it cannot follow, a name no file here has (the reader refuses those files first)."""
    try:
        table, _ = mc.read_tensor_table(Path(path).read_bytes())
        name = table[0][0] if table else None
    except (struct.error, KeyError, IndexError, OverflowError, RecursionError, ZeroDivisionError):
        name = None
    return name if name is not None and b"\0" not in name else b"t"  # argv cannot hold a NUL


RUNS = tool_runs()
ASAN = any(_is_asan(b) for _, b, _ in RUNS)
GUARD = os.environ.get("GGUFTK_ALLOC_GUARD")
TIMINGS = {}  # label -> [seconds]
_timings_lock = threading.Lock()


class Result:
    def __init__(self, rc, out, err, secs, maxrss_kb):
        self.rc, self.out, self.err, self.secs, self.maxrss_kb = rc, out, err, secs, maxrss_kb


# Every tool runs under bin/test-peak-rss, which reports the tool's own peak RSS: straight from
# this process, a child's ru_maxrss starts from this process's peak (see tests/tools/peak-rss.cpp).
PEAK_RSS = BIN / "test-peak-rss"


def run(label, binary, args, alloc_limit=None, cwd=None, timed=True, asan_options=""):
    env = dict(os.environ)
    if ASAN:
        opts = env.get("ASAN_OPTIONS", "")
        extra = "allocator_may_return_null=0:exitcode=86" + (":" + asan_options if asan_options else "")
        if alloc_limit is not None:
            extra += f":max_allocation_size_mb={max(1, alloc_limit >> 20)}"
        env["ASAN_OPTIONS"] = f"{opts}:{extra}" if opts else extra
    elif GUARD and alloc_limit is not None:
        env["LD_PRELOAD"] = GUARD
        env["GGUFTK_ALLOC_LIMIT"] = str(alloc_limit)
    env.pop("NO_COLOR", None)
    cmd = [str(binary)] + [a if isinstance(a, bytes) else str(a) for a in args]
    fd, rss_file = tempfile.mkstemp(prefix="gguftk-rss-")
    os.close(fd)
    cmd = [str(PEAK_RSS), rss_file] + cmd
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        # A session of its own, so that a hang is killed with the launcher.
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env, cwd=cwd,
                             start_new_session=True)
        timer = threading.Timer(TIMEOUT_S, lambda: os.killpg(p.pid, signal.SIGKILL))
        timer.start()
        _, status, _ = os.wait4(p.pid, 0)
        timer.cancel()
        secs = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        maxrss = int(Path(rss_file).read_text() or 0)
        os.unlink(rss_file)
        res = Result(p.returncode, out.read(), err.read(), secs, maxrss)
    if timed:
        with _timings_lock:
            TIMINGS.setdefault(label, []).append(secs)
    return res


_baseline_rss = {}


def baseline_rss_kb(label, binary, argv, tmp_path_factory):
    """Peak RSS of the tool on the smallest valid file: what any run costs."""
    if label not in _baseline_rss:
        d = tmp_path_factory.mktemp("baseline")
        f = d / "minimal.gguf"
        f.write_bytes(mc.gguf())
        o = d / "out"
        o.mkdir()
        _baseline_rss[label] = run(label, binary, argv(str(f), o)).maxrss_kb
    return _baseline_rss[label]


ERROR_RE = re.compile(rb"^error: (?P<file>.+?): (?P<what>.+) \(at offset (?P<off>\d+)\)\n$")

def check_refused(label, binary, argv, name, data, path, outdir, tmp_path_factory, what=None, offset=None):
    """`what` and `offset`: the error's text and offset; without them, any offset inside the file."""
    limit = max(len(data), ALLOC_FLOOR)
    r = run(label, binary, argv(str(path), outdir), alloc_limit=limit)
    where = f"{label} on {name} ({len(data)} bytes)"
    assert r.rc == 1, f"{where}: exit {r.rc}, stderr: {r.err[-2000:]!r}"
    m = ERROR_RE.match(r.err)
    assert m, f"{where}: stderr is not one `error: FILE: what (at offset N)` line: {r.err[-2000:]!r}"
    assert m.group("file") == str(path).encode(), f"{where}: error names {m.group('file')!r}"
    assert int(m.group("off")) <= len(data), f"{where}: offset {m.group('off')} is past the end of the file"
    if what is not None:
        assert what.encode() in m.group("what"), f"{where}: refused for another reason than {what!r}: {r.err!r}"
    if offset is not None:
        assert int(m.group("off")) == offset, f"{where}: error at offset {m.group('off')}, not {offset}"
    assert b"\x1b" not in r.err, f"{where}: an escape character on stderr: {r.err!r}"
    assert r.out == b"", f"{where}: printed to stdout before failing: {r.out[:200]!r}"
    base_kb = baseline_rss_kb(label, binary, argv, tmp_path_factory)
    assert r.maxrss_kb <= base_kb + len(data) // 1024 + RSS_SLACK_KB, \
        f"{where}: peak RSS {r.maxrss_kb} KiB vs {base_kb} KiB on a minimal file"
    if outdir is not None:
        left = sorted(p.name for p in outdir.iterdir())
        assert left == [], f"{where}: left {left} behind in the output directory"


@pytest.fixture(scope="module")
def crafted_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("crafted")
    for c in CASES:
        (d / f"{c.name}.gguf").write_bytes(c.data)
    return d


def test_there_is_something_to_run():
    assert sorted({b.name for _, b, _ in RUNS}) == ["gguf-dequant", "gguf-hexdump", "gguf-inspect"], \
        f"not every gguftk binary is built in {BIN}"
    assert len(INVALID) >= 141 and len(VALID) >= 20  # the catalogue as merged: cases may be added, not lost
    # Without one of the two, no run here could fail for its allocations (ctest sets the guard).
    assert ASAN or (GUARD and Path(GUARD).is_file()), "no allocation limit: GGUFTK_ALLOC_GUARD is not set"


def test_the_allocation_limit_is_enforced(tmp_path):
    """The limit that check_refused relies on must stop a real allocation over it: a valid file
    whose 3 MiB string gguf-inspect copies whole, under a 1 MiB limit."""
    f = tmp_path / "big-string.gguf"
    f.write_bytes(mc.gguf([("s", mc.STR, "x" * (3 << 20))]))
    r = run("inspect-guard", BIN / "gguf-inspect", [str(f)], alloc_limit=1 << 20, timed=False)
    assert r.rc not in (0, 1), f"an allocation of 3 MiB passed a 1 MiB limit: exit {r.rc}, {r.err[-500:]!r}"
    assert b"alloc-guard:" in r.err or b"AddressSanitizer" in r.err, r.err[-2000:]
    r = run("inspect-guard", BIN / "gguf-inspect", [str(f)], alloc_limit=4 << 20, timed=False)
    assert r.rc == 0, f"the same run under a 4 MiB limit: exit {r.rc}, {r.err[-2000:]!r}"


@pytest.mark.parametrize("label,binary,argv", RUNS, ids=[r[0] for r in RUNS])
@pytest.mark.parametrize("case", INVALID, ids=[c.name for c in INVALID])
def test_refuses_crafted(label, binary, argv, case, crafted_dir, tmp_path, tmp_path_factory):
    check_refused(label, binary, argv, case.name, case.data, crafted_dir / f"{case.name}.gguf", tmp_path,
                  tmp_path_factory, what=case.what, offset=case.offset)


def test_every_crafted_file_has_a_reason_and_an_offset():
    assert [c.name for c in INVALID if not c.what or c.offset is None] == []
    names = [c.name for c in CASES]
    assert len(set(names)) == len(names), "two cases of one name"


@pytest.mark.parametrize("label,binary,argv", RUNS, ids=[r[0] for r in RUNS])
def test_refuses_every_truncation(label, binary, argv, tmp_path, tmp_path_factory):
    """Every strict prefix of a small valid file (its last tensor ends at EOF, so each one is
    invalid): in the magic, the header, every key, value, array item, tensor info, the padding
    and the data."""
    files = []
    for n in range(len(BASE)):
        f = tmp_path / f"prefix-{n:04d}.gguf"
        f.write_bytes(BASE[:n])
        o = tmp_path / f"out-{n:04d}"
        o.mkdir()
        files.append((n, f, o))
    baseline_rss_kb(label, binary, argv, tmp_path_factory)  # measured alone, before the pool

    def one(item):
        n, f, o = item
        check_refused(label, binary, argv, f"prefix {n}", BASE[:n], f, o, tmp_path_factory)

    with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(one, files))


C0_OR_DEL = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]")  # raw control bytes other than \t \n
C1_UTF8 = re.compile(rb"\xc2[\x80-\x9f]")               # C1 controls (CSI = U+009B) as UTF-8
# U+200B..U+200F, U+2028..U+202E, U+2060..U+2069 and U+FEFF as UTF-8: zero-width, line and
# paragraph separators, bidi marks, embeddings, overrides and isolates
BIDI_UTF8 = re.compile(rb"\xe2\x80[\x8b-\x8f\xa8-\xae]|\xe2\x81[\xa0-\xa9]|\xef\xbb\xbf")


def n_tensors(data):
    order = "<" if data[4:6] != b"\0\0" else ">"  # a big-endian version field starts with zeros
    return struct.unpack_from(order + "Q", data, 8)[0]


# The valid files a run may refuse (cleanly): tensor data of a big-endian file is neither
# converted nor dumped, and a block dump needs a tensor with a block. Every other valid file must
# be accepted by every run.
_NO_TENSORS = {n for n, d in VALID if n_tensors(d) == 0}
_BIG_ENDIAN = {"valid_base_be", "valid_reader_base_be"}
_NO_BLOCK_DUMP = _BIG_ENDIAN | {"valid_zero_dims"} | _NO_TENSORS  # zero_dims: its first tensor is empty
# A file whose split.count says it is one shard of several, but whose name gives no way to find
# the others, is refused by the tools that read the whole model (--shard-only reads it alone).
_LONE_SHARD = {"valid_split_keys_odd"}
MAY_REFUSE = {"dequant": _BIG_ENDIAN | _LONE_SHARD, "dequant-npy": _BIG_ENDIAN | _LONE_SHARD,
              "inspect": _LONE_SHARD, "inspect-json": _LONE_SHARD, "inspect-md": _LONE_SHARD,
              "hexdump-block": _NO_BLOCK_DUMP, "hexdump-block-json": _NO_BLOCK_DUMP,
              "hexdump-row": _NO_BLOCK_DUMP, "hexdump-row-json": _NO_BLOCK_DUMP}


@pytest.mark.parametrize("label,binary,argv", RUNS, ids=[r[0] for r in RUNS])
@pytest.mark.parametrize("name,data", VALID, ids=[n for n, _ in VALID])
def test_accepts_and_prints_safely(label, binary, argv, name, data, crafted_dir, tmp_path):
    workdir = tmp_path / "a" / "b"
    outdir = workdir / "out"
    outdir.mkdir(parents=True)
    path = crafted_dir / f"{name}.gguf"
    r = run(label, binary, argv(str(path), outdir), cwd=workdir)
    where = f"{label} on {name}"
    # A refusal is 1 for the file, 2 for arguments it does not fit (hexdump's tensor 't' absent).
    allowed = (0, 1, 2) if name in MAY_REFUSE.get(label, ()) else (0,)
    assert r.rc in allowed, f"{where}: exit {r.rc}, stderr: {r.err[-2000:]!r}"
    if r.rc != 0:
        assert re.fullmatch(rb"error: [^\n]+\n", r.err), f"{where}: not one error line: {r.err[-2000:]!r}"
        assert r.out == b"", f"{where}: printed to stdout before failing: {r.out[:200]!r}"
    elif label.startswith("inspect") or label.startswith("hexdump"):
        assert r.out, f"{where}: printed nothing"
        if label.endswith("-json"):
            doc = json.loads(r.out.decode("utf-8"))  # strict UTF-8: invalid bytes must come escaped
            assert isinstance(doc, (dict, list))
        else:
            assert not C0_OR_DEL.search(r.out), f"{where}: raw control byte in output: {r.out[:3000]!r}"
            assert not C1_UTF8.search(r.out), f"{where}: raw C1 control in output"
            assert not BIDI_UTF8.search(r.out), f"{where}: raw bidi or invisible character in output"
            r.out.decode("utf-8")  # what reaches the terminal is valid UTF-8
    # Nothing may land outside the output path, whatever the tensor names say.
    outside = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")
                     if outdir not in p.parents and p not in (outdir, workdir, workdir.parent))
    assert outside == [], f"{where}: wrote outside its output: {outside}"
    if label.startswith("dequant"):
        made = sorted(p.name for p in outdir.iterdir())
        if r.rc == 0:
            want = {"dequant": "out.gguf", "dequant-npy": "npy"}[label]
            assert made == [want], f"{where}: output directory holds {made}"
            if want == "npy":  # one file per tensor: names that sanitize alike must not collide
                npy = list((outdir / "npy").glob("*.npy"))
                assert len(npy) == n_tensors(data), f"{where}: {len(npy)} .npy files for {n_tensors(data)} tensors"
            else:
                got = n_tensors((outdir / want).read_bytes())
                assert got == n_tensors(data), f"{where}: {got} tensors written of {n_tensors(data)}"
        else:  # refusing (say, a tensor name no file can have) is fine, cleanly (checked above)
            assert made == [], f"{where}: failed and left {made}"


@pytest.mark.parametrize("label", ["inspect", "hexdump"])
def test_arabic_letter_mark_is_escaped(label, tmp_path):
    f = tmp_path / "alm.gguf"
    f.write_bytes(mc.gguf([("k\u061c", mc.STR, "v\u061c")], [("t\u061c", [8], mc.T_F32, 0)], bytes(32)))
    r = run(label, BIN / f"gguf-{label}", [str(f)])
    assert r.rc == 0, r.err
    assert b"\xd8\x9c" not in r.out


def _shard(no, count, count_type=mc.U16, no_type=mc.U16):
    return mc.gguf([("split.no", no_type, no), ("split.count", count_type, count)],
                   [(f"t{no}", [8], mc.T_F32, 0)], bytes(32))


SHARD_SETS = {
    # name: ({file name: bytes}, file given to --shards, must fail)
    "second_missing": ({"m-00001-of-00002.gguf": _shard(0, 2)}, "m-00001-of-00002.gguf", True),
    "second_truncated": ({"m-00001-of-00002.gguf": _shard(0, 2), "m-00002-of-00002.gguf": _shard(1, 2)[:40]},
                         "m-00001-of-00002.gguf", True),
    "second_not_gguf": ({"m-00001-of-00002.gguf": _shard(0, 2), "m-00002-of-00002.gguf": b"\x7fELF" * 20},
                        "m-00001-of-00002.gguf", True),
    "count_2e64m1": ({"m-00001-of-00002.gguf": _shard(0, (1 << 64) - 1, count_type=mc.U64)},
                     "m-00001-of-00002.gguf", True),
    "count_99999": ({"m-00001-of-99999.gguf": _shard(0, 99999, count_type=mc.U32)}, "m-00001-of-99999.gguf", True),
    "count_as_string": ({"m-00001-of-00002.gguf": _shard(0, "2", count_type=mc.STR)}, "m-00001-of-00002.gguf", None),
    "no_past_count": ({"m-00001-of-00002.gguf": _shard(7, 2), "m-00002-of-00002.gguf": _shard(1, 2)},
                      "m-00001-of-00002.gguf", None),
    "negative_no": ({"m-00001-of-00002.gguf": _shard(-1, 2, no_type=mc.I32),
                     "m-00002-of-00002.gguf": _shard(1, 2)}, "m-00001-of-00002.gguf", None),
    "both_claim_first": ({"m-00001-of-00002.gguf": _shard(0, 2), "m-00002-of-00002.gguf": _shard(0, 2)},
                         "m-00001-of-00002.gguf", None),
    "complete": ({"m-00001-of-00002.gguf": _shard(0, 2), "m-00002-of-00002.gguf": _shard(1, 2)},
                 "m-00001-of-00002.gguf", False),
}


@pytest.mark.skipif(not (BIN / "gguf-inspect").exists(), reason="gguf-inspect not built")
@pytest.mark.parametrize("name", list(SHARD_SETS))
def test_shards_of_a_hostile_split(name, tmp_path):
    """A shard brings in the files its name names (gguf-inspect, with --shards or not, and
    gguf-dequant): each of them is as untrusted as the first. None in the table: refusing or
    reading are both fine, cleanly."""
    files, given, must_fail = SHARD_SETS[name]
    src = tmp_path / "src"
    src.mkdir()
    for fname, data in files.items():
        (src / fname).write_bytes(data)
    # The shard list itself is bounded by the name's five digits (at most 99999 paths): allow it.
    limit = 16 << 20 if name == "count_99999" else max(ALLOC_FLOOR, sum(map(len, files.values())))
    out = tmp_path / "out"
    out.mkdir()
    runs = [("inspect-shards", "gguf-inspect", ["--shards"]), ("inspect-shards", "gguf-inspect", ["--shards", "--json"]),
            ("inspect", "gguf-inspect", []), ("inspect", "gguf-inspect", ["--json"]),
            ("dequant", "gguf-dequant", ["-o", str(out / "o.gguf"), "--device", "cpu"])]
    for label, binary, args in runs:
        r = run(label, BIN / binary, args + [str(src / given)], alloc_limit=limit)
        if must_fail is True or (must_fail is None and r.rc != 0):
            assert r.rc == 1, f"{name} {args}: exit {r.rc}: {r.err[-2000:]!r}"
            assert re.fullmatch(rb"error: [^\n]+\n", r.err), f"{name}: {r.err[-2000:]!r}"
            assert r.out == b""
            assert os.listdir(out) == [], f"{name}: left {os.listdir(out)}"
        else:
            assert r.rc == 0, f"{name} {args}: exit {r.rc}: {r.err[-2000:]!r}"
            if "--json" in args:
                json.loads(r.out.decode("utf-8"))
            for f in os.listdir(out):
                os.unlink(out / f)


@pytest.mark.skipif(not (BIN / "gguf-inspect").exists(), reason="gguf-inspect not built")
def test_json_keeps_keys_that_differ_only_in_invalid_bytes(tmp_path):
    # Three keys that all read "k\ufffd" once invalid bytes are replaced: the valid one keeps its
    # name, the others get a suffix and their exact bytes, and no entry is lost.
    f = tmp_path / "keys.gguf"
    f.write_bytes(mc.gguf([mc.raw().str(b"k\xff").u32(mc.U8).raw(b"\x01").b,
                           mc.raw().str("k\ufffd".encode()).u32(mc.U8).raw(b"\x02").b,
                           mc.raw().str(b"k\xfe").u32(mc.U8).raw(b"\x03").b]))
    r = run("inspect-json", BIN / "gguf-inspect", ["--json", str(f)])
    assert r.rc == 0, r.err
    md = json.loads(r.out)["metadata"]
    assert list(md) == ["k\ufffd (2)", "k\ufffd", "k\ufffd (3)"]
    assert [md[k]["value"] for k in md] == [1, 2, 3]
    assert md["k\ufffd (2)"]["key_hex"] == "6bff" and md["k\ufffd (3)"]["key_hex"] == "6bfe"
    assert "key_hex" not in md["k\ufffd"]


def reader_rss_kb(f):
    """The peak RSS of reading `f` and printing next to nothing: what its tables cost the reader."""
    r = run("inspect", BIN / "gguf-inspect", ["--no-tensors", "--no-metadata", str(f)], timed=False,
            asan_options="quarantine_size_mb=0")
    assert r.rc == 0, r.err
    return r.maxrss_kb


@pytest.mark.parametrize("label, binary, args", [("inspect", "gguf-inspect", ["--json"]),
                                                  ("hexdump", "gguf-hexdump", ["--header", "--json"]),
                                                  ("dequant", "gguf-dequant", ["--format", "npy", "-o", "OUT"]),
                                                  ("dequant", "gguf-dequant", ["--format", "safetensors", "-o", "OUT"])])
def test_metadata_of_a_huge_array_in_flat_memory(label, binary, args, tmp_path):
    # The JSON views give metadata values complete, and npy's manifest.json and safetensors'
    # __metadata__ hold them too. Built as trees, a 5 MB file's 5M-item UINT8 array took
    # 530-630 MB (a 200 MB file's, over 20 GiB); walked item by item, memory is the mapped file,
    # a buffer and (for the outputs' headers) the text itself.
    n = 5_000_000
    f = tmp_path / "huge-array.gguf"
    f.write_bytes(mc.gguf([mc.raw().str(b"big").u32(mc.ARR).u32(mc.U8).u64(n).raw(bytes(n)).b],
                          [("t", [8], mc.T_F32, 0)], bytes(32)))
    args = [str(tmp_path / "out") if a == "OUT" else a for a in args]
    # ASan keeps freed memory in quarantine (256 MiB by default), which would be counted here.
    r = run(label, BIN / binary, args + [str(f)], timed=False, asan_options="quarantine_size_mb=0")
    assert r.rc == 0, r.err
    if label != "dequant":
        assert r.out.count(b"\n") > n  # one line per item, as dump(2) writes them
    # The items' pages and 32 MiB; the outputs' headers hold the items' text (about 2 bytes an
    # item, in a few copies on the way: safetensors' header is a JSON string in a JSON object).
    limit = reader_rss_kb(f) + (((9 * n if label == "dequant" else n) + (32 << 20)) >> 10)
    assert r.maxrss_kb < limit, f"{binary} peaked at {r.maxrss_kb >> 10} MiB, limit {limit >> 10} MiB"


@pytest.fixture(scope="module")
def many_tensors(tmp_path_factory):
    """100k empty tensors with short names: a 3.5 MB file whose tables are as long as they get."""
    n = 100_000
    parts = [b"GGUF", struct.pack("<IQQ", 3, n, 0)]
    for i in range(n):
        name = b"%x" % i
        parts.append(struct.pack("<Q", len(name)) + name + struct.pack("<IQIQ", 1, 0, mc.T_F32, 0))
    head = b"".join(parts)
    f = tmp_path_factory.mktemp("many") / "many-tensors.gguf"
    f.write_bytes(head + bytes(-len(head) % 32))
    return f


@pytest.mark.parametrize("label, binary, args", [("inspect", "gguf-inspect", []),
                                                  ("inspect", "gguf-inspect", ["--markdown"]),
                                                  ("inspect", "gguf-inspect", ["--json"]),
                                                  ("hexdump", "gguf-hexdump", ["--header"]),
                                                  ("hexdump", "gguf-hexdump", ["--header", "--markdown"]),
                                                  ("hexdump", "gguf-hexdump", ["--header", "--json"])])
def test_views_of_many_tensors_in_bounded_memory(label, binary, args, many_tensors):
    # The reader's own table costs some 230 bytes a tensor (23 MB here); the views print a line
    # or a record a tensor, and used to hold it all first (inspect's text view 535 bytes a
    # tensor more, hexdump --header 1.8 KB). Now they stream: beyond what reading the file
    # costs, a view may take 16 MiB.
    r = run(label, BIN / binary, args + [str(many_tensors)], timed=False, asan_options="quarantine_size_mb=0")
    assert r.rc == 0, r.err
    assert r.out.count(b"\n") > 100_000
    limit = reader_rss_kb(many_tensors) + 16 * 1024
    assert r.maxrss_kb < limit, f"{binary} {args} peaked at {r.maxrss_kb >> 10} MiB, limit {limit >> 10} MiB"


def test_timing_report():
    """Every run above is timed against the 100 ms goal (a hang fails the run itself, through its
    timeout). The table goes to crafted-timings.txt in the build directory. Only each tool's
    median is asserted: single runs on a shared CI machine are noisy, but a median of hundreds of
    runs (a few ms plain, 8-18 ms under ASan) over 100 ms means a tool got slow."""
    if not TIMINGS:
        pytest.skip("no runs measured (run the whole module)")
    lines = [f"{'run':<20} {'n':>6} {'median ms':>10} {'p99 ms':>8} {'max ms':>8}"]
    slow = []
    for label, ts in sorted(TIMINGS.items()):
        ts = sorted(ts)
        med, p99, mx = ts[len(ts) // 2], ts[min(len(ts) - 1, int(len(ts) * 0.99))], ts[-1]
        lines.append(f"{label:<20} {len(ts):>6} {med * 1e3:>10.1f} {p99 * 1e3:>8.1f} {mx * 1e3:>8.1f}")
        if med > 0.1:
            slow.append(label)
    report = "\n".join(lines) + f"\n(build: {'ASan+UBSan' if ASAN else 'plain'}; {WORKERS} runs in parallel)\n"
    try:
        (BIN.parent / "crafted-timings.txt").write_text(report)
    except OSError:
        pass
    print("\n" + report)
    assert slow == [], f"median run over 100 ms for {slow}:\n{report}"
