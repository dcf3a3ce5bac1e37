"""Background load for the e2e checks, each generator a `with` block: worker threads run until
the block ends. Which one to use:

- `KeepAliveLoad`: GETs as fast as a pause allows, each thread on one kept-alive connection,
  counting answers by status (or error name): "is anything failing while X happens".
- `PacedGifLoad`: a fixed rate of GIF GETs, a new connection each, every body checked against
  the GIF's hash, each failure kept with its time and reason: "was any request lost".
- `PacedS3GetLoad`: a fixed rate of signed S3 GETs straight to a MinIO Service (as the gateway
  makes one per GIF), for at most `limit` seconds: load for the MinIO HPA to see.

All counts are updated under the generator's lock."""

import hashlib
import threading
import time

import requests


class Background:
    """`threads` worker threads running `self._run(i)` for the length of a `with` block (or until
    `_run` returns); `self._stop` is set when the block ends, `self._lock` guards the counts."""

    def __init__(self, threads):
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(threads)]

    def _run(self, i):
        raise NotImplementedError

    def __enter__(self):
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for t in self._threads:
            t.join()


class KeepAliveLoad(Background):
    """GETs of `url` from `threads` threads, one kept-alive session each, `pause` seconds apart;
    `codes` counts the answers by status code (or exception name)."""

    def __init__(self, url, threads=3, pause=0.02):
        self.url, self.pause, self.codes = url, pause, {}
        super().__init__(threads)

    def _run(self, _i):
        with requests.Session() as session:
            while not self._stop.is_set():
                try:
                    code = session.get(self.url, timeout=10).status_code
                except requests.RequestException as err:
                    code = type(err).__name__
                with self._lock:
                    self.codes[code] = self.codes.get(code, 0) + 1
                self._stop.wait(self.pause)


class PacedLoad(Background):
    """`rate` attempts per second in total, spread evenly over the threads, for at most `limit`
    seconds (None: until the block ends). `attempt()` returns None for a success or the reason
    of a failure; `ok` counts the successes, `failures` keeps (monotonic time, reason)."""

    def __init__(self, rate, threads, limit=None):
        self.rate, self.limit = rate, limit
        self.ok, self.failures = 0, []
        super().__init__(threads)

    @property
    def sent(self):
        with self._lock:
            return self.ok + len(self.failures)

    @property
    def errors(self):
        with self._lock:
            return len(self.failures)

    def attempt(self):
        raise NotImplementedError

    def _run(self, i):
        period = len(self._threads) / self.rate
        t_end = time.monotonic() + self.limit if self.limit else float("inf")
        nxt = time.monotonic() + i * period / len(self._threads)
        while not self._stop.is_set() and time.monotonic() < t_end:
            reason = self.attempt()
            with self._lock:
                if reason:
                    self.failures.append((round(time.monotonic(), 1), reason))
                else:
                    self.ok += 1
            nxt += period
            self._stop.wait(max(0.0, nxt - time.monotonic()))


class PacedGifLoad(PacedLoad):
    """GIF GETs of `url`, a new connection each, the body checked against `expect_sha256`."""

    def __init__(self, url, rate, expect_sha256, threads=3):
        self.url, self.expect_sha256 = url, expect_sha256
        super().__init__(rate, threads)

    def attempt(self):
        try:
            r = requests.get(self.url, timeout=10)
        except requests.RequestException as err:
            return f"{type(err).__name__}: {str(err)[:160]}"
        if r.status_code == 200 and hashlib.sha256(r.content).hexdigest() == self.expect_sha256:
            return None
        return f"HTTP {r.status_code} ({len(r.content)} bytes)"


class PacedS3GetLoad(PacedLoad):
    """Signed GETs of bucket/key with a boto3 `client`, the body read whole."""

    def __init__(self, client, bucket, key, rate, limit, threads=4):
        self.client, self.bucket, self.key = client, bucket, key
        super().__init__(rate, threads, limit)

    def attempt(self):
        try:
            self.client.get_object(Bucket=self.bucket, Key=self.key)["Body"].read()
        except Exception as err:  # noqa: BLE001 - counted, and asserted on by the caller
            return f"{type(err).__name__}: {str(err)[:160]}"
        return None
