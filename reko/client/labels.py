"""Labels: DetectLabels' labels with their parents, instances and categories, the image's properties, and
DetectCustomLabels' custom labels."""

from __future__ import annotations

from dataclasses import dataclass

from reko.client.geometry import BoundingBox, Geometry
from reko.client.parsing import (
    Answer,
    named_list,
    optional_float,
    optional_int,
    optional_str,
    optional_struct,
    required,
    result_list,
    struct_list,
)


@dataclass(frozen=True)
class DominantColor:
    """A colour that covers part of the image (or of an instance): RGB 0-255, its names, and its share in %."""

    red: int | None
    green: int | None
    blue: int | None
    hex_code: str | None
    css_color: str | None
    simplified_color: str | None
    pixel_percent: float | None

    @classmethod
    def from_api(cls, answer: Answer) -> DominantColor:
        return cls(
            red=optional_int(answer, "Red"), green=optional_int(answer, "Green"), blue=optional_int(answer, "Blue"),
            hex_code=optional_str(answer, "HexCode"), css_color=optional_str(answer, "CSSColor"),
            simplified_color=optional_str(answer, "SimplifiedColor"),
            pixel_percent=optional_float(answer, "PixelPercent"),
        )


@dataclass(frozen=True)
class Instance:
    """One located occurrence of a label (a single car of "Car"), with the colours inside its box."""

    bounding_box: BoundingBox | None
    confidence: float | None
    dominant_colors: tuple[DominantColor, ...] | None = None

    @classmethod
    def from_api(cls, answer: Answer) -> Instance:
        return cls(
            bounding_box=optional_struct(answer, "BoundingBox", BoundingBox.from_api),
            confidence=optional_float(answer, "Confidence"),
            dominant_colors=struct_list(answer, "DominantColors", DominantColor.from_api),
        )


@dataclass(frozen=True)
class Label:
    """A thing, scene or concept in the image, with the labels above it in the taxonomy.

    Example:
        >>> labels = client.detect_labels("street.jpg").labels
        >>> [(label.name, label.parents) for label in labels][:1]
        [('Car', ('Transportation', 'Vehicle'))]
    """

    name: str
    confidence: float | None
    instances: tuple[Instance, ...] | None = None
    parents: tuple[str, ...] | None = None
    aliases: tuple[str, ...] | None = None
    categories: tuple[str, ...] | None = None

    @classmethod
    def from_api(cls, answer: Answer) -> Label:
        return cls(
            name=required(optional_str(answer, "Name"), "Label.Name"),
            confidence=optional_float(answer, "Confidence"),
            instances=struct_list(answer, "Instances", Instance.from_api),
            parents=named_list(answer, "Parents"),
            aliases=named_list(answer, "Aliases"),
            categories=named_list(answer, "Categories"),
        )


@dataclass(frozen=True)
class LabelImageQuality:
    """Brightness, sharpness and contrast, 0-100; Rekognition gives the foreground and background no contrast."""

    brightness: float | None
    sharpness: float | None
    contrast: float | None

    @classmethod
    def from_api(cls, answer: Answer) -> LabelImageQuality:
        return cls(
            optional_float(answer, "Brightness"), optional_float(answer, "Sharpness"),
            optional_float(answer, "Contrast"),
        )


@dataclass(frozen=True)
class ImageRegionProperties:
    """Quality and dominant colours of the foreground or the background."""

    quality: LabelImageQuality | None
    dominant_colors: tuple[DominantColor, ...] | None

    @classmethod
    def from_api(cls, answer: Answer) -> ImageRegionProperties:
        return cls(
            optional_struct(answer, "Quality", LabelImageQuality.from_api),
            struct_list(answer, "DominantColors", DominantColor.from_api),
        )


@dataclass(frozen=True)
class ImageProperties:
    """DetectLabels' IMAGE_PROPERTIES feature: quality and colours of the whole image, its foreground and
    background."""

    quality: LabelImageQuality | None
    dominant_colors: tuple[DominantColor, ...] | None
    foreground: ImageRegionProperties | None
    background: ImageRegionProperties | None

    @classmethod
    def from_api(cls, answer: Answer) -> ImageProperties:
        return cls(
            quality=optional_struct(answer, "Quality", LabelImageQuality.from_api),
            dominant_colors=struct_list(answer, "DominantColors", DominantColor.from_api),
            foreground=optional_struct(answer, "Foreground", ImageRegionProperties.from_api),
            background=optional_struct(answer, "Background", ImageRegionProperties.from_api),
        )


@dataclass(frozen=True)
class DetectLabelsResult:
    """DetectLabels' answer; `image_properties` only when IMAGE_PROPERTIES was asked for."""

    labels: tuple[Label, ...]
    label_model_version: str | None = None
    image_properties: ImageProperties | None = None
    orientation_correction: str | None = None

    @classmethod
    def from_api(cls, answer: Answer) -> DetectLabelsResult:
        return cls(
            labels=result_list(answer, "Labels", Label.from_api),
            label_model_version=optional_str(answer, "LabelModelVersion"),
            image_properties=optional_struct(answer, "ImageProperties", ImageProperties.from_api),
            orientation_correction=optional_str(answer, "OrientationCorrection"),
        )


@dataclass(frozen=True)
class CustomLabel:
    """A label of a trained Custom Labels model; `geometry` only for object-detection models."""

    name: str
    confidence: float | None
    geometry: Geometry | None = None

    @classmethod
    def from_api(cls, answer: Answer) -> CustomLabel:
        return cls(
            name=required(optional_str(answer, "Name"), "CustomLabel.Name"),
            confidence=optional_float(answer, "Confidence"),
            geometry=optional_struct(answer, "Geometry", Geometry.from_api),
        )


@dataclass(frozen=True)
class DetectCustomLabelsResult:
    """DetectCustomLabels' answer."""

    custom_labels: tuple[CustomLabel, ...]

    @classmethod
    def from_api(cls, answer: Answer) -> DetectCustomLabelsResult:
        return cls(result_list(answer, "CustomLabels", CustomLabel.from_api))
