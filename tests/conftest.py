"""Fixtures that start the real parts: a MinIO process, the seeder, and the built component
served by each WASI HTTP host: `spin up` (the Spin CLI users run) and `wasmtime serve`. Nothing
here is mocked.

Every test that uses `app` runs once per host; its id names the host (`test_x[spin]`). Spin is
the CLI on PATH (a user's install; CI puts the project's pinned build from ../shared/spin4/bin
there). Without it the Spin runs are skipped with the reason, unless REQUIRE_SPIN=1 (CI), which
turns a missing Spin into a failure.

Everything listens on 127.0.0.1 ports picked at run time, and every process is stopped at the end.
"""
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from loopback_proxy import BreakingProxy

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / ".tools"
MINIO_BIN = Path(os.environ.get("MINIO_BIN", TOOLS / "bin" / "minio"))
WASMTIME_BIN = Path(os.environ.get("WASMTIME_BIN", TOOLS / "bin" / "wasmtime"))
WASM_TOOLS_BIN = TOOLS / "bin" / "wasm-tools"
SEEDER_BIN = ROOT / "target" / "release" / "seeder"
COMPONENT = ROOT / "target" / "wasm32-wasip2" / "release" / "gif_gateway.wasm"
COMPOSED = ROOT / "target" / "gif_gateway.wasmtime.wasm"
GIF = ROOT / "assets" / "animation.gif"
BUCKET = "gifs"
GIF_KEY = "animation.gif"
MANIFEST = ROOT / "spin.toml"
SPIN_BIN = shutil.which("spin")
REQUIRE_SPIN = os.environ.get("REQUIRE_SPIN") == "1"
HOSTS = ("wasmtime", "spin")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, timeout: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except Exception as exc:  # noqa: BLE001 - retried until the deadline, then reported
            last = exc
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last error: {last!r})")


def stop(proc: subprocess.Popen, sig=signal.SIGTERM, timeout: float = 15):
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@pytest.fixture(scope="session", autouse=True)
def built_artifacts():
    missing = [str(p) for p in (MINIO_BIN, WASMTIME_BIN, SEEDER_BIN, COMPONENT, COMPOSED) if not p.exists()]
    if missing:
        pytest.fail(f"build output missing (run `make test`, which builds first): {missing}")


def spin_unavailable() -> str | None:
    """Why `spin up` cannot run here, or None. The component is WASIp3, which Spin runs from 4.0
    on (as does SpinKube's containerd-shim-spin from v0.25), so only 4.x counts."""
    if not SPIN_BIN:
        return "the Spin CLI is not on PATH (install Spin 4.x; CI uses ../shared/spin4/bin)"
    version = subprocess.run([SPIN_BIN, "--version"], capture_output=True, text=True).stdout.strip()
    if not version.startswith("spin 4."):
        return f"{SPIN_BIN} is {version or 'not a working Spin'}; these tests need Spin 4.x"
    return None


def require_spin():
    reason = spin_unavailable()
    if reason:
        if REQUIRE_SPIN:
            pytest.fail(f"REQUIRE_SPIN=1 but {reason}")
        pytest.skip(reason)


def host_command(host: str, port: int, variables: list[str], log_dir: Path) -> list[str]:
    """How each host serves the component. Variables are passed by name from the environment
    (SPIN_VARIABLE_*), so no secret appears on a command line."""
    if host == "spin":
        # A state directory per app: the default key-value store (the edge cache's) lives there,
        # so no app sees another's entries, and nothing is written next to the manifest.
        return [SPIN_BIN, "up", "--from", str(MANIFEST), "--listen", f"127.0.0.1:{port}", "--log-dir", str(log_dir),
                "--state-dir", str(log_dir.parent / "spin-state")]
    # A WASIp3 component (wasi:http@0.3.0-rc-2026-03-15): the component model's async ABI
    # (-W component-model-async), the WASIp3 host interfaces (-S p3) and, for what the Rust
    # wasm32-wasip2 standard library imports (environment, stdio; WASIp2), -S cli. wasmtime serves
    # up to 128 requests (16 at a time) with one instance of a WASIp3 component by default, as
    # Spin 4 reuses its instances too.
    cmd = [str(WASMTIME_BIN), "serve", "-W", "component-model-async=y", "-S", "p3=y,cli=y",
           "--addr", f"127.0.0.1:{port}"]
    for name in variables:
        cmd += ["--env", name]
    return cmd + [str(COMPOSED)]


