"""bench/collections.py on a small synthetic collection: every column is filled, both kinds find every match."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench import collections


def synthetic_lfw(people: int = 40, seed: int = 0) -> collections.LfwVectors:
    """A gallery of unit vectors and two probes of each person at cosine ~0.8."""
    rng = np.random.default_rng(seed)
    gallery = rng.standard_normal((people, 128)).astype(np.float32)
    gallery /= np.linalg.norm(gallery, axis=1, keepdims=True)
    owners = np.repeat(np.arange(people), 2)
    probes = gallery[owners] + 0.08 * rng.standard_normal((len(owners), 128)).astype(np.float32)
    probes /= np.linalg.norm(probes, axis=1, keepdims=True)
    return collections.LfwVectors(gallery=gallery, probes=probes, probe_owner=owners, every_face=probes)


@pytest.mark.parametrize("fillers", collections.FILLER_KINDS)
def test_measure_size_fills_every_column(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fillers: str) -> None:
    monkeypatch.setattr(collections, "CACHE_DIR", tmp_path)
    monkeypatch.setattr(collections, "SCAN_MIN_FACES", 1_000)
    monkeypatch.setattr(collections, "RECONCILE_ADDS", 100)
    monkeypatch.setattr(collections, "RECONCILE_DELETES", 10)
    lfw = synthetic_lfw()
    rows = collections.measure_size(2_000, lfw, fillers)
    assert [row["index"] for row in rows] == ["exact (NumPy)", "quantized scan (Reko)"]
    for row in rows:
        assert row["recall1"] == 1.0 and row["rank1"] == 1.0
        assert all(value is not None for key, value in row.items() if key != "expansion_search")
