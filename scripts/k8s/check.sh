#!/usr/bin/env bash
# Offline checks of the Kubernetes delivery (charts/, terraform/, images/). One entry point for
# `make test` and CI. Builds its pinned tools on first use (scripts/k8s/tools.sh), then:
#   1. helm lint --strict + helm template of every chart, default values and ci/test-values.yaml;
#      the generated README tables (the README's make targets too) are up to date (scripts/k8s/docs.sh
#      --check) and relative Markdown links resolve (scripts/docs/check-links.py); the charts' and
#      terraform/'s pinned defaults agree with pins.env (scripts/k8s/check-pins.py)
#   2. kubeconform -strict of every rendered manifest against schemas generated offline from
#      k8s.io/kubernetes (OpenAPI) and the CRDs of spin-operator, prometheus-operator and
#      runtime-class-manager (the Shim's, from ../shared/upstream-charts when present), then a
#      server-side dry-run of the same manifests against a real kube-apiserver (e2e/apiserver.sh);
#      plus known-bad manifests that must be rejected by both
#   3. autoscaling lint: HPAs vs adapter rules (names, target types, scale targets), known-bad
#      HPAs/rules that must be rejected
#   4. promtool check rules + promtool test rules on the rendered PrometheusRules
#   5. terraform fmt -check; terraform validate through a local provider mirror when one exists;
#      plan/apply against a real kube-apiserver (scripts/k8s/tf-apiserver-check.sh): the root
#      password never in plan or state, value validations, the CRD download's checksum
#   5b. the upstream charts terraform/ installs (../shared/upstream-charts, $UPSTREAM_CHARTS),
#      rendered with the values `terraform console` evaluates (scripts/k8s/tf_releases.py), and
#      what the project relies on across them asserted (scripts/k8s/upstream_charts.py); every
#      object, ours and theirs, through kubeconform -strict; a misspelt value must fail
#   6. image builder smoke test (amd64 + arm64 tarballs, platform and layout asserted)
#   7. replica-sync sidecar: unit tests, then end to end with real MinIO primary/replicas + mc
#   8. adapter end-to-end: real MinIO -> real Prometheus -> real prometheus-adapter (last)
# Environment: K8S_CHECK_SKIP="rules upstream images replica-sync e2e" skips stages by name (reported as
# skipped, never silently).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
TOOLS=$ROOT/.tools
# The project's pinned virtualenv (scripts/install-tools.sh python) provides python3 with PyYAML.
[ -x "$TOOLS/venv/bin/python3" ] || scripts/install-tools.sh python
export PATH=$TOOLS/venv/bin:$PATH
BIN=$TOOLS/bin
WORK=$ROOT/target/k8s-check
rm -rf "$WORK" && mkdir -p "$WORK/rendered"
T_START=$SECONDS
SKIP=" ${K8S_CHECK_SKIP:-} "

SAY_TAG=k8s-check SAY_SECONDS0=$T_START SAY_FD=1 # phases on stdout, between their ok/FAIL lines
. "$ROOT/scripts/lib/common.sh"
. "$ROOT/scripts/lib/checks.sh"
stage() { [[ "$SKIP" != *" $1 "* ]]; }

say "tools (pinned Go modules -> .tools/bin; cached after the first run)"
scripts/k8s/tools.sh helm kubeconform schemas
. "$ROOT/pins.env"
HELM=$BIN/helm
MOD=$(go env GOMODCACHE)

# ---------------------------------------------------------------------------------------------
say "schemas for kubeconform (generated offline; cached by input hash)"
SPIN_CRDS=$MOD/$SPIN_OPERATOR_MODULE@$SPIN_OPERATOR_VERSION/config/crd/bases
PROM_CRDS=$MOD/$PROM_OPERATOR_MODULE@$PROM_OPERATOR_VERSION/example/prometheus-operator-crd
SWAGGER=$MOD/$K8S_MODULE@$K8S_VERSION/api/openapi-spec/swagger.json
CRD_FILES=("$SPIN_CRDS/core.spinkube.dev_spinapps.yaml" "$SPIN_CRDS/core.spinkube.dev_spinappexecutors.yaml"
  "$PROM_CRDS/monitoring.coreos.com_servicemonitors.yaml" "$PROM_CRDS/monitoring.coreos.com_prometheusrules.yaml"
  "$PROM_CRDS/monitoring.coreos.com_podmonitors.yaml" "$PROM_CRDS/monitoring.coreos.com_prometheuses.yaml"
  "$PROM_CRDS/monitoring.coreos.com_alertmanagers.yaml")
# cert-manager's are its chart's templates, whose template parts are only label values (quoted
# strings) and comments: valid YAML as they are, and their schemas are the chart's.
CERT_CRDS=$MOD/$CERT_MANAGER_MODULE@$CERT_MANAGER_CHART_VERSION/deploy/crds
CRD_FILES+=("$CERT_CRDS/crd-certificates.yaml" "$CERT_CRDS/crd-issuers.yaml")
# The charts terraform/ installs, packaged from their pinned tags (its README says how). The Go
# module proxy does not serve runtime-class-manager, so the Shim CRD comes only from there.
UPSTREAM=${UPSTREAM_CHARTS:-$ROOT/../shared/upstream-charts}
SHIM_CRD=$UPSTREAM/runtime-class-manager.crds.yaml
[ -f "$SHIM_CRD" ] && CRD_FILES+=("$SHIM_CRD")
key=$(cat scripts/k8s/gen-schemas.py "$SWAGGER" "${CRD_FILES[@]}" | sha256sum | cut -c1-16)
SCHEMAS=$TOOLS/k8s-schemas/$key
if [ ! -d "$SCHEMAS" ]; then
  rm -rf "$TOOLS/k8s-schemas"
  args=(); for c in "${CRD_FILES[@]}"; do args+=(--crd "$c"); done
  python3 scripts/k8s/gen-schemas.py "$SCHEMAS.tmp" --swagger "$SWAGGER" "${args[@]}" && mv "$SCHEMAS.tmp" "$SCHEMAS"
