"""`reko.client` is a typed library that stands alone: `mypy --strict` clean, and it imports no other part of
Reko (DESIGN.md: it depends on boto3 only, never on the server)."""

from __future__ import annotations

import ast
import subprocess
import sys

from tests.conftest import REPO_ROOT

CLIENT = REPO_ROOT / "reko" / "client"
# Third-party packages the client may use: boto3/botocore for the wire, NumPy and Pillow for image inputs and
# drawing (both already dependencies of the project).
ALLOWED_THIRD_PARTY = {"boto3", "botocore", "numpy", "PIL"}


def test_the_client_is_mypy_strict_clean() -> None:
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "reko/client"], capture_output=True, text=True, cwd=REPO_ROOT,
        timeout=300,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_client_imports_only_itself_boto3_numpy_pillow_and_the_standard_library() -> None:
    for module in sorted(CLIENT.glob("*.py")):
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top == "reko":
                    assert name.startswith("reko.client"), f"{module.name} imports {name}"
                else:
                    assert top in ALLOWED_THIRD_PARTY or top in sys.stdlib_module_names, f"{module.name}: {name}"
