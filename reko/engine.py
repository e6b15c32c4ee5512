"""The engine: owns the models, the store and the pools; `dispatch` is the one request path of server and CLI."""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from reko.config import Settings
from reko.jobs.worker import TrainingWorker
from reko.operations import HANDLERS, handler_for
from reko.operations.common.context import Caller, OperationContext
from reko.pipelines.custom_labels import CustomLabelPipeline
from reko.pipelines.faces import FacePipeline
from reko.pipelines.labels import LabelPipeline
from reko.pipelines.ppe import PpePipeline
from reko.store import Store
from reko.store.object_listing import ObjectPage
from reko.validation import service_model, validate_request
from reko.vision.catalog import Catalog
from reko.vision.runtime import Runtime, limit_blas_threads


class Engine:
    """Everything a Reko process holds once, built from its `Settings`.

    Models load on `load_models()` (the server does it in the background and answers /health 503 until it is
    done); `dispatch` loads them on first use when nobody did.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        limit_blas_threads()
        self.catalog = Catalog(settings.model_cache_dir)
        self.runtime = Runtime(self.catalog, settings.inference_threads)
        self.store = Store.from_settings(settings)
        self.requests = ThreadPoolExecutor(max_workers=settings.inference_workers, thread_name_prefix="reko-request")
        self._faces: FacePipeline | None = None
        self._labels: LabelPipeline | None = None
        self._custom_labels: CustomLabelPipeline | None = None
        self._ppe: PpePipeline | None = None
        self._models_lock = threading.Lock()
        # Custom Labels training: started by `start_jobs` (the server, `reko custom-labels train`), never by a
        # one-shot CLI command that could die mid-training.
        self.jobs = TrainingWorker(self.store, lambda: self.custom_labels.runner, settings.data_dir / "custom-labels")

    @property
    def faces(self) -> FacePipeline:
        if self._faces is None:
            self.load_models()
        assert self._faces is not None
        return self._faces

    @property
    def labels(self) -> LabelPipeline:
        if self._labels is None:
            self.load_models()
        assert self._labels is not None
        return self._labels

    @property
    def custom_labels(self) -> CustomLabelPipeline:
        if self._custom_labels is None:
            self.load_models()
        assert self._custom_labels is not None
        return self._custom_labels

    def start_jobs(self) -> None:
        """Run the background training worker in this process."""
        self.jobs.start()

    @property
    def ppe(self) -> PpePipeline:
        if self._ppe is None:
            self.load_models()
        assert self._ppe is not None
        return self._ppe

    def load_face_models(self) -> None:
        """Load and warm the face models (DetectFaces, CompareFaces, collections): what the server's /health waits
        for, so a start is ready in seconds; `load_models` then loads the rest while requests are served."""
        with self._models_lock:
            if self._faces is None:
                faces = FacePipeline(self.runtime)
                faces.warm_up()
                self._faces = faces

    def load_models(self) -> None:
        """Load every model of every implemented operation, so no request pays for a first load (a request that
        needs a pipeline still loading waits for it)."""
        self.load_face_models()
        with self._models_lock:
            if self._labels is None:
                self._labels = LabelPipeline(self.runtime)
            if self._custom_labels is None:  # the backbones of trained heads (their heads load on Start)
                self._custom_labels = CustomLabelPipeline(self.runtime)
            if self._ppe is None:
                # the person and face detectors are the label and face pipelines' own: one session each
                assert self._faces is not None  # loaded above; never unloaded
                self._ppe = PpePipeline(self.runtime, self._labels, self._faces)

    def implements(self, operation: str) -> bool:
        """Whether Reko has a handler for `operation` (others answer NotImplementedException)."""
        return operation in HANDLERS

    def buckets(self) -> list[str]:
        """The buckets `S3Object` images can come from (the console's picker)."""
        return self.store.objects.buckets()

    def bucket_images(self, bucket: str, start_after: str | None, limit: int) -> ObjectPage:
        """A page of a bucket's JPEG and PNG objects after the key `start_after` (the store says in which order)."""
        return self.store.objects.images(bucket, start_after, limit)

    def bucket_object(self, bucket: str, name: str) -> bytes:
        """An object's bytes, for the console to show the image an `S3Object` it sends names."""
        return self.store.objects.read(bucket, name, None)

    def dispatch(self, operation: str, params: dict[str, Any], caller: Caller) -> dict[str, Any]:
        """Validate the parameters of a Rekognition operation and run it; Rekognition errors propagate."""
        handler = handler_for(operation)
        request = validate_request(service_model().operation_model(operation), params)
        context = OperationContext(
            caller=caller, store=self.store, face_pipeline=lambda: self.faces, label_pipeline=lambda: self.labels,
            custom_label_pipeline=lambda: self.custom_labels,
            ppe_pipeline=lambda: self.ppe,
        )
        return handler(request, context)

    def submit(self, operation: str, params: dict[str, Any], caller: Caller) -> Future[dict[str, Any]]:
        """`dispatch` on the request pool (the server's event loop never computes)."""
        return self.requests.submit(self.dispatch, operation, params, caller)

    def close(self) -> None:
        self.jobs.stop()
        self.requests.shutdown(wait=False, cancel_futures=True)
        self.runtime.close()
        self.store.close()
