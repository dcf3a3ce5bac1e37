"""The documents of a rendered manifest file but the Shims (no CRD for them on the dry-run API server): FILE."""
import sys

import yaml

docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d.get("kind") != "Shim"]
print(yaml.safe_dump_all(docs))
