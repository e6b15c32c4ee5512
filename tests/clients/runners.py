"""The scenario through each independent client; every runner returns step name → outcome, where an outcome is
`{"answer": parsed JSON}` or `{"error": code, "status": HTTP status or None where the client does not tell}`."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from tests.clients.scenario import Plan, Step, request_with_bytes
from tests.conftest import make_client

Outcome = dict[str, Any]
JS_FOLDER = Path(__file__).resolve().parent / "js"
CLIENT_TIMEOUT_S = 120
# curl got --aws-sigv4 in 7.75.0.
CURL_MIN_VERSION = (7, 75, 0)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _retarget(operation: str) -> Callable[..., None]:
    """A botocore hook that renames the operation before signing (botocore cannot call an unknown one)."""

    def hook(request: Any, **_: Any) -> None:
        request.headers.replace_header("X-Amz-Target", f"RekognitionService.{operation}")

    return hook


def run_boto3(plan: Plan) -> dict[str, Outcome]:
    outcomes: dict[str, Outcome] = {}
    for step in plan.steps:
        key, secret = plan.keys[step.key]
        client = make_client(plan.endpoint, key, secret, region_name=plan.region)
        if step.target:
            client.meta.events.register("before-sign.rekognition.*", _retarget(step.target))
        try:
            answer = getattr(client, _snake(step.operation))(**request_with_bytes(step.request, plan.folder))
        except ClientError as error:
            outcomes[step.name] = {
                "error": error.response["Error"]["Code"],
                "status": error.response["ResponseMetadata"]["HTTPStatusCode"],
            }
            continue
        answer.pop("ResponseMetadata", None)
        outcomes[step.name] = {"answer": answer}
    return outcomes


def aws_cli() -> str | None:
    """The AWS CLI of this environment (the dev extra installs it beside the interpreter), else one on PATH."""
    beside = Path(sys.executable).parent / "aws"
    return str(beside) if beside.exists() else shutil.which("aws")


def _cli_environment(plan: Plan, step: Step, home: Path) -> dict[str, str]:
    key, secret = plan.keys[step.key]
    environ = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    return environ | {
        "AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret, "AWS_DEFAULT_REGION": plan.region,
        "AWS_MAX_ATTEMPTS": "1", "AWS_CONFIG_FILE": str(home / "config"),  # no user's ~/.aws leaks in
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"), "AWS_PAGER": "",
    }


_CLI_ERROR = re.compile(r"An error occurred \((\w+)\)")


def run_aws_cli(plan: Plan) -> dict[str, Outcome]:
    outcomes: dict[str, Outcome] = {}
    for step in plan.steps:
        if not step.cli:
            continue
        arguments = [part.replace("{folder}", str(plan.folder)) for part in step.cli]
        command = [aws_cli() or "aws", "rekognition", *arguments, "--endpoint-url", plan.endpoint, "--output", "json"]
        done = subprocess.run(command, capture_output=True, text=True, timeout=CLIENT_TIMEOUT_S,
                              env=_cli_environment(plan, step, plan.folder))
        if done.returncode == 0:
            outcomes[step.name] = {"answer": json.loads(done.stdout)}
        elif match := _CLI_ERROR.search(done.stderr):
            outcomes[step.name] = {"error": match.group(1), "status": None}
        else:
            raise AssertionError(f"aws {' '.join(arguments)} failed without a service error:\n{done.stderr}")
    return outcomes


def curl_version() -> tuple[int, ...] | None:
    curl = shutil.which("curl")
    if curl is None:
        return None
    first_line = subprocess.run([curl, "--version"], capture_output=True, text=True).stdout.split("\n", 1)[0]
    return tuple(int(part) for part in first_line.split()[1].split("-")[0].split(".")[:3])


def _json_body(request: dict[str, Any], folder: Path) -> bytes:
    """The AWS JSON 1.1 body: blobs as base64, the way every SDK sends them."""

    def encode(value: Any) -> Any:
        if isinstance(value, str) and value.startswith("@"):
            return base64.b64encode((folder / value[1:]).read_bytes()).decode()
        if isinstance(value, dict):
            return {key: encode(item) for key, item in value.items()}
        if isinstance(value, list):
            return [encode(item) for item in value]
        return value

    return json.dumps(encode(request)).encode()


def run_curl(plan: Plan) -> dict[str, Outcome]:
    """curl's own SigV4 signer (`--aws-sigv4`), the X-Amz-Target header signed with the rest."""
    outcomes: dict[str, Outcome] = {}
    for step in plan.steps:
        key, secret = plan.keys[step.key]
        body = plan.folder / f"{step.name}.json"
        body.write_bytes(_json_body(step.request, plan.folder))
        command = [
            "curl", "--silent", "--show-error", "--aws-sigv4", f"aws:amz:{plan.region}:rekognition",
            "--user", f"{key}:{secret}", "--header", "Content-Type: application/x-amz-json-1.1",
            "--header", f"X-Amz-Target: RekognitionService.{step.target or step.operation}",
            "--data-binary", f"@{body}", "--write-out", "\n%{http_code}", f"{plan.endpoint}/",
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=CLIENT_TIMEOUT_S, check=True)
        text, status = done.stdout.rsplit("\n", 1)
        answer = json.loads(text)
        if int(status) == 200:
            outcomes[step.name] = {"answer": answer}
        else:
            outcomes[step.name] = {"error": answer["__type"].rsplit("#", 1)[-1], "status": int(status)}
    return outcomes


def js_sdk_missing() -> str | None:
    """Why the JS SDK runner cannot run here, or None."""
    if shutil.which("node") is None:
        return "node is not installed"
    if not (JS_FOLDER / "node_modules" / "@aws-sdk" / "client-rekognition").is_dir():
        return f"@aws-sdk/client-rekognition is not installed: run `npm ci --prefix {JS_FOLDER}` (make test does)"
    return None


def run_js_sdk(plan: Plan) -> dict[str, Outcome]:
    plan_file = plan.folder / "plan.json"
    plan_file.write_text(plan.as_json())
    done = subprocess.run(["node", str(JS_FOLDER / "scenario.mjs"), str(plan_file)], capture_output=True, text=True,
                          timeout=CLIENT_TIMEOUT_S)
    if done.returncode != 0:
        raise AssertionError(f"the JS scenario failed:\n{done.stderr}")
    return dict(json.loads(done.stdout))


RUNNERS: dict[str, Callable[[Plan], dict[str, Outcome]]] = {
    "boto3": run_boto3,
    "aws-cli": run_aws_cli,
    "js-sdk-v3": run_js_sdk,
    "curl": run_curl,
}


def missing_tool(client: str) -> str | None:
    """Why `client` cannot run on this machine, or None when it can."""
    if client == "aws-cli" and aws_cli() is None:
        return "the AWS CLI is not installed (pip install -e '.[dev]' installs it)"
    if client == "curl":
        version = curl_version()
        if version is None or version < CURL_MIN_VERSION:
            return f"curl >= 7.75 (for --aws-sigv4) is not installed (found {version})"
    if client == "js-sdk-v3":
        return js_sdk_missing()
    return None
