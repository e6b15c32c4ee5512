"""The models benchmarks run: built as the engine builds them, on the data folder's model cache."""

from __future__ import annotations

import functools

from reko import config
from reko.pipelines.faces import FacePipeline
from reko.vision.catalog import Catalog
from reko.vision.runtime import Runtime


@functools.cache
def bench_runtime() -> Runtime:
    settings = config.from_environment()
    return Runtime(Catalog(settings.model_cache_dir), settings.inference_threads)


@functools.cache
def face_pipeline() -> FacePipeline:
    return FacePipeline(bench_runtime())
