# shellcheck shell=bash
# e2e/cluster.sh's teardown phase (sourced): every process, mount, netns, veth, cgroup and host
# change of every node of the table, whatever E2E_NODES the cluster was started with.

stale() { [ -e "$STATE" ] || ! for_each_node --all netns_absent || ip link show "$VETH" >/dev/null 2>&1 || [ -n "$(cgroup_dirs)" ]; }
netns_absent() { [ ! -e "/run/netns/$N_NAME" ]; }
del_netns() { if [ -e "/run/netns/$N_NAME" ]; then ip netns del "$N_NAME" 2>/dev/null || true; fi; }
echo_name() { echo "$N_NAME"; }

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
  local n agents=() containerds=()
  for n in $(for_each_node --all node_procs); do case $n in containerd*) containerds+=("$n") ;; *) agents+=("$n") ;; esac; done
  stop_procs lb "${agents[@]}" kube-controller-manager kube-scheduler
  kill_containers
  sockets=$(shim_sockets)
  stop_procs "${containerds[@]}" kube-apiserver etcd
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
  for_each_node --all del_netns
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
  say "down in $(since "$t")s: processes, mounts, netns $(for_each_node --all echo_name | tr '\n' ' ')veths, cgroups /$CGROUP_NAME* removed"
}

cmd_down() {
  lock
  if ! stale && [ -z "$(state_pids)" ]; then say "not running; nothing to do"; return 0; fi
  teardown
}
