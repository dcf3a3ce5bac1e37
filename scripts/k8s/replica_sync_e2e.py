#!/usr/bin/env python3
"""End-to-end test of the MinIO read-replica sidecar (images/cmd/replica-sync) with real MinIO
servers and mc, on loopback only. The harness plays the seeder's part on the primary (bucket,
objects, the mirror user with list + get on the bucket); every replica runs as in its pod: the
sidecar's init-local-root step writes a random root, the replica's MinIO starts with it, the
sidecar syncs with the mirror user's credentials.
  1. missing bucket: a replica whose primary has no bucket yet stays not ready and says so, and
     becomes Ready once the bucket exists, with the seeded object already there;
  2. wrong credentials: an unknown access key and a wrong secret key for the primary keep a
     replica not ready (the /readyz body and the log give the S3 error code, never a secret);
     a mirror user that the primary only gets later (the seeder of an upgrade) makes it Ready then;
  3. a replica is Ready only once all of 150 objects (one of 8 MiB) are there: at its first 200
     from /readyz `mc diff` against the primary is empty;
  4. diverged bucket: a replica whose copy differs from the primary (a stale object, a changed
     one, a missing one) while its mirror runs report success stays not ready until `mc diff`
     is empty;
  5. the gateway's credentials read on a replica and cannot write or list; the mirror
     credentials list and read a replica's copy and cannot write;
  6. deletes and new objects on the primary reach the replicas; /metrics reports 0 differences;
  7. no secret ever appears in a process's argv (every mc command line the sidecars ran, and
     /proc/*/cmdline sampled throughout, which must catch a canary command line) or in a
     sidecar's log.
usage: replica_sync_e2e.py WORKDIR REPLICA_SYNC_BINARY [--only wrong-credentials] [--harness-local-root]
  --only wrong-credentials   run scenario 2's two refused-credential cases alone
  --harness-local-root       the harness writes the replicas' random roots itself (for a sidecar
                             binary without init-local-root, e.g. one built before it existed)"""
import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
from testkit.minio import Credentials, Minio  # noqa: E402 - the repository's test kit, found through ROOT
from testkit.waits import Processes, free_port, http_status, wait_until  # noqa: E402
from testkit.waits import stop as testkit_stop  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.join(ROOT, ".tools", "bin")
MC = os.path.join(BIN, "mc")
BUCKET = "gifs"
# Fresh per run, so that finding one anywhere can only mean it leaked from this run.
ROOT_USER, ROOT_PW = "sync-root", "root-" + secrets.token_hex(12)
APP_KEY, APP_SECRET = "gif-gateway", "app-" + secrets.token_hex(12)
MIRROR_KEY, MIRROR_SECRET = "gif-minio-mirror", "mirror-" + secrets.token_hex(12)
LATE_KEY, LATE_SECRET = "late-mirror", "late-" + secrets.token_hex(12)
WRONG_SECRET = "wrong-" + secrets.token_hex(12)
# Put on a command line on purpose: the argv watch must see it, or it sees nothing.
CANARY = "canary-" + secrets.token_hex(12)
MIRROR_POLICY = "gif-minio-mirror-read"
T0 = time.time()
SECRETS = {ROOT_PW, APP_SECRET, MIRROR_SECRET, LATE_SECRET, WRONG_SECRET}  # + every replica's root
ARGS = WORK = SYNC = PROCS = None


def log(m):
    print(f"  [replica-sync {time.time() - T0:5.1f}s] {m}", flush=True)


def start(name, args, env):
    return PROCS.start(name, args, env)


def stop(p):
    testkit_stop(p, timeout=10, group=True)


def wait(cond, what, timeout=60):
    wait_until(cond, timeout, what, interval=0.2)


def minio(name, root_dir=None):
    """A MinIO server; a replica's root comes from files, as in the pod."""
    server = Minio(os.path.join(WORK, name), os.path.join(WORK, name + ".log"),
                   root=None if root_dir else Credentials(ROOT_USER, ROOT_PW), root_files=root_dir,
                   public_metrics=False, home=WORK).start(wait=False)
    server.name = name
    PROCS.add(server.proc)
    if root_dir:
        SECRETS.add(server.root.secret_key)
    return server


def alias(m, user=None, pw=None):
    return (m.port, user or m.root.access_key, pw or m.root.secret_key)


