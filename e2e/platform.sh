#!/usr/bin/env bash
# The platform images of the end-to-end cluster, and the stand-ins for what the e2e cannot install
# from the upstream charts. Terraform installs kube-prometheus-stack, prometheus-adapter and
# spin-operator (its CRDs and chart) itself (install_platform = true, platform_charts_dir =
# ../shared/upstream-charts, e2e/platform/values/), with images built here from pinned Go modules
# under the references those charts render (never pulled: the nodes have no route out). What
# stays a stand-in: cert-manager (none of its binaries can be built here): its real CRDs from the
# pinned module, and e2e/selfsigned_issuer.py, a host process that issues the spin-operator chart's
# self-signed Certificate and injects its CA into the chart's webhooks; and the RuntimeClass
# runtime-class-manager would create (e2e/platform/runtimeclass.yaml; its node installer edits the
# host's containerd config, so e2e/cluster.sh pre-installs the shim).
#
#   e2e/platform.sh images              # build binaries + image tarballs; prints the tar paths
#   e2e/platform.sh refs                # only print the image references (nothing built)
#   e2e/platform.sh load                # images, then e2e/cluster.sh load them
#   e2e/platform.sh deploy [OPTIONS]    # needs KUBECONFIG: cert-manager's CRDs, the issuer, the
#                                       # RuntimeClass
#   e2e/platform.sh check               # status of the issuer, spin-operator and the RuntimeClass
#   e2e/platform.sh delete              # stop the issuer, remove what deploy created, CRDs included
#   e2e/platform.sh stop                # only stop the issuer (no cluster needed: e2e/run.sh's cleanup)
#   e2e/platform.sh render [OPTIONS]    # print the manifests deploy applies (without CRDs)
# OPTIONS:
#   --runtime-class NAME     RuntimeClass name (charts/gif-gateway spinkube.runtimeClassName)
#   --runtime-handler NAME   its containerd handler: the runtime name e2e/cluster.sh registers
#                            for containerd-shim-spin; default: the chart's spinkube.shim.handler
set -euo pipefail
E2E=$(cd "$(dirname "$0")" && pwd -P)
ROOT=$(dirname "$E2E")
TOOLS=$ROOT/.tools
BIN=$TOOLS/bin
PLAT=$E2E/platform
IMAGES=$ROOT/target/e2e/images
WORK=$ROOT/target/e2e/platform
E2E_TAG=platform SAY_T0=$(date +%s%N) # messages carry the seconds since start
# shellcheck source=lib/common.sh
. "$E2E/lib/common.sh"

# ---- pins ---------------------------------------------------------------------------------
# From pins.env, so that the offline checks' schemas, the CRDs and the controllers agree. The
# wrapper modules in e2e/platform/build/ carry the same versions (build_binaries checks).
pins PROM_OPERATOR_MODULE PROM_OPERATOR_VERSION SPIN_OPERATOR_MODULE SPIN_OPERATOR_VERSION ADAPTER_VERSION \
  KUBE_STATE_METRICS_MODULE KUBE_STATE_METRICS_VERSION CERT_MANAGER_MODULE CERT_MANAGER_CHART_VERSION
PROMETHEUS_VERSION=v3.5.0 # the image tag: pins.env's PROMETHEUS_VERSION v0.305.0 is its Go module version
# -------------------------------------------------------------------------------------------

# The RuntimeClass runtime-class-manager would create from the gif-gateway chart's Shim, whose
# handler e2e/cluster.sh also names the containerd runtime after.
RUNTIME_CLASS=$(chart_value spinkube.runtimeClassName)
RUNTIME_HANDLER=$(chart_value spinkube.shim.handler)
FIELD_MANAGER=e2e-platform
# shellcheck source=SCRIPTDIR/../scripts/lib/stamps.sh
. "$ROOT/scripts/lib/stamps.sh"

GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
export CGO_ENABLED=0 GOTOOLCHAIN=local
GOBUILDFLAGS="-trimpath -buildvcs=false -mod=readonly"
KUBECTL=$BIN/kubectl


