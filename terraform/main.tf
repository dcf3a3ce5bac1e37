locals {
  minio_release   = "gif-minio"
  gateway_release = "gif-gateway"
  # The kubectl command line of the local-exec steps below (the gateway's Deployment belongs to
  # spin-operator, which no provider here can wait for or partially apply).
  kubectl = join(" ", [
    var.kubectl_path, "--kubeconfig", "'${pathexpand(var.kubeconfig_path)}'", "--context", "'${var.kube_context}'",
  ])
  # Names the gif-minio chart derives from its release name (release name contains the chart name).
  minio_replica_service = "${local.minio_release}-replicas"
  minio_app_secret      = "${local.minio_release}-app"
  minio_root_secret     = "${local.minio_release}-root-tf"
  # The plain revision, not the (ephemeral) password, decides: ephemeral values cannot drive
  # count or outputs.
  minio_root_password_set = var.minio_root_password_revision > 0

  prometheus_service = "kube-prometheus-stack-prometheus"
  # The labels prometheus-operator puts on the pods of the Prometheus behind that Service.
  prometheus_pod_labels = {
    "app.kubernetes.io/name"      = "prometheus"
    "operator.prometheus.io/name" = local.prometheus_service
  }

  # HPA behavior overrides: only what the caller set. An empty map leaves the chart's behavior
  # whole, where a null would delete the chart's value from the merged values.
  replica_hpa_behavior = {
    for k, w in { scaleDown = var.replica_hpa.scale_down_window_seconds } : k => { stabilizationWindowSeconds = w } if w != null
  }
  app_hpa_behavior = {
    for k, w in { scaleDown = var.app_hpa.scale_down_window_seconds } : k => { stabilizationWindowSeconds = w } if w != null
  }

  # Where the platform charts come from: their upstream repositories (default), one internal
  # repository serving them all under their upstream names, or a directory of packaged charts.
  platform_charts_dir = var.platform_charts_dir == "" ? "" : abspath(pathexpand(var.platform_charts_dir))
  platform_upstream = {
    cert_manager          = { repository = "https://charts.jetstack.io", chart = "cert-manager", version = var.cert_manager_chart_version }
    kube_prometheus_stack = { repository = "https://prometheus-community.github.io/helm-charts", chart = "kube-prometheus-stack", version = var.kube_prometheus_stack_chart_version }
    prometheus_adapter    = { repository = "https://prometheus-community.github.io/helm-charts", chart = "prometheus-adapter", version = var.prometheus_adapter_chart_version }
    runtime_class_manager = { repository = "oci://ghcr.io/spinframework/charts", chart = "runtime-class-manager", version = var.runtime_class_manager_chart_version }
    spin_operator         = { repository = "oci://ghcr.io/spinframework/charts", chart = "spin-operator", version = var.spin_operator_version }
  }
  platform_chart = { for k, c in local.platform_upstream : k => (
    # helm package / helm pull name an archive <chart>-<version>.tgz; a local chart has no repository.
    local.platform_charts_dir != "" ? { repository = null, chart = "${local.platform_charts_dir}/${c.chart}-${c.version}.tgz" } :
    var.platform_chart_repository != "" ? { repository = var.platform_chart_repository, chart = c.chart } :
    { repository = c.repository, chart = c.chart }
  ) }
  # Whether each platform release is installed: install_platform, then its platform_components entry.
  platform = { for k, on in var.platform_components : k => var.install_platform && on }
  # platform_values_overrides: one more values document after Terraform's own, so it wins.
  platform_values = { for k in keys(local.platform_upstream) : k => compact([lookup(var.platform_values_overrides, k, "")]) }

  # The spin-operator CRDs: the release asset (or its mirror, spin_operator_crds_url), or
  # spin-operator.crds.yaml in platform_charts_dir; either way checked against the pinned sha256.
  spin_operator_crds_file = local.platform_charts_dir != "" && var.spin_operator_crds_url == "" ? "${local.platform_charts_dir}/spin-operator.crds.yaml" : ""
  spin_operator_crds_url  = var.spin_operator_crds_url != "" ? var.spin_operator_crds_url : "https://github.com/spinframework/spin-operator/releases/download/v${var.spin_operator_version}/spin-operator.crds.yaml"

  common_labels = {
    "app.kubernetes.io/part-of"    = "gif-gateway"
    "app.kubernetes.io/managed-by" = "terraform"
  }
}

