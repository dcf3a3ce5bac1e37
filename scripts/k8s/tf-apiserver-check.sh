#!/usr/bin/env bash
# terraform/ planned and (partly) applied for real against a real kube-apiserver (e2e/apiserver.sh;
# no nodes, so only what needs no workload: the namespace and the MinIO root Secret), to check
# what `terraform validate` cannot:
#   - with minio_root_password, the password reaches the Secret but neither the plan nor the state
#     (write-only data_wo), also after a rotation; a copy that writes it through `data` instead
#     must be caught by the same assertion;
#   - the variable validations that need values (password vs revision, shim and CRD checksums);
#   - the spin-operator CRD download is refused when it differs from spin_operator_crds_sha256
#     (served from loopback through an override file: the real asset is on GitHub).
#   usage: tf-apiserver-check.sh WORKDIR TFRC   (TFRC: CLI config with the local provider mirror)
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK=$1 TFRC=$2
TF=${TERRAFORM:-$(command -v terraform || command -v tofu)}
e2e/tools.sh >&2
eval "$(e2e/tools.sh env)"
. ./pins.env
rm -rf "$WORK" && mkdir -p "$WORK"
export E2E_APISERVER_STATE=$WORK/apiserver
trap 'e2e/apiserver.sh stop >/dev/null 2>&1' EXIT
KUBECONFIG=$(e2e/apiserver.sh start 2>/dev/null)
# The CRD bases at the pinned tag, concatenated as spin-operator's Makefile builds the release asset.
CRD_DIR=$(go env GOMODCACHE)/$SPIN_OPERATOR_MODULE@$SPIN_OPERATOR_VERSION/config/crd/bases
# Not exec: the EXIT trap above must still stop the API server and its etcd.
python3 scripts/k8s/tf_apiserver_check.py --work "$WORK" --terraform "$TF" --tfrc "$TFRC" \
  --kubeconfig "$KUBECONFIG" --kubectl "$KUBECTL" --crd-dir "$CRD_DIR"
