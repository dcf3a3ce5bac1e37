"""The small programs e2e/platform.sh runs (standard library + PyYAML, the system's python3):

  render PLAT_DIR             the stand-ins' manifests with RUNTIME_CLASS / RUNTIME_HANDLER (from the
                              environment) filled in; fails on any placeholder left
  split RENDERED NS_OUT REST  the Namespaces and everything else, into two files (a namespaced
                              object needs its Namespace first: NamespaceLifecycle admission)
  sa-kubeconfig KUBECONFIG TOKEN OUT   a copy of KUBECONFIG that authenticates with TOKEN
  deploy-args RENDERED NAME   the first container's args of Deployment NAME, one per line
"""
import os
import sys

STAND_INS = ("spin-operator.yaml", "runtimeclass.yaml")


def render(plat):
    subst = {"@RUNTIME_CLASS@": os.environ["RUNTIME_CLASS"], "@RUNTIME_HANDLER@": os.environ["RUNTIME_HANDLER"]}
    out = []
    for name in STAND_INS:
        text = open(os.path.join(plat, name)).read()
        for k, v in subst.items():
            text = text.replace(k, v)
        out.append(text)
    rendered = "\n---\n".join(t.strip("\n") + "\n" for t in out)
    left = [line for line in rendered.splitlines()
            if not line.lstrip().startswith("#") and "@" in line and "@sha256" not in line]
    if left:
        sys.exit("unfilled placeholders: %s" % left)
    sys.stdout.write(rendered)


def split(rendered, namespaces_out, rest_out):
    import yaml

    docs = [d for d in yaml.safe_load_all(open(rendered)) if d]
    yaml.safe_dump_all([d for d in docs if d["kind"] == "Namespace"], open(namespaces_out, "w"))
    yaml.safe_dump_all([d for d in docs if d["kind"] != "Namespace"], open(rest_out, "w"))


def sa_kubeconfig(kubeconfig, token, out):
    import yaml

    c = yaml.safe_load(open(kubeconfig))
    c["users"][0]["user"] = {"token": token}
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # it holds a token
    with os.fdopen(fd, "w") as f:
        f.write(yaml.safe_dump(c))


def deploy_args(rendered, name):
    import yaml

    for d in yaml.safe_load_all(open(rendered)):
        if d and d["kind"] == "Deployment" and d["metadata"]["name"] == name:
            print("\n".join(d["spec"]["template"]["spec"]["containers"][0]["args"]))


COMMANDS = {"render": render, "split": split, "sa-kubeconfig": sa_kubeconfig, "deploy-args": deploy_args}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    COMMANDS[sys.argv[1]](*sys.argv[2:])
