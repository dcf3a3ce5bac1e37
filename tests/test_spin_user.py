"""What a person meets when running the component: `spin build` from the manifest, `spin up` from
the repository as docs/configuration.md says, and a missing required variable named under either host."""
import subprocess

import pytest
import requests

from testkit.hosts import app_env, start_app
from testkit.paths import COMPONENT, MANIFEST, ROOT
from testkit.waits import free_port, stop, wait_until


def test_missing_required_variable_is_named(host, minio, app_credentials, tmp_path):
    env = app_env(minio, app_credentials)
    del env["SPIN_VARIABLE_S3_SECRET_KEY"]
    app = start_app(host, env, tmp_path, wait=False)
    try:
        if host == "spin":
            # Spin checks required variables before it serves anything and refuses to start.
            app.proc.wait(60)
            assert app.proc.returncode != 0, "spin up started without a required variable"
        else:
            # A plain WASI host has no manifest to check: the component answers 500 and logs why.
            wait_until(lambda: app.get("/", timeout=2).status_code == 500, 60, "a 500 from the unconfigured gateway")
            assert app.get("/animation.gif").status_code == 500
    finally:
        stop(app.proc)
    logs = app.logs()
    assert "s3_secret_key" in logs, logs[-2000:]
    assert app_credentials.secret_key not in logs


def test_spin_build_runs_the_manifest_build_command_and_makes_the_same_component(spin_cli, tmp_path):
    """`spin build` must produce the very file the manifest's `source` names, identical to what
    `make build` built (same command, same lock file): the output is removed first so cargo has to
    link it again."""
    built = COMPONENT.read_bytes()
    backup = tmp_path / COMPONENT.name
    backup.write_bytes(built)
    COMPONENT.unlink()
    try:
        result = subprocess.run([spin_cli, "build", "--from", str(MANIFEST)], cwd=ROOT,
                                capture_output=True, text=True, timeout=900)
        assert result.returncode == 0, result.stdout + result.stderr
        assert COMPONENT.exists(), "spin build did not write the manifest's source"
        assert COMPONENT.read_bytes() == built, "spin build and make build made different components"
    finally:
        if not COMPONENT.exists():
            COMPONENT.write_bytes(built)


def git(*args) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout


def test_spin_up_from_the_repository_leaves_git_status_clean(spin_cli, minio, app_credentials):
    """`spin up` in the repository, as docs/configuration.md runs it, writes component logs into `.spin/`;
    they must not show up as changes."""
    if subprocess.run(["git", "rev-parse", "--git-dir"], cwd=ROOT, capture_output=True).returncode != 0:
        pytest.skip("not a git checkout")
    port = free_port()
    proc = subprocess.Popen([spin_cli, "up", "--listen", f"127.0.0.1:{port}"], cwd=ROOT,
                            env=app_env(minio, app_credentials), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: requests.get(url + "/", timeout=2).status_code == 200, 60, "spin up to serve")
        # A missing object makes the component write to stderr, so a log file has content.
        assert requests.get(url + "/no-such-object.gif", timeout=10).status_code == 404
    finally:
        stop(proc)
    logs = [p for p in (ROOT / ".spin").rglob("*") if p.is_file() and p.stat().st_size]
    assert logs, "spin up wrote no component log under .spin/ (did its log location change?)"
    assert git("status", "--porcelain", "--untracked-files=all", "--", ".spin") == ""