def mc(*args, aliases=None, check=True, stdin=None):
    env = {**os.environ, "MC_CONFIG_DIR": os.path.join(WORK, "mc")}
    for a, (p, user, pw) in (aliases or {}).items():
        env[f"MC_HOST_{a}"] = f"http://{user}:{pw}@127.0.0.1:{p}"
    r = subprocess.run([MC, "--quiet", "--no-color", *args], env=env, capture_output=True, text=True,
                       errors="replace", input=stdin)
    if check and r.returncode != 0:
        raise SystemExit(f"mc {' '.join(args)}: {r.stdout}{r.stderr}")
    return r


def local_root(name):
    """The replica's root, written the way its pod's init container does."""
    d = os.path.join(WORK, name + "-root")
    os.makedirs(d)
    if ARGS.harness_local_root:
        for f, v in (("rootUser", "replica-" + secrets.token_hex(6)), ("rootPassword", secrets.token_hex(20))):
            open(os.path.join(d, f), "w").write(v)
        return d
    r = subprocess.run([SYNC, "init-local-root", d], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"replica-sync init-local-root: {r.stdout}{r.stderr}")
    for f in ("rootUser", "rootPassword"):
        mode = os.stat(os.path.join(d, f)).st_mode & 0o777
        if mode != 0o400:
            raise SystemExit(f"{f} written with mode {mode:o}")
    return d


def replica(name):
    m = minio(name, local_root(name))
    m.wait_ready()
    return m


def mc_wrapper(name):
    """mc as the sidecar sees it: records each command line (scenario 7 asserts that none holds a
    secret) and, while the flag file exists, answers `mirror` with success without copying,
    like a mirror run that reports success but leaves the copy different (scenario 4)."""
    path, argv_log, lossy = (os.path.join(WORK, f"{name}-{s}") for s in ("mc.sh", "argv", "lossy"))
    open(path, "w").write(f"""#!/bin/sh
{{ for a in "$@"; do printf '%s\\037' "$a"; done; printf '\\036'; }} >> '{argv_log}'
if [ -e '{lossy}' ]; then for a in "$@"; do [ "$a" = mirror ] && exit 0; done; fi
exec '{MC}' "$@"
""")
    os.chmod(path, 0o755)
    return path, argv_log, lossy


def sidecar(name, primary, local, key=MIRROR_KEY, secret=MIRROR_SECRET, lossy_mirror=False):
    creds = os.path.join(WORK, name + "-creds")
    os.makedirs(creds)
    for f, v in (("ak", key), ("sk", secret), ("appak", APP_KEY), ("appsk", APP_SECRET)):
        open(os.path.join(creds, f), "w").write(v + "\n")
    wrapper, argv_log, lossy = mc_wrapper(name)
    if lossy_mirror:
        open(lossy, "w").close()
    root = os.path.join(WORK, local.name + "-root")
    lp = free_port()
    p = start(name, [SYNC], {
        "BUCKET": BUCKET, "PRIMARY_ENDPOINT": primary.url, "LOCAL_ENDPOINT": local.url,
        "PRIMARY_ACCESS_KEY_FILE": f"{creds}/ak", "PRIMARY_SECRET_KEY_FILE": f"{creds}/sk",
        "LOCAL_ACCESS_KEY_FILE": f"{root}/rootUser", "LOCAL_SECRET_KEY_FILE": f"{root}/rootPassword",
        "APP_ACCESS_KEY_FILE": f"{creds}/appak", "APP_SECRET_KEY_FILE": f"{creds}/appsk",
        "MIRROR_POLICY": MIRROR_POLICY, "SYNC_INTERVAL": "2s", "MC_BIN": wrapper,
        "MC_CONFIG_DIR": os.path.join(WORK, name + "-mc-config"), "LISTEN_ADDRESS": f"127.0.0.1:{lp}"})
    p.listen, p.argv_log, p.lossy = lp, argv_log, lossy
    return p


def readyz(s):
    return http_status(f"http://127.0.0.1:{s.listen}/readyz")


def metric(s, name):
    _, body = http_status(f"http://127.0.0.1:{s.listen}/metrics")
    for line in body.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    return None


def sidecar_log(s):
    return open(os.path.join(WORK, s.name + ".log")).read()


