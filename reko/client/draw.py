"""`draw(image, result)`: any answer of `RekoClient` drawn onto a copy of the image, for people who would rather
look than read.

Faces get their box, landmarks and (when present) confidence; labels their instances' boxes and names; custom
labels their box or polygon; PPE persons their box and each piece of equipment a box coloured by whether it covers
its body part (green yes, red no, amber unknown); CompareFaces, drawn on the target image, its matches green with
their similarity and unmatched faces red.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeAlias

from PIL import Image as PILImage
from PIL import ImageDraw, ImageFont

from reko.client.collections import IndexFacesResult, SearchFacesByImageResult
from reko.client.faces import CompareFacesResult, DetectFacesResult, Face
from reko.client.geometry import BoundingBox
from reko.client.images import ImageInput, to_pil
from reko.client.labels import DetectCustomLabelsResult, DetectLabelsResult
from reko.client.ppe import DetectProtectiveEquipmentResult

Drawable: TypeAlias = (
    DetectFacesResult | CompareFacesResult | DetectLabelsResult | DetectCustomLabelsResult
    | DetectProtectiveEquipmentResult | IndexFacesResult | SearchFacesByImageResult | Face | Iterable[Face]
)
RGB = tuple[int, int, int]

FACE_RGB: RGB = (0, 200, 255)
LANDMARK_RGB: RGB = (255, 230, 0)
LABEL_RGB: RGB = (255, 120, 0)
PERSON_RGB: RGB = (0, 120, 255)
COVERED_RGB: RGB = (0, 210, 80)
NOT_COVERED_RGB: RGB = (240, 40, 40)
UNKNOWN_COVER_RGB: RGB = (255, 190, 0)
MATCH_RGB = COVERED_RGB
UNMATCHED_RGB = NOT_COVERED_RGB
# Strokes and text grow with the image: 1/250 of the shorter side, so a 512 px photo gets 2 px lines and a
# 4000 px one 16 px, both visible at a glance.
STROKE_PER_SIDE = 1 / 250
TEXT_PER_SIDE = 1 / 40


class _Canvas:
    """One image being drawn on, with strokes and text sized to it."""

    def __init__(self, image: PILImage.Image) -> None:
        self.image = image
        self.pen = ImageDraw.Draw(image)
        side = min(image.size)
        self.stroke_px = max(1, round(side * STROKE_PER_SIDE))
        self.font = ImageFont.load_default(size=max(10, round(side * TEXT_PER_SIDE)))

    def box(self, box: BoundingBox | None, rgb: RGB, caption: str | None = None) -> None:
        if box is None:
            return
        left, top, right, bottom = box.to_pixels(*self.image.size)
        self.pen.rectangle((left, top, right, bottom), outline=rgb, width=self.stroke_px)
        if caption:
            self.caption(caption, (left, top), rgb)

    def caption(self, text: str, at: tuple[int, int], rgb: RGB) -> None:
        """Text on a filled strip just above `at` (inside the image when there is no room above)."""
        left, top, right, bottom = self.pen.textbbox((0, 0), text, font=self.font)
        height = bottom - top + 2 * self.stroke_px
        x, y = at[0], max(0, at[1] - height)
        self.pen.rectangle((x, y, x + right - left + 2 * self.stroke_px, y + height), fill=rgb)
        self.pen.text((x + self.stroke_px, y + self.stroke_px - top), text, fill=(0, 0, 0), font=self.font)

    def point(self, xy: tuple[int, int], rgb: RGB) -> None:
        radius = self.stroke_px + 1
        self.pen.ellipse((xy[0] - radius, xy[1] - radius, xy[0] + radius, xy[1] + radius), fill=rgb)

    def face(self, face: Face, rgb: RGB = FACE_RGB, caption: str | None = None) -> None:
        self.box(face.bounding_box, rgb, caption)
        for mark in face.landmarks or ():
            self.point(mark.to_pixels(*self.image.size), LANDMARK_RGB)


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:.0f}%"


def _draw_labels(canvas: _Canvas, result: DetectLabelsResult) -> None:
    for label in result.labels:
        for instance in label.instances or ():
            canvas.box(instance.bounding_box, LABEL_RGB, f"{label.name} {_percent(instance.confidence)}".strip())


def _draw_custom_labels(canvas: _Canvas, result: DetectCustomLabelsResult) -> None:
    for label in result.custom_labels:
        if label.geometry is None:
            continue
        caption = f"{label.name} {_percent(label.confidence)}".strip()
        polygon = label.geometry.polygon
        if polygon is not None and len(polygon.points) >= 3:
            points = polygon.to_pixels(*canvas.image.size)
            canvas.pen.polygon(points, outline=LABEL_RGB, width=canvas.stroke_px)
            canvas.caption(caption, min(points, key=lambda xy: xy[1]), LABEL_RGB)
        else:
            canvas.box(label.geometry.bounding_box, LABEL_RGB, caption)


def _cover_rgb(covers: bool | None) -> RGB:
    return UNKNOWN_COVER_RGB if covers is None else COVERED_RGB if covers else NOT_COVERED_RGB


def _draw_ppe(canvas: _Canvas, result: DetectProtectiveEquipmentResult) -> None:
    for person in result.persons:
        canvas.box(person.bounding_box, PERSON_RGB, None if person.id is None else f"person {person.id}")
        for part in person.body_parts or ():
            for equipment in part.equipment_detections or ():
                covers = None if equipment.covers_body_part is None else equipment.covers_body_part.value
                caption = (equipment.type or "equipment").replace("_", " ").lower()
                canvas.box(equipment.bounding_box, _cover_rgb(covers), caption)


def _draw_comparison(canvas: _Canvas, result: CompareFacesResult) -> None:
    for match in result.matches:
        if match.face is not None:
            canvas.face(match.face, MATCH_RGB, f"match {_percent(match.similarity)}".strip())
    for face in result.unmatched:
        canvas.face(face, UNMATCHED_RGB)


def draw(image: ImageInput, result: Drawable) -> PILImage.Image:
    """A copy of `image` (RGB) with `result` drawn on it.

    Args:
        image: the image the result is about (for CompareFaces, the target image): a path, bytes, PIL image or
            NumPy array; JPEGs are turned by their EXIF orientation first, as the service turns them.
        result: an answer of `RekoClient` (DetectFaces, CompareFaces, DetectLabels, DetectCustomLabels,
            DetectProtectiveEquipment, IndexFaces, SearchFacesByImage), one `Face`, or several.

    Returns:
        A new PIL image; the input is left untouched.

    Example:
        >>> result = client.detect_faces("tests/images/astronaut.png")
        >>> draw("tests/images/astronaut.png", result).save("faces.png")
    """
    canvas = _Canvas(to_pil(image).copy())
    if isinstance(result, DetectFacesResult):
        for face in result.faces:
            canvas.face(face, caption=_percent(face.confidence))
    elif isinstance(result, CompareFacesResult):
        _draw_comparison(canvas, result)
    elif isinstance(result, DetectLabelsResult):
        _draw_labels(canvas, result)
    elif isinstance(result, DetectCustomLabelsResult):
        _draw_custom_labels(canvas, result)
    elif isinstance(result, DetectProtectiveEquipmentResult):
        _draw_ppe(canvas, result)
    elif isinstance(result, IndexFacesResult):
        for record in result.face_records:
            if record.face_detail is not None:
                canvas.face(record.face_detail, MATCH_RGB)
        for unindexed in result.unindexed_faces:
            if unindexed.face_detail is not None:
                canvas.face(unindexed.face_detail, UNMATCHED_RGB)
    elif isinstance(result, SearchFacesByImageResult):
        best = result.face_matches[0] if result.face_matches else None
        caption = None if best is None or best.face is None else best.face.external_image_id or best.face.face_id
        canvas.box(result.searched_face_bounding_box, MATCH_RGB if best else UNMATCHED_RGB, caption)
    elif isinstance(result, Face):
        canvas.face(result)
    else:
        for face in result:
            canvas.face(face)
    return canvas.image
