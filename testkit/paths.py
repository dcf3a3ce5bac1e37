"""Where the repository's build output, tools and fixtures are. Overridable binaries take their
environment variable (MINIO_BIN, WASMTIME_BIN), as the Makefile's callers set them."""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / ".tools"
BIN = TOOLS / "bin"
MINIO_BIN = Path(os.environ.get("MINIO_BIN", BIN / "minio"))
MC_BIN = BIN / "mc"
WASMTIME_BIN = Path(os.environ.get("WASMTIME_BIN", BIN / "wasmtime"))
WASM_TOOLS_BIN = BIN / "wasm-tools"
SEEDER_BIN = ROOT / "target" / "release" / "seeder"
COMPONENT = ROOT / "target" / "wasm32-wasip2" / "release" / "gif_gateway.wasm"
COMPOSED = ROOT / "target" / "gif_gateway.wasmtime.wasm"
MANIFEST = ROOT / "spin.toml"
GIF = ROOT / "assets" / "animation.gif"
BUCKET = "gifs"
GIF_KEY = "animation.gif"
