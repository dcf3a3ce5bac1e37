"""The edge cache's `stale_if_error` and a client's `Cache-Control: no-cache`, and
`default_cache_control` for browsers: each against real MinIO, stopped, frozen, or behind a proxy
that can fail it. The edge cache needs Spin's key-value store, so its tests run under Spin only;
`default_cache_control` is tested under both hosts."""
import secrets
import signal
import time

import pytest

from test_edge_cache import STATE, fresh_key, get, put
from testkit.hosts import access_log_line, serving
from testkit.waits import wait_until

TTL_S = 1
DEFAULT = "public, max-age=31536000, immutable"


@pytest.fixture(scope="module")
def stale_app(spin_cli, minio, app_credentials, tmp_path_factory):
    with serving("spin", minio, app_credentials, tmp_path_factory.mktemp("edge-cache-stale"), proxied=True,
                 edge_cache=f"ttl={TTL_S}s stale_if_error=60s", default_cache_control=DEFAULT) as both:
        yield both


def cached_and_expired(app, minio, name: str, size: int):
    """A new object, cached by one GET and then left to go stale: (key, body)."""
    key, body = fresh_key(name), secrets.token_bytes(size)
    put(minio, key, body)
    assert get(app, key).headers[STATE] == "miss"
    time.sleep(TTL_S + 0.5)
    return key, body


@pytest.mark.parametrize("mode", ["503", "reset"])
def test_a_failing_minio_gets_the_stale_copy(stale_app, minio, mode):
    app, proxy = stale_app
    key, body = cached_and_expired(app, minio, f"stale-{mode}", 1500)
    proxy.mode, proxy.to_break = mode, 2
    try:
        stale = get(app, key)
    finally:
        proxy.to_break = 0
    assert (stale.status_code, stale.headers[STATE], stale.content) == (200, "stale", body)
    assert "serving a stale copy" in app.logs()
    again = get(app, key)
    assert (again.status_code, again.headers[STATE], again.content) == (200, "revalidated", body)


def test_a_client_no_cache_revalidates_a_fresh_entry(stale_app, minio):
    app, proxy = stale_app
    key, body = fresh_key("no-cache"), secrets.token_bytes(800)
    put(minio, key, body)
    assert get(app, key).headers[STATE] == "miss"
    seen = len(proxy.requests)
    assert get(app, key).headers[STATE] == "hit"
    forced = get(app, key, headers={"Cache-Control": "no-cache"})
    assert (forced.status_code, forced.headers[STATE], forced.content) == (200, "revalidated", body)
    asked = [line for line, _ in proxy.requests[seen:] if key in line]
    assert len(asked) == 1, asked


@pytest.mark.parametrize("outage", ["stopped", "frozen"])
def test_minio_stopped_or_frozen_gets_the_stale_copy(stale_app, minio, outage):
    app, _ = stale_app
    key, body = cached_and_expired(app, minio, f"stale-{outage}", 1200)
    request_id = f"stale-{secrets.token_hex(6)}"
    if outage == "stopped":
        minio.stop()
    else:
        minio.proc.send_signal(signal.SIGSTOP)
    try:
        started = time.monotonic()
        stale = get(app, key, timeout=10, headers={"X-Request-Id": request_id})
        elapsed = time.monotonic() - started
        uncached = get(app, fresh_key("never-cached"), timeout=10)
    finally:
        if outage == "stopped":
            minio.start()
        else:
            minio.proc.send_signal(signal.SIGCONT)
    assert (stale.status_code, stale.headers[STATE], stale.content) == (200, "stale", body)
    # The wait is bounded by s3_timeout_ms (1.5 s by default) when MinIO never answers.
    assert elapsed < 2.0, f"the stale copy took {elapsed:.2f}s"
    assert uncached.status_code == 502, "what the cache never had still fails"
    line = access_log_line(app, request_id)
    assert (line["status"], line["cache"], line["upstream_status"]) == (200, "stale", None)
    wait_until(lambda: get(app, key).headers[STATE] == "revalidated", 20, "MinIO to answer again")


@pytest.fixture(scope="module")
def browser_app(host, minio, app_credentials, tmp_path_factory):
    with serving(host, minio, app_credentials, tmp_path_factory.mktemp(f"browser-cache-{host}"),
                 default_cache_control=DEFAULT) as (app, _):
        yield app


def test_the_default_cache_control_only_fills_in(browser_app, minio):
    app = browser_app
    plain, own = fresh_key("default-cc"), fresh_key("own-cc")
    put(minio, plain, b"a" * 10)
    put(minio, own, b"b" * 10, CacheControl="no-cache")
    assert get(app, plain).headers["Cache-Control"] == DEFAULT
    assert get(app, own).headers["Cache-Control"] == "no-cache"
    assert get(app, "edge/not-there-" + secrets.token_hex(4)).headers["Cache-Control"] == "no-store"
    assert get(app, "").headers["Cache-Control"] == "no-cache", "the page keeps its own"
