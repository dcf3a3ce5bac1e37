#!/usr/bin/env bash
# `make e2e`: the whole Kubernetes delivery on a real multi-node cluster built from source
# (E2E_NODES, default 2: e2e/cluster.sh's node table).
#
#   1/6 tools     kube-* v1.34, etcd, containerd, runc, CNI, CoreDNS, the operators, helm,
#                 Prometheus, prometheus-adapter and the Terraform providers, all from pinned Go
#                 modules
#   2/6 images    the project's images (MinIO, seeder, app) and the platform's, as local tarballs
#   3/6 cluster   e2e/cluster.sh up (its own network namespaces), images imported, storage
#   4/6 platform  e2e/platform.sh deploy: the stand-ins for what the e2e cannot install from the
#                 upstream charts (cert-manager: its CRDs and a self-signed issuer; the RuntimeClass)
#   5/6 apply     the project's own `terraform apply` (terraform/, install_platform = true): the
#                 real kube-prometheus-stack, prometheus-adapter and spin-operator charts (and
#                 spin-operator's CRDs) from ../shared/upstream-charts (platform_charts_dir), then
#                 the project's charts
#   6/6 checks    the four files of e2e/tests/, in file order: test_app_metrics.py (per-pod OTLP
#                 series, the app HPA, the dashboard), test_edge_cache.py, test_nodes.py
#                 (NetworkPolicies, spread, a drain under load), test_stack.py (seeder, private
#                 bucket, root password, metrics APIs, both HPAs, data intact, SpinApp,
#                 `terraform destroy`)
#   cleanup, always (not a numbered phase): the cluster is torn down (processes, mounts,
#   namespaces, cgroups)
#
# Environment:
#   SPIN_SHIM=/path/containerd-shim-spin-v2  run the app for real (see e2e/README.md); without it
#                                            the checks that need the app's pods say so and skip
#   E2E_KEEP=1                               leave the cluster running afterwards (e2e/cluster.sh down)
#   E2E_SELECT="not hpas"                    run only the checks matching this pytest -k expression
set -euo pipefail
E2E=$(cd "$(dirname "$0")" && pwd -P)
ROOT=$(dirname "$E2E")
cd "$ROOT"
TOOLS=$ROOT/.tools
STATE=$ROOT/target/e2e
TF_WORK=$STATE/terraform-run
mkdir -p "$STATE"

T0=$SECONDS
E2E_TAG=run SAY_TAG=e2e SAY_SECONDS0=$T0 # "==> [e2e   42s] 3/6 cluster"
# shellcheck source=lib/common.sh
. "$E2E/lib/common.sh"

# Peak memory of the whole run: host "used" memory above what it was before the cluster started,
# sampled every 2 s (the cluster's processes are spread over many cgroups and namespaces; the
# host-wide figure catches them all, including page cache the kernel could reclaim, so it is an
# upper bound).
used_kib() { awk '/^MemTotal:/{t=$2} /^MemAvailable:/{a=$2} END{print t-a}' /proc/meminfo; }
MEM_BASE=$(used_kib)
( peak=0; while sleep 2; do u=$(used_kib); [ "$u" -gt "$peak" ] && peak=$u && echo "$peak" > "$STATE/mem-peak-kib"; done ) &
SAMPLER=$!

