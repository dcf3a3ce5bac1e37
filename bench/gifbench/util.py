"""Small helpers every module uses: progress lines on stderr and a command's output as text (a free
loopback port and hashes come from testkit.waits, as in the tests)."""

from __future__ import annotations

import subprocess
import sys


def log(msg: str) -> None:
    print(f"==> {msg}", file=sys.stderr, flush=True)


def run_text(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        return (out.stdout + out.stderr).strip()
    except (OSError, subprocess.SubprocessError) as exc:
        return f"unavailable ({exc.__class__.__name__})"