def stays_not_ready(sidecars, seconds, expect):
    """Every sidecar answers 503 throughout, and its /readyz body and log name `expect[name]`."""
    end = time.time() + seconds
    while time.time() < end:
        for s in sidecars:
            code, body = readyz(s)
            if code == 200:
                raise SystemExit(f"{s.name} became Ready although {expect[s.name]!r} should keep it out: {body!r}\n"
                                 f"--- log\n{sidecar_log(s)[-2000:]}")
        time.sleep(0.1)
    for s in sidecars:
        code, body = readyz(s)
        if code != 503 or expect[s.name] not in body:
            raise SystemExit(f"{s.name}: /readyz {code} {body!r}, expected 503 naming {expect[s.name]!r}")
        if expect[s.name] not in sidecar_log(s):
            raise SystemExit(f"{s.name}: log does not name {expect[s.name]!r}:\n{sidecar_log(s)[-2000:]}")
    return {s.name: readyz(s)[1].strip() for s in sidecars}


def diff_empty(a, b, aliases):
    d = mc("diff", f"{a}/{BUCKET}", f"{b}/{BUCKET}", aliases=aliases, check=False)
    return d.returncode == 0 and not d.stdout.strip(), d


def first_ready(s, timeout=120):
    """Polls /readyz fast until the first 200; returns whether a 503 was seen before."""
    seen_503, end = False, time.time() + timeout
    while time.time() < end:
        code, _ = readyz(s)
        if code == 200:
            return seen_503
        seen_503 |= code == 503
        if s.poll() is not None:
            raise SystemExit(f"{s.name} exited:\n{sidecar_log(s)[-2000:]}")
        time.sleep(0.05)
    raise SystemExit(f"{s.name} never became Ready:\n{sidecar_log(s)[-3000:]}")


