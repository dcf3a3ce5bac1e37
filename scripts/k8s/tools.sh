#!/usr/bin/env bash
# Builds the Kubernetes tool chain used by scripts/k8s/check.sh into .tools/ (git-ignored),
# every tool from a pinned Go module, no prebuilt downloads. Idempotent: a stamp file per tool
# records the pinned version, so a warm machine pays nothing.
#
#   scripts/k8s/tools.sh            # everything
#   scripts/k8s/tools.sh helm kubeconform
#   scripts/k8s/tools.sh terraform-docs readme-generator   # what scripts/k8s/docs.sh needs
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
TOOLS=$ROOT/.tools
BIN=$TOOLS/bin
mkdir -p "$BIN" "$TOOLS/stamps"
# One build at a time (check.sh and a developer may call this concurrently).
exec 9>"$TOOLS/.k8s-tools.lock"
flock 9

# Versions: pins.env (one home for every pin). readme-generator-for-helm is pinned, with its whole
# npm dependency tree, by scripts/k8s/readme-generator/package.json and its package-lock.json.
. "$ROOT/pins.env"

SAY_TAG=k8s-tools
. "$ROOT/scripts/lib/common.sh"
. "$ROOT/scripts/lib/stamps.sh"
export CGO_ENABLED=0 GOFLAGS="-trimpath -buildvcs=false"

want="${*:-all}"

goinstall() { # name version pkg@version
  local name=$1 ver=$2 pkg=$3 out=${4:-$1}
  if stamp_ok "k8s-$name" "$ver" "$BIN/$out"; then return 0; fi
  say "building $name $ver from Go module $pkg"
  local t0=$SECONDS
  GOBIN=$BIN go install -ldflags="${LDFLAGS:-}" "$pkg"
  stamp_set "k8s-$name" "$ver"
  say "$name built in $((SECONDS - t0))s"
}

# Like goinstall, for modules that `go install pkg@version` refuses (replace directives in their
# go.mod) or cannot resolve (the proxy answers 403 to the version-list/deprecation lookup it
# makes): a throw-away main module that is a copy of the pinned module's own go.mod and go.sum
# (requirements and replace directives unchanged) builds the package. Versions resolve exactly as
# in the upstream build.
gowrapped() { # name version module pkg
  local name=$1 ver=$2 mod=$3 pkg=$4
  if stamp_ok "k8s-$name" "$ver" "$BIN/$name"; then return 0; fi
  say "building $name $ver from Go module $mod (its own go.mod/go.sum, replace directives kept)"
  local t0=$SECONDS dir=$TOOLS/src/$name-$ver src
  src=$(cd "$TOOLS" && go mod download -json "$mod@$ver" | python3 "$ROOT/scripts/lib/field.py" json - Dir)
  rm -rf "$dir" && mkdir -p "$dir"
  sed "s#^module .*#module local/$name-build#" "$src/go.mod" > "$dir/go.mod"
  printf '\nrequire %s %s\n' "$mod" "$ver" >> "$dir/go.mod"
  cp "$src/go.sum" "$dir/go.sum"
  chmod u+w "$dir/go.mod" "$dir/go.sum"
  (cd "$dir" && GOFLAGS="$GOFLAGS -mod=mod" go build -ldflags="${LDFLAGS:-}" -o "$BIN/$name" "$pkg")
  stamp_set "k8s-$name" "$ver"
  say "$name built in $((SECONDS - t0))s"
}

if has helm; then
  # Same -X flags as helm's Makefile: without them helm believes the cluster is Kubernetes v1.20.
  hv="helm.sh/helm/v3"
  LDFLAGS="-s -w -X $hv/internal/version.version=$HELM_VERSION -X $hv/pkg/lint/rules.k8sVersionMajor=1 -X $hv/pkg/lint/rules.k8sVersionMinor=$HELM_K8S_MINOR -X $hv/pkg/chartutil.k8sVersionMajor=1 -X $hv/pkg/chartutil.k8sVersionMinor=$HELM_K8S_MINOR" \
    goinstall helm "$HELM_VERSION-k8s1.$HELM_K8S_MINOR" "$HELM_MODULE/cmd/helm@$HELM_VERSION"
fi
if has kubeconform; then
  LDFLAGS="-s -w" goinstall kubeconform "$KUBECONFORM_VERSION" "$KUBECONFORM_MODULE/cmd/kubeconform@$KUBECONFORM_VERSION"