################################################################################
# Namespaces
################################################################################

resource "kubernetes_namespace_v1" "app" {
  metadata {
    name   = var.namespace
    labels = local.common_labels
  }
}

resource "kubernetes_namespace_v1" "monitoring" {
  count = local.platform.kube_prometheus_stack || local.platform.prometheus_adapter ? 1 : 0

  metadata {
    name   = var.monitoring_namespace
    labels = local.common_labels
  }
}

################################################################################
# 1. cert-manager (spin-operator's webhook certificates)
################################################################################

resource "helm_release" "cert_manager" {
  count = local.platform.cert_manager ? 1 : 0

  name             = "cert-manager"
  namespace        = "cert-manager"
  create_namespace = true
  repository       = local.platform_chart.cert_manager.repository
  chart            = local.platform_chart.cert_manager.chart
  version          = var.cert_manager_chart_version
  wait             = true
  timeout          = var.helm_timeout_seconds

  values = concat([yamlencode({
    crds = { enabled = true }
  })], local.platform_values.cert_manager)
}

################################################################################
# 2. Monitoring: prometheus-operator + Prometheus (+ CRDs), then prometheus-adapter
################################################################################

resource "helm_release" "kube_prometheus_stack" {
  count = local.platform.kube_prometheus_stack ? 1 : 0

  name       = "kube-prometheus-stack"
  namespace  = kubernetes_namespace_v1.monitoring[0].metadata[0].name
  repository = local.platform_chart.kube_prometheus_stack.repository
  chart      = local.platform_chart.kube_prometheus_stack.chart
  version    = var.kube_prometheus_stack_chart_version
  wait       = true
  timeout    = var.helm_timeout_seconds

  values = concat([templatefile("${path.module}/values/kube-prometheus-stack.yaml.tftpl", {
    install_grafana = var.install_grafana
  })], local.platform_values.kube_prometheus_stack)
}

resource "helm_release" "prometheus_adapter" {
  count = local.platform.prometheus_adapter ? 1 : 0

  name       = "prometheus-adapter"
  namespace  = kubernetes_namespace_v1.monitoring[0].metadata[0].name
  repository = local.platform_chart.prometheus_adapter.repository
  chart      = local.platform_chart.prometheus_adapter.chart
  version    = var.prometheus_adapter_chart_version
  wait       = true
  timeout    = var.helm_timeout_seconds

  values = concat([templatefile("${path.module}/values/prometheus-adapter.yaml.tftpl", {
    prometheus_url  = "http://${local.prometheus_service}.${var.monitoring_namespace}.svc"
    prometheus_port = 9090
    namespace       = var.namespace
    replica_service = local.minio_replica_service
  })], local.platform_values.prometheus_adapter)

  depends_on = [helm_release.kube_prometheus_stack]
}

################################################################################
# 3. SpinKube: CRDs (pinned release asset), runtime-class-manager, spin-operator
################################################################################

data "http" "spin_operator_crds" {
  count = local.platform.spin_operator && local.spin_operator_crds_file == "" ? 1 : 0

  url = local.spin_operator_crds_url

  lifecycle {
    postcondition {
      condition     = self.status_code == 200
      error_message = "Could not download ${local.spin_operator_crds_url}."
    }
    # The CRDs are applied cluster-wide as they come: a changed or tampered asset must stop here.
    postcondition {
      condition     = sha256(self.response_body) == var.spin_operator_crds_sha256[var.spin_operator_version]
      error_message = "${local.spin_operator_crds_url} has sha256 ${sha256(self.response_body)}, not the pinned ${var.spin_operator_crds_sha256[var.spin_operator_version]} (spin_operator_crds_sha256): refusing to apply these CRDs."
    }
  }
}

