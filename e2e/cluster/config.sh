# shellcheck shell=bash
# e2e/cluster.sh's settings (E2E_* overrides, see e2e/README.md), the node table and
# for_each_node, which every phase uses to act on each node. Sourced by e2e/cluster.sh only.
# shellcheck disable=SC2034 # settings read by the phases and the templates they render
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
# shellcheck source=../lib/common.sh
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
