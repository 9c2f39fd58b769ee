"""Remote files against servers that break HTTP itself, each scripted byte by byte on a loopback
socket (raw_server.py): redirects whose bodies never end, answers that trickle, a status line and
then nothing, header lines of megabytes, bytes after an answer's end, and a server that asks to
be asked again later (429, 503 with Retry-After).

Every one must end in one `error:` line naming the URL and saying what the server did (not
libcurl's words for it), exit 1, within seconds; or, for a retry that is answered, in the output
the file on disk gives.
"""
import os
import sys
import time
from email.utils import formatdate
from pathlib import Path

import numpy as np
import pytest

gguf = pytest.importorskip("gguf")
sys.path.insert(0, str(Path(__file__).parent))
from cli_common import assert_one_error  # noqa: E402
from raw_server import RawServer, asked_range  # noqa: E402
from remote_common import HEXDUMP, INSPECT, ok, run, without_remote, write_model  # noqa: E402

FIXTURE = Path(os.environ["GGUFTK_FIXTURES"]) / "all-types.gguf"
DATA = FIXTURE.read_bytes()  # 192704 bytes: one request reads it all
QUICK = 10  # seconds: every test here ends well within this


def partial(s, conn, request, data=DATA, after=b""):
    """The 206 of the range asked for, then `after` (bytes the answer does not announce)."""
    first, last = asked_range(request)
    last = min(last, len(data) - 1)
    head = f"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {first}-{last}/{len(data)}\r\n" \
           f"Content-Length: {last + 1 - first}\r\n\r\n"
    return s.send(conn, head.encode() + data[first:last + 1] + after)


def redirect_or_file(head, body):
    """/ok/ serves the file; anything else is `head` (a 302 to /ok/...) and then `body`."""
    def answer(s, conn, request, n):
        if request.startswith("GET /ok/"):
            return partial(s, conn, request)
        s.send(conn, head)
        body(s, conn)
        return False
    return answer


def endless(chunk):
    def body(s, conn):
        while s.send(conn, chunk):
            pass
    return body


def trickle(s, conn, step=1, every=0.25):
    """`step` bytes of zeros every `every` seconds, while the client takes them."""
    while s.send(conn, b"\0" * step) and s.wait(every):
        pass


def timed(tool, url, *args, env=None):
    t = time.monotonic()
    p = run(tool, url, *args, env=env, timeout=30)
    return p, time.monotonic() - t


# --- 1. every request has a byte budget, redirect bodies included -------------------------

REDIRECT = b"HTTP/1.1 302 Found\r\nLocation: /ok/x.gguf\r\n"


@pytest.mark.parametrize("head,chunk", [
    (REDIRECT + b"Transfer-Encoding: chunked\r\n\r\n", b"10000\r\n" + b"x" * 65536 + b"\r\n"),
    (REDIRECT + b"Content-Length: 1000000000000000\r\n\r\n", b"x" * 65536),
], ids=["chunked", "content-length-1e15"])
def test_an_endless_redirect_body_meets_the_byte_budget(head, chunk):
    # libcurl reads a redirect's body to throw it away, out of the write callback's sight: before
    # the budget, it read for as long as the server sent.
    with RawServer(redirect_or_file(head, endless(chunk))) as s:
        p, took = timed(INSPECT, s.url("x.gguf"))
        assert_one_error(p, f"error: {s.url('x.gguf')}: ", "the answer to a request for 1048576 bytes ran past",
                         "redirects' included")
        assert took < QUICK


def test_a_redirect_body_within_the_budget_is_read_past():
    body = lambda s, conn: s.send(conn, b"m" * 100000)  # noqa: E731
    with RawServer(redirect_or_file(REDIRECT + b"Content-Length: 100000\r\n\r\n", body)) as s:
        out = ok(INSPECT, s.url("x.gguf"), "--no-metadata")
        assert without_remote(out, s.url("x.gguf"), FIXTURE) == ok(INSPECT, FIXTURE, "--no-metadata")


def test_endless_headers_meet_the_header_limit():
    line = b"X-Filler: " + b"f" * 50 + b"\r\n"
    with RawServer(redirect_or_file(b"HTTP/1.1 302 Found\r\n", endless(line))) as s:
        p, took = timed(INSPECT, s.url("x.gguf"))
        assert_one_error(p, s.url("x.gguf"), "the response headers ran past 64 KiB")
        assert took < QUICK


