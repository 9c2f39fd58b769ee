"""Remote files: gguf-inspect and gguf-hexdump over HTTP range requests, against the test
suite's own server (range_server.py) on 127.0.0.1. (Headers larger than the first read, which
make the reader grow its window, are in test_remote_models.py: their models take seconds to make.)

What a remote read shows must be what the same file on disk shows, byte for byte but for the
file's name and the `remote:` report; what it fetches must be the header (and, for a block
view, exactly that block); and every way a server can fail or lie must end in one `error:`
line naming the URL (never its credentials), exit 1, in bounded time and memory.
"""
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

gguf = pytest.importorskip("gguf")
sys.path.insert(0, str(Path(__file__).parent))
from cli_common import assert_one_error  # noqa: E402
from range_server import RangeServer  # noqa: E402
from remote_common import FIRST_READ, HEXDUMP, INSPECT, ok, ranges, run, without_remote, write_model  # noqa: E402

PEAK_RSS = Path(os.environ["GGUFTK_BIN"]) / "test-peak-rss"
FIXTURES = Path(os.environ["GGUFTK_FIXTURES"])


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """The fixtures; a model whose tensor data (16 MiB) lies far past its first read; and a split
    model of three shards written by gguf-py."""
    root = tmp_path_factory.mktemp("served")
    for f in FIXTURES.glob("*.gguf"):
        (root / f.name).symlink_to(f)
    rng = np.random.default_rng(5)
    write_model(root / "big-data.gguf", [("token_embd.weight", rng.standard_normal((64, 65536)).astype(np.float32)),
                                         ("output_norm.weight", np.ones(32, dtype=np.float32))])
    split = [(f"blk.{k}.{n}", a) for k in range(3) for n, a in
             (("attn_q.weight", rng.standard_normal((4, 32)).astype(np.float16)),
              ("attn_norm.weight", np.ones(32, dtype=np.float32)))]
    write_model(root / "split.gguf", split, split_max_tensors=2)
    assert sorted(p.name for p in root.glob("split-*")) == [f"split-0000{k}-of-00003.gguf" for k in (1, 2, 3)]
    return root


@pytest.fixture(scope="module")
def served(models):
    s = RangeServer(models, token="hf_secret_token_123")
    yield s
    s.close()


@pytest.fixture()
def server(served):
    """The module's server, its log emptied for each test."""
    served.log.clear()
    return served



# --- the same output as for the file on disk --------------------------------------------------

@pytest.mark.parametrize("name", ["all-types.gguf", "all-types.ref-f16.gguf", "all-types.ref-f32.gguf", "big-data.gguf"])
@pytest.mark.parametrize("view", [[], ["--json"], ["--markdown"], ["--no-metadata", "--type", "F32"],
                                  ["--json", "--tensors", "*_*.weight,*.weight"]])
def test_remote_output_is_the_local_output(server, models, name, view):
    url = server.url("ok", name)
    remote = ok(INSPECT, url, *view)
    local = ok(INSPECT, models / name, *view)
    assert without_remote(remote, url, models / name) == local
    assert remote != local  # the name and the report do differ


def test_the_report_says_what_was_fetched(server, models):
    url = server.url("redirect", "big-data.gguf")
    d = json.loads(ok(INSPECT, url, "--json"))
    asked = ranges(server.log)
    assert asked == [(0, FIRST_READ - 1)]
    assert d["remote"] == {"bytes_fetched": FIRST_READ, "requests": 1, "redirects": 1}
    text = ok(INSPECT, url, "--no-metadata")
    assert text.splitlines()[1] == f"remote: fetched {FIRST_READ} bytes (1.0 MiB) in 1 request, after 1 redirect"


def test_a_small_file_takes_one_request(server, models):
    ok(INSPECT, server.url("ok", "all-types.gguf"))
    assert ranges(server.log) == [(0, FIRST_READ - 1)]


