# The platform resources gained `count` (install_platform). These blocks move state written
# before that to index [0], so an existing installation upgrades in place instead of having its
# cert-manager, monitoring stack and SpinKube destroyed and recreated.

moved {
  from = kubernetes_namespace_v1.monitoring
  to   = kubernetes_namespace_v1.monitoring[0]
}

moved {
  from = helm_release.cert_manager
  to   = helm_release.cert_manager[0]
}

moved {
  from = helm_release.kube_prometheus_stack
  to   = helm_release.kube_prometheus_stack[0]
}

moved {
  from = helm_release.prometheus_adapter
  to   = helm_release.prometheus_adapter[0]
}

moved {
  from = helm_release.runtime_class_manager
  to   = helm_release.runtime_class_manager[0]
}

moved {
  from = helm_release.spin_operator
  to   = helm_release.spin_operator[0]
}

# gateway_pod_spec lost its count: it now always applies the restricted securityContext.
moved {
  from = terraform_data.gateway_pod_spec[0]
  to   = terraform_data.gateway_pod_spec
}
