"""The WASI HTTP hosts that serve the built component in the tests, `spin up` (the Spin CLI users
run) and `wasmtime serve`, and what the tests read back from them (logs, the access log).
Variables reach the component as SPIN_VARIABLE_* in the environment, never on a command line."""

import json
import os
import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path

import requests

from .minio import Credentials, Minio
from .paths import COMPOSED, MANIFEST, WASMTIME_BIN
from .proxy import BreakingProxy
from .waits import free_port, stop, wait_until

SPIN_BIN = shutil.which("spin")
REQUIRE_SPIN = os.environ.get("REQUIRE_SPIN") == "1"
HOSTS = ("wasmtime", "spin")


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
    """Skip the calling test without Spin 4, or fail it when REQUIRE_SPIN=1 (CI)."""
    import pytest

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
