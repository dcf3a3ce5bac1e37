"""The e2e cluster's stand-in for cert-manager: its SelfSigned issuer and its CA injector, only as
far as spin-operator's chart uses them. Runs on the host with the admin kubeconfig:

    KUBECONFIG=... python3 e2e/selfsigned_issuer.py [--interval SECONDS] [--once]

cert-manager itself cannot run in the e2e: the Go module proxy serves none of its cmd/ modules
(controller, webhook, cainjector), and no packaged chart of it is in ../shared/upstream-charts.
Its CRDs are the real ones (e2e/platform.sh installs them from the pinned module), so the
spin-operator chart's Issuer and Certificate are validated by their upstream schemas.

Each round, for every Certificate whose issuerRef is an Issuer or ClusterIssuer with
`spec.selfSigned` (any other issuer is reported and left alone, as a real cert-manager without
that issuer would leave it pending):
- writes Secret spec.secretName (type kubernetes.io/tls: tls.crt, tls.key and ca.crt, a
  self-signed certificate for spec.dnsNames, ca.crt = tls.crt as cert-manager's SelfSigned issuer
  does) when it is missing or was issued for other names, and marks the Certificate Ready;
- sets clientConfig.caBundle of every webhook of each Mutating/ValidatingWebhookConfiguration
  annotated cert-manager.io/inject-ca-from: <namespace>/<certificate> to that Secret's ca.crt.
CRDs and APIServices (which cainjector also serves) are not watched: nothing in the e2e asks.
The private keys only go to the API server (openssl writes them to a private temp dir); the
client key of a certificate kubeconfig goes to another, removed on exit. Needs PyYAML (the test
venv's python, .tools/venv)."""
import base64
import json
import os
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

INJECT = "cert-manager.io/inject-ca-from"
CERT_NAME = "cert-manager.io/certificate-name"
ALT_NAMES = "cert-manager.io/alt-names"


def log(msg):
    print(f"[selfsigned-issuer {time.strftime('%H:%M:%S')}] {msg}", flush=True)


class Kube:
    """The few API calls this needs, straight to the API server of KUBECONFIG's current context
    (a kubectl per call cost ~0.1 s of CPU each, every second, on a 2-core machine)."""

    def __init__(self, kubeconfig, keydir):
        import yaml

        conf = yaml.safe_load(open(kubeconfig))
        ctx = next(c["context"] for c in conf["contexts"] if c["name"] == conf["current-context"])
        cluster = next(c["cluster"] for c in conf["clusters"] if c["name"] == ctx["cluster"])
        user = next(u["user"] for u in conf["users"] if u["name"] == ctx["user"])
        self.server = cluster["server"].rstrip("/")
        self.tls = ssl.create_default_context(cadata=base64.b64decode(cluster["certificate-authority-data"]).decode())
        self.headers = {}
        if "token" in user:
            self.headers["Authorization"] = f"Bearer {user['token']}"
        else:  # kubeadm's admin kubeconfig: a client certificate; ssl wants it in files
            crt, key = os.path.join(keydir, "client.crt"), os.path.join(keydir, "client.key")
            for path, field in ((crt, "client-certificate-data"), (key, "client-key-data")):
                with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:
                    f.write(base64.b64decode(user[field]))
            self.tls.load_cert_chain(crt, key)

    def call(self, method, path, body=None, content_type="application/json"):
        req = urllib.request.Request(self.server + path, method=method, headers=dict(self.headers),
                                     data=None if body is None else json.dumps(body).encode())
        if body is not None:
            req.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(req, context=self.tls, timeout=20) as r:
                return json.load(r)
        except urllib.error.HTTPError as e:
            if e.code == 404 and method == "GET":
                return None
            raise RuntimeError(f"{method} {path}: {e.code} {e.read().decode(errors='replace')[:300].strip()}") from e
        except (urllib.error.URLError, OSError) as e:
            raise RuntimeError(f"{method} {path}: {e}") from e

    def get(self, path):
        return self.call("GET", path)

    def items(self, path):
        got = self.get(path)
        if got is None:
            raise RuntimeError(f"{path}: not served (are cert-manager's CRDs installed?)")
        return got["items"]


def self_signed(names):
    """PEM certificate and key, self-signed for the DNS names (EC P-256, 1 year)."""
    with tempfile.TemporaryDirectory() as d:
        key, crt = os.path.join(d, "tls.key"), os.path.join(d, "tls.crt")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                        "-nodes", "-days", "365", "-subj", "/", "-keyout", key, "-out", crt,
                        "-addext", "subjectAltName=" + ",".join(f"DNS:{n}" for n in names),
                        "-addext", "keyUsage=critical,digitalSignature,keyEncipherment",
                        "-addext", "extendedKeyUsage=serverAuth"],
                       check=True, capture_output=True)
        return open(crt).read(), open(key).read()


