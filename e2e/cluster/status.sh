# shellcheck shell=bash
# e2e/cluster.sh's env and status (sourced): what runs, for the callers and for `up`'s reuse check.

CONTROL_PLANE_PROCS="etcd kube-apiserver kube-controller-manager kube-scheduler lb"
all_procs() { echo "$CONTROL_PLANE_PROCS"; for_each_node node_procs; }
healthy() {
  local n
  for n in $(all_procs); do alive "$n" || return 1; done
  api_ready && for_each_node node_ready
}

# The first node's values as E2E_NODE_*, node 2's as E2E_NODE2_* (empty with one node), and the
# lists of every node: E2E_NODE_NAMES, and E2E_NODE1_LINK_IPS (node 1's end of each node's link:
# the source of what node 1, e.g. the apiserver's service proxy, sends to another node's pods).
cmd_env() {
  running || die "not up (state: $STATE); run: e2e/cluster.sh up"
  local node2_name="" node2_link="" names links
  names=$(for_each_node echo_name | xargs)
  links=$(for_each_node link_ip_of_other | xargs)
  if [ "$NODES" -ge 2 ]; then node2_name=$(for_each_node echo_name | sed -n 2p); node2_link=${links%% *}; fi
  printf 'export KUBECONFIG=%q\n' "$KUBECONFIG_PATH"
  printf 'export KUBECACHEDIR=%q\n' "$STATE/kube-cache"
  printf 'export E2E_KUBECTL=%q\n' "$BIN/kubectl"
  printf 'export E2E_NODE_IP=%q\nexport E2E_HOST_IP=%q\nexport E2E_NETNS=%q\nexport E2E_NODE_NAME=%q\n' "$NODE_IP" "$HOST_IP" "$NETNS" "$NODE_NAME"
  printf 'export E2E_CONTAINERD_ADDRESS=%q\nexport E2E_APISERVER=%q\n' "$SOCK" "https://$NODE_IP:$APISERVER_PORT"
  printf 'export E2E_NODES=%q\nexport E2E_NODE2_NAME=%q\nexport E2E_NODE2_NETNS=%q\n' "$NODES" "$node2_name" "$node2_name"
  printf 'export E2E_NODE1_LINK_IP=%q\n' "$node2_link"
  printf 'export E2E_NODE_NAMES=%q\nexport E2E_NODE1_LINK_IPS=%q\n' "$names" "$links"
}
link_ip_of_other() { [ "$N" = 1 ] || echo "$N_LINK_IP"; }

node_cgroup_memory() { # adds this node's pods' cgroup memory (v1) to cmem and cmax
  [ -r "/sys/fs/cgroup/memory/$N_CGROUP/memory.usage_in_bytes" ] || return 0
  cmem=$((cmem + $(cat "/sys/fs/cgroup/memory/$N_CGROUP/memory.usage_in_bytes") / 1048576))
  cmax=$((cmax + $(cat "/sys/fs/cgroup/memory/$N_CGROUP/memory.max_usage_in_bytes") / 1048576))
}

cmd_status() {
  local n p rc=0 rss hwm tot=0 totp=0 cpids cr=0
  for n in $(all_procs); do
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
  local cmem=0 cmax=0
  for_each_node node_cgroup_memory # peaks of every node added: an upper bound
  printf '%-24s %d shims, %d container processes; pods cgroup memory %d MiB (peak %d MiB, incl. page cache)\n' containers "$cr" "$cpids" "$cmem" "$cmax"
  printf '%-24s rss %5d MiB  (sum of peaks %d MiB; processes above + shims)\n' total $((tot / 1024)) $((totp / 1024))
  if [ $rc = 0 ] && running; then
    printf 'apiserver                https://%s:%s  kubeconfig %s\n' "$NODE_IP" "$APISERVER_PORT" "$KUBECONFIG_PATH"
    kubectl_ get nodes -o wide 2>&1 || rc=1
    kubectl_ get pods -A -o wide 2>&1 || true
  else printf 'apiserver                not ready (state: %s)\n' "$STATE"; rc=1; fi
  return $rc
}
