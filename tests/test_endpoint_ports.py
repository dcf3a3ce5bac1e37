"""An endpoint written with its scheme's default port (`http://127.0.0.1:80`) must work like the
same endpoint without it.

Why this needs a real MinIO on port 80: SigV4 signs the Host header, the signer (aws-sigv4) leaves
a default port out of it, and MinIO checks the signature against the Host it received. A client
that sends `Host: 127.0.0.1:80` under a signature for `127.0.0.1` gets `SignatureDoesNotMatch`
(the gateway then answers 404). Only a server actually listening on :80 shows that; on any other
port the port is part of both.

What each run guards (measured with the port kept in the authority): under `wasmtime serve` the
gateway sent `Host: 127.0.0.1:80` and got 404; `spin up` and the seeder's HTTP client (ureq)
leave a default port out of Host themselves, so their runs passed either way. The Spin run still
checks that Spin accepts `http://127.0.0.1:80` in `allowed_outbound_hosts` and lets the
gateway's portless authority through it.

`https://…:443` is not run here: the component's outbound TLS trusts only the host's built-in
roots, so a local MinIO with a private CA cannot be reached over TLS under spin up or wasmtime
serve without changing what the host trusts. The :443 case is the same code path with the other
scheme's default, and s3-request's unit tests cover it: they check that the authority the
gateway sends equals the Host the signer signs, for `https://…:443` as for `http://…:80`.
"""
import errno
import socket

import pytest
import requests

from testkit.hosts import app_env, start_app
from testkit.minio import Credentials, Minio
from testkit.paths import GIF, GIF_KEY
from testkit.seeder import run_seeder
from testkit.waits import stop

ENDPOINT = "http://127.0.0.1:80"


def port_80_unavailable() -> str | None:
    with socket.socket() as s:
        # As MinIO (Go) binds: a connection of an earlier server on :80 left in TIME-WAIT does
        # not make the port unavailable.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", 80))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return "127.0.0.1:80 is taken by another process"
            return f"cannot listen on 127.0.0.1:80 ({exc.strerror}; binding port 80 needs root or CAP_NET_BIND_SERVICE)"
    return None


@pytest.fixture(scope="module")
def minio_on_80(tmp_path_factory):
    reason = port_80_unavailable()
    if reason:
        pytest.skip(reason)
    base = tmp_path_factory.mktemp("minio-80")
    server = Minio(base / "data", base / "minio.log")
    server.port, server.url = 80, ENDPOINT
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def seeded_on_80(minio_on_80):
    """The seeder, pointed at the endpoint as written with :80, prepares this MinIO."""
    creds = Credentials("gif-gateway-80", "port-80-" + "s" * 16)
    result = run_seeder(minio_on_80, creds)
    assert result.returncode == 0, f"seeder at {ENDPOINT} failed:\n{result.stdout}\n{result.stderr}"
    return creds


def test_seeder_accepts_the_default_port(minio_on_80, seeded_on_80):
    # Seeding again is idempotent and verifies the object and the app user's access end to end.
    result = run_seeder(minio_on_80, seeded_on_80)
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    assert "SignatureDoesNotMatch" not in result.stdout + result.stderr


def test_gateway_serves_the_gif_through_the_default_port(host, minio_on_80, seeded_on_80, tmp_path):
    env = app_env(minio_on_80, seeded_on_80)
    assert env["SPIN_VARIABLE_S3_ENDPOINT"] == ENDPOINT
    app = start_app(host, env, tmp_path)
    try:
        got = app.get(f"/{GIF_KEY}")
        assert got.status_code == 200, f"{got.status_code} {got.text[:200]!r}; logs:\n{app.logs()[-2000:]}"
        assert got.content == GIF.read_bytes()
        head = requests.head(f"{app.url}/{GIF_KEY}", timeout=30)
        assert (head.status_code, head.headers.get("content-length")) == (200, str(len(got.content)))
        ranged = app.get(f"/{GIF_KEY}", headers={"Range": "bytes=0-5"})
        assert (ranged.status_code, ranged.content) == (206, b"GIF89a")
    finally:
        stop(app.proc)
