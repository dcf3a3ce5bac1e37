# shellcheck shell=bash
# e2e/cluster.sh's node phase (sourced): what each node runs, one function per component, each
# called through for_each_node (N_* are that node's values; node K's processes are named
# NAME-K and spawned in its netns).

start_containerd() {
  local path=$BIN:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  [ -z "${SPIN_SHIM:-}" ] || path=$(dirname "$SPIN_SHIM"):$path
  n_spawn "containerd$N_SUFFIX" env PATH="$path" "$BIN/containerd" --config "$N_STATE/containerd/config.toml" --log-level warn
}
containerd_ready() { "$BIN/ctr" --address "$N_SOCK" version; }

prepare_cgroups() {
  # kubelet insists that cgroupRoot exists in every v1 hierarchy. cpuset children start empty and
  # would refuse tasks, so they inherit the root's cpus/mems.
  local h
  # cgroup v2 (untested here): one directory; kubelet enables the controllers it needs below it.
  if [ -f /sys/fs/cgroup/cgroup.controllers ]; then mkdir -p "/sys/fs/cgroup/$N_CGROUP"; return 0; fi
  for h in /sys/fs/cgroup/*/; do
    case $h in */unified/) continue ;; esac
    mkdir -p "$h$N_CGROUP"
    if [ -e "$h$N_CGROUP/cpuset.cpus" ]; then
      cat "${h}cpuset.cpus" > "$h$N_CGROUP/cpuset.cpus"
      cat "${h}cpuset.mems" > "$h$N_CGROUP/cpuset.mems"
    fi
  done
}

# Container processes: everything in the cgroup trees kubelet and runc made under each node's
# /N_CGROUP (every line of the table: teardown must find a node that a smaller E2E_NODES left).
cgroup_dirs() { for_each_node --all node_cgroup_dirs; }
node_cgroup_dirs() { # v1 (one per hierarchy) or v2 (/sys/fs/cgroup/NAME)
  local h
  if [ -f /sys/fs/cgroup/cgroup.controllers ]; then [ ! -d "/sys/fs/cgroup/$N_CGROUP" ] || echo "/sys/fs/cgroup/$N_CGROUP"; return 0; fi
  for h in /sys/fs/cgroup/*/; do [ ! -d "$h$N_CGROUP" ] || echo "$h$N_CGROUP"; done
}
container_pids() {
  local d
  for d in $(cgroup_dirs); do find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null; done | sort -un
}

# kubelet's device-plugin socket dir (/var/lib/kubelet/device-plugins) is hard-coded and so
# shared by every kubelet; no device plugin runs here, so none needs it.
start_kubelet() {
  n_spawn "kubelet$N_SUFFIX" "$BIN/kubelet" \
    --config="$N_STATE/kubelet/config.yaml" --kubeconfig="$N_STATE/kubelet.conf" \
    --root-dir="$N_STATE/kubelet" --hostname-override="$N_NAME" --node-ip="$N_IP" \
    --node-labels=spin=true --v=1
}
node_ready() {
  [ "$(kubectl_ get node "$N_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]
}

start_kube_proxy() { n_spawn "kube-proxy$N_SUFFIX" "$BIN/kube-proxy" --config="$N_STATE/kube-proxy.yaml" --v=1; }
proxy_healthy() { n_in curl -fsS --max-time 2 http://127.0.0.1:10256/healthz; }

# NetworkPolicy enforcement: kube-router with only its firewall (network-policy controller) on,
# one per node like kube-proxy. It filters the traffic to and from its node's pods in the filter
# table (FORWARD, and bridged pod-to-pod traffic through bridge-nf-call-iptables), with ipsets of
# pod addresses; the node's own address may always reach its pods (kubelet probes).
# Routing (BGP) and its service proxy stay off: static routes and kube-proxy do those.
start_kube_router() {
  n_spawn "kube-router$N_SUFFIX" "$BIN/kube-router" --run-firewall=true --run-router=false --run-service-proxy=false \
    --enable-cni=false --enable-ipv4=true --enable-ipv6=false --kubeconfig="$STATE/kube-router.conf" \
    --service-cluster-ip-range="$SERVICE_CIDR" --metrics-port=0 --health-port=20244 --v=1 --hostname-override="$N_NAME"
}
router_healthy() { n_in curl -fsS --max-time 2 http://127.0.0.1:20244/healthz; }

load_images() { # TAR...: into every node's containerd, like `minikube image load`
  local f
  for f in "$@"; do [ -s "$f" ] || die "no such image tarball: $f"; done
  for_each_node node_load_images "$@"
}
node_load_images() {
  local f
  for f in "$@"; do
    # --local: import straight into the content store (no transfer service round trip).
    # Unpacked for the CRI snapshotter (overlayfs), so the first container start is immediate.
    "$BIN/ctr" --address "$N_SOCK" -n k8s.io images import --local --snapshotter overlayfs "$f" >/dev/null
  done
}
# Every component of every started node, by process name, node by node.
node_procs() { echo "containerd$N_SUFFIX kubelet$N_SUFFIX kube-proxy$N_SUFFIX kube-router$N_SUFFIX"; }
