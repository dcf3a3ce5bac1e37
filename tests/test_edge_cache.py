"""The opt-in edge cache: the `edge_cache` variable puts Spin's default key-value store in front
of MinIO (src/cache.rs has the rules, src/edge_cache.rs the glue). Real Spin and real MinIO; a
plain WASI host (the wasmtime composition) has no store, so there the cache stays off."""
import secrets
import time

import pytest
import requests

from testkit.hosts import app_env, serving, start_app
from testkit.paths import BUCKET, GIF_KEY
from testkit.waits import stop

TTL_S = 3
STATE = "x-edge-cache"


@pytest.fixture(scope="module")
def cached_app(spin_cli, minio, app_credentials, tmp_path_factory):
    with serving("spin", minio, app_credentials, tmp_path_factory.mktemp("edge-cache"),
                 edge_cache=f"ttl={TTL_S}s max=8MiB") as (app, _):
        yield app


@pytest.fixture(scope="module")
def proxied_cached_app(spin_cli, minio, app_credentials, tmp_path_factory):
    """The cached app with MinIO behind a proxy that counts requests and can fail them."""
    with serving("spin", minio, app_credentials, tmp_path_factory.mktemp("edge-cache-proxied"), proxied=True,
                 edge_cache=f"ttl={TTL_S}s max=8MiB") as both:
        yield both


def put(minio, key: str, body: bytes, **extra):
    minio.s3(minio.root).put_object(Bucket=BUCKET, Key=key, Body=body, **extra)


def fresh_key(prefix: str) -> str:
    return f"edge/{prefix}-{secrets.token_hex(4)}"


def get(app, key, **kwargs):
    return app.get(f"/{key}", **kwargs)


def test_off_unless_the_variable_turns_it_on(app):
    for _ in range(2):
        response = get(app, GIF_KEY)
        assert response.status_code == 200
        assert STATE not in response.headers


def test_a_hit_is_served_without_minio(cached_app, minio):
    key, body = fresh_key("hit"), secrets.token_bytes(5000)
    put(minio, key, body)
    first = get(cached_app, key)
    assert (first.status_code, first.headers.get(STATE), first.content) == (200, "miss", body)
    # Gone from MinIO: only an answer that never asks MinIO can still be 200 with the bytes.
    minio.s3(minio.root).delete_object(Bucket=BUCKET, Key=key)
    deleted_at = time.monotonic()
    for _ in range(5):
        hit = get(cached_app, key)
        assert (hit.status_code, hit.headers.get(STATE), hit.content) == (200, "hit", body)
        assert hit.headers["ETag"] == first.headers["ETag"]
    # Once stale, the entry is checked with MinIO, which says the object is gone: so is the entry.
    time.sleep(max(0.0, deleted_at + TTL_S + 0.5 - time.monotonic()))
    for _ in range(2):
        gone = get(cached_app, key)
        assert gone.status_code == 404 and STATE not in gone.headers


def test_keys_never_mix(spin_cli, minio, app_credentials, tmp_path):
    # max=1MiB is one slot: every key maps to the same store entry, so keys that share prefixes,
    # suffixes and lengths evict each other, and the entry's identity is all that keeps them apart.
    env = app_env(minio, app_credentials)
    env["SPIN_VARIABLE_EDGE_CACHE"] = "ttl=60s max=1MiB"
    app = start_app("spin", env, tmp_path)
    try:
        base = fresh_key("mix")
        keys = [f"{base}/a", f"{base}/b", f"{base}/a.gif", f"{base}/a/b", f"{base}/A"]
        bodies = {key: key.encode() * 100 + secrets.token_bytes(64) for key in keys}
        for key in keys:
            put(minio, key, bodies[key])
        for round_ in range(2):
            for key in keys:
                for state in ("miss", "hit"):  # the second request of a key finds its own entry
                    response = get(app, key)
                    assert response.status_code == 200, key
                    assert response.content == bodies[key], f"round {round_}: {key} got another object's bytes"
                    assert response.headers[STATE] == state, key
    finally:
        stop(app.proc)


