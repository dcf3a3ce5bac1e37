"""One HTTP request with the standard library, and the cold-start probe (spawn to the first
complete, correct answer)."""

from __future__ import annotations

import http.client
import subprocess
import time
from urllib.parse import urlsplit

from testkit.waits import sha256


def http_get(url: str, timeout: float = 5.0) -> tuple[int, dict, bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        conn.request("GET", target)
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body
    finally:
        conn.close()


def wait_first_response(url: str, proc: subprocess.Popen, started: float, expect_sha: str,
                        timeout: float = 60.0) -> float:
    """Milliseconds from `started` (just before the process was spawned) to the first complete
    200 response with the expected body."""
    deadline = started + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode} before answering")
        try:
            status, _, body = http_get(url, timeout=timeout)
            if status == 200 and sha256(body) == expect_sha:
                return (time.monotonic() - started) * 1000
            last = f"HTTP {status}, {len(body)} bytes"
        except OSError as exc:
            last = repr(exc)
        time.sleep(0.002)
    raise RuntimeError(f"no correct response from {url} within {timeout}s ({last})")
