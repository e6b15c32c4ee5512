"""`reko custom-labels create-project|train|start` and `reko detect-custom-labels`, run as the user runs them:
subprocesses on a temporary data folder, a local manifest of mask crops from ../shared/data/ppe."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import RunningServer, jpeg_bytes, needs_shared_data, share_model_cache
from tests.operations.custom_labels_data import classification_line, mask_crops
from tests.test_cli import reko


@needs_shared_data("ppe", "face_mask_detection")
def test_create_train_start_detect(server: RunningServer, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    share_model_cache(server, data)
    lines = []
    for index, (rgb, label) in enumerate(mask_crops(6)):
        path = data / "s3" / "crops" / f"{index}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(jpeg_bytes(rgb))
        lines.append(classification_line(f"s3://crops/{index}.jpg", label))
    manifest = tmp_path / "masks.manifest"
    manifest.write_text("\n".join(lines) + "\n")

    created = reko("custom-labels", "create-project", "masks", data_dir=data)
    assert created.returncode == 0, created.stdout + created.stderr
    trained = reko("custom-labels", "train", "masks", str(manifest), "--version", "v1", data_dir=data)
    assert trained.returncode == 0, trained.stdout + trained.stderr
    evaluation = json.loads(trained.stdout)
    assert evaluation["Status"] == "TRAINING_COMPLETED" and 0 <= evaluation["F1Score"] <= 1
    assert [label["Label"] for label in evaluation["Labels"]] == ["with_mask", "without_mask"]
    assert "100 %  TRAINING_COMPLETED" in trained.stderr

    arn = evaluation["ProjectVersionArn"]
    image = data / "s3" / "crops" / "0.jpg"
    not_ready = reko("detect-custom-labels", arn, str(image), data_dir=data)
    assert not_ready.returncode == 1 and json.loads(not_ready.stdout)["__type"] == "ResourceNotReadyException"
    assert reko("custom-labels", "start", arn, data_dir=data).returncode == 0
    detected = reko("detect-custom-labels", arn, str(image), "--min-confidence", "0", data_dir=data)
    assert detected.returncode == 0, detected.stdout + detected.stderr
    assert {label["Name"] for label in json.loads(detected.stdout)["CustomLabels"]} == {"with_mask", "without_mask"}
