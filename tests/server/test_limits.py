"""Settings that change how requests are admitted: back-pressure (ThrottlingException, which clients retry) and
--no-auth."""

from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient

from reko.config import Settings
from reko.server.app import create_app


def test_requests_beyond_the_queue_are_throttled(tmp_path: Path, astronaut_jpeg: bytes) -> None:
    import base64
    import json

    settings = Settings(data_dir=tmp_path, auth=False, max_queued_requests=0)
    with TestClient(create_app(settings, warm_up_in_background=False)) as client:
        body = json.dumps({"Image": {"Bytes": base64.b64encode(astronaut_jpeg).decode()}})
        answer = client.post("/", content=body, headers={"X-Amz-Target": "RekognitionService.DetectFaces"})
    assert answer.status_code == 400
    assert answer.json()["__type"] == "ThrottlingException"
    assert answer.headers["x-amzn-RequestId"]


def test_no_auth_mode_serves_unsigned_requests(tmp_path: Path, astronaut_jpeg: bytes) -> None:
    import base64
    import json

    settings = Settings(data_dir=tmp_path, auth=False)
    with TestClient(create_app(settings, warm_up_in_background=False)) as client:
        body = json.dumps({"Image": {"Bytes": base64.b64encode(astronaut_jpeg).decode()}})
        answer = client.post("/", content=body, headers={"X-Amz-Target": "RekognitionService.DetectFaces"})
    assert answer.status_code == 200
    assert len(answer.json()["FaceDetails"]) == 1