fi
echo "  schemas: k8s $K8S_VERSION, spin-operator $SPIN_OPERATOR_VERSION, prometheus-operator $PROM_OPERATOR_VERSION, cert-manager $CERT_MANAGER_CHART_VERSION$([ -f "$SHIM_CRD" ] && echo ", runtime-class-manager v$RUNTIME_CLASS_MANAGER_CHART_VERSION") ($(find "$SCHEMAS" -name '*.json' | wc -l) kinds)"
KC=("$BIN/kubeconform" -strict -summary -schema-location "$SCHEMAS/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json")

# ---------------------------------------------------------------------------------------------
say "helm lint + template (default values and ci/test-values.yaml)"
KUBE_VERSION=${K8S_VERSION#v}
RENDERED_DEFAULT=()
for chart in charts/*/; do
  chart=${chart%/}; name=$(basename "$chart")
  # Release names as Terraform uses them, so cross-chart references line up.
  ns=gif
  pass "$name: helm lint --strict (defaults)" "$HELM" lint --strict --kube-version "$KUBE_VERSION" "$chart"
  pass "$name: helm template (defaults)" sh -c "'$HELM' template '$name' '$chart' -n $ns --kube-version '$KUBE_VERSION' > '$WORK/rendered/$name-default.yaml'"
  RENDERED_DEFAULT+=("$WORK/rendered/$name-default.yaml")
  if [ -f "$chart/ci/test-values.yaml" ]; then
    pass "$name: helm lint --strict (ci/test-values.yaml)" "$HELM" lint --strict --kube-version "$KUBE_VERSION" "$chart" -f "$chart/ci/test-values.yaml"
    pass "$name: helm template (ci/test-values.yaml)" sh -c "'$HELM' template '$name-test' '$chart' -n gif-test --kube-version '$KUBE_VERSION' -f '$chart/ci/test-values.yaml' > '$WORK/rendered/$name-test.yaml'"
  else
    ko "$name: ci/test-values.yaml is missing"
  fi
  if [ -f "$chart/README.md" ] && [ -f "$chart/values.schema.json" ] && [ -f "$chart/templates/NOTES.txt" ]; then
    ok "$name: README.md, values.schema.json, NOTES.txt present"
  else ko "$name: README.md, values.schema.json or NOTES.txt missing"; fi
done
must_fail "gif-minio: values.schema.json rejects unknown keys and tag latest" "additional properties 'replicaCont'" "/image/tag" -- \
  "$HELM" template x charts/gif-minio --set replicas.replicaCont=3 --set image.tag=latest
must_fail "gif-minio: bearer auth without a token Secret is refused" "bearerTokenSecret" -- \
  "$HELM" template x charts/gif-minio --set metrics.auth=bearer
must_fail "gif-minio: a mirror user that is the gateway's is refused" "mirror.accessKey must differ" -- \
  "$HELM" template x charts/gif-minio --set mirror.accessKey=gif-gateway
must_fail "gif-minio: a mirror policy that is the gateway's is refused" "mirror.policy must differ" -- \
  "$HELM" template x charts/gif-minio --set mirror.policy=gif-gateway-read
must_fail "gif-minio: a replica disk smaller than the primary's volume is refused" "must be at least primary.persistence.size" -- \
  "$HELM" template x charts/gif-minio --set replicas.dataSizeLimit=1Gi
must_fail "gif-minio: the sizes are compared across units" "must be at least primary.persistence.size" -- \
  "$HELM" template x charts/gif-minio --set replicas.dataSizeLimit=1900Mi --set primary.persistence.size=2G
must_fail "gif-gateway: min > max replicas is refused" "minReplicas" -- \
  "$HELM" template x charts/gif-gateway --set autoscaling.minReplicas=9
must_fail "gif-gateway: a shim version without its checksums is refused" "no checksums for spinkube.shim.version v0.0.1" -- \
  "$HELM" template x charts/gif-gateway --set spinkube.shim.create=true --set spinkube.shim.version=v0.0.1
must_fail "gif-gateway: a CORS origin with a trailing slash is refused" "/cors/allowedOrigins" -- \
  "$HELM" template x charts/gif-gateway --set cors.allowedOrigins=https://a.example/
# default_cache_control is sent as a header value as it is: the schema holds it to the component's
# rule (printable ASCII, at most 256 bytes), so a bad one fails the render instead of the pods.
must_fail "gif-gateway: a default Cache-Control of 257 bytes is refused" "/browserCache/defaultCacheControl" "maxLength: got 257, want 256" -- \
  "$HELM" template x charts/gif-gateway --set-json "browserCache.defaultCacheControl=\"max-age=$(printf '9%.0s' {1..249})\""
must_fail "gif-gateway: a non-ASCII default Cache-Control is refused" "/browserCache/defaultCacheControl" "does not match pattern" -- \
  "$HELM" template x charts/gif-gateway --set-json 'browserCache.defaultCacheControl="public, max-age=60, café"'
must_fail "gif-gateway: a default Cache-Control with CR/LF (header injection) is refused" "/browserCache/defaultCacheControl" "does not match pattern" -- \
  "$HELM" template x charts/gif-gateway --set-json 'browserCache.defaultCacheControl="max-age=60\r\nx-evil: 1"'
must_fail "gif-gateway: a session token key that is no Secret key name is refused" "/s3/credentialsSecret/sessionTokenKey" -- \
  "$HELM" template x charts/gif-gateway --set-json 's3.credentialsSecret.sessionTokenKey="session token"'
# The SpinApp's variables: default_cache_control carries the value as it is; s3_session_token
# comes only from the Secret key s3.credentialsSecret.sessionTokenKey (never a value), and there
# is no such variable without it.
spinapp_vars_are() { # python expression over v (variable name -> SpinApp variable), helm args...
  local assertion=$1; shift
  "$HELM" template x charts/gif-gateway -s templates/spinapp.yaml "$@" > "$WORK/spinapp-vars.yaml" || return 1
  python3 scripts/k8s/check_spinapp_vars.py "$WORK/spinapp-vars.yaml" "$assertion"
}
CC_IMMUTABLE='public, max-age=31536000, immutable, no-cache="set-cookie"'
pass "gif-gateway: the SpinApp's access_log is on by default" \
  spinapp_vars_are 'v["access_log"] == {"name": "access_log", "value": "on"}'
pass "gif-gateway: accessLog.enabled=false turns the SpinApp's access_log off" \
  spinapp_vars_are 'v["access_log"] == {"name": "access_log", "value": "off"}' --set accessLog.enabled=false
must_fail "gif-gateway: an accessLog.enabled that is no boolean is refused" "/accessLog/enabled" "want boolean" -- \
  "$HELM" template x charts/gif-gateway --set-string accessLog.enabled=quiet
pass "gif-gateway: the SpinApp's default_cache_control is empty by default" \
  spinapp_vars_are 'v["default_cache_control"] == {"name": "default_cache_control", "value": ""}'
pass "gif-gateway: the SpinApp's default_cache_control is browserCache.defaultCacheControl as it is (commas, quotes)" \
  spinapp_vars_are "v['default_cache_control'] == {'name': 'default_cache_control', 'value': '$CC_IMMUTABLE'}" \
  --set-json "browserCache.defaultCacheControl=$(python3 -c 'import json, sys; print(json.dumps(sys.argv[1]))' "$CC_IMMUTABLE")"
pass "gif-gateway: a default Cache-Control of exactly 256 bytes is accepted" \
  spinapp_vars_are 'len(v["default_cache_control"]["value"]) == 256' \
  --set-json "browserCache.defaultCacheControl=\"max-age=$(printf '9%.0s' {1..248})\""
must_fail "self-test: the SpinApp variable check fails when the value is not there" "AssertionError" "not v['default_cache_control']" -- \
  spinapp_vars_are "v['default_cache_control'] == {'name': 'default_cache_control', 'value': '$CC_IMMUTABLE'}"
pass "gif-gateway: without s3.credentialsSecret.sessionTokenKey the SpinApp has no s3_session_token" \
  spinapp_vars_are '"s3_session_token" not in v and "s3_access_key" in v'
pass "gif-gateway: with s3.credentialsSecret.sessionTokenKey the SpinApp's s3_session_token is that key of the credentials Secret" \
  spinapp_vars_are 'v["s3_session_token"] == {"name": "s3_session_token", "valueFrom": {"secretKeyRef": {"name": "sts-creds", "key": "sessionToken"}}}' \
  --set s3.credentialsSecret.name=sts-creds --set s3.credentialsSecret.sessionTokenKey=sessionToken
must_fail "gif-gateway: a malformed shim checksum is refused" "/spinkube/shim/sha256/v0.25.1/x86_64" -- \
  "$HELM" template x charts/gif-gateway --set spinkube.shim.create=true --set 'spinkube.shim.sha256.v0\.25\.1.x86_64=1755fbeb'
# NOTES.txt prints commands only for objects the release has. helm template leaves NOTES.txt out
# and helm 3.19's install --dry-run=client still contacts a cluster, so a copy of the chart gets a
# template that includes NOTES.txt into a ConfigMap, rendered offline with the same values.
notes() { # chart, helm args...
  local chart=$1 name; shift; name=$(basename "$chart")
  rm -rf "$WORK/notes/$name" && mkdir -p "$WORK/notes" && cp -r "$chart" "$WORK/notes/$name"
  printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: notes}\ndata:\n  notes: |\n{{ include "%s/templates/NOTES.txt" . | indent 4 }}\n' \
    "$name" > "$WORK/notes/$name/templates/zz-notes.yaml"
  local out rc=0
  out=$("$HELM" template "$name" "$WORK/notes/$name" -n gif --show-only templates/zz-notes.yaml "$@" 2>&1) || rc=$?
  python3 scripts/lib/field.py yaml - data.notes <<<"$out" 2>/dev/null || printf '%s\n' "$out" # helm's error
  return $rc
}
notes_ok() { # description, notes text, then +substring (must appear) / -substring (must not)
  local what=$1 text=$2; shift 2
  for e in "$@"; do
    case $e in
      +*) grep -qF -- "${e#+}" <<<"$text" || { ko "$what (missing: ${e#+})"; printf '%s\n' "$text" | sed 's/^/        /'; return; } ;;
      -*) ! grep -qF -- "${e#-}" <<<"$text" || { ko "$what (unexpected: ${e#-})"; printf '%s\n' "$text" | sed 's/^/        /'; return; } ;;
    esac
  done
  ok "$what"
}
notes_ok "gif-minio NOTES (defaults): replica Deployment, HPA and sync log" "$(notes charts/gif-minio)" \
  "+get deploy,hpa gif-minio-replicas" "+logs deploy/gif-minio-replicas -c sync" "+gif-minio-replicas.gif.svc"
notes_ok "gif-minio NOTES (replicas.enabled=false): no replica commands, points the gateway at the primary" \
  "$(notes charts/gif-minio --set replicas.enabled=false)" "-gif-minio-replicas" "+set its s3.endpoint to the primary"
notes_ok "gif-minio NOTES (replica autoscaling off): no HPA" \
  "$(notes charts/gif-minio --set replicas.autoscaling.enabled=false)" "+get deploy gif-minio-replicas" "-hpa"
notes_ok "gif-gateway NOTES (autoscaling off): no HPA" \
  "$(notes charts/gif-gateway --set autoscaling.enabled=false)" "+get svc gif-gateway-public" "-hpa"
# Chart metadata must not point at placeholder addresses.
if grep -nE 'https?://[^ ]*example\.(invalid|com|org)' charts/*/Chart.yaml; then ko "Chart.yaml links to a placeholder address"
else ok "Chart.yaml links are not placeholders"; fi
# Credentials are generated into Secrets, never taken from values or printed by NOTES.
if grep -rniE '(password|secretKey|secret_key)\s*:\s*["'\'']?[A-Za-z0-9+/]{8,}' charts/*/values.yaml charts/*/ci/*.yaml; then
  ko "a values file contains what looks like a credential"
