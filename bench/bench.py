#!/usr/bin/env python3
"""Side-by-side benchmark of the GIF path on loopback (`make bench`).

One MinIO holds the project's GIF in a private bucket, seeded by the project's seeder. The same
wrk load (fixed threads, connections and duration) is sent, in interleaved rounds, to:

  spin           the component under `spin up` (Spin 4), configured as the README says:
                 SPIN_VARIABLE_* environment variables. The headline row: the host users run.
  spin-varfile   the same, with the variables from a file (`spin up --variable @vars.toml`)
  wasmtime       the same .wasm (composed with the Spin-variables adapter) under a tuned
                 `wasmtime serve` (flags in the label): a second host
  floor          bench/floor-proxy (WASIp3, spin-sdk 6) under `spin up`: one
                 spin_sdk::http::send of a presigned URL, the body read whole, answered complete.
                 The least any Spin proxy in front of MinIO costs.
  cache-hit      the gateway with its opt-in edge cache on (`edge_cache=ttl=60s`), a cache hit
                 from Spin's default key-value store (a SQLite file in the state directory)
  cache-hit-mem  the same with an in-memory store (`--runtime-config-file`)
  hello          bench/floor-proxy's hello world (WASIp3) under `spin up`: Spin's own cost and memory
  hello-vars     the hello world after reading the gateway's Spin variables (from spin.toml)
  nginx-s3gw     nginx-s3-gateway (../shared/anchors/nginx-s3-gateway, nginx + njs) with the
                 gateway's GetObject-only key, its proxy cache off: every request goes to MinIO
  nginx-s3gw-cache  the same with its proxy cache on, a hit
  s3www          upstream s3www v1.0.0 (../shared/anchors/bin/s3www) with MinIO's root
                 credentials, or, labelled as such, the bench/s3www-compat stand-in
  minio-direct   a presigned GET straight to MinIO: the "no gateway" floor
  nginx          nginx serving the same file from local disk: the upper bound

The spin rows need Spin >= 4 ($SPIN_BIN, else `spin` on PATH, else ../shared/spin4/bin/spin);
without any Spin they are left out and the RESULT line says NA. The nginx-s3-gateway rows need its
kit ($NGINX_S3_GATEWAY_DIR or ../shared/anchors/nginx-s3-gateway) and are left out without it.

For each: requests/s, p50/p99 latency, peak RSS (VmHWM) of the serving process tree, first-response
latency after a cold start, CPU time per request of the server and of MinIO, and the same GET on one
kept-alive connection (`wrk -t1 -c1`); for the component also the .wasm size. Medians over the
rounds, ratios from the same run. A memory check serves a 16 MiB and a 64 MiB object through the
gateways: flat means the peak RSS does not follow the size.

Writes results.json (every run, raw), results.md and results.png into --out-dir (default bench/),
and ends with one `RESULT ...` line. `--quick` is a smoke run (one short round, small memory
check) that writes into .local/bench-quick/ unless --out-dir says otherwise, so that it never
replaces the committed results. `--explore` instead compares wasmtime serve options for the
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
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
TOOLS = ROOT / ".tools" / "bin"
MINIO_BIN = Path(os.environ.get("MINIO_BIN", TOOLS / "minio"))
WASMTIME_BIN = Path(os.environ.get("WASMTIME_BIN", TOOLS / "wasmtime"))
SEEDER_BIN = ROOT / "target" / "release" / "seeder"
COMPONENT = Path(os.environ.get("COMPONENT", ROOT / "target" / "wasm32-wasip2" / "release" / "gif_gateway.wasm"))
COMPOSED = Path(os.environ.get("COMPOSED", ROOT / "target" / "gif_gateway.wasmtime.wasm"))
FLOOR_WASM = Path(os.environ.get("FLOOR_WASM", ROOT / "target" / "wasm32-wasip2" / "release" / "floor_proxy.wasm"))
MANIFEST = ROOT / "spin.toml"
GIF = ROOT / "assets" / "animation.gif"
BUCKET = "gifs"
GIF_KEY = "animation.gif"
HELLO_BODY = b"hello, world\n"  # what bench/floor-proxy answers in its hello modes


def large_key(mib: int) -> str:
    return f"bench/large-{mib}MiB.bin"


def find_spin() -> str | None:
    """$SPIN_BIN, else a `spin` on PATH (a user's install), else the shared Spin 4 build beside the
    repo (../shared/spin keeps Spin 3.6.3, which cannot run the WASIp3 rows)."""
    if os.environ.get("SPIN_BIN"):
        return os.environ["SPIN_BIN"]
    shared = SHARED / "spin4" / "bin" / "spin"
    return shutil.which("spin") or (str(shared) if shared.exists() else None)


def spin_version(spin: str | None) -> str | None:
    """`4.0.2` from `spin 4.0.2 (bfc7543b 2026-06-23)`."""
    if not spin:
        return None
    m = re.match(r"spin (\d+\.\d+\.\d+\S*)", run_text([spin, "--version"]))
    return m.group(1) if m else None


def find_nginx_s3_gateway() -> Path | None:
    """The nginx-s3-gateway kit (upstream's files plus its run.sh), run in place, never copied."""
    kit = Path(os.environ.get("NGINX_S3_GATEWAY_DIR", SHARED / "anchors" / "nginx-s3-gateway"))
    return kit if (kit / "run.sh").exists() else None


def find_s3www() -> tuple[Path, bool]:
    """(binary, is_upstream): upstream s3www v1.0.0 when present, else the stand-in."""
    for candidate in (os.environ.get("S3WWW_BIN"), SHARED / "anchors" / "bin" / "s3www", TOOLS / "s3www"):
        if candidate and Path(candidate).exists():
            return Path(candidate), True
    return TOOLS / "s3www-compat", False


NGINX_BIN = shutil.which("nginx") or "/usr/sbin/nginx"
WRK_BIN = shutil.which("wrk") or "/usr/bin/wrk"
SPIN_BIN = find_spin()

# wasmtime serve options for the component. "tuned" is what the results call `wasmtime`; the
# others are compared by --explore. The .wasm variants pass -C cache=n so that every cold start
# really compiles (wasmtime's on-disk cache would otherwise make the first run differ from the rest).
# A WASIp3 component needs the component-model-async feature and wasi:http 0.3 (p3); cli for
# the standard library's WASIp2 stdio and environment. The same flags compile the .cwasm.
WASM_FEATURES = ["-W", "component-model-async=y"]
SERVE_BASE = [*WASM_FEATURES, "-S", "p3=y,cli=y"]
VARIANTS = {
    # name: (artifact, extra options, description)
    "jit": ("wasm", ["-C", "cache=n"], "the tests' flags, JIT-compiled at start"),
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
# What the results call `wasmtime`: precompiled (no compile at start), pooling allocator, and an
# instance is reused for up to 128 requests (wasmtime 44's default for WASIp3, written out so the
# label says it), as under Spin 4.
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


def proc_comm(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


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

    def seed(self) -> None:
        """The project's seeder, exactly as `make run` and the Kubernetes Job use it: private
        bucket, the GIF, and the gateway's user allowed s3:GetObject only."""
        env = dict(os.environ, MINIO_ENDPOINT=self.url, MINIO_ROOT_USER=self.root_user,
                   MINIO_ROOT_PASSWORD=self.root_password, BUCKET=BUCKET, OBJECT_KEY=GIF_KEY,
                   OBJECT_FILE=str(GIF), APP_ACCESS_KEY=self.app_key, APP_SECRET_KEY=self.app_secret)
        subprocess.run([str(SEEDER_BIN)], env=env, check=True, stdout=subprocess.DEVNULL, timeout=120)

    def s3_client(self, root: bool = False):
        import botocore.config
        import botocore.session
        return botocore.session.get_session().create_client(
            "s3", endpoint_url=self.url, region_name="us-east-1",
            aws_access_key_id=self.root_user if root else self.app_key,
            aws_secret_access_key=self.root_password if root else self.app_secret,
            config=botocore.config.Config(signature_version="s3v4", s3={"addressing_style": "path"}))

    def put_large(self, key: str, size: int) -> None:
        """A random object of `size` bytes, for the memory-vs-object-size check (test data, uploaded
        with the root key; the seeder provisions, this only adds objects)."""
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

READ_ONLY_KEY = "the gateway's key (seeder-made user, s3:GetObject on the bucket only)"


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
    credentials = ""
    behind_gateway = True  # requests reach MinIO through this server (its CPU is then counted too)
    path = GIF_KEY         # what the load requests
    expect = None          # the body it must answer with (None: the GIF)
    expect_header = None   # (name, value) the answer after the first must carry
    gateway = False        # serves any object of the bucket (memory check)

    def start(self, ctx: "Bench") -> Running:
        raise NotImplementedError

    def url(self, ctx: "Bench", running: Running, key: str) -> str:
        return running.url(key)

    def pids(self, running: Running) -> list[int]:
        return descendants(running.proc.pid)

    def stop(self, ctx: "Bench", running: Running) -> None:
        ctx.procs.stop(running.proc)


class Component(Target):
    """The component under `wasmtime serve` (composed with the Spin-variables adapter)."""
    gateway = True
    credentials = READ_ONLY_KEY

    def __init__(self, variant: str, name: str | None = None):
        self.variant = variant
        self.name = name or f"component[{variant}]"
        artifact, opts, desc = VARIANTS[variant]
        self.artifact, self.opts = artifact, opts
        self.label = f"gateway, wasmtime serve ({desc})"
        if name:
            self.label = f"gateway, `wasmtime serve {' '.join(SERVE_BASE + opts)}`"

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


class SpinApp(Target):
    """An app under `spin up`. Spin starts a trigger process of its own: pids() covers both."""

    def __init__(self, name: str, label: str, credentials: str, manifest, env=None, args=None,
                 path: str = GIF_KEY, expect: bytes | None = None, gateway: bool = False,
                 expect_header: tuple[str, str] | None = None):
        self.name, self.label, self.credentials = name, label, credentials
        self.manifest, self.env, self.args = manifest, env or (lambda ctx: {}), args or (lambda ctx: [])
        self.path, self.expect, self.gateway, self.expect_header = path, expect, gateway, expect_header

    def start(self, ctx: "Bench") -> Running:
        port = free_port()
        # Only what this row is configured with: no SPIN_VARIABLE_* from the caller's shell.
        env = {k: v for k, v in os.environ.items() if not k.startswith("SPIN_VARIABLE_")}
        env.update(self.env(ctx))
        started = time.monotonic()
        proc = ctx.procs.start([SPIN_BIN, "up", "--from", str(self.manifest(ctx)), "--listen", f"127.0.0.1:{port}",
                                *self.args(ctx)], ctx.logdir / f"{self.name}.log", env)
        return Running(proc, f"http://127.0.0.1:{port}", started)


def spin_targets() -> list[Target]:
    env = lambda ctx: ctx.spin_env()  # noqa: E731
    cache_env = lambda ctx: dict(ctx.spin_env(), SPIN_VARIABLE_EDGE_CACHE="ttl=60s")  # noqa: E731
    return [
        SpinApp("spin", "gateway, `spin up` (variables from SPIN_VARIABLE_* env, as the README runs it)",
                READ_ONLY_KEY, lambda ctx: MANIFEST, env=env, gateway=True),
        SpinApp("spin-varfile", "gateway, `spin up --variable @vars.toml` (variables from a file)",
                READ_ONLY_KEY, lambda ctx: MANIFEST, args=lambda ctx: ["--variable", f"@{ctx.varfile()}"],
                gateway=True),
        SpinApp("floor", "floor: minimal WASIp3 Spin proxy (bench/floor-proxy, spin-sdk 6: one send of a presigned "
                "URL, body read whole, answered complete)",
                "a presigned URL signed with the gateway's key", lambda ctx: ctx.floor_manifest("proxy")),
        # spin.toml as shipped, with the edge cache turned on; a state directory of its own, so
        # the SQLite store starts empty and nothing is written next to the manifest.
        SpinApp("cache-hit", "gateway with the edge cache on, a hit (`edge_cache=ttl=60s`, default store: SQLite file)",
                READ_ONLY_KEY + "; a hit does not reach MinIO", lambda ctx: MANIFEST, env=cache_env,
                args=lambda ctx: ["--state-dir", str(ctx.work / "cache-state")],
                expect_header=("x-edge-cache", "hit")),
        SpinApp("cache-hit-mem", "gateway with the edge cache on, a hit, in-memory store (runtime config)",
                READ_ONLY_KEY + "; a hit does not reach MinIO", lambda ctx: MANIFEST, env=cache_env,
                args=lambda ctx: ["--runtime-config-file", str(ctx.kv_memory_config()),
                                  "--state-dir", str(ctx.work / "cache-mem-state")],
                expect_header=("x-edge-cache", "hit")),
        # Measured only when --targets names them (OPTIONAL_TARGETS): what the floor avoids by
        # reading the body whole, and the floor with the gateway's lookups in front.
        SpinApp("floor-stream", "the floor returning MinIO's response as it is (body still a stream)",
                "a presigned URL signed with the gateway's key", lambda ctx: ctx.floor_manifest("stream")),
        SpinApp("floor-vars", f"the floor after the gateway's {len(GATEWAY.component_variables)} variable lookups "
                "(SPIN_VARIABLE_* env)", "a presigned URL signed with the gateway's key",
                lambda ctx: ctx.floor_manifest("proxy", lookups=True), env=env),
        SpinApp("hello", "hello world (bench/floor-proxy, WASIp3, spin-sdk 6)", "none",
                lambda ctx: ctx.floor_manifest("hello"), path="", expect=HELLO_BODY),
        SpinApp("hello-vars", f"hello world + the gateway's {len(GATEWAY.component_variables)} variable lookups "
                "(SPIN_VARIABLE_* env)", "none",
                lambda ctx: ctx.floor_manifest("variables"), env=env, path="", expect=HELLO_BODY),
    ]


class S3www(Target):
    name = "s3www"

    def __init__(self):
        self.binary, self.upstream = find_s3www()
        if self.upstream:
            self.label = "s3www v1.0.0 (upstream)"
            # With GetObject-only keys upstream s3www answers every GET with a 301 to `<key>/`
            # (../shared/anchors/README.md, tests/test_s3www_anchor.py): it needs to list.
            self.credentials = "MinIO's root credentials (read + list: s3www cannot serve with GetObject-only keys)"
        else:
            self.label = "s3www-compat (stand-in for s3www v1.0.0, see notes)"
            self.credentials = READ_ONLY_KEY

    def start(self, ctx: "Bench") -> Running:
        port = free_port()
        st = ctx.stack
        key, secret = (st.root_user, st.root_password) if self.upstream else (st.app_key, st.app_secret)
        started = time.monotonic()
        if self.upstream:
            # Credentials through s3www's environment variables, not the command line.
            env = dict(os.environ, S3WWW_ENDPOINT=st.url, S3WWW_BUCKET=BUCKET, S3WWW_ADDRESS=f"127.0.0.1:{port}",
                       S3WWW_ACCESS_KEY=key, S3WWW_SECRET_KEY=secret)
            proc = ctx.procs.start([str(self.binary)], ctx.logdir / "s3www.log", env)
        else:
            proc = ctx.procs.start(
                [str(self.binary), "-endpoint", st.url, "-accessKey", key, "-secretKey", secret,
                 "-bucket", BUCKET, "-address", f"127.0.0.1:{port}"], ctx.logdir / "s3www.log")
        return Running(proc, f"http://127.0.0.1:{port}", started)


class NginxS3Gateway(Target):
    """nginx-s3-gateway as its kit runs it (`run.sh run`: upstream's files rendered into a prefix of
    this row's own, nginx in the foreground), so that SIGTERM to the process group stops nginx and
    run.sh deletes the prefix, cache included."""
    credentials = READ_ONLY_KEY

    def __init__(self, cache: bool):
        self.cache = cache
        self.name = "nginx-s3gw-cache" if cache else "nginx-s3gw"
        self.kit = find_nginx_s3_gateway()
        workers = os.cpu_count() or 1
        self.label = (f"nginx-s3-gateway, proxy cache {'on, a hit' if cache else 'off'} "
                      f"({workers} NGINX worker{'s' if workers > 1 else ''}, one per core)")
        # The second answer proves the row measures what its name says: a hit, or MinIO every time.
        self.expect_header = ("x-cache-status", "HIT" if cache else "BYPASS")
        if cache:
            self.credentials = READ_ONLY_KEY + "; a hit does not reach MinIO"

    def start(self, ctx: "Bench") -> Running:
        port = free_port()
        st = ctx.stack
        prefix = ctx.work / f"{self.name}-{port}"
        # As root, run.sh runs the workers as www-data: they must reach the prefix.
        ctx.work.chmod(0o755)
        env = dict(os.environ, S3_SERVER="127.0.0.1", S3_SERVER_PORT=str(st.port), S3_BUCKET_NAME=BUCKET,
                   AWS_ACCESS_KEY_ID=st.app_key, AWS_SECRET_ACCESS_KEY=st.app_secret,
                   HOST="127.0.0.1", PORT=str(port), NGINX_PREFIX=str(prefix), NGINX_BIN=NGINX_BIN,
                   # One worker per core, as the kit's README says to for multi-core comparisons
                   # (upstream's nginx.conf has 1).
                   NGINX_WORKER_PROCESSES=str(os.cpu_count() or 1),
                   # No per-request log, as for the nginx row and the gateways.
                   NGINX_ACCESS_LOG="off",
                   PROXY_CACHE="on" if self.cache else "off",
                   # upstream's own commented-out X-Cache-Status line: lets check() see HIT/BYPASS.
                   CACHE_STATUS_HEADER="true")
        started = time.monotonic()
        proc = ctx.procs.start(["bash", str(self.kit / "run.sh"), "run"], ctx.logdir / f"{self.name}.log", env)
        return Running(proc, f"http://127.0.0.1:{port}", started)

    def pids(self, running: Running) -> list[int]:
        # nginx's master and workers, not the run.sh shell that waits for them.
        return [p for p in descendants(running.proc.pid) if proc_comm(p) == "nginx"]


class MinioDirect(Target):
    """MinIO itself, restarted for each round so that its cold start and peak RSS are its own."""
    name = "minio-direct"
    behind_gateway = False
    label = "MinIO direct (presigned GET, no gateway)"
    credentials = "a presigned URL signed with the gateway's key"

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
    credentials = "none (a copy of the file on disk)"

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

def toml_str(value: str) -> str:
    return json.dumps(value)  # a JSON string (\uXXXX escapes and all) is a valid TOML basic string


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return toml_str(value)
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise ValueError(f"unexpected value {value!r} in spin.toml's variables")


@dataclass
class GatewayVariables:
    """The gateway's variables as its spin.toml declares them, read from the manifest itself: the
    hello-vars row must look up the same names, through the same mapping and the same provider,
    as the gateway does, and a copy here would drift from it (it once lacked `edge_cache`)."""
    application: dict      # [variables]
    component_variables: dict  # [component.<gateway>.variables]: name -> template

    @classmethod
    def load(cls, manifest: Path) -> "GatewayVariables":
        doc = tomllib.loads(manifest.read_text())
        components = doc.get("component", {})
        name = doc["application"]["name"] if doc.get("application", {}).get("name") in components else None
        if name is None:
            if len(components) != 1:
                raise RuntimeError(f"{manifest}: expected one component or one named like the application")
            name = next(iter(components))
        return cls(doc.get("variables", {}), components[name].get("variables", {}))

    def manifest_text(self, component: str) -> list[str]:
        """[variables] and [component.<component>.variables], as in the gateway's manifest."""
        lines = ["", "[variables]"] + [f"{k} = {toml_value(v)}" for k, v in self.application.items()]
        lines += ["", f"[component.{component}.variables]"]
        lines += [f"{k} = {toml_value(v)}" for k, v in self.component_variables.items()]
        return lines


GATEWAY = GatewayVariables.load(MANIFEST)


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

    def spin_values(self) -> dict[str, str]:
        return {"s3_endpoint": self.stack.url, "s3_bucket": BUCKET, "index_object": GIF_KEY,
                "s3_access_key": self.stack.app_key, "s3_secret_key": self.stack.app_secret}

    def spin_env(self) -> dict[str, str]:
        return {f"SPIN_VARIABLE_{k.upper()}": v for k, v in self.spin_values().items()}

    def varfile(self) -> Path:
        """The same values as a TOML file for `spin up --variable @file` (mode 0600: it holds the
        secret key; removed with the work directory)."""
        path = self.work / "vars.toml"
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write("".join(f"{k} = {toml_str(v)}\n" for k, v in self.spin_values().items()))
        return path

    def floor_manifest(self, mode: str, lookups: bool = False) -> Path:
        """A manifest for bench/floor-proxy in `mode` (with `lookups`: reading the gateway's
        variables first), in a directory of its own (Spin writes `.spin/` next to it)."""
        lookups = lookups or mode == "variables"
        app = self.work / (f"floor-{mode}" + ("-lookups" if lookups and mode != "variables" else ""))
        manifest = app / "spin.toml"
        if manifest.exists():
            return manifest
        app.mkdir(parents=True)
        shutil.copyfile(FLOOR_WASM, app / "floor_proxy.wasm")
        env = {"BENCH_MODE": mode}
        fetches = mode in ("proxy", "stream")
        if fetches:
            env["FLOOR_URL"] = self.presigned[GIF_KEY]
        if lookups:
            env["BENCH_VARIABLES"] = ",".join(GATEWAY.component_variables)
        text = ["spin_manifest_version = 2", "", "[application]", f"name = {toml_str(app.name)}"]
        text += ["", "[[trigger.http]]", 'route = "/..."', 'component = "floor"', "", "[component.floor]",
                 'source = "floor_proxy.wasm"',
                 f"allowed_outbound_hosts = [{toml_str(self.stack.url) if fetches else ''}]",
                 "environment = { " + ", ".join(f"{k} = {toml_str(v)}" for k, v in env.items()) + " }"]
        if lookups:
            text += GATEWAY.manifest_text("floor")
        manifest.write_text("\n".join(text) + "\n")
        return manifest

    def kv_memory_config(self) -> Path:
        """Runtime config that makes the default key-value store an in-memory SQLite database
        (Spin's `spin` store type without a `path`)."""
        path = self.work / "kv-memory.toml"
        if not path.exists():
            path.write_text('[key_value_store.default]\ntype = "spin"\n')
        return path

    def setup(self) -> None:
        log(f"starting MinIO on 127.0.0.1 (work dir {self.work})")
        self.stack.start()
        log(f"seeding bucket '{BUCKET}' with {GIF.name} and the gateway's read-only user (the project's seeder)")
        self.stack.seed()
        if not self.args.explore:
            for mib in self.args.large_mib:
                log(f"uploading a {mib} MiB object for the memory check")
                self.stack.put_large(large_key(mib), mib << 20)
        self.presigned = {GIF_KEY: self.stack.presigned(GIF_KEY)}
        log("precompiling the component for wasmtime (wasmtime compile)")
        t = time.monotonic()
        subprocess.run([str(WASMTIME_BIN), "compile", *WASM_FEATURES, str(COMPOSED), "-o", str(self.cwasm)],
                       check=True, timeout=600)
        self.facts["wasmtime_compile_ms"] = round((time.monotonic() - t) * 1000)
        self.facts["wasm_bytes"] = COMPONENT.stat().st_size
        self.facts["composed_wasm_bytes"] = COMPOSED.stat().st_size
        self.facts["cwasm_bytes"] = self.cwasm.stat().st_size
        if FLOOR_WASM.exists():
            self.facts["floor_wasm_bytes"] = FLOOR_WASM.stat().st_size

    def check(self, target: Target, url: str, proc: subprocess.Popen, started: float) -> tuple[float, dict]:
        """Cold start (ms until the first correct answer) and the headers of a second answer."""
        want = sha256(target.expect) if target.expect is not None else self.gif_sha
        cold_ms = wait_first_response(url, proc, started, want)
        status, headers, body = http_get(url)
        if status != 200 or sha256(body) != want:
            raise RuntimeError(f"{target.name}: wrong answer (HTTP {status}, {len(body)} bytes)")
        if target.expect_header and headers.get(target.expect_header[0]) != target.expect_header[1]:
            raise RuntimeError(f"{target.name}: expected {target.expect_header}, got {headers}")
        return cold_ms, headers

    def preflight(self, target: Target) -> None:
        running = target.start(self)
        try:
            self.check(target, target.url(self, running, target.path), running.proc, running.started)
        finally:
            target.stop(self, running)

    def measure(self, target: Target, rnd: int) -> dict:
        a = self.args
        load_before = loadavg()
        running = target.start(self)
        try:
            url = target.url(self, running, target.path)
            cold_ms, headers = self.check(target, url, running.proc, running.started)
            if a.warmup:
                run_wrk(url, a.threads, a.connections, a.warmup)
            pids = target.pids(running)
            minio_pids = descendants(self.stack.proc.pid) if target.behind_gateway else []
            cpu0, mcpu0 = cpu_seconds(pids), cpu_seconds(minio_pids)
            w = run_wrk(url, a.threads, a.connections, a.duration)
            cpu1, mcpu1 = cpu_seconds(target.pids(running)), cpu_seconds(minio_pids)
            # One kept-alive connection, one request at a time (as a browser loads a page): no
            # queueing, so this shows what each response itself costs, stalls included.
            solo = run_wrk(url, 1, 1, a.solo_seconds) if a.solo_seconds else {}
            n = max(w.get("requests", 1), 1)
            rec = {
                "target": target.name, "round": rnd, **w,
                "cold_start_ms": round(cold_ms, 1),
                "peak_rss_kib": vm_hwm_kib(target.pids(running)),
                "server_cpu_us_per_req": round((cpu1 - cpu0) * 1e6 / n, 1),
                "minio_cpu_us_per_req": round((mcpu1 - mcpu0) * 1e6 / n, 1) if minio_pids else None,
                "wrk_cpu_us_per_req": round(w["wrk_cpu_s"] * 1e6 / n, 1),
                "c1_rps": solo.get("rps"), "c1_p50_ms": solo.get("p50_ms"), "c1_p90_ms": solo.get("p90_ms"),
                "c1_p99_ms": solo.get("p99_ms"),
                "c1_errors": (solo["non_2xx"] + solo["socket_errors"]) if solo else None,
                "content_type": headers.get("content-type"),
                "loadavg_before": load_before,
            }
        finally:
            target.stop(self, running)
        errs = rec["non_2xx"] + rec["socket_errors"]
        log(f"  {target.name:<14} round {rnd}: {rec['rps']:8.1f} req/s  p50 {rec.get('p50_ms', 0):6.2f} ms  "
            f"p99 {rec.get('p99_ms', 0):6.2f} ms  rss {rec['peak_rss_kib'] / 1024:6.1f} MiB  "
            f"cold {rec['cold_start_ms']:6.0f} ms  cpu {rec['server_cpu_us_per_req']:5.0f} us/req  "
            f"-c1 p99 {rec.get('c1_p99_ms') or 0:6.2f} ms" + (f"  ERRORS {errs}" if errs else ""))
        return rec

    def memory_check(self, target: Target) -> dict:
        """Peak RSS of a fresh server after a bounded load (`--mem-connections` concurrent downloads
        for `--mem-seconds`) on the GIF, then on each large object, each on a fresh process."""
        out = {"target": target.name, "points": []}
        for label, key, size in [("GIF", GIF_KEY, GIF.stat().st_size)] + [
                (f"{mib} MiB", large_key(mib), mib << 20) for mib in self.args.large_mib]:
            running = target.start(self)
            try:
                self.check(target, target.url(self, running, GIF_KEY), running.proc, running.started)
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
        log(f"  memory {target.name:<14} " + "  ".join(
            f"{p['object']}: {p['peak_rss_kib'] / 1024:.1f} MiB ({p['requests']} req)" for p in pts))
        return out


def median(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


SUMMARY_KEYS = ("rps", "p50_ms", "p90_ms", "p99_ms", "peak_rss_kib", "cold_start_ms", "server_cpu_us_per_req",
                "minio_cpu_us_per_req", "wrk_cpu_us_per_req", "stack_cpu_us_per_req", "c1_rps", "c1_p50_ms",
                "c1_p90_ms", "c1_p99_ms")


def summarize(runs: list[dict], names: list[str]) -> dict:
    for r in runs:
        r["stack_cpu_us_per_req"] = round(r["server_cpu_us_per_req"] + (r.get("minio_cpu_us_per_req") or 0), 1)
    return {n: {k: median([r.get(k) for r in runs if r["target"] == n]) for k in SUMMARY_KEYS} for n in names}


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


# ---------------------------------------------------------------------------------------------
# Reports
# ---------------------------------------------------------------------------------------------

def ratio_of(med: dict, a: str, b: str, k: str, bk: str | None = None) -> float | None:
    x, y = med.get(a, {}).get(k), med.get(b, {}).get(bk or k)
    return round(x / y, 4) if x and y else None


# name: (numerator target, denominator target, key) for the ratio table. The goals' own ratios
# (verdicts() below) come first; the rest explain them.
RATIOS = {
    "spin req/s ÷ nginx-s3-gateway (cache off) req/s": ("spin", "nginx-s3gw", "rps"),
    "spin req/s ÷ floor req/s": ("spin", "floor", "rps"),
    "spin p99 ÷ MinIO-direct p99": ("spin", "minio-direct", "p99_ms"),
    "spin -c1 p99 ÷ floor -c1 p99": ("spin", "floor", "c1_p99_ms"),
    "spin peak RSS ÷ hello peak RSS": ("spin", "hello", "peak_rss_kib"),
    "cache hit (SQLite) req/s ÷ MinIO-direct req/s": ("cache-hit", "minio-direct", "rps"),
    "cache hit (memory) req/s ÷ MinIO-direct req/s": ("cache-hit-mem", "minio-direct", "rps"),
    "cache hit (SQLite) req/s ÷ nginx-s3-gateway (cache on) req/s": ("cache-hit", "nginx-s3gw-cache", "rps"),
    "cache hit (memory) req/s ÷ nginx-s3-gateway (cache on) req/s": ("cache-hit-mem", "nginx-s3gw-cache", "rps"),
    "cache hit (memory) req/s ÷ cache hit (SQLite) req/s": ("cache-hit-mem", "cache-hit", "rps"),
    "floor req/s ÷ nginx-s3-gateway (cache off) req/s": ("floor", "nginx-s3gw", "rps"),
    "floor peak RSS ÷ hello peak RSS": ("floor", "hello", "peak_rss_kib"),
    "nginx-s3-gateway (cache off) req/s ÷ MinIO-direct req/s": ("nginx-s3gw", "minio-direct", "rps"),
    "spin -c1 p99 ÷ nginx-s3-gateway (cache off) -c1 p99": ("spin", "nginx-s3gw", "c1_p99_ms"),
    "spin -c1 p99 ÷ MinIO-direct -c1 p99": ("spin", "minio-direct", "c1_p99_ms"),
    "spin (Spin+MinIO) CPU/req ÷ nginx-s3-gateway (nginx+MinIO) CPU/req": (
        "spin",
        "nginx-s3gw",
        "stack_cpu_us_per_req",
    ),
    "spin-varfile req/s ÷ spin req/s": ("spin-varfile", "spin", "rps"),
    "wasmtime req/s ÷ spin req/s": ("wasmtime", "spin", "rps"),
    "spin req/s ÷ s3www req/s": ("spin", "s3www", "rps"),
    "cache hit (memory) req/s ÷ s3www req/s": ("cache-hit-mem", "s3www", "rps"),
    "spin req/s ÷ MinIO-direct req/s": ("spin", "minio-direct", "rps"),
}


def ratios(med: dict) -> dict:
    return {key: ratio_of(med, *spec) for key, spec in RATIOS.items()}


def per_round_ratio(runs: list[dict], a: str, b: str, key: str) -> float | None:
    by = {}
    for r in runs:
        by.setdefault(r["round"], {})[r["target"]] = r.get(key)
    vals = [v[a] / v[b] for v in by.values() if v.get(a) and v.get(b)]
    return round(statistics.median(vals), 3) if vals else None


def best_cache_row(med: dict) -> str:
    """The store configuration that measured best in this run (the one to recommend)."""
    return max(("cache-hit", "cache-hit-mem"), key=lambda n: med.get(n, {}).get("rps") or 0)


WASM_LIMIT = 512 << 10
MEMORY_GROWTH_LIMIT_KIB = 4 << 10  # "flat": 4x the object size costs < 4 MiB more peak RSS


def verdicts(result: dict) -> dict:
    """The goals of issue 18, each against this run (met None: a row it needs is missing). The
    gateway is the `spin` row; the edge-cache goals take the better of the two cache-hit rows."""
    med, facts = result["medians"], result["facts"]
    mem = {m["target"]: m for m in result.get("memory", [])}
    growth = mem.get("spin", {}).get("growth_kib")

    best_cache = best_cache_row(med)

    def goal(value, op, limit, text):
        met = None if value is None else (value <= limit if op == "<=" else value >= limit)
        return {"value": value, "target": text, "met": met}

    return {
        "spin_rps_vs_nginx_s3_gateway": goal(ratio_of(med, "spin", "nginx-s3gw", "rps"), ">=", 1.0,
                                             "req/s >= 1.0x nginx-s3-gateway's, cache off"),
        "spin_rps_vs_floor": goal(ratio_of(med, "spin", "floor", "rps"), ">=", 0.95,
                                  "req/s >= 0.95x the WASIp3 floor's"),
        "spin_p99_vs_minio_direct": goal(ratio_of(med, "spin", "minio-direct", "p99_ms"), "<=", 1.3,
                                         "p99 <= 1.3x MinIO-direct's"),
        "spin_c1_p99_vs_floor": goal(ratio_of(med, "spin", "floor", "c1_p99_ms"), "<=", 1.2,
                                     "-c1 keep-alive p99 <= 1.2x the floor's"),
        "spin_rss_vs_hello": goal(ratio_of(med, "spin", "hello", "peak_rss_kib"), "<=", 1.2,
                                  "peak RSS under spin up <= 1.2x the WASIp3 hello world's"),
        "memory_flat": goal(growth, "<=", MEMORY_GROWTH_LIMIT_KIB,
                            "spin peak RSS, largest minus smallest large object, < 4 MiB"),
        "cache_hit_vs_minio_direct": goal(ratio_of(med, best_cache, "minio-direct", "rps"), ">=", 1.0,
                                          f"edge-cache hit ({best_cache}) req/s >= 1.0x MinIO-direct's"),
        "cache_hit_vs_nginx_s3_gateway_cache": goal(ratio_of(med, best_cache, "nginx-s3gw-cache", "rps"), ">=", 0.5,
                                                    f"edge-cache hit ({best_cache}) req/s >= 0.5x nginx-s3-gateway's "
                                                    "cache hit"),
        "wasm_bytes": goal(facts["wasm_bytes"], "<=", WASM_LIMIT, f"<= {WASM_LIMIT:,} bytes (512 KiB)"),
    }


def fmt(v, nd=1):
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:,.{nd}f}"
    return f"{v:,}"


def mib(kib) -> float | None:
    return kib / 1024 if kib else None


def write_markdown(result: dict, path: Path) -> None:
    m, p, med, facts = result["machine"], result["params"], result["medians"], result["facts"]
    labels, names = result["labels"], result["targets"]
    lines = [
        "# GIF path benchmark",
        "",
        (
            "Generated by `make bench-quick` (`bench/bench.py --quick`), a smoke run of the harness whose numbers are "
            "not results, "
            if p.get("quick")
            else "Generated by `make bench` (`bench/bench.py`) "
        )
        + f"on {result['finished']}, commit `{m['git']}`, in "
        f"{result['elapsed_s'] / 60:.0f} min. Raw numbers of every run: [results.json](results.json). "
        "Plot: [results.png](results.png).",
        "",
        "## Machine",
        "",
        f"- CPU: {m['cpu_model']}, {m['cores']} cores; {m['memory_gib']} GiB RAM; {m['os']}, kernel {m['kernel']}",
        f"- Load average (1 min) at start / end: {result['loadavg_start']:.2f} / {result['loadavg_end']:.2f}; "
        f"before each measurement: median {fmt(median([r.get('loadavg_before') for r in result['runs']]), 2)}, "
        f"max {fmt(max([r.get('loadavg_before') or 0 for r in result['runs']] or [0]), 2)}. The targets themselves "
        "load the machine to about its core count; more than that means other work shared it: compare ratios "
        "from one run rather than absolute numbers across runs.",
        f"- Spin: {m['tools']['spin']}; wasmtime: {m['tools']['wasmtime']}; MinIO: {m['tools']['minio']}; "
        f"{m['tools']['s3www']} ({m['tools']['s3www_binary']}); "
        f"nginx-s3-gateway: {m['tools'].get('nginx_s3_gateway', '–')}; wrk: {m['tools']['wrk']}; "
        f"nginx: {m['tools']['nginx']}; {m['tools']['rustc']}",
        "",
        "## Method",
        "",
        f"- Load: `wrk -t{p['threads']} -c{p['connections']} -d{p['duration']:g}s --latency` on loopback after a "
        f"{p['warmup']:g}s warm-up, GET of the {facts['gif_bytes']:,}-byte GIF (the hello rows: `/`); "
        f"{p['rounds']} round{'s' if p['rounds'] != 1 else ''}, the targets interleaved in each round (order "
        "rotated), every server started "
        "fresh per round. Medians below. Then, on the same server, "
        f"`wrk -t1 -c1 -d{p['solo_seconds']:g}s --latency`: one kept-alive connection, one request at a time.",
        "- One MinIO (private bucket, seeded by the project's seeder) serves every gateway and the presigned "
        "GET; nginx serves a copy of the GIF from local disk.",
        "- The floor and the hello worlds are `bench/floor-proxy`, a WASIp3 component (spin-sdk 6, "
        "`#[http_service]`), which Spin 4 reuses across requests (128 each, 16 at once); the floor reads "
        "MinIO's body whole and answers complete (why: the notes).",
        f"- nginx-s3-gateway runs from its kit (`run.sh run`, upstream's files unmodified) with "
        f"{m['cores']} NGINX worker processes (one per core; upstream's nginx.conf has 1), the access log off "
        "(as for nginx and s3www; the component writes its access-log line for every request, which `spin up` "
        "copies to its log file and output, and its numbers include that), upstream's `X-Cache-Status` "
        "header on (the check that the cache row hits and the other bypasses), the gateway's GetObject-only "
        "key and the same MinIO. Cache off is the "
        "kit's `PROXY_CACHE=off` (`proxy_cache_bypass`/`proxy_no_cache`: every request goes to MinIO); cache on "
        "is upstream's default cache, measured once the answer says `HIT`.",
        "- Peak RSS: VmHWM of the serving processes (`spin up` and its trigger process; nginx and "
        "nginx-s3-gateway: master + workers; MinIO-direct: MinIO itself, restarted for its round). "
        "Cold start: process spawn to the first "
        "complete, correct 200 (Spin and wasmtime: includes loading the module; MinIO: includes its start-up).",
        "- CPU/request: user+system CPU of the server processes during the measured window divided by requests; "
        "for the gateways also MinIO's CPU per request, and wrk's. wrk, MinIO and the server share the "
        "machine's cores, so when the CPU is saturated req/s ≈ cores ÷ (server + MinIO + wrk CPU per request): "
        "these columns explain the throughput and vary less than req/s on a busy machine.",
        f"- wasmtime = `wasmtime serve {' '.join(SERVE_BASE + VARIANTS[TUNED_VARIANT][1])}` on the precompiled "
        "composition with the variables adapter; see [explore.md](explore.md) for the other serve options.",
        "",
        "### Credentials each target had",
        "",
        "| target | credentials |",
        "|---|---|",
    ]
    creds = result.get("credentials", {})
    for name in names:
        lines.append(f"| {labels[name]} | {creds.get(name, '–')} |")
    lines += [
        "",
        "## Medians",
        "",
        "| target | req/s | p50 ms | p90 ms | p99 ms | peak RSS MiB | cold start ms "
        "| server CPU µs/req | MinIO CPU µs/req | server+MinIO CPU µs/req | wrk CPU µs/req |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in names:
        d = med[name]
        lines.append(f"| {labels[name]} | {fmt(d['rps'])} | {fmt(d['p50_ms'], 2)} | {fmt(d['p90_ms'], 2)} | "
                     f"{fmt(d['p99_ms'], 2)} | {fmt(mib(d['peak_rss_kib']))} | "
                     f"{fmt(d['cold_start_ms'])} | {fmt(d['server_cpu_us_per_req'], 0)} | "
                     f"{fmt(d['minio_cpu_us_per_req'], 0)} | {fmt(d['stack_cpu_us_per_req'], 0)} | "
                     f"{fmt(d['wrk_cpu_us_per_req'], 0)} |")
    if p.get("solo_seconds"):
        lines += ["", "### One kept-alive connection (-c1)", "",
                  f"`wrk -t1 -c1 -d{p['solo_seconds']:g}s --latency` right after each measurement: what a browser "
                  "loading the page meets. A Nagle/delayed-ACK stall shows as p90/p99 near 40 ms.", "",
                  "| target | p50 ms | p90 ms | p99 ms | req/s |", "|---|---:|---:|---:|---:|"]
        for name in names:
            d = med[name]
            lines.append(f"| {labels[name]} | {fmt(d['c1_p50_ms'], 2)} | {fmt(d['c1_p90_ms'], 2)} | "
                         f"{fmt(d['c1_p99_ms'], 2)} | {fmt(d['c1_rps'])} |")
    lines += breakdown(result)
    errs = sum(r["non_2xx"] + r["socket_errors"] + (r.get("c1_errors") or 0) for r in result["runs"])
    lines += [
        "",
        f"Errors (non-2xx + socket errors) over all runs: {errs}.",
        "",
        f"Component size: `gif_gateway.wasm` {facts['wasm_bytes']:,} bytes (what Spin loads); composed with the "
        f"variables adapter {facts['composed_wasm_bytes']:,} bytes; precompiled `.cwasm` {facts['cwasm_bytes']:,} "
        f"bytes (`wasmtime compile` took {facts['wasmtime_compile_ms']:,} ms)"
        + (f"; `floor_proxy.wasm` {facts['floor_wasm_bytes']:,} bytes." if facts.get("floor_wasm_bytes") else "."),
        "",
        "## Ratios (same run)",
        "",
        "| ratio | ratio of medians | median of per-round ratios |",
        "|---|---:|---:|",
    ]
    for key, (a, b, k) in RATIOS.items():
        if a in med and b in med:
            lines.append(f"| {key} | {fmt(ratio_of(med, a, b, k), 2)} | "
                         f"{fmt(per_round_ratio(result['runs'], a, b, k), 2)} |")
    lines += ["", "## Memory with object size", ""]
    if result.get("memory"):
        objs = [pt["object"] for pt in result["memory"][0]["points"]]
        lines += [f"A fresh server per object; `wrk -t1 -c{p['mem_connections']} -d{p['mem_seconds']:g}s` downloads it "
                  f"over and over ({p['mem_connections']} at a time); peak RSS (VmHWM) of the serving processes, MiB "
                  "(requests completed in brackets):", "",
                  "| target | " + " | ".join(objs) + " |", "|---|" + "---:|" * len(objs)]
        for mc in result["memory"]:
            lines.append(f"| {labels[mc['target']]} | " + " | ".join(
                f"{pt['peak_rss_kib'] / 1024:.1f} ({pt['requests']})" for pt in mc["points"]) + " |")
    else:
        lines.append("Skipped (`--large-mib ''`).")
    lines += ["", "## Goals", "", "Issue 18's goals, from the medians of this run. The gateway is the `spin` "
              "row; the cache goals use the better of the two cache-hit rows. A goal not met says **no** next to "
              "what was measured.", "",
              "| goal | target | measured | met |", "|---|---|---:|---|"]
    for key, v in result["verdicts"].items():
        val = v["value"]
        shown = ("–" if val is None else f"{val:,} bytes" if key == "wasm_bytes" else
                 f"{val / 1024:+.1f} MiB" if key == "memory_flat" else fmt(val, 2) + "×")
        met = "–" if v["met"] is None else "yes" if v["met"] else "**no**"
        lines.append(f"| {key} | {v['target']} | {shown} | {met} |")
    lines += ["", "### Reading this run", ""] + analysis(result)
    lines += ["", "RESULT line of this run:", "", "```", result["result_line"], "```", ""]
    notes = Path(__file__).with_name("NOTES.md")
    if notes.exists():
        lines += [notes.read_text().rstrip(), ""]
    path.write_text("\n".join(lines))


BREAKDOWN = [
    # (target, what it adds)
    ("hello", "Spin serving a fixed answer: the WASIp3 instance (reused), the HTTP server, spin-sdk 6"),
    ("hello-vars", f"+ reading the gateway's {len(GATEWAY.component_variables)} Spin variables "
                   "(SPIN_VARIABLE_* env provider)"),
    ("floor", "hello + one outbound request to MinIO, the GIF read whole and answered (no variables, no signing)"),
    ("floor-stream", "the floor handing MinIO's body on as a stream"),
    ("floor-vars", "the floor after the gateway's variable lookups"),
    ("spin", "the gateway: floor + its variable lookups, SigV4 signing, header mapping, range/conditional handling"),
    ("spin-varfile", "the gateway with its variables from a file (`--variable @vars.toml`)"),
    ("cache-hit", "the gateway's edge-cache hit: its variable lookups, one key-value get (SQLite file), no MinIO"),
    ("cache-hit-mem", "the same with the in-memory key-value store"),
]


def breakdown(result: dict) -> list[str]:
    med = result["medians"]
    rows = [(n, what) for n, what in BREAKDOWN if n in med]
    if len(rows) < 2:
        return []
    base = med[rows[0][0]]["server_cpu_us_per_req"] or 0
    out = [
        "",
        "### Where a request's cost goes under Spin (same run)",
        "",
        "Spin's CPU per request (the `spin up` processes only; MinIO's share is in the medians table), step by step:",
        "",
        "| row | what it adds | req/s | Spin CPU µs/req | above hello | peak RSS MiB |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for n, what in rows:
        d = med[n]
        cpu = d["server_cpu_us_per_req"]
        out.append(f"| {n} | {what} | {fmt(d['rps'])} | {fmt(cpu, 0)} | "
                   f"{fmt(cpu - base if cpu is not None else None, 0)} | {fmt(mib(d['peak_rss_kib']))} |")
    return out


def analysis(result: dict) -> list[str]:
    """Plain-language reading of this run's numbers (computed, so it never goes stale)."""
    med, cores = result["medians"], result["machine"]["cores"]
    s, f, d, s3, h = (med.get(n) for n in ("spin", "floor", "minio-direct", "s3www", "hello"))
    g, gc = med.get("nginx-s3gw"), med.get("nginx-s3gw-cache")
    out = []
    if s and g and s["rps"] and g["rps"]:
        out.append(
            f"- Against nginx-s3-gateway (cache off, {cores} workers): the gateway reached {s['rps'] / g['rps']:.2f}× "
            f"its req/s; a request cost nginx {fmt(g['server_cpu_us_per_req'], 0)} µs and MinIO "
            f"{fmt(g['minio_cpu_us_per_req'], 0)} µs, a gateway request Spin {fmt(s['server_cpu_us_per_req'], 0)} µs "
            f"and MinIO {fmt(s['minio_cpu_us_per_req'], 0)} µs.")
    if s and f and s["rps"] and f["rps"]:
        out.append(
            f"- Throughput against the floor. With the CPU saturated, req/s ≈ {cores} cores ÷ (CPU per request of "
            f"Spin + MinIO + wrk). A gateway request cost Spin {fmt(s['server_cpu_us_per_req'], 0)} µs and MinIO "
            f"{fmt(s['minio_cpu_us_per_req'], 0)} µs; a floor request {fmt(f['server_cpu_us_per_req'], 0)} µs and "
            f"{fmt(f['minio_cpu_us_per_req'], 0)} µs. The gateway reached {s['rps'] / f['rps']:.2f}× the floor's req/s."
        )
    if s and f and s.get("c1_p99_ms") and f.get("c1_p99_ms"):
        # A 40 ms stall in more than 1 % of the answers puts p99 above 30 ms.
        stalled, floor_stalled = s["c1_p99_ms"] > 30, f["c1_p99_ms"] > 30
        out.append(
            f"- One kept-alive connection: gateway p50/p90/p99 {fmt(s['c1_p50_ms'], 2)}/{fmt(s['c1_p90_ms'], 2)}/"
            f"{fmt(s['c1_p99_ms'], 2)} ms, floor {fmt(f['c1_p50_ms'], 2)}/{fmt(f['c1_p90_ms'], 2)}/"
            f"{fmt(f['c1_p99_ms'], 2)} ms"
            + (": the gateway still stalls (Nagle + delayed ACK, see the notes)" if stalled else
               ": no 40 ms stall at p99 (head and body reach the client together, see the notes)")
            + ("; the floor itself stalls at p99, so the -c1 goal's ratio compares with a stalled reference: the "
               "gateway's own p99 is the number to read." if floor_stalled else "."))
    if s and d and s["p99_ms"] and d["p99_ms"]:
        out.append(
            f"- Latency at {result['params']['connections']} connections is mostly queueing for the CPU "
            f"(p50 ≈ connections ÷ req/s): gateway p99 {s['p99_ms']:.1f} ms vs MinIO-direct {d['p99_ms']:.1f} ms "
            f"({s['p99_ms'] / d['p99_ms']:.2f}×).")
    if s and h and s["peak_rss_kib"] and h["peak_rss_kib"]:
        out.append(
            f"- Memory: peak RSS under the same load {mib(s['peak_rss_kib']):.0f} MiB for the gateway, "
            f"{mib(h['peak_rss_kib']):.0f} MiB for the hello world ({s['peak_rss_kib'] / h['peak_rss_kib']:.2f}×)"
            + (f"; the floor, which only waits for MinIO, {mib(f['peak_rss_kib']):.0f} MiB "
               f"({f['peak_rss_kib'] / h['peak_rss_kib']:.2f}× the hello world's, see the notes)."
               if f and f["peak_rss_kib"] else "."))
    best = best_cache_row(med)
    c = med.get(best)
    if c and c["rps"] and d and d["rps"]:
        other = med.get("cache-hit-mem" if best == "cache-hit" else "cache-hit")
        out.append(
            f"- Edge cache: a hit ({best}) served {c['rps']:,.0f} req/s, {c['rps'] / d['rps']:.2f}× MinIO-direct's"
            + (f" and {c['rps'] / gc['rps']:.2f}× nginx-s3-gateway's cache hit ({gc['rps']:,.0f} req/s, "
               f"{fmt(gc['server_cpu_us_per_req'], 0)} µs of nginx CPU)" if gc and gc["rps"] else "")
            + f", at {fmt(c['server_cpu_us_per_req'], 0)} µs of Spin CPU and no MinIO request"
            + (f"; the other store configuration {other['rps']:,.0f} req/s." if other and other["rps"] else "."))
    if s and s3 and s["rps"] and s3["rps"]:
        out.append(
            f"- s3www: the gateway reached {s['rps'] / s3['rps']:.2f}× its req/s; an s3www request cost s3www "
            f"{fmt(s3['server_cpu_us_per_req'], 0)} µs and MinIO {fmt(s3['minio_cpu_us_per_req'], 0)} µs "
            "(minio-go's Object.Stat sends a HEAD before the GET).")
    return out or ["(needs the spin row and at least one of floor, minio-direct, hello, nginx-s3gw in the same run)"]


COLORS = {"spin": "#2a7ab9", "spin-varfile": "#5fa8d3", "wasmtime": "#7b68b5", "floor": "#3b9c8f",
          "floor-stream": "#7cc4b9", "floor-vars": "#2d776d",
          "cache-hit": "#1f5f8b", "cache-hit-mem": "#4f8fbf", "hello": "#b0b0b0", "hello-vars": "#c9c9c9",
          "nginx-s3gw": "#c0504d", "nginx-s3gw-cache": "#e3908e", "s3www": "#e08a2c", "minio-direct": "#6b8e23",
          "nginx": "#8c8c8c"}
SHORT = {
    "spin": "gateway (spin)",
    "spin-varfile": "gateway (spin, var file)",
    "wasmtime": "gateway (wasmtime)",
    "floor": "floor (WASIp3 proxy)",
    "floor-stream": "floor, streamed",
    "floor-vars": "floor + lookups",
    "cache-hit": "cache hit (SQLite)",
    "cache-hit-mem": "cache hit (memory)",
    "hello": "hello (WASIp3)",
    "hello-vars": "hello + vars",
    "nginx-s3gw": "nginx-s3-gateway",
    "nginx-s3gw-cache": "nginx-s3-gw cache hit",
    "s3www": "s3www",
    "minio-direct": "MinIO direct",
    "nginx": "nginx (disk)",
}
# Rows that answer without MinIO far faster than any gateway: their req/s bars are clipped.
FAST_ROWS = ("nginx", "hello", "nginx-s3gw-cache")


def write_plot(result: dict, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [n for n in result["targets"]]
    xs = list(range(len(names)))
    colors = [COLORS.get(n, "#444") for n in names]
    med = result["medians"]
    fig, axes = plt.subplots(2, 3, figsize=(17, 9.4))
    panels = [
        ("requests/s, -c32 (higher is better)", "rps", 1, "clip"),
        ("p50 / p99 latency at -c32, ms", "lat", 1, None),
        ("one kept-alive connection (-c1): p50 / p99, ms", "c1", 1, None),
        ("peak RSS, MiB", "peak_rss_kib", 1 / 1024, None),
        ("cold start to first response, ms (log)", "cold_start_ms", 1, "log"),
        ("CPU per request, µs (lower is better)", "cpu", 1, None),
    ]
    for ax, (title, key, scale, yscale) in zip(axes.flat, panels):
        if key == "cpu":
            server = [med[n]["server_cpu_us_per_req"] or 0 for n in names]
            minio = [med[n]["minio_cpu_us_per_req"] or 0 for n in names]
            wrk = [med[n]["wrk_cpu_us_per_req"] or 0 for n in names]
            ax.bar(xs, server, 0.6, color=colors, label="server")
            ax.bar(xs, minio, 0.6, bottom=server, color="#b5c99a", label="MinIO (behind a gateway)")
            ax.bar(xs, wrk, 0.6, bottom=[a + b for a, b in zip(server, minio)], color="#dddddd", label="wrk")
            for x, a, b, w in zip(xs, server, minio, wrk):
                ax.text(x, a + b + w, f"{a + b + w:,.0f}", ha="center", va="bottom", fontsize=7)
            ax.set_ylim(0, max(a + b + w for a, b, w in zip(server, minio, wrk)) * 1.3)
            ax.legend(fontsize=6.5, frameon=False, loc="upper right")
        elif key in ("lat", "c1"):
            k50, k99 = ("p50_ms", "p99_ms") if key == "lat" else ("c1_p50_ms", "c1_p99_ms")
            p50 = [med[n][k50] or 0 for n in names]
            p99 = [med[n][k99] or 0 for n in names]
            ax.bar([x - 0.2 for x in xs], p50, 0.4, color=colors, alpha=0.55, label="p50")
            ax.bar([x + 0.2 for x in xs], p99, 0.4, color=colors, label="p99")
            for x, v in zip(xs, p99):
                ax.text(x + 0.2, v, f"{v:.1f}" if v < 10 else f"{v:.0f}", ha="center", va="bottom", fontsize=7)
            ax.legend(fontsize=7, frameon=False)
        else:
            vals = [(med[n][key] or 0) * scale for n in names]
            # Clip the FAST_ROWS' bars so that the gateways stay readable.
            unclipped = [v for n, v in zip(names, vals) if n not in FAST_ROWS]
            top = max(unclipped or vals) * 1.3 if yscale == "clip" else None
            ax.bar(xs, [min(v, top) if top else v for v in vals], 0.6, color=colors)
            for n, x in zip(names, xs):
                pts = [r[key] * scale for r in result["runs"] if r["target"] == n and r.get(key) is not None]
                pts = [p for p in pts if not top or p <= top]
                ax.plot([x] * len(pts), pts, "k.", markersize=3)
            for x, v in zip(xs, vals):
                label = f"{v:,.0f}" if v >= 10 else f"{v:.1f}"
                if top and v > top:
                    ax.text(x, top * 0.97, label + " ↑", ha="center", va="top", fontsize=6.5, color="white")
                else:
                    ax.text(x, v, label, ha="center", va="bottom", fontsize=7)
            if top:
                ax.set_ylim(0, top * 1.05)
            elif yscale:
                ax.set_yscale(yscale)
        ax.set_title(title, fontsize=9)
        ax.set_xticks(xs)
        ax.set_xticklabels([SHORT.get(n, n) for n in names], fontsize=7, rotation=35, ha="right")
        ax.tick_params(axis="y", labelsize=7)
        ax.spines[["top", "right"]].set_visible(False)
    p, v = result["params"], result["verdicts"]

    def r(key):
        val = v.get(key, {}).get("value")
        return "–" if val is None else f"{val:.2f}×"
    fig.suptitle(
        f"GIF ({result['facts']['gif_bytes'] / 1024:.0f} KiB) over loopback, wrk -t{p['threads']} -c{p['connections']} "
        f"-d{p['duration']:g}s and -t1 -c1, median of {p['rounds']} rounds (dots: each round); "
        f"{result['machine']['cores']} cores, {result['machine']['cpu_model']}, {result['finished'][:10]}, "
        f"load {result['loadavg_start']:.1f}→{result['loadavg_end']:.1f}\n"
        f"gateway under spin up: {r('spin_rps_vs_nginx_s3_gateway')} nginx-s3-gateway's req/s, "
        f"{r('spin_rps_vs_floor')} the floor's, -c1 p99 {r('spin_c1_p99_vs_floor')} the floor's, "
        f"p99 {r('spin_p99_vs_minio_direct')} MinIO-direct's; "
        f".wasm {result['facts']['wasm_bytes'] / 1024:.0f} KiB; edge-cache hit {r('cache_hit_vs_minio_direct')} "
        f"MinIO-direct's, {r('cache_hit_vs_nginx_s3_gateway_cache')} nginx-s3-gateway's cache hit req/s",
        fontsize=9)
    fig.tight_layout(rect=(0, 0, 1, 0.94))
    fig.savefig(path, dpi=100)
    plt.close(fig)


def result_line(med: dict, facts: dict, s3www_upstream: bool, spin_ver: str | None) -> str:
    def g(n, k, nd=0, scale=1.0):
        v = med.get(n, {}).get(k)
        return "NA" if v is None else (f"{v * scale:.{nd}f}" if nd else str(round(v * scale)))
    return (
        f"RESULT spin_rps={g('spin', 'rps')} wasmtime_rps={g('wasmtime', 'rps')} s3www_rps={g('s3www', 'rps')} "
        f"minio_direct_rps={g('minio-direct', 'rps')} nginx_rps={g('nginx', 'rps')} "
        f"spin_p99_ms={g('spin', 'p99_ms', 2)} minio_direct_p99_ms={g('minio-direct', 'p99_ms', 2)} "
        f"spin_cpu_us={g('spin', 'server_cpu_us_per_req')} wasm_bytes={facts['wasm_bytes']} "
        f"s3www={'upstream' if s3www_upstream else 'stand-in'} "
        f"floor_rps={g('floor', 'rps')} cache_hit_rps={g(best_cache_row(med), 'rps')} "
        f"spin_rss_mib={g('spin', 'peak_rss_kib', 1, 1 / 1024)} "
        f"hello_rss_mib={g('hello', 'peak_rss_kib', 1, 1 / 1024)} "
        f"spin_c1_p99_ms={g('spin', 'c1_p99_ms', 2)} floor_c1_p99_ms={g('floor', 'c1_p99_ms', 2)} "
        f"nginx_s3_gateway_rps={g('nginx-s3gw', 'rps')} nginx_s3_gateway_cache_rps={g('nginx-s3gw-cache', 'rps')} "
        f"spin_version={spin_ver or 'NA'}"
    )


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
        "| variant | options (after `-S cli=y`) | req/s | p50 ms | p99 ms | peak RSS MiB | cold start ms "
        "| server CPU µs/req | MinIO CPU µs/req | wrk CPU µs/req |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in result["targets"]:
        d = med[name]
        opts = " ".join(VARIANTS[name.split("[", 1)[1].rstrip("]")][1]) if name.startswith("component[") else "–"
        lines.append(f"| {name} | `{opts}` | {fmt(d['rps'])} | {fmt(d['p50_ms'], 2)} | {fmt(d['p99_ms'], 2)} | "
                     f"{fmt(mib(d['peak_rss_kib']))} | {fmt(d['cold_start_ms'])} | "
                     f"{fmt(d['server_cpu_us_per_req'], 0)} | {fmt(d['minio_cpu_us_per_req'], 0)} | "
                     f"{fmt(d['wrk_cpu_us_per_req'], 0)} |")
    lines += ["", "`aot` variants run `wasmtime compile` output with `--allow-precompiled`; `jit` variants pass "
              "`-C cache=n`, so their cold start includes Cranelift compiling the component.", ""]
    path.write_text("\n".join(lines))


# ---------------------------------------------------------------------------------------------

ALL_TARGETS = ("spin,spin-varfile,wasmtime,floor,floor-stream,floor-vars,cache-hit,cache-hit-mem,hello,hello-vars,"
               "nginx-s3gw,nginx-s3gw-cache,s3www,minio-direct,nginx")
OPTIONAL_TARGETS = {"floor-stream", "floor-vars"}
# What --quick changes; options given on the command line still win.
QUICK = {"rounds": 1, "duration": 3, "warmup": 1, "solo_seconds": 2, "large_mib": "4,16", "mem_seconds": 2}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", 3)))
    ap.add_argument(
        "--duration", type=float, default=float(os.environ.get("BENCH_DURATION", 10)), help="seconds per measurement"
    )
    ap.add_argument(
        "--warmup", type=float, default=float(os.environ.get("BENCH_WARMUP", 2)), help="seconds of warm-up load"
    )
    ap.add_argument("--threads", type=int, default=int(os.environ.get("BENCH_THREADS", 2)))
    ap.add_argument("--connections", type=int, default=int(os.environ.get("BENCH_CONNECTIONS", 32)))
    ap.add_argument("--solo-seconds", type=float, default=float(os.environ.get("BENCH_SOLO_SECONDS", 4)),
                    help="seconds of the one-connection keep-alive load (0 skips it)")
    ap.add_argument("--large-mib", default=os.environ.get("BENCH_LARGE_MIB", "16,64"),
                    help="comma-separated sizes (MiB) of the objects for the memory check ('' skips it)")
    ap.add_argument("--mem-connections", type=int, default=4)
    ap.add_argument("--mem-seconds", type=float, default=3)
    ap.add_argument("--targets", default=os.environ.get("BENCH_TARGETS", ""),
                    help=f"comma-separated subset of {ALL_TARGETS}")
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: " + ", ".join(f"--{k.replace('_', '-')} {v}" for k, v in QUICK.items())
                    + "; results go to .local/bench-quick/ unless --out-dir is given")
    ap.add_argument("--explore", action="store_true", help="compare wasmtime serve options instead")
    ap.add_argument("--variants", default=",".join(VARIANTS), help="with --explore: which of " + ", ".join(VARIANTS))
    ap.add_argument("--out-dir", type=Path, default=None, help="default: bench/ (with --quick: .local/bench-quick/)")
    ap.add_argument("--keep-work", action="store_true", help="keep the temporary work dir (logs, MinIO data)")
    ap.add_argument("--report-only", action="store_true",
                    help="only rewrite results.md and results.png from the results.json in --out-dir")
    args = ap.parse_args()
    if args.quick:
        # Defaults, not overrides: a --duration on the command line beats the quick one.
        ap.set_defaults(**QUICK)
        args = ap.parse_args()
    if args.out_dir is None:
        # A smoke run's numbers are not results: they never land where the committed ones are.
        args.out_dir = ROOT / ".local" / "bench-quick" if args.quick else Path(__file__).resolve().parent
    args.large_mib = [int(x) for x in args.large_mib.split(",") if x.strip()]
    if args.report_only:
        result = json.loads((args.out_dir / "results.json").read_text())
        write_markdown(result, args.out_dir / "results.md")
        write_plot(result, args.out_dir / "results.png")
        print(result["result_line"])
        return 0

    needed = [MINIO_BIN, WASMTIME_BIN, COMPONENT, COMPOSED, SEEDER_BIN, Path(WRK_BIN), Path(NGINX_BIN)]
    if SPIN_BIN and not args.explore:
        needed += [FLOOR_WASM]
    for tool in needed:
        if not Path(tool).exists():
            print(f"error: {tool} is missing; run `make bench` (it builds and installs first)", file=sys.stderr)
            return 2

    if SPIN_BIN and not args.explore:
        version = spin_version(SPIN_BIN)
        if not version or int(version.split(".")[0]) < 4:
            print(f"error: {SPIN_BIN} is Spin {version or '(unknown version)'}; the floor and hello rows are WASIp3 "
                  "components and need Spin >= 4: set SPIN_BIN (e.g. ../shared/spin4/bin/spin)", file=sys.stderr)
            return 2

    if args.explore:
        targets: list[Target] = [Component(v) for v in args.variants.split(",")] + [MinioDirect()]
    else:
        others: list[Target] = [S3www(), MinioDirect(), Nginx()]
        if find_nginx_s3_gateway():
            others = [NginxS3Gateway(cache=False), NginxS3Gateway(cache=True)] + others
        else:
            log("nginx-s3-gateway not found ($NGINX_S3_GATEWAY_DIR, ../shared/anchors/nginx-s3-gateway): "
                "its rows are left out")
        targets = [Component(TUNED_VARIANT, name="wasmtime")] + others
        if SPIN_BIN:
            targets = spin_targets()[:1] + targets[:1] + spin_targets()[1:] + targets[1:]
        else:
            log("spin not found ($SPIN_BIN, PATH, ../shared/spin4/bin): the Spin rows are left out")
        if args.targets:
            wanted = set(args.targets.split(","))
            unknown = wanted - set(ALL_TARGETS.split(","))
            if unknown:
                print(f"error: unknown targets {sorted(unknown)}; known: {ALL_TARGETS}", file=sys.stderr)
                return 2
            targets = [t for t in targets if t.name in wanted]
        else:
            targets = [t for t in targets if t.name not in OPTIONAL_TARGETS]
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
        if not args.explore:
            # Every row answers correctly once before the rounds start: a row that cannot start
            # fails the run in its first minute, not after most of it.
            log("checking that every target answers")
            for t in targets:
                bench.preflight(t)
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
                if t.name in ("spin", "wasmtime", "s3www"):
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
    s3www_upstream = find_s3www()[1]
    result.update({
        "finished": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "elapsed_s": round(time.monotonic() - started_wall, 1),
        "loadavg_end": loadavg(),
        "params": {"rounds": args.rounds, "duration": args.duration, "warmup": args.warmup, "threads": args.threads,
                   "connections": args.connections, "large_mib": args.large_mib,
                   "mem_connections": args.mem_connections, "mem_seconds": args.mem_seconds,
                   "solo_seconds": args.solo_seconds, "quick": args.quick,
                   "wasmtime_serve_options": SERVE_BASE + VARIANTS[TUNED_VARIANT][1],
                   "seeded_with": "seeder"},
        "targets": names,
        "labels": {t.name: t.label for t in targets},
        "credentials": {t.name: t.credentials for t in targets},
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
    result["result_line"] = result_line(med, facts, s3www_upstream, spin_version(SPIN_BIN))
    (args.out_dir / "results.json").write_text(json.dumps(result, indent=1) + "\n")
    write_markdown(result, args.out_dir / "results.md")
    try:
        write_plot(result, args.out_dir / "results.png")
    except ImportError as exc:
        log(f"no plot ({exc}); install the bench venv with scripts/install-bench-tools.sh")
    log(f"wrote results.md, results.json, results.png in {args.out_dir} ({result['elapsed_s']}s)")
    for key, v in result["verdicts"].items():
        state = "n/a" if v["met"] is None else "met" if v["met"] else "NOT met"
        log(f"goal {key}: {v['value']} ({v['target']}) -> {state}")
    errors = {r["target"]: r["non_2xx"] + r["socket_errors"] for r in runs if r["non_2xx"] + r["socket_errors"]}
    if errors:
        log(f"WARNING: error responses or socket errors during the load: {errors}; see results.json")
    print(result["result_line"], flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
