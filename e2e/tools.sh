#!/usr/bin/env bash
# Builds the e2e control-plane binaries into .tools/bin (git-ignored) from pinned Go modules:
#   kube-apiserver, kubectl   from k8s.io/kubernetes   (wrapper module e2e/kube)
#   etcd                      from go.etcd.io/etcd/server/v3 (wrapper module e2e/etcd)
# and downloads the CRD sources the self-test installs (Go modules, read from the module cache).
# No prebuilt downloads: everything comes from the Go module proxy. Idempotent: a stamp per
# group records version + hash of the wrapper's go.mod/go.sum + ldflags, so a warm run is instant
# and any pin change rebuilds.
#
#   e2e/tools.sh                 # build everything (kube etcd crds)
#   e2e/tools.sh kube            # only kube-apiserver + kubectl
#   e2e/tools.sh env             # print pins and paths as KEY=value lines (for other scripts)
#   e2e/tools.sh bump-kube       # regenerate e2e/kube/go.mod from K8S_VERSION, then `go mod tidy`
#   e2e/tools.sh bump-etcd       # same for e2e/etcd and ETCD_VERSION
#
# Adding a component later (kubelet, kube-scheduler, ...): add a `tool` line to e2e/kube/go.mod
# (or a new wrapper module) and its name to KUBE_BINS below.
set -euo pipefail
E2E=$(cd "$(dirname "$0")" && pwd -P) # physical path: compared with /proc/PID/exe
ROOT=$(dirname "$E2E")
TOOLS=$ROOT/.tools
BIN=$TOOLS/bin
STAMPS=$TOOLS/stamps
mkdir -p "$BIN" "$STAMPS"
CLEANUP=()
trap 'rm -rf "${CLEANUP[@]}"' EXIT

# ---- pins ---------------------------------------------------------------------------------
# v1.34.12: the newest 1.34 patch the module proxy serves (its /@v/list stops at v1.34.4, but
# v1.34.5..v1.34.12 are served by exact version). Staging modules are v0.34.12.
K8S_VERSION=v1.34.12
# etcd 3.6 is what Kubernetes 1.34 is built and tested against (its go.mod: etcd client v3.6.4);
# v3.6.16 is the newest 3.6 patch. Its go.mod needs go >= 1.26.0.
ETCD_VERSION=v3.6.16
SPIN_OPERATOR_MODULE=github.com/spinkube/spin-operator
SPIN_OPERATOR_VERSION=v0.6.1
# Same pin as scripts/k8s/tools.sh (kubeconform schemas), so both checks agree.
PROM_OPERATOR_MODULE=github.com/prometheus-operator/prometheus-operator
PROM_OPERATOR_VERSION=v0.85.0
KUBE_BINS="kube-apiserver kubectl"
# -------------------------------------------------------------------------------------------

GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
# GOTOOLCHAIN=local: never fetch another toolchain behind our back; fail clearly instead.
export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS="-trimpath -buildvcs=false -mod=readonly"

step() { printf '==> [e2e-tools] %s\n' "$*" >&2; }
die() { printf 'e2e/tools.sh: %s\n' "$*" >&2; exit 1; }
. "$ROOT/scripts/lib/stamps.sh"
modhash() { cat "$1/go.mod" "$1/go.sum" | sha256sum | cut -c1-16; }
# The module's publication time from the module cache (.info); used as buildDate so that two
# builds of the same pin are identical (SOURCE_DATE_EPOCH-style), instead of "now".
modtime() { (cd "$TOOLS" && GOFLAGS=-mod=mod "$GO" mod download -json "$1" | python3 -c 'import json,sys; print(json.load(open(json.load(sys.stdin)["Info"])).get("Time") or "")'); }
moddir() { (cd "$TOOLS" && GOFLAGS=-mod=mod "$GO" mod download -json "$1" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("Dir") or sys.exit(d.get("Error")))'); }

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
  step "building $KUBE_BINS $K8S_VERSION from k8s.io/kubernetes (cold: ~10+ min on 2 cores)"
  # Build into a temp dir in one `go build` (shared packages compile once), then move into place:
  # an interrupted build never leaves a half-written binary behind a valid stamp.
  tmp=$(mktemp -d "$BIN/.e2e-kube.XXXXXX"); CLEANUP+=("$tmp")
  local pkgs=() ; for b in $KUBE_BINS; do pkgs+=("k8s.io/kubernetes/cmd/$b"); done
  (cd "$E2E/kube" && "$GO" build -ldflags="$ldflags" -o "$tmp/" "${pkgs[@]}")
  for b in $KUBE_BINS; do mv -f "$tmp/$b" "$BIN/$b"; done
  stamp_set e2e-kube "$key"
  step "kube binaries built in $((SECONDS - t0))s: $("$BIN/kube-apiserver" --version)"
}

