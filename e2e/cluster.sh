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
# shellcheck source=cluster/config.sh
. "$E2E/cluster/config.sh"

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