else ok "no credentials in values files"; fi
pass "generated root password is random (40 chars) and not a fixed default" python3 scripts/k8s/check_root_password.py "$WORK/rendered/gif-minio-default.yaml"

# ---------------------------------------------------------------------------------------------
say "generated docs (chart parameter tables, Terraform requirements/inputs/outputs)"
if stage docs; then
  # Generating also validates: readme-generator refuses a value without @param and an @param without a value.
  pass "charts/*/README.md and terraform/README.md are what scripts/k8s/docs.sh generates" scripts/k8s/docs.sh --check
  broken=$WORK/docs-broken
  rm -rf "$broken" && mkdir -p "$broken"
  tar --exclude=terraform/.terraform -cf - charts terraform Makefile README.md | tar -C "$broken" -xf -
  sed -i 's/^\(  ## @param bucket\.name \).*/\1Changed by the self-test/' "$broken/charts/gif-minio/values.yaml"
  printf 'self-test: ## Added by the self-test\n' >> "$broken/Makefile"
  printf 'undocumentedValue: 1\n' >> "$broken/charts/gif-gateway/values.yaml"
  sed -i '0,/^  description = .*/s//  description = "Changed by the self-test."/' "$broken/terraform/variables.tf"
  must_fail "docs check rejects a changed description, an undocumented value, a changed variable and a new make target" \
    "Changed by the self-test" "Missing metadata for key: undocumentedValue" "out of date: charts/gif-minio/README.md terraform/README.md" \
    "+| \`make self-test\` | Added by the self-test |" "out of date: README.md make-targets table" -- \
    scripts/k8s/docs.sh --check "$broken"
  pass "every relative link in the Markdown files resolves" python3 scripts/docs/check-links.py
  printf '# Title\n\n[a](missing.md) [b](#no-such-heading) [c](#title)\n' > "$broken/links.md"
  must_fail "link check rejects a missing file and a missing heading" \
    "links.md: missing.md: no such file" "links.md: #no-such-heading: no such heading" -- \
    python3 scripts/docs/check-links.py "$broken"
