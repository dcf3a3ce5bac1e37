#!/usr/bin/env bash
# The platform images of the end-to-end cluster, and the stand-ins for what the e2e cannot install
# from the upstream charts. Terraform installs kube-prometheus-stack and prometheus-adapter itself
# (install_platform = true, platform_charts_dir = ../shared/upstream-charts, e2e/platform/values/),
# with images built here from pinned Go modules under the references those charts render (never
# pulled: the nodes have no route out). What stays a stand-in (e2e/platform/*.yaml): spin-operator
# (its chart needs cert-manager, which the e2e cannot install; webhooks off) with its CRDs from the
# pinned module, and the RuntimeClass runtime-class-manager would create (its node installer edits
# the host's containerd config; e2e/cluster.sh pre-installs the shim).
#
#   e2e/platform.sh images              # build binaries + image tarballs; prints the tar paths
#   e2e/platform.sh refs                # only print the image references (nothing built)
#   e2e/platform.sh load                # images, then e2e/cluster.sh load them
#   e2e/platform.sh deploy [OPTIONS]    # needs KUBECONFIG: spin-operator CRDs + stand-ins, rollout
#   e2e/platform.sh check               # status of spin-operator and the RuntimeClass
#   e2e/platform.sh delete              # remove everything deploy created, CRDs included
#   e2e/platform.sh render [OPTIONS]    # print the manifests deploy applies (without CRDs)
#   e2e/platform.sh dry-run [OPTIONS]   # server-side dry-run (--validate=strict) of everything
#                                       # against a private loopback API server (e2e/apiserver.sh)
#   e2e/platform.sh local-smoke         # no cluster needed: spin-operator as a local process with
#                                       # its ServiceAccount's token against a loopback API server
#                                       # (tests the RBAC, SpinApp -> Deployment)
# OPTIONS:
#   --runtime-class NAME     RuntimeClass name (charts/gif-gateway spinkube.runtimeClassName)
#   --runtime-handler NAME   its containerd handler: the runtime name e2e/cluster.sh registers
#                            for containerd-shim-spin (runtimes.spin); default spin
#   --timeout SECONDS        per wait in deploy (default 240)
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
  KUBE_STATE_METRICS_MODULE KUBE_STATE_METRICS_VERSION
PROMETHEUS_VERSION=v3.5.0 # the image tag: pins.env's PROMETHEUS_VERSION v0.305.0 is its Go module version
# -------------------------------------------------------------------------------------------

APP_NAMESPACE=gif
RUNTIME_CLASS=wasmtime-spin-v2
RUNTIME_HANDLER=spin # e2e/cluster.sh: [...containerd.runtimes.spin] (the chart's RCM Shim would say spin-v2)
TIMEOUT=240
FIELD_MANAGER=e2e-platform
# shellcheck source=SCRIPTDIR/../scripts/lib/stamps.sh
. "$ROOT/scripts/lib/stamps.sh"
# shellcheck source=SCRIPTDIR/../scripts/lib/checks.sh
. "$ROOT/scripts/lib/checks.sh" # ok: local-smoke's passes

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

# spin-operator's CRDs (kube-prometheus-stack's chart brings the prometheus-operator ones).
crd_dirs() {
  echo "$(moddir "$SPIN_OPERATOR_MODULE@$SPIN_OPERATOR_VERSION")/config/crd/bases"
}
crd_files() { local d; crd_dirs | while read -r d; do find "$d" -maxdepth 1 -name '*.yaml' | sort; done; }

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

install_crds() {
  local args=() f names
  while IFS= read -r f; do args+=(-f "$f"); done < <(crd_files)
  # Server-side: the prometheuses CRD exceeds client-side apply's annotation size limit.
  names=$(k apply --server-side --force-conflicts --field-manager=$FIELD_MANAGER "${args[@]}" -o name)
  # shellcheck disable=SC2086
  k wait --for=condition=Established --timeout=60s $names >/dev/null
  say "CRDs established: $(echo "$names" | wc -w)"
}

# Printed when a wait fails: what exists, and the recent events (image, scheduling, probe errors).
diagnose() {
  echo "--- namespace spin-operator" >&2
  k -n spin-operator get deploy,pods -o wide >&2 2>&1 || true
  k -n spin-operator get events --sort-by=.lastTimestamp 2>/dev/null | tail -15 >&2 || true
}
fail_with() { say "FAILED: $*"; diagnose; exit 1; }

