"""A loopback TCP proxy in front of the real MinIO, for the tests that break connections or
count what crosses between the gateway and MinIO. Standard library only."""
import socket
import struct
import threading
from urllib.parse import urlsplit


class BreakingProxy:
    """A loopback TCP proxy in front of the real MinIO that breaks connections the way a MinIO pod
    going away does (a node drained, a rolling update): while `to_break` is above zero, the next
    request to arrive, on a new or a kept-alive connection, is read and its connection closed
    without an answer (`mode` "close": FIN; "reset": RST; "503": a 503 answer, as an overloaded
    store gives)."""

    def __init__(self, upstream_url: str):
        parts = urlsplit(upstream_url)
        self.upstream = (parts.hostname, parts.port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.mode, self.to_break, self.broken = "close", 0, 0
        # What went through, for the tests that count: the bytes MinIO sent back, and the
        # request heads (start line and headers, lower-cased names) in arrival order.
        self.bytes_from_upstream = 0
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client):
        upstream = None
        try:
            while data := client.recv(65536):
                with self.lock:
                    breaking = self.to_break > 0
                    if breaking:
                        self.to_break -= 1
                        self.broken += 1
                if breaking:
                    self._record(data)
                    if self.mode == "503":
                        client.sendall(
                            b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        )
                    if self.mode == "reset":
                        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    return
                if upstream is None:
                    upstream = socket.create_connection(self.upstream)
                    threading.Thread(target=self._pipe, args=(upstream, client), daemon=True).start()
                self._record(data)
                upstream.sendall(data)
        except OSError:
            pass
        finally:
            client.close()
            if upstream is not None:
                upstream.close()

    def _record(self, data: bytes):
        """Keeps the heads of the requests in `data` (GET/HEAD carry no body, so every head
        starts a segment of its own or follows the previous head's blank line)."""
        for head in data.split(b"\r\n\r\n"):
            lines = head.decode("latin-1").split("\r\n")
            if not lines[0].startswith(("GET ", "HEAD ")):
                continue
            fields = dict(line.split(":", 1) for line in lines[1:] if ":" in line)
            with self.lock:
                self.requests.append((lines[0], {k.strip().lower(): v.strip() for k, v in fields.items()}))

    def _pipe(self, source, sink):
        try:
            while data := source.recv(65536):
                with self.lock:
                    self.bytes_from_upstream += len(data)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        self.listener.close()
