"""Rewrites e2e/kube/go.mod for a Kubernetes version (e2e/tools.sh bump-kube): GO_MOD VERSION STAGING_MODULE..."""
import re
import sys

path, ver, staging = sys.argv[1], sys.argv[2], sys.argv[3:]
text = open(path).read()
header = text[:re.search(r"^module ", text, re.M).start()]   # keep the explanatory comment block
tools = re.search(r"^tool \((.*?)^\)", text, re.S | re.M)
BINARIES = "kube-apiserver kube-controller-manager kube-proxy kube-scheduler kubectl kubelet kubeadm".split()
tools = tools.group(1) if tools else "".join("\tk8s.io/kubernetes/cmd/%s\n" % b for b in sorted(BINARIES))
staged = "v0." + ver[len("v1."):]
out = header + "module local/e2e/kube\n\ngo 1.25.0\n\ntool (" + tools + ")\n\n"
out += "require k8s.io/kubernetes %s\n\nreplace (\n" % ver
out += "".join("\t%s => %s %s\n" % (m, m, staged) for m in staging) + ")\n"
open(path, "w").write(out)
