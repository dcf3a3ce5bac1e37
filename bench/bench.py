#!/usr/bin/env python3
"""Side-by-side benchmark of the GIF path on loopback (`make bench`).

One MinIO holds the project's GIF in a private bucket. The same wrk load (fixed threads,
connections and duration) is sent, in interleaved rounds, to:

  component      the project's component (composed with the Spin-variables adapter) under
                 `wasmtime serve`, the WASI host the tests use, with the tuned serve options
  component-spin the same component under `spin up` (only when `spin` is on PATH)
  s3www          s3www v1.0.0 with the read-only credentials (or bench/s3www-compat, see there)
  minio-direct   a presigned GET straight to MinIO: the "no gateway" floor
  nginx          nginx serving the same file from local disk: the upper bound

For each: requests/s, p50/p99 latency, peak RSS (VmHWM) of the serving process, first-response
latency after a cold start, CPU time per request of the server and of MinIO; for the component
also the .wasm size. Medians over the rounds, ratios from the same run. A memory check serves a
16 MiB and a 64 MiB object through the gateways: flat means the peak RSS does not follow the size.

Writes results.json (every run, raw), results.md and results.png into --out-dir (default bench/),
and ends with one `RESULT ...` line. `--explore` instead compares wasmtime serve options for the
component and writes explore.{json,md}.

Everything listens on 127.0.0.1 ports picked at run time; every load is bounded in connections
and time; every process started here is stopped at the end (also on Ctrl-C).
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import http.client
import json
import os
import platform
import re
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / ".tools" / "bin"
MINIO_BIN = Path(os.environ.get("MINIO_BIN", TOOLS / "minio"))
WASMTIME_BIN = Path(os.environ.get("WASMTIME_BIN", TOOLS / "wasmtime"))
MC_BIN = TOOLS / "mc"
SEEDER_BIN = ROOT / "target" / "release" / "seeder"
COMPONENT = Path(os.environ.get("COMPONENT", ROOT / "target" / "wasm32-wasip2" / "release" / "gif_gateway.wasm"))
COMPOSED = Path(os.environ.get("COMPOSED", ROOT / "target" / "gif_gateway.wasmtime.wasm"))
GIF = ROOT / "assets" / "animation.gif"
BUCKET = "gifs"
GIF_KEY = "animation.gif"


def large_key(mib: int) -> str:
    return f"bench/large-{mib}MiB.bin"
NGINX_BIN = shutil.which("nginx") or "/usr/sbin/nginx"
WRK_BIN = shutil.which("wrk") or "/usr/bin/wrk"
SPIN_BIN = shutil.which("spin")

# wasmtime serve options for the component. "tuned" is what the results call `component`; the
# others are compared by --explore. The .wasm variants pass -C cache=n so that every cold start
# really compiles (wasmtime's on-disk cache would otherwise make the first run differ from the rest).
SERVE_BASE = ["-S", "cli=y"]
VARIANTS = {
    # name: (artifact, extra options, description)
    "jit": ("wasm", ["-C", "cache=n"], "the tests' flags: -S cli=y, JIT-compiled at start"),
    "jit+pool": ("wasm", ["-C", "cache=n", "-O", "pooling-allocator=y"], "JIT, pooling allocator"),
    "aot": ("cwasm", ["--allow-precompiled"], "precompiled (wasmtime compile), on-demand allocator"),
    "aot+pool": ("cwasm", ["--allow-precompiled", "-O", "pooling-allocator=y"], "precompiled, pooling allocator"),
    "aot+reuse": ("cwasm", ["--allow-precompiled", "--max-instance-reuse-count", "128"],
                  "precompiled, an instance serves up to 128 requests in turn"),
    "aot+pool+reuse": (
        "cwasm",
        ["--allow-precompiled", "-O", "pooling-allocator=y", "--max-instance-reuse-count", "128"],
        "precompiled, pooling allocator, instance reuse",
    ),
}
# What the results call `component`: precompiled (no compile at start), pooling allocator, and an
# instance is reused for up to 128 sequential requests instead of being instantiated for each one
# (the component keeps no state between requests; the integration tests pass with these options).
# See explore.md for the measured effect of each option.
TUNED_VARIANT = "aot+pool+reuse"


def log(msg: str) -> None:
    print(f"==> {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def run_text(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        return (out.stdout + out.stderr).strip()
    except (OSError, subprocess.SubprocessError) as exc:
        return f"unavailable ({exc.__class__.__name__})"


# ---------------------------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------------------------

class Procs:
    """Every process this script starts, each in its own session; stopped by pid/pgid."""

    def __init__(self) -> None:
        self.live: list[subprocess.Popen] = []

    def start(self, cmd: list[str], logfile: Path, env: dict | None = None) -> subprocess.Popen:
        with open(logfile, "ab") as out:
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    env=env, start_new_session=True)
        self.live.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen, timeout: float = 15) -> None:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)  # the process group this script created
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(5)
        if proc in self.live:
            self.live.remove(proc)

    def stop_all(self) -> None:
        for proc in reversed(list(self.live)):
            self.stop(proc)


def descendants(pid: int) -> list[int]:
    """pid and all its descendants (nginx: master and workers)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def vm_hwm_kib(pids: list[int]) -> int:
    """Sum of VmHWM (peak resident set) over the given processes, in KiB."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    """user+system CPU time of the given processes (threads included), in seconds."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except OSError:
            pass
    return total / CLK_TCK


def loadavg() -> float:
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


# ---------------------------------------------------------------------------------------------
# HTTP helpers
# ---------------------------------------------------------------------------------------------

def http_get(url: str, timeout: float = 5.0) -> tuple[int, dict, bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        conn.request("GET", target)
        resp = conn.getresponse()
        body = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body
    finally:
        conn.close()


def wait_first_response(url: str, proc: subprocess.Popen, started: float, expect_sha: str,
                        timeout: float = 60.0) -> float:
    """Milliseconds from `started` (just before the process was spawned) to the first complete
    200 response with the expected body."""
    deadline = started + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode} before answering")
        try:
            status, _, body = http_get(url, timeout=timeout)
            if status == 200 and sha256(body) == expect_sha:
                return (time.monotonic() - started) * 1000
            last = f"HTTP {status}, {len(body)} bytes"
        except OSError as exc:
            last = repr(exc)
        time.sleep(0.002)
    raise RuntimeError(f"no correct response from {url} within {timeout}s ({last})")


