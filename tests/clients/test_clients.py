"""The same scenario through four independent clients — boto3, the AWS CLI, the AWS SDK for JavaScript v3 and
curl's own SigV4 signer — each checked against the expected outcomes, then their parsed answers against each other.

A client whose tool is missing skips with the reason; with REKO_REQUIRE_CLIENTS=1 (set by .ci/run, where
`make test` installs every one) it fails instead, so CI cannot go green on a client it never ran.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.clients.runners import RUNNERS, Outcome, missing_tool
from tests.clients.scenario import STEPS, Plan, write_images
from tests.conftest import RunningServer

REQUIRE_CLIENTS_VARIABLE = "REKO_REQUIRE_CLIENTS"
CLIENTS = list(RUNNERS)
EXPECTED_STATUS = {
    "InvalidImageFormatException": 400,
    "InvalidSignatureException": 403,
    "NotImplementedException": 501,
    "UnknownOperationException": 400,
}


@pytest.fixture(scope="module")
def plan(server: RunningServer, tmp_path_factory: pytest.TempPathFactory) -> Plan:
    """The scenario against the session's server: its folder bucket gets the S3Object image."""
    from reko.config import DEV_ACCESS_KEY_ID, DEV_SECRET_ACCESS_KEY

    folder = tmp_path_factory.mktemp("clients")
    write_images(folder, server.data_dir / "s3")
    keys = {"good": (DEV_ACCESS_KEY_ID, DEV_SECRET_ACCESS_KEY), "wrong": (DEV_ACCESS_KEY_ID, "not-the-secret")}
    return Plan(endpoint=server.url, region="us-east-1", folder=folder, keys=keys)


_outcomes: dict[str, dict[str, Outcome]] = {}


def outcomes_of(client: str, plan: Plan) -> dict[str, Outcome]:
    """The client's outcomes, run once per session; skips (or fails under REKO_REQUIRE_CLIENTS=1) without it."""
    reason = missing_tool(client)
    if reason:
        if os.environ.get(REQUIRE_CLIENTS_VARIABLE) == "1":
            pytest.fail(f"{REQUIRE_CLIENTS_VARIABLE}=1 but {client} cannot run: {reason}", pytrace=False)
        pytest.skip(f"{client}: {reason}")
    if client not in _outcomes:
        _outcomes[client] = RUNNERS[client](plan)
    return _outcomes[client]


def _check_answer(step: str, answer: dict[str, Any]) -> None:
    if step in ("detect-faces-default", "s3-object-folder-bucket"):
        assert len(answer["FaceDetails"]) == 1 and "Emotions" not in answer["FaceDetails"][0]
    elif step == "detect-faces-all":
        assert len(answer["FaceDetails"]) == 1 and answer["FaceDetails"][0]["Emotions"]
    elif step == "compare-faces":
        assert answer["SourceImageFace"]["Confidence"] > 50
        assert len(answer["FaceMatches"]) + len(answer["UnmatchedFaces"]) == 1
    elif step == "detect-labels":
        assert 0 < len(answer["Labels"]) <= 10 and answer["LabelModelVersion"]


@pytest.mark.parametrize("client", CLIENTS)
def test_scenario(client: str, plan: Plan) -> None:
    outcomes = outcomes_of(client, plan)
    for step in STEPS:
        if client == "aws-cli" and not step.cli:
            assert step.name not in outcomes
            continue
        outcome = outcomes[step.name]
        if step.error is None:
            assert "answer" in outcome, f"{client} {step.name}: {outcome}"
            _check_answer(step.name, outcome["answer"])
        else:
            assert outcome.get("error") == step.error, f"{client} {step.name}: {outcome}"
            assert outcome["status"] in (None, EXPECTED_STATUS[step.error]), f"{client} {step.name}: {outcome}"


@pytest.mark.parametrize("client", [client for client in CLIENTS if client != "boto3"])
def test_client_agrees_with_boto3(client: str, plan: Plan) -> None:
    """Parsed answers equal member for member (a member botocore's model lacks would show here, as curl keeps it),
    errors with the same code and, where the client tells it, the same HTTP status."""
    reference, outcomes = outcomes_of("boto3", plan), outcomes_of(client, plan)
    for name, outcome in outcomes.items():
        expected = reference[name]
        if "answer" in expected:
            assert outcome == expected, f"{client} and boto3 differ on {name}"
        else:
            assert outcome["error"] == expected["error"], f"{client} and boto3 differ on {name}"
            assert outcome["status"] in (None, expected["status"]), f"{client} and boto3 differ on {name}"
    assert set(outcomes) == {step.name for step in STEPS if client != "aws-cli" or step.cli}


def test_the_aws_cli_refuses_an_unknown_operation_itself(plan: Plan) -> None:
    """The one step the CLI cannot send: it checks operation names against its own model first."""
    import subprocess

    from tests.clients.runners import aws_cli

    if missing_tool("aws-cli"):
        outcomes_of("aws-cli", plan)  # skips or fails with the reason
    done = subprocess.run([aws_cli() or "aws", "rekognition", "detect-unicorns"], capture_output=True, text=True,
                          env=dict(os.environ, AWS_DEFAULT_REGION="us-east-1"), cwd=Path(plan.folder))
    assert done.returncode != 0 and "Invalid choice" in done.stderr
