"""The load generator: runs wrk with fixed threads, connections and duration, and parses its
`--latency` report into numbers."""

from __future__ import annotations

import re
import resource
import subprocess

from .config import WRK_BIN

UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def parse_duration_ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not m:
        raise ValueError(f"unparsable wrk duration {text!r}")
    return float(m.group(1)) * UNIT_MS[m.group(2)]


def parse_wrk(out: str) -> dict:
    res: dict = {}
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not m:
        raise RuntimeError(f"wrk printed no Requests/sec:\n{out}")
    res["rps"] = float(m.group(1))
    m = re.search(r"(\d+) requests in ([\d.]+\w+), ([\d.]+)(\w+) read", out)
    if m:
        res["requests"] = int(m.group(1))
        res["seconds"] = parse_duration_ms(m.group(2)) / 1000
    for pct in ("50", "75", "90", "99"):
        m = re.search(rf"^\s+{pct}%\s+([\d.]+\w+)\s*$", out, re.M)
        if m:
            res[f"p{pct}_ms"] = parse_duration_ms(m.group(1))
    m = re.search(r"Latency\s+([\d.]+\w+)\s+([\d.]+\w+)\s+([\d.]+\w+)", out)
    if m:
        res["mean_ms"], res["stdev_ms"], res["max_ms"] = (parse_duration_ms(g) for g in m.groups())
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    res["non_2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    res["socket_errors"] = sum(int(g) for g in m.groups()) if m else 0
    return res


def run_wrk(url: str, threads: int, connections: int, seconds: float, timeout_s: float = 5.0) -> dict:
    cmd = [WRK_BIN, f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", f"--timeout={timeout_s:g}s",
           "--latency", url]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    # wrk stops by itself after -d; the subprocess timeout is only a safety net.
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    res = parse_wrk(out)
    # wrk is the only child reaped during the call, so the difference is wrk's own CPU time.
    res["wrk_cpu_s"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return res