# --- split models --------------------------------------------------------------------------

def test_remote_split_model_lists_every_shard(server, models):
    local_shards = [models / f"split-0000{k}-of-00003.gguf" for k in (1, 2, 3)]
    for view in ([], ["--json"], ["--markdown"]):
        url = server.url("ok", "split-00002-of-00003.gguf")
        remote = ok(INSPECT, url, "--shards", *view)
        local = ok(INSPECT, local_shards[1], "--shards", *view)
        for k, p in enumerate(local_shards):
            remote = remote.replace(server.url("ok", p.name), str(p))
        assert without_remote(remote, url, local_shards[1]) == local
    # Every shard's header was read, and nothing else was asked for.
    names = {e["path"].rsplit("/", 1)[1] for e in server.log}
    assert names == {p.name for p in local_shards}


def test_remote_split_model_on_the_hub_keeps_the_revision(server, models):
    env = {"HF_ENDPOINT": server.endpoint, "HF_TOKEN": "hf_secret_token_123"}
    d = json.loads(ok(INSPECT, "hf://someone/model/split-00001-of-00003.gguf@v1.0", "--shards", "--json", env=env))
    assert [s["file"] for s in d["summary"]["shards"]] == [
        f"hf://someone/model/split-0000{k}-of-00003.gguf@v1.0" for k in (1, 2, 3)]
    hub = [e["path"] for e in server.log if e["path"].startswith("/hub/")]
    assert hub == [f"/hub/someone/model/resolve/v1.0/split-0000{k}-of-00003.gguf" for k in (1, 2, 3)]
    assert d["remote"]["redirects"] == 3


# --- the Hugging Face hub ------------------------------------------------------------------

def test_hf_location_with_token(server, models):
    env = {"HF_ENDPOINT": server.endpoint + "/", "HF_TOKEN": "hf_secret_token_123"}
    p = run(INSPECT, "hf://owner/repo/all-types.gguf", env=env)
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert out.startswith("hf://owner/repo/all-types.gguf: GGUF v3")
    assert "after 1 redirect" in out.splitlines()[1]
    assert without_remote(out, "hf://owner/repo/all-types.gguf", models / "all-types.gguf") == \
        ok(INSPECT, models / "all-types.gguf")
    assert "hf_secret_token_123" not in p.stdout + p.stderr
    hub = [e for e in server.log if e["path"].startswith("/hub/")]
    assert [e["path"] for e in hub] == ["/hub/owner/repo/resolve/main/all-types.gguf"]
    assert hub[0]["authorization"] == "Bearer hf_secret_token_123"


def test_hf_location_revision_and_path_are_encoded(server):
    env = {"HF_ENDPOINT": server.endpoint, "HF_TOKEN": "hf_secret_token_123"}
    run(INSPECT, "hf://owner/repo/sub dir/all-types.gguf@refs/pr/1", env=env)
    assert server.log[0]["path"] == "/hub/owner/repo/resolve/refs%2Fpr%2F1/sub%20dir/all-types.gguf"


def test_hf_gated_without_token(server):
    p = run(INSPECT, "hf://owner/repo/all-types.gguf", env={"HF_ENDPOINT": server.endpoint})
    assert_one_error(p, "hf://owner/repo/all-types.gguf", "HTTP 401", "HF_TOKEN")
    p = run(INSPECT, "hf://owner/repo/all-types.gguf", env={"HF_ENDPOINT": server.endpoint, "HF_TOKEN": "wrong_one"})
    assert_one_error(p, "HTTP 401")
    assert "wrong_one" not in p.stderr and "HF_TOKEN" not in p.stderr


@pytest.mark.parametrize("bad", ["hf://owner/repo", "hf://owner//x.gguf", "hf://owner/repo/../x.gguf",
                                 "hf://owner/repo/x.gguf@"])
def test_hf_location_malformed(bad):
    assert_one_error(run(INSPECT, bad), "not a Hugging Face location")


