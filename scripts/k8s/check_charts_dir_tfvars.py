"""The tfvars of k8s-check's platform_charts_dir pass: UPSTREAM_DIR VALUES_DIR -> JSON on stdout.

The e2e's own inputs: the packaged charts, cert-manager left out (no packaged copy here), and each
VALUES_DIR/<release>.yaml as that release's platform_values_overrides. Run by scripts/k8s/check.sh."""
import json
import os
import sys

d = sys.argv[2]
print(json.dumps({"platform_charts_dir": sys.argv[1], "platform_components": {"cert_manager": False},
                  "platform_values_overrides": {f[:-5]: open(os.path.join(d, f)).read()
                                                for f in sorted(os.listdir(d)) if f.endswith(".yaml")}}))
