terraform {
  # Write-only attributes and ephemeral variables (kubernetes_secret_v1.data_wo with
  # minio_root_password) need Terraform >= 1.11 / OpenTofu >= 1.11; provider-defined functions
  # (kubernetes::manifest_decode_multi) came with 1.8 / 1.7.
  required_version = ">= 1.11.0"

  required_providers {
    helm = {
      source  = "hashicorp/helm"
      version = "= 3.2.0"
    }
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = "= 3.2.1"
    }
    http = {
      source  = "hashicorp/http"
      version = "= 3.6.1"
    }
  }
}