def issue(kube, cert):
    """(message or None, the CA in the Certificate's Secret or None)."""
    ns, name, spec = cert["metadata"]["namespace"], cert["metadata"]["name"], cert["spec"]
    names = spec.get("dnsNames") or []
    ref = spec.get("issuerRef", {})
    kind = ref.get("kind", "Issuer")
    issuer = kube.get(f"/apis/cert-manager.io/v1/{f'namespaces/{ns}/' if kind == 'Issuer' else ''}"
                      f"{kind.lower()}s/{ref.get('name', '')}")
    if issuer is None or "selfSigned" not in issuer.get("spec", {}):
        return f"{ns}/{name}: issuer {kind}/{ref.get('name')} is not a SelfSigned issuer here; left pending", None
    secret = kube.get(f"/api/v1/namespaces/{ns}/secrets/{spec['secretName']}")
    ann = (secret or {}).get("metadata", {}).get("annotations", {})
    if secret and ann.get(CERT_NAME) == name and ann.get(ALT_NAMES) == ",".join(names):
        return None, secret.get("data", {}).get("ca.crt")
    crt, key = self_signed(names)
    b64 = lambda s: base64.b64encode(s.encode()).decode()  # noqa: E731
    obj = {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
           "metadata": {"name": spec["secretName"], "namespace": ns,
                        "annotations": {CERT_NAME: name, ALT_NAMES: ",".join(names),
                                        "cert-manager.io/issuer-name": ref.get("name", ""),
                                        "cert-manager.io/issuer-kind": kind,
                                        "cert-manager.io/issuer-group": "cert-manager.io"}},
           "data": {"tls.crt": b64(crt), "tls.key": b64(key), "ca.crt": b64(crt)}}
    kube.call("PATCH", f"/api/v1/namespaces/{ns}/secrets/{spec['secretName']}"
              "?fieldManager=e2e-selfsigned-issuer&force=true", obj, "application/apply-patch+yaml")
    status = {"status": {"conditions": [{"type": "Ready", "status": "True", "reason": "Ready",
                                         "message": "issued by the e2e's SelfSigned stand-in",
                                         "lastTransitionTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}]}}
    kube.call("PATCH", f"/apis/cert-manager.io/v1/namespaces/{ns}/certificates/{name}/status", status,
              "application/merge-patch+json")
    return f"{ns}/{name}: issued Secret {spec['secretName']} for {', '.join(names)}", obj["data"]["ca.crt"]


def inject(kube, hooks, ca_of):
    """ca_of: "<namespace>/<certificate>" -> the CA issue() found or wrote this round."""
    done = []
    for h in hooks:
        source = h["metadata"].get("annotations", {}).get(INJECT)
        ca = ca_of.get(source)
        if not ca:
            continue  # not annotated, or its Certificate not issued (yet): the next round
        patch = [{"op": "replace" if "caBundle" in w.get("clientConfig", {}) else "add",
                  "path": f"/webhooks/{i}/clientConfig/caBundle", "value": ca}
                 for i, w in enumerate(h.get("webhooks", [])) if w.get("clientConfig", {}).get("caBundle") != ca]
        if patch:
            kube.call("PATCH", f"/apis/admissionregistration.k8s.io/v1/{h['kind'].lower()}s/{h['metadata']['name']}",
                      patch, "application/json-patch+json")
            done.append(f"{h['kind']} {h['metadata']['name']}: caBundle from {source} ({len(patch)} webhooks)")
    return done


def round_(kube, said):
    msgs, ca_of = [], {}
    for cert in kube.items("/apis/cert-manager.io/v1/certificates"):
        m, ca_of[f"{cert['metadata']['namespace']}/{cert['metadata']['name']}"] = issue(kube, cert)
        if m:
            msgs.append(m)
    for kind in ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"):
        msgs += inject(kube, [dict(h, kind=kind) for h in
                              kube.items(f"/apis/admissionregistration.k8s.io/v1/{kind.lower()}s")], ca_of)
    for m in msgs:
        if m not in said or "issued" in m or "caBundle" in m:
            log(m)
        said.add(m)


def main(argv):
    if any(a in ("-h", "--help") for a in argv) or not os.environ.get("KUBECONFIG"):
        sys.exit(__doc__)
    interval, once = 1.0, "--once" in argv
    if "--interval" in argv:
        interval = float(argv[argv.index("--interval") + 1])
    kubeconfig = os.environ["KUBECONFIG"]
    # SIGTERM (e2e/platform.sh stop) unwinds, so that the client key's temp dir is removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with tempfile.TemporaryDirectory(prefix="selfsigned-issuer.") as keydir:
        kube = Kube(kubeconfig, keydir)
        said, last_error = set(), None
        log(f"watching Certificates and webhook configurations of {kube.server} every {interval:g}s")
        while True:
            if not os.path.exists(kubeconfig):
                log(f"{kubeconfig} is gone (cluster down): exiting")
                return
            try:
                round_(kube, said)
                last_error = None
            except (RuntimeError, subprocess.CalledProcessError, KeyError, ValueError) as e:
                if once:
                    raise
                if str(e) != last_error:  # e.g. the API server restarting: said once, retried
                    log(f"error (retrying): {e}")
                last_error = str(e)
            if once:
                return
            time.sleep(interval)


if __name__ == "__main__":
    main(sys.argv[1:])
