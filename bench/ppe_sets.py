"""The two CC0 PPE sets (../shared/data/ppe) and the one split every PPE script and benchmark uses.

Split, grouped by image: in each set's natural file order (`hard_hat_workers0`, `…1`, `…2`, …), the images at
even positions are the training half (cover heads, head placement, confidence curves are fitted on them) and
the odd ones the reporting half (every end-to-end number in the README). No image is in both.
"""

from __future__ import annotations

from pathlib import Path

from bench.datasets import LabelledImage, load_voc

HARD_HAT_DIR = Path("ppe") / "hard_hat_workers"
MASK_DIR = Path("ppe") / "face_mask_detection"
HEAD_COVERED = {"helmet": 1, "head": 0}  # the hard-hat set's head boxes: with / without a hard hat
# mask_weared_incorrect (8 faces in the set) is neither: a mask that does not cover; left out of fitting and scoring
FACE_COVERED = {"with_mask": 1, "without_mask": 0}


def hard_hat_images(data_dir: Path) -> list[LabelledImage]:
    return load_voc(data_dir / HARD_HAT_DIR / "annotations", data_dir / HARD_HAT_DIR / "images", HEAD_COVERED)


def mask_images(data_dir: Path) -> list[LabelledImage]:
    return load_voc(data_dir / MASK_DIR / "annotations", data_dir / MASK_DIR / "images", FACE_COVERED)


def halves(images: list[LabelledImage]) -> tuple[list[LabelledImage], list[LabelledImage]]:
    """(training half, reporting half): even and odd positions in natural file order."""
    return images[0::2], images[1::2]

# A located head or face is right when it overlaps a ground-truth box this much. Heads here are small (median
# 36 px) and the hard-hat set's boxes include the hat's brim, so the VOC 0.5 would judge placement noise, not
# whether the right head was found; 0.4 keeps one box per head (no two heads of the set overlap that much).
PART_MATCH_IOU = 0.4
