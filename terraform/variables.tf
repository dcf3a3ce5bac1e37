################################################################################
# Cluster access
################################################################################

variable "kubeconfig_path" {
  description = "Path of the kubeconfig file used by the kubernetes and helm providers."
  type        = string
  default     = "~/.kube/config"

  validation {
    condition     = length(trimspace(var.kubeconfig_path)) > 0
    error_message = "kubeconfig_path must not be empty."
  }
}

variable "kube_context" {
  description = "kubeconfig context to deploy to (`minikube start` creates the context \"minikube\")."
  type        = string
  default     = "minikube"

  validation {
    condition     = can(regex("^[A-Za-z0-9@._:/-]+$", var.kube_context))
    error_message = "kube_context must be a kubeconfig context name."
  }
}

################################################################################
# Namespaces
################################################################################

variable "namespace" {
  description = "Namespace of the application: MinIO (gif-minio) and the SpinApp (gif-gateway)."
  type        = string
  default     = "gif"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", var.namespace))
    error_message = "namespace must be a DNS-1123 label."
  }
}

variable "monitoring_namespace" {
  description = "Namespace of kube-prometheus-stack and prometheus-adapter."
  type        = string
  default     = "monitoring"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$", var.monitoring_namespace))
    error_message = "monitoring_namespace must be a DNS-1123 label."
  }
}

################################################################################
# Platform
################################################################################

variable "install_platform" {
  description = "Install the upstream platform: cert-manager, kube-prometheus-stack, prometheus-adapter, SpinKube's CRDs, runtime-class-manager and spin-operator (with the Shim that installs containerd-shim-spin), from their remote charts or, for air-gapped clusters, platform_charts_dir or platform_chart_repository; platform_components leaves single ones out. Set false on a cluster that already runs them; the monitoring namespace, a Prometheus Service named kube-prometheus-stack-prometheus, the RuntimeClass and the adapter rules of values/prometheus-adapter.yaml.tftpl must then exist."
  type        = bool
  default     = true
}

variable "platform_components" {
  description = "With install_platform: which platform releases Terraform installs (each true by default). A component turned off must be provided another way, or its dependants fail: spin_operator (its CRDs and chart) needs cert-manager for its webhook certificates; runtime_class_manager off also leaves out the gif-gateway chart's Shim, so the RuntimeClass and containerd-shim-spin must already be on the nodes; the adapter and the charts' ServiceMonitors and PrometheusRules need kube-prometheus-stack's Prometheus and CRDs."
  type = object({
    cert_manager          = optional(bool, true)
    kube_prometheus_stack = optional(bool, true)
    prometheus_adapter    = optional(bool, true)
    runtime_class_manager = optional(bool, true)
    spin_operator         = optional(bool, true)
  })
  default = {}
}

variable "platform_charts_dir" {
  description = "Air-gapped clusters: a directory of packaged platform charts, <chart>-<version>.tgz as `helm pull` or `helm package` writes them (cert-manager-v1.18.2.tgz, kube-prometheus-stack-77.6.2.tgz, prometheus-adapter-5.1.0.tgz, runtime-class-manager-0.2.0.tgz, spin-operator-0.6.1.tgz at the default versions), plus spin-operator.crds.yaml (the spin-operator release asset; still checked against spin_operator_crds_sha256) unless spin_operator_crds_url is set. Every installed platform release is read from there instead of its repository. Empty (default): the upstream repositories, or platform_chart_repository."
  type        = string
  default     = ""

  validation {
    condition     = var.platform_charts_dir == "" || length(trimspace(var.platform_charts_dir)) == length(var.platform_charts_dir)
    error_message = "platform_charts_dir must be a directory path without leading or trailing blanks (empty: the remote repositories)."
  }

  validation {
    condition     = var.platform_charts_dir == "" || var.platform_chart_repository == ""
    error_message = "Set platform_charts_dir or platform_chart_repository, not both."
  }
}

