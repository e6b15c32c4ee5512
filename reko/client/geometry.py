"""Where things are: boxes and points as ratios of the image's width and height, as Rekognition answers them."""

from __future__ import annotations

from dataclasses import dataclass

from reko.client.parsing import Answer, optional_struct, required_float, struct_list


@dataclass(frozen=True)
class BoundingBox:
    """A box as ratios (0-1) of the image's sides; Rekognition may answer slightly outside 0-1 at the edges.

    Example:
        >>> BoundingBox(width=0.25, height=0.5, left=0.5, top=0.25).to_pixels(640, 480)
        (320, 120, 480, 360)
    """

    width: float
    height: float
    left: float
    top: float

    @classmethod
    def from_api(cls, answer: Answer) -> BoundingBox:
        return cls(
            width=required_float(answer, "Width"), height=required_float(answer, "Height"),
            left=required_float(answer, "Left"), top=required_float(answer, "Top"),
        )

    @property
    def right(self) -> float:
        return self.left + self.width

    @property
    def bottom(self) -> float:
        return self.top + self.height

    def to_pixels(self, width: int, height: int) -> tuple[int, int, int, int]:
        """The box as (left, top, right, bottom) pixels of an image `width` × `height`, rounded, not clipped."""
        return (
            round(self.left * width), round(self.top * height),
            round(self.right * width), round(self.bottom * height),
        )


@dataclass(frozen=True)
class Point:
    """A point as ratios (0-1) of the image's width (x) and height (y)."""

    x: float
    y: float

    @classmethod
    def from_api(cls, answer: Answer) -> Point:
        return cls(x=required_float(answer, "X"), y=required_float(answer, "Y"))

    def to_pixels(self, width: int, height: int) -> tuple[int, int]:
        """(x, y) in pixels of an image `width` × `height`, rounded."""
        return round(self.x * width), round(self.y * height)


@dataclass(frozen=True)
class Polygon:
    """A closed outline: its points in order, the last joined back to the first."""

    points: tuple[Point, ...]

    def to_pixels(self, width: int, height: int) -> list[tuple[int, int]]:
        return [point.to_pixels(width, height) for point in self.points]


@dataclass(frozen=True)
class Geometry:
    """A custom label's place: a box and, when the answer has one, a finer polygon."""

    bounding_box: BoundingBox | None
    polygon: Polygon | None

    @classmethod
    def from_api(cls, answer: Answer) -> Geometry:
        points = struct_list(answer, "Polygon", Point.from_api)
        return cls(
            bounding_box=optional_struct(answer, "BoundingBox", BoundingBox.from_api),
            polygon=None if points is None else Polygon(points),
        )
