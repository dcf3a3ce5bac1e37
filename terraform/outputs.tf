output "namespace" {
  description = "Namespace of MinIO and the SpinApp."
  value       = kubernetes_namespace_v1.app.metadata[0].name
}

output "gateway_url" {
  description = "URL of the gateway's LoadBalancer Service (empty until `minikube tunnel` runs; then `terraform refresh`)."
  value = try(
    "http://${data.kubernetes_service_v1.gateway.status[0].load_balancer[0].ingress[0].ip}/",
    "",
  )
}

output "gateway_url_command" {
  description = "Prints the URL once `minikube tunnel` has assigned the external IP."
  value       = "kubectl -n ${var.namespace} get svc ${local.gateway_release}-public -o jsonpath='http://{.status.loadBalancer.ingress[0].ip}/{\"\\n\"}'"
}

output "hpa_watch_command" {
  description = "Shows both autoscalers with their live custom-metric values."
  value       = "kubectl -n ${var.namespace} get hpa ${local.gateway_release} ${local.minio_replica_service} -w"
}

output "minio_app_credentials_secret" {
  description = "Secret holding the gateway's read-only MinIO credentials (values are never output)."
  value       = local.minio_app_secret
}

output "minio_root_credentials_secret" {
  description = "Secret holding the MinIO root credentials."
  value       = local.minio_root_password_set ? local.minio_root_secret : "${local.minio_release}-root"
}
