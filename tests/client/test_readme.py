"""The README's "Python client" example runs verbatim (only the server's URL is the test server's)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT, TEST_IMAGES, RunningServer

README_URL = "http://127.0.0.1:8085"


def readme_example() -> str:
    readme = (REPO_ROOT / "README.md").read_text()
    section = readme.split("## Python client", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, "the Python client section has a python block"
    return match.group(1)


def test_the_readme_example_runs_as_written(server: RunningServer, tmp_path: Path) -> None:
    code = readme_example()
    assert README_URL in code
    (tmp_path / "tests" / "images").mkdir(parents=True)
    (tmp_path / "tests" / "images" / "astronaut.png").write_bytes((TEST_IMAGES / "astronaut.png").read_bytes())
    ran = subprocess.run(
        [sys.executable, "-c", code.replace(README_URL, server.url)], capture_output=True, text=True, cwd=tmp_path,
        timeout=120, env={"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert ran.returncode == 0, ran.stderr
    assert (tmp_path / "astronaut-faces.png").stat().st_size > 0
    assert "Smile(value=" in ran.stdout and "Landmark(type='nose'" in ran.stdout
    assert "InvalidImageFormatException" in ran.stdout
