"""Trained Custom Labels models held by one process: the shared backbones and each started version's heads."""

from __future__ import annotations

import threading
from collections.abc import Callable

from reko.vision.image_features import MultiLevelFeatures
from reko.vision.runtime import Runtime
from reko.vision.training.detection import FeatureMaps
from reko.vision.training.model import CustomModel, CustomModelRunner


class CustomLabelPipeline:
    """Heads are cached by version ARN: an ARN names one training's artefact for ever (a version recreated under
    the same name gets a new ARN), so a cached copy can never be stale."""

    def __init__(self, runtime: Runtime) -> None:
        self.runner = CustomModelRunner(MultiLevelFeatures(runtime), FeatureMaps(runtime))
        self._models: dict[str, CustomModel] = {}
        self._lock = threading.Lock()

    def model(self, arn: str, artefact: Callable[[], bytes]) -> CustomModel:
        """The version's model, read with `artefact()` on first use."""
        with self._lock:
            cached = self._models.get(arn)
        if cached is None:
            cached = CustomModel.from_bytes(artefact())
            with self._lock:
                self._models[arn] = cached
        return cached

    def forget(self, arn: str) -> None:
        with self._lock:
            self._models.pop(arn, None)