# --- 2. a trickle meets the lowest speed, and every request a deadline ------------------------

def trickled_206(s, conn, request, n):
    first, last = asked_range(request)
    last = min(last, len(DATA) - 1)
    s.send(conn, f"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {first}-{last}/{len(DATA)}\r\n"
                 f"Content-Length: {last + 1 - first}\r\n\r\n".encode())
    trickle(s, conn)
    return False


def trickled_headers(s, conn, request, n):
    s.send(conn, b"HTTP/1.1 206 Partial Content\r\nX-Slow: ")
    trickle(s, conn)
    return False


SLOW = ["slower than 1024 bytes/s", "--min-speed"]


@pytest.mark.parametrize("answer,words", [
    (trickled_206, SLOW),
    (redirect_or_file(REDIRECT + b"Content-Length: 1000000\r\n\r\n", trickle), SLOW),
    # libcurl passes a header on once its line is whole: to the idle clock, nothing arrives.
    (trickled_headers, ["the response headers came no further for 2 s", "--idle-timeout"]),
], ids=["206-body", "redirect-body", "headers"])
def test_a_trickle_meets_the_lowest_speed(answer, words):
    # 4 bytes a second: each restarts the idle clock, which so never ran out (75 s and counting).
    with RawServer(answer) as s:
        p, took = timed(INSPECT, s.url("x.gguf"), "--idle-timeout", "2")
        assert_one_error(p, f"error: {s.url('x.gguf')}: ", *words)
        assert took < QUICK


def test_the_lowest_speed_is_an_option():
    # 16 KiB a second passes the default, not a lowest speed of 64 KiB/s (by GGUFTK_MIN_SPEED).
    def answer(s, conn, request, n):
        s.send(conn, f"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-{len(DATA) - 1}/{len(DATA)}\r\n"
                     f"Content-Length: {len(DATA)}\r\n\r\n".encode())
        trickle(s, conn, step=4096)
        return False
    with RawServer(answer) as s:
        p, took = timed(INSPECT, s.url("x.gguf"), "--idle-timeout", "1", env={"GGUFTK_MIN_SPEED": "65536"})
        assert_one_error(p, s.url("x.gguf"), "slower than 65536 bytes/s")
        assert took < QUICK


@pytest.mark.parametrize("how", [["--request-timeout", "2"], ["GGUFTK_REQUEST_TIMEOUT=2"]])
def test_a_slow_answer_meets_the_request_timeout(how):
    # Without a lowest speed, only the deadline ends a trickle.
    env = dict(h.split("=") for h in how if "=" in h)
    with RawServer(trickled_206) as s:
        p, took = timed(INSPECT, s.url("x.gguf"), "--min-speed", "0", *[h for h in how if "=" not in h], env=env)
        assert_one_error(p, s.url("x.gguf"), "the request took more than 2 s", "--request-timeout")
        assert took < QUICK


# --- 5. a status line, its Content-Length, and no body ---------------------------------------

@pytest.mark.parametrize("status,words", [
    (206, ["closed after 0 of the 192704 bytes asked for", "HTTP 206 Partial Content"]),
    (200, ["ignored the range request (HTTP 200", "before the 192704 bytes of body"]),
    (404, ["HTTP 404 Not Found", "before the 192704 bytes of body"]),
    (502, ["HTTP 502 Bad Gateway", "before the 192704 bytes of body"]),
])
def test_a_status_then_a_close_names_the_status(status, words):
    def answer(s, conn, request, n):
        s.send(conn, f"HTTP/1.1 {status} Whatever\r\nContent-Range: bytes 0-{len(DATA) - 1}/{len(DATA)}\r\n"
                     f"Content-Length: {len(DATA)}\r\n\r\n".encode())
        return False
    with RawServer(answer) as s:
        for tool in (INSPECT, HEXDUMP):
            p = run(tool, s.url("x.gguf"))
            assert_one_error(p, f"error: {s.url('x.gguf')}: ", *words)
            assert "of the 0 bytes" not in p.stderr


