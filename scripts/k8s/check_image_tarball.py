"""An image tarball: docker-save layout, config platform, entrypoint, non-root, binary arch: TAR ARCH.

Run by scripts/k8s/check.sh."""
import io
import json
import sys
import tarfile

t = tarfile.open(sys.argv[1])
arch = sys.argv[2]
m = json.load(t.extractfile("manifest.json"))
assert m[0]["RepoTags"] == [f"gif-gateway/smoke:{arch}"], m
cfg = json.load(t.extractfile(m[0]["Config"]))
assert cfg["os"] == "linux" and cfg["architecture"] == arch, cfg
assert cfg["config"]["Entrypoint"] == ["/usr/bin/replica-sync"] and cfg["config"]["User"] == "65532:65532"
layer = tarfile.open(fileobj=io.BytesIO(t.extractfile(m[0]["Layers"][0]).read()))
elf = layer.extractfile("usr/bin/replica-sync").read(20)
machine = int.from_bytes(elf[18:20], "little")
assert elf[:4] == b"\x7fELF" and machine == {"amd64": 62, "arm64": 183}[arch], machine
