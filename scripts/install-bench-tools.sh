#!/usr/bin/env bash
# Installs what `make bench` needs on top of the run tools (scripts/install-tools.sh run):
#   wrk, nginx      Debian packages `wrk` and `nginx-light` (apt-get): the load generator and the
#                   static-file upper bound (any Debian nginx already installed is used as is)
#   s3www v1.0.0    upstream S3-bucket-over-HTTP server, built with `go install` into .tools/bin
#   bench-venv      .tools/bench-venv with bench/requirements.txt (botocore to presign, matplotlib)
# Idempotent: every step is skipped when its pinned result is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TOOLS=$ROOT/.tools
mkdir -p "$TOOLS/bin"

S3WWW_MODULE=github.com/harshavardhana/s3www
S3WWW_VERSION=v1.0.0

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

# s3www: the real module first. The Go module proxy answers `403 This module version is not
# available` for github.com/harshavardhana/s3www (every version), so on such a machine we build
# bench/s3www-compat instead: the same design (net/http FileServer over minio-go GetObject+Stat),
# same flags and client library. The refusal is remembered in a stamp so later runs do not ask
# again; BENCH_RETRY_S3WWW=1 asks once more. bench.py records which binary it measured.
if [ -x "$TOOLS/bin/s3www" ] && stamp_ok s3www "$S3WWW_VERSION"; then
  step "s3www $S3WWW_VERSION already built"
elif stamp_ok s3www "unavailable:$S3WWW_VERSION" && [ "${BENCH_RETRY_S3WWW:-0}" != 1 ]; then
  step "s3www $S3WWW_VERSION: the Go module proxy refused it earlier (BENCH_RETRY_S3WWW=1 retries); using bench/s3www-compat"
else
  step "building s3www $S3WWW_VERSION (go install $S3WWW_MODULE@$S3WWW_VERSION)"
  if GOBIN=$TOOLS/bin CGO_ENABLED=0 GOFLAGS=-trimpath go install "$S3WWW_MODULE@$S3WWW_VERSION"; then
    stamp_set s3www "$S3WWW_VERSION"
  else
    step "the Go module proxy does not serve $S3WWW_MODULE@$S3WWW_VERSION; falling back to bench/s3www-compat"
    stamp_set s3www "unavailable:$S3WWW_VERSION"
  fi
fi
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
s3www_used="s3www $S3WWW_VERSION"
[ -x "$TOOLS/bin/s3www" ] || s3www_used="s3www-compat (stand-in for s3www $S3WWW_VERSION)"
step "benchmark tools ready: $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2), $(/usr/sbin/nginx -v 2>&1 | cut -d' ' -f3), $s3www_used"
