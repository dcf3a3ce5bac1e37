terraform {
  # provider-defined functions (kubernetes::manifest_decode_multi) need Terraform >= 1.8 / OpenTofu >= 1.7.
  required_version = ">= 1.8.0"

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