@pytest.mark.parametrize("rev", ["..", ".", "refs/../main", "refs//main"])
def test_hf_revision_cannot_leave_resolve(server, rev):
    # "@.." once sent the token to /hub/owner/repo/all-types.gguf, outside resolve/.
    where = f"hf://owner/repo/all-types.gguf@{rev}"
    p = run(INSPECT, where, env={"HF_ENDPOINT": server.endpoint, "HF_TOKEN": "hf_secret_token_123"})
    assert_one_error(p, "not a Hugging Face location", where)
    assert server.log == []


# --- gguf-hexdump ----------------------------------------------------------------------------

def test_hexdump_block_fetches_only_that_block(server, models):
    path = models / "big-data.gguf"
    url = server.url("ok", "big-data.gguf")
    start = json.loads(ok(INSPECT, path, "--json"))["tensors"][0]["offset"] + 1000000 * 4
    assert start > FIRST_READ
    for view in ([], ["--json"], ["--markdown"], ["--count", "3"]):
        server.log.clear()
        remote = ok(HEXDUMP, url, "--tensor", "token_embd.weight", "--block", "1000000", *view)
        assert remote == ok(HEXDUMP, path, "--tensor", "token_embd.weight", "--block", "1000000", *view)
        count = 3 if "--count" in view else 1
        assert ranges(server.log) == [(0, FIRST_READ - 1), (start, start + 4 * count - 1)]


def test_hexdump_row_and_element_fetch_only_their_blocks(server, models):
    """A row is read a piece at a time (53760 columns a piece), each piece its own blocks; an
    element, the one block holding it."""
    path = models / "big-data.gguf"
    url = server.url("ok", "big-data.gguf")
    row = json.loads(ok(INSPECT, path, "--json"))["tensors"][0]["offset"] + 40 * 65536 * 4  # F32, 65536 a row
    piece = 53760 * 4
    for args, want in ((["--row", "40"], [(row, row + piece - 1), (row + piece, row + 65536 * 4 - 1)]),
                       (["--row", "40", "--cols", "100:110", "--json"], [(row + 400, row + 440 - 1)]),
                       (["--row", "40", "--cols", "-3:", "--markdown"], [(row + 65533 * 4, row + 65536 * 4 - 1)]),
                       (["--at", "40,100"], [(row + 400, row + 403)]),
                       (["--element", str(40 * 65536 + 100), "--json"], [(row + 400, row + 403)])):
        server.log.clear()
        remote = ok(HEXDUMP, url, "--tensor", "token_embd.weight", *args)
        assert remote == ok(HEXDUMP, path, "--tensor", "token_embd.weight", *args)
        assert ranges(server.log) == [(0, FIRST_READ - 1)] + want, args


def test_hexdump_header_view(server, models):
    for name in ("all-types.gguf", "big-data.gguf"):
        url = server.url("ok", name)
        for view in ([], ["--json"], ["--markdown"]):
            assert ok(HEXDUMP, url, *view).replace(url, str(models / name)) == ok(HEXDUMP, models / name, *view)


# --- servers that fail or lie ------------------------------------------------------------------

@pytest.mark.parametrize("mode,name,words", [
    ("ignore-range", "big-data.gguf", ["ignored the range request", "HTTP 200"]),
    ("overlong", "all-types.gguf", ["sent more than the 192704 bytes asked for"]),
    ("wrong-range", "all-types.gguf", ["answered bytes 1-192703/192704 to a request for bytes 0-1048575"]),
    ("no-size", "all-types.gguf", ["does not say how large the file is"]),
    ("loop", "all-types.gguf", ["more than 10 redirects"]),
    ("status-404", "all-types.gguf", ["HTTP 404 Not Found"]),
    ("status-403", "all-types.gguf", ["HTTP 403 Forbidden"]),
    ("status-500", "all-types.gguf", ["HTTP 500 Internal Server Error"]),
    ("close-headers", "all-types.gguf", ["closed in the middle of the response headers"]),
    ("close-body", "all-types.gguf", ["closed after 96352 of the 192704 bytes"]),
    ("close-body", "big-data.gguf", ["closed after 524288 of the 1048576 bytes"]),
])
def test_misbehaving_servers(server, mode, name, words):
    url = server.url(mode, name)
    for tool in (INSPECT, HEXDUMP):
        assert_one_error(run(tool, url), f"error: {url}: ", *words)