else skip "generated docs (K8S_CHECK_SKIP)"; fi

# ---------------------------------------------------------------------------------------------
say "pins (chart and Terraform defaults vs pins.env)"
scripts/k8s/tools.sh terraform-docs
pass "chart and Terraform defaults, and pins quoted in their prose, agree with pins.env" \
  python3 scripts/k8s/check-pins.py --terraform-docs "$BIN/terraform-docs"
broken=$WORK/pins-broken
rm -rf "$broken" && mkdir -p "$broken"
tar --exclude=terraform/.terraform -cf - pins.env charts terraform e2e/kube/go.mod e2e/etcd/go.mod | tar -C "$broken" -xf -
sed -i 's/^\(  tag: \).*/\1"0.0.0-selftest"/' "$broken/charts/gif-gateway/values.yaml"
sed -i 's|^\(\s*go.etcd.io/etcd/server/v3 \)v[0-9.]*|\1v0.0.0|' "$broken/e2e/etcd/go.mod"
sed -i 's/^\(  default *= \)"v1\.[0-9.]*"$/\1"v0.0.0"/' "$broken/terraform/variables.tf"
sed -i 's/prometheus-operator v[0-9.]*/prometheus-operator v0.0.0/' "$broken/terraform/variables.tf"
sed -i "s/$CONTAINERD_SHIM_SPIN_SHA256_X86_64/$(printf 'f%.0s' {1..64})/" "$broken/charts/gif-gateway/values.yaml"
sed -i "s/$SPIN_OPERATOR_CRDS_SHA256/$(printf 'f%.0s' {1..64})/" "$broken/terraform/variables.tf"
must_fail "the pins check rejects a changed chart default, Terraform default, quoted pin, checksum and wrapper go.mod" \
  "gif-gateway/values.yaml image.tag is '0.0.0-selftest'" "cert_manager_chart_version default is 'v0.0.0'" "mentions is 'v0.0.0'" \
  "spinkube.shim.sha256.$CONTAINERD_SHIM_SPIN_VERSION.x86_64 is 'ffff" "spin_operator_crds_sha256[\"${SPIN_OPERATOR_VERSION#v}\"] default is 'ffff" \
  "e2e/etcd/go.mod requires go.etcd.io/etcd/server/v3 is 'v0.0.0'" -- \
  python3 scripts/k8s/check-pins.py --terraform-docs "$BIN/terraform-docs" "$broken"

