"""What an operation handler knows besides its parameters: who asks, and the engine's parts it may use."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from reko.pipelines.custom_labels import CustomLabelPipeline
from reko.pipelines.faces import FacePipeline
from reko.pipelines.labels import LabelPipeline
from reko.pipelines.ppe import PpePipeline
from reko.store import Scope, Store


@dataclass(frozen=True)
class Caller:
    """The authenticated caller of one request."""

    request_id: str
    account_id: str
    region: str

    @property
    def scope(self) -> Scope:
        return Scope(account_id=self.account_id, region=self.region)


@dataclass(frozen=True)
class OperationContext:
    """`faces` and `labels` load their models on first use, so an operation that needs none (ListCollections)
    is cheap."""

    caller: Caller
    store: Store
    face_pipeline: Callable[[], FacePipeline]
    label_pipeline: Callable[[], LabelPipeline] | None = None
    custom_label_pipeline: Callable[[], CustomLabelPipeline] | None = None
    ppe_pipeline: Callable[[], PpePipeline] | None = None

    @property
    def faces(self) -> FacePipeline:
        return self.face_pipeline()

    @property
    def labels(self) -> LabelPipeline:
        if self.label_pipeline is None:
            raise RuntimeError("this context was made without the label models")
        return self.label_pipeline()

    @property
    def custom_labels(self) -> CustomLabelPipeline:
        if self.custom_label_pipeline is None:
            raise RuntimeError("this context was made without the Custom Labels models")
        return self.custom_label_pipeline()

    @property
    def ppe(self) -> PpePipeline:
        if self.ppe_pipeline is None:
            raise RuntimeError("this context was made without the PPE models")
        return self.ppe_pipeline()
