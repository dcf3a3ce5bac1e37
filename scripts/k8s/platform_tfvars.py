"""Terraform variables for the platform from packaged charts, as JSON on stdout:

    python3 scripts/k8s/platform_tfvars.py CHARTS_DIR VALUES_DIR [RELEASE_OFF...]

platform_charts_dir = CHARTS_DIR, each VALUES_DIR/<release>.yaml as that release's
platform_values_overrides, and platform_components with each RELEASE_OFF switched off. The e2e
(e2e/run.sh) and k8s-check's platform_charts_dir pass (scripts/k8s/check.sh) both write theirs
with it, so the offline check renders what the e2e installs."""
import json
import os
import sys

charts, values, off = sys.argv[1], sys.argv[2], sys.argv[3:]
print(json.dumps({"platform_charts_dir": charts, "platform_components": {name: False for name in off},
                  "platform_values_overrides": {f[:-5]: open(os.path.join(values, f)).read()
                                                for f in sorted(os.listdir(values)) if f.endswith(".yaml")}}))
