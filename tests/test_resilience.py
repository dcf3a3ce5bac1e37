"""MinIO going away turns into a quick, plain 502; MinIO coming back needs no app restart."""
import signal
import time

from conftest import GIF_KEY, wait_until


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
