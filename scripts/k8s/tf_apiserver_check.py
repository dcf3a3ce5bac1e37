#!/usr/bin/env python3
"""Assertions of scripts/k8s/tf-apiserver-check.sh (which starts the API server); see there."""
import argparse
import base64
import functools
import http.server
import json
import os
import pathlib
import re
import secrets
import shutil
import subprocess
import sys
import threading

ROOT = pathlib.Path(__file__).resolve().parents[2]
FAILED = []


def ok(what):
    print(f"  ok    {what}")


def ko(what, detail=""):
    FAILED.append(what)
    print(f"  FAIL  {what}")
    for line in detail.strip().splitlines()[-30:]:
        print(f"        {line}")


class Copy:
    """A copy of terraform/ (and the charts beside it) with its own state and variables."""

    def __init__(self, args, name, **tfvars):
        self.args, self.dir = args, pathlib.Path(args.work) / name / "terraform"
        shutil.copytree(
            ROOT / "terraform",
            self.dir,
            ignore=shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", "*.tfstate*"),
        )
        (self.dir.parent / "charts").symlink_to(ROOT / "charts")
        ctx = subprocess.run([args.kubectl, "--kubeconfig", args.kubeconfig, "config", "current-context"],
                             check=True, capture_output=True, text=True).stdout.strip()
        self.tfvars({"kubeconfig_path": args.kubeconfig, "kube_context": ctx, "install_platform": False, **tfvars})
        self.run("init", "-backend=false", "-input=false", check=True)

    def tfvars(self, values):
        (self.dir / "check.auto.tfvars.json").write_text(json.dumps(values))

    def run(self, *argv, password=None, check=False):
        env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
        env.update(TF_CLI_CONFIG_FILE=self.args.tfrc, TF_IN_AUTOMATION="1")
        if password is not None:
            env["TF_VAR_minio_root_password"] = password
        p = subprocess.run([self.args.terraform, f"-chdir={self.dir}", *argv, "-no-color"],
                           env=env, capture_output=True, text=True)
        if check and p.returncode:
            raise SystemExit(f"terraform {' '.join(argv)} failed:\n{p.stdout}\n{p.stderr}")
        return p

    def apply_secret(self, password):
        return self.run(
            "apply", "-auto-approve", "-input=false", "-target=kubernetes_secret_v1.minio_root", password=password
        )

    def stored(self):
        """Everything Terraform wrote to disk: the state and a saved plan rendered as JSON."""
        return "\n".join(p.read_text(errors="replace") for p in self.dir.glob("*.tfstate*"))

    def plan_json(self, password):
        p = self.run(
            "plan", "-input=false", "-target=kubernetes_secret_v1.minio_root", "-out=check.tfplan", password=password
        )
        if p.returncode:
            return None, p.stdout + p.stderr
        return self.run("show", "-json", "check.tfplan", check=True).stdout, ""


def leaks(text, password):
    """The forms in which a password would show up in a state or plan."""
    forms = [password, base64.b64encode(password.encode()).decode()]
    return [f for f in forms if f in text]


def secret_data(args, name="gif-minio-root-tf"):
    out = subprocess.run(
        [args.kubectl, "--kubeconfig", args.kubeconfig, "-n", "gif", "get", "secret", name, "-o", "json"],
        capture_output=True,
        text=True,
    )
    if out.returncode:
        return {}
    return {k: base64.b64decode(v).decode() for k, v in json.loads(out.stdout).get("data", {}).items()}


def check_write_only(args):
    c = Copy(args, "write-only", minio_root_password_revision=1)
    pw1 = "check-" + secrets.token_urlsafe(24)
    p = c.apply_secret(pw1)
    if p.returncode:
        return ko("write-only root password: apply of the Secret", p.stdout + p.stderr)
    if secret_data(args) != {"rootUser": "minio-root", "rootPassword": pw1}:
        return ko(
            "write-only root password: the Secret holds the given password", json.dumps(sorted(secret_data(args)))
        )
    if leaks(c.stored(), pw1):
        return ko("write-only root password: the state holds no copy of it")
    plan, err = c.plan_json(pw1)
    if plan is None or leaks(plan, pw1):
        return ko("write-only root password: a saved plan holds no copy of it", err)
    changes = [r for r in json.loads(plan).get("resource_changes", []) if r["change"]["actions"] != ["no-op"]]
    if changes:
        return ko(
            "write-only root password: a second plan with the same revision changes nothing", json.dumps(changes)[:2000]
        )
    # Rotation: a new password with a new revision reaches the Secret, and still not the state.
    pw2 = "check-" + secrets.token_urlsafe(24)
    c.tfvars({**json.loads((c.dir / "check.auto.tfvars.json").read_text()), "minio_root_password_revision": 2})
    p = c.apply_secret(pw2)
    if p.returncode or secret_data(args).get("rootPassword") != pw2:
        return ko("write-only root password: revision 2 writes the new password", p.stdout + p.stderr)
    if leaks(c.stored(), pw1) or leaks(c.stored(), pw2):
        return ko("write-only root password: after a rotation the state holds neither password")
    ok(
        "root password: reaches the Secret, never the plan or the state "
        "(apply, saved plan, no-op replan, rotation to revision 2)"
    )