fi
if has schemas; then
  mods="$K8S_MODULE@$K8S_VERSION $SPIN_OPERATOR_MODULE@$SPIN_OPERATOR_VERSION $PROM_OPERATOR_MODULE@$PROM_OPERATOR_VERSION"
  mods+=" $CERT_MANAGER_MODULE@$CERT_MANAGER_CHART_VERSION" # its CRDs: the spin-operator chart's Certificate and Issuer
  if ! stamp_ok k8s-schema-modules "$mods"; then
    say "downloading schema sources: $mods"
    # shellcheck disable=SC2086 # one word per module
    (cd "$TOOLS" && go mod download $mods)
    stamp_set k8s-schema-modules "$mods"
  fi
fi
if has mc; then
  LDFLAGS="-s -w" goinstall mc "$MC_VERSION" "$MC_MODULE@$MC_VERSION"
fi
if has terraform-docs; then
  # gowrapped: the proxy answers 403 to the deprecation lookup `go install pkg@version` makes.
  LDFLAGS="-s -w" gowrapped terraform-docs "$TERRAFORM_DOCS_VERSION" "$TERRAFORM_DOCS_MODULE" "$TERRAFORM_DOCS_MODULE"
fi
if has readme-generator; then
  # npm ci installs exactly the locked tree (integrity-checked) and refuses a lock that no longer
  # matches package.json; --ignore-scripts because no package in the tree needs an install script.
  lock=$ROOT/scripts/k8s/readme-generator/package-lock.json
  key=$(cat "$ROOT/scripts/k8s/readme-generator/package.json" "$lock" | sha256sum | cut -c1-16)
  dir=$TOOLS/readme-generator
  if ! stamp_ok k8s-readme-generator "$key" "$dir/node_modules/.bin/readme-generator"; then
    say "installing @bitnami/readme-generator-for-helm from npm (scripts/k8s/readme-generator/package-lock.json)"
    rm -rf "$dir" && mkdir -p "$dir"
    cp "$ROOT/scripts/k8s/readme-generator/package.json" "$lock" "$dir/"
    (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
    stamp_set k8s-readme-generator "$key"
  fi
fi
if has prometheus; then
  LDFLAGS="-s -w" gowrapped prometheus "$PROMETHEUS_VERSION" "$PROMETHEUS_MODULE" "$PROMETHEUS_MODULE/cmd/prometheus"
fi
if has promtool; then
  LDFLAGS="-s -w" gowrapped promtool "$PROMETHEUS_VERSION" "$PROMETHEUS_MODULE" "$PROMETHEUS_MODULE/cmd/promtool"
fi
if has adapter; then
  LDFLAGS="-s -w" gowrapped adapter "$ADAPTER_VERSION" "$ADAPTER_MODULE" "$ADAPTER_MODULE/cmd/adapter"
fi

# Terraform providers for `terraform validate` and the end-to-end `terraform apply`, installed into
# a filesystem mirror (.tools/terraform-providers; check.sh and e2e/ point TF_CLI_CONFIG_FILE at it),
# each built from the commit pseudo-version pins.env gives for its release (TF_PROVIDER_*). Built
# in place from the module's own source, because terraform-provider-http's go.mod still declares
# its old path (github.com/terraform-providers/...).
if has tf-providers; then
  MIRROR=$TOOLS/terraform-providers
  for var in $(compgen -v TF_PROVIDER_ | grep '_VERSION$'); do
    up=${var#TF_PROVIDER_}; up=${up%_VERSION}
    commit_var=TF_PROVIDER_${up}_COMMIT
    name=${up,,} tfver=${!var} pseudo=${!commit_var}
    mod=github.com/hashicorp/terraform-provider-$name
    file=terraform-provider-${name}_v$tfver
    out=$MIRROR/registry.terraform.io/hashicorp/$name/$tfver/linux_amd64
    if stamp_ok "k8s-tf-$name" "$tfver $pseudo" "$out/$file"; then continue; fi
    say "building terraform-provider-$name $tfver from $mod@$pseudo"
    t0=$SECONDS
    src=$(cd "$TOOLS" && go mod download -json "$mod@$pseudo" | python3 "$ROOT/scripts/lib/field.py" json - Dir)
    dir=$TOOLS/src/terraform-provider-$name
    rm -rf "$dir" && mkdir -p "$TOOLS/src" && cp -r "$src" "$dir" && chmod -R u+w "$dir"
    (cd "$dir" && GOFLAGS="$GOFLAGS -mod=mod" go build -ldflags="-s -w -X main.Version=$tfver" -o "$BIN/terraform-provider-$name" .)
    for reg in registry.terraform.io registry.opentofu.org; do
      mkdir -p "$MIRROR/$reg/hashicorp/$name/$tfver/linux_amd64"
      cp "$BIN/terraform-provider-$name" "$MIRROR/$reg/hashicorp/$name/$tfver/linux_amd64/$file"
    done
    rm -rf "$dir"
    stamp_set "k8s-tf-$name" "$tfver $pseudo"
    say "terraform-provider-$name built in $((SECONDS - t0))s"
  done
fi