def test_a_changed_object_is_served_fresh_within_ttl_plus_one_second(cached_app, minio):
    key = fresh_key("changed")
    put(minio, key, b"version one\n")
    assert get(cached_app, key).content == b"version one\n"
    put(minio, key, b"version two\n")
    changed_at = time.monotonic()
    stale = get(cached_app, key)
    # Within the TTL the cache may answer from its entry: it does, so the check below is not
    # passed by a cache that does nothing.
    assert (stale.headers[STATE], stale.content) == ("hit", b"version one\n")
    time.sleep(max(0.0, changed_at + TTL_S + 1 - time.monotonic()))
    fresh = get(cached_app, key)
    assert fresh.status_code == 200
    assert fresh.content == b"version two\n", f"still stale {TTL_S + 1} s after the change"
    assert fresh.headers[STATE] in ("miss", "revalidated")
    assert get(cached_app, key).headers[STATE] == "hit", "the new version must be cached again"


def test_revalidation_304_keeps_the_entry(cached_app, minio):
    key, body = fresh_key("revalidate"), secrets.token_bytes(3000)
    put(minio, key, body)
    assert get(cached_app, key).headers[STATE] == "miss"
    time.sleep(TTL_S + 0.5)
    again = get(cached_app, key)
    assert (again.status_code, again.headers[STATE], again.content) == (200, "revalidated", body)
    assert get(cached_app, key).headers[STATE] == "hit"


def test_ranges_conditionals_and_head_are_answered_from_the_entry(cached_app, minio):
    key, body = fresh_key("range"), secrets.token_bytes(4096)
    put(minio, key, body)
    etag = get(cached_app, key).headers["ETag"]
    part = get(cached_app, key, headers={"Range": "bytes=10-99"})
    assert (part.status_code, part.headers[STATE], part.content) == (206, "hit", body[10:100])
    assert part.headers["Content-Range"] == f"bytes 10-99/{len(body)}"
    suffix = get(cached_app, key, headers={"Range": "bytes=-5"})
    assert (suffix.status_code, suffix.content) == (206, body[-5:])
    beyond = get(cached_app, key, headers={"Range": f"bytes={len(body) + 10}-"})
    assert beyond.status_code == 416
    assert beyond.headers["Content-Range"] == f"bytes */{len(body)}"
    not_modified = get(cached_app, key, headers={"If-None-Match": etag})
    assert (not_modified.status_code, not_modified.headers[STATE], not_modified.content) == (304, "hit", b"")
    other = get(cached_app, key, headers={"If-None-Match": '"not-this-one"'})
    assert (other.status_code, other.content) == (200, body)
    # If-Range with another validator: the whole object, not the range.
    whole = get(cached_app, key, headers={"Range": "bytes=0-9", "If-Range": '"not-this-one"'})
    assert (whole.status_code, whole.content) == (200, body)
    head = requests.head(f"{cached_app.url}/{key}", timeout=10)
    assert (head.status_code, head.headers[STATE], head.headers["Content-Length"]) == (200, "hit", str(len(body)))


def test_a_bad_setting_is_a_clear_configuration_error(spin_cli, minio, app_credentials, tmp_path):
    env = app_env(minio, app_credentials)
    env["SPIN_VARIABLE_EDGE_CACHE"] = "on"
    app = start_app("spin", env, tmp_path)
    try:
        response = get(app, GIF_KEY)
        assert (response.status_code, response.text) == (500, "gateway is not configured\n")
        assert (
            "Spin variable 'edge_cache' must be `off` or `ttl=<duration> [max=<size>] [stale_if_error=<duration>]`"
            in app.logs()
        )
    finally:
        stop(app.proc)


def test_a_host_without_key_value_serves_uncached(minio, app_credentials, tmp_path):
    env = app_env(minio, app_credentials)
    env["SPIN_VARIABLE_EDGE_CACHE"] = f"ttl={TTL_S}s"
    app = start_app("wasmtime", env, tmp_path)
    try:
        for _ in range(2):
            response = get(app, GIF_KEY)
            assert response.status_code == 200 and STATE not in response.headers
        assert "edge cache is on but the default key-value store is unavailable" in app.logs()
    finally:
        stop(app.proc)


