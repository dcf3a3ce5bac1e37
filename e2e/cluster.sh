#!/usr/bin/env bash
# A real two-node Kubernetes v1.34 cluster (etcd, kube-apiserver, controller-manager, scheduler,
# and per node containerd + runc, kubelet, kube-proxy and kube-router's NetworkPolicy controller;
# CoreDNS), every binary built from source by e2e/tools.sh, each node in a network namespace that
# this script creates and deletes. E2E_NODES=1: node 1 only.
#
#   e2e/cluster.sh up                   # build if needed, start, wait for node + CoreDNS Ready
#                                       # (reuses a healthy running cluster; tears down a broken one)
#   eval "$(e2e/cluster.sh env)"        # KUBECONFIG, E2E_NODE_IP, E2E_KUBECTL, ...
#   e2e/cluster.sh kubectl ARGS...      # the pinned kubectl against this cluster
#   e2e/cluster.sh load TAR...          # import docker-save image tarballs into containerd (k8s.io)
#   e2e/cluster.sh status               # processes, node, memory; exit 1 when not up
#   e2e/cluster.sh smoke                # echo pods: DNS, ClusterIP, LoadBalancer from the host
#   e2e/cluster.sh down                 # stop everything, undo every host change (idempotent)
#
# Network: netns $E2E_NETNS (gif-e2e) joined to the host by a veth pair, host side $E2E_HOST_IP
# (10.250.0.1/30), node side $E2E_NODE_IP (10.250.0.2/30). Node 2 (netns gif-e2e-2) hangs off
# node 1 only, by a second veth pair (node 1 "n2" 10.250.1.1/30 <-> node 2 eth0 10.250.1.2/30),
# with static routes between the pod CIDRs (10.244.0.0/24 on node 1, 10.244.1.0/24 on node 2).
# No node has a default route and the host does not forward, so no packet of the cluster can
# leave this machine. State, logs, certs under $E2E_CLUSTER_STATE (target/e2e/cluster); node 2's
# under its node2/ subdir. See e2e/README.md for the flags and the reasons.
# Node 2's configs are rendered in a subshell that sets node 2's values (write_configs), on purpose:
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
NODES=${E2E_NODES:-2}
case $NODES in 1|2) ;; *) echo "e2e/cluster.sh: E2E_NODES must be 1 or 2" >&2; exit 2 ;; esac
NODE2_NETNS=$NETNS-2
NODE2_NETNS_PATH=/run/netns/$NODE2_NETNS
NODE2_NAME=$NODE2_NETNS
NODE2_IP=${E2E_NODE2_IP:-10.250.1.2}
NODE1_LINK_IP=${E2E_NODE1_LINK_IP:-10.250.1.1} # node 1's end of the node 1 <-> node 2 link
LINK_PREFIX=30
LINK_IF=n2 # node 1's side of that link
POD_CIDR2=${E2E_POD_CIDR2:-10.244.1.0/24}
CGROUP_NAME2=$CGROUP_NAME-2
READY_TIMEOUT=${E2E_CLUSTER_READY_TIMEOUT:-180}
APISERVER_PORT=6443
KUBECONFIG_PATH=$STATE/kubeconfig
SOCK=$STATE/containerd/containerd.sock
NODE2_STATE=$STATE/node2
SOCK2=$NODE2_STATE/containerd/containerd.sock
FAILED_LOGS=$(dirname "$STATE")/$(basename "$STATE")-failed-logs
# Paths outside the state dir that containerd/kubelet/ip create and that cannot be moved: each is
# removed on `down` only if it did not exist before `up` (recorded in $STATE/host-paths).
# (/var/lib/kubelet: kubelet's device-plugin socket dir is hard-coded; /usr/libexec/kubernetes: the
# flexvolume dir, created by the kubelet and controller-manager probes if not pointed elsewhere.)
HOST_PATHS="/run/netns /run/containerd /var/lib/cni /var/log/containers /var/lib/kubelet /usr/libexec/kubernetes"
# Global (not per-netns) sysctls that kubelet's setupKernelTunables overwrites; restored on `down`.
KUBELET_SYSCTLS="vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops kernel.keys.root_maxkeys kernel.keys.root_maxbytes"

E2E_TAG=cluster
# shellcheck source=lib/common.sh
. "$E2E/lib/common.sh"
SPAWN_IN=(nsenter --net="$NETNS_PATH" --) # nsenter, not `ip netns exec`: that remounts /sys and hides the cgroups
OURS_LOOP="$E2E/cluster.sh _lb-loop"
innet() { "${SPAWN_IN[@]}" "$@"; }
innet2() { nsenter --net="$NODE2_NETNS_PATH" -- "$@"; }
# Node 2's processes are spawned like node 1's (same pid/log dirs, names ending in -2), in its netns.
spawn2() { local SPAWN_IN=(nsenter --net="$NODE2_NETNS_PATH" --); spawn "$@"; }
node2() { [ "$NODES" = 2 ]; }

