"""The access log: one JSON line per request on the component's stdout, with the request id every
answer carries in X-Request-Id, and never a credential, a signature or a query string."""
import re
import secrets
import time
from datetime import datetime, timezone

import pytest
import requests

from testkit.hosts import access_log, access_log_line, component_stdout, serving
from testkit.paths import BUCKET, GIF, GIF_KEY

FIELDS = {"time", "id", "method", "route", "key", "status", "bytes", "ms", "upstream_status", "upstream_ms",
          "cache", "retried"}
GENERATED_ID = re.compile(r"[0-9a-f]{32}")


def new_id() -> str:
    return f"test-{secrets.token_hex(8)}"


def send(app, path="/" + GIF_KEY, method="GET", **headers):
    request_id = headers.pop("request_id", None) or new_id()
    response = requests.request(method, app.url + path, headers={"X-Request-Id": request_id, **headers}, timeout=30)
    assert response.headers["X-Request-Id"] == request_id
    return response, access_log_line(app, request_id)


def test_a_get_is_one_line_with_every_field(app):
    before = datetime.now(timezone.utc)
    response, line = send(app)
    assert response.status_code == 200 and response.content == GIF.read_bytes()
    assert set(line) == FIELDS
    assert line | {"time": None, "id": None, "ms": None, "upstream_ms": None} == {
        "time": None, "id": None, "method": "GET", "route": "object", "key": GIF_KEY, "status": 200,
        "bytes": GIF.stat().st_size, "ms": None, "upstream_status": 200, "upstream_ms": None,
        "cache": None, "retried": False}
    assert 0 < line["upstream_ms"] <= line["ms"] < 30_000
    logged = datetime.fromisoformat(line["time"].replace("Z", "+00:00"))
    assert abs((logged - before).total_seconds()) < 30, (line["time"], before)


def test_a_malformed_or_missing_id_is_replaced_by_a_new_one(app):
    given = []
    for bad in ("has space", "x" * 129, "quote\"d", None):
        headers = {} if bad is None else {"X-Request-Id": bad}
        response = requests.get(f"{app.url}/{GIF_KEY}", headers=headers, timeout=30)
        request_id = response.headers["X-Request-Id"]
        assert GENERATED_ID.fullmatch(request_id), (bad, request_id)
        assert access_log_line(app, request_id)["status"] == 200
        given.append(request_id)
    assert len(set(given)) == len(given), "each request gets an id of its own"


@pytest.mark.parametrize("method, path, headers, expected", [
    ("HEAD", f"/{GIF_KEY}", {}, {"route": "object", "status": 200, "bytes": 0, "upstream_status": 200}),
    ("GET", f"/{GIF_KEY}", {"Range": "bytes=0-9"}, {"status": 206, "bytes": 10, "upstream_status": 206}),
    ("GET", "/no-such-object.gif", {}, {"route": "object", "status": 404, "upstream_status": 404}),
    ("GET", "/a%2F..%2Fb", {}, {"route": "invalid", "key": None, "status": 400, "upstream_status": None}),
    ("GET", "/", {}, {"route": "page", "key": None, "status": 200, "upstream_status": None}),
    ("GET", "/.well-known/gif-gateway/health", {}, {"route": "health", "key": None, "status": 200,
                                                     "bytes": 3, "upstream_status": None}),
    ("DELETE", f"/{GIF_KEY}", {}, {"route": "other", "method": "DELETE", "status": 405, "upstream_status": None}),
], ids=["head", "range", "not-found", "invalid-key", "page", "health", "other-method"])
def test_every_answer_gets_an_id_and_a_line(app, method, path, headers, expected):
    response, line = send(app, path, method, **headers)
    assert response.status_code == expected["status"]
    assert {name: line[name] for name in expected} == expected
    assert line["method"] == method and line["retried"] is False
    if line["bytes"]:
        assert line["bytes"] == len(response.content)


def test_no_query_string_credential_or_signature_reaches_the_log(app, app_credentials):
    secret = secrets.token_hex(12)
    query = f"X-Amz-Signature={secret}&X-Amz-Credential={secret}&X-Amz-Security-Token={secret}"
    response, line = send(app, f"/{GIF_KEY}?{query}", Authorization=f"Bearer {secret}")
    assert response.status_code == 200 and line["key"] == GIF_KEY
    logs = app.logs()
    for forbidden in (secret, app_credentials.access_key, app_credentials.secret_key, "AWS4-HMAC-SHA256",
                      "X-Amz-", "Signature="):
        assert forbidden not in logs, forbidden


def test_a_retried_request_and_an_unreachable_store_are_logged(proxied_app):
    app, proxy = proxied_app
    proxy.mode, proxy.to_break = "reset", 1
    response, line = send(app)
    assert response.status_code == 200
    assert (line["retried"], line["upstream_status"]) == (True, 200)
    proxy.to_break = 2
    try:
        response, line = send(app)
    finally:
        proxy.to_break = 0
    assert response.status_code == 502
    assert (line["status"], line["retried"], line["upstream_status"]) == (502, True, None)
    assert line["upstream_ms"] is not None


def test_a_streamed_object_logs_the_length_its_head_declares(app, minio):
    key, size = f"log/large-{secrets.token_hex(4)}.bin", 6 << 20
    minio.s3(minio.root).put_object(Bucket=BUCKET, Key=key, Body=secrets.token_bytes(size))
    response, line = send(app, f"/{key}")
    assert (response.status_code, len(response.content)) == (200, size)
    assert (line["bytes"], line["upstream_status"]) == (size, 200)


def test_stdout_holds_only_access_log_lines(app):
    send(app)
    files = component_stdout(app)
    assert files, "no stdout file"
    lines = [line for f in files for line in f.read_text().splitlines()]
    assert lines, "no stdout at all"
    assert [line for line in lines if not line.startswith('{"time":')] == []
    assert len(access_log(app)) == len(lines)


def test_access_log_off_prints_nothing_and_a_bad_value_fails_only_the_health_check(
        host, minio, app_credentials, tmp_path):
    (tmp_path / "off").mkdir(), (tmp_path / "bad").mkdir()
    with serving(host, minio, app_credentials, tmp_path / "off", access_log="off") as (app, _):
        response = requests.get(f"{app.url}/{GIF_KEY}", headers={"X-Request-Id": "quiet-1"}, timeout=30)
        assert (response.status_code, response.headers["X-Request-Id"]) == (200, "quiet-1")
        assert app.get("/.well-known/gif-gateway/health").status_code == 200
        time.sleep(1)  # a line, if one were printed, is written before the answer
        assert access_log(app) == []
    with serving(host, minio, app_credentials, tmp_path / "bad", access_log="quiet") as (app, _):
        health = app.get("/.well-known/gif-gateway/health")
        assert health.status_code == 500
        assert "access_log" in app.logs() and "quiet" not in app.logs(), "named, its value never printed"
        response, line = send(app)
        assert response.status_code == 200 and line["status"] == 200, "a typo never silences the log"
