"""CORS (`cors_allowed_origins`): preflights answered by the component without MinIO, the allow
headers only for an allowed Origin, `Vary: Origin` with a list, never credentials, and an edge-cache
entry that never carries one origin's headers to another."""
import secrets

import pytest
import requests

from testkit.hosts import app_env, serving, start_app
from testkit.paths import BUCKET, GIF_KEY
from testkit.waits import stop, wait_until

A, B, LOCAL = "https://a.example", "https://b.example", "http://localhost:8080"
ACAO, ACAC = "Access-Control-Allow-Origin", "Access-Control-Allow-Credentials"
EXPOSED = {"etag", "content-length", "content-range", "accept-ranges", "last-modified", "x-edge-cache",
           "x-request-id"}


@pytest.fixture(scope="module")
def cors_app(host, minio, app_credentials, tmp_path_factory):
    """Two allowed origins, and MinIO behind a proxy that counts what reaches it."""
    # Written the way an operator might: spaces, upper case, a default port.
    origins = f" HTTPS://A.example:443 ,{LOCAL}"
    with serving(host, minio, app_credentials, tmp_path_factory.mktemp(f"cors-{host}"), proxied=True,
                 cors_allowed_origins=origins) as both:
        yield both


@pytest.fixture(scope="module")
def star_app(host, minio, app_credentials, tmp_path_factory):
    with serving(host, minio, app_credentials, tmp_path_factory.mktemp(f"cors-star-{host}"),
                 cors_allowed_origins="*") as (app, _):
        yield app


def preflight(app, origin, method="GET", path=f"/{GIF_KEY}", **headers):
    headers = {"Origin": origin, "Access-Control-Request-Method": method, **headers}
    return requests.options(app.url + path, headers=headers, timeout=10)


def no_cors_headers(response):
    return not [h for h in response.headers if h.lower().startswith("access-control-")]


def vary(response):
    return {v.strip().lower() for v in response.headers.get("Vary", "").split(",") if v.strip()}