# spin-operator's release asset spin-operator.crds.yaml is its Makefile's
# `for f in $(ls config/crd/bases); do cat config/crd/bases/$f >> spin-operator.crds.yaml; done` at
# the tag, so its checksum follows from the module of the pinned version: a version bump without
# the new checksum fails here (and Terraform would refuse the download).
crd_asset_sha256_is() { # bases dir, expected sha256
  local sum
  sum=$(cd "$1" && for f in *; do cat "$f"; done | sha256sum | cut -d' ' -f1)
  [ "$sum" = "$2" ] || { echo "spin-operator.crds.yaml from $1 has sha256 $sum, which differs from the pinned $2"; return 1; }
}
pass "pins.env SPIN_OPERATOR_CRDS_SHA256 = sha256 of $SPIN_OPERATOR_MODULE@$SPIN_OPERATOR_VERSION config/crd/bases concatenated" \
  crd_asset_sha256_is "$SPIN_CRDS" "$SPIN_OPERATOR_CRDS_SHA256"
rm -rf "$WORK/crd-bases-changed" && cp -r "$SPIN_CRDS" "$WORK/crd-bases-changed" && chmod -R u+w "$WORK/crd-bases-changed"
bases=("$WORK/crd-bases-changed"/*)
printf '# another release\n' >> "${bases[-1]}"
must_fail "the CRD checksum check rejects other CRD bases (a version bump without its checksum)" "differs from the pinned" -- \
  crd_asset_sha256_is "$WORK/crd-bases-changed" "$SPIN_OPERATOR_CRDS_SHA256"

# ---------------------------------------------------------------------------------------------
say "kubeconform (strict, offline schemas)"
# Shim (runtime.spinkube.dev): without ../shared/upstream-charts there is no pinned CRD for it (the
# Go module proxy does not serve runtime-class-manager); its fields are then only asserted below.
KC_SHIM=()
if [ -f "$SHIM_CRD" ]; then
  must_fail "kubeconform rejects a Shim with runtimeOptions (runtime-class-manager v$RUNTIME_CLASS_MANAGER_CHART_VERSION's field is containerdRuntimeOptions)" \
    "additional properties 'runtimeOptions' not allowed" "Invalid: 1" -- "${KC[@]}" scripts/k8s/testdata/bad-shim.yaml
else
  KC_SHIM=(-skip Shim)
  skip "Shim not validated against its CRD: ${SHIM_CRD#"$ROOT"/} is absent"
fi
for f in "$WORK"/rendered/*.yaml; do
  if out=$("${KC[@]}" "${KC_SHIM[@]}" "$f" 2>&1) && grep -q "Invalid: 0, Errors: 0" <<<"$out"; then
    ok "kubeconform $(basename "$f"): $(grep -o 'Summary.*' <<<"$out")"
  else ko "kubeconform $(basename "$f")"; printf '%s\n' "$out" | sed 's/^/        /'; fi
done
pass "kinds covered by CRD schemas were really validated; the Shim verifies each arch's download" python3 scripts/k8s/check_crd_coverage.py "$WORK"/rendered/*.yaml
must_fail "kubeconform rejects misspelt fields (SpinApp, ServiceMonitor, Deployment)" \
  "enableAutoScaling' not allowed" "'endpoint' not allowed" "'periodSecond' not allowed" "Invalid: 3" -- \
  "${KC[@]}" scripts/k8s/testdata/bad-manifests.yaml
# The same manifests through the real API: server-side dry-run against kube-apiserver v1.34 built
# from source (e2e/), with the pinned CRDs installed; the misspelt documents must be refused there too.
if stage dryrun; then
  pass "server-side dry-run of every rendered manifest (real kube-apiserver + CRDs)" scripts/k8s/dry-run.sh "$WORK"/rendered/*.yaml
  must_fail "server-side dry-run rejects the misspelt manifests" "rejected" 'unknown field "spec.enableAutoScaling"' -- \
    scripts/k8s/dry-run.sh scripts/k8s/testdata/bad-manifests.yaml
else skip "server-side dry-run (K8S_CHECK_SKIP)"; fi

# ---------------------------------------------------------------------------------------------
say "autoscaling lint (HPAs <-> prometheus-adapter rules)"
python3 scripts/k8s/render_tftpl.py terraform/values/prometheus-adapter.yaml.tftpl \
  prometheus_url=http://kube-prometheus-stack-prometheus.monitoring.svc prometheus_port=9090 \
  namespace=gif replica_service=gif-minio-replicas > "$WORK/adapter-values.yaml"
SCRAPE=$(python3 scripts/lib/field.py yaml charts/gif-minio/values.yaml metrics.serviceMonitor.interval); SCRAPE=${SCRAPE%s}
pass "HPAs of the default render match the adapter rules (2 HPAs)" python3 scripts/k8s/lint_autoscaling.py \
  --adapter-values "$WORK/adapter-values.yaml" --scrape-interval "$SCRAPE" --min-hpas 2 "${RENDERED_DEFAULT[@]}"
must_fail "autoscaling lint rejects the broken HPAs and rules of public takes" \
  "scales StatefulSet minio" "must not set averageValue" "Utilization is only valid for Resource" \
  "not a rendered Deployment" "is not served by any adapter rule" "rate() over process_resident_memory_bytes" \
  "missing from the metricsQuery" "name.as must be set" "selects the same series" "rules.default must be false" -- \
  python3 scripts/k8s/lint_autoscaling.py --adapter-values scripts/k8s/testdata/bad-adapter-values.yaml scripts/k8s/testdata/bad-hpas.yaml

# ---------------------------------------------------------------------------------------------
say "PrometheusRules (promtool check + unit tests)"
if stage rules; then
  scripts/k8s/tools.sh promtool
  python3 scripts/k8s/rules_from_rendered.py "$WORK/rules.yaml" "${RENDERED_DEFAULT[@]}"
  pass "promtool check rules (rendered PrometheusRules)" "$BIN/promtool" check rules "$WORK/rules.yaml"
  cp scripts/k8s/testdata/rules-test.yaml "$WORK/rules-test.yaml"
  pass "promtool test rules (alerts fire on failure, stay silent when healthy)" sh -c "cd '$WORK' && '$BIN/promtool' test rules rules-test.yaml"
else skip "PrometheusRules (K8S_CHECK_SKIP)"; fi

# ---------------------------------------------------------------------------------------------
say "terraform"
TF=${TERRAFORM:-$(command -v terraform || command -v tofu || true)}
if [ -z "$TF" ]; then ko "terraform (or tofu) not found"; else
  pass "$(basename "$TF") fmt -check -recursive terraform/" "$TF" fmt -check -recursive -diff terraform/
  # The providers are built from their pinned commits into a local mirror (no registry traffic).
  scripts/k8s/tools.sh tf-providers
  MIRROR=$TOOLS/terraform-providers
  cat > "$TOOLS/terraform-check.tfrc" <<TFRC
provider_installation {
  filesystem_mirror {
    path    = "$MIRROR"
    include = ["registry.terraform.io/hashicorp/*", "registry.opentofu.org/hashicorp/*"]
  }
}
TFRC
  tf_() { env TF_CLI_CONFIG_FILE="$TOOLS/terraform-check.tfrc" "$TF" "$@"; }
  rm -rf "$WORK/tf" && cp -r terraform "$WORK/tf" && rm -rf "$WORK/tf/.terraform" "$WORK/tf/.terraform.lock.hcl"
  pass "terraform init (local provider mirror, no network)" tf_ -chdir="$WORK/tf" init -backend=false -input=false
  pass "terraform validate" tf_ -chdir="$WORK/tf" validate
  # A committed lock must carry the registry's checksums: a lock written from the local mirror
  # lists checksums of providers built from source, which no registry download matches, so
  # `terraform init` would refuse the official packages.
  tf_lock_check() { # versions.tf, lock to check, lock that init just wrote from the mirror
    python3 scripts/k8s/check_tf_lock.py "$@"
  }
  if [ -f terraform/.terraform.lock.hcl ]; then
    pass "terraform/.terraform.lock.hcl: versions.tf's providers with registry checksums" \
      tf_lock_check terraform/versions.tf terraform/.terraform.lock.hcl "$WORK/tf/.terraform.lock.hcl"
  else
    skip "terraform/.terraform.lock.hcl is not committed (its checksums must come from registry.terraform.io; see terraform/README.md)"
  fi
  must_fail "the lock check rejects a lock written from the local mirror" "built from source in the local mirror" "no zh: checksums" -- \
    tf_lock_check terraform/versions.tf "$WORK/tf/.terraform.lock.hcl" "$WORK/tf/.terraform.lock.hcl"
  # What validate cannot see: the write-only root password, the validations that need values and
  # the CRD download's checksum, planned and applied against a real kube-apiserver.
  if stage tfapi; then
    tfapi_out=$(scripts/k8s/tf-apiserver-check.sh "$WORK/tf-apiserver" "$TOOLS/terraform-check.tfrc" 2>&1) || true
    grep -E '^  (ok|FAIL)  |^        ' <<<"$tfapi_out" || true
    n=$(grep -c '^  ok    ' <<<"$tfapi_out" || true); PASSED=$((PASSED + n))
    while IFS= read -r line; do FAILED=$((FAILED + 1)); FAILURES+=("${line#  FAIL  }"); done < <(grep '^  FAIL  ' <<<"$tfapi_out" || true)
    if [ "$n" -lt 10 ] && ! grep -q '^  FAIL  ' <<<"$tfapi_out"; then
      ko "terraform against a real kube-apiserver did not run its checks"; printf '%s\n' "$tfapi_out" | tail -20 | sed 's/^/        /'
    fi
    # Its API server and etcd are gone afterwards (a leftover kept running after CI, holding
    # whatever file descriptors the caller had open).
    if pgrep -f -- "$WORK/tf-apiserver/" >/dev/null; then ko "terraform against a real kube-apiserver left processes running: $(pgrep -af -- "$WORK/tf-apiserver/" | cut -c1-120)"
    else ok "terraform against a real kube-apiserver stopped its API server and etcd"; fi
  else skip "terraform against a real kube-apiserver (K8S_CHECK_SKIP)"; fi
  # The same check must catch a reference to a variable that does not exist.
  cp -r "$WORK/tf" "$WORK/tf-broken" && printf 'output "broken" { value = var.does_not_exist }\n' >> "$WORK/tf-broken/outputs.tf"
  if tf_ -chdir="$WORK/tf-broken" validate -no-color >/dev/null 2>&1; then ko "terraform validate accepted a broken configuration"
  else ok "terraform validate rejects a broken configuration"; fi
  pass "terraform variables: every variable has a description, validations on inputs" python3 scripts/k8s/check_tf_variables.py terraform
fi

# ---------------------------------------------------------------------------------------------
say "upstream charts (what terraform apply installs with install_platform = true, Terraform's values)"
# results cmd...: each "ok: ", "FAIL: " or "skip: " line of the command's output is one result.
results() {
  local out rc=0 line n=0 last=
  out=$("$@" 2>&1) || rc=$?
  while IFS= read -r line; do
    case $line in
      "ok: "*) ok "${line#ok: }"; n=$((n + 1)) ;;
      "FAIL: "*) ko "${line#FAIL: }"; n=$((n + 1)); last=FAIL ;;
      "skip: "*) skip "${line#skip: }"; n=$((n + 1)) ;;
      *) printf '        %s\n' "$line" ;;
    esac
  done <<<"$out"
  if [ $rc -ne 0 ] && [ "$last" != FAIL ]; then ko "$* (exit $rc)"; fi
  [ $n -gt 0 ] || [ $rc -ne 0 ] || ko "$* reported nothing"
}
# upstream_pass terraform-dir charts-dir out: Terraform's values (terraform console), helm
# template of every release with them, the cross-chart assertions.
upstream_pass() {
  local tfdir=$1 charts=$2 out=$3
  rm -rf "$out" && mkdir -p "$out"
  TERRAFORM=$TF TF_CLI_CONFIG_FILE=$TOOLS/terraform-check.tfrc python3 scripts/k8s/tf_releases.py "$tfdir" > "$out/releases.json" || return 1
  local a=("$out/releases.json" "$out" --upstream "$UPSTREAM" --charts "$charts")
  local crds=(); for c in "${CRD_FILES[@]}"; do crds+=(--crd "$c"); done
  python3 scripts/k8s/upstream_charts.py render "${a[@]}" --helm "$HELM" --kube-version "$KUBE_VERSION" --swagger "$SWAGGER" "${crds[@]}" \
    && python3 scripts/k8s/upstream_charts.py check "${a[@]}"
}
UP=$WORK/upstream
if ! stage upstream; then skip "upstream charts (K8S_CHECK_SKIP)"
elif [ ! -d "$UPSTREAM" ]; then
  skip "upstream charts: ${UPSTREAM#"$ROOT"/} is absent (the charts terraform/ installs, packaged from their pinned tags), not rendered"
elif [ -z "$TF" ]; then ko "upstream charts: terraform (or tofu) not found (it evaluates the values it passes)"
else
  pass "${UPSTREAM#"$ROOT"/}: every file matches its SHA256SUMS" sh -c "cd '$UPSTREAM' && sha256sum --quiet -c SHA256SUMS"
  results upstream_pass "$WORK/tf" "$ROOT/charts" "$UP"
  # The air-gapped path and the e2e's values: the same releases from a directory of packaged
  # charts (platform_charts_dir) with the e2e's platform_values_overrides (e2e/platform/values/),
  # every assertion again, every key of the overrides in the chart's values, and every image left
  # one that `e2e/platform.sh images` builds. cert-manager is left out (platform_components):
  # no packaged copy of it here.
  python3 scripts/k8s/platform_tfvars.py "$UPSTREAM" e2e/platform/values cert_manager > "$WORK/tf/zz_charts_dir.auto.tfvars.json"
  charts_dir_pass() {
    local out rc=0
    out=$(upstream_pass "$WORK/tf" "$ROOT/charts" "$WORK/upstream-dir" 2>&1) || rc=$?
    sed -E 's/^(ok|FAIL|skip): /\1: [platform_charts_dir, e2e values] /' <<<"$out"
    e2e/platform.sh refs > "$WORK/upstream-dir/chart-refs.txt" || rc=1
    python3 scripts/k8s/check_charts_dir_images.py "$WORK/upstream-dir" "$UPSTREAM" || rc=1
    return $rc
  }
  results charts_dir_pass
  rm -f "$WORK/tf/zz_charts_dir.auto.tfvars.json"
  results python3 scripts/k8s/upstream_charts.py crds --upstream "$UPSTREAM" \
    --compare "kube-prometheus-stack-$KUBE_PROMETHEUS_STACK_CHART_VERSION.tgz" '/crds/crds/crd-(servicemonitors|prometheusrules|podmonitors|prometheuses|alertmanagers)\.yaml$' \
    "$(printf '%s\n' "${CRD_FILES[@]}" | grep /monitoring.coreos.com_ | paste -sd,)" \
    --compare "runtime-class-manager-$RUNTIME_CLASS_MANAGER_CHART_VERSION.tgz" '/crds/.*\.yaml$' "$SHIM_CRD" \
    --compare spin-operator.crds.yaml - "$(printf '%s\n' "${CRD_FILES[@]}" | grep /core.spinkube.dev_ | paste -sd,)"
  # Every object our charts create with Terraform's values, and every upstream one, against the
  # pinned schemas, the spin-operator chart's cert-manager Certificate and Issuer included.
  for f in "$UP"/kubeconform/*.yaml; do
    if out=$("${KC[@]}" "$f" 2>&1) && grep -q "Invalid: 0, Errors: 0" <<<"$out"; then
      ok "kubeconform $(basename "$f" .yaml) (Terraform's values): $(grep -o 'Summary.*' <<<"$out")"
    else ko "kubeconform $(basename "$f" .yaml) (Terraform's values)"; printf '%s\n' "$out" | grep -v '^Summary' | sed 's/^/        /' | tail -20; fi
  done
  pass "HPAs rendered with Terraform's values match the adapter rules Terraform passes" python3 scripts/k8s/lint_autoscaling.py \
    --adapter-values "$UP/prometheus_adapter.values-0.yaml" --scrape-interval "$SCRAPE" --min-hpas 2 "$UP/gif_gateway.yaml" "$UP/gif_minio.yaml"
  # The adapter end to end below runs on render_tftpl.py's rendering of the same template.
  pass "the adapter values the autoscaling lint and adapter e2e use are Terraform's templatefile() output" \
    cmp "$WORK/adapter-values.yaml" "$UP/prometheus_adapter.values-0.yaml"
  # Names derived from variables follow them (the chart defaults name the default namespaces).
  other_namespaces() { TF_VAR_namespace=apps TF_VAR_monitoring_namespace=metrics upstream_pass "$@"; }
  pass "the same assertions hold with var.namespace = apps and var.monitoring_namespace = metrics" \
    other_namespaces "$WORK/tf" "$ROOT/charts" "$WORK/upstream-namespaces"
  # On a copy, as the docs check does: misspelt keys and a wrong value in what Terraform passes.
  broken=$WORK/upstream-broken
  rm -rf "$broken" && mkdir -p "$broken" && cp -r "$WORK/tf" "$broken/terraform" && cp -r charts "$broken/charts"
  sed -i 's/enableOTLPReceiver:/enableOTLPReciever:/' "$broken/terraform/values/kube-prometheus-stack.yaml.tftpl"
  sed -i 's/^metricsRelistInterval:/metricsRelistIntervall:/' "$broken/terraform/values/prometheus-adapter.yaml.tftpl"
  sed -i 's/prometheus_port = 9090/prometheus_port = 9091/' "$broken/terraform/main.tf"
  sed -i 's/^\(    runtimeClassName: \).*/\1wasmtime-spin/' "$broken/charts/gif-gateway/templates/spinkube.yaml"
  sed -i 's/^\(    spinkube  = \){ createExecutor = false, shim = { create = false } }/\1{}/' "$broken/terraform/main.tf"
  must_fail "the upstream checks reject misspelt keys, a wrong port, a RuntimeClass the Shim does not make and an executor in the SpinApp's release" \
    "prometheus.prometheusSpec.enableOTLPReciever: no such key upstream" "enableOTLPReceiver: False" \
    "metricsRelistIntervall: no such key upstream" "FAIL: prometheus-adapter queries http://kube-prometheus-stack-prometheus.monitoring.svc:9091" \
    "FAIL: the Shim's RuntimeClass" "FAIL: helm_release.gif_gateway_runtime holds the executor and the Shim (only)" -- \
    upstream_pass "$broken/terraform" "$broken/charts" "$broken/out"
fi

# ---------------------------------------------------------------------------------------------
say "image builder (no Docker engine)"
if stage images; then
  (cd images && CGO_ENABLED=0 go build -trimpath -o "$BIN/imgbuild" ./cmd/imgbuild)
  pass "go vet images/" sh -c "cd images && go vet ./..."
  for arch in amd64 arm64; do
    (cd images && GOOS=linux GOARCH=$arch CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$WORK/replica-sync-$arch" ./cmd/replica-sync)
    "$BIN/imgbuild" -tag "gif-gateway/smoke:$arch" -platform "linux/$arch" -out "$WORK/smoke-$arch.tar" \
      -file "$WORK/replica-sync-$arch:/usr/bin/replica-sync:0555" -dir /tmp:01777 -entrypoint /usr/bin/replica-sync -user 65532:65532 >/dev/null
    pass "image tarball linux/$arch: docker-save layout, config platform, entrypoint, non-root, binary arch" python3 scripts/k8s/check_image_tarball.py "$WORK/smoke-$arch.tar" "$arch"
  done
  pass "image build is reproducible (same input, same digest)" sh -c \
    "'$BIN/imgbuild' -tag check/repro:1 -platform linux/amd64 -out '$WORK/r1.tar' -file scripts/k8s/check.sh:/x >'$WORK/d1' && '$BIN/imgbuild' -tag check/repro:1 -platform linux/amd64 -out '$WORK/r2.tar' -file scripts/k8s/check.sh:/x >'$WORK/d2' && [ \"\$(cut -d' ' -f3 '$WORK/d1')\" = \"\$(cut -d' ' -f3 '$WORK/d2')\" ]"
else skip "image builder (K8S_CHECK_SKIP)"; fi

# ---------------------------------------------------------------------------------------------
say "MinIO read-replica sidecar end to end (real MinIO servers + mc)"
if stage replica-sync; then
  scripts/k8s/tools.sh mc
  [ -x "$BIN/minio" ] || scripts/install-tools.sh minio
  (cd images && CGO_ENABLED=0 go build -trimpath -o "$WORK/replica-sync" ./cmd/replica-sync)
  pass "replica-sync unit tests (mc JSON error codes, random local root)" sh -c "cd images && go test ./cmd/replica-sync"
  if python3 scripts/k8s/replica_sync_e2e.py "$WORK/replica-sync-e2e" "$WORK/replica-sync"; then
    ok "replica-sync: not Ready on a missing bucket, refused credentials or a diverged copy; Ready only after a verified full copy; read-only app user; deletes and new objects follow; no secret in argv or logs"
  else ko "replica-sync e2e (logs in ${WORK#"$ROOT"/}/replica-sync-e2e)"; fi
else skip "replica-sync e2e (K8S_CHECK_SKIP)"; fi

# ---------------------------------------------------------------------------------------------
say "prometheus-adapter end to end (MinIO -> Prometheus -> adapter)"
if stage e2e; then
  if scripts/k8s/adapter-e2e.sh "$WORK/e2e" "$WORK/adapter-values.yaml"; then ok "adapter e2e: custom and external metric values match the generated request rate"
  else ko "adapter e2e (logs in ${WORK#"$ROOT"/}/e2e)"; fi
else skip "adapter e2e (K8S_CHECK_SKIP)"; fi

say "summary ($((SECONDS - T_START))s)"
summary k8s-check skips