variable "platform_chart_repository" {
  description = "An internal chart repository (https://... Helm repository or oci://... registry path) that serves every platform chart under its upstream name and version (cert-manager, kube-prometheus-stack, prometheus-adapter, runtime-class-manager, spin-operator), used instead of their upstream repositories. Empty (default): the upstream repositories."
  type        = string
  default     = ""

  validation {
    condition     = var.platform_chart_repository == "" || can(regex("^(https?|oci)://[^\\s]+[^/\\s]$", var.platform_chart_repository))
    error_message = "platform_chart_repository must be empty or an http(s):// or oci:// URL without a trailing slash."
  }
}

variable "platform_values_overrides" {
  description = "More Helm values for platform releases, by release (cert_manager, kube_prometheus_stack, prometheus_adapter, runtime_class_manager, spin_operator): one YAML document each, applied after Terraform's own values, so its keys win (e.g. image registries of a mirror, `{ kube_prometheus_stack = \"alertmanager:\\n  enabled: false\\n\" }`). Keys the project relies on (the Prometheus Service, its OTLP receiver, the adapter's rules) are better left alone: `make k8s-check` asserts them only for Terraform's own values."
  type        = map(string)
  default     = {}

  validation {
    condition     = length(setsubtract(keys(var.platform_values_overrides), ["cert_manager", "kube_prometheus_stack", "prometheus_adapter", "runtime_class_manager", "spin_operator"])) == 0
    error_message = "platform_values_overrides: keys must be platform releases: cert_manager, kube_prometheus_stack, prometheus_adapter, runtime_class_manager, spin_operator."
  }

  validation {
    condition     = alltrue([for v in values(var.platform_values_overrides) : can(keys(yamldecode(v)))])
    error_message = "platform_values_overrides: each value must be a YAML mapping of Helm values (a document such as \"key:\\n  sub: value\\n\")."
  }
}

variable "spin_operator_crds_url" {
  description = "Where to download spin-operator's CRD release asset (spin-operator.crds.yaml), e.g. an internal mirror; its sha256 must still match spin_operator_crds_sha256. Empty (default): the GitHub release of spin_operator_version, or the copy in platform_charts_dir when that is set."
  type        = string
  default     = ""

  validation {
    condition     = var.spin_operator_crds_url == "" || can(regex("^https?://[^\\s]+$", var.spin_operator_crds_url))
    error_message = "spin_operator_crds_url must be empty or an http(s):// URL."
  }
}

variable "containerd_shim_spin_base_url" {
  description = "Where runtime-class-manager downloads containerd-shim-spin onto the nodes: <base>/<containerd_shim_spin_version>/containerd-shim-spin-v2-linux-<arch>.tar.gz (a mirror keeps that layout; containerd_shim_spin_sha256 still applies). The gif-gateway chart's spinkube.shim.baseUrl."
  type        = string
  default     = "https://github.com/spinframework/containerd-shim-spin/releases/download"

  validation {
    condition     = can(regex("^https?://[^\\s]+[^/\\s]$", var.containerd_shim_spin_base_url))
    error_message = "containerd_shim_spin_base_url must be an http(s):// URL without a trailing slash."
  }
}

################################################################################
# Pinned upstream versions
################################################################################

variable "cert_manager_chart_version" {
  description = "jetstack/cert-manager chart version (spin-operator's admission webhooks need it)."
  type        = string
  default     = "v1.18.2"

  validation {
    condition     = can(regex("^v[0-9]+\\.[0-9]+\\.[0-9]+$", var.cert_manager_chart_version))
    error_message = "cert_manager_chart_version must be an exact version such as v1.18.2."
  }
}

variable "spin_operator_version" {
  description = "spin-operator release: chart version and the CRD release asset (spin-operator.crds.yaml)."
  type        = string
  default     = "0.6.1"

  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+$", var.spin_operator_version))
    error_message = "spin_operator_version must be an exact version such as 0.6.1 (no leading v)."
  }
}

