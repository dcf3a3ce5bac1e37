#!/usr/bin/env bash
# A real multi-node Kubernetes v1.34 cluster (etcd, kube-apiserver, controller-manager, scheduler,
# and per node containerd + runc, kubelet, kube-proxy and kube-router's NetworkPolicy controller;
# CoreDNS), every binary built from source by e2e/tools.sh, each node in a network namespace that
# this script creates and deletes. The nodes are the lines of NODE_TABLE below; E2E_NODES=N (default
# 2) starts the first N.
#
#   e2e/cluster.sh up                   # build if needed, start, wait for the nodes + CoreDNS Ready
#                                       # (reuses a healthy running cluster; tears down a broken one)
#   eval "$(e2e/cluster.sh env)"        # KUBECONFIG, E2E_NODE_IP, E2E_KUBECTL, ...
#   e2e/cluster.sh kubectl ARGS...      # the pinned kubectl against this cluster
#   e2e/cluster.sh load TAR...          # import docker-save image tarballs into containerd (k8s.io)
#   e2e/cluster.sh status               # processes, nodes, memory; exit 1 when not up
#   e2e/cluster.sh smoke                # echo pods: DNS, ClusterIP, LoadBalancer from the host
#   e2e/cluster.sh down                 # stop everything, undo every host change (idempotent)
#
# Network: netns $E2E_NETNS (gif-e2e) joined to the host by a veth pair, host side $E2E_HOST_IP
# (10.250.0.1/30), node side $E2E_NODE_IP (10.250.0.2/30). Node K>1 (netns gif-e2e-K) hangs off
# node 1 only, by a veth pair of its own (node 1 "nK" 10.250.K-1.1/30 <-> node K eth0
# 10.250.K-1.2/30), with static routes between the pod CIDRs (10.244.K-1.0/24 on node K) through
# node 1. No node has a default route and the host does not forward, so no packet of the cluster
# can leave this machine. State, logs, certs under $E2E_CLUSTER_STATE (target/e2e/cluster); node
# K's under its nodeK/ subdir. The phases are e2e/cluster/*.sh (net, pki, control-plane, node, lb,
# teardown; status and smoke). See e2e/README.md for the flags and the reasons.
# Each node's configs are rendered in a subshell that sets its values (write_node_configs), on purpose:
# shellcheck disable=SC2031
set -euo pipefail
E2E=$(cd "$(dirname "$0")" && pwd -P) # physical path: compared with /proc/PID/exe
ROOT=$(dirname "$E2E")
TOOLS=$ROOT/.tools
BIN=$TOOLS/bin
STATE=${E2E_CLUSTER_STATE:-$ROOT/target/e2e/cluster}
case $STATE in /*) ;; *) STATE=$PWD/$STATE ;; esac
STATE=${STATE%/}
NETNS=${E2E_NETNS:-gif-e2e}
NETNS_PATH=/run/netns/$NETNS
HOST_IP=${E2E_HOST_IP:-10.250.0.1}
NODE_IP=${E2E_NODE_IP:-10.250.0.2}
NET_PREFIX=${E2E_NET_PREFIX:-30}
VETH=${E2E_VETH:-${NETNS:0:10}0} # host side; the node side is eth0 inside the netns (IFNAMSIZ 15)
NODE_NAME=${E2E_NODE_NAME:-$NETNS}
SERVICE_CIDR=${E2E_SERVICE_CIDR:-10.96.0.0/16}
# Read by no script or template (kube-apiserver takes SERVICE_CIDR's first IP itself); kept because
# e2e/README.md documents E2E_KUBERNETES_SVC_IP.
# shellcheck disable=SC2034
KUBERNETES_SVC_IP=${E2E_KUBERNETES_SVC_IP:-10.96.0.1} # first IP of SERVICE_CIDR
# shellcheck disable=SC2034  # read by render (kubelet.yaml.tmpl, coredns.yaml)
DNS_IP=${E2E_DNS_IP:-10.96.0.10}
CLUSTER_CIDR=${E2E_CLUSTER_CIDR:-10.244.0.0/16}
POD_CIDR=${E2E_POD_CIDR:-10.244.0.0/24}
CLUSTER_DOMAIN=cluster.local
HPA_SYNC_PERIOD=${E2E_HPA_SYNC_PERIOD:-15s}
HPA_DOWNSCALE_STABILIZATION=${E2E_HPA_DOWNSCALE_STABILIZATION:-30s}
CGROUP_NAME=${E2E_CGROUP_ROOT:-$NETNS} # kubelet's cgroupRoot: /$CGROUP_NAME in every hierarchy
LINK_PREFIX=30 # the node 1 <-> node K links
# The node table, in join order: NAME (node name and netns), IP, LINK_IP (node 1's end of the node's
# link; node 1: the host's end) and POD_CIDR (the node's pods). Node 1 runs the control plane and
# is joined to the host; each other node to node 1. Adding a node is adding a line.
NODE_TABLE="
$NODE_NAME  $NODE_IP                     $HOST_IP                             $POD_CIDR
$NETNS-2    ${E2E_NODE2_IP:-10.250.1.2}  ${E2E_NODE1_LINK_IP:-10.250.1.1}     ${E2E_POD_CIDR2:-10.244.1.0/24}
$NETNS-3    10.250.2.2                   10.250.2.1                           10.244.2.0/24
"
NODES=${E2E_NODES:-2}
NODE_ROWS=$(grep -c '[^ ]' <<< "$NODE_TABLE")
[[ $NODES =~ ^[1-9][0-9]*$ ]] && [ "$NODES" -le "$NODE_ROWS" ] || { echo "e2e/cluster.sh: E2E_NODES must be 1..$NODE_ROWS (the lines of NODE_TABLE)" >&2; exit 2; }
READY_TIMEOUT=${E2E_CLUSTER_READY_TIMEOUT:-180}
# shellcheck disable=SC2034 # the etcd ports are read by lib/control-plane.sh
APISERVER_PORT=6443 ETCD_CLIENT_PORT=2379 ETCD_PEER_PORT=2380
KUBECONFIG_PATH=$STATE/kubeconfig
SOCK=$STATE/containerd/containerd.sock
FAILED_LOGS=$(dirname "$STATE")/$(basename "$STATE")-failed-logs

E2E_TAG=cluster
# shellcheck source=lib/common.sh
. "$E2E/lib/common.sh"
SPAWN_IN=(nsenter --net="$NETNS_PATH" --) # nsenter, not `ip netns exec`: that remounts /sys and hides the cgroups
OURS_LOOP="$E2E/cluster.sh _lb-loop"
innet() { "${SPAWN_IN[@]}" "$@"; }

# for_each_node [--all] CMD...: CMD once per node of the table (--all: every line, started or not:
# teardown), in order, with the node's N (1, 2, ...), N_NAME (= its netns), N_IP, N_LINK_IP,
# N_POD_CIDR, N_STATE (state dir), N_SOCK (containerd), N_CGROUP (kubelet's cgroupRoot),
# N_SUFFIX (of its process names: "" on node 1, "-K" on node K) and N_LINK_IF (node 1's end of
# its link). Stops at the first CMD that fails.
for_each_node() {
  local rows r rc all=0 N N_NAME N_IP N_LINK_IP N_POD_CIDR N_STATE N_SOCK N_CGROUP N_SUFFIX N_LINK_IF
  [ "${1:-}" = --all ] && { all=1; shift; }
  mapfile -t rows < <(grep '[^ ]' <<< "$NODE_TABLE")
  N=0
  for r in "${rows[@]}"; do
    N=$((N + 1)); [ $all = 1 ] || [ "$N" -le "$NODES" ] || break
    read -r N_NAME N_IP N_LINK_IP N_POD_CIDR <<< "$r"
    if [ "$N" = 1 ]; then N_STATE=$STATE N_CGROUP=$CGROUP_NAME N_SUFFIX="" N_LINK_IF=$VETH
    else N_STATE=$STATE/node$N N_CGROUP=$CGROUP_NAME-$N N_SUFFIX=-$N N_LINK_IF=n$N; fi
    N_SOCK=$N_STATE/containerd/containerd.sock
    # Not `"$@" || return`: that would turn errexit off inside CMD. Called as an action, a failing
    # CMD ends the script (set -e); as a condition (wait_until, if), this loop returns its status.
    "$@"; rc=$?
    [ "$rc" = 0 ] || return "$rc"
  done
}
n_in() { nsenter --net="/run/netns/$N_NAME" -- "$@"; }           # CMD... in this node's netns
n_spawn() { local SPAWN_IN=(nsenter --net="/run/netns/$N_NAME" --); spawn "$@"; } # NAME CMD...

# The phases, in the order `up` runs them.
# shellcheck source=cluster/net.sh
. "$E2E/cluster/net.sh"
# shellcheck source=cluster/pki.sh
. "$E2E/cluster/pki.sh"
# shellcheck source=cluster/control-plane.sh
. "$E2E/cluster/control-plane.sh"
# shellcheck source=cluster/node.sh
. "$E2E/cluster/node.sh"
# shellcheck source=cluster/lb.sh
. "$E2E/cluster/lb.sh"
# shellcheck source=cluster/teardown.sh
. "$E2E/cluster/teardown.sh"
# shellcheck source=cluster/status.sh
. "$E2E/cluster/status.sh"
# shellcheck source=cluster/smoke.sh
. "$E2E/cluster/smoke.sh"

# The ordered list of actions of `up`; each phase's functions are in e2e/cluster/PHASE.sh.
cmd_up() {
  preflight
  lock
  local t_all t
  t_all=$(now)
  "$E2E/tools.sh" kube etcd node
  [ -x "$BIN/kube-router" ] || die "no $BIN/kube-router (e2e/tools.sh node builds it)"
  eval "$("$E2E/tools.sh" env | grep -E '^(K8S_VERSION|CNI_BIN|E2E_IMAGES|PAUSE_IMAGE|COREDNS_IMAGE)=')"
  if healthy; then
    say "already up (every component running, API ready): reusing it; run \`down\` first to change settings"
    echo "$KUBECONFIG_PATH"; return 0
  fi
  if stale; then say "stale state found: tearing it down first"; teardown; fi
  trap 'rc=$?; if [ $rc -ne 0 ]; then say "up failed; tearing down (logs kept in $FAILED_LOGS)"; rm -rf "$FAILED_LOGS"; cp -r "$STATE/logs" "$FAILED_LOGS" 2>/dev/null || true; teardown; fi' EXIT
  trap 'exit 130' INT TERM
  umask 077
  mkdir -p "$STATE/pki" "$STATE/pids" "$STATE/logs"
  chmod 755 "$STATE"
  record_host_state
  t=$(now); gen_pki; for_each_node write_node_configs
  chmod 644 "$STATE/pki/ca.crt"
  # Back to the usual umask before anything is spawned: containerd would otherwise create image
  # snapshots (and kubelet pod dirs) 0700, and non-root containers could not even stat their
  # entrypoint ("stat /echo: permission denied").
  umask 022
  say "PKI, kubeconfigs and configs written in $(since "$t")s"
  for_each_node net_node; for_each_node net_routes
  t=$(now); start_etcd --listen-metrics-urls=http://127.0.0.1:2381
  wait_until etcd 30 "etcd /health" etcd_healthy; say "etcd ready in $(since "$t")s"
  t=$(now); for_each_node start_containerd # independent of the API: overlaps with the apiserver's start-up
  start_node_apiserver
  wait_until kube-apiserver "$READY_TIMEOUT" "kube-apiserver /readyz at https://$NODE_IP:$APISERVER_PORT" api_ready
  say "kube-apiserver ready (from the host) in $(since "$t")s"
  grant_apiserver_rights
  start_controller_manager
  start_scheduler
  wait_until containerd 30 "containerd socket of every node" for_each_node containerd_ready
  t=$(now); load_images "$E2E_IMAGES/pause.tar" "$E2E_IMAGES/coredns.tar"; say "pause + coredns images imported in $(since "$t")s"
  t=$(now); for_each_node prepare_cgroups; for_each_node start_kubelet; for_each_node start_kube_proxy
  wait_until kubelet "$READY_TIMEOUT" "every node Ready" for_each_node node_ready
  say "$NODES node(s) Ready in $(since "$t")s"
  wait_until kube-proxy 60 "kube-proxy /healthz on every node" for_each_node proxy_healthy
  t=$(now); for_each_node start_kube_router
  wait_until kube-router 60 "kube-router /healthz on every node" for_each_node router_healthy
  say "kube-router (NetworkPolicy) healthy on $NODES node(s) in $(since "$t")s"
  start_lb
  t=$(now); start_coredns; say "CoreDNS Ready in $(since "$t")s"
  trap - EXIT INT TERM
  say "cluster up ($NODES nodes) in $(since "$t_all")s: kubeconfig $KUBECONFIG_PATH (https://$NODE_IP:$APISERVER_PORT)"
  echo "$KUBECONFIG_PATH"
}

case ${1:-} in
  up) cmd_up ;;
  down) cmd_down ;;
  env) cmd_env ;;
  status) cmd_status ;;
  kubectl) shift; kubectl_ "$@" ;;
  load) shift; [ $# -gt 0 ] || die "usage: load TAR..."; running || die "not up"; t=$(now); load_images "$@"; say "imported $# tarball(s) in $(since "$t")s" ;;
  smoke) cmd_smoke ;;
  _lb-loop) lb_loop ;;
  *) usage ;;
esac