# Container processes: everything in the cgroup tree kubelet and runc made under /$CGROUP_NAME.
cgroup_dirs() { # v1 (one per hierarchy) or v2 (/sys/fs/cgroup/NAME); both nodes' roots
  local h n
  for n in "$CGROUP_NAME" "$CGROUP_NAME2"; do
    if [ -f /sys/fs/cgroup/cgroup.controllers ]; then [ -d "/sys/fs/cgroup/$n" ] && echo "/sys/fs/cgroup/$n"; continue; fi
    for h in /sys/fs/cgroup/*/; do [ -d "$h$n" ] && echo "$h$n"; done
  done
  return 0
}
container_pids() {
  local d
  for d in $(cgroup_dirs); do find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null; done | sort -un
}

ctr_() { "$BIN/ctr" --address "$SOCK" -n k8s.io "$@"; }

# ---- PKI and kubeconfigs --------------------------------------------------------------------
# kubeadm, built from the same pinned module: `init phase certs` makes the CA, the apiserver's
# serving cert (node IP, kubernetes Service IP and names, 127.0.0.1), its kubelet client cert, the
# front-proxy CA + client (a separate CA, so that a front-proxy cert is no normal client cert) and
# the service-account key pair; etcd certs are skipped (etcd is "external": plain HTTP on the
# netns loopback). `init phase kubeconfig` writes super-admin (system:masters), kubelet
# (system:node:NAME), controller-manager and scheduler kubeconfigs; `kubeconfig user` kube-proxy's.
# kubeadm makes no kubelet serving cert (kubeadm clusters leave it self-signed and unverified):
# openssl signs one with kubeadm's CA, so the apiserver verifies the kubelet
# (--kubelet-certificate-authority). serverTLSBootstrap (the kubelet's own CSR, approved by `up`)
# was tried instead: in 3 of 4 `up`s the kubelet had sent no CSR after 60 s.
gen_pki() {
  local k=$STATE/kubeadm.yaml
  render "$E2E/templates/kubeadm.yaml.tmpl" > "$k"
  "$BIN/kubeadm" init phase certs all --config "$k" >/dev/null
  "$BIN/kubeadm" init phase kubeconfig all --config "$k" --kubeconfig-dir "$STATE" >/dev/null
  "$BIN/kubeadm" kubeconfig user --config "$k" --client-name system:kube-proxy --validity-period 720h > "$STATE/kube-proxy.conf"
  # admin.conf's group (kubeadm:cluster-admins) is only bound by a full `kubeadm init`.
  mv "$STATE/super-admin.conf" "$KUBECONFIG_PATH"; rm -f "$STATE/admin.conf"
  # kube-router reads pods, namespaces, NetworkPolicies and nodes (RBAC: e2e/manifests/kube-router-rbac.yaml).
  "$BIN/kubeadm" kubeconfig user --config "$k" --client-name system:kube-router --validity-period 720h > "$STATE/kube-router.conf"
  kubelet_serving_cert "$STATE/pki/kubelet-serving" "$NODE_NAME" "$NODE_IP"
  if node2; then
    mkdir -p "$NODE2_STATE/pki"
    cp "$STATE/pki/ca.crt" "$NODE2_STATE/pki/ca.crt"
    cp "$STATE/kube-proxy.conf" "$NODE2_STATE/kube-proxy.conf"
    # Node 2's kubelet: its own identity, so the Node authorizer scopes it to its own objects.
    "$BIN/kubeadm" kubeconfig user --config "$k" --client-name "system:node:$NODE2_NAME" --org system:nodes \
      --validity-period 720h > "$NODE2_STATE/kubelet.conf"
    kubelet_serving_cert "$NODE2_STATE/pki/kubelet-serving" "$NODE2_NAME" "$NODE2_IP"
  fi
}
kubelet_serving_cert() { # PREFIX NODE_NAME NODE_IP
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" \
    -subj "/CN=system:node:$2/O=system:nodes" 2>/dev/null |
    openssl x509 -req -CA "$STATE/pki/ca.crt" -CAkey "$STATE/pki/ca.key" -days 30 -sha256 -out "$1.crt" \
      -extfile <(printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:%s,DNS:%s,IP:127.0.0.1\n' "$3" "$2") 2>/dev/null
}

# ---- network --------------------------------------------------------------------------------
record_host_state() {
  local p s
  : > "$STATE/host-paths"
  for p in $HOST_PATHS; do [ -e "$p" ] && echo "$p" >> "$STATE/host-paths"; done
  : > "$STATE/sysctls"
  for s in $KUBELET_SYSCTLS; do echo "$s=$(sysctl -n "$s")" >> "$STATE/sysctls"; done
}

net_up() {
  ip netns add "$NETNS"
  # Peer created directly inside the netns: "eth0" would clash with the host's own eth0.
  ip link add "$VETH" type veth peer name eth0 netns "$NETNS"
  ip addr add "$HOST_IP/$NET_PREFIX" dev "$VETH"
  ip link set "$VETH" up
  innet ip link set lo up
  innet ip addr add "$NODE_IP/$NET_PREFIX" dev eth0
  innet ip link set eth0 up
  # Per-netns sysctls, so the host's values are untouched. Forwarding: between eth0 (host -> LB IP)
  # and cni0 (pods). bridge-nf-call-iptables: pod -> Service -> pod on the same bridge must pass
  # kube-proxy's DNAT (per-netns since Linux 5.3).
  innet sysctl -qw net.ipv4.ip_forward=1
  innet sysctl -qw net.bridge.bridge-nf-call-iptables=1 2>/dev/null || say "warning: net.bridge.bridge-nf-call-iptables not settable in the netns"
  # The bridge plugin's ipMasq would also hide a pod's address from pods on the other node (all
  # that is outside its own /24), and NetworkPolicy peers are pod addresses: masquerade only what
  # leaves the cluster CIDR (pods -> host).
  innet iptables -t nat -A POSTROUTING -s "$CLUSTER_CIDR" ! -d "$CLUSTER_CIDR" -m comment --comment "e2e: pods leaving the cluster CIDR" -j MASQUERADE
  node2 || return 0
  ip netns add "$NODE2_NETNS"
  ip link add "$LINK_IF" netns "$NETNS" type veth peer name eth0 netns "$NODE2_NETNS"
  innet ip addr add "$NODE1_LINK_IP/$LINK_PREFIX" dev "$LINK_IF"
  innet ip link set "$LINK_IF" up
  innet2 ip link set lo up
  innet2 ip addr add "$NODE2_IP/$LINK_PREFIX" dev eth0
  innet2 ip link set eth0 up
  # Static routes instead of an overlay: each node reaches the other's pod /24 over the link;
  # node 2 reaches the apiserver (node 1's address) and the host network through node 1.
  innet ip route add "$POD_CIDR2" via "$NODE2_IP"
  innet2 ip route add "$POD_CIDR" via "$NODE1_LINK_IP"
  innet2 ip route add "$NODE_IP/32" via "$NODE1_LINK_IP"
  innet2 ip route add "$HOST_IP/32" via "$NODE1_LINK_IP"
  innet2 sysctl -qw net.ipv4.ip_forward=1
  innet2 sysctl -qw net.bridge.bridge-nf-call-iptables=1 2>/dev/null || say "warning: net.bridge.bridge-nf-call-iptables not settable in netns $NODE2_NETNS"
  innet2 iptables -t nat -A POSTROUTING -s "$CLUSTER_CIDR" ! -d "$CLUSTER_CIDR" -m comment --comment "e2e: pods leaving the cluster CIDR" -j MASQUERADE
}

# ---- config files (e2e/templates) -----------------------------------------------------------
# shellcheck disable=SC2034  # SPIN_RUNTIME is read by render (containerd.toml.tmpl)
write_configs() {
  local SPIN_RUNTIME="" t=$E2E/templates
  mkdir -p "$STATE/containerd" "$STATE/cni/net.d" "$STATE/kubelet" "$STATE/pod-logs" "$STATE/kubelet-plugins"
  if [ -n "${SPIN_SHIM:-}" ]; then
    [ -x "$SPIN_SHIM" ] || die "SPIN_SHIM=$SPIN_SHIM is not an executable"
    SPIN_RUNTIME=$(render "$t/containerd-spin.toml.tmpl")
  fi
  render "$t/containerd.toml.tmpl" > "$STATE/containerd/config.toml"
  # One bridge per node. host-local keeps its leases under the state dir (default
  # /var/lib/cni/networks). No ipMasq: net_up masquerades only traffic leaving the cluster CIDR.
  # hairpinMode: a pod reaching itself through its Service. The loopback plugin is not listed:
  # containerd's CRI sets up lo itself with the `loopback` binary from bin_dirs.
  render "$t/cni.conflist.tmpl" > "$STATE/cni/net.d/10-$NETNS.conflist"
  render "$t/kubelet.yaml.tmpl" > "$STATE/kubelet/config.yaml"
  render "$t/kube-proxy.yaml.tmpl" > "$STATE/kube-proxy.yaml"
  node2 || return 0
  # Node 2: the same templates, with node 2's names, addresses, paths and cgroup root, set in a
  # subshell on purpose so that node 1's values survive it.
  # shellcheck disable=SC2030
  (
    STATE=$NODE2_STATE SOCK=$SOCK2 NETNS=$NODE2_NETNS NODE_NAME=$NODE2_NAME NODE_IP=$NODE2_IP
    POD_CIDR=$POD_CIDR2 CGROUP_NAME=$CGROUP_NAME2
    mkdir -p "$STATE/containerd" "$STATE/cni/net.d" "$STATE/kubelet" "$STATE/pod-logs" "$STATE/kubelet-plugins"
    render "$t/containerd.toml.tmpl" > "$STATE/containerd/config.toml"
    render "$t/cni.conflist.tmpl" > "$STATE/cni/net.d/10-$NETNS.conflist"
    render "$t/kubelet.yaml.tmpl" > "$STATE/kubelet/config.yaml"
    render "$t/kube-proxy.yaml.tmpl" > "$STATE/kube-proxy.yaml"
  )
}

# ---- components -----------------------------------------------------------------------------
start_etcd() {
  # In the netns: fixed ports on its own loopback, so nothing can collide with the host's.
  spawn etcd "$BIN/etcd" --name=e2e --data-dir="$STATE/etcd" \
    --listen-client-urls=http://127.0.0.1:2379 --advertise-client-urls=http://127.0.0.1:2379 \
    --listen-peer-urls=http://127.0.0.1:2380 --initial-advertise-peer-urls=http://127.0.0.1:2380 \
    --initial-cluster=e2e=http://127.0.0.1:2380 --initial-cluster-state=new \
    --listen-metrics-urls=http://127.0.0.1:2381 --unsafe-no-fsync --log-level=warn
}
etcd_healthy() { innet curl -fsS --max-time 2 http://127.0.0.1:2379/health | grep -q '"health":"true"'; }

start_apiserver() {
  local P=$STATE/pki
  # --advertise-address=NODE_IP + the default lease endpoint reconciler: default/kubernetes points
  # at the node IP, so pods reach the API through the kubernetes Service.
  # --enable-aggregator-routing: the apiserver runs in the node's host network, which has no route
  # to Service IPs; aggregated APIs and webhooks are called at their endpoint (pod) IPs instead.
  # shellcheck disable=SC2086 # KUBE_APISERVER_EXTRA_ARGS is deliberately word-split
  spawn kube-apiserver "$BIN/kube-apiserver" \
    --etcd-servers=http://127.0.0.1:2379 \
    --bind-address=0.0.0.0 --secure-port=$APISERVER_PORT --advertise-address="$NODE_IP" \
    --tls-cert-file="$P/apiserver.crt" --tls-private-key-file="$P/apiserver.key" \
    --client-ca-file="$P/ca.crt" \
    --kubelet-client-certificate="$P/apiserver-kubelet-client.crt" --kubelet-client-key="$P/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority="$P/ca.crt" --kubelet-preferred-address-types=InternalIP \
    --service-account-issuer=https://kubernetes.default.svc.$CLUSTER_DOMAIN \
    --service-account-key-file="$P/sa.pub" --service-account-signing-key-file="$P/sa.key" \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --authorization-mode=Node,RBAC \
    --allow-privileged=true \
    --requestheader-client-ca-file="$P/front-proxy-ca.crt" --requestheader-allowed-names=front-proxy-client \
    --requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group \
    --requestheader-extra-headers-prefix=X-Remote-Extra- \
    --proxy-client-cert-file="$P/front-proxy-client.crt" --proxy-client-key-file="$P/front-proxy-client.key" \
    --enable-aggregator-routing=true \
    --profiling=false \
    ${KUBE_APISERVER_EXTRA_ARGS:-}
}
api_ready() { [ "$(kubectl_ get --raw /readyz --request-timeout=3s 2>/dev/null)" = ok ]; }

start_controller_manager() {
  local P=$STATE/pki k=$STATE/controller-manager.conf
  # HPA: 15 s sync and 30 s downscale stabilization instead of 15 s / 5 min, so autoscaling tests
  # see a scale-down within a minute. --use-service-account-credentials: each controller acts as
  # its own ServiceAccount, as in kubeadm clusters, so RBAC problems show up here too.
  spawn kube-controller-manager "$BIN/kube-controller-manager" \
    --kubeconfig="$k" --authentication-kubeconfig="$k" --authorization-kubeconfig="$k" \
    --bind-address=127.0.0.1 \
    --service-account-private-key-file="$P/sa.key" --root-ca-file="$P/ca.crt" \
    --cluster-signing-cert-file="$P/ca.crt" --cluster-signing-key-file="$P/ca.key" \
    --requestheader-client-ca-file="$P/front-proxy-ca.crt" \
    --use-service-account-credentials=true --controllers='*' \
    --service-cluster-ip-range="$SERVICE_CIDR" --cluster-cidr="$CLUSTER_CIDR" --allocate-node-cidrs=false \
    --flex-volume-plugin-dir="$STATE/kubelet-plugins" \
    --horizontal-pod-autoscaler-sync-period="$HPA_SYNC_PERIOD" \
    --horizontal-pod-autoscaler-downscale-stabilization="$HPA_DOWNSCALE_STABILIZATION" \
    --leader-elect=false --profiling=false
}

start_scheduler() {
  local k=$STATE/scheduler.conf
  spawn kube-scheduler "$BIN/kube-scheduler" \
    --kubeconfig="$k" --authentication-kubeconfig="$k" --authorization-kubeconfig="$k" \
    --bind-address=127.0.0.1 --leader-elect=false --profiling=false
}

start_containerd() {
  local path=$BIN:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  [ -z "${SPIN_SHIM:-}" ] || path=$(dirname "$SPIN_SHIM"):$path
  spawn containerd env PATH="$path" "$BIN/containerd" --config "$STATE/containerd/config.toml" --log-level warn
  node2 || return 0
  spawn2 containerd-2 env PATH="$path" "$BIN/containerd" --config "$NODE2_STATE/containerd/config.toml" --log-level warn
}
containerd_ready() { "$BIN/ctr" --address "$SOCK" version && { ! node2 || "$BIN/ctr" --address "$SOCK2" version; }; }

prepare_cgroups() {
  # kubelet insists that cgroupRoot exists in every v1 hierarchy. cpuset children start empty and
  # would refuse tasks, so they inherit the root's cpus/mems.
  local h
  # cgroup v2 (untested here): one directory; kubelet enables the controllers it needs below it.
  if [ -f /sys/fs/cgroup/cgroup.controllers ]; then mkdir -p "/sys/fs/cgroup/$CGROUP_NAME"; return 0; fi
  local n
  for n in "$CGROUP_NAME" "$CGROUP_NAME2"; do
    [ "$n" = "$CGROUP_NAME" ] || node2 || continue
    for h in /sys/fs/cgroup/*/; do
      case $h in */unified/) continue ;; esac
      mkdir -p "$h$n"
      if [ -e "$h$n/cpuset.cpus" ]; then
        cat "${h}cpuset.cpus" > "$h$n/cpuset.cpus"
        cat "${h}cpuset.mems" > "$h$n/cpuset.mems"
      fi
    done
  done
}