variable "spin_operator_crds_sha256" {
  description = "sha256 of the CRD release asset spin-operator.crds.yaml, by spin_operator_version; the download is refused when it differs, and spin_operator_version must have an entry."
  type        = map(string)
  default = {
    "0.6.1" = "146fbc3ea2cd9089999c25e38e0aa6779485e788fdd7a2c775287df4360edfc9"
  }

  validation {
    condition     = can(regex("^[0-9a-f]{64}$", lookup(var.spin_operator_crds_sha256, var.spin_operator_version, "")))
    error_message = "spin_operator_crds_sha256 has no checksum (64 lowercase hex digits) for spin_operator_version ${var.spin_operator_version}: add \"${var.spin_operator_version}\" = \"<sha256sum of spin-operator.crds.yaml>\"."
  }
}

variable "runtime_class_manager_chart_version" {
  description = "spinframework runtime-class-manager chart version (installs the containerd shim on nodes)."
  type        = string
  default     = "0.2.0"

  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+$", var.runtime_class_manager_chart_version))
    error_message = "runtime_class_manager_chart_version must be an exact version."
  }
}

variable "containerd_shim_spin_version" {
  description = "containerd-shim-spin release the runtime-class-manager Shim downloads onto the nodes."
  type        = string
  default     = "v0.25.1"

  validation {
    condition     = can(regex("^v[0-9]+\\.[0-9]+\\.[0-9]+$", var.containerd_shim_spin_version))
    error_message = "containerd_shim_spin_version must look like v0.25.1."
  }
}

variable "containerd_shim_spin_sha256" {
  description = "sha256 of the containerd-shim-spin release archives (containerd-shim-spin-v2-linux-<arch>.tar.gz), by version, then by architecture (x86_64, aarch64). runtime-class-manager checks the download on each node against its architecture's entry; containerd_shim_spin_version must have one, so a version bump brings its checksums."
  type        = map(map(string))
  default = {
    "v0.25.1" = {
      x86_64  = "1755fbeb2dec7d026faf8c37031d8a025975f5e194b782da10188206a386d6e4"
      aarch64 = "5ca9c9207a146a182dc9c870eaaad1afbf64e1d9a4781228dbf6e7ef90ff2e1f"
    }
  }

  # Checked here, at plan time, rather than by the chart's own check in the middle of an apply.
  validation {
    condition     = length(lookup(var.containerd_shim_spin_sha256, var.containerd_shim_spin_version, {})) > 0
    error_message = "containerd_shim_spin_sha256 has no checksums for containerd_shim_spin_version ${var.containerd_shim_spin_version}: add { \"${var.containerd_shim_spin_version}\" = { x86_64 = \"<sha256>\", aarch64 = \"<sha256>\" } } (sha256sum of each release archive)."
  }

  validation {
    condition = alltrue(flatten([
      for v, sums in var.containerd_shim_spin_sha256 : [
        for arch, sum in sums : contains(["x86_64", "aarch64"], arch) && can(regex("^[0-9a-f]{64}$", sum))
      ]
    ]))
    error_message = "containerd_shim_spin_sha256: each architecture must be x86_64 or aarch64 and each checksum 64 lowercase hex digits."
  }
}

variable "kube_prometheus_stack_chart_version" {
  description = "prometheus-community/kube-prometheus-stack chart version (prometheus-operator v0.85.0, Prometheus, CRDs)."
  type        = string
  default     = "77.6.2"

  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+$", var.kube_prometheus_stack_chart_version))
    error_message = "kube_prometheus_stack_chart_version must be an exact version."
  }
}

variable "prometheus_adapter_chart_version" {
  description = "prometheus-community/prometheus-adapter chart version (adapter v0.12.0)."
  type        = string
  default     = "5.1.0"

  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+$", var.prometheus_adapter_chart_version))
    error_message = "prometheus_adapter_chart_version must be an exact version."
  }
}

