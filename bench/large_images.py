"""What a 50-megapixel image costs: decode time, DetectFaces time and peak memory, and box agreement.

Each format runs in a fresh process so its peak RSS is its own. The image is the attack's shape: a
7071x7071 canvas (50 MP, Rekognition's pixel limit) that compresses well, here a smooth gradient with a real
photo (scikit-image's astronaut, enlarged 4x) in the middle, so the face pipeline has one face to find.

Then, on the AFW photos in ../shared/data that the service decodes at reduced scale (5 of 43, 6.9-10 MP,
decoded at 1/2), DetectFaces' boxes and 28 landmarks from a full and from a reduced decode: how far apart
(in % of the image's size) and the landmark error (NME, % of the inter-ocular distance) of each.

    python -m bench.large_images [--repeats 3] [--json results.json]
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

LARGE_SIDE_PX = 7071  # 7071^2 = 49.999 MP, just under the 50 MP limit
PHOTO_ENLARGEMENT = 4


def large_photo() -> np.ndarray:
    """(7071, 7071, 3) uint8: a gradient canvas with the astronaut photo, enlarged, in its centre."""
    from skimage import data

    ramp = np.linspace(40, 200, LARGE_SIDE_PX, dtype=np.float32)
    canvas = np.repeat(((ramp[:, None] + ramp[None, :]) / 2).astype(np.uint8)[:, :, None], 3, axis=2)
    photo = np.asarray(data.astronaut())
    side = photo.shape[0] * PHOTO_ENLARGEMENT
    enlarged = cv2.resize(photo, (side, side), interpolation=cv2.INTER_CUBIC)
    top = (LARGE_SIDE_PX - side) // 2
    canvas[top : top + side, top : top + side] = enlarged
    return canvas


def encoded(rgb: np.ndarray, image_format: str) -> bytes:
    buffer = io.BytesIO()
    options = {"quality": 90} if image_format == "JPEG" else {"compress_level": 6}
    Image.fromarray(rgb).save(buffer, image_format, **options)
    return buffer.getvalue()


def _rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def measure_one(path: Path, repeats: int) -> dict[str, object]:
    """In this process: decode and DetectFaces-analyse the file `repeats` times (models warmed first)."""
    from bench.models import face_pipeline
    from reko.images import decode_image
    from reko.pipelines.faces import Needs

    pipeline = face_pipeline()
    pipeline.analyze(np.asarray(Image.new("RGB", (640, 480), "grey")), Needs())
    baseline_kib = _rss_kib("VmRSS")
    data = path.read_bytes()
    decode_s, detect_s, boxes = [], [], []
    for _ in range(repeats):
        started = time.perf_counter()
        image = decode_image(data)
        decoded = time.perf_counter()
        faces = pipeline.analyze(image.rgb, Needs())
        detect_s.append(time.perf_counter() - decoded)
        decode_s.append(decoded - started)
        boxes = [[float(v) for v in face.box / np.array([image.width, image.height] * 2)] for face in faces]
    return {
        "file_bytes": len(data),
        "decoded_px": f"{image.width}x{image.height}",
        "decode_s_median": statistics.median(decode_s),
        "detect_faces_s_median": statistics.median(detect_s),
        "peak_extra_rss_mib": (_rss_kib("VmHWM") - baseline_kib) / 1024,
        "face_boxes_ratio": boxes,
    }


def afw_agreement() -> list[dict[str, object]]:
    """Full vs reduced decode on the AFW photos the service reduces: box/landmark shift and NME of each."""
    from bench.datasets import DATA_DIR
    from bench.landmarks import AFW_DIR, ALL_TYPES, IBUG_POINTS, OUTER_EYE_CORNERS, ibug_to_types, nme
    from bench.models import face_pipeline
    from reko.images import decode_image, reduction_factor
    from reko.operations.faces.landmarks import landmark_pixels
    from reko.pipelines.faces import Needs

    rows: list[dict[str, object]] = []
    for path in sorted((DATA_DIR / AFW_DIR).glob("*.jpg")):
        if reduction_factor(*Image.open(path).size) == 1:
            continue
        truth = np.loadtxt(path.with_suffix(".pts")).reshape(IBUG_POINTS, 2)
        centre = truth.mean(axis=0)
        inter_ocular = float(np.linalg.norm(truth[OUTER_EYE_CORNERS[0]] - truth[OUTER_EYE_CORNERS[1]]))
        found = {}
        for name, floor in (("full", None), ("reduced", 1_600_000)):
            image = decode_image(path.read_bytes(), min_decoded_pixels=floor)
            size = np.array([image.width, image.height], np.float64)
            faces = face_pipeline().analyze(image.rgb, Needs())
            # the annotated face: the detected box whose centre is nearest the ground truth's centre
            face = min(faces, key=lambda f: float(np.linalg.norm((f.box[:2] + f.box[2:]) / 2 / size
                                                                  - centre / size * image.scale)))
            points = landmark_pixels(face.mesh.points, ALL_TYPES) / size  # ratios
            found[name] = (face.box / np.tile(size, 2), points, nme(
                points * size / image.scale, ibug_to_types(truth, ALL_TYPES), inter_ocular))
        (full_box, full_points, full_nme), (box, points, reduced_nme) = found["full"], found["reduced"]
        rows.append({
            "photo": path.name, "size": "x".join(map(str, Image.open(path).size)),
            "box_shift_pct": 100 * float(np.abs(box - full_box).max()),
            "landmark_shift_pct": 100 * float(np.abs(points - full_points).max()),
            "nme_full_pct": 100 * full_nme, "nme_reduced_pct": 100 * reduced_nme,
        })
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # the child process's job
    arguments = parser.parse_args()
    if arguments.measure:
        print(json.dumps(measure_one(arguments.measure, arguments.repeats)))
        return
    import tempfile

    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as folder:
        rgb = large_photo()
        for image_format in ("JPEG", "PNG"):
            path = Path(folder) / f"large.{image_format.lower()}"
            path.write_bytes(encoded(rgb, image_format))
            child = subprocess.run(
                [sys.executable, "-m", "bench.large_images", "--measure", str(path), "--repeats",
                 str(arguments.repeats)], check=True, capture_output=True, text=True,
            )
            results[image_format] = json.loads(child.stdout.strip().splitlines()[-1])
    print(f"{'format':6} {'file':>9} {'decoded':>11} {'decode s':>9} {'DetectFaces s':>14} {'peak +MiB':>10}")
    for name, row in results.items():
        assert isinstance(row, dict)
        print(f"{name:6} {row['file_bytes'] / 1e6:8.2f}M {row['decoded_px']:>11} {row['decode_s_median']:9.2f} "
              f"{row['detect_faces_s_median']:14.2f} {row['peak_extra_rss_mib']:10.0f}")
        print(f"       boxes (ratios): {[[round(v, 4) for v in box] for box in row['face_boxes_ratio']]}")
    rows = afw_agreement()
    results["afw_full_vs_reduced"] = rows
    print(f"\n{'AFW photo':18} {'size':>10} {'box shift %':>12} {'landmark shift %':>17} {'NME full %':>11} "
          f"{'NME reduced %':>14}")
    for row in rows:
        print(f"{row['photo']:18} {row['size']:>10} {row['box_shift_pct']:12.3f} {row['landmark_shift_pct']:17.3f} "
              f"{row['nme_full_pct']:11.2f} {row['nme_reduced_pct']:14.2f}")
    if arguments.json:
        arguments.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