start_kubelet() {
  spawn kubelet "$BIN/kubelet" \
    --config="$STATE/kubelet/config.yaml" --kubeconfig="$STATE/kubelet.conf" \
    --root-dir="$STATE/kubelet" --hostname-override="$NODE_NAME" --node-ip="$NODE_IP" \
    --node-labels=spin=true --v=1
  node2 || return 0
  # kubelet's device-plugin socket dir (/var/lib/kubelet/device-plugins) is hard-coded and so
  # shared by both kubelets; no device plugin runs here, so neither needs it.
  spawn2 kubelet-2 "$BIN/kubelet" \
    --config="$NODE2_STATE/kubelet/config.yaml" --kubeconfig="$NODE2_STATE/kubelet.conf" \
    --root-dir="$NODE2_STATE/kubelet" --hostname-override="$NODE2_NAME" --node-ip="$NODE2_IP" \
    --node-labels=spin=true --v=1
}
node_ready() {
  local n
  for n in "$NODE_NAME" $(node2 && echo "$NODE2_NAME"); do
    [ "$(kubectl_ get node "$n" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ] || return 1
  done
}

start_kube_proxy() {
  spawn kube-proxy "$BIN/kube-proxy" --config="$STATE/kube-proxy.yaml" --v=1
  node2 || return 0
  spawn2 kube-proxy-2 "$BIN/kube-proxy" --config="$NODE2_STATE/kube-proxy.yaml" --v=1
}
proxy_healthy() {
  innet curl -fsS --max-time 2 http://127.0.0.1:10256/healthz && { ! node2 || innet2 curl -fsS --max-time 2 http://127.0.0.1:10256/healthz; }
}

# NetworkPolicy enforcement: kube-router with only its firewall (network-policy controller) on,
# one per node like kube-proxy. It filters the traffic to and from its node's pods in the filter
# table (FORWARD, and bridged pod-to-pod traffic through bridge-nf-call-iptables), with ipsets of
# pod addresses; the node's own address may always reach its pods (kubelet probes).
# Routing (BGP) and its service proxy stay off: static routes and kube-proxy do those.
start_kube_router() {
  local args=(--run-firewall=true --run-router=false --run-service-proxy=false --enable-cni=false
    --enable-ipv4=true --enable-ipv6=false --kubeconfig="$STATE/kube-router.conf"
    --service-cluster-ip-range="$SERVICE_CIDR" --metrics-port=0 --health-port=20244 --v=1)
  spawn kube-router "$BIN/kube-router" "${args[@]}" --hostname-override="$NODE_NAME"
  node2 || return 0
  spawn2 kube-router-2 "$BIN/kube-router" "${args[@]}" --hostname-override="$NODE2_NAME"
}
router_healthy() {
  innet curl -fsS --max-time 2 http://127.0.0.1:20244/healthz && { ! node2 || innet2 curl -fsS --max-time 2 http://127.0.0.1:20244/healthz; }
}

# What `minikube tunnel` does for LoadBalancer Services, minus the routing: the node IP is already
# reachable from the host, and kube-proxy (iptables mode) DNATs traffic to status IPs. So every
# LoadBalancer Service without an ingress IP gets NODE_IP; Helm/Terraform waits then complete.
lb_loop() {
  local ns name type ip
  while :; do
    kubectl_ get services --all-namespaces --watch --request-timeout=0 \
      -o jsonpath='{.metadata.namespace} {.metadata.name} {.spec.type} {.status.loadBalancer.ingress[0].ip}{"\n"}' 2>>"$STATE/logs/lb.log" |
      while read -r ns name type ip; do
        if [ "$type" != LoadBalancer ] || [ -n "$ip" ]; then continue; fi
        kubectl_ -n "$ns" patch service "$name" --subresource=status --type=merge \
          -p "{\"status\":{\"loadBalancer\":{\"ingress\":[{\"ip\":\"$NODE_IP\",\"ipMode\":\"VIP\"}]}}}" >>"$STATE/logs/lb.log" 2>&1 || true
      done
    sleep 1
  done
}
start_lb() {
  setsid bash "$E2E/cluster.sh" _lb-loop "$STATE/" </dev/null >>"$STATE/logs/lb.log" 2>&1 9>&- &
  echo $! > "$STATE/pids/lb.pid"
}

load_images() { # into every node's containerd, like `minikube image load`
  local f s
  for f in "$@"; do
    [ -s "$f" ] || die "no such image tarball: $f"
    # --local: import straight into the content store (no transfer service round trip).
    # Unpacked for the CRI snapshotter (overlayfs), so the first container start is immediate.
    for s in "$SOCK" $(node2 && echo "$SOCK2"); do
      "$BIN/ctr" --address "$s" -n k8s.io images import --local --snapshotter overlayfs "$f" >/dev/null
    done
  done
}

# ---- up / down ------------------------------------------------------------------------------
stale() { [ -e "$STATE" ] || [ -e "$NETNS_PATH" ] || [ -e "$NODE2_NETNS_PATH" ] || ip link show "$VETH" >/dev/null 2>&1 || [ -n "$(cgroup_dirs)" ]; }

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
  t=$(now); gen_pki
  write_configs
  chmod 644 "$STATE/pki/ca.crt"
  # Back to the usual umask before anything is spawned: containerd would otherwise create image
  # snapshots (and kubelet pod dirs) 0700, and non-root containers could not even stat their
  # entrypoint ("stat /echo: permission denied").
  umask 022
  say "PKI, kubeconfigs and configs written in $(since "$t")s"
  t=$(now); net_up; say "netns $NETNS: host $VETH $HOST_IP/$NET_PREFIX <-> node eth0 $NODE_IP/$NET_PREFIX ($(since "$t")s)"
  if node2; then say "netns $NODE2_NETNS: node 1 $LINK_IF $NODE1_LINK_IP/$LINK_PREFIX <-> node 2 eth0 $NODE2_IP/$LINK_PREFIX; pods $POD_CIDR (node 1), $POD_CIDR2 (node 2)"; fi

  t=$(now); start_etcd; wait_until etcd 30 "etcd /health" etcd_healthy; say "etcd ready in $(since "$t")s"
  t=$(now); start_containerd   # independent of the API: overlaps with the apiserver's start-up
  start_apiserver
  wait_until kube-apiserver "$READY_TIMEOUT" "kube-apiserver /readyz at https://$NODE_IP:$APISERVER_PORT" api_ready
  say "kube-apiserver ready (from the host) in $(since "$t")s"
  # The apiserver's kubelet client (logs, exec, port-forward) has no rights until a full
  # `kubeadm init` would bind it; the kubelet asks the apiserver (webhook authz) before serving it.
  kubectl_ create clusterrolebinding e2e:apiserver-kubelet-client --clusterrole=system:kubelet-api-admin \
    --user=kube-apiserver-kubelet-client >/dev/null
  kubectl_ apply -f "$E2E/manifests/kube-router-rbac.yaml" >/dev/null
  start_controller_manager
  start_scheduler
  wait_until containerd 30 "containerd socket $SOCK" containerd_ready
  t=$(now); load_images "$E2E_IMAGES/pause.tar" "$E2E_IMAGES/coredns.tar"; say "pause + coredns images imported in $(since "$t")s"
  t=$(now); prepare_cgroups; start_kubelet; start_kube_proxy
  wait_until kubelet "$READY_TIMEOUT" "node $NODE_NAME Ready" node_ready
  say "node $NODE_NAME Ready in $(since "$t")s"
  wait_until kube-proxy 60 "kube-proxy /healthz" proxy_healthy
  t=$(now); start_kube_router
  wait_until kube-router 60 "kube-router /healthz on every node" router_healthy
  say "kube-router (NetworkPolicy) healthy on $NODES node(s) in $(since "$t")s"
  start_lb
  t=$(now)
  render "$E2E/manifests/coredns.yaml" | kubectl_ apply -f - >/dev/null
  if ! kubectl_ -n kube-system rollout status deployment/coredns --timeout="${READY_TIMEOUT}s" >&2; then
    kubectl_ -n kube-system get pods -o wide >&2 || true
    kubectl_ -n kube-system describe pods -l k8s-app=kube-dns 2>&1 | tail -30 >&2 || true
    logtail kubelet; die "CoreDNS not Ready"
  fi
  say "CoreDNS Ready in $(since "$t")s"
  trap - EXIT INT TERM
  say "cluster up ($NODES nodes) in $(since "$t_all")s: kubeconfig $KUBECONFIG_PATH (https://$NODE_IP:$APISERVER_PORT)"
  echo "$KUBECONFIG_PATH"
}

