"""DetectLabels: GENERAL_LABELS from the classifier and the detector, named, merged and filtered as Rekognition does.

A label's confidence is the best of what supports it (all probabilities measured, see
reko/vision/labels/confidence.py):
- the classifier: the calibrated summed probability of the ImageNet classes that are the label or below it;
- the detector: the calibrated confidence of its best box, of its own class or of a class below it;
- the face detector: the calibrated confidence of its best face, for `Face` and its ancestors (`Person`).
So ancestors carry the best confidence among their descendants, a detector class and a classifier class that
name the same thing are one label, and a label with instances is at least as confident as its best instance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from reko.operations.common.boxes import xyxy_to_ratio_box
from reko.operations.common.context import OperationContext
from reko.operations.common.images import load_image
from reko.operations.labels import properties
from reko.operations.labels.taxonomy import Taxonomy, load_taxonomy
from reko.pipelines.labels import LabelEvidence
from reko.vision.labels.confidence import LogisticCurve

DEFAULT_MIN_CONFIDENCE = 55.0  # percent, Rekognition's documented default
DEFAULT_MAX_LABELS = 1000  # Rekognition's default and upper limit
LABEL_MODEL_VERSION = "reko-labels-1"  # Reko's own models (like FaceModelVersion "reko-sface-1"), not Rekognition's 3.0
GENERAL_LABELS = "GENERAL_LABELS"
FACE_LABEL = "Face"  # the taxonomy's label for the face detector's boxes
IMAGE_PROPERTIES = "IMAGE_PROPERTIES"


@dataclass
class FoundLabel:
    """A label of one image while it is being assembled; confidences are probabilities in [0, 1]."""

    name: str
    confidence: float = 0.0
    instances: list[tuple[np.ndarray, float]] = field(default_factory=list)  # (xyxy pixels, confidence)


def detect_labels(request: dict[str, Any], context: OperationContext) -> dict[str, Any]:
    """Labels of the image (GENERAL_LABELS, the default feature) and its IMAGE_PROPERTIES when asked.

    With both features each instance also carries its `DominantColors`. Without GENERAL_LABELS the foreground of
    IMAGE_PROPERTIES still comes from the detector's boxes (one detector pass, no classifier).
    """
    features = request.get("Features") or [GENERAL_LABELS]
    image = load_image(request["Image"], context)
    settings = request.get("Settings") or {}
    answer: dict[str, Any] = {"Labels": []}
    kept: list[FoundLabel] = []
    if GENERAL_LABELS in features:
        taxonomy = load_taxonomy()
        evidence = context.labels.analyze(image.rgb)
        min_confidence = request.get("MinConfidence", DEFAULT_MIN_CONFIDENCE) / 100.0
        found = merge_evidence(evidence, taxonomy, context.labels.confidence.classifier, min_confidence)
        kept = [label for label in found if label.confidence >= min_confidence]
        kept = filtered(kept, settings.get("GeneralLabels") or {}, taxonomy)
        kept = kept[: request.get("MaxLabels", DEFAULT_MAX_LABELS)]
        answer["Labels"] = [label_member(label, taxonomy, image.width, image.height) for label in kept]
    if IMAGE_PROPERTIES in features:
        if GENERAL_LABELS in features:
            boxes = np.array([box for label in kept for box, _ in label.instances], np.float32).reshape(-1, 4)
            max_colors = properties.max_dominant_colors(settings)
            for label, member in zip(kept, answer["Labels"], strict=True):
                for (box, _), instance in zip(label.instances, member["Instances"], strict=True):
                    instance["DominantColors"] = properties.instance_dominant_colors(image.rgb, box, max_colors)
        else:
            boxes = context.labels.detector.find_objects(image.rgb).boxes
        answer["ImageProperties"] = properties.image_properties(image.rgb, boxes, settings)
    answer["LabelModelVersion"] = LABEL_MODEL_VERSION
    return answer


def merge_evidence(
    evidence: LabelEvidence, taxonomy: Taxonomy, classifier_curve: LogisticCurve, min_instance_confidence: float
) -> list[FoundLabel]:
    """Every label the models support, best first (ties by name), instances best first.

    Args:
        classifier_curve: summed ImageNet probability of a label → probability it is in the image.
        min_instance_confidence: boxes below this probability support their label's confidence but are not
            listed as instances.
    """
    summed = taxonomy.imagenet_membership @ evidence.probabilities
    named = taxonomy.imagenet_membership.any(axis=1)
    from_classifier = np.where(named, classifier_curve.probability(summed), 0.0)
    found = {
        name: FoundLabel(name, float(confidence))
        for name, confidence in zip(taxonomy.names, from_classifier, strict=True)
        if confidence > 0
    }
    located = [
        (box, taxonomy.coco[class_name], confidence)
        for box, class_name, confidence in zip(
            evidence.objects.boxes, evidence.objects.class_names, evidence.object_confidence.tolist(), strict=True
        )
    ]
    located += [
        (box, FACE_LABEL, confidence)
        for box, confidence in zip(evidence.faces.boxes, evidence.face_confidence.tolist(), strict=True)
    ]
    for box, label, confidence in located:
        for name in taxonomy.lineage(label):
            entry = found.setdefault(name, FoundLabel(name))
            entry.confidence = max(entry.confidence, confidence)
        if confidence >= min_instance_confidence:
            found[label].instances.append((box, confidence))
    for entry in found.values():
        entry.instances.sort(key=lambda instance: -instance[1])
    return sorted(found.values(), key=lambda entry: (-entry.confidence, entry.name))


def label_member(label: FoundLabel, taxonomy: Taxonomy, width: int, height: int) -> dict[str, Any]:
    """One `Label` in the member order of botocore's model."""
    info = taxonomy.labels[label.name]
    return {
        "Name": label.name,
        "Confidence": percent(label.confidence),
        "Instances": [
            {"BoundingBox": xyxy_to_ratio_box(box, width, height), "Confidence": percent(confidence)}
            for box, confidence in label.instances
        ],
        "Parents": [{"Name": parent} for parent in info.parents],
        "Aliases": [{"Name": alias} for alias in info.aliases],
        "Categories": [{"Name": category} for category in info.categories],
    }


def filtered(labels: list[FoundLabel], filters: dict[str, list[str]], taxonomy: Taxonomy) -> list[FoundLabel]:
    """`Settings.GeneralLabels`: with any inclusion filter, a label must be named by the label inclusions or
    belong to a category of the category inclusions; then a label named by the exclusions, or in an excluded
    category, is dropped. Names and categories match without regard to case."""

    def lowered(key: str) -> set[str]:
        return {value.lower() for value in filters.get(key) or []}

    include, exclude = lowered("LabelInclusionFilters"), lowered("LabelExclusionFilters")
    include_categories = lowered("LabelCategoryInclusionFilters")
    exclude_categories = lowered("LabelCategoryExclusionFilters")

    def keeps(label: FoundLabel) -> bool:
        name = label.name.lower()
        categories = {category.lower() for category in taxonomy.labels[label.name].categories}
        if (include or include_categories) and name not in include and not categories & include_categories:
            return False
        return name not in exclude and not categories & exclude_categories

    return [label for label in labels if keeps(label)]


def percent(probability: float) -> float:
    return float(min(max(probability, 0.0), 1.0) * 100.0)
