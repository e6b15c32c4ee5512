"""The `reko` command: detect-faces and compare-faces print the API's JSON without a server; models verifies the
catalogue."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from reko import config
from reko.cli_draw import DRAWABLE_RESULTS, drawing_saver
from reko.client.draw import COVERED_RGB
from reko.vision import catalog
from tests.conftest import REPO_ROOT, SHARED_DATA, TEST_IMAGES, jpeg_bytes, needs_shared_data, test_image


def reko(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {"REKO_DATA_DIR": str(data_dir), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-m", "reko.cli", *args], capture_output=True, text=True, env=env, cwd=REPO_ROOT, timeout=300
    )


def test_detect_faces_prints_the_same_answer_as_the_api(
    tmp_path: Path, astronaut_jpeg: bytes, rekognition
) -> None:
    image = tmp_path / "astronaut.jpg"
    image.write_bytes(astronaut_jpeg)
    printed = reko("detect-faces", str(image), "--attributes", "ALL", data_dir=tmp_path / "data")
    assert printed.returncode == 0, printed.stderr
    local = json.loads(printed.stdout)
    remote = rekognition.detect_faces(Image={"Bytes": astronaut_jpeg}, Attributes=["ALL"])
    assert len(local["FaceDetails"]) == len(remote["FaceDetails"]) == 1
    for key, value in remote["FaceDetails"][0]["BoundingBox"].items():
        assert local["FaceDetails"][0]["BoundingBox"][key] == pytest.approx(value, abs=1e-6)
    assert local["FaceDetails"][0]["Gender"] == remote["FaceDetails"][0]["Gender"]


def test_detect_faces_reports_errors_as_the_api_does(tmp_path: Path) -> None:
    not_an_image = tmp_path / "notes.txt"
    not_an_image.write_text("hello")
    printed = reko("detect-faces", str(not_an_image), data_dir=tmp_path / "data")
    assert printed.returncode == 1
    assert json.loads(printed.stdout)["__type"] == "InvalidImageFormatException"


def test_compare_faces_prints_the_same_answer_as_the_api(
    tmp_path: Path, astronaut_jpeg: bytes, rekognition
) -> None:
    source, target = tmp_path / "astronaut.jpg", tmp_path / "astronaut-q60.jpg"
    source.write_bytes(astronaut_jpeg)
    target.write_bytes(jpeg_bytes(test_image("astronaut.png"), quality=60))
    printed = reko(
        "compare-faces", str(source), str(target), "--similarity-threshold", "90", "--quality-filter", "LOW",
        data_dir=tmp_path / "data",
    )
    assert printed.returncode == 0, printed.stderr
    local = json.loads(printed.stdout)
    remote = rekognition.compare_faces(
        SourceImage={"Bytes": astronaut_jpeg}, TargetImage={"Bytes": target.read_bytes()}, SimilarityThreshold=90,
        QualityFilter="LOW",
    )
    assert list(local) == ["SourceImageFace", "FaceMatches", "UnmatchedFaces"]
    assert len(local["FaceMatches"]) == len(remote["FaceMatches"]) == 1
    assert local["FaceMatches"][0]["Similarity"] == pytest.approx(remote["FaceMatches"][0]["Similarity"], abs=1e-6)
    for key, value in remote["SourceImageFace"]["BoundingBox"].items():
        assert local["SourceImageFace"]["BoundingBox"][key] == pytest.approx(value, abs=1e-6)
    assert local["UnmatchedFaces"] == remote["UnmatchedFaces"] == []


def test_models_lists_and_verifies_every_model(tmp_path: Path) -> None:
    printed = reko("models", data_dir=tmp_path / "data")
    assert printed.returncode == 0, printed.stdout + printed.stderr
    for model in catalog.MODELS:
        assert model.name in printed.stdout
    assert printed.stdout.count("ok  sha256") == len(catalog.MODELS)


def test_detect_labels_prints_the_api_answer(tmp_path: Path) -> None:
    image = tmp_path / "chelsea.jpg"
    image.write_bytes(jpeg_bytes(test_image("chelsea.png")))
    printed = reko("detect-labels", str(image), "--max-labels", "3", "--min-confidence", "60", data_dir=tmp_path / "d")
    assert printed.returncode == 0, printed.stderr
    answer = json.loads(printed.stdout)
    assert len(answer["Labels"]) == 3 and answer["LabelModelVersion"] == "reko-labels-1"
    assert "Cat" in [label["Name"] for label in answer["Labels"]]
    assert all(label["Confidence"] >= 60 for label in answer["Labels"])


def test_draw_saves_the_image_with_the_faces_drawn_on_it(tmp_path: Path) -> None:
    image, drawn = tmp_path / "astronaut.png", tmp_path / "drawn.png"
    image.write_bytes((TEST_IMAGES / "astronaut.png").read_bytes())
    printed = reko("detect-faces", str(image), "--draw", str(drawn), data_dir=tmp_path / "d")
    assert printed.returncode == 0, printed.stderr
    box = json.loads(printed.stdout)["FaceDetails"][0]["BoundingBox"]
    before, after = test_image("astronaut.png"), np.asarray(Image.open(drawn))
    assert after.shape == before.shape
    changed = np.any(before != after, axis=2)
    left, top = round(box["Left"] * 512), round(box["Top"] * 512)
    bottom = round((box["Top"] + box["Height"]) * 512)
    assert changed[top:bottom, left].mean() > 0.9  # the box's left side is drawn
    assert not changed[400:, :].any()  # far below the face nothing is


def test_compare_faces_draws_the_match_on_the_target(tmp_path: Path) -> None:
    source, target, drawn = tmp_path / "a.png", tmp_path / "b.jpg", tmp_path / "drawn.png"
    source.write_bytes((TEST_IMAGES / "astronaut.png").read_bytes())
    target.write_bytes(jpeg_bytes(test_image("astronaut.png"), quality=95))
    printed = reko("compare-faces", str(source), str(target), "--draw", str(drawn), data_dir=tmp_path / "d")
    assert printed.returncode == 0, printed.stderr
    box = json.loads(printed.stdout)["FaceMatches"][0]["Face"]["BoundingBox"]
    left, bottom = round(box["Left"] * 512), round((box["Top"] + box["Height"]) * 512)
    assert tuple(np.asarray(Image.open(drawn))[bottom - 10, left]) == COVERED_RGB  # a match: green


@pytest.mark.parametrize("operation", sorted(DRAWABLE_RESULTS))
def test_every_drawable_operation_names_a_client_result(operation: str, tmp_path: Path) -> None:
    """detect-ppe and detect-custom-labels draw through the same table once their commands exist."""
    out = tmp_path / "out.png"
    save = drawing_saver(operation, str(TEST_IMAGES / "coffee.png"), str(out))
    assert save is not None
    save({})  # an answer with nothing in it still draws (the image unchanged)
    assert np.array_equal(np.asarray(Image.open(out)), test_image("coffee.png"))


def test_detect_ppe_prints_the_api_answer_with_a_summary(tmp_path: Path) -> None:
    image = tmp_path / "coffee.jpg"
    image.write_bytes(jpeg_bytes(test_image("coffee.png")))
    printed = reko("detect-ppe", str(image), "--required", "FACE_COVER,HEAD_COVER", "--min-confidence", "70",
                   data_dir=tmp_path / "d")
    assert printed.returncode == 0, printed.stderr
    answer = json.loads(printed.stdout)
    assert answer["Persons"] == [] and answer["ProtectiveEquipmentModelVersion"] == "reko-ppe-1"
    assert answer["Summary"]["PersonsIndeterminate"] == []


def test_an_unreadable_file_is_one_error_line(tmp_path: Path) -> None:
    missing = tmp_path / "missing.jpg"
    result = reko("detect-faces", str(missing), data_dir=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == f"reko: No such file or directory: {missing}"


@pytest.mark.parametrize(("value", "level"), [("debug", "DEBUG"), (" Warning ", "WARNING"), ("INFO", "INFO")])
def test_log_level_in_any_case(value: str, level: str) -> None:
    assert config.from_environment({"REKO_LOG_LEVEL": value}).log_level == level


@pytest.mark.parametrize(("name", "value"), [("REKO_LOG_LEVEL", "loud"), ("REKO_PORT", "eighty")])
def test_a_bad_variable_is_named(name: str, value: str) -> None:
    with pytest.raises(config.SettingsError, match=name):
        config.from_environment({name: value})


@needs_shared_data("ppe/hard_hat_workers/images/hard_hat_workers15.png")
def test_detect_ppe_draws_its_persons(tmp_path: Path) -> None:
    """`detect-ppe --draw`: the persons found are outlined on the saved image."""
    photo, drawn = SHARED_DATA / "ppe/hard_hat_workers/images/hard_hat_workers15.png", tmp_path / "drawn.png"
    printed = reko("detect-ppe", str(photo), "--draw", str(drawn), data_dir=tmp_path / "d")
    assert printed.returncode == 0, printed.stderr
    persons = json.loads(printed.stdout)["Persons"]
    assert persons
    before, after = np.asarray(Image.open(photo).convert("RGB")), np.asarray(Image.open(drawn).convert("RGB"))
    height, width = before.shape[:2]
    box = persons[0]["BoundingBox"]
    left, top = round(box["Left"] * width), round(box["Top"] * height)
    bottom = min(height - 1, round((box["Top"] + box["Height"]) * height))
    assert np.any(before != after, axis=2)[top:bottom, min(left, width - 1)].mean() > 0.5


def test_a_reader_that_goes_away_ends_the_command_quietly(tmp_path: Path) -> None:
    """`reko ... | head`: no "Broken pipe" error line, the status of a command stopped by SIGPIPE."""
    command = [sys.executable, "-m", "reko.cli", "collections", "list"]
    env = {"REKO_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO_ROOT, env=env)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # gone before the command writes a byte
    errors = process.stderr.read().decode()
    assert process.wait(timeout=120) == 141, errors
    assert "Broken pipe" not in errors