locals {
  spin_operator_crds = !local.platform.spin_operator ? "" : (
    local.spin_operator_crds_file != "" ? file(local.spin_operator_crds_file) : data.http.spin_operator_crds[0].response_body
  )
}

# The same checksum for a copy in platform_charts_dir (no data source to carry a postcondition).
resource "terraform_data" "spin_operator_crds_file" {
  count = local.spin_operator_crds_file != "" && local.platform.spin_operator ? 1 : 0

  input = sha256(local.spin_operator_crds)

  lifecycle {
    precondition {
      condition     = sha256(local.spin_operator_crds) == var.spin_operator_crds_sha256[var.spin_operator_version]
      error_message = "${local.spin_operator_crds_file} has sha256 ${sha256(local.spin_operator_crds)}, not the pinned ${var.spin_operator_crds_sha256[var.spin_operator_version]} (spin_operator_crds_sha256): refusing to apply these CRDs."
    }
  }
}

resource "kubernetes_manifest" "spin_operator_crds" {
  # No `spin_operator ? {...} : {}`: Terraform cannot unify that object type with {} and fails the
  # plan. Without spin-operator local.spin_operator_crds is "", which decodes to no documents.
  for_each = {
    for m in provider::kubernetes::manifest_decode_multi(local.spin_operator_crds) :
    m.metadata.name => m if m.kind == "CustomResourceDefinition"
  }

  manifest = each.value

  depends_on = [terraform_data.spin_operator_crds_file]
}

resource "helm_release" "runtime_class_manager" {
  count = local.platform.runtime_class_manager ? 1 : 0

  name             = "runtime-class-manager"
  namespace        = "runtime-class-manager"
  create_namespace = true
  repository       = local.platform_chart.runtime_class_manager.repository
  chart            = local.platform_chart.runtime_class_manager.chart
  version          = var.runtime_class_manager_chart_version
  wait             = true
  timeout          = var.helm_timeout_seconds

  values = local.platform_values.runtime_class_manager
}

resource "helm_release" "spin_operator" {
  count = local.platform.spin_operator ? 1 : 0

  name             = "spin-operator"
  namespace        = "spin-operator"
  create_namespace = true
  repository       = local.platform_chart.spin_operator.repository
  chart            = local.platform_chart.spin_operator.chart
  version          = var.spin_operator_version
  wait             = true
  timeout          = var.helm_timeout_seconds

  values = local.platform_values.spin_operator

  depends_on = [helm_release.cert_manager, kubernetes_manifest.spin_operator_crds]
}

################################################################################
# 4. MinIO: primary, read replicas + HPA, seeder Job, ServiceMonitors, alerts
################################################################################

resource "kubernetes_secret_v1" "minio_root" {
  count = local.minio_root_password_set ? 1 : 0

  metadata {
    name      = local.minio_root_secret
    namespace = kubernetes_namespace_v1.app.metadata[0].name
    labels    = local.common_labels
  }

  # Write-only: sent to the API server on create and whenever the revision changes, never kept in
  # the plan or the state. The provider refuses data next to data_wo (ConflictsWith), so the
  # non-secret user goes this way too.
  data_wo = {
    rootUser     = "minio-root"
    rootPassword = var.minio_root_password
  }
  data_wo_revision = var.minio_root_password_revision
}

resource "helm_release" "gif_minio" {
  name      = local.minio_release
  namespace = kubernetes_namespace_v1.app.metadata[0].name
  chart     = "${path.module}/../charts/gif-minio"
  wait      = true
  timeout   = var.helm_timeout_seconds

  values = [yamlencode({
    image = var.minio_image
    seeder = {
      image = var.seeder_image
    }
    auth = {
      existingSecret = local.minio_root_password_set ? local.minio_root_secret : ""
    }
    replicas = {
      autoscaling = {
        minReplicas        = var.replica_hpa.min_replicas
        maxReplicas        = var.replica_hpa.max_replicas
        targetAverageValue = var.replica_hpa.target_average_value
        behavior           = local.replica_hpa_behavior
      }
    }
    networkPolicy = {
      appPodSelector              = { "core.spinkube.dev/app-name" = local.gateway_release }
      prometheusNamespaceSelector = { "kubernetes.io/metadata.name" = var.monitoring_namespace }
      extraFrom                   = var.minio_network_policy_extra_from
    }
  })]

  # ServiceMonitor/PrometheusRule CRDs come with kube-prometheus-stack.
  depends_on = [helm_release.kube_prometheus_stack, kubernetes_secret_v1.minio_root]
}