# ---------------------------------------------------------------------------------------------
# wrk
# ---------------------------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------------------------
# The stack: MinIO with the seeded bucket
# ---------------------------------------------------------------------------------------------

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
    seeded_with: str = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> float:
        """Starts MinIO (reusing its data directory) and returns ms until it is ready."""
        if not self.port:
            self.port, self.console_port = free_port(), free_port()
        data = self.work / "minio-data"
        data.mkdir(mode=0o700, exist_ok=True)
        env = dict(os.environ, MINIO_ROOT_USER=self.root_user, MINIO_ROOT_PASSWORD=self.root_password,
                   MINIO_BROWSER="off")
        started = time.monotonic()
        self.proc = self.procs.start(
            [str(MINIO_BIN), "server", "--quiet", "--address", f"127.0.0.1:{self.port}",
             "--console-address", f"127.0.0.1:{self.console_port}", str(data)],
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

    def seed(self, seeder: str) -> None:
        env = dict(os.environ, MINIO_ENDPOINT=self.url, MINIO_ROOT_USER=self.root_user,
                   MINIO_ROOT_PASSWORD=self.root_password, BUCKET=BUCKET, OBJECT_KEY=GIF_KEY,
                   OBJECT_FILE=str(GIF), APP_ACCESS_KEY=self.app_key, APP_SECRET_KEY=self.app_secret)
        if seeder == "seeder":
            subprocess.run([str(SEEDER_BIN)], env=env, check=True, stdout=subprocess.DEVNULL, timeout=120)
        else:
            # The same end state with mc: private bucket, the GIF, a user allowed s3:GetObject only.
            mc_env = dict(os.environ, MC_CONFIG_DIR=str(self.work / "mc"),
                          MC_HOST_bench=f"http://{self.root_user}:{self.root_password}@127.0.0.1:{self.port}")
            policy = self.work / "policy.json"
            policy.write_text(json.dumps({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": [f"arn:aws:s3:::{BUCKET}/*"]}]}))
            for args in (["mb", "--ignore-existing", f"bench/{BUCKET}"],
                         ["cp", str(GIF), f"bench/{BUCKET}/{GIF_KEY}"],
                         ["admin", "policy", "create", "bench", "gif-gateway-read", str(policy)],
                         ["admin", "user", "add", "bench", self.app_key, self.app_secret],
                         ["admin", "policy", "attach", "bench", "gif-gateway-read", "--user", self.app_key]):
                subprocess.run([str(MC_BIN), "--quiet", *args], env=mc_env, check=True,
                               stdout=subprocess.DEVNULL, timeout=120)
        self.seeded_with = seeder

    def s3_client(self, root: bool = False):
        import botocore.config
        import botocore.session
        return botocore.session.get_session().create_client(
            "s3", endpoint_url=self.url, region_name="us-east-1",
            aws_access_key_id=self.root_user if root else self.app_key,
            aws_secret_access_key=self.root_password if root else self.app_secret,
            config=botocore.config.Config(signature_version="s3v4", s3={"addressing_style": "path"}))

    def put_large(self, key: str, size: int) -> None:
        """A random object of `size` bytes, for the memory-vs-object-size check."""
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


# ---------------------------------------------------------------------------------------------
# Targets
# ---------------------------------------------------------------------------------------------

@dataclass
class Running:
    proc: subprocess.Popen
    base: str                # http://127.0.0.1:port
    started: float           # monotonic time just before spawning

    def url(self, key: str) -> str:
        return f"{self.base}/{key}"


class Target:
    name = ""
    label = ""
    behind_gateway = True  # requests reach MinIO through this server (its CPU is then counted too)

    def start(self, ctx: "Bench") -> Running:
        raise NotImplementedError

    def url(self, ctx: "Bench", running: Running, key: str) -> str:
        return running.url(key)

    def pids(self, running: Running) -> list[int]:
        return descendants(running.proc.pid)

    def stop(self, ctx: "Bench", running: Running) -> None:
        ctx.procs.stop(running.proc)


class Component(Target):
    def __init__(self, variant: str, name: str | None = None):
        self.variant = variant
        self.name = name or f"component[{variant}]"
        artifact, opts, desc = VARIANTS[variant]
        self.artifact, self.opts = artifact, opts
        self.label = f"component (wasmtime serve, {desc})"

    def command(self, ctx: "Bench", port: int) -> list[str]:
        wasm = ctx.cwasm if self.artifact == "cwasm" else COMPOSED
        envs = [a for v in ctx.spin_env() for a in ("--env", v)]
        return [str(WASMTIME_BIN), "serve", *SERVE_BASE, *self.opts, "--addr", f"127.0.0.1:{port}", *envs, str(wasm)]

    def start(self, ctx: "Bench") -> Running:
        port = free_port()
        env = dict(os.environ, **ctx.spin_env())
        started = time.monotonic()
        proc = ctx.procs.start(self.command(ctx, port), ctx.logdir / f"{self.name}.log", env)
        return Running(proc, f"http://127.0.0.1:{port}", started)


class ComponentSpin(Target):
    name = "component-spin"
    label = "component (spin up)"

    def start(self, ctx: "Bench") -> Running:
        port = free_port()
        env = dict(os.environ, **ctx.spin_env())
        started = time.monotonic()
        proc = ctx.procs.start([SPIN_BIN, "up", "--from", str(ROOT / "spin.toml"), "--listen", f"127.0.0.1:{port}"],
                               ctx.logdir / "spin.log", env)
        return Running(proc, f"http://127.0.0.1:{port}", started)


class S3www(Target):
    name = "s3www"

    def __init__(self):
        real = TOOLS / "s3www"
        self.binary = real if real.exists() else TOOLS / "s3www-compat"
        self.flavour = "s3www v1.0.0" if real.exists() else "s3www-compat (stand-in for s3www v1.0.0)"
        self.label = self.flavour

    def start(self, ctx: "Bench") -> Running:
        port = free_port()
        started = time.monotonic()
        proc = ctx.procs.start(
            [str(self.binary), "-endpoint", ctx.stack.url, "-accessKey", ctx.stack.app_key,
             "-secretKey", ctx.stack.app_secret, "-bucket", BUCKET, "-address", f"127.0.0.1:{port}"],
            ctx.logdir / "s3www.log")
        return Running(proc, f"http://127.0.0.1:{port}", started)


class MinioDirect(Target):
    """MinIO itself, restarted for each round so that its cold start and peak RSS are its own."""
    name = "minio-direct"
    behind_gateway = False
    label = "MinIO direct (presigned GET, no gateway)"

    def start(self, ctx: "Bench") -> Running:
        ctx.stack.stop()
        started = time.monotonic()
        ctx.stack.start()
        return Running(ctx.stack.proc, ctx.stack.url, started)

    def url(self, ctx: "Bench", running: Running, key: str) -> str:
        return ctx.presigned[key]

    def stop(self, ctx: "Bench", running: Running) -> None:
        pass  # MinIO keeps serving the gateways


class Nginx(Target):
    name = "nginx"
    behind_gateway = False
    label = "nginx (static file from local disk)"

    def start(self, ctx: "Bench") -> Running:
        port = free_port()
        prefix = ctx.work / "nginx"
        www = prefix / "www"
        www.mkdir(parents=True, exist_ok=True)
        for sub in ("tmp",):
            (prefix / sub).mkdir(exist_ok=True)
        shutil.copyfile(GIF, www / GIF_KEY)
        # The workers run as an unprivileged user when started as root: they must reach the file.
        for p in (ctx.work, prefix, www):
            p.chmod(0o755)
        (www / GIF_KEY).chmod(0o644)
        conf = prefix / "nginx.conf"
        conf.write_text(f"""# generated by bench/bench.py
daemon off;
master_process on;
worker_processes {os.cpu_count() or 1};
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    types {{ image/gif gif; }}
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {www};
    }}
}}
""")
        started = time.monotonic()
        proc = ctx.procs.start([NGINX_BIN, "-p", f"{prefix}/", "-e", f"{prefix}/error.log", "-c", str(conf)],
                               ctx.logdir / "nginx.log")
        return Running(proc, f"http://127.0.0.1:{port}", started)

    def stop(self, ctx: "Bench", running: Running) -> None:
        ctx.procs.stop(running.proc)  # SIGTERM to the group: master and workers


# ---------------------------------------------------------------------------------------------
# The benchmark
# ---------------------------------------------------------------------------------------------

class Bench:
    def __init__(self, args: argparse.Namespace, work: Path):
        self.args = args
        self.work = work
        self.logdir = work / "logs"
        self.logdir.mkdir(parents=True, exist_ok=True)
        self.procs = Procs()
        self.stack = Stack(work, self.procs)
        self.cwasm = work / "gif_gateway.wasmtime.cwasm"
        self.presigned: dict[str, str] = {}
        self.gif_sha = sha256(GIF.read_bytes())
        self.facts: dict = {}

    def spin_env(self) -> dict[str, str]:
        return {
            "SPIN_VARIABLE_S3_ENDPOINT": self.stack.url,
            "SPIN_VARIABLE_S3_BUCKET": BUCKET,
            "SPIN_VARIABLE_INDEX_OBJECT": GIF_KEY,
            "SPIN_VARIABLE_S3_ACCESS_KEY": self.stack.app_key,
            "SPIN_VARIABLE_S3_SECRET_KEY": self.stack.app_secret,
        }

    def setup(self) -> None:
        log(f"starting MinIO on 127.0.0.1 (work dir {self.work})")
        self.stack.start()
        seeder = "seeder" if SEEDER_BIN.exists() and os.environ.get("BENCH_SEEDER") != "mc" else "mc"
        log(f"seeding bucket '{BUCKET}' with {GIF.name} and a read-only user ({seeder})")
        self.stack.seed(seeder)
        if not self.args.explore:
            for mib in self.args.large_mib:
                log(f"uploading a {mib} MiB object for the memory check")
                self.stack.put_large(large_key(mib), mib << 20)
        self.presigned = {GIF_KEY: self.stack.presigned(GIF_KEY)}
        log("precompiling the component (wasmtime compile)")
        t = time.monotonic()
        subprocess.run([str(WASMTIME_BIN), "compile", str(COMPOSED), "-o", str(self.cwasm)], check=True, timeout=600)
        self.facts["wasmtime_compile_ms"] = round((time.monotonic() - t) * 1000)
        self.facts["wasm_bytes"] = COMPONENT.stat().st_size
        self.facts["composed_wasm_bytes"] = COMPOSED.stat().st_size
        self.facts["cwasm_bytes"] = self.cwasm.stat().st_size

    def measure(self, target: Target, rnd: int) -> dict:
        a = self.args
        load_before = loadavg()
        running = target.start(self)
        try:
            gif_url = target.url(self, running, GIF_KEY)
            cold_ms = wait_first_response(gif_url, running.proc, running.started, self.gif_sha)
            status, headers, body = http_get(gif_url)
            if status != 200 or sha256(body) != self.gif_sha:
                raise RuntimeError(f"{target.name}: wrong answer (HTTP {status}, {len(body)} bytes)")
            if a.warmup:
                run_wrk(gif_url, a.threads, a.connections, a.warmup)
            pids = target.pids(running)
            minio_pids = descendants(self.stack.proc.pid) if target.behind_gateway else []
            cpu0, mcpu0 = cpu_seconds(pids), cpu_seconds(minio_pids)
            w = run_wrk(gif_url, a.threads, a.connections, a.duration)
            cpu1, mcpu1 = cpu_seconds(target.pids(running)), cpu_seconds(minio_pids)
            # Latency without queueing: one connection, one request at a time.
            solo = run_wrk(gif_url, 1, 1, a.solo_seconds) if a.solo_seconds else {}
            n = max(w.get("requests", 1), 1)
            rec = {
                "target": target.name, "round": rnd, **w,
                "cold_start_ms": round(cold_ms, 1),
                "peak_rss_kib": vm_hwm_kib(target.pids(running)),
                "server_cpu_us_per_req": round((cpu1 - cpu0) * 1e6 / n, 1),
                "minio_cpu_us_per_req": round((mcpu1 - mcpu0) * 1e6 / n, 1) if minio_pids else None,
                "wrk_cpu_us_per_req": round(w["wrk_cpu_s"] * 1e6 / n, 1),
                "c1_rps": solo.get("rps"), "c1_p50_ms": solo.get("p50_ms"), "c1_p99_ms": solo.get("p99_ms"),
                "c1_errors": (solo["non_2xx"] + solo["socket_errors"]) if solo else None,
                "content_type": headers.get("content-type"),
                "loadavg_before": load_before,
            }
        finally:
            target.stop(self, running)
        errs = rec["non_2xx"] + rec["socket_errors"]
        log(f"  {target.name:<22} round {rnd}: {rec['rps']:8.1f} req/s  p50 {rec.get('p50_ms', 0):7.2f} ms  "
            f"p99 {rec.get('p99_ms', 0):7.2f} ms  rss {rec['peak_rss_kib'] / 1024:6.1f} MiB  "
            f"cold {rec['cold_start_ms']:7.1f} ms  cpu {rec['server_cpu_us_per_req']:.0f} us/req"
            + (f"  ERRORS {errs}" if errs else ""))
        return rec

    def memory_check(self, target: Target) -> dict:
        """Peak RSS of a fresh server after a bounded load (`--mem-connections` concurrent downloads
        for `--mem-seconds`) on the GIF, then on each large object, each on a fresh process."""
        out = {"target": target.name, "points": []}
        for label, key, size in [("GIF", GIF_KEY, GIF.stat().st_size)] + [
                (f"{mib} MiB", large_key(mib), mib << 20) for mib in self.args.large_mib]:
            running = target.start(self)
            try:
                wait_first_response(target.url(self, running, GIF_KEY), running.proc, running.started, self.gif_sha)
                w = run_wrk(target.url(self, running, key), 1, self.args.mem_connections, self.args.mem_seconds,
                            timeout_s=30)
                point = {"object": label, "object_bytes": size, "requests": w.get("requests"),
                         "errors": w["non_2xx"] + w["socket_errors"], "peak_rss_kib": vm_hwm_kib(target.pids(running))}
            finally:
                target.stop(self, running)
            out["points"].append(point)
        pts = out["points"]
        # Flat: from the smallest to the largest large object the peak RSS does not follow the size.
        out["growth_kib"] = pts[-1]["peak_rss_kib"] - pts[1]["peak_rss_kib"] if len(pts) > 2 else None
        out["growth_vs_gif_kib"] = pts[-1]["peak_rss_kib"] - pts[0]["peak_rss_kib"]
        log(f"  memory {target.name:<15} " + "  ".join(
            f"{p['object']}: {p['peak_rss_kib'] / 1024:.1f} MiB ({p['requests']} req)" for p in pts))
        return out


def median(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def summarize(runs: list[dict], names: list[str]) -> dict:
    keys = ("rps", "p50_ms", "p90_ms", "p99_ms", "peak_rss_kib", "cold_start_ms", "server_cpu_us_per_req",
            "minio_cpu_us_per_req", "wrk_cpu_us_per_req", "stack_cpu_us_per_req", "c1_p50_ms", "c1_p99_ms")
    for r in runs:
        r["stack_cpu_us_per_req"] = round(r["server_cpu_us_per_req"] + (r.get("minio_cpu_us_per_req") or 0), 1)
    return {n: {k: median([r.get(k) for r in runs if r["target"] == n]) for k in keys} for n in names}


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
            os_name = dict(l.strip().split("=", 1) for l in f if "=" in l).get("PRETTY_NAME", os_name).strip('"')
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
            "s3www": s3www.flavour,
            "s3www_build": " ".join(l.strip() for l in run_text(["go", "version", "-m", str(s3www.binary)]).splitlines()
                                    if "minio-go" in l or l.strip().startswith(str(s3www.binary)) or "go1." in l)[:200],
            "spin": run_text([SPIN_BIN, "--version"]) if SPIN_BIN else "not installed",
            "rustc": run_text(["rustc", "--version"]),
        },
        "git": run_text(["git", "-C", str(ROOT), "describe", "--always", "--dirty"]),
    }


# ---------------------------------------------------------------------------------------------
# Reports
# ---------------------------------------------------------------------------------------------

TARGETS = {
    "component_rps_vs_s3www": 2.5,      # component throughput at least 2.5x s3www's
    "component_p99_vs_minio_direct": 1.3,  # component p99 within 1.3x of MinIO-direct
    "wasm_bytes": 1 << 20,              # .wasm at most 1 MiB
    "memory_growth_kib": 4 << 10,       # "flat": 4x the object size costs < 4 MiB more peak RSS
}


def ratios(med: dict) -> dict:
    def r(a, b, k):
        x, y = med.get(a, {}).get(k), med.get(b, {}).get(k)
        return round(x / y, 4) if x and y else None
    return {
        "component_rps_vs_s3www": r("component", "s3www", "rps"),
        "component_rps_vs_minio_direct": r("component", "minio-direct", "rps"),
        "component_rps_vs_nginx": r("component", "nginx", "rps"),
        "s3www_rps_vs_minio_direct": r("s3www", "minio-direct", "rps"),
        "component_p99_vs_minio_direct": r("component", "minio-direct", "p99_ms"),
        "component_p99_vs_s3www": r("component", "s3www", "p99_ms"),
        "component_p50_vs_minio_direct": r("component", "minio-direct", "p50_ms"),
        "component_c1_p99_vs_minio_direct": r("component", "minio-direct", "c1_p99_ms"),
        "component_cpu_vs_s3www": r("component", "s3www", "stack_cpu_us_per_req"),
        "component_rss_vs_s3www": r("component", "s3www", "peak_rss_kib"),
        "component_cold_vs_s3www": r("component", "s3www", "cold_start_ms"),
    }


def per_round_ratio(runs: list[dict], a: str, b: str, key: str) -> float | None:
    by = {}
    for r in runs:
        by.setdefault(r["round"], {})[r["target"]] = r.get(key)
    vals = [v[a] / v[b] for v in by.values() if v.get(a) and v.get(b)]
    return round(statistics.median(vals), 3) if vals else None


def verdicts(result: dict) -> dict:
    rat, facts = result["ratios"], result["facts"]
    mem = {m["target"]: m for m in result.get("memory", [])}
    growth = mem.get("component", {}).get("growth_kib")
    return {
        "component_rps_vs_s3www": {"value": rat["component_rps_vs_s3www"], "target": ">= 2.5",
                                   "met": bool(rat["component_rps_vs_s3www"] and rat["component_rps_vs_s3www"] >= 2.5)},
        "component_p99_vs_minio_direct": {"value": rat["component_p99_vs_minio_direct"], "target": "<= 1.3",
                                          "met": bool(rat["component_p99_vs_minio_direct"]
                                                      and rat["component_p99_vs_minio_direct"] <= 1.3)},
        "wasm_bytes": {"value": facts["wasm_bytes"], "target": "<= 1048576", "met": facts["wasm_bytes"] <= 1 << 20},
        "memory_flat": {"value": growth, "target": "peak RSS(largest) - peak RSS(smallest large object) < 4 MiB",
                        "met": growth is not None and growth < TARGETS["memory_growth_kib"]},
    }


def fmt(v, nd=1):
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:,.{nd}f}"
    return f"{v:,}"


def write_markdown(result: dict, path: Path) -> None:
    m, p, med, rat, facts = result["machine"], result["params"], result["medians"], result["ratios"], result["facts"]
    labels = result["labels"]
    lines = [
        "# GIF path benchmark",
        "",
        f"Generated by `make bench` (`bench/bench.py`) on {result['finished']}, commit `{m['git']}`. "
        "Raw numbers of every run: [results.json](results.json). Plot: [results.png](results.png).",
        "",
        "## Machine",
        "",
        f"- CPU: {m['cpu_model']}, {m['cores']} cores; {m['memory_gib']} GiB RAM; {m['os']}, kernel {m['kernel']}",
        f"- Load average (1 min) at start / end: {result['loadavg_start']:.2f} / {result['loadavg_end']:.2f} "
        "(the machine may be shared: compare ratios from one run rather than absolute numbers across runs)",
        f"- wasmtime: {m['tools']['wasmtime']}; MinIO: {m['tools']['minio']}; wrk: {m['tools']['wrk']}; "
        f"nginx: {m['tools']['nginx']}; {m['tools']['s3www']}; Spin: {m['tools']['spin']}; {m['tools']['rustc']}",
        "",
        "## Method",
        "",
        f"- Load: `wrk -t{p['threads']} -c{p['connections']} -d{p['duration']:g}s --latency` on loopback after a "
        f"{p['warmup']:g}s warm-up, GET of the {facts['gif_bytes']:,}-byte GIF; {p['rounds']} rounds, the targets "
        "interleaved in each round (order rotated), every server started fresh per round. Medians below.",
        "- One MinIO (private bucket, seeded by the project's seeder) serves the component, s3www and the "
        "presigned GET; nginx serves a copy of the GIF from local disk.",
        "- Peak RSS: VmHWM of the serving process (nginx: master + workers; MinIO-direct: MinIO itself, "
        "restarted for its round). Cold start: process spawn to the first complete, correct 200 "
        "(component: includes loading the module; MinIO: includes its start-up).",
        "- CPU/request: user+system CPU of the server process during the measured window divided by requests; "
        "for the gateways also MinIO's CPU per request, and wrk's. wrk, MinIO and the server share the "
        "machine's cores, so when the CPU is saturated req/s ≈ cores ÷ (server + MinIO + wrk CPU per request): "
        "these columns explain the throughput and vary less than req/s on a busy machine.",
        f"- component = `wasmtime serve {' '.join(SERVE_BASE + VARIANTS[TUNED_VARIANT][1])}` on the precompiled "
        "composition (`wasmtime compile`); see [explore.md](explore.md) for the other serve options.",
        "",
        "## Medians",
        "",
        "| target | req/s | p50 ms | p90 ms | p99 ms | peak RSS MiB | cold start ms | server CPU µs/req | MinIO CPU µs/req | server+MinIO CPU µs/req | wrk CPU µs/req |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in result["targets"]:
        d = med[name]
        lines.append(f"| {labels[name]} | {fmt(d['rps'])} | {fmt(d['p50_ms'], 2)} | {fmt(d['p90_ms'], 2)} | "
                     f"{fmt(d['p99_ms'], 2)} | {fmt(d['peak_rss_kib'] / 1024 if d['peak_rss_kib'] else None)} | "
                     f"{fmt(d['cold_start_ms'])} | {fmt(d['server_cpu_us_per_req'], 0)} | "
                     f"{fmt(d['minio_cpu_us_per_req'], 0)} | {fmt(d['stack_cpu_us_per_req'], 0)} | "
                     f"{fmt(d['wrk_cpu_us_per_req'], 0)} |")
    if p.get("solo_seconds"):
        lines += ["", f"Unloaded latency (`wrk -t1 -c1 -d{p['solo_seconds']:g}s` right after each measurement, "
                  "one request at a time): what the extra hop itself costs.", "",
                  "| target | p50 ms | p99 ms |", "|---|---:|---:|"]
        for name in result["targets"]:
            lines.append(f"| {labels[name]} | {fmt(med[name]['c1_p50_ms'], 2)} | {fmt(med[name]['c1_p99_ms'], 2)} |")
    errs = sum(r["non_2xx"] + r["socket_errors"] + (r.get("c1_errors") or 0) for r in result["runs"])
    lines += [
        "",
        f"Errors (non-2xx + socket errors) over all runs: {errs}.",
        "",
        f"Component size: `gif_gateway.wasm` {facts['wasm_bytes']:,} bytes (what Spin loads); composed with the "
        f"variables adapter {facts['composed_wasm_bytes']:,} bytes; precompiled `.cwasm` {facts['cwasm_bytes']:,} "
        f"bytes (`wasmtime compile` took {facts['wasmtime_compile_ms']:,} ms).",
        "",
        "## Ratios (same run)",
        "",
        "| ratio | ratio of medians | median of per-round ratios |",
        "|---|---:|---:|",
    ]
    for key, (a, b, k) in {
        "component req/s ÷ s3www req/s": ("component", "s3www", "rps"),
        "component req/s ÷ MinIO-direct req/s": ("component", "minio-direct", "rps"),
        "s3www req/s ÷ MinIO-direct req/s": ("s3www", "minio-direct", "rps"),
        "component req/s ÷ nginx req/s": ("component", "nginx", "rps"),
        "component p99 ÷ MinIO-direct p99": ("component", "minio-direct", "p99_ms"),
        "component p99 ÷ s3www p99": ("component", "s3www", "p99_ms"),
        "component peak RSS ÷ s3www peak RSS": ("component", "s3www", "peak_rss_kib"),
        "component (server+MinIO) CPU/req ÷ s3www's": ("component", "s3www", "stack_cpu_us_per_req"),
        "MinIO-direct CPU/req ÷ s3www (server+MinIO) CPU/req": ("minio-direct", "s3www", "stack_cpu_us_per_req"),
        "component unloaded p50 ÷ MinIO-direct unloaded p50": ("component", "minio-direct", "c1_p50_ms"),
        "component unloaded p99 ÷ MinIO-direct unloaded p99": ("component", "minio-direct", "c1_p99_ms"),
    }.items():
        x, y = med.get(a, {}).get(k), med.get(b, {}).get(k)
        lines.append(f"| {key} | {fmt(x / y if x and y else None, 2)} | "
                     f"{fmt(per_round_ratio(result['runs'], a, b, k), 2)} |")
    lines += ["", "## Memory with object size", ""]
    if result.get("memory"):
        objs = [pt["object"] for pt in result["memory"][0]["points"]]
        lines += [f"A fresh server per object; `wrk -t1 -c{p['mem_connections']} -d{p['mem_seconds']:g}s` downloads it "
                  f"over and over ({p['mem_connections']} at a time); peak RSS (VmHWM) of the serving process, MiB "
                  "(requests completed in brackets):", "",
                  "| target | " + " | ".join(objs) + " |", "|---|" + "---:|" * len(objs)]
        for mc in result["memory"]:
            lines.append(f"| {labels[mc['target']]} | " + " | ".join(
                f"{pt['peak_rss_kib'] / 1024:.1f} ({pt['requests']})" for pt in mc["points"]) + " |")
    else:
        lines.append("Skipped (`--large-mib ''`).")
    lines += ["", "## Targets", "", "| target | goal | measured | met |", "|---|---|---:|---|"]
    for key, v in result["verdicts"].items():
        val = v["value"]
        shown = (f"{val:,} bytes" if key == "wasm_bytes" else f"{val / 1024:+.1f} MiB" if key == "memory_flat"
                 and val is not None else fmt(val, 2) + "×" if val is not None else "–")
        lines.append(f"| {key} | {v['target']} | {shown} | {'yes' if v['met'] else '**no**'} |")
    lines += ["", "### Reading the targets against this run", ""] + analysis(result)
    lines += ["", "RESULT line of this run:", "", "```", result["result_line"], "```", ""]
    notes = Path(__file__).with_name("NOTES.md")
    if notes.exists():
        lines += [notes.read_text().rstrip(), ""]
    path.write_text("\n".join(lines))


def analysis(result: dict) -> list[str]:
    """Plain-language reading of this run's numbers (computed, so it never goes stale)."""
    med = result["medians"]
    c, s3, d = med.get("component"), med.get("s3www"), med.get("minio-direct")
    out = []
    if not (c and s3 and d and c["rps"] and s3["rps"] and d["rps"]):
        return ["(needs component, s3www and minio-direct in the same run)"]
    floor = d["rps"] / s3["rps"]
    out.append(
        f"- Throughput. MinIO, wrk and the gateway share {result['machine']['cores']} cores, so with the CPU "
        f"saturated req/s ≈ cores ÷ (CPU per request of all of them). A component request costs "
        f"{fmt(c['server_cpu_us_per_req'], 0)} µs in wasmtime + {fmt(c['minio_cpu_us_per_req'], 0)} µs in MinIO (one GET); "
        f"an s3www request costs {fmt(s3['server_cpu_us_per_req'], 0)} µs + {fmt(s3['minio_cpu_us_per_req'], 0)} µs "
        f"(s3www's minio-go sends a HEAD, from Object.Stat, and then a GET); a presigned GET costs MinIO "
        f"{fmt(d['server_cpu_us_per_req'], 0)} µs. wrk adds about {fmt(c['wrk_cpu_us_per_req'], 0)} µs to each.")
    budget = ((s3["stack_cpu_us_per_req"] or 0) + (s3["wrk_cpu_us_per_req"] or 0)) / 2.5
    wrk = c["wrk_cpu_us_per_req"] or 0
    minio_c, minio_d = c["minio_cpu_us_per_req"] or 0, d["server_cpu_us_per_req"] or 0
    left_now, left_pooled = budget - minio_c - wrk, budget - minio_d - wrk
    out.append(
        f"- 2.5× s3www's req/s therefore needs the component's whole stack to cost at most {budget:,.0f} µs per "
        f"request. Behind the component MinIO spends {minio_c:,.0f} µs per GET, against {minio_d:,.0f} µs for the same "
        "GET on a kept-alive connection, as in MinIO-direct"
        + (": wasmtime serve opens a new connection to MinIO for every request. " if minio_c > 1.05 * minio_d else
           "; wasmtime serve opens a new connection to MinIO for every request, which in this run cost MinIO "
           "little extra. ")
        + (f"With that, the gateway itself would have to cost at most {left_now:,.0f} µs; " if left_now > 0 else
           "With that, MinIO and wrk alone exceed the budget; ")
        + (f"with pooled connections it could cost up to {left_pooled:,.0f} µs. " if left_pooled > 0 else
           "even with pooled connections no gateway in front of this MinIO could reach it. ")
        + f"wasmtime serve costs {fmt(c['server_cpu_us_per_req'], 0)} µs (the component's own code is a small part of "
        f"that: see the notes below). Measured: component {c['rps'] / s3['rps']:.2f}× s3www's req/s and "
        f"{c['rps'] / d['rps']:.2f}× MinIO-direct's; MinIO-direct, the gateway that costs nothing, {floor:.2f}× "
        "s3www's. On a machine shared with other work these req/s ratios move between runs more than the CPU "
        "figures do.")
    if c["p99_ms"] and d["p99_ms"]:
        out.append(
            f"- Latency at {result['params']['connections']} connections is mostly queueing for the CPU (p50 ≈ connections ÷ req/s): "
            f"component p99 {c['p99_ms']:.1f} ms vs MinIO-direct {d['p99_ms']:.1f} ms "
            f"({c['p99_ms'] / d['p99_ms']:.2f}×). Unloaded (one connection), the extra hop costs "
            f"{fmt((c['c1_p50_ms'] or 0) - (d['c1_p50_ms'] or 0), 2)} ms at p50 "
            f"(component {fmt(c['c1_p50_ms'], 2)} ms, MinIO-direct {fmt(d['c1_p50_ms'], 2)} ms; "
            f"p99 {fmt(c['c1_p99_ms'], 2)} vs {fmt(d['c1_p99_ms'], 2)} ms).")
    return out


COLORS = {"component": "#2a7ab9", "component-spin": "#5fa8d3", "s3www": "#e08a2c", "minio-direct": "#6b8e23",
          "nginx": "#8c8c8c"}


def write_plot(result: dict, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = result["targets"]
    short = {"component": "component", "component-spin": "comp. (spin)", "s3www": "s3www",
             "minio-direct": "MinIO direct", "nginx": "nginx (disk)"}
    xs = range(len(names))
    colors = [COLORS.get(n, "#444") for n in names]
    med = result["medians"]
    fig, axes = plt.subplots(1, 5, figsize=(16, 3.9))
    panels = [
        ("requests/s (higher is better)", "rps", 1, "clip"),
        ("p50 / p99 latency, ms", None, 1, None),
        ("peak RSS, MiB", "peak_rss_kib", 1 / 1024, None),
        ("cold start to first response, ms (log)", "cold_start_ms", 1, "log"),
        ("CPU per request, µs (lower is better)", "cpu", 1, None),
    ]
    for ax, (title, key, scale, yscale) in zip(axes, panels):
        if key == "cpu":
            # What each request costs every process on the machine: this is what bounds req/s here.
            server = [med[n]["server_cpu_us_per_req"] or 0 for n in names]
            minio = [med[n]["minio_cpu_us_per_req"] or 0 for n in names]
            wrk = [med[n]["wrk_cpu_us_per_req"] or 0 for n in names]
            ax.bar(list(xs), server, 0.6, color=colors, label="server")
            ax.bar(list(xs), minio, 0.6, bottom=server, color="#b5c99a", label="MinIO (behind a gateway)")
            ax.bar(list(xs), wrk, 0.6, bottom=[a + b for a, b in zip(server, minio)], color="#dddddd", label="wrk")
            for x, a, b, w in zip(xs, server, minio, wrk):
                ax.text(x, a + b + w, f"{a + b + w:,.0f}", ha="center", va="bottom", fontsize=7)
            ax.set_ylim(0, max(a + b + w for a, b, w in zip(server, minio, wrk)) * 1.45)
            ax.legend(fontsize=6.5, frameon=False, loc="upper right")
        elif key is None:
            p50 = [med[n]["p50_ms"] or 0 for n in names]
            p99 = [med[n]["p99_ms"] or 0 for n in names]
            ax.bar([x - 0.2 for x in xs], p50, 0.4, color=colors, alpha=0.55, label="p50")
            ax.bar([x + 0.2 for x in xs], p99, 0.4, color=colors, label="p99")
            for x, v in zip(xs, p99):
                ax.text(x + 0.2, v, f"{v:.0f}", ha="center", va="bottom", fontsize=7)
            ax.legend(fontsize=7, frameon=False)
        else:
            vals = [(med[n][key] or 0) * scale for n in names]
            # nginx serves from disk at a far higher rate: clip its bar so the gateways stay readable.
            top = max([v for n, v in zip(names, vals) if n != "nginx"] or vals) * 1.3 if yscale == "clip" else None
            ax.bar(list(xs), [min(v, top) if top else v for v in vals], 0.6, color=colors)
            for n, x in zip(names, xs):
                pts = [r[key] * scale for r in result["runs"] if r["target"] == n and r.get(key) is not None]
                pts = [p for p in pts if not top or p <= top]
                ax.plot([x] * len(pts), pts, "k.", markersize=3)
            for x, v in zip(xs, vals):
                label = f"{v:,.0f}" if v >= 10 else f"{v:.1f}"
                if top and v > top:
                    ax.text(x, top * 0.97, label + " ↑\n(off scale)", ha="center", va="top", fontsize=6.5, color="white")
                else:
                    ax.text(x, v, label, ha="center", va="bottom", fontsize=7)
            if top:
                ax.set_ylim(0, top * 1.05)
            elif yscale:
                ax.set_yscale(yscale)
        ax.set_title(title, fontsize=9)
        ax.set_xticks(list(xs))
        ax.set_xticklabels([short.get(n, n) for n in names], rotation=25, ha="right", fontsize=8)
        ax.tick_params(axis="y", labelsize=7)
        ax.spines[["top", "right"]].set_visible(False)
    def rat_of(a, b, k):
        x, y = med.get(a, {}).get(k), med.get(b, {}).get(k)
        return x / y if x and y else None
    rat = {"component_rps_vs_s3www": rat_of("component", "s3www", "rps"),
           "component_rps_vs_minio_direct": rat_of("component", "minio-direct", "rps"),
           "component_p99_vs_minio_direct": rat_of("component", "minio-direct", "p99_ms")}
    p = result["params"]
    fig.suptitle(
        f"GIF ({result['facts']['gif_bytes'] / 1024:.0f} KiB) over loopback, wrk -t{p['threads']} -c{p['connections']} "
        f"-d{p['duration']:g}s, median of {p['rounds']} rounds (dots: each round); "
        f"{result['machine']['cores']} cores, {result['machine']['cpu_model']}, {result['finished'][:10]}\n"
        f"component: {fmt(rat['component_rps_vs_s3www'], 2)}× s3www's req/s, "
        f"{fmt(rat['component_rps_vs_minio_direct'], 2)}× MinIO-direct's; "
        f"p99 {fmt(rat['component_p99_vs_minio_direct'], 2)}× MinIO-direct's; "
        f".wasm {result['facts']['wasm_bytes'] / 1024:.0f} KiB",
        fontsize=9)
    fig.tight_layout(rect=(0, 0, 1, 0.94))
    fig.savefig(path, dpi=100)
    plt.close(fig)


def result_line(med: dict, facts: dict) -> str:
    def g(n, k, nd=0):
        v = med.get(n, {}).get(k)
        return "NA" if v is None else (f"{v:.{nd}f}" if nd else str(round(v)))
    return (f"RESULT component_rps={g('component', 'rps')} s3www_rps={g('s3www', 'rps')} "
            f"minio_direct_rps={g('minio-direct', 'rps')} nginx_rps={g('nginx', 'rps')} "
            f"component_p99_ms={g('component', 'p99_ms', 2)} minio_direct_p99_ms={g('minio-direct', 'p99_ms', 2)} "
            f"wasm_bytes={facts['wasm_bytes']}")


def write_explore_markdown(result: dict, path: Path) -> None:
    p, med = result["params"], result["medians"]
    lines = [
        "# wasmtime serve options for the component",
        "",
        f"Generated by `bench/bench.py --explore` on {result['finished']} ({result['machine']['cores']} cores, "
        f"{result['machine']['cpu_model']}, load average {result['loadavg_start']:.2f} → {result['loadavg_end']:.2f}). "
        f"`wrk -t{p['threads']} -c{p['connections']} -d{p['duration']:g}s`, {p['rounds']} interleaved rounds, medians; "
        "MinIO-direct measured in the same rounds as the reference. Raw numbers: [explore.json](explore.json).",
        "",
        "| variant | options (after `-S cli=y`) | req/s | p50 ms | p99 ms | peak RSS MiB | cold start ms | server CPU µs/req | MinIO CPU µs/req | wrk CPU µs/req |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in result["targets"]:
        d = med[name]
        opts = " ".join(VARIANTS[name.split("[", 1)[1].rstrip("]")][1]) if name.startswith("component[") else "–"
        lines.append(f"| {name} | `{opts}` | {fmt(d['rps'])} | {fmt(d['p50_ms'], 2)} | {fmt(d['p99_ms'], 2)} | "
                     f"{fmt(d['peak_rss_kib'] / 1024 if d['peak_rss_kib'] else None)} | {fmt(d['cold_start_ms'])} | "
                     f"{fmt(d['server_cpu_us_per_req'], 0)} | {fmt(d['minio_cpu_us_per_req'], 0)} | "
                     f"{fmt(d['wrk_cpu_us_per_req'], 0)} |")
    lines += ["", "`aot` variants run `wasmtime compile` output with `--allow-precompiled`; `jit` variants pass "
              "`-C cache=n`, so their cold start includes Cranelift compiling the component.", ""]
    path.write_text("\n".join(lines))


# ---------------------------------------------------------------------------------------------

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", 3)))
    ap.add_argument("--duration", type=float, default=float(os.environ.get("BENCH_DURATION", 10)), help="seconds per measurement")
    ap.add_argument("--warmup", type=float, default=float(os.environ.get("BENCH_WARMUP", 2)), help="seconds of warm-up load")
    ap.add_argument("--threads", type=int, default=int(os.environ.get("BENCH_THREADS", 2)))
    ap.add_argument("--connections", type=int, default=int(os.environ.get("BENCH_CONNECTIONS", 32)))
    ap.add_argument("--solo-seconds", type=float, default=float(os.environ.get("BENCH_SOLO_SECONDS", 3)),
                    help="seconds of single-connection load for unloaded latency (0 skips it)")
    ap.add_argument("--large-mib", default=os.environ.get("BENCH_LARGE_MIB", "16,64"),
                    help="comma-separated sizes (MiB) of the objects for the memory check ('' skips it)")
    ap.add_argument("--mem-connections", type=int, default=4)
    ap.add_argument("--mem-seconds", type=float, default=3)
    ap.add_argument("--targets", default="", help="comma-separated subset of component,component-spin,s3www,minio-direct,nginx")
    ap.add_argument("--explore", action="store_true", help="compare wasmtime serve options instead")
    ap.add_argument("--variants", default=",".join(VARIANTS), help="with --explore: which of " + ", ".join(VARIANTS))
    ap.add_argument("--out-dir", type=Path, default=Path(__file__).resolve().parent)
    ap.add_argument("--keep-work", action="store_true", help="keep the temporary work dir (logs, MinIO data)")
    ap.add_argument("--report-only", action="store_true",
                    help="only rewrite results.md and results.png from the results.json in --out-dir")
    args = ap.parse_args()
    args.large_mib = [int(x) for x in args.large_mib.split(",") if x.strip()]
    if args.report_only:
        result = json.loads((args.out_dir / "results.json").read_text())
        write_markdown(result, args.out_dir / "results.md")
        write_plot(result, args.out_dir / "results.png")
        print(result["result_line"])
        return 0

    for tool in (MINIO_BIN, WASMTIME_BIN, COMPONENT, COMPOSED, Path(WRK_BIN), Path(NGINX_BIN)):
        if not Path(tool).exists():
            print(f"error: {tool} is missing; run `make bench` (it builds and installs first)", file=sys.stderr)
            return 2
    if not SEEDER_BIN.exists() and not MC_BIN.exists():
        print(f"error: neither {SEEDER_BIN} nor {MC_BIN} exists to seed MinIO", file=sys.stderr)
        return 2

    if args.explore:
        targets: list[Target] = [Component(v) for v in args.variants.split(",")] + [MinioDirect()]
    else:
        targets = [Component(TUNED_VARIANT, name="component")]
        if SPIN_BIN:
            targets.append(ComponentSpin())
        targets += [S3www(), MinioDirect(), Nginx()]
        if args.targets:
            wanted = set(args.targets.split(","))
            targets = [t for t in targets if t.name in wanted]
    names = [t.name for t in targets]

    work = Path(tempfile.mkdtemp(prefix="gif-gateway-bench-"))
    bench = Bench(args, work)
    interrupted = {"sig": None}

    def on_signal(signum, _frame):
        interrupted["sig"] = signum
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    started_wall = time.monotonic()
    result: dict = {"started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                    "loadavg_start": loadavg()}
    try:
        result["machine"] = machine_facts()
        bench.setup()
        runs: list[dict] = []
        for rnd in range(1, args.rounds + 1):
            log(f"round {rnd}/{args.rounds}")
            order = targets[(rnd - 1) % len(targets):] + targets[:(rnd - 1) % len(targets)]
            for t in order:
                runs.append(bench.measure(t, rnd))
        memory = []
        if args.large_mib and not args.explore:
            log("memory vs object size")
            for t in targets:
                if t.name in ("component", "component-spin", "s3www"):
                    memory.append(bench.memory_check(t))
    except KeyboardInterrupt:
        print("interrupted; stopping everything this benchmark started", file=sys.stderr)
        bench.procs.stop_all()
        return 130
    except Exception:
        bench.procs.stop_all()
        for logfile in sorted(bench.logdir.glob("*.log")):
            tail = logfile.read_text(errors="replace").splitlines()[-15:]
            if tail:
                print(f"--- last lines of {logfile.name}:\n" + "\n".join(tail), file=sys.stderr)
        raise
    finally:
        bench.procs.stop_all()
        if args.keep_work:
            log(f"work dir kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    med = summarize(runs, names)
    facts = dict(bench.facts, gif_bytes=GIF.stat().st_size)
    result.update({
        "finished": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "elapsed_s": round(time.monotonic() - started_wall, 1),
        "loadavg_end": loadavg(),
        "params": {"rounds": args.rounds, "duration": args.duration, "warmup": args.warmup, "threads": args.threads,
                   "connections": args.connections, "large_mib": args.large_mib,
                   "mem_connections": args.mem_connections, "mem_seconds": args.mem_seconds,
                   "solo_seconds": args.solo_seconds,
                   "component_serve_options": SERVE_BASE + VARIANTS[TUNED_VARIANT][1],
                   "seeded_with": bench.stack.seeded_with},
        "targets": names,
        "labels": {t.name: t.label for t in targets},
        "facts": facts,
        "runs": runs,
        "medians": med,
    })
    args.out_dir.mkdir(parents=True, exist_ok=True)
    if args.explore:
        (args.out_dir / "explore.json").write_text(json.dumps(result, indent=1) + "\n")
        write_explore_markdown(result, args.out_dir / "explore.md")
        log(f"wrote {args.out_dir / 'explore.md'} and explore.json in {result['elapsed_s']}s")
        return 0
    result["memory"] = memory
    result["ratios"] = ratios(med)
    result["verdicts"] = verdicts(result)
    result["result_line"] = result_line(med, facts)
    (args.out_dir / "results.json").write_text(json.dumps(result, indent=1) + "\n")
    write_markdown(result, args.out_dir / "results.md")
    try:
        write_plot(result, args.out_dir / "results.png")
    except ImportError as exc:
        log(f"no plot ({exc}); install the bench venv with scripts/install-bench-tools.sh")
    log(f"wrote results.md, results.json, results.png in {args.out_dir} ({result['elapsed_s']}s)")
    for key, v in result["verdicts"].items():
        log(f"target {key}: {v['value']} (goal {v['target']}) -> {'met' if v['met'] else 'NOT met'}")
    errors = {r["target"]: r["non_2xx"] + r["socket_errors"] for r in runs if r["non_2xx"] + r["socket_errors"]}
    if errors:
        log(f"WARNING: error responses or socket errors during the load: {errors}; see results.json")
    print(result["result_line"], flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
