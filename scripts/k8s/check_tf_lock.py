"""A committed Terraform lock carries versions.tf's providers with the registry's checksums.

VERSIONS_TF LOCK MIRROR_LOCK.

Run by scripts/k8s/check.sh."""
import re
import sys

versions, lock, mirror = (open(p).read() for p in sys.argv[1:4])
def blocks(text):
    return {n: (re.search(r'version\s*=\s*"([^"]+)"', b).group(1), set(re.findall(r'"((?:h1|zh):[^"]+)"', b)))
            for n, b in re.findall(r'provider "registry\.terraform\.io/hashicorp/([\w-]+)" \{(.*?)\n\}', text, re.S)}
pins = dict(re.findall(r'source\s*=\s*"hashicorp/([\w-]+)"\s*\n\s*version\s*=\s*"=\s*([0-9.]+)"', versions))
got, built = blocks(lock), blocks(mirror)
errors = []
if {n: v for n, (v, _) in got.items()} != pins:
    got_versions = sorted((n, v) for n, (v, _) in got.items())
    errors.append(f"providers/versions {got_versions} != versions.tf {sorted(pins.items())}")
for n, (_, hashes) in got.items():
    if hashes & built.get(n, (None, set()))[1]:
        errors.append(f"{n}: lists the checksum of the provider built from source in the local mirror")
    if not any(h.startswith("zh:") for h in hashes):
        errors.append(f"{n}: no zh: checksums (they come only from the registry's signed SHA256SUMS)")
assert not errors, "; ".join(errors)
