#!/usr/bin/env python3
"""Fails when a default of the charts or of terraform/ disagrees with pins.env.

Helm values, Chart.yaml and Terraform variables cannot read pins.env, so each of their pinned
defaults is compared with it here. Terraform is read through terraform-docs' JSON output (a real
HCL parser), the charts with PyYAML. Mentions such as `github.com/minio/mc@<version>` or
"prometheus-operator v0.85.0" in comments and descriptions are compared too, so no stale copy
of a pin survives in comments, descriptions, README.md or docs/.

usage: check-pins.py --terraform-docs BIN [ROOT]   (ROOT holds pins.env, charts/, terraform/)
"""
import argparse
import json
import pathlib
import re
import subprocess
import sys
import tempfile

import yaml


def read_pins(path):
    pins, errors = {}, []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        m = re.fullmatch(r"([A-Z][A-Z0-9_]*)=([^\s\"'$`#]+)", line)
        if not m:
            errors.append(f"{path.name}:{n}: not a plain KEY=value line: {line!r}")
        elif m.group(1) in pins:
            errors.append(f"{path.name}:{n}: {m.group(1)} is pinned twice")
        else:
            pins[m.group(1)] = m.group(2)
    return pins, errors


def dig(doc, dotted):
    for key in dotted.split("."):
        doc = doc[key]
    return doc


def shim_sum_checks(where: str, sums: dict, pins: dict) -> list:
    """One check per architecture of the pinned shim's checksums; `where` names the place, with
    {arch} for the architecture."""
    return [(where.format(arch=arch), sums.get(arch), f"CONTAINERD_SHIM_SPIN_SHA256_{arch.upper()}",
             pins[f"CONTAINERD_SHIM_SPIN_SHA256_{arch.upper()}"]) for arch in ("x86_64", "aarch64")]


