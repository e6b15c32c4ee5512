"""The model cache: a prepared file that no longer matches its recorded hash is rebuilt, never loaded."""

from __future__ import annotations

import hashlib
from pathlib import Path

from reko.vision import catalog
from reko.vision.catalog import Catalog, sha256_of

PREPARED = "face-detector"


def _recorded(path: Path) -> str:
    return path.with_name(path.name + ".sha256").read_text().strip()


def test_a_prepared_model_records_the_hash_it_was_written_with(tmp_path: Path) -> None:
    path = Catalog(tmp_path).model_path(PREPARED)
    assert path.parent == tmp_path
    assert _recorded(path) == sha256_of(path)
    assert not list(tmp_path.glob("*.partial"))


def test_a_truncated_prepared_model_is_rebuilt(tmp_path: Path) -> None:
    path = Catalog(tmp_path).model_path(PREPARED)
    good = sha256_of(path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    fresh = Catalog(tmp_path)  # a new process: nothing resolved yet
    assert fresh.model_path(PREPARED) == path
    assert sha256_of(path) == good
    assert fresh.rebuilt == {PREPARED}


def test_a_prepared_model_without_its_hash_record_is_rebuilt(tmp_path: Path) -> None:
    path = Catalog(tmp_path).model_path(PREPARED)
    path.with_name(path.name + ".sha256").unlink()
    path.write_bytes(b"not a model")
    Catalog(tmp_path).model_path(PREPARED)
    assert _recorded(path) == sha256_of(path) != hashlib.sha256(b"not a model").hexdigest()


def test_every_prepared_model_names_its_revision(tmp_path: Path) -> None:
    for model in catalog.MODELS:
        if model.kind == "prepared":
            assert f"-r{model.prepare_revision}" in Catalog(tmp_path).prepared_path(model).name
