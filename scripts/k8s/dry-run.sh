#!/usr/bin/env bash
# Server-side dry-run of rendered manifests against a real kube-apiserver (e2e/apiserver.sh) with the
# CRDs of the pinned spin-operator and prometheus-operator modules installed: the API's own
# validation, defaulting and admission, with unknown fields rejected (--validate=strict).
#   usage: dry-run.sh FILE...   (each FILE is checked on its own; exit 1 if any is rejected)
# Kinds whose CRD is not available offline (Shim, from runtime-class-manager) are left out.
set -euo pipefail
cd "$(dirname "$0")/../.."
e2e/tools.sh >&2
eval "$(e2e/tools.sh env)"
export E2E_APISERVER_STATE=$PWD/target/k8s-check/dry-run-apiserver
trap 'e2e/apiserver.sh stop >/dev/null 2>&1' EXIT
KUBECONFIG=$(e2e/apiserver.sh start 2>/dev/null)
export KUBECONFIG
e2e/apiserver.sh install-crds "$SPIN_OPERATOR_CRDS" "$PROM_OPERATOR_CRDS" >/dev/null 2>&1
status=0
for f in "$@"; do
  filtered=$(python3 scripts/k8s/drop_shims.py "$f")
  # Namespaces must exist for a namespaced dry-run create (NamespaceLifecycle admission).
  mapfile -t namespaces < <(grep -o '^  namespace: .*' <<<"$filtered" | awk '{print $2}' | sort -u)
  for ns in "${namespaces[@]}"; do
    "$KUBECTL" get ns "$ns" >/dev/null 2>&1 || "$KUBECTL" create ns "$ns" >/dev/null
  done
  if out=$("$KUBECTL" create --dry-run=server --validate=strict -f - <<<"$filtered" 2>&1); then
    printf '%s: %s objects accepted\n' "$(basename "$f")" "$(grep -c 'server dry run' <<<"$out")"
  else
    printf '%s: rejected\n%s\n' "$(basename "$f")" "$out"
    status=1
  fi
done
exit $status
