"""Waiting for things and stopping processes: a poll with a deadline that says what it waited
for, a free loopback port, an HTTP status probe, and a stop that escalates to SIGKILL."""

import hashlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, timeout: float, what: str, interval: float = 0.1):
    """check()'s first truthy value; an exception counts as "not yet" until the deadline, where
    the last one is reported."""
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


def http_status(url: str, timeout: float = 3, ctx=None) -> tuple[int, str]:
    """(status, body) of a GET; (0, "") when nothing answered."""
    try:
        with urllib.request.urlopen(url, timeout=timeout, context=ctx) as r:
            return r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")
    except (OSError, ValueError):
        return 0, ""


def wait_http(url: str, timeout: float = 60, ctx=None, ok=(200,)):
    """Until a GET of url answers with one of `ok`."""
    wait_until(lambda: http_status(url, ctx=ctx)[0] in ok, timeout, f"{url} to answer {ok}", interval=0.3)


def stop(proc: subprocess.Popen, sig=signal.SIGTERM, timeout: float = 15, group: bool = False):
    """Signal the process (its whole process group with `group`, for one started in a session of
    its own), then SIGKILL it if it has not exited within `timeout`."""
    if proc.poll() is not None:
        return
    send = (lambda s: os.killpg(proc.pid, s)) if group else proc.send_signal
    try:
        send(sig)
        proc.wait(timeout)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        send(signal.SIGKILL)
        proc.wait(5)


class Processes:
    """The processes a tool started, each in its own session with its output in WORK/NAME.log,
    stopped together (process groups, in reverse order) at the end."""

    def __init__(self, work: str):
        self.work, self.started = work, []

    def start(self, name: str, args: list, env: dict | None = None) -> subprocess.Popen:
        log = open(os.path.join(self.work, f"{name}.log"), "w")
        proc = subprocess.Popen([str(a) for a in args], stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env={**os.environ, **(env or {})}, start_new_session=True)
        proc.name = name
        self.started.append(proc)
        return proc

    def add(self, proc: subprocess.Popen) -> subprocess.Popen:
        """One started elsewhere in a session of its own (a testkit.minio.Minio's), stopped with the rest."""
        self.started.append(proc)
        return proc

    def stop_all(self):
        for proc in reversed(self.started):
            stop(proc, timeout=10, group=True)
