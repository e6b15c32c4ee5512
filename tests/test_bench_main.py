"""`python -m bench`: every suite's rows are kept and written, and a run where every suite skips still exits 0."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import bench.__main__ as bench_main
from bench import report


@pytest.fixture
def two_suites(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Two stand-in suites (pure logic: this checks the runner, not a model) writing into a temp folder."""
    monkeypatch.setattr(report, "RESULTS_DIR", tmp_path / "results")
    monkeypatch.setattr(bench_main, "SUITES", {
        "first": ("First", lambda data_dir: [{"suite": "first", "value": 1.0}]),
        "second": ("Second", lambda data_dir: [{"suite": "second", "value": 2.0}]),
    })
    monkeypatch.setattr(bench_main, "SUITES_WITHOUT_DATA", set())
    return tmp_path


def test_every_suite_is_written_and_summarised(two_suites: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert bench_main.main(["--data-dir", str(two_suites)]) == 0
    results = two_suites / "results"
    assert json.loads((results / "first.json").read_text()) == [{"suite": "first", "value": 1.0}]
    assert json.loads((results / "second.json").read_text()) == [{"suite": "second", "value": 2.0}]
    assert set(json.loads((results / "summary.json").read_text())) == {"first", "second"}
    printed = capsys.readouterr().out
    assert "## First" in printed and "## Second" in printed


def test_a_run_where_every_suite_skips_exits_cleanly(two_suites: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = two_suites / "no-data"
    assert bench_main.main(["--data-dir", str(missing)]) == 0
    printed = capsys.readouterr().out
    assert f"skipped 2 of 2 suites (first: no evaluation data at {missing}" in printed
    assert not (two_suites / "results").exists()
