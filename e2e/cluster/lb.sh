# shellcheck shell=bash
# e2e/cluster.sh's LoadBalancer phase (sourced): the loop that gives LoadBalancer Services an IP.

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
