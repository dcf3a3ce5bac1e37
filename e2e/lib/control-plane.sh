# shellcheck shell=bash
# etcd and kube-apiserver as both e2e/apiserver.sh (on the host's loopback, no nodes) and
# e2e/cluster.sh (in node 1's netns: SPAWN_IN) start them: one etcd member on loopback, and the
# apiserver flags both need. Each script passes the flags of its own on top. Needs lib/common.sh
# and ETCD_CLIENT_PORT, ETCD_PEER_PORT, APISERVER_PORT, SERVICE_CIDR, KUBECONFIG_PATH.

# start_etcd FLAG...: --unsafe-no-fsync: throw-away test data, and fsync latency is what makes etcd
# slow on shared disks (the apiserver's start-up writes hundreds of bootstrap objects). The peer
# port is opened too (etcd always opens one).
start_etcd() {
  spawn etcd "$BIN/etcd" --name=e2e --data-dir="$STATE/etcd" \
    --listen-client-urls="http://127.0.0.1:$ETCD_CLIENT_PORT" --advertise-client-urls="http://127.0.0.1:$ETCD_CLIENT_PORT" \
    --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster="e2e=http://127.0.0.1:$ETCD_PEER_PORT" --initial-cluster-state=new \
    "$@" --unsafe-no-fsync --log-level=warn
}
etcd_healthy() {
  ${SPAWN_IN[@]+"${SPAWN_IN[@]}"} curl -fsS --max-time 2 "http://127.0.0.1:$ETCD_CLIENT_PORT/health" | grep -q '"health":"true"'
}

# start_apiserver FLAG...: then KUBE_APISERVER_EXTRA_ARGS="--flag=value ..." (word-split; a later
# flag overrides an earlier one). The service-account key pair is mandatory since 1.20.
start_apiserver() {
  # shellcheck disable=SC2086 # KUBE_APISERVER_EXTRA_ARGS is deliberately word-split
  spawn kube-apiserver "$BIN/kube-apiserver" \
    --etcd-servers="http://127.0.0.1:$ETCD_CLIENT_PORT" --secure-port="$APISERVER_PORT" \
    --authorization-mode=Node,RBAC --allow-privileged=true \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$STATE/pki/sa.pub" --service-account-signing-key-file="$STATE/pki/sa.key" \
    --service-cluster-ip-range="$SERVICE_CIDR" --profiling=false \
    "$@" ${KUBE_APISERVER_EXTRA_ARGS:-}
}
# /readyz through the admin kubeconfig: the same TLS and credentials every client then uses.
api_ready() { [ "$(kubectl_ get --raw /readyz --request-timeout=3s 2>/dev/null)" = ok ]; }
running() { alive etcd && alive kube-apiserver && api_ready; }