# ---- binaries -----------------------------------------------------------------------------

# build_wrapped STAMP WRAPPER_DIR LDFLAGS PKG=OUT... : one `go build` of the wrapper module's
# packages (shared dependencies compile once) into a temp dir, then moved into .tools/bin, so an
# interrupted build never leaves a binary behind a valid stamp.
build_wrapped() {
  local stamp=$1 dir=$2 ldflags=$3; shift 3
  local key spec missing=0 pkgs=() tmp t0=$SECONDS
  key="$(hash_files "$dir/go.mod" "$dir/go.sum") $(printf '%s' "$ldflags" | sha256sum | cut -c1-16)"
  for spec in "$@"; do [ -x "$BIN/${spec#*=}" ] || missing=1; pkgs+=("${spec%=*}"); done
  if [ $missing = 0 ] && stamp_ok "$stamp" "$key"; then return 0; fi
  say "building ${*#*=} from ${dir#"$ROOT"/} (cold: several minutes on 2 cores)"
  mkdir -p "$BIN"
  tmp=$(mktemp -d "$BIN/.e2e-platform.XXXXXX")
  # shellcheck disable=SC2064 # expand now: the trap must remove this very dir
  trap "rm -rf '$tmp'" EXIT
  (cd "$dir" && GOFLAGS="$GOBUILDFLAGS" "$GO" build -ldflags="$ldflags" -o "$tmp/" "${pkgs[@]}")
  local out
  for spec in "$@"; do
    # go build names a binary after the last path element, skipping a major-version suffix (/v2).
    out=$(basename "${spec%=*}"); [[ $out =~ ^v[0-9]+$ ]] && out=$(basename "$(dirname "${spec%=*}")")
    mv -f "$tmp/$out" "$BIN/${spec#*=}"
  done
  rm -rf "$tmp"; trap - EXIT
  stamp_set "$stamp" "$key"
  say "built ${*#*=} in $((SECONDS - t0))s"
}

