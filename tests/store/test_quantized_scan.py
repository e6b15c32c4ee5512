"""The quantized scan: finds planted matches among random vectors, never returns removed keys, survives bytes."""

from __future__ import annotations

import numpy as np
import pytest

from reko.store.quantized_scan import REBUILD_DEAD_FRACTION, QuantizedScan

FACES = 20_000


def unit(vectors: np.ndarray) -> np.ndarray:
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def collection() -> tuple[QuantizedScan, np.ndarray, np.ndarray, np.ndarray]:
    """Random unit vectors keyed 1000.., and queries at cosine ~0.7 to planted matches among them."""
    rng = np.random.default_rng(3)
    vectors = unit(rng.standard_normal((FACES, 128)))
    keys = np.arange(1_000, 1_000 + FACES, dtype=np.int64)
    planted = rng.choice(FACES, 100, replace=False)
    queries = unit(vectors[planted] + rng.standard_normal((100, 128)) / np.sqrt(128))
    scan = QuantizedScan(vectors)
    scan.add(keys, vectors)
    return scan, keys, queries, keys[planted]


def test_planted_matches_are_found_first(collection) -> None:
    scan, _, queries, expected = collection
    found = np.array([scan.search(query, 1)[0][0] for query in queries])
    assert (found == expected).mean() >= 0.99


def test_cosines_are_exact_and_best_first(collection) -> None:
    scan, keys, queries, _ = collection
    found, cosines = scan.search(queries[0], 10)
    assert np.all(np.diff(cosines) <= 0) and len(found) == 10
    vectors = QuantizedScan.from_bytes(scan.to_bytes())
    assert np.array_equal(vectors.search(queries[0], 10)[0], found)


def test_removed_keys_never_come_back_and_a_quarter_dead_rebuilds(collection) -> None:
    _, keys, queries, expected = collection
    rng = np.random.default_rng(4)
    vectors = unit(rng.standard_normal((2_000, 128)))
    scan = QuantizedScan(vectors)
    scan.add(keys[:2_000], vectors)
    assert scan.remove(keys[:10]) == 10 and len(scan) == 1_990
    assert keys[0] not in scan.search(vectors[0], 50)[0]
    assert not scan.contains(keys[:10]).any() and scan.contains(keys[10:20]).all()
    dead = int(2_000 * REBUILD_DEAD_FRACTION)
    scan.remove(keys[10:dead + 10])  # crosses the rebuild line: the dead positions are dropped
    assert len(scan.keys) == len(scan) == 2_000 - dead - 10
    assert scan.search(vectors[1_500], 1)[0][0] == keys[1_500]


def test_damaged_bytes_are_refused(collection) -> None:
    data = collection[0].to_bytes()
    with pytest.raises(ValueError):
        QuantizedScan.from_bytes(data[: len(data) // 2])