def test_a_metadata_only_change_reaches_the_cached_headers(cached_app, minio):
    """RFC 9111 §4.3.4: the 304 of a revalidation updates the stored headers. A change of
    Cache-Control in MinIO keeps the ETag, so only the 304's headers can tell the cache."""
    key, body = fresh_key("meta"), secrets.token_bytes(2000)
    put(minio, key, body, CacheControl="max-age=60", ContentType="image/gif")
    first = get(cached_app, key)
    assert (first.headers[STATE], first.headers["Cache-Control"]) == ("miss", "max-age=60")
    s3 = minio.s3(minio.root)
    s3.copy_object(Bucket=BUCKET, Key=key, CopySource={"Bucket": BUCKET, "Key": key},
                   MetadataDirective="REPLACE", CacheControl="no-store", ContentType="image/webp")
    now = s3.head_object(Bucket=BUCKET, Key=key)
    assert now["ETag"] == first.headers["ETag"], "the premise: same ETag"
    time.sleep(TTL_S + 0.5)
    revalidated = get(cached_app, key)
    assert (revalidated.status_code, revalidated.headers[STATE], revalidated.content) == (200, "revalidated", body)
    assert revalidated.headers["Cache-Control"] == "no-store"
    # MinIO's 304 carries Cache-Control, ETag and Last-Modified but no Content-Type: what it
    # carries is what the entry can learn.
    assert revalidated.headers["Last-Modified"] == now["ResponseMetadata"]["HTTPHeaders"]["last-modified"]
    # no-store now: nothing may be kept, so no later request is a hit.
    for _ in range(2):
        later = get(cached_app, key)
        assert later.headers.get(STATE) != "hit" and later.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("value", ["bytes=+8-", "bytes=-+5", "bytes= 4-"])
def test_a_hit_ignores_a_range_minio_ignores(cached_app, minio, value):
    key, body = fresh_key("hostile-range"), secrets.token_bytes(100)
    put(minio, key, body)
    assert get(cached_app, key).headers[STATE] == "miss"
    hit = get(cached_app, key, headers={"Range": value})
    assert (hit.status_code, hit.headers[STATE], hit.content) == (200, "hit", body), value


def test_a_hostile_date_on_a_hit_is_ignored(cached_app, minio):
    key, body = fresh_key("hostile-date"), secrets.token_bytes(100)
    put(minio, key, body)
    assert get(cached_app, key).headers[STATE] == "miss"
    for date in ("Sun, 06 Nov 9223372036854775807 08:49:37 GMT", "Sun, 06 Nov 0000 08:49:37 GMT"):
        hit = get(cached_app, key, headers={"If-Modified-Since": date})
        assert (hit.status_code, hit.headers[STATE], hit.content) == (200, "hit", body), date


def test_a_failed_revalidation_asks_minio_once(proxied_cached_app, minio):
    """An overloaded store (503) during a revalidation gets one request, and the client its answer."""
    app, proxy = proxied_cached_app
    key, body = fresh_key("revalidate-503"), secrets.token_bytes(2000)
    put(minio, key, body)
    assert get(app, key).headers[STATE] == "miss"
    time.sleep(TTL_S + 0.5)
    seen = len(proxy.requests)
    proxy.mode, proxy.to_break = "503", 1
    try:
        failed = get(app, key)
    finally:
        proxy.to_break = 0
    asked = [line for line, _ in proxy.requests[seen:] if key in line]
    assert len(asked) == 1, f"MinIO was asked {len(asked)} times: {asked}"
    assert (failed.status_code, failed.text) == (502, "object store error\n")
    # The entry was kept (stale), and the next check with a healthy store confirms it.
    again = get(app, key)
    assert (again.status_code, again.headers[STATE], again.content) == (200, "revalidated", body)
