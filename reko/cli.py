"""The `reko` command: serve the API, run an operation on a local file, inspect the model catalogue."""

from __future__ import annotations

import argparse
import base64
import json
import logging
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from reko import config


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from reko.server.app import create_app

    settings = config.from_environment()
    overrides: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "data_dir": Path(args.data_dir) if args.data_dir else None,
        "inference_threads": args.threads,
        "inference_workers": args.workers,
        "s3_endpoint": args.s3_endpoint,
    }
    settings = replace(settings, **{k: v for k, v in overrides.items() if v is not None})
    if args.no_auth:
        settings = replace(settings, auth=False)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    _configure_logging(settings.log_level)
    logging.getLogger("reko.server").info(
        "Reko on http://%s:%d (data %s, auth %s)", settings.host, settings.port, settings.data_dir.resolve(),
        "on" if settings.auth else "OFF",
    )
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, access_log=False, log_level="warning")
    return 0


def _configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s", stream=sys.stderr)


def _run_operation(operation: str, request: dict[str, Any]) -> int:
    """Run one operation in-process through the engine's `dispatch`, as the server does, and print its JSON."""
    from reko.engine import Engine
    from reko.errors import RekognitionError
    from reko.operations.common.context import Caller

    engine = Engine(config.from_environment())
    caller = Caller(request_id="cli", account_id=config.DEV_ACCOUNT_ID, region="us-east-1")
    try:
        answer = engine.dispatch(operation, request, caller)
    except RekognitionError as error:
        print(json.dumps({"__type": error.code, "Message": error.message}, indent=2))
        return 1
    finally:
        engine.close()
    print(json.dumps(answer, indent=2))
    return 0


def _image_member(path: str) -> dict[str, Any]:
    return {"Bytes": base64.b64encode(Path(path).read_bytes()).decode()}


def _detect_faces(args: argparse.Namespace) -> int:
    return _run_operation("DetectFaces", {"Image": _image_member(args.image), "Attributes": args.attributes})


def _models(args: argparse.Namespace) -> int:
    from reko.vision import catalog

    models = catalog.Catalog(config.from_environment().model_cache_dir)
    failures = 0
    for model in catalog.MODELS:
        try:
            path = models.model_path(model.name)
            status = f"ok  sha256 {model.sha256[:16]}…  {path}"
            if model.name in models.rebuilt:
                status += "  (the cached copy was damaged and has been prepared again)"
        except catalog.ModelError as error:
            failures += 1
            status = f"FAILED  {error}"
        print(f"{model.name}\n  {model.purpose}\n  from {model.package}=={model.version} ({model.source_file})")
        print(f"  licence: {model.licence}\n  {status}")
    return 1 if failures else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="reko", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="start the Rekognition-compatible HTTP service")
    serve.add_argument("--host", help=f"interface to listen on (default {config.DEFAULT_HOST}, env REKO_HOST)")
    serve.add_argument("--port", type=int, help=f"port (default {config.DEFAULT_PORT}, env REKO_PORT)")
    serve.add_argument("--data-dir", help=f"data folder (default ./{config.DEFAULT_DATA_DIR}, env REKO_DATA_DIR)")
    serve.add_argument("--threads", type=int, help="ONNX Runtime threads per inference (env REKO_THREADS)")
    serve.add_argument("--workers", type=int, help="requests computed at once (default 2, env REKO_WORKERS)")
    serve.add_argument("--s3-endpoint", help="read S3Object images from this S3-compatible endpoint")
    serve.add_argument("--no-auth", action="store_true", help="accept unsigned requests (throwaway runs only)")
    serve.set_defaults(run=_serve)

    detect = commands.add_parser("detect-faces", help="DetectFaces on a local image, printed as the API's JSON")
    detect.add_argument("image")
    detect.add_argument("--attributes", nargs="+", default=["DEFAULT"], help="DEFAULT, ALL, or single attributes")
    detect.set_defaults(run=_detect_faces)

    models = commands.add_parser("models", help="list the model catalogue and verify every file")
    models.set_defaults(run=_models)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