################################################################################
# Application
################################################################################

variable "app_image" {
  description = "Repository and tag of the gateway OCI image (spin.toml + .wasm), loaded with `minikube image load`."
  type = object({
    repository = string
    tag        = string
    digest     = optional(string, "")
  })
  default = { repository = "gif-gateway/app", tag = "0.1.0" }

  validation {
    condition     = var.app_image.tag != "latest" && length(var.app_image.tag) > 0
    error_message = "app_image.tag must be a pinned tag, not latest."
  }
}

variable "minio_image" {
  description = "Repository and tag of the MinIO + mc + replica-sync image built by scripts/k8s/build-images.sh."
  type = object({
    repository = string
    tag        = string
    digest     = optional(string, "")
  })
  default = { repository = "gif-gateway/minio", tag = "2026.02.12-7aac2a2c5b7c" }

  validation {
    condition     = var.minio_image.tag != "latest" && length(var.minio_image.tag) > 0
    error_message = "minio_image.tag must be a pinned tag, not latest."
  }
}

variable "seeder_image" {
  description = "Repository and tag of the seeder image (static binary + the GIF)."
  type = object({
    repository = string
    tag        = string
    digest     = optional(string, "")
  })
  default = { repository = "gif-gateway/seeder", tag = "0.1.0" }

  validation {
    condition     = var.seeder_image.tag != "latest" && length(var.seeder_image.tag) > 0
    error_message = "seeder_image.tag must be a pinned tag, not latest."
  }
}

variable "minio_root_password" {
  description = "MinIO root password that Terraform writes into the root Secret, with minio_root_password_revision > 0; ephemeral: it goes to the cluster through a write-only attribute and never into the plan or the state, so it must be given on every plan and apply (e.g. TF_VAR_minio_root_password). Null (default, with revision 0): the chart generates one once and keeps it across upgrades."
  type        = string
  default     = null
  sensitive   = true
  ephemeral   = true

  validation {
    condition     = var.minio_root_password == null || length(coalesce(var.minio_root_password, "x")) >= 12
    error_message = "minio_root_password must be at least 12 characters."
  }

  # Without a revision, a given password would be silently ignored (the chart would keep its own).
  validation {
    condition     = var.minio_root_password == null || var.minio_root_password_revision > 0
    error_message = "minio_root_password is set but minio_root_password_revision is 0: set minio_root_password_revision = 1 (and increase it whenever the password changes)."
  }

  # Write-only: Terraform keeps no copy, so each plan needs the value again.
  validation {
    condition     = var.minio_root_password != null || var.minio_root_password_revision == 0
    error_message = "minio_root_password_revision > 0 needs minio_root_password on every plan and apply (Terraform stores no copy of it): pass it with TF_VAR_minio_root_password, or set the revision to 0 to let the chart generate the password."
  }
}

variable "minio_root_password_revision" {
  description = "0 (default): the gif-minio chart generates the root password. N > 0: Terraform writes minio_root_password into the Secret gif-minio-root-tf; increase N to write a changed password (the value itself is not in the state, so Terraform cannot see that it changed)."
  type        = number
  default     = 0

  validation {
    condition     = var.minio_root_password_revision >= 0 && floor(var.minio_root_password_revision) == var.minio_root_password_revision
    error_message = "minio_root_password_revision must be a whole number >= 0."
  }
}