build_binaries() {
  local pv="github.com/prometheus/common/version" v
  # The pins live here and in the wrapper go.mod files; refuse to build a mismatch.
  grep -qE "^[[:space:]]*$PROM_OPERATOR_MODULE $PROM_OPERATOR_VERSION( |\$)" "$PLAT/build/prometheus-operator/go.mod" ||
    die "e2e/platform/build/prometheus-operator/go.mod does not require $PROM_OPERATOR_MODULE $PROM_OPERATOR_VERSION (edit it, then go mod tidy)"
  grep -qE "^[[:space:]]*$SPIN_OPERATOR_MODULE $SPIN_OPERATOR_VERSION( |\$)" "$PLAT/build/spin-operator/go.mod" ||
    die "e2e/platform/build/spin-operator/go.mod does not require $SPIN_OPERATOR_MODULE $SPIN_OPERATOR_VERSION (edit it, then go mod tidy)"
  grep -qE "^[[:space:]]*(require )?$KUBE_STATE_METRICS_MODULE $KUBE_STATE_METRICS_VERSION( |\$)" "$PLAT/build/kube-state-metrics/go.mod" ||
    die "e2e/platform/build/kube-state-metrics/go.mod does not require $KUBE_STATE_METRICS_MODULE $KUBE_STATE_METRICS_VERSION (edit it, then go mod tidy)"
  # -X flags as in upstream's Makefiles (prometheus/common/version); the revision is not in the
  # module zip, so it stays unset, like BuildUser.
  v=${PROM_OPERATOR_VERSION#v}
  build_wrapped e2e-platform-prometheus-operator "$PLAT/build/prometheus-operator" \
    "-s -w -X $pv.Version=$v -X $pv.BuildDate=$(modtime "$PROM_OPERATOR_MODULE@$PROM_OPERATOR_VERSION")" \
    "$PROM_OPERATOR_MODULE/cmd/operator=prometheus-operator" \
    "$PROM_OPERATOR_MODULE/cmd/prometheus-config-reloader=prometheus-config-reloader"
  build_wrapped e2e-platform-spin-operator "$PLAT/build/spin-operator" \
    "-s -w -X $pv.Version=$SPIN_OPERATOR_VERSION -X $pv.BuildDate=$(modtime "$SPIN_OPERATOR_MODULE@$SPIN_OPERATOR_VERSION")" \
    "$SPIN_OPERATOR_MODULE/cmd=spin-operator"
  # kube-state-metrics: upstream's Makefile sets the same prometheus/common/version variables.
  build_wrapped e2e-platform-kube-state-metrics "$PLAT/build/kube-state-metrics" \
    "-s -w -X $pv.Version=$KUBE_STATE_METRICS_VERSION -X $pv.BuildDate=$(modtime "$KUBE_STATE_METRICS_MODULE@$KUBE_STATE_METRICS_VERSION")" \
    "$KUBE_STATE_METRICS_MODULE=kube-state-metrics"
  # Prometheus and prometheus-adapter: the same binaries the offline checks use (stamped there).
  "$ROOT/scripts/k8s/tools.sh" prometheus adapter
  if [ ! -x "$BIN/imgbuild" ] || ! stamp_ok e2e-platform-imgbuild "$(hash_files "$ROOT"/images/go.mod "$ROOT"/images/go.sum "$ROOT"/images/cmd/imgbuild/*.go)" "$BIN/imgbuild"; then
    say "building imgbuild (images/ Go module)"
    (cd "$ROOT/images" && GOFLAGS="-trimpath -buildvcs=false" "$GO" build -o "$BIN/imgbuild" ./cmd/imgbuild)
    stamp_set e2e-platform-imgbuild "$(hash_files "$ROOT"/images/go.mod "$ROOT"/images/go.sum "$ROOT"/images/cmd/imgbuild/*.go)"
  fi
}

# ---- images -------------------------------------------------------------------------------

# image NAME TAG IMGBUILD-ARGS... -> prints the tarball path. Skipped when the stamp (hash of the
# binaries and arguments) matches: imgbuild is reproducible, a rebuild would give the same digest.
# The reference each upstream chart renders for the image (kube-state-metrics: the tag is
# e2e/platform/values/kube_prometheus_stack.yaml's, the chart's v2.17.0 cannot be built here).
declare -A REPO=(
  [prometheus-operator]=quay.io/prometheus-operator/prometheus-operator
  [prometheus-config-reloader]=quay.io/prometheus-operator/prometheus-config-reloader
  [prometheus]=quay.io/prometheus/prometheus
  [prometheus-adapter]=registry.k8s.io/prometheus-adapter/prometheus-adapter
  [spin-operator]=ghcr.io/spinframework/spin-operator
  [kube-state-metrics]=registry.k8s.io/kube-state-metrics/kube-state-metrics
)
image() {
  local name=$1 tag=$2; shift 2
  local ref=${REPO[$name]:?no image reference for $name}:$tag dir=$IMAGES stamp=e2e-platform-image-$name key a files=()
  local out=$dir/$name-$tag-amd64.tar
  if [ -n "${REFS_ONLY:-}" ]; then echo "$ref"; return 0; fi
  for a in "$@"; do case $a in /*:/*) files+=("${a%%:*}") ;; esac; done
  key=$(printf '%s\n' "$ref" "$@" "$(sha256sum "${files[@]}" | cut -c1-64)" | sha256sum | cut -c1-16)
  if ! stamp_ok "$stamp" "$key" "$out"; then
    local t0=$SECONDS line
    line=$("$BIN/imgbuild" -tag "$ref" -platform linux/amd64 -out "$out" "$@" \
      -label "org.opencontainers.image.source=gif-gateway/e2e/platform.sh" -label "org.opencontainers.image.version=$tag")
    # One line per image (latest build wins): tag platform digest
    mkdir -p "$dir"; touch "$dir/digests.txt"
    { grep -v "^$ref " "$dir/digests.txt" || true; echo "$line" | cut -d' ' -f1-3; } > "$dir/digests.txt.new"
    mv "$dir/digests.txt.new" "$dir/digests.txt"
    stamp_set "$stamp" "$key"
    say "image $ref: $(echo "$line" | cut -d' ' -f3) ($((SECONDS - t0))s, $(du -m "$out" | cut -f1) MiB)"
  fi
  echo "$out"
}

cmd_images() {
  [ -n "${REFS_ONLY:-}" ] || build_binaries
  mkdir -p "$IMAGES"
  # Users and entrypoints as in the upstream images (busybox nobody / distroless nonroot). Only
  # the static binary: no shell, no CA bundle (nothing here talks TLS to the outside).
  image prometheus-operator "$PROM_OPERATOR_VERSION" -file "$BIN/prometheus-operator:/bin/operator:0555" \
    -entrypoint /bin/operator -user 65534:65534
  # The operator starts it with command /bin/prometheus-config-reloader.
  image prometheus-config-reloader "$PROM_OPERATOR_VERSION" \
    -file "$BIN/prometheus-config-reloader:/bin/prometheus-config-reloader:0555" \
    -entrypoint /bin/prometheus-config-reloader -user 65534:65534
  # The operator passes only args, so the entrypoint must be the server (as upstream's image).
  # Prometheus 3 has no console templates/libraries to ship.
  image prometheus "$PROMETHEUS_VERSION" -file "$BIN/prometheus:/bin/prometheus:0555" \
    -dir /prometheus:0775:65534 -dir /etc/prometheus:0755 -workdir /prometheus \
    -entrypoint /bin/prometheus -cmd --config.file=/etc/prometheus/prometheus.yml,--storage.tsdb.path=/prometheus \
    -user 65534:65534
  image prometheus-adapter "$ADAPTER_VERSION" -file "$BIN/adapter:/adapter:0555" -entrypoint /adapter -user 65534:65534
  image spin-operator "$SPIN_OPERATOR_VERSION" -file "$BIN/spin-operator:/manager:0555" -entrypoint /manager -user 65532:65532
  image kube-state-metrics "$KUBE_STATE_METRICS_VERSION" -file "$BIN/kube-state-metrics:/kube-state-metrics:0555" \
    -entrypoint /kube-state-metrics -user 65534:65534
}

# ---- manifests ----------------------------------------------------------------------------

# cert-manager's CRDs as its chart renders them (crds.enabled), from the pinned module: the
# spin-operator chart's Issuer and Certificate are then checked against their real schemas.
cert_manager_crds() {
  python3 "$E2E/platform_tool.py" cert-manager-crds "$(moddir "$CERT_MANAGER_MODULE@$CERT_MANAGER_CHART_VERSION")/deploy/crds"
}

# The stand-ins' manifests (CRDs excepted), placeholders filled.
cmd_render() {
  RUNTIME_CLASS=$RUNTIME_CLASS RUNTIME_HANDLER=$RUNTIME_HANDLER python3 "$E2E/platform_tool.py" render "$PLAT"
}

# ---- cluster operations -------------------------------------------------------------------

need_cluster() {
  [ -n "${KUBECONFIG:-}" ] || die "KUBECONFIG is not set (e.g. eval \"\$(e2e/cluster.sh env)\")"
  # A missing file would make kubectl silently fall back to localhost:8080.
  [ -r "$KUBECONFIG" ] || die "KUBECONFIG=$KUBECONFIG does not exist (cluster down?)"
  [ -x "$KUBECTL" ] || "$E2E/tools.sh" kube
  k version --request-timeout=10s >/dev/null 2>&1 || die "API server of $KUBECONFIG not reachable"
}
k() { "$KUBECTL" "$@"; }

ISSUER_PID=$WORK/selfsigned-issuer.pid
ISSUER_LOG=$WORK/selfsigned-issuer.log
issuer_running() { [ -f "$ISSUER_PID" ] && kill -0 "$(cat "$ISSUER_PID")" 2>/dev/null; }
stop_issuer() {
  if issuer_running; then kill "$(cat "$ISSUER_PID")" && say "selfsigned-issuer stopped (pid $(cat "$ISSUER_PID"))"; fi
  rm -f "$ISSUER_PID"
}

cmd_deploy() {
  need_cluster
  local rendered names
  mkdir -p "$WORK"
  rendered=$WORK/manifests.yaml
  cmd_render > "$rendered"
  cert_manager_crds > "$WORK/cert-manager-crds.yaml"
  # Server-side: the issuers CRDs exceed client-side apply's annotation size limit.
  names=$(k apply --server-side --force-conflicts --field-manager=$FIELD_MANAGER -f "$WORK/cert-manager-crds.yaml" -o name)
  # shellcheck disable=SC2086
  k wait --for=condition=Established --timeout=60s $names >/dev/null
  say "cert-manager CRDs established: $(echo "$names" | wc -w) ($CERT_MANAGER_MODULE@$CERT_MANAGER_CHART_VERSION)"
  k apply --server-side --force-conflicts --field-manager=$FIELD_MANAGER -f "$rendered" >/dev/null
  say "applied $(grep -c '^kind:' "$rendered") objects (${rendered#"$ROOT"/})"
  # In the background for the cluster's life: spin-operator's chart, installed later by
  # Terraform, waits for its Certificate's Secret, and its webhooks for their CA.
  stop_issuer
  [ -x "$TOOLS/venv/bin/python" ] || die "$TOOLS/venv is missing (make test-tools): the issuer reads the kubeconfig with PyYAML"
  setsid "$TOOLS/venv/bin/python" "$E2E/selfsigned_issuer.py" >"$ISSUER_LOG" 2>&1 < /dev/null &
  echo $! > "$ISSUER_PID"
  sleep 1
  issuer_running || { cat "$ISSUER_LOG" >&2; die "selfsigned-issuer did not start"; }
  say "selfsigned-issuer running (pid $(cat "$ISSUER_PID"), log ${ISSUER_LOG#"$ROOT"/})"
}

cmd_check() {
  need_cluster
  local rc=0
  echo "## selfsigned-issuer (cert-manager stand-in)"
  if issuer_running; then echo "running, pid $(cat "$ISSUER_PID")"; tail -5 "$ISSUER_LOG"; else echo "not running"; rc=1; fi
  k get certificates.cert-manager.io -A || rc=1
  echo "## spin-operator"
  k -n spin-operator get deploy,pods -o wide || rc=1
  echo "## RuntimeClass"
  k get runtimeclass "$RUNTIME_CLASS" || rc=1
  return $rc
}

cmd_delete() {
  need_cluster
  stop_issuer
  mkdir -p "$WORK"
  cmd_render > "$WORK/manifests.yaml"
  k delete --ignore-not-found -f "$WORK/manifests.yaml" >/dev/null
  cert_manager_crds | k delete --ignore-not-found -f - >/dev/null
  say "platform stand-ins deleted (the issuer, the RuntimeClass, cert-manager's CRDs)"
}

cmd_load() {
  [ -x "$E2E/cluster.sh" ] || die "e2e/cluster.sh not found"
  local tars; tars=$(cmd_images)
  # shellcheck disable=SC2086
  "$E2E/cluster.sh" load $tars
  say "loaded into the cluster: $(echo "$tars" | wc -l) images"
}

cmd=${1:-}; [ $# -gt 0 ] && shift
while [ $# -gt 0 ]; do
  case $1 in
    --runtime-class) RUNTIME_CLASS=${2:?}; shift 2 ;;
    --runtime-handler) RUNTIME_HANDLER=${2:?}; shift 2 ;;
    *) die "unknown option $1" ;;
  esac
done
case $cmd in
  images) cmd_images ;;
  refs) REFS_ONLY=1 cmd_images ;;
  load) cmd_load ;;
  deploy) cmd_deploy ;;
  check) cmd_check ;;
  delete) cmd_delete ;;
  stop) stop_issuer ;;
  render) cmd_render ;;
  *) usage ;;
esac