################################################################################
# 5. The gateway: its SpinKube runtime (executor, Shim), then the SpinApp (+ LoadBalancer
#    Service, HPA, alerts)
################################################################################

locals {
  gateway_shim = {
    # The Shim CRD belongs to runtime-class-manager, which only the platform install brings.
    create  = local.platform.runtime_class_manager
    baseUrl = var.containerd_shim_spin_base_url
    version = var.containerd_shim_spin_version
    # The chart uses only the entry of `version`; Terraform's pins replace the chart's for it.
    sha256 = { (var.containerd_shim_spin_version) = var.containerd_shim_spin_sha256[var.containerd_shim_spin_version] }
    # Helm merges this into the chart's default selector (spin: "true"); null deletes that
    # key, so that every Linux node gets the shim instead of only labelled ones. (The chart's
    # schema admits the null: `helm upgrade --reuse-values` validates it before the merge.)
    nodeSelector = { "kubernetes.io/os" = "linux", spin = null }
  }
  # The chart's default names the monitoring namespace's default; with another
  # var.monitoring_namespace the app would push its metrics nowhere and its HPA would see none.
  # The executor passes it to the app's pods; the app's NetworkPolicy lets them reach it.
  gateway_telemetry = {
    otlpMetricsEndpoint = "http://${local.prometheus_service}.${var.monitoring_namespace}.svc:9090/api/v1/otlp/v1/metrics"
  }
}

# The executor and the Shim, in a release of their own before the app's: spin-operator's
# validating webhook admits a SpinApp only once its executor exists, and Helm creates kinds it does
# not know in alphabetical order (SpinApp before SpinAppExecutor). Destroyed after the app's, while
# spin-operator still runs: its finalizer holds an executor until no SpinApp uses it.
resource "helm_release" "gif_gateway_runtime" {
  name      = "${local.gateway_release}-runtime"
  namespace = kubernetes_namespace_v1.app.metadata[0].name
  chart     = "${path.module}/../charts/gif-gateway"
  wait      = true
  timeout   = var.helm_timeout_seconds

  values = [yamlencode({
    fullnameOverride = local.gateway_release
    spinkube         = { runtimeOnly = true, shim = local.gateway_shim }
    telemetry        = local.gateway_telemetry
  })]

  depends_on = [helm_release.spin_operator, helm_release.runtime_class_manager]
}

resource "helm_release" "gif_gateway" {
  name      = local.gateway_release
  namespace = kubernetes_namespace_v1.app.metadata[0].name
  chart     = "${path.module}/../charts/gif-gateway"
  wait      = true
  timeout   = var.helm_timeout_seconds

  values = [yamlencode({
    fullnameOverride = local.gateway_release
    image            = var.app_image
    s3 = {
      endpoint          = "http://${local.minio_replica_service}.${var.namespace}.svc:9000"
      credentialsSecret = { name = local.minio_app_secret }
    }
    autoscaling = {
      minReplicas        = var.app_hpa.min_replicas
      maxReplicas        = var.app_hpa.max_replicas
      targetAverageValue = var.app_hpa.target_average_value
      behavior           = local.app_hpa_behavior
    }
    # Both in the runtime release above (gif_gateway_runtime).
    spinkube  = { createExecutor = false, shim = { create = false } }
    telemetry = local.gateway_telemetry
    prometheusRule = {
      replicaJob = local.minio_replica_service
    }
    cors         = { allowedOrigins = var.gateway_cors_allowed_origins }
    browserCache = { defaultCacheControl = var.gateway_default_cache_control }
    accessLog    = { enabled = var.gateway_access_log }
    networkPolicy = {
      s3 = {
        to = [{ podSelector = { matchLabels = {
          "app.kubernetes.io/name"      = "gif-minio"
          "app.kubernetes.io/instance"  = local.minio_release
          "app.kubernetes.io/component" = "replica"
        } } }]
      }
      prometheus = {
        namespaceSelector = { matchLabels = { "kubernetes.io/metadata.name" = var.monitoring_namespace } }
      }
    }
  })]

  depends_on = [
    helm_release.gif_gateway_runtime,
    helm_release.prometheus_adapter,
    helm_release.gif_minio,
  ]
}

