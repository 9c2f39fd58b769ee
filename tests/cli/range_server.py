"""A small HTTP server for the remote-file tests: files from one directory, served with byte
ranges on 127.0.0.1 at a port the system picks, and misbehaving on request.

The first segment of a path says how the server behaves; the rest names the file:

    /ok/NAME            206 Partial Content of the range asked for (200 without a Range)
    /ignore-range/NAME  200 and the whole file, whatever the Range
    /overlong/NAME      the right Content-Range, then more bytes than it says (no Content-Length:
                        the range, then up to 1 GiB of zeros until the client hangs up)
    /wrong-range/NAME   a Content-Range starting one byte after the range asked for
    /no-size/NAME       Content-Range bytes A-B/* (no size)
    /grows/NAME         the file's size one byte larger on every request
    /redirect/NAME      302 to /ok/NAME
    /loop/NAME          302 to itself, forever
    /status-N/NAME      HTTP N (404, 403, 500...)
    /close-headers/NAME half a status line and header, then the connection closed
    /close-body/NAME    the right headers, half the body, then the connection closed
    /stall/NAME         reads the request and never answers
    /stall-body/NAME    the right headers and half the body, then nothing
    /hub/OWNER/REPO/resolve/REVISION/NAME
                        the Hugging Face hub: 401 unless the token (when one is set) comes as a
                        bearer token, else 302 to /ok/NAME (the hub redirects to its storage)

Every request is logged (path, Range and Authorization headers) for the tests to inspect.
Nothing here listens beyond 127.0.0.1.
"""
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote


class RangeServer:
    def __init__(self, root, token=None):
        self.root = Path(root)
        self.token = token
        self.log = []
        self.release = threading.Event()  # ends the stalls
        self._grows = 0
        server = self

        class Handler(_Handler):
            owner = server

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def url(self, mode, name):
        return f"http://127.0.0.1:{self.port}/{mode}/{name}"

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}/hub"

    def close(self):
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


_RANGE = re.compile(r"bytes=(\d+)-(\d+)$")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    owner = None  # the RangeServer, set by the subclass

    def log_message(self, *args):  # quiet
        pass

    def handle(self):
        try:
            super().handle()
        except (ConnectionResetError, BrokenPipeError):
            pass  # the client hung up: what it does when an answer is wrong

    def do_GET(self):
        srv = self.owner
        rng = self.headers.get("Range")
        srv.log.append({"path": self.path, "range": rng, "authorization": self.headers.get("Authorization")})
        parts = unquote(self.path).lstrip("/").split("/", 1)
        if len(parts) != 2:
            return self.plain(404)
        mode, name = parts
        if mode == "hub":
            return self.hub(name)
        path = srv.root / name
        if mode == "loop":
            return self.redirect(self.path)
        if mode == "redirect":
            return self.redirect(f"/ok/{name}")
        if mode.startswith("status-"):
            return self.plain(int(mode[7:]))
        if mode == "stall":
            srv.release.wait(120)
            return self.close_now()
        if mode == "close-headers":
            self.wfile.write(b"HTTP/1.1 206 Partial Content\r\nContent-Ra")
            self.wfile.flush()
            return self.close_now()
        if not path.is_file():
            return self.plain(404)
        size = path.stat().st_size
        m = _RANGE.match(rng or "")
        if mode == "ignore-range" or not m:
            return self.send_file(200, path, 0, size, {})
        first, last = int(m[1]), min(int(m[2]), size - 1)
        if first >= size:
            return self.send_body(416, b"", {"Content-Range": f"bytes */{size}"})
        total = str(size)
        if mode == "grows":
            srv._grows += 1
            total = str(size + srv._grows)
        if mode == "no-size":
            total = "*"
        shown_first, shown_last = first, last
        if mode == "wrong-range":
            shown_first = first + 1
        headers = {"Content-Range": f"bytes {shown_first}-{shown_last}/{total}"}
        if mode == "overlong":  # the range, then zeros for as long as the client takes them
            headers["Connection"] = "close"
            return self.send_file(206, path, first, last + 1 - first, headers, length=False, then_zeros=1 << 30)
        if mode in ("close-body", "stall-body"):
            self.send_response(206)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(last + 1 - first))
            self.end_headers()
            with open(path, "rb") as f:
                f.seek(first)
                self.wfile.write(f.read((last + 1 - first) // 2))
            self.wfile.flush()
            if mode == "stall-body":
                srv.release.wait(120)
            return self.close_now()
        return self.send_file(206, path, first, last + 1 - first, headers)

    def hub(self, rest):
        m = re.match(r"([^/]+)/([^/]+)/resolve/([^/]+)/(.+)$", rest)
        if not m:
            return self.plain(404)
        token = self.owner.token
        if token and self.headers.get("Authorization") != f"Bearer {token}":
            return self.plain(401)
        return self.redirect(f"/ok/{m[4]}")

    def send_body(self, status, body, headers):
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def send_file(self, status, path, start, n, headers, length=True, then_zeros=0):
        """n bytes of `path` from `start`, streamed (a whole large file never sits in memory)."""
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        if length:
            self.send_header("Content-Length", str(n))
        self.end_headers()
        try:
            with open(path, "rb") as f:
                f.seek(start)
                while n > 0:
                    chunk = f.read(min(n, 1 << 16))
                    if not chunk:
                        break
                    self.wfile.write(chunk)
                    n -= len(chunk)
            zeros = b"\0" * (1 << 16)
            while then_zeros > 0:
                self.wfile.write(zeros)
                then_zeros -= len(zeros)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass
        if not length or status != 206:
            self.close_connection = True

    def plain(self, status):
        self.send_body(status, f"status {status}\n".encode(), {"Content-Type": "text/plain"})

    def redirect(self, location):
        self.send_body(302, b"", {"Location": location})

    def close_now(self):
        self.close_connection = True