cleanup() {
  local rc=$?
  kill "$SAMPLER" 2>/dev/null || true
  e2e/platform.sh stop || true
  if [ -f "$STATE/results.json" ]; then
    printf '==> [e2e] measured: %s\n' "$(tr -d '\n ' < "$STATE/results.json")" >&2
  fi
  if [ -f "$STATE/mem-peak-kib" ]; then
    printf '==> [e2e] peak memory above the %d MiB baseline: %d MiB\n' $((MEM_BASE / 1024)) $((($(cat "$STATE/mem-peak-kib") - MEM_BASE) / 1024)) >&2
  fi
  if [ "${E2E_KEEP:-0}" = 1 ]; then
    printf '==> [e2e] E2E_KEEP=1: cluster left running; stop it with e2e/cluster.sh down\n' >&2
  else
    say "cleanup: tearing the cluster down"
    # One retry: a teardown racing with processes that are still exiting once ended early with
    # status 1 and no message; `down` is idempotent, and a second failure fails the run.
    if ! e2e/cluster.sh down; then
      printf '==> [e2e] cluster.sh down failed; retrying once\n' >&2
      sleep 5
      e2e/cluster.sh down || rc=1
    fi
    rm -rf "$STATE/volumes"
  fi
  printf '==> [e2e] total %ds, exit %d\n' "$((SECONDS - T0))" "$rc" >&2
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "1/6 tools (pinned Go modules; a warm machine skips every build)"
e2e/tools.sh
scripts/k8s/tools.sh helm prometheus adapter tf-providers
TF=${TERRAFORM:-$(command -v terraform || command -v tofu || true)}
[ -n "$TF" ] || die "terraform (or tofu) not found"

say "2/6 images"
scripts/k8s/build-images.sh --platforms linux/amd64
e2e/platform.sh images

say "3/6 cluster"
e2e/cluster.sh up
eval "$(e2e/cluster.sh env)"
export KUBECONFIG
e2e/cluster.sh load target/k8s-images/*-amd64.tar target/e2e/images/*.tar
# What minikube's storage-provisioner would give: a default StorageClass. Volumes are static
# hostPath PVs under the cluster's state dir (owned by MinIO's uid), so a primary pod deleted and
# recreated finds its data again, and `cluster.sh down` removes them with the rest.
PV_DIR=$STATE/volumes
rm -rf "$PV_DIR"
for i in 0 1; do mkdir -p "$PV_DIR/pv-$i" && chown 65532:65532 "$PV_DIR/pv-$i"; done
sed -e "s#@PV_DIR@#$PV_DIR#g" -e "s#@NODE@#$E2E_NODE_NAME#g" e2e/manifests/storage.yaml | "$E2E_KUBECTL" apply -f -

say "4/6 platform stand-ins (cert-manager's CRDs and a self-signed issuer, the RuntimeClass)"
e2e/platform.sh deploy

say "5/6 terraform apply (the project's own configuration; install_platform = true, upstream charts from a directory)"
CHARTS_DIR=$ROOT/../shared/upstream-charts
[ -d "$CHARTS_DIR" ] || die "$CHARTS_DIR is absent: the upstream charts Terraform installs (see e2e/platform/README.md)"
rm -rf "$TF_WORK" && mkdir -p "$TF_WORK"
cp -r terraform "$TF_WORK/terraform"
rm -rf "$TF_WORK/terraform/.terraform" "$TF_WORK/terraform/.terraform.lock.hcl" "$TF_WORK/terraform/"*.tfstate*
ln -s "$ROOT/charts" "$TF_WORK/charts" # the module refers to ${path.module}/../charts
# Providers only from the local mirror built by scripts/k8s/tools.sh: no registry traffic.
cat > "$TF_WORK/terraformrc" <<EOF
provider_installation {
  filesystem_mirror {
    path    = "$TOOLS/terraform-providers"
    include = ["registry.terraform.io/hashicorp/*", "registry.opentofu.org/hashicorp/*"]
  }
}
EOF
export TF_CLI_CONFIG_FILE=$TF_WORK/terraformrc TF_IN_AUTOMATION=1
CONTEXT=$("$E2E_KUBECTL" config current-context)
# Small HPA targets so a bounded load of a few dozen GETs/s scales both autoscalers, and 30 s
# scale-down windows (the charts': 120 s) so that the checks waiting for a scale-in wait less.
# extra_from: the checks act as the operator on the host, who reads and writes MinIO directly (as
# through `minikube tunnel` routes): its one address may reach S3. Pods get only what the chart's
# policies allow (e2e/tests/test_nodes.py checks both). The checks read Prometheus through the
# API server's service proxy, which runs on node 1: towards a Prometheus pod on another node its
# packets come from node 1's end of that node's link (on node 1, from the node itself, which
# kube-router lets through).
prometheus_from=""
for ip in ${E2E_NODE1_LINK_IPS:-}; do prometheus_from+="${prometheus_from:+, }{\"ipBlock\": {\"cidr\": \"$ip/32\"}}"; done
prometheus_from="[$prometheus_from]"
# The root password is Terraform's (revision 1), so the checks can prove it reaches MinIO but not
# the plan or the state. Random per run and only in the environment: every terraform command,
# destroy included, needs it again (an ephemeral variable), so the checks inherit it.
TF_VAR_minio_root_password=$(python3 -c 'import secrets; print(secrets.token_urlsafe(30))')
export TF_VAR_minio_root_password
# The platform: Terraform's own install_platform = true path, the charts from a directory (as on an
# air-gapped cluster), without cert-manager and runtime-class-manager (stand-ins above: none of
# cert-manager's binaries can be built here; runtime-class-manager's node installer restarts the
# host's containerd), and the e2e's overrides in e2e/platform/values/ (images not built here).
cat > "$TF_WORK/e2e.auto.tfvars.json" <<EOF
{
  "kubeconfig_path": "$KUBECONFIG",
  "kube_context": "$CONTEXT",
  "install_platform": true,
  "minio_root_password_revision": 1,
  "replica_hpa": {"min_replicas": 2, "max_replicas": 3, "target_average_value": "5", "scale_down_window_seconds": 30},
  "app_hpa": {"min_replicas": 1, "max_replicas": 4, "target_average_value": "5", "scale_down_window_seconds": 30},
  "helm_timeout_seconds": 600,
  "kubectl_path": "$TOOLS/bin/kubectl",
  "minio_network_policy_extra_from": [{"ipBlock": {"cidr": "$E2E_HOST_IP/32"}}],
  "prometheus_network_policy_extra_from": $prometheus_from
}
EOF
mv "$TF_WORK/e2e.auto.tfvars.json" "$TF_WORK/terraform/"
python3 scripts/k8s/platform_tfvars.py "$CHARTS_DIR" e2e/platform/values cert_manager runtime_class_manager \
  > "$TF_WORK/terraform/platform.auto.tfvars.json"
"$TF" -chdir="$TF_WORK/terraform" init -input=false -no-color
"$TF" -chdir="$TF_WORK/terraform" apply -input=false -auto-approve -no-color

say "6/6 checks (e2e/tests)"
export E2E_TF_DIR=$TF_WORK/terraform E2E_TERRAFORM=$TF E2E_KUBECTL=$TOOLS/bin/kubectl E2E_RESULTS=$STATE/results.json
# The chart then uses Terraform's Secret (auth.existingSecret) instead of generating its own.
E2E_ROOT_SECRET=$("$TF" -chdir="$TF_WORK/terraform" output -raw minio_root_credentials_secret)
export E2E_ROOT_SECRET
rm -f "$E2E_RESULTS"
"$TOOLS/venv/bin/python" -m pytest e2e/tests -v -rs --durations=0 ${E2E_SELECT:+-k "$E2E_SELECT"}
