"""Collects the groups of every PrometheusRule in the rendered manifests into one promtool rule file.

OUT RENDERED_YAML...

Run by scripts/k8s/check.sh."""
import sys

import yaml

groups = []
for f in sys.argv[2:]:
    for d in yaml.safe_load_all(open(f)):
        if d and d["kind"] == "PrometheusRule":
            groups += d["spec"]["groups"]
yaml.safe_dump({"groups": groups}, open(sys.argv[1], "w"), sort_keys=False)
