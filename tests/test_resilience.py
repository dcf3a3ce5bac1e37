"""MinIO going away turns into a quick, plain 502; MinIO coming back needs no app restart; a
connection that breaks under a request is retried once on a new one."""
import signal
import time

import pytest
import requests

from testkit.paths import GIF, GIF_KEY
from testkit.waits import sha256, wait_until


def test_minio_down_is_a_fast_502_and_recovery_needs_no_restart(app, minio):
    assert app.get(f"/{GIF_KEY}").status_code == 200
    minio.stop()
    try:
        for path in (f"/{GIF_KEY}", "/other.gif"):
            started = time.monotonic()
            response = app.get(path, timeout=10)
            elapsed = time.monotonic() - started
            assert response.status_code == 502
            assert response.headers["Content-Type"].startswith("text/plain")
            assert len(response.content) < 100 and b"<" not in response.content
            assert elapsed < 2.0, f"502 took {elapsed:.2f}s"
    finally:
        minio.start()
    assert app.proc.poll() is None, "the app must keep running"
    wait_until(lambda: app.get(f"/{GIF_KEY}").status_code == 200, 20, "the app to serve again")


def test_a_hung_minio_is_a_502_within_two_seconds(app, minio):
    """A MinIO that accepts connections but never answers (frozen with SIGSTOP)."""
    assert app.get(f"/{GIF_KEY}").status_code == 200
    minio.proc.send_signal(signal.SIGSTOP)
    try:
        started = time.monotonic()
        response = app.get(f"/{GIF_KEY}", timeout=10)
        elapsed = time.monotonic() - started
    finally:
        minio.proc.send_signal(signal.SIGCONT)
    assert response.status_code == 502
    assert elapsed < 2.0, f"502 took {elapsed:.2f}s"
    wait_until(lambda: app.get(f"/{GIF_KEY}").status_code == 200, 20, "the app to serve again")


@pytest.mark.parametrize("mode", ["close", "reset"])
def test_a_connection_broken_under_the_request_is_retried_once(proxied_app, mode):
    app, proxy = proxied_app
    want = sha256(GIF.read_bytes())
    # Warms Spin's pool: the next request can go out on this kept-alive connection.
    assert app.get(f"/{GIF_KEY}").status_code == 200
    proxy.mode = mode
    for method in ("GET", "HEAD"):
        before = proxy.broken
        proxy.to_break = 1
        response = requests.request(method, f"{app.url}/{GIF_KEY}", timeout=30)
        assert response.status_code == 200, (method, response.status_code, response.text, app.logs()[-2000:])
        assert proxy.broken == before + 1, "the proxy did not break the first attempt"
        if method == "GET":
            assert sha256(response.content) == want
        else:
            assert int(response.headers["Content-Length"]) == GIF.stat().st_size
    assert "sending the request again" in app.logs()


def test_a_store_that_breaks_every_connection_is_a_fast_502_after_two_attempts(proxied_app):
    app, proxy = proxied_app
    proxy.mode = "close"
    before = proxy.broken
    proxy.to_break = 1000
    try:
        started = time.monotonic()
        response = app.get(f"/{GIF_KEY}", timeout=10)
        elapsed = time.monotonic() - started
        attempts = proxy.broken - before
    finally:
        proxy.to_break = 0
    assert response.status_code == 502 and response.text == "object store unavailable\n"
    assert attempts == 2, f"{attempts} attempts reached the store"
    assert elapsed < 2.0, f"502 took {elapsed:.2f}s"
    assert app.get(f"/{GIF_KEY}").status_code == 200