def add_mirror_user(aliases, key, secret):
    """What the seeder does on the primary: the policy, then the user bound to it."""
    pol = os.path.join(WORK, "mirror-policy.json")
    json.dump(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["s3:GetBucketLocation", "s3:ListBucket"],
                    "Resource": [f"arn:aws:s3:::{BUCKET}"],
                },
                {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": [f"arn:aws:s3:::{BUCKET}/*"]},
            ],
        },
        open(pol, "w"),
    )
    mc("admin", "policy", "create", "p", MIRROR_POLICY, pol, aliases=aliases)
    mc("admin", "user", "add", "p", key, aliases=aliases, stdin=secret + "\n")
    mc("admin", "policy", "attach", "p", MIRROR_POLICY, "--user", key, aliases=aliases, check=False)


class ArgvWatch(threading.Thread):
    """Samples /proc/*/cmdline of every process while the test runs: a secret in any argv
    (node auditing would record it) fails the test."""

    def __init__(self):
        super().__init__(daemon=True)
        self.found, self.mc_seen, self.samples, self.halt = [], 0, 0, threading.Event()
        self.canary_seen = False

    def run(self):
        seen = set()
        while not self.halt.is_set():
            for pid in os.listdir("/proc"):
                if not pid.isdigit():
                    continue
                try:
                    argv = open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="replace").split("\0")
                except OSError:
                    continue
                if argv and argv[0] == MC and pid not in seen:
                    seen.add(pid)
                    self.mc_seen += 1
                if any(s in a for a in argv for s in list(SECRETS)):
                    self.found.append((pid, argv[:3]))
                self.canary_seen |= any(CANARY in a for a in argv)
            self.samples += 1
            time.sleep(0.02)


def assert_no_secret_in_argv(sidecars, watch):
    calls = []
    for s in sidecars:
        if os.path.exists(s.argv_log):
            calls += [c.split("\x1f")[:-1] for c in open(s.argv_log).read().split("\x1e") if c]
    leaked = [c[:4] for c in calls if any(sec in a for a in c for sec in SECRETS)]
    if leaked:
        raise SystemExit(f"a secret was on mc's command line (first args shown): {leaked[:3]}")
    adds = [c for c in calls if "add" in c and c[c.index("add") - 2:c.index("add") + 1] == ["admin", "user", "add"]]
    # `admin user add local KEY`: two arguments, so mc reads the secret key from stdin.
    if not adds or any(len(c) != c.index("add") + 3 for c in adds):
        raise SystemExit(f"expected `mc admin user add local KEY` (secret on stdin) calls, got {adds[:3]}")
    for s in sidecars:
        text = sidecar_log(s)
        if any(sec in text for sec in SECRETS):
            raise SystemExit(f"a secret is in {s.name}'s log")
    watch.halt.set()
    watch.join()
    if watch.found:
        raise SystemExit(f"a secret was in a process's argv (/proc/PID/cmdline): {watch.found[:3]}")
    if not watch.canary_seen:
        raise SystemExit("the argv watch missed the canary command line: it cannot see argv")
    log(f"no secret in {len(calls)} mc command lines ({len(adds)} user adds, secret on stdin), "
        f"in {watch.samples} samples of every process's argv ({watch.mc_seen} mc processes caught) or in the logs")


def wrong_credentials(P, aliases, replica_name):
    """Scenario 2's refused credentials; the primary holds the bucket and the mirror user."""
    R = replica(replica_name)
    unknown = sidecar("sync-unknown-key", P, R, key="nobody-here", secret=MIRROR_SECRET)
    wrong = sidecar("sync-wrong-secret", P, R, key=MIRROR_KEY, secret=WRONG_SECRET)
    why = stays_not_ready(
        [unknown, wrong], 8, {unknown.name: "InvalidAccessKeyId", wrong.name: "SignatureDoesNotMatch"}
    )
    log(f"refused credentials keep the replica not ready for 8s: {why}")
    stop(unknown), stop(wrong)
    return R, [unknown, wrong]


def main():
    global ARGS, WORK, SYNC, PROCS
    ap = argparse.ArgumentParser()
    ap.add_argument("workdir")
    ap.add_argument("binary")
    ap.add_argument("--only", choices=["wrong-credentials"])
    ap.add_argument("--harness-local-root", action="store_true")
    ARGS = ap.parse_args()
    WORK, SYNC = os.path.abspath(ARGS.workdir), os.path.abspath(ARGS.binary)
    shutil.rmtree(WORK, ignore_errors=True)
    PROCS = Processes(WORK)
    os.makedirs(WORK)
    watch = ArgvWatch()
    watch.start()
    subprocess.run(["sh", "-c", "sleep 0.3", CANARY], check=True)

    P = minio("primary")
    P.wait_ready()
    aliases = {"p": alias(P)}
    gif = os.path.join(WORK, "animation.gif")
    open(gif, "wb").write(b"GIF89a" + os.urandom(4096))

    if ARGS.only == "wrong-credentials":
        mc("mb", f"p/{BUCKET}", aliases=aliases)
        mc("cp", gif, f"p/{BUCKET}/animation.gif", aliases=aliases)
        add_mirror_user(aliases, MIRROR_KEY, MIRROR_SECRET)
        wrong_credentials(P, aliases, "replica2")
        return

    # 1. missing bucket: the mirror user exists (the seeder writes policies before the bucket
    # matters to them), the bucket not yet.
    add_mirror_user(aliases, MIRROR_KEY, MIRROR_SECRET)
    R1 = replica("replica1")
    s1 = sidecar("sync1", P, R1)
    why = stays_not_ready([s1], 6, {s1.name: "NoSuchBucket"})
    log(f"replica1 not ready while the primary has no bucket: {why[s1.name]!r}")
    mc("mb", f"p/{BUCKET}", aliases=aliases)
    mc("cp", gif, f"p/{BUCKET}/animation.gif", aliases=aliases)
    first_ready(s1, 60)
    aliases["r1"] = alias(R1)
    same, d = diff_empty("p", "r1", aliases)
    if not same or mc("stat", f"r1/{BUCKET}/animation.gif", aliases=aliases, check=False).returncode:
        raise SystemExit(f"replica1 Ready without the seeded object: {d.stdout[:300]}{d.stderr[:300]}")
    log("replica1 became Ready once the bucket existed, with the seeded object already copied")

    # 2. refused credentials, then a mirror user that the primary only gets later.
    R2, refused = wrong_credentials(P, aliases, "replica2")
    aliases["r2"] = alias(R2)

    # 3. 150 objects, one big: Ready implies complete. The late mirror user keeps replica2 out
    # until it exists, then the copy decides.
    src = os.path.join(WORK, "bulk")
    os.makedirs(src)
    for i in range(149):
        open(os.path.join(src, f"obj-{i:03d}.bin"), "wb").write(os.urandom(1024 + i))
    open(os.path.join(src, "big.bin"), "wb").write(os.urandom(8 << 20))
    mc("cp", "--recursive", src + "/", f"p/{BUCKET}/bulk/", aliases=aliases)
    s2 = sidecar("sync2", P, R2, key=LATE_KEY, secret=LATE_SECRET)
    stays_not_ready([s2], 3, {s2.name: "InvalidAccessKeyId"})
    add_mirror_user(aliases, LATE_KEY, LATE_SECRET)
    first_ready(s2)
    same, d = diff_empty("p", "r2", aliases)
    if not same:
        raise SystemExit(f"replica2 Ready with a partial copy: {d.stdout[:500]}{d.stderr[:300]}")
    log("replica2 joined once its mirror user existed on the primary; at its first 200 mc diff was empty (151 objects)")

    # 4. diverged copy: replica1's sidecar restarts over a copy someone changed, and its mirror
    # runs report success without copying.
    stop(s1)
    mc("cp", gif, f"r1/{BUCKET}/stale.gif", aliases=aliases)
    mc("pipe", f"r1/{BUCKET}/animation.gif", aliases=aliases, stdin="changed")
    s4 = sidecar("sync4", P, R1, lossy_mirror=True)
    why = stays_not_ready([s4], 6, {s4.name: "still differ from the primary"})
    if not metric(s4, "gif_replica_sync_diff_objects"):
        raise SystemExit("diverged replica1: /metrics reports no differing objects")
    log(f"diverged replica1 not ready while mc diff finds differences: {why[s4.name]!r}")
    os.remove(s4.lossy)
    first_ready(s4, 60)
    same, d = diff_empty("p", "r1", aliases)
    if not same or mc("stat", f"r1/{BUCKET}/stale.gif", aliases=aliases, check=False).returncode == 0:
        raise SystemExit(f"replica1 Ready while still diverged: {d.stdout[:500]}")
    log("replica1 became Ready once its mirror repaired the copy and mc diff was empty")

    # 5. credentials on a replica: the gateway's read and cannot write or list; the mirror
    # user's list and read and cannot write.
    a = {"a": alias(R2, APP_KEY, APP_SECRET), "m": alias(R2, LATE_KEY, LATE_SECRET)}
    if mc("cat", f"a/{BUCKET}/animation.gif", aliases=a, check=False).returncode != 0:
        raise SystemExit("app user cannot read on the replica")
    if mc("cp", gif, f"a/{BUCKET}/written-by-app.gif", aliases=a, check=False).returncode == 0:
        raise SystemExit("app user could write to a replica")
    if mc("ls", f"a/{BUCKET}", aliases=a, check=False).returncode == 0:
        raise SystemExit("app user could list a replica's bucket")
    same, d = diff_empty("p", "m", {**aliases, **a})
    if not same:
        raise SystemExit(f"the mirror credentials do not see replica2's copy: {d.stdout[:300]}{d.stderr[:300]}")
    if mc("cp", gif, f"m/{BUCKET}/written-by-mirror.gif", aliases=a, check=False).returncode == 0:
        raise SystemExit("mirror user could write to a replica")
    log("on replica2 the gateway's credentials read only; the mirror credentials list and read, and cannot write")

    # 6. delete + new object propagate; metrics
    mc("rm", f"p/{BUCKET}/bulk/obj-000.bin", aliases=aliases)
    mc("cp", gif, f"p/{BUCKET}/new.gif", aliases=aliases)
    for r_alias in ("r1", "r2"):
        wait(lambda a=r_alias: diff_empty("p", a, aliases)[0], f"{r_alias} converges after delete + put", 60)
    for s in (s2, s4):
        wait(lambda s=s: metric(s, "gif_replica_sync_diff_objects") == 0 and metric(s, "gif_replica_sync_ready") == 1,
             f"{s.name}: metrics report ready and 0 differences", 30)
    log("delete and new object mirrored to both replicas; /metrics: ready=1, diff_objects=0")

    # 7. no secret in any argv or log
    assert_no_secret_in_argv([s1, *refused, s2, s4], watch)


if __name__ == "__main__":
    try:
        main()
    finally:
        if PROCS:
            PROCS.stop_all()
