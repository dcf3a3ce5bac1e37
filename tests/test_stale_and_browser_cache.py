"""The edge cache's `stale_if_error` and a client's `Cache-Control: no-cache`, and
`default_cache_control` for browsers: each against real MinIO behind a proxy that can fail it."""
import secrets
import time

import pytest

from conftest import app_env, start_app, stop
from loopback_proxy import BreakingProxy
from test_edge_cache import STATE, fresh_key, get, put

TTL_S = 1
DEFAULT = "public, max-age=31536000, immutable"


@pytest.fixture(scope="module")
def stale_app(spin_cli, minio, app_credentials, tmp_path_factory):
    proxy = BreakingProxy(minio.url)
    env = app_env(minio, app_credentials)
    env["SPIN_VARIABLE_S3_ENDPOINT"] = proxy.url
    env["SPIN_VARIABLE_EDGE_CACHE"] = f"ttl={TTL_S}s stale_if_error=60s"
    env["SPIN_VARIABLE_DEFAULT_CACHE_CONTROL"] = DEFAULT
    app = start_app("spin", env, tmp_path_factory.mktemp("edge-cache-stale"))
    yield app, proxy
    stop(app.proc)
    proxy.close()


@pytest.mark.parametrize("mode", ["503", "reset"])
def test_a_failing_minio_gets_the_stale_copy(stale_app, minio, mode):
    app, proxy = stale_app
    key, body = fresh_key(f"stale-{mode}"), secrets.token_bytes(1500)
    put(minio, key, body)
    assert get(app, key).headers[STATE] == "miss"
    time.sleep(TTL_S + 0.5)
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


def test_the_default_cache_control_only_fills_in(stale_app, minio):
    app, _ = stale_app
    plain, own = fresh_key("default-cc"), fresh_key("own-cc")
    put(minio, plain, b"a" * 10)
    put(minio, own, b"b" * 10, CacheControl="no-cache")
    assert get(app, plain).headers["Cache-Control"] == DEFAULT
    assert get(app, own).headers["Cache-Control"] == "no-cache"
    assert get(app, "edge/not-there-" + secrets.token_hex(4)).headers["Cache-Control"] == "no-store"
    assert get(app, "").headers["Cache-Control"] == "no-cache", "the page keeps its own"