# Per-pod identity for the app's OTLP metrics. Spin's resource has only service.name=spin and its
# version, so every pod would write the same Prometheus series (one cumulative counter jumping
# between pods). The OpenTelemetry SDK in Spin reads OTEL_RESOURCE_ATTRIBUTES, but neither the
# SpinApp nor the SpinAppExecutor can set arbitrary env (variables become SPIN_VARIABLE_*), so
# these entries are added to the Deployment spin-operator creates, by server-side apply under
# their own field manager: spin-operator's own (forced) apply owns only the fields it sets and
# leaves these in place.
resource "kubernetes_env" "gateway_otel" {
  api_version = "apps/v1"
  kind        = "Deployment"
  container   = local.gateway_release # spin-operator names the container after the SpinApp

  metadata {
    name      = local.gateway_release
    namespace = kubernetes_namespace_v1.app.metadata[0].name
  }

  # $(SPIN_VARIABLE_POD_NAME): the chart's SpinApp variable pod_name (downward API), defined
  # earlier in the container's env. (This provider's field_ref drops field_path, so the pod name
  # cannot come from here.)
  env {
    name  = "OTEL_RESOURCE_ATTRIBUTES"
    value = "service.instance.id=$(SPIN_VARIABLE_POD_NAME),k8s.pod.name=$(SPIN_VARIABLE_POD_NAME),k8s.namespace.name=${var.namespace},k8s.deployment.name=${local.gateway_release}"
  }
  env {
    name  = "OTEL_METRIC_EXPORT_INTERVAL"
    value = tostring(var.otel_metric_export_interval_ms)
  }

  field_manager = "terraform-gateway-otel"
  force         = true

  depends_on = [terraform_data.gateway_deployment]
}

# What SpinApp (spin-operator v0.6.1) has no field for, server-side applied to spin-operator's
# Deployment under a field manager of its own, like gateway_otel above (kubectl does it because
# the kubernetes provider has no partial-object apply):
# - the restricted Pod Security profile and no service-account token: the app never calls the
#   API server, and spin-operator's pods run as root with a token mounted;
# - for a drain, a preStop pause, so that a pod told to stop keeps serving while kube-proxy on
#   every node drops it from the Service (without it, a drain refused 3-6 of ~160 GETs in the
#   e2e), and a spread over nodes. The sleep action is kubelet's, so it works with any runtime
#   (the shim has no shell to exec).
resource "terraform_data" "gateway_pod_spec" {
  triggers_replace = [terraform_data.gateway_deployment.id, local.gateway_pod_spec]

  provisioner "local-exec" {
    interpreter = ["/bin/sh", "-c"]
    command     = "printf '%s' '${local.gateway_pod_spec}' | ${local.kubectl} apply --server-side --field-manager=terraform-gateway-pod --force-conflicts -f -"
  }
}

