"""The one MinIO launcher of the tests and tools: a real `minio server` on loopback ports, its
root from the environment or (as in the chart's replica pods) from files, restartable on the same
port and data. `make run` starts its MinIO through this module too:

    python3 -m testkit.minio exec DATA_DIR --port 9000 --console-port 9001

replaces itself with that MinIO (same pid, for the caller's job control), with the same command
line and environment every other user of this module gets. Standard library only."""

import argparse
import os
import secrets
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from .paths import MINIO_BIN
from .waits import free_port, http_status, stop, wait_until


@dataclass
class Credentials:
    access_key: str
    secret_key: str


def command(data_dir, port: int, console_port: int) -> list[str]:
    return [str(MINIO_BIN), "server", "--quiet", "--address", f"127.0.0.1:{port}",
            "--console-address", f"127.0.0.1:{console_port}", str(data_dir)]


def environment(root: Credentials | None = None, root_files: Path | None = None, public_metrics: bool = False,
                home: Path | None = None) -> dict:
    """MinIO's environment on top of the caller's: no console UI, no update check (nothing here
    may reach the internet), the root from `root` or from `root_files`/rootUser and rootPassword,
    and, with `public_metrics`, Prometheus metrics without a bearer token (loopback test servers only)."""
    env = {"MINIO_BROWSER": "off", "MINIO_UPDATE": "off"}
    if root_files:
        env.update(MINIO_ROOT_USER_FILE=f"{root_files}/rootUser", MINIO_ROOT_PASSWORD_FILE=f"{root_files}/rootPassword")
    elif root:
        env.update(MINIO_ROOT_USER=root.access_key, MINIO_ROOT_PASSWORD=root.secret_key)
    if public_metrics:
        env["MINIO_PROMETHEUS_AUTH_TYPE"] = "public"
    if home:
        env["HOME"] = str(home)
    return env


class Minio:
    """A MinIO server on a loopback port. `root` defaults to fresh random credentials, unless the
    root comes from `root_files` (read back into `root` for the caller)."""

    def __init__(self, data_dir: Path, log_path: Path, root: Credentials | None = None,
                 root_files: Path | None = None, public_metrics: bool = True, home: Path | None = None):
        self.data_dir, self.log_path = Path(data_dir), Path(log_path)
        self.port, self.console_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        if root_files:
            root = Credentials(*((Path(root_files) / f).read_text().strip() for f in ("rootUser", "rootPassword")))
        self.root = root or Credentials("root-" + secrets.token_hex(4), secrets.token_urlsafe(24))
        self.env = environment(None if root_files else self.root, root_files, public_metrics, home)
        self.proc = None

    def start(self, wait: bool = True):
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(command(self.data_dir, self.port, self.console_port),
                                         env={**os.environ, **self.env}, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        if wait:
            self.wait_ready()
        return self

    def ready(self) -> bool:
        return http_status(f"{self.url}/minio/health/ready", timeout=1)[0] == 200

    def wait_ready(self, timeout: float = 60):
        wait_until(self.ready, timeout, f"MinIO on {self.url} ready (log: {self.log_path})", interval=0.2)

    def stop(self):
        if self.proc:
            stop(self.proc, group=True)
            self.proc = None

    def s3(self, creds: Credentials):
        import boto3  # the test venv's; the scripts that use this module without it never call s3()
        from botocore.config import Config

        return boto3.client(
            "s3", endpoint_url=self.url, region_name="us-east-1",
            aws_access_key_id=creds.access_key, aws_secret_access_key=creds.secret_key,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}, signature_version="s3v4"),
        )

    def get_requests_total(self) -> float:
        """Sum of GetObject/HeadObject requests MinIO has counted (its own Prometheus metrics)."""
        status, text = http_status(f"{self.url}/minio/v2/metrics/node", timeout=5)
        assert status == 200, f"MinIO metrics: HTTP {status}"
        total = 0.0
        for line in text.splitlines():
            if line.startswith("minio_s3_requests_total{") and (
                'api="getobject"' in line or 'api="headobject"' in line
            ):
                total += float(line.rsplit(" ", 1)[1])
        return total


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m testkit.minio", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    ex = sub.add_parser("exec", help="become MinIO serving DATA_DIR on loopback (root from MINIO_ROOT_USER/PASSWORD)")
    ex.add_argument("data_dir", type=Path)
    ex.add_argument("--port", type=int, required=True)
    ex.add_argument("--console-port", type=int, required=True)
    args = ap.parse_args(argv)
    if not MINIO_BIN.exists():
        print(f"error: {MINIO_BIN} is missing; run 'make tools'", file=sys.stderr)
        return 2
    os.execve(str(MINIO_BIN), command(args.data_dir, args.port, args.console_port), {**os.environ, **environment()})


if __name__ == "__main__":
    sys.exit(main())
