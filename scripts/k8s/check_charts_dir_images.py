"""The platform_charts_dir pass's own checks: OUT_DIR UPSTREAM_DIR, with OUT_DIR holding the
rendered releases (releases.json, <release>.yaml) and chart-refs.txt (`e2e/platform.sh refs`).

Every upstream release installs a .tgz file from UPSTREAM_DIR, and every image the e2e's values
leave in kube-prometheus-stack, prometheus-adapter and spin-operator is one the e2e builds.
Prints ok:/FAIL: lines for scripts/k8s/check.sh."""
import json
import os
import re
import sys

out, upstream = sys.argv[1:3]
rel = json.load(open(os.path.join(out, "releases.json")))["releases"]
for k, r in sorted(rel.items()):
    if r["count"] and r["repository"] is None and not r["chart"].startswith("./"):
        ok = os.path.dirname(r["chart"]) == os.path.abspath(upstream) and os.path.isfile(r["chart"])
        print(("ok: " if ok else "FAIL: ")
              + f"[platform_charts_dir] helm_release.{k} installs {r['chart']}, a file there")
built = set(open(os.path.join(out, "chart-refs.txt")).read().split())
for k in ("kube_prometheus_stack", "prometheus_adapter", "spin_operator"):
    text = open(os.path.join(out, f"{k}.yaml")).read()
    # Pod images, the Prometheus CR's image and the operator's config-reloader flag.
    refs = set(re.findall(r'^\s*(?:- )?image: "?([^"\s]+)"?\s*$', text, re.M))
    refs |= set(re.findall(r"--prometheus-config-reloader=(\S+)", text))
    missing = sorted(refs - built)
    print(("ok: " if refs and not missing else "FAIL: ")
          + f"[e2e values] helm_release.{k}: every image is built by e2e/platform.sh images ({len(refs)})")
    for m in missing:
        print(f"    {m}: not built (build it, or override it in e2e/platform/values/{k}.yaml)")