locals {
  gateway_pod_spec = jsonencode({
    apiVersion = "apps/v1"
    kind       = "Deployment"
    metadata   = { name = local.gateway_release, namespace = var.namespace }
    spec = { template = { spec = merge({
      automountServiceAccountToken = false
      securityContext = {
        runAsNonRoot   = true
        runAsUser      = 65532
        runAsGroup     = 65532
        seccompProfile = { type = "RuntimeDefault" }
      }
      containers = [merge({
        name = local.gateway_release
        securityContext = {
          allowPrivilegeEscalation = false
          readOnlyRootFilesystem   = true
          capabilities             = { drop = ["ALL"] }
        }
        }, var.gateway_prestop_sleep_seconds > 0 ? {
        lifecycle = { preStop = { sleep = { seconds = var.gateway_prestop_sleep_seconds } } }
      } : {})]
      }, var.gateway_prestop_sleep_seconds > 0 ? {
      # Hard, like the MinIO replicas' (a soft spread put 3 of 4 pods on one node in the e2e); a
      # cordoned node is no domain (Honor), so a drain can move its pods.
      topologySpreadConstraints = [{
        maxSkew           = 1
        topologyKey       = "kubernetes.io/hostname"
        whenUnsatisfiable = "DoNotSchedule"
        nodeTaintsPolicy  = "Honor"
        matchLabelKeys    = ["pod-template-hash"]
        labelSelector     = { matchLabels = { "core.spinkube.dev/app-name" = local.gateway_release } }
      }]
    } : {}) } }
  })
}

# spin-operator creates the Deployment asynchronously, after helm_release.gif_gateway returns
# (Helm cannot wait for objects its release does not contain), and kubernetes_env fails at once
# when its target is missing; no provider here can poll for an object, so kubectl does.
resource "terraform_data" "gateway_deployment" {
  triggers_replace = [helm_release.gif_gateway.id]

  provisioner "local-exec" {
    command = join(" ", [
      local.kubectl,
      "-n", var.namespace, "wait", "--for=create", "--timeout=180s", "deployment/${local.gateway_release}",
    ])
  }
}

################################################################################
# 6. Who may reach Prometheus: its OTLP receiver takes pushes from any client, so any pod could
#    write spin_request_count_total series and drive the gateway HPA to its maximum.
################################################################################

resource "kubernetes_network_policy_v1" "prometheus" {
  count = var.prometheus_network_policy ? 1 : 0

  metadata {
    name      = "${local.gateway_release}-prometheus-clients"
    namespace = var.monitoring_namespace
    labels    = local.common_labels
  }

  spec {
    pod_selector {
      match_labels = local.prometheus_pod_labels
    }
    policy_types = ["Ingress"]

    # The web port: OTLP pushes from the gateway's pods, queries from prometheus-adapter (and
    # Grafana), and the extra peers.
    ingress {
      ports {
        port     = "9090"
        protocol = "TCP"
      }
      from {
        namespace_selector {
          match_labels = { "kubernetes.io/metadata.name" = var.namespace }
        }
        pod_selector {
          match_labels = { "core.spinkube.dev/app-name" = local.gateway_release }
        }
      }
      from {
        pod_selector {
          match_labels = { "app.kubernetes.io/name" = "prometheus-adapter" }
        }
      }
      dynamic "from" {
        for_each = local.platform.kube_prometheus_stack && var.install_grafana ? [1] : []
        content {
          pod_selector {
            match_labels = { "app.kubernetes.io/name" = "grafana" }
          }
        }
      }
      dynamic "from" {
        for_each = var.prometheus_network_policy_extra_from
        content {
          dynamic "ip_block" {
            for_each = try([from.value.ipBlock], [])
            content {
              cidr   = ip_block.value.cidr
              except = try(ip_block.value.except, null)
            }
          }
          dynamic "namespace_selector" {
            for_each = try([from.value.namespaceSelector], [])
            content {
              match_labels = try(namespace_selector.value.matchLabels, null)
            }
          }
          dynamic "pod_selector" {
            for_each = try([from.value.podSelector], [])
            content {
              match_labels = try(pod_selector.value.matchLabels, null)
            }
          }
        }
      }
    }

    # Every port from Prometheus' own pods: it scrapes itself and its config reloader.
    ingress {
      from {
        pod_selector {
          match_labels = local.prometheus_pod_labels
        }
      }
    }
  }

  depends_on = [helm_release.kube_prometheus_stack]
}

data "kubernetes_service_v1" "gateway" {
  metadata {
    name      = "${local.gateway_release}-public"
    namespace = kubernetes_namespace_v1.app.metadata[0].name
  }

  depends_on = [helm_release.gif_gateway]
}
