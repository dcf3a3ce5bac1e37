{{/* vim: set filetype=mustache: */}}
{{- define "gif-minio.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "gif-minio.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "gif-minio.replicasName" -}}
{{- printf "%s-replicas" (include "gif-minio.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "gif-minio.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Common labels (app.kubernetes.io/*). */}}
{{- define "gif-minio.labels" -}}
helm.sh/chart: {{ include "gif-minio.chart" . }}
{{ include "gif-minio.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: gif-gateway
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "gif-minio.selectorLabels" -}}
app.kubernetes.io/name: {{ include "gif-minio.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Component selector labels: pass (dict "ctx" $ "component" "primary"). */}}
{{- define "gif-minio.componentSelectorLabels" -}}
{{ include "gif-minio.selectorLabels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "gif-minio.image" -}}
{{- if .digest -}}
{{- printf "%s@%s" .repository .digest -}}
{{- else -}}
{{- printf "%s:%s" .repository .tag -}}
{{- end -}}
{{- end -}}

{{- define "gif-minio.rootSecretName" -}}
{{- default (printf "%s-root" (include "gif-minio.fullname" .)) .Values.auth.existingSecret -}}
{{- end -}}

{{- define "gif-minio.appSecretName" -}}
{{- default (printf "%s-app" (include "gif-minio.fullname" .)) .Values.app.existingSecret -}}
{{- end -}}

{{- define "gif-minio.mirrorSecretName" -}}
{{- default (printf "%s-mirror" (include "gif-minio.fullname" .)) .Values.mirror.existingSecret -}}
{{- end -}}

{{- define "gif-minio.primaryEndpoint" -}}
{{- printf "http://%s.%s.svc:%d" (include "gif-minio.fullname" .) .Release.Namespace (int .Values.service.port) -}}
{{- end -}}

{{- define "gif-minio.replicasEndpoint" -}}
{{- printf "http://%s.%s.svc:%d" (include "gif-minio.replicasName" .) .Release.Namespace (int .Values.service.port) -}}
{{- end -}}

{{/*
A secret value that is generated once and then kept: the value stored in the live Secret (lookup)
wins over a fresh random one, so `helm upgrade` never rotates credentials behind MinIO's back.
Usage: include "gif-minio.stableSecret" (dict "ctx" $ "name" $secretName "key" "rootPassword" "length" 40)
*/}}
{{- define "gif-minio.stableSecret" -}}
{{- $existing := lookup "v1" "Secret" .ctx.Release.Namespace .name -}}
{{- if and $existing (index $existing.data .key) -}}
{{- index $existing.data .key -}}
{{- else -}}
{{- randAlphaNum (int .length) | b64enc -}}
{{- end -}}
{{- end -}}

{{/*
Bytes of a Kubernetes quantity as the schema admits them (digits, an optional fraction, and one of
m k M G T Ki Mi Gi Ti), for comparing sizes written in different units.
*/}}
{{- define "gif-minio.bytes" -}}
{{- $q := toString . -}}
{{- $unit := regexFind "[a-zA-Z]+$" $q -}}
{{- $number := trimSuffix $unit $q | float64 -}}
{{- $factor := get (dict "" 1.0 "m" 0.001 "k" 1e3 "M" 1e6 "G" 1e9 "T" 1e12 "Ki" 1024.0 "Mi" 1048576.0 "Gi" 1073741824.0 "Ti" 1099511627776.0) $unit -}}
{{- mulf $number $factor | int64 -}}
{{- end -}}

{{- define "gif-minio.validate" -}}
{{- if and (eq .Values.metrics.auth "bearer") (not .Values.metrics.bearerTokenSecret.name) -}}
{{- fail "metrics.auth=bearer needs metrics.bearerTokenSecret.name (a Secret with a token from `mc admin prometheus generate`)" -}}
{{- end -}}
{{- if and .Values.replicas.autoscaling.enabled (gt (int .Values.replicas.autoscaling.minReplicas) (int .Values.replicas.autoscaling.maxReplicas)) -}}
{{- fail "replicas.autoscaling.minReplicas must not exceed maxReplicas" -}}
{{- end -}}
{{- /* The seeder refuses these too, but only after the install: fail before anything is applied. */ -}}
{{- if and (not .Values.mirror.existingSecret) (or (eq .Values.mirror.accessKey .Values.app.accessKey) (and (not .Values.auth.existingSecret) (eq .Values.mirror.accessKey .Values.auth.rootUser))) -}}
{{- fail "mirror.accessKey must differ from app.accessKey and auth.rootUser" -}}
{{- end -}}
{{- /* A replica holds a full copy of the bucket: an emptyDir limit below the primary's volume
means that once the bucket outgrows it, kubelet evicts every replica, again and again. */ -}}
{{- if and .Values.replicas.enabled (lt (include "gif-minio.bytes" .Values.replicas.dataSizeLimit | int64) (include "gif-minio.bytes" .Values.primary.persistence.size | int64)) -}}
{{- fail (printf "replicas.dataSizeLimit (%v) must be at least primary.persistence.size (%v): each replica holds a full copy of the bucket" .Values.replicas.dataSizeLimit .Values.primary.persistence.size) -}}
{{- end -}}
{{- if eq .Values.mirror.policy .Values.app.policy -}}
{{- fail "mirror.policy must differ from app.policy (each would overwrite the other)" -}}
{{- end -}}
{{- end -}}

{{/*
Volumes holding credentials as files (never as env values). Each pod mounts only what it needs:
(dict "ctx" $ "which" (list "root" "app" "mirror")).
*/}}
{{- define "gif-minio.credentialVolumes" -}}
{{- $ctx := .ctx -}}
{{- range .which }}
{{- if eq . "root" }}
- name: root-credentials
  secret:
    secretName: {{ include "gif-minio.rootSecretName" $ctx }}
    defaultMode: 0440
    items:
      - {key: rootUser, path: rootUser}
      - {key: rootPassword, path: rootPassword}
{{- else if eq . "app" }}
- name: app-credentials
  secret:
    secretName: {{ include "gif-minio.appSecretName" $ctx }}
    defaultMode: 0440
    items:
      - {key: accessKey, path: accessKey}
      - {key: secretKey, path: secretKey}
{{- else if eq . "mirror" }}
- name: mirror-credentials
  secret:
    secretName: {{ include "gif-minio.mirrorSecretName" $ctx }}
    defaultMode: 0440
    items:
      - {key: accessKey, path: accessKey}
      - {key: secretKey, path: secretKey}
{{- else }}
{{- fail (printf "gif-minio.credentialVolumes: unknown credentials %q" .) }}
{{- end }}
{{- end }}
{{- end -}}