build_etcd() {
  local key t0=$SECONDS tmp
  grep -q "go.etcd.io/etcd/server/v3 $ETCD_VERSION" "$E2E/etcd/go.mod" || die "e2e/etcd/go.mod does not require etcd $ETCD_VERSION: run e2e/tools.sh bump-etcd"
  key="$ETCD_VERSION $(modhash "$E2E/etcd")"
  if [ -x "$BIN/etcd" ] && stamp_ok e2e-etcd "$key"; then return 0; fi
  step "building etcd $ETCD_VERSION from go.etcd.io/etcd/server/v3"
  tmp=$(mktemp "$BIN/.e2e-etcd.XXXXXX"); CLEANUP+=("$tmp")
  # etcd's own build (scripts/build-binary.sh) only adds the git SHA via
  # -X go.etcd.io/etcd/api/v3/version.GitSHA; the version itself is a constant in that package.
  (cd "$E2E/etcd" && "$GO" build -ldflags="-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=module-$ETCD_VERSION" -o "$tmp" go.etcd.io/etcd/server/v3)
  mv -f "$tmp" "$BIN/etcd"
  stamp_set e2e-etcd "$key"
  step "etcd built in $((SECONDS - t0))s: $("$BIN/etcd" --version | head -1)"
}

fetch_crds() {
  local key="$SPIN_OPERATOR_VERSION $PROM_OPERATOR_VERSION"
  if stamp_ok e2e-crd-modules "$key"; then return 0; fi
  step "downloading CRD sources $SPIN_OPERATOR_MODULE@$SPIN_OPERATOR_VERSION $PROM_OPERATOR_MODULE@$PROM_OPERATOR_VERSION"
  moddir "$SPIN_OPERATOR_MODULE@$SPIN_OPERATOR_VERSION" >/dev/null
  moddir "$PROM_OPERATOR_MODULE@$PROM_OPERATOR_VERSION" >/dev/null
  stamp_set e2e-crd-modules "$key"
}

print_env() {
  fetch_crds
  printf 'K8S_VERSION=%s\nETCD_VERSION=%s\n' "$K8S_VERSION" "$ETCD_VERSION"
  printf 'KUBE_APISERVER=%s\nETCD=%s\nKUBECTL=%s\n' "$BIN/kube-apiserver" "$BIN/etcd" "$BIN/kubectl"
  printf 'SPIN_OPERATOR_CRDS=%s/config/crd/bases\n' "$(moddir "$SPIN_OPERATOR_MODULE@$SPIN_OPERATOR_VERSION")"
  printf 'PROM_OPERATOR_CRDS=%s/example/prometheus-operator-crd\n' "$(moddir "$PROM_OPERATOR_MODULE@$PROM_OPERATOR_VERSION")"
}

# Regenerates e2e/kube/go.mod: require k8s.io/kubernetes $K8S_VERSION and replace every module
# its go.mod points at ./staging with the published v0.<minor>.<patch>. Then tidy fills go.sum
# and the indirect requirements (which MVS resolves to upstream's own versions).
bump_kube() {
  local gomod staging; gomod=$(cd "$TOOLS" && GOFLAGS=-mod=mod "$GO" mod download -json "k8s.io/kubernetes@$K8S_VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')
  staging=$(grep -oE '^[[:space:]]+k8s\.io/[a-z0-9-]+ => \./staging' "$gomod" | awk '{print $1}')
  [ -n "$staging" ] || die "no staging replaces found in $gomod"
  # shellcheck disable=SC2086 # one argument per staging module
  python3 - "$E2E/kube/go.mod" "$K8S_VERSION" $staging <<'EOF'
import re, sys
path, ver, staging = sys.argv[1], sys.argv[2], sys.argv[3:]
text = open(path).read()
header = text[:re.search(r"^module ", text, re.M).start()]   # keep the explanatory comment block
tools = re.search(r"^tool \((.*?)^\)", text, re.S | re.M)
tools = tools.group(1) if tools else "\tk8s.io/kubernetes/cmd/kube-apiserver\n\tk8s.io/kubernetes/cmd/kubectl\n"
staged = "v0." + ver[len("v1."):]
out = header + "module local/e2e/kube\n\ngo 1.25.0\n\ntool (" + tools + ")\n\n"
out += "require k8s.io/kubernetes %s\n\nreplace (\n" % ver
out += "".join("\t%s => %s %s\n" % (m, m, staged) for m in staging) + ")\n"
open(path, "w").write(out)
EOF
  rm -f "$E2E/kube/go.sum"
  (cd "$E2E/kube" && GOFLAGS=-mod=mod "$GO" mod tidy)
  step "e2e/kube/go.mod now pins k8s.io/kubernetes $K8S_VERSION ($(echo "$staging" | wc -l) staging modules)"
}

bump_etcd() {
  sed -i -E "s#^require go\.etcd\.io/etcd/server/v3 .*#require go.etcd.io/etcd/server/v3 $ETCD_VERSION#" "$E2E/etcd/go.mod"
  (cd "$E2E/etcd" && GOFLAGS=-mod=mod "$GO" mod tidy)
  step "e2e/etcd/go.mod now pins etcd $ETCD_VERSION"
}

# One build at a time: apiserver.sh, check scripts and a developer may call this concurrently.
exec 9>"$TOOLS/.e2e-tools.lock"
flock 9

want=${*:-kube etcd crds}
check_go
for w in $want; do
  case $w in
    kube) build_kube ;;
    etcd) build_etcd ;;
    crds) fetch_crds ;;
    env) print_env ;;
    bump-kube) bump_kube ;;
    bump-etcd) bump_etcd ;;
    *) die "unknown target '$w' (kube etcd crds env bump-kube bump-etcd)" ;;
  esac
done
