"""The MinIO every target reads from: started on a loopback port, seeded by the project's seeder
(private bucket, the GIF, a GetObject-only user), and presigned URLs for the rows that need them."""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from testkit import minio
from testkit.seeder import run_seeder
from testkit.waits import free_port

from .config import BUCKET, GIF, GIF_KEY
from .probe import http_get
from .processes import Procs


@dataclass
class Stack:
    work: Path
    procs: Procs
    root_user: str = field(default_factory=lambda: "bench-root-" + secrets.token_hex(4))
    root_password: str = field(default_factory=lambda: secrets.token_hex(16))
    app_key: str = field(default_factory=lambda: "bench-gateway-" + secrets.token_hex(4))
    app_secret: str = field(default_factory=lambda: secrets.token_hex(16))
    port: int = 0
    console_port: int = 0
    proc: subprocess.Popen | None = None

    @property
    def root(self) -> minio.Credentials:
        return minio.Credentials(self.root_user, self.root_password)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> float:
        """Starts MinIO (reusing its data directory) and returns ms until it is ready."""
        if not self.port:
            self.port, self.console_port = free_port(), free_port()
        data = self.work / "minio-data"
        data.mkdir(mode=0o700, exist_ok=True)
        # The command line and environment of every MinIO the project's tests and tools start;
        # the benchmark starts it itself, to time its cold start and measure its process.
        env = dict(os.environ, **minio.environment(self.root))
        started = time.monotonic()
        self.proc = self.procs.start(minio.command(data, self.port, self.console_port),
                                     self.work / "logs" / "minio.log", env)
        deadline = started + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"MinIO exited; see {self.work / 'logs' / 'minio.log'}")
            try:
                status, _, _ = http_get(f"{self.url}/minio/health/ready", timeout=2)
                if status == 200:
                    return (time.monotonic() - started) * 1000
            except OSError:
                pass
            time.sleep(0.002)
        raise RuntimeError("MinIO did not become ready within 60s")

    def stop(self) -> None:
        if self.proc:
            self.procs.stop(self.proc)
            self.proc = None

    def seed(self) -> None:
        """The project's seeder, exactly as `make run` and the Kubernetes Job use it: private
        bucket, the GIF, and the gateway's user allowed s3:GetObject only."""
        done = run_seeder(self, minio.Credentials(self.app_key, self.app_secret), self.root,
                          BUCKET=BUCKET, OBJECT_KEY=GIF_KEY, OBJECT_FILE=str(GIF))
        if done.returncode != 0:
            raise RuntimeError(f"the seeder failed:\n{done.stdout}{done.stderr}")

    def s3_client(self, root: bool = False):
        import botocore.config
        import botocore.session
        return botocore.session.get_session().create_client(
            "s3", endpoint_url=self.url, region_name="us-east-1",
            aws_access_key_id=self.root_user if root else self.app_key,
            aws_secret_access_key=self.root_password if root else self.app_secret,
            config=botocore.config.Config(signature_version="s3v4", s3={"addressing_style": "path"}))

    def put_large(self, key: str, size: int) -> None:
        """A random object of `size` bytes, for the memory-vs-object-size check (test data, uploaded
        with the root key; the seeder provisions, this only adds objects)."""
        path = self.work / "large.bin"
        with open(path, "wb") as f:
            left = size
            while left:
                chunk = os.urandom(min(left, 1 << 20))
                f.write(chunk)
                left -= len(chunk)
        with open(path, "rb") as f:
            self.s3_client(root=True).put_object(Bucket=BUCKET, Key=key, Body=f, ContentLength=size)
        path.unlink()

    def presigned(self, key: str) -> str:
        # wrk repeats this URL; it stays valid for the whole benchmark.
        return self.s3_client().generate_presigned_url(
            "get_object", Params={"Bucket": BUCKET, "Key": key}, ExpiresIn=3600)
