"""The gif-minio chart's generated root password is random (40 characters), not a fixed default: RENDERED_YAML.

Run by scripts/k8s/check.sh."""
import base64
import sys

import yaml

docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
s = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Secret"}
pw = base64.b64decode(s["gif-minio-root"]["data"]["rootPassword"]).decode()
sk = base64.b64decode(s["gif-minio-app"]["data"]["secretKey"]).decode()
assert len(pw) == 40 and len(sk) == 40 and pw != sk, "generated credentials have the wrong shape"
for d in s.values():
    assert d["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