variable "replica_hpa" {
  description = "Read-replica HPA: bounds, target S3 GET requests/s per replica pod, and optionally how long the load must stay low before it removes a replica (scale-down stabilization window; unset: the chart's)."
  type = object({
    min_replicas              = number
    max_replicas              = number
    target_average_value      = string
    scale_down_window_seconds = optional(number)
  })
  default = { min_replicas = 2, max_replicas = 6, target_average_value = "20" }

  validation {
    condition     = var.replica_hpa.min_replicas >= 1 && var.replica_hpa.min_replicas <= var.replica_hpa.max_replicas
    error_message = "replica_hpa needs 1 <= min_replicas <= max_replicas."
  }

  validation {
    condition     = coalesce(var.replica_hpa.scale_down_window_seconds, 0) >= 0 && coalesce(var.replica_hpa.scale_down_window_seconds, 0) <= 3600
    error_message = "replica_hpa.scale_down_window_seconds must be 0..3600 (the HPA's limit)."
  }
}

variable "app_hpa" {
  description = "Gateway HPA: bounds, target HTTP requests/s per app pod (the app's own spin.request_count, any status), and optionally how long the load must stay low before it removes a pod (scale-down stabilization window; unset: the chart's)."
  type = object({
    min_replicas              = number
    max_replicas              = number
    target_average_value      = string
    scale_down_window_seconds = optional(number)
  })
  default = { min_replicas = 2, max_replicas = 8, target_average_value = "10" }

  validation {
    condition     = var.app_hpa.min_replicas >= 1 && var.app_hpa.min_replicas <= var.app_hpa.max_replicas
    error_message = "app_hpa needs 1 <= min_replicas <= max_replicas."
  }

  validation {
    condition     = coalesce(var.app_hpa.scale_down_window_seconds, 0) >= 0 && coalesce(var.app_hpa.scale_down_window_seconds, 0) <= 3600
    error_message = "app_hpa.scale_down_window_seconds must be 0..3600 (the HPA's limit)."
  }
}

variable "gateway_cors_allowed_origins" {
  description = "Origins whose scripts may GET and HEAD the gateway's objects (CORS): empty (off), \"*\", or comma-separated origins such as \"https://a.example,http://localhost:8080\" (scheme://host[:port], no path or trailing slash). Never with credentials. The chart's cors.allowedOrigins, the component's cors_allowed_origins."
  type        = string
  default     = ""

  # The component refuses a bad value too, but only at request time, with every GET a 500.
  validation {
    condition     = can(regex("^ *(|\\*|https?://[A-Za-z0-9.:\\[\\]-]+( *, *https?://[A-Za-z0-9.:\\[\\]-]+)*) *$", var.gateway_cors_allowed_origins))
    error_message = "gateway_cors_allowed_origins must be empty, \"*\", or comma-separated scheme://host[:port] origins (http or https, no path or trailing slash)."
  }
}

variable "gateway_default_cache_control" {
  description = "The Cache-Control browsers get on the gateway's 200, 206 and 304 object answers when MinIO sent none (an object's own always wins; the gateway's error texts keep no-store); empty (off) passes MinIO's alone. Printable ASCII, at most 256 characters; for immutable, versioned keys \"public, max-age=31536000, immutable\". The chart's browserCache.defaultCacheControl, the component's default_cache_control."
  type        = string
  default     = ""

  # The component refuses a bad value too, but only in the pods: every object GET a 500, never Ready.
  validation {
    condition     = length(var.gateway_default_cache_control) <= 256 && can(regex("^[ -~]*$", var.gateway_default_cache_control))
    error_message = "gateway_default_cache_control must be a Cache-Control value of printable ASCII (no control characters such as CR or LF), at most 256 characters."
  }
}

variable "gateway_access_log" {
  description = "Whether the gateway writes one JSON line per request to its pods' stdout (kubectl logs), with the X-Request-Id every answer carries. The chart's accessLog.enabled, the component's access_log."
  type        = bool
  default     = true
}

variable "minio_network_policy_extra_from" {
  description = "More NetworkPolicy peers (e.g. [{ ipBlock = { cidr = \"192.0.2.10/32\" } }]) allowed to MinIO's S3 port besides the gateway, the seeder, the replicas and Prometheus."
  type        = list(any)
  default     = []

  validation {
    condition = alltrue([
      for peer in var.minio_network_policy_extra_from :
      length(keys(peer)) > 0 && length(setsubtract(keys(peer), ["ipBlock", "namespaceSelector", "podSelector"])) == 0
    ])
    error_message = "Each peer is a NetworkPolicy peer: an object with ipBlock, namespaceSelector and/or podSelector only."
  }
}

