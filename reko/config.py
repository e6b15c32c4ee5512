"""Settings: defaults, overridden by `REKO_*` environment variables, overridden by CLI flags."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8085
DEFAULT_DATA_DIR = Path("reko-data")

# The documented development key pair: works out of the box when no other keys are configured.
DEV_ACCESS_KEY_ID = "AKIAREKOLOCALDEV0001"
DEV_SECRET_ACCESS_KEY = "reko-local-development-secret-do-not-use-in-prod"
DEV_ACCOUNT_ID = "000000000000"


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
    max_queued_requests: int = 64  # beyond this, ThrottlingException
    s3_endpoint: str | None = None  # read S3Object from this S3-compatible endpoint instead of the data folder
    log_level: str = "INFO"

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


def _flag(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def from_environment(environ: dict[str, str] | None = None) -> Settings:
    """Settings from `REKO_*` variables (REKO_HOST, REKO_PORT, REKO_DATA_DIR, REKO_NO_AUTH, REKO_REGIONS, ...)."""
    env = dict(os.environ if environ is None else environ)
    settings = Settings()
    if "REKO_HOST" in env:
        settings = replace(settings, host=env["REKO_HOST"])
    if "REKO_PORT" in env:
        settings = replace(settings, port=int(env["REKO_PORT"]))
    if "REKO_DATA_DIR" in env:
        settings = replace(settings, data_dir=Path(env["REKO_DATA_DIR"]))
    if "REKO_NO_AUTH" in env:
        settings = replace(settings, auth=not _flag(env["REKO_NO_AUTH"]))
    if env.get("REKO_REGIONS"):
        settings = replace(settings, regions=tuple(r.strip() for r in env["REKO_REGIONS"].split(",") if r.strip()))
    if "REKO_THREADS" in env:
        settings = replace(settings, inference_threads=int(env["REKO_THREADS"]))
    if "REKO_WORKERS" in env:
        settings = replace(settings, inference_workers=int(env["REKO_WORKERS"]))
    if env.get("REKO_S3_ENDPOINT"):
        settings = replace(settings, s3_endpoint=env["REKO_S3_ENDPOINT"])
    if "REKO_LOG_LEVEL" in env:
        settings = replace(settings, log_level=env["REKO_LOG_LEVEL"])
    return settings
