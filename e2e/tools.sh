#!/usr/bin/env bash
# Builds the e2e control-plane binaries into .tools/bin (git-ignored) from pinned Go modules:
#   kube-apiserver, kubectl   from k8s.io/kubernetes   (wrapper module e2e/kube)
#   etcd                      from go.etcd.io/etcd/server/v3 (wrapper module e2e/etcd)
#   kube-controller-manager, kube-scheduler, kubelet, kube-proxy, kubeadm (same wrapper module e2e/kube)
# the node pieces for e2e/cluster.sh (group `node`), each built in place from its own module:
#   containerd, containerd-shim-runc-v2, ctr   github.com/containerd/containerd/v2
#   runc (cgo, seccomp)                        github.com/opencontainers/runc
#   CNI bridge, host-local, loopback, portmap  github.com/containernetworking/plugins -> .tools/cni/bin
#   coredns                                    github.com/coredns/coredns
#   kube-router (NetworkPolicy enforcer only)  github.com/cloudnativelabs/kube-router/v2 (pins.env)
#   pause (C, gcc -static)                     build/pause/linux/pause.c of k8s.io/kubernetes
#   echo (tiny HTTP server/client)             e2e/node/echo
# and writes the images e2e.local/{pause,coredns,echo} as docker-save tarballs to target/e2e/images
# (images/cmd/imgbuild). It also downloads the CRD sources the self-test installs (Go modules, read
# from the module cache).
# No prebuilt downloads: everything comes from the Go module proxy. Idempotent: a stamp per
# group records version + hash of the wrapper's go.mod/go.sum + ldflags, so a warm run is instant
# and any pin change rebuilds.
#
#   e2e/tools.sh                 # build everything (kube etcd crds node)
#   e2e/tools.sh kube            # only the Kubernetes binaries
#   e2e/tools.sh node            # only containerd, runc, CNI plugins, coredns, pause + images
#   e2e/tools.sh env             # print pins and paths as KEY=value lines (for other scripts)
#   e2e/tools.sh bump-kube       # regenerate e2e/kube/go.mod from K8S_VERSION, then `go mod tidy`
#   e2e/tools.sh bump-etcd       # same for e2e/etcd and ETCD_VERSION
#
# Adding a Kubernetes binary: add a `tool` line to e2e/kube/go.mod and its name to KUBE_BINS below.
# Another Go component: a build_<name> function using gomod_build (in-place build of its module).
set -euo pipefail
E2E=$(cd "$(dirname "$0")" && pwd -P) # physical path: compared with /proc/PID/exe
ROOT=$(dirname "$E2E")
E2E_TAG=tools
# shellcheck source=lib/common.sh
. "$E2E/lib/common.sh"
TOOLS=$ROOT/.tools
BIN=$TOOLS/bin
STAMPS=$TOOLS/stamps
mkdir -p "$BIN" "$STAMPS"
CLEANUP=()
trap 'rm -rf "${CLEANUP[@]}"' EXIT

# ---- pins ---------------------------------------------------------------------------------
# Versions live in pins.env (K8S_VERSION is also the offline checks' schema version).
pins K8S_VERSION ETCD_VERSION CONTAINERD_VERSION RUNC_VERSION CNI_PLUGINS_VERSION COREDNS_VERSION PAUSE_VERSION
# The CRD sources: the same pins as the offline checks (kubeconform schemas) and platform.sh.
pins SPIN_OPERATOR_MODULE SPIN_OPERATOR_VERSION PROM_OPERATOR_MODULE PROM_OPERATOR_VERSION
pins KUBE_ROUTER_MODULE KUBE_ROUTER_VERSION IPSET_DEB_VERSION
KUBE_BINS="kube-apiserver kubectl kube-controller-manager kube-scheduler kubelet kube-proxy kubeadm"
CNI_PLUGINS="main/bridge ipam/host-local main/loopback meta/portmap"
IMAGES=$ROOT/target/e2e/images
CNI_BIN=$TOOLS/cni/bin
# -------------------------------------------------------------------------------------------

GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
# GOTOOLCHAIN=local: never fetch another toolchain behind our back; fail clearly instead.
export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS="-trimpath -buildvcs=false -mod=readonly"

. "$ROOT/scripts/lib/stamps.sh"
modhash() { hash_files "$1/go.mod" "$1/go.sum"; }

check_go() {
  [ -x "$GO" ] || die "go not found (set GO=/path/to/go)"
  local v; v=$("$GO" env GOVERSION)
  # etcd v3.6.16 declares go 1.26.0; k8s v1.34 needs >= 1.24.
  case $v in go1.2[6-9]*|go1.[3-9]*) ;; *) die "need Go >= 1.26 for etcd $ETCD_VERSION, have $v" ;; esac
}

