"""DetectFaces speed through HTTP: latency p50/p95, throughput at 1/2/4 concurrent clients, peak memory.

Starts `reko serve` as a user would (a child process, its own data folder), calls it with boto3, and reads the
server's peak resident memory (VmHWM) from /proc when the run ends.

Run: `python -m bench.latency [--requests 40] [--threads 2]`.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import httpx
import numpy as np
from botocore.config import Config

from bench import report
from bench.datasets import DATA_DIR
from reko.config import DEV_ACCESS_KEY_ID, DEV_SECRET_ACCESS_KEY

MANY_FACES_IMAGE = "faces/wider_val_200_416/images/7_Cheering_Cheering_7_138.jpg"  # 15 GT faces
CONCURRENCY_LEVELS = (1, 2, 4)
WARM_UP_REQUESTS = 10


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(threads: int, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = dict(os.environ, REKO_THREADS=str(threads), REKO_WORKERS=str(workers), REKO_LOG_LEVEL="WARNING")
    data_dir = tempfile.mkdtemp(prefix="reko-bench-")
    process = subprocess.Popen(
        [sys.executable, "-m", "reko.cli", "serve", "--port", str(port), "--data-dir", data_dir],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(1200):
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    process.kill()
    raise RuntimeError("reko serve did not become ready")


def client(url: str) -> Any:
    return boto3.client(
        "rekognition", endpoint_url=url, region_name="us-east-1", aws_access_key_id=DEV_ACCESS_KEY_ID,
        aws_secret_access_key=DEV_SECRET_ACCESS_KEY, config=Config(retries={"max_attempts": 1}),
    )


def test_images(data_dir: Path) -> dict[str, bytes]:
    """A one-face photo that ships with scikit-image, and a crowd from WIDER when the data folder is here."""
    import io

    from PIL import Image
    from skimage import data

    buffer = io.BytesIO()
    Image.fromarray(np.asarray(data.astronaut())).save(buffer, "JPEG", quality=92)
    images = {"1 face (astronaut 512x512)": buffer.getvalue()}
    crowd = data_dir / MANY_FACES_IMAGE
    if crowd.is_file():
        images["many faces (WIDER cheering 416x416)"] = crowd.read_bytes()
    return images


def latencies_ms(rekognition: Any, image: bytes, attributes: list[str], count: int) -> list[float]:
    for _ in range(WARM_UP_REQUESTS):  # steady state: allocator pools, page cache and caches warmed
        rekognition.detect_faces(Image={"Bytes": image}, Attributes=attributes)
    times = []
    for _ in range(count):
        started = time.perf_counter()
        rekognition.detect_faces(Image={"Bytes": image}, Attributes=attributes)
        times.append((time.perf_counter() - started) * 1000)
    return times


def throughput(url: str, image: bytes, attributes: list[str], clients: int, count: int) -> float:
    """Requests per second with `clients` callers, each with its own boto3 client, `count` requests in all."""
    callers = [client(url) for _ in range(clients)]

    def work(index: int) -> None:
        callers[index % clients].detect_faces(Image={"Bytes": image}, Attributes=attributes)

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(work, range(clients)))  # warm every connection
        started = time.perf_counter()
        list(pool.map(work, range(count)))
    return count / (time.perf_counter() - started)


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def run(data_dir: Path = DATA_DIR, requests: int = 40, threads: int = 2, workers: int = 2) -> list[dict]:
    process, url = start_server(threads, workers)
    rows: list[dict] = []
    try:
        rekognition = client(url)
        for name, image in test_images(data_dir).items():
            for attributes in (["DEFAULT"], ["ALL"]):
                times = latencies_ms(rekognition, image, attributes, requests)
                row = {
                    "image": name, "attributes": attributes[0], "p50_ms": round(statistics.median(times), 1),
                    "p95_ms": round(percentile(times, 95), 1),
                    "faces": len(rekognition.detect_faces(Image={"Bytes": image}, Attributes=attributes)[
                        "FaceDetails"]),
                }
                for clients in CONCURRENCY_LEVELS:
                    rate = throughput(url, image, attributes, clients, requests)
                    row[f"rps_{clients}_clients"] = round(rate, 1)
                rows.append(row)
        peak = peak_rss_mb(process.pid)
        for row in rows:
            row["server_peak_rss_mb"] = round(peak, 0)
    finally:
        process.terminate()
        process.wait(timeout=30)
    return rows



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    rows = run(args.data_dir, args.requests, args.threads, args.workers)
    print(report.markdown(rows))
    report.save("latency", rows)


if __name__ == "__main__":
    main()