rollout() { # NS KIND/NAME
  local t0=$SECONDS
  k -n "$1" rollout status "$2" --timeout="${TIMEOUT}s" >/dev/null 2>&1 || {
    k -n "$1" logs "$2" --all-containers --tail=30 --pod-running-timeout=5s >&2 2>&1 || true
    fail_with "$1/$2 not rolled out within ${TIMEOUT}s"
  }
  say "$1/$2 ready ($((SECONDS - t0))s)"
}

cmd_deploy() {
  need_cluster
  local rendered
  mkdir -p "$WORK"
  rendered=$WORK/manifests.yaml
  cmd_render > "$rendered"
  install_crds
  k apply --server-side --force-conflicts --field-manager=$FIELD_MANAGER -f "$rendered" >/dev/null
  say "applied $(grep -c '^kind:' "$rendered") objects (${rendered#"$ROOT"/})"
  rollout spin-operator deployment/spin-operator
  say "platform stand-ins deployed"
}

cmd_check() {
  need_cluster
  local rc=0
  echo "## workloads"
  k -n spin-operator get deploy,pods -o wide || rc=1
  echo "## RuntimeClass"
  k get runtimeclass "$RUNTIME_CLASS" || rc=1
  return $rc
}

cmd_delete() {
  need_cluster
  mkdir -p "$WORK"
  cmd_render > "$WORK/manifests.yaml"
  k delete --ignore-not-found --timeout="${TIMEOUT}s" -f "$WORK/manifests.yaml" >/dev/null ||
    say "some objects were not deleted within ${TIMEOUT}s (see: kubectl get ns spin-operator)"
  local args=() f
  while IFS= read -r f; do args+=(-f "$f"); done < <(crd_files)
  k delete --ignore-not-found --timeout="${TIMEOUT}s" "${args[@]}" >/dev/null
  say "platform stand-ins deleted (namespace spin-operator, cluster RBAC, RuntimeClass, CRDs)"
}

# Server-side dry-run of CRDs + all manifests against a private loopback API server: real
# validation (--validate=strict), admission, and the CRD schemas of the pinned modules.
cmd_dry_run() {
  local state=${E2E_APISERVER_STATE:-$ROOT/target/e2e/platform-apiserver} rendered=$WORK/manifests.yaml
  mkdir -p "$WORK"
  cmd_render > "$rendered"
  export E2E_APISERVER_STATE=$state
  trap '"$E2E/apiserver.sh" stop >/dev/null 2>&1 || true' EXIT
  KUBECONFIG=$("$E2E/apiserver.sh" start)
  export KUBECONFIG KUBECACHEDIR=$state/kube-cache
  local args=() f
  while IFS= read -r f; do args+=(-f "$f"); done < <(crd_files)
  # The CRDs themselves: dry-run first (strict), then for real so the CRs below can be checked.
  k apply --server-side --dry-run=server --validate=strict --field-manager=$FIELD_MANAGER "${args[@]}" >/dev/null
  local dirs=(); while IFS= read -r f; do dirs+=("$f"); done < <(crd_dirs)
  "$E2E/apiserver.sh" install-crds "${dirs[@]}"
  # Namespaced objects need their namespace to exist (NamespaceLifecycle admission): dry-run the
  # Namespaces, create them for real, then dry-run everything else.
  python3 "$E2E/platform_tool.py" split "$rendered" "$WORK/namespaces.yaml" "$WORK/namespaced.yaml"
  k create --dry-run=server --validate=strict -f "$WORK/namespaces.yaml" | sed 's/^/  /'
  k create --validate=strict -f "$WORK/namespaces.yaml" >/dev/null
  k create --dry-run=server --validate=strict -f "$WORK/namespaced.yaml" | sed 's/^/  /'
  k apply --server-side --dry-run=server --validate=strict --field-manager=$FIELD_MANAGER -f "$rendered" >/dev/null
  say "dry-run OK: $(grep -c '^kind:' "$rendered") objects + $(( ${#args[@]} / 2 )) CRDs, create and server-side apply, --validate=strict"
}