# --- 7. what happened, not libcurl's words for it -------------------------------------------

def test_a_ten_megabyte_header_line():
    def answer(s, conn, request, n):
        s.send(conn, b"HTTP/1.1 206 Partial Content\r\nX-Big: " + b"a" * 10_000_000 + b"\r\n\r\n")
        return False
    with RawServer(answer) as s:
        p = run(INSPECT, s.url("x.gguf"))
        assert_one_error(p, s.url("x.gguf"), "a response header line longer than libcurl reads (100 KiB)")
        assert "memory" not in p.stderr


@pytest.fixture(scope="module")
def two_mib(tmp_path_factory):
    """A model whose tensor data runs past the first read (1 MiB), so a block view asks again."""
    path = tmp_path_factory.mktemp("raw") / "two-mib.gguf"
    write_model(path, [("token_embd.weight", np.arange(64 * 8192, dtype=np.float32).reshape(64, 8192))])
    return path


def test_bytes_after_a_kept_alive_answer(two_mib):
    # The junk is read as the next request's answer, on the same connection: libcurl 7.88 took it
    # for HTTP/0.9. (A libcurl that drops a connection with bytes past an answer reads the block.)
    data = two_mib.read_bytes()
    view = ["--tensor", "token_embd.weight", "--block", "400000"]
    with RawServer(lambda s, conn, request, n: partial(s, conn, request, data, b"junk after the body\r\n\r\n")) as s:
        p = run(HEXDUMP, s.url("x.gguf"), *view)
        # The second request may not have been read by the server yet when the client is done
        # with the junk already waiting in the socket: one or two requests seen, both right.
        assert "HTTP/0.9" not in p.stderr and len(s.requests) in (1, 2)
        if p.returncode == 0:
            assert p.stdout.replace(s.url("x.gguf"), str(two_mib)) == ok(HEXDUMP, two_mib, *view)
        else:
            assert_one_error(p, f"error: {s.url('x.gguf')}: ", "the answer does not begin with an HTTP status line",
                             "the previous answer left open")


# --- 10. 429 and 503 with Retry-After -------------------------------------------------------

def busy(status, retry_after, times):
    """`status` with Retry-After `retry_after` for the first `times` requests, then the file."""
    def answer(s, conn, request, n):
        if len(s.requests) > times:
            return partial(s, conn, request)
        after = f"Retry-After: {retry_after}\r\n" if retry_after is not None else ""
        s.send(conn, f"HTTP/1.1 {status} Busy\r\n{after}Content-Length: 5\r\n\r\nbusy\n".encode())
    return answer


@pytest.mark.parametrize("status,retry_after,times", [
    (503, "1", 1),
    (429, "0", 3),
    (429, formatdate(time.time() - 60, usegmt=True), 1),  # a date already past: at once
])
def test_a_busy_server_is_asked_again(status, retry_after, times):
    with RawServer(busy(status, retry_after, times)) as s:
        t = time.monotonic()
        out = ok(INSPECT, s.url("x.gguf"), "--no-metadata")
        assert without_remote(out, s.url("x.gguf"), FIXTURE) == ok(INSPECT, FIXTURE, "--no-metadata")
        assert len(s.requests) == times + 1
        assert time.monotonic() - t < QUICK
        if retry_after == "1":
            assert time.monotonic() - t >= 1


@pytest.mark.parametrize("status,retry_after,words,requests", [
    (503, "0", ["HTTP 503 Service Unavailable, still after 3 retries"], 4),
    (429, "3600", ["HTTP 429 Too Many Requests: the server asks to retry in 3600 s", "10 s"], 1),
    (503, "6", ["HTTP 503 Service Unavailable, still after 1 retry: the server asks to retry in 6 s"], 2),
    (503, None, ["HTTP 503 Service Unavailable"], 1),
    (503, "soon", ["HTTP 503 Service Unavailable"], 1),
])
def test_a_server_busy_for_too_long(status, retry_after, words, requests):
    with RawServer(busy(status, retry_after, 100)) as s:
        p, took = timed(INSPECT, s.url("x.gguf"))
        assert_one_error(p, f"error: {s.url('x.gguf')}: ", *words)
        assert len(s.requests) == requests
        assert took < QUICK
