"""What the machine and the tools are, for the report's Machine section: CPU, memory, OS, load,
and each server's version."""

from __future__ import annotations

import os
import platform
import re

from .config import MINIO_BIN, NGINX_BIN, ROOT, SPIN_BIN, WASMTIME_BIN, WRK_BIN, find_nginx_s3_gateway
from .targets import S3www
from .util import run_text


def nginx_s3_gateway_facts() -> str:
    kit = find_nginx_s3_gateway()
    if not kit:
        return "not installed"
    m = re.search(r'^UPSTREAM_COMMIT="([0-9a-f]+)"', (kit / "run.sh").read_text(), re.M)
    njs = run_text(["dpkg-query", "-W", "-f", "${Version}", "libnginx-mod-http-js"])
    return f"commit {m.group(1)[:12] if m else '?'}, njs {njs} (libnginx-mod-http-js), kit {kit}"


def machine_facts() -> dict:
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_kib = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    os_name = platform.system()
    try:
        with open("/etc/os-release") as f:
            os_name = dict(ln.strip().split("=", 1) for ln in f if "=" in ln).get("PRETTY_NAME", os_name).strip('"')
    except OSError:
        pass
    s3www = S3www()
    return {
        "cpu_model": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kib / 1048576, 1),
        "kernel": platform.release(),
        "os": os_name,
        "python": platform.python_version(),
        "tools": {
            "wasmtime": run_text([str(WASMTIME_BIN), "--version"]),
            "minio": run_text([str(MINIO_BIN), "--version"]).splitlines()[0],
            "wrk": run_text([WRK_BIN, "-v"]).splitlines()[0].split(" Copyright")[0],
            "nginx": run_text([NGINX_BIN, "-v"]).replace("nginx version: ", ""),
            "s3www": s3www.label,
            "s3www_binary": str(s3www.binary),
            "s3www_build": " ".join(
                ln.strip() for ln in run_text(["go", "version", "-m", str(s3www.binary)]).splitlines()
                if "minio-go" in ln or ln.strip().startswith(str(s3www.binary)) or "go1." in ln)[:200],
            "spin": (run_text([SPIN_BIN, "--version"]) + f" ({SPIN_BIN})") if SPIN_BIN else "not installed",
            "nginx_s3_gateway": nginx_s3_gateway_facts(),
            "rustc": run_text(["rustc", "--version"]),
        },
        "git": run_text(["git", "-C", str(ROOT), "describe", "--always", "--dirty"]),
    }