# Version variables as set by Kubernetes' hack/lib/version.sh (kube::version::ldflags): both
# k8s.io/component-base/version and k8s.io/client-go/pkg/version. gitCommit/gitTreeState are only
# set upstream when the commit is known; the module zip carries no commit, so they stay unset.
# -s -w: upstream strips release binaries too (hack/lib/golang.sh, unless DBG=1).
kube_ldflags() {
  local v=${K8S_VERSION#v} date flags="-s -w" pkg key val
  date=$(modtime "k8s.io/kubernetes@$K8S_VERSION")
  local major=${v%%.*} minor; minor=${v#*.}; minor=${minor%%.*}
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    for key in gitVersion gitMajor gitMinor buildDate; do
      case $key in gitVersion) val=$K8S_VERSION ;; gitMajor) val=$major ;; gitMinor) val=$minor ;; buildDate) val=$date ;; esac
      flags+=" -X $pkg.$key=$val"
    done
  done
  printf '%s' "$flags"
}

build_kube() {
  local ldflags key b missing=0 t0=$SECONDS tmp
  # The pin lives in two places (here and e2e/kube/go.mod); refuse to build a mismatch.
  grep -q "k8s.io/kubernetes $K8S_VERSION" "$E2E/kube/go.mod" || die "e2e/kube/go.mod does not require k8s.io/kubernetes $K8S_VERSION: run e2e/tools.sh bump-kube"
  ldflags=$(kube_ldflags)
  key="$K8S_VERSION $(modhash "$E2E/kube") $(printf '%s %s' "$ldflags" "$KUBE_BINS" | sha256sum | cut -c1-16)"
  for b in $KUBE_BINS; do [ -x "$BIN/$b" ] || missing=1; done
  if [ $missing = 0 ] && stamp_ok e2e-kube "$key"; then return 0; fi
  say "building $KUBE_BINS $K8S_VERSION from k8s.io/kubernetes (cold: ~10+ min on 2 cores)"
  # Build into a temp dir in one `go build` (shared packages compile once), then move into place:
  # an interrupted build never leaves a half-written binary behind a valid stamp.
  tmp=$(mktemp -d "$BIN/.e2e-kube.XXXXXX"); CLEANUP+=("$tmp")
  local pkgs=() ; for b in $KUBE_BINS; do pkgs+=("k8s.io/kubernetes/cmd/$b"); done
  (cd "$E2E/kube" && "$GO" build -ldflags="$ldflags" -o "$tmp/" "${pkgs[@]}")
  for b in $KUBE_BINS; do mv -f "$tmp/$b" "$BIN/$b"; done
  stamp_set e2e-kube "$key"
  say "kube binaries built in $((SECONDS - t0))s: $("$BIN/kube-apiserver" --version)"
}

build_etcd() {
  local key t0=$SECONDS tmp
  grep -q "go.etcd.io/etcd/server/v3 $ETCD_VERSION" "$E2E/etcd/go.mod" || die "e2e/etcd/go.mod does not require etcd $ETCD_VERSION: run e2e/tools.sh bump-etcd"
  key="$ETCD_VERSION $(modhash "$E2E/etcd")"
  if [ -x "$BIN/etcd" ] && stamp_ok e2e-etcd "$key"; then return 0; fi
  say "building etcd $ETCD_VERSION from go.etcd.io/etcd/server/v3"
  tmp=$(mktemp "$BIN/.e2e-etcd.XXXXXX"); CLEANUP+=("$tmp")
  # etcd's own build (scripts/build-binary.sh) only adds the git SHA via
  # -X go.etcd.io/etcd/api/v3/version.GitSHA; the version itself is a constant in that package.
  (cd "$E2E/etcd" && "$GO" build -ldflags="-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=module-$ETCD_VERSION" -o "$tmp" go.etcd.io/etcd/server/v3)
  mv -f "$tmp" "$BIN/etcd"
  stamp_set e2e-etcd "$key"
  say "etcd built in $((SECONDS - t0))s: $("$BIN/etcd" --version | head -1)"
}

fetch_crds() {
  local key="$SPIN_OPERATOR_VERSION $PROM_OPERATOR_VERSION"
  if stamp_ok e2e-crd-modules "$key"; then return 0; fi
  say "downloading CRD sources $SPIN_OPERATOR_MODULE@$SPIN_OPERATOR_VERSION $PROM_OPERATOR_MODULE@$PROM_OPERATOR_VERSION"
  moddir "$SPIN_OPERATOR_MODULE@$SPIN_OPERATOR_VERSION" >/dev/null
  moddir "$PROM_OPERATOR_MODULE@$PROM_OPERATOR_VERSION" >/dev/null
  stamp_set e2e-crd-modules "$key"
}

