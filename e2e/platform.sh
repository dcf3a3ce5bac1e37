#!/usr/bin/env bash
# The upstream platform that terraform/main.tf installs from remote Helm charts, for the
# end-to-end cluster where those charts cannot be fetched: prometheus-operator + a Prometheus
# (kube-prometheus-stack), prometheus-adapter with the project's rules, spin-operator (webhooks
# off, so no cert-manager) and the RuntimeClass runtime-class-manager would create. Binaries are
# built from pinned Go modules, images are docker-save tarballs, manifests are our own
# (e2e/platform/*.yaml); CRDs come from the pinned modules.
#
#   e2e/platform.sh images              # build binaries + image tarballs; prints the tar paths
#   e2e/platform.sh chart-images        # the same images under the references the upstream charts
#                                       # render (quay.io/..., registry.k8s.io/..., ghcr.io/...), in
#                                       # target/e2e/images/charts/; kube-state-metrics stays v2.15.0
#   e2e/platform.sh chart-refs          # only print those references (nothing built)
#   e2e/platform.sh load                # images, then e2e/cluster.sh load them
#   e2e/platform.sh deploy [OPTIONS]    # needs KUBECONFIG: CRDs, manifests, wait for rollouts
#   e2e/platform.sh check               # status of operator, Prometheus, adapter, spin-operator
#   e2e/platform.sh delete              # remove everything deploy created, CRDs included
#   e2e/platform.sh render [OPTIONS]    # print the manifests deploy applies (without CRDs)
#   e2e/platform.sh dry-run [OPTIONS]   # server-side dry-run (--validate=strict) of everything
#                                       # against a private loopback API server (e2e/apiserver.sh)
#   e2e/platform.sh local-smoke         # no cluster needed: the three controllers as local processes
#                                       # with their ServiceAccounts' tokens against a loopback API
#                                       # server (tests the RBAC, images in pod specs, SpinApp -> Deployment)
# OPTIONS (defaults = what terraform/main.tf passes):
#   --namespace NS           app namespace in the adapter rules (var.namespace: gif)
#   --replica-service NAME   MinIO replica Service in the adapter rules (gif-minio-replicas)
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
IMAGE_PREFIX=e2e.local
# -------------------------------------------------------------------------------------------

