#!/usr/bin/env bash
# Installs what `make bench` needs on top of the run tools (scripts/install-tools.sh run) and
# `make build`:
#   wrk, nginx      Debian packages `wrk` and `nginx-light` (apt-get): the load generator and the
#                   static-file upper bound (any Debian nginx already installed is used as is)
#   floor-proxy     bench/floor-proxy built for wasm32-wasip2: the minimal Spin proxy and the hello
#                   world the gateway is compared with under `spin up`
#   s3www-compat    bench/s3www-compat, the labelled stand-in measured only when upstream s3www
#                   v1.0.0 is not there ($S3WWW_BIN or ../shared/anchors/bin/s3www; the Go module
#                   proxy refuses github.com/harshavardhana/s3www with 403, so it is not built here)
#   bench-venv      .tools/bench-venv with bench/requirements.txt (botocore to presign, matplotlib)
# Spin itself is not installed: bench.py uses `spin` from PATH, $SPIN_BIN or ../shared/spin/bin.
# Idempotent: every step is skipped when its pinned result is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TOOLS=$ROOT/.tools
mkdir -p "$TOOLS/bin"

step() { printf '==> %s\n' "$*" >&2; }
. "$ROOT/scripts/lib/stamps.sh"
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || missing+=(nginx-light)
if [ ${#missing[@]} -gt 0 ]; then
  step "installing Debian packages: ${missing[*]}"
  # The nginx package would start a system nginx on port 80; the benchmark runs its own on
  # 127.0.0.1 only. A policy-rc.d answering 101 tells the package scripts not to start services.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    as_root sh -c 'printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d'
    trap 'as_root rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  step "wrk and nginx already installed"
fi

step "building bench/floor-proxy (cargo, wasm32-wasip2)"
cargo build --release --locked --target wasm32-wasip2 -p floor-proxy --quiet

compat_hash=$(cat bench/s3www-compat/go.mod bench/s3www-compat/go.sum bench/s3www-compat/main.go | sha256sum | cut -c1-16)
if ! stamp_ok s3www-compat "$compat_hash" || [ ! -x "$TOOLS/bin/s3www-compat" ]; then
  step "building bench/s3www-compat (minio-go v7, the s3www design) into .tools/bin"
  (cd bench/s3www-compat && CGO_ENABLED=0 go build -trimpath -o "$TOOLS/bin/s3www-compat" .)
  stamp_set s3www-compat "$compat_hash"
else
  step "s3www-compat up to date"
fi

req_hash=$(sha256sum bench/requirements.txt | cut -c1-16)
if ! stamp_ok bench-venv "$req_hash" || [ ! -x "$TOOLS/bench-venv/bin/python" ]; then
  step "creating the benchmark virtualenv .tools/bench-venv (botocore, matplotlib)"
  python3 -m venv "$TOOLS/bench-venv"
  "$TOOLS/bench-venv/bin/pip" install --quiet --disable-pip-version-check -r bench/requirements.txt
  stamp_set bench-venv "$req_hash"
else
  step "benchmark virtualenv up to date"
fi
s3www_used="s3www-compat (stand-in for s3www v1.0.0)"
for candidate in "${S3WWW_BIN:-}" "$ROOT/../shared/anchors/bin/s3www" "$TOOLS/bin/s3www"; do
  if [ -n "$candidate" ] && [ -x "$candidate" ]; then s3www_used="upstream s3www ($candidate)"; break; fi
done
spin_used=${SPIN_BIN:-$(command -v spin || true)}
if [ -z "$spin_used" ] && [ -x "$ROOT/../shared/spin/bin/spin" ]; then spin_used=$ROOT/../shared/spin/bin/spin; fi
if [ -n "$spin_used" ]; then spin_used="$("$spin_used" --version 2>/dev/null | head -1) ($spin_used)"; fi
step "benchmark tools ready: $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2), $(/usr/sbin/nginx -v 2>&1 | cut -d' ' -f3), $s3www_used, spin: ${spin_used:-none (the Spin rows are left out)}"