# gomod_build STAMP MODULE VERSION CGO TAGS LDFLAGS OUTDIR PKG...: `go build` inside the module's
# own (read-only) source in the module cache, with its own go.mod/go.sum, so every dependency and
# replace directive is exactly upstream's; no wrapper module can drift from it. Output goes to a
# temp dir first, then moves into OUTDIR (a half-written binary never sits behind a valid stamp).
gomod_build() {
  local stamp=$1 mod=$2 ver=$3 cgo=$4 tags=$5 ldflags=$6 out=$7; shift 7
  local key dir tmp t0=$SECONDS p b missing=0
  key="$ver cgo=$cgo $(printf '%s|%s|%s' "$tags" "$ldflags" "$*" | sha256sum | cut -c1-16)"
  for p in "$@"; do b=${p##*/}; [ "$b" = . ] && b=${mod##*/}; [ -x "$out/$b" ] || missing=1; done
  if [ $missing = 0 ] && stamp_ok "$stamp" "$key"; then return 0; fi
  local names=(); for p in "$@"; do b=${p##*/}; [ "$b" = . ] && b=${mod##*/}; names+=("$b"); done
  say "building ${names[*]} from $mod@$ver (cgo=$cgo tags='$tags')"
  dir=$(moddir "$mod@$ver")
  mkdir -p "$out"; tmp=$(mktemp -d "$out/.build.XXXXXX"); CLEANUP+=("$tmp")
  (cd "$dir" && CGO_ENABLED=$cgo "$GO" build -tags "$tags" -ldflags "$ldflags" -o "$tmp/" "$@")
  for p in "$@"; do b=${p##*/}; [ "$b" = . ] && b=${mod##*/}; mv -f "$tmp/$b" "$out/$b"; done
  stamp_set "$stamp" "$key"
  say "$stamp built in $((SECONDS - t0))s"
}

build_containerd() {
  local m=github.com/containerd/containerd/v2
  # Upstream Makefile flags: urfave_cli_no_docs; the shim gets no_grpc and CGO off, like upstream.
  # no_btrfs: the btrfs snapshotter needs cgo + btrfs headers, and overlayfs is all we use.
  # CGO off for the daemon too: its only cgo user is btrfs.
  local ld="-s -w -X $m/version.Version=$CONTAINERD_VERSION -X $m/version.Revision=module-$CONTAINERD_VERSION -X $m/version.Package=$m"
  gomod_build e2e-containerd "$m" "$CONTAINERD_VERSION" 0 "urfave_cli_no_docs no_btrfs" "$ld" "$BIN" ./cmd/containerd ./cmd/ctr
  gomod_build e2e-containerd-shim "$m" "$CONTAINERD_VERSION" 0 "urfave_cli_no_docs no_btrfs no_grpc" "$ld" "$BIN" ./cmd/containerd-shim-runc-v2
}

build_runc() {
  # runc needs cgo (nsenter's C constructor). The seccomp tag (upstream's default) links
  # libseccomp: without it runc refuses every container whose spec has a seccomp profile, i.e. any
  # pod with seccompProfile: RuntimeDefault (common in charts). Dynamic link: runc runs on this host.
  if ! pkg-config --exists libseccomp 2>/dev/null && [ ! -e /usr/include/seccomp.h ]; then
    die "runc needs libseccomp headers: apt-get install -y libseccomp-dev (and gcc)"
  fi
  gomod_build e2e-runc github.com/opencontainers/runc "$RUNC_VERSION" 1 "seccomp urfave_cli_no_docs" \
    "-s -w -X main.gitCommit=module-$RUNC_VERSION" "$BIN" .
}

build_cni() {
  local m=github.com/containernetworking/plugins p pkgs=()
  for p in $CNI_PLUGINS; do pkgs+=("./plugins/$p"); done
  gomod_build e2e-cni "$m" "$CNI_PLUGINS_VERSION" 0 "" "-s -w -X $m/pkg/utils/buildversion.BuildVersion=$CNI_PLUGINS_VERSION" "$CNI_BIN" "${pkgs[@]}"
}

build_coredns() {
  gomod_build e2e-coredns github.com/coredns/coredns "$COREDNS_VERSION" 0 "" \
    "-s -w -X github.com/coredns/coredns/coremain.GitCommit=module-$COREDNS_VERSION" "$TOOLS/node" .
}

build_kube_router() {
  # Upstream's Makefile sets only these two -X flags (its git commit is unknown in a module zip).
  local v=$KUBE_ROUTER_MODULE/pkg/version
  gomod_build e2e-kube-router "$KUBE_ROUTER_MODULE" "$KUBE_ROUTER_VERSION" 0 "" \
    "-s -w -X $v.Version=$KUBE_ROUTER_VERSION -X $v.BuildDate=$(modtime "$KUBE_ROUTER_MODULE@$KUBE_ROUTER_VERSION")" "$BIN" ./cmd/kube-router
}

build_pause() {
  local src key t0=$SECONDS
  src=$(moddir "k8s.io/kubernetes@$K8S_VERSION")/build/pause/linux/pause.c
  key="$K8S_VERSION $PAUSE_VERSION $(gcc -dumpfullversion 2>/dev/null)"
  if [ -x "$TOOLS/node/pause" ] && stamp_ok e2e-pause "$key"; then return 0; fi
  command -v gcc >/dev/null || die "gcc is needed for pause (apt-get install -y gcc)"
  say "compiling pause $PAUSE_VERSION from $src"
  mkdir -p "$TOOLS/node"
  # Upstream CFLAGS (build/pause/Makefile); REV is the git describe there, the module pin here.
  gcc -Os -Wall -Werror -static -DVERSION="v$PAUSE_VERSION-module-$K8S_VERSION" -o "$TOOLS/node/pause.tmp" "$src"
  strip "$TOOLS/node/pause.tmp" && mv -f "$TOOLS/node/pause.tmp" "$TOOLS/node/pause"
  stamp_set e2e-pause "$key"
  say "pause built in $((SECONDS - t0))s"
}

build_echo() {
  local key; key=$(cat "$E2E/node/echo/go.mod" "$E2E/node/echo/"*.go | sha256sum | cut -c1-16)
  if [ -x "$TOOLS/node/echo" ] && stamp_ok e2e-echo "$key"; then return 0; fi
  say "building echo (e2e/node/echo)"
  (cd "$E2E/node/echo" && "$GO" build -ldflags="-s -w" -o "$TOOLS/node/echo" .)
  stamp_set e2e-echo "$key"
}

# tool_image NAME TAG FILE ARGS...: one image tarball per binary, rebuilt when binary or flags change.
# imgbuild is reproducible (fixed timestamps/ownership), so the digest only moves with the content.
tool_image() {
  local name=$1 tag=$2 file=$3; shift 3
  local out=$IMAGES/$name.tar key
  key="$tag $(sha256sum < "$file" | cut -c1-16) $(printf '%s ' "$@" | sha256sum | cut -c1-16)"
  if [ -s "$out" ] && stamp_ok "e2e-image-$name" "$key"; then return 0; fi
  say "writing image $tag -> ${out#"$ROOT"/}"
  mkdir -p "$IMAGES"
  "$BIN/imgbuild" -tag "$tag" -platform linux/amd64 -out "$out.tmp" "$@" >&2
  mv -f "$out.tmp" "$out"
  stamp_set "e2e-image-$name" "$key"
}

build_images() {
  if [ ! -x "$BIN/imgbuild" ]; then
    say "building imgbuild (images/ Go module)"
    (cd "$ROOT/images" && "$GO" build -o "$BIN/imgbuild" ./cmd/imgbuild)
  fi
  # pause runs as 65535 like upstream's image (its Dockerfile: USER 65535:65535).
  tool_image pause "e2e.local/pause:$PAUSE_VERSION" "$TOOLS/node/pause" \
    -file "$TOOLS/node/pause:/pause:0755" -entrypoint /pause -user 65535:65535
  # CoreDNS as root with only NET_BIND_SERVICE kept (the manifest drops the rest), like kubeadm's
  # Deployment: a non-root user would not get the capability without ambient caps.
  tool_image coredns "e2e.local/coredns:${COREDNS_VERSION#v}" "$TOOLS/node/coredns" \
    -file "$TOOLS/node/coredns:/coredns:0755" -entrypoint /coredns
  tool_image echo "e2e.local/echo:0.1.0" "$TOOLS/node/echo" \
    -file "$TOOLS/node/echo:/echo:0755" -entrypoint /echo -user 65532:65532
}

# Debian packages the node needs and a fresh machine lacks: iptables + conntrack (kube-proxy, the
# bridge and portmap plugins shell out to them), libseccomp-dev + pkg-config (runc's seccomp
# support), the rest for cluster.sh. Installed only when missing.
install_node_packages() {
  local missing=() c
  for c in iptables:iptables conntrack:conntrack ip:iproute2 nsenter:util-linux openssl:openssl curl:curl gcc:gcc pkg-config:pkg-config; do
    command -v "${c%%:*}" >/dev/null 2>&1 || missing+=("${c#*:}")
  done
  [ -e /usr/include/seccomp.h ] || missing+=(libseccomp-dev)
  # kube-router (the NetworkPolicy enforcer) runs `ipset`; the Debian version is pinned in pins.env.
  command -v ipset >/dev/null 2>&1 || missing+=("ipset=$IPSET_DEB_VERSION")
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing Debian packages: ${missing[*]}"
  local sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

build_node() {
  local t0=$SECONDS
  install_node_packages
  build_containerd
  build_runc
  build_cni
  build_coredns
  build_kube_router
  build_pause
  build_echo
  build_images
  [ $((SECONDS - t0)) -lt 2 ] || say "node pieces ready in $((SECONDS - t0))s"
}

print_env() {
  fetch_crds
  printf 'K8S_VERSION=%s\nETCD_VERSION=%s\n' "$K8S_VERSION" "$ETCD_VERSION"
  printf 'KUBE_APISERVER=%s\nETCD=%s\nKUBECTL=%s\n' "$BIN/kube-apiserver" "$BIN/etcd" "$BIN/kubectl"
  printf 'CONTAINERD_VERSION=%s\nRUNC_VERSION=%s\nCNI_PLUGINS_VERSION=%s\nCOREDNS_VERSION=%s\nPAUSE_VERSION=%s\n' \
    "$CONTAINERD_VERSION" "$RUNC_VERSION" "$CNI_PLUGINS_VERSION" "$COREDNS_VERSION" "$PAUSE_VERSION"
  printf 'CNI_BIN=%s\nE2E_IMAGES=%s\n' "$CNI_BIN" "$IMAGES"
  printf 'PAUSE_IMAGE=e2e.local/pause:%s\nCOREDNS_IMAGE=e2e.local/coredns:%s\nECHO_IMAGE=e2e.local/echo:0.1.0\n' "$PAUSE_VERSION" "${COREDNS_VERSION#v}"
  printf 'SPIN_OPERATOR_CRDS=%s/config/crd/bases\n' "$(moddir "$SPIN_OPERATOR_MODULE@$SPIN_OPERATOR_VERSION")"
  printf 'PROM_OPERATOR_CRDS=%s/example/prometheus-operator-crd\n' "$(moddir "$PROM_OPERATOR_MODULE@$PROM_OPERATOR_VERSION")"
}

# Regenerates e2e/kube/go.mod: require k8s.io/kubernetes $K8S_VERSION and replace every module
# its go.mod points at ./staging with the published v0.<minor>.<patch>. Then tidy fills go.sum
# and the indirect requirements (which MVS resolves to upstream's own versions).
bump_kube() {
  local gomod staging; gomod=$(gomod_json "k8s.io/kubernetes@$K8S_VERSION" | python3 "$ROOT/scripts/lib/field.py" json - GoMod)
  staging=$(grep -oE '^[[:space:]]+k8s\.io/[a-z0-9-]+ => \./staging' "$gomod" | awk '{print $1}')
  [ -n "$staging" ] || die "no staging replaces found in $gomod"
  # shellcheck disable=SC2086 # one argument per staging module
  python3 "$E2E/bump_kube_gomod.py" "$E2E/kube/go.mod" "$K8S_VERSION" $staging
  rm -f "$E2E/kube/go.sum"
  (cd "$E2E/kube" && GOFLAGS=-mod=mod "$GO" mod tidy)
  say "e2e/kube/go.mod now pins k8s.io/kubernetes $K8S_VERSION ($(echo "$staging" | wc -l) staging modules)"
}

bump_etcd() {
  sed -i -E "s#^require go\.etcd\.io/etcd/server/v3 .*#require go.etcd.io/etcd/server/v3 $ETCD_VERSION#" "$E2E/etcd/go.mod"
  (cd "$E2E/etcd" && GOFLAGS=-mod=mod "$GO" mod tidy)
  say "e2e/etcd/go.mod now pins etcd $ETCD_VERSION"
}

# One build at a time: apiserver.sh, check scripts and a developer may call this concurrently.
exec 9>"$TOOLS/.e2e-tools.lock"
flock 9

want=${*:-kube etcd crds node}
check_go
for w in $want; do
  case $w in
    kube) build_kube ;;
    etcd) build_etcd ;;
    crds) fetch_crds ;;
    node) build_node ;;
    env) print_env ;;
    bump-kube) bump_kube ;;
    bump-etcd) bump_etcd ;;
    *) die "unknown target '$w' (kube etcd crds node env bump-kube bump-etcd)" ;;
  esac
done
