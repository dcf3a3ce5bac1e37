# shellcheck shell=bash
# e2e/cluster.sh's network phase (sourced): the host checks and the record of the host state that
# teardown restores, then per node (for_each_node) its netns, its link and its routes.

# Paths outside the state dir that containerd/kubelet/ip create and that cannot be moved: each is
# removed on `down` only if it did not exist before `up` (recorded in $STATE/host-paths).
# (/var/lib/kubelet: kubelet's device-plugin socket dir is hard-coded; /usr/libexec/kubernetes: the
# flexvolume dir, created by the kubelet and controller-manager probes if not pointed elsewhere.)
HOST_PATHS="/run/netns /run/containerd /var/lib/cni /var/log/containers /var/lib/kubelet /usr/libexec/kubernetes"
# Global (not per-netns) sysctls that kubelet's setupKernelTunables overwrites; restored on `down`.
KUBELET_SYSCTLS="vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops kernel.keys.root_maxkeys kernel.keys.root_maxbytes"

preflight() {
  [ "$(id -u)" = 0 ] || die "must run as root (network namespace, mounts, cgroups)"
  local c missing=""
  # iptables: kube-proxy, the bridge (ipMasq) and portmap plugins shell out to it.
  for c in ip nsenter setsid flock openssl curl iptables ip6tables iptables-save mount umount ipset; do
    command -v "$c" >/dev/null || missing+=" $c"
  done
  [ -z "$missing" ] || die "missing commands:$missing (Debian: apt-get install -y iproute2 util-linux openssl curl iptables)"
  [ -d /sys/fs/cgroup/memory ] || [ -f /sys/fs/cgroup/cgroup.controllers ] || die "no cgroup filesystem under /sys/fs/cgroup"
}

record_host_state() {
  local p s
  : > "$STATE/host-paths"
  for p in $HOST_PATHS; do [ -e "$p" ] && echo "$p" >> "$STATE/host-paths"; done
  : > "$STATE/sysctls"
  for s in $KUBELET_SYSCTLS; do echo "$s=$(sysctl -n "$s")" >> "$STATE/sysctls"; done
}

# for_each_node: node 1 joined to the host (veth $VETH <-> its eth0), node K to node 1 (nK <-> its
# eth0); each reaches the pods of node 1, and node 1 the node's pods, by static routes instead of
# an overlay; node K reaches the apiserver (node 1's address) and the host through node 1.
net_node() {
  local t prefix=$LINK_PREFIX
  t=$(now)
  ip netns add "$N_NAME"
  if [ "$N" = 1 ]; then
    prefix=$NET_PREFIX
    # Peer created directly inside the netns: "eth0" would clash with the host's own eth0.
    ip link add "$VETH" type veth peer name eth0 netns "$N_NAME"
    ip addr add "$HOST_IP/$NET_PREFIX" dev "$VETH"
    ip link set "$VETH" up
  else
    ip link add "$N_LINK_IF" netns "$NETNS" type veth peer name eth0 netns "$N_NAME"
    innet ip addr add "$N_LINK_IP/$LINK_PREFIX" dev "$N_LINK_IF"
    innet ip link set "$N_LINK_IF" up
  fi
  n_in ip link set lo up
  n_in ip addr add "$N_IP/$prefix" dev eth0
  n_in ip link set eth0 up
  if [ "$N" != 1 ]; then
    innet ip route add "$N_POD_CIDR" via "$N_IP"
    n_in ip route add "$POD_CIDR" via "$N_LINK_IP"
    n_in ip route add "$NODE_IP/32" via "$N_LINK_IP"
    n_in ip route add "$HOST_IP/32" via "$N_LINK_IP"
  fi
  # Per-netns sysctls, so the host's values are untouched. Forwarding: between eth0 (host -> LB IP)
  # and cni0 (pods), and on node 1 between the node links. bridge-nf-call-iptables: pod -> Service
  # -> pod on the same bridge must pass kube-proxy's DNAT (per-netns since Linux 5.3).
  n_in sysctl -qw net.ipv4.ip_forward=1
  n_in sysctl -qw net.bridge.bridge-nf-call-iptables=1 2>/dev/null || say "warning: net.bridge.bridge-nf-call-iptables not settable in netns $N_NAME"
  # The bridge plugin's ipMasq would also hide a pod's address from pods on the other nodes (all
  # that is outside its own /24), and NetworkPolicy peers are pod addresses: masquerade only what
  # leaves the cluster CIDR (pods -> host).
  n_in iptables -t nat -A POSTROUTING -s "$CLUSTER_CIDR" ! -d "$CLUSTER_CIDR" -m comment --comment "e2e: pods leaving the cluster CIDR" -j MASQUERADE
  if [ "$N" = 1 ]; then say "netns $N_NAME: host $VETH $HOST_IP/$NET_PREFIX <-> node eth0 $N_IP/$NET_PREFIX; pods $N_POD_CIDR ($(since "$t")s)"
  else say "netns $N_NAME: node 1 $N_LINK_IF $N_LINK_IP/$LINK_PREFIX <-> node $N eth0 $N_IP/$LINK_PREFIX; pods $N_POD_CIDR ($(since "$t")s)"; fi
}

# for_each_node, once every link exists: node K reaches the other non-control-plane nodes and their
# pods through node 1 as well (nothing to do with two nodes).
net_routes() {
  [ "$N" != 1 ] || return 0
  local me=$N_NAME via=$N_LINK_IP
  # shellcheck disable=SC2329 # called by for_each_node
  route_to_peer() {
    [ "$N" != 1 ] && [ "$N_NAME" != "$me" ] || return 0
    nsenter --net="/run/netns/$me" -- ip route add "$N_POD_CIDR" via "$via"
    nsenter --net="/run/netns/$me" -- ip route add "$N_IP/32" via "$via"
  }
  for_each_node route_to_peer
}
