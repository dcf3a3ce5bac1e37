"""Where things are and how they run: the repository's paths, the binaries and their overrides
(environment variables), and the wasmtime serve variants. Read once at import; nothing here starts a
process except `spin --version`."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from .util import run_text

BENCH_DIR = Path(__file__).resolve().parent.parent
ROOT = BENCH_DIR.parent
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
