"""The rendered SpinApp's variables (name -> variable, as v) satisfy a Python expression: SPINAPP_YAML EXPRESSION.

Run by scripts/k8s/check.sh."""
import json
import sys

import yaml

v = {x["name"]: x for x in yaml.safe_load(open(sys.argv[1]))["spec"]["variables"]}
assert eval(sys.argv[2], {"v": v}), f"not {sys.argv[2]}: {json.dumps(v, indent=1)}"