APP_NAMESPACE=gif
REPLICA_SERVICE=gif-minio-replicas
RUNTIME_CLASS=wasmtime-spin-v2
RUNTIME_HANDLER=spin # e2e/cluster.sh: [...containerd.runtimes.spin] (the chart's RCM Shim would say spin-v2)
TIMEOUT=240
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
# With IMAGE_SET=charts, the reference is the one the upstream charts render (CHART_REPO) and the
# tarball goes to $IMAGES/charts/, which the stand-ins' `e2e/cluster.sh load target/e2e/images/*.tar`
# does not pick up.
declare -A CHART_REPO=(
  [prometheus-operator]=quay.io/prometheus-operator/prometheus-operator
  [prometheus-config-reloader]=quay.io/prometheus-operator/prometheus-config-reloader
  [prometheus]=quay.io/prometheus/prometheus
  [prometheus-adapter]=registry.k8s.io/prometheus-adapter/prometheus-adapter
  [spin-operator]=ghcr.io/spinframework/spin-operator
  [kube-state-metrics]=registry.k8s.io/kube-state-metrics/kube-state-metrics
)
IMAGE_SET=
image() {
  local name=$1 tag=$2; shift 2
  local ref=$IMAGE_PREFIX/$name:$tag dir=$IMAGES stamp=e2e-platform-image-$name key a files=()
  if [ "$IMAGE_SET" = charts ]; then
    ref=${CHART_REPO[$name]:?no chart reference for $name}:$tag dir=$IMAGES/charts stamp=e2e-platform-chart-image-$name
  fi
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
  mkdir -p "$IMAGES/$IMAGE_SET"
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

crd_dirs() {
  echo "$(moddir "$PROM_OPERATOR_MODULE@$PROM_OPERATOR_VERSION")/example/prometheus-operator-crd"
  echo "$(moddir "$SPIN_OPERATOR_MODULE@$SPIN_OPERATOR_VERSION")/config/crd/bases"
}
crd_files() { local d; crd_dirs | while read -r d; do find "$d" -maxdepth 1 -name '*.yaml' | sort; done; }

# All manifests except the CRDs, with the adapter ConfigMap rendered from Terraform's template.
cmd_render() {
  local values
  values=$(python3 "$ROOT/scripts/k8s/render_tftpl.py" "$ROOT/terraform/values/prometheus-adapter.yaml.tftpl" \
    "prometheus_url=http://kube-prometheus-stack-prometheus.monitoring.svc" prometheus_port=9090 \
    "namespace=$APP_NAMESPACE" "replica_service=$REPLICA_SERVICE")
  VALUES=$values RUNTIME_CLASS=$RUNTIME_CLASS RUNTIME_HANDLER=$RUNTIME_HANDLER KSM_VERSION=$KUBE_STATE_METRICS_VERSION python3 - "$PLAT" <<'EOF'
import hashlib, os, sys
import yaml

# Multi-line strings as block literals: the ConfigMap's config.yaml stays readable in `render`.
yaml.SafeDumper.add_representer(str, lambda d, s: d.represent_scalar(
    "tag:yaml.org,2002:str", s, style="|" if "\n" in s else None))
plat = sys.argv[1]
values = yaml.safe_load(os.environ["VALUES"])
rules = values.get("rules") or {}
# The chart's config file format, as scripts/k8s/adapter_e2e.py builds it: rules.custom -> rules,
# rules.external -> externalRules (rules.default is false: no built-in rules).
if rules.get("default"):
    sys.exit("rules.default: true is not supported here (the chart's built-in rules are not reproduced)")
config = {"rules": rules.get("custom") or [], "externalRules": rules.get("external") or []}
if rules.get("resource"):
    config["resourceRules"] = rules["resource"]
config_text = yaml.safe_dump(config, sort_keys=False, width=1000)
prom = values["prometheus"]
url = "%s:%s%s" % (prom["url"], prom["port"], prom.get("path") or "")
subst = {
    "@PROMETHEUS_URL@": url,
    "@METRICS_RELIST_INTERVAL@": str(values.get("metricsRelistInterval", "1m")),
    "@LOG_LEVEL@": str(values.get("logLevel", 4)),
    "@CONFIG_SHA256@": hashlib.sha256(config_text.encode()).hexdigest(),
    "@RUNTIME_CLASS@": os.environ["RUNTIME_CLASS"],
    "@RUNTIME_HANDLER@": os.environ["RUNTIME_HANDLER"],
    "@KSM_VERSION@": os.environ["KSM_VERSION"],
}
out = []
for name in ("monitoring.yaml", "kube-state-metrics.yaml", "adapter.yaml", "spin-operator.yaml", "runtimeclass.yaml"):
    text = open(os.path.join(plat, name)).read()
    for k, v in subst.items():
        text = text.replace(k, v)
    if name == "adapter.yaml":
        cm = {"apiVersion": "v1", "kind": "ConfigMap",
              "metadata": {"name": "prometheus-adapter-config", "namespace": "monitoring",
                           "labels": {"app.kubernetes.io/name": "prometheus-adapter",
                                      "app.kubernetes.io/part-of": "e2e-platform"},
                           "annotations": {"e2e.local/source": "terraform/values/prometheus-adapter.yaml.tftpl"}},
              "data": {"config.yaml": config_text}}
        out.append("# Rendered from terraform/values/prometheus-adapter.yaml.tftpl\n" + yaml.safe_dump(cm, sort_keys=False, width=1000))
    out.append(text)
rendered = "\n---\n".join(t.strip("\n") + "\n" for t in out)
left = [l for l in rendered.splitlines() if not l.lstrip().startswith("#") and "@" in l and "@sha256" not in l]
if left:
    sys.exit("unfilled placeholders: %s" % left)
sys.stdout.write(rendered)
EOF
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
  local ns
  for ns in monitoring spin-operator; do
    echo "--- namespace $ns" >&2
    k -n "$ns" get deploy,sts,pods -o wide >&2 2>&1 || true
    k -n "$ns" get events --sort-by=.lastTimestamp 2>/dev/null | tail -15 >&2 || true
  done
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
  local rendered t0
  mkdir -p "$WORK"
  rendered=$WORK/manifests.yaml
  cmd_render > "$rendered"
  install_crds
  k apply --server-side --force-conflicts --field-manager=$FIELD_MANAGER -f "$rendered" >/dev/null
  say "applied $(grep -c '^kind:' "$rendered") objects (${rendered#"$ROOT"/})"
  rollout monitoring deployment/prometheus-operator
  rollout monitoring deployment/kube-state-metrics
  rollout spin-operator deployment/spin-operator
  # The operator creates the StatefulSet shortly after it starts.
  t0=$SECONDS
  until k -n monitoring get statefulset prometheus-kube-prometheus-stack-prometheus >/dev/null 2>&1; do
    [ $((SECONDS - t0)) -lt "$TIMEOUT" ] || { k -n monitoring logs deploy/prometheus-operator --tail=30 --pod-running-timeout=5s >&2 || true; fail_with "the operator created no Prometheus StatefulSet within ${TIMEOUT}s"; }
    sleep 2
  done
  rollout monitoring statefulset/prometheus-kube-prometheus-stack-prometheus
  rollout monitoring deployment/prometheus-adapter
  t0=$SECONDS
  k wait --for=condition=Available --timeout="${TIMEOUT}s" apiservice/v1beta1.custom.metrics.k8s.io apiservice/v1beta1.external.metrics.k8s.io >/dev/null 2>&1 ||
    { k get apiservice v1beta1.custom.metrics.k8s.io v1beta1.external.metrics.k8s.io -o wide >&2 || true; fail_with "metrics APIServices not Available within ${TIMEOUT}s"; }
  say "APIServices custom/external.metrics.k8s.io Available ($((SECONDS - t0))s)"
  say "platform deployed"
}

cmd_check() {
  need_cluster
  local rc=0 out
  echo "## workloads"
  k -n monitoring get deploy,sts,pods -o wide || rc=1
  k -n spin-operator get deploy,pods -o wide || rc=1
  echo "## Prometheus CR"
  k -n monitoring get prometheus kube-prometheus-stack-prometheus \
    -o custom-columns='NAME:.metadata.name,VERSION:.spec.version,AVAILABLE:.status.conditions[?(@.type=="Available")].status,RECONCILED:.status.conditions[?(@.type=="Reconciled")].status,REPLICAS:.status.availableReplicas' || rc=1
  echo "## Prometheus targets (through the API server's service proxy)"
  if out=$(k get --raw /api/v1/namespaces/monitoring/services/kube-prometheus-stack-prometheus:9090/proxy/api/v1/targets 2>&1); then
    echo "$out" | python3 -c 'import json,sys
d=json.load(sys.stdin)["data"]["activeTargets"]
print("active targets: %d" % len(d))
for t in d: print("  %-6s %-40s %s" % (t["health"], t["labels"].get("job", "?"), t["scrapeUrl"]))'
  else echo "not reachable: $out"; rc=1; fi
  echo "## APIServices"
  k get apiservice v1beta1.custom.metrics.k8s.io v1beta1.external.metrics.k8s.io || rc=1
  echo "## custom.metrics.k8s.io/v1beta1 (served by the adapter)"
  if out=$(k get --raw /apis/custom.metrics.k8s.io/v1beta1 2>&1); then
    echo "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print("groupVersion %s, resources: %s" % (d["groupVersion"], sorted(r["name"] for r in d["resources"]) or "none yet (no matching series)"))'
  else echo "not served: $out"; rc=1; fi
  echo "## external.metrics.k8s.io/v1beta1"
  if out=$(k get --raw /apis/external.metrics.k8s.io/v1beta1 2>&1); then
    echo "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print("groupVersion %s, resources: %s" % (d["groupVersion"], sorted(r["name"] for r in d["resources"]) or "none yet (no matching series)"))'
  else echo "not served: $out"; rc=1; fi
  echo "## RuntimeClass"
  k get runtimeclass "$RUNTIME_CLASS" || rc=1
  return $rc
}

cmd_delete() {
  need_cluster
  mkdir -p "$WORK"
  cmd_render > "$WORK/manifests.yaml"
  # APIServices first: an unavailable aggregated API breaks discovery for every client. Then the
  # Prometheus CR while the operator still runs (its StatefulSet goes by owner reference).
  k delete --ignore-not-found --wait=false apiservice v1beta1.custom.metrics.k8s.io v1beta1.external.metrics.k8s.io >/dev/null
  k -n monitoring delete --ignore-not-found --timeout=60s prometheus kube-prometheus-stack-prometheus >/dev/null 2>&1 || true
  k delete --ignore-not-found --timeout="${TIMEOUT}s" -f "$WORK/manifests.yaml" >/dev/null ||
    say "some objects were not deleted within ${TIMEOUT}s (see: kubectl get ns monitoring spin-operator)"
  local args=() f
  while IFS= read -r f; do args+=(-f "$f"); done < <(crd_files)
  k delete --ignore-not-found --timeout="${TIMEOUT}s" "${args[@]}" >/dev/null
  say "platform deleted (namespaces monitoring, spin-operator, cluster RBAC, APIServices, RuntimeClass, CRDs)"
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
  python3 - "$rendered" "$WORK/namespaces.yaml" "$WORK/namespaced.yaml" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
yaml.safe_dump_all([d for d in docs if d["kind"] == "Namespace"], open(sys.argv[2], "w"))
yaml.safe_dump_all([d for d in docs if d["kind"] != "Namespace"], open(sys.argv[3], "w"))
PY
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
  "$ROOT/scripts/k8s/tools.sh" helm promtool >&2
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
  ok() { say "ok: $*"; }
  bad() { say "FAIL: $*"; fails=$((fails + 1)); }
  sa_kubeconfig() { # NS SA -> path of a kubeconfig with that ServiceAccount's token
    local out=$dir/$2.kubeconfig
    python3 - "$KUBECONFIG" "$(k -n "$1" create token "$2" --duration=1h)" "$out" <<'PY'
import sys, yaml
c = yaml.safe_load(open(sys.argv[1])); c["users"][0]["user"] = {"token": sys.argv[2]}
open(sys.argv[3], "w").write(yaml.safe_dump(c))
PY
    echo "$out"
  }
  deploy_args() { # DEPLOYMENT -> its container args, one per line
    python3 - "$rendered" "$1" <<'PY'
import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d["kind"] == "Deployment" and d["metadata"]["name"] == sys.argv[2]:
        print("\n".join(d["spec"]["template"]["spec"]["containers"][0]["args"]))
PY
  }
  free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
  poll() { local n=$1; shift; for _ in $(seq 1 "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 1; done; return 1; }
  local args=() port sts=prometheus-kube-prometheus-stack-prometheus

  # prometheus-operator (std flag package: a repeated flag's last value wins)
  mapfile -t args < <(deploy_args prometheus-operator)
  KUBECONFIG=$(sa_kubeconfig monitoring prometheus-operator) "$BIN/prometheus-operator" "${args[@]}" \
    --web.listen-address="127.0.0.1:$(free_port)" >"$dir/prometheus-operator.log" 2>&1 &
  SMOKE_PIDS+=($!)
  if poll 60 k -n monitoring get statefulset $sts; then
    ok "prometheus-operator (as its ServiceAccount) created StatefulSet $sts"
    if k -n monitoring get statefulset $sts -o json | python3 -c '
import json, sys
s = json.load(sys.stdin)["spec"]["template"]["spec"]
bad = [(c["name"], c["image"], c.get("imagePullPolicy")) for c in s.get("initContainers", []) + s["containers"]
       if not c["image"].startswith("e2e.local/") or c.get("imagePullPolicy") != "IfNotPresent"]
print("\n".join("  %s: %s" % (c["name"], c["image"]) for c in s.get("initContainers", []) + s["containers"]))
sys.exit(1 if bad else 0)'; then ok "Prometheus pod template uses local e2e.local images only, IfNotPresent"
    else bad "non-local image or pull policy in $sts"; fi
  else bad "no StatefulSet $sts after 60s"; fi
  "$BIN/helm" template gif-minio "$ROOT/charts/gif-minio" -n "$APP_NAMESPACE" \
    --show-only templates/servicemonitor.yaml --show-only templates/prometheusrule.yaml | k -n "$APP_NAMESPACE" apply -f - >/dev/null
  prom_config() { k -n monitoring get secret $sts -o jsonpath='{.data.prometheus\.yaml\.gz}' | base64 -d | gunzip; }
  if poll 30 bash -c "$(declare -f k prom_config); KUBECTL=$KUBECTL sts=$sts; prom_config | grep -q 'job_name: serviceMonitor/$APP_NAMESPACE/$REPLICA_SERVICE/'"; then
    ok "gif-minio ServiceMonitors of namespace $APP_NAMESPACE are in the Prometheus config: $(prom_config | grep -c 'job_name: serviceMonitor/') jobs"
  else bad "the gif-minio ServiceMonitors did not reach the Prometheus config"; fi
  if poll 30 bash -c "$KUBECTL -n monitoring get configmap $sts-rulefiles-0 -o jsonpath='{.data}' | grep -q GifMinio"; then
    ok "gif-minio PrometheusRule is in the rule ConfigMap"
  else bad "the gif-minio PrometheusRule did not reach the rule ConfigMap"; fi
  # What the Prometheus pod would load: the generated config and rules, checked by the same
  # Prometheus release's promtool (in-pod paths such as the SA token do not exist here, so
  # --syntax-only).
  prom_config > "$dir/prometheus.yaml" 2>/dev/null
  k -n monitoring get configmap $sts-rulefiles-0 -o json | python3 -c '
import json, os, sys
for name, text in json.load(sys.stdin)["data"].items():
    open(os.path.join(sys.argv[1], name), "w").write(text)' "$(mkdir -p "$dir/rules" && echo "$dir/rules")"
  if "$BIN/promtool" check config --syntax-only "$dir/prometheus.yaml" >"$dir/promtool.log" 2>&1 &&
     "$BIN/promtool" check rules "$dir"/rules/*.yaml >>"$dir/promtool.log" 2>&1; then
    ok "promtool accepts the generated Prometheus config and rule files"
  else bad "promtool rejects the generated config or rules ($dir/promtool.log)"; fi
  grep 'level=error' "$dir/prometheus-operator.log" | head -5 >&2 && bad "prometheus-operator logged errors ($dir/prometheus-operator.log)"

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

  # prometheus-adapter (pflag: last value wins). No Prometheus here: discovery answers, empty.
  mapfile -t args < <(deploy_args prometheus-adapter)
  k -n monitoring get configmap prometheus-adapter-config -o jsonpath='{.data.config\.yaml}' > "$dir/adapter-config.yaml"
  local pa; pa=$(sa_kubeconfig monitoring prometheus-adapter); port=$(free_port)
  "$BIN/adapter" "${args[@]}" --config="$dir/adapter-config.yaml" --prometheus-url=http://127.0.0.1:1 \
    --lister-kubeconfig="$pa" --authentication-kubeconfig="$pa" --authorization-kubeconfig="$pa" \
    --bind-address=127.0.0.1 --secure-port="$port" --cert-dir="$dir/adapter-certs" >"$dir/adapter.log" 2>&1 &
  SMOKE_PIDS+=($!)
  local token; token=$(python3 -c 'import sys,yaml; print(yaml.safe_load(open(sys.argv[1]))["users"][0]["user"]["token"])' "$KUBECONFIG")
  if poll 60 curl -fsk -H "Authorization: Bearer $token" "https://127.0.0.1:$port/apis/custom.metrics.k8s.io/v1beta1"; then
    ok "prometheus-adapter (as its ServiceAccount: delegated authn/authz, lister) serves custom.metrics.k8s.io/v1beta1"
  else bad "prometheus-adapter does not serve custom.metrics.k8s.io ($dir/adapter.log)"; fi
  if [ "$(curl -sk -o /dev/null -w '%{http_code}' "https://127.0.0.1:$port/apis/custom.metrics.k8s.io/v1beta1")" = 403 ]; then
    ok "prometheus-adapter refuses anonymous requests (403)"
  else bad "prometheus-adapter answers anonymous requests"; fi

  local g allowed
  for g in custom.metrics.k8s.io external.metrics.k8s.io; do
    allowed=$(printf '{"apiVersion":"authorization.k8s.io/v1","kind":"SubjectAccessReview","spec":{"user":"system:serviceaccount:kube-system:horizontal-pod-autoscaler","groups":["system:serviceaccounts"],"resourceAttributes":{"group":"%s","resource":"pods","verb":"list","namespace":"%s"}}}' "$g" "$APP_NAMESPACE" |
      k create -f - -o jsonpath='{.status.allowed}')
    if [ "$allowed" = true ]; then ok "HPA controller (kube-system/horizontal-pod-autoscaler) may read $g"
    else bad "HPA controller may not read $g"; fi
  done
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
    --namespace) APP_NAMESPACE=${2:?}; shift 2 ;;
    --replica-service) REPLICA_SERVICE=${2:?}; shift 2 ;;
    --runtime-class) RUNTIME_CLASS=${2:?}; shift 2 ;;
    --runtime-handler) RUNTIME_HANDLER=${2:?}; shift 2 ;;
    --timeout) TIMEOUT=${2:?}; shift 2 ;;
    *) die "unknown option $1" ;;
  esac
done
case $cmd in
  images) cmd_images ;;
  chart-images) IMAGE_SET=charts cmd_images ;;
  chart-refs) IMAGE_SET=charts REFS_ONLY=1 cmd_images ;;
  load) cmd_load ;;
  deploy) cmd_deploy ;;
  check) cmd_check ;;
  delete) cmd_delete ;;
  render) cmd_render ;;
  dry-run) cmd_dry_run ;;
  local-smoke) cmd_local_smoke ;;
  *) usage ;;
esac