def check_leak_detected(args):
    """The assertion above must fail for the configuration before the fix: the password in `data`."""
    c = Copy(args, "with-data", minio_root_password_revision=1, namespace="gif-data")
    main = (c.dir / "main.tf").read_text()
    main = re.sub(r"data_wo = \{", "data = {", main)
    main = re.sub(r"\n\s*data_wo_revision\s*=.*", "", main)
    (c.dir / "main.tf").write_text(main)
    variables = (c.dir / "variables.tf").read_text()
    (c.dir / "variables.tf").write_text(re.sub(r"\n\s*ephemeral\s*=\s*true", "", variables))
    pw = "check-" + secrets.token_urlsafe(24)
    p = c.apply_secret(pw)
    if p.returncode:
        return ko("self-test: the password in `data` (before write-only) is applied", p.stdout + p.stderr)
    if not leaks(c.stored(), pw):
        return ko("self-test: the leak check finds the password that `data` puts into the state")
    ok("self-test: with the password in `data` (before the fix) the same check finds it in the state")


def check_validations(args):
    c = Copy(args, "validations")
    pw = "check-" + secrets.token_urlsafe(24)
    cases = [
        ("a password without a revision", {}, pw, "minio_root_password_revision is 0"),
        ("a revision without the password", {"minio_root_password_revision": 1}, None,
         "needs minio_root_password on every plan"),
        ("a shim version without checksums", {"containerd_shim_spin_version": "v0.0.1"}, None,
         "no checksums for containerd_shim_spin_version v0.0.1"),
        ("a malformed shim checksum", {"containerd_shim_spin_sha256": {"v0.25.1": {"x86_64": "1755fbeb"}}}, None,
         "each checksum 64 lowercase hex digits"),
        ("a CORS origin with a path", {"gateway_cors_allowed_origins": "https://a.example/path"}, None,
         "gateway_cors_allowed_origins must be empty"),
        ("a default Cache-Control of 257 characters", {"gateway_default_cache_control": "max-age=" + "9" * 249}, None,
         "gateway_default_cache_control must be a Cache-Control value"),
        ("a default Cache-Control with CR/LF", {"gateway_default_cache_control": "max-age=60\r\nx-evil: 1"}, None,
         "gateway_default_cache_control must be a Cache-Control value"),
        ("a non-ASCII default Cache-Control", {"gateway_default_cache_control": "public, caf\u00e9"}, None,
         "gateway_default_cache_control must be a Cache-Control value"),
        ("a spin-operator version without a CRD checksum", {"spin_operator_version": "0.0.1"}, None,
         "no checksum (64 lowercase hex digits) for spin_operator_version 0.0.1"),
        ("both platform_charts_dir and platform_chart_repository",
         {"platform_charts_dir": "/srv/charts", "platform_chart_repository": "oci://registry.example/charts"}, None,
         "Set platform_charts_dir or platform_chart_repository, not both"),
        ("a platform chart repository that is no URL", {"platform_chart_repository": "registry.example/charts"}, None,
         "platform_chart_repository must be empty or an http(s):// or oci:// URL"),
        ("values overrides for a release that does not exist", {"platform_values_overrides": {"grafana": "a: 1\n"}},
         None, "keys must be platform releases"),
        ("values overrides that are no YAML mapping",
         {"platform_values_overrides": {"kube_prometheus_stack": "- a\n- b\n"}}, None,
         "each value must be a YAML mapping of Helm values"),
        ("a spin-operator CRD URL that is no URL", {"spin_operator_crds_url": "/tmp/crds.yaml"}, None,
         "spin_operator_crds_url must be empty or an http(s):// URL"),
        ("a shim base URL with a trailing slash", {"containerd_shim_spin_base_url": "https://mirror.example/shim/"},
         None, "containerd_shim_spin_base_url must be an http(s):// URL without a trailing slash"),
    ]
    base = json.loads((c.dir / "check.auto.tfvars.json").read_text())
    for what, extra, password, expect in cases:
        c.tfvars({**base, **extra})
        # Untargeted: -target leaves out the validations of variables its targets do not use.
        p = c.run("plan", "-input=false", password=password)
        out = re.sub(r"\s+", " ", p.stdout + p.stderr).replace("│ ", "")
        if p.returncode == 0 or expect not in out:
            ko(f"terraform plan refuses {what} (expected: {expect})", p.stdout + p.stderr)
        else:
            ok(f"terraform plan refuses {what}")
    c.tfvars(base)
    p = c.run("plan", "-input=false", "-target=kubernetes_namespace_v1.app")
    if p.returncode:
        ko("terraform plan accepts the defaults", p.stdout + p.stderr)
    else:
        ok("terraform plan accepts the defaults")


