"""One scenario for every independent client: the same requests, the same expected outcomes.

A request is the operation's JSON with each image blob written `"@file.jpg"` (a file in the plan's folder); every
runner turns that into what its client takes (bytes, `fileb://`, a Uint8Array, base64). The AWS CLI has no
generic form, so each step also says its `aws rekognition` arguments (`{folder}` is the plan's folder).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tests.conftest import jpeg_bytes, test_image

BUCKET = "reko-clients"
S3_NAME = "faces/astronaut.jpg"


@dataclass(frozen=True)
class Step:
    name: str
    operation: str
    request: dict[str, Any]
    cli: list[str]  # after `aws rekognition`; empty: the CLI cannot express this step
    error: str | None = None  # the error code expected; None: an answer
    key: str = "good"  # which key pair signs: "good" or "wrong" (right key id, wrong secret)
    target: str | None = None  # an X-Amz-Target operation other than `operation` (an unknown one)


def _image(member: str, name: str) -> tuple[dict[str, Any], list[str]]:
    flag = {"Image": "--image-bytes", "SourceImage": "--source-image-bytes", "TargetImage": "--target-image-bytes"}
    return {member: {"Bytes": f"@{name}"}}, [flag[member], f"fileb://{{folder}}/{name}"]


def _steps() -> list[Step]:
    face, face_cli = _image("Image", "astronaut.jpg")
    source, source_cli = _image("SourceImage", "astronaut.jpg")
    target, target_cli = _image("TargetImage", "astronaut-mirrored.jpg")
    coffee, coffee_cli = _image("Image", "coffee.jpg")
    corrupt, corrupt_cli = _image("Image", "corrupt.jpg")
    s3 = {"Image": {"S3Object": {"Bucket": BUCKET, "Name": S3_NAME}}}
    return [
        Step("detect-faces-default", "DetectFaces", face, ["detect-faces", *face_cli]),
        Step("detect-faces-all", "DetectFaces", face | {"Attributes": ["ALL"]},
             ["detect-faces", *face_cli, "--attributes", "ALL"]),
        Step("compare-faces", "CompareFaces", source | target | {"SimilarityThreshold": 80},
             ["compare-faces", *source_cli, *target_cli, "--similarity-threshold", "80"]),
        Step("detect-labels", "DetectLabels", coffee | {"MaxLabels": 10},
             ["detect-labels", *coffee_cli, "--max-labels", "10"]),
        Step("corrupt-image", "DetectFaces", corrupt, ["detect-faces", *corrupt_cli],
             error="InvalidImageFormatException"),
        Step("wrong-key", "DetectFaces", face, ["detect-faces", *face_cli], error="InvalidSignatureException",
             key="wrong"),
        Step("unimplemented-operation", "RecognizeCelebrities", face, ["recognize-celebrities", *face_cli],
             error="NotImplementedException"),
        # The CLI and the SDKs know the model's operations: an unknown one is sent by retargeting a DetectFaces.
        Step("unknown-operation", "DetectFaces", face, [], error="UnknownOperationException", target="DetectUnicorns"),
        Step("s3-object-folder-bucket", "DetectFaces", s3, ["detect-faces", "--image", json.dumps(s3["Image"])]),
    ]


STEPS = _steps()


@dataclass(frozen=True)
class Plan:
    """Where and as whom the scenario runs: a server, two key pairs, a folder of images."""

    endpoint: str
    region: str
    folder: Path
    keys: dict[str, tuple[str, str]]  # "good" / "wrong" → (access key id, secret)
    steps: list[Step] = field(default_factory=lambda: list(STEPS))

    def as_json(self) -> str:
        """The plan for a runner in another language (tests/clients/js/scenario.mjs)."""
        return json.dumps({
            "endpoint": self.endpoint, "region": self.region, "folder": str(self.folder),
            "keys": {name: {"accessKeyId": key_id, "secretAccessKey": secret}
                     for name, (key_id, secret) in self.keys.items()},
            "steps": [asdict(step) for step in self.steps],
        })


def write_images(folder: Path, bucket_root: Path) -> None:
    """The scenario's images in `folder`, and the S3Object one in the folder bucket under `bucket_root`."""
    astronaut = jpeg_bytes(test_image("astronaut.png"))
    (folder / "astronaut.jpg").write_bytes(astronaut)
    mirrored = np.ascontiguousarray(test_image("astronaut.png")[:, ::-1])
    (folder / "astronaut-mirrored.jpg").write_bytes(jpeg_bytes(mirrored))
    (folder / "coffee.jpg").write_bytes(jpeg_bytes(test_image("coffee.png")))
    (folder / "corrupt.jpg").write_bytes(astronaut[:2000])  # a JPEG cut short
    bucket = bucket_root / BUCKET / Path(S3_NAME).parent
    bucket.mkdir(parents=True, exist_ok=True)
    (bucket_root / BUCKET / S3_NAME).write_bytes(astronaut)


def request_with_bytes(request: dict[str, Any], folder: Path) -> dict[str, Any]:
    """`request` with every `"@file"` replaced by that file's bytes."""

    def materialise(value: Any) -> Any:
        if isinstance(value, str) and value.startswith("@"):
            return (folder / value[1:]).read_bytes()
        if isinstance(value, dict):
            return {key: materialise(item) for key, item in value.items()}
        if isinstance(value, list):
            return [materialise(item) for item in value]
        return value

    return dict(materialise(request))
