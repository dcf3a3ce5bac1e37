#!/usr/bin/env python3
"""A minimal stand-in for kube-apiserver, enough for prometheus-adapter to run outside a cluster:
legacy discovery (/api, /apis, /api/v1) so its RESTMapper maps the `namespace` and `pod` labels
to resources, pod listing for a namespace (the adapter lists pods matching an HPA's selector),
and TokenReview/SubjectAccessReview answers for delegated authn/authz.

usage: fake_kube_api.py PORT NAMESPACE POD [POD...]      (listens on 127.0.0.1 only)
"""
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

port, namespace, pods = int(sys.argv[1]), sys.argv[2], sys.argv[3:]

RESOURCES = {
    "kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "v1",
    "resources": [
        {"name": "pods", "singularName": "pod", "namespaced": True, "kind": "Pod", "verbs": ["get", "list", "watch"]},
        {"name": "namespaces", "singularName": "namespace", "namespaced": False, "kind": "Namespace", "verbs": ["get", "list", "watch"]},
        {"name": "services", "singularName": "service", "namespaced": True, "kind": "Service", "verbs": ["get", "list", "watch"]},
        {"name": "nodes", "singularName": "node", "namespaced": False, "kind": "Node", "verbs": ["get", "list", "watch"]},
    ],
}


def pod(name):
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "uid": f"uid-{name}", "resourceVersion": "1",
                         "labels": {"app.kubernetes.io/component": "replica"}},
            "spec": {"containers": [{"name": "minio", "image": "x"}]}, "status": {"phase": "Running"}}


class H(BaseHTTPRequestHandler):
    def send(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        p = urlparse(self.path).path.rstrip("/")
        if p == "/api":
            return self.send(200, {"kind": "APIVersions", "versions": ["v1"],
                                   "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": f"127.0.0.1:{port}"}]})
        if p == "/apis":
            return self.send(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": []})
        if p == "/api/v1":
            return self.send(200, RESOURCES)
        if p == f"/api/v1/namespaces/{namespace}/pods":
            return self.send(200, {"apiVersion": "v1", "kind": "PodList", "metadata": {"resourceVersion": "1"},
                                   "items": [pod(n) for n in pods]})
        if p.startswith("/api/v1/namespaces/") and p.endswith("/pods"):
            return self.send(200, {"apiVersion": "v1", "kind": "PodList", "metadata": {"resourceVersion": "1"}, "items": []})
        if p == "/version":
            return self.send(200, {"major": "1", "minor": "34", "gitVersion": "v1.34.4"})
        return self.send(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404})

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        req = json.loads(self.rfile.read(n) or b"{}")
        if self.path.startswith("/apis/authentication.k8s.io/"):
            req["status"] = {"authenticated": False}
            return self.send(201, req)
        if self.path.startswith("/apis/authorization.k8s.io/"):
            req["status"] = {"allowed": True, "reason": "fake_kube_api allows everything"}
            return self.send(201, req)
        return self.send(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 404})

    def log_message(self, fmt, *args):
        sys.stderr.write("fake-kube-api: " + fmt % args + "\n")


srv = ThreadingHTTPServer(("127.0.0.1", port), H)
threading.Thread(target=srv.serve_forever, daemon=True).start()
print(f"fake kube-apiserver on 127.0.0.1:{port}", flush=True)
try:
    threading.Event().wait()
except KeyboardInterrupt:
    pass
