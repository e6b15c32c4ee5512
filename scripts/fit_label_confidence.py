"""Fit reko/vision/models/label-confidence.json: the logistic curves that turn label model scores into probabilities.

Data: the even-numbered images (0, 2, 4, … in name order) of ../shared/data/objects/coco_val2017_first128; the
odd ones are kept for bench/labels.py to report on.
- Detector: every box the pipeline's detector returns (score >= 0.05, adaptive tiles as DetectLabels runs
  it), labelled true when it matches an unmatched ground-truth box of its class at IoU >= 0.5 (best score
  first, as AP counts); one curve for all classes, fitted apart for the images the tiles did not run on
  ("detector") and those they ran on ("detector_fused": fused passes, noisy-or scores).
- Classifier: for each image and each of the 80 COCO classes' labels, the summed ImageNet probability of the
  label and its descendants (the taxonomy's membership), labelled by whether COCO lists the class in the image.
  COCO classes the classifier cannot name (no ImageNet class under the label) are left out.
- Face: every face the face detector returns (as DetectLabels runs it) on the even-numbered images of
  faces/wider_val_200_416 and ppe/face_mask_detection (where every visible face is boxed), labelled true when it
  matches a ground-truth face at IoU >= 0.5; faces matching only boxes WIDER marks invalid are left out.

Run: `python -m scripts.fit_label_confidence` (writes the JSON; then update its sha256 in reko/vision/catalog.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
from sklearn.linear_model import LogisticRegression

from bench.datasets import DATA_DIR
from bench.face_detection import face_evidence, load_sets
from bench.labels_models import COCO_SUBSET, load_coco_subset
from bench.metrics import match_detections
from reko.operations.labels.taxonomy import load_taxonomy
from reko.pipelines.labels import TILE_FRACTION, TILE_GRID, face_finder, needs_tiles
from reko.vision.catalog import BUNDLED_DIR, Catalog
from reko.vision.labels.classifier import ImageClassifier
from reko.vision.labels.confidence import LOGIT_CLIP
from reko.vision.labels.objects import DetectedObjects, ObjectDetector
from reko.vision.runtime import Runtime

OUTPUT = BUNDLED_DIR / "label-confidence.json"
# Hardly regularised: two parameters, thousands of points; C only breaks ties on separable data.
LOGISTIC_C = 100.0


def logit(scores: np.ndarray) -> np.ndarray:
    clipped = np.clip(scores.astype(np.float64), LOGIT_CLIP, 1 - LOGIT_CLIP)
    return np.log(clipped / (1 - clipped))


def fit_curve(scores: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    model = LogisticRegression(C=LOGISTIC_C).fit(logit(scores)[:, None], truth.astype(int))
    return {"slope": float(model.coef_[0, 0]), "intercept": float(model.intercept_[0])}


def _tiles(whole: DetectedObjects, height_px: int, tiled: list[bool]) -> bool:
    """DetectLabels' tile trigger, remembering its answer in `tiled`."""
    tiled[0] = needs_tiles(whole, height_px)
    return tiled[0]


def _box_curve(scores: list[np.ndarray], truth: list[np.ndarray], images: str) -> dict[str, object]:
    joined_scores, joined_truth = np.concatenate(scores), np.concatenate(truth)
    return {"curve": fit_curve(joined_scores, joined_truth), "boxes": int(len(joined_scores)),
            "true": int(joined_truth.sum()), "images": images}


def main() -> None:
    images = load_coco_subset(DATA_DIR / COCO_SUBSET)[0::2]
    taxonomy = load_taxonomy()
    row = {name: i for i, name in enumerate(taxonomy.names)}
    coco_rows = {cls: row[label] for cls, label in taxonomy.coco.items()
                 if taxonomy.imagenet_membership[row[label]].any()}
    runtime = Runtime(Catalog(Path("reko-data") / "models"))
    detector = ObjectDetector(runtime, tile_grid=TILE_GRID, tile_fraction=TILE_FRACTION)
    classifier = ImageClassifier(runtime)
    boxes: dict[bool, tuple[list[np.ndarray], list[np.ndarray]]] = {False: ([], []), True: ([], [])}
    label_scores, label_truth = [], []
    for image in images:
        rgb = cv2.cvtColor(cv2.imread(str(image.path)), cv2.COLOR_BGR2RGB)
        tiled = [False]
        found = detector.find_objects(rgb, tile_when=lambda whole, h=rgb.shape[0], t=tiled: _tiles(whole, h, t))
        names, truth_names = np.array(found.class_names), np.array(image.names)
        box_scores, box_truth = boxes[tiled[0]]
        for cls in set(found.class_names):
            mine = np.flatnonzero(names == cls)
            truth = image.boxes[truth_names == cls] if len(truth_names) else np.zeros((0, 4), np.float32)
            box_scores.append(found.scores[mine])
            box_truth.append(match_detections(found.boxes[mine], found.scores[mine], truth) >= 0)
        summed = taxonomy.imagenet_membership @ classifier.probabilities(rgb)
        for cls, r in coco_rows.items():
            label_scores.append(summed[r])
            label_truth.append(cls in image.names)
    face_sets = load_sets(DATA_DIR)
    face_images = [image for images in face_sets.values() for image in images[0::2]]
    face_scores, face_truth = face_evidence(face_images, face_finder(runtime))
    label_array, label_truth_array = np.array(label_scores), np.array(label_truth)
    result = {
        "detector": _box_curve(*boxes[False], "images the tiles did not run on"),
        "detector_fused": _box_curve(*boxes[True], "images the tiles ran on (passes fused)"),
        "classifier": {
            "curve": fit_curve(label_array, label_truth_array),
            "pairs": int(len(label_array)),
            "present": int(label_truth_array.sum()),
            "coco_classes": sorted(coco_rows),
        },
        "face": {
            "curve": fit_curve(face_scores, face_truth),
            "faces": int(len(face_scores)),
            "true": int(face_truth.sum()),
            "data": f"even-numbered images of {sorted(face_sets)} ({len(face_images)}); odd ones held out",
        },
        "data": f"{COCO_SUBSET} even-numbered images ({len(images)}); odd ones held out",
    }
    OUTPUT.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    print(json.dumps({k: v for k, v in result.items()}, indent=1)[:1500])
    runtime.close()


if __name__ == "__main__":
    main()
