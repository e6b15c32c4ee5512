"""Settings that change how requests are admitted: the in-flight cap (ThrottlingException, which clients retry),
the limits' variables and flags, and --no-auth. The limits at work on a real server: test_door.py."""

from __future__ import annotations

import os
from pathlib import Path
from unittest import mock

import pytest
from starlette.testclient import TestClient

from reko import config
from reko.cli import build_parser, serve_settings
from reko.config import IN_FLIGHT_PER_CORE, Settings
from reko.errors import ThrottlingException
from reko.server.admission import InFlight
from reko.server.app import create_app


def test_in_flight_cap_refuses_beyond_and_frees_on_exit() -> None:
    door = InFlight(limit=2)
    with door.admit(), door.admit():
        with pytest.raises(ThrottlingException, match="2 requests are in flight"):
            with door.admit():
                pass
    with door.admit():  # both slots came back, errors included
        assert door.count == 1
    with pytest.raises(ValueError), door.admit():
        raise ValueError
    assert door.count == 0


def test_default_in_flight_cap_follows_the_cores() -> None:
    assert Settings().in_flight_limit == IN_FLIGHT_PER_CORE * (os.cpu_count() or 1)
    assert Settings(max_in_flight=3).in_flight_limit == 3


def test_limits_come_from_variables_and_flags_win() -> None:
    env = {"REKO_MAX_IN_FLIGHT": "5", "REKO_HEADER_TIMEOUT": "2.5", "REKO_MAX_CONNECTIONS": "", "REKO_PORT": "9000"}
    settings = config.from_environment(env)
    assert (settings.max_in_flight, settings.header_timeout_s, settings.port) == (5, 2.5, 9000)
    assert settings.max_connections == Settings().max_connections  # empty: ignored
    with mock.patch.dict(os.environ, env, clear=True):
        args = build_parser().parse_args(["serve", "--max-in-flight", "7", "--body-timeout", "3", "--no-auth"])
        settings = serve_settings(args)
    assert (settings.max_in_flight, settings.body_timeout_s, settings.header_timeout_s) == (7, 3.0, 2.5)
    assert settings.auth is False


def test_no_auth_mode_serves_unsigned_requests(tmp_path: Path, astronaut_jpeg: bytes) -> None:
    import base64
    import json

    settings = Settings(data_dir=tmp_path, auth=False)
    with TestClient(create_app(settings, warm_up_in_background=False)) as client:
        body = json.dumps({"Image": {"Bytes": base64.b64encode(astronaut_jpeg).decode()}})
        answer = client.post("/", content=body, headers={"X-Amz-Target": "RekognitionService.DetectFaces"})
    assert answer.status_code == 200
    assert len(answer.json()["FaceDetails"]) == 1