kill_containers() {
  local pids
  for _ in $(seq 1 50); do
    pids=$(container_pids)
    [ -z "$pids" ] && return 0
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null || true
    sleep 0.1
  done
  say "warning: container processes still alive: $(container_pids | tr '\n' ' ')"
}

# Shim sockets live in /run/containerd/s (hard-coded in containerd). Collected from the shims'
# own listening sockets before they are killed, so only our files are removed.
shim_sockets() {
  local p fd ino
  for p in $(state_pids); do
    [[ $(readlink "/proc/$p/exe" 2>/dev/null) == "$BIN/containerd-shim-runc-v2"* ]] || continue
    for fd in /proc/"$p"/fd/*; do
      ino=$(readlink "$fd" 2>/dev/null) || continue
      [[ $ino == socket:* ]] || continue
      ino=${ino#socket:[}; ino=${ino%]}
      awk -v i="$ino" '$7 == i && $8 ~ /^\/run\/containerd\/s\// {print $8}' "/proc/$p/net/unix" 2>/dev/null
    done
  done | sort -u
}

state_mounts() { # mount points under the state dir, deepest first
  awk -v s="$STATE/" '{ m = $5; gsub(/\\040/, " ", m); if (index(m "/", s) == 1) print m }' /proc/self/mountinfo | awk '{ print length($0) " " $0 }' | sort -rn | cut -d' ' -f2-
}

teardown() {
  local t p m s sockets
  t=$(now)
  # kubelet first, so nothing gets restarted while containers are being killed.
  # The LoadBalancer loop is a session of its own (setsid): take its kubectl children along.
  if ours "$(pid_of lb)"; then kill -TERM -- "-$(pid_of lb)" 2>/dev/null || true; fi
  stop_procs lb kubelet kubelet-2 kube-proxy kube-proxy-2 kube-router kube-router-2 kube-controller-manager kube-scheduler
  kill_containers
  sockets=$(shim_sockets)
  # shellcheck disable=SC2046
  stop_procs containerd containerd-2 kube-apiserver etcd
  # shellcheck disable=SC2046
  kill_pids KILL $(state_pids)   # shims (they do not exit on SIGTERM while containerd is gone)
  for _ in $(seq 1 50); do [ -z "$(state_pids)" ] && break; sleep 0.1; done
  [ -z "$(state_pids)" ] || say "warning: processes still alive: $(state_pids | tr '\n' ' ')"
  for s in $sockets; do rm -f "$s"; done
  # Mounts: overlay rootfs, shm, pod netns (netns_mounts_under_state_dir), kubelet's tmpfs volumes
  # and its rshared bind mount of its root dir.
  for _ in 1 2 3; do
    m=$(state_mounts); [ -z "$m" ] && break
    while IFS= read -r p; do umount "$p" 2>/dev/null || umount -l "$p" 2>/dev/null || true; done <<< "$m"
  done
  [ -z "$(state_mounts)" ] || die "could not unmount: $(state_mounts | tr '\n' ' ')"
  # Deleting the netns takes the veth pair, cni0, and every iptables rule of kube-proxy, CNI and
  # kubelet with it.
  if [ -e "$NETNS_PATH" ]; then ip netns del "$NETNS" 2>/dev/null || true; fi
  if [ -e "$NODE2_NETNS_PATH" ]; then ip netns del "$NODE2_NETNS" 2>/dev/null || true; fi
  ip link del "$VETH" 2>/dev/null || true
  for _ in $(seq 1 50); do ip link show "$VETH" >/dev/null 2>&1 || break; sleep 0.1; done
  # cgroups, deepest first (rmdir only: a cgroup with tasks refuses, which is then reported).
  local d
  for d in $(cgroup_dirs); do
    find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true
    [ ! -d "$d" ] || say "warning: could not remove cgroup $d"
  done
  if [ -r "$STATE/sysctls" ]; then
    while IFS='=' read -r k v; do [ "$(sysctl -n "$k")" = "$v" ] || sysctl -qw "$k=$v"; done < "$STATE/sysctls"
  fi
  local hp
  if [ -r "$STATE/host-paths" ]; then
    for hp in $HOST_PATHS; do
      if grep -qx "$hp" "$STATE/host-paths"; then
        # It was there before `up`: remove only what is ours.
        case $hp in
          /var/log/containers) find "$hp" -maxdepth 1 -type l -lname "$STATE/*" -delete 2>/dev/null || true ;;
          /var/lib/cni) rm -f "$hp/results/$NETNS"-* "$hp/results/cni-loopback"-* 2>/dev/null || true ;;
        esac
      else
        case $hp in
          # `ip netns add` turned /run/netns into a (shared) mount point of its own; undo it once empty.
          /run/netns) if [ -d "$hp" ] && [ -z "$(ls -A "$hp")" ]; then umount "$hp" 2>/dev/null || true; rmdir "$hp" 2>/dev/null || true; fi ;;
          *) rm -rf "$hp" ;;
        esac
      fi
    done
  fi
  rm -rf "$STATE" || die "could not remove $STATE (is another e2e/cluster.sh using it?)"
  say "down in $(since "$t")s: processes, mounts, netns $NETNS + $NODE2_NETNS, veths, cgroups /$CGROUP_NAME* removed"
}

cmd_down() {
  lock
  if ! stale && [ -z "$(state_pids)" ]; then say "not running; nothing to do"; return 0; fi
  teardown
}

running() { alive kube-apiserver && api_ready; }
healthy() {
  local n
  for n in etcd kube-apiserver kube-controller-manager kube-scheduler containerd kubelet kube-proxy kube-router lb \
    $(node2 && echo containerd-2 kubelet-2 kube-proxy-2 kube-router-2); do alive "$n" || return 1; done
  api_ready && node_ready
}

cmd_env() {
  running || die "not up (state: $STATE); run: e2e/cluster.sh up"
  printf 'export KUBECONFIG=%q\n' "$KUBECONFIG_PATH"
  printf 'export KUBECACHEDIR=%q\n' "$STATE/kube-cache"
  printf 'export E2E_KUBECTL=%q\n' "$BIN/kubectl"
  printf 'export E2E_NODE_IP=%q\nexport E2E_HOST_IP=%q\nexport E2E_NETNS=%q\nexport E2E_NODE_NAME=%q\n' "$NODE_IP" "$HOST_IP" "$NETNS" "$NODE_NAME"
  printf 'export E2E_CONTAINERD_ADDRESS=%q\nexport E2E_APISERVER=%q\n' "$SOCK" "https://$NODE_IP:$APISERVER_PORT"
  printf 'export E2E_NODES=%q\nexport E2E_NODE2_NAME=%q\nexport E2E_NODE2_NETNS=%q\n' "$NODES" "$(node2 && echo "$NODE2_NAME")" "$(node2 && echo "$NODE2_NETNS")"
  printf 'export E2E_NODE1_LINK_IP=%q\n' "$(node2 && echo "$NODE1_LINK_IP")"
}

cmd_status() {
  local n p rc=0 rss hwm tot=0 totp=0 cpids cr=0
  for n in etcd kube-apiserver kube-controller-manager kube-scheduler containerd kubelet kube-proxy kube-router lb \
    $(node2 && echo containerd-2 kubelet-2 kube-proxy-2 kube-router-2); do
    p=$(pid_of "$n")
    if ours "$p"; then
      rss=$(kib "$p" VmRSS); hwm=$(kib "$p" VmHWM); tot=$((tot + rss)); totp=$((totp + hwm))
      printf '%-24s pid %-7s rss %5d MiB  peak %5d MiB\n' "$n" "$p" $((rss / 1024)) $((hwm / 1024))
    else printf '%-24s not running\n' "$n"; rc=1; fi
  done
  for p in $(state_pids); do
    [[ $(readlink "/proc/$p/exe") == *containerd-shim* ]] || continue
    rss=$(kib "$p" VmRSS); tot=$((tot + rss)); totp=$((totp + $(kib "$p" VmHWM)))
    cr=$((cr + 1))
  done
  cpids=$(container_pids | wc -l)
  local cmem=0 cmax=0 g
  for g in "$CGROUP_NAME" "$CGROUP_NAME2"; do # peaks of both nodes added: an upper bound
    [ -r "/sys/fs/cgroup/memory/$g/memory.usage_in_bytes" ] || continue
    cmem=$((cmem + $(cat "/sys/fs/cgroup/memory/$g/memory.usage_in_bytes") / 1048576))
    cmax=$((cmax + $(cat "/sys/fs/cgroup/memory/$g/memory.max_usage_in_bytes") / 1048576))
  done
  printf '%-24s %d shims, %d container processes; pods cgroup memory %d MiB (peak %d MiB, incl. page cache)\n' containers "$cr" "$cpids" "$cmem" "$cmax"
  printf '%-24s rss %5d MiB  (sum of peaks %d MiB; processes above + shims)\n' total $((tot / 1024)) $((totp / 1024))
  if [ $rc = 0 ] && running; then
    printf 'apiserver                https://%s:%s  kubeconfig %s\n' "$NODE_IP" "$APISERVER_PORT" "$KUBECONFIG_PATH"
    kubectl_ get nodes -o wide 2>&1 || rc=1
    kubectl_ get pods -A -o wide 2>&1 || true
  else printf 'apiserver                not ready (state: %s)\n' "$STATE"; rc=1; fi
  return $rc
}

# End-to-end check of the data path: an imported image runs; a ClusterIP Service resolves through
# CoreDNS and answers another pod; a LoadBalancer Service gets NODE_IP and answers the host.
cmd_smoke() {
  running || die "not up; run: e2e/cluster.sh up"
  eval "$("$E2E/tools.sh" env | grep -E '^(E2E_IMAGES|ECHO_IMAGE)=')"
  local t ok=0 fail=0 out port rc
  # kube-proxy programs a new Service a moment after its endpoints are ready: retry for up to 20 s.
  try() { for _ in $(seq 1 40); do out=$("$@" 2>&1) && return 0; sleep 0.5; done; return 1; }
  check() { if [ "$1" = 0 ]; then ok=$((ok + 1)); say "PASS $2"; else fail=$((fail + 1)); say "FAIL $2"; fi; }
  t=$(now); load_images "$E2E_IMAGES/echo.tar"; say "echo image imported in $(since "$t")s"
  kubectl_ apply -f - >/dev/null <<EOF
apiVersion: apps/v1
kind: Deployment
metadata: {name: echo, namespace: default}
spec:
  replicas: 2
  selector: {matchLabels: {app: echo}}
  template:
    metadata: {labels: {app: echo}}
    spec:
      nodeSelector: {spin: "true"}
      # One echo pod per node (with two nodes), so the checks below cross the node link.
      topologySpreadConstraints:
      - {maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: echo}}}
      containers:
      - name: echo
        image: $ECHO_IMAGE
        imagePullPolicy: Never
        ports: [{containerPort: 8080}]
        readinessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 2}
        securityContext: {allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: {drop: [ALL]}, seccompProfile: {type: RuntimeDefault}}
---
apiVersion: v1
kind: Service
metadata: {name: echo, namespace: default}
spec: {selector: {app: echo}, ports: [{port: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: echo-lb, namespace: default}
spec: {type: LoadBalancer, selector: {app: echo}, ports: [{port: 18080, targetPort: 8080}]}
EOF
  t=$(now)
  if kubectl_ rollout status deployment/echo --timeout=120s >&2; then
    check 0 "echo Deployment (image $ECHO_IMAGE, imported, 2 replicas) Ready in $(since "$t")s"
  else
    check 1 "echo Deployment Ready"; kubectl_ describe pods -l app=echo | tail -15 >&2
  fi
  local pod; pod=$(kubectl_ get pods -l app=echo -o jsonpath='{.items[0].metadata.name}')
  if node2; then
    local other other_ip nodes
    nodes=$(kubectl_ get pods -l app=echo -o jsonpath='{range .items[*]}{.spec.nodeName}{"\n"}{end}' | sort -u | wc -l)
    [ "$nodes" = 2 ] && rc=0 || rc=1; check $rc "echo pods spread over $nodes node(s)"
    other=$(kubectl_ get pods -l app=echo -o jsonpath='{.items[1].metadata.name}')
    other_ip=$(kubectl_ get pod "$other" -o jsonpath='{.status.podIP}')
    try kubectl_ exec "$pod" -- /echo get "http://$other_ip:8080/cross-node" && rc=0 || rc=1
    check $rc "pod on $(kubectl_ get pod "$pod" -o jsonpath='{.spec.nodeName}') -> pod $other_ip on $(kubectl_ get pod "$other" -o jsonpath='{.spec.nodeName}'): $out"
  fi
  try kubectl_ exec "$pod" -- /echo get "http://echo.default.svc.$CLUSTER_DOMAIN:8080/dns" && rc=0 || rc=1; check $rc "pod -> http://echo.default.svc.$CLUSTER_DOMAIN:8080 (CoreDNS + ClusterIP): $out"
  try kubectl_ exec "$pod" -- /echo get "http://echo:8080/short" && rc=0 || rc=1; check $rc "pod -> http://echo:8080 (search path): $out"
  out=$(kubectl_ exec "$pod" -- /echo get "https://kubernetes.default.svc/version" 2>&1) || true
  case $out in *x509*|*certificate*|*'"gitVersion"'*) rc=0 ;; *) rc=1 ;; esac
  check $rc "pod -> https://kubernetes.default.svc reaches the apiserver: ${out:0:80}"
  t=$(now)
  local ip=""
  for _ in $(seq 1 60); do
    ip=$(kubectl_ get service echo-lb -o jsonpath='{.status.loadBalancer.ingress[0].ip}'); [ -n "$ip" ] && break; sleep 0.5
  done
  [ "$ip" = "$NODE_IP" ] && rc=0 || rc=1; check $rc "LoadBalancer echo-lb got ingress IP '$ip' in $(since "$t")s"
  try curl -fsS --max-time 5 "http://$NODE_IP:18080/from-host" && rc=0 || rc=1; check $rc "host -> http://$NODE_IP:18080 (LoadBalancer): $out"
  port=$(kubectl_ get service echo-lb -o jsonpath='{.spec.ports[0].nodePort}')
  try curl -fsS --max-time 5 "http://$NODE_IP:$port/nodeport" && rc=0 || rc=1; check $rc "host -> http://$NODE_IP:$port (NodePort): $out"
  kubectl_ delete deployment/echo service/echo service/echo-lb --wait=false >/dev/null
  say "smoke: $ok passed, $fail failed"
  [ $fail = 0 ]
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
