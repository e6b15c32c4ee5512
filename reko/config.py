"""Settings: defaults, overridden by `REKO_*` environment variables, overridden by CLI flags."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8085
DEFAULT_DATA_DIR = Path("reko-data")

# The documented development key pair: works out of the box when no other keys are configured.
DEV_ACCESS_KEY_ID = "AKIAREKOLOCALDEV0001"
DEV_SECRET_ACCESS_KEY = "reko-local-development-secret-do-not-use-in-prod"
DEV_ACCOUNT_ID = "000000000000"

# Requests admitted at once per core (reading their body, queued or computing); beyond, ThrottlingException.
IN_FLIGHT_PER_CORE = 4


@dataclass(frozen=True)
class Settings:
    """Everything `reko serve` needs to know, with the embedded defaults a newcomer gets."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    data_dir: Path = DEFAULT_DATA_DIR
    auth: bool = True
    regions: tuple[str, ...] = ()  # empty: any region is accepted in the credential scope
    inference_threads: int = 0  # ONNX Runtime intra-op threads; 0 picks min(cpu count, 4)
    inference_workers: int = 2  # requests computed at once
    max_in_flight: int = 0  # requests admitted at once (body, queue, compute); 0: IN_FLIGHT_PER_CORE per core
    max_connections: int = 1000  # open connections; beyond, the longest-idle one is closed (or the new one)
    max_header_bytes: int = 32 * 1024  # request line + headers (SigV4 with a session token needs ~3 KiB)
    header_timeout_s: float = 10.0  # a connection must deliver a whole request head within this
    body_timeout_s: float = 30.0  # a whole body (≤ 8 MiB) must arrive within this: ~2.2 Mbit/s
    keep_alive_timeout_s: int = 5  # idle time between requests before a connection is closed
    s3_endpoint: str | None = None  # read S3Object from this S3-compatible endpoint instead of the data folder
    database_url: str | None = None  # PostgreSQL (with pgvector) shared by several servers, instead of SQLite
    # Collections bigger than this are searched with a quantized scan (embedded backend); None: the store's default.
    exact_search_max_faces: int | None = None
    log_level: str = "INFO"
    # HTTPS (both files PEM): what Roles Anywhere clients require, and what any key-issuing deployment needs.
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    # Roles Anywhere's CreateSession (`POST /sessions`), on when a trust anchor (CA certificates, PEM) is set.
    trust_anchor_file: Path | None = None
    trust_anchor_arns: tuple[str, ...] = ()  # empty: any trustAnchorArn is accepted
    profile_arns: tuple[str, ...] = ()  # empty: any profileArn is accepted
    role_arns: tuple[str, ...] = ()  # empty: any roleArn is accepted
    session_account_id: str = DEV_ACCOUNT_ID  # the account issued credentials act for

    @property
    def in_flight_limit(self) -> int:
        return self.max_in_flight or IN_FLIGHT_PER_CORE * (os.cpu_count() or 1)

    @property
    def model_cache_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def database_path(self) -> Path:
        return self.data_dir / "reko.sqlite3"

    @property
    def s3_dir(self) -> Path:
        return self.data_dir / "s3"

    @property
    def credentials_file(self) -> Path:
        return self.data_dir / "credentials.json"

    @property
    def session_secret_file(self) -> Path:
        """The secret that authenticates issued session tokens (reko/server/sessions.py); made at first use."""
        return self.data_dir / "session-secret"


def _flag(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _comma_list(value: str) -> tuple[str, ...]:
    return tuple(region.strip() for region in value.split(",") if region.strip())


def _account_id(value: str) -> str:
    if not (len(value.strip()) == 12 and value.strip().isdigit()):
        raise ValueError("an account id is 12 digits")
    return value.strip()


class SettingsError(ValueError):
    """A REKO_* variable whose value cannot be used; the message names the variable."""


def _log_level(value: str) -> str:
    """A logging level name in any case (`debug`, `INFO`)."""
    level = value.strip().upper()
    if level not in logging.getLevelNamesMapping():
        raise ValueError("not a log level (use DEBUG, INFO, WARNING or ERROR)")
    return level


# REKO_* variable → (Settings field, parser); a variable set to an empty string is ignored.
ENVIRONMENT: dict[str, tuple[str, Callable[[str], Any]]] = {
    "REKO_HOST": ("host", str),
    "REKO_PORT": ("port", int),
    "REKO_DATA_DIR": ("data_dir", Path),
    "REKO_NO_AUTH": ("auth", lambda value: not _flag(value)),
    "REKO_REGIONS": ("regions", _comma_list),
    "REKO_THREADS": ("inference_threads", int),
    "REKO_WORKERS": ("inference_workers", int),
    "REKO_MAX_IN_FLIGHT": ("max_in_flight", int),
    "REKO_MAX_CONNECTIONS": ("max_connections", int),
    "REKO_MAX_HEADER_BYTES": ("max_header_bytes", int),
    "REKO_HEADER_TIMEOUT": ("header_timeout_s", float),
    "REKO_BODY_TIMEOUT": ("body_timeout_s", float),
    "REKO_KEEP_ALIVE_TIMEOUT": ("keep_alive_timeout_s", int),
    "REKO_S3_ENDPOINT": ("s3_endpoint", str),
    "REKO_DATABASE_URL": ("database_url", str),
    "REKO_EXACT_SEARCH_MAX_FACES": ("exact_search_max_faces", int),
    "REKO_LOG_LEVEL": ("log_level", _log_level),
    "REKO_TLS_CERT": ("tls_cert_file", Path),
    "REKO_TLS_KEY": ("tls_key_file", Path),
    "REKO_TRUST_ANCHOR_CA": ("trust_anchor_file", Path),
    "REKO_TRUST_ANCHOR_ARNS": ("trust_anchor_arns", _comma_list),
    "REKO_PROFILE_ARNS": ("profile_arns", _comma_list),
    "REKO_ROLE_ARNS": ("role_arns", _comma_list),
    "REKO_SESSION_ACCOUNT_ID": ("session_account_id", _account_id),
}


def from_environment(environ: dict[str, str] | None = None) -> Settings:
    """Settings from the `REKO_*` variables of `ENVIRONMENT` (REKO_PORT, REKO_DATA_DIR, REKO_NO_AUTH, ...)."""
    env = dict(os.environ if environ is None else environ)
    overrides: dict[str, Any] = {}
    for name, (field, parse) in ENVIRONMENT.items():
        if env.get(name, "").strip():
            try:
                overrides[field] = parse(env[name])
            except ValueError as error:
                raise SettingsError(f"{name}={env[name]!r}: {error}") from error
    return replace(Settings(), **overrides)
