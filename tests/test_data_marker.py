"""The `data` mark itself: absent evaluation data skips with its path, or fails under REKO_REQUIRE_DATA=1.

Runs pytest in a subprocess on a throwaway test file with the project's own configuration and conftest, so what
is checked is exactly what `make test` and `.ci/run` see.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, REQUIRE_DATA_VARIABLE, SHARED_DATA

MISSING_SET = "no-such-set-for-the-marker-test"
THROWAWAY_TESTS = f'''
import pytest

from tests.conftest import needs_shared_data, require_shared_data


@needs_shared_data("{MISSING_SET}")
def test_marked() -> None:
    raise AssertionError("must not run without its data")


@pytest.fixture
def reads_data():
    return require_shared_data("{MISSING_SET}")


def test_through_a_fixture(reads_data) -> None:
    raise AssertionError("must not run without its data")


def test_without_data() -> None:
    pass
'''


def run_pytest(tmp_path: Path, require_data: bool, options: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    test_file = tmp_path / "test_throwaway.py"
    test_file.write_text(THROWAWAY_TESTS)
    env = {key: value for key, value in os.environ.items() if key != REQUIRE_DATA_VARIABLE}
    if require_data:
        env[REQUIRE_DATA_VARIABLE] = "1"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    command = [sys.executable, "-m", "pytest", "-c", str(REPO_ROOT / "pyproject.toml"), "-p", "tests.conftest",
               "-p", "no:cacheprovider", "-q", str(test_file), *options]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=REPO_ROOT, timeout=120)


@pytest.fixture(scope="module")
def missing_path() -> str:
    path = SHARED_DATA / MISSING_SET
    assert not path.exists()
    return str(path)


def test_absent_data_skips_with_its_path(tmp_path: Path, missing_path: str) -> None:
    result = run_pytest(tmp_path, require_data=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed, 2 skipped" in result.stdout
    assert f"needs evaluation data at {missing_path}" in result.stdout  # -rs in the project's options


def test_absent_data_fails_when_required(tmp_path: Path, missing_path: str) -> None:
    result = run_pytest(tmp_path, require_data=True)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 passed, 2 errors" in result.stdout
    assert f"{REQUIRE_DATA_VARIABLE}=1 but the evaluation data is missing: {missing_path}" in result.stdout


def test_the_mark_selects_data_tests(tmp_path: Path) -> None:
    result = run_pytest(tmp_path, require_data=False, options=("-m", "not data"))
    assert "1 passed, 1 skipped, 1 deselected" in result.stdout, result.stdout
