"""What a remote header may cost, against loopback servers that serve files made up on the fly
(raw_server.py): a split model of a thousand shards, each a 2 MiB file with a header of some
200 bytes; and a header whose string array never ends within the 256 MiB a header may take.

Peak RSS (bin/test-peak-rss, the tool's own) must stay within the headers' size plus 32 MiB: a
thousand shards once kept a thousand 1 MiB first reads (1031 MiB), and the endless array held
its growing prefix twice while it grew (359 MiB). The shards' headers together may bring at most
--max-header-total bytes (GGUFTK_MAX_HEADER_TOTAL, 1 GiB by default), and a model's shards go
over one connection (with 64 file descriptors, a thousand shards once ran out of them).
Files of exabytes, which only a server can claim, must not wrap gguf-inspect's totals.
"""
import json
import os
import re
import resource
import struct
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from cli_common import assert_one_error  # noqa: E402
from raw_server import RawServer, asked_range  # noqa: E402
from remote_common import INSPECT, run  # noqa: E402

PEAK_RSS = Path(os.environ["GGUFTK_BIN"]) / "test-peak-rss"
# Under ASan the allocator's quarantine keeps freed memory resident (up to 256 MiB), so a peak
# RSS says nothing of the tool's own: the bounds are held in the plain build, and the ASan run
# checks everything else.
ASAN = b"__asan_init" in Path(INSPECT).read_bytes()
MiB = 1 << 20
SHARDS, SHARD_SIZE = 1000, 2 * MiB
HEADER_MAX = 256 * MiB  # HeaderReads::max


def gguf_string(b):
    return struct.pack("<Q", len(b)) + b


def shard_header(k, n):
    """Shard k (from 0) of n: the three split keys and one F32 tensor of 4 values, padded to 32."""
    h = b"GGUF" + struct.pack("<IQQ", 3, 1, 3)
    for key, v in (("split.no", k), ("split.count", n), ("split.tensors.count", n)):
        h += gguf_string(key.encode()) + struct.pack("<II", 4, v)  # UINT32
    h += gguf_string(f"t{k}".encode()) + struct.pack("<IQIQ", 1, 4, 0, 0)
    return h + b"\0" * (-len(h) % 32)


def serve(s, conn, request, head, size, fill=b"\0"):
    """The 206 of the range asked for, of a file of `size` bytes: `head`, then `fill` repeated.
    Written a MiB at a time, the headers with the first bytes (a small write after another
    waits on the client's delayed ACK)."""
    first, last = asked_range(request)
    last = min(last, size - 1)
    out = (f"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {first}-{last}/{size}\r\n"
           f"Content-Length: {last + 1 - first}\r\n\r\n").encode()
    pos = first
    while pos <= last:
        n = min(last + 1 - pos, MiB)
        if pos < len(head):
            chunk = head[pos:pos + n]
        else:
            at = (pos - len(head)) % len(fill)
            chunk = (fill * ((at + n) // len(fill) + 1))[at:at + n]
        out += chunk
        pos += len(chunk)
        if len(out) >= MiB:
            if not s.send(conn, out):
                return False
            out = b""
    return s.send(conn, out) if out else True


def shards(s, conn, request, n):
    m = re.search(r"-(\d{5})-of-(\d{5})\.gguf ", request)
    return serve(s, conn, request, shard_header(int(m[1]) - 1, int(m[2])), SHARD_SIZE)


def shard_url(s, k=1):
    return s.url(f"m-{k:05d}-of-{SHARDS:05d}.gguf")


def fetched(s):
    """Bytes the server was asked for, within the files' size."""
    return sum(min(last, SHARD_SIZE - 1) + 1 - first for first, last in map(asked_range, s.requests))


def peak_rss(tmp_path, *args, env=None):
    """The tool's run and its peak RSS in bytes."""
    rss = tmp_path / "rss"
    e = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "GGUFTK_"))} | (env or {})
    p = subprocess.run([str(PEAK_RSS), str(rss), *map(str, args)], capture_output=True, text=True, timeout=120, env=e)
    return p, int(rss.read_text()) * 1024


# --- 3. a split model keeps its shards' headers, and they are capped in all -------------------

def test_a_split_model_keeps_only_its_shards_headers(tmp_path):
    with RawServer(shards, lifetime=100) as s:
        p, rss = peak_rss(tmp_path, INSPECT, shard_url(s), "--no-metadata")
        assert p.returncode == 0, p.stderr
        assert f"in {SHARDS} files" in p.stdout
        assert fetched(s) == SHARDS * MiB  # each shard's first read: a MiB
    headers = sum(len(shard_header(k, SHARDS)) for k in range(SHARDS))
    assert ASAN or rss <= headers + 32 * MiB, f"{rss / MiB:.1f} MiB"  # before: 1031 MiB


def test_a_split_models_shards_share_a_connection():
    # A connection a shard needed a descriptor each: with 64, shard 22 "Couldn't connect to server".
    def few_descriptors():
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))

    with RawServer(shards, lifetime=100) as s:
        p = subprocess.run([str(INSPECT), shard_url(s), "--no-metadata", "--no-tensors"], capture_output=True,
                           text=True, timeout=60, preexec_fn=few_descriptors)
        assert p.returncode == 0, p.stderr


