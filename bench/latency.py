"""DetectFaces and CompareFaces speed through HTTP: latency p50/p95, throughput at 1/2/4 concurrent clients,
peak memory, each DetectFaces call's ratio to the bare detector, and the cold start.

Starts `reko serve` as a user would (a child process, its own data folder), calls it with boto3, and reads the
server's peak resident memory (VmHWM) from /proc when the run ends. The bare detector (`bench.bare_yunet`) is
timed in the same run on the same encoded images, in this process: OpenCV's own YuNet runner (the issue's
reference) and one YuNet pass through ONNX Runtime (stricter: Reko's folded weights), with a ratio to each.
The cold start is launch to `/health` 200 of a second server on the data folder the first one prepared.

Run: `python -m bench.latency [--requests 40] [--threads 2] [--operation detect|compare|both]`.
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
from collections.abc import Callable
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
# CompareFaces' crowd target: 32 ground-truth faces, of which Reko finds 20 (416x416).
CROWD_TARGET_IMAGE = "faces/wider_val_200_416/images/2_Demonstration_Political_Rally_2_57.jpg"
RECOMPRESSED_JPEG_QUALITY = 60
CONCURRENCY_LEVELS = (1, 2, 4)
WARM_UP_REQUESTS = 10


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(
    threads: int, workers: int, data_dir: str | None = None, until_all_loaded: bool = True
) -> tuple[subprocess.Popen[bytes], str]:
    """`reko serve` in a child process, returned once /health says ready and, with `until_all_loaded`, once every
    pipeline is loaded too (timings must not share the cores with loading)."""
    port = _free_port()
    env = dict(os.environ, REKO_THREADS=str(threads), REKO_WORKERS=str(workers), REKO_LOG_LEVEL="WARNING")
    data_dir = data_dir or tempfile.mkdtemp(prefix="reko-bench-")
    process = subprocess.Popen(
        [sys.executable, "-m", "reko.cli", "serve", "--port", str(port), "--data-dir", data_dir],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(6000):
        try:
            health = httpx.get(url + "/health", timeout=1)
            loaded = health.status_code == 200 and health.json().get("models", "loaded") == "loaded"
            if health.status_code == 200 and (loaded or not until_all_loaded):
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    process.kill()
    raise RuntimeError("reko serve did not become ready")


def client(url: str) -> Any:
    return boto3.client(
        "rekognition", endpoint_url=url, region_name="us-east-1", aws_access_key_id=DEV_ACCESS_KEY_ID,
        aws_secret_access_key=DEV_SECRET_ACCESS_KEY, config=Config(retries={"max_attempts": 1}),
    )


def jpeg(rgb: np.ndarray, quality: int = 92) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def astronaut_rgb() -> np.ndarray:
    """A one-face photo that ships with scikit-image (NASA, public domain, 512x512)."""
    from skimage import data

    return np.asarray(data.astronaut())


def test_images(data_dir: Path) -> dict[str, bytes]:
    """A one-face photo that ships with scikit-image, and a crowd from WIDER when the data folder is here."""
    images = {"1 face (astronaut 512x512)": jpeg(astronaut_rgb())}
    crowd = data_dir / MANY_FACES_IMAGE
    if crowd.is_file():
        images["many faces (WIDER cheering 416x416)"] = crowd.read_bytes()
    return images


def compare_pairs(data_dir: Path) -> dict[str, tuple[bytes, bytes]]:
    """(source, target) pairs: the astronaut against a JPEG-recompressed copy of itself, and against a crowd
    from WIDER when the data folder is here."""
    source = jpeg(astronaut_rgb())
    pairs = {"1 face vs 1 face (astronaut vs its q60 JPEG)": (source, jpeg(astronaut_rgb(), RECOMPRESSED_JPEG_QUALITY))}
    crowd = data_dir / CROWD_TARGET_IMAGE
    if crowd.is_file():
        pairs["1 face vs 20 faces (WIDER rally 416x416)"] = (source, crowd.read_bytes())
    return pairs


def latencies_ms(call: Callable[[], Any], count: int) -> list[float]:
    for _ in range(WARM_UP_REQUESTS):  # steady state: allocator pools, page cache and caches warmed
        call()
    times = []
    for _ in range(count):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return times


def throughput(url: str, call: Callable[[Any], Any], clients: int, count: int) -> float:
    """Requests per second with `clients` callers, each with its own boto3 client, `count` requests in all;
    `call(client)` makes one request."""
    callers = [client(url) for _ in range(clients)]

    def work(index: int) -> None:
        call(callers[index % clients])

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(work, range(clients)))  # warm every connection
        started = time.perf_counter()
        list(pool.map(work, range(count)))
    return count / (time.perf_counter() - started)


def timing_row(url: str, pid: int, call: Callable[[Any], Any], requests: int) -> dict[str, object]:
    """p50/p95 of one client, the server's CPU time per request, then throughput at each concurrency level.

    CPU time (all the server's threads) is the figure other processes on the machine disturb least: the wall
    times of a busy machine are not the model's cost.
    """
    rekognition = client(url)
    cpu_before = cpu_seconds(pid)
    times = latencies_ms(lambda: call(rekognition), requests)
    cpu_ms = (cpu_seconds(pid) - cpu_before) * 1000 / (requests + WARM_UP_REQUESTS)
    row: dict[str, object] = {
        "p50_ms": round(statistics.median(times), 1), "p95_ms": round(percentile(times, 95), 1),
        "server_cpu_ms_per_request": round(cpu_ms, 1),
    }
    for clients in CONCURRENCY_LEVELS:
        row[f"rps_{clients}_clients"] = round(throughput(url, call, clients, requests), 1)
    return row


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


OPERATIONS = ("detect", "compare")


RATIO_COLUMNS = {
    "bare YuNet (OpenCV FaceDetectorYN)": "ratio_to_opencv_yunet",
    "bare YuNet (ONNX Runtime, one pass)": "ratio_to_one_onnx_pass",
}


def bare_detector_rows(data_dir: Path, requests: int) -> list[dict[str, object]]:
    """p50/p95 of each bare YuNet runner on each test image, in this process (decode included)."""
    from bench.bare_yunet import RUNNERS

    rows: list[dict[str, object]] = []
    for runner_name, make_runner in RUNNERS.items():
        runner = make_runner()
        for name, image in test_images(data_dir).items():
            times = latencies_ms(lambda runner=runner, image=image: runner(image), requests)
            rows.append({
                "operation": f"bare YuNet ({runner_name})", "image": name, "attributes": "—",
                "faces": runner(image), "p50_ms": round(statistics.median(times), 1),
                "p95_ms": round(percentile(times, 95), 1),
            })
    return rows


def add_ratios(rows: list[dict[str, object]]) -> None:
    """Each DetectFaces row's p50 over each bare runner's p50 on the same image (`ratio_to_<runner>`), and ALL of
    the crowd over ALL of the one-face photo: the issue's three ratios are against OpenCV's runner; the one-pass
    ONNX Runtime column is the stricter reference (the same weights, folded, as Reko runs them)."""
    bare: dict[tuple[str, object], float] = {}
    for row in rows:
        if str(row["operation"]).startswith("bare"):
            bare[(RATIO_COLUMNS[str(row["operation"])], row["image"])] = float(str(row["p50_ms"]))
    for row in rows:
        if row["operation"] != "DetectFaces":
            continue
        for column in RATIO_COLUMNS.values():
            if (column, row["image"]) in bare:
                row[column] = round(float(str(row["p50_ms"])) / bare[(column, row["image"])], 2)
    all_rows = {row["image"]: row for row in rows if row["operation"] == "DetectFaces" and row["attributes"] == "ALL"}
    one, crowd = all_rows.get("1 face (astronaut 512x512)"), all_rows.get("many faces (WIDER cheering 416x416)")
    if one and crowd:
        crowd["ratio_to_1_face_all"] = round(float(str(crowd["p50_ms"])) / float(str(one["p50_ms"])), 2)


def detect_rows(url: str, pid: int, data_dir: Path, requests: int) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for name, image in test_images(data_dir).items():
        for attributes in (["DEFAULT"], ["ALL"]):
            def call(rekognition: Any, image: bytes = image, attributes: list[str] = attributes) -> Any:
                return rekognition.detect_faces(Image={"Bytes": image}, Attributes=attributes)

            faces = len(call(client(url))["FaceDetails"])
            rows.append({"operation": "DetectFaces", "image": name, "attributes": attributes[0], "faces": faces,
                         **timing_row(url, pid, call, requests)})
    return rows


def cold_start_s(threads: int, workers: int, data_dir: str) -> float:
    """Seconds from launching `reko serve` to `/health` 200, on a data folder whose models are prepared."""
    started = time.perf_counter()
    process, _ = start_server(threads, workers, data_dir, until_all_loaded=False)
    elapsed = time.perf_counter() - started
    process.terminate()
    process.wait(timeout=30)
    return elapsed


def compare_rows(url: str, pid: int, data_dir: Path, requests: int) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for name, (source, target) in compare_pairs(data_dir).items():
        def call(rekognition: Any, source: bytes = source, target: bytes = target) -> Any:
            return rekognition.compare_faces(SourceImage={"Bytes": source}, TargetImage={"Bytes": target})

        answer = call(client(url))
        faces = len(answer["FaceMatches"]) + len(answer["UnmatchedFaces"])
        rows.append({"operation": "CompareFaces", "image": name, "attributes": "—", "faces": faces,
                     **timing_row(url, pid, call, requests)})
    return rows


def run(
    data_dir: Path = DATA_DIR, requests: int = 40, threads: int = 2, workers: int = 2,
    operations: tuple[str, ...] = OPERATIONS,
) -> list[dict[str, object]]:
    server_data = tempfile.mkdtemp(prefix="reko-bench-")
    process, url = start_server(threads, workers, server_data)  # the first start prepares the model cache
    rows: list[dict[str, object]] = []
    try:
        if "detect" in operations:
            rows += bare_detector_rows(data_dir, requests)
            rows += detect_rows(url, process.pid, data_dir, requests)
            add_ratios(rows)
        if "compare" in operations:
            rows += compare_rows(url, process.pid, data_dir, requests)
        peak = peak_rss_mb(process.pid)
        for row in rows:
            if not str(row["operation"]).startswith("bare"):
                row["server_peak_rss_mb"] = round(peak, 0)
    finally:
        process.terminate()
        process.wait(timeout=30)
    rows.append({"operation": "cold start: launch to /health 200 (prepared model cache)", "image": "—",
                 "attributes": "—", "p50_ms": round(1000 * cold_start_s(threads, workers, server_data), 0)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--operation", choices=(*OPERATIONS, "both"), default="both")
    args = parser.parse_args()
    operations = OPERATIONS if args.operation == "both" else (args.operation,)
    rows = run(args.data_dir, args.requests, args.threads, args.workers, operations)
    print(report.markdown(rows))
    print(f"(load average over the last minute when it ended: {os.getloadavg()[0]:.2f})")
    report.save("latency", rows)


if __name__ == "__main__":
    main()