variable "prometheus_network_policy" {
  description = "Create a NetworkPolicy in monitoring_namespace that lets only the gateway's pods (OTLP pushes), prometheus-adapter, Grafana (install_grafana), Prometheus itself and prometheus_network_policy_extra_from reach Prometheus' pods. Turn it off if your own Prometheus there has other clients and you keep its policies yourself."
  type        = bool
  default     = true
}

variable "prometheus_network_policy_extra_from" {
  description = "More NetworkPolicy peers (e.g. [{ ipBlock = { cidr = \"192.0.2.10/32\" } }]) allowed to Prometheus' web port (9090) besides the gateway's pods, prometheus-adapter and Grafana: dashboards, or the API server's address on a multi-node cluster for `kubectl get --raw .../services/...:9090/proxy`."
  type        = list(any)
  default     = []

  validation {
    condition = alltrue([
      for peer in var.prometheus_network_policy_extra_from :
      length(keys(peer)) > 0 && length(setsubtract(keys(peer), ["ipBlock", "namespaceSelector", "podSelector"])) == 0
    ])
    error_message = "Each peer is a NetworkPolicy peer: an object with ipBlock, namespaceSelector and/or podSelector only."
  }
}

variable "kubectl_path" {
  description = "kubectl (>= 1.31: wait --for=create) used to wait for the Deployment spin-operator creates for the gateway, before Terraform adds its OTLP resource attributes, and to server-side apply its restricted securityContext, its preStop sleep and its spread (gateway_prestop_sleep_seconds)."
  type        = string
  default     = "kubectl"

  # It goes into a shell command line (local-exec).
  validation {
    condition     = can(regex("^[A-Za-z0-9_./~+-]+$", var.kubectl_path))
    error_message = "kubectl_path must be a plain command name or path (letters, digits, _ . / ~ + -)."
  }
}

variable "gateway_prestop_sleep_seconds" {
  description = "Seconds a gateway pod keeps serving after it is told to stop (preStop sleep, added to spin-operator's Deployment with a one-per-node spread), so a node drain refuses no request; 0: neither (the restricted securityContext is applied either way)."
  type        = number
  default     = 5

  validation {
    condition     = var.gateway_prestop_sleep_seconds >= 0 && var.gateway_prestop_sleep_seconds <= 25
    error_message = "gateway_prestop_sleep_seconds must be 0..25 (pods get 30 s to stop)."
  }
}

variable "install_grafana" {
  description = "With install_platform: enable kube-prometheus-stack's Grafana, whose dashboard sidecar loads the gif-gateway chart's dashboard ConfigMap. Set grafana.admin.existingSecret before exposing it."
  type        = bool
  default     = false
}

variable "otel_metric_export_interval_ms" {
  description = "How often each gateway pod pushes its Spin metrics to Prometheus (OTEL_METRIC_EXPORT_INTERVAL; the SDK default is 60000). The gateway HPA's rate[1m] needs several pushes per minute."
  type        = number
  default     = 10000

  validation {
    condition     = var.otel_metric_export_interval_ms >= 1000 && var.otel_metric_export_interval_ms <= 15000
    error_message = "otel_metric_export_interval_ms must be 1000..15000 (at least 4 pushes per rate[1m] window)."
  }
}

variable "helm_timeout_seconds" {
  description = "Timeout of each helm_release (image pulls on a fresh minikube take a while)."
  type        = number
  default     = 900

  validation {
    condition     = var.helm_timeout_seconds >= 60
    error_message = "helm_timeout_seconds must be at least 60."
  }
}
