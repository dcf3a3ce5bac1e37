"""The rows of the benchmark: how each server (the component under `spin up` and `wasmtime serve`,
the WASIp3 floor, nginx-s3-gateway, s3www, MinIO direct, nginx) is started, configured and
described."""

from __future__ import annotations

import os
import shutil
import string
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from testkit.waits import free_port

from .config import (
    BUCKET,
    COMPOSED,
    GIF,
    GIF_KEY,
    HELLO_BODY,
    MANIFEST,
    NGINX_BIN,
    SERVE_BASE,
    SPIN_BIN,
    VARIANTS,
    WASMTIME_BIN,
    find_nginx_s3_gateway,
    find_s3www,
)
from .processes import descendants, proc_comm
from .variables import GATEWAY

READ_ONLY_KEY = "the gateway's key (seeder-made user, s3:GetObject on the bucket only)"

if TYPE_CHECKING:  # the runner passes itself to each target as its context
    from .runner import Bench


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
        SpinApp("spin", "gateway, `spin up` (variables from SPIN_VARIABLE_* env, as docs/configuration.md runs it)",
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


class Bound(Target):
    """A row without a gateway, which bounds the gateways' numbers: MinIO's own GET below them,
    nginx's static file above. Requests do not go through this server to MinIO."""
    behind_gateway = False


class MinioDirect(Bound):
    """MinIO itself, restarted for each round so that its cold start and peak RSS are its own."""
    name = "minio-direct"
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


class Nginx(Bound):
    """nginx serving a copy of the GIF from local disk (the template in templates/nginx.conf)."""
    name = "nginx"
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
        template = string.Template((Path(__file__).with_name("templates") / "nginx.conf").read_text())
        conf.write_text(template.substitute(prefix=prefix, port=port, www=www, workers=os.cpu_count() or 1))
        started = time.monotonic()
        proc = ctx.procs.start([NGINX_BIN, "-p", f"{prefix}/", "-e", f"{prefix}/error.log", "-c", str(conf)],
                               ctx.logdir / "nginx.log")
        return Running(proc, f"http://127.0.0.1:{port}", started)

    def stop(self, ctx: "Bench", running: Running) -> None:
        ctx.procs.stop(running.proc)  # SIGTERM to the group: master and workers
