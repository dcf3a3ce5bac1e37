"""What a security review found in the request path, each shown with the real MinIO behind a
counting proxy, under every host: a one-byte If-Range request must not cost MinIO the object,
If-Modified-Since must not reach MinIO beside If-None-Match, hostile Range values are ignored the
way MinIO ignores them, and an object opened as a document runs no script."""
import secrets

import pytest
import requests

from testkit.paths import BUCKET

BIG = 4 << 20


@pytest.fixture(scope="module")
def big_object(minio):
    key, body = f"hardening/big-{secrets.token_hex(4)}.bin", secrets.token_bytes(BIG)
    minio.s3(minio.root).put_object(Bucket=BUCKET, Key=key, Body=body)
    return key, body


def moved(proxy, request):
    before = proxy.bytes_from_upstream
    response = request()
    return response, proxy.bytes_from_upstream - before


def test_a_one_byte_if_range_request_moves_a_few_bytes_not_the_object(proxied_app, big_object):
    app, proxy = proxied_app
    key, body = big_object
    head = requests.head(f"{app.url}/{key}", timeout=30)
    for validator in (head.headers["ETag"], head.headers["Last-Modified"]):
        response, upstream_bytes = moved(
            proxy, lambda v=validator: app.get(f"/{key}", headers={"Range": "bytes=0-0", "If-Range": v})
        )
        assert response.status_code == 206, (validator, response.status_code)
        assert response.content == body[:1]
        assert response.headers["Content-Range"] == f"bytes 0-0/{BIG}"
        assert upstream_bytes < 16_384, f"{upstream_bytes} bytes came from MinIO for one byte ({validator})"
    # A stale validator: the whole object, fetched once more without the range (RFC 9110 §13.1.5).
    response, upstream_bytes = moved(
        proxy, lambda: app.get(f"/{key}", headers={"Range": "bytes=0-0", "If-Range": '"stale"'})
    )
    assert response.status_code == 200 and response.content == body
    assert upstream_bytes < BIG + 16_384, "the whole object once, not twice"


def test_if_modified_since_does_not_reach_minio_beside_if_none_match(proxied_app, big_object):
    app, proxy = proxied_app
    key, _ = big_object
    last_modified = app.get(f"/{key}", headers={"Range": "bytes=0-0"}).headers["Last-Modified"]
    seen = len(proxy.requests)
    # The ETag does not match, so If-None-Match decides: 200, whatever the date says.
    response = app.get(
        f"/{key}", headers={"If-None-Match": '"other"', "If-Modified-Since": last_modified, "Range": "bytes=0-3"}
    )
    assert response.status_code == 206
    sent = [fields for line, fields in proxy.requests[seen:] if key in line]
    assert sent and all("if-modified-since" not in fields for fields in sent), sent
    assert all(fields.get("if-none-match") == '"other"' for fields in sent), sent


@pytest.mark.parametrize("value", ["bytes=+8-", "bytes=-+5", "bytes= 4-", "bytes=4 -9"])
def test_ranges_that_are_not_digits_are_ignored(app, value, minio):
    key, body = f"hardening/r-{secrets.token_hex(4)}.bin", secrets.token_bytes(100)
    minio.s3(minio.root).put_object(Bucket=BUCKET, Key=key, Body=body)
    response = app.get(f"/{key}", headers={"Range": value})
    assert (response.status_code, response.content) == (200, body), value


def test_an_svg_opened_as_a_document_runs_no_script(app, minio):
    key = f"hardening/{secrets.token_hex(4)}.svg"
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.domain)</script></svg>'
    minio.s3(minio.root).put_object(Bucket=BUCKET, Key=key, Body=svg, ContentType="image/svg+xml")
    response = app.get(f"/{key}")
    assert response.status_code == 200 and response.headers["Content-Type"] == "image/svg+xml"
    policy = response.headers["Content-Security-Policy"]
    assert "sandbox" in policy and "default-src 'none'" in policy and "script" not in policy, policy
    # The page's own policy is unchanged: it shows the image and nothing else.
    assert "img-src 'self'" in app.get("/").headers["Content-Security-Policy"]
