"""`reko collections`, `reko index-faces` and `reko search-faces`, run as the user runs them: subprocesses on a
temporary data folder, answering the API's JSON through the engine's `dispatch`."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from reko.cli_collections import external_image_id, image_files
from tests.conftest import jpeg_bytes, test_image
from tests.test_cli import reko

ASTRONAUT_PNG = Path(__file__).parent / "images" / "astronaut.png"


@pytest.mark.parametrize(
    ("file_name", "expected"),
    [
        ("astronaut.png", "astronaut.png"),
        ("my photo (2).jpg", "my_photo__2_.jpg"),
        ("été:v1-a_b.JPEG", "_t_:v1-a_b.JPEG"),
        ("x" * 300 + ".jpg", "x" * 255),
    ],
)
def test_external_image_id_fits_the_models_pattern(file_name: str, expected: str) -> None:
    assert external_image_id(Path("/some/folder") / file_name) == expected


def test_image_files_walks_folders_for_images_and_keeps_files_given(tmp_path: Path) -> None:
    (tmp_path / "a" / "deep").mkdir(parents=True)
    for name in ["a/one.jpg", "a/deep/two.PNG", "a/three.jpeg", "a/notes.txt", "given.txt"]:
        (tmp_path / name).write_bytes(b"")
    found = image_files([str(tmp_path / "a"), str(tmp_path / "given.txt")])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == [
        "a/deep/two.PNG", "a/one.jpg", "a/three.jpeg", "given.txt",
    ]


def _json(printed: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert printed.returncode == 0, printed.stdout + printed.stderr
    return json.loads(printed.stdout)


def test_create_index_resume_search_describe_delete(tmp_path: Path) -> None:
    data, photos = tmp_path / "data", tmp_path / "photos"
    (photos / "trip").mkdir(parents=True)
    shutil.copy(ASTRONAUT_PNG, photos / "astronaut.png")
    (photos / "trip" / "eileen collins.jpg").write_bytes(jpeg_bytes(test_image("astronaut.png"), quality=85))

    created = _json(reko("collections", "create", "crew", data_dir=data))
    assert created["StatusCode"] == 200 and created["CollectionArn"].endswith(":collection/crew")
    assert _json(reko("collections", "list", data_dir=data))["CollectionIds"] == ["crew"]

    first = reko("index-faces", "crew", str(photos), data_dir=data)
    summary = _json(first)
    assert (summary["ImagesIndexed"], summary["FacesIndexed"], summary["Failed"]) == (2, 2, [])
    assert "[2/2] eileen collins.jpg: 1 face" in first.stderr

    again = _json(reko("index-faces", "crew", str(photos), data_dir=data))
    assert again["ImagesIndexed"] == 0
    assert sorted(again["SkippedAlreadyIndexed"]) == sorted(str(p) for p in image_files([str(photos)]))

    found = _json(reko("search-faces", "crew", str(ASTRONAUT_PNG), "--threshold", "90", data_dir=data))
    by_name = {match["Face"]["ExternalImageId"]: match["Similarity"] for match in found["FaceMatches"]}
    assert set(by_name) == {"astronaut.png", "eileen_collins.jpg"}
    assert min(by_name.values()) >= 99

    described = _json(reko("collections", "describe", "crew", data_dir=data))
    assert described["FaceCount"] == 2
    assert _json(reko("collections", "delete", "crew", data_dir=data))["StatusCode"] == 200
    gone = reko("collections", "describe", "crew", data_dir=data)
    assert gone.returncode == 1
    assert json.loads(gone.stdout)["__type"] == "ResourceNotFoundException"


def test_index_faces_reports_a_bad_file_and_goes_on(tmp_path: Path) -> None:
    data, photos = tmp_path / "data", tmp_path / "photos"
    photos.mkdir()
    (photos / "broken.jpg").write_text("not an image")
    shutil.copy(ASTRONAUT_PNG, photos / "zz-astronaut.png")
    _json(reko("collections", "create", "mixed", data_dir=data))
    printed = reko("index-faces", "mixed", str(photos), str(tmp_path / "missing.jpg"), data_dir=data)
    assert printed.returncode == 1
    summary = json.loads(printed.stdout)
    assert summary["ImagesIndexed"] == 1 and summary["FacesIndexed"] == 1
    assert [(f["Path"], f["__type"]) for f in summary["Failed"]] == [
        (str(photos / "broken.jpg"), "InvalidImageFormatException"),
        (str(tmp_path / "missing.jpg"), "FileNotFoundError"),
    ]
    assert "broken.jpg: FAILED InvalidImageFormatException" in printed.stderr


def test_index_faces_into_a_missing_collection_is_the_apis_error(tmp_path: Path) -> None:
    printed = reko("index-faces", "nowhere", str(ASTRONAUT_PNG), data_dir=tmp_path / "data")
    assert printed.returncode == 1
    assert json.loads(printed.stdout)["__type"] == "ResourceNotFoundException"
