# shellcheck shell=bash
# e2e/cluster.sh's PKI phase (sourced): certificates, kubeconfigs, and every node's config files
# (e2e/templates) rendered with that node's values.

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
  for_each_node node_pki
}
# for_each_node: node 1's kubelet uses kubeadm's kubelet.conf; node K gets the CA, kube-proxy's
# kubeconfig and an identity of its own, so the Node authorizer scopes it to its own objects.
node_pki() {
  if [ "$N" != 1 ]; then
    mkdir -p "$N_STATE/pki"
    cp "$STATE/pki/ca.crt" "$N_STATE/pki/ca.crt"
    cp "$STATE/kube-proxy.conf" "$N_STATE/kube-proxy.conf"
    "$BIN/kubeadm" kubeconfig user --config "$STATE/kubeadm.yaml" --client-name "system:node:$N_NAME" --org system:nodes \
      --validity-period 720h > "$N_STATE/kubelet.conf"
  fi
  kubelet_serving_cert "$N_STATE/pki/kubelet-serving" "$N_NAME" "$N_IP"
}
kubelet_serving_cert() { # PREFIX NODE_NAME NODE_IP
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" \
    -subj "/CN=system:node:$2/O=system:nodes" 2>/dev/null |
    openssl x509 -req -CA "$STATE/pki/ca.crt" -CAkey "$STATE/pki/ca.key" -days 30 -sha256 -out "$1.crt" \
      -extfile <(printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:%s,DNS:%s,IP:127.0.0.1\n' "$3" "$2") 2>/dev/null
}

# for_each_node: the templates with this node's names, addresses, paths and cgroup root, set in a
# subshell so that the globals (node 1's) survive it.
# shellcheck disable=SC2030,SC2031,SC2034,SC2153  # SPIN_RUNTIME, SPIN_HANDLER and the subshell's values are read by render; N_*: for_each_node's
write_node_configs() (
  local SPIN_RUNTIME="" SPIN_HANDLER t=$E2E/templates
  STATE=$N_STATE SOCK=$N_SOCK NETNS=$N_NAME NODE_NAME=$N_NAME NODE_IP=$N_IP POD_CIDR=$N_POD_CIDR CGROUP_NAME=$N_CGROUP
  mkdir -p "$STATE/containerd" "$STATE/cni/net.d" "$STATE/kubelet" "$STATE/pod-logs" "$STATE/kubelet-plugins"
  if [ -n "${SPIN_SHIM:-}" ]; then
    [ -x "$SPIN_SHIM" ] || die "SPIN_SHIM=$SPIN_SHIM is not an executable"
    SPIN_HANDLER=$(chart_value spinkube.shim.handler)
    SPIN_RUNTIME=$(render "$t/containerd-spin.toml.tmpl")
  fi
  render "$t/containerd.toml.tmpl" > "$STATE/containerd/config.toml"
  # One bridge per node. host-local keeps its leases under the state dir (default
  # /var/lib/cni/networks). No ipMasq: net_node masquerades only traffic leaving the cluster CIDR.
  # hairpinMode: a pod reaching itself through its Service. The loopback plugin is not listed:
  # containerd's CRI sets up lo itself with the `loopback` binary from bin_dirs.
  render "$t/cni.conflist.tmpl" > "$STATE/cni/net.d/10-$NETNS.conflist"
  render "$t/kubelet.yaml.tmpl" > "$STATE/kubelet/config.yaml"
  render "$t/kube-proxy.yaml.tmpl" > "$STATE/kube-proxy.yaml"
)
