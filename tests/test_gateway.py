"""HTTP behaviour of the component, served by a real WASI host in front of a real MinIO."""
import http.client
import time
from urllib.parse import quote, urlsplit

import pytest

from testkit.paths import BUCKET, GIF, GIF_KEY
from testkit.waits import sha256, wait_until


def raw_request(app, method: str, path: str, headers=None):
    """Sends the path byte-for-byte (requests/urllib would normalise `..` away)."""
    parts = urlsplit(app.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    conn.putrequest(method, path, skip_accept_encoding=True)
    for name, value in (headers or {}).items():
        conn.putheader(name, value)
    conn.endheaders()
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response, body


def test_gif_is_served_byte_for_byte(app):
    response = app.get(f"/{GIF_KEY}")
    assert response.status_code == 200
    assert sha256(response.content) == sha256(GIF.read_bytes())
    assert response.headers["Content-Type"] == "image/gif"
    assert response.headers["Content-Length"] == str(GIF.stat().st_size)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    for name in ("ETag", "Last-Modified", "Accept-Ranges"):
        assert name in response.headers, name


def test_index_page_points_at_the_gif(app):
    response = app.get("/")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert f'src="/{GIF_KEY}"' in response.text


def test_each_client_request_makes_exactly_one_request_to_minio(app, minio):
    # MinIO refreshes these counters every few seconds: wait for a snapshot taken after the
    # requests, then check it counted exactly one upstream request per client request.
    wait_until(lambda: minio.get_requests_total() == minio.get_requests_total(), 5, "stable counters")
    time.sleep(11)
    before = minio.get_requests_total()
    for _ in range(5):
        assert app.get(f"/{GIF_KEY}").status_code == 200
    assert app.get("/missing.gif").status_code == 404
    assert app.get("/").status_code == 200  # the page itself needs no object
    counted = wait_until(lambda: (minio.get_requests_total() - before) or None, 30, "MinIO to count the requests", 1)
    time.sleep(11)
    assert minio.get_requests_total() - before == counted == 6


def test_head_has_get_headers_and_no_body(app):
    get = app.get(f"/{GIF_KEY}")
    response, body = raw_request(app, "HEAD", f"/{GIF_KEY}")
    assert response.status == 200
    assert body == b""
    for name in ("Content-Type", "Content-Length", "ETag", "Last-Modified", "Accept-Ranges", "X-Content-Type-Options"):
        assert response.getheader(name) == get.headers[name], name


def test_range_returns_exactly_those_bytes(app):
    response = app.get(f"/{GIF_KEY}", headers={"Range": "bytes=10-99"})
    assert response.status_code == 206
    assert response.content == GIF.read_bytes()[10:100]
    assert response.headers["Content-Range"] == f"bytes 10-99/{GIF.stat().st_size}"
    assert response.headers["Content-Length"] == "90"


def test_unsatisfiable_range_is_416_with_the_size(app):
    size = GIF.stat().st_size
    response = app.get(f"/{GIF_KEY}", headers={"Range": f"bytes={size + 10}-"})
    assert response.status_code == 416
    assert response.headers["Content-Range"] == f"bytes */{size}"
    assert "<?xml" not in response.text


def test_if_none_match_with_the_etag_is_304(app):
    etag = app.get(f"/{GIF_KEY}").headers["ETag"]
    response = app.get(f"/{GIF_KEY}", headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["ETag"] == etag
    assert app.get(f"/{GIF_KEY}", headers={"If-None-Match": '"other"'}).status_code == 200


def test_if_range_with_a_stale_etag_returns_the_whole_object(app):
    # MinIO itself ignores If-Range; the gateway must not.
    response = app.get(f"/{GIF_KEY}", headers={"Range": "bytes=0-9", "If-Range": '"stale"'})
    assert response.status_code == 200
    assert response.content == GIF.read_bytes()
    assert "Content-Range" not in response.headers


def test_if_range_with_the_current_validator_returns_the_range(app):
    full = app.get(f"/{GIF_KEY}")
    size = GIF.stat().st_size
    for validator in (full.headers["ETag"], full.headers["Last-Modified"]):
        response = app.get(f"/{GIF_KEY}", headers={"Range": "bytes=10-99", "If-Range": validator})
        assert response.status_code == 206, validator
        assert response.content == GIF.read_bytes()[10:100]
        assert response.headers["Content-Range"] == f"bytes 10-99/{size}"
        assert response.headers["Content-Length"] == "90"
    suffix = app.get(f"/{GIF_KEY}", headers={"Range": "bytes=-7", "If-Range": full.headers["ETag"]})
    assert suffix.status_code == 206 and suffix.content == GIF.read_bytes()[-7:]
    beyond = app.get(f"/{GIF_KEY}", headers={"Range": f"bytes={size}-", "If-Range": full.headers["ETag"]})
    assert beyond.status_code == 416 and beyond.headers["Content-Range"] == f"bytes */{size}"


def test_if_modified_since_after_upload_is_304(app):
    last_modified = app.get(f"/{GIF_KEY}").headers["Last-Modified"]
    assert app.get(f"/{GIF_KEY}", headers={"If-Modified-Since": last_modified}).status_code == 304


def test_missing_key_is_404_without_s3_details(app):
    response = app.get("/no-such-object.gif")
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("text/plain")
    assert "<?xml" not in response.text and "NoSuchKey" not in response.text
    assert not [h for h in response.headers if h.lower().startswith("x-amz")]
    assert response.headers.get("Server", "") != "MinIO"


@pytest.mark.parametrize("path", [
    "/a/../animation.gif",
    "/%2e%2e/animation.gif",
    "/./animation.gif",
    "/a//b.gif",
    "/dir/",
    "/a%00b",
    "/a%0Ab",
    "/bad%zzescape",
    "/" + "k" * 1025,
])
def test_invalid_keys_are_400(app, path):
    response, body = raw_request(app, "GET", path)
    assert response.status == 400, path
    assert body.startswith(b"invalid object key")


def test_longest_valid_key_is_passed_to_minio(app):
    key = ("k" * 200 + "/") * 5 + "k" * 19  # 1024 bytes; MinIO caps each segment at 255
    assert len(key) == 1024
    response, body = raw_request(app, "GET", "/" + key)
    assert response.status == 404, body


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_other_methods_are_405_with_allow(app, method):
    response, _ = raw_request(app, method, f"/{GIF_KEY}")
    assert response.status == 405
    assert response.getheader("Allow") == "GET, HEAD"


@pytest.mark.parametrize(
    "key", ["with space.gif", "plus+sign.gif", "percent%25.gif", "100% real.gif", "猫/café ünïcode.gif", "a=b&c.gif"]
)
def test_keys_needing_encoding_round_trip(app, minio, key):
    body = f"object {key}".encode()
    minio.s3(minio.root).put_object(Bucket=BUCKET, Key=key, Body=body, ContentType="application/octet-stream")
    response = app.get("/" + quote(key, safe="/"))
    assert response.status_code == 200, response.text
    assert response.content == body
    # MinIO says octet-stream; the extension decides instead.
    assert response.headers["Content-Type"] == "image/gif"