@dataclass
class Credentials:
    access_key: str
    secret_key: str


class Minio:
    """A real MinIO server on a loopback port, restartable on the same port and data."""

    def __init__(self, data_dir: Path, log_path: Path):
        self.data_dir = data_dir
        self.log_path = log_path
        self.port = free_port()
        self.console_port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.root = Credentials("root-" + secrets.token_hex(4), secrets.token_urlsafe(24))
        self.proc = None

    def start(self):
        env = dict(
            os.environ,
            MINIO_ROOT_USER=self.root.access_key,
            MINIO_ROOT_PASSWORD=self.root.secret_key,
            MINIO_BROWSER="off",
            # Lets the test read request counters without a bearer token; local test server only.
            MINIO_PROMETHEUS_AUTH_TYPE="public",
        )
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [str(MINIO_BIN), "server", "--quiet", "--address", f"127.0.0.1:{self.port}",
             "--console-address", f"127.0.0.1:{self.console_port}", str(self.data_dir)],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        wait_until(lambda: requests.get(f"{self.url}/minio/health/ready", timeout=1).ok, 60, "MinIO ready")

    def stop(self):
        if self.proc:
            stop(self.proc)
            self.proc = None

    def s3(self, creds: Credentials):
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3", endpoint_url=self.url, region_name="us-east-1",
            aws_access_key_id=creds.access_key, aws_secret_access_key=creds.secret_key,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}, signature_version="s3v4"),
        )

    def get_requests_total(self) -> float:
        """Sum of GetObject/HeadObject requests MinIO has counted (its own Prometheus metrics)."""
        text = requests.get(f"{self.url}/minio/v2/metrics/node", timeout=5).text
        total = 0.0
        for line in text.splitlines():
            if line.startswith("minio_s3_requests_total{") and (
                'api="getobject"' in line or 'api="headobject"' in line
            ):
                total += float(line.rsplit(" ", 1)[1])
        return total


@pytest.fixture(scope="session")
def minio(tmp_path_factory):
    base = tmp_path_factory.mktemp("minio")
    server = Minio(base / "data", base / "minio.log")
    server.start()
    yield server
    server.stop()


def run_seeder(minio: Minio, app: Credentials, root: Credentials = None, **overrides):
    root = root or minio.root
    env = dict(
        os.environ,
        MINIO_ENDPOINT=minio.url, MINIO_ROOT_USER=root.access_key, MINIO_ROOT_PASSWORD=root.secret_key,
        BUCKET=BUCKET, OBJECT_KEY=GIF_KEY, OBJECT_FILE=str(GIF),
        APP_ACCESS_KEY=app.access_key, APP_SECRET_KEY=app.secret_key, READY_TIMEOUT_SECS="20",
    )
    env.update(overrides)
    return subprocess.run([str(SEEDER_BIN)], env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="session")
def app_credentials(minio):
    creds = Credentials("gif-gateway-" + secrets.token_hex(4), secrets.token_urlsafe(24))
    result = run_seeder(minio, creds)
    assert result.returncode == 0, f"seeder failed:\n{result.stdout}\n{result.stderr}"
    return creds


