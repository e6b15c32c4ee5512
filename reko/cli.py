"""The `reko` command: serve the API, run an operation on a local file, inspect the model catalogue."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from reko import cli_collections, cli_custom_labels, config
from reko.cli_collections import image_member, run_one
from reko.cli_draw import add_draw_flag, drawing_saver

# `reko serve` flag → Settings field; None (flag not given) keeps the REKO_* variable or the default.
SIGPIPE_EXIT_STATUS = 141  # 128 + SIGPIPE, what a shell reports for a command whose reader closed the pipe
# The Summary's MinConfidence when --required is given alone: reko.client's default, so both answer alike.
PPE_SUMMARY_MIN_CONFIDENCE = 80.0
SERVE_FLAGS = {
    "host": "host",
    "port": "port",
    "threads": "inference_threads",
    "workers": "inference_workers",
    "s3_endpoint": "s3_endpoint",
    "exact_search_max_faces": "exact_search_max_faces",
    "database_url": "database_url",
    "max_in_flight": "max_in_flight",
    "max_connections": "max_connections",
    "max_header_bytes": "max_header_bytes",
    "header_timeout": "header_timeout_s",
    "body_timeout": "body_timeout_s",
    "keep_alive_timeout": "keep_alive_timeout_s",
    "tls_cert": "tls_cert_file",
    "tls_key": "tls_key_file",
    "trust_anchor_ca": "trust_anchor_file",
}


def serve_settings(args: argparse.Namespace) -> config.Settings:
    """REKO_* variables, overridden by the flags given."""
    overrides: dict[str, Any] = {field: getattr(args, flag) for flag, field in SERVE_FLAGS.items()}
    settings = replace(config.from_environment(), **{k: v for k, v in overrides.items() if v is not None})
    if args.data_dir:
        settings = replace(settings, data_dir=Path(args.data_dir))
    if args.no_auth:
        settings = replace(settings, auth=False)
    return settings


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from reko.server.app import create_app
    from reko.server.transport import ConnectionLimits, protocol_class, raise_file_limit
    from reko.store.postgres import redacted_url

    settings = serve_settings(args)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    _configure_logging(settings.log_level)
    log = logging.getLogger("reko.server")
    max_connections = raise_file_limit(settings.max_connections)
    if max_connections < settings.max_connections:
        log.warning("open-file limit allows only %d connections (asked %d)", max_connections, settings.max_connections)
    limits = ConnectionLimits(max_connections, settings.max_header_bytes, settings.header_timeout_s)
    database = redacted_url(settings.database_url) if settings.database_url else settings.database_path.resolve()
    scheme = "https" if settings.tls_cert_file else "http"
    log.info(
        "Reko on %s://%s:%d (data %s, database %s, auth %s, %d requests in flight, %d connections)",
        scheme, settings.host, settings.port, settings.data_dir.resolve(), database, "on" if settings.auth else "OFF",
        settings.in_flight_limit, max_connections,
    )
    uvicorn.run(
        create_app(settings), host=settings.host, port=settings.port, http=protocol_class(limits),
        timeout_keep_alive=settings.keep_alive_timeout_s, access_log=False, log_level="warning",
        ssl_certfile=settings.tls_cert_file, ssl_keyfile=settings.tls_key_file,
    )
    return 0


def _configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s", stream=sys.stderr)


def _run_operation(operation: str, request: dict[str, Any], args: argparse.Namespace | None = None) -> int:
    """Run one operation in-process through the engine's `dispatch`, as the server does, and print its JSON;
    with the command's `--draw` (in `args`), also save its image (CompareFaces: the target) with the answer drawn."""
    draw_to = getattr(args, "draw", None)
    drawn_on = getattr(args, "target" if operation == "CompareFaces" else "image", None)
    return run_one(operation, request, drawing_saver(operation, drawn_on, draw_to) if drawn_on else None)


def _detect_faces(args: argparse.Namespace) -> int:
    request = {"Image": image_member(args.image), "Attributes": args.attributes}
    return _run_operation("DetectFaces", request, args)


def _detect_labels(args: argparse.Namespace) -> int:
    request: dict[str, Any] = {"Image": image_member(args.image), "Features": args.features}
    if args.max_labels is not None:
        request["MaxLabels"] = args.max_labels
    if args.min_confidence is not None:
        request["MinConfidence"] = args.min_confidence
    return _run_operation("DetectLabels", request, args)


