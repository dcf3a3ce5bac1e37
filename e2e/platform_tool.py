"""The small programs e2e/platform.sh runs (standard library only, the system's python3):

  render PLAT_DIR       the RuntimeClass stand-in with RUNTIME_CLASS / RUNTIME_HANDLER (from the
                        environment) filled in; fails on any placeholder left
  cert-manager-crds DIR cert-manager's CRDs from its module's deploy/crds (DIR), as its chart
                        renders them with crds.enabled: the files are the chart's templates, whose
                        only template parts are the `app`, `app.kubernetes.io/name` and
                        `app.kubernetes.io/instance` labels and comments; fails on any other
"""
import os
import re
import sys

STAND_INS = ("runtimeclass.yaml",)
PART_OF = "app.kubernetes.io/part-of: e2e-platform"


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


# The label values the chart's templates give them for release "cert-manager" (Terraform's name).
LABEL = re.compile(r"^(\s+)(app|app\.kubernetes\.io/name|app\.kubernetes\.io/instance): "
                   r"'\{\{ (template \"cert-manager\.name\" \.|\.Release\.Name) \}\}'$")


def cert_manager_crds(crd_dir):
    files = sorted(f for f in os.listdir(crd_dir) if f.startswith("crd-") and f.endswith(".yaml"))
    if not files:
        sys.exit(f"no crd-*.yaml in {crd_dir}")
    docs = []
    for name in files:
        lines = []
        for line in open(os.path.join(crd_dir, name)).read().splitlines():
            m = LABEL.match(line)
            if m:
                lines.append(f"{m.group(1)}{m.group(2)}: cert-manager")
                if m.group(2) == "app":  # the e2e's own label, as on its other stand-ins
                    lines.append(f"{m.group(1)}{PART_OF}")
            elif "{{" in line and line.lstrip().startswith("#"):
                continue  # a template directive in a comment: crds.enabled, crds.keep, labels
            elif "{{" in line:
                sys.exit(f"{name}: a template part this renderer does not know: {line.strip()}")
            else:
                lines.append(line)
        docs.append("\n".join(lines).strip("\n") + "\n")
    sys.stdout.write("---\n".join(docs))


COMMANDS = {"render": render, "cert-manager-crds": cert_manager_crds}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    COMMANDS[sys.argv[1]](*sys.argv[2:])
