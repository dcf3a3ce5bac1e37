#!/usr/bin/env python3
"""End-to-end test of the MinIO read-replica sidecar (images/cmd/replica-sync) with real MinIO
servers and mc, on loopback only:
  1. a replica started before the primary is seeded becomes Ready with an empty bucket and then
     receives the seeded object through the periodic mirror;
  2. a replica started after the primary holds 150 objects (one of 8 MiB) is Ready only once every
     object is there: at the first 200 from /readyz the copy is already complete (mc diff empty);
  3. the gateway's credentials can read on a replica but not write (readonly policy);
  4. deletes and new objects on the primary reach the replicas; /metrics reports 0 differences.
usage: replica_sync_e2e.py WORKDIR REPLICA_SYNC_BINARY"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.join(ROOT, ".tools", "bin")
WORK, SYNC = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
ROOT_USER, ROOT_PW = "sync-root", "sync-root-password-123"
APP_KEY, APP_SECRET = "gif-gateway", "app-secret-key-456789"
procs, T0 = [], time.time()


def log(m):
    print(f"  [replica-sync {time.time() - T0:5.1f}s] {m}", flush=True)


def port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(name, args, env):
    p = subprocess.Popen(args, stdout=open(os.path.join(WORK, name + ".log"), "w"), stderr=subprocess.STDOUT,
                         env={**os.environ, **env}, start_new_session=True)
    procs.append(p)
    return p


def minio(name):
    p = port()
    os.makedirs(os.path.join(WORK, name))
    start(name, [os.path.join(BIN, "minio"), "server", "--quiet", "--address", f"127.0.0.1:{p}",
                 "--console-address", f"127.0.0.1:{port()}", os.path.join(WORK, name)],
          {"MINIO_ROOT_USER": ROOT_USER, "MINIO_ROOT_PASSWORD": ROOT_PW, "MINIO_BROWSER": "off", "HOME": WORK})
    return p


MCENV = {"MC_CONFIG_DIR": None}


def mc(*args, alias_ports=None, check=True):
    env = {**os.environ, "MC_CONFIG_DIR": os.path.join(WORK, "mc")}
    for a, (p, user, pw) in (alias_ports or {}).items():
        env[f"MC_HOST_{a}"] = f"http://{user}:{pw}@127.0.0.1:{p}"
    r = subprocess.run([os.path.join(BIN, "mc"), "--quiet", "--no-color", *args], env=env, capture_output=True, text=True, errors="replace")
    if check and r.returncode != 0:
        raise SystemExit(f"mc {' '.join(args)}: {r.stdout}{r.stderr}")
    return r


def http(url):
    try:
        with urllib.request.urlopen(url, timeout=3) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, ""
    except Exception:
        return 0, ""


def wait(cond, what, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return
        time.sleep(0.2)
    raise SystemExit(f"timeout: {what}")


def sidecar(name, primary, local):
    creds = os.path.join(WORK, "creds")
    lp = port()
    start(name, [SYNC], {"BUCKET": "gifs", "PRIMARY_ENDPOINT": f"http://127.0.0.1:{primary}",
                         "LOCAL_ENDPOINT": f"http://127.0.0.1:{local}", "PRIMARY_ACCESS_KEY_FILE": f"{creds}/u",
                         "PRIMARY_SECRET_KEY_FILE": f"{creds}/p", "LOCAL_ACCESS_KEY_FILE": f"{creds}/u",
                         "LOCAL_SECRET_KEY_FILE": f"{creds}/p", "APP_ACCESS_KEY_FILE": f"{creds}/ak",
                         "APP_SECRET_KEY_FILE": f"{creds}/sk", "SYNC_INTERVAL": "2s", "MC_BIN": os.path.join(BIN, "mc"),
                         "MC_CONFIG_DIR": os.path.join(WORK, name + "-mc"), "LISTEN_ADDRESS": f"127.0.0.1:{lp}"})
    return lp


def metric(lp, name):
    _, body = http(f"http://127.0.0.1:{lp}/metrics")
    for line in body.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def main():
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(os.path.join(WORK, "creds"))
    for f, v in (("u", ROOT_USER), ("p", ROOT_PW), ("ak", APP_KEY), ("sk", APP_SECRET)):
        open(os.path.join(WORK, "creds", f), "w").write(v + "\n")
    P, R1, R2 = minio("primary"), minio("replica1"), minio("replica2")
    aliases = {n: (p, ROOT_USER, ROOT_PW) for n, p in (("p", P), ("r1", R1), ("r2", R2))}
    for p in (P, R1, R2):
        wait(lambda: http(f"http://127.0.0.1:{p}/minio/health/ready")[0] == 200, "minio ready")

    # 1. replica before seeding
    s1 = sidecar("sync1", P, R1)
    wait(lambda: http(f"http://127.0.0.1:{s1}/readyz")[0] == 200, "replica1 ready with an unseeded primary")
    log("replica1 Ready while the primary has no bucket yet")
    gif = os.path.join(WORK, "animation.gif")
    open(gif, "wb").write(b"GIF89a" + os.urandom(4096))
    mc("mb", "p/gifs", alias_ports=aliases)
    mc("cp", gif, "p/gifs/animation.gif", alias_ports=aliases)
    wait(lambda: mc("stat", "r1/gifs/animation.gif", alias_ports=aliases, check=False).returncode == 0,
         "seeded object mirrored to replica1", 60)
    log("seeded object reached replica1 through the periodic mirror")

    # 2. 150 objects, one big: Ready implies complete
    src = os.path.join(WORK, "bulk")
    os.makedirs(src)
    for i in range(149):
        open(os.path.join(src, f"obj-{i:03d}.bin"), "wb").write(os.urandom(1024 + i))
    open(os.path.join(src, "big.bin"), "wb").write(os.urandom(8 << 20))
    mc("cp", "--recursive", src + "/", "p/gifs/bulk/", alias_ports=aliases)
    s2 = sidecar("sync2", P, R2)
    seen_not_ready = False
    end = time.time() + 120
    while time.time() < end:
        code, _ = http(f"http://127.0.0.1:{s2}/readyz")
        if code == 200:
            break
        if code == 503:
            seen_not_ready = True
        time.sleep(0.05)
    else:
        raise SystemExit("replica2 never became Ready")
    d = mc("diff", "p/gifs", "r2/gifs", alias_ports=aliases, check=False)
    if d.returncode != 0 or d.stdout.strip():
        raise SystemExit(f"replica2 Ready with a partial copy: {d.stdout[:500]}{d.stderr[:300]}")
    if not seen_not_ready:
        raise SystemExit("replica2 was never observed NotReady before its copy completed")
    log("replica2 answered 503 until the copy was complete; at its first 200 mc diff was empty (151 objects)")

    # 3. gateway credentials: read yes, write no
    app = {"a": (R2, APP_KEY, APP_SECRET)}
    r = mc("cat", "a/gifs/animation.gif", alias_ports=app, check=False)
    if r.returncode != 0:
        raise SystemExit(f"app user cannot read on the replica: {r.stderr}")
    w = mc("cp", gif, "a/gifs/written-by-app.gif", alias_ports=app, check=False)
    if w.returncode == 0:
        raise SystemExit("app user could write to a replica")
    log("gateway credentials read on replica2 and are refused writes")

    # 4. delete + new object propagate; metrics
    mc("rm", "p/gifs/bulk/obj-000.bin", alias_ports=aliases)
    mc("cp", gif, "p/gifs/new.gif", alias_ports=aliases)
    for r_alias in ("r1", "r2"):
        wait(lambda: not mc("diff", "p/gifs", f"{r_alias}/gifs", alias_ports=aliases, check=False).stdout.strip(),
             f"{r_alias} converges after delete + put", 60)
    wait(lambda: metric(s2, "gif_replica_sync_diff_objects") == 0 and metric(s2, "gif_replica_sync_ready") == 1,
         "metrics report ready and 0 differences", 30)
    log("delete and new object mirrored to both replicas; /metrics: ready=1, diff_objects=0")


if __name__ == "__main__":
    try:
        main()
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
