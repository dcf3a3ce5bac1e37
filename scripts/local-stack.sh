#!/usr/bin/env bash
# `make run`: MinIO on loopback, seeded, with the gateway component in front of it.
#
# State lives in $LOCAL_DIR (default .local/, git-ignored): MinIO's data, generated credentials
# (0600) and stack.env for other scripts. A second run reuses all of it. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

LOCAL_DIR=${LOCAL_DIR:-$ROOT/.local}
MINIO_PORT=${MINIO_PORT:-9000}
MINIO_CONSOLE_PORT=${MINIO_CONSOLE_PORT:-9001}
APP_PORT=${APP_PORT:-3000}
BUCKET=${BUCKET:-gifs}
GIF_KEY=${GIF_KEY:-animation.gif}
GIF_FILE=${GIF_FILE:-$ROOT/assets/animation.gif}
MINIO_BIN=${MINIO_BIN:-$ROOT/.tools/bin/minio}
WASMTIME_BIN=${WASMTIME_BIN:-$ROOT/.tools/bin/wasmtime}
SEEDER_BIN=${SEEDER_BIN:-$ROOT/target/release/seeder}
COMPONENT=$ROOT/target/wasm32-wasip2/release/gif_gateway.wasm
COMPOSED=$ROOT/target/gif_gateway.wasmtime.wasm
# `spin` when it is installed; USE_SPIN=0 forces the wasmtime path.
USE_SPIN=${USE_SPIN:-auto}

. "$ROOT/scripts/lib/common.sh"

for f in "$MINIO_BIN" "$SEEDER_BIN" "$COMPONENT"; do
  [ -e "$f" ] || die "$f is missing; run 'make run' (it builds everything first)"
done

mkdir -p "$LOCAL_DIR/minio-data" "$LOCAL_DIR/logs"
chmod 700 "$LOCAL_DIR"
secrets=$LOCAL_DIR/secrets.env
if [ ! -s "$secrets" ]; then
  say "generating credentials in $secrets (kept for later runs)"
  gen() { head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c "$1"; }
  (umask 077; cat > "$secrets" <<ENV
MINIO_ROOT_USER=root-$(gen 12)
MINIO_ROOT_PASSWORD=$(gen 32)
APP_ACCESS_KEY=gif-gateway-$(gen 8)
APP_SECRET_KEY=$(gen 32)
ENV
  )
fi
chmod 600 "$secrets"
set -a
# shellcheck disable=SC1090  # generated above, at run time
. "$secrets"
set +a

pids=()
# shellcheck disable=SC2329  # invoked by `trap cleanup EXIT` below (a false positive of 0.11)
cleanup() {
  trap - INT TERM EXIT
  rm -f "$LOCAL_DIR/stack.env" "$LOCAL_DIR/stack.env.tmp"
  if [ ${#pids[@]} -gt 0 ]; then
    say "stopping"
    kill "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in "$MINIO_PORT" "$MINIO_CONSOLE_PORT" "$APP_PORT"; do
  port_free "$p" || die "port $p on 127.0.0.1 is in use; set MINIO_PORT, MINIO_CONSOLE_PORT or APP_PORT"
done

MINIO_URL=http://127.0.0.1:$MINIO_PORT
say "starting MinIO on $MINIO_URL (data in $LOCAL_DIR/minio-data, log in $LOCAL_DIR/logs/minio.log)"
# testkit/minio.py holds MinIO's command line and environment for every launcher here; `exec`
# becomes that MinIO, so $! is MinIO's own pid.
MINIO_BIN=$MINIO_BIN python3 -m testkit.minio exec "$LOCAL_DIR/minio-data" --port "$MINIO_PORT" \
  --console-port "$MINIO_CONSOLE_PORT" >"$LOCAL_DIR/logs/minio.log" 2>&1 &
pids+=($!)

say "seeding bucket '$BUCKET'"
MINIO_ENDPOINT=$MINIO_URL BUCKET=$BUCKET OBJECT_KEY=$GIF_KEY OBJECT_FILE=$GIF_FILE "$SEEDER_BIN"

export SPIN_VARIABLE_S3_ENDPOINT=$MINIO_URL
export SPIN_VARIABLE_S3_BUCKET=$BUCKET
export SPIN_VARIABLE_INDEX_OBJECT=$GIF_KEY
export SPIN_VARIABLE_S3_ACCESS_KEY=$APP_ACCESS_KEY
export SPIN_VARIABLE_S3_SECRET_KEY=$APP_SECRET_KEY
# The gateway never needs the root credentials.
unset MINIO_ROOT_USER MINIO_ROOT_PASSWORD

APP_URL=http://127.0.0.1:$APP_PORT
if [ "$USE_SPIN" != 0 ] && command -v spin >/dev/null 2>&1; then
  say "serving with $(spin --version) on $APP_URL"
  # The component's stdout/stderr files go beside the other logs, not into the repository's .spin/.
  spin up --from "$ROOT/spin.toml" --listen "127.0.0.1:$APP_PORT" --log-dir "$LOCAL_DIR/logs" >"$LOCAL_DIR/logs/app.log" 2>&1 &
else
  [ "$USE_SPIN" = 1 ] && die "USE_SPIN=1 but spin is not on PATH"
  [ -e "$COMPOSED" ] || die "$COMPOSED is missing; run 'make build'"
  why="Spin not installed"; [ "$USE_SPIN" = 0 ] && why="USE_SPIN=0"
  say "serving with $("$WASMTIME_BIN" --version | cut -d' ' -f1-2) on $APP_URL ($why; same component, variables adapter composed in)"
  # WASIp3 component: async component model, WASIp3 interfaces, WASIp2 CLI (Rust's std).
  "$WASMTIME_BIN" serve -W component-model-async=y -S p3=y,cli=y --addr "127.0.0.1:$APP_PORT" \
    --env SPIN_VARIABLE_S3_ENDPOINT --env SPIN_VARIABLE_S3_BUCKET --env SPIN_VARIABLE_INDEX_OBJECT \
    --env SPIN_VARIABLE_S3_ACCESS_KEY --env SPIN_VARIABLE_S3_SECRET_KEY \
    "$COMPOSED" >"$LOCAL_DIR/logs/app.log" 2>&1 &
fi
pids+=($!)

for _ in $(seq 1 100); do
  curl -fsS -o /dev/null "$APP_URL/" 2>/dev/null && break
  kill -0 "${pids[-1]}" 2>/dev/null || die "the app exited; see $LOCAL_DIR/logs/app.log"
  sleep 0.2
done
curl -fsS -o /dev/null "$APP_URL/" || die "the app did not answer on $APP_URL; see $LOCAL_DIR/logs/app.log"

# Written whole, then renamed: a script polling for stack.env never reads half of it.
cat >"$LOCAL_DIR/stack.env.tmp" <<ENV
APP_URL=$APP_URL
MINIO_URL=$MINIO_URL
BUCKET=$BUCKET
GIF_KEY=$GIF_KEY
ENV
mv "$LOCAL_DIR/stack.env.tmp" "$LOCAL_DIR/stack.env"
printf '\nThe GIF is at %s/  (object: %s/%s)\nStack details: %s. Press Ctrl-C to stop.\n\n' \
  "$APP_URL" "$APP_URL" "$GIF_KEY" "$LOCAL_DIR/stack.env"

# Whichever process ends first ends the stack; Ctrl-C lands in the INT trap.
set +e
wait -n "${pids[@]}"
status=$?
set -e
die "a service stopped unexpectedly (exit $status); logs are in $LOCAL_DIR/logs"
