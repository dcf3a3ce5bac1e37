#!/usr/bin/env bash
# A real Kubernetes control-plane API (etcd + kube-apiserver, built by e2e/tools.sh) on loopback,
# for offline checks that need the real API: server-side dry-run, CRD validation, a client such as
# prometheus-adapter doing discovery and listing. No nodes, no controllers (yet).
#
#   e2e/apiserver.sh start              # build if needed, start, wait for /readyz; prints kubeconfig path
#   eval "$(e2e/apiserver.sh env)"      # export KUBECONFIG (+ KUBECACHEDIR, E2E_KUBECTL)
#   e2e/apiserver.sh status             # pids, ports, readyz, memory; exit 1 when not running
#   e2e/apiserver.sh install-crds DIR|FILE...   # server-side apply CRDs, wait until Established + served
#   e2e/apiserver.sh kubectl ARGS...    # the pinned kubectl against this API server
#   e2e/apiserver.sh stop               # stop both, remove all state (idempotent)
#
# State (data, certs, keys, token, kubeconfig, logs, pids) lives in one directory, by default
# target/e2e/apiserver; set E2E_APISERVER_STATE to run several instances side by side. Every
# listener is on 127.0.0.1, on ports picked free at start. Extra kube-apiserver flags:
# KUBE_APISERVER_EXTRA_ARGS="--flag=value ..." (word-split; a later flag overrides an earlier one).
set -euo pipefail
E2E=$(cd "$(dirname "$0")" && pwd -P) # physical path: compared with /proc/PID/exe
ROOT=$(dirname "$E2E")
BIN=$ROOT/.tools/bin
STATE=${E2E_APISERVER_STATE:-$ROOT/target/e2e/apiserver}
case $STATE in /*) ;; *) STATE=$PWD/$STATE ;; esac
STATE=${STATE%/}
KUBECONFIG_PATH=$STATE/kubeconfig
READY_TIMEOUT=${E2E_APISERVER_READY_TIMEOUT:-120}
SERVICE_CIDR=10.0.0.0/24 # never routed: no node/kube-proxy; the apiserver only allocates from it

E2E_TAG=apiserver
# shellcheck source=lib/common.sh
. "$E2E/lib/common.sh"
# shellcheck source=lib/control-plane.sh
. "$E2E/lib/control-plane.sh" # start_etcd, etcd_healthy, start_apiserver, api_ready, running

free_ports() { # N -> N distinct free loopback ports (bound together so they differ, then released)
  python3 "$E2E/free_ports.py" "$1"
}

# shellcheck disable=SC1091 # written by cmd_start
load_ports() { [ -r "$STATE/ports.env" ] && . "$STATE/ports.env"; }
load_ports || true # the ports of a running instance, for status and the messages
# The apiserver makes its own serving cert as it starts (--cert-dir): until /readyz answers, the
# kubeconfig that trusts it is written again on every poll, so the one left is the final cert's.
api_up() { [ -s "$STATE/pki/apiserver.crt" ] && write_kubeconfig && api_ready; }

gen_credentials() {
  # The admin identity is a static bearer token in group system:masters (RBAC bypass): simplest
  # credential that a kubeconfig and any client (prometheus-adapter) can use.
  openssl rand -hex 32 > "$STATE/token"
  printf '%s,e2e-admin,e2e-admin,"system:masters"\n' "$(cat "$STATE/token")" > "$STATE/tokens.csv"
  # Service-account token signing key pair: kube-apiserver refuses to start without one
  # (--service-account-issuer + --service-account-signing-key-file are mandatory since 1.20).
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$STATE/pki/sa.key" 2>/dev/null
  openssl pkey -in "$STATE/pki/sa.key" -pubout -out "$STATE/pki/sa.pub"
}

start_loopback_apiserver() {
  # --cert-dir without --tls-cert-file: the apiserver generates a self-signed CA + serving cert
  # (SANs: advertise address 127.0.0.1, localhost, kubernetes.default.svc..., first service IP)
  # before it listens; the kubeconfig trusts that CA. The admin is a static bearer token.
  # --endpoint-reconciler-type=none: Endpoints may not hold loopback IPs, so with advertise address
  # 127.0.0.1 the default (lease) reconciler can never write default/kubernetes and just warns every
  # 10 s. Nothing in-cluster needs it while there are no nodes; a node setup needs a non-loopback
  # advertise address anyway, and drops this flag.
  # Admission plugins: the defaults. Note the ServiceAccount plugin rejects Pods (not Deployments)
  # while no controller-manager has created a namespace's "default" ServiceAccount.
  start_apiserver --bind-address=127.0.0.1 --advertise-address=127.0.0.1 \
    --cert-dir="$STATE/pki" --token-auth-file="$STATE/tokens.csv" --endpoint-reconciler-type=none
}

# shellcheck disable=SC2034  # CA_DATA and TOKEN are read by render (the template's ${...})
write_kubeconfig() {
  local CA_DATA TOKEN
  CA_DATA=$(base64 -w0 < "$STATE/pki/apiserver.crt"); TOKEN=$(cat "$STATE/token")
  (umask 077 && render "$E2E/templates/kubeconfig-token.yaml.tmpl" > "$KUBECONFIG_PATH")
  chmod 600 "$KUBECONFIG_PATH"
}

cmd_start() {
  lock
  if running; then say "already running (https://127.0.0.1:$APISERVER_PORT)"; echo "$KUBECONFIG_PATH"; return 0; fi
  "$E2E/tools.sh" kube etcd
  stop_procs kube-apiserver etcd   # leftovers of a crashed run on this state dir
  rm -rf "$STATE"
  # Until start-up succeeds, any exit (error, Ctrl-C) tears everything down again.
  trap 'rc=$?; if [ $rc -ne 0 ]; then say "start failed; stopping what was started (logs kept in $STATE/logs)"; stop_procs kube-apiserver etcd; fi' EXIT
  trap 'exit 130' INT TERM
  umask 077             # keys, token and kubeconfig are secrets
  mkdir -p "$STATE/pki" "$STATE/pids" "$STATE/logs"
  gen_credentials
  local attempt t0 t1
  for attempt in 1 2 3; do
    read -r ETCD_CLIENT_PORT ETCD_PEER_PORT APISERVER_PORT < <(free_ports 3)
    printf 'ETCD_CLIENT_PORT=%s\nETCD_PEER_PORT=%s\nAPISERVER_PORT=%s\n' "$ETCD_CLIENT_PORT" "$ETCD_PEER_PORT" "$APISERVER_PORT" > "$STATE/ports.env"
    t0=$(now)
    # shellcheck disable=SC2119 # the shared flags are all it needs
    start_etcd
    if wait_until etcd 30 "etcd /health" etcd_healthy; then
      say "etcd ready on 127.0.0.1:$ETCD_CLIENT_PORT in $(since "$t0")s"
      t1=$(now)
      start_loopback_apiserver
      if wait_until kube-apiserver "$READY_TIMEOUT" "kube-apiserver /readyz" api_up; then
        say "kube-apiserver ready on https://127.0.0.1:$APISERVER_PORT: /readyz after $(since "$t1")s ($(since "$t0")s incl. etcd)"
        trap - EXIT INT TERM
        echo "$KUBECONFIG_PATH"
        return 0
      fi
    fi
    # Ports are picked free, then released before the servers bind them: another process can win
    # that race. Only that case is retried.
    if grep -qs 'address already in use' "$STATE/logs/etcd.log" "$STATE/logs/kube-apiserver.log"; then
      say "port race lost (attempt $attempt); retrying with new ports"
      stop_procs kube-apiserver etcd; rm -rf "$STATE/etcd" "$STATE/pids"/*; mkdir -p "$STATE/logs/failed-$attempt"
      mv "$STATE/logs"/*.log "$STATE/logs/failed-$attempt/" 2>/dev/null || true
      continue
    fi
    return 1
  done
  return 1
}

cmd_stop() {
  lock
  stop_procs kube-apiserver etcd
  [ -z "$(state_pids)" ] || die "processes still reference $STATE: $(state_pids | tr '\n' ' ')"
  rm -rf "$STATE"
  say "stopped; state removed"
}

cmd_env() {
  running || die "not running (state: $STATE); run: e2e/apiserver.sh start"
  printf 'export KUBECONFIG=%q\n' "$KUBECONFIG_PATH"
  # kubectl's discovery cache would otherwise pile up in ~/.kube/cache, one dir per random port
  printf 'export KUBECACHEDIR=%q\n' "$STATE/kube-cache"
  printf 'export E2E_KUBECTL=%q\n' "$BIN/kubectl"
}

cmd_status() {
  local n p rc=0
  load_ports || true
  for n in etcd kube-apiserver; do
    p=$(pid_of "$n")
    if ours "$p"; then
      printf '%-15s pid %-7s rss %5s MiB  peak %5s MiB\n' "$n" "$p" $(($(kib "$p" VmRSS) / 1024)) $(($(kib "$p" VmHWM) / 1024))
    else
      printf '%-15s not running\n' "$n"; rc=1
    fi
  done
  if [ $rc = 0 ] && api_ready; then
    printf 'readyz          ok  https://127.0.0.1:%s  kubeconfig %s\n' "$APISERVER_PORT" "$KUBECONFIG_PATH"
  else
    printf 'readyz          not ready (state: %s)\n' "$STATE"; rc=1
  fi
  return $rc
}

# Installs the CustomResourceDefinitions found in the given directories/files (other YAML there,
# e.g. kustomization.yaml, is skipped) and waits until each is Established AND served (listable
# through discovery), so the very next `kubectl create --dry-run=server` of a CR works.
cmd_install_crds() {
  [ $# -gt 0 ] || die "usage: install-crds DIR|FILE..."
  running || die "not running; run: e2e/apiserver.sh start"
  local args=() f names n deadline
  while IFS= read -r f; do
    grep -qE '^kind:[[:space:]]*CustomResourceDefinition' "$f" && args+=(-f "$f")
  done < <(for p in "$@"; do
    if [ -d "$p" ]; then find "$p" -maxdepth 1 -type f \( -name '*.yaml' -o -name '*.yml' -o -name '*.json' \) | sort
    elif [ -f "$p" ]; then echo "$p"; else die "no such file or directory: $p"; fi
  done)
  [ ${#args[@]} -gt 0 ] || die "no CustomResourceDefinition found in: $*"
  # Server-side apply: big CRDs (prometheuses: >1 MiB) exceed the 256 KiB limit of client-side
  # apply's last-applied-configuration annotation.
  names=$(kubectl_ apply --server-side --force-conflicts --field-manager=e2e-apiserver "${args[@]}" -o name)
  # shellcheck disable=SC2086
  kubectl_ wait --for=condition=Established --timeout=60s $names >/dev/null
  deadline=$((SECONDS + 60))
  for n in $names; do
    n=${n#*/} # customresourcedefinition.apiextensions.k8s.io/spinapps.core.spinkube.dev -> plural.group
    until kubectl_ get "$n" --all-namespaces --request-timeout=5s >/dev/null 2>&1; do
      [ $SECONDS -lt $deadline ] || die "CRD $n Established but not served after 60s"
      sleep 0.2
    done
  done
  say "installed and established $(echo "$names" | wc -w) CRDs"
}

case ${1:-} in
  start) cmd_start ;;
  stop) cmd_stop ;;
  env) cmd_env ;;
  status) cmd_status ;;
  install-crds) shift; lock; cmd_install_crds "$@" ;;
  kubectl) shift; kubectl_ "$@" ;;
  *) usage ;;
esac