# Without a cluster: the three controllers as local processes against a private loopback API
# server, each with the token of its own ServiceAccount and the args of its Deployment, so the
# RBAC above is what is tested (not the admin). Checks that the operator builds the Prometheus
# StatefulSet with the local images and picks up the charts' ServiceMonitors/PrometheusRule from
# another namespace, that spin-operator turns the gif-gateway SpinApp into a Deployment with the
# RuntimeClass, that the adapter serves custom.metrics.k8s.io with delegated auth, and that the
# HPA controller's identity may read the metrics APIs.
cmd_local_smoke() {
  local state=$ROOT/target/e2e/platform-smoke-apiserver dir=$WORK/smoke rendered fails=0
  SMOKE_PIDS=() # global: the EXIT trap runs after this function's locals are gone
  rendered=$dir/manifests.yaml
  rm -rf "$dir"; mkdir -p "$dir"; chmod 700 "$dir"
  cmd_render > "$rendered"
  "$ROOT/scripts/k8s/tools.sh" helm >&2
  export E2E_APISERVER_STATE=$state
  # shellcheck disable=SC2317 # called from the trap
  cleanup() { local p; for p in "${SMOKE_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; "$E2E/apiserver.sh" stop >/dev/null 2>&1 || true; }
  trap cleanup EXIT
  KUBECONFIG=$("$E2E/apiserver.sh" start)
  export KUBECONFIG KUBECACHEDIR=$state/kube-cache
  local dirs=() f; while IFS= read -r f; do dirs+=("$f"); done < <(crd_dirs)
  "$E2E/apiserver.sh" install-crds "${dirs[@]}"
  k apply --server-side --field-manager=$FIELD_MANAGER -f "$rendered" >/dev/null
  k create namespace "$APP_NAMESPACE" >/dev/null
  bad() { say "FAIL: $*"; fails=$((fails + 1)); }
  sa_kubeconfig() { # NS SA -> path of a kubeconfig with that ServiceAccount's token
    local out=$dir/$2.kubeconfig
    python3 "$E2E/platform_tool.py" sa-kubeconfig "$KUBECONFIG" "$(k -n "$1" create token "$2" --duration=1h)" "$out"
    echo "$out"
  }
  deploy_args() { # DEPLOYMENT -> its container args, one per line
    python3 "$E2E/platform_tool.py" deploy-args "$rendered" "$1"
  }
  free_port() { python3 "$E2E/free_ports.py" 1; }
  poll() { local n=$1; shift; for _ in $(seq 1 "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 1; done; return 1; }
  local args=()

  # spin-operator
  mapfile -t args < <(deploy_args spin-operator)
  KUBECONFIG=$(sa_kubeconfig spin-operator spin-operator) "$BIN/spin-operator" "${args[@]}" \
    --health-probe-bind-address="127.0.0.1:$(free_port)" >"$dir/spin-operator.log" 2>&1 &
  SMOKE_PIDS+=($!)
  "$BIN/helm" template gif-gateway "$ROOT/charts/gif-gateway" -n "$APP_NAMESPACE" --set fullnameOverride=gif-gateway \
    --set "spinkube.runtimeClassName=$RUNTIME_CLASS" --show-only templates/spinkube.yaml --show-only templates/spinapp.yaml |
    k -n "$APP_NAMESPACE" apply -f - >/dev/null
  if poll 60 k -n "$APP_NAMESPACE" get deployment gif-gateway; then
    local rc; rc=$(k -n "$APP_NAMESPACE" get deployment gif-gateway -o jsonpath='{.spec.template.spec.runtimeClassName}')
    if [ "$rc" = "$RUNTIME_CLASS" ]; then ok "spin-operator (as its ServiceAccount) created Deployment gif-gateway with runtimeClassName $rc"
    else bad "Deployment gif-gateway has runtimeClassName '$rc', want $RUNTIME_CLASS"; fi
  else bad "spin-operator created no Deployment for the SpinApp in 60s"; fi
  grep -iE '"?level"?[:=]"?error|forbidden' "$dir/spin-operator.log" | head -5 >&2 && bad "spin-operator logged errors ($dir/spin-operator.log)"

  [ $fails = 0 ] || die "local-smoke: $fails check(s) failed (logs in ${dir#"$ROOT"/})"
  say "local-smoke passed"
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
    --timeout) TIMEOUT=${2:?}; shift 2 ;;
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
  render) cmd_render ;;
  dry-run) cmd_dry_run ;;
  local-smoke) cmd_local_smoke ;;
  *) usage ;;
esac
