"""Remote files whose header is larger than the first read, so that the reader must grow its
window: a model written by gguf-py with a 150k-token vocabulary (a 4 MB header), and the bench
model (scripts/make-bench-model: Qwen2.5-0.5B's layout, a 6 MB header, 490 MB in all). Making
them takes seconds, hence a module of its own (CTest label slow).

Each is served by the test suite's server on 127.0.0.1 (range_server.py); the views must be the
local file's, and the reads one contiguous prefix, each larger than the last, that stops within
a step of the header's end: never the tensor data.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("gguf")
sys.path.insert(0, str(Path(__file__).parent))
from cli_common import assert_one_error  # noqa: E402
from range_server import RangeServer  # noqa: E402
from remote_common import FIRST_READ, HEXDUMP, data_offset, INSPECT, ok, ranges, run, without_remote, write_model  # noqa: E402

SOURCE = Path(os.environ["GGUFTK_SOURCE"])
PEAK_RSS = Path(os.environ["GGUFTK_BIN"]) / "test-peak-rss"
N_VOCAB = 150_000


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("served-models")
    rng = np.random.default_rng(9)
    write_model(root / "vocab.gguf", [("token_embd.weight", rng.standard_normal((64, 65536)).astype(np.float32)),
                                      ("output_norm.weight", np.ones(32, dtype=np.float32))], vocab=N_VOCAB)
    subprocess.run([sys.executable, SOURCE / "scripts" / "make-bench-model", root / "bench.gguf", "3"], check=True,
                   capture_output=True)
    return root


@pytest.fixture(scope="module")
def served(models):
    s = RangeServer(models)
    yield s
    s.close()


@pytest.fixture()
def server(served):
    served.log.clear()
    return served



@pytest.mark.parametrize("name", ["vocab.gguf", "bench.gguf"])
@pytest.mark.parametrize("view", [[], ["--json"], ["--markdown"], ["--no-metadata", "--type", "Q8_0"]])
def test_remote_output_is_the_local_output(server, models, name, view):
    url = server.url("ok", name)
    assert without_remote(ok(INSPECT, url, *view), url, models / name) == ok(INSPECT, models / name, *view)


@pytest.mark.parametrize("name", ["vocab.gguf", "bench.gguf"])
def test_the_window_grows_as_the_parser_asks_and_stops_at_the_header(server, models, name):
    path = models / name
    header, size = data_offset(path), path.stat().st_size
    assert header > 3 * FIRST_READ
    d = json.loads(ok(INSPECT, server.url("ok", name), "--json"))
    asked = ranges(server.log)
    # One prefix, read in steps that grow by half the prefix (at least the first read's size).
    assert asked[0] == (0, FIRST_READ - 1)
    for (first0, last0), (first1, last1) in zip(asked, asked[1:]):
        assert first1 == last0 + 1
        assert last1 - first1 + 1 == max(FIRST_READ, (last0 + 1) // 2) or last1 + 1 == size
    end = asked[-1][1] + 1
    assert header <= end <= header + max(FIRST_READ, header // 2)
    assert d["remote"] == {"bytes_fetched": end, "requests": len(asked), "redirects": 0}
    if name == "bench.gguf":
        assert end < size // 50  # the 485 MB of tensor data stay on the server


def test_hexdump_reads_the_header_then_exactly_the_block(server, models):
    path, url = models / "bench.gguf", server.url("ok", "bench.gguf")
    t = next(t for t in json.loads(ok(INSPECT, path, "--json"))["tensors"] if t["name"] == "blk.23.ffn_down.weight")
    assert t["type"] == "Q6_K"
    args = ["--tensor", "blk.23.ffn_down.weight", "--block", "17", "--json"]
    assert ok(HEXDUMP, url, *args) == ok(HEXDUMP, path, *args)
    start = t["offset"] + 17 * 210
    asked = ranges(server.log)
    assert asked[-1] == (start, start + 209)
    assert asked[-2][1] + 1 < data_offset(path) + max(FIRST_READ, data_offset(path) // 2)


def test_a_file_that_changes_while_its_header_is_read(server):
    url = server.url("grows", "vocab.gguf")
    assert_one_error(run(INSPECT, url), url, "the file changed on the server: it had")


def test_memory_stays_bounded_when_a_server_sends_the_whole_file(server, models, tmp_path):
    rss = tmp_path / "rss"
    p = subprocess.run([str(PEAK_RSS), str(rss), str(INSPECT), server.url("ignore-range", "bench.gguf")],
                       capture_output=True, text=True, timeout=60)
    assert_one_error(p, "ignored the range request")
    assert int(rss.read_text()) < 64 * 1024  # KiB, of the 490 MB offered
