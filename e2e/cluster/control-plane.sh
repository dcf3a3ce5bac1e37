# shellcheck shell=bash
# e2e/cluster.sh's control-plane phase (sourced), on node 1: etcd and the apiserver through
# e2e/lib/control-plane.sh, with this cluster's flags; controller-manager, scheduler, CoreDNS.
# shellcheck source=../lib/control-plane.sh
. "$E2E/lib/control-plane.sh"

start_node_apiserver() {
  local P=$STATE/pki
  # --advertise-address=NODE_IP + the default lease endpoint reconciler: default/kubernetes points
  # at the node IP, so pods reach the API through the kubernetes Service.
  # --enable-aggregator-routing: the apiserver runs in the node's host network, which has no route
  # to Service IPs; aggregated APIs and webhooks are called at their endpoint (pod) IPs instead.
  start_apiserver \
    --bind-address=0.0.0.0 --advertise-address="$NODE_IP" \
    --tls-cert-file="$P/apiserver.crt" --tls-private-key-file="$P/apiserver.key" \
    --client-ca-file="$P/ca.crt" \
    --kubelet-client-certificate="$P/apiserver-kubelet-client.crt" --kubelet-client-key="$P/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority="$P/ca.crt" --kubelet-preferred-address-types=InternalIP \
    --requestheader-client-ca-file="$P/front-proxy-ca.crt" --requestheader-allowed-names=front-proxy-client \
    --requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group \
    --requestheader-extra-headers-prefix=X-Remote-Extra- \
    --proxy-client-cert-file="$P/front-proxy-client.crt" --proxy-client-key-file="$P/front-proxy-client.key" \
    --enable-aggregator-routing=true
}

grant_apiserver_rights() {
  # The apiserver's kubelet client (logs, exec, port-forward) has no rights until a full
  # `kubeadm init` would bind it; the kubelet asks the apiserver (webhook authz) before serving it.
  kubectl_ create clusterrolebinding e2e:apiserver-kubelet-client --clusterrole=system:kubelet-api-admin \
    --user=kube-apiserver-kubelet-client >/dev/null
  kubectl_ apply -f "$E2E/manifests/kube-router-rbac.yaml" >/dev/null
}

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

start_coredns() {
  render "$E2E/manifests/coredns.yaml" | kubectl_ apply -f - >/dev/null
  if ! kubectl_ -n kube-system rollout status deployment/coredns --timeout="${READY_TIMEOUT}s" >&2; then
    kubectl_ -n kube-system get pods -o wide >&2 || true
    kubectl_ -n kube-system describe pods -l k8s-app=kube-dns 2>&1 | tail -30 >&2 || true
    logtail kubelet; die "CoreDNS not Ready"
  fi
}