class App:
    def __init__(self, host: str, proc: subprocess.Popen, url: str, log_path: Path, log_dir: Path):
        self.host, self.proc, self.url, self.log_path, self.log_dir = host, proc, url, log_path, log_dir

    def get(self, path: str, **kwargs):
        kwargs.setdefault("timeout", 30)
        return requests.get(self.url + path, **kwargs)

    @property
    def stdout_path(self) -> Path:
        """The host's stdout: under `wasmtime serve` the component's stdout; `log_path` has the
        host's stderr, and the component's stderr with it."""
        return self.log_path.with_name("app-stdout.log")

    def logs(self) -> str:
        """Everything the host and the component printed: the host's own output and, under Spin,
        the per-component stdout/stderr files in its log directory."""
        parts = [self.log_path.read_text(errors="replace"), self.stdout_path.read_text(errors="replace")]
        parts += [f.read_text(errors="replace") for f in sorted(self.log_dir.rglob("*")) if f.is_file()]
        return "\n".join(parts)


def start_app(host: str, env: dict, tmp_dir: Path, wait: bool = True) -> App:
    """Serves the component under `host` on a free loopback port with SPIN_VARIABLE_* from `env`."""
    port = free_port()
    log_path, log_dir = tmp_dir / "app.log", tmp_dir / "component-logs"
    log_dir.mkdir(exist_ok=True)
    variables = sorted(name for name in env if name.startswith("SPIN_VARIABLE_"))
    with open(log_path, "wb") as log, open(log_path.with_name("app-stdout.log"), "wb") as out:
        proc = subprocess.Popen(host_command(host, port, variables, log_dir), env=env,
                                stdout=out, stderr=log, cwd=tmp_dir)
    app = App(host, proc, f"http://127.0.0.1:{port}", log_path, log_dir)
    if wait:
        try:
            wait_until(lambda: proc.poll() is None and app.get("/", timeout=2).status_code == 200, 60,
                       f"{host} to serve the component (log: {log_path})")
        except AssertionError as e:
            stop(proc)
            raise AssertionError(f"{host} did not serve the component:\n{app.logs()[-3000:]}") from e
    return app


def component_stdout(app: App) -> list[Path]:
    """Where the component's stdout (its access log) goes: under Spin, the per-component file in
    its log directory (`spin up` copies it to its own output too, with its own lines); under
    `wasmtime serve`, the host's stdout."""
    if app.host == "wasmtime":
        return [app.stdout_path]
    return [f for f in app.log_dir.rglob("*_stdout.txt") if f.is_file()]


def access_log(app: App) -> list[dict]:
    """Every access-log line the component has printed so far, parsed."""
    return [json.loads(line) for f in component_stdout(app) for line in f.read_text().splitlines()
            if line.startswith('{"time":')]


def access_log_line(app: App, request_id: str) -> dict:
    """The one access-log line of the request sent with this X-Request-Id. The component prints
    it once the answer has been sent, so it may land a moment after the client has the answer."""
    found = wait_until(lambda: [line for line in access_log(app) if line["id"] == request_id], 10,
                       f"the access-log line of {request_id}")
    assert len(found) == 1, found
    return found[0]


def app_env(minio: Minio, creds: Credentials) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPIN_VARIABLE_")}
    env.update(
        SPIN_VARIABLE_S3_ENDPOINT=minio.url,
        SPIN_VARIABLE_S3_ACCESS_KEY=creds.access_key,
        SPIN_VARIABLE_S3_SECRET_KEY=creds.secret_key,
    )
    return env


@contextmanager
def serving(host: str, minio: Minio, creds: Credentials, tmp_dir: Path, proxied: bool = False, **variables):
    """The app under `host`, with SPIN_VARIABLE_<NAME> set for each keyword (`edge_cache="off"`)
    and, when `proxied`, MinIO behind a loopback BreakingProxy; yields `(app, proxy or None)` and
    stops both."""
    proxy = BreakingProxy(minio.url) if proxied else None
    try:
        env = app_env(minio, creds)
        if proxy:
            env["SPIN_VARIABLE_S3_ENDPOINT"] = proxy.url
        env.update({f"SPIN_VARIABLE_{name.upper()}": value for name, value in variables.items()})
        app = start_app(host, env, tmp_dir)
        try:
            yield app, proxy
        finally:
            stop(app.proc)
    finally:
        if proxy:
            proxy.close()


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
