#!/usr/bin/env bash
# Builds the three images of the Kubernetes delivery without a Docker engine or a registry, as
# `docker save`-style tarballs that `minikube image load FILE.tar` accepts (one per platform):
#
#   gif-gateway/app:<tag>     scratch: /spin.toml + the component .wasm (run by containerd-shim-spin)
#   gif-gateway/minio:<tag>   scratch: minio + mc + replica-sync, all static, built from pinned modules
#   gif-gateway/seeder:<tag>  scratch: the static musl seeder + /data/animation.gif
#
# usage: scripts/k8s/build-images.sh [--platforms "linux/amd64 linux/arm64"] [--only "app minio seeder"] [--out DIR]
#
# Images are written by images/cmd/imgbuild (go-containerregistry: an empty base, one layer,
# a config; reproducible: fixed timestamps, so the same inputs give the same digest). Digests are
# appended to OUT/digests.txt; put them into the charts' image.digest values to pin by digest.
# Alternative for the app: `spin registry push` to a registry, then set image.repository/tag to it.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
TOOLS=$ROOT/.tools
OUT=$ROOT/target/k8s-images
PLATFORMS="linux/amd64 linux/arm64"
ONLY="app minio seeder"
while [ $# -gt 0 ]; do
  case $1 in
    --platforms) PLATFORMS=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done

# Pins from the project's one pin file (the charts' default tags are checked against it).
# shellcheck source=../../pins.env
. "$ROOT/pins.env"
APP_TAG=$APP_IMAGE_TAG
SEEDER_TAG=$SEEDER_IMAGE_TAG
MINIO_TAG=$MINIO_IMAGE_TAG

SAY_TAG=images
. "$ROOT/scripts/lib/common.sh"
mkdir -p "$OUT" "$TOOLS/bin" "$TOOLS/stamps"
export GOFLAGS="-trimpath -buildvcs=false"

say "building imgbuild and replica-sync (images/ Go module)"
(cd images && CGO_ENABLED=0 go build -o "$TOOLS/bin/imgbuild" ./cmd/imgbuild)

want() { [[ " $ONLY " == *" $1 "* ]]; }
labels=(-label "org.opencontainers.image.source=gif-gateway" -label "org.opencontainers.image.licenses=Apache-2.0")

# Go binary for GOOS/GOARCH, built once per pinned version; the host amd64 MinIO from
# scripts/install-tools.sh (same pin) is reused instead of a second build.
gobin() { # name module version arch -> path
  local name=$1 mod=$2 ver=$3 arch=$4
  local dir=$TOOLS/cross/linux_$arch/$name-$ver
  if [ "$arch" = amd64 ] && [ -x "$TOOLS/bin/$name" ] && [ "$(cat "$TOOLS/stamps/$name" 2>/dev/null)" = "$ver" ]; then
    echo "$TOOLS/bin/$name"; return
  fi
  if [ "$arch" = amd64 ] && [ -x "$TOOLS/bin/$name" ] && [ "$(cat "$TOOLS/stamps/k8s-$name" 2>/dev/null)" = "$ver" ]; then
    echo "$TOOLS/bin/$name"; return
  fi
  if [ ! -x "$dir/$name" ]; then
    say "cross-building $name $ver for linux/$arch (several minutes the first time)"
    mkdir -p "$dir"
    # go install cross-compiles into $GOPATH/bin/linux_<arch>/ (GOBIN must be unset for that).
    env -u GOBIN GOOS=linux GOARCH="$arch" CGO_ENABLED=0 go install -ldflags="-s -w" "$mod@$ver"
    if [ "$arch" = "$(go env GOHOSTARCH)" ]; then cp "$(go env GOPATH)/bin/$name" "$dir/$name"
    else cp "$(go env GOPATH)/bin/linux_$arch/$name" "$dir/$name"; fi
  fi
  echo "$dir/$name"
}

