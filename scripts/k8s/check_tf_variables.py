"""Every Terraform variable has a description, and the inputs have validations: TERRAFORM_DIR.

Run by scripts/k8s/check.sh."""
import pathlib
import re
import sys

src = (pathlib.Path(sys.argv[1]) / "variables.tf").read_text()
blocks = re.findall(r'variable "([^"]+)" \{(.*?)\n\}', src, re.S)
assert len(blocks) >= 10, blocks
for name, body in blocks:
    assert "description" in body, f"{name}: no description"
    # A bool (or an object of bools only) is fully checked by its type; everything else needs a
    # validation block.
    bools = re.search(r"type\s*=\s*bool", body) or re.fullmatch(
        r"object\(\{(\s*\w+\s*=\s*(optional\(bool(,\s*(true|false))?\)|bool))+\s*\}\)",
        (re.search(r"type\s*=\s*(object\(\{.*?\}\))", body, re.S) or [None, ""])[1])
    assert "validation" in body or bools, f"{name}: no validation"
    assert "type" in body, f"{name}: no type"
assert 'sensitive   = true' in src, "minio_root_password must be sensitive"
pw = dict(blocks)["minio_root_password"]
assert re.search(r"ephemeral\s*=\s*true", pw), "minio_root_password must be ephemeral (never in plan or state)"
main = (pathlib.Path(sys.argv[1]) / "main.tf").read_text()
for r in re.findall(r'resource "helm_release" "([^"]+)" \{(.*?)\n\}', main, re.S):
    if "../charts/" not in r[1]:
        assert re.search(r'version\s*=\s*var\.', r[1]), f"helm_release {r[0]} is not pinned to a version"
        assert "repository" in r[1], f"helm_release {r[0]} has no repository"
