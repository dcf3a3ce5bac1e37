"""The health check the chart's probes use (`/.well-known/gif-gateway/health`): answered from the
settings alone, so a MinIO outage leaves the pods ready and clients get a quick 502 instead of a
refused connection. Which keys it and Spin's own `/.well-known/spin/` paths take from the bucket."""
import re
import time

import pytest
import requests

from testkit.hosts import app_env, start_app
from testkit.paths import BUCKET, GIF_KEY, ROOT
from testkit.waits import stop, wait_until

HEALTH = "/.well-known/gif-gateway/health"


def assert_healthy(response):
    assert (response.status_code, response.text) == (200, "ok\n")
    # The gateway's own answer, not a host's (Spin's /.well-known/spin/health has neither).
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"


def test_health_answers_with_minio_stopped(app, minio):
    assert_healthy(app.get(HEALTH))
    minio.stop()
    try:
        for _ in range(3):
            started = time.monotonic()
            response = app.get(HEALTH, timeout=10)
            elapsed = time.monotonic() - started
            assert_healthy(response)
            assert elapsed < 0.5, f"the health check took {elapsed:.2f}s: it waited for MinIO"
        # The premise: MinIO really is gone for the objects.
        assert app.get(f"/{GIF_KEY}", timeout=10).status_code == 502
    finally:
        minio.start()
    wait_until(lambda: app.get(f"/{GIF_KEY}").status_code == 200, 20, "the app to serve again")


def test_health_answers_head(app):
    response = app.get(HEALTH)
    head = requests.head(app.url + HEALTH, timeout=10)
    assert (head.status_code, head.content) == (200, b"")
    assert head.headers["Content-Length"] == response.headers["Content-Length"] == "3"


def test_the_health_key_is_shadowed_and_spins_paths_depend_on_the_host(app, minio):
    s3 = minio.s3(minio.root)
    s3.put_object(Bucket=BUCKET, Key=HEALTH[1:], Body=b"an object named like the health check")
    for path in (HEALTH, "/%2Ewell-known/gif-gateway/%68ealth", HEALTH + "?x=1"):
        assert_healthy(app.get(path))
    # Spin answers everything under /.well-known/spin/ itself, before the component: those keys
    # are unreachable under Spin and SpinKube, and served as objects under wasmtime.
    for name in ("health", "info", "other"):
        key = f".well-known/spin/{name}"
        s3.put_object(Bucket=BUCKET, Key=key, Body=f"object {key}".encode())
        response = app.get(f"/{key}")
        if app.host == "spin":
            assert response.content != f"object {key}".encode(), key
            assert "X-Content-Type-Options" not in response.headers, key
        else:
            assert (response.status_code, response.content) == (200, f"object {key}".encode()), key


@pytest.mark.parametrize("variable, value", [
    ("SPIN_VARIABLE_S3_TIMEOUT_MS", "5"),
    ("SPIN_VARIABLE_EDGE_CACHE", "on"),
    ("SPIN_VARIABLE_CORS_ALLOWED_ORIGINS", "https://a.example/"),
])
def test_health_is_500_while_a_setting_is_invalid(host, minio, app_credentials, tmp_path, variable, value):
    env = app_env(minio, app_credentials)
    env[variable] = value
    app = start_app(host, env, tmp_path, wait=False)
    try:
        # In a list: a 500 Response is falsy, and wait_until waits for a truthy answer.
        [response] = wait_until(lambda: [app.get(HEALTH, timeout=2)], 60, f"{host} to answer")
        assert (response.status_code, response.text) == (500, "gateway is not configured\n")
        name = variable.removeprefix("SPIN_VARIABLE_").lower()
        wait_until(lambda: f"Spin variable '{name}'" in app.logs(), 10, "the log to name the variable")
    finally:
        stop(app.proc)


def test_the_charts_probes_use_the_components_health_check():
    """The path is the component's (src/key.rs) and the probes' (the SpinApp template): one must
    not move without the other, or every pod would go unready (or be probed on an object)."""
    key = re.search(r'pub const HEALTH_KEY: &str = "([^"]+)";', (ROOT / "src" / "key.rs").read_text()).group(1)
    assert "/" + key == HEALTH
    template = (ROOT / "charts" / "gif-gateway" / "templates" / "spinapp.yaml").read_text()
    checks = template.split("  checks:\n", 1)[1].split("\n  variables:", 1)[0]
    assert re.findall(r"httpGet: \{path: ([^,}\s]+)", checks) == [HEALTH, HEALTH], checks