for platform in $PLATFORMS; do
  arch=${platform#linux/}
  case $arch in amd64) rust_target=x86_64-unknown-linux-musl ;; arm64) rust_target=aarch64-unknown-linux-musl ;;
    *) echo "unsupported platform $platform" >&2; exit 2 ;; esac

  if want minio; then
    minio=$(gobin minio "$MINIO_MODULE" "$MINIO_VERSION" "$arch")
    mc=$(gobin mc "$MC_MODULE" "$MC_VERSION" "$arch")
    sync=$TOOLS/cross/linux_$arch/replica-sync
    mkdir -p "$(dirname "$sync")"
    (cd images && GOOS=linux GOARCH="$arch" CGO_ENABLED=0 go build -ldflags="-s -w" -o "$sync" ./cmd/replica-sync)
    say "image gif-gateway/minio:$MINIO_TAG ($platform)"
    "$TOOLS/bin/imgbuild" -tag "gif-gateway/minio:$MINIO_TAG" -platform "$platform" \
      -out "$OUT/minio-$MINIO_TAG-$arch.tar" -digest-file "$OUT/digests.txt" \
      -file "$minio:/usr/bin/minio:0555" -file "$mc:/usr/bin/mc:0555" -file "$sync:/usr/bin/replica-sync:0555" \
      -dir /data:0775:65532 -dir /tmp:01777 \
      -entrypoint /usr/bin/minio -cmd server,/data -user 65532:65532 -env HOME=/tmp -env MC_CONFIG_DIR=/tmp/mc \
      "${labels[@]}" -label "org.opencontainers.image.version=$MINIO_VERSION"
  fi

  if want seeder; then
    [ -f assets/animation.gif ] || { echo "assets/animation.gif is missing" >&2; exit 1; }
    rustup target list --installed | grep -qx "$rust_target" || { say "adding Rust target $rust_target"; rustup target add "$rust_target"; }
    if [ "$arch" = arm64 ] && [ -z "${CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER:-}" ]; then
      if ! command -v aarch64-linux-gnu-gcc >/dev/null; then
        echo "arm64 seeder needs a cross C compiler for ring: apt-get install gcc-aarch64-linux-gnu" >&2; exit 1
      fi
      export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER=aarch64-linux-gnu-gcc CC_aarch64_unknown_linux_musl=aarch64-linux-gnu-gcc
    fi
    if [ "$arch" = amd64 ] && [ -z "${CC_x86_64_unknown_linux_musl:-}" ]; then
      # ring compiles a little C: musl-gcc (Debian musl-tools) if present, else the host gcc,
      # which is fine for ring's freestanding C; rustc links with its self-contained musl crt.
      if command -v musl-gcc >/dev/null; then export CC_x86_64_unknown_linux_musl=musl-gcc
      else export CC_x86_64_unknown_linux_musl=gcc; fi
    fi
    say "building the seeder for $rust_target (static musl)"
    RUSTFLAGS="-C target-feature=+crt-static" cargo build --quiet --release --locked -p seeder --target "$rust_target"
    say "image gif-gateway/seeder:$SEEDER_TAG ($platform)"
    "$TOOLS/bin/imgbuild" -tag "gif-gateway/seeder:$SEEDER_TAG" -platform "$platform" \
      -out "$OUT/seeder-$SEEDER_TAG-$arch.tar" -digest-file "$OUT/digests.txt" \
      -file "target/$rust_target/release/seeder:/usr/bin/seeder:0555" -file "assets/animation.gif:/data/animation.gif:0444" \
      -entrypoint /usr/bin/seeder -user 65532:65532 -env OBJECT_FILE=/data/animation.gif "${labels[@]}"
  fi

  if want app; then
    [ -f spin.toml ] || { echo "spin.toml is missing" >&2; exit 1; }
    # The shim loads /spin.toml and resolves the component's `source` relative to it.
    src=$(python3 scripts/lib/field.py toml spin.toml 'component.*.source')
    case $src in /*|*..*) echo "component source $src must be a relative path" >&2; exit 1 ;; esac
    if [ ! -f "$src" ]; then
      say "building the component ($src)"
      cargo build --quiet --release --locked --target wasm32-wasip2 -p gif-gateway
    fi
    say "image gif-gateway/app:$APP_TAG ($platform)"
    "$TOOLS/bin/imgbuild" -tag "gif-gateway/app:$APP_TAG" -platform "$platform" \
      -out "$OUT/app-$APP_TAG-$arch.tar" -digest-file "$OUT/digests.txt" \
      -file "spin.toml:/spin.toml:0444" -file "$src:/$src:0444" -entrypoint / "${labels[@]}"
  fi
done
tarballs=("$OUT"/*.tar)
say "done: ${#tarballs[@]} tarballs in ${OUT#"$ROOT"/}; load them with: for f in ${OUT#"$ROOT"/}/*-amd64.tar; do minikube image load \$f; done"
