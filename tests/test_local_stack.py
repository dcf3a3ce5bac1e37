"""`make run`'s script on its own, under each host (`spin up` when Spin is installed, wasmtime
otherwise): starts everything, serves the GIF, stops cleanly, reuses data."""
import os
import signal
import stat
import subprocess
from pathlib import Path

import requests

from testkit.paths import GIF, ROOT
from testkit.waits import free_port, sha256, wait_until


def start_stack(local_dir: Path, host: str):
    env = dict(os.environ, LOCAL_DIR=str(local_dir), MINIO_PORT=str(free_port()),
               MINIO_CONSOLE_PORT=str(free_port()), APP_PORT=str(free_port()),
               USE_SPIN="1" if host == "spin" else "0")
    proc = subprocess.Popen([str(ROOT / "scripts" / "local-stack.sh")], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    stack_env = local_dir / "stack.env"
    wait_until(lambda: stack_env.exists() or proc.poll() is not None, 120, "stack.env")
    assert proc.poll() is None, proc.stdout.read()
    values = dict(line.split("=", 1) for line in stack_env.read_text().splitlines())
    return proc, values


def stop_stack(proc):
    # SIGTERM, not SIGINT: a shell started with SIGINT ignored (a background job, a CI runner)
    # cannot trap it. The script handles both the same way (Ctrl-C is SIGINT).
    proc.send_signal(signal.SIGTERM)
    try:
        output, _ = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        raise
    return proc.returncode, output


def test_run_script_serves_stops_and_reuses_its_data(host, tmp_path):
    local_dir = tmp_path / "local"
    proc, values = start_stack(local_dir, host)
    try:
        assert set(values) >= {"APP_URL", "MINIO_URL", "BUCKET", "GIF_KEY"}
        gif = requests.get(f"{values['APP_URL']}/{values['GIF_KEY']}", timeout=10)
        assert gif.status_code == 200 and sha256(gif.content) == sha256(GIF.read_bytes())
        assert (
            requests.get(f"{values['MINIO_URL']}/{values['BUCKET']}/{values['GIF_KEY']}", timeout=5).status_code == 403
        )
    finally:
        code, output = stop_stack(proc)
    assert code in (0, 130, 143), output
    assert "The GIF is at" in output
    assert f"serving with {host}" in output, output
    secrets_file = local_dir / "secrets.env"
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    secrets = secrets_file.read_text()
    for line in secrets.splitlines():
        name, value = line.split("=", 1)
        if name.endswith(("PASSWORD", "SECRET_KEY")):
            assert value not in output, f"{name} was printed"
    # Everything stopped: the ports are free again and stack.env is gone.
    for key in ("APP_URL", "MINIO_URL"):
        try:
            requests.get(values[key], timeout=1)
            raise AssertionError(f"{values[key]} still answers after the stack was stopped")
        except requests.ConnectionError:
            pass
    assert not (local_dir / "stack.env").exists()

    # Second run: same credentials, same data, nothing to seed.
    proc, values = start_stack(local_dir, host)
    try:
        assert requests.get(f"{values['APP_URL']}/{values['GIF_KEY']}", timeout=10).status_code == 200
    finally:
        code, output = stop_stack(proc)
    assert secrets_file.read_text() == secrets
    assert "seeded: 0 change" in output, output