def _detect_ppe(args: argparse.Namespace) -> int:
    request: dict[str, Any] = {"Image": image_member(args.image)}
    if args.required or args.min_confidence is not None:
        required = [kind.strip() for kind in (args.required or "").split(",") if kind.strip()]
        request["SummarizationAttributes"] = {
            "RequiredEquipmentTypes": required,
            "MinConfidence": PPE_SUMMARY_MIN_CONFIDENCE if args.min_confidence is None else args.min_confidence,
        }
    return _run_operation("DetectProtectiveEquipment", request, args)


def _compare_faces(args: argparse.Namespace) -> int:
    request: dict[str, Any] = {"SourceImage": image_member(args.source), "TargetImage": image_member(args.target)}
    if args.similarity_threshold is not None:
        request["SimilarityThreshold"] = args.similarity_threshold
    if args.quality_filter is not None:
        request["QualityFilter"] = args.quality_filter
    return _run_operation("CompareFaces", request, args)


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


def _add_serve_flags(serve: argparse.ArgumentParser) -> None:
    defaults = config.Settings()
    serve.add_argument("--host", help=f"interface to listen on (default {defaults.host}, env REKO_HOST)")
    serve.add_argument("--port", type=int, help=f"port (default {defaults.port}, env REKO_PORT)")
    serve.add_argument("--data-dir", help=f"data folder (default ./{defaults.data_dir}, env REKO_DATA_DIR)")
    serve.add_argument("--threads", type=int, help="ONNX Runtime threads per inference (env REKO_THREADS)")
    serve.add_argument("--workers", type=int, help="requests computed at once (default 2, env REKO_WORKERS)")
    serve.add_argument("--s3-endpoint", help="read S3Object images from this S3-compatible endpoint")
    serve.add_argument(
        "--database-url", metavar="URL",
        help="keep collections in this PostgreSQL database (pgvector) instead of SQLite, so several servers share "
        "them: postgresql://user:password@host:5432/reko (env REKO_DATABASE_URL)",
    )
    serve.add_argument(
        "--exact-search-max-faces", type=int, metavar="N",
        help="collections above N faces are searched with a quantized scan (default 100000, env "
        "REKO_EXACT_SEARCH_MAX_FACES)",
    )
    serve.add_argument("--no-auth", action="store_true", help="accept unsigned requests (throwaway runs only)")
    serve.add_argument("--tls-cert", type=Path, metavar="PEM", help="serve HTTPS with it (env REKO_TLS_CERT)")
    serve.add_argument("--tls-key", type=Path, metavar="PEM", help="the private key of --tls-cert (env REKO_TLS_KEY)")
    serve.add_argument(
        "--trust-anchor-ca", type=Path, metavar="PEM",
        help="turn on Roles Anywhere's CreateSession (POST /sessions) for client certificates issued by these CA "
        "certificates (env REKO_TRUST_ANCHOR_CA; ARNs and account: REKO_TRUST_ANCHOR_ARNS, REKO_PROFILE_ARNS, "
        "REKO_ROLE_ARNS, REKO_SESSION_ACCOUNT_ID)",
    )
    limits = serve.add_argument_group("limits", "what one client can hold; beyond them the server refuses early")
    limits.add_argument(
        "--max-in-flight", type=int, metavar="N",
        help=f"requests admitted at once (reading, queued, computing); beyond, ThrottlingException at once "
        f"(default {config.IN_FLIGHT_PER_CORE} per core = {defaults.in_flight_limit} here, env REKO_MAX_IN_FLIGHT)",
    )
    limits.add_argument(
        "--max-connections", type=int, metavar="N",
        help=f"open connections; beyond, the longest-idle one is closed (default {defaults.max_connections}, "
        "env REKO_MAX_CONNECTIONS; the open-file limit is raised to fit)",
    )
    limits.add_argument(
        "--max-header-bytes", type=int, metavar="BYTES",
        help=f"request line + headers (default {defaults.max_header_bytes}, env REKO_MAX_HEADER_BYTES)",
    )
    limits.add_argument(
        "--header-timeout", type=float, metavar="SECONDS",
        help=f"time to send a whole request head, idle connections included "
        f"(default {defaults.header_timeout_s:g}, env REKO_HEADER_TIMEOUT)",
    )
    limits.add_argument(
        "--body-timeout", type=float, metavar="SECONDS",
        help=f"time to send a whole body after its headers; then RequestTimeoutException "
        f"(default {defaults.body_timeout_s:g}, env REKO_BODY_TIMEOUT)",
    )
    limits.add_argument(
        "--keep-alive-timeout", type=int, metavar="SECONDS",
        help=f"idle time between requests on one connection (default {defaults.keep_alive_timeout_s}, "
        "env REKO_KEEP_ALIVE_TIMEOUT)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="reko", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser(
        "serve", help="start the Rekognition-compatible HTTP service",
        description="Start the Rekognition-compatible HTTP service. Every flag can also be set by the REKO_* "
        "variable named beside it; a flag wins over its variable.",
    )
    _add_serve_flags(serve)
    serve.set_defaults(run=_serve)

    detect = commands.add_parser("detect-faces", help="DetectFaces on a local image, printed as the API's JSON")
    detect.add_argument("image")
    detect.add_argument("--attributes", nargs="+", default=["DEFAULT"], help="DEFAULT, ALL, or single attributes")
    add_draw_flag(detect)
    detect.set_defaults(run=_detect_faces)

    labels = commands.add_parser("detect-labels", help="DetectLabels on a local image, printed as the API's JSON")
    labels.add_argument("image")
    labels.add_argument("--max-labels", type=int, metavar="N", help="at most N labels (default 1000)")
    labels.add_argument("--min-confidence", type=float, metavar="C", help="0-100 (default 55)")
    labels.add_argument(
        "--features", nargs="+", default=["GENERAL_LABELS"], help="GENERAL_LABELS (default) and/or IMAGE_PROPERTIES"
    )
    add_draw_flag(labels)
    labels.set_defaults(run=_detect_labels)

    ppe = commands.add_parser(
        "detect-ppe", help="DetectProtectiveEquipment on a local image, printed as the API's JSON",
        description="Persons with their face and head and the covers on them; --required or --min-confidence "
        "adds the Summary.",
    )
    ppe.add_argument("image")
    ppe.add_argument("--required", metavar="TYPES", help="comma-separated: FACE_COVER,HEAD_COVER,HAND_COVER")
    ppe.add_argument("--min-confidence", type=float, metavar="C",
                     help=f"0-100 for the Summary (default {PPE_SUMMARY_MIN_CONFIDENCE:g}, as reko.client)")
    add_draw_flag(ppe)
    ppe.set_defaults(run=_detect_ppe)

    compare = commands.add_parser(
        "compare-faces", help="CompareFaces on two local images, printed as the API's JSON",
        description="The largest face of SOURCE against the 100 largest faces of TARGET, as the API answers.",
    )
    compare.add_argument("source")
    compare.add_argument("target")
    compare.add_argument("--similarity-threshold", type=float, metavar="N", help="0-100 (default 80)")
    compare.add_argument(
        "--quality-filter", metavar="F", help="NONE (default), AUTO, LOW, MEDIUM or HIGH",
    )
    add_draw_flag(compare, "TARGET (matches green, unmatched faces red)")
    compare.set_defaults(run=_compare_faces)

    cli_collections.add_commands(commands)
    cli_custom_labels.add_commands(commands)

    models = commands.add_parser("models", help="list the model catalogue and verify every file")
    models.set_defaults(run=_models)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one `reko` command; a file that cannot be read or a bad REKO_* variable is one error line, exit 2."""
    args = build_parser().parse_args(argv)
    try:
        status = int(args.run(args))
        sys.stdout.flush()  # here, where a closed pipe is caught, not at the interpreter's exit
        return status
    except BrokenPipeError:
        # The reader went away (`reko ... | head`): stop quietly, with the status a SIGPIPE'd command has, and
        # point stdout at /dev/null so the interpreter's last flush cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return SIGPIPE_EXIT_STATUS
    except config.SettingsError as error:
        print(f"reko: {error}", file=sys.stderr)
    except OSError as error:
        where = f": {error.filename}" if error.filename else ""
        print(f"reko: {error.strerror or error}{where}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
