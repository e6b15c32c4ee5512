"""DetectCustomLabels: a RUNNING model version's labels (classification) or labelled boxes (detection).

MinConfidence omitted: each label is kept from its own assumed threshold (the one the evaluation reports), as
Rekognition does; given: one floor for every label, 0 returning everything the model scores (detection: every box
left by non-maximum suppression above a 1 % floor, at most 100). Labels come best first; MaxResults cuts the list.
"""

from __future__ import annotations

from typing import Any

from reko.errors import ResourceNotReadyException
from reko.operations.common.context import OperationContext
from reko.operations.common.images import load_image
from reko.operations.custom_labels.common import custom_labels_errors


def detect_custom_labels(request: dict[str, Any], context: OperationContext) -> dict[str, Any]:
    scope = context.caller.scope
    arn = request["ProjectVersionArn"]
    with custom_labels_errors():
        version = context.store.model_versions.by_arn(scope, arn)
    if version.status != "RUNNING":
        raise ResourceNotReadyException(
            f"The model version {arn} is not running (its status is {version.status}); start it with "
            "StartProjectVersion")
    model = context.custom_labels.model(arn, lambda: context.store.model_versions.artefact(scope, arn))
    image = load_image(request["Image"], context)
    given = request.get("MinConfidence")
    floor = float(given) / 100 if given is not None else float(min(model.thresholds))
    found = context.custom_labels.runner.find(model, image.rgb, floor)
    if given is None:
        thresholds = dict(zip(model.labels, model.thresholds, strict=True))
        found = [item for item in found if item.probability >= thresholds[item.label]]
    if request.get("MaxResults") is not None:
        found = found[: int(request["MaxResults"])]
    labels = []
    for item in found:
        label: dict[str, Any] = {"Name": item.label, "Confidence": round(item.probability * 100, 3)}
        if item.box is not None:
            left, top, width, height = item.box
            label["Geometry"] = {"BoundingBox": {"Width": width, "Height": height, "Left": left, "Top": top}}
        labels.append(label)
    return {"CustomLabels": labels}