def terraform_defaults(tfdocs, tfdir):
    # An explicit config: terraform-docs would otherwise pick up terraform/.terraform-docs.yml
    # and inject JSON into the README.
    with tempfile.NamedTemporaryFile("w", suffix=".yml") as cfg:
        cfg.write("formatter: json\n")
        cfg.flush()
        out = subprocess.run(
            [tfdocs, "--config", cfg.name, str(tfdir)], check=True, capture_output=True, text=True
        ).stdout
    doc = json.loads(out)
    return {i["name"]: i["default"] for i in doc["inputs"]}, {r["name"]: r["version"] for r in doc["requirements"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--terraform-docs", required=True)
    ap.add_argument("root", nargs="?", default=".")
    args = ap.parse_args()
    root = pathlib.Path(args.root)
    pins, errors = read_pins(root / "pins.env")
    if errors:
        sys.exit("\n".join(errors))

    # MINIO_IMAGE_TAG names the MinIO commit: <commit date>-<12-hex commit> of its pseudo-version.
    m = re.fullmatch(r"v0\.0\.0-(\d{4})(\d\d)(\d\d)\d{6}-([0-9a-f]{12})", pins["MINIO_VERSION"])
    derived = f"{m.group(1)}.{m.group(2)}.{m.group(3)}-{m.group(4)}" if m else None
    if derived != pins["MINIO_IMAGE_TAG"]:
        errors.append(
            f"pins.env: MINIO_IMAGE_TAG={pins['MINIO_IMAGE_TAG']} does not name "
            f"MINIO_VERSION={pins['MINIO_VERSION']} (expected {derived})"
        )

    checks = []  # (where, actual, pin name, expected)
    charts = root / "charts"
    for chart, key, pin in [
        ("gif-minio", "image.tag", "MINIO_IMAGE_TAG"),
        ("gif-minio", "seeder.image.tag", "SEEDER_IMAGE_TAG"),
        ("gif-gateway", "image.tag", "APP_IMAGE_TAG"),
        ("gif-gateway", "spinkube.shim.version", "CONTAINERD_SHIM_SPIN_VERSION"),
    ]:
        values = yaml.safe_load((charts / chart / "values.yaml").read_text())
        checks.append((f"charts/{chart}/values.yaml {key}", dig(values, key), pin, pins[pin]))
    # The shim's checksums are keyed by version (a version bump without them fails the render):
    # the pinned version's entry must hold the pinned checksums.
    shim_version = pins["CONTAINERD_SHIM_SPIN_VERSION"]
    gateway_values = yaml.safe_load((charts / "gif-gateway" / "values.yaml").read_text())
    shim_sums = (dig(gateway_values, "spinkube.shim.sha256") or {}).get(shim_version) or {}
    checks += shim_sum_checks(f"charts/gif-gateway/values.yaml spinkube.shim.sha256.{shim_version}.{{arch}}",
                              shim_sums, pins)
    for chart, pin in [("gif-minio", "MINIO_IMAGE_TAG"), ("gif-gateway", "APP_IMAGE_TAG")]:
        meta = yaml.safe_load((charts / chart / "Chart.yaml").read_text())
        checks.append((f"charts/{chart}/Chart.yaml appVersion", meta["appVersion"], pin, pins[pin]))

    inputs, requirements = terraform_defaults(args.terraform_docs, root / "terraform")
    for var, pin, expected in [
        ("cert_manager_chart_version", "CERT_MANAGER_CHART_VERSION", None),
        ("kube_prometheus_stack_chart_version", "KUBE_PROMETHEUS_STACK_CHART_VERSION", None),
        ("prometheus_adapter_chart_version", "PROMETHEUS_ADAPTER_CHART_VERSION", None),
        ("runtime_class_manager_chart_version", "RUNTIME_CLASS_MANAGER_CHART_VERSION", None),
        # The chart and the CRD release asset are named without the Go module's leading v.
        ("spin_operator_version", "SPIN_OPERATOR_VERSION", pins["SPIN_OPERATOR_VERSION"].removeprefix("v")),
        ("containerd_shim_spin_version", "CONTAINERD_SHIM_SPIN_VERSION", None),
        ("app_image.tag", "APP_IMAGE_TAG", None),
        ("minio_image.tag", "MINIO_IMAGE_TAG", None),
        ("seeder_image.tag", "SEEDER_IMAGE_TAG", None),
    ]:
        checks.append((f"terraform/variables.tf {var} default", dig(inputs, var), pin, expected or pins[pin]))
    tf_sums = (inputs.get("containerd_shim_spin_sha256") or {}).get(shim_version) or {}
    checks += shim_sum_checks(
        f"terraform/variables.tf containerd_shim_spin_sha256[\"{shim_version}\"].{{arch}} default", tf_sums, pins)
    crd_version = pins["SPIN_OPERATOR_VERSION"].removeprefix("v")
    checks.append(
        (
            f"terraform/variables.tf spin_operator_crds_sha256[\"{crd_version}\"] default",
            (inputs.get("spin_operator_crds_sha256") or {}).get(crd_version),
            "SPIN_OPERATOR_CRDS_SHA256",
            pins["SPIN_OPERATOR_CRDS_SHA256"],
        )
    )
    for key in sorted(k for k in pins if re.fullmatch(r"TF_PROVIDER_[A-Z0-9]+_VERSION", k)):
        name = key.removeprefix("TF_PROVIDER_").removesuffix("_VERSION").lower()
        checks.append((f"terraform/versions.tf {name} version", requirements.get(name), key, f"= {pins[key]}"))

    # The e2e wrapper modules (go.mod files cannot read pins.env either).
    for gomod, module, pin in [("e2e/kube/go.mod", pins["K8S_MODULE"], "K8S_VERSION"),
                               ("e2e/etcd/go.mod", "go.etcd.io/etcd/server/v3", "ETCD_VERSION")]:
        text = (root / gomod).read_text() if (root / gomod).is_file() else ""
        found = re.search(rf"^\s*(?:require\s+)?{re.escape(module)} (v\S+)", text, re.M)
        checks.append((f"{gomod} requires {module}", found and found.group(1), pin, pins[pin]))

    # Pins quoted in prose: module@version, "prometheus-operator vX", "adapter vX".
    mentions = [(re.escape(pins[k]) + r"@(v[0-9][0-9A-Za-z.+-]*[0-9A-Za-z])", k.replace("_MODULE", "_VERSION"))
                for k in pins if k.endswith("_MODULE") and k.replace("_MODULE", "_VERSION") in pins]
    mentions += [(r"prometheus-operator (v\d+\.\d+\.\d+)", "PROM_OPERATOR_VERSION"),
                 (r"\badapter (v\d+\.\d+\.\d+)", "ADAPTER_VERSION")]
    prose = [p for d in (charts, root / "terraform", root / "docs") if d.is_dir() for p in d.rglob("*")
             if p.is_file() and ".terraform" not in p.parts] + [p for p in [root / "README.md"] if p.is_file()]
    for path in sorted(prose):
        text = path.read_text(errors="replace")
        for pattern, pin in mentions:
            for found in re.finditer(pattern, text):
                line = text.count("\n", 0, found.start()) + 1
                checks.append((f"{path.relative_to(root)}:{line} mentions", found.group(1), pin, pins[pin]))

    for where, actual, pin, expected in checks:
        if actual != expected:
            errors.append(f"{where} is {actual!r}, pins.env {pin} says {expected!r}")
    if errors:
        sys.exit("pins: disagreements with pins.env:\n  " + "\n  ".join(errors))
    print(f"pins: {len(checks)} chart/terraform defaults and mentions agree with pins.env")


if __name__ == "__main__":
    main()
