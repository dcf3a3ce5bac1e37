#!/usr/bin/env bash
# Installs what `make bench` needs on top of the run tools (scripts/install-tools.sh run) and
# `make build`:
#   wrk, nginx      Debian packages `wrk` and `nginx` (apt-get): the load generator and the
#                   static-file upper bound (any Debian nginx already installed is used as is)
#   nginx-s3-gateway's packages: `libnginx-mod-http-js`, `libnginx-mod-http-xslt-filter` (its
#                   nginx.conf loads both), `gettext-base` (envsubst) and `curl`, as
#                   ../shared/anchors/nginx-s3-gateway/README.md lists them; the anchor itself is
#                   not copied, the bench package runs its run.sh in place
#   floor-proxy     bench/floor-proxy built for wasm32-wasip2: the WASIp3 (spin-sdk 6) Spin proxy
#                   floor and hello world the gateway is compared with under `spin up`
#   s3www-compat    bench/s3www-compat, the labelled stand-in measured only when upstream s3www
#                   v1.0.0 is not there ($S3WWW_BIN or ../shared/anchors/bin/s3www; the Go module
#                   proxy refuses github.com/harshavardhana/s3www with 403, so it is not built here)
#   bench-venv      .tools/bench-venv with bench/requirements.txt (botocore to presign, matplotlib);
#                   Python >= 3.11, because the bench package reads spin.toml with tomllib
# Spin itself is not installed: the bench package uses $SPIN_BIN, else `spin` on PATH, else
# ../shared/spin4/bin/spin, and needs Spin >= 4 (the floor and hello world are WASIp3 components).
# Idempotent: every step is skipped when its pinned result is already there.
set -euo pipefail
# shellcheck source=lib/installer.sh
. "$(dirname "$0")/lib/installer.sh" # at the root; ROOT, TOOLS; say, die; stamps
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || missing+=(nginx)
# The modules' packages pin the nginx they were built for, so the two always match.
[ -f /usr/lib/nginx/modules/ngx_http_js_module.so ] || missing+=(libnginx-mod-http-js)
[ -f /usr/lib/nginx/modules/ngx_http_xslt_filter_module.so ] || missing+=(libnginx-mod-http-xslt-filter)
command -v envsubst >/dev/null 2>&1 || missing+=(gettext-base)
command -v curl >/dev/null 2>&1 || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  # The nginx package would start a system nginx on port 80; the benchmark runs its own on
  # 127.0.0.1 only. A policy-rc.d answering 101 tells the package scripts not to start services.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    as_root sh -c 'printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d'
    trap 'as_root rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  say "wrk, nginx and nginx-s3-gateway's packages already installed"
fi

say "building bench/floor-proxy (cargo, wasm32-wasip2; spin-sdk 6, WASIp3)"
cargo build --release --locked --target wasm32-wasip2 -p floor-proxy --quiet

compat_hash=$(cat bench/s3www-compat/go.mod bench/s3www-compat/go.sum bench/s3www-compat/main.go | sha256sum | cut -c1-16)
if ! stamp_ok s3www-compat "$compat_hash" || [ ! -x "$TOOLS/bin/s3www-compat" ]; then
  say "building bench/s3www-compat (minio-go v7, the s3www design) into .tools/bin"
  (cd bench/s3www-compat && CGO_ENABLED=0 go build -trimpath -o "$TOOLS/bin/s3www-compat" .)
  stamp_set s3www-compat "$compat_hash"
else
  say "s3www-compat up to date"
fi

python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || { echo "error: the benchmark (bench/gifbench) needs Python >= 3.11 (tomllib); python3 is $(python3 --version 2>&1)" >&2; exit 1; }
req_hash=$(sha256sum bench/requirements.txt | cut -c1-16)
if ! stamp_ok bench-venv "$req_hash" || [ ! -x "$TOOLS/bench-venv/bin/python" ]; then
  say "creating the benchmark virtualenv .tools/bench-venv (botocore, matplotlib)"
  python3 -m venv "$TOOLS/bench-venv"
  "$TOOLS/bench-venv/bin/pip" install --quiet --disable-pip-version-check -r bench/requirements.txt
  stamp_set bench-venv "$req_hash"
else
  say "benchmark virtualenv up to date"
fi
s3www_used="s3www-compat (stand-in for s3www v1.0.0)"
for candidate in "${S3WWW_BIN:-}" "$ROOT/../shared/anchors/bin/s3www" "$TOOLS/bin/s3www"; do
  if [ -n "$candidate" ] && [ -x "$candidate" ]; then s3www_used="upstream s3www ($candidate)"; break; fi
done
spin_used=${SPIN_BIN:-$(command -v spin || true)}
if [ -z "$spin_used" ] && [ -x "$ROOT/../shared/spin4/bin/spin" ]; then spin_used=$ROOT/../shared/spin4/bin/spin; fi
if [ -n "$spin_used" ]; then spin_used="$("$spin_used" --version 2>/dev/null | head -1) ($spin_used)"; fi
s3gw=${NGINX_S3_GATEWAY_DIR:-$ROOT/../shared/anchors/nginx-s3-gateway}
if [ -x "$s3gw/run.sh" ]; then s3gw_used="nginx-s3-gateway ($s3gw)"; else s3gw_used="no nginx-s3-gateway (its rows are left out)"; fi
say "benchmark tools ready: $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2), $(/usr/sbin/nginx -v 2>&1 | cut -d' ' -f3), $s3www_used, $s3gw_used, spin: ${spin_used:-none (the Spin rows are left out)}"
