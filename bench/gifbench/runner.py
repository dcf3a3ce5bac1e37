"""One benchmark run: sets up the stack, checks every target answers, then measures each target
(wrk load, one-connection latency, CPU, peak RSS, cold start) and the memory-vs-object-size check."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import time
from pathlib import Path

from testkit.waits import sha256

from .config import BUCKET, COMPONENT, COMPOSED, FLOOR_WASM, GIF, GIF_KEY, WASM_FEATURES, WASMTIME_BIN, large_key
from .probe import http_get, wait_first_response
from .processes import Procs, cpu_seconds, descendants, loadavg, vm_hwm_kib
from .stack import Stack
from .targets import Target
from .util import log
from .variables import GATEWAY, toml_str
from .wrk import run_wrk


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
