# shellcheck shell=bash
# e2e/cluster.sh smoke (sourced).

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
  # shellcheck disable=SC2153 # NODES: e2e/cluster.sh's
  local ECHO_REPLICAS=$(( NODES > 2 ? NODES : 2 ))
  render "$E2E/templates/echo-smoke.yaml.tmpl" | kubectl_ apply -f - >/dev/null
  t=$(now)
  if kubectl_ rollout status deployment/echo --timeout=120s >&2; then
    check 0 "echo Deployment (image $ECHO_IMAGE, imported, $ECHO_REPLICAS replicas) Ready in $(since "$t")s"
  else
    check 1 "echo Deployment Ready"; kubectl_ describe pods -l app=echo | tail -15 >&2
  fi
  local pod; pod=$(kubectl_ get pods -l app=echo -o jsonpath='{.items[0].metadata.name}')
  if [ "$NODES" -ge 2 ]; then
    local other other_ip nodes
    nodes=$(kubectl_ get pods -l app=echo -o jsonpath='{range .items[*]}{.spec.nodeName}{"\n"}{end}' | sort -u | wc -l)
    [ "$nodes" = "$NODES" ] && rc=0 || rc=1; check $rc "echo pods spread over $nodes node(s) of $NODES"
    # Each pod to the next one, round the ring: every pair of nodes once with three nodes, also
    # two nodes that are both joined to node 1 only (routed through it).
    local pods from i
    mapfile -t pods < <(kubectl_ get pods -l app=echo -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}')
    for i in "${!pods[@]}"; do
      from=${pods[$i]} other=${pods[$(((i + 1) % ${#pods[@]}))]}
      other_ip=$(kubectl_ get pod "$other" -o jsonpath='{.status.podIP}')
      try kubectl_ exec "$from" -- /echo get "http://$other_ip:8080/cross-node" && rc=0 || rc=1
      check $rc "pod on $(kubectl_ get pod "$from" -o jsonpath='{.spec.nodeName}') -> pod $other_ip on $(kubectl_ get pod "$other" -o jsonpath='{.spec.nodeName}'): $out"
    done
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
