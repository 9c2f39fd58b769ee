"""A loopback server that answers HTTP requests with whatever bytes a test scripts, for the
misbehaviours range_server.py's well-formed responses cannot show (endless redirect bodies, a
trickle, a status line and no body, junk after an answer, a 10 MB header line).

    with RawServer(answer) as s:    # answer(s, conn, request, n): the n-th request (0, 1, ...) on conn
        run(INSPECT, s.url("x.gguf"))

`answer` writes to the socket with `s.send(conn, bytes)`, which gives up (returns False) once the
client has hung up or the server is closing, and waits with `s.wait(seconds)`; it returns False
to close the connection, anything else to keep it for the next request. The server listens on
127.0.0.1 only, at a port the system picks, and stops by itself after `lifetime` seconds (or when
the `with` block ends), so a test that goes wrong still ends.
"""
import re
import socket
import threading
import time


class RawServer:
    def __init__(self, answer, lifetime=20):
        self.answer = answer
        self.requests = []  # (request line, headers) of every request, in order
        self.closing = threading.Event()
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.listener.settimeout(0.05)
        self.port = self.listener.getsockname()[1]
        self.deadline = time.monotonic() + lifetime
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def url(self, name):
        return f"http://127.0.0.1:{self.port}/{name}"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self.closing.set()
        self.thread.join(5)
        self.listener.close()

    def open(self):
        return not self.closing.is_set() and time.monotonic() < self.deadline

    def send(self, conn, data):
        """Writes `data`; False once the client is gone or the server is closing."""
        if not self.open():
            return False
        try:
            conn.sendall(data)
            return True
        except OSError:
            return False

    def wait(self, seconds):
        """Sleeps, but no longer than the server lives; False when it is closing."""
        return not self.closing.wait(max(0.0, min(seconds, self.deadline - time.monotonic())))

    def _serve(self):
        while self.open():
            try:
                conn, _ = self.listener.accept()
            except socket.timeout:
                continue
            threading.Thread(target=self._connection, args=(conn,), daemon=True).start()

    def _connection(self, conn):
        conn.settimeout(0.2)
        buf = b""
        n = 0
        with conn:
            while self.open():
                while b"\r\n\r\n" not in buf:
                    try:
                        chunk = conn.recv(65536)
                    except socket.timeout:
                        if not self.open():
                            return
                        continue
                    except OSError:
                        return
                    if not chunk:
                        return
                    buf += chunk
                head, buf = buf.split(b"\r\n\r\n", 1)
                request = head.decode("latin-1")
                self.requests.append(request)
                conn.settimeout(2)  # a client that stops reading cannot hold the answer forever
                if self.answer(self, conn, request, n) is False:  # False: close the connection
                    return
                conn.settimeout(0.2)
                n += 1


def asked_range(request):
    """(first, last) of a request's Range header."""
    m = re.search(r"\r\nRange: bytes=(\d+)-(\d+)", request, re.IGNORECASE)
    return int(m[1]), int(m[2])
