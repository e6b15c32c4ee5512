"""bench/collections_postgres.py on a small synthetic collection in the session's PostgreSQL: every column is
filled, and each index kind finds the matches."""

from __future__ import annotations

import pytest

from bench import collections_postgres
from bench.collections_postgres import IndexSpec
from tests.conftest import PostgresCluster
from tests.test_bench_collections import synthetic_lfw


@pytest.mark.parametrize(
    ("spec", "least_recall"),
    [(IndexSpec(), 0.95), (IndexSpec("ivfflat", lists=4), 1.0), (IndexSpec("exact"), 1.0)],
    ids=["hnsw", "ivfflat", "exact"],
)
def test_run_size_fills_every_column(postgres: PostgresCluster, spec: IndexSpec, least_recall: float) -> None:
    rows = collections_postgres.run_size(postgres.server, 2_000, synthetic_lfw(), "isotropic", spec, (40,))
    (row,) = rows
    assert all(value is not None for value in row.values()), row
    assert row["faces"] == 2_000 and row["index"] == spec.label and row["cached_load"] is False
    assert float(row["recall@1"]) >= least_recall  # type: ignore[arg-type]
    assert collections_postgres.run_size(postgres.server, 2_000, synthetic_lfw(), "isotropic", spec, (40,))[0][
        "cached_load"
    ] is True
