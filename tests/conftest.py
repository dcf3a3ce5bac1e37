"""Fixtures that start the real parts: a MinIO process, the seeder, and the built component
served by each WASI HTTP host: `spin up` (the Spin CLI users run) and `wasmtime serve`. Nothing
here is mocked; what the fixtures and the tests share lives in testkit/.

Every test that uses `app` runs once per host; its id names the host (`test_x[spin]`). Spin is
the CLI on PATH (a user's install; CI puts the project's pinned build from ../shared/spin4/bin
there). Without it the Spin runs are skipped with the reason, unless REQUIRE_SPIN=1 (CI), which
turns a missing Spin into a failure.

Everything listens on 127.0.0.1 ports picked at run time, and every process is stopped at the end.
"""
import secrets

import pytest

from testkit.hosts import HOSTS, SPIN_BIN, app_env, require_spin, serving, start_app
from testkit.minio import Credentials, Minio
from testkit.paths import COMPONENT, COMPOSED, MINIO_BIN, SEEDER_BIN, WASMTIME_BIN
from testkit.seeder import run_seeder
from testkit.waits import stop


@pytest.fixture(scope="session", autouse=True)
def built_artifacts():
    missing = [str(p) for p in (MINIO_BIN, WASMTIME_BIN, SEEDER_BIN, COMPONENT, COMPOSED) if not p.exists()]
    if missing:
        pytest.fail(f"build output missing (run `make test`, which builds first): {missing}")


@pytest.fixture(scope="session")
def minio(tmp_path_factory):
    base = tmp_path_factory.mktemp("minio")
    server = Minio(base / "data", base / "minio.log").start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def app_credentials(minio):
    creds = Credentials("gif-gateway-" + secrets.token_hex(4), secrets.token_urlsafe(24))
    result = run_seeder(minio, creds)
    assert result.returncode == 0, f"seeder failed:\n{result.stdout}\n{result.stderr}"
    return creds


@pytest.fixture(scope="session")
def spin_cli() -> str:
    """The Spin CLI, for the checks that only make sense under Spin (skipped, so named, without it)."""
    require_spin()
    return SPIN_BIN


@pytest.fixture(scope="session", params=HOSTS)
def host(request):
    """The WASI HTTP host a test runs the component under; Spin is skipped (or, with
    REQUIRE_SPIN=1, failed) when it is not installed."""
    if request.param == "spin":
        require_spin()
    return request.param


@pytest.fixture(scope="session")
def app(host, minio, app_credentials, tmp_path_factory):
    app = start_app(host, app_env(minio, app_credentials), tmp_path_factory.mktemp(f"app-{host}"))
    yield app
    stop(app.proc)


@pytest.fixture(scope="module")
def proxied_app(host, minio, app_credentials, tmp_path_factory):
    """The app with MinIO behind a loopback proxy that can break, fail and count what crosses."""
    with serving(host, minio, app_credentials, tmp_path_factory.mktemp(f"app-proxied-{host}"), proxied=True) as both:
        yield both