def test_a_preflight_is_answered_without_minio(cors_app):
    app, proxy = cors_app
    before = len(proxy.requests)
    for origin, method in ((A, "GET"), (LOCAL, "HEAD")):
        response = preflight(app, origin, method, **{"Access-Control-Request-Headers": "range, if-none-match"})
        assert response.status_code == 204, (response.status_code, response.text)
        assert response.headers[ACAO] == origin
        assert response.headers["Access-Control-Allow-Methods"] == "GET, HEAD"
        allowed = {h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")}
        assert allowed == {"range", "if-none-match", "if-modified-since", "if-range", "x-request-id"}
        assert int(response.headers["Access-Control-Max-Age"]) > 0
        assert "origin" in vary(response)
        assert ACAC not in response.headers and response.content == b""
    assert proxy.requests[before:] == [], "a preflight reached MinIO"


@pytest.mark.parametrize(
    "origin, method", [(B, "GET"), (A + ":8443", "GET"), ("null", "GET"), (A, "PUT"), (A, "DELETE")]
)
def test_a_refused_preflight_gets_no_cors_headers_and_never_reaches_minio(cors_app, origin, method):
    app, proxy = cors_app
    before = len(proxy.requests)
    response = preflight(app, origin, method)
    assert response.status_code == 405 and response.headers["Allow"] == "GET, HEAD"
    assert no_cors_headers(response), response.headers
    assert proxy.requests[before:] == []


def test_without_the_variable_options_is_still_405(app):
    response = preflight(app, A)
    assert response.status_code == 405 and response.headers["Allow"] == "GET, HEAD"
    assert no_cors_headers(response)
    assert "Vary" not in app.get(f"/{GIF_KEY}", headers={"Origin": A}).headers


def test_an_allowed_origin_may_read_and_others_may_not(cors_app, minio):
    app, _ = cors_app
    etag = app.get(f"/{GIF_KEY}").headers["ETag"]
    answers = {
        "200": lambda h: app.get(f"/{GIF_KEY}", headers=h),
        "HEAD": lambda h: requests.head(f"{app.url}/{GIF_KEY}", headers=h, timeout=10),
        "206": lambda h: app.get(f"/{GIF_KEY}", headers={"Range": "bytes=0-9", **h}),
        "304": lambda h: app.get(f"/{GIF_KEY}", headers={"If-None-Match": etag, **h}),
        "404": lambda h: app.get("/no-such-object.gif", headers=h),
        "page": lambda h: app.get("/", headers=h),
    }
    for what, ask in answers.items():
        for origin in (A, LOCAL):
            allowed = ask({"Origin": origin})
            assert allowed.headers.get(ACAO) == origin, (what, origin, allowed.headers)
            assert ACAC not in allowed.headers, what
            assert "origin" in vary(allowed), what
            if what != "page":
                exposed = {h.strip().lower() for h in allowed.headers["Access-Control-Expose-Headers"].split(",")}
                assert exposed == EXPOSED, what
        for headers in ({"Origin": B}, {"Origin": "null"}, {}):
            other = ask(headers)
            assert no_cors_headers(other), (what, headers, other.headers)
            assert "origin" in vary(other), (what, headers)
    ok = answers["200"]({"Origin": A})
    assert ok.status_code == 200 and ok.headers["Content-Type"] == "image/gif"


def test_star_lets_every_origin_read_without_credentials_or_vary(star_app):
    for headers in ({"Origin": B}, {"Origin": "null"}, {}):
        response = star_app.get(f"/{GIF_KEY}", headers=headers)
        assert response.status_code == 200
        assert response.headers[ACAO] == "*"
        assert ACAC not in response.headers
        # The answer is the same for every Origin, so shared caches need not keep one per origin.
        assert "origin" not in vary(response)
    ok = preflight(star_app, B)
    assert (ok.status_code, ok.headers[ACAO]) == (204, "*")
    assert ACAC not in ok.headers
    refused = preflight(star_app, B, "POST")
    assert refused.status_code == 405 and no_cors_headers(refused)


def test_an_invalid_origin_is_a_clear_configuration_error(host, minio, app_credentials, tmp_path):
    env = app_env(minio, app_credentials)
    env["SPIN_VARIABLE_CORS_ALLOWED_ORIGINS"] = f"{A}/path"
    app = start_app(host, env, tmp_path, wait=False)
    try:
        for path in ("/", f"/{GIF_KEY}"):
            # In a list: a 500 Response is falsy, and wait_until waits for a truthy answer.
            [response] = wait_until(lambda path=path: [app.get(path, timeout=2)], 60, f"{host} to answer")
            assert (response.status_code, response.text) == (500, "gateway is not configured\n"), path
        wait_until(lambda: "Spin variable 'cors_allowed_origins' must be" in app.logs(), 10, "the log to say why")
        assert preflight(app, A).status_code == 405
    finally:
        stop(app.proc)


def test_a_cached_entry_does_not_carry_one_origins_headers_to_another(spin_cli, minio, app_credentials, tmp_path):
    """The edge cache (Spin only: wasmtime has no key-value store) keeps the object's headers; the
    CORS headers are the request's own, added to each answer."""
    env = app_env(minio, app_credentials)
    env["SPIN_VARIABLE_EDGE_CACHE"] = "ttl=60s"
    env["SPIN_VARIABLE_CORS_ALLOWED_ORIGINS"] = f"{A},{LOCAL}"
    app = start_app("spin", env, tmp_path)
    try:
        key = f"cors/{secrets.token_hex(4)}.gif"
        minio.s3(minio.root).put_object(Bucket=BUCKET, Key=key, Body=secrets.token_bytes(3000))
        first = app.get(f"/{key}", headers={"Origin": A})
        assert (first.headers["X-Edge-Cache"], first.headers[ACAO]) == ("miss", A)
        other = app.get(f"/{key}", headers={"Origin": B})
        assert other.headers["X-Edge-Cache"] == "hit"
        assert no_cors_headers(other), other.headers
        second = app.get(f"/{key}", headers={"Origin": LOCAL})
        assert (second.headers["X-Edge-Cache"], second.headers[ACAO]) == ("hit", LOCAL)
        plain = app.get(f"/{key}")
        assert plain.headers["X-Edge-Cache"] == "hit" and no_cors_headers(plain)
        assert all("origin" in vary(r) for r in (first, other, second, plain))
    finally:
        stop(app.proc)
