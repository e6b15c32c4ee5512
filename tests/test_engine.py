"""The engine: one dispatch for server and CLI, and every model loaded before /health says ready."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest

from reko.config import Settings
from reko.engine import Engine
from reko.errors import InvalidParameterException, NotImplementedException
from reko.operations.common.context import Caller
from reko.vision import catalog
from tests.conftest import jpeg_bytes, test_image

CALLER = Caller(request_id="test", account_id="000000000000", region="us-east-1")
# Catalogued models no answer loads: bundled files that requests run only through their prepared copies
# (age-estimator-with-features, face-mesh-batched, face-mesh-iris-batched).
NOT_YET_USED: set[str] = {"age-estimator", "face-mesh", "face-mesh-iris"}


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    built = Engine(Settings(data_dir=tmp_path_factory.mktemp("reko-data")))
    yield built
    built.close()


def test_load_models_prepares_every_model_an_answer_can_need(engine: Engine) -> None:
    """After `load_models` no request prepares or loads a file: an ALL request must not find work left."""
    engine.load_models()
    loaded = engine.catalog.resolved()
    assert loaded == {model.name for model in catalog.MODELS} - NOT_YET_USED
    photo = base64.b64encode(jpeg_bytes(test_image("astronaut.png"))).decode()  # as the wire carries it
    answer = engine.dispatch("DetectFaces", {"Image": {"Bytes": photo}, "Attributes": ["ALL"]}, CALLER)
    assert len(answer["FaceDetails"]) == 1
    labels = engine.dispatch("DetectLabels", {"Image": {"Bytes": photo}}, CALLER)
    assert "Person" in [label["Name"] for label in labels["Labels"]]
    assert engine.catalog.resolved() == loaded


def test_dispatch_validates_before_it_computes(engine: Engine) -> None:
    with pytest.raises(InvalidParameterException):
        engine.dispatch("DetectFaces", {"Image": {"Bytes": b"x"}, "Attributes": ["NOPE"]}, CALLER)
    with pytest.raises(NotImplementedException, match="DetectText"):
        engine.dispatch("DetectText", {}, CALLER)


def test_the_store_lives_in_the_data_folder(engine: Engine) -> None:
    assert Path(engine.store.database.path).parent == engine.settings.data_dir


def test_an_operation_without_images_loads_no_model(tmp_path: Path) -> None:
    """ListCollections (and the `reko collections` commands) must not wait for the face models."""
    fresh = Engine(Settings(data_dir=tmp_path))
    try:
        assert fresh.dispatch("ListCollections", {}, CALLER)["CollectionIds"] == []
        assert fresh.catalog.resolved() == frozenset()
    finally:
        fresh.close()


def test_serving_does_not_import_the_training_libraries() -> None:
    """scikit-learn (and SciPy under it) took 1.7 s of a 3 s start: only training may import it."""
    import subprocess
    import sys

    probe = "import sys, reko.cli, reko.server.app; print(sorted({'sklearn', 'scipy'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.strip() == "[]"


def test_the_engine_keeps_numpy_s_blas_on_one_thread(engine: Engine) -> None:
    """OpenBLAS's spinning workers took the cores the models need (`runtime.BLAS_THREADS`)."""
    from threadpoolctl import threadpool_info

    blas = [pool for pool in threadpool_info() if pool["user_api"] == "blas"]
    assert blas and all(pool["num_threads"] == 1 for pool in blas)
