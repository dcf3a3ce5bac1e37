#!/usr/bin/env bash
# End-to-end test of the prometheus-adapter rules in terraform/values/prometheus-adapter.yaml.tftpl:
# real MinIO servers (from scripts/install-tools.sh) scraped by a real Prometheus, queried through
# the real prometheus-adapter, which discovers resources, lists pods and delegates authentication
# and authorization to a real kube-apiserver (e2e/apiserver.sh). Everything listens on 127.0.0.1
# only and stops by itself. usage: adapter-e2e.sh WORKDIR RENDERED_ADAPTER_VALUES
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK=${1:?workdir}
VALUES=${2:?rendered adapter values}
mkdir -p "$WORK"
scripts/k8s/tools.sh prometheus adapter mc >&2
[ -x .tools/bin/minio ] || scripts/install-tools.sh minio >&2
e2e/tools.sh >&2
# A private API server instance (its own state dir), stopped whatever happens.
export E2E_APISERVER_STATE=$WORK-apiserver
trap 'e2e/apiserver.sh stop >&2' EXIT
KUBECONFIG=$(e2e/apiserver.sh start)
export KUBECONFIG
python3 scripts/k8s/adapter_e2e.py "$WORK" "$VALUES"