def check_crd_download(args):
    asset = b"".join((pathlib.Path(args.crd_dir) / f).read_bytes() for f in sorted(os.listdir(args.crd_dir)))
    served = {"body": asset}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", str(len(served["body"])))
            self.end_headers()
            self.wfile.write(served["body"])

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        c = Copy(args, "crd-download")
        c.tfvars({**json.loads((c.dir / "check.auto.tfvars.json").read_text()), "install_platform": True,
                  "spin_operator_crds_url": f"http://127.0.0.1:{srv.server_port}/spin-operator.crds.yaml"})
        plan = functools.partial(
            c.run, "plan", "-input=false", "-refresh=false", "-target=data.http.spin_operator_crds"
        )
        p = plan()
        if p.returncode:
            ko(
                "the spin-operator CRD asset (config/crd/bases concatenated) passes the pinned sha256",
                p.stdout + p.stderr,
            )
        else:
            ok("the spin-operator CRD asset (config/crd/bases concatenated) passes the pinned sha256")
        served["body"] = asset + b"# changed\n"
        p = plan()
        out = re.sub(r"\s+", " ", p.stdout + p.stderr).replace("│ ", "")
        if p.returncode == 0 or "not the pinned" not in out:
            ko("a changed spin-operator CRD asset is refused by its postcondition", p.stdout + p.stderr)
        else:
            ok("a changed spin-operator CRD asset is refused by its postcondition")
    finally:
        srv.shutdown()


def check_crd_file(args):
    """platform_charts_dir: the CRDs come from spin-operator.crds.yaml there, under the same pin."""
    d = pathlib.Path(args.work) / "charts-dir"
    d.mkdir(parents=True, exist_ok=True)
    asset = b"".join((pathlib.Path(args.crd_dir) / f).read_bytes() for f in sorted(os.listdir(args.crd_dir)))
    c = Copy(args, "crd-file")
    c.tfvars({**json.loads((c.dir / "check.auto.tfvars.json").read_text()), "install_platform": True,
              "platform_charts_dir": str(d)})
    plan = functools.partial(c.run, "plan", "-input=false", "-refresh=false",
                             "-target=terraform_data.spin_operator_crds_file")
    for body, want_ok, what in [
        (asset, True, "spin-operator.crds.yaml in platform_charts_dir passes the pinned sha256"),
        (asset + b"# changed\n", False, "a changed spin-operator.crds.yaml in platform_charts_dir is refused"),
    ]:
        (d / "spin-operator.crds.yaml").write_bytes(body)
        p = plan()
        out = re.sub(r"\s+", " ", p.stdout + p.stderr).replace("│ ", "")
        if want_ok == (p.returncode == 0) and (want_ok or "not the pinned" in out):
            ok(what)
        else:
            ko(what, p.stdout + p.stderr)
        if want_ok:
            # Their for_each once unified a for-expression with {} in a conditional, which fails
            # ("Inconsistent conditional result types") as soon as the CRDs are known: every
            # install_platform plan, yet `terraform validate` and the -target plans above pass.
            p = c.run("plan", "-input=false", "-refresh=false", "-target=kubernetes_manifest.spin_operator_crds")
            what = "terraform plans one kubernetes_manifest per spin-operator CRD (install_platform = true)"
            planned = [f'kubernetes_manifest.spin_operator_crds["{n}.core.spinkube.dev"]'
                       for n in ("spinapps", "spinappexecutors")]
            if p.returncode == 0 and all(r in p.stdout for r in planned):
                ok(what)
            else:
                ko(what, p.stdout + p.stderr)


def main():
    ap = argparse.ArgumentParser()
    for a in ("work", "terraform", "tfrc", "kubeconfig", "kubectl", "crd-dir"):
        ap.add_argument(f"--{a}", required=True)
    args = ap.parse_args()
    check_write_only(args)
    check_leak_detected(args)
    check_validations(args)
    check_crd_download(args)
    check_crd_file(args)
    sys.exit(1 if FAILED else 0)


if __name__ == "__main__":
    main()
