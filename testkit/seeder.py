"""The one call of the project's seeder (target/release/seeder): bucket, object and the
GetObject-only user on a MinIO, configured through its environment as in the chart's Job."""

import os
import subprocess

from .paths import BUCKET, GIF, GIF_KEY, SEEDER_BIN


def run_seeder(minio, app, root=None, **overrides) -> subprocess.CompletedProcess:
    """Seed `minio` (a testkit.minio.Minio) with `root` (default: its own root) for the app user
    `app` (Credentials); `overrides` replace any of the seeder's variables (BUCKET=..., ...)."""
    root = root or minio.root
    env = dict(
        os.environ,
        MINIO_ENDPOINT=minio.url, MINIO_ROOT_USER=root.access_key, MINIO_ROOT_PASSWORD=root.secret_key,
        BUCKET=BUCKET, OBJECT_KEY=GIF_KEY, OBJECT_FILE=str(GIF),
        APP_ACCESS_KEY=app.access_key, APP_SECRET_KEY=app.secret_key, READY_TIMEOUT_SECS="20",
    )
    env.update(overrides)
    return subprocess.run([str(SEEDER_BIN)], env=env, capture_output=True, text=True, timeout=120)
