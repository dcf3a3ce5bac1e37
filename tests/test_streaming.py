"""The body is streamed: a 100 MiB object passes with the host's memory flat, under each host."""
import hashlib
import os
import threading

import psutil

from testkit.paths import BUCKET

OBJECT_SIZE = 100 * 1024 * 1024


def test_100_mib_object_streams_with_flat_memory(app, minio):
    data = os.urandom(OBJECT_SIZE)
    expected = hashlib.sha256(data).hexdigest()
    minio.s3(minio.root).put_object(Bucket=BUCKET, Key="big/100mib.bin", Body=data)
    del data

    # `spin up` serves from a child process (`spin trigger http`): count the whole process tree.
    host = psutil.Process(app.proc.pid)
    app.get("/big/100mib.bin", headers={"Range": "bytes=0-0"})  # warm the instance pool
    processes = [host, *host.children(recursive=True)]

    def rss() -> int:
        return sum(p.memory_info().rss for p in processes)

    baseline = rss()
    peak = baseline
    done = threading.Event()

    def sample():
        nonlocal peak
        while not done.is_set():
            peak = max(peak, rss())
            done.wait(0.01)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        digest = hashlib.sha256()
        received = 0
        with app.get("/big/100mib.bin", stream=True, timeout=120) as response:
            assert response.status_code == 200
            assert response.headers["Content-Length"] == str(OBJECT_SIZE)
            for chunk in response.iter_content(chunk_size=1 << 20):
                digest.update(chunk)
                received += len(chunk)
    finally:
        done.set()
        sampler.join()

    assert received == OBJECT_SIZE
    assert digest.hexdigest() == expected
    growth = peak - baseline
    print(f"host RSS baseline {baseline / 2**20:.1f} MiB, peak {peak / 2**20:.1f} MiB, growth {growth / 2**20:.1f} MiB")
    # Buffering the object would add at least its size; streaming adds only transfer buffers.
    assert growth < 16 * 1024 * 1024, f"RSS grew by {growth / 2**20:.1f} MiB while streaming 100 MiB"