@pytest.mark.parametrize("how", ["flag", "variable"])
def test_the_shards_headers_are_capped_in_all(how):
    total = 10 * MiB + 300  # ten first reads, and what an eleventh shard's header needs
    args, env = (["--max-header-total", total], None) if how == "flag" else ([], {"GGUFTK_MAX_HEADER_TOTAL": str(total)})
    with RawServer(shards, lifetime=60) as s:
        p = run(INSPECT, shard_url(s), *args, env=env)
        assert_one_error(p, f"error: {shard_url(s, 12)}: shard 12 of {SHARDS}: no header can be read: the model's "
                         f"other files have taken all {total} bytes", "--max-header-total, GGUFTK_MAX_HEADER_TOTAL")
        assert fetched(s) == total


def test_a_header_past_what_is_left_of_the_total():
    with RawServer(shards, lifetime=60) as s:
        p = run(INSPECT, shard_url(s), "--max-header-total", 100)
        assert_one_error(p, f"error: {shard_url(s)}: the header reaches past byte 100, all that is left of the 100 "
                         "bytes the headers of one model may take", "(at offset ")
        assert fetched(s) == 100


def test_the_default_total_is_1_gib(tmp_path):
    # 1100 shards, a MiB's first read each: the 1025th finds nothing left.
    n = 1100

    def answer(s, conn, request, k):
        m = re.search(r"-(\d{5})-of-(\d{5})\.gguf ", request)
        return serve(s, conn, request, shard_header(int(m[1]) - 1, n), SHARD_SIZE)

    with RawServer(answer, lifetime=100) as s:
        url = s.url(f"m-00001-of-{n:05d}.gguf")
        p = run(INSPECT, url, "--no-metadata", "--no-tensors")
        assert_one_error(p, s.url(f"m-01025-of-{n:05d}.gguf"), "have taken all 1073741824 bytes")


# --- 4. a header that never ends costs no more than the most it may take ----------------------

def endless_array(s, conn, request, n):
    # One metadata entry, an array of 10^9 strings of 8 bytes in a 10 GB file: the reader needs
    # more until it would pass the 256 MiB a header may take.
    head = b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + gguf_string(b"tokens") + struct.pack("<IIQ", 9, 8, 10**9)
    return serve(s, conn, request, head, 10**10, fill=gguf_string(b"abcdefgh"))


def test_an_endless_header_stays_within_its_cap(tmp_path):
    with RawServer(endless_array, lifetime=100) as s:
        p, rss = peak_rss(tmp_path, INSPECT, s.url("x.gguf"))
        assert_one_error(p, f"error: {s.url('x.gguf')}: the header reaches past byte {HEADER_MAX}, the most read "
                         "of a file for its header")
    assert ASAN or rss <= HEADER_MAX + 32 * MiB, f"{rss / MiB:.1f} MiB"  # before: 359 MiB


# --- 5. sizes only a server can claim ---------------------------------------------------------

Q4_0, Q4_0_ELEMS, Q4_0_BYTES = 2, 32, 18
BIG_ELEMS = 1 << 62  # a tensor of 2^31 x 2^31 elements: 2.6 EB as Q4_0


def big_tensors_header(names, kvs=()):
    """Q4_0 tensors of 2^62 elements each, one after another, and UINT32 metadata `kvs`."""
    h = b"GGUF" + struct.pack("<IQQ", 3, len(names), len(kvs))
    for key, v in kvs:
        h += gguf_string(key.encode()) + struct.pack("<II", 4, v)
    for i, name in enumerate(names):
        h += gguf_string(name.encode()) + struct.pack("<IQQIQ", 2, 1 << 31, 1 << 31, Q4_0,
                                                      i * BIG_ELEMS // Q4_0_ELEMS * Q4_0_BYTES)
    return h + b"\0" * (-len(h) % 32)


def big_file(names, kvs=()):
    head = big_tensors_header(names, kvs)
    return head, len(head) + len(names) * BIG_ELEMS // Q4_0_ELEMS * Q4_0_BYTES


@pytest.mark.parametrize("shards,per_shard", [(1, 5), (2, 4)])
def test_totals_past_2_64_stop_there(shards, per_shard):
    # A remote file's size is the server's word: files of exabytes, whose element counts (and a
    # split model's bytes) pass 2^64. Their totals once wrapped (five tensors of 2^62 elements
    # made 2^62 parameters, at 22.5 bits a weight).
    def files(k):
        split = [("split.no", k), ("split.count", shards)] if shards > 1 else []
        return big_file([f"t{k}.{i}" for i in range(per_shard)], split)

    def answer(s, conn, request, n):
        m = re.search(r"-(\d{5})-of-\d{5}\.gguf ", request)
        return serve(s, conn, request, *files(int(m[1]) - 1 if m else 0))

    with RawServer(answer) as s:
        name = f"m-00001-of-{shards:05d}.gguf" if shards > 1 else "m.gguf"
        p = run(INSPECT, s.url(name), "--json", "--no-metadata", "--no-tensors")
        assert p.returncode == 0, p.stderr
        summary = json.loads(p.stdout)["summary"]
    stored = sum(files(k)[1] - len(files(k)[0]) for k in range(shards))
    elements = shards * per_shard * BIG_ELEMS
    assert elements >= 1 << 64
    assert summary["parameters"] == summary["by_type"][0]["elements"] == (1 << 64) - 1
    assert summary["bytes"] == summary["by_type"][0]["bytes"] == min(stored, (1 << 64) - 1)
