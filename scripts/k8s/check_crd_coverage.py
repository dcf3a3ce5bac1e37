# ruff: noqa: E501 -- its asserts read as one line each, as they did inline in check.sh
"""Every kind covered by a CRD schema was really validated, and the Shim verifies each arch's download: RENDERED_YAML...

Run by scripts/k8s/check.sh."""
import re
import sys

import yaml

kinds = {d["kind"] for f in sys.argv[1:] for d in yaml.safe_load_all(open(f)) if d}
need = {"SpinApp", "SpinAppExecutor", "ServiceMonitor", "PrometheusRule", "HorizontalPodAutoscaler",
        "StatefulSet", "Deployment", "Service", "Secret", "NetworkPolicy", "PodDisruptionBudget", "Job", "Shim"}
missing = need - kinds
assert not missing, f"rendered charts lack {missing}"
shims = [d for f in sys.argv[1:] for d in yaml.safe_load_all(open(f)) if d and d["kind"] == "Shim"]
for s in shims:
    sp = s["spec"]
    assert s["apiVersion"] == "runtime.spinkube.dev/v1alpha1"
    # Fields and required ones as in runtime-class-manager v0.2.0's CRD (config/crd/bases/runtime.spinkube.dev_shims.yaml):
    # the API server silently drops any other field, e.g. a misspelt runtimeOptions.
    assert set(sp) <= {"nodeSelector", "fetchStrategy", "runtimeClass", "rolloutStrategy", "containerdRuntimeOptions"}, sp
    assert {"fetchStrategy", "rolloutStrategy", "runtimeClass"} <= set(sp), sp
    assert all(isinstance(v, str) for v in sp.get("containerdRuntimeOptions", {}).values()) and all(isinstance(v, str) for v in sp.get("nodeSelector", {}).values())
    # Every download verified: one platform per architecture, each with its archive's sha256
    # (the values are compared with pins.env by check-pins.py). anonHttp has no checksum field.
    fs = sp["fetchStrategy"]
    assert set(fs) <= {"type", "platforms"}, f"fetchStrategy {sorted(fs)}: anonHttp cannot carry a checksum"
    plats = fs["platforms"]
    assert sorted(p["arch"] for p in plats) == ["aarch64", "x86_64"], plats
    for p in plats:
        assert set(p) == {"os", "arch", "location", "sha256"} and p["os"] == "linux", p
        assert re.fullmatch(r"[0-9a-f]{64}", p["sha256"]), p
        assert p["location"].startswith("https://") and p["location"].endswith(f"/containerd-shim-spin-v2-linux-{p['arch']}.tar.gz"), p
    assert sp["runtimeClass"]["name"] and sp["runtimeClass"]["handler"] and sp["rolloutStrategy"]["type"] in ("recreate", "rolling")
