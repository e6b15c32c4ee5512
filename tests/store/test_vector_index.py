"""FaceVectorIndex: exact and HNSW agree, deletions stay deleted, snapshots survive or read as damaged."""

from __future__ import annotations

import subprocess
import sys
import threading

import numpy as np
import pytest

from reko.store.vector_index import FaceVectorIndex, reconcile

SMALL_EXACT_MAX_FACES = 200  # forces the HNSW graph past a few hundred faces
FACES = 3_000


def unit_vectors(count: int, seed: int) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((count, 128)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def near(vectors: np.ndarray, cosine: float, seed: int) -> np.ndarray:
    """Queries at `cosine` to each vector: its match is clear but not trivial."""
    noise = unit_vectors(len(vectors), seed)
    noise -= np.sum(noise * vectors, axis=1, keepdims=True) * vectors
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    return (cosine * vectors + np.sqrt(1 - cosine**2) * noise).astype(np.float32)


def filled(count: int, exact_max_faces: int, seed: int = 0) -> tuple[FaceVectorIndex, np.ndarray, np.ndarray]:
    index = FaceVectorIndex(exact_max_faces)
    keys = np.arange(10, 10 + count, dtype=np.int64) * 3  # sparse, like seqs after deletions
    vectors = unit_vectors(count, seed)
    index.add(keys, vectors)
    return index, keys, vectors


@pytest.mark.parametrize("exact_max_faces", [100_000, SMALL_EXACT_MAX_FACES])
def test_search_finds_the_match_best_first(exact_max_faces: int) -> None:
    index, keys, vectors = filled(FACES, exact_max_faces)
    assert index.uses_scan is (FACES > exact_max_faces)
    queries = near(vectors[:200], 0.7, seed=1)
    found = [index.search(query, 5) for query in queries]
    recall = np.mean([result_keys[0] == keys[i] for i, (result_keys, _) in enumerate(found)])
    assert recall >= 0.99
    result_keys, cosines = found[0]
    assert result_keys.dtype == np.int64 and cosines.dtype == np.float32
    assert np.all(np.diff(cosines) <= 1e-6)
    exact = vectors[np.searchsorted(keys, result_keys)] @ queries[0]
    np.testing.assert_allclose(cosines, exact, atol=2e-3)  # the graph keeps float16 vectors
    everything, _ = index.search(queries[0], FACES + 10)
    assert sorted(everything) == list(keys)


def test_exact_and_scan_agree_on_top_match() -> None:
    exact, keys, vectors = filled(FACES, 100_000)
    graph, _, _ = filled(FACES, SMALL_EXACT_MAX_FACES)
    queries = near(vectors[::15], 0.6, seed=2)
    agree = np.mean([exact.search(query, 1)[0][0] == graph.search(query, 1)[0][0] for query in queries])
    assert agree >= 0.99


@pytest.mark.parametrize("exact_max_faces", [100_000, SMALL_EXACT_MAX_FACES])
def test_removed_keys_never_come_back(exact_max_faces: int) -> None:
    index, keys, vectors = filled(1_000, exact_max_faces)
    gone = keys[::2]
    assert index.remove(np.append(gone, 999_999)) == len(gone)  # an absent key is ignored
    assert len(index) == len(keys) - len(gone)
    np.testing.assert_array_equal(index.keys(), keys[1::2])
    for query in vectors[::2][:100]:  # each removed face's own vector
        result_keys, _ = index.search(query, 20)
        assert not np.isin(result_keys, gone).any()


def test_adding_a_held_key_is_refused() -> None:
    for exact_max_faces in (100_000, SMALL_EXACT_MAX_FACES):
        index, keys, vectors = filled(500, exact_max_faces)
        with pytest.raises(ValueError):
            index.add(keys[:1], vectors[:1])


def test_growing_past_the_limit_switches_to_the_scan() -> None:
    index = FaceVectorIndex(SMALL_EXACT_MAX_FACES)
    vectors = unit_vectors(600, seed=3)
    for start in range(0, 600, 50):
        index.add(np.arange(start, start + 50), vectors[start : start + 50])
        assert index.uses_scan is (start + 50 > SMALL_EXACT_MAX_FACES)
    np.testing.assert_array_equal(index.keys(), np.arange(600))
    assert index.search(vectors[7], 1)[0][0] == 7


@pytest.mark.parametrize("exact_max_faces", [100_000, SMALL_EXACT_MAX_FACES])
def test_reconcile_adds_the_missing_and_removes_the_gone(exact_max_faces: int) -> None:
    database = {int(seq): vector for seq, vector in zip(range(1, 801), unit_vectors(800, seed=4), strict=True)}
    index = FaceVectorIndex(exact_max_faces)
    index.add(np.arange(1, 601), np.stack([database[seq] for seq in range(1, 601)]))
    for seq in range(1, 601, 7):  # deleted from the database after the snapshot
        del database[seq]
    asked: list[int] = []

    def fetch(seqs: np.ndarray) -> np.ndarray:
        asked.extend(int(seq) for seq in seqs)
        return np.stack([database[int(seq)] for seq in seqs])

    added, removed = reconcile(index, np.array(sorted(database), np.int64), fetch)
    assert (added, removed) == (200, len(range(1, 601, 7)))
    assert asked == list(range(601, 801))
    np.testing.assert_array_equal(index.keys(), sorted(database))
    assert index.search(database[700], 1)[0][0] == 700
    assert reconcile(index, np.array(sorted(database), np.int64), fetch) == (0, 0)


def test_reconcile_rebuilds_an_empty_index_past_the_limit() -> None:
    vectors = unit_vectors(700, seed=5)
    index = FaceVectorIndex(SMALL_EXACT_MAX_FACES)
    assert reconcile(index, np.arange(700), lambda seqs: vectors[seqs]) == (700, 0)
    assert index.uses_scan and len(index) == 700


def test_concurrent_adds_and_searches() -> None:
    index, keys, vectors = filled(150, SMALL_EXACT_MAX_FACES)
    extra = unit_vectors(1_000, seed=6)
    failures: list[BaseException] = []

    def writer() -> None:
        try:
            for start in range(0, 1_000, 20):
                index.add(np.arange(10_000 + start, 10_020 + start), extra[start : start + 20])
                index.remove(np.array([10_000 + start]))
        except BaseException as error:  # noqa: BLE001 - surfaced by the assertion below
            failures.append(error)

    def reader() -> None:
        try:
            for query in vectors[:100]:
                found, _ = index.search(query, 3)
                assert len(found) == 3
        except BaseException as error:  # noqa: BLE001
            failures.append(error)

    threads = [threading.Thread(target=writer), threading.Thread(target=reader), threading.Thread(target=reader)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    assert index.uses_scan and len(index) == 150 + 1_000 - 50
    assert not np.isin(np.arange(10_000, 11_000, 20), index.keys()).any()


@pytest.mark.parametrize("imports", ["faiss, onnxruntime", "onnxruntime, faiss"])
def test_onnxruntime_and_faiss_load_together(imports: str) -> None:
    """Native libraries can clash on import (usearch 2.26.6 crashed onnxruntime's import after its own)."""
    loaded = subprocess.run([sys.executable, "-c", f"import {imports}"], check=False, timeout=60)
    assert loaded.returncode == 0
