"""`reko custom-labels create-project|train|start` and `reko detect-custom-labels`: Custom Labels from the shell.

Each runs in-process through the engine's `dispatch` on the data folder, like the other commands. `train` queues
the version and trains it in this process (a server sharing the data folder or database may take the job
instead: the command then just waits), drawing the progress on stderr and printing the evaluation at the end.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from reko import config
from reko.cli_collections import Session, error_json, image_member, run_one
from reko.cli_draw import add_draw_flag, drawing_saver
from reko.errors import RekognitionError
from reko.store.manifests import split_s3_url

CLI_BUCKET = "reko-cli"  # folder bucket a local manifest file is copied into
POLL_S = 0.5
BAR_WIDTH = 30


def add_commands(commands: Any) -> None:
    group = commands.add_parser("custom-labels", help="Custom Labels projects and training")
    actions = group.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create-project", help="CreateProject; prints the answer")
    create.add_argument("name")
    create.set_defaults(run=_create_project)
    train = actions.add_parser(
        "train", help="train a model version from a Ground Truth manifest; waits, shows progress and the evaluation",
        description="MANIFEST is s3://bucket/key or a local file (copied into the data folder's reko-cli bucket); "
        "its source-refs name images in buckets. Without --test-manifest, 20 %% of it is held back for the test.",
    )
    train.add_argument("project", help="project name or ARN")
    train.add_argument("manifest")
    train.add_argument("--test-manifest", help="s3://bucket/key or a local file")
    train.add_argument("--version", help="version name (default: v-<time>)")
    train.add_argument("--output-bucket", default=CLI_BUCKET, help=f"where the evaluation goes (default {CLI_BUCKET})")
    train.set_defaults(run=_train)
    start = actions.add_parser("start", help="StartProjectVersion (MinInferenceUnits 1)")
    start.add_argument("version_arn")
    start.set_defaults(run=lambda args: run_one("StartProjectVersion", {
        "ProjectVersionArn": args.version_arn, "MinInferenceUnits": 1}))

    detect = commands.add_parser("detect-custom-labels", help="DetectCustomLabels on a local image (a RUNNING "
                                 "version), printed as the API's JSON")
    detect.add_argument("version_arn")
    detect.add_argument("image")
    detect.add_argument("--min-confidence", type=float, metavar="C", help="0-100 (default: each label's threshold)")
    detect.add_argument("--max-results", type=int, metavar="N")
    add_draw_flag(detect)
    detect.set_defaults(run=_detect)


def _create_project(args: argparse.Namespace) -> int:
    return run_one("CreateProject", {"ProjectName": args.name})


def _detect(args: argparse.Namespace) -> int:
    request: dict[str, Any] = {"ProjectVersionArn": args.version_arn, "Image": image_member(args.image)}
    if args.min_confidence is not None:
        request["MinConfidence"] = args.min_confidence
    if args.max_results is not None:
        request["MaxResults"] = args.max_results
    return run_one("DetectCustomLabels", request, drawing_saver("DetectCustomLabels", args.image, args.draw))


def _asset(location: str) -> dict[str, Any]:
    """A manifest as an Asset: s3://bucket/key as it is, a local file copied into the CLI bucket first."""
    if location.startswith("s3://"):
        bucket, key = split_s3_url(location)
    else:
        data = Path(location).read_bytes()
        bucket, key = CLI_BUCKET, f"manifests/{uuid.uuid4().hex[:12]}-{Path(location).name}"
        target = config.from_environment().s3_dir / bucket / key
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return {"GroundTruthManifest": {"S3Object": {"Bucket": bucket, "Name": key}}}


def _train(args: argparse.Namespace) -> int:
    session = Session()
    try:
        project_arn = _project_arn(session, args.project)
        request: dict[str, Any] = {
            "ProjectArn": project_arn, "VersionName": args.version or time.strftime("v-%Y%m%d-%H%M%S"),
            "OutputConfig": {"S3Bucket": args.output_bucket, "S3KeyPrefix": "evaluation/"},
            "TrainingData": {"Assets": [_asset(args.manifest)]},
            "TestingData": {"Assets": [_asset(args.test_manifest)]} if args.test_manifest else {"AutoCreate": True},
        }
        session.call("CreateProjectVersion", request)
        version = _wait(session, project_arn, request["VersionName"])
        print(json.dumps(_evaluation(version), indent=2))
        return 0 if version["Status"] == "TRAINING_COMPLETED" else 1
    except RekognitionError as error:
        print(json.dumps(error_json(error), indent=2))
        return 1
    finally:
        session.close()


def _project_arn(session: Session, project: str) -> str:
    if project.startswith("arn:"):
        return project
    found = session.call("DescribeProjects", {"ProjectNames": [project]})["ProjectDescriptions"]
    if not found:
        raise RekognitionError(f"No project named {project}; create it with `reko custom-labels create-project`")
    return str(found[0]["ProjectArn"])


def _wait(session: Session, project_arn: str, version_name: str) -> dict[str, Any]:
    """Train here (or wait for whoever claimed the job) until the version leaves TRAINING_IN_PROGRESS."""
    while True:
        session.engine.jobs.run_pending()
        [version] = session.call("DescribeProjectVersions", {"ProjectArn": project_arn,
                                                             "VersionNames": [version_name]})[
            "ProjectVersionDescriptions"]
        done = version["Status"] != "TRAINING_IN_PROGRESS"
        percent = 100.0 if done else _percent(version["StatusMessage"])
        filled = round(BAR_WIDTH * percent / 100)
        print(f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {percent:3.0f} %  {version['Status']}",
              end="\n" if done else "", file=sys.stderr, flush=True)
        if done:
            return dict(version)
        time.sleep(POLL_S)


def _percent(message: str) -> float:
    try:
        return float(message.rsplit(":", 1)[1].split("%")[0])
    except (IndexError, ValueError):
        return 0.0


def _evaluation(version: dict[str, Any]) -> dict[str, Any]:
    """What the user wants after training: status, F1, and per-label metrics from the Summary file."""
    shown: dict[str, Any] = {key: version[key] for key in ("ProjectVersionArn", "Status", "StatusMessage")}
    result = version.get("EvaluationResult")
    if result:
        shown["F1Score"] = result["F1Score"]
        summary = result["Summary"]["S3Object"]
        path = config.from_environment().s3_dir / summary["Bucket"] / summary["Name"]
        if path.is_file():
            shown["Labels"] = json.loads(path.read_text())["LabelEvaluationResults"]
        shown["Summary"] = f"s3://{summary['Bucket']}/{summary['Name']}"
    shown["BillableTrainingTimeInSeconds"] = version.get("BillableTrainingTimeInSeconds")
    return shown