def test_a_file_that_changes_between_requests(server):
    url = server.url("grows", "big-data.gguf")
    p = run(HEXDUMP, url, "--tensor", "token_embd.weight", "--block", "1000000")
    assert_one_error(p, url, "the file changed on the server")
    assert p.stdout == ""


@pytest.mark.parametrize("mode,how", [("stall", ["--idle-timeout", "1"]), ("stall-body", ["GGUFTK_IDLE_TIMEOUT=1"])])
def test_a_stalling_server_meets_the_idle_timeout(server, mode, how):
    url = server.url(mode, "all-types.gguf")
    env = dict(h.split("=") for h in how if "=" in h)
    t = time.monotonic()
    p = run(INSPECT, url, *[h for h in how if "=" not in h], env=env)
    assert_one_error(p, url, "no data for 1 s", "idle timeout")
    assert time.monotonic() - t < 10


def test_a_server_that_never_accepts_meets_the_connect_timeout():
    import socket
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fill = []  # fill the accept queue: further connections wait for a SYN-ACK that never comes
    for _ in range(3):
        c = socket.socket()
        c.setblocking(False)
        c.connect_ex(("127.0.0.1", port))
        fill.append(c)
    time.sleep(0.2)
    try:
        url = f"http://127.0.0.1:{port}/x.gguf"
        t = time.monotonic()
        p = run(INSPECT, url, env={"GGUFTK_CONNECT_TIMEOUT": "1"})
        assert_one_error(p, url, "cannot connect within 1 s", "connect timeout")
        assert time.monotonic() - t < 10
    finally:
        for c in fill:
            c.close()
        listener.close()


def test_nothing_listening():
    p = run(INSPECT, "http://127.0.0.1:9/x.gguf")
    assert_one_error(p, "http://127.0.0.1:9/x.gguf")


def test_memory_stays_bounded_when_a_server_sends_too_much(server, tmp_path):
    # The server offers 1 GiB past the range asked for; the transfer stops at the first byte too many.
    rss = tmp_path / "rss"
    url = server.url("overlong", "all-types.gguf")
    p = subprocess.run([str(PEAK_RSS), str(rss), str(INSPECT), url], capture_output=True, timeout=60, text=True)
    assert_one_error(p, "sent more than")
    assert int(rss.read_text()) < 64 * 1024  # KiB: far below what was offered


def test_credentials_never_appear(server):
    url = f"http://alice:pa55word@127.0.0.1:{server.port}/status-404/x.gguf?token=t0p"
    shown = f"http://127.0.0.1:{server.port}/status-404/x.gguf?..."
    for tool in (INSPECT, HEXDUMP):
        p = run(tool, url)
        assert_one_error(p, shown, "HTTP 404")
        assert "pa55word" not in p.stderr and "t0p" not in p.stderr
    url = f"http://alice:pa55word@127.0.0.1:{server.port}/ok/all-types.gguf"
    for view in ([], ["--json"], ["--markdown"]):
        out = ok(INSPECT, url, *view)
        assert "pa55word" not in out and "alice" not in out
    # A split model's error about the other shards names the URL without them too.
    p = run(INSPECT, f"http://alice:pa55word@127.0.0.1:{server.port}/ok/all-types.gguf", "--shards")
    assert_one_error(p, "not part of a split model")
    assert "pa55word" not in p.stderr
