"""Records how upstream s3www v1.0.0, the benchmark's comparison target, behaves against this
private bucket: with the gateway's GetObject-only keys it serves nothing (every GET is a 301 to
`<key>/`), so the benchmark has to give it credentials that can also list. See
../shared/anchors/README.md; the binary is not part of the project."""
import os
import subprocess
from pathlib import Path

import pytest
import requests

from testkit.paths import BUCKET, GIF, GIF_KEY, ROOT
from testkit.waits import free_port, sha256, stop, wait_until

S3WWW_BIN = Path(os.environ.get("S3WWW_BIN", ROOT.parent / "shared" / "anchors" / "bin" / "s3www"))


@pytest.fixture
def s3www(minio, tmp_path):
    if not S3WWW_BIN.exists():
        pytest.skip(f"upstream s3www is not at {S3WWW_BIN} (set S3WWW_BIN)")
    procs = []

    def start(creds):
        port = free_port()
        # Credentials through s3www's environment variables, never on the command line.
        env = dict(os.environ, S3WWW_ENDPOINT=minio.url, S3WWW_BUCKET=BUCKET, S3WWW_ADDRESS=f"127.0.0.1:{port}",
                   S3WWW_ACCESS_KEY=creds.access_key, S3WWW_SECRET_KEY=creds.secret_key)
        log = open(tmp_path / f"s3www-{port}.log", "wb")
        procs.append(subprocess.Popen([str(S3WWW_BIN)], env=env, stdout=log, stderr=subprocess.STDOUT))
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: requests.get(url + "/", timeout=2, allow_redirects=False) is not None, 30, "s3www to listen")
        return url

    yield start
    for proc in procs:
        stop(proc)


def test_s3www_cannot_serve_with_getobject_only_keys(s3www, app_credentials):
    url = s3www(app_credentials)
    for key in (GIF_KEY, "no-such-object.gif"):
        response = requests.get(f"{url}/{key}", timeout=10, allow_redirects=False)
        assert response.status_code == 301, (key, response.status_code)
        assert response.headers["Location"].endswith(f"{key}/")


def test_s3www_serves_the_gif_with_root_keys(s3www, minio):
    url = s3www(minio.root)
    response = requests.get(f"{url}/{GIF_KEY}", timeout=10, allow_redirects=False)
    assert response.status_code == 200
    assert sha256(response.content) == sha256(GIF.read_bytes())
